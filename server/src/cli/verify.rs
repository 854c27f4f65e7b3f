//! `guildmark verify`: check a credential (embedded proofs or a VC-JWT), presentation,
//! provenance bundle or baked badge image (PNG or SVG) offline.

use anyhow::Context as _;
use guildmark_credentials::{Conclusion, Contexts, KnownKeys, Report, Timestamp};
use guildmark_review_protocols::document::{self, DocumentVerification};
use guildmark_review_protocols::provenance::Trust;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

use super::input;

/// Arguments of `guildmark verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// A directory of JSON-LD contexts with an index.json (URL → file).
    #[arg(long, value_name = "DIR", env = "GUILDMARK_CONTEXTS")]
    contexts: Option<PathBuf>,
    /// A status list credential to check revocation and suspension against
    /// (repeatable). Without one, status is reported as unknown.
    #[arg(long = "status-list", value_name = "FILE")]
    status_lists: Vec<PathBuf>,
    /// Check validity and expiry as of this time (default: now).
    #[arg(long, value_name = "RFC3339", value_parser = input::parse_time)]
    at: Option<Timestamp>,
    /// A verification method that is not a did:key, with its public key (repeatable),
    /// e.g. https://example.edu/issuers/1#key-1=z6Mk…
    #[arg(long = "known-key", value_name = "ID=z6Mk…", value_parser = input::parse_known_key)]
    known_keys: Vec<(String, guildmark_credentials::DidKey)>,
    /// The `challenge` a presentation's proof must answer.
    #[arg(long)]
    challenge: Option<String>,
    /// The `domain` a presentation's proof must be bound to.
    #[arg(long)]
    domain: Option<String>,
    /// For a provenance bundle: a TOML file naming the community DIDs and log keys you
    /// trust (`communities = [...]`, `logs = [...]`; a node serves its own at
    /// /api/v1/trust). Without it the trust check is unknown.
    #[arg(long, value_name = "FILE")]
    trust: Option<PathBuf>,
    /// The documents to verify (default: standard input). With several, each gets one
    /// line (verified, failed or unreadable) and a summary follows; `--trust` then
    /// applies to the bundles among them.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
}

/// What every document of one run is checked against.
struct Setup {
    contexts: Contexts,
    keys: KnownKeys,
    status_lists: Vec<Value>,
    trust: Option<Trust>,
    at: Timestamp,
    domain: Option<String>,
    challenge: Option<String>,
}

/// Verifies and prints the report (one document) or one line per document.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let contexts = input::load_contexts(args.contexts.as_ref())?;
    let mut keys = KnownKeys::default();
    for (id, key) in &args.known_keys {
        keys.insert(id, *key.public_key(), None);
    }
    let mut status_lists = Vec::new();
    for path in &args.status_lists {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let list: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        status_lists.push(list);
    }
    let trust = match &args.trust {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let trust = Trust::parse(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a trust file: {e}", path.display()))?;
            Some(trust)
        }
    };
    let setup = Setup {
        contexts,
        keys,
        status_lists,
        trust,
        at: args.at.unwrap_or_else(input::now),
        domain: args.domain.clone(),
        challenge: args.challenge.clone(),
    };
    if args.inputs.len() > 1 {
        return verify_many(&args, &setup);
    }
    let path = args.inputs.first().map(PathBuf::as_path);
    let name = input::input_name(path);
    let bytes = input::read_document(path)?;
    let verified = verify_document(&setup, &bytes, &name)?;
    if args.trust.is_some() && !verified.bundle {
        anyhow::bail!("--trust applies to provenance bundles, and {name} is not one");
    }
    let json = args.json.then(|| verified.to_json());
    let report = verified.report;
    finish(&report, json)
}

/// Verifies one document: its report, and for a bundle the review evaluation.
fn verify_document(
    setup: &Setup,
    bytes: &[u8],
    name: &str,
) -> anyhow::Result<DocumentVerification> {
    let setup = document::Setup {
        status_lists: &setup.status_lists,
        trust: setup.trust.as_ref(),
        domain: setup.domain.as_deref(),
        challenge: setup.challenge.as_deref(),
        ..document::Setup::new(setup.at, &setup.contexts, &setup.keys)
    };
    Ok(document::verify_document(bytes, &setup, name)?)
}

