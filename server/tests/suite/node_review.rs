//! Peer review through the real binary over HTTP, on the demo world: protocols, batches,
//! attestations refused and accepted, verdicts, and provenance bundles verified offline
//! with the CLI — including every kind of single-byte tampering.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{guildmark, mppt_passing_results, mppt_protocol, Server};
use crate::http::Api;

const PUBLIC: &str = "https://kestrel.example";
const PASSWORD: &str = "guildmark-demo";

async fn batch_of(api: &Api, first_serial: &str) -> Value {
    let batches = api.get("/api/v1/batches").await.expect(200);
    batches
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["serials"][0] == first_serial)
        .unwrap_or_else(|| panic!("no batch starts with {first_serial}"))
        .clone()
}

async fn ledger_size(api: &Api) -> u64 {
    api.get("/api/v1/ledger").await.expect(200)["size"]
        .as_u64()
        .unwrap()
}

fn sample(batch: &Value, offset: usize) -> Vec<String> {
    batch["serials"]
        .as_array()
        .unwrap()
        .iter()
        .skip(offset)
        .take(13)
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_reviewed_and_their_provenance_verifies_offline() {
    let mut server = Server::start(&["--demo", "--public-url", PUBLIC]);
    let api = Api::new(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let token = |name: &'static str| {
        let api = api.clone();
        async move { api.token(name, PASSWORD).await }
    };

    // The demo's three batches.
    let batches = api.get("/api/v1/batches").await.expect(200);
    let verdicts: Vec<&str> = batches
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["certified", "pending", "rejected"]);
    assert_eq!(batches[0]["serials"].as_array().unwrap().len(), 50);
    let device = api
        .get("/api/v1/devices/MPPT20-2026-0007")
        .await
        .expect(200);
    assert_eq!(device["verdict"], "certified");
    api.get("/api/v1/devices/NOPE-1")
        .await
        .problem(404, "not-found");

    // A certified device's bundle verifies offline, with and without a trust file.
    std::fs::write(
        dir.path().join("trust.toml"),
        reqwest::get(format!("{}/api/v1/trust", server.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let bundle_bytes = |serial: &'static str| {
        let url = format!("{}/api/v1/devices/{serial}/bundle", server.url);
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec()
        }
    };
    let certified = bundle_bytes("MPPT20-2026-0007").await;
    assert!(
        certified.len() < 100_000,
        "bundle of {} bytes",
        certified.len()
    );
    std::fs::write(dir.path().join("b.json"), &certified).unwrap();
    let run = guildmark(
        dir.path(),
        &["verify", "b.json", "--trust", "trust.toml"],
        None,
    )
    .expect(0);
    assert!(run.stdout.contains("ok   certified:"), "{}", run.stdout);
    assert!(run.stdout.contains("ok   trust:"), "{}", run.stdout);
    let run = guildmark(dir.path(), &["verify", "b.json"], None).expect(0);
    assert!(
        run.stdout.contains("??   trust: no trust file given"),
        "{}",
        run.stdout
    );
    std::fs::write(
        dir.path().join("stranger.toml"),
        "communities = []\nlogs = []\n",
    )
    .unwrap();
    let run = guildmark(
        dir.path(),
        &["verify", "b.json", "--trust", "stranger.toml"],
        None,
    )
    .expect(1);
    assert!(
        run.stdout.contains("FAIL trust: not in the trust file"),
        "{}",
        run.stdout
    );
    let run = guildmark(dir.path(), &["verify", "b.json", "--json"], None).expect(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["evaluation"]["verdict"], "certified");
    assert_eq!(report["report"]["kind"], "bundle");

    // A rejected device: authentic, but not certified.
    std::fs::write(
        dir.path().join("rejected.json"),
        bundle_bytes("MPPT20-2026-0090").await,
    )
    .unwrap();
    let run = guildmark(
        dir.path(),
        &["verify", "rejected.json", "--trust", "trust.toml"],
        None,
    )
    .expect(1);
    assert!(run.stdout.contains("FAIL certified:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("ok   verdict recomputed: rejected"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("92.8 %"), "{}", run.stdout);

    // Refusals on the pending batch, each a clear problem that logs nothing.
    let pending = batch_of(&api, "MPPT20-2026-0051").await;
    let attest = format!(
        "/api/v1/batches/{}/attestations",
        pending["id"].as_str().unwrap()
    );
    let sampled = sample(&pending, 0);
    let body =
        json!({"sampled": sampled, "results": mppt_passing_results(&sampled), "verdict": "pass"});
    let before = ledger_size(&api).await;
    api.post(&attest, None, body.clone())
        .await
        .problem(401, "unauthenticated");
    let jun = token("jun").await;
    api.post(&attest, Some(&jun), body.clone())
        .await
        .problem(403, "forbidden");
    let priya = token("priya").await; // a reviewer without the qualifying badge
    let problem = api
        .post(&attest, Some(&priya), body.clone())
        .await
        .problem(403, "not-qualified");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("power-electronics-reviewer"));
    let mira = token("mira").await;
    let felix_in_kestrel = "/api/v1/communities/kestrel/members/felix";
    api.call(
        Method::PUT,
        felix_in_kestrel,
        Some(&mira),
        Some(json!({"roles": ["apprentice"]})),
    )
    .await
    .expect(200);
    let felix = token("felix").await;
    api.post(&attest, Some(&felix), body.clone())
        .await
        .problem(403, "not-independent");
    api.call(Method::DELETE, felix_in_kestrel, Some(&mira), None)
        .await
        .expect(204);
    let bo = token("bo").await;
    let mut unknown_step = body.clone();
    unknown_step["results"][0]["step"] = "smoke-test".into();
    let problem = api
        .post(&attest, Some(&bo), unknown_step)
        .await
        .problem(422, "invalid");
    assert!(
        problem["detail"].as_str().unwrap().contains("no such step"),
        "{problem:#}"
    );
    let mut foreign_unit = body.clone();
    foreign_unit["sampled"][0] = "MPPT20-2026-0001".into();
    api.post(&attest, Some(&bo), foreign_unit)
        .await
        .problem(422, "invalid");
    let mut wrong_unit = body.clone();
    wrong_unit["results"][2]["value"] = "11.9 V".into();
    api.post(&attest, Some(&bo), wrong_unit)
        .await
        .problem(422, "invalid");
    let mut extra = body.clone();
    extra["sneaky"] = true.into();
    api.post(&attest, Some(&bo), extra)
        .await
        .problem(422, "invalid-body");
    assert_eq!(ledger_size(&api).await, before, "refusals logged nothing");

    // Bo attests a second time: refused (one person counts once, and the ledger keeps
    // the first); nothing is logged and the batch stays pending on one attestation.
    let before = ledger_size(&api).await;
    let second = api
        .post(&attest, Some(&bo), body.clone())
        .await
        .problem(409, "conflict");
    assert!(
        second["detail"]
            .as_str()
            .unwrap()
            .contains("already attested"),
        "{second:#}"
    );
    assert_eq!(
        ledger_size(&api).await,
        before,
        "the refusal logged nothing"
    );
    let still = api
        .get(&format!(
            "/api/v1/batches/{}",
            pending["id"].as_str().unwrap().rsplit('/').next().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(still["verdict"], "pending");
    assert_eq!(still["evaluation"]["passing"], 1);
    assert_eq!(
        still["evaluation"]["attestations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Felix (Saltmarsh) completes the quorum of two communities.
    let sampled = sample(&pending, 13);
    let third = api
        .post(
            &attest,
            Some(&felix),
            json!({"sampled": sampled, "results": mppt_passing_results(&sampled), "verdict": "pass"}),
        )
        .await
        .expect(201);
    assert_eq!(third["verdict"], "certified", "{:#}", third["evaluation"]);
    let run = {
        std::fs::write(
            dir.path().join("summer.json"),
            bundle_bytes("MPPT20-2026-0060").await,
        )
        .unwrap();
        guildmark(
            dir.path(),
            &["verify", "summer.json", "--trust", "trust.toml"],
            None,
        )
        .expect(0)
    };
    assert!(
        run.stdout.contains("2 of 2 distinct qualified"),
        "{}",
        run.stdout
    );

    // Protocols: duplicates and invalid text refused, a new version published beside the old.
    let oskar = token("oskar").await;
    let published = api.get("/api/v1/protocols").await.expect(200);
    let source_url = &published[0]["credential"]["credentialSubject"]["definition"];
    assert!(source_url.is_object());
    let localized = mppt_protocol(PUBLIC, ["saltmarsh", "lumen", "kestrel"]);
    api.post(
        "/api/v1/communities/lumen/protocols",
        Some(&oskar),
        json!({"source": localized}),
    )
    .await
    .problem(409, "conflict");
    let problem = api
        .post(
            "/api/v1/communities/lumen/protocols",
            Some(&oskar),
            json!({"source": localized.replace("quorum = 2", "quorum = 0")}),
        )
        .await
        .problem(422, "invalid");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("reviewers.quorum"));
    let v2 = localized
        .replace("version = \"1.0.0\"", "version = \"1.1.0\"")
        .replace("max = \"15 mA\"", "max = \"14 mA\"");
    let record = api
        .post(
            "/api/v1/communities/lumen/protocols",
            Some(&oskar),
            json!({"source": v2}),
        )
        .await
        .expect(201);
    let hash = record["hash"].as_str().unwrap();
    api.get(&format!("/api/v1/protocols/{hash}"))
        .await
        .expect(200);
    let old = api
        .get("/api/v1/protocols/mppt20-batch-qa/1.0.0")
        .await
        .expect(200);
    assert_ne!(old["hash"], hash);
    assert_eq!(
        api.get("/api/v1/protocols")
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Batch registration: taken serials, bad ranges and wrong lot sizes refused.
    let register = |serials: Value, lot: u64| json!({"product": "MPPT20", "protocol": hash, "lotSize": lot, "serials": serials, "productionDate": "2026-11-02"});
    let batches_url = "/api/v1/communities/kestrel/batches";
    api.post(
        batches_url,
        Some(&jun),
        register(json!(["MPPT20-2026-0100..0110"]), 11),
    )
    .await
    .problem(409, "conflict");
    api.post(
        batches_url,
        Some(&jun),
        register(json!(["MPPT20-2026-0120..0110"]), 11),
    )
    .await
    .problem(422, "invalid");
    api.post(
        batches_url,
        Some(&jun),
        register(json!(["MPPT20-2026-0201..0210"]), 11),
    )
    .await
    .problem(422, "invalid");
    let fresh = api
        .post(
            batches_url,
            Some(&jun),
            register(json!(["MPPT20-2026-0201..0210", "SPARE-1"]), 11),
        )
        .await
        .expect(201);
    assert_eq!(fresh["verdict"], "pending");
    assert_eq!(fresh["serials"].as_array().unwrap().len(), 11);

    // Revoking a reviewer's badge changes the verdicts that relied on it, and a fresh
    // bundle says why.
    let noor = token("noor").await;
    let felix_badges = api.get("/api/v1/accounts/felix/badges").await.expect(200);
    let qualifying = felix_badges
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["subject"]
                .as_str()
                .unwrap()
                .ends_with("/saltmarsh/achievements/power-electronics-reviewer")
        })
        .unwrap();
    let uuid = qualifying["uuid"].as_str().unwrap();
    api.call(
        Method::POST,
        &format!("/api/v1/communities/saltmarsh/badges/{uuid}/revoke"),
        Some(&noor),
        None,
    )
    .await
    .expect(200);
    let spring = batch_of(&api, "MPPT20-2026-0001").await;
    assert_eq!(spring["verdict"], "pending");
    std::fs::write(
        dir.path().join("after.json"),
        bundle_bytes("MPPT20-2026-0007").await,
    )
    .unwrap();
    let run = guildmark(
        dir.path(),
        &["verify", "after.json", "--trust", "trust.toml"],
        None,
    )
    .expect(1);
    assert!(
        run.stdout.contains("the badge is revoked as of"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ok   verdict recomputed: pending"),
        "{}",
        run.stdout
    );
    // The old bundle still verifies as of its own assembly: it is a dated snapshot.
    guildmark(
        dir.path(),
        &["verify", "b.json", "--trust", "trust.toml"],
        None,
    )
    .expect(0);

    // The node's verify endpoint recognises bundles too.
    let report = api
        .post_raw(
            "/api/v1/verify",
            None,
            "application/json",
            certified.clone(),
        )
        .await
        .expect(200);
    assert_eq!(report["kind"], "bundle");

    // Everything survives a restart.
    server.restart(&["--public-url", PUBLIC]);
    let api = Api::new(&server.url);
    let after = api.get("/api/v1/batches").await.expect(200);
    let verdicts: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["verdict"].as_str().unwrap())
        .collect();
    // Felix's revoked badge no longer qualifies him, so his failure of the autumn batch
    // no longer counts either: it went back to pending at the revocation.
    assert_eq!(verdicts, ["pending", "pending", "pending", "pending"]);
    let url = format!("{}/api/v1/devices/MPPT20-2026-0090/bundle", server.url);
    let rejected = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    std::fs::write(dir.path().join("rejected2.json"), &rejected).unwrap();
    let run = guildmark(
        dir.path(),
        &["verify", "rejected2.json", "--trust", "trust.toml"],
        None,
    )
    .expect(1);
    assert!(run.stdout.contains("ok   receipts:"), "{}", run.stdout);

    flipping_any_signed_byte_fails(&certified);
}

/// Flips single bytes inside the bundle's logged parts (credentials, entry times and
/// receipts) and checks that verification then fails, at a sample of positions
/// (`GUILDMARK_FLIP_POSITIONS`, default 400; `all` for every position).
fn flipping_any_signed_byte_fails(bundle: &[u8]) {
    use base64::Engine as _;
    use guildmark_review_protocols::provenance::{verify_bundle, Bundle};
    let value: Value = serde_json::from_slice(bundle).unwrap();
    let mut spans = Vec::new();
    let mut parts: Vec<&Value> = vec![&value["batch"], &value["protocol"]];
    for list in ["attestations", "badges", "statusLists"] {
        parts.extend(value[list].as_array().unwrap());
    }
    let text = std::str::from_utf8(bundle).unwrap();
    for part in parts {
        let serialized = serde_json::to_string(part).unwrap();
        let at = text.find(&serialized).expect("parts appear verbatim");
        spans.push(at..at + serialized.len());
    }
    let positions: Vec<usize> = spans.iter().flat_map(|s| s.clone()).collect();
    let wanted = match std::env::var("GUILDMARK_FLIP_POSITIONS").as_deref() {
        Ok("all") => positions.len(),
        Ok(n) => n.parse().unwrap(),
        Err(_) => 400,
    };
    let step = (positions.len() / wanted.max(1)).max(1);
    let contexts = guildmark_credentials::Contexts::bundled();
    let now = guildmark_credentials::Timestamp::parse("2100-01-01T00:00:00Z").unwrap();
    let mut checked = 0;
    // A deterministic spread over every part: every step-th position.
    for &position in positions.iter().skip(step / 3).step_by(step) {
        let mut tampered = bundle.to_vec();
        tampered[position] ^= 0x01;
        let accepted = serde_json::from_slice::<Bundle>(&tampered)
            .map(|b| verify_bundle(&b, None, &contexts, now).report.verified)
            .unwrap_or(false);
        assert!(
            !accepted,
            "flipping byte {position} ({:?}) went unnoticed",
            bundle[position] as char
        );
        checked += 1;
    }
    println!(
        "flipped {checked} of {} signed positions; every flip failed verification",
        positions.len()
    );
    assert!(checked >= wanted.min(positions.len()) / 2);

    // A checkpoint whose log signature is forged (its signatures are checked in the
    // credentials' batch): the receipts fail, the credentials' own signatures still pass.
    let mut forged: Bundle = serde_json::from_slice(bundle).unwrap();
    let note = forged.attestations[0].receipt.checkpoint.clone();
    let signature_line = note.trim_end().rsplit('\n').next().unwrap();
    let (head, encoded) = signature_line.rsplit_once(' ').unwrap();
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    *bytes.last_mut().unwrap() ^= 0x01;
    let reencoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    forged.attestations[0].receipt.checkpoint =
        note.replace(signature_line, &format!("{head} {reencoded}"));
    let report = verify_bundle(&forged, None, &contexts, now).report;
    assert!(!report.verified);
    let receipts = report.check("receipts").unwrap();
    assert_eq!(receipts.outcome, guildmark_credentials::Outcome::Failed);
    assert!(
        receipts
            .reason
            .contains("attestations[0]: its checkpoint's signature by the log key does not verify"),
        "{}",
        receipts.reason
    );
    assert_eq!(
        report.check("signatures").unwrap().outcome,
        guildmark_credentials::Outcome::Passed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_with_their_own_keys_sign_attestations_locally() {
    let server = Server::start(&["--demo", "--public-url", PUBLIC]);
    let api = Api::new(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let felix = api.token("felix", PASSWORD).await;
    let noor = api.token("noor", PASSWORD).await;

    // Felix brings his own key.
    let did = api.bring_own_key(&felix, dir.path(), "felix.key").await;

    let pending = batch_of(&api, "MPPT20-2026-0051").await;
    let attest = format!(
        "/api/v1/batches/{}/attestations",
        pending["id"].as_str().unwrap()
    );
    let sampled = sample(&pending, 13);
    // His badges name his old key: he is not qualified with the new one yet.
    let body =
        json!({"sampled": sampled, "results": mppt_passing_results(&sampled), "verdict": "pass"});
    api.post(&attest, Some(&felix), body)
        .await
        .problem(403, "not-qualified");
    let badge = api
        .post(
            "/api/v1/communities/saltmarsh/badges",
            Some(&noor),
            json!({"recipient": "felix", "achievement": "power-electronics-reviewer"}),
        )
        .await
        .expect(201);
    assert_eq!(badge["credential"]["credentialSubject"]["id"], did);
    let badge_id = badge["credential"]["id"].as_str().unwrap();
    let bo_badge = api.get("/api/v1/accounts/bo/badges").await.expect(200)[0]["credential"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let unsigned = |qualification: &str| {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/guildmark/v1"],
            "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            "type": ["VerifiableCredential", "ReviewAttestation"],
            "issuer": did,
            "validFrom": "2026-11-01T00:00:00Z",
            "credentialSubject": {
                "id": pending["url"],
                "type": "ReviewedBatch",
                "protocol": {"id": "urn:guildmark:protocol:mppt20-batch-qa:1.0.0", "digest": pending["protocol"]},
                "sampled": sampled,
                "results": mppt_passing_results(&sampled),
                "verdict": "pass",
                "qualification": [qualification],
            }
        })
    };
    let sign = |document: Value| {
        let run = guildmark(
            dir.path(),
            &["sign", "--key", "felix.key"],
            Some(document.to_string().as_bytes()),
        )
        .expect(0);
        serde_json::from_str::<Value>(&run.stdout).unwrap()
    };
    // The node will not sign for him any more.
    let body =
        json!({"sampled": sampled, "results": mppt_passing_results(&sampled), "verdict": "pass"});
    let problem = api
        .post(&attest, Some(&felix), body)
        .await
        .problem(422, "invalid");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("guildmark sign"));
    // Citing someone else's badge, or a tampered attestation, is refused.
    let foreign = sign(unsigned(&bo_badge));
    api.post(&attest, Some(&felix), json!({"credential": foreign}))
        .await
        .problem(403, "not-qualified");
    let mut tampered = sign(unsigned(badge_id));
    tampered["credentialSubject"]["results"][3]["value"] = "99.9 %".into();
    api.post(&attest, Some(&felix), json!({"credential": tampered}))
        .await
        .problem(422, "invalid");
    // The locally signed attestation is accepted and completes the quorum.
    let attestation = sign(unsigned(badge_id));
    let accepted = api
        .post(&attest, Some(&felix), json!({"credential": attestation}))
        .await
        .expect(201);
    assert_eq!(accepted["credential"], attestation);
    assert_eq!(accepted["verdict"], "certified");
    // And the device's bundle carries it and verifies offline.
    let url = format!("{}/api/v1/devices/MPPT20-2026-0070/bundle", server.url);
    let bytes = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    std::fs::write(dir.path().join("b.json"), &bytes).unwrap();
    let run = guildmark(dir.path(), &["verify", "b.json"], None).expect(0);
    assert!(run.stdout.contains(&did), "{}", run.stdout);
}
