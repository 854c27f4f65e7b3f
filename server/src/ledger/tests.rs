//! The ledger against real sled stores in temporary directories: faults injected between
//! the steps of a batch (Sunlight's fault table), reopening, and byte-for-byte interop with
//! Tessera's and Sunlight's test logs.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use guildmark_credentials::checkpoint::{check_consistency, verify_checkpoint, Checkpoint};
use guildmark_credentials::merkle::leaf_hash;
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::tile::{Tile, TileKind};
use guildmark_credentials::KeyPair;

use super::{audit, Ledger, LedgerConfig, LedgerError};

/// Faults a test can switch on in the store.
#[derive(Default)]
pub(crate) struct Faults {
    pub fail_write: AtomicBool,
    pub fail_sync: AtomicBool,
}

impl Faults {
    pub fn before_write(&self) -> Result<(), LedgerError> {
        if self.fail_write.load(Ordering::SeqCst) {
            return Err(LedgerError::Storage(
                "injected: the batch write fails".into(),
            ));
        }
        Ok(())
    }

    pub fn before_sync(&self) -> Result<(), LedgerError> {
        if self.fail_sync.load(Ordering::SeqCst) {
            return Err(LedgerError::Storage("injected: flush/fsync fails".into()));
        }
        Ok(())
    }
}

/// `testdata/tlog` at the repository root (sources in `testdata/README.md`).
fn vectors() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/tlog"))
}

fn key() -> KeyPair {
    KeyPair::from_seed(&[11; 32])
}

/// No pool window: these tests append one at a time and would only wait.
fn config(origin: &str) -> LedgerConfig {
    LedgerConfig {
        pool_window: std::time::Duration::ZERO,
        ..LedgerConfig::new(origin)
    }
}

fn open(dir: &std::path::Path) -> Ledger {
    Ledger::open(dir, key(), config("test.example/log")).unwrap()
}

/// What a client learned: acknowledged entries and every checkpoint it saw.
#[derive(Default)]
struct Witnessed {
    acked: Vec<(u64, Vec<u8>)>,
    checkpoints: Vec<Checkpoint>,
}

impl Witnessed {
    fn record(&mut self, entry: Vec<u8>, receipt: &Receipt, ledger: &Ledger) {
        let verified = receipt.verify(&entry, ledger.verifier_key(), &[]).unwrap();
        self.acked.push((receipt.index, entry));
        self.checkpoints.push(verified.checkpoint);
    }

    /// Re-verifies the ledger: its signature, every acknowledged entry (bytes and
    /// inclusion), consistency with every checkpoint seen, and the full audit.
    fn check(&self, ledger: &Ledger) {
        let published = ledger.published();
        let current = verify_checkpoint(&published.note, ledger.verifier_key(), &[])
            .unwrap()
            .checkpoint;
        for (index, entry) in &self.acked {
            assert_eq!(&ledger.entry(*index).unwrap(), entry, "entry {index}");
            ledger
                .receipt(*index)
                .unwrap()
                .verify(entry, ledger.verifier_key(), &[])
                .unwrap();
        }
        for old in &self.checkpoints {
            let proof = ledger.consistency_proof(old.size, current.size).unwrap();
            check_consistency(old, &current, &proof).unwrap();
        }
    }
}

#[test]
fn appends_survive_reopening_and_audit_clean() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Witnessed::default();
    {
        let ledger = open(dir.path());
        for i in 0..600u32 {
            let entry = format!("entry {i}").into_bytes();
            let receipt = ledger
                .append_blocking(entry.clone(), vec![format!("id:{i}").into_bytes()])
                .unwrap();
            assert_eq!(receipt.index, u64::from(i));
            seen.record(entry, &receipt, &ledger);
        }
        assert_eq!(ledger.find(b"id:599").unwrap(), Some(599));
        assert_eq!(
            ledger.append_blocking(b"again".to_vec(), vec![b"id:7".to_vec()]),
            Err(LedgerError::Duplicate { index: 7 })
        );
        seen.check(&ledger);
        ledger.shutdown();
    }
    let ledger = open(dir.path());
    assert_eq!(ledger.published().checkpoint.size, 600);
    seen.check(&ledger);
    drop(ledger);
    let report = audit::audit(dir.path(), open_verifier().as_ref(), |_, _| {}).unwrap();
    assert!(report.is_sound(), "{:?}", report.damage);
    assert_eq!((report.entries_checked, report.size), (600, 600));
}

