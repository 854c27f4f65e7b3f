//! A transparency-log witness's decision on an `add-checkpoint` request (C2SP
//! tlog-witness v1.0.0), I/O-free: parse the request, check the checkpoint against the
//! logs the witness trusts and the latest checkpoint it cosigned for that origin, and
//! say which status the spec requires — or that the checkpoint may be cosigned.
//!
//! Storing the accepted checkpoint atomically and durably before answering, and signing
//! the `cosignature/v1` line, are the caller's (`server::witness`).

use crate::checkpoint::{check_consistency, verify_checkpoint, Checkpoint, CheckpointError};
use crate::merkle::{Hash, EMPTY_ROOT};
use crate::note::VerifierKey;

/// The most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// Why a witness refuses an `add-checkpoint` request, with the HTTP status the spec
/// gives each case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: the body is malformed, or the old size is larger than the checkpoint's.
    #[error("{0}")]
    BadRequest(String),
    /// 404: the checkpoint's origin is not a log this witness serves.
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// 403: no valid signature by a trusted key of that log (or a signature by a
    /// trusted key name and id that fails).
    #[error("{0}")]
    Forbidden(String),
    /// 409: the old size is not the size of the latest checkpoint cosigned for the
    /// origin, which is given (answered as `text/x.tlog.size`).
    #[error("the witness holds size {0} for this log")]
    Conflict(u64),
    /// 422: the consistency proof does not verify, a proof came with old size 0, a
    /// size-0 checkpoint lacks the empty root, or the same size came with another root.
    #[error("{0}")]
    Unprocessable(String),
}

impl Refusal {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) => 400,
            Refusal::UnknownOrigin(_) => 404,
            Refusal::Forbidden(_) => 403,
            Refusal::Conflict(_) => 409,
            Refusal::Unprocessable(_) => 422,
        }
    }
}

/// A parsed `add-checkpoint` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The old size the client claims the witness holds.
    pub old: u64,
    /// The consistency proof from the old size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub note: String,
}

