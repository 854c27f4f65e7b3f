//! A node whose disk fills up under load, on a small tmpfs the test mounts (so it needs
//! root, as CI and `scripts/test` run): writes are refused with 503 before the disk is
//! full and reads go on; in every order of events (stop while full, grow without a
//! restart, restart while full then grow, an unfinished snapshot left by a failed open)
//! the node stops promptly, starts again once there is room, and every acknowledged
//! credential is there, with a sound ledger.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{bin, guildmark, Server};
use crate::http::Api;

const PASSWORD: &str = "guildmark-demo";
const PUBLIC: &str = "https://saltmarsh.example";

/// A tmpfs of a given size, mounted on a fresh directory; unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl SmallDisk {
    fn new(mib: u64) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("disk");
        std::fs::create_dir(&root).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&root)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mounting a {mib} MiB tmpfs failed: the disk-full tests need root (scripts/test and CI run as root)"
        );
        SmallDisk { _dir: dir, root }
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn free_mib(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=avail", "-B1M"])
            .arg(&self.root)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Takes space with a file until `leave` MiB are free.
    fn fill_to(&self, leave: u64) {
        let filler = self.root.join(format!("filler-{}", self.free_mib()));
        let take = self.free_mib().saturating_sub(leave);
        if take > 0 {
            std::fs::write(&filler, vec![0xA5u8; (take as usize) << 20]).unwrap();
        }
    }

    /// Frees what [`SmallDisk::fill_to`] took.
    fn empty(&self) {
        for entry in std::fs::read_dir(&self.root).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("filler-") {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
    }

    /// Grows the filesystem to `mib` MiB while it is in use.
    fn grow(&self, mib: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={mib}m")])
            .arg(&self.root)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.root).status();
    }
}

/// One acknowledged badge: its UUID and credential.
type Acknowledged = (String, Value);

/// Four writers issue badges until each has been refused for a full disk; returns
/// what was acknowledged. Every refusal must be a 503 `insufficient-storage` with
/// Retry-After, and reads must go on.
async fn issue_until_full(api: &Api, token: &str) -> Vec<Acknowledged> {
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let api = api.clone();
            let token = token.to_owned();
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for _ in 0..2000 {
                    let reply = api
                        .post(
                            "/api/v1/communities/saltmarsh/badges",
                            Some(&token),
                            json!({"recipient": "ada", "achievement": "soldering-l1"}),
                        )
                        .await;
                    match reply.status.as_u16() {
                        201 => acknowledged.push((
                            reply.body["uuid"].as_str().unwrap().to_owned(),
                            reply.body["credential"].clone(),
                        )),
                        503 => {
                            assert!(reply.headers.get("retry-after").is_some());
                            let problem = reply.problem(503, "insufficient-storage");
                            assert!(
                                problem["detail"].as_str().unwrap().contains("disk"),
                                "{problem}"
                            );
                            return acknowledged;
                        }
                        other => panic!(
                            "an issuance on a filling disk answered {other}: {}",
                            reply.body
                        ),
                    }
                }
                panic!("2000 issuances and the disk is not full");
            })
        })
        .collect();
    let mut all = Vec::new();
    for writer in writers {
        all.extend(writer.await.unwrap());
    }
    println!(
        "{} issuances acknowledged before the disk was full",
        all.len()
    );
    // Reads go on.
    api.get("/api/v1/ledger").await.expect(200);
    let (uuid, _) = all.first().expect("some issuances were acknowledged");
    api.get(&format!("/api/v1/credentials/{uuid}"))
        .await
        .expect(200);
    all
}

/// Every acknowledged badge is on the node as it was acknowledged, and the ledger
/// audits sound.
async fn all_there(server: &mut Server, acknowledged: &[Acknowledged]) {
    let api = Api::new(&server.url);
    for (uuid, credential) in acknowledged {
        let record = api
            .get(&format!("/api/v1/credentials/{uuid}"))
            .await
            .expect(200);
        assert_eq!(&record["credential"], credential, "{uuid}");
    }
    server.stop();
    let check = guildmark(
        server.data().parent().unwrap(),
        &["ledger", "check", "--data", server.data().to_str().unwrap()],
        None,
    )
    .expect(0);
    assert!(check.stdout.contains("sound"), "{}", check.stdout);
}

