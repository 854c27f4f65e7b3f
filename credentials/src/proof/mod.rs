//! Data Integrity proofs (<https://www.w3.org/TR/vc-data-integrity/>) with the EdDSA
//! cryptosuites (<https://www.w3.org/TR/vc-di-eddsa/>): adding a proof, and checking every
//! proof of a document, including proof sets and proof chains (`previousProof`).
//!
//! Both suites share everything but the transformation: `eddsa-jcs-2022` canonicalizes
//! with RFC 8785 ([`jcs`](crate::jcs)), `eddsa-rdfc-2022` with RDFC-1.0
//! ([`jsonld`](crate::jsonld)). The hash data is SHA-256(proof config) ‖ SHA-256(document),
//! signed with Ed25519 and encoded as multibase base58-btc.
//!
//! Checking is split in two so that many signatures can share one batch verification:
//! [`prepare`] does every check except the signature equation and yields [`Prepared`]
//! proofs; [`check_signatures`] then verifies their signatures together.

pub mod batch;
mod chain;
mod transform;

pub use transform::{canonical_forms, CanonicalForms};

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;

use crate::did_key::{DidKey, DidKeyError, KeyPair};
use crate::json::Json;
use crate::jsonld::{Contexts, JsonLdError};
use crate::multibase::{self, MultibaseError};
use crate::time::{TimeError, Timestamp};

/// The only proof type the EdDSA cryptosuites use.
pub const DATA_INTEGRITY_PROOF: &str = "DataIntegrityProof";

/// A cryptosuite name; unknown names are kept so that reports can quote them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cryptosuite {
    /// `eddsa-jcs-2022`: JCS canonicalization. Guildmark's default.
    EddsaJcs2022,
    /// `eddsa-rdfc-2022`: RDF Dataset Canonicalization, for JSON-LD-only verifiers.
    EddsaRdfc2022,
    /// Any other name.
    Unsupported(String),
}

impl Cryptosuite {
    /// Reads a cryptosuite name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "eddsa-jcs-2022" => Cryptosuite::EddsaJcs2022,
            "eddsa-rdfc-2022" => Cryptosuite::EddsaRdfc2022,
            other => Cryptosuite::Unsupported(other.to_owned()),
        }
    }

    /// The cryptosuite's name as it appears in a proof.
    pub fn name(&self) -> &str {
        match self {
            Cryptosuite::EddsaJcs2022 => "eddsa-jcs-2022",
            Cryptosuite::EddsaRdfc2022 => "eddsa-rdfc-2022",
            Cryptosuite::Unsupported(name) => name,
        }
    }
}

impl fmt::Display for Cryptosuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Cryptosuite {
    type Err = ProofError;
    fn from_str(s: &str) -> Result<Self, ProofError> {
        match Cryptosuite::from_name(s) {
            Cryptosuite::Unsupported(name) => Err(ProofError::UnsupportedCryptosuite(name)),
            suite => Ok(suite),
        }
    }
}

