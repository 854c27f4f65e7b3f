//! Bringing the node's records up to date with its ledger after a crash: every entry
//! after the last clean shutdown is taken in again; taking in an entry twice changes
//! nothing.

use serde_json::Value;

use super::badge::{issuer_of, CredentialKind, CredentialRecord};
use super::community::IssuerEpoch;
use super::endorsement::uuid_of;
use super::status::{index_of, Slot, LIST_SIZE};
use super::{Node, NodeResult, REPLAYED};
use crate::ledger::entry::{EntryKind, LedgerEntry};
use guildmark_credentials::Timestamp;

impl Node {
    pub(super) fn replay(&self) -> NodeResult<()> {
        let from = self
            .trees
            .meta
            .get(REPLAYED)?
            .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])))
            .unwrap_or(0);
        let size = self.ledger().published().checkpoint.size;
        if from < size {
            tracing::info!(
                from,
                size,
                "taking in ledger entries logged since the last clean shutdown"
            );
        }
        for index in from..size {
            let bytes = self.ledger().entry(index)?;
            // An entry the node did not write (or a later version's) is not its to take in.
            match LedgerEntry::parse(&bytes) {
                Ok(entry) => self.take_in(index, entry)?,
                Err(e) => {
                    tracing::warn!(index, error = %e, "skipping a ledger entry that is not a node record")
                }
            }
        }
        // Until the next clean shutdown, a crash replays from here.
        self.trees.meta.insert(REPLAYED, &size.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    fn take_in(&self, index: u64, entry: LedgerEntry) -> NodeResult<()> {
        match entry.kind {
            EntryKind::StatusList => self.adopt_list(&entry.payload, index, entry.time),
            EntryKind::Key => self.adopt_rotation(&entry.payload, entry.time),
            EntryKind::Credential => self.adopt_credential(index, entry.payload, entry.time),
            EntryKind::Protocol => self.adopt_protocol(index, entry.payload, entry.time),
            EntryKind::Batch => self.adopt_batch(index, entry.payload, entry.time),
            _ => Ok(()),
        }
    }

    fn adopt_rotation(&self, rotation: &Value, at: Timestamp) -> NodeResult<()> {
        let old = issuer_of(rotation);
        let new = rotation["credentialSubject"]["id"]
            .as_str()
            .unwrap_or_default();
        let Some((slug, epoch)) = self.community_of_issuer(old)? else {
            return Ok(());
        };
        let mut community = self.community(&slug)?;
        if community.issuers.len() == epoch + 1 {
            community.issuers.push(IssuerEpoch {
                did: new.to_owned(),
                since: at,
            });
            self.store_community(&community)?;
        }
        Ok(())
    }

    fn adopt_credential(&self, index: u64, credential: Value, at: Timestamp) -> NodeResult<()> {
        let id = credential["id"].as_str().unwrap_or_default();
        let uuid = uuid_of(id);
        if self.trees.credentials.contains_key(uuid.as_bytes())? {
            return Ok(());
        }
        let kind = guildmark_credentials::badge::badge_kind(&credential);
        let subject = &credential["credentialSubject"];
        let record = match kind {
            Some("OpenBadgeCredential") => {
                let Some((slug, epoch)) = self.community_of_issuer(issuer_of(&credential))? else {
                    return Ok(());
                };
                let holder = subject["id"].as_str().unwrap_or_default();
                let slot = slot_of(&credential, epoch);
                CredentialRecord {
                    uuid,
                    kind: CredentialKind::Badge,
                    community: Some(slug),
                    account: self.account_of_holder(holder)?,
                    subject: subject["achievement"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    slot,
                    ledger_index: index,
                    valid_until: credential["validUntil"]
                        .as_str()
                        .and_then(|t| Timestamp::parse(t).ok()),
                    issued: at,
                    credential,
                }
            }
            Some("EndorsementCredential") => CredentialRecord {
                uuid,
                kind: CredentialKind::Endorsement,
                community: None,
                account: self.account_of_holder(issuer_of(&credential))?,
                subject: subject["id"].as_str().unwrap_or_default().to_owned(),
                slot: None,
                ledger_index: index,
                valid_until: None,
                issued: at,
                credential,
            },
            _ if guildmark_review_protocols::ReviewClaims::from_credential(&credential).is_ok() => {
                let batch_url = subject["id"].as_str().unwrap_or_default();
                let Ok(batch) = self.batch(&uuid_of(batch_url)) else {
                    return Ok(());
                };
                CredentialRecord {
                    uuid,
                    kind: CredentialKind::Attestation,
                    community: None,
                    account: self.account_of_holder(issuer_of(&credential))?,
                    subject: batch.uuid,
                    slot: None,
                    ledger_index: index,
                    valid_until: None,
                    issued: at,
                    credential,
                }
            }
            _ => return Ok(()),
        };
        tracing::info!(
            uuid = record.uuid,
            index,
            "rebuilt the record of a logged credential"
        );
        match record.kind {
            CredentialKind::Badge => self.store_badge(&record),
            CredentialKind::Endorsement => self.store_endorsement(&record),
            CredentialKind::Attestation => {
                self.store_attestation(&record)?;
                // The verdict is recomputed now; its change was not logged before the crash.
                let mut batch = self.batch(&record.subject)?;
                let evaluation = self.evaluate_batch(&batch)?;
                batch.verdict = evaluation.verdict;
                batch.evaluation = Some(evaluation);
                super::write(&self.trees.batches, batch.uuid.as_bytes(), &batch)
            }
        }
    }
}

/// The status slot a badge's `credentialStatus` points at, by inverting the index
/// permutation.
fn slot_of(credential: &Value, epoch: usize) -> Option<Slot> {
    // One entry (this release) or the revocation entry first (earlier releases).
    let entry = match &credential["credentialStatus"] {
        Value::Array(entries) => entries.first()?,
        one => one,
    };
    let index: u64 = entry["statusListIndex"].as_str()?.parse().ok()?;
    let list: u64 = entry["statusListCredential"]
        .as_str()?
        .rsplit('/')
        .next()?
        .parse()
        .ok()?;
    let issuer = issuer_of(credential);
    let base = list * LIST_SIZE;
    // The permutation is affine; its offset is index_of(base), its multiplier's inverse
    // is found by stepping once.
    let offset = index_of(issuer, base);
    let step = (index_of(issuer, base + 1) + LIST_SIZE - offset) % LIST_SIZE;
    let inverse = inverse_mod_pow2(step);
    let within = ((index + LIST_SIZE - offset) % LIST_SIZE) * inverse % LIST_SIZE;
    Some(Slot {
        epoch,
        seq: base + within,
    })
}

/// The inverse of an odd number modulo 2^17 (Newton's iteration).
fn inverse_mod_pow2(a: u64) -> u64 {
    let mut x = a; // correct to 3 bits for odd a
    for _ in 0..5 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x % LIST_SIZE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_recovered_from_their_index() {
        let issuer = "did:key:z6MkExample";
        for seq in [
            0,
            1,
            2,
            77,
            LIST_SIZE - 1,
            LIST_SIZE,
            LIST_SIZE + 5,
            3 * LIST_SIZE + 99,
        ] {
            let list = seq / LIST_SIZE;
            let credential = serde_json::json!({
                "issuer": issuer,
                "credentialStatus": [{
                    "statusListIndex": index_of(issuer, seq).to_string(),
                    "statusListCredential": format!("https://n.example/communities/c/status/0/revocation/{list}"),
                }]
            });
            assert_eq!(
                slot_of(&credential, 0),
                Some(Slot { epoch: 0, seq }),
                "{seq}"
            );
            // Badges of this release carry the one entry as an object.
            let mut one = credential.clone();
            one["credentialStatus"] = credential["credentialStatus"][0].clone();
            assert_eq!(slot_of(&one, 0), Some(Slot { epoch: 0, seq }), "{seq}");
        }
    }

    #[test]
    fn the_index_permutation_is_a_bijection() {
        let mut seen = vec![false; LIST_SIZE as usize];
        for seq in 0..LIST_SIZE {
            let i = index_of("did:key:z6MkX", seq) as usize;
            assert!(!seen[i]);
            seen[i] = true;
        }
    }
}