/// Several documents in one run: a line each, then a summary; exit 1 if any failed or
/// was unreadable, else 3 if any could not be fully verified.
fn verify_many(args: &Args, setup: &Setup) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let (mut verified, mut failed, mut unreadable) = (0usize, 0usize, 0usize);
    let mut incomplete = 0usize;
    let mut documents = Vec::new();
    for path in &args.inputs {
        let name = input::input_name(Some(path));
        let outcome = input::read_document(Some(path))
            .and_then(|bytes| verify_document(setup, &bytes, &name));
        match outcome {
            Ok(DocumentVerification { report, .. }) if report.verified => {
                verified += 1;
                if !args.json {
                    super::outln!("verified    {name}")?;
                }
                documents
                    .push(serde_json::json!({"file": name, "verified": true, "report": report}));
            }
            Ok(DocumentVerification { report, .. })
                if report.conclusion() == Conclusion::Incomplete =>
            {
                incomplete += 1;
                if !args.json {
                    super::outln!("incomplete  {name}: {}", first_unknown(&report))?;
                }
                documents.push(
                    serde_json::json!({"file": name, "verified": false, "incomplete": true, "report": report}),
                );
            }
            Ok(DocumentVerification { report, .. }) => {
                failed += 1;
                if !args.json {
                    super::outln!("failed      {name}: {}", first_failure(&report))?;
                }
                documents
                    .push(serde_json::json!({"file": name, "verified": false, "report": report}));
            }
            Err(e) => {
                unreadable += 1;
                if !args.json {
                    super::outln!("unreadable  {name}: {e:#}")?;
                }
                documents.push(
                    serde_json::json!({"file": name, "verified": false, "error": format!("{e:#}")}),
                );
            }
        }
    }
    let elapsed = started.elapsed();
    let total = args.inputs.len();
    let per_document = elapsed / u32::try_from(total).unwrap_or(u32::MAX);
    if args.json {
        let summary = serde_json::json!({
            "documents": total, "verified": verified, "failed": failed,
            "incomplete": incomplete, "unreadable": unreadable,
            "seconds": elapsed.as_secs_f64(),
        });
        let out = serde_json::json!({"documents": documents, "summary": summary});
        super::outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        super::outln!(
            "{total} documents: {verified} verified, {failed} failed, {incomplete} not fully verified, {unreadable} unreadable ({:.1} ms, {:.3} ms per document)",
            elapsed.as_secs_f64() * 1e3,
            per_document.as_secs_f64() * 1e3
        )?;
    }
    Ok(if verified == total {
        ExitCode::SUCCESS
    } else if failed + unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::from(INCOMPLETE)
    })
}

/// The exit code of a document that could not be fully verified.
const INCOMPLETE: u8 = 3;

/// The first check that could not be made and kept the report incomplete.
fn first_unknown(report: &Report) -> String {
    report
        .with_outcome(guildmark_credentials::Outcome::Unknown)
        .first()
        .map(|c| format!("{}: {}", c.check, c.reason))
        .unwrap_or_else(|| "not fully verified".into())
}

/// The first failed check of a report (or of a document inside it), as `check: reason`.
fn first_failure(report: &Report) -> String {
    let own = report
        .checks
        .iter()
        .find(|c| c.outcome == guildmark_credentials::Outcome::Failed)
        .map(|c| format!("{}: {}", c.check, c.reason));
    own.or_else(|| {
        report
            .documents
            .iter()
            .find(|d| !d.verified)
            .map(first_failure)
    })
    .unwrap_or_else(|| "not verified".into())
}

/// Prints the report (as `json` when given) and turns it into the exit code.
fn finish(report: &Report, json: Option<Value>) -> anyhow::Result<ExitCode> {
    match json {
        Some(json) => super::outln!("{}", serde_json::to_string_pretty(&json)?)?,
        None => super::out!("{report}")?,
    }
    Ok(match report.conclusion() {
        Conclusion::Verified => ExitCode::SUCCESS,
        Conclusion::Failed => ExitCode::from(1),
        Conclusion::Incomplete => ExitCode::from(INCOMPLETE),
    })
}