fn open_verifier() -> Box<guildmark_credentials::note::VerifierKey> {
    Box::new(
        guildmark_credentials::note::VerifierKey::ed25519(
            "test.example/log",
            *key().did_key().public_key(),
        )
        .unwrap(),
    )
}

/// Sunlight's fault table: break a step, append, check the outcome, repair, reopen.
#[test]
fn fault_table() {
    struct Row {
        name: &'static str,
        break_it: fn(&super::storage::Store),
        /// Whether the failed batch may be present after a restart (it was written but
        /// its durability is unknown); it was never acknowledged either way.
        may_persist: bool,
    }
    let rows = [
        Row {
            name: "the batch write fails: nothing persisted",
            break_it: |s| s.faults.fail_write.store(true, Ordering::SeqCst),
            may_persist: false,
        },
        Row {
            name: "flush/fsync fails after the batch is written",
            break_it: |s| s.faults.fail_sync.store(true, Ordering::SeqCst),
            may_persist: true,
        },
    ];
    for row in rows {
        let dir = tempfile::tempdir().unwrap();
        let mut seen = Witnessed::default();
        let ledger = open(dir.path());
        for i in 0..5u8 {
            let receipt = ledger.append_blocking(vec![i], vec![]).unwrap();
            seen.record(vec![i], &receipt, &ledger);
        }
        (row.break_it)(&ledger.inner.store);
        let failed = ledger.append_blocking(b"doomed".to_vec(), vec![]);
        assert!(
            matches!(failed, Err(LedgerError::Storage(_))),
            "{}: {failed:?}",
            row.name
        );
        // Fatal: the ledger stops; readers still see the last published checkpoint.
        assert_eq!(
            ledger.append_blocking(b"after".to_vec(), vec![]),
            Err(LedgerError::Stopped),
            "{}",
            row.name
        );
        assert_eq!(ledger.published().checkpoint.size, 5, "{}", row.name);
        seen.check(&ledger);
        drop(ledger);

        // Restart: the log opens without repair and is consistent with all it published.
        let ledger = open(dir.path());
        let size = ledger.published().checkpoint.size;
        assert!(
            size == 5 || (row.may_persist && size == 6),
            "{}: size {size}",
            row.name
        );
        seen.check(&ledger);
        let receipt = ledger
            .append_blocking(b"recovered".to_vec(), vec![])
            .unwrap();
        seen.record(b"recovered".to_vec(), &receipt, &ledger);
        seen.check(&ledger);
        drop(ledger);
        let report = audit::audit(dir.path(), &open_verifier(), |_, _| {}).unwrap();
        assert!(report.is_sound(), "{}: {:?}", row.name, report.damage);
    }
}

#[test]
fn a_damaged_store_is_refused_and_the_audit_says_where() {
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = open(dir.path());
        for i in 0..300u32 {
            ledger
                .append_blocking(i.to_be_bytes().to_vec(), vec![])
                .unwrap();
        }
    }
    // Overwrite one entry behind the ledger's back.
    {
        let store = super::storage::Store::open(dir.path(), "test.example/log").unwrap();
        let bundle = store.bundle(0).unwrap().unwrap();
        let mut forged = Vec::new();
        for (i, entry) in super::storage::split_bundle(&bundle)
            .unwrap()
            .into_iter()
            .enumerate()
        {
            let entry: &[u8] = if i == 42 { b"forged" } else { entry };
            forged.extend_from_slice(&(entry.len() as u16).to_be_bytes());
            forged.extend_from_slice(entry);
        }
        let mut batch = super::storage::Batch::default();
        batch.bundle(0, &forged);
        store.commit(batch).unwrap();
    }
    let report = audit::audit(dir.path(), &open_verifier(), |_, _| {}).unwrap();
    assert!(
        report.damage.iter().any(|d| d.contains("entry 42")),
        "{:?}",
        report.damage
    );
    // Forge a tile too: then opening refuses to serve it.
    {
        let store = super::storage::Store::open(dir.path(), "test.example/log").unwrap();
        let mut batch = super::storage::Batch::default();
        batch.tile(0, 1, &[leaf_hash(b"forged"); 44]);
        store.commit(batch).unwrap();
    }
    match Ledger::open(dir.path(), key(), config("test.example/log")) {
        Err(LedgerError::Corrupt(detail)) => assert!(detail.contains("root"), "{detail}"),
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("a forged tile was accepted"),
    }
    // A different origin is another log: refused.
    assert!(matches!(
        Ledger::open(dir.path(), key(), config("other.example/log")),
        Err(LedgerError::Corrupt(_))
    ));
}

