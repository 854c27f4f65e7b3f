//! The transparency ledger: an append-only RFC 6962 log, stored as C2SP tlog tiles in
//! sled, published through signed C2SP checkpoints (<https://c2sp.org/tlog-tiles>).
//!
//! In Tessera's words: an append is *sequenced* (given an index) and *integrated* (added
//! to the tree) in a batch with whatever else arrived within the pool window, the batch is
//! written atomically and made durable, and a checkpoint covering it is signed and stored
//! in that same write; then it is *published* (readers see the new size) and every
//! waiting [`Ledger::append`] gets its [`Receipt`]. Nothing is acknowledged, and no
//! checkpoint is shown, before it is durable.
//!
//! On open, the stored tiles must reproduce the stored checkpoint's root, which must be
//! signed by this node's log key; a ledger that fails this is refused, never served.

mod growth;
mod sequencer;
mod storage;
mod tiles;

pub mod audit;
pub mod entry;
pub mod mirror;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use guildmark_credentials::checkpoint::{verify_checkpoint, Checkpoint};
use guildmark_credentials::merkle::{self, Hash, EMPTY_ROOT};
use guildmark_credentials::note::{Note, NoteSigner, VerifierKey};
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::tile::{Tile, TileKind};
use guildmark_credentials::KeyPair;

pub(crate) use storage::split_bundle;
use storage::Store;
use tiles::{TileCache, TileReader};

/// The largest entry, in bytes (entry bundles store lengths as 16-bit integers).
pub const MAX_ENTRY: usize = 65_535;

/// Why a ledger operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The entry is larger than [`MAX_ENTRY`].
    #[error("entry of {0} bytes is larger than the {MAX_ENTRY}-byte limit")]
    EntryTooLarge(usize),
    /// A lookup key is already recorded (credential ids are logged once).
    #[error("already logged at index {index}")]
    Duplicate {
        /// Where the key was logged.
        index: u64,
    },
    /// The queue of pending appends is full; try again shortly.
    #[error("the ledger is busy; retry shortly")]
    Pushback,
    /// The ledger stopped after a storage failure and must be reopened.
    #[error("the ledger stopped after a storage failure and must be restarted")]
    Stopped,
    /// The disk is too full to write more; nothing was written, and writes resume when
    /// space is freed.
    #[error("the node's disk is full: {0}")]
    NoSpace(String),
    /// A read beyond the tree, or of something that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A malformed request (e.g. sizes out of order).
    #[error("{0}")]
    BadRequest(String),
    /// The store could not be read or written.
    #[error("storage: {0}")]
    Storage(String),
    /// The stored log is damaged; it is not served.
    #[error("the ledger is damaged: {0}")]
    Corrupt(String),
}

/// How a ledger runs.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// The log's origin, the first line of its checkpoints and its key name.
    pub origin: String,
    /// How long the sequencer waits for more appends after the first of a batch.
    pub pool_window: Duration,
    /// The most entries in one batch.
    pub max_batch: usize,
    /// The most appends waiting for a batch before [`LedgerError::Pushback`].
    pub queue: usize,
}

impl LedgerConfig {
    /// Defaults for a log with this origin: a 2 ms pool window, batches of up to 4096.
    pub fn new(origin: impl Into<String>) -> Self {
        LedgerConfig {
            origin: origin.into(),
            pool_window: Duration::from_millis(2),
            max_batch: 4096,
            queue: 65_536,
        }
    }
}

/// What readers see: the latest durable, signed checkpoint.
#[derive(Debug, Clone)]
pub struct Published {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Its signed note, as served at `/checkpoint`.
    pub note: String,
}

/// A handle to an open ledger; cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Arc<Store>,
    cache: Arc<TileCache>,
    verifier: VerifierKey,
    published: Arc<RwLock<Published>>,
    sizes: tokio::sync::watch::Sender<u64>,
    sequencer: sequencer::Handle,
}