/// Parses an `add-checkpoint` body: `old N`, up to 63 base64 hash lines, an empty line,
/// the signed checkpoint.
pub fn parse_request(body: &str) -> Result<Request, Refusal> {
    let bad = |why: &str| Refusal::BadRequest(format!("malformed add-checkpoint request: {why}"));
    let (head, note) = body
        .split_once("\n\n")
        .ok_or_else(|| bad("no empty line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let old_line = lines.next().unwrap_or_default();
    let old_text = old_line
        .strip_prefix("old ")
        .ok_or_else(|| bad("the first line must be `old <size>`"))?;
    let canonical = !old_text.is_empty()
        && old_text.bytes().all(|b| b.is_ascii_digit())
        && (old_text == "0" || !old_text.starts_with('0'));
    let old: u64 = old_text
        .parse()
        .ok()
        .filter(|_| canonical)
        .ok_or_else(|| bad("the old size must be a decimal without leading zeroes"))?;
    let proof = lines
        .map(|line| Hash::from_base64(line).map_err(|_| bad("a proof line is not a base64 hash")))
        .collect::<Result<Vec<_>, _>>()?;
    if proof.len() > MAX_PROOF_LINES {
        return Err(bad("more than 63 consistency proof lines"));
    }
    Ok(Request {
        old,
        proof,
        note: note.to_owned(),
    })
}

/// Decides a request against the trusted `logs` and the `stored` latest cosigned
/// checkpoint of that origin (size and root; `None` if the witness never cosigned one).
/// Returns the checkpoint to store and cosign.
pub fn decide(
    request: &Request,
    logs: &[VerifierKey],
    stored: impl Fn(&str) -> Option<(u64, Hash)>,
) -> Result<Checkpoint, Refusal> {
    // The origin is the note's first line.
    let origin = request.note.split('\n').next().unwrap_or_default();
    let keys: Vec<&VerifierKey> = logs.iter().filter(|k| k.name() == origin).collect();
    if keys.is_empty() {
        return Err(Refusal::UnknownOrigin(origin.to_owned()));
    }
    let mut verified = None;
    let mut last_error = None;
    for key in keys {
        match verify_checkpoint(&request.note, key, &[]) {
            Ok(v) => {
                verified = Some(v.checkpoint);
                break;
            }
            Err(CheckpointError::Malformed(why)) => {
                return Err(Refusal::BadRequest(format!("malformed checkpoint: {why}")))
            }
            Err(e) => last_error = Some(e),
        }
    }
    let checkpoint = verified.ok_or_else(|| {
        Refusal::Forbidden(format!(
            "no valid signature by a trusted key of {origin}: {}",
            last_error.map(|e| e.to_string()).unwrap_or_default()
        ))
    })?;
    if request.old > checkpoint.size {
        return Err(Refusal::BadRequest(format!(
            "old size {} is larger than the checkpoint's {}",
            request.old, checkpoint.size
        )));
    }
    let (held_size, held_root) = stored(origin).unwrap_or((0, EMPTY_ROOT));
    if request.old != held_size {
        return Err(Refusal::Conflict(held_size));
    }
    if checkpoint.size == 0 && checkpoint.root != EMPTY_ROOT {
        return Err(Refusal::Unprocessable(
            "a checkpoint of size 0 must have the empty tree's root".into(),
        ));
    }
    if request.old == 0 && !request.proof.is_empty() {
        return Err(Refusal::Unprocessable(
            "no consistency proof is needed, or allowed, from size 0".into(),
        ));
    }
    if request.old == checkpoint.size {
        if checkpoint.root != held_root {
            return Err(Refusal::Unprocessable(format!(
                "size {} with another root than the one cosigned",
                checkpoint.size
            )));
        }
        return Ok(checkpoint);
    }
    let old = Checkpoint {
        origin: origin.to_owned(),
        size: held_size,
        root: held_root,
        extensions: Vec::new(),
    };
    check_consistency(&old, &checkpoint, &request.proof).map_err(|e| {
        Refusal::Unprocessable(format!("the consistency proof does not verify: {e}"))
    })?;
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::did_key::KeyPair;
    use crate::merkle::{consistency_proof, leaf_hash, root_of};
    use crate::note::{Note, NoteSigner};

    const ORIGIN: &str = "log.example/w";

    fn signed(signer: &NoteSigner, size: u64, root: Hash) -> String {
        let body = format!("{ORIGIN}\n{size}\n{}\n", root.to_base64());
        let mut note = Note::new(body).unwrap();
        note.sign(signer, 0);
        note.to_string()
    }

    fn body(old: u64, proof: &[Hash], note: &str) -> String {
        let mut out = format!("old {old}\n");
        for h in proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(note);
        out
    }

    #[test]
    fn every_rule_of_add_checkpoint() {
        let signer = NoteSigner::ed25519(ORIGIN, KeyPair::from_seed(&[1; 32])).unwrap();
        let stranger = NoteSigner::ed25519(ORIGIN, KeyPair::from_seed(&[2; 32])).unwrap();
        let logs = vec![signer.verifier().clone()];
        let leaves: Vec<Hash> = (0..9u8).map(|i| leaf_hash(&[i])).collect();
        let root = |n: usize| root_of(&leaves[..n]);
        let decide_with =
            |text: &str, held: Option<(u64, Hash)>| decide(&parse_request(text)?, &logs, |_| held);

        // First contact: old 0, no proof.
        let five = signed(&signer, 5, root(5));
        assert_eq!(decide_with(&body(0, &[], &five), None).unwrap().size, 5);
        // Consistent growth 5 → 8 with a proof.
        let proof = consistency_proof(&mut leaves[..8].to_vec()[..], 5, 8).unwrap();
        let eight = signed(&signer, 8, root(8));
        assert_eq!(
            decide_with(&body(5, &proof, &eight), Some((5, root(5))))
                .unwrap()
                .size,
            8
        );
        // The same checkpoint again is fine; the same size with another root is 422.
        assert!(decide_with(&body(8, &[], &eight), Some((8, root(8)))).is_ok());
        let forked = signed(&signer, 8, leaf_hash(b"fork"));
        assert_eq!(
            decide_with(&body(8, &[], &forked), Some((8, root(8))))
                .unwrap_err()
                .status(),
            422
        );
        // A stale old size: 409 with what the witness holds (a rolled-back log).
        assert_eq!(
            decide_with(&body(5, &proof, &eight), Some((8, root(8)))),
            Err(Refusal::Conflict(8))
        );
        // old > new: 400.
        assert_eq!(
            decide_with(&body(9, &[], &eight), Some((9, root(9))))
                .unwrap_err()
                .status(),
            400
        );
        // A bad proof: 422; a proof from size 0: 422.
        let mut wrong = proof.clone();
        wrong[0] = leaf_hash(b"x");
        assert_eq!(
            decide_with(&body(5, &wrong, &eight), Some((5, root(5))))
                .unwrap_err()
                .status(),
            422
        );
        assert_eq!(
            decide_with(&body(0, &proof, &eight), None)
                .unwrap_err()
                .status(),
            422
        );
        // Size 0 must carry the empty root.
        let empty_bad = signed(&signer, 0, leaf_hash(b"x"));
        assert_eq!(
            decide_with(&body(0, &[], &empty_bad), None)
                .unwrap_err()
                .status(),
            422
        );
        // Unknown origin: 404; a stranger's signature only: 403.
        let other = NoteSigner::ed25519("other.example/log", KeyPair::from_seed(&[3; 32])).unwrap();
        let theirs = {
            let mut note =
                Note::new(format!("other.example/log\n5\n{}\n", root(5).to_base64())).unwrap();
            note.sign(&other, 0);
            note.to_string()
        };
        assert_eq!(
            decide_with(&body(0, &[], &theirs), None)
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            decide_with(&body(0, &[], &signed(&stranger, 5, root(5))), None)
                .unwrap_err()
                .status(),
            403
        );
        // Malformed bodies: 400.
        for text in [
            "",
            "old 01\n\n",
            "old x\n\n",
            "new 5\n\n",
            "old 5\nnot-base64!\n\n",
        ] {
            assert_eq!(
                decide_with(text, None).unwrap_err().status(),
                400,
                "{text:?}"
            );
        }
        let many: Vec<Hash> = (0..64u8).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(
            decide_with(&body(5, &many, &eight), Some((5, root(5))))
                .unwrap_err()
                .status(),
            400
        );
    }
}
