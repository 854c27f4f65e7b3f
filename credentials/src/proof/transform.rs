//! The transformation and hashing steps of the two EdDSA cryptosuites.
//!
//! `eddsa-jcs-2022` (EdDSA Cryptosuites §3.3): the proof configuration keeps its
//! `@context`; before hashing, the document's `@context` must start with it and is then
//! replaced by it, so contexts appended after signing do not break the proof.
//! `eddsa-rdfc-2022` (§3.2): the proof configuration takes the document's `@context` for
//! canonicalization only; both are canonicalized with RDFC-1.0.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{Cryptosuite, ProofError};
use crate::jcs;
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
            proof_config: jsonld::canonical_nquads(proof_config, contexts)?.into_bytes(),
            document: jsonld::canonical_nquads(document, contexts)?.into_bytes(),
        }),
        Cryptosuite::Unsupported(name) => Err(ProofError::UnsupportedCryptosuite(name.clone())),
    }
}

/// The hash data of one proof over `document`.
///
/// `proof` may still hold its `proofValue` (it is left out); `previous` is the list of
/// proofs it chains to, which become the unsecured document's `proof`.
pub(crate) fn hash_data(
    document: &Map<String, Value>,
    proof: &Map<String, Value>,
    previous: Option<Vec<&Map<String, Value>>>,
    suite: &Cryptosuite,
    contexts: &Contexts,
) -> Result<[u8; 64], ProofError> {
    let previous = previous.map(|proofs| {
        Value::Array(
            proofs
                .into_iter()
                .map(|p| Value::Object(p.clone()))
                .collect(),
        )
    });
    match suite {
        Cryptosuite::EddsaJcs2022 => {
            let proof_context = proof.get("@context");
            if let Some(proof_context) = proof_context {
                let document_context = document.get("@context").unwrap_or(&Value::Null);
                if !starts_with(document_context, proof_context) {
                    return Err(ProofError::ContextNotPrefix);
                }
            }
            // Canonicalize straight from the borrowed maps: no copy of the document.
            let mut proof_bytes = Vec::with_capacity(512);
            jcs::write_object(
                proof.iter().filter(|(k, _)| k.as_str() != "proofValue"),
                proof.len(),
                &mut proof_bytes,
            );
            let mut document_bytes = Vec::with_capacity(2048);
            let members = document.iter().filter_map(|(k, v)| match k.as_str() {
                "proof" => previous.as_ref().map(|p| (k, p)),
                "@context" => Some((k, proof_context.unwrap_or(v))),
                _ => Some((k, v)),
            });
            jcs::write_object(members, document.len(), &mut document_bytes);
            Ok(CanonicalForms {
                proof_config: proof_bytes,
                document: document_bytes,
            }
            .hash_data())
        }
        Cryptosuite::EddsaRdfc2022 => {
            let mut unsecured = document.clone();
            unsecured.remove("proof");
            if let Some(previous) = previous {
                unsecured.insert("proof".into(), previous);
            }
            let mut config = proof.clone();
            config.remove("proofValue");
            config.remove("@context");
            if let Some(context) = document.get("@context") {
                config.insert("@context".into(), context.clone());
            }
            Ok(canonical_forms(
                &Value::Object(unsecured),
                &Value::Object(config),
                suite,
                contexts,
            )?
            .hash_data())
        }
        Cryptosuite::Unsupported(name) => Err(ProofError::UnsupportedCryptosuite(name.clone())),
    }
}

/// Whether the `@context` value `document` starts with every item of `prefix`, in order.
fn starts_with(document: &Value, prefix: &Value) -> bool {
    fn items(v: &Value) -> &[Value] {
        match v {
            Value::Array(items) => items,
            other => std::slice::from_ref(other),
        }
    }
    let (doc, pre) = (items(document), items(prefix));
    doc.len() >= pre.len() && doc.iter().zip(pre).all(|(a, b)| a == b)
}
