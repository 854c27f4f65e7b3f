//! The node as a witness for its peers' logs (C2SP tlog-witness v1.0.0 `add-checkpoint`, and
//! the monitoring read of the latest cosigned checkpoint): it keeps, per log origin, the
//! latest checkpoint it cosigned, checks each new one against it with
//! [`guildmark_credentials::witness::decide`], stores it durably, and only then answers
//! with a `cosignature/v1` line from its own key (`keys/witness.key`, separate from the
//! log key).

use guildmark_credentials::merkle::Hash;
use guildmark_credentials::note::{Note, NoteSigner, VerifierKey};
use guildmark_credentials::witness::{self, Refusal};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{now, read, write, Node, NodeError, NodeResult};

/// The witness: its signing key and the logs it witnesses.
pub struct Witness {
    signer: NoteSigner,
    logs: Vec<VerifierKey>,
    /// Checking the old size and storing the new checkpoint happen under this lock
    /// (the spec's rollback race).
    lock: tokio::sync::Mutex<()>,
}

impl Witness {
    /// A witness named `name` signing with `key`, for `logs`.
    pub fn new(signer: NoteSigner, logs: Vec<VerifierKey>) -> Witness {
        Witness {
            signer,
            logs,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The witness's verifier key (`name+id+base64(0x04 ‖ key)`).
    pub fn verifier_key(&self) -> &VerifierKey {
        self.signer.verifier()
    }
}

/// What the witness keeps per origin.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Held {
    size: u64,
    root: String,
    /// The checkpoint as submitted, with the witness's cosignature added.
    cosigned: String,
}

/// The outcome of `add-checkpoint`.
#[derive(Debug)]
pub enum Added {
    /// Cosigned: the signature line(s), newline-terminated.
    Cosigned(String),
    /// Refused, as the spec says.
    Refused(Refusal),
}

impl Node {
    /// The node's witness, once `serve` set it up.
    pub fn witness(&self) -> Option<&Witness> {
        self.witness.get()
    }

    /// Makes the node a witness (once, at start).
    pub fn set_witness(&self, witness: Witness) {
        let _ = self.witness.set(witness);
    }

    /// `add-checkpoint`: decide, store durably, cosign.
    pub async fn add_checkpoint(&self, body: &str) -> NodeResult<Added> {
        let Some(witness) = self.witness() else {
            return Err(NodeError::not_found(
                super::error::Thing::Credential,
                "this node witnesses no logs",
            ));
        };
        let request = match witness::parse_request(body) {
            Ok(request) => request,
            Err(refusal) => return Ok(Added::Refused(refusal)),
        };
        // The logs witnessed: those named at start, and every peer's.
        let mut logs = witness.logs.clone();
        logs.extend(self.peers()?.into_iter().map(|p| p.log_key));
        let _one_at_a_time = witness.lock.lock().await;
        let decided = witness::decide(&request, &logs, |origin| {
            let held: Held = read(&self.trees.witness, origin.as_bytes())
                .ok()
                .flatten()?;
            Some((held.size, Hash::from_base64(&held.root).ok()?))
        });
        let checkpoint = match decided {
            Ok(checkpoint) => checkpoint,
            Err(refusal) => return Ok(Added::Refused(refusal)),
        };
        let time = u64::try_from(now().unix_seconds()).unwrap_or(0);
        // The note parsed when it was verified; its text is what is cosigned.
        let mut note = Note::parse(request.note.as_bytes())
            .map_err(|e| NodeError::invalid_request(e.to_string()))?;
        let signature = witness.signer.signature(&note.text, time);
        note.signatures.retain(|s| {
            !(s.name == witness.verifier_key().name()
                && s.key_id == witness.verifier_key().key_id())
        });
        note.signatures.push(signature.clone());
        let held = Held {
            size: checkpoint.size,
            root: checkpoint.root.to_base64(),
            cosigned: note.to_string(),
        };
        write(&self.trees.witness, checkpoint.origin.as_bytes(), &held)?;
        // Durable before the cosignature leaves.
        self.flush().await?;
        // A peer's log grew: its mirror follows now rather than at the next interval.
        self.mirrors.wake();
        Ok(Added::Cosigned(signature.to_string()))
    }

    /// The latest checkpoint cosigned for the log whose origin hashes (SHA-256, lowercase
    /// hex) to `origin_hash`.
    pub fn cosigned_checkpoint(&self, origin_hash: &str) -> NodeResult<Option<String>> {
        for item in self.trees.witness.iter() {
            let (origin, value) = item?;
            if super::file::hex(&Sha256::digest(&origin)) == origin_hash {
                let held: Held = serde_json::from_slice(&value)?;
                return Ok(Some(held.cosigned));
            }
        }
        Ok(None)
    }
}