/// Why a proof is refused, or could not be created.
///
/// Each variant corresponds to a Data Integrity error code, given by [`ProofError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The document has no `proof`.
    #[error("the document has no proof")]
    Missing,
    /// The document, or a proof, is not a JSON object.
    #[error("{what} is {found}, not a JSON object")]
    NotAMap {
        /// What should have been an object.
        what: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// A required proof property is absent.
    #[error("proof has no {0}")]
    MissingProperty(&'static str),
    /// A proof property has a value of the wrong form.
    #[error("proof {property} is malformed: {detail}")]
    Malformed {
        /// The property.
        property: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// `proof.type` is not `DataIntegrityProof`.
    #[error("proof type {0:?} is not DataIntegrityProof")]
    WrongType(String),
    /// The cryptosuite is not one this verifier implements.
    #[error("cryptosuite {0:?} is not supported (supported: eddsa-jcs-2022, eddsa-rdfc-2022)")]
    UnsupportedCryptosuite(String),
    /// `proofPurpose` is not the one the verifier expects.
    #[error("proof purpose {found:?} where {expected:?} is expected")]
    WrongPurpose {
        /// The purpose the verifier expects.
        expected: String,
        /// The purpose in the proof.
        found: String,
    },
    /// The proof's `expires` time has passed.
    #[error("proof expired at {expires} (checked at {at})")]
    Expired {
        /// When the proof expired.
        expires: Timestamp,
        /// The verification time.
        at: Timestamp,
    },
    /// `proofValue` is not multibase base58-btc.
    #[error("proofValue: {0}")]
    ProofValue(#[from] MultibaseError),
    /// `proofValue` does not decode to a 64-byte Ed25519 signature.
    #[error("proofValue decodes to {0} bytes; an Ed25519 signature has 64")]
    SignatureLength(usize),
    /// The verification method is a did:key that does not parse.
    #[error("verification method: {0}")]
    VerificationMethod(#[from] DidKeyError),
    /// The verification method is neither a did:key nor a key the verifier was given.
    #[error("verification method {0} cannot be resolved offline (only did:key and registered keys resolve)")]
    UnresolvableVerificationMethod(String),
    /// eddsa-jcs-2022: the document's `@context` does not start with the proof's.
    #[error("the document @context does not start with the proof's @context")]
    ContextNotPrefix,
    /// JSON-LD processing failed (undefined terms, a missing context, …).
    #[error("{0}")]
    JsonLd(#[from] JsonLdError),
    /// `previousProof` names a proof that is not in the proof set.
    #[error("previousProof {0:?} is not the id of any other proof in the set")]
    PreviousProofNotFound(String),
    /// A proof this one chains to (through `previousProof`) did not verify.
    #[error("previous proof {0:?} in the chain did not verify")]
    PreviousProofFailed(String),
    /// `domain` or `challenge` differs from what the verifier expects.
    #[error("proof {property} {found:?} where {expected:?} is expected")]
    Mismatch {
        /// `domain` or `challenge`.
        property: &'static str,
        /// Expected value.
        expected: String,
        /// Value in the proof (empty when absent).
        found: String,
    },
    /// The Ed25519 signature does not verify.
    #[error("the signature does not verify")]
    InvalidSignature,
}

impl ProofError {
    /// Whether the proof could not be checked at all — a proof type or cryptosuite this
    /// verifier does not implement, a key it cannot resolve, a context it does not have —
    /// as opposed to checked and found wrong.
    pub fn could_not_check(&self) -> bool {
        matches!(
            self,
            ProofError::UnsupportedCryptosuite(_)
                | ProofError::WrongType(_)
                | ProofError::UnresolvableVerificationMethod(_)
                | ProofError::JsonLd(JsonLdError::MissingContext { .. })
        )
    }

    /// The Data Integrity error code (§3.1 of the DI spec) this error corresponds to.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::NotAMap { .. } => "PARSING_ERROR",
            ProofError::JsonLd(JsonLdError::Expansion { .. } | JsonLdError::Rdf { .. }) => {
                "DATA_LOSS_DETECTION_ERROR"
            }
            ProofError::Malformed { .. } => "MALFORMED_PROOF_ERROR",
            ProofError::Mismatch {
                property: "domain", ..
            } => "INVALID_DOMAIN_ERROR",
            ProofError::Mismatch { .. } => "INVALID_CHALLENGE_ERROR",
            _ => "PROOF_VERIFICATION_ERROR",
        }
    }
}

/// What a proof is for (`proofPurpose`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProofPurpose {
    /// `assertionMethod`: an issuer asserting a credential.
    AssertionMethod,
    /// `authentication`: a holder presenting.
    Authentication,
    /// Any other purpose.
    Other(String),
}

impl ProofPurpose {
    /// The purpose as written in a proof.
    pub fn as_str(&self) -> &str {
        match self {
            ProofPurpose::AssertionMethod => "assertionMethod",
            ProofPurpose::Authentication => "authentication",
            ProofPurpose::Other(s) => s,
        }
    }

    /// Reads a purpose name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "assertionMethod" => ProofPurpose::AssertionMethod,
            "authentication" => ProofPurpose::Authentication,
            other => ProofPurpose::Other(other.into()),
        }
    }
}

