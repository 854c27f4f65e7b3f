//! `guildmark`: run a community node, or sign and verify credentials offline.

use std::process::ExitCode;

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
