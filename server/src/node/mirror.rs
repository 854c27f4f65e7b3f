//! Following peers' logs: the node reads each peer's `/checkpoint` and new entry
//! bundles over the tlog-tiles read API, and keeps a verified copy
//! ([`crate::ledger::mirror::Mirror`]) in `data/mirrors/<sha256(origin)>`, served at
//! `/mirror/<origin>/…`. A peer that serves a tampered bundle, a checkpoint that does
//! not extend what was mirrored, or a smaller tree is refused; the mirror keeps what it
//! verified, and the peer's status says why (also logged).
//!
//! Peers are followed every [`FOLLOW_INTERVAL`], and soon (at most once per
//! [`FOLLOW_GAP`]) when a peer submits a new checkpoint to this node's witness.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use guildmark_credentials::tile::{Tile, TileKind};
use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::peer::{read_limited, Peer};
use super::{now, Node, NodeResult};
use crate::ledger::entry::{EntryKind, LedgerEntry};
use crate::ledger::mirror::{Mirror, MirrorError};
use guildmark_review_protocols::registration::BatchRegistration;

/// How often peers' logs are read when nothing else prompts it.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(5);

/// The shortest time between two passes over the peers.
pub const FOLLOW_GAP: Duration = Duration::from_millis(500);

/// Entries per bundle (tlog-tiles).
const BUNDLE: u64 = 256;

/// The largest checkpoint note read from a peer.
const MAX_CHECKPOINT: usize = 64 * 1024;

/// The largest entry bundle: 256 entries of at most 65,535 bytes, each with a length.
const MAX_BUNDLE: usize = 256 * (2 + 65_535);

/// A community of a peer, as its log states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerCommunity {
    /// The peer log's origin.
    pub origin: String,
    /// The community's URL.
    pub url: String,
    /// Its name.
    pub name: String,
    /// Every issuer key it has had, oldest first.
    pub dids: Vec<String>,
}

/// Where an entry is in a mirrored log.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mirrored {
    origin: String,
    index: u64,
}

/// A batch registered on a peer, read from this node's mirror of the peer's log.
pub struct MirroredBatch {
    /// The peer.
    pub peer: Peer,
    /// The batch's UUID.
    pub uuid: String,
    /// The batch registration credential.
    pub batch: serde_json::Value,
    /// What it registers.
    pub registration: BatchRegistration,
    /// Its protocol credential.
    pub protocol: serde_json::Value,
}

/// How following one peer stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowView {
    /// `ok`, `unreachable`, or `refused` (the peer served something that does not
    /// verify; see `detail`).
    pub state: &'static str,
    /// Entries mirrored.
    pub size: u64,
    /// What went wrong, if something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When the state last changed.
    #[schema(value_type = String)]
    pub since: Timestamp,
}

/// The node's mirrors and how following each peer stands.
#[derive(Default)]
pub struct Mirrors {
    open: std::sync::Mutex<HashMap<String, Mirror>>,
    status: std::sync::RwLock<HashMap<String, FollowView>>,
    wake: tokio::sync::Notify,
}

impl Mirrors {
    /// Follows peers now (a peer announced a new checkpoint).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Why reading another node's log failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Failure {
    /// It did not answer.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// It answered what cannot be taken.
    #[error("{0}")]
    Refused(String),
}

impl Node {
    /// The mirror of the peer log with `origin`, if the node mirrors it.
    pub fn mirror(&self, origin: &str) -> NodeResult<Option<Mirror>> {
        match self.peer(origin)? {
            Some(peer) => Ok(Some(self.mirror_of(&peer)?)),
            None => Ok(None),
        }
    }

    /// How following the peer with `origin` stands (`None` before the first attempt).
    pub fn following(&self, origin: &str) -> Option<FollowView> {
        let status = self.mirrors.status.read().expect("mirror status lock");
        status.get(origin).cloned()
    }