impl Ledger {
    /// Opens the ledger in `dir`, creating it (and signing the empty checkpoint) if new.
    ///
    /// Checks that the stored tiles reproduce the stored, signed checkpoint; a damaged
    /// ledger is refused with [`LedgerError::Corrupt`].
    pub fn open(dir: &Path, key: KeyPair, config: LedgerConfig) -> Result<Ledger, LedgerError> {
        let signer = NoteSigner::ed25519(&config.origin, key).map_err(|e| {
            LedgerError::BadRequest(format!("the origin cannot be a key name: {e}"))
        })?;
        let verifier = signer.verifier().clone();
        let store = Store::open(dir, &config.origin)?;
        let cache = Arc::new(TileCache::new(4096));
        let published = match store.checkpoint()? {
            Some(note) => {
                let verified = verify_checkpoint(&note, &verifier, &[]).map_err(|e| {
                    LedgerError::Corrupt(format!(
                        "the stored checkpoint does not verify with this node's log key: {e}"
                    ))
                })?;
                Published {
                    checkpoint: verified.checkpoint,
                    note,
                }
            }
            None => {
                let checkpoint = Checkpoint {
                    origin: config.origin.clone(),
                    size: 0,
                    root: EMPTY_ROOT,
                    extensions: vec![],
                };
                let note = sign(&signer, &checkpoint);
                let mut batch = storage::Batch::default();
                batch.checkpoint(&note);
                store.commit(batch)?;
                Published { checkpoint, note }
            }
        };
        let size = published.checkpoint.size;
        let entries = store.entry_count()?;
        if entries != size {
            return Err(LedgerError::Corrupt(format!(
                "{entries} entries are stored but the checkpoint covers {size}"
            )));
        }
        let growth = growth::Growth::load(&store, size)?;
        let root = merkle::tree_root(
            &mut TileReader::new(&store, &cache, Some(&growth.frontier)),
            size,
        )
        .map_err(|e| LedgerError::Corrupt(format!("recomputing the root: {e}")))?;
        if root != published.checkpoint.root {
            return Err(LedgerError::Corrupt(format!(
                "the stored tiles give root {root} for size {size}, but the checkpoint says {}",
                published.checkpoint.root
            )));
        }
        let published = Arc::new(RwLock::new(published));
        let (sizes, _) = tokio::sync::watch::channel(size);
        let sequencer = sequencer::start(
            sequencer::State {
                store: store.clone(),
                cache: cache.clone(),
                published: published.clone(),
                sizes: sizes.clone(),
                signer,
                growth,
            },
            &config,
        );
        let inner = Arc::new(Inner {
            store,
            cache,
            verifier,
            published,
            sizes,
            sequencer,
        });
        Ok(Ledger { inner })
    }

    /// The origin of the ledger in `dir`, if one was created there (a log keeps its
    /// origin for life).
    pub fn stored_origin(dir: &Path) -> Result<Option<String>, LedgerError> {
        Store::stored_origin(dir)
    }

    /// Appends an entry; resolves once it is durable and covered by a signed, stored
    /// checkpoint, with its receipt. `keys` are lookup keys (e.g. a credential id) that
    /// [`Ledger::find`] will map to the entry; each may be logged once.
    pub async fn append(&self, entry: Vec<u8>, keys: Vec<Vec<u8>>) -> Result<Receipt, LedgerError> {
        let reply = self.inner.sequencer.submit(entry, keys)?;
        reply.await.unwrap_or(Err(LedgerError::Stopped))
    }

    /// [`Ledger::append`] for callers outside an async runtime.
    pub fn append_blocking(
        &self,
        entry: Vec<u8>,
        keys: Vec<Vec<u8>>,
    ) -> Result<Receipt, LedgerError> {
        let reply = self.inner.sequencer.submit(entry, keys)?;
        reply.blocking_recv().unwrap_or(Err(LedgerError::Stopped))
    }

    /// Stops accepting appends, finishes the pending ones, and waits for the last batch
    /// to be durable.
    pub fn shutdown(&self) {
        self.inner.sequencer.shutdown();
    }

    /// The latest published checkpoint.
    pub fn published(&self) -> Published {
        self.inner.published.read().expect("published lock").clone()
    }