/// Go's private key string `PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)`.
fn go_key(skey: &str) -> (String, KeyPair) {
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(parts[4])
        .unwrap();
    (
        parts[2].to_owned(),
        KeyPair::from_seed(&raw[1..].try_into().unwrap()),
    )
}

#[test]
fn tessera_testdata_log_is_reproduced_byte_for_byte() {
    let d: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("tessera_testdata_log.json")).unwrap(),
    )
    .unwrap();
    let (origin, key) = go_key(d["log_skey"].as_str().unwrap());
    let files = vectors().join("tessera_testdata_log");
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), key, config(&origin)).unwrap();
    let mut compared = 0;
    for (size, entry) in d["entries"].as_array().unwrap().iter().enumerate() {
        let size = size + 1;
        ledger
            .append_blocking(
                entry["data_utf8"].as_str().unwrap().as_bytes().to_vec(),
                vec![],
            )
            .unwrap();
        // Same body bytes and Ed25519 is deterministic: the whole checkpoint is identical.
        let expected = std::fs::read_to_string(files.join(format!("checkpoint.{size}"))).unwrap();
        assert_eq!(ledger.published().note, expected, "checkpoint.{size}");
        for kind in [TileKind::Hash(0), TileKind::Entries] {
            let tile = Tile {
                kind,
                index: 0,
                width: size as u16,
            };
            let expected = std::fs::read(files.join(tile.path())).unwrap();
            assert_eq!(ledger.tile(&tile).unwrap(), expected, "{}", tile.path());
            compared += 1;
        }
    }
    assert_eq!(compared, 30);
    // And the empty log's checkpoint.0 is what a fresh ledger signs.
    let dir0 = tempfile::tempdir().unwrap();
    let (origin, key) = go_key(d["log_skey"].as_str().unwrap());
    let empty = Ledger::open(dir0.path(), key, config(&origin)).unwrap();
    assert_eq!(
        empty.published().note,
        std::fs::read_to_string(files.join("checkpoint.0")).unwrap()
    );
}

