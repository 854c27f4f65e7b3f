//! The Merkle tree as hash tiles: what an append changes (the frontier) and how proofs
//! read hashes back (a [`SubtreeHashes`] over tiles).
//!
//! Tiles are stored, not individual node hashes: level-`L` tile `N` holds the hashes of
//! the complete subtrees of 256^L leaves numbered `N·256 ..`, exactly the tlog-tiles
//! layout, so tiles are served as stored. A subtree at a level between tile levels is
//! hashed from the tile below on demand (at most 255 hashes per tile, memoized per
//! request); storage is ~32 bytes per entry instead of ~64 for every node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use guildmark_credentials::merkle::{node_hash, root_of, Hash, MerkleError, SubtreeHashes};
use guildmark_credentials::tile::{TILE_HEIGHT, TILE_WIDTH};

use super::storage::Store;
use super::LedgerError;

/// Hashes in a tile-level's rightmost tile, per tile level, and counts per level.
#[derive(Debug, Clone, Default)]
pub(crate) struct Frontier {
    /// For tile level L: hashes of its rightmost, partial tile (fewer than 256).
    partial: Vec<Vec<Hash>>,
    /// For tile level L: number of hashes at tree level 8·L (complete 256^L subtrees).
    counts: Vec<u64>,
}

/// A tile to write after an append: full (final) or the new content of a partial one.
pub(crate) struct TileWrite {
    pub level: u8,
    pub index: u64,
    pub hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the stored tree of `size` entries.
    pub fn load(store: &Store, size: u64) -> Result<Self, LedgerError> {
        let mut frontier = Frontier::default();
        let mut level = 0u8;
        loop {
            let count = size >> (u32::from(level) * u32::from(TILE_HEIGHT));
            if count == 0 {
                break;
            }
            let width = (count % TILE_WIDTH) as usize;
            let mut partial = Vec::new();
            if width > 0 {
                let index = count / TILE_WIDTH;
                let tile = store.tile(level, index)?.unwrap_or_default();
                if tile.len() < width {
                    return Err(LedgerError::Corrupt(format!(
                        "tile {level}/{index} holds {} hashes; a tree of {size} entries needs {width}",
                        tile.len()
                    )));
                }
                partial = tile[..width].to_vec();
            }
            frontier.partial.push(partial);
            frontier.counts.push(count);
            level += 1;
        }
        Ok(frontier)
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.counts.first().copied().unwrap_or(0)
    }

    /// The rightmost tile of `level` if it is tile `index`.
    fn partial_tile(&self, level: u8, index: u64) -> Option<&[Hash]> {
        let count = *self.counts.get(usize::from(level))?;
        (count / TILE_WIDTH == index).then(|| self.partial[usize::from(level)].as_slice())
    }

    /// Appends leaf hashes; returns the tiles to write (each tile once, final content).
    pub fn append(&mut self, leaves: &[Hash]) -> Vec<TileWrite> {
        let mut writes: Vec<TileWrite> = Vec::new();
        let mut touched: Vec<(u8, u64)> = Vec::new();
        for leaf in leaves {
            let mut hash = *leaf;
            let mut level = 0usize;
            loop {
                if self.partial.len() == level {
                    self.partial.push(Vec::new());
                    self.counts.push(0);
                }
                let index = self.counts[level] / TILE_WIDTH;
                self.partial[level].push(hash);
                self.counts[level] += 1;
                if self.partial[level].len() as u64 == TILE_WIDTH {
                    let full = std::mem::take(&mut self.partial[level]);
                    hash = root_of(&full);
                    touched.retain(|t| *t != (level as u8, index));
                    writes.push(TileWrite {
                        level: level as u8,
                        index,
                        hashes: full,
                    });
                    level += 1;
                } else {
                    if !touched.contains(&(level as u8, index)) {
                        touched.push((level as u8, index));
                    }
                    break;
                }
            }
        }
        for (level, index) in touched {
            writes.push(TileWrite {
                level,
                index,
                hashes: self.partial[usize::from(level)].clone(),
            });
        }
        writes
    }
}

