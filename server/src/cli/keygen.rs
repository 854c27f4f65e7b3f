//! `guildmark keygen`: a new Ed25519 did:key in a W3C Multikey key file.

use anyhow::Context as _;
use guildmark_credentials::KeyPair;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `guildmark keygen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the key file (created with mode 0600; never overwritten unless
    /// --force). Without it the key file is printed on standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace an existing key file.
    #[arg(long, requires = "out")]
    force: bool,
}

/// Generates the key and writes it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let pair = KeyPair::generate(&mut rand_core::OsRng);
    let mut json = serde_json::to_string_pretty(&pair.to_key_file())?;
    json.push('\n');
    match args.out {
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).mode(0o600);
            if args.force {
                options.create(true).truncate(true);
            } else {
                options.create_new(true);
            }
            let mut file = options.open(&path).with_context(|| {
                format!(
                    "creating {} (use --force to replace an existing key)",
                    path.display()
                )
            })?;
            file.write_all(json.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            super::outln!("{}", pair.did_key().did())?;
        }
        None => {
            super::out!("{json}")?;
            eprintln!("{}", pair.did_key().did());
        }
    }
    Ok(ExitCode::SUCCESS)
}
