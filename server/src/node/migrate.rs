//! The node store's layout version: stamped on a new store, checked on every open, and
//! brought up to date by migrations, one version at a time, before anything else reads
//! the records. The ledger has its own version (`ledger::storage`); this one covers the
//! node's records, which later releases reshape.

use super::error::StorageError;
use super::{Node, NodeResult};

/// The layout this release reads and writes.
pub const LAYOUT_VERSION: u32 = 1;

/// Where the version is kept, in the `meta` tree.
const VERSION_KEY: &[u8] = b"layout-version";

/// One step from layout `from` to `from + 1`.
struct Migration {
    /// The layout it starts from.
    from: u32,
    /// What it changes, for the log.
    what: &'static str,
    /// The change; it must be safe to run again if the process dies before the new
    /// version is recorded.
    run: fn(&Node) -> NodeResult<()>,
}

/// Every migration, in order.
const MIGRATIONS: &[Migration] = &[Migration {
    from: 0,
    what: "records the layout version (stores written before it was kept); no record changes",
    run: |_| Ok(()),
}];

impl Node {
    /// The store's layout version: the recorded one, 0 for a store written before
    /// versions were kept, or `None` for a new, empty store.
    pub fn layout_version(&self) -> NodeResult<Option<u32>> {
        if let Some(bytes) = self.trees.meta.get(VERSION_KEY)? {
            let text = String::from_utf8_lossy(&bytes);
            let version = text.parse().map_err(|_| {
                StorageError::Version(format!(
                    "the node store's layout version {text:?} is not a number"
                ))
            })?;
            return Ok(Some(version));
        }
        let empty = self.trees.accounts.is_empty()
            && self.trees.communities.is_empty()
            && self.trees.credentials.is_empty()
            && self.trees.meta.is_empty();
        Ok(if empty { None } else { Some(0) })
    }

    /// Brings the store to [`LAYOUT_VERSION`]: stamps a new store, runs the migrations an
    /// older one needs (each step durable before the next), refuses a newer one.
    /// Returns the version the store had.
    pub(crate) fn migrate(&self) -> NodeResult<Option<u32>> {
        let found = self.layout_version()?;
        let mut version = match found {
            None => LAYOUT_VERSION,
            Some(v) if v > LAYOUT_VERSION => {
                return Err(StorageError::Version(format!(
                    "the node store has layout version {v}, written by a newer Guildmark than this one (which knows up to {LAYOUT_VERSION}); run that release or newer"
                ))
                .into())
            }
            Some(v) => v,
        };
        while version < LAYOUT_VERSION {
            let step = MIGRATIONS
                .iter()
                .find(|m| m.from == version)
                .ok_or_else(|| {
                    StorageError::Version(format!("no migration from node store layout {version}"))
                })?;
            tracing::info!(
                from = version,
                to = version + 1,
                what = step.what,
                "migrating the node store"
            );
            (step.run)(self)?;
            version += 1;
            self.record_version(version)?;
        }
        if found.is_none() {
            self.record_version(version)?;
        }
        Ok(found)
    }

    fn record_version(&self, version: u32) -> NodeResult<()> {
        self.trees
            .meta
            .insert(VERSION_KEY, version.to_string().as_bytes())?;
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Ledger, LedgerConfig};
    use guildmark_credentials::KeyPair;

    fn open(dir: &std::path::Path) -> NodeResult<std::sync::Arc<Node>> {
        let ledger = Ledger::open(
            &dir.join("ledger"),
            KeyPair::from_seed(&[7; 32]),
            LedgerConfig::new("migrate.example/log"),
        )
        .unwrap();
        Node::open(dir, ledger, "http://migrate.example")
    }

    #[test]
    fn a_new_store_is_stamped_with_this_layout() {
        let dir = tempfile::tempdir().unwrap();
        let node = open(dir.path()).unwrap();
        assert_eq!(node.layout_version().unwrap(), Some(LAYOUT_VERSION));
    }

    #[test]
    fn a_store_from_a_newer_release_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        {
            let node = open(dir.path()).unwrap();
            let newer = (LAYOUT_VERSION + 1).to_string();
            node.trees
                .meta
                .insert(VERSION_KEY, newer.as_bytes())
                .unwrap();
            node.db.flush().unwrap();
            node.ledger().shutdown();
        }
        let error = open(dir.path()).err().expect("a newer layout is refused");
        let message = error.to_string();
        assert!(
            message.contains("newer Guildmark")
                && message.contains(&(LAYOUT_VERSION + 1).to_string()),
            "{message}"
        );
        // Refusing wrote nothing: the newer release can still open it.
        let db = crate::durable::DurableDb::open(&dir.path().join("node")).unwrap();
        let meta = db.db.open_tree("meta").unwrap();
        let kept = meta.get(VERSION_KEY).unwrap().unwrap();
        assert_eq!(&kept[..], (LAYOUT_VERSION + 1).to_string().as_bytes());
    }

    #[test]
    fn every_older_layout_has_a_migration() {
        for from in 0..LAYOUT_VERSION {
            assert!(
                MIGRATIONS.iter().any(|m| m.from == from),
                "no migration from layout {from}"
            );
        }
    }
}