/// A node on `disk`, filled to just above its write reserve; noor's token.
async fn node_on(disk: &SmallDisk) -> (Server, Api, String) {
    let server = Server::start_in(&disk.data(), &["--demo", "--public-url", PUBLIC]);
    let api = Api::new(&server.url);
    let noor = api.token("noor", PASSWORD).await; // saltmarsh admin and assessor
    disk.fill_to(56); // the reserve is 48 MiB
    (server, api, noor)
}

/// Runs `guildmark serve` on `data`, expecting it to refuse to start; its stderr.
fn refused_start(data: &Path) -> String {
    let out = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("GUILDMARK_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the node started on a full disk");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_and_loses_nothing() {
    // 1. Stop while full: SIGTERM ends the node promptly; it starts once there is room.
    {
        let disk = SmallDisk::new(160);
        let (mut server, api, noor) = node_on(&disk).await;
        let acknowledged = issue_until_full(&api, &noor).await;
        let stopping = Instant::now();
        server.stop();
        assert!(
            stopping.elapsed() < Duration::from_secs(30),
            "{:?}",
            stopping.elapsed()
        );
        disk.empty();
        server.restart(&["--public-url", PUBLIC]);
        all_there(&mut server, &acknowledged).await;
    }
    // 2. Grow without a restart: writes are taken again.
    {
        let disk = SmallDisk::new(160);
        let (mut server, api, noor) = node_on(&disk).await;
        let mut acknowledged = issue_until_full(&api, &noor).await;
        disk.grow(320);
        let again = api
            .post(
                "/api/v1/communities/saltmarsh/badges",
                Some(&noor),
                json!({"recipient": "ada", "achievement": "soldering-l1"}),
            )
            .await
            .expect(201);
        acknowledged.push((
            again["uuid"].as_str().unwrap().to_owned(),
            again["credential"].clone(),
        ));
        all_there(&mut server, &acknowledged).await;
    }
    // 3. Killed while full, started while still full (refused, clearly, and harmless),
    //    then started after the disk grew.
    {
        let disk = SmallDisk::new(160);
        let (mut server, api, noor) = node_on(&disk).await;
        let acknowledged = issue_until_full(&api, &noor).await;
        server.kill();
        disk.fill_to(4);
        for _ in 0..3 {
            let stderr = refused_start(&disk.data());
            assert!(stderr.contains("MiB free"), "{stderr}");
        }
        disk.grow(400);
        let mut server = Server::start_in(&disk.data(), &["--public-url", PUBLIC]);
        all_there(&mut server, &acknowledged).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_snapshot_does_not_stop_the_node_from_opening() {
    // 4. What a failed open on a full disk left before: an empty `snap.<n>.generating`
    //    beside the real snapshot, newer than it, in both stores.
    let disk = SmallDisk::new(200);
    let (mut server, api, noor) = node_on(&disk).await;
    let acknowledged = issue_until_full(&api, &noor).await;
    server.stop();
    disk.empty();
    for store in ["ledger", "node"] {
        std::fs::write(
            disk.data()
                .join(store)
                .join("snap.7FFFFFFFFFFFFFFF.generating"),
            b"",
        )
        .unwrap();
    }
    let mut server = Server::start_in(&disk.data(), &["--public-url", PUBLIC]);
    for store in ["ledger", "node"] {
        let left: Vec<_> = std::fs::read_dir(disk.data().join(store))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".generating"))
            .collect();
        assert!(left.is_empty(), "{store}: {left:?}");
    }
    all_there(&mut server, &acknowledged).await;

    // A store whose newest complete snapshot is damaged: `ledger check` says why and
    // what to run; `ledger recover` rebuilds it from its log and the audit is sound.
    let ledger = disk.data().join("ledger");
    let newest = std::fs::read_dir(&ledger)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
        })
        .max()
        .expect("a snapshot");
    std::fs::write(&newest, b"damaged").unwrap();
    let data = disk.data();
    let check = guildmark(
        &disk.root,
        &["ledger", "check", "--data", data.to_str().unwrap()],
        None,
    );
    assert_ne!(check.code, 0);
    assert!(
        check.stderr.contains("guildmark ledger recover"),
        "{}",
        check.stderr
    );
    let recovered = guildmark(
        &disk.root,
        &["ledger", "recover", "--data", data.to_str().unwrap()],
        None,
    )
    .expect(0);
    assert!(
        recovered.stdout.contains("rebuilt from its log"),
        "{}",
        recovered.stdout
    );
    assert!(recovered.stdout.contains("sound"), "{}", recovered.stdout);
    let mut server = Server::start_in(&disk.data(), &["--public-url", PUBLIC]);
    all_there(&mut server, &acknowledged).await;
}
