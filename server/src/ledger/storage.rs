//! The ledger's sled store: key layout, atomic batches, and durability.
//!
//! Everything lives in one sled tree so that a batch (entries, tiles, lookup keys and
//! the checkpoint) is applied atomically by `apply_batch`:
//!
//! | key | value |
//! |---|---|
//! | `b` ‖ bundle index (u64 BE) | empty: full bundle `i` is in the file `bundles/<i as 16 hex digits>`, 256 entries, each a u16 BE length and the bytes (the tlog-tiles `tile/entries` format); in stores written before, the bundle itself |
//! | `p` ‖ bundle index (u64 BE) ‖ first (u8) | a chunk of the partial bundle: the entries one batch added, from position `first` |
//! | `t` ‖ level (u8) ‖ tile index (u64 BE) | the tile's hashes, 32 bytes each (partial or full) |
//! | `k` ‖ SHA-256(lookup key) | entry index (u64 BE) |
//! | `l` | the latest signed checkpoint note |
//! | `m/version`, `m/origin` | layout version and the log's origin |
//!
//! The checkpoint is rewritten by every batch, so its key sorts among the small lookup
//! values: under `c` (layout 2) it shared a sled leaf with the newest full bundles, and
//! every tenth batch rewrote that whole multi-megabyte leaf (about 4× the entries' bytes
//! on disk). Layout 2 is migrated on open.
//!
//! Full bundles live in files of their own, written (and fsynced) before the sled batch
//! that marks them: in sled, a leaf holds up to 17 values whatever their size, so full
//! bundles shared multi-megabyte leaves that sled rewrote whole as they filled (3× the
//! entries' bytes on disk under load; `benches/issuance.rs` prints the ratio).
//!
//! Entries are stored 256 to a value, not one per key: sled 0.34's memory grows with its
//! number of keys regardless of `cache_capacity` (sled issue #986), which one key per
//! entry turned into gigabytes for millions of entries. Each batch writes only the
//! entries it adds (a chunk); when a bundle fills, it is written whole and its chunks are
//! deleted in the same atomic batch.
//!
//! # Durability
//!
//! Every batch is flushed with [`DurableDb::flush`] (sled's flush plus the fsyncs it
//! leaves out; see [`crate::durable`]). Segments are 8 MiB so that nodes of up to 17
//! maximum-size entries stay inline. An append is acknowledged only after the flush
//! returned.

use std::path::Path;
use std::sync::Arc;

use guildmark_credentials::merkle::Hash;
use sha2::{Digest, Sha256};

use super::LedgerError;
use crate::durable::{DurableDb, DurableError};

/// Layout version, checked on open.
const VERSION: &[u8] = b"3";
/// The layout before the checkpoint moved from `c` to [`CHECKPOINT`].
const VERSION_2: &[u8] = b"2";
/// The key of the latest checkpoint note.
const CHECKPOINT: &[u8] = b"l";

/// Entries per bundle.
pub(crate) const BUNDLE: u64 = 256;

/// The sled store of one ledger.
pub(crate) struct Store {
    durable: DurableDb,
    tree: sled::Tree,
    #[cfg(test)]
    pub(crate) faults: super::tests::Faults,
}

/// A set of writes applied atomically.
#[derive(Default)]
pub(crate) struct Batch {
    inner: sled::Batch,
    /// Full bundles, written to their files before the sled batch is applied.
    files: Vec<(u64, Vec<u8>)>,
}

impl Batch {
    /// Writes full bundle `index`: to its file, with an empty `b` key marking it in the
    /// same atomic sled batch.
    pub fn bundle(&mut self, index: u64, bundle: &[u8]) {
        self.inner.insert(bundle_key(index).to_vec(), &[][..]);
        self.files.push((index, bundle.to_vec()));
    }

    /// Writes a chunk of partial bundle `index`, its entries from position `first`.
    pub fn chunk(&mut self, index: u64, first: u8, entries: &[u8]) {
        self.inner.insert(chunk_key(index, first).to_vec(), entries);
    }

    /// Deletes a chunk (its bundle was written whole).
    pub fn remove_chunk(&mut self, index: u64, first: u8) {
        self.inner.remove(chunk_key(index, first).to_vec());
    }

    pub fn tile(&mut self, level: u8, index: u64, hashes: &[Hash]) {
        let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
        self.inner.insert(tile_key(level, index).to_vec(), bytes);
    }

    pub fn lookup(&mut self, key: &[u8], index: u64) {
        self.inner
            .insert(lookup_key(key).to_vec(), &index.to_be_bytes());
    }

