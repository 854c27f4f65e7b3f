//! Offline receipts: proof that one entry is in a log, checkable with only the log's key
//! (<https://c2sp.org/tlog-proof>).
//!
//! A receipt is the entry's index, its inclusion proof, and the signed checkpoint (with any
//! witness cosignatures) the proof leads to. Its text form is C2SP tlog-proof; in JSON it is
//! `{"index", "proof": [base64…], "checkpoint": "<signed note>"}`.

use serde::{Deserialize, Serialize};

use crate::checkpoint::{verify_checkpoint, CheckpointError, VerifiedCheckpoint};
use crate::merkle::{self, Hash, MerkleError};
use crate::note::VerifierKey;

/// The first line of the C2SP tlog-proof text form.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Proof that an entry is in a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The entry's index in the log.
    pub index: u64,
    /// The inclusion proof in the checkpoint's tree.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

/// Why a receipt does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The text form is malformed.
    #[error("malformed tlog-proof: {0}")]
    Malformed(&'static str),
    /// The checkpoint does not verify.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("inclusion: {0}")]
    Inclusion(#[from] MerkleError),
}

impl Receipt {
    /// Checks that `entry` is at `index` in the log whose key is `log_key`: the checkpoint's
    /// log signature, then the inclusion proof against its root. Returns the checkpoint.
    pub fn verify(
        &self,
        entry: &[u8],
        log_key: &VerifierKey,
        witnesses: &[VerifierKey],
    ) -> Result<VerifiedCheckpoint, ReceiptError> {
        let verified = verify_checkpoint(&self.checkpoint, log_key, witnesses)?;
        merkle::verify_inclusion(
            &merkle::leaf_hash(entry),
            self.index,
            verified.checkpoint.size,
            &self.proof,
            &verified.checkpoint.root,
        )?;
        Ok(verified)
    }

    /// The C2SP tlog-proof text.
    pub fn to_tlog_proof(&self) -> String {
        let mut out = format!("{TLOG_PROOF_HEADER}\nindex {}\n", self.index);
        for hash in &self.proof {
            out.push_str(&hash.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Reads the C2SP tlog-proof text (an `extra` line, if any, is ignored).
    pub fn from_tlog_proof(text: &str) -> Result<Self, ReceiptError> {
        let (head, checkpoint) = text.split_once("\n\n").ok_or(ReceiptError::Malformed(
            "no empty line before the checkpoint",
        ))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(ReceiptError::Malformed(
                "missing the c2sp.org/tlog-proof@v1 line",
            ));
        }
        let mut line = lines.next();
        if line.is_some_and(|l| l.starts_with("extra ")) {
            line = lines.next();
        }
        let index = line
            .and_then(|l| l.strip_prefix("index "))
            .and_then(|n| n.parse().ok())
            .ok_or(ReceiptError::Malformed("missing the index line"))?;
        let proof = lines
            .map(|l| {
                Hash::from_base64(l)
                    .map_err(|_| ReceiptError::Malformed("a proof line is not a base64 hash"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Receipt {
            index,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }
}
