//! Key custody: the node's keys live in its data directory as W3C Multikey key files with
//! mode 0600, created on first use, and never leave it (not in API responses, not in logs).

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use guildmark_credentials::{DidKeyError, KeyPair};

/// Why a key file could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Other users may read the file.
    #[error("{} is readable by other users (mode {mode:o}); make it 0600 (chmod 600)", path.display())]
    Exposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Reading, creating or writing the file failed.
    #[error("{doing} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "creating", …).
        doing: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a key file.
    #[error("reading {}: {source}", path.display())]
    Format {
        /// The key file.
        path: PathBuf,
        /// Why it does not read.
        source: DidKeyError,
    },
}

fn io<'p>(doing: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> KeyFileError + 'p {
    move |source| KeyFileError::Io {
        doing,
        path: path.to_owned(),
        source,
    }
}

/// Makes `dir` (and any missing parent) a directory only its owner can enter, fixing
/// one that others could (returns the mode it had then). The node's data directory holds
/// password hashes, token digests and keys.
pub fn private_dir(dir: &Path) -> Result<Option<u32>, KeyFileError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("creating", dir))?;
    let mode = std::fs::metadata(dir)
        .map_err(io("reading", dir))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))
        .map_err(io("restricting", dir))?;
    Ok(Some(mode))
}

/// Loads the key at `path`, creating it (and its directory) if it does not exist.
///
/// Refuses a key file that others can read: a leaked issuer or log key lets anyone
/// forge credentials or checkpoints.
pub fn load_or_create(path: &Path) -> Result<KeyPair, KeyFileError> {
    if path.exists() {
        let mode = std::fs::metadata(path)
            .map_err(io("reading", path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Exposed {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io("reading", path))?;
        return KeyPair::from_key_file(&text).map_err(|source| KeyFileError::Format {
            path: path.to_owned(),
            source,
        });
    }
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    let pair = KeyPair::generate(&mut rand_core::OsRng);
    let json = serde_json::to_string_pretty(&pair.to_key_file())
        .map_err(|e| io("writing", path)(std::io::Error::other(e)))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io("creating", path))?;
    file.write_all(json.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io("writing", path))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    }
    Ok(pair)
}
