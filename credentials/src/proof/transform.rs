//! The transformation and hashing steps of the two EdDSA cryptosuites.
//!
//! `eddsa-jcs-2022` (EdDSA Cryptosuites §3.3): the proof configuration keeps its
//! `@context`; before hashing, the document's `@context` must start with it and is then
//! replaced by it, so contexts appended after signing do not break the proof.
//! `eddsa-rdfc-2022` (§3.2): the proof configuration takes the document's `@context` for
//! canonicalization only; both are canonicalized with RDFC-1.0.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Cryptosuite, ProofError};
use crate::jcs;
use crate::json::{Json, JsonStr};
use crate::jsonld::{self, Contexts};

/// The two canonical byte strings a proof's hash data is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalForms {
    /// Canonical proof configuration (the proof without `proofValue`).
    pub proof_config: Vec<u8>,
    /// Canonical unsecured document.
    pub document: Vec<u8>,
}

impl CanonicalForms {
    /// SHA-256(proof configuration) ‖ SHA-256(document): the 64 bytes that are signed.
    pub fn hash_data(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&Sha256::digest(&self.proof_config));
        out[32..].copy_from_slice(&Sha256::digest(&self.document));
        out
    }
}

/// Canonicalizes an unsecured document and a proof configuration with `suite`.
///
/// `document` must have no `proof` (or, for a chained proof, the proofs it chains to);
/// `proof_config` must have no `proofValue`. This is the suite's transformation exactly,
/// exposed for conformance tests and debugging; [`super::sign`] and [`super::verify`] do
/// the `@context` handling described in the module docs before calling it.
pub fn canonical_forms(
    document: &Value,
    proof_config: &Value,
    suite: &Cryptosuite,
    contexts: &Contexts,
) -> Result<CanonicalForms, ProofError> {
    match suite {
        Cryptosuite::EddsaJcs2022 => Ok(CanonicalForms {
            proof_config: jcs::canonicalize(proof_config),
            document: jcs::canonicalize(document),
        }),
        Cryptosuite::EddsaRdfc2022 => Ok(CanonicalForms {
            proof_config: jsonld::canonical_nquads_cached(proof_config, contexts)?
                .as_bytes()
                .to_vec(),
            document: jsonld::canonical_nquads(document, contexts)?.into_bytes(),
        }),
        Cryptosuite::Unsupported(name) => Err(ProofError::UnsupportedCryptosuite(name.clone())),
    }
}

/// The hash data of one proof over `document` (an object).
///
/// `proof` may still hold its `proofValue` (it is left out); `previous` is the list of
/// proofs it chains to, which become the unsecured document's `proof`.
pub(crate) fn hash_data(
    document: &Json<'_>,
    proof: &Json<'_>,
    previous: Option<Vec<&Json<'_>>>,
    suite: &Cryptosuite,
    contexts: &Contexts,
    canonical: Option<&jcs::Canonical>,
) -> Result<[u8; 64], ProofError> {
    let (Some(document), Some(proof)) = (document.as_object(), proof.as_object()) else {
        return Err(ProofError::NotAMap {
            what: "the document",
            found: document.kind(),
        });
    };
    let previous = previous.map(|proofs| Json::Array(proofs.into_iter().cloned().collect()));
    match suite {
        Cryptosuite::EddsaJcs2022 => {
            let proof_context = proof
                .iter()
                .find(|(k, _)| k.eq_str("@context"))
                .map(|(_, v)| v);
            if let Some(proof_context) = proof_context {
                let document_context = document
                    .iter()
                    .find(|(k, _)| k.eq_str("@context"))
                    .map(|(_, v)| v)
                    .unwrap_or(&Json::Null);
                if !starts_with(document_context, proof_context) {
                    return Err(ProofError::ContextNotPrefix);
                }
            }
            // Canonicalize straight from the borrowed members: no copy of the document.
            let mut proof_bytes = Vec::with_capacity(512);
            jcs::write_members(
                proof
                    .iter()
                    .filter(|(k, _)| !k.eq_str("proofValue"))
                    .map(|(k, v)| (k, v)),
                &mut proof_bytes,
            );
            // The caller's canonical form serves when the unsecured document is the
            // document without `proof` and its `@context` is not replaced.
            let same_context = proof_context.is_none_or(|c| {
                document
                    .iter()
                    .find(|(k, _)| k.eq_str("@context"))
                    .is_some_and(|(_, v)| v.json_eq(c))
            });
            if let Some(canonical) = canonical.filter(|c| c.has_proof()) {
                if previous.is_none() && same_context {
                    let mut out = [0u8; 64];
                    out[..32].copy_from_slice(&Sha256::digest(&proof_bytes));
                    let mut hasher = Sha256::new();
                    for part in canonical.without_proof() {
                        hasher.update(part);
                    }
                    out[32..].copy_from_slice(&hasher.finalize());
                    return Ok(out);
                }
            }
            let mut document_bytes = Vec::with_capacity(2048);
            let members = document.iter().filter_map(|(k, v)| {
                if k.eq_str("proof") {
                    previous.as_ref().map(|p| (k, p))
                } else if k.eq_str("@context") {
                    Some((k, proof_context.unwrap_or(v)))
                } else {
                    Some((k, v))
                }
            });
            jcs::write_members(members, &mut document_bytes);
            Ok(CanonicalForms {
                proof_config: proof_bytes,
                document: document_bytes,
            }
            .hash_data())
        }
        Cryptosuite::EddsaRdfc2022 => {
            let without = |members: &[(JsonStr<'_>, Json<'_>)], skip: &[&str]| {
                Json::Object(
                    members
                        .iter()
                        .filter(|(k, _)| !skip.iter().any(|s| k.eq_str(s)))
                        .cloned()
                        .collect(),
                )
                .to_value()
            };
            let mut unsecured = without(document, &["proof"]);
            if let Some(previous) = previous {
                unsecured["proof"] = previous.to_value();
            }
            let mut config = without(proof, &["proofValue", "@context"]);
            if let Some((_, context)) = document.iter().find(|(k, _)| k.eq_str("@context")) {
                config["@context"] = context.to_value();
            }
            Ok(canonical_forms(&unsecured, &config, suite, contexts)?.hash_data())
        }
        Cryptosuite::Unsupported(name) => Err(ProofError::UnsupportedCryptosuite(name.clone())),
    }
}

/// Whether the `@context` value `document` starts with every item of `prefix`, in order.
fn starts_with(document: &Json<'_>, prefix: &Json<'_>) -> bool {
    fn items<'v, 'a>(v: &'v Json<'a>) -> &'v [Json<'a>] {
        match v {
            Json::Array(items) => items,
            other => std::slice::from_ref(other),
        }
    }
    let (doc, pre) = (items(document), items(prefix));
    doc.len() >= pre.len() && doc.iter().zip(pre).all(|(a, b)| a.json_eq(b))
}
