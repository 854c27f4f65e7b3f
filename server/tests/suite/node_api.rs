//! The node through the real binary over HTTP: badges end to end, bad input (each a
//! clear problem, nothing half-written), sessions and CSRF, tokens, rate limits, key
//! rotation, bring-your-own-key, restarts and crashes.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{guildmark, keygen, Server};
use crate::http::Api;

const PUBLIC: &str = "http://node.test";

struct Community {
    api: Api,
    admin: String,
    assessor: String,
}

/// A node with community "forge": admin, assessor, members ada and bo, achievements
/// l1 and l2 (which needs l1).
async fn forge(server: &Server) -> Community {
    let api = Api::new(&server.url);
    let admin = api.account("admin").await;
    api.post(
        "/api/v1/communities",
        Some(&admin),
        json!({"slug": "forge", "name": "Forge"}),
    )
    .await
    .expect(201);
    let assessor = api.account("assessor").await;
    for (name, role) in [
        ("assessor", "assessor"),
        ("ada", "apprentice"),
        ("bo", "apprentice"),
    ] {
        if name != "assessor" {
            api.account(name).await;
        }
        api.call(
            Method::PUT,
            &format!("/api/v1/communities/forge/members/{name}"),
            Some(&admin),
            Some(json!({"roles": [role]})),
        )
        .await
        .expect(200);
    }
    for (name, prerequisites) in [("l1", json!([])), ("l2", json!(["l1"]))] {
        api.post(
            "/api/v1/communities/forge/achievements",
            Some(&admin),
            json!({"name": name, "title": format!("Soldering {name}"), "description": "Solders.", "criteria": "A board.", "prerequisites": prerequisites}),
        )
        .await
        .expect(201);
    }
    Community {
        api,
        admin,
        assessor,
    }
}