#[test]
fn sunlight_records_give_identical_tiles_and_root() {
    let base = vectors().join("sunlight_skylight_testdata/witness/mirror/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706");
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), key(), config("rome2026h1.example.org")).unwrap();
    // In batches of varying size, so tiles fill across batch boundaries.
    let mut next = 0u32;
    for chunk in [1u32, 7, 100, 148, 44] {
        let handles: Vec<_> = (next..next + chunk)
            .map(|i| {
                let ledger = ledger.clone();
                std::thread::spawn(move || {
                    ledger
                        .append_blocking(format!("record {i}").into_bytes(), vec![])
                        .unwrap()
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        next += chunk;
    }
    assert_eq!(next, 300);
    // Concurrent appends may be ordered differently; the checkpoint root fixes the order
    // only for sequential appends, so compare against entries as stored.
    let ordered: Vec<Vec<u8>> = (0..300).map(|i| ledger.entry(i).unwrap()).collect();
    let sequential = tempfile::tempdir().unwrap();
    let reference =
        Ledger::open(sequential.path(), key(), config("rome2026h1.example.org")).unwrap();
    for i in 0..300 {
        reference
            .append_blocking(format!("record {i}").into_bytes(), vec![])
            .unwrap();
    }
    for path in ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"] {
        let expected = std::fs::read(base.join(path)).unwrap();
        assert_eq!(
            reference.tile(&Tile::parse(path).unwrap()).unwrap(),
            expected,
            "{path}"
        );
    }
    let checkpoint = std::fs::read_to_string(base.join("checkpoint")).unwrap();
    let root_line = checkpoint.lines().nth(2).unwrap();
    assert_eq!(reference.published().checkpoint.root.to_base64(), root_line);
    // The concurrently built log holds the same records and audits clean.
    let mut records: Vec<String> = ordered
        .iter()
        .map(|e| String::from_utf8(e.clone()).unwrap())
        .collect();
    records.sort();
    let mut want: Vec<String> = (0..300).map(|i| format!("record {i}")).collect();
    want.sort();
    assert_eq!(records, want);
    drop(ledger);
    let report = audit::audit(
        dir.path(),
        &guildmark_credentials::note::VerifierKey::ed25519(
            "rome2026h1.example.org",
            *key().did_key().public_key(),
        )
        .unwrap(),
        |_, _| {},
    )
    .unwrap();
    assert!(report.is_sound(), "{:?}", report.damage);
}

#[test]
fn reads_beyond_the_tree_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    for i in 0..10u8 {
        ledger.append_blocking(vec![i], vec![]).unwrap();
    }
    for path in [
        "tile/0/000.p/11",
        "tile/0/000",
        "tile/0/001.p/1",
        "tile/1/000.p/1",
        "tile/entries/000.p/11",
    ] {
        assert!(
            matches!(
                ledger.tile(&Tile::parse(path).unwrap()),
                Err(LedgerError::NotFound(_))
            ),
            "{path}"
        );
    }
    assert!(ledger.tile(&Tile::parse("tile/0/000.p/3").unwrap()).is_ok());
    assert!(matches!(ledger.entry(10), Err(LedgerError::NotFound(_))));
    assert!(matches!(
        ledger.consistency_proof(5, 11),
        Err(LedgerError::NotFound(_))
    ));
    assert!(matches!(
        ledger.consistency_proof(6, 5),
        Err(LedgerError::BadRequest(_))
    ));
    assert_eq!(ledger.consistency_proof(0, 10).unwrap(), vec![]);
    assert!(matches!(
        ledger.append_blocking(vec![0; super::MAX_ENTRY + 1], vec![]),
        Err(LedgerError::EntryTooLarge(_))
    ));
}

#[test]
fn a_mirror_copies_a_log_exactly_and_refuses_what_does_not_extend_it() {
    use super::mirror::{Mirror, MirrorError};
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir.path().join("log"));
    let mirror = Mirror::open(&dir.path().join("mirror"), ledger.verifier_key().clone()).unwrap();
    let mut sizes = Vec::new();
    // Grow across bundle and tile boundaries, mirroring in uneven steps.
    for step in [1u64, 254, 3, 300, 0, 800] {
        let from = ledger.published().checkpoint.size;
        let entries: Vec<Vec<u8>> = (from..from + step)
            .map(|i| format!("entry {i}").into_bytes())
            .collect();
        for entry in &entries {
            ledger.append_blocking(entry.clone(), vec![]).unwrap();
        }
        let published = ledger.published();
        let new = ledger
            .entries(mirror.size(), published.checkpoint.size)
            .unwrap();
        mirror.extend(&new, &published.note).unwrap();
        sizes.push(published.checkpoint.size);
    }
    let size = ledger.published().checkpoint.size;
    assert_eq!(mirror.size(), size);
    for tile in [
        Tile::parse("tile/0/000").unwrap(),
        Tile::parse("tile/1/000.p/5").unwrap(),
        Tile::parse("tile/entries/001").unwrap(),
        Tile::parse(&format!("tile/entries/{:03}.p/{}", size / 256, size % 256)).unwrap(),
    ] {
        assert_eq!(
            mirror.tile(&tile).unwrap(),
            ledger.tile(&tile).unwrap(),
            "{tile:?}"
        );
    }

    // A tampered entry, a checkpoint by another key, too few entries, a smaller size:
    // refused, and nothing changes.
    ledger.append_blocking(b"next".to_vec(), vec![]).unwrap();
    let next = ledger.published();
    assert!(matches!(
        mirror.extend(&[b"nexT".to_vec()], &next.note),
        Err(MirrorError::Inconsistent { .. })
    ));
    assert!(matches!(
        mirror.extend(&[], &next.note),
        Err(MirrorError::WrongCount { .. })
    ));
    let other = Ledger::open(
        &dir.path().join("other"),
        KeyPair::from_seed(&[12; 32]),
        config("test.example/log"),
    )
    .unwrap();
    other.append_blocking(b"x".to_vec(), vec![]).unwrap();
    assert!(matches!(
        mirror.extend(&[b"x".to_vec()], &other.published().note),
        Err(MirrorError::Signature(_))
    ));
    let first = open_at_size(&dir, sizes[0]);
    assert!(matches!(
        mirror.extend(&[], &first),
        Err(MirrorError::Shrunk { .. })
    ));
    assert_eq!(mirror.size(), size);
    mirror.extend(&[b"next".to_vec()], &next.note).unwrap();
    // The same size again is fine; reopened, the mirror still verifies.
    mirror.extend(&[], &next.note).unwrap();
    drop(mirror);
    let reopened = Mirror::open(&dir.path().join("mirror"), ledger.verifier_key().clone()).unwrap();
    assert_eq!(reopened.size(), size + 1);
}

/// A checkpoint of the test log at `size` (a log of that many entries, signed with the
/// same key, holds the same tree).
fn open_at_size(dir: &tempfile::TempDir, size: u64) -> String {
    let ledger = open(&dir.path().join(format!("at-{size}")));
    for i in 0..size {
        ledger
            .append_blocking(format!("entry {i}").into_bytes(), vec![])
            .unwrap();
    }
    ledger.published().note
}
