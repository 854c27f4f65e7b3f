//! Key custody: the node's keys live in its data directory as W3C Multikey key files with
//! mode 0600, created on first use, and never leave it (not in API responses, not in logs).

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::{bail, Context as _};
use guildmark_credentials::KeyPair;

/// Loads the key at `path`, creating it (and its directory) if it does not exist.
///
/// Refuses a key file that others can read: a leaked issuer or log key lets anyone
/// forge credentials or checkpoints.
pub fn load_or_create(path: &Path) -> anyhow::Result<KeyPair> {
    if path.exists() {
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by other users (mode {:o}); make it 0600 (chmod 600)",
                path.display(),
                mode & 0o777
            );
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return KeyPair::from_key_file(&text)
            .with_context(|| format!("reading {}", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    let pair = KeyPair::generate(&mut rand::rngs::OsRng);
    let json = serde_json::to_string_pretty(&pair.to_key_file())?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(json.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    }
    Ok(pair)
}
