//! `guildmark ledger`: audit a ledger offline, recover stores that do not open; `stress`
//! appends for crash tests.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use guildmark_credentials::note::VerifierKey;

use crate::keys;
use crate::ledger::{audit, Ledger};

/// Arguments of `guildmark ledger`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Audit a stopped node's ledger: re-hash every entry, recompute every tile, check the
    /// checkpoint's signature and root. Exit 0 sound, 1 damage found (and where).
    Check {
        /// The node's data directory.
        #[arg(
            long,
            value_name = "DIR",
            default_value = "guildmark-data",
            env = "GUILDMARK_DATA"
        )]
        data: PathBuf,
    },
    /// Bring back a stopped node's stores that do not open (e.g. after the disk filled
    /// up): removes unfinished snapshots, and if sled still reports corruption, copies the
    /// store to `<store>.broken-<time>` and rebuilds sled's index from its log. Then
    /// audits the ledger as `check` does.
    ///
    /// With `--from`, rebuilds a lost ledger instead from a peer's mirror of it
    /// (`http://peer/mirror/<origin>`): every entry is fetched and the tree recomputed,
    /// and the mirrored checkpoint must verify with the log key (`keys/log.key`, from a
    /// backup, or `--log-key`). The node's other records are rebuilt from the ledger when
    /// it starts.
    Recover {
        /// The node's data directory.
        #[arg(
            long,
            value_name = "DIR",
            default_value = "guildmark-data",
            env = "GUILDMARK_DATA"
        )]
        data: PathBuf,
        /// A peer's mirror of this node's log: `http://peer/mirror/<origin>`.
        #[arg(long, value_name = "URL")]
        from: Option<String>,
        /// The log's verifier key, when `keys/log.key` was lost too (then the node can
        /// serve the log but not extend it).
        #[arg(long, value_name = "VKEY", requires = "from")]
        log_key: Option<String>,
    },
    /// Append generated entries from concurrent writers until killed, printing each
    /// receipt as a JSON line (for crash tests and load).
    #[command(hide = true)]
    Stress {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[arg(long, default_value = "stress.example/log")]
        origin: String,
        #[arg(long, default_value_t = 8)]
        writers: u32,
        #[arg(long, default_value_t = 200)]
        entry_size: usize,
        /// Stop after this many entries per writer (default: never).
        #[arg(long)]
        count: Option<u64>,
    },
}

/// Runs a ledger command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Check { data } => check(data),
        Command::Recover {
            data,
            from: Some(from),
            log_key,
        } => recover_from(data, &from, log_key.as_deref()),
        Command::Recover { data, .. } => recover(data),
        Command::Stress {
            data,
            origin,
            writers,
            entry_size,
            count,
        } => stress(data, origin, writers, entry_size, count),
    }
}

fn check(data: PathBuf) -> anyhow::Result<ExitCode> {
    let dir = data.join("ledger");
    let key_path = data.join("keys").join("log.key");
    anyhow::ensure!(
        key_path.exists(),
        "no log key at {}: is {} a Guildmark data directory?",
        key_path.display(),
        data.display()
    );
    let key = keys::load_or_create(&key_path)?;
    let origin = match Ledger::stored_origin(&dir) {
        Ok(origin) => origin.with_context(|| format!("no ledger in {}", dir.display()))?,
        Err(error) if error.to_string().contains("corrupt") => anyhow::bail!(
            "the ledger in {} does not open: {error}
run `guildmark ledger recover --data {}` (it keeps a copy of the store as it is)",
            dir.display(),
            data.display()
        ),
        Err(error) => return Err(error.into()),
    };
    let verifier = VerifierKey::ed25519(&origin, *key.did_key().public_key())?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} entries ({per_sec}, {eta} left)",
        )
        .expect("template"),
    );
    let audit = audit::audit(&dir, &verifier, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    super::outln!(
        "ledger {origin}: {} entries, {} tiles checked",
        audit.entries_checked,
        audit.tiles_checked
    )?;
    if audit.is_sound() {
        super::outln!("sound: every entry, tile and the signed checkpoint agree")?;
        Ok(ExitCode::SUCCESS)
    } else {
        super::outln!("DAMAGED: {} problem(s)", audit.damage.len())?;
        for problem in audit.damage.iter().take(100) {
            super::outln!("  {problem}")?;
        }
        if audit.damage.len() > 100 {
            super::outln!("  … and {} more", audit.damage.len() - 100)?;
        }
        Ok(ExitCode::from(1))
    }
}

