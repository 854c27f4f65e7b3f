//! Three node processes over loopback that peer and witness each other (C2SP
//! tlog-witness): checkpoints become witnessed once both other nodes cosign them,
//! receipts and bundles lead to witnessed checkpoints, a buyer's trust file demands the
//! witnesses' cosignatures, a witness that is down holds the policy back until it
//! returns, and a node whose data directory is restored from an older copy is caught by
//! its witnesses and says so loudly.

use std::path::Path;
use std::time::{Duration, Instant};

use guildmark_credentials::note::{Note, VerifierKey};
use guildmark_credentials::witness::Policy;
use serde_json::{json, Value};

use crate::common::{guildmark, Server};
use crate::http::Api;

/// A free loopback port (peers name each other by URL, so the port must outlive restarts).
pub(crate) fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", listener.local_addr().unwrap().port())
}

/// One federation member: its process, API client, keys and an operator token.
struct Member {
    server: Server,
    listen: String,
    api: Api,
    log_key: String,
    witness_key: VerifierKey,
    operator: String,
}

impl Member {
    async fn start(data: &Path, demo: bool, quorum: &str) -> Member {
        let listen = free_port();
        let mut args = vec!["--listen", listen.as_str(), "--witness-quorum", quorum];
        if demo {
            args.push("--demo");
        }
        let server = Server::start_in(data, &args);
        let api = Api::new(&server.url);
        let summary = api.get("/api/v1/ledger").await.expect(200);
        let operator = if demo {
            api.token("operator", "guildmark-demo").await
        } else {
            api.account("operator").await
        };
        Member {
            log_key: summary["verifierKey"].as_str().unwrap().to_owned(),
            witness_key: summary["witnessKey"].as_str().unwrap().parse().unwrap(),
            api,
            server,
            listen,
            operator,
        }
    }

    /// Stops the process (SIGTERM) and starts it again on the same data and address.
    fn restart(&mut self, quorum: &str) {
        self.server
            .restart(&["--listen", self.listen.as_str(), "--witness-quorum", quorum]);
    }

    async fn ledger(&self) -> Value {
        self.api.get("/api/v1/ledger").await.expect(200)
    }

