//! The community node's domain: accounts, communities and their members, achievements,
//! badge and endorsement credentials, status lists and uploaded evidence.
//!
//! Two stores hold it. The ledger is the source of truth for everything signed: a
//! credential, status list or key change exists once the ledger acknowledged it. The
//! node's own sled database (`data/node`) holds accounts, memberships and indexes, and
//! the records it derives from logged credentials, which it writes after the ledger's
//! acknowledgement. If the process dies in between, [`Node::open`] replays the ledger
//! entries after the last clean shutdown and rebuilds the missing records.

pub mod account;
pub mod achievement;
pub mod artwork;
pub mod attestation;
pub mod authz;
pub mod badge;
pub mod baked;
pub mod batch;
pub mod claim;
pub mod community;
pub mod cosigning;
pub mod demo;
pub mod endorsement;
pub mod error;
pub mod file;
pub mod mail;
pub mod migrate;
pub mod mirror;
pub mod password;
pub mod peer;
pub mod peer_review;
pub mod protocol;
pub mod provenance;
mod replay;
pub mod status;
pub mod throttle;
pub mod verification;
pub mod wallet;
pub mod witness;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use guildmark_credentials::{proof, Contexts, Cryptosuite, KeyPair, ProofOptions, Timestamp};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::durable::DurableDb;
use crate::ledger::entry::{EntryKind, LedgerEntry};
use crate::ledger::Ledger;
pub use error::{Field, NodeError, NodeResult, Thing};

/// The node's sled trees.
pub(crate) struct Trees {
    pub accounts: sled::Tree,
    pub sessions: sled::Tree,
    pub tokens: sled::Tree,
    pub token_ids: sled::Tree,
    pub holders: sled::Tree,
    pub communities: sled::Tree,
    pub issuers: sled::Tree,
    pub members: sled::Tree,
    pub achievements: sled::Tree,
    pub credentials: sled::Tree,
    pub held: sled::Tree,
    pub status: sled::Tree,
    pub allocations: sled::Tree,
    pub files: sled::Tree,
    pub meta: sled::Tree,
    pub status_entries: sled::Tree,
    pub protocols: sled::Tree,
    pub protocol_versions: sled::Tree,
    pub batches: sled::Tree,
    pub serials: sled::Tree,
    pub citations: sled::Tree,
    pub claims: sled::Tree,
    pub wallet: sled::Tree,
    pub witness: sled::Tree,
    pub peers: sled::Tree,
    pub peer_reviews: sled::Tree,
    pub peer_communities: sled::Tree,
    pub peer_index: sled::Tree,
}

/// A running node's domain state; share it as `Arc<Node>`.
pub struct Node {
    db: Arc<DurableDb>,
    pub(crate) trees: Trees,
    ledger: Ledger,
    public_url: String,
    keys_dir: PathBuf,
    contexts: Contexts,
    pub(crate) issuers: community::IssuerKeys,
    pub(crate) status: status::StatusLists,
    pub(crate) throttle: throttle::Throttle,
    /// The store's layout version when it was opened (`None`: a new store).
    opened_layout: Option<u32>,
    /// Serialises review writes (registrations, attestations, verdicts): they are rare,
    /// and a verdict must be computed from a settled set of attestations.
    pub(crate) review_lock: tokio::sync::Mutex<()>,
    /// Serialises uploads of credentials that chose their own ids, from the check that
    /// the id is free to the record's write.
    pub(crate) credential_ids: tokio::sync::Mutex<()>,
    /// Where documents from anyone are verified.
    verify_pool: verification::VerifyPool,
    /// The mail relay, when the node has one.
    mailer: std::sync::OnceLock<mail::Mailer>,
    /// The witness for other logs, when the node is one.
    witness: std::sync::OnceLock<witness::Witness>,
    /// Witnessing of this node's own checkpoints.
    pub(crate) cosigning: cosigning::Cosigning,
    /// The client for other nodes (keep-alive connections).
    pub(crate) http: reqwest::Client,
    /// Copies of the peers' logs.
    pub(crate) mirrors: mirror::Mirrors,
    mirrors_dir: PathBuf,
}

const REPLAYED: &[u8] = b"replayed-through";

