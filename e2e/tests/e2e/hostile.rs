//! Hostile input, generated from tables: malformed, oversized, tampered and unauthorized
//! requests across the API. Every answer must be a 4xx problem+json, never a 5xx; the
//! node must stay up; and the ledger must be exactly as it was (same checkpoint), which
//! an offline audit confirms after shutdown.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{guildmark, Server};
use crate::http::Api;

const PASSWORD: &str = "guildmark-demo";

/// A request body that must be refused.
#[derive(Debug, Clone, Copy)]
enum Body {
    Truncated,
    NotJsonType,
    Oversized,
    Array,
    Null,
    UnknownField,
    DuplicateMember,
    DeeplyNested,
    WrongTypes,
    BadUtf8,
}

const BODIES: [Body; 10] = [
    Body::Truncated,
    Body::NotJsonType,
    Body::Oversized,
    Body::Array,
    Body::Null,
    Body::UnknownField,
    Body::DuplicateMember,
    Body::DeeplyNested,
    Body::WrongTypes,
    Body::BadUtf8,
];

fn body(kind: Body) -> (&'static str, Vec<u8>) {
    let json = "application/json";
    match kind {
        Body::Truncated => (json, br#"{"name": "x", "#.to_vec()),
        Body::NotJsonType => ("text/plain", br#"{"name": "x"}"#.to_vec()),
        Body::Oversized => (json, format!(r#"{{"name": "{}"}}"#, "x".repeat(300 * 1024)).into_bytes()),
        Body::Array => (json, b"[]".to_vec()),
        Body::Null => (json, b"null".to_vec()),
        Body::UnknownField => (json, br#"{"surprise": true}"#.to_vec()),
        Body::DuplicateMember => (json, br#"{"name": "a", "name": "b"}"#.to_vec()),
        Body::DeeplyNested => (json, format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
        Body::WrongTypes => (
            json,
            br#"{"name": 7, "title": [], "recipient": {}, "achievement": 1, "source": 2, "product": false, "lotSize": "many", "serials": "A", "roles": "admin", "password": 3, "username": 4, "sampled": 5, "credential": "x", "target": 9, "presentation": 1}"#.to_vec(),
        ),
        Body::BadUtf8 => (json, b"{\"name\": \"\xff\xfe\"}".to_vec()),
    }
}

/// Who sends it.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    ForgedToken,
    Apprentice,
    Allowed,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_clear_problems_and_change_nothing() {
    let mut server = Server::start(&["--demo", "--public-url", "https://kestrel.example"]);
    let api = Api::new(&server.url);
    let admin = api.token("mira", PASSWORD).await; // kestrel admin
    let oskar = api.token("oskar", PASSWORD).await; // lumen admin
    let bo = api.token("bo", PASSWORD).await; // lumen reviewer
    let lea = api.token("lea", PASSWORD).await; // lumen apprentice
    let batches = api.get("/api/v1/batches").await.expect(200);
    let batch = batches[1]["id"].as_str().unwrap().to_owned();
    let badge = api.get("/api/v1/accounts/ada/badges").await.expect(200)[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = api.get("/api/v1/ledger").await.expect(200);

    // (method, path, the token allowed to act, whether it takes a JSON body)
    let writes: Vec<(Method, String, &str, bool)> = vec![
        (Method::POST, "/api/v1/accounts".into(), "", true),
        (Method::POST, "/api/v1/session".into(), "", true),
        (Method::POST, "/api/v1/me/tokens".into(), "admin", true),
        (Method::PUT, "/api/v1/me/holder".into(), "admin", true),
        (Method::POST, "/api/v1/communities".into(), "admin", true),
        (
            Method::PATCH,
            "/api/v1/communities/kestrel".into(),
            "admin",
            true,
        ),
        (
            Method::PUT,
            "/api/v1/communities/kestrel/members/ada".into(),
            "admin",
            true,
        ),
        (
            Method::POST,
            "/api/v1/communities/kestrel/achievements".into(),
            "admin",
            true,
        ),
        (
            Method::PATCH,
            "/api/v1/communities/kestrel/achievements/mppt-assembly".into(),
            "admin",
            true,
        ),
        (
            Method::POST,
            "/api/v1/communities/kestrel/badges".into(),
            "admin",
            true,
        ),
        (Method::POST, "/api/v1/endorsements".into(), "admin", true),
        (Method::POST, "/api/v1/verify".into(), "", true),
        (
            Method::POST,
            "/api/v1/communities/lumen/protocols".into(),
            "oskar",
            true,
        ),
        (
            Method::POST,
            "/api/v1/communities/kestrel/batches".into(),
            "admin",
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/batches/{batch}/attestations"),
            "bo",
            true,
        ),
        (
            Method::POST,
            "/api/v1/communities/kestrel/key-rotation".into(),
            "admin",
            false,
        ),
        (
            Method::POST,
            format!("/api/v1/communities/kestrel/badges/{badge}/revoke"),
            "admin",
            false,
        ),
        (
            Method::POST,
            format!("/api/v1/communities/kestrel/badges/{badge}/reinstate"),
            "admin",
            false,
        ),
        (
            Method::DELETE,
            "/api/v1/communities/kestrel/members/ada".into(),
            "admin",
            false,
        ),
        (
            Method::DELETE,
            "/api/v1/me/tokens/nope".into(),
            "admin",
            false,
        ),
    ];
    let token_of = |name: &str| match name {
        "admin" => Some(admin.clone()),
        "oskar" => Some(oskar.clone()),
        "bo" => Some(bo.clone()),
        _ => None,
    };

    let mut sent = 0;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut check = |what: String, status: u16, content_type: String, body: Value| {
        assert!((400..500).contains(&status), "{what}: {status} {body:#}");
        assert_eq!(content_type, "application/problem+json", "{what}");
        assert!(
            body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:guildmark:problem:")),
            "{what}: {body:#}"
        );
        assert_eq!(body["status"], status, "{what}");
        *statuses.entry(status).or_default() += 1;
        sent += 1;
    };
    let raw = |method: Method,
               path: String,
               token: Option<String>,
               content_type: &'static str,
               bytes: Vec<u8>| {
        let api = api.clone();
        async move {
            let mut request = api
                .client
                .request(method, format!("{}{path}", api.base))
                .header("content-type", content_type)
                .body(bytes);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, content_type, body)
        }
    };

    for (method, path, allowed, takes_body) in &writes {
        let callers: &[Caller] = if allowed.is_empty() {
            &[Caller::Anonymous]
        } else {
            &[
                Caller::Anonymous,
                Caller::ForgedToken,
                Caller::Apprentice,
                Caller::Allowed,
            ]
        };
        for caller in callers {
            let token = match caller {
                Caller::Anonymous => None,
                Caller::ForgedToken => Some("gmt_forgedforgedforgedforgedforged".to_owned()),
                Caller::Apprentice => Some(lea.clone()),
                Caller::Allowed => token_of(allowed),
            };
            // Any JSON object is a document to verify (a malformed one gets a report
            // saying why), so only non-objects and broken JSON are hostile there.
            let verify = path == "/api/v1/verify";
            let bodies: Vec<Body> = match (takes_body, caller) {
                (true, _) if verify => BODIES
                    .into_iter()
                    .filter(|b| !matches!(b, Body::UnknownField | Body::WrongTypes))
                    .collect(),
                (true, Caller::Allowed | Caller::Anonymous) => BODIES.to_vec(),
                (true, _) => vec![Body::UnknownField],
                // Bodiless actions are only tried by those who may not do them.
                (false, Caller::Allowed) => continue,
                (false, _) => vec![Body::Null],
            };
            for kind in bodies {
                let (content_type, bytes) = body(kind);
                let (status, ct, reply) = raw(
                    method.clone(),
                    path.clone(),
                    token.clone(),
                    content_type,
                    bytes,
                )
                .await;
                check(
                    format!("{method} {path} by {caller:?} with {kind:?}"),
                    status,
                    ct,
                    reply,
                );
            }
        }
    }

    // Reads of things that do not exist, or paths that try to escape.
    let long = "x".repeat(10_000);
    let reads = [
        "/api/v1/credentials/nope".to_owned(),
        "/api/v1/credentials/..%2F..%2Fetc%2Fpasswd".into(),
        format!("/api/v1/credentials/{long}"),
        "/api/v1/devices/NOPE-0".into(),
        "/api/v1/devices/NOPE-0/bundle".into(),
        "/api/v1/devices/%ff%fe".into(),
        "/api/v1/batches/nope".into(),
        "/api/v1/protocols/sha256:00".into(),
        "/api/v1/protocols/nope/1.0.0".into(),
        "/api/v1/accounts/nobody/badges".into(),
        "/api/v1/communities/nowhere".into(),
        "/api/v1/communities/nowhere/members".into(),
        "/api/v1/communities/kestrel/achievements/none".into(),
        "/api/v1/ledger/entries/99999999".into(),
        "/api/v1/ledger/entries/-1".into(),
        "/api/v1/ledger/consistency?from=9&to=2".into(),
        "/api/v1/ledger/consistency?from=x".into(),
        "/api/v1/ledger/consistency?from=1&to=99999999".into(),
        "/api/v1/me".into(),
        "/api/v1/me/tokens".into(),
        "/api/v1/me/holder/challenge".into(),
        "/tile/0/x999".into(),
        "/tile/0/999".into(),
        "/tile/entries/999".into(),
        "/tile/99/000".into(),
        "/tile/0/000.p/0".into(),
        "/tile/0/000.p/300".into(),
        "/tile/../../etc/passwd".into(),
        "/files/../../keys/log.key".into(),
        "/files/00".into(),
        "/credentials/nope".into(),
        "/protocols/nope".into(),
        "/batches/nope".into(),
        "/communities/kestrel/status/0/revocation/99".into(),
        "/communities/kestrel/status/0/nonsense/0".into(),
        "/communities/kestrel/status/x/revocation/0".into(),
        "/nothing/here".into(),
    ];
    for path in &reads {
        let (status, ct, reply) = raw(
            Method::GET,
            path.clone(),
            None,
            "application/json",
            Vec::new(),
        )
        .await;
        check(
            format!("GET {}", &path[..path.len().min(80)]),
            status,
            ct,
            reply,
        );
    }
    // Methods a resource does not support.
    for (method, path) in [
        (Method::DELETE, "/api/v1/batches"),
        (Method::PUT, "/api/v1/verify"),
        (Method::PATCH, "/checkpoint"),
        (Method::DELETE, "/api/v1/communities/kestrel"),
    ] {
        let (status, ct, reply) = raw(
            method.clone(),
            path.into(),
            Some(admin.clone()),
            "application/json",
            b"{}".to_vec(),
        )
        .await;
        check(format!("{method} {path}"), status, ct, reply);
    }
    // Tampered signatures: an endorsement and an attestation whose content changed after
    // signing, and a holder key presentation signed by someone else.
    let credential = api
        .get(&format!("/api/v1/credentials/{badge}"))
        .await
        .expect(200)["credential"]
        .clone();
    let mut tampered = credential.clone();
    tampered["credentialSubject"]["narrative"] = "edited".into();
    let attempts = [
        ("/api/v1/endorsements", json!({"credential": tampered})),
        (
            &*format!("/api/v1/batches/{batch}/attestations"),
            json!({"credential": tampered}),
        ),
    ];
    for (path, payload) in attempts {
        let token = if path.contains("attestations") {
            &bo
        } else {
            &admin
        };
        let reply = api.post(path, Some(token), payload).await;
        let status = reply.status.as_u16();
        let ct = reply
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        check(format!("POST {path} tampered"), status, ct, reply.body);
    }
    let reply = api
        .call(
            Method::PUT,
            "/api/v1/me/holder",
            Some(&admin),
            Some(json!({"presentation": tampered})),
        )
        .await;
    let ct = reply
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    check(
        "PUT holder with a credential".into(),
        reply.status.as_u16(),
        ct,
        reply.body,
    );

    println!("{sent} hostile requests, statuses {statuses:?}");
    assert!(sent >= 200, "only {sent} requests");

    // The node is up, and its ledger did not move.
    api.get("/api/v1/communities").await.expect(200);
    let after = api.get("/api/v1/ledger").await.expect(200);
    assert_eq!(after["size"], before["size"]);
    assert_eq!(after["checkpoint"], before["checkpoint"]);
    server.stop();
    let data = server.data().to_str().unwrap().to_owned();
    guildmark(server.data(), &["ledger", "check", "--data", &data], None).expect(0);
}