    pub fn checkpoint(&mut self, note: &str) {
        self.inner.insert(CHECKPOINT.to_vec(), note.as_bytes());
    }
}

fn bundle_key(index: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = b'b';
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
}

fn chunk_key(index: u64, first: u8) -> [u8; 10] {
    let mut key = [0u8; 10];
    key[0] = b'p';
    key[1..9].copy_from_slice(&index.to_be_bytes());
    key[9] = first;
    key
}

/// The first `count` entries of a bundle, as bundle bytes; `None` if it has fewer.
pub(crate) fn bundle_prefix(bundle: &[u8], count: usize) -> Option<&[u8]> {
    let mut at = 0;
    for _ in 0..count {
        let len = usize::from(u16::from_be_bytes([*bundle.get(at)?, *bundle.get(at + 1)?]));
        at += 2 + len;
    }
    bundle.get(..at)
}

/// The entries of a bundle, each a slice of it; `None` if it is malformed.
pub(crate) fn split_bundle(bundle: &[u8]) -> Option<Vec<&[u8]>> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at < bundle.len() {
        let len = usize::from(u16::from_be_bytes([*bundle.get(at)?, *bundle.get(at + 1)?]));
        entries.push(bundle.get(at + 2..at + 2 + len)?);
        at += 2 + len;
    }
    Some(entries)
}

fn tile_key(level: u8, index: u64) -> [u8; 10] {
    let mut key = [0u8; 10];
    key[0] = b't';
    key[1] = level;
    key[2..].copy_from_slice(&index.to_be_bytes());
    key
}

fn lookup_key(key: &[u8]) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = b'k';
    out[1..].copy_from_slice(&Sha256::digest(key));
    out
}

fn storage(context: &str, e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Storage(format!("{context}: {e}"))
}

impl Store {
    /// Opens (creating if needed) the store in `dir` for the log `origin`.
    pub fn open(dir: &Path, origin: &str) -> Result<Arc<Store>, LedgerError> {
        let durable = DurableDb::open(dir).map_err(durable_error)?;
        let tree = durable
            .db
            .open_tree("ledger")
            .map_err(|e| storage("opening the ledger tree", e))?;
        let store = Store {
            durable,
            tree,
            #[cfg(test)]
            faults: Default::default(),
        };
        match store.get(b"m/version")? {
            None => {
                let mut meta = sled::Batch::default();
                meta.insert(b"m/version".to_vec(), VERSION);
                meta.insert(b"m/origin".to_vec(), origin.as_bytes());
                store
                    .tree
                    .apply_batch(meta)
                    .map_err(|e| storage("writing the ledger metadata", e))?;
                store.make_durable()?;
            }
            Some(version) if version.as_ref() == VERSION || version.as_ref() == VERSION_2 => {
                if version.as_ref() == VERSION_2 {
                    store.migrate_from_2()?;
                }
                let stored = store.get(b"m/origin")?.unwrap_or_default();
                if stored.as_ref() != origin.as_bytes() {
                    return Err(LedgerError::Corrupt(format!(
                        "this ledger's origin is {:?}, not {origin:?}; a log's origin cannot change",
                        String::from_utf8_lossy(&stored)
                    )));
                }
            }
            Some(other) => {
                return Err(LedgerError::Corrupt(format!(
                    "unknown ledger layout version {:?}",
                    String::from_utf8_lossy(&other)
                )))
            }
        }
        Ok(Arc::new(store))
    }

    /// Layout 2 → 3: the checkpoint moves from `c` to [`CHECKPOINT`], atomically.
    fn migrate_from_2(&self) -> Result<(), LedgerError> {
        let mut batch = sled::Batch::default();
        if let Some(note) = self.get(b"c")? {
            batch.insert(CHECKPOINT.to_vec(), note);
            batch.remove(b"c".to_vec());
        }
        batch.insert(b"m/version".to_vec(), VERSION);
        self.tree
            .apply_batch(batch)
            .map_err(|e| storage("migrating the ledger's layout", e))?;
        self.make_durable()?;
        tracing::info!("the ledger's layout was migrated from version 2 to 3");
        Ok(())
    }