/// Full tiles are immutable, so they can be cached; the cache is bounded so memory does
/// not grow with the log.
/// Tiles by (tile level, tile index).
type Tiles = HashMap<(u8, u64), Arc<Vec<Hash>>>;

pub(crate) struct TileCache {
    tiles: Mutex<Tiles>,
    capacity: usize,
}

impl TileCache {
    pub fn new(capacity: usize) -> Self {
        TileCache {
            tiles: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// Caches a tile that just became full (before it is written: it is immutable).
    pub fn insert_full(&self, level: u8, index: u64, hashes: Vec<Hash>) {
        self.insert((level, index), Arc::new(hashes));
    }

    fn get(&self, key: (u8, u64)) -> Option<Arc<Vec<Hash>>> {
        self.tiles.lock().ok()?.get(&key).cloned()
    }

    fn insert(&self, key: (u8, u64), tile: Arc<Vec<Hash>>) {
        if let Ok(mut tiles) = self.tiles.lock() {
            if tiles.len() >= self.capacity {
                // Dropping everything is crude but bounded; the hot tiles refill at once.
                tiles.clear();
            }
            tiles.insert(key, tile);
        }
    }
}

/// Reads subtree hashes of the tree of `size` entries from tiles, memoizing what it
/// computes. The rightmost tiles come from `frontier` when given (the sequencer's
/// in-memory state), otherwise from the store (which may hold more than `size` needs:
/// tiles only grow, so the first hashes are the same).
pub(crate) struct TileReader<'a> {
    store: &'a Store,
    cache: &'a TileCache,
    frontier: Option<&'a Frontier>,
    memo: HashMap<(u8, u64), Hash>,
    /// Tiles loaded by this reader (partial ones are not in the shared cache).
    loaded: Tiles,
}

impl<'a> TileReader<'a> {
    pub fn new(store: &'a Store, cache: &'a TileCache, frontier: Option<&'a Frontier>) -> Self {
        TileReader {
            store,
            cache,
            frontier,
            memo: HashMap::new(),
            loaded: HashMap::new(),
        }
    }

    fn tile_hash(
        &mut self,
        tile_level: u8,
        position: u64,
        level: u8,
        index: u64,
    ) -> Result<Hash, MerkleError> {
        let tile_index = position / TILE_WIDTH;
        let offset = (position % TILE_WIDTH) as usize;
        let read_error = |detail: String| MerkleError::Read {
            level,
            index,
            detail,
        };
        if let Some(partial) = self
            .frontier
            .and_then(|f| f.partial_tile(tile_level, tile_index))
        {
            return partial
                .get(offset)
                .copied()
                .ok_or_else(|| read_error("beyond the end of the tree".into()));
        }
        let key = (tile_level, tile_index);
        let tile = match self
            .loaded
            .get(&key)
            .cloned()
            .or_else(|| self.cache.get(key))
        {
            Some(tile) => tile,
            None => {
                let tile = Arc::new(
                    self.store
                        .tile(tile_level, tile_index)
                        .map_err(|e| read_error(e.to_string()))?
                        .ok_or_else(|| {
                            read_error(format!("tile {tile_level}/{tile_index} is missing"))
                        })?,
                );
                if tile.len() as u64 == TILE_WIDTH {
                    self.cache.insert(key, tile.clone());
                }
                tile
            }
        };
        self.loaded.insert(key, tile.clone());
        tile.get(offset)
            .copied()
            .ok_or_else(|| read_error(format!("tile {tile_level}/{tile_index} is too short")))
    }
}

impl SubtreeHashes for TileReader<'_> {
    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, MerkleError> {
        if let Some(hash) = self.memo.get(&(level, index)) {
            return Ok(*hash);
        }
        let hash = if level.is_multiple_of(TILE_HEIGHT) {
            self.tile_hash(level / TILE_HEIGHT, index, level, index)?
        } else {
            let left = self.subtree(level - 1, 2 * index)?;
            let right = self.subtree(level - 1, 2 * index + 1)?;
            node_hash(&left, &right)
        };
        self.memo.insert((level, index), hash);
        Ok(hash)
    }
}
