//! C2SP tlog checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed statement "the
//! log with this origin has this many entries and this root".
//!
//! The body is the origin line, the tree size in decimal, the base64 root, then optional
//! extension lines; it is the text of a [`Note`] signed by the log's key and, optionally,
//! cosigned by witnesses.

use std::fmt;

use crate::merkle::{self, Hash, MerkleError, EMPTY_ROOT};
use crate::note::{Note, NoteError, Opened, SignatureType, VerifierKey};
use crate::proof::batch::Signed;
use ed25519_dalek::{Signature, VerifyingKey};

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The body is not a checkpoint.
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    /// The signed note is malformed or its log signature does not verify.
    #[error("{0}")]
    Note(#[from] NoteError),
    /// The checkpoint is for another log.
    #[error("checkpoint origin {found:?} where {expected:?} is expected")]
    WrongOrigin {
        /// Expected origin.
        expected: String,
        /// Origin in the checkpoint.
        found: String,
    },
    /// The log's own signature is missing (only cosignatures verified).
    #[error("no signature by the log key {0}")]
    NoLogSignature(String),
    /// A consistency check failed.
    #[error("checkpoints are inconsistent: {0}")]
    Inconsistent(#[from] MerkleError),
}

/// A checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash of the tree of `size` entries.
    pub root: Hash,
    /// Extension lines (rarely used).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Parses a checkpoint body (the text of its note).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::Malformed(
            "the body must end with a newline",
        ))?;
        let mut lines = body.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty());
        let size = lines.next();
        let root = lines.next();
        let (Some(origin), Some(size), Some(root)) = (origin, size, root) else {
            return Err(CheckpointError::Malformed(
                "need an origin, a size and a root line",
            ));
        };
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        if !size_ok {
            return Err(CheckpointError::Malformed(
                "the size must be decimal without leading zeros",
            ));
        }
        let size = size
            .parse()
            .map_err(|_| CheckpointError::Malformed("the size is too large"))?;
        let root = Hash::from_base64(root)
            .map_err(|_| CheckpointError::Malformed("the root is not a base64 SHA-256 hash"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Malformed("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions,
        })
    }

    /// The body text, which is what the log signs.
    pub fn body(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}\n{}\n{}", self.origin, self.size, self.root)?;
        for line in &self.extensions {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// A checkpoint whose log signature verified, with the witnesses that cosigned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Witness keys whose cosignatures verified, with their timestamps.
    pub cosigners: Vec<(VerifierKey, u64)>,
}

/// Verifies a signed checkpoint note: the log key's signature must be present and valid
/// and the origin must equal the log key's name (C2SP: the key name SHOULD be the origin;
/// Guildmark requires it, so a key cannot vouch for another log). Cosignatures by the
/// given witness keys are checked too; other signatures are ignored.
pub fn verify_checkpoint(
    note: &str,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let note = Note::parse(note.as_bytes())?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    if checkpoint.origin != log_key.name() {
        return Err(CheckpointError::WrongOrigin {
            expected: log_key.name().into(),
            found: checkpoint.origin,
        });
    }
    let mut keys = vec![log_key.clone()];
    keys.extend(witnesses.iter().cloned());
    let Opened { verified, .. } = note.open(&keys)?;
    if !verified.iter().any(|(k, _)| k == log_key) {
        return Err(CheckpointError::NoLogSignature(log_key.to_string()));
    }
    let cosigners = verified
        .into_iter()
        .filter(|(k, _)| k.kind() == SignatureType::Cosignature)
        .filter_map(|(k, t)| t.map(|t| (k, t)))
        .collect();
    Ok(VerifiedCheckpoint {
        checkpoint,
        cosigners,
    })
}

/// A checkpoint whose log signatures are read but not yet checked, for a verifier that
/// checks them in one batch with other signatures ([`crate::proof::batch`]): one single
/// Ed25519 verification costs about three signatures in a batch.
#[derive(Debug, Clone)]
pub struct UncheckedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    text: String,
    key: VerifyingKey,
    /// The log key's signatures over `text` (empty when already checked).
    signatures: Vec<Signature>,
}

impl UncheckedCheckpoint {
    /// The signatures still to check; the checkpoint holds if every one verifies.
    pub fn signed(&self) -> Vec<Signed<'_>> {
        self.signatures
            .iter()
            .map(|s| (self.text.as_bytes(), s, &self.key))
            .collect()
    }
}

/// Reads a signed checkpoint note as [`verify_checkpoint`] does without witnesses, but
/// leaves the log key's signatures to the caller (see [`UncheckedCheckpoint`]). A
/// cosigner-type log key is checked here instead.
pub fn open_checkpoint(
    note: &str,
    log_key: &VerifierKey,
) -> Result<UncheckedCheckpoint, CheckpointError> {
    let parsed = Note::parse(note.as_bytes())?;
    let Some(signatures) = parsed.ed25519_signatures_by(log_key) else {
        let verified = verify_checkpoint(note, log_key, &[])?;
        return Ok(UncheckedCheckpoint {
            checkpoint: verified.checkpoint,
            text: parsed.text,
            key: *log_key.public_key(),
            signatures: Vec::new(),
        });
    };
    let checkpoint = Checkpoint::parse(&parsed.text)?;
    if checkpoint.origin != log_key.name() {
        return Err(CheckpointError::WrongOrigin {
            expected: log_key.name().into(),
            found: checkpoint.origin,
        });
    }
    if signatures.is_empty() {
        return Err(CheckpointError::NoLogSignature(log_key.to_string()));
    }
    Ok(UncheckedCheckpoint {
        checkpoint,
        text: parsed.text,
        key: *log_key.public_key(),
        signatures,
    })
}

/// Checks that `new` extends `old` (both already verified), given the consistency proof.
///
/// An old checkpoint of size 0 is consistent with any tree if its root is the empty root
/// and the proof is empty (C2SP tlog-witness); see [`crate::merkle`] for why the proof
/// verifier itself refuses size 0.
pub fn check_consistency(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: &[Hash],
) -> Result<(), CheckpointError> {
    if old.origin != new.origin {
        return Err(CheckpointError::WrongOrigin {
            expected: old.origin.clone(),
            found: new.origin.clone(),
        });
    }
    if old.size == 0 {
        if old.root != EMPTY_ROOT {
            return Err(MerkleError::RootMismatch.into());
        }
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength {
                expected: 0,
                found: proof.len(),
            }
            .into());
        }
        return Ok(());
    }
    merkle::verify_consistency(old.size, new.size, &old.root, &new.root, proof)?;
    Ok(())
}
