//! `guildmark protocol`: check a review protocol, and evaluate attestations of a batch
//! under it, offline.

use anyhow::{bail, Context as _};
use guildmark_credentials::{Contexts, KnownKeys, Timestamp, VerifiedCredential, VerifyOptions};
use guildmark_review_protocols::{evaluate, Batch, Protocol, Verdict, VerifiedAttestation};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::input;

/// Arguments of `guildmark protocol`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Validate a protocol and print its content hash.
    ///
    /// Exit status: 0 valid, 1 invalid (each problem is printed with its line and
    /// field), 2 the file could not be read.
    Check(CheckArgs),
    /// Evaluate signed review attestations of a batch under a protocol.
    ///
    /// Each attestation's signature is verified, and each reviewer badge given with
    /// --badge is verified as of the attestation's signing time (its proof's `created`),
    /// so "held when signing" is what is checked. Exit status: 0 certified, 1 rejected,
    /// 3 pending, 2 error.
    Evaluate(EvaluateArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Print the protocol's canonical JSON form (what its hash is of) instead of a summary.
    #[arg(long)]
    json: bool,
    /// The protocol (TOML).
    #[arg(value_name = "FILE.toml")]
    file: PathBuf,
}

#[derive(Debug, clap::Args)]
struct EvaluateArgs {
    /// The protocol (TOML).
    #[arg(value_name = "FILE.toml")]
    protocol: PathBuf,
    /// The batch facts: {"id", "producer", "protocol", "lotSize", "serials", "product"?}.
    #[arg(long, value_name = "BATCH.json")]
    batch: PathBuf,
    /// A reviewer's badge credential (repeatable).
    #[arg(long = "badge", value_name = "BADGE.json")]
    badges: Vec<PathBuf>,
    /// A status list credential for the badges (repeatable).
    #[arg(long = "status-list", value_name = "FILE")]
    status_lists: Vec<PathBuf>,
    /// A directory of JSON-LD contexts with an index.json (URL → file).
    #[arg(long, value_name = "DIR", env = "GUILDMARK_CONTEXTS")]
    contexts: Option<PathBuf>,
    /// Evaluate as of this time (default: now); attestation ages are counted to it.
    #[arg(long, value_name = "RFC3339", value_parser = input::parse_time)]
    at: Option<Timestamp>,
    /// Print the evaluation as JSON.
    #[arg(long)]
    json: bool,
    /// The signed attestation credentials.
    #[arg(value_name = "ATTESTATION.json")]
    attestations: Vec<PathBuf>,
}

/// Runs `guildmark protocol …`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Check(args) => check(args),
        Command::Evaluate(args) => evaluate_batch(args),
    }
}

