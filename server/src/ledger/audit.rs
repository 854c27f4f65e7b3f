//! The full offline audit behind `guildmark ledger check`: every entry re-hashed, every
//! stored tile recomputed from the level below, the checkpoint's signature and root, and
//! every lookup key, on a ledger that is not running.

use std::path::Path;

use guildmark_credentials::checkpoint::verify_checkpoint;
use guildmark_credentials::merkle::{self, leaf_hash, root_of, Hash};
use guildmark_credentials::note::VerifierKey;
use guildmark_credentials::tile::TILE_WIDTH;

use super::storage::Store;
use super::tiles::{Frontier, TileCache, TileReader};
use super::LedgerError;

/// What the audit found.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    /// Entries the checkpoint covers.
    pub size: u64,
    /// Entries re-hashed.
    pub entries_checked: u64,
    /// Stored tiles recomputed.
    pub tiles_checked: u64,
    /// Every inconsistency, with where it is.
    pub damage: Vec<String>,
}

impl Audit {
    /// Whether nothing was wrong.
    pub fn is_sound(&self) -> bool {
        self.damage.is_empty()
    }
}

/// Audits the ledger in `dir` against the log key `verifier`, calling `progress` with
/// (entries done, total) as it goes.
pub fn audit(
    dir: &Path,
    verifier: &VerifierKey,
    mut progress: impl FnMut(u64, u64),
) -> Result<Audit, LedgerError> {
    if !dir.join("db").exists() {
        return Err(LedgerError::NotFound(format!(
            "no ledger in {}",
            dir.display()
        )));
    }
    let store = Store::open(dir, verifier.name())?;
    let mut audit = Audit::default();
    let Some(note) = store.checkpoint()? else {
        audit.damage.push("no checkpoint is stored".into());
        return Ok(audit);
    };
    let checkpoint = match verify_checkpoint(&note, verifier, &[]) {
        Ok(v) => v.checkpoint,
        Err(e) => {
            audit.damage.push(format!("checkpoint: {e}"));
            return Ok(audit);
        }
    };
    let size = checkpoint.size;
    audit.size = size;
    let stored = store.entry_count()?;
    if stored != size {
        audit.damage.push(format!(
            "{stored} entries stored, but the checkpoint covers {size}"
        ));
    }

    // Level 0: every entry against its leaf hash, one tile at a time.
    let mut level_roots: Vec<Hash> = Vec::new();
    let tiles0 = size.div_ceil(TILE_WIDTH);
    for tile_index in 0..tiles0 {
        let from = tile_index * TILE_WIDTH;
        let to = (from + TILE_WIDTH).min(size);
        let entries = store.entries(from, to)?;
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        if entries.len() as u64 != to - from {
            audit.damage.push(format!(
                "entries {from}..{to}: only {} stored",
                entries.len()
            ));
        }
        check_tile(&store, &mut audit, 0, tile_index, &leaves)?;
        audit.entries_checked += entries.len() as u64;
        if leaves.len() as u64 == TILE_WIDTH {
            level_roots.push(root_of(&leaves));
        }
        progress(audit.entries_checked, size);
    }
    // Higher levels: each stored tile against the roots of the full tiles below.
    let mut level = 1u8;
    while !level_roots.is_empty() {
        let mut next = Vec::new();
        for (tile_index, chunk) in level_roots.chunks(TILE_WIDTH as usize).enumerate() {
            check_tile(&store, &mut audit, level, tile_index as u64, chunk)?;
            if chunk.len() as u64 == TILE_WIDTH {
                next.push(root_of(chunk));
            }
        }
        level_roots = next;
        level += 1;
    }
    // The root from the stored tiles equals the signed one.
    let frontier = Frontier::load(&store, size);
    match frontier.and_then(|f| {
        merkle::tree_root(
            &mut TileReader::new(&store, &TileCache::new(64), Some(&f)),
            size,
        )
        .map_err(|e| LedgerError::Corrupt(e.to_string()))
    }) {
        Ok(root) if root == checkpoint.root => {}
        Ok(root) => audit.damage.push(format!(
            "the tiles give root {root}; the checkpoint signs {}",
            checkpoint.root
        )),
        Err(e) => audit.damage.push(format!("recomputing the root: {e}")),
    }
    Ok(audit)
}

fn check_tile(
    store: &Store,
    audit: &mut Audit,
    level: u8,
    index: u64,
    expected: &[Hash],
) -> Result<(), LedgerError> {
    audit.tiles_checked += 1;
    match store.tile(level, index)? {
        None => audit
            .damage
            .push(format!("tile {level}/{index} is missing")),
        Some(stored) => {
            if stored.len() < expected.len() {
                audit.damage.push(format!(
                    "tile {level}/{index} holds {} hashes, {} expected",
                    stored.len(),
                    expected.len()
                ));
            }
            for (i, (s, e)) in stored.iter().zip(expected).enumerate() {
                if s != e {
                    let position = index * TILE_WIDTH + i as u64;
                    audit.damage.push(if level == 0 {
                        format!("entry {position} does not hash to its stored leaf hash (tile 0/{index})")
                    } else {
                        format!("tile {level}/{index} hash {i} does not match the tile below")
                    });
                }
            }
        }
    }
    Ok(())
}
