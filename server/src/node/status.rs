//! Revocation through Bitstring Status Lists.
//!
//! Each community publishes, per issuer key epoch (a list must be signed by the key that
//! issued the credentials it covers), numbered revocation lists of 131,072 entries. A
//! badge takes one slot and carries one `BitstringStatusListEntry`, as Open Badges 3.0
//! allows (`credentialStatus` [0..1]). Slots are handed out in an order scrambled by a
//! fixed permutation so that an index does not tell when a badge was issued. Every
//! change re-signs the list and logs it before the change is acknowledged; the node
//! serves the latest signed list at a stable URL.
//!
//! Lists are signed `eddsa-rdfc-2022` (what Open Badges verifiers check) and valid for
//! [`LIST_VALIDITY`]; [`Node::refresh_lists`] re-signs them well before they lapse.
//!
//! Badges issued before suspension was withdrawn also point at a suspension list of the
//! same number: those lists stay served, signed and refreshed, and a suspension set on
//! them can still be lifted, but nothing new is suspended — a "suspension" that Open
//! Badges verifiers ignore would let a withdrawn badge look valid to them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use guildmark_credentials::status_list::{Bitstring, StatusListCredential, StatusPurpose};
use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use super::error::Thing;
use super::{key, now, Node, NodeError, NodeResult};
use crate::ledger::entry::EntryKind;

/// Entries per list (the spec's minimum, 16 KiB of bits).
pub const LIST_SIZE: u64 = 131_072;

/// How long a signed list is valid (its `validUntil` is this long after its `validFrom`):
/// a relying party never trusts a copy older than this, so a revocation cannot be hidden
/// for longer by replaying an old list.
pub const LIST_VALIDITY: i64 = 30 * 86_400;

/// A list with less than this left before it lapses is re-signed.
pub const REFRESH_BEFORE: i64 = 10 * 86_400;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Permanent.
    Revocation,
    /// Reversible; only on badges issued before suspension was withdrawn.
    Suspension,
}

impl Purpose {
    /// The `statusPurpose` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Revocation => "revocation",
            Purpose::Suspension => "suspension",
        }
    }

    /// Parses a `statusPurpose` value this node uses.
    pub fn parse(text: &str) -> Option<Purpose> {
        match text {
            "revocation" => Some(Purpose::Revocation),
            "suspension" => Some(Purpose::Suspension),
            _ => None,
        }
    }
}

/// A badge's place in its community's status lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The issuer key epoch (the lists are signed by that key).
    pub epoch: usize,
    /// The allocation number; list `seq / LIST_SIZE`, index permuted from the rest.
    pub seq: u64,
}

impl Slot {
    /// The list number.
    pub fn list(&self) -> u64 {
        self.seq / LIST_SIZE
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ListId {
    slug: String,
    epoch: usize,
    purpose: Purpose,
    number: u64,
}

impl ListId {
    /// The list of `purpose` holding `slot`.
    fn of(slug: &str, slot: Slot, purpose: Purpose) -> ListId {
        ListId {
            slug: slug.to_owned(),
            epoch: slot.epoch,
            purpose,
            number: slot.list(),
        }
    }

    fn key(&self) -> Vec<u8> {
        key(&[
            &self.slug,
            &self.epoch.to_string(),
            self.purpose.as_str(),
            &self.number.to_string(),
        ])
    }

    /// Reads a key written by [`ListId::key`].
    fn from_key(bytes: &[u8]) -> Option<ListId> {
        let text = std::str::from_utf8(bytes).ok()?;
        let parts: Vec<&str> = text.split('\0').collect();
        let [slug, epoch, purpose, number] = parts[..] else {
            return None;
        };
        ListId::from_parts(slug, epoch, purpose, number)
    }

    /// A list from its parts as text (a key or a URL), if they read.
    fn from_parts(slug: &str, epoch: &str, purpose: &str, number: &str) -> Option<ListId> {
        Some(ListId {
            slug: slug.to_owned(),
            epoch: epoch.parse().ok()?,
            purpose: Purpose::parse(purpose)?,
            number: number.parse().ok()?,
        })
    }
}

#[derive(Default)]
struct Allocator {
    next: u64,
    free: Vec<u64>,
}

/// In-memory status state: locks, slot allocators and the current bits.
#[derive(Default)]
pub struct StatusLists {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    allocators: Mutex<HashMap<(String, usize), Allocator>>,
    bits: Mutex<HashMap<ListId, Arc<Bitstring>>>,
    published: Mutex<HashSet<ListId>>,
}

impl StatusLists {
    /// Serialises status changes (and key rotation) within one community.
    pub async fn lock_community(&self, slug: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(slug.to_owned())
            .or_default()
            .clone();
        lock.lock_owned().await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The index of allocation `seq` within its list: an affine bijection of `0..LIST_SIZE`
/// with a per-list offset.
pub fn index_of(issuer: &str, seq: u64) -> u64 {
    const MULTIPLIER: u64 = 0x1_2E35; // odd, so the map is a bijection modulo 2^17
    let list = seq / LIST_SIZE;
    let digest = Sha256::digest(format!("{issuer} {list}").as_bytes());
    let offset = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % LIST_SIZE;
    ((seq % LIST_SIZE) * MULTIPLIER + offset) % LIST_SIZE
}

impl Node {
    fn list_url(&self, slug: &str, epoch: usize, purpose: Purpose, number: u64) -> String {
        format!(
            "{}/communities/{slug}/status/{epoch}/{}/{number}",
            self.public_url(),
            purpose.as_str()
        )
    }

    /// Takes a free status slot in `slug`'s current epoch.
    pub(crate) fn allocate_slot(&self, slug: &str, epoch: usize) -> NodeResult<Slot> {
        let mut allocators = lock(&self.status.allocators);
        let id = (slug.to_owned(), epoch);
        if !allocators.contains_key(&id) {
            let next = self
                .trees
                .allocations
                .get(key(&[slug, &epoch.to_string()]))?
                .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])))
                .unwrap_or(0);
            allocators.insert(
                id.clone(),
                Allocator {
                    next,
                    free: Vec::new(),
                },
            );
        }
        let allocator = allocators.get_mut(&id).expect("inserted above");
        let seq = allocator.free.pop().unwrap_or_else(|| {
            allocator.next += 1;
            allocator.next - 1
        });
        Ok(Slot { epoch, seq })
    }

