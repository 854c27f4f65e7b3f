//! Proof sets and proof chains (Data Integrity §2.1.1, §4.5).
//!
//! In a set, each proof signs the document without any proof. A proof with
//! `previousProof` instead signs the document whose `proof` is the list of proofs it names,
//! so removing or altering an earlier proof breaks every proof chained to it.

use serde_json::{Map, Value};

use super::{json_kind, Prepared, ProofError, ProofResult};

/// The document's proofs, in order: one object, or each object of an array.
pub(crate) fn proof_objects(
    document: &Map<String, Value>,
) -> Result<Vec<&Map<String, Value>>, ProofError> {
    match document.get("proof") {
        None => Err(ProofError::Missing),
        Some(Value::Object(proof)) => Ok(vec![proof]),
        Some(Value::Array(items)) if items.is_empty() => Err(ProofError::Missing),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_object().ok_or(ProofError::NotAMap {
                    what: "a proof in the proof set",
                    found: json_kind(item),
                })
            })
            .collect(),
        Some(other) => Err(ProofError::NotAMap {
            what: "proof",
            found: json_kind(other),
        }),
    }
}

/// The ids a proof's `previousProof` names: none, one (a string) or several (an array).
pub(crate) fn previous_proof_ids(proof: &Map<String, Value>) -> Result<Vec<String>, ProofError> {
    let malformed = |found: &Value| ProofError::Malformed {
        property: "previousProof",
        detail: format!(
            "{} where a string or an array of strings is required",
            json_kind(found)
        ),
    };
    match proof.get("previousProof") {
        None => Ok(Vec::new()),
        Some(Value::String(id)) => Ok(vec![id.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed(item))
            })
            .collect(),
        Some(other) => Err(malformed(other)),
    }
}

/// The proofs named by `previous` (in that order), other than the proof at `own_index`.
///
/// `None` when `previous` is empty (a plain proof-set member).
pub(crate) fn matching_proofs<'a>(
    proofs: &[&'a Map<String, Value>],
    ids: &[Option<&str>],
    own_index: usize,
    previous: &[String],
) -> Result<Option<Vec<&'a Map<String, Value>>>, ProofError> {
    if previous.is_empty() {
        return Ok(None);
    }
    previous
        .iter()
        .map(|wanted| {
            ids.iter()
                .enumerate()
                .find(|(i, id)| *i != own_index && **id == Some(wanted.as_str()))
                .map(|(i, _)| proofs[i])
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