    /// Follows the published size: the receiver changes whenever a new checkpoint is
    /// published.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.sizes.subscribe()
    }

    /// The log's C2SP verifier key (`<origin>+<key ID>+<base64 key>`).
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.inner.verifier
    }

    /// Entry `index` (published entries only).
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LedgerError> {
        let size = self.published().checkpoint.size;
        if index >= size {
            return Err(LedgerError::NotFound(format!(
                "no entry {index}: the log has {size}"
            )));
        }
        self.inner
            .store
            .entry(index)?
            .ok_or_else(|| LedgerError::Corrupt(format!("entry {index} is missing")))
    }

    /// Entries `from..to` (published entries only), reading each bundle once.
    pub fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        let size = self.published().checkpoint.size;
        if to > size || from > to {
            return Err(LedgerError::NotFound(format!(
                "no entries {from}..{to}: the log has {size}"
            )));
        }
        let entries = self.inner.store.entries(from, to)?;
        if entries.len() as u64 != to - from {
            return Err(LedgerError::Corrupt(format!(
                "entries {from}..{to} are missing"
            )));
        }
        Ok(entries)
    }

    /// The index a lookup key was logged under, if published.
    pub fn find(&self, key: &[u8]) -> Result<Option<u64>, LedgerError> {
        let size = self.published().checkpoint.size;
        Ok(self.inner.store.lookup(key)?.filter(|&i| i < size))
    }

    /// A receipt for entry `index` against the latest published checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Receipt, LedgerError> {
        let mut receipts = self.receipts(&[index])?;
        Ok(receipts.remove(0))
    }

    /// Receipts for several entries, all against the same (latest) checkpoint.
    pub fn receipts(&self, indexes: &[u64]) -> Result<Vec<Receipt>, LedgerError> {
        self.receipts_against(indexes, &self.published())
    }

    /// Receipts for several entries against `published`, a checkpoint of this log no
    /// larger than the latest (a witnessed one, carrying its cosignatures).
    pub fn receipts_against(
        &self,
        indexes: &[u64],
        published: &Published,
    ) -> Result<Vec<Receipt>, LedgerError> {
        let size = published.checkpoint.size;
        indexes
            .iter()
            .map(|&index| {
                if index >= size {
                    return Err(LedgerError::NotFound(format!(
                        "no entry {index}: the log has {size}"
                    )));
                }
                Ok(Receipt {
                    index,
                    proof: self.inclusion_proof(index, size)?,
                    checkpoint: published.note.clone(),
                })
            })
            .collect()
    }

    /// The inclusion proof of `index` in the tree of `size` (≤ the published size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(size)?;
        if index >= size {
            return Err(LedgerError::NotFound(format!(
                "no entry {index} in a tree of {size}"
            )));
        }
        let mut reader = TileReader::new(&self.inner.store, &self.inner.cache, None);
        merkle::inclusion_proof(&mut reader, index, size)
            .map_err(|e| LedgerError::Storage(e.to_string()))
    }

    /// The consistency proof from `old` to `new` (≤ the published size). From size 0 the
    /// proof is empty: the empty tree is a prefix of every tree.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(new)?;
        if old > new {
            return Err(LedgerError::BadRequest(format!(
                "from {old} is larger than to {new}"
            )));
        }
        if old == 0 {
            return Ok(vec![]);
        }
        let mut reader = TileReader::new(&self.inner.store, &self.inner.cache, None);
        merkle::consistency_proof(&mut reader, old, new)
            .map_err(|e| LedgerError::Storage(e.to_string()))
    }

    /// The root of the tree of `size` (≤ the published size).
    pub fn root(&self, size: u64) -> Result<Hash, LedgerError> {
        self.check_size(size)?;
        let mut reader = TileReader::new(&self.inner.store, &self.inner.cache, None);
        merkle::tree_root(&mut reader, size).map_err(|e| LedgerError::Storage(e.to_string()))
    }

    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        let published = self.published().checkpoint.size;
        if size > published {
            return Err(LedgerError::NotFound(format!(
                "the log has {published} entries, not {size}"
            )));
        }
        Ok(())
    }

    /// The bytes of a tile or entry bundle, as C2SP tlog-tiles serves them. A tile that
    /// does not exist at the published size (or a partial tile wider than it is) is
    /// [`LedgerError::NotFound`].
    pub fn tile(&self, tile: &Tile) -> Result<Vec<u8>, LedgerError> {
        read_tile(&self.inner.store, self.published().checkpoint.size, tile)
    }

    /// Bytes the ledger's store occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, LedgerError> {
        self.inner.store.size_on_disk()
    }
}

/// The bytes of a tile or entry bundle of the stored log of `size` entries, as C2SP
/// tlog-tiles serves them.
fn read_tile(store: &Store, size: u64, tile: &Tile) -> Result<Vec<u8>, LedgerError> {
    let level = match tile.kind {
        TileKind::Hash(level) => level,
        TileKind::Entries => 0,
    };
    let available = Tile::width_in(level, tile.index, size).unwrap_or(0);
    if available < tile.width {
        return Err(LedgerError::NotFound(format!(
            "{} does not exist in a log of {size} entries",
            tile.path()
        )));
    }
    let width = usize::from(tile.width);
    match tile.kind {
        TileKind::Hash(level) => {
            let hashes = store
                .tile(level, tile.index)?
                .ok_or_else(|| LedgerError::Corrupt(format!("tile {} is missing", tile.path())))?;
            let hashes = hashes.get(..width).ok_or_else(|| {
                LedgerError::Corrupt(format!("tile {} is too short", tile.path()))
            })?;
            Ok(hashes.iter().flat_map(|h| h.0).collect())
        }
        TileKind::Entries => {
            let bundle = store.bundle(tile.index)?.ok_or_else(|| {
                LedgerError::Corrupt(format!("entry bundle {} is missing", tile.path()))
            })?;
            storage::bundle_prefix(&bundle, width)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| {
                    LedgerError::Corrupt(format!("entry bundle {} is too short", tile.path()))
                })
        }
    }
}

/// Signs a checkpoint body with the log key.
fn sign(signer: &NoteSigner, checkpoint: &Checkpoint) -> String {
    let mut note = Note::new(checkpoint.body()).expect("checkpoint bodies end with a newline");
    note.sign(signer, 0);
    note.to_string()
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.sequencer.shutdown();
    }
}