    /// Returns a slot whose issuance failed, so that the next issuance takes it.
    pub(crate) fn release_slot(&self, slug: &str, slot: Slot) {
        if let Some(allocator) =
            lock(&self.status.allocators).get_mut(&(slug.to_owned(), slot.epoch))
        {
            allocator.free.push(slot.seq);
        }
    }

    /// Records that `slot` is used, so that a restarted node allocates after it.
    pub(crate) fn commit_slot(&self, slug: &str, slot: Slot) -> NodeResult<()> {
        let k = key(&[slug, &slot.epoch.to_string()]);
        self.trees.allocations.fetch_and_update(k, |old| {
            let old = old
                .map(|v| u64::from_be_bytes(v.try_into().unwrap_or([0; 8])))
                .unwrap_or(0);
            Some(old.max(slot.seq + 1).to_be_bytes().to_vec())
        })?;
        let mut allocators = lock(&self.status.allocators);
        if let Some(a) = allocators.get_mut(&(slug.to_owned(), slot.epoch)) {
            a.next = a.next.max(slot.seq + 1);
        }
        Ok(())
    }

    /// The `credentialStatus` of a badge in `slot`: its one revocation entry.
    pub(crate) fn status_entry(&self, slug: &str, issuer: &str, slot: Slot) -> Value {
        let index = index_of(issuer, slot.seq);
        let list = self.list_url(slug, slot.epoch, Purpose::Revocation, slot.list());
        json!({
            "id": format!("{list}#{index}"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": Purpose::Revocation.as_str(),
            "statusListIndex": index.to_string(),
            "statusListCredential": list,
        })
    }

    /// Makes sure the revocation list of `slot` is published (signed, logged, served), so
    /// that a badge never points at a list that does not exist.
    pub(crate) async fn publish_lists(&self, slug: &str, slot: Slot) -> NodeResult<()> {
        let id = ListId::of(slug, slot, Purpose::Revocation);
        if lock(&self.status.published).contains(&id) {
            return Ok(());
        }
        let _guard = self.status.lock_community(slug).await;
        if self.trees.status.contains_key(id.key())? {
            lock(&self.status.published).insert(id);
            return Ok(());
        }
        self.sign_and_log(&id, Bitstring::new(LIST_SIZE as usize))
            .await?;
        Ok(())
    }

    /// Re-signs and logs every list that lapses within [`REFRESH_BEFORE`], states no
    /// `validUntil`, or is signed with another cryptosuite than lists are now (lists
    /// written by earlier releases). Returns how many were re-signed. A list whose key
    /// is gone is reported and left as it is.
    pub async fn refresh_lists(&self) -> NodeResult<usize> {
        let mut refreshed = 0;
        let ids: Vec<ListId> = self
            .trees
            .status
            .iter()
            .keys()
            .filter_map(|k| k.ok().and_then(|k| ListId::from_key(&k)))
            .collect();
        for id in ids {
            let _guard = self.status.lock_community(&id.slug).await;
            let Some(stored) = self.trees.status.get(id.key())? else {
                continue;
            };
            let list: Value = serde_json::from_slice(&stored)?;
            if !needs_refresh(&list, now()) {
                continue;
            }
            let bits = (*self.current_bits(&id)?).clone();
            match self.sign_and_log(&id, bits).await {
                Ok(_) => refreshed += 1,
                Err(NodeError::Keys(error)) => {
                    tracing::warn!(list = %self.list_url(&id.slug, id.epoch, id.purpose, id.number), %error, "a status list could not be re-signed");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(refreshed)
    }

    async fn sign_and_log(&self, id: &ListId, bits: Bitstring) -> NodeResult<Value> {
        let key = self.issuer_key(&id.slug, id.epoch)?;
        let at = now();
        let mut list = StatusListCredential::unsigned(
            &self.list_url(&id.slug, id.epoch, id.purpose, id.number),
            key.did_key().did(),
            &StatusPurpose::from_name(id.purpose.as_str()),
            &bits,
            at,
            Some(at.plus_seconds(LIST_VALIDITY)),
        );
        self.sign(&mut list, &key, at, "status list")?;
        let receipt = self.log(EntryKind::StatusList, &list, None, at).await?;
        self.store_list(id, &list, bits)?;
        self.store_list_entry(&list, receipt.index, at)?;
        Ok(list)
    }

    fn store_list(&self, id: &ListId, list: &Value, bits: Bitstring) -> NodeResult<()> {
        self.trees
            .status
            .insert(id.key(), serde_json::to_vec(list)?)?;
        lock(&self.status.bits).insert(id.clone(), Arc::new(bits));
        lock(&self.status.published).insert(id.clone());
        Ok(())
    }

    /// Records which ledger entry holds the current version of a list (for receipts).
    fn store_list_entry(&self, list: &Value, index: u64, at: Timestamp) -> NodeResult<()> {
        let url = list.get("id").and_then(Value::as_str).unwrap_or_default();
        super::write(&self.trees.status_entries, url.as_bytes(), &(index, at))
    }

    /// The ledger index and time of the current version of the list at `url`.
    pub fn list_entry(&self, url: &str) -> NodeResult<(u64, Timestamp)> {
        super::read(&self.trees.status_entries, url.as_bytes())?.ok_or_else(|| {
            NodeError::not_found(Thing::StatusList, format!("no logged status list {url}"))
        })
    }

    /// Takes a logged status list credential into the node's state (replay): kept if it
    /// is newer than the stored one.
    pub(crate) fn adopt_list(&self, list: &Value, index: u64, at: Timestamp) -> NodeResult<()> {
        let Some(url) = list.get("id").and_then(Value::as_str) else {
            return Ok(());
        };
        let Some(id) = self.parse_list_url(url) else {
            return Ok(());
        };
        let valid_from = |v: &Value| {
            v.get("validFrom")
                .and_then(Value::as_str)
                .and_then(|t| Timestamp::parse(t).ok())
        };
        if let Some(stored) = self.trees.status.get(id.key())? {
            let stored: Value = serde_json::from_slice(&stored)?;
            if valid_from(&stored) > valid_from(list) {
                return Ok(());
            }
        }
        let bits = StatusListCredential::parse(list)
            .map_err(|e| NodeError::stored("logged status list")(e.into()))?;
        self.store_list(&id, list, bits.list)?;
        self.store_list_entry(list, index, at)
    }

    fn current_bits(&self, id: &ListId) -> NodeResult<Arc<Bitstring>> {
        if let Some(bits) = lock(&self.status.bits).get(id) {
            return Ok(bits.clone());
        }
        let bits = match self.trees.status.get(id.key())? {
            Some(stored) => {
                let list: Value = serde_json::from_slice(&stored)?;
                StatusListCredential::parse(&list)
                    .map_err(|e| NodeError::stored("status list")(e.into()))?
                    .list
            }
            None => Bitstring::new(LIST_SIZE as usize),
        };
        let bits = Arc::new(bits);
        lock(&self.status.bits).insert(id.clone(), bits.clone());
        Ok(bits)
    }

    /// Whether `slot`'s bit in the `purpose` list is set.
    pub fn status_bit(
        &self,
        slug: &str,
        issuer: &str,
        slot: Slot,
        purpose: Purpose,
    ) -> NodeResult<bool> {
        let id = ListId::of(slug, slot, purpose);
        let index = index_of(issuer, slot.seq) as usize;
        Ok(self.current_bits(&id)?.get(index).unwrap_or(false))
    }

    /// Sets or clears `slot`'s bit in the `purpose` list, re-signs and logs the list.
    /// Fails with a conflict if the bit already has that value (so of two concurrent
    /// revocations, exactly one succeeds).
    pub(crate) async fn change_status(
        &self,
        slug: &str,
        issuer: &str,
        slot: Slot,
        purpose: Purpose,
        value: bool,
    ) -> NodeResult<Value> {
        let _guard = self.status.lock_community(slug).await;
        let id = ListId::of(slug, slot, purpose);
        let index = index_of(issuer, slot.seq) as usize;
        let mut bits = (*self.current_bits(&id)?).clone();
        if bits.get(index) == Some(value) {
            return Err(NodeError::conflict(
                Thing::Credential,
                format!(
                    "the badge is {} {}",
                    if value { "already" } else { "not" },
                    match purpose {
                        Purpose::Revocation => "revoked",
                        Purpose::Suspension => "suspended",
                    }
                ),
            ));
        }
        bits.set(index, value);
        self.sign_and_log(&id, bits).await
    }

    /// The latest signed status list credential served at the list's URL.
    pub fn status_list(
        &self,
        slug: &str,
        epoch: usize,
        purpose: Purpose,
        number: u64,
    ) -> NodeResult<Value> {
        let id = ListId {
            slug: slug.to_owned(),
            epoch,
            purpose,
            number,
        };
        match self.trees.status.get(id.key())? {
            Some(stored) => Ok(serde_json::from_slice(&stored)?),
            None => Err(NodeError::not_found(
                Thing::StatusList,
                format!(
                    "{slug:?} has no {} list {number} for key epoch {epoch}",
                    purpose.as_str()
                ),
            )),
        }
    }

    /// Every status list credential a document points at that this node publishes.
    pub fn lists_for(&self, document: &Value) -> Vec<Value> {
        let mut urls = Vec::new();
        collect_list_urls(document, &mut urls);
        urls.iter()
            .filter_map(|url| self.parse_list_url(url))
            .filter_map(|id| {
                self.status_list(&id.slug, id.epoch, id.purpose, id.number)
                    .ok()
            })
            .collect()
    }

    /// The list a URL of this node names.
    fn parse_list_url(&self, url: &str) -> Option<ListId> {
        let prefix = format!("{}/communities/", self.public_url());
        let parts: Vec<&str> = url.strip_prefix(&prefix)?.split('/').collect();
        let [slug, "status", epoch, purpose, number] = parts[..] else {
            return None;
        };
        ListId::from_parts(slug, epoch, purpose, number)
    }
}

/// Whether a stored list must be re-signed at `at`: it lapses within [`REFRESH_BEFORE`],
/// states no `validUntil`, or is not signed with the cryptosuite lists use now.
fn needs_refresh(list: &Value, at: Timestamp) -> bool {
    let until = list
        .get("validUntil")
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse(t).ok());
    let lapsing = until.is_none_or(|t| t <= at.plus_seconds(REFRESH_BEFORE));
    let suite = super::cryptosuite_for(list);
    let proofs = match &list["proof"] {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let current_suite = proofs
        .iter()
        .all(|p| p.get("cryptosuite").and_then(Value::as_str) == Some(suite.name()));
    lapsing || !current_suite
}

fn collect_list_urls(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(url)) = map.get("statusListCredential") {
                if !out.contains(url) {
                    out.push(url.clone());
                }
            }
            map.values().for_each(|v| collect_list_urls(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_list_urls(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(until: Option<Timestamp>, suite: &str) -> Value {
        let mut list = json!({
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "proof": [{"type": "DataIntegrityProof", "cryptosuite": suite}],
        });
        if let Some(until) = until {
            list["validUntil"] = until.to_string().into();
        }
        list
    }

    #[test]
    fn lists_are_refreshed_before_they_lapse_and_when_written_by_an_earlier_release() {
        let at = Timestamp::parse("2026-12-02T00:00:00Z").unwrap();
        let rdfc = "eddsa-rdfc-2022";
        let fresh = at.plus_seconds(REFRESH_BEFORE + 1);
        assert!(!needs_refresh(&list(Some(fresh), rdfc), at));
        assert!(needs_refresh(
            &list(Some(at.plus_seconds(REFRESH_BEFORE)), rdfc),
            at
        ));
        assert!(needs_refresh(&list(Some(at.plus_seconds(-1)), rdfc), at));
        assert!(needs_refresh(&list(None, rdfc), at), "no validUntil");
        assert!(
            needs_refresh(&list(Some(fresh), "eddsa-jcs-2022"), at),
            "signed as lists were before"
        );
        let mut single = list(Some(fresh), rdfc);
        single["proof"] = single["proof"][0].clone();
        assert!(!needs_refresh(&single, at), "a proof object reads too");
    }
}
