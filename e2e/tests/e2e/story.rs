//! The mission from start to finish, through the public API and the CLI only, on a fresh
//! node: three communities and their people, achievements with a prerequisite, badges
//! (one refused for the missing prerequisite), an endorsement, the MPPT20 protocol, a
//! batch, two reviewers from two other communities (one signing locally with her own
//! key), the verdict, a buyer verifying a device's bundle with no network and no server,
//! a revocation the next bundle reports — with a graceful restart and a crash on the way.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{guildmark, mppt_passing_results, mppt_protocol, vectors, Server};
use crate::http::Api;

const PUBLIC: &str = "https://story.example";

pub(crate) fn validator(name: &str) -> jsonschema::Validator {
    let path = vectors().join("open-badges-3/schemas").join(name);
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft201909)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// `guildmark ARGS` with no network: in a fresh network namespace when the system allows
/// one (`unshare -n`), else plainly (the node is stopped either way).
pub(crate) fn offline(dir: &std::path::Path, args: &[&str]) -> (i32, String, bool) {
    let isolated = Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let output = if isolated {
        Command::new("unshare")
            .arg("-n")
            .arg(crate::common::bin())
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    } else {
        Command::new(crate::common::bin())
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        isolated,
    )
}

pub(crate) async fn member(api: &Api, admin: &str, slug: &str, name: &str, roles: Value) {
    api.call(
        Method::PUT,
        &format!("/api/v1/communities/{slug}/members/{name}"),
        Some(admin),
        Some(json!({"roles": roles})),
    )
    .await
    .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_apprentice_to_buyer() {
    let mut server = Server::start(&["--public-url", PUBLIC]);
    let mut api = Api::new(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let operator = api.account("operator").await;

    // Three communities and their people.
    for (slug, name) in [
        ("forge", "Forge Microfactory"),
        ("coast", "Coast Repair Café"),
        ("peak", "Peak Power Co-op"),
    ] {
        api.post(
            "/api/v1/communities",
            Some(&operator),
            json!({"slug": slug, "name": name, "description": format!("{name}, a story community")}),
        )
        .await
        .expect(201);
    }
    let mut tokens = std::collections::HashMap::new();
    for (name, slug, roles) in [
        ("pat", "forge", json!(["producer"])),
        ("ria", "coast", json!(["admin", "assessor"])),
        ("rex", "coast", json!(["reviewer"])),
        ("sol", "peak", json!(["admin", "assessor"])),
        ("tia", "peak", json!(["reviewer"])),
    ] {
        tokens.insert(name, api.account(name).await);
        member(&api, &operator, slug, name, roles).await;
    }
    let token = |name: &str| tokens[name].clone();

    // Tia brings her own key before her badge is issued.
    let tia_did = api
        .bring_own_key(&token("tia"), dir.path(), "tia.key")
        .await;

    // Achievements, one with a prerequisite.
    let achievement = |slug: &str, name: &str, prerequisites: Value| json!({"name": name, "title": name, "description": format!("{name} at {slug}"), "criteria": "Assessed at the bench.", "prerequisites": prerequisites});
    api.post(
        "/api/v1/communities/coast/achievements",
        Some(&operator),
        achievement("coast", "bench-basics", json!([])),
    )
    .await
    .expect(201);
    api.post(
        "/api/v1/communities/coast/achievements",
        Some(&operator),
        achievement(
            "coast",
            "power-electronics-reviewer",
            json!(["bench-basics"]),
        ),
    )
    .await
    .expect(201);
    api.post(
        "/api/v1/communities/peak/achievements",
        Some(&operator),
        achievement("peak", "power-electronics-reviewer", json!([])),
    )
    .await
    .expect(201);

    // Badges: refused without the prerequisite, then earned in order.
    let issue = |slug: &'static str, to: &'static str, what: &'static str| json!({"recipient": to, "achievement": what, "narrative": format!("{to} earned {what} at {slug}.")});
    api.post(
        "/api/v1/communities/coast/badges",
        Some(&token("ria")),
        issue("coast", "rex", "power-electronics-reviewer"),
    )
    .await
    .problem(409, "prerequisite-missing");
    let mut badges = Vec::new();
    for (slug, by, to, what) in [
        ("coast", "ria", "rex", "bench-basics"),
        ("coast", "ria", "rex", "power-electronics-reviewer"),
        ("peak", "sol", "tia", "power-electronics-reviewer"),
    ] {
        let badge = api
            .post(
                &format!("/api/v1/communities/{slug}/badges"),
                Some(&token(by)),
                issue(slug, to, what),
            )
            .await
            .expect(201);
        badges.push(badge);
    }
    assert_eq!(badges[2]["credential"]["credentialSubject"]["id"], tia_did);
    let endorsement = api
        .post(
            "/api/v1/endorsements",
            Some(&token("rex")),
            json!({"target": format!("{PUBLIC}/communities/coast/achievements/power-electronics-reviewer"), "comment": "A fair and demanding assessment."}),
        )
        .await
        .expect(201);
    // Every badge and the endorsement validate against 1EdTech's schemas, with their one
    // status entry and their proofs as arrays.
    let badge_schema = validator("achievementcredential.json");
    for badge in &badges {
        let errors: Vec<String> = badge_schema
            .iter_errors(&badge["credential"])
            .map(|e| format!("{}: {e}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            badge["credential"]["credentialStatus"]["statusPurpose"],
            "revocation"
        );
        assert_eq!(
            badge["credential"]["proof"][0]["cryptosuite"],
            "eddsa-rdfc-2022"
        );
    }
    let errors: Vec<String> = validator("endorsementcredential.json")
        .iter_errors(&endorsement["credential"])
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    // A checkpoint to hold the log to at the end.
    let early = reqwest::get(format!("{}/checkpoint", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // A graceful restart loses nothing.
    server.restart(&["--public-url", PUBLIC]);
    api = Api::new(&server.url);
    assert_eq!(
        api.get("/api/v1/accounts/rex/badges")
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The protocol, published by Peak, and Forge's batch.
    let source = mppt_protocol(PUBLIC, ["coast", "peak", "forge"]);
    api.post(
        "/api/v1/communities/peak/protocols",
        Some(&token("tia")),
        json!({"source": source}),
    )
    .await
    .problem(403, "forbidden");
    let protocol = api
        .post(
            "/api/v1/communities/peak/protocols",
            Some(&token("sol")),
            json!({"source": source}),
        )
        .await
        .expect(201);
    let batch = api
        .post(
            "/api/v1/communities/forge/batches",
            Some(&token("pat")),
            json!({"product": "MPPT20 solar charge controller", "protocol": protocol["hash"], "lotSize": 20, "serials": ["SC-2026-0001..0020"], "productionDate": "2026-11-10"}),
        )
        .await
        .expect(201);
    assert_eq!(batch["verdict"], "pending");
    let attest = format!(
        "/api/v1/batches/{}/attestations",
        batch["id"].as_str().unwrap()
    );
    let results = mppt_passing_results;
    let serials: Vec<String> = batch["serials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();

    // Rex (Coast) attests through the API: the node signs with his key.
    let rex_sample = serials[..13].to_vec();
    let first = api
        .post(
            &attest,
            Some(&token("rex")),
            json!({"sampled": rex_sample, "results": results(&rex_sample), "verdict": "pass"}),
        )
        .await
        .expect(201);
    assert_eq!(first["verdict"], "pending");
    // Tia (Peak) signs hers locally and uploads it.
    let tia_sample = serials[7..20].to_vec();
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/guildmark/v1"],
        "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "type": ["VerifiableCredential", "ReviewAttestation"],
        "issuer": tia_did,
        "validFrom": "2026-11-20T00:00:00Z",
        "credentialSubject": {
            "id": batch["url"],
            "type": "ReviewedBatch",
            "protocol": {"id": "urn:guildmark:protocol:mppt20-batch-qa:1.0.0", "digest": protocol["hash"]},
            "sampled": tia_sample,
            "results": results(&tia_sample),
            "verdict": "pass",
            "qualification": [badges[2]["credential"]["id"]],
        }
    });
    let signed = guildmark(
        dir.path(),
        &["sign", "--key", "tia.key"],
        Some(unsigned.to_string().as_bytes()),
    )
    .expect(0);
    let signed: Value = serde_json::from_str(&signed.stdout).unwrap();
    let second = api
        .post(&attest, Some(&token("tia")), json!({"credential": signed}))
        .await
        .expect(201);
    assert_eq!(second["verdict"], "certified", "{:#}", second["evaluation"]);

    // A crash: the node is killed and comes back with everything.
    server.kill();
    server.restart(&["--public-url", PUBLIC]);
    api = Api::new(&server.url);
    let device = api.get("/api/v1/devices/SC-2026-0016").await.expect(200);
    assert_eq!(device["verdict"], "certified");

    // The buyer: a bundle and a trust file, then verification with no server and no network.
    for (path, file) in [
        ("/api/v1/devices/SC-2026-0016/bundle", "bundle.json"),
        ("/api/v1/trust", "trust.toml"),
    ] {
        let bytes = reqwest::get(format!("{}{path}", server.url))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        std::fs::write(dir.path().join(file), &bytes).unwrap();
    }
    server.stop();
    let (code, stdout, isolated) = offline(
        dir.path(),
        &["verify", "bundle.json", "--trust", "trust.toml"],
    );
    println!("offline verification (network namespace: {isolated}):\n{stdout}");
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("ok   certified:") && stdout.contains("ok   trust:"),
        "{stdout}"
    );
    assert!(stdout.contains(&tia_did), "{stdout}");

    // Peak revokes Tia's badge; the next bundle says so and the batch is pending again.
    server.restart(&["--public-url", PUBLIC]);
    api = Api::new(&server.url);
    let uuid = badges[2]["uuid"].as_str().unwrap();
    api.call(
        Method::POST,
        &format!("/api/v1/communities/peak/badges/{uuid}/revoke"),
        Some(&token("sol")),
        None,
    )
    .await
    .expect(200);
    assert_eq!(
        api.get("/api/v1/devices/SC-2026-0016").await.expect(200)["verdict"],
        "pending"
    );
    let bytes = reqwest::get(format!("{}/api/v1/devices/SC-2026-0016/bundle", server.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(dir.path().join("after.json"), &bytes).unwrap();
    let (code, stdout, _) = offline(
        dir.path(),
        &["verify", "after.json", "--trust", "trust.toml"],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("the badge is revoked as of"), "{stdout}");
    assert!(stdout.contains("??   certified: batch"), "{stdout}");
    // An independent log client checks every entry of the story and that the log only
    // grew since the early checkpoint.
    let summary = crate::interop_tlog::check(&server, &early).await;
    println!("tlog-scales over the story's ledger: {summary}");

    // The first bundle is still what it was: a dated, verifiable snapshot.
    let (code, _, _) = offline(
        dir.path(),
        &["verify", "bundle.json", "--trust", "trust.toml"],
    );
    assert_eq!(code, 0);
}