fn recover(data: PathBuf) -> anyhow::Result<ExitCode> {
    for store in ["ledger", "node"] {
        let dir = data.join(store);
        if !dir.join("db").exists() {
            continue;
        }
        match crate::durable::recover(&dir)
            .with_context(|| format!("recovering {}", dir.display()))?
        {
            crate::durable::Recovery::Opened => {
                super::outln!("{store}: opens")?;
            }
            crate::durable::Recovery::Replayed { backup } => super::outln!(
                "{store}: its snapshots did not read; rebuilt from its log (the store as it was is in {})",
                backup.display()
            )?,
        }
    }
    check(data)
}

/// Rebuilds `data/ledger` from the mirror at `from`.
fn recover_from(data: PathBuf, from: &str, log_key: Option<&str>) -> anyhow::Result<ExitCode> {
    let from = from.trim_end_matches('/');
    let origin = from
        .split_once("/mirror/")
        .map(|(_, origin)| origin)
        .filter(|o| !o.is_empty())
        .with_context(|| format!("{from} is not a mirror URL (http://peer/mirror/<origin>)"))?;
    let dir = data.join("ledger");
    anyhow::ensure!(
        !dir.exists(),
        "{} exists; move it aside first (recovery never overwrites a ledger)",
        dir.display()
    );
    let key_path = data.join("keys").join("log.key");
    let from_file = if key_path.exists() {
        let pair = keys::load_or_create(&key_path)?;
        Some(VerifierKey::ed25519(origin, *pair.did_key().public_key())?)
    } else {
        None
    };
    let given = log_key
        .map(|k| k.parse::<VerifierKey>())
        .transpose()
        .context("--log-key is not a verifier key")?;
    let verifier = match (from_file, given) {
        (Some(file), Some(given)) if file != given => anyhow::bail!(
            "--log-key is not the key in {} ({file})",
            key_path.display()
        ),
        (Some(key), _) | (None, Some(key)) => key,
        (None, None) => anyhow::bail!(
            "no log key: restore {} from a backup, or give --log-key",
            key_path.display()
        ),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (note, entries) = runtime
        .block_on(crate::node::mirror::read_log(
            &reqwest::Client::new(),
            from,
            0,
        ))
        .with_context(|| format!("reading the log at {from}"))?;
    let mirror = crate::ledger::mirror::Mirror::open(&dir, verifier)?;
    let lookup = |bytes: &[u8]| {
        crate::ledger::entry::LedgerEntry::parse(bytes)
            .ok()
            .and_then(|e| e.lookup_key())
            .map(|k| vec![k.into_bytes()])
            .unwrap_or_default()
    };
    let published = mirror
        .extend_with_keys(&entries, lookup, &note)
        .with_context(|| format!("the log served at {from} does not verify"))?;
    drop(mirror);
    super::outln!(
        "recovered {} entries of {origin} from {from}; root {}",
        published.checkpoint.size,
        published.checkpoint.root
    )?;
    check(data)
}

/// The entry a stress writer appends: deterministic from its id, so a checker can
/// recompute it.
pub fn stress_entry(id: &str, size: usize) -> Vec<u8> {
    let mut entry = id.as_bytes().to_vec();
    entry.push(b':');
    while entry.len() < size {
        entry.push(b'a' + (entry.len() % 26) as u8);
    }
    entry
}

fn stress(
    data: PathBuf,
    origin: String,
    writers: u32,
    size: usize,
    count: Option<u64>,
) -> anyhow::Result<ExitCode> {
    let ledger = super::serve::open_ledger(&data, Some(&origin), "", Duration::from_millis(2))?;
    let run_id = std::process::id();
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let ledger = ledger.clone();
            let out = out.clone();
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut seq = 0u64;
                while count.is_none_or(|c| seq < c) {
                    let id = format!("p{run_id}-w{w}-{seq}");
                    let entry = stress_entry(&id, size);
                    let receipt = ledger.append_blocking(entry, vec![id.clone().into_bytes()])?;
                    let line = serde_json::json!({
                        "id": id,
                        "index": receipt.index,
                        "receipt": base64::engine::general_purpose::STANDARD.encode(receipt.to_tlog_proof()),
                    });
                    let mut out = out.lock().expect("stdout lock");
                    writeln!(out, "{line}")?;
                    out.flush()?;
                    seq += 1;
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("writer thread")?;
    }
    ledger.shutdown();
    Ok(ExitCode::SUCCESS)
}
