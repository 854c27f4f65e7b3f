//! What a Guildmark node records in its ledger: `{kind, time, payload}` as RFC 8785 (JCS)
//! bytes, so that anyone can recompute an entry's leaf hash from its JSON.

use guildmark_credentials::Timestamp;
use guildmark_review_protocols::provenance::entry_bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
        Self::bytes_of(self.kind, self.time, &self.payload)
    }

    /// The bytes of an entry with these parts, without building it (no copy of the
    /// payload).
    pub fn bytes_of(kind: EntryKind, time: Timestamp, payload: &Value) -> Vec<u8> {
        let kind = serde_json::to_value(kind).expect("kinds serialize");
        // The same writer a bundle verifier uses to recompute the entry.
        entry_bytes(kind.as_str().unwrap_or_default(), time, payload)
    }

    /// The lookup key the node logged the entry under ([`crate::ledger::Ledger::find`]):
    /// a credential's, batch's or protocol's id, or `community:<url>`; `None` for
    /// kinds logged without one. A log rebuilt from a mirror recovers its keys with it.
    pub fn lookup_key(&self) -> Option<String> {
        match self.kind {
            EntryKind::Credential | EntryKind::Batch | EntryKind::Protocol => {
                self.payload.get("id")?.as_str().map(str::to_owned)
            }
            EntryKind::Community => Some(format!(
                "community:{}",
                self.payload.get("community")?.as_str()?
            )),
            EntryKind::StatusList | EntryKind::Key | EntryKind::Verdict => None,
        }
    }

    /// The kind of an entry from its first bytes, without reading the rest (entries are
    /// JCS: `{"kind":"…",` comes first); `None` if they do not start so.
    pub fn kind_of(bytes: &[u8]) -> Option<EntryKind> {
        let rest = bytes.strip_prefix(b"{\"kind\":\"")?;
        let end = rest.iter().position(|b| *b == b'"')?;
        let name = std::str::from_utf8(&rest[..end]).ok()?;
        serde_json::from_value(Value::String(name.to_owned())).ok()
    }

    /// Reads entry bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_bytes_are_the_jcs_form_of_the_entry() {
        let entry = LedgerEntry {
            kind: EntryKind::StatusList,
            time: Timestamp::parse("2026-11-22T10:11:12Z").unwrap(),
            payload: serde_json::json!({"b": [1, "ü", {"z": null, "a": 1.5}], "a": "\u{2028}"}),
        };
        let expected =
            guildmark_credentials::jcs::canonicalize(&serde_json::to_value(&entry).unwrap());
        assert_eq!(entry.to_bytes(), expected);
        assert_eq!(LedgerEntry::parse(&entry.to_bytes()).unwrap(), entry);
        assert_eq!(
            LedgerEntry::kind_of(&entry.to_bytes()),
            Some(EntryKind::StatusList)
        );
        assert_eq!(LedgerEntry::kind_of(b"{\"payload\":1}"), None);
    }
}
