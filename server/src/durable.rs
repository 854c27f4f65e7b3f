//! sled, opened and flushed so that a flush means the data survives a power loss.
//!
//! sled 0.34's `flush()` ends in `sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER)`, which
//! writes the data but neither the file's metadata (its size) nor the device's write
//! cache. [`DurableDb::flush`] therefore also `fdatasync`s the `db` file, and fsyncs every
//! file in `blobs/` (where sled puts items over a quarter segment) and that directory.
//! Segments are 8 MiB so that large items stay inline. Both the ledger and the node's
//! records use this.
//!
//! A full disk is kept from ever reaching sled: a store opens only with [`OPEN_FREE`]
//! free, and writers ask [`DurableDb::room`] first, which keeps [`WRITE_RESERVE`] free.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// sled's segment size for our stores (persisted in each store; it cannot change).
pub const SEGMENT: u64 = 8 * 1024 * 1024;
/// Free space an open needs: sled rewrites up to a segment past the recovered tip and
/// writes a snapshot on every open (a failed snapshot write used to leave the store
/// unopenable; see [`DurableDb::open`]).
pub const OPEN_FREE: u64 = 2 * SEGMENT + 1024 * 1024;
/// Free space writes leave untouched: sled's next segment, a rewritten leaf of full
/// ledger bundles written as one blob (17 bundles of 256 entries), and the node's
/// records written after a ledger append. Writes past it are refused (503), never
/// attempted: sled poisons itself on a failed write until the process restarts.
pub const WRITE_RESERVE: u64 = 48 * 1024 * 1024;

/// Why a store could not be opened or flushed.
#[derive(Debug, thiserror::Error)]
pub enum DurableError {
    /// Another process holds the store's lock.
    #[error("the store in {0} is in use by another process (is the node running?)")]
    InUse(PathBuf),
    /// The filesystem holding the store has too little free space.
    #[error("{free_mib} MiB free on the filesystem of {dir}, below the {needed_mib} MiB the store keeps free; free some space (nothing was written)")]
    NoSpace {
        /// The store.
        dir: PathBuf,
        /// Free MiB.
        free_mib: u64,
        /// MiB needed.
        needed_mib: u64,
    },
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
    ///
    /// Refuses to open with less than [`OPEN_FREE`] free, and first removes any
    /// `snap.*.generating` file: sled writes a snapshot on every open, and a write that
    /// fails (a full disk) leaves that file behind, which every later open then takes for
    /// the newest snapshot and reports as "Read corrupted data". Such a file is never a
    /// committed snapshot (sled renames it when complete); without it sled reads the
    /// previous snapshot and replays the log from there, as after a crash.
    pub fn open(dir: &Path) -> Result<DurableDb, DurableError> {
        let fresh = !dir.join("db").exists();
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        remove_unfinished_snapshots(dir)?;
        check_free(dir, OPEN_FREE)?;
        let mut attempts = 0;
        let db = loop {
            let result = sled::Config::new()
                .path(dir)
                .segment_size(SEGMENT as usize)
                // Writers flush when they need durability; sled's timer thread is also
                // the only caller of its segment cleaner: without it, segments are freed
                // only when every page in them was rewritten (2.8× the entries' bytes on
                // disk under load, against 4.2× without; `benches/issuance.rs`).
                .flush_every_ms(Some(1000))
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

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether `bytes` more can be written and [`WRITE_RESERVE`] still stay free.
    pub fn room(&self, bytes: u64) -> Result<(), DurableError> {
        check_free(&self.dir, WRITE_RESERVE + bytes)
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

/// What [`recover`] did to a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// It opened as it was (after removing any unfinished snapshot).
    Opened,
    /// Its snapshots did not read; they were set aside (the whole store copied to
    /// `backup` first) and sled rebuilt its index by replaying its whole log.
    Replayed {
        /// The copy of the store as it was.
        backup: PathBuf,
    },
}

/// Brings a store that does not open back: first as [`DurableDb::open`] does (unfinished
/// snapshots removed); if sled still reports corruption, copies the store aside and
/// opens it without its snapshots, which only cache sled's page table, so sled replays
/// the log they summarised. Never deletes a segment or blob; refuses without room for
/// the copy.
pub fn recover(dir: &Path) -> Result<Recovery, DurableError> {
    match DurableDb::open(dir) {
        Ok(_) => return Ok(Recovery::Opened),
        Err(DurableError::Sled {
            source: sled::Error::Corruption { .. },
            ..
        }) => {}
        Err(other) => return Err(other),
    }
    let size = dir_size(dir)?;
    check_free(dir, size + OPEN_FREE)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = dir
        .file_name()
        .map_or("store".into(), |n| n.to_string_lossy().into_owned());
    let backup = dir.with_file_name(format!("{name}.broken-{stamp}"));
    copy_dir(dir, &backup)?;
    sync_dir(backup.parent().unwrap_or(Path::new(".")))?;
    for entry in std::fs::read_dir(dir)
        .map_err(io(format!("reading {}", dir.display())))?
        .flatten()
    {
        if entry.file_name().to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(entry.path())
                .map_err(io(format!("setting aside {}", entry.path().display())))?;
        }
    }
    sync_dir(dir)?;
    DurableDb::open(dir)?;
    Ok(Recovery::Replayed { backup })
}

fn dir_size(dir: &Path) -> Result<u64, DurableError> {
    let mut size = 0;
    for entry in std::fs::read_dir(dir)
        .map_err(io(format!("reading {}", dir.display())))?
        .flatten()
    {
        let meta = entry.metadata().map_err(io("reading a file's size"))?;
        size += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(size)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), DurableError> {
    std::fs::create_dir_all(to).map_err(io(format!("creating {}", to.display())))?;
    for entry in std::fs::read_dir(from)
        .map_err(io(format!("reading {}", from.display())))?
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .and_then(|_| File::open(&target)?.sync_all())
                .map_err(io(format!("copying {}", entry.path().display())))?;
        }
    }
    sync_dir(to)
}

/// Refuses when the filesystem of `dir` has less than `needed` bytes free.
fn check_free(dir: &Path, needed: u64) -> Result<(), DurableError> {
    let free = fs2::available_space(dir)
        .map_err(io(format!("reading the free space of {}", dir.display())))?;
    if free < needed {
        return Err(DurableError::NoSpace {
            dir: dir.to_owned(),
            free_mib: free >> 20,
            needed_mib: needed.div_ceil(1 << 20),
        });
    }
    Ok(())
}

/// Removes the `snap.*.generating` files a failed snapshot write left in `dir`.
fn remove_unfinished_snapshots(dir: &Path) -> Result<(), DurableError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!(file = %entry.path().display(), "removing an unfinished sled snapshot (a write that failed, e.g. on a full disk)");
            std::fs::remove_file(entry.path())
                .map_err(io(format!("removing {}", entry.path().display())))?;
            removed = true;
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
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
