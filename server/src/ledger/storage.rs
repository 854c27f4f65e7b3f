//! The ledger's sled store: key layout, atomic batches, and durability.
//!
//! Everything lives in one sled tree so that a batch (entries, tiles, lookup keys and
//! the checkpoint) is applied atomically by `apply_batch`:
//!
//! | key | value |
//! |---|---|
//! | `e` ‖ index (u64 BE) | entry bytes |
//! | `t` ‖ level (u8) ‖ tile index (u64 BE) | the tile's hashes, 32 bytes each (partial or full) |
//! | `k` ‖ SHA-256(lookup key) | entry index (u64 BE) |
//! | `c` | the latest signed checkpoint note |
//! | `m/version`, `m/origin` | layout version and the log's origin |
//!
//! # Durability
//!
//! sled 0.34's `flush()` ends in `sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER)`, which
//! writes the data but neither the file's metadata (its size) nor the device's write
//! cache. After every flush we therefore `fdatasync` the `db` file, and fsync any file in
//! `blobs/` (where sled puts items over a quarter segment) and that directory. Segments
//! are 8 MiB so that nodes of up to 17 maximum-size entries stay inline. The data
//! directory itself is fsynced when the store is created. An append is acknowledged only
//! after all of this returned.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use guildmark_credentials::merkle::Hash;
use sha2::{Digest, Sha256};

use super::LedgerError;

/// Layout version, checked on open.
const VERSION: &[u8] = b"1";

/// The sled store of one ledger.
pub(crate) struct Store {
    db: sled::Db,
    tree: sled::Tree,
    dir: PathBuf,
    data_file: Mutex<File>,
    #[cfg(test)]
    pub(crate) faults: super::tests::Faults,
}

/// A set of writes applied atomically.
#[derive(Default)]
pub(crate) struct Batch {
    inner: sled::Batch,
}

impl Batch {
    pub fn entry(&mut self, index: u64, entry: &[u8]) {
        self.inner.insert(entry_key(index).to_vec(), entry);
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
        self.inner.insert(b"c".to_vec(), note.as_bytes());
    }
}

fn entry_key(index: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = b'e';
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
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
        let fresh = !dir.join("db").exists();
        std::fs::create_dir_all(dir).map_err(|e| storage("creating the ledger directory", e))?;
        let db = open_db(dir)?;
        let tree = db
            .open_tree("ledger")
            .map_err(|e| storage("opening the ledger tree", e))?;
        let data_file =
            File::open(dir.join("db")).map_err(|e| storage("opening the store's data file", e))?;
        let store = Store {
            db,
            tree,
            dir: dir.to_owned(),
            data_file: Mutex::new(data_file),
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
            Some(version) if version.as_ref() == VERSION => {
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
        if fresh {
            // Make the new files' directory entries durable.
            sync_dir(dir)?;
        }
        Ok(Arc::new(store))
    }

    /// The origin of the ledger in `dir`, if one exists there.
    pub fn stored_origin(dir: &Path) -> Result<Option<String>, LedgerError> {
        if !dir.join("db").exists() {
            return Ok(None);
        }
        let db = open_db(dir)?;
        let tree = db
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

    /// Entry `index`, if stored.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.get(&entry_key(index))?.map(|v| v.to_vec()))
    }

    /// Entries `from..to`, in order (missing ones end the list).
    pub fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        let mut out = Vec::with_capacity((to - from) as usize);
        for item in self.tree.range(entry_key(from)..entry_key(to)) {
            let (_, value) = item.map_err(|e| storage("reading entries", e))?;
            out.push(value.to_vec());
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
        self.get(b"c")?
            .map(|v| {
                String::from_utf8(v.to_vec())
                    .map_err(|_| LedgerError::Corrupt("the stored checkpoint is not UTF-8".into()))
            })
            .transpose()
    }

    /// The number of stored entries (one past the highest index).
    pub fn entry_count(&self) -> Result<u64, LedgerError> {
        let last = self
            .tree
            .range(entry_key(0)..=entry_key(u64::MAX))
            .next_back()
            .transpose()
            .map_err(|e| storage("reading entries", e))?;
        Ok(match last {
            None => 0,
            Some((key, _)) => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&key[1..9]);
                u64::from_be_bytes(b) + 1
            }
        })
    }

    /// Applies a batch atomically and makes it durable. Returns only when it is.
    pub fn commit(&self, batch: Batch) -> Result<(), LedgerError> {
        #[cfg(test)]
        self.faults.before_write()?;
        self.tree
            .apply_batch(batch.inner)
            .map_err(|e| storage("writing a batch", e))?;
        self.make_durable()
    }

    /// Flushes sled, then fsyncs what `flush` leaves unsynced (see the module docs).
    fn make_durable(&self) -> Result<(), LedgerError> {
        #[cfg(test)]
        self.faults.before_sync()?;
        self.db
            .flush()
            .map_err(|e| storage("flushing the store", e))?;
        self.data_file
            .lock()
            .map_err(|_| LedgerError::Storage("the data file lock is poisoned".into()))?
            .sync_data()
            .map_err(|e| storage("fsyncing the store's data file", e))?;
        let blobs = self.dir.join("blobs");
        if let Ok(entries) = std::fs::read_dir(&blobs) {
            let mut any = false;
            for entry in entries.flatten() {
                any = true;
                File::open(entry.path())
                    .and_then(|f| f.sync_all())
                    .map_err(|e| storage("fsyncing a blob file", e))?;
            }
            if any {
                sync_dir(&blobs)?;
            }
        }
        Ok(())
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, LedgerError> {
        self.db
            .size_on_disk()
            .map_err(|e| storage("measuring the store", e))
    }
}

/// Opens sled, waiting briefly for its file lock: sled releases the lock only when its
/// background I/O of a just-closed store has finished, a few milliseconds after `Drop`.
fn open_db(dir: &Path) -> Result<sled::Db, LedgerError> {
    let mut attempts = 0;
    loop {
        let result = sled::Config::new()
            .path(dir)
            .segment_size(8 * 1024 * 1024)
            // Flushing is ours (after every batch); sled's timer only adds I/O.
            .flush_every_ms(None)
            .open();
        match result {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock && attempts < 40 =>
            {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(sled::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(LedgerError::Storage(format!(
                    "the ledger in {} is in use by another process (is the node running?)",
                    dir.display()
                )))
            }
            Err(e) => return Err(storage("opening the ledger store", e)),
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| storage(&format!("fsyncing the directory {}", dir.display()), e))
}