    /// The origin of the ledger in `dir`, if one exists there.
    pub fn stored_origin(dir: &Path) -> Result<Option<String>, LedgerError> {
        if !dir.join("db").exists() {
            return Ok(None);
        }
        let durable = DurableDb::open(dir).map_err(durable_error)?;
        let tree = durable
            .db
            .open_tree("ledger")
            .map_err(|e| storage("opening the ledger tree", e))?;
        let origin = tree
            .get(b"m/origin")
            .map_err(|e| storage("reading the ledger", e))?;
        Ok(origin.map(|o| String::from_utf8_lossy(&o).into_owned()))
    }

    fn get(&self, key: &[u8]) -> Result<Option<sled::IVec>, LedgerError> {
        self.tree
            .get(key)
            .map_err(|e| storage("reading the ledger", e))
    }

    /// Bundle `index` as stored: whole if full, else assembled from its chunks (in order;
    /// a gap ends it). `None` if nothing of it is stored.
    pub fn bundle(&self, index: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        if let Some(full) = self.full_bundle(index)? {
            return Ok(Some(full));
        }
        let mut bundle = Vec::new();
        let mut expected = 0usize;
        for item in self
            .tree
            .range(chunk_key(index, 0)..=chunk_key(index, u8::MAX))
        {
            let (key, chunk) = item.map_err(|e| storage("reading entry chunks", e))?;
            if usize::from(key[9]) != expected {
                break;
            }
            let entries = split_bundle(&chunk).ok_or_else(|| {
                LedgerError::Corrupt(format!("a chunk of entry bundle {index} is malformed"))
            })?;
            expected += entries.len();
            bundle.extend_from_slice(&chunk);
        }
        // The bundle may have filled while its chunks were read: the batch that removes
        // them marks the full bundle in the same atomic write, so look again (a mirror
        // reading partial bundles under load caught this as a short bundle).
        if let Some(full) = self.full_bundle(index)? {
            return Ok(Some(full));
        }
        Ok((expected > 0).then_some(bundle))
    }

    /// Bundle `index` if it is stored whole.
    fn full_bundle(&self, index: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        if let Some(full) = self.get(&bundle_key(index))? {
            if full.is_empty() {
                let path = self.bundle_file(index);
                return std::fs::read(&path).map(Some).map_err(|e| {
                    LedgerError::Corrupt(format!(
                        "entry bundle {index} is recorded in {} but does not read: {e}",
                        path.display()
                    ))
                });
            }
            return Ok(Some(full.to_vec()));
        }
        Ok(None)
    }

    /// The chunk positions stored for partial bundle `index`.
    pub fn chunk_starts(&self, index: u64) -> Result<Vec<u8>, LedgerError> {
        self.tree
            .range(chunk_key(index, 0)..=chunk_key(index, u8::MAX))
            .map(|item| {
                item.map(|(key, _)| key[9])
                    .map_err(|e| storage("reading entry chunks", e))
            })
            .collect()
    }

