//! sled, opened and flushed so that a flush means the data survives a power loss.
//!
//! sled 0.34's `flush()` ends in `sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER)`, which
//! writes the data but neither the file's metadata (its size) nor the device's write
//! cache. [`DurableDb::flush`] therefore also `fdatasync`s the `db` file, and fsyncs every
//! file in `blobs/` (where sled puts items over a quarter segment) and that directory.
//! Segments are 8 MiB so that large items stay inline. Both the ledger and the node's
//! records use this.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a store could not be opened or flushed.
#[derive(Debug, thiserror::Error)]
pub enum DurableError {
    /// Another process holds the store's lock.
    #[error("the store in {0} is in use by another process (is the node running?)")]
    InUse(PathBuf),
    /// sled failed.
    #[error("{context}: {source}")]
    Sled {
        /// What was being done.
        context: String,
        /// sled's error.
        source: sled::Error,
    },
    /// A file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Whether sled failed because another handle holds the store's lock. sled 0.34 reports
/// it as `ErrorKind::Other` with this text (`Config::open` in its `config.rs`), not as
/// `WouldBlock`.
fn lock_held(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::WouldBlock
        || error.to_string().starts_with("could not acquire lock on")
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DurableError {
    let context = context.into();
    move |source| DurableError::Io { context, source }
}

/// A sled database with a flush that really is durable.
pub struct DurableDb {
    /// The database.
    pub db: sled::Db,
    dir: PathBuf,
    data_file: Mutex<File>,
    /// Blob files already fsynced, with their length then: sled writes a blob once and
    /// never changes it, so each needs one fsync, not one per flush. The length guards
    /// against a blob another thread was still writing when it was synced.
    synced_blobs: Mutex<std::collections::HashSet<(std::ffi::OsString, u64)>>,
}

impl DurableDb {
    /// Opens (creating if needed) the database in `dir`, waiting briefly for its file
    /// lock: sled releases it only when the background I/O of a just-closed store has
    /// finished, a few milliseconds after `Drop`.
    pub fn open(dir: &Path) -> Result<DurableDb, DurableError> {
        let fresh = !dir.join("db").exists();
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let mut attempts = 0;
        let db = loop {
            let result = sled::Config::new()
                .path(dir)
                .segment_size(8 * 1024 * 1024)
                // Flushing is the caller's, when it needs durability; sled's timer only adds I/O.
                .flush_every_ms(None)
                .open();
            match result {
                Ok(db) => break db,
                // A store just closed in this process may still be locked for a moment:
                // sled's flusher thread holds the lock until it notices.
                Err(sled::Error::Io(e)) if lock_held(&e) && attempts < 40 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(sled::Error::Io(e)) if lock_held(&e) => {
                    return Err(DurableError::InUse(dir.to_owned()))
                }
                Err(source) => {
                    return Err(DurableError::Sled {
                        context: format!("opening the store in {}", dir.display()),
                        source,
                    })
                }
            }
        };
        let data_file = File::open(dir.join("db")).map_err(io("opening the store's data file"))?;
        if fresh {
            sync_dir(dir)?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
        }
        Ok(DurableDb {
            db,
            dir: dir.to_owned(),
            data_file: Mutex::new(data_file),
            synced_blobs: Mutex::new(std::collections::HashSet::new()),
        })
    }

    /// Flushes sled, then fsyncs what its flush leaves unsynced. Returns when the data
    /// written before the call is durable.
    pub fn flush(&self) -> Result<(), DurableError> {
        self.db.flush().map_err(|source| DurableError::Sled {
            context: "flushing the store".into(),
            source,
        })?;
        self.data_file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .sync_data()
            .map_err(io("fsyncing the store's data file"))?;
        let blobs = self.dir.join("blobs");
        if let Ok(entries) = std::fs::read_dir(&blobs) {
            let mut synced = self
                .synced_blobs
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut present = std::collections::HashSet::new();
            let mut any = false;
            for entry in entries.flatten() {
                let length = match entry.metadata() {
                    Ok(m) => m.len(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io("reading a blob file's length")(e)),
                };
                let name = (entry.file_name(), length);
                if !synced.contains(&name) {
                    match File::open(entry.path()).and_then(|f| f.sync_all()) {
                        Ok(()) => any = true,
                        // sled deletes blobs it no longer needs while we list them.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(io("fsyncing a blob file")(e)),
                    }
                }
                present.insert(name);
            }
            // Forget deleted blobs, so the set stays as small as the directory.
            *synced = present;
            if any {
                sync_dir(&blobs)?;
            }
        }
        Ok(())
    }

    /// [`DurableDb::flush`] off the async runtime's worker threads.
    pub async fn flush_async(self: &std::sync::Arc<Self>) -> Result<(), DurableError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .unwrap_or_else(|e| Err(io("flushing the store")(std::io::Error::other(e))))
    }
}

/// fsyncs a directory, so that files created in it survive.
pub fn sync_dir(dir: &Path) -> Result<(), DurableError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(format!("fsyncing the directory {}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_open_elsewhere_is_reported_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let held = DurableDb::open(dir.path()).unwrap();
        let started = std::time::Instant::now();
        let error = DurableDb::open(dir.path()).err().expect("the lock is held");
        assert!(matches!(error, DurableError::InUse(_)), "{error}");
        assert!(
            error.to_string().contains("is the node running?"),
            "{error}"
        );
        // It waited for a lock that might have been on its way out.
        assert!(started.elapsed() >= std::time::Duration::from_secs(1));
        drop(held);
    }

    #[test]
    fn a_store_closed_in_this_process_reopens_at_once() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..20u8 {
            let db = DurableDb::open(dir.path()).unwrap();
            db.db.insert([i], &[i]).unwrap();
            db.flush().unwrap();
        }
        let db = DurableDb::open(dir.path()).unwrap();
        assert_eq!(db.db.len(), 20);
    }
}