    fn mirror_of(&self, peer: &Peer) -> NodeResult<Mirror> {
        let mut open = self.mirrors.open.lock().expect("mirrors lock");
        if let Some(mirror) = open.get(peer.origin()) {
            if mirror.log_key() == &peer.log_key {
                return Ok(mirror.clone());
            }
        }
        let hash = super::file::hex(&Sha256::digest(peer.origin().as_bytes()));
        let mirror = Mirror::open(&self.mirrors_dir.join(hash), peer.log_key.clone())?;
        open.insert(peer.origin().to_owned(), mirror.clone());
        Ok(mirror)
    }

    /// Follows every peer until the node stops.
    pub async fn run_following(self: Arc<Self>) {
        loop {
            match self.peers() {
                Ok(peers) => {
                    for peer in peers {
                        self.follow_and_record(&peer).await;
                    }
                }
                Err(error) => tracing::error!(%error, "reading the peers failed"),
            }
            // At most one pass per gap, however often peers announce checkpoints.
            tokio::time::sleep(FOLLOW_GAP).await;
            tokio::select! {
                () = self.mirrors.wake.notified() => {}
                () = tokio::time::sleep(FOLLOW_INTERVAL - FOLLOW_GAP) => {}
            }
        }
    }

    /// Follows one peer once and records how it went.
    pub async fn follow_and_record(&self, peer: &Peer) {
        let outcome = self.follow(peer).await;
        let size = self.mirror_of(peer).map(|m| m.size()).unwrap_or(0);
        let (state, detail) = match outcome {
            Ok(()) => ("ok", None),
            Err(Failure::Unreachable(d)) => ("unreachable", Some(d)),
            Err(Failure::Refused(d)) => ("refused", Some(d)),
        };
        let mut status = self.mirrors.status.write().expect("mirror status lock");
        let previous = status.get(peer.origin());
        let changed = previous.is_none_or(|p| p.state != state || p.detail != detail);
        if changed && state == "refused" {
            tracing::error!(
                peer = peer.url,
                detail = detail.as_deref().unwrap_or(""),
                "a peer's log was refused"
            );
        } else if changed && state == "unreachable" {
            tracing::warn!(
                peer = peer.url,
                detail = detail.as_deref().unwrap_or(""),
                "a peer cannot be reached"
            );
        }
        let since = match previous {
            Some(p) if !changed => p.since,
            _ => now(),
        };
        status.insert(
            peer.origin().to_owned(),
            FollowView {
                state,
                size,
                detail,
                since,
            },
        );
    }

    /// Reads the peer's checkpoint and the entries after what is mirrored, and extends
    /// the mirror with them.
    async fn follow(&self, peer: &Peer) -> Result<(), Failure> {
        let mirror = self
            .mirror_of(peer)
            .map_err(|e| Failure::Refused(format!("the mirror cannot be opened: {e}")))?;
        let held = mirror.size();
        let (note, entries) = read_log(&self.http, &peer.url, held).await?;
        let entries =
            tokio::task::spawn_blocking(move || mirror.extend(&entries, &note).map(|_| entries))
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?
                .map_err(|e: MirrorError| Failure::Refused(e.to_string()))?;
        // Badges and verdicts, nearly all of a busy log, are not read further: their
        // kind is in the entry's first bytes.
        let notable: Vec<(u64, LedgerEntry)> = entries
            .iter()
            .enumerate()
            .filter(|(_, bytes)| {
                !matches!(
                    LedgerEntry::kind_of(bytes),
                    Some(EntryKind::Credential | EntryKind::Verdict)
                )
            })
            .filter_map(|(i, bytes)| Some((held + i as u64, LedgerEntry::parse(bytes).ok()?)))
            .collect();
        self.learn_communities(peer, &notable)
            .map_err(|e| Failure::Refused(format!("reading its communities: {e}")))?;
        self.index_reviewables(peer, &notable)
            .map_err(|e| Failure::Refused(format!("indexing its batches: {e}")))?;
        if let Err(error) = self.take_new_status(peer, &notable).await {
            tracing::error!(%error, peer = peer.url, "taking in a peer's status lists failed");
        }
        Ok(())
    }

