//! Any document a verifier is handed — a credential (embedded proofs or a VC-JWT), a
//! presentation, a provenance bundle, or a baked badge image (PNG or SVG) — recognised
//! and verified by one function. `guildmark verify` and the in-browser verifier (the
//! WebAssembly build) both call [`verify_document`], so they cannot disagree.

use guildmark_credentials::baked::{self, BakedError, ImageFormat};
use guildmark_credentials::{
    jwt, verify_text, Check, Contexts, JsonError, KnownKeys, Outcome, Report, Timestamp,
    VerifyOptions,
};
use serde_json::Value;

use crate::evaluation::Evaluation;
use crate::provenance::{self, Bundle, Trust, BUNDLE_TYPE};

/// What a document is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// JSON-LD contexts available offline.
    pub contexts: &'a Contexts,
    /// Verification methods known besides did:key.
    pub keys: &'a KnownKeys,
    /// Status list credentials the verifier was given.
    pub status_lists: &'a [Value],
    /// The buyer's trusted communities, logs and witnesses (bundles only).
    pub trust: Option<&'a Trust>,
    /// The time validity is checked against.
    pub at: Timestamp,
    /// The `domain` a presentation's proof must be bound to.
    pub domain: Option<&'a str>,
    /// The `challenge` a presentation's proof must answer.
    pub challenge: Option<&'a str>,
}

impl<'a> Setup<'a> {
    /// A setup with nothing but contexts, keys and the time.
    pub fn new(at: Timestamp, contexts: &'a Contexts, keys: &'a KnownKeys) -> Self {
        Setup {
            contexts,
            keys,
            status_lists: &[],
            trust: None,
            at,
            domain: None,
            challenge: None,
        }
    }
}

/// A verified document: its report, and for a bundle the recomputed review evaluation.
#[derive(Debug, Clone)]
pub struct DocumentVerification {
    /// Every check, passed, failed or unknown, with a reason.
    pub report: Report,
    /// For a provenance bundle: the evaluation recomputed from its credentials (`None`
    /// when the batch or protocol could not be read).
    pub evaluation: Option<Evaluation>,
    /// Whether the document was a provenance bundle.
    pub bundle: bool,
}

impl DocumentVerification {
    /// The JSON that `guildmark verify --json` prints: the report, or for a bundle
    /// `{"report": …, "evaluation": …}`.
    pub fn to_json(&self) -> Value {
        let report = serde_json::to_value(&self.report).unwrap_or(Value::Null);
        if self.bundle {
            let evaluation = serde_json::to_value(&self.evaluation).unwrap_or(Value::Null);
            serde_json::json!({"report": report, "evaluation": evaluation})
        } else {
            report
        }
    }
}

/// Why a document could not be verified at all (as opposed to failing a check). The
/// message is whole: the cause is part of it, not a separate `source`.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// An image without exactly one readable baked credential.
    #[error("{name}: {error}")]
    Baked {
        /// The input's name.
        name: String,
        /// What was wrong with the image.
        error: BakedError,
    },
    /// A document typed as a bundle that does not have a bundle's shape.
    #[error("{name} is not a well-formed provenance bundle: {error}")]
    Bundle {
        /// The input's name.
        name: String,
        /// Which field was wrong.
        error: serde_json::Error,
    },
    /// Not JSON (and not a VC-JWT or an image).
    #[error("{name} is not valid JSON: {error}")]
    Json {
        /// The input's name.
        name: String,
        /// Where the JSON broke.
        error: JsonError,
    },
}

/// Recognises `bytes` (an image, a bundle, a VC-JWT or a JSON credential or
/// presentation) and verifies it. `name` names the input in errors.
pub fn verify_document(
    bytes: &[u8],
    setup: &Setup<'_>,
    name: &str,
) -> Result<DocumentVerification, DocumentError> {
    if let Some(format) = ImageFormat::sniff(bytes) {
        return verify_baked(bytes, setup, name, format);
    }
    if let Some(bundle) = bundle_of(bytes, name)? {
        let verification =
            provenance::verify_bundle(&bundle, setup.trust, setup.contexts, setup.at);
        return Ok(DocumentVerification {
            report: verification.report,
            evaluation: verification.evaluation,
            bundle: true,
        });
    }
    let options = VerifyOptions {
        status_lists: setup.status_lists,
        domain: setup.domain,
        challenge: setup.challenge,
        ..VerifyOptions::new(setup.at, setup.contexts, setup.keys)
    };
    // A VC-JWT: the compact JWS itself.
    if let Some(token) = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| jwt::is_compact_jws(t))
    {
        return Ok(DocumentVerification {
            report: jwt::verify_jwt(token, &options),
            evaluation: None,
            bundle: false,
        });
    }
    let verification = verify_text(bytes, &options).map_err(|error| DocumentError::Json {
        name: name.to_owned(),
        error,
    })?;
    Ok(DocumentVerification {
        report: verification.report,
        evaluation: None,
        bundle: false,
    })
}

/// A baked badge: the credential extracted from the image, verified as any other, with
/// where it was found as the first check.
fn verify_baked(
    bytes: &[u8],
    setup: &Setup<'_>,
    name: &str,
    format: ImageFormat,
) -> Result<DocumentVerification, DocumentError> {
    let found = baked::extract(bytes).map_err(|error| DocumentError::Baked {
        name: name.to_owned(),
        error,
    })?;
    let inner = format!("the credential baked into {name}");
    let mut verified = verify_document(found.credential.as_bytes(), setup, &inner)?;
    let place = match format {
        ImageFormat::Png => "the PNG's iTXt chunk openbadgecredential",
        ImageFormat::Svg => "the SVG's <openbadges:credential> element",
    };
    verified.report.checks.insert(
        0,
        Check {
            check: "baked".into(),
            outcome: Outcome::Passed,
            reason: format!("one credential, extracted from {place}"),
        },
    );
    Ok(verified)
}

/// The bundle in `bytes`, if it is one (by its `type`).
fn bundle_of(bytes: &[u8], name: &str) -> Result<Option<Bundle>, DocumentError> {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(None); // the credential path reports the JSON error precisely
    };
    if value.get("type").and_then(Value::as_str) != Some(BUNDLE_TYPE) {
        return Ok(None);
    }
    let bundle = serde_json::from_value(value).map_err(|error| DocumentError::Bundle {
        name: name.to_owned(),
        error,
    })?;
    Ok(Some(bundle))
}
