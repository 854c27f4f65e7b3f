//! A transparency-log witness's decision on an `add-checkpoint` request (C2SP
//! tlog-witness v1.0.0), I/O-free: parse the request, check the checkpoint against the
//! logs the witness trusts and the latest checkpoint it cosigned for that origin, and
//! say which status the spec requires — or that the checkpoint may be cosigned.
//!
//! Storing the accepted checkpoint atomically and durably before answering, and signing
//! the `cosignature/v1` line, are the caller's (`server::witness`).
//!
//! The log's side is here too: the request body a log sends ([`request_body`]), reading
//! a witness's answer ([`read_cosignature`]), and the witness policy that decides when a
//! checkpoint counts as witnessed ([`Policy`]).

use crate::checkpoint::{check_consistency, verify_checkpoint, Checkpoint, CheckpointError};
use crate::merkle::{Hash, EMPTY_ROOT};
use crate::note::{Note, NoteSignature, VerifierKey};

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

/// The body of an `add-checkpoint` request: `old N`, the proof lines, an empty line and
/// the signed checkpoint.
pub fn request_body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut out = format!("old {old}\n");
    for hash in proof {
        out.push_str(&hash.to_base64());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note);
    out
}

/// Reads a witness's `200 OK` answer (one or more note signature lines) and returns the
/// cosignature by `witness` over the checkpoint `text`, checked. Lines by other keys are
/// ignored, as the spec says a log must.
pub fn read_cosignature(
    answer: &str,
    text: &str,
    witness: &VerifierKey,
) -> Result<NoteSignature, String> {
    if answer.is_empty() || !answer.ends_with('\n') {
        return Err("the answer is not newline-terminated signature lines".into());
    }
    // The lines parse as the signature block of a note over the checkpoint.
    let note = Note::parse(format!("{text}\n{answer}").as_bytes())
        .map_err(|e| format!("the answer is not signature lines: {e}"))?;
    match note.signed_by(witness) {
        Some(Ok(_)) => {}
        Some(Err(())) => return Err(format!("the cosignature by {witness} does not verify")),
        None => return Err(format!("no cosignature by {witness} in the answer")),
    }
    note.signatures
        .into_iter()
        .find(|s| s.name == witness.name() && s.key_id == witness.key_id())
        .ok_or_else(|| format!("no cosignature by {witness} in the answer"))
}

/// When a checkpoint counts as witnessed: `quorum` of the listed `witnesses` cosigned it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The witnesses whose cosignatures count.
    pub witnesses: Vec<VerifierKey>,
    /// How many of them must have cosigned.
    pub quorum: usize,
}

/// Who cosigned one checkpoint, as a [`Policy`] sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cosigners {
    /// Listed witnesses whose cosignature verified, with its time.
    pub valid: Vec<(VerifierKey, u64)>,
    /// Listed witnesses with a cosignature that does not verify.
    pub invalid: Vec<VerifierKey>,
    /// Listed witnesses with no cosignature.
    pub missing: Vec<VerifierKey>,
}

impl Policy {
    /// Whether there is anything to check (a policy without witnesses asks nothing).
    pub fn is_empty(&self) -> bool {
        self.witnesses.is_empty() || self.quorum == 0
    }

    /// The listed witnesses' cosignatures on a signed checkpoint note. An unreadable
    /// note has none.
    pub fn cosigners(&self, note: &str) -> Cosigners {
        let mut out = Cosigners::default();
        let parsed = Note::parse(note.as_bytes()).ok();
        for key in &self.witnesses {
            match parsed.as_ref().and_then(|n| n.signed_by(key)) {
                Some(Ok(time)) => out.valid.push((key.clone(), time)),
                Some(Err(())) => out.invalid.push(key.clone()),
                None => out.missing.push(key.clone()),
            }
        }
        out
    }

    /// Whether `cosigners` meet the quorum.
    pub fn met_by(&self, cosigners: &Cosigners) -> bool {
        cosigners.valid.len() >= self.quorum
    }
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
        request_body(old, proof, note)
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

    #[test]
    fn the_log_reads_cosignatures_and_the_policy_counts_them() {
        let log = NoteSigner::ed25519(ORIGIN, KeyPair::from_seed(&[1; 32])).unwrap();
        let a = NoteSigner::cosigner("a.example/witness", KeyPair::from_seed(&[4; 32])).unwrap();
        let b = NoteSigner::cosigner("b.example/witness", KeyPair::from_seed(&[5; 32])).unwrap();
        let c = NoteSigner::cosigner("c.example/witness", KeyPair::from_seed(&[6; 32])).unwrap();
        let note = signed(&log, 3, leaf_hash(b"r"));
        let mut parsed = Note::parse(note.as_bytes()).unwrap();
        let answer = format!(
            "{}{}",
            c.signature(&parsed.text, 7),
            a.signature(&parsed.text, 9)
        );
        // Unknown cosigners (c) are ignored; a's line is found and checked.
        let line = read_cosignature(&answer, &parsed.text, a.verifier()).unwrap();
        assert_eq!(line.name, "a.example/witness");
        assert!(read_cosignature(&answer, &parsed.text, b.verifier()).is_err());
        assert!(read_cosignature("", &parsed.text, a.verifier()).is_err());
        // A cosignature over another checkpoint does not verify.
        let other = Note::parse(signed(&log, 4, leaf_hash(b"s")).as_bytes()).unwrap();
        assert!(read_cosignature(&answer, &other.text, a.verifier()).is_err());

        let policy = Policy {
            witnesses: vec![a.verifier().clone(), b.verifier().clone()],
            quorum: 2,
        };
        parsed.signatures.push(line);
        let seen = policy.cosigners(&parsed.to_string());
        assert_eq!(seen.valid.len(), 1);
        assert_eq!(seen.missing, vec![b.verifier().clone()]);
        assert!(!policy.met_by(&seen));
        parsed.signatures.push(b.signature(&parsed.text, 10));
        assert!(policy.met_by(&policy.cosigners(&parsed.to_string())));
        // A cosignature by a listed key that does not verify is reported, and not counted.
        parsed.signatures.last_mut().unwrap().signature[20] ^= 1;
        let seen = policy.cosigners(&parsed.to_string());
        assert_eq!(seen.invalid, vec![b.verifier().clone()]);
        assert!(!policy.met_by(&seen));
    }
}