impl Node {
    /// Opens the node's records in `data/node`, with its keys in `data/keys`: migrates
    /// an older layout ([`migrate`]), then brings the records up to date with `ledger`.
    pub fn open(data: &Path, ledger: Ledger, public_url: &str) -> NodeResult<Arc<Node>> {
        let db = Arc::new(DurableDb::open(&data.join("node"))?);
        let tree = |name: &str| db.db.open_tree(name);
        let trees = Trees {
            accounts: tree("accounts")?,
            sessions: tree("sessions")?,
            tokens: tree("tokens")?,
            token_ids: tree("token-ids")?,
            holders: tree("holders")?,
            communities: tree("communities")?,
            issuers: tree("issuers")?,
            members: tree("members")?,
            achievements: tree("achievements")?,
            credentials: tree("credentials")?,
            held: tree("held")?,
            status: tree("status")?,
            allocations: tree("allocations")?,
            files: tree("files")?,
            meta: tree("meta")?,
            status_entries: tree("status-entries")?,
            protocols: tree("protocols")?,
            protocol_versions: tree("protocol-versions")?,
            batches: tree("batches")?,
            serials: tree("serials")?,
            citations: tree("citations")?,
            claims: tree("claims")?,
            wallet: tree("wallet")?,
            witness: tree("witness")?,
            peers: tree("peers")?,
            peer_reviews: tree("peer-reviews")?,
            peer_communities: tree("peer-communities")?,
            peer_index: tree("peer-index")?,
        };
        let mut node = Node {
            db,
            trees,
            ledger,
            public_url: public_url.trim_end_matches('/').to_owned(),
            keys_dir: data.join("keys"),
            contexts: Contexts::bundled(),
            issuers: community::IssuerKeys::default(),
            status: status::StatusLists::default(),
            throttle: throttle::Throttle::default(),
            review_lock: tokio::sync::Mutex::new(()),
            credential_ids: tokio::sync::Mutex::new(()),
            verify_pool: verification::VerifyPool::default(),
            mailer: std::sync::OnceLock::new(),
            witness: std::sync::OnceLock::new(),
            cosigning: cosigning::Cosigning::default(),
            mirrors: mirror::Mirrors::default(),
            mirrors_dir: data.join("mirrors"),
            http: reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(3))
                .timeout(std::time::Duration::from_secs(30))
                .user_agent(concat!("guildmark/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| NodeError::invalid_request(format!("the HTTP client: {e}")))?,
            opened_layout: None,
        };
        node.opened_layout = node.migrate()?;
        node.replay()?;
        node.load_witnessed()?;
        Ok(Arc::new(node))
    }

    /// The layout version the store had when it was opened, before any migration
    /// (`None`: it was new).
    pub fn opened_layout(&self) -> Option<u32> {
        self.opened_layout
    }

    /// The URL this node is reached at, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The node's ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The JSON-LD contexts the node signs and verifies with.
    pub fn contexts(&self) -> &Contexts {
        &self.contexts
    }

    /// Makes everything written so far durable and records that the ledger needs no
    /// replay up to its current size. Call after the last request has finished.
    pub fn shutdown(&self) -> NodeResult<()> {
        self.db.flush()?;
        let size = self.ledger.published().checkpoint.size;
        self.trees.meta.insert(REPLAYED, &size.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// Whether about `bytes` more can be written to the node's records and leave the
    /// disk's reserve free (writes that go through the ledger are checked there).
    pub(crate) fn room(&self, bytes: u64) -> NodeResult<()> {
        Ok(self.db.room(bytes)?)
    }

    /// Makes the node's records durable now (for rare, important writes: accounts,
    /// communities, memberships).
    pub(crate) async fn flush(&self) -> NodeResult<()> {
        Ok(self.db.flush_async().await?)
    }

    /// Signs `document` with `key`, created `at`, with the cryptosuite
    /// [`cryptosuite_for`] picks (an Open Badges credential's `proof` is always an
    /// array). `what` names it in the error.
    pub(crate) fn sign(
        &self,
        document: &mut serde_json::Value,
        key: &KeyPair,
        at: Timestamp,
        what: &'static str,
    ) -> NodeResult<()> {
        let suite = cryptosuite_for(document);
        let open_badges = suite == Cryptosuite::EddsaRdfc2022;
        let options = ProofOptions::new(suite, Some(at));
        proof::sign(document, key, &options, &self.contexts).map_err(NodeError::signing(what))?;
        // The 1EdTech schemas require `proof` to be an array.
        if open_badges {
            proof::as_set(document);
        }
        Ok(())
    }

    /// Appends a record of `kind` to the ledger, returning its index once it is durable.
    pub(crate) async fn log(
        &self,
        kind: EntryKind,
        payload: &serde_json::Value,
        lookup: Option<&str>,
        time: Timestamp,
    ) -> NodeResult<guildmark_credentials::receipt::Receipt> {
        let keys = lookup
            .map(|k| vec![k.as_bytes().to_vec()])
            .unwrap_or_default();
        let bytes = LedgerEntry::bytes_of(kind, time, payload);
        Ok(self.ledger.append(bytes, keys).await?)
    }
}

/// Credential types that other systems verify: Open Badges credentials and the status
/// lists they point at.
const OPEN_BADGES_TYPES: &[&str] = &[
    "OpenBadgeCredential",
    "AchievementCredential",
    "EndorsementCredential",
    "BitstringStatusListCredential",
];

/// The cryptosuite the node signs `document` with: `eddsa-rdfc-2022` for Open Badges
/// credentials and status lists (1EdTech accepts embedded proofs only as
/// `eddsa-rdfc-2022` or `ecdsa-sd-2023`), `eddsa-jcs-2022` for Guildmark's own types
/// (batches, protocols, attestations, key rotations), which only Guildmark verifiers read
/// and which JCS signs several times faster.
pub fn cryptosuite_for(document: &serde_json::Value) -> Cryptosuite {
    let mut types = guildmark_credentials::validation::type_values(document.get("type"));
    if types.any(|t| OPEN_BADGES_TYPES.contains(&t)) {
        Cryptosuite::EddsaRdfc2022
    } else {
        Cryptosuite::EddsaJcs2022
    }
}

/// The current time, to the second.
pub fn now() -> Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_unix_seconds(since.as_secs() as i64)
}

/// Reads a JSON record.
pub(crate) fn read<T: DeserializeOwned>(tree: &sled::Tree, key: &[u8]) -> NodeResult<Option<T>> {
    match tree.get(key)? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

/// Writes a JSON record.
pub(crate) fn write<T: Serialize>(tree: &sled::Tree, key: &[u8], value: &T) -> NodeResult<()> {
    tree.insert(key, serde_json::to_vec(value)?)?;
    Ok(())
}

/// Every record under a key prefix.
pub(crate) fn scan<T: DeserializeOwned>(tree: &sled::Tree, prefix: &[u8]) -> NodeResult<Vec<T>> {
    tree.scan_prefix(prefix)
        .map(|item| Ok(serde_json::from_slice(&item?.1)?))
        .collect()
}

/// `a\0b`: a compound key whose parts cannot contain NUL (names are checked).
pub(crate) fn key(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}
