//! What a Guildmark node records in its ledger: `{kind, time, payload}` as RFC 8785 (JCS)
//! bytes, so that anyone can recompute an entry's leaf hash from its JSON.

use guildmark_credentials::{jcs, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// An issued credential (badge, endorsement, attestation, …).
    Credential,
    /// A status list credential: a revocation, suspension or reinstatement.
    StatusList,
    /// A published review protocol.
    Protocol,
    /// A key change: a community's new issuer key, signed by the old one.
    Key,
    /// A registered product batch.
    Batch,
    /// A change of a batch's verdict.
    Verdict,
    /// A change to a community or its members.
    Community,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    /// What it records.
    pub kind: EntryKind,
    /// When the node logged it.
    pub time: Timestamp,
    /// The record itself (e.g. the signed credential).
    pub payload: Value,
}

impl LedgerEntry {
    /// The entry's bytes: its JCS canonical form.
    pub fn to_bytes(&self) -> Vec<u8> {
        jcs::canonicalize(&serde_json::to_value(self).expect("entries serialize"))
    }

    /// Reads entry bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}
