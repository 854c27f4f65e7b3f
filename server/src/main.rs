//! `guildmark`: run a community node, or sign and verify credentials offline.

use std::process::ExitCode;

// Signing and canonicalizing Open Badges (eddsa-rdfc-2022) allocates many small, short-lived
// values; under glibc's allocator malloc and free took ~30 % of the node's CPU time in the
// issuance benchmark (perf), mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = <guildmark_server::cli::Cli as clap::Parser>::parse();
    match guildmark_server::cli::run(cli) {
        Ok(code) => code,
        Err(error) if guildmark_server::cli::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