impl fmt::Display for ProofPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to create a proof.
#[derive(Debug, Clone)]
pub struct ProofOptions {
    /// The cryptosuite; must be a supported one.
    pub cryptosuite: Cryptosuite,
    /// `created`; `None` omits it (it is optional). Pass the signing time for dated proofs.
    pub created: Option<Timestamp>,
    /// `expires`, if the proof should expire.
    pub expires: Option<Timestamp>,
    /// `proofPurpose`.
    pub purpose: ProofPurpose,
    /// `id` of the proof (a URL), needed if a later proof will chain to it.
    pub id: Option<String>,
    /// Ids of existing proofs this proof chains to (`previousProof`): empty for a proof
    /// set member, one id (written as a string) or several (written as an array).
    pub previous_proof: Vec<String>,
    /// `domain`, for presentations bound to a verifier.
    pub domain: Option<String>,
    /// `challenge`, for presentations bound to a verifier's nonce.
    pub challenge: Option<String>,
    /// The verification method to name; `None` names the key's did:key method. Set it
    /// when the key is published under another id (e.g. an https issuer's key).
    pub verification_method: Option<String>,
}

impl ProofOptions {
    /// An `assertionMethod` proof in the given suite, created at `created`.
    pub fn new(cryptosuite: Cryptosuite, created: Option<Timestamp>) -> Self {
        ProofOptions {
            cryptosuite,
            created,
            expires: None,
            purpose: ProofPurpose::AssertionMethod,
            id: None,
            previous_proof: Vec::new(),
            domain: None,
            challenge: None,
            verification_method: None,
        }
    }
}

/// A verification method the verifier knows out of band (e.g. an https issuer's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationMethod {
    /// The verification method id (a URL).
    pub id: String,
    /// The controller: the DID or URL the key speaks for.
    pub controller: String,
    /// The Ed25519 public key.
    pub key: VerifyingKey,
}

/// Verification methods known besides did:key, keyed by id, and a cache of resolved
/// did:keys.
///
/// Resolving a did:key decompresses a curve point (about 7 µs); a verifier that sees the
/// same issuers again keeps the result here. The cache is owned by the caller like the
/// rest of the value, holds only public keys, and is bounded.
#[derive(Debug, Default)]
pub struct KnownKeys {
    methods: HashMap<String, VerificationMethod>,
    resolved: std::sync::RwLock<HashMap<String, VerificationMethod>>,
}

impl Clone for KnownKeys {
    fn clone(&self) -> Self {
        KnownKeys {
            methods: self.methods.clone(),
            resolved: std::sync::RwLock::new(
                self.resolved.read().map(|r| r.clone()).unwrap_or_default(),
            ),
        }
    }
}

/// How many resolved did:keys [`KnownKeys`] keeps.
const RESOLVED_CACHE_LIMIT: usize = 4096;

impl KnownKeys {
    /// Registers a verification method. Its controller defaults to its id up to `#`.
    pub fn insert(&mut self, id: &str, key: VerifyingKey, controller: Option<&str>) {
        let controller = controller
            .map(str::to_owned)
            .unwrap_or_else(|| id.split('#').next().unwrap_or(id).to_owned());
        self.methods.insert(
            id.to_owned(),
            VerificationMethod {
                id: id.to_owned(),
                controller,
                key,
            },
        );
    }

    /// Resolves a verification method: registered ones first, then did:key.
    pub fn resolve(&self, vm: &str) -> Result<VerificationMethod, ProofError> {
        if let Some(method) = self.methods.get(vm) {
            return Ok(method.clone());
        }
        if !vm.starts_with("did:key:") {
            return Err(ProofError::UnresolvableVerificationMethod(vm.to_owned()));
        }
        if let Some(method) = self.resolved.read().ok().and_then(|r| r.get(vm).cloned()) {
            return Ok(method);
        }
        let did = DidKey::resolve_verification_method(vm)?;
        let method = VerificationMethod {
            id: vm.to_owned(),
            controller: did.did().to_owned(),
            key: *did.public_key(),
        };
        if let Ok(mut resolved) = self.resolved.write() {
            if resolved.len() >= RESOLVED_CACHE_LIMIT {
                resolved.clear();
            }
            resolved.insert(vm.to_owned(), method.clone());
        }
        Ok(method)
    }
}