    /// Learns the peer's communities (DID, name, key rotations) from entries of its
    /// log that the mirror just verified: never from what the peer says elsewhere.
    fn learn_communities(&self, peer: &Peer, entries: &[(u64, LedgerEntry)]) -> NodeResult<()> {
        for (_, entry) in entries {
            match entry.kind {
                EntryKind::Community => {
                    let (Some(url), Some(name), Some(did)) = (
                        entry.payload["community"].as_str(),
                        entry.payload["name"].as_str(),
                        entry.payload["issuer"].as_str(),
                    ) else {
                        continue;
                    };
                    let key = super::key(&[peer.origin(), url]);
                    let mut community: PeerCommunity =
                        super::read(&self.trees.peer_communities, &key)?.unwrap_or(PeerCommunity {
                            origin: peer.origin().to_owned(),
                            url: url.to_owned(),
                            name: name.to_owned(),
                            dids: Vec::new(),
                        });
                    community.name = name.to_owned();
                    if !community.dids.iter().any(|d| d == did) {
                        community.dids.push(did.to_owned());
                    }
                    super::write(&self.trees.peer_communities, &key, &community)?;
                }
                EntryKind::Key => {
                    let old = super::badge::issuer_of(&entry.payload);
                    let Some(new) = entry.payload["credentialSubject"]["id"].as_str() else {
                        continue;
                    };
                    let prefix = super::key(&[peer.origin(), ""]);
                    for item in self.trees.peer_communities.scan_prefix(&prefix) {
                        let (key, value) = item?;
                        let mut community: PeerCommunity = serde_json::from_slice(&value)?;
                        if community.dids.iter().any(|d| d == old)
                            && !community.dids.iter().any(|d| d == new)
                        {
                            community.dids.push(new.to_owned());
                            super::write(&self.trees.peer_communities, &key, &community)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Remembers where the peer's batches and protocols are in its log (`entries`,
    /// with their indexes), so that reviewers here can open them from the mirror.
    fn index_reviewables(&self, peer: &Peer, entries: &[(u64, LedgerEntry)]) -> NodeResult<()> {
        for (index, entry) in entries {
            let key = match entry.kind {
                EntryKind::Batch => entry.payload["credentialSubject"]["id"]
                    .as_str()
                    .and_then(|url| url.rsplit_once("/batches/"))
                    .map(|(_, uuid)| format!("batch:{uuid}")),
                EntryKind::Protocol => {
                    guildmark_review_protocols::Protocol::from_credential(&entry.payload)
                        .ok()
                        .map(|p| format!("protocol:{}", p.hash()))
                }
                _ => None,
            };
            if let Some(key) = key {
                let place = Mirrored {
                    origin: peer.origin().to_owned(),
                    index: *index,
                };
                super::write(&self.trees.peer_index, key.as_bytes(), &place)?;
            }
        }
        Ok(())
    }

    /// The batch `uuid` of a peer and its protocol, as this node mirrors them.
    pub fn mirrored_batch(&self, uuid: &str) -> NodeResult<Option<MirroredBatch>> {
        let Some(place) =
            super::read::<Mirrored>(&self.trees.peer_index, format!("batch:{uuid}").as_bytes())?
        else {
            return Ok(None);
        };
        let Some(peer) = self.peer(&place.origin)? else {
            return Ok(None);
        };
        let Some(mirror) = self.mirror(&place.origin)? else {
            return Ok(None);
        };
        let read = |index: u64| -> NodeResult<Option<LedgerEntry>> {
            let bytes = mirror.entries(index, index + 1)?;
            Ok(bytes.first().and_then(|b| LedgerEntry::parse(b).ok()))
        };
        let Some(batch) = read(place.index)? else {
            return Ok(None);
        };
        let Ok(registration) = BatchRegistration::from_credential(&batch.payload) else {
            return Ok(None);
        };
        let protocol_key = format!("protocol:{}", registration.protocol.digest);
        let Some(protocol_place) =
            super::read::<Mirrored>(&self.trees.peer_index, protocol_key.as_bytes())?
        else {
            return Ok(None);
        };
        let Some(protocol) = read(protocol_place.index)? else {
            return Ok(None);
        };
        Ok(Some(MirroredBatch {
            peer,
            uuid: uuid.to_owned(),
            batch: batch.payload,
            registration,
            protocol: protocol.payload,
        }))
    }

    /// Every community of every peer, as learnt from their logs.
    pub fn peer_communities(&self) -> NodeResult<Vec<PeerCommunity>> {
        super::scan(&self.trees.peer_communities, b"")
    }

    /// The peer community that has (or had) the key `did`.
    pub fn peer_community_of(&self, did: &str) -> NodeResult<Option<PeerCommunity>> {
        Ok(self
            .peer_communities()?
            .into_iter()
            .find(|c| c.dids.iter().any(|d| d == did)))
    }

    /// Every key of the community on `peer` that has (or had) `did`; just `did` when
    /// the peer's log names no such community.
    pub fn keys_of_community(&self, peer: &Peer, did: &str) -> NodeResult<Vec<String>> {
        Ok(self
            .peer_community_of(did)?
            .filter(|c| c.origin == peer.origin())
            .map_or_else(|| vec![did.to_owned()], |c| c.dids))
    }

    /// The name of the community on `peer` with key `did`, from the peer's log.
    pub fn peer_community_name(&self, peer: &Peer, did: &str) -> NodeResult<Option<String>> {
        Ok(self
            .peer_community_of(did)?
            .filter(|c| c.origin == peer.origin())
            .map(|c| c.name))
    }
}

/// The latest checkpoint of the log served (tlog-tiles) at `base`, and its entries from
/// index `held` on: what a mirror needs to grow, and a lost ledger to come back. Nothing
/// is verified here; [`Mirror::extend`] does that.
pub async fn read_log(
    client: &reqwest::Client,
    base: &str,
    held: u64,
) -> Result<(String, Vec<Vec<u8>>), Failure> {
    let note = String::from_utf8(fetch(client, base, "checkpoint", MAX_CHECKPOINT).await?)
        .map_err(|_| Failure::Refused("/checkpoint is not UTF-8".into()))?;
    let offered = note
        .lines()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or_else(|| Failure::Refused("its /checkpoint is not a checkpoint".into()))?;
    let mut entries = Vec::new();
    if offered > held {
        for index in held / BUNDLE..offered.div_ceil(BUNDLE) {
            let width = (offered - index * BUNDLE).min(BUNDLE) as u16;
            let tile = Tile {
                kind: TileKind::Entries,
                index,
                width,
            };
            let bytes = fetch(client, base, &tile.path(), MAX_BUNDLE).await?;
            let bundle = split_bundle(&bytes, usize::from(width)).ok_or_else(|| {
                Failure::Refused(format!("{} does not hold {width} entries", tile.path()))
            })?;
            let first = held.saturating_sub(index * BUNDLE) as usize;
            entries.extend(bundle.into_iter().skip(first));
        }
    }
    Ok((note, entries))
}

async fn fetch(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    limit: usize,
) -> Result<Vec<u8>, Failure> {
    let response = client
        .get(format!("{base}/{path}"))
        .send()
        .await
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(Failure::Refused(format!(
            "/{path} answered {}",
            response.status()
        )));
    }
    read_limited(response, limit)
        .await
        .map_err(|e| Failure::Refused(format!("/{path}: {e}")))
}

/// The entries of a bundle that must hold exactly `width` of them.
fn split_bundle(bytes: &[u8], width: usize) -> Option<Vec<Vec<u8>>> {
    crate::ledger::split_bundle(bytes)
        .filter(|entries| entries.len() == width)
        .map(|entries| entries.into_iter().map(<[u8]>::to_vec).collect())
}
