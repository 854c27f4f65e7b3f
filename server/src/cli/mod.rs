//! The `guildmark` command line: one module per command, each a `run` that returns the
//! process exit code.

mod demo;
mod input;
mod keygen;
pub mod ledger;
mod peer;
mod protocol;
pub mod serve;
mod sign;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Writes a line to standard output like `println!`, but returns the write's error
/// instead of panicking, so that a closed pipe (`guildmark verify x | head -1`) ends the
/// command quietly (see [`is_broken_pipe`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// [`outln!`] without the line end.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use {out, outln};

/// Guildmark: signed skill badges and peer-reviewed hardware, verifiable offline.
#[derive(Debug, Parser)]
#[command(name = "guildmark", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an Ed25519 key pair (a did:key) and write it as a W3C Multikey key file.
    Keygen(keygen::Args),
    /// Add a Data Integrity proof to a credential or presentation and print it.
    Sign(sign::Args),
    /// Run a community node: the JSON API, the ledger's tiles, and the web UI.
    Serve(serve::Args),
    /// Run demos: `demo federation` starts three peered nodes with a demo world.
    Demo(demo::Args),
    /// Inspect a node's transparency ledger.
    Ledger(ledger::Args),
    /// Add, list or remove a running node's peers (federation).
    Peer(peer::Args),
    /// Check review protocols and evaluate review attestations under them, offline.
    Protocol(protocol::Args),
    /// Verify a credential or presentation offline and report every check.
    ///
    /// Exit status: 0 verified (no check failed; unknown checks are listed with their
    /// reason), 1 a check failed, 2 the input could not be read or parsed.
    Verify(verify::Args),
}

/// Whether a command failed only because its reader closed standard output (as `head`
/// does): like ripgrep, the command then ends quietly.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Keygen(args) => keygen::run(args),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Ledger(args) => ledger::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Peer(args) => peer::run(args),
        Command::Protocol(args) => protocol::run(args),
    }
}