/// What a verifier expects of proofs.
#[derive(Debug, Clone, Copy)]
pub struct VerifyProofOptions<'a> {
    /// Contexts for eddsa-rdfc-2022.
    pub contexts: &'a Contexts,
    /// Verification methods besides did:key.
    pub keys: &'a KnownKeys,
    /// The purpose every proof must have.
    pub purpose: &'a ProofPurpose,
    /// The verification time (for `expires`).
    pub at: Timestamp,
    /// The `domain` every proof must carry, if any.
    pub domain: Option<&'a str>,
    /// The `challenge` every proof must carry, if any.
    pub challenge: Option<&'a str>,
}

/// A proof that passed every check but the signature equation.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Position of the proof in the document's proof set.
    pub index: usize,
    /// The proof's `id`, if any.
    pub id: Option<String>,
    /// The cryptosuite.
    pub cryptosuite: Cryptosuite,
    /// The resolved verification method.
    pub method: VerificationMethod,
    /// `created`, if present.
    pub created: Option<Timestamp>,
    /// Ids this proof chains to.
    pub previous_proof: Vec<String>,
    hash_data: [u8; 64],
    signature: Signature,
}

/// The outcome for one proof of a document, in proof-set order.
#[derive(Debug, Clone)]
pub struct ProofResult {
    /// Position of the proof in the document's proof set.
    pub index: usize,
    /// The proof's cryptosuite, when it could be read.
    pub cryptosuite: Option<Cryptosuite>,
    /// The verification method, when it could be resolved.
    pub method: Option<VerificationMethod>,
    /// `created`, if present and well-formed.
    pub created: Option<Timestamp>,
    /// `Ok` if the proof verified.
    pub result: Result<(), ProofError>,
}

/// A proof refused before its signature was checked, with what was learned about it.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Position of the proof in the document's proof set.
    pub index: usize,
    /// Why it was refused.
    pub error: ProofError,
    /// What could be read before it was refused.
    pub partial: Partial,
}

/// One proof after [`prepare`]: ready for its signature check, or already refused.
pub type PreparedProof = Result<Prepared, Box<Rejected>>;

/// Checks every proof of `document` except the signature equations.
///
/// Returns one entry per proof, in order. A document-level problem (no proof, the document
/// or its `proof` not an object or array of objects) is the `Err`.
pub fn prepare(
    document: &Json<'_>,
    options: &VerifyProofOptions<'_>,
) -> Result<Vec<PreparedProof>, ProofError> {
    prepare_canonical(document, options, None)
}

/// [`prepare`] with the document's canonical form already written by the caller (see
/// [`crate::jcs::Canonical`]); it must be the canonical form of `document`.
pub fn prepare_canonical(
    document: &Json<'_>,
    options: &VerifyProofOptions<'_>,
    canonical: Option<&crate::jcs::Canonical>,
) -> Result<Vec<PreparedProof>, ProofError> {
    if document.as_object().is_none() {
        return Err(ProofError::NotAMap {
            what: "the document",
            found: document.kind(),
        });
    }
    let proofs = chain::proof_objects(document)?;
    Ok(proofs
        .iter()
        .enumerate()
        .map(|(index, proof)| prepare_one(document, &proofs, index, proof, options, canonical))
        .collect())
}

/// What could be learned about a proof before it failed, for the report.
#[derive(Debug, Clone, Default)]
pub struct Partial {
    /// The cryptosuite, if read.
    pub cryptosuite: Option<Cryptosuite>,
    /// The verification method, if resolved.
    pub method: Option<VerificationMethod>,
    /// `created`, if read.
    pub created: Option<Timestamp>,
}