fn read_protocol(path: &Path) -> anyhow::Result<Result<Protocol, String>> {
    let source =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Protocol::parse(&source).map_err(|e| {
        e.0.iter()
            .map(|issue| format!("{}: {issue}\n", path.display()))
            .collect()
    }))
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    match read_protocol(&args.file)? {
        Err(errors) => {
            eprint!("{errors}");
            Ok(ExitCode::from(1))
        }
        Ok(protocol) if args.json => {
            super::outln!("{}", serde_json::to_string_pretty(&protocol.to_json())?)?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(protocol) => {
            let critical = protocol.steps.iter().filter(|s| s.critical).count();
            let r = &protocol.reviewers;
            super::outln!(
                "{} {} is valid: {}",
                protocol.id,
                protocol.version,
                protocol.title
            )?;
            super::outln!("hash: {}", protocol.hash())?;
            super::outln!("urn: {}", protocol.urn())?;
            super::outln!("steps: {} ({critical} critical)", protocol.steps.len())?;
            super::outln!(
                "reviewers: {} from at least {} communities{}, attestations valid for {} days",
                r.quorum,
                r.distinct_communities,
                if r.independent_of_producer {
                    ", independent of the producer"
                } else {
                    ""
                },
                r.max_age_days
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// When an attestation was signed: its first proof's `created`. Without a ledger receipt
/// this is the reviewer's own claim, the best an offline evaluation has.
fn signing_time(document: &Value) -> anyhow::Result<Timestamp> {
    let proof = match document.get("proof") {
        Some(Value::Array(proofs)) => proofs.first(),
        other => other,
    };
    let created = proof
        .and_then(|p| p.get("created"))
        .and_then(Value::as_str)
        .context("its proof has no `created` time, so when it was signed is unknown")?;
    Timestamp::parse(created).context("its proof's `created` is not a date-time")
}

/// What attestations are checked against: contexts, keys, the status lists and badges
/// given, and the evaluation time.
struct Evidence<'a> {
    contexts: Contexts,
    keys: KnownKeys,
    status_lists: Vec<Value>,
    badges: Vec<(&'a Path, Value)>,
    at: Timestamp,
}

impl Evidence<'_> {
    /// The attestation in `path`, verified, with the given badges that verify as of its
    /// signing; `Ok(Err(why))` when it does not verify (it is then not counted).
    fn attestation(&self, path: &Path) -> anyhow::Result<Result<VerifiedAttestation, String>> {
        let document = read_json(path)?;
        let verification = guildmark_credentials::verify_credential(
            &document,
            &VerifyOptions::new(self.at, &self.contexts, &self.keys),
        );
        let Some(verified) = verification
            .credential
            .filter(|_| verification.report.verified)
        else {
            let failed: Vec<String> = verification
                .report
                .with_outcome(guildmark_credentials::Outcome::Failed)
                .iter()
                .map(|c| format!("{}: {}", c.check, c.reason))
                .collect();
            return Ok(Err(failed.join("; ")));
        };
        let signed_at = signing_time(&document)
            .with_context(|| format!("{}: cannot evaluate this attestation", path.display()))?;
        let (held, refused) = self.badges_as_of(signed_at);
        let mut attestation = VerifiedAttestation::from_verified(&verified, signed_at, &held)
            .with_context(|| format!("{} is not a review attestation", path.display()))?;
        for (id, file, why) in refused {
            if attestation.claims().qualification.contains(&id) {
                attestation.note_unproven(format!(
                    "badge {id} ({file}) does not verify as of {signed_at}: {why}"
                ));
            }
        }
        Ok(Ok(attestation))
    }

    /// The given badges that verify as of `at`, and (id, file, why) of those that do not.
    fn badges_as_of(
        &self,
        at: Timestamp,
    ) -> (Vec<VerifiedCredential>, Vec<(String, String, String)>) {
        let options = VerifyOptions {
            status_lists: &self.status_lists,
            ..VerifyOptions::new(at, &self.contexts, &self.keys)
        };
        let mut held = Vec::new();
        let mut refused = Vec::new();
        for (badge_path, badge) in &self.badges {
            let verification = guildmark_credentials::verify_credential(badge, &options);
            match verification
                .credential
                .filter(|_| verification.report.verified)
            {
                Some(credential) => held.push(credential),
                None => {
                    let id = badge.get("id").and_then(Value::as_str).unwrap_or("(no id)");
                    let failed: Vec<String> = verification
                        .report
                        .with_outcome(guildmark_credentials::Outcome::Failed)
                        .iter()
                        .map(|c| c.reason.clone())
                        .collect();
                    let file = badge_path.display().to_string();
                    refused.push((id.to_owned(), file, failed.join("; ")));
                }
            }
        }
        (held, refused)
    }
}

fn evaluate_batch(args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    let protocol = match read_protocol(&args.protocol)? {
        Ok(protocol) => protocol,
        Err(errors) => bail!("the protocol is invalid:\n{errors}"),
    };
    let batch: Batch = serde_json::from_value(read_json(&args.batch)?)
        .with_context(|| format!("{} is not a batch", args.batch.display()))?;
    let status_lists = args
        .status_lists
        .iter()
        .map(|p| read_json(p))
        .collect::<Result<Vec<_>, _>>()?;
    let badges = args
        .badges
        .iter()
        .map(|p| Ok((p.as_path(), read_json(p)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let evidence = Evidence {
        contexts: input::load_contexts(args.contexts.as_ref())?,
        keys: KnownKeys::default(),
        status_lists,
        badges,
        at: args.at.unwrap_or_else(input::now),
    };
    let mut attestations = Vec::new();
    let mut unverified = Vec::new();
    for path in &args.attestations {
        match evidence.attestation(path)? {
            Ok(attestation) => attestations.push(attestation),
            Err(why) => unverified.push((path.display().to_string(), why)),
        }
    }
    let evaluation = evaluate(&protocol, &batch, &attestations, evidence.at)?;
    if args.json {
        let unverified: Vec<Value> = unverified
            .iter()
            .map(|(file, why)| json!({"file": file, "reason": why}))
            .collect();
        let mut out = serde_json::to_value(&evaluation)?;
        out["unverified"] = Value::Array(unverified);
        super::outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        for (file, why) in &unverified {
            super::outln!("not counted: {file} does not verify: {why}")?;
        }
        super::out!("{evaluation}")?;
    }
    Ok(match evaluation.verdict {
        Verdict::Certified => ExitCode::SUCCESS,
        Verdict::Rejected => ExitCode::from(1),
        Verdict::Pending => ExitCode::from(3),
    })
}
