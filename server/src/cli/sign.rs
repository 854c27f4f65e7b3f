//! `guildmark sign`: add a Data Integrity proof to a credential or presentation.

use anyhow::{bail, Context as _};
use guildmark_credentials::badge;
use guildmark_credentials::jsonld::JsonLdError;
use guildmark_credentials::proof::{self, Cryptosuite, ProofOptions, ProofPurpose};
use guildmark_credentials::validation::{self, IssuanceError};
use guildmark_credentials::Timestamp;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

use super::input;

/// The cryptosuites `sign` can use.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Suite {
    /// JCS canonicalization (RFC 8785): fast, no JSON-LD processing. The default.
    #[value(name = "eddsa-jcs-2022")]
    EddsaJcs2022,
    /// RDF canonicalization: for verifiers that only speak JSON-LD.
    #[value(name = "eddsa-rdfc-2022")]
    EddsaRdfc2022,
}

/// Arguments of `guildmark sign`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The signer's key file (W3C Multikey: publicKeyMultibase + secretKeyMultibase).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The cryptosuite.
    #[arg(long, value_enum, default_value = "eddsa-jcs-2022")]
    suite: Suite,
    /// The proof's `created` time (default: now). Signing is deterministic when given.
    #[arg(long, value_name = "RFC3339", value_parser = input::parse_time, conflicts_with = "no_created")]
    created: Option<Timestamp>,
    /// Leave `created` out of the proof.
    #[arg(long)]
    no_created: bool,
    /// When the proof expires.
    #[arg(long, value_name = "RFC3339", value_parser = input::parse_time)]
    expires: Option<Timestamp>,
    /// The proof purpose (default: assertionMethod; authentication for presentations).
    #[arg(long, value_name = "PURPOSE")]
    purpose: Option<String>,
    /// An `id` for the proof, so that later proofs can chain to it.
    #[arg(long, value_name = "URL")]
    proof_id: Option<String>,
    /// Chain to an existing proof by its id (repeatable): the new proof signs it too.
    #[arg(long = "previous-proof", value_name = "ID")]
    previous_proof: Vec<String>,
    /// The `domain` a presentation proof is bound to.
    #[arg(long)]
    domain: Option<String>,
    /// The `challenge` a presentation proof answers.
    #[arg(long)]
    challenge: Option<String>,
    /// Name this verification method instead of the key's did:key method.
    #[arg(long, value_name = "URL")]
    verification_method: Option<String>,
    /// A directory of JSON-LD contexts with an index.json (URL → file).
    #[arg(long, value_name = "DIR", env = "GUILDMARK_CONTEXTS")]
    contexts: Option<PathBuf>,
    /// Sign even if a credential or presentation breaks the VC Data Model rules.
    #[arg(long)]
    no_validate: bool,
    /// The document to sign (default: standard input).
    #[arg(value_name = "INPUT")]
    input: Option<PathBuf>,
}

/// Signs the document and prints it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let key = input::read_key(&args.key)?;
    let contexts = input::load_contexts(args.contexts.as_ref())?;
    let name = input::input_name(args.input.as_deref());
    let bytes = input::read_document(args.input.as_deref())?;
    guildmark_credentials::json::Json::parse(&bytes).map_err(|e| input::json_error(&name, e))?;
    let mut document: Value =
        serde_json::from_slice(&bytes).with_context(|| format!("parsing {name}"))?;
    if !document.is_object() {
        bail!("{name} is not a JSON object, so it cannot carry a proof");
    }
    let is_presentation =
        validation::type_values(document.get("type")).any(|t| t == "VerifiablePresentation");
    let is_credential =
        validation::type_values(document.get("type")).any(|t| t == "VerifiableCredential");
    let suite = match args.suite {
        Suite::EddsaJcs2022 => Cryptosuite::EddsaJcs2022,
        Suite::EddsaRdfc2022 => Cryptosuite::EddsaRdfc2022,
    };
    if (is_credential || is_presentation) && !args.no_validate {
        match validation::validate_for_issuance(&document, &contexts) {
            Ok(()) => {}
            // JCS signatures do not depend on term definitions; say what was not checked.
            Err(IssuanceError::Terms(e @ JsonLdError::MissingContext { .. }))
                if suite == Cryptosuite::EddsaJcs2022 =>
            {
                eprintln!("warning: terms not checked: {e}");
            }
            Err(e) => bail!("{name} cannot be signed: {e} (--no-validate signs it anyway)"),
        }
    }
    let purpose = match (&args.purpose, is_presentation) {
        (Some(p), _) => ProofPurpose::from_name(p),
        (None, true) => ProofPurpose::Authentication,
        (None, false) => ProofPurpose::AssertionMethod,
    };
    let created = if args.no_created {
        None
    } else {
        Some(args.created.unwrap_or_else(input::now))
    };
    let mut options = ProofOptions::new(suite, created);
    options.purpose = purpose;
    options.expires = args.expires;
    options.id = args.proof_id;
    options.previous_proof = args.previous_proof;
    options.domain = args.domain;
    options.challenge = args.challenge;
    options.verification_method = args.verification_method;
    proof::sign(&mut document, &key, &options, &contexts)
        .with_context(|| format!("signing {name}"))?;
    if badge::badge_kind(&document).is_some() {
        // Open Badges 3.0's schema requires `proof` to be an array.
        proof::as_set(&mut document);
    }
    super::outln!("{}", serde_json::to_string_pretty(&document)?)?;
    Ok(ExitCode::SUCCESS)
}