async fn ledger_size(api: &Api) -> u64 {
    api.get("/api/v1/ledger").await.expect(200)["size"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_badge_is_signed_logged_verifiable_and_revocable() {
    let server = Server::start(&["--public-url", PUBLIC]);
    let forge = forge(&server).await;
    let api = &forge.api;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"joint photos".to_vec()).file_name("joints.txt"),
    );
    let file: Value = api
        .client
        .post(format!("{}/api/v1/communities/forge/files", api.base))
        .bearer_auth(&forge.assessor)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hash = file["sha256"].as_str().unwrap();
    let issued = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&forge.assessor),
            json!({"recipient": "ada", "achievement": "l1", "narrative": "Forty good joints.",
                   "evidence": [{"narrative": "Watched by the assessor."}, {"url": "https://example.org/ada"}, {"file": hash}]}),
        )
        .await
        .expect(201);
    let credential = &issued["credential"];
    assert_eq!(issued["standing"], "active");
    assert!(credential["id"]
        .as_str()
        .unwrap()
        .starts_with("http://node.test/credentials/"));
    assert_eq!(
        credential["type"],
        json!(["VerifiableCredential", "OpenBadgeCredential"])
    );
    assert_eq!(credential["evidence"].as_array().unwrap().len(), 3);
    assert_eq!(
        credential["evidence"][2]["id"],
        format!("http://node.test/files/{hash}")
    );
    // One revocation entry, as Open Badges 3.0 allows; an rdfc proof, in an array.
    assert_eq!(
        credential["credentialStatus"]["statusPurpose"],
        "revocation"
    );
    assert_eq!(credential["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");
    // The receipt proves inclusion under the node's signed checkpoint.
    let receipt = &issued["receipt"];
    let entry = api
        .get(&format!("/api/v1/ledger/entries/{}", receipt["index"]))
        .await
        .expect(200);
    assert_eq!(entry["entryJson"]["payload"], *credential);
    assert_eq!(entry["entryJson"]["kind"], "credential");
    // The node's holder key for ada is the subject; the issuer is the community's key.
    let ada = api.get("/api/v1/accounts/ada/badges").await.expect(200);
    assert_eq!(ada.as_array().unwrap().len(), 1);
    let community = api.get("/api/v1/communities/forge").await.expect(200);
    assert_eq!(credential["issuer"]["id"], community["issuers"][0]["did"]);

    // The CLI verifies it offline, with the status list fetched from the node.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("badge.json"), credential.to_string()).unwrap();
    let list_url = credential["credentialStatus"]["statusListCredential"]
        .as_str()
        .unwrap();
    let list_path = list_url.strip_prefix(PUBLIC).unwrap();
    let list = api.get(list_path).await.expect(200);
    // The list is signed as badges are, and lapses 30 days after it was signed (the node
    // re-signs it before then).
    assert_eq!(list["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");
    let time = |t: &Value| guildmark_credentials::Timestamp::parse(t.as_str().unwrap()).unwrap();
    assert_eq!(
        time(&list["validUntil"]),
        time(&list["validFrom"]).plus_seconds(30 * 86_400)
    );
    std::fs::write(dir.path().join("list.json"), list.to_string()).unwrap();
    guildmark(
        dir.path(),
        &["verify", "--status-list", "list.json", "badge.json"],
        None,
    )
    .expect(0);

    // Revocation: one logged list change; the badge is then revoked everywhere.
    let uuid = issued["uuid"].as_str().unwrap();
    let before = ledger_size(api).await;
    api.call(
        Method::POST,
        &format!("/api/v1/communities/forge/badges/{uuid}/revoke"),
        Some(&forge.assessor),
        None,
    )
    .await
    .problem(403, "forbidden");
    let revoked = api
        .call(
            Method::POST,
            &format!("/api/v1/communities/forge/badges/{uuid}/revoke"),
            Some(&forge.admin),
            None,
        )
        .await
        .expect(200);
    assert_eq!(revoked["standing"], "revoked");
    assert_eq!(ledger_size(api).await, before + 1);
    std::fs::write(
        dir.path().join("list.json"),
        api.get(list_path).await.expect(200).to_string(),
    )
    .unwrap();
    let run = guildmark(
        dir.path(),
        &["verify", "--status-list", "list.json", "badge.json"],
        None,
    )
    .expect(1);
    assert!(run.stdout.contains("revoked"), "{}", run.stdout);
    let report = api
        .post("/api/v1/verify", None, credential.clone())
        .await
        .expect(200);
    assert_eq!(report["verified"], false);
    // Revocation is permanent.
    api.call(
        Method::POST,
        &format!("/api/v1/communities/forge/badges/{uuid}/reinstate"),
        Some(&forge.admin),
        None,
    )
    .await
    .problem(409, "conflict");
    // The OpenAPI document describes the API.
    let openapi = api.get("/api/v1/openapi.json").await.expect(200);
    assert!(openapi["paths"].as_object().unwrap().len() >= 20);
    assert!(openapi["paths"]["/api/v1/communities/{slug}/badges"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prerequisites_are_enforced_and_overrides_recorded() {
    let server = Server::start(&[]);
    let forge = forge(&server).await;
    let api = &forge.api;
    let before = ledger_size(api).await;
    let refused = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&forge.assessor),
            json!({"recipient": "ada", "achievement": "l2"}),
        )
        .await
        .problem(409, "prerequisite-missing");
    assert!(refused["detail"]
        .as_str()
        .unwrap()
        .contains("/achievements/l1"));
    assert_eq!(
        ledger_size(api).await,
        before,
        "a refused issuance logs nothing"
    );
    let overridden = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&forge.admin),
            json!({"recipient": "ada", "achievement": "l2", "overridePrerequisites": "Certified by the regional guild"}),
        )
        .await
        .expect(201);
    let evidence = overridden["credential"]["evidence"].as_array().unwrap();
    assert!(evidence.iter().any(|e| e["genre"] == "PrerequisiteOverride"
        && e["narrative"]
            .as_str()
            .unwrap()
            .contains("Certified by the regional guild")));
    // With l1 held, l2 needs no override.
    api.post(
        "/api/v1/communities/forge/badges",
        Some(&forge.assessor),
        json!({"recipient": "bo", "achievement": "l1"}),
    )
    .await
    .expect(201);
    api.post(
        "/api/v1/communities/forge/badges",
        Some(&forge.assessor),
        json!({"recipient": "bo", "achievement": "l2"}),
    )
    .await
    .expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_problem_and_changes_nothing() {
    let server = Server::start(&[]);
    let forge = forge(&server).await;
    let api = &forge.api;
    let token = Some(forge.assessor.as_str());
    let badges = "/api/v1/communities/forge/badges";
    let before = ledger_size(api).await;

    api.post_raw(
        badges,
        token,
        "application/json",
        b"{\"recipient\": \"ada\",".to_vec(),
    )
    .await
    .problem(400, "malformed-json");
    api.post_raw(
        badges,
        token,
        "application/json",
        b"{\"recipient\":\"ada\",\"recipient\":\"bo\",\"achievement\":\"l1\"}".to_vec(),
    )
    .await
    .problem(400, "malformed-json");
    api.post_raw(badges, token, "text/plain", b"{}".to_vec())
        .await
        .problem(415, "unsupported-media-type");
    api.post(badges, token, json!({"recipient": 7, "achievement": "l1"}))
        .await
        .problem(422, "invalid-body");
    api.post(
        badges,
        token,
        json!({"recipient": "ada", "achievement": "l1", "colour": "red"}),
    )
    .await
    .problem(422, "invalid-body");
    // Each refusal names the request member at fault, so a client need not read prose.
    let unknown = api
        .post(
            badges,
            token,
            json!({"recipient": "ada", "achievement": "juggling"}),
        )
        .await
        .problem(404, "not-found");
    assert_eq!(unknown["field"], "achievement", "{unknown:#}");
    let nobody = api
        .post(
            badges,
            token,
            json!({"recipient": "nobody", "achievement": "l1"}),
        )
        .await
        .problem(404, "not-found");
    assert_eq!(nobody["field"], "recipient", "{nobody:#}");
    let outsider = api.account("outsider").await;
    let _ = outsider;
    let not_member = api
        .post(
            badges,
            token,
            json!({"recipient": "outsider", "achievement": "l1"}),
        )
        .await
        .problem(422, "invalid");
    assert_eq!(not_member["field"], "recipient", "{not_member:#}");
    let backdated = api
        .post(
            badges,
            token,
            json!({"recipient": "ada", "achievement": "l1", "validFrom": "2020-01-01T00:00:00Z"}),
        )
        .await
        .problem(422, "invalid");
    assert_eq!(backdated["field"], "validFrom", "{backdated:#}");
    let script = api
        .post(badges, token, json!({"recipient": "ada", "achievement": "l1", "evidence": [{"url": "javascript:alert(1)"}]}))
        .await
        .problem(422, "invalid");
    assert_eq!(script["field"], "evidence", "{script:#}");
    api.post(
        badges,
        token,
        json!({"recipient": "ada", "achievement": "l1", "evidence": [{"file": "00".repeat(32)}]}),
    )
    .await
    .problem(422, "invalid");
    let huge =
        json!({"recipient": "ada", "achievement": "l1", "narrative": "x".repeat(300 * 1024)});
    api.post(badges, token, huge)
        .await
        .problem(413, "too-large");
    api.post(
        "/api/v1/communities/nowhere/badges",
        token,
        json!({"recipient": "ada", "achievement": "l1"}),
    )
    .await
    .problem(404, "not-found");
    assert_eq!(
        ledger_size(api).await,
        before,
        "no refused request logged anything"
    );

    // A badge too large for the ledger fails after its status slot was taken: the slot
    // is given back and the next badge gets it.
    let large = json!({"recipient": "ada", "achievement": "l1",
        "evidence": (0..4).map(|_| json!({"narrative": "y".repeat(18_000)})).collect::<Vec<_>>()});
    api.post(badges, token, large)
        .await
        .problem(413, "too-large");
    let lists_logged = 1; // the community's first revocation list
    assert_eq!(ledger_size(api).await, before + lists_logged);
    let first = api
        .post(
            badges,
            token,
            json!({"recipient": "ada", "achievement": "l1"}),
        )
        .await
        .expect(201);
    let second = api
        .post(
            badges,
            token,
            json!({"recipient": "bo", "achievement": "l1"}),
        )
        .await
        .expect(201);
    let index = |b: &Value| {
        b["credential"]["credentialStatus"]["statusListIndex"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let issuer = first["credential"]["issuer"]["id"].as_str().unwrap();
    assert_eq!(
        index(&first),
        guildmark_server::node::status::index_of(issuer, 0)
    );
    assert_eq!(
        index(&second),
        guildmark_server::node::status::index_of(issuer, 1)
    );

    // Accounts: duplicates, weak passwords, wrong passwords.
    api.post(
        "/api/v1/accounts",
        None,
        json!({"username": "ada", "password": "another-password"}),
    )
    .await
    .problem(409, "conflict");
    api.post(
        "/api/v1/accounts",
        None,
        json!({"username": "cy", "password": "short"}),
    )
    .await
    .problem(422, "invalid");
    api.post(
        "/api/v1/accounts",
        None,
        json!({"username": "../etc", "password": "long-enough-password"}),
    )
    .await
    .problem(422, "invalid");
    api.post(
        "/api/v1/session",
        None,
        json!({"username": "ada", "password": "wrong-password"}),
    )
    .await
    .problem(401, "unauthenticated");

    // Uploads: a path in the file name is refused, and nothing is stored.
    for name in ["../../etc/passwd", "a/b.txt", "..", "c:\\x.txt"] {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name(name.to_owned()),
        );
        let response = api
            .client
            .post(format!("{}/api/v1/communities/forge/files", api.base))
            .bearer_auth(&forge.assessor)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{name}");
    }
    let hash = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"; // sha256("x")
    api.get(&format!("/files/{hash}"))
        .await
        .problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_need_csrf_tokens_and_tokens_can_expire_or_be_revoked() {
    let server = Server::start(&[]);
    let forge = forge(&server).await;
    let api = &forge.api;
    let session = api
        .post(
            "/api/v1/session",
            None,
            json!({"username": "assessor", "password": "assessor-password-1"}),
        )
        .await;
    let set_cookie = session
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = session.expect(200)["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let issue = |csrf: Option<String>| {
        let mut request = api
            .client
            .post(format!("{}/api/v1/communities/forge/badges", api.base))
            .header("cookie", &cookie)
            .json(&json!({"recipient": "ada", "achievement": "l1"}));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send()
    };
    let before = ledger_size(api).await;
    assert_eq!(issue(None).await.unwrap().status(), 403);
    assert_eq!(issue(Some("forged".into())).await.unwrap().status(), 403);
    assert_eq!(ledger_size(api).await, before);
    assert_eq!(issue(Some(csrf)).await.unwrap().status(), 201);
    // Reads need no CSRF token.
    let me = api
        .client
        .get(format!("{}/api/v1/me", api.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // A revoked token stops working at once; an expired one too.
    let tokens = api
        .call(
            Method::GET,
            "/api/v1/me/tokens",
            Some(&forge.assessor),
            None,
        )
        .await
        .expect(200);
    let id = tokens[0]["id"].as_str().unwrap().to_owned();
    assert!(tokens[0].get("token").is_none(), "secrets are shown once");
    let soon = {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        guildmark_credentials::Timestamp::from_unix_seconds(now + 2).to_string()
    };
    let short = api
        .post(
            "/api/v1/me/tokens",
            Some(&forge.assessor),
            json!({"name": "short", "expiresAt": soon}),
        )
        .await
        .expect(201);
    let short = short["token"].as_str().unwrap().to_owned();
    api.call(Method::GET, "/api/v1/me", Some(&short), None)
        .await
        .expect(200);
    api.call(
        Method::DELETE,
        &format!("/api/v1/me/tokens/{id}"),
        Some(&forge.assessor),
        None,
    )
    .await
    .expect(204);
    let gone = api
        .call(Method::GET, "/api/v1/me", Some(&forge.assessor), None)
        .await
        .problem(401, "unauthenticated");
    assert!(gone["detail"].as_str().unwrap().contains("revoked"));
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let expired = api
        .call(Method::GET, "/api/v1/me", Some(&short), None)
        .await
        .problem(401, "unauthenticated");
    assert!(expired["detail"].as_str().unwrap().contains("expired"));
    api.call(Method::GET, "/api/v1/me", Some("gmt_made-up"), None)
        .await
        .problem(401, "unauthenticated");

    // Five wrong passwords from a stranger lock the account for a while, even with the
    // right one after, from any network bo never signed in from ...
    let stranger = Api::from_address(&api.base, "127.0.0.2");
    for _ in 0..5 {
        stranger
            .post(
                "/api/v1/session",
                None,
                json!({"username": "bo", "password": "not-the-password"}),
            )
            .await
            .problem(401, "unauthenticated");
    }
    for network in ["127.0.0.2", "127.0.0.3"] {
        let limited = Api::from_address(&api.base, network)
            .post(
                "/api/v1/session",
                None,
                json!({"username": "bo", "password": "bo-password-1"}),
            )
            .await;
        assert!(limited.headers.get("retry-after").is_some());
        limited.problem(429, "rate-limited");
    }
    // ... but bo still gets in from the network they signed in from before.
    api.post(
        "/api/v1/session",
        None,
        json!({"username": "bo", "password": "bo-password-1"}),
    )
    .await
    .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_revocations_of_one_badge_change_it_once() {
    let server = Server::start(&[]);
    let forge = forge(&server).await;
    let api = &forge.api;
    let badge = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&forge.assessor),
            json!({"recipient": "ada", "achievement": "l1"}),
        )
        .await
        .expect(201);
    let uuid = badge["uuid"].as_str().unwrap().to_owned();
    let before = ledger_size(api).await;
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let api = api.clone();
            let (admin, uuid) = (forge.admin.clone(), uuid.clone());
            tokio::spawn(async move {
                api.call(
                    Method::POST,
                    &format!("/api/v1/communities/forge/badges/{uuid}/revoke"),
                    Some(&admin),
                    None,
                )
                .await
                .status
                .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(ledger_size(api).await, before + 1, "one list change logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_crashes_and_key_rotation_lose_nothing() {
    let mut server = Server::start(&["--public-url", PUBLIC]);
    let forge = forge(&server).await;
    let (admin, assessor) = (forge.admin.clone(), forge.assessor.clone());
    let mut api = forge.api.clone();
    let old = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&assessor),
            json!({"recipient": "ada", "achievement": "l1"}),
        )
        .await
        .expect(201);
    let rotation = api
        .post(
            "/api/v1/communities/forge/key-rotation",
            Some(&admin),
            json!(null),
        )
        .await;
    let rotation = rotation.expect(200);
    let community = &rotation["community"];
    assert_eq!(community["issuers"].as_array().unwrap().len(), 2);
    // The rotation is signed by the old key and names the new one.
    let report = api
        .post("/api/v1/verify", None, rotation["rotation"].clone())
        .await
        .expect(200);
    assert_eq!(report["verified"], true, "{report:#}");
    assert_eq!(
        rotation["rotation"]["issuer"],
        community["issuers"][0]["did"]
    );
    assert_eq!(
        rotation["rotation"]["credentialSubject"]["id"],
        community["issuers"][1]["did"]
    );
    let new = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&assessor),
            json!({"recipient": "bo", "achievement": "l1"}),
        )
        .await
        .expect(201);
    assert_eq!(
        new["credential"]["issuer"]["id"],
        community["issuers"][1]["did"]
    );

    // A graceful restart keeps everything, including sessions' tokens.
    server.restart(&["--public-url", PUBLIC]);
    api = crate::http::Api::new(&server.url);
    for badge in [&old, &new] {
        let uuid = badge["uuid"].as_str().unwrap();
        let fetched = api
            .get(&format!("/api/v1/credentials/{uuid}"))
            .await
            .expect(200);
        assert_eq!(fetched["credential"], badge["credential"]);
        let report = api
            .post("/api/v1/verify", None, badge["credential"].clone())
            .await
            .expect(200);
        assert_eq!(report["verified"], true, "{report:#}");
    }
    // Both epochs' lists still work: revoke the old-key badge after the rotation.
    let uuid = old["uuid"].as_str().unwrap();
    api.call(
        Method::POST,
        &format!("/api/v1/communities/forge/badges/{uuid}/revoke"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    let report = api
        .post("/api/v1/verify", None, old["credential"].clone())
        .await
        .expect(200);
    assert_eq!(report["verified"], false);

    // SIGKILL right after acknowledgements: the node's records are rebuilt from the ledger.
    let mut issued = Vec::new();
    for _ in 0..10 {
        let badge = api
            .post(
                "/api/v1/communities/forge/badges",
                Some(&assessor),
                json!({"recipient": "ada", "achievement": "l1"}),
            )
            .await
            .expect(201);
        issued.push(badge);
    }
    let last = issued.last().unwrap()["uuid"].as_str().unwrap().to_owned();
    api.call(
        Method::POST,
        &format!("/api/v1/communities/forge/badges/{last}/revoke"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    server.kill();
    let mut server = Server::start_in(server.data(), &["--public-url", PUBLIC]);
    let api = crate::http::Api::new(&server.url);
    for badge in &issued {
        let uuid = badge["uuid"].as_str().unwrap();
        let fetched = api
            .get(&format!("/api/v1/credentials/{uuid}"))
            .await
            .expect(200);
        assert_eq!(fetched["credential"], badge["credential"]);
        let expected = if uuid == last { "revoked" } else { "active" };
        assert_eq!(fetched["standing"], expected);
    }
    let ada = api.get("/api/v1/accounts/ada/badges").await.expect(200);
    assert_eq!(ada.as_array().unwrap().len(), 11);
    // A new badge does not reuse a slot taken before the crash.
    let fresh = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&assessor),
            json!({"recipient": "bo", "achievement": "l1"}),
        )
        .await
        .expect(201);
    let slot = |b: &Value| {
        b["credential"]["credentialStatus"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(issued.iter().chain([&new]).all(|b| slot(b) != slot(&fresh)));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_bring_their_own_keys_and_endorse() {
    let server = Server::start(&["--public-url", PUBLIC]);
    let forge = forge(&server).await;
    let api = &forge.api;
    let ada = api.token("ada", "ada-password-1").await;
    let dir = tempfile::tempdir().unwrap();
    // A presentation that does not answer the node's challenge is refused.
    let stray = keygen(dir.path(), "stray.key");
    let challenge = api
        .call(Method::GET, "/api/v1/me/holder/challenge", Some(&ada), None)
        .await
        .expect(200);
    let presentation = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": stray,
    });
    let replayed = guildmark(
        dir.path(),
        &[
            "sign",
            "--key",
            "stray.key",
            "--challenge",
            "gmc_old",
            "--domain",
            challenge["domain"].as_str().unwrap(),
        ],
        Some(presentation.to_string().as_bytes()),
    )
    .expect(0);
    let replayed: Value = serde_json::from_str(&replayed.stdout).unwrap();
    api.call(
        Method::PUT,
        "/api/v1/me/holder",
        Some(&ada),
        Some(json!({"presentation": replayed})),
    )
    .await
    .problem(422, "invalid");
    let did = api.bring_own_key(&ada, dir.path(), "ada.key").await;
    let account = api
        .call(Method::GET, "/api/v1/me", Some(&ada), None)
        .await
        .expect(200);
    assert_eq!(account["account"]["holder"], did);
    assert_eq!(account["account"]["holderManaged"], false);
    let badge = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&forge.assessor),
            json!({"recipient": "ada", "achievement": "l1"}),
        )
        .await
        .expect(201);
    assert_eq!(badge["credential"]["credentialSubject"]["id"], did);

    // Ada holds l1, so she may endorse Bo's l1 badge; with her own key she signs locally.
    let bo = api
        .post(
            "/api/v1/communities/forge/badges",
            Some(&forge.assessor),
            json!({"recipient": "bo", "achievement": "l1"}),
        )
        .await
        .expect(201);
    let target = bo["credential"]["id"].as_str().unwrap();
    api.post(
        "/api/v1/endorsements",
        Some(&ada),
        json!({"target": target}),
    )
    .await
    .problem(422, "invalid");
    let endorsement = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Ada endorses Bo",
        "issuer": {"id": did, "type": ["Profile"], "name": "Ada"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": target, "type": ["EndorsementSubject"], "endorsementComment": "Steady hands."}
    });
    let signed = guildmark(
        dir.path(),
        &["sign", "--key", "ada.key"],
        Some(endorsement.to_string().as_bytes()),
    )
    .expect(0);
    let signed: Value = serde_json::from_str(&signed.stdout).unwrap();
    let logged = api
        .post(
            "/api/v1/endorsements",
            Some(&ada),
            json!({"credential": signed}),
        )
        .await
        .expect(201);
    assert_eq!(logged["kind"], "endorsement");
    // Bo does not hold l2, so he may not endorse it; a forged endorsement is refused.
    let bo_token = api.token("bo", "bo-password-1").await;
    let l2 = format!("{PUBLIC}/communities/forge/achievements/l2");
    api.post(
        "/api/v1/endorsements",
        Some(&bo_token),
        json!({"target": l2}),
    )
    .await
    .problem(403, "forbidden");
    let mut forged = signed.clone();
    forged["credentialSubject"]["endorsementComment"] = "Shaky hands.".into();
    api.post(
        "/api/v1/endorsements",
        Some(&ada),
        json!({"credential": forged}),
    )
    .await
    .problem(422, "invalid");

    // An endorsement whose chosen id names Bo's badge (as urn:uuid, a different id
    // string with the same UUID) is refused; the badge stays Bo's badge.
    let bo_uuid = bo["uuid"].as_str().unwrap();
    for id in [
        format!("urn:uuid:{bo_uuid}"),
        target.to_owned(),
        format!("urn:uuid:{}", bo_uuid.to_uppercase()),
    ] {
        let mut clobber = endorsement.clone();
        clobber["id"] = id.clone().into();
        let signed = guildmark(
            dir.path(),
            &["sign", "--key", "ada.key"],
            Some(clobber.to_string().as_bytes()),
        )
        .expect(0);
        let signed: Value = serde_json::from_str(&signed.stdout).unwrap();
        let refused = api
            .post(
                "/api/v1/endorsements",
                Some(&ada),
                json!({"credential": signed}),
            )
            .await;
        assert!(
            refused.status == 409 || refused.status == 422,
            "{id}: {} {}",
            refused.status,
            refused.body
        );
        assert_eq!(
            refused.body["field"], "credential",
            "{id}: {}",
            refused.body
        );
    }
    let record = api
        .get(&format!("/api/v1/credentials/{bo_uuid}"))
        .await
        .expect(200);
    assert_eq!(record["kind"], "badge", "{record}");
    let held = api.get("/api/v1/accounts/bo/badges").await.expect(200);
    assert!(
        held.as_array()
            .unwrap()
            .iter()
            .any(|b| b["uuid"] == bo_uuid),
        "{held}"
    );
}