    /// Entry `index`, if stored.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        let Some(bundle) = self.bundle(index / BUNDLE)? else {
            return Ok(None);
        };
        let entries = split_bundle(&bundle).ok_or_else(|| {
            LedgerError::Corrupt(format!("entry bundle {} is malformed", index / BUNDLE))
        })?;
        Ok(entries.get((index % BUNDLE) as usize).map(|e| e.to_vec()))
    }

    /// Entries `from..to`, in order (missing ones end the list).
    pub fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        let mut out = Vec::with_capacity(to.saturating_sub(from) as usize);
        let mut index = from;
        while index < to {
            let Some(bundle) = self.bundle(index / BUNDLE)? else {
                break;
            };
            let entries = split_bundle(&bundle).ok_or_else(|| {
                LedgerError::Corrupt(format!("entry bundle {} is malformed", index / BUNDLE))
            })?;
            let start = (index % BUNDLE) as usize;
            let wanted = (to - index).min(BUNDLE - index % BUNDLE) as usize;
            let got: Vec<Vec<u8>> = entries
                .iter()
                .skip(start)
                .take(wanted)
                .map(|e| e.to_vec())
                .collect();
            let complete = got.len() == wanted;
            index += got.len() as u64;
            out.extend(got);
            if !complete {
                break;
            }
        }
        Ok(out)
    }

    /// The stored hashes of tile (`level`, `index`): all it holds, full or partial.
    pub fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<Hash>>, LedgerError> {
        let Some(bytes) = self.get(&tile_key(level, index))? else {
            return Ok(None);
        };
        if bytes.len() % 32 != 0 || bytes.len() > 256 * 32 {
            return Err(LedgerError::Corrupt(format!(
                "tile {level}/{index} has {} bytes, not a whole number of hashes",
                bytes.len()
            )));
        }
        Ok(Some(
            bytes
                .chunks_exact(32)
                .map(|c| Hash::from_slice(c).expect("32-byte chunk"))
                .collect(),
        ))
    }

    /// The index a lookup key was recorded under.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<u64>, LedgerError> {
        Ok(self.get(&lookup_key(key))?.map(|v| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&v[..8]);
            u64::from_be_bytes(b)
        }))
    }

    /// The latest stored checkpoint note.
    pub fn checkpoint(&self) -> Result<Option<String>, LedgerError> {
        self.get(CHECKPOINT)?
            .map(|v| {
                String::from_utf8(v.to_vec())
                    .map_err(|_| LedgerError::Corrupt("the stored checkpoint is not UTF-8".into()))
            })
            .transpose()
    }

    /// The number of stored entries (one past the highest index).
    pub fn entry_count(&self) -> Result<u64, LedgerError> {
        let last_full = self
            .tree
            .range(bundle_key(0)..=bundle_key(u64::MAX))
            .next_back()
            .transpose()
            .map_err(|e| storage("reading entry bundles", e))?;
        let full = match last_full {
            None => 0,
            Some((key, _)) => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&key[1..9]);
                u64::from_be_bytes(b) + 1
            }
        };
        let partial = self.bundle(full)?;
        let partial_entries = match partial {
            None => 0,
            Some(bytes) => split_bundle(&bytes)
                .ok_or_else(|| {
                    LedgerError::Corrupt("the partial entry bundle is malformed".into())
                })?
                .len() as u64,
        };
        Ok(full * BUNDLE + partial_entries)
    }

    /// Applies a batch atomically and makes it durable. Returns only when it is.
    pub fn commit(&self, batch: Batch) -> Result<(), LedgerError> {
        #[cfg(test)]
        self.faults.before_write()?;
        for (index, bundle) in &batch.files {
            self.write_bundle_file(*index, bundle)?;
        }
        self.tree
            .apply_batch(batch.inner)
            .map_err(|e| storage("writing a batch", e))?;
        self.make_durable()
    }

    /// Where full bundle `index` is kept.
    fn bundle_file(&self, index: u64) -> std::path::PathBuf {
        self.durable
            .dir()
            .join("bundles")
            .join(format!("{index:016x}"))
    }

    /// Writes full bundle `index` to its file durably (a temporary file, fsynced, renamed,
    /// the directory fsynced). A file whose sled marker never committed (a crash between
    /// the two) is never read, and is replaced when that bundle fills again.
    fn write_bundle_file(&self, index: u64, bundle: &[u8]) -> Result<(), LedgerError> {
        use std::io::Write as _;
        let path = self.bundle_file(index);
        let dir = path.parent().unwrap_or(Path::new("."));
        let fail = |doing: &str, e: std::io::Error| {
            LedgerError::Storage(format!("{doing} {}: {e}", path.display()))
        };
        let created = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| fail("creating the directory of", e))?;
        let temporary = path.with_extension("tmp");
        let mut file = std::fs::File::create(&temporary).map_err(|e| fail("creating", e))?;
        file.write_all(bundle)
            .and_then(|()| file.sync_all())
            .map_err(|e| fail("writing", e))?;
        std::fs::rename(&temporary, &path).map_err(|e| fail("renaming into", e))?;
        crate::durable::sync_dir(dir).map_err(durable_error)?;
        if created {
            crate::durable::sync_dir(self.durable.dir()).map_err(durable_error)?;
        }
        Ok(())
    }

    /// Makes everything written so far durable (see the module docs).
    fn make_durable(&self) -> Result<(), LedgerError> {
        #[cfg(test)]
        self.faults.before_sync()?;
        self.durable.flush().map_err(durable_error)
    }

    /// Whether a batch of about `bytes` can be written without eating into the reserve
    /// of free space (see [`crate::durable`]).
    pub fn room(&self, bytes: u64) -> Result<(), LedgerError> {
        self.durable.room(bytes).map_err(durable_error)
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, LedgerError> {
        self.durable
            .db
            .size_on_disk()
            .map_err(|e| storage("measuring the store", e))
    }
}

fn durable_error(error: DurableError) -> LedgerError {
    match error {
        e @ DurableError::NoSpace { .. } => LedgerError::NoSpace(e.to_string()),
        DurableError::InUse(dir) => LedgerError::Storage(format!(
            "the ledger in {} is in use by another process (is the node running?)",
            dir.display()
        )),
        other => LedgerError::Storage(other.to_string()),
    }
}