fn prepare_one(
    document: &Json<'_>,
    proofs: &[&Json<'_>],
    index: usize,
    proof: &Json<'_>,
    options: &VerifyProofOptions<'_>,
    canonical: Option<&crate::jcs::Canonical>,
) -> PreparedProof {
    let mut partial = Partial::default();
    let result = (|| {
        let type_ = required_str(proof, "type")?;
        if type_ != DATA_INTEGRITY_PROOF {
            return Err(ProofError::WrongType(type_.into_owned()));
        }
        let suite = Cryptosuite::from_name(&required_str(proof, "cryptosuite")?);
        partial.cryptosuite = Some(suite.clone());
        if let Cryptosuite::Unsupported(name) = &suite {
            return Err(ProofError::UnsupportedCryptosuite(name.clone()));
        }
        let purpose = required_str(proof, "proofPurpose")?;
        if purpose != options.purpose.as_str() {
            return Err(ProofError::WrongPurpose {
                expected: options.purpose.to_string(),
                found: purpose.into_owned(),
            });
        }
        let vm = required_str(proof, "verificationMethod")?;
        let method = options.keys.resolve(&vm)?;
        partial.method = Some(method.clone());
        let created = optional_time(proof, "created", true)?;
        partial.created = created;
        if let Some(expires) = optional_time(proof, "expires", false)? {
            if expires <= options.at {
                return Err(ProofError::Expired {
                    expires,
                    at: options.at,
                });
            }
        }
        let id = match proof.get("id") {
            None => None,
            Some(Json::String(s)) if crate::validation::is_url(&s.decoded()) => {
                Some(s.decoded().into_owned())
            }
            Some(other) => {
                return Err(ProofError::Malformed {
                    property: "id",
                    detail: format!("{} is not a URL", other.to_value()),
                })
            }
        };
        let previous_proof = chain::previous_proof_ids(proof)?;
        for (property, expected) in [("domain", options.domain), ("challenge", options.challenge)] {
            if let Some(expected) = expected {
                let found = proof
                    .get(property)
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                if found != expected {
                    return Err(ProofError::Mismatch {
                        property,
                        expected: expected.into(),
                        found: found.into_owned(),
                    });
                }
            }
        }
        let signature = decode_proof_value(&required_str(proof, "proofValue")?)?;
        let previous = chain::matching_proofs(proofs, index, &previous_proof)?;
        let hash_data = transform::hash_data(
            document,
            proof,
            previous,
            &suite,
            options.contexts,
            canonical,
        )?;
        Ok(Prepared {
            index,
            id,
            cryptosuite: suite,
            method,
            created,
            previous_proof,
            hash_data,
            signature,
        })
    })();
    result.map_err(|error| {
        Box::new(Rejected {
            index,
            error,
            partial,
        })
    })
}

/// Verifies the signatures of prepared proofs and assembles every proof's result.
///
/// Uses Ed25519 batch verification when there is more than one signature; if the batch
/// fails, each signature is checked alone so that the report says which one is bad. A
/// proof that chains to a failed proof fails too.
pub fn check_signatures(prepared: Vec<PreparedProof>) -> Vec<ProofResult> {
    check_signatures_of_many(vec![prepared], &[])
        .0
        .pop()
        .unwrap_or_default()
}

/// [`check_signatures`] for several documents at once, with one batch verification over
/// all their signatures (a provenance bundle's credentials) and the `also` signatures
/// (its checkpoints'); one result list per document, and whether each of `also` verified.
pub fn check_signatures_of_many(
    documents: Vec<Vec<PreparedProof>>,
    also: &[batch::Signed<'_>],
) -> (Vec<Vec<ProofResult>>, Vec<bool>) {
    let mut oks: Vec<Vec<Prepared>> = Vec::with_capacity(documents.len());
    let mut results: Vec<Vec<ProofResult>> = Vec::with_capacity(documents.len());
    for prepared in documents {
        let mut ok = Vec::new();
        let mut refused = Vec::new();
        for item in prepared {
            match item {
                Ok(p) => ok.push(p),
                Err(rejected) => {
                    let Rejected {
                        index,
                        error,
                        partial,
                    } = *rejected;
                    refused.push(ProofResult {
                        index,
                        cryptosuite: partial.cryptosuite,
                        method: partial.method,
                        created: partial.created,
                        result: Err(error),
                    })
                }
            }
        }
        oks.push(ok);
        results.push(refused);
    }
    let all: Vec<batch::Signed<'_>> = oks
        .iter()
        .flatten()
        .map(|p| (&p.hash_data[..], &p.signature, &p.method.key))
        .chain(also.iter().copied())
        .collect();
    let mut verdicts = verify_signed(&all).into_iter();
    for (ok, results) in oks.iter().zip(results.iter_mut()) {
        for p in ok {
            let verdict = verdicts.next().unwrap_or(false);
            results.push(ProofResult {
                index: p.index,
                cryptosuite: Some(p.cryptosuite.clone()),
                method: Some(p.method.clone()),
                created: p.created,
                result: if verdict {
                    Ok(())
                } else {
                    Err(ProofError::InvalidSignature)
                },
            });
        }
        results.sort_by_key(|r| r.index);
        chain::propagate_failures(ok, results);
    }
    (results, verdicts.collect())
}

/// Checks a list of prepared signatures; `true` where the signature verifies.
pub fn verify_signatures(prepared: &[Prepared]) -> Vec<bool> {
    let items: Vec<batch::Signed<'_>> = prepared
        .iter()
        .map(|p| (&p.hash_data[..], &p.signature, &p.method.key))
        .collect();
    verify_signed(&items)
}

/// One batch for all; if it fails, each alone, so that the report says which is bad.
fn verify_signed(items: &[batch::Signed<'_>]) -> Vec<bool> {
    if items.len() > 1 && batch::verify(items) {
        return vec![true; items.len()];
    }
    items
        .iter()
        .map(|(message, signature, key)| {
            use ed25519_dalek::Verifier as _;
            key.verify(message, signature).is_ok()
        })
        .collect()
}

/// Checks every proof of `document`, signatures included.
pub fn verify(
    document: &Value,
    options: &VerifyProofOptions<'_>,
) -> Result<Vec<ProofResult>, ProofError> {
    verify_json(&Json::from_value(document), options)
}

/// Checks every proof of a borrowed document, signatures included.
pub fn verify_json(
    document: &Json<'_>,
    options: &VerifyProofOptions<'_>,
) -> Result<Vec<ProofResult>, ProofError> {
    Ok(check_signatures(prepare(document, options)?))
}

/// Writes a single `proof` as a one-member proof set. Open Badges 3.0 (and its 1EdTech
/// JSON schema) requires `proof` to be an array; a proof does not sign its container, so
/// this changes nothing a verifier checks.
pub fn as_set(document: &mut Value) {
    if let Some(proof) = document.get_mut("proof") {
        if proof.is_object() {
            *proof = Value::Array(vec![proof.take()]);
        }
    }
}

/// Adds a proof to `document`, signed by `key`.
///
/// Existing proofs are kept: the new proof joins the proof set (each member signs the
/// document without the others) or, with `previous_proof`, chains to the named proofs
/// (which are then part of what it signs).
pub fn sign(
    document: &mut Value,
    key: &KeyPair,
    options: &ProofOptions,
    contexts: &Contexts,
) -> Result<(), ProofError> {
    if let Cryptosuite::Unsupported(name) = &options.cryptosuite {
        return Err(ProofError::UnsupportedCryptosuite(name.clone()));
    }
    let Some(map) = document.as_object() else {
        return Err(ProofError::NotAMap {
            what: "the document",
            found: json_kind(document),
        });
    };
    let mut proof = Map::new();
    proof.insert("type".into(), DATA_INTEGRITY_PROOF.into());
    if let Some(id) = &options.id {
        proof.insert("id".into(), id.clone().into());
    }
    proof.insert("cryptosuite".into(), options.cryptosuite.name().into());
    if let Some(created) = options.created {
        proof.insert("created".into(), created.to_string().into());
    }
    if let Some(expires) = options.expires {
        proof.insert("expires".into(), expires.to_string().into());
    }
    let method = options
        .verification_method
        .clone()
        .unwrap_or_else(|| key.did_key().verification_method_id());
    proof.insert("verificationMethod".into(), method.into());
    proof.insert("proofPurpose".into(), options.purpose.as_str().into());
    match options.previous_proof.as_slice() {
        [] => {}
        [one] => {
            proof.insert("previousProof".into(), one.clone().into());
        }
        many => {
            proof.insert("previousProof".into(), many.to_vec().into());
        }
    }
    if let Some(domain) = &options.domain {
        proof.insert("domain".into(), domain.clone().into());
    }
    if let Some(challenge) = &options.challenge {
        proof.insert("challenge".into(), challenge.clone().into());
    }
    if options.cryptosuite == Cryptosuite::EddsaJcs2022 {
        if let Some(context) = map.get("@context") {
            proof.insert("@context".into(), context.clone());
        }
    }

    let proof = Value::Object(proof);
    let hash_data = {
        let view = Json::from_value(document);
        let existing: Vec<&Json<'_>> = if map.contains_key("proof") {
            chain::proof_objects(&view)?
        } else {
            Vec::new()
        };
        let previous = chain::matching_proofs(&existing, usize::MAX, &options.previous_proof)?;
        transform::hash_data(
            &view,
            &Json::from_value(&proof),
            previous,
            &options.cryptosuite,
            contexts,
            None,
        )?
    };
    let signature = key.sign(&hash_data);
    let mut proof = proof;
    proof["proofValue"] = multibase::encode_base58btc(&signature.to_bytes()).into();

    let map = document.as_object_mut().expect("checked above");
    match map.remove("proof") {
        None => {
            map.insert("proof".into(), proof);
        }
        Some(Value::Array(mut set)) => {
            set.push(proof);
            map.insert("proof".into(), Value::Array(set));
        }
        Some(single) => {
            map.insert("proof".into(), Value::Array(vec![single, proof]));
        }
    }
    Ok(())
}

fn decode_proof_value(text: &str) -> Result<Signature, ProofError> {
    let bytes = multibase::decode_base58btc(text)?;
    let bytes: [u8; 64] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| ProofError::SignatureLength(bytes.len()))?;
    Ok(Signature::from_bytes(&bytes))
}

fn required_str<'a>(
    proof: &Json<'a>,
    property: &'static str,
) -> Result<std::borrow::Cow<'a, str>, ProofError> {
    match proof.get(property) {
        None | Some(Json::Null) => Err(ProofError::MissingProperty(property)),
        Some(Json::String(s)) => Ok(s.decoded()),
        Some(other) => Err(ProofError::Malformed {
            property,
            detail: format!("{} where a string is required", other.kind()),
        }),
    }
}

/// Reads an optional time property. `created` may lack an offset (read as UTC, as Data
/// Integrity §2.1 allows and the W3C suite expects); `expires` must be a dateTimeStamp.
fn optional_time(
    proof: &Json<'_>,
    property: &'static str,
    allow_missing_offset: bool,
) -> Result<Option<Timestamp>, ProofError> {
    let malformed = |e: TimeError| ProofError::Malformed {
        property,
        detail: e.to_string(),
    };
    match proof.get(property) {
        None => Ok(None),
        Some(Json::String(s)) => {
            let s = s.decoded();
            if allow_missing_offset {
                Timestamp::parse_date_time(&s)
                    .map(|(t, _)| Some(t))
                    .map_err(malformed)
            } else {
                Timestamp::parse(&s).map(Some).map_err(malformed)
            }
        }
        Some(other) => Err(ProofError::Malformed {
            property,
            detail: format!("{} where a dateTimeStamp string is required", other.kind()),
        }),
    }
}

/// A short name for the kind of a JSON value, for messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
