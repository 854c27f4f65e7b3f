//! `guildmark verify`: check a credential or presentation offline.

use anyhow::Context as _;
use guildmark_credentials::{Contexts, DidKey, KnownKeys, Report, Timestamp, VerifyOptions};
use guildmark_review_protocols::provenance::{self, Bundle, Trust, BUNDLE_TYPE};
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
    known_keys: Vec<(String, DidKey)>,
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
    /// The document to verify (default: standard input).
    #[arg(value_name = "INPUT")]
    input: Option<PathBuf>,
}

/// Verifies and prints the report.
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
    let name = input::input_name(args.input.as_deref());
    let bytes = input::read_document(args.input.as_deref())?;
    if let Some(bundle) = bundle_of(&bytes, &name)? {
        return verify_bundle(&args, &bundle, &contexts);
    }
    if args.trust.is_some() {
        anyhow::bail!("--trust applies to provenance bundles, and {name} is not one");
    }
    let options = VerifyOptions {
        status_lists: &status_lists,
        domain: args.domain.as_deref(),
        challenge: args.challenge.as_deref(),
        ..VerifyOptions::new(args.at.unwrap_or_else(input::now), &contexts, &keys)
    };
    let verification = guildmark_credentials::verify_text(&bytes, &options)
        .map_err(|e| input::json_error(&name, e))?;
    let report = verification.report;
    let json = args
        .json
        .then(|| serde_json::to_value(&report))
        .transpose()?;
    finish(&report, json)
}

/// Prints the report (as `json` when given) and turns it into the exit code.
fn finish(report: &Report, json: Option<Value>) -> anyhow::Result<ExitCode> {
    match json {
        Some(json) => super::outln!("{}", serde_json::to_string_pretty(&json)?)?,
        None => super::out!("{report}")?,
    }
    Ok(if report.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The bundle in `bytes`, if it is one (by its `type`).
fn bundle_of(bytes: &[u8], name: &str) -> anyhow::Result<Option<Bundle>> {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(None); // the credential path reports the JSON error precisely
    };
    if value.get("type").and_then(Value::as_str) != Some(BUNDLE_TYPE) {
        return Ok(None);
    }
    let bundle = serde_json::from_value(value)
        .with_context(|| format!("{name} is not a well-formed provenance bundle"))?;
    Ok(Some(bundle))
}

fn verify_bundle(args: &Args, bundle: &Bundle, contexts: &Contexts) -> anyhow::Result<ExitCode> {
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
    let at = args.at.unwrap_or_else(input::now);
    let verification = provenance::verify_bundle(bundle, trust.as_ref(), contexts, at);
    let json = args.json.then(|| {
        serde_json::json!({
            "report": verification.report,
            "evaluation": verification.evaluation,
        })
    });
    finish(&verification.report, json)
}
