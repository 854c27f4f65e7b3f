//! A mirror: a verified, full copy of a peer's log — its entries, tiles and latest
//! signed checkpoint — stored in the same layout as the node's own ledger, so that it
//! serves the same tlog-tiles bytes and a lost ledger can be rebuilt from it.
//!
//! A mirror only grows by [`Mirror::extend`]: new entries plus the peer's signed
//! checkpoint for them. The checkpoint must verify with the peer's log key, and the
//! tree the mirror already holds plus the new entries must have exactly the checkpoint's
//! root; otherwise nothing is written (a tampered tile, or a checkpoint that does not
//! extend what the mirror holds, is refused and reported).

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use guildmark_credentials::checkpoint::verify_checkpoint;
use guildmark_credentials::note::VerifierKey;
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::tile::Tile;

use super::growth::{cache_full_tiles, Growth};
use super::storage::{Batch, Store};
use super::tiles::{TileCache, TileReader};
use super::{read_tile, LedgerError, Published};
use guildmark_credentials::merkle;

/// Why a mirror refused what a peer sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorError {
    /// The checkpoint does not verify with the peer's log key.
    #[error("the checkpoint does not verify with the log key: {0}")]
    Signature(String),
    /// The checkpoint is smaller than what the mirror holds: the log was rolled back.
    #[error("the log offers size {offered}, smaller than the {held} entries already mirrored: it was rolled back")]
    Shrunk {
        /// What the mirror holds.
        held: u64,
        /// What the peer offers.
        offered: u64,
    },
    /// The entries do not lead to the checkpoint's root from what the mirror holds.
    #[error("size {size}: {detail}")]
    Inconsistent {
        /// The checkpoint's size.
        size: u64,
        /// What did not match.
        detail: String,
    },
    /// Not as many entries as the checkpoint needs.
    #[error("{given} new entries given, but the checkpoint needs {needed}")]
    WrongCount {
        /// Entries given.
        given: u64,
        /// Entries needed.
        needed: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// A mirror of one log; cheap to clone.
#[derive(Clone)]
pub struct Mirror {
    inner: Arc<Inner>,
}

struct Inner {
    log_key: VerifierKey,
    store: Arc<Store>,
    cache: Arc<TileCache>,
    growth: Mutex<Growth>,
    published: RwLock<Option<Published>>,
}

impl Mirror {
    /// Opens (creating if needed) the mirror of the log with `log_key` in `dir`. What
    /// is stored must verify as the ledger's own store does on open.
    pub fn open(dir: &Path, log_key: VerifierKey) -> Result<Mirror, LedgerError> {
        let store = Store::open(dir, log_key.name())?;
        let cache = Arc::new(TileCache::new(1024));
        let published = match store.checkpoint()? {
            Some(note) => {
                let verified = verify_checkpoint(&note, &log_key, &[]).map_err(|e| {
                    LedgerError::Corrupt(format!(
                        "the mirrored checkpoint does not verify with the log key: {e}"
                    ))
                })?;
                Some(Published {
                    checkpoint: verified.checkpoint,
                    note,
                })
            }
            None => None,
        };
        let size = published.as_ref().map_or(0, |p| p.checkpoint.size);
        if store.entry_count()? != size {
            return Err(LedgerError::Corrupt(format!(
                "the mirror stores {} entries but its checkpoint covers {size}",
                store.entry_count()?
            )));
        }
        let growth = Growth::load(&store, size)?;
        if let Some(published) = &published {
            let root = merkle::tree_root(
                &mut TileReader::new(&store, &cache, Some(&growth.frontier)),
                size,
            )
            .map_err(|e| LedgerError::Corrupt(format!("recomputing the mirror's root: {e}")))?;
            if root != published.checkpoint.root {
                return Err(LedgerError::Corrupt(format!(
                    "the mirror's tiles give root {root} for size {size}, but its checkpoint says {}",
                    published.checkpoint.root
                )));
            }
        }
        Ok(Mirror {
            inner: Arc::new(Inner {
                log_key,
                store,
                cache,
                growth: Mutex::new(growth),
                published: RwLock::new(published),
            }),
        })
    }

    /// The mirrored log's key.
    pub fn log_key(&self) -> &VerifierKey {
        &self.inner.log_key
    }

    /// Entries mirrored.
    pub fn size(&self) -> u64 {
        self.inner.growth.lock().expect("growth lock").size()
    }

    /// The latest mirrored checkpoint, as the peer signed it (with its cosignatures).
    pub fn published(&self) -> Option<Published> {
        self.inner.published.read().expect("published lock").clone()
    }

    /// Adds `entries` (those after what the mirror holds) with the peer's signed
    /// checkpoint `note` for them; see the module documentation. The same size again
    /// must have the same root (its note, perhaps with more cosignatures, replaces the
    /// stored one).
    pub fn extend(&self, entries: &[Vec<u8>], note: &str) -> Result<Published, MirrorError> {
        self.extend_with_keys(entries, |_| Vec::new(), note)
    }

    /// [`Mirror::extend`], recording each entry under the lookup keys `keys` gives it (a
    /// ledger rebuilt from a mirror finds its credentials again).
    pub fn extend_with_keys(
        &self,
        entries: &[Vec<u8>],
        keys: impl Fn(&[u8]) -> Vec<Vec<u8>>,
        note: &str,
    ) -> Result<Published, MirrorError> {
        let verified = verify_checkpoint(note, &self.inner.log_key, &[])
            .map_err(|e| MirrorError::Signature(e.to_string()))?;
        let checkpoint = verified.checkpoint;
        let mut growth = self.inner.growth.lock().expect("growth lock");
        let held = growth.size();
        if checkpoint.size < held {
            return Err(MirrorError::Shrunk {
                held,
                offered: checkpoint.size,
            });
        }
        let needed = checkpoint.size - held;
        if entries.len() as u64 != needed {
            return Err(MirrorError::WrongCount {
                given: entries.len() as u64,
                needed,
            });
        }
        let before = growth.clone();
        let mut write = Batch::default();
        let keys: Vec<Vec<Vec<u8>>> = entries.iter().map(|e| keys(e)).collect();
        let writes = growth.integrate(
            entries
                .iter()
                .zip(&keys)
                .map(|(e, k)| (e.as_slice(), k.as_slice())),
            &mut write,
        );
        // A cache of its own: the full tiles are not the mirror's until the root holds.
        let root = growth.root(&self.inner.store, &TileCache::new(64), &writes);
        match root {
            Ok(root) if root == checkpoint.root => {}
            Ok(root) => {
                *growth = before;
                return Err(MirrorError::Inconsistent {
                    size: checkpoint.size,
                    detail: if needed == 0 {
                        format!("the mirrored tree of this size has root {root}, the checkpoint says {}: a fork", checkpoint.root)
                    } else {
                        format!("the mirrored tree plus the {needed} new entries has root {root}, the checkpoint says {}: a tampered entry or a checkpoint that does not extend what was mirrored", checkpoint.root)
                    },
                });
            }
            Err(e) => {
                *growth = before;
                return Err(e.into());
            }
        }
        write.checkpoint(note);
        if let Err(e) = self.inner.store.commit(write) {
            *growth = before;
            return Err(e.into());
        }
        cache_full_tiles(&self.inner.cache, &writes);
        let published = Published {
            checkpoint,
            note: note.to_owned(),
        };
        *self.inner.published.write().expect("published lock") = Some(published.clone());
        Ok(published)
    }

    /// A tile or entry bundle of the mirrored log, as tlog-tiles serves it.
    pub fn tile(&self, tile: &Tile) -> Result<Vec<u8>, LedgerError> {
        let size = self.published().map_or(0, |p| p.checkpoint.size);
        read_tile(&self.inner.store, size, tile)
    }

    /// The root of the mirrored tree of `size` entries (≤ what is mirrored).
    pub fn root(&self, size: u64) -> Result<merkle::Hash, LedgerError> {
        let held = self.size();
        if size > held {
            return Err(LedgerError::NotFound(format!(
                "the mirror has {held} entries, not {size}"
            )));
        }
        merkle::tree_root(
            &mut TileReader::new(&self.inner.store, &self.inner.cache, None),
            size,
        )
        .map_err(|e| LedgerError::Storage(e.to_string()))
    }

    /// Receipts for entries against the latest mirrored checkpoint (the peer's, with
    /// its cosignatures).
    pub fn receipts(&self, indexes: &[u64]) -> Result<Vec<Receipt>, LedgerError> {
        let published = self
            .published()
            .ok_or_else(|| LedgerError::NotFound("nothing is mirrored yet".into()))?;
        let size = published.checkpoint.size;
        let mut reader = TileReader::new(&self.inner.store, &self.inner.cache, None);
        indexes
            .iter()
            .map(|&index| {
                if index >= size {
                    return Err(LedgerError::NotFound(format!(
                        "no entry {index}: the mirror has {size}"
                    )));
                }
                Ok(Receipt {
                    index,
                    proof: merkle::inclusion_proof(&mut reader, index, size)
                        .map_err(|e| LedgerError::Storage(e.to_string()))?,
                    checkpoint: published.note.clone(),
                })
            })
            .collect()
    }

    /// Entries `from..to` of the mirrored log.
    pub fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        let size = self.size();
        if to > size || from > to {
            return Err(LedgerError::NotFound(format!(
                "no entries {from}..{to}: the mirror has {size}"
            )));
        }
        self.inner.store.entries(from, to)
    }
}
