//! How a stored log grows: its frontier (the rightmost tiles), the entries of its last,
//! partial bundle, and the one atomic write that adds a batch of entries — bundles,
//! chunks, lookup keys and tiles. The sequencer grows the node's own log with it; a
//! mirror grows its copy of a peer's log the same way, so that both store, and serve,
//! the same bytes.

use std::sync::Arc;

use guildmark_credentials::merkle::{self, leaf_hash, Hash};

use super::storage::{self, Batch, Store, BUNDLE};
use super::tiles::{Frontier, TileCache, TileReader, TileWrite};
use super::LedgerError;

/// The growing end of a stored tree.
#[derive(Clone)]
pub(crate) struct Growth {
    pub frontier: Frontier,
    /// The entries of the last, partial entry bundle, in bundle format.
    pub bundle: Vec<u8>,
    /// Positions of the chunks stored for that bundle.
    pub chunks: Vec<u8>,
}

impl Growth {
    /// The growing end of the stored tree of `size` entries.
    pub fn load(store: &Store, size: u64) -> Result<Growth, LedgerError> {
        let frontier = Frontier::load(store, size)?;
        let width = (size % BUNDLE) as usize;
        if width == 0 {
            return Ok(Growth {
                frontier,
                bundle: Vec::new(),
                chunks: Vec::new(),
            });
        }
        let chunks = store.chunk_starts(size / BUNDLE)?;
        let stored = store.bundle(size / BUNDLE)?.unwrap_or_default();
        let bundle = storage::bundle_prefix(&stored, width)
            .ok_or_else(|| {
                LedgerError::Corrupt(format!(
                    "entry bundle {} holds fewer than {width} entries",
                    size / BUNDLE
                ))
            })?
            .to_vec();
        Ok(Growth {
            frontier,
            bundle,
            chunks,
        })
    }

    /// Entries in the tree.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Adds `entries` (each with its lookup keys) to the tree and their bytes, tiles and
    /// keys to `write`; returns the tiles written, for [`Growth::root`].
    pub fn integrate<'a>(
        &mut self,
        entries: impl ExactSizeIterator<Item = (&'a [u8], &'a [Vec<u8>])> + Clone,
        write: &mut Batch,
    ) -> Vec<TileWrite> {
        let start = self.frontier.size();
        let leaves: Vec<Hash> = entries.clone().map(|(entry, _)| leaf_hash(entry)).collect();
        let writes = self.frontier.append(&leaves);
        let size = self.frontier.size();
        let mut chunk_start = self.bundle.len();
        let mut chunk_first = (start % BUNDLE) as u8;
        for (i, (entry, keys)) in entries.enumerate() {
            let index = start + i as u64;
            self.bundle
                .extend_from_slice(&(entry.len() as u16).to_be_bytes());
            self.bundle.extend_from_slice(entry);
            if (index + 1).is_multiple_of(BUNDLE) {
                // Full: written whole; its chunks go.
                write.bundle(index / BUNDLE, &std::mem::take(&mut self.bundle));
                for first in std::mem::take(&mut self.chunks) {
                    write.remove_chunk(index / BUNDLE, first);
                }
                chunk_start = 0;
                chunk_first = 0;
            }
            for key in keys {
                write.lookup(key, index);
            }
        }
        if self.bundle.len() > chunk_start {
            write.chunk(size / BUNDLE, chunk_first, &self.bundle[chunk_start..]);
            self.chunks.push(chunk_first);
        }
        for tile in &writes {
            write.tile(tile.level, tile.index, &tile.hashes);
        }
        writes
    }

    /// The root after [`Growth::integrate`], whose full tiles go into `cache` first
    /// (they are not stored yet; full tiles never change, so caching them early is
    /// safe once the write will be committed — a caller that may discard the write
    /// passes a cache of its own).
    pub fn root(
        &self,
        store: &Store,
        cache: &TileCache,
        writes: &[TileWrite],
    ) -> Result<Hash, LedgerError> {
        for tile in writes.iter().filter(|t| t.hashes.len() == 256) {
            cache.insert_full(tile.level, tile.index, tile.hashes.clone());
        }
        merkle::tree_root(
            &mut TileReader::new(store, cache, Some(&self.frontier)),
            self.frontier.size(),
        )
        .map_err(|e| LedgerError::Storage(e.to_string()))
    }
}

/// Full tiles of `writes` into the shared cache, after their write was committed.
pub(crate) fn cache_full_tiles(cache: &Arc<TileCache>, writes: &[TileWrite]) {
    for tile in writes.iter().filter(|t| t.hashes.len() == 256) {
        cache.insert_full(tile.level, tile.index, tile.hashes.clone());
    }
}