    /// Waits until the latest checkpoint is witnessed (or `timeout` passes).
    async fn witnessed(&self, timeout: Duration) -> Value {
        let started = Instant::now();
        loop {
            let ledger = self.ledger().await;
            if ledger["witnessing"]["witnessedSize"] == ledger["size"] {
                return ledger;
            }
            assert!(
                started.elapsed() < timeout,
                "not witnessed within {timeout:?}: {ledger:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn cosigners(note: &str, witnesses: &[&Member]) -> usize {
    let policy = Policy {
        witnesses: witnesses.iter().map(|m| m.witness_key.clone()).collect(),
        quorum: witnesses.len(),
    };
    policy.cosigners(note).valid.len()
}

async fn peer(from: &Member, to: &Member) {
    from.api
        .post(
            "/api/v1/peers",
            Some(&from.operator),
            json!({"url": to.server.url, "logKey": to.log_key}),
        )
        .await
        .expect(201);
}

/// Saltmarsh's assessor awards Ines a badge on the demo node.
async fn issue(node: &Member, noor: &str) -> Value {
    node.api
        .post(
            "/api/v1/communities/saltmarsh/badges",
            Some(noor),
            json!({"recipient": "ines", "achievement": "soldering-l1"}),
        )
        .await
        .expect(201)
}

async fn fetch(url: &str, path: &Path) {
    let bytes = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    std::fs::write(path, &bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_witness_each_other_and_catch_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let mut kestrel = Member::start(&dir.path().join("kestrel"), true, "2").await;
    let saltmarsh = Member::start(&dir.path().join("saltmarsh"), false, "2").await;
    let mut lumen = Member::start(&dir.path().join("lumen"), false, "2").await;

    // Only the operator adds peers; the key given must be the peer's.
    let noor = kestrel.api.token("noor", "guildmark-demo").await;
    kestrel
        .api
        .post(
            "/api/v1/peers",
            Some(&noor),
            json!({"url": saltmarsh.server.url, "logKey": saltmarsh.log_key}),
        )
        .await
        .problem(403, "forbidden");
    kestrel
        .api
        .post(
            "/api/v1/peers",
            Some(&kestrel.operator),
            json!({"url": saltmarsh.server.url, "logKey": lumen.log_key}),
        )
        .await
        .problem(422, "invalid");
    kestrel
        .api
        .post(
            "/api/v1/peers",
            Some(&kestrel.operator),
            json!({"url": saltmarsh.server.url, "logKey": "not a key"}),
        )
        .await
        .problem(422, "invalid");

    // Kestrel adds its peers with the command line; the others through the API.
    for other in [&saltmarsh, &lumen] {
        let run = guildmark(
            dir.path(),
            &[
                "peer",
                "add",
                &other.server.url,
                "--log-key",
                &other.log_key,
                "--node",
                &kestrel.server.url,
                "--token",
                &kestrel.operator,
            ],
            None,
        )
        .expect(0);
        assert!(
            run.stdout.contains(&other.witness_key.to_string()),
            "{}",
            run.stdout
        );
    }
    peer(&saltmarsh, &kestrel).await;
    peer(&saltmarsh, &lumen).await;
    peer(&lumen, &kestrel).await;
    peer(&lumen, &saltmarsh).await;
    let listed = kestrel.api.get("/api/v1/peers").await.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed:#}");

    // Every log becomes witnessed by the other two.
    for (member, others) in [
        (&kestrel, [&saltmarsh, &lumen]),
        (&saltmarsh, [&kestrel, &lumen]),
        (&lumen, [&kestrel, &saltmarsh]),
    ] {
        let ledger = member.witnessed(Duration::from_secs(30)).await;
        let served = reqwest::get(format!("{}/checkpoint", member.server.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(cosigners(&served, &others), 2, "{served}");
        assert_eq!(ledger["witnessing"]["quorum"], 2);
        assert!(ledger["witnessing"].get("alarm").is_none(), "{ledger:#}");
    }

    // A badge issued on Kestrel: its receipt leads to a checkpoint both witnesses cosigned.
    let issued = issue(&kestrel, &noor).await;
    let uuid = issued["uuid"].as_str().unwrap().to_owned();
    kestrel.witnessed(Duration::from_secs(10)).await;
    let credential = kestrel
        .api
        .get(&format!("/api/v1/credentials/{uuid}"))
        .await
        .expect(200);
    let receipt_checkpoint = credential["receipt"]["checkpoint"].as_str().unwrap();
    assert_eq!(
        cosigners(receipt_checkpoint, &[&saltmarsh, &lumen]),
        2,
        "{receipt_checkpoint}"
    );

    // The buyer's trust file names the witnesses and the quorum; the device's bundle
    // meets it offline, and fails it without a cosignature.
    let serial = "MPPT20-2026-0007";
    fetch(
        &format!("{}/api/v1/devices/{serial}/bundle", kestrel.server.url),
        &dir.path().join("bundle.json"),
    )
    .await;
    fetch(
        &format!("{}/api/v1/trust", kestrel.server.url),
        &dir.path().join("trust.toml"),
    )
    .await;
    let trust = std::fs::read_to_string(dir.path().join("trust.toml")).unwrap();
    assert!(
        trust.contains(&saltmarsh.witness_key.to_string()) && trust.contains("witness_quorum = 2"),
        "{trust}"
    );
    let verified = guildmark(
        dir.path(),
        &["verify", "bundle.json", "--trust", "trust.toml"],
        None,
    );
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    assert!(
        verified.stdout.contains("ok   witnessed:"),
        "{}",
        verified.stdout
    );
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bundle.json")).unwrap()).unwrap();
    let note = bundle["batch"]["receipt"]["checkpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut parsed = Note::parse(note.as_bytes()).unwrap();
    parsed
        .signatures
        .retain(|s| s.name != lumen.witness_key.name());
    let stripped = parsed.to_string();
    for logged in ["batch", "protocol"] {
        bundle[logged]["receipt"]["checkpoint"] = json!(stripped);
    }
    std::fs::write(
        dir.path().join("stripped.json"),
        serde_json::to_vec(&bundle).unwrap(),
    )
    .unwrap();
    let refused = guildmark(
        dir.path(),
        &["verify", "stripped.json", "--trust", "trust.toml"],
        None,
    );
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stdout.contains("FAIL witnessed:")
            && refused.stdout.contains("1 of the 2 cosignatures required")
            && refused
                .stdout
                .lines()
                .any(|l| l.contains("missing:") && l.contains(lumen.witness_key.name())),
        "{}",
        refused.stdout
    );

    // A witness down: Kestrel's new checkpoints are not witnessed (2 of 2 required), the
    // status says which witness is unreachable; when it returns, witnessing catches up.
    let before = kestrel.ledger().await["witnessing"]["witnessedSize"].clone();
    lumen.server.stop();
    issue(&kestrel, &noor).await;
    let ledger = kestrel.ledger().await;
    assert!(ledger["size"].as_u64() > before.as_u64(), "{ledger:#}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let ledger = kestrel.ledger().await;
    assert_eq!(ledger["witnessing"]["witnessedSize"], before, "{ledger:#}");
    let states: Vec<(String, String)> = ledger["witnessing"]["witnesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap().to_owned(),
                w["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        states.contains(&(lumen.witness_key.name().to_owned(), "unreachable".into())),
        "{states:?}"
    );
    lumen.restart("2");
    kestrel.witnessed(Duration::from_secs(40)).await;

    // The rollback: Kestrel's data directory is restored from an older copy while its
    // witnesses run. They hold a larger tree; Kestrel raises the alarm and publishes no
    // witnessed checkpoint for what it appends now.
    kestrel.server.stop();
    let backup = dir.path().join("kestrel-backup");
    copy_dir(&dir.path().join("kestrel"), &backup);
    kestrel.restart("2");
    issue(&kestrel, &noor).await;
    issue(&kestrel, &noor).await;
    let witnessed_before_rollback = kestrel.witnessed(Duration::from_secs(10)).await["size"]
        .as_u64()
        .unwrap();
    kestrel.server.stop();
    std::fs::remove_dir_all(dir.path().join("kestrel")).unwrap();
    std::fs::rename(&backup, dir.path().join("kestrel")).unwrap();
    kestrel.restart("2");
    // The restored node appends something of its own: the fork grows.
    issue(&kestrel, &noor).await;
    let started = Instant::now();
    let ledger = loop {
        let ledger = kestrel.ledger().await;
        if ledger["witnessing"].get("alarm").is_some() {
            break ledger;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no alarm: {ledger:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let alarm = ledger["witnessing"]["alarm"].as_str().unwrap();
    assert!(alarm.contains("rolled back or forked"), "{alarm}");
    assert!(
        ledger["witnessing"]["witnesses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["state"] == "conflict"),
        "{ledger:#}"
    );
    assert!(
        ledger["witnessing"]["witnessedSize"].as_u64().unwrap() < witnessed_before_rollback,
        "{ledger:#}"
    );
    assert_ne!(ledger["witnessing"]["witnessedSize"], ledger["size"]);
    // What it serves as its checkpoint stays the last one witnessed before the copy.
    let served = reqwest::get(format!("{}/checkpoint", kestrel.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        served.lines().nth(1).unwrap(),
        ledger["witnessing"]["witnessedSize"].to_string()
    );
    // The operator's ledger page shows it.
    let page = reqwest::get(format!("{}/ledger", kestrel.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Witnesses refuse this log"),
        "the ledger page shows the alarm"
    );
    // The witnesses still hold the larger tree.
    for witness in [&saltmarsh, &lumen] {
        let origin = ledger["origin"].as_str().unwrap();
        let held = witness_holds(witness, origin).await;
        assert_eq!(held, witnessed_before_rollback);
    }
}

/// The size of `origin`'s log the witness `member` last cosigned.
async fn witness_holds(member: &Member, origin: &str) -> u64 {
    use sha2::Digest as _;
    let hash: String = sha2::Sha256::digest(origin.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let note = reqwest::get(format!("{}/witness/{hash}/checkpoint", member.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    note.lines().nth(1).unwrap().parse().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `member`'s peer entry for the log `origin` once `ready` holds for it (or fails
/// after `timeout`, saying `what` was awaited).
async fn peer_when(
    member: &Member,
    origin: &str,
    what: &str,
    timeout: Duration,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let peers = member.api.get("/api/v1/peers").await.expect(200);
        let peer = peers
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["logKey"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{origin}+"))
            })
            .cloned()
            .unwrap_or(Value::Null);
        if ready(&peer) {
            return peer;
        }
        assert!(
            started.elapsed() < timeout,
            "{origin} not {what} within {timeout:?}: {peer:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `member` mirrors `origin` at `size` (state ok).
async fn mirrored(member: &Member, origin: &str, size: u64, timeout: Duration) -> Value {
    peer_when(
        member,
        origin,
        &format!("mirrored at {size}"),
        timeout,
        |p| p["mirror"]["size"] == size && p["mirror"]["state"] == "ok",
    )
    .await
}

/// The peer entry for `origin` once its mirror state is `state`.
async fn mirror_state(member: &Member, origin: &str, state: &str) -> Value {
    peer_when(member, origin, state, Duration::from_secs(20), |p| {
        p["mirror"]["state"] == state
    })
    .await
}

/// Writes `node`'s log as static tlog-tiles files (checkpoint and entry bundles) into
/// `dir`, as a web server would serve them.
async fn static_copy(node: &Member, dir: &Path) -> String {
    let checkpoint = reqwest::get(format!("{}/checkpoint", node.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let size: u64 = checkpoint.lines().nth(1).unwrap().parse().unwrap();
    for index in 0..size.div_ceil(256) {
        let width = (size - index * 256).min(256) as u16;
        let path = guildmark_credentials::tile::Tile {
            kind: guildmark_credentials::tile::TileKind::Entries,
            index,
            width,
        }
        .path();
        let file = dir.join(&path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        fetch(&format!("{}/{path}", node.server.url), &file).await;
    }
    std::fs::write(dir.join("checkpoint"), &checkpoint).unwrap();
    checkpoint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_log_comes_back_from_a_mirror_and_hostile_peers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut kestrel = Member::start(&dir.path().join("kestrel"), true, "1").await;
    let saltmarsh = Member::start(&dir.path().join("saltmarsh"), false, "1").await;
    peer(&kestrel, &saltmarsh).await;
    peer(&saltmarsh, &kestrel).await;
    let noor = kestrel.api.token("noor", "guildmark-demo").await;
    // The nightly backup: keys and the node's records (accounts, memberships), taken
    // with the node stopped. The ledger is not in it: peers mirror it.
    kestrel.server.stop();
    let data = dir.path().join("kestrel");
    let backup = dir.path().join("backup");
    for part in ["keys", "node"] {
        copy_dir(&data.join(part), &backup.join(part));
    }
    kestrel.restart("1");
    // A badge issued after the backup.
    let issued = issue(&kestrel, &noor).await;
    let uuid = issued["uuid"].as_str().unwrap().to_owned();
    let before = kestrel.witnessed(Duration::from_secs(30)).await;
    let origin = before["origin"].as_str().unwrap().to_owned();
    let size = before["size"].as_u64().unwrap();

    // Saltmarsh mirrors Kestrel's log and serves it as Kestrel does.
    mirrored(&saltmarsh, &origin, size, Duration::from_secs(20)).await;
    let mirror = format!("{}/mirror/{origin}", saltmarsh.server.url);
    let served = reqwest::get(format!("{mirror}/checkpoint"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        served.split("\n\n").next(),
        before["checkpoint"].as_str().unwrap().split("\n\n").next()
    );
    for path in ["tile/entries/000.p/1", "tile/0/000.p/2"] {
        let ours = reqwest::get(format!("{}/{path}", kestrel.server.url))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let theirs = reqwest::get(format!("{mirror}/{path}"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(ours, theirs, "{path}");
    }

    // Kestrel's disk dies; its keys and records come back from the backup, its log
    // from the mirror.
    kestrel.server.kill();
    std::fs::remove_dir_all(&data).unwrap();
    for part in ["keys", "node"] {
        copy_dir(&backup.join(part), &data.join(part));
    }
    let recovered = guildmark(
        dir.path(),
        &[
            "ledger",
            "recover",
            "--data",
            data.to_str().unwrap(),
            "--from",
            &mirror,
        ],
        None,
    )
    .expect(0);
    assert!(
        recovered
            .stdout
            .contains(&format!("recovered {size} entries of {origin}"))
            && recovered.stdout.contains("sound"),
        "{}",
        recovered.stdout
    );
    // Recovery never overwrites a ledger.
    let again = guildmark(
        dir.path(),
        &[
            "ledger",
            "recover",
            "--data",
            data.to_str().unwrap(),
            "--from",
            &mirror,
        ],
        None,
    );
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("move it aside"), "{}", again.stderr);
    kestrel.restart("1");
    let after = kestrel.ledger().await;
    assert_eq!(after["size"], before["size"]);
    assert_eq!(after["root"], before["root"]);
    // The records logged since the backup come back from the ledger: the badge issued
    // after it is served again.
    let credential = kestrel
        .api
        .get(&format!("/api/v1/credentials/{uuid}"))
        .await
        .expect(200);
    assert_eq!(credential["credential"], issued["credential"]);
    // Saltmarsh's witness agrees with the recovered log: it grows witnessed.
    issue(&kestrel, &noor).await;
    let grown = kestrel.witnessed(Duration::from_secs(30)).await;
    assert!(grown["witnessing"].get("alarm").is_none(), "{grown:#}");

    // A hostile peer: a static copy of Kestrel's log, signed by Kestrel, served by a
    // plain web server. A third node follows it.
    let lumen = Member::start(&dir.path().join("lumen"), false, "1").await;
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let older = static_copy(&kestrel, &site).await;
    let older_size: u64 = older.lines().nth(1).unwrap().parse().unwrap();
    let port = free_port();
    let mut web = std::process::Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.rsplit(':').next().unwrap())
        .arg("--directory")
        .arg(&site)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let hostile = format!("http://{port}");
    let started = Instant::now();
    while reqwest::get(format!("{hostile}/checkpoint")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "python http.server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    lumen
        .api
        .post(
            "/api/v1/peers",
            Some(&lumen.operator),
            json!({"url": hostile, "logKey": kestrel.log_key, "witnessKey": kestrel.witness_key.to_string()}),
        )
        .await
        .expect(201);
    mirrored(&lumen, &origin, older_size, Duration::from_secs(20)).await;

    // It grows with a tampered entry: refused, reported, the mirror keeps what verified.
    issue(&kestrel, &noor).await;
    kestrel.witnessed(Duration::from_secs(30)).await;
    let newer = static_copy(&kestrel, &site).await;
    let newer_size: u64 = newer.lines().nth(1).unwrap().parse().unwrap();
    let last = site.join(
        guildmark_credentials::tile::Tile {
            kind: guildmark_credentials::tile::TileKind::Entries,
            index: (newer_size - 1) / 256,
            width: ((newer_size - 1) % 256 + 1) as u16,
        }
        .path(),
    );
    let mut bytes = std::fs::read(&last).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x20;
    std::fs::write(&last, &bytes).unwrap();
    let refused = mirror_state(&lumen, &origin, "refused").await;
    let detail = refused["mirror"]["detail"].as_str().unwrap();
    assert!(detail.contains("tampered"), "{detail}");
    assert_eq!(refused["mirror"]["size"], older_size);
    let mirrored_note = reqwest::get(format!("{}/mirror/{origin}/checkpoint", lumen.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        mirrored_note, older,
        "the mirror still serves what it verified"
    );

    // Honest again, then rolled back to an older checkpoint: refused as a rollback.
    static_copy(&kestrel, &site).await;
    mirrored(&lumen, &origin, newer_size, Duration::from_secs(20)).await;
    std::fs::write(site.join("checkpoint"), &older).unwrap();
    let refused = mirror_state(&lumen, &origin, "refused").await;
    let detail = refused["mirror"]["detail"].as_str().unwrap();
    assert!(detail.contains("rolled back"), "{detail}");
    let _ = web.kill();
    let _ = web.wait();
}

/// The MPPT20 protocol with its reviewer achievements on three nodes.
fn protocol_across(nodes: [(&str, &str); 3]) -> String {
    let mut source =
        include_str!("../../../review-protocols/protocols/mppt20-batch-qa.toml").to_owned();
    for (example, (url, slug)) in ["ironbridge", "lumen", "kestrel"].into_iter().zip(nodes) {
        source = source.replace(
            &format!("https://guildmark.example/{example}/"),
            &format!("{url}/communities/{slug}/"),
        );
    }
    source
}

/// On `node`: a community `slug` with an admin (the operator), a reviewer holding the
/// `power-electronics-reviewer` badge, and that achievement. Returns the reviewer's token
/// and the badge.
async fn reviewer_community(
    node: &Member,
    slug: &str,
    reviewer: &str,
    dir: &Path,
    own_key: bool,
) -> (String, Option<String>, Value) {
    let api = &node.api;
    api.post(
        "/api/v1/communities",
        Some(&node.operator),
        json!({"slug": slug, "name": format!("{slug} community"), "description": "A federation test community."}),
    )
    .await
    .expect(201);
    let token = api.account(reviewer).await;
    crate::story::member(api, &node.operator, slug, reviewer, json!(["reviewer"])).await;
    let did = if own_key {
        Some(
            api.bring_own_key(&token, dir, &format!("{reviewer}.key"))
                .await,
        )
    } else {
        None
    };
    api.post(
        &format!("/api/v1/communities/{slug}/achievements"),
        Some(&node.operator),
        json!({"name": "power-electronics-reviewer", "title": "Power electronics reviewer", "description": "Reviews power hardware.", "criteria": "Assessed at the bench.", "prerequisites": []}),
    )
    .await
    .expect(201);
    let badge = api
        .post(
            &format!("/api/v1/communities/{slug}/badges"),
            Some(&node.operator),
            json!({"recipient": reviewer, "achievement": "power-electronics-reviewer"}),
        )
        .await
        .expect(201);
    (token, did, badge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_certified_by_reviewers_on_two_other_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let mut forge = Member::start(&dir.path().join("forge"), false, "2").await;
    let mut coast = Member::start(&dir.path().join("coast"), false, "2").await;
    let mut peak = Member::start(&dir.path().join("peak"), false, "2").await;
    for (from, to) in [
        (&forge, &coast),
        (&forge, &peak),
        (&coast, &forge),
        (&coast, &peak),
        (&peak, &forge),
        (&peak, &coast),
    ] {
        peer(from, to).await;
    }
    // Reviewers on Coast's and Peak's nodes; Tia (Peak) keeps her own key.
    let (rex, _, rex_badge) = reviewer_community(&coast, "coast", "rex", dir.path(), false).await;
    let (tia, tia_did, tia_badge) =
        reviewer_community(&peak, "peak", "tia", dir.path(), true).await;
    let tia_did = tia_did.unwrap();

    // Forge's node: the producer, its protocol and a batch.
    let api = &forge.api;
    api.post(
        "/api/v1/communities",
        Some(&forge.operator),
        json!({"slug": "forge", "name": "Forge Microfactory", "description": "Builds charge controllers."}),
    )
    .await
    .expect(201);
    let pat = api.account("pat").await;
    crate::story::member(api, &forge.operator, "forge", "pat", json!(["producer"])).await;
    let source = protocol_across([
        (&coast.server.url, "coast"),
        (&peak.server.url, "peak"),
        (&forge.server.url, "forge"),
    ]);
    let protocol = api
        .post(
            "/api/v1/communities/forge/protocols",
            Some(&forge.operator),
            json!({"source": source}),
        )
        .await
        .expect(201);
    let batch = api
        .post(
            "/api/v1/communities/forge/batches",
            Some(&pat),
            json!({"product": "MPPT20 solar charge controller", "protocol": protocol["hash"], "lotSize": 20, "serials": ["SC-2026-0001..0020"], "productionDate": "2026-11-10"}),
        )
        .await
        .expect(201);
    let batch_url = batch["url"].as_str().unwrap().to_owned();
    let serials: Vec<String> = batch["serials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    // Everyone's logs are witnessed before the reviews start (the reviews' receipts
    // then lead to witnessed checkpoints at once).
    for member in [&forge, &coast, &peak] {
        member.witnessed(Duration::from_secs(30)).await;
    }

    // A batch on a node that is not a peer is refused; so is a reviewer's attestation
    // whose results do not read under the protocol.
    coast
        .api
        .post(
            "/api/v1/reviews",
            Some(&rex),
            json!({"batch": "http://127.0.0.1:9/batches/x", "sampled": [], "results": [], "verdict": "pass"}),
        )
        .await
        .problem(422, "invalid");

    // Rex reviews on Coast's node, which signs with his key, logs the attestation and
    // sends it to Forge's node.
    let rex_sample = serials[..13].to_vec();
    let first = coast
        .api
        .post(
            "/api/v1/reviews",
            Some(&rex),
            json!({"batch": batch_url, "sampled": rex_sample, "results": crate::common::mppt_passing_results(&rex_sample), "verdict": "pass"}),
        )
        .await
        .expect(201);
    assert_eq!(first["verdict"], "pending", "{first:#}");
    // Rex cannot review twice.
    coast
        .api
        .post(
            "/api/v1/reviews",
            Some(&rex),
            json!({"batch": batch_url, "sampled": rex_sample, "results": crate::common::mppt_passing_results(&rex_sample), "verdict": "pass"}),
        )
        .await
        .problem(502, "peer-failed");

    // Tia signs hers locally and uploads it to Peak's node.
    let tia_sample = serials[7..20].to_vec();
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/guildmark/v1"],
        "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "type": ["VerifiableCredential", "ReviewAttestation"],
        "issuer": tia_did,
        "validFrom": "2026-11-20T00:00:00Z",
        "credentialSubject": {
            "id": batch_url,
            "type": "ReviewedBatch",
            "protocol": {"id": "urn:guildmark:protocol:mppt20-batch-qa:1.0.0", "digest": protocol["hash"]},
            "sampled": tia_sample,
            "results": crate::common::mppt_passing_results(&tia_sample),
            "verdict": "pass",
            "qualification": [tia_badge["credential"]["id"]],
        }
    });
    let signed = guildmark(
        dir.path(),
        &["sign", "--key", "tia.key"],
        Some(unsigned.to_string().as_bytes()),
    )
    .expect(0);
    let signed: Value = serde_json::from_str(&signed.stdout).unwrap();
    let second = peak
        .api
        .post(
            "/api/v1/reviews",
            Some(&tia),
            json!({"batch": batch_url, "credential": signed}),
        )
        .await
        .expect(201);
    assert_eq!(second["verdict"], "certified", "{:#}", second["evaluation"]);
    let communities = second["evaluation"]["communities"].as_array().unwrap();
    assert_eq!(communities.len(), 2, "{communities:?}");

    // Forge's node serves a bundle spanning three logs, each receipt against a
    // witnessed checkpoint; its trust file names the federation.
    let device = forge
        .api
        .get("/api/v1/devices/SC-2026-0016")
        .await
        .expect(200);
    assert_eq!(device["verdict"], "certified");
    fetch(
        &format!("{}/api/v1/devices/SC-2026-0016/bundle", forge.server.url),
        &dir.path().join("bundle.json"),
    )
    .await;
    fetch(
        &format!("{}/api/v1/trust", forge.server.url),
        &dir.path().join("trust.toml"),
    )
    .await;
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bundle.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["logs"].as_array().unwrap().len(),
        3,
        "{:#}",
        bundle["logs"]
    );
    assert_eq!(bundle["attestations"].as_array().unwrap().len(), 2);
    let trust = std::fs::read_to_string(dir.path().join("trust.toml")).unwrap();
    // The reviewers' communities, learnt from their nodes' logs.
    for badge in [&rex_badge, &tia_badge] {
        let community = badge["credential"]["issuer"]["id"].as_str().unwrap();
        assert!(trust.contains(community), "{community} in\n{trust}");
    }

    // A hostile replay of Rex's review, as the bundle carries it: the same one again
    // is refused, a changed one does not check, one from a log that is not a peer's is
    // refused.
    let index = bundle["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .position(|a| {
            a["credential"]["issuer"] == rex_badge["credential"]["credentialSubject"]["id"]
        })
        .expect("Rex's attestation in the bundle");
    let review = json!({
        "log": coast.log_key,
        "attestation": bundle["attestations"][index],
        "badges": [bundle["badges"].as_array().unwrap().iter().find(|b| b["credential"]["id"] == rex_badge["credential"]["id"]).unwrap()],
        "statusLists": [],
    });
    let take = format!("/api/v1/batches/{}/reviews", batch["id"].as_str().unwrap());
    forge
        .api
        .post(&take, None, review.clone())
        .await
        .problem(409, "conflict");
    let mut changed = review.clone();
    changed["attestation"]["credential"]["credentialSubject"]["verdict"] = json!("fail");
    let reply = forge.api.post(&take, None, changed).await;
    assert_eq!(reply.status, 422, "{:#}", reply.body);
    let mut stranger = review.clone();
    stranger["log"] = json!(peak.log_key.replace(&peak.log_key[..5], "nope-"));
    let reply = forge.api.post(&take, None, stranger).await;
    assert!(
        reply.status == 403 || reply.status == 422,
        "{:#}",
        reply.body
    );

    // Coast revokes Rex's badge on its node: Forge's node reads the new status list
    // from its mirror of Coast's log, and the batch is pending again.
    coast
        .api
        .call(
            reqwest::Method::POST,
            &format!(
                "/api/v1/communities/coast/badges/{}/revoke",
                rex_badge["uuid"].as_str().unwrap()
            ),
            Some(&coast.operator),
            None,
        )
        .await
        .expect(200);
    let started = Instant::now();
    loop {
        let device = forge
            .api
            .get("/api/v1/devices/SC-2026-0016")
            .await
            .expect(200);
        if device["verdict"] == "pending" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the revocation on Coast's node did not reach Forge's: {device:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    fetch(
        &format!("{}/api/v1/devices/SC-2026-0016/bundle", forge.server.url),
        &dir.path().join("revoked.json"),
    )
    .await;

    fetch(
        &format!("{}/verify/offline.html", forge.server.url),
        &dir.path().join("offline.html"),
    )
    .await;

    // The buyer verifies offline with every node stopped: the certified bundle holds,
    // the later one says the badge was revoked — with the CLI, and in a browser with the
    // saved offline verifier (the same reports, three logs and their witnesses included).
    for member in [&mut forge, &mut coast, &mut peak] {
        member.server.stop();
    }
    let reports = crate::browser::verifier::offline_file_agrees_with_the_cli(
        dir.path(),
        "offline.html",
        &["bundle.json", "revoked.json"],
        "trust.toml",
    )
    .await;
    assert_eq!(reports[0]["report"]["verified"], json!(true));
    assert_eq!(reports[0]["evaluation"]["verdict"], json!("certified"));
    assert_eq!(reports[1]["report"]["verified"], json!(false));
    let (code, stdout, isolated) = crate::story::offline(
        dir.path(),
        &["verify", "bundle.json", "--trust", "trust.toml"],
    );
    println!("offline verification across three logs (network namespace: {isolated}):\n{stdout}");
    assert_eq!(code, 0, "{stdout}");
    for check in [
        "ok   certified:",
        "ok   trust:",
        "ok   witnessed:",
        "ok   receipts:",
    ] {
        assert!(stdout.contains(check), "{check}\n{stdout}");
    }
    let (code, stdout, _) = crate::story::offline(
        dir.path(),
        &["verify", "revoked.json", "--trust", "trust.toml"],
    );
    assert_ne!(code, 0, "{stdout}");
    assert!(stdout.contains("the badge is revoked as of"), "{stdout}");
}

/// `guildmark demo federation` until it prints that it runs; returns the process and
/// what it printed.
pub(crate) fn start_demo(data: &Path, ports: &str) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(crate::common::bin())
        .args(["demo", "federation", "--data"])
        .arg(data)
        .args(["--ports", ports])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("running;") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (child, printed)
}

pub(crate) fn stop_demo(mut child: std::process::Child) {
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_federation_runs_three_nodes_and_certifies_across_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("federation");
    let ports: Vec<String> = (0..3)
        .map(|_| free_port().rsplit(':').next().unwrap().to_owned())
        .collect();
    let (demo, printed) = start_demo(&data, &ports.join(","));
    assert!(
        printed.contains(
            "a controller certified by reviewers on the other two nodes: MPPT20-2026-0007"
        ),
        "{printed}"
    );
    let first = format!("http://127.0.0.1:{}", ports[0]);
    for (port, name) in ports.iter().zip([
        "Kestrel Valley Microfactory",
        "Saltmarsh Repair Café",
        "Lumen Mountain Power Co-op",
    ]) {
        assert!(
            printed.contains(&format!("{name}: http://127.0.0.1:{port}")),
            "{printed}"
        );
    }
    // The printed commands work.
    fetch(
        &format!("{first}/api/v1/devices/MPPT20-2026-0007/bundle"),
        &dir.path().join("b.json"),
    )
    .await;
    fetch(
        &format!("{first}/api/v1/trust"),
        &dir.path().join("trust.toml"),
    )
    .await;
    stop_demo(demo);
    // Every node stopped with it.
    for port in &ports {
        assert!(
            reqwest::get(format!("http://127.0.0.1:{port}/api/v1/ledger"))
                .await
                .is_err(),
            "the node on {port} still runs"
        );
    }
    let verified = guildmark(
        dir.path(),
        &["verify", "b.json", "--trust", "trust.toml"],
        None,
    );
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    assert!(
        verified.stdout.contains("ok   certified:") && verified.stdout.contains("ok   witnessed:"),
        "{}",
        verified.stdout
    );
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("b.json")).unwrap()).unwrap();
    assert_eq!(bundle["logs"].as_array().unwrap().len(), 3);

    // A second run keeps its data: the same world, still certified.
    let (demo, printed) = start_demo(&data, &ports.join(","));
    assert!(!printed.contains("creating the demo world"), "{printed}");
    let device: Value = reqwest::get(format!("{first}/api/v1/devices/MPPT20-2026-0007"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(device["verdict"], "certified");
    stop_demo(demo);
}
