//! Proof sets and proof chains (Data Integrity §2.1.1, §4.5).
//!
//! In a set, each proof signs the document without any proof. A proof with
//! `previousProof` instead signs the document whose `proof` is the list of proofs it names,
//! so removing or altering an earlier proof breaks every proof chained to it.

use super::{Prepared, ProofError, ProofResult};
use crate::json::Json;

/// The document's proofs, in order: one object, or each object of an array.
pub(crate) fn proof_objects<'v, 'a>(
    document: &'v Json<'a>,
) -> Result<Vec<&'v Json<'a>>, ProofError> {
    match document.get("proof") {
        None => Err(ProofError::Missing),
        Some(proof @ Json::Object(_)) => Ok(vec![proof]),
        Some(Json::Array(items)) if items.is_empty() => Err(ProofError::Missing),
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| match item {
                Json::Object(_) => Ok(item),
                other => Err(ProofError::NotAMap {
                    what: "a proof in the proof set",
                    found: other.kind(),
                }),
            })
            .collect(),
        Some(other) => Err(ProofError::NotAMap {
            what: "proof",
            found: other.kind(),
        }),
    }
}

/// The ids a proof's `previousProof` names: none, one (a string) or several (an array).
pub(crate) fn previous_proof_ids(proof: &Json<'_>) -> Result<Vec<String>, ProofError> {
    let malformed = |found: &Json<'_>| ProofError::Malformed {
        property: "previousProof",
        detail: format!(
            "{} where a string or an array of strings is required",
            found.kind()
        ),
    };
    match proof.get("previousProof") {
        None => Ok(Vec::new()),
        Some(Json::String(id)) => Ok(vec![id.decoded().into_owned()]),
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(|s| s.into_owned())
                    .ok_or_else(|| malformed(item))
            })
            .collect(),
        Some(other) => Err(malformed(other)),
    }
}

/// The proofs named by `previous` (in that order), other than the proof at `own_index`.
///
/// `None` when `previous` is empty (a plain proof-set member).
pub(crate) fn matching_proofs<'v, 'a>(
    proofs: &[&'v Json<'a>],
    own_index: usize,
    previous: &[String],
) -> Result<Option<Vec<&'v Json<'a>>>, ProofError> {
    if previous.is_empty() {
        return Ok(None);
    }
    previous
        .iter()
        .map(|wanted| {
            proofs
                .iter()
                .enumerate()
                .find(|(i, p)| {
                    *i != own_index
                        && matches!(p.get("id"), Some(Json::String(id)) if id.eq_str(wanted))
                })
                .map(|(_, p)| *p)
                .ok_or_else(|| ProofError::PreviousProofNotFound(wanted.clone()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Fails every proof that chains, directly or not, to a proof that failed.
pub(crate) fn propagate_failures(prepared: &[Prepared], results: &mut [ProofResult]) {
    loop {
        let failed_ids: Vec<String> = prepared
            .iter()
            .filter(|p| {
                results
                    .iter()
                    .any(|r| r.index == p.index && r.result.is_err())
            })
            .filter_map(|p| p.id.clone())
            .collect();
        let mut changed = false;
        for p in prepared {
            let Some(failed) = p.previous_proof.iter().find(|id| failed_ids.contains(id)) else {
                continue;
            };
            if let Some(result) = results.iter_mut().find(|r| r.index == p.index) {
                if result.result.is_ok() {
                    result.result = Err(ProofError::PreviousProofFailed(failed.clone()));
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}
