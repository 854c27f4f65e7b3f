//! Open Badges 3.0 conformance, judged by others: every Open Badges credential a demo node
//! logs validates against 1EdTech's JSON schemas (the `jsonschema` crate here, ajv inside
//! the DCC verifier), expands in jsonld.js safe mode with no undefined term, and verifies
//! as issued with two independent Open Badges relying parties — Digital Bazaar's libraries
//! and the Digital Credentials Consortium's `verifier-core` — each fetching the status
//! list from the running node to see revocation. Tampered copies are refused by both.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::common::Server;
use crate::http::Api;
use crate::interop_db::{db, logged, node_script};
use crate::story::validator;

const OPEN_BADGES: [&str; 2] = ["OpenBadgeCredential", "EndorsementCredential"];

/// Writes `items` to `dir/name` and returns the path.
fn write(dir: &std::path::Path, name: &str, items: &[Value]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(items).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// What both relying parties say about one credential.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Digital Bazaar verified its proof.
    db_proof: bool,
    /// Digital Bazaar read its status bit as set (revoked).
    db_revoked: bool,
    /// DCC verified its signature.
    dcc_signature: bool,
    /// DCC's revocation check: `None` when it made none (no `credentialStatus`).
    dcc_not_revoked: Option<bool>,
    /// DCC's 1EdTech schema check passed.
    dcc_schema: bool,
}

/// What both relying parties say about `items`, by name.
fn relying_parties(dir: &std::path::Path, url: &str, items: &[Value]) -> BTreeMap<String, Seen> {
    let file = write(dir, "items.json", items);
    let node = [("GUILDMARK_NODE_URL", url)];
    let theirs = node_script("db.mjs", &["live", &file], &node);
    let dcc = node_script("ob.mjs", &["verify", &file], &node);
    let mut out = BTreeMap::new();
    for (d, c) in theirs
        .as_array()
        .unwrap()
        .iter()
        .zip(dcc.as_array().unwrap())
    {
        assert_eq!(d["name"], c["name"]);
        let db_set = d["status"]["set"]
            .as_array()
            .is_some_and(|s| s.iter().any(|b| b == true));
        if d["verified"] == true && !d["status"].is_null() {
            // The list was fetched, its proof verified and its issuer matched.
            assert_eq!(d["status"]["verified"], true, "{d:#}");
        }
        let schema_ok = c["schema"]
            .as_array()
            .is_some_and(|s| !s.is_empty() && s.iter().all(|r| r["valid"] == true));
        out.insert(
            d["name"].as_str().unwrap().to_owned(),
            Seen {
                db_proof: d["verified"] == true,
                db_revoked: db_set,
                dcc_signature: c["checks"]["valid_signature"] == true,
                dcc_not_revoked: c["checks"]["revocation_status"].as_bool(),
                dcc_schema: schema_ok,
            },
        );
        assert!(
            c["errors"].as_array().is_none_or(|e| e.is_empty())
                || c["checks"]["valid_signature"] != true,
            "{c:#}"
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_badges_verifiers_accept_what_the_node_issues() {
    let server = Server::start(&["--demo"]);
    let api = Api::new(&server.url);
    let dir = tempfile::tempdir().unwrap();

    // Every Open Badges credential the demo logged, and each badge's standing.
    let mut credentials = Vec::new();
    for (_, credential) in logged(&api).await {
        let types: Vec<&str> = credential["type"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if types.iter().any(|t| OPEN_BADGES.contains(t)) {
            credentials.push(credential);
        }
    }
    let mut revoked = Vec::new();
    let mut badges = 0;
    for credential in &credentials {
        let uuid = credential["id"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        let view = api
            .get(&format!("/api/v1/credentials/{uuid}"))
            .await
            .expect(200);
        if view["kind"] == "badge" {
            badges += 1;
        }
        if view["standing"] == "revoked" {
            revoked.push(credential["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        (badges, credentials.len() - badges),
        (13, 1),
        "13 badges, 1 endorsement"
    );
    assert_eq!(
        revoked.len(),
        1,
        "the demo revokes one badge issued in error"
    );

    // 1EdTech's schemas, as published.
    let badge_schema = validator("achievementcredential.json");
    let endorsement_schema = validator("endorsementcredential.json");
    let mut schema_valid = 0;
    for credential in &credentials {
        let endorsement = credential["type"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "EndorsementCredential");
        let schema = if endorsement {
            &endorsement_schema
        } else {
            &badge_schema
        };
        let errors: Vec<String> = schema
            .iter_errors(credential)
            .map(|e| format!("{}: {e}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", credential["id"]);
        assert!(credential["credentialStatus"].is_object() || endorsement);
        assert_eq!(credential["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");
        schema_valid += 1;
    }

    // jsonld.js in safe mode: no undefined term, no dropped value.
    let documents: Vec<Value> = credentials
        .iter()
        .map(|c| json!({"name": c["id"], "document": c}))
        .collect();
    let canonical = db(&["canonize", &write(dir.path(), "documents.json", &documents)]);
    for result in canonical.as_array().unwrap() {
        assert!(result.get("error").is_none(), "{result:#}");
    }

    // Both relying parties, as issued, with revocation read from the served lists.
    let items: Vec<Value> = credentials
        .iter()
        .map(|c| json!({"name": c["id"], "credential": c}))
        .collect();
    let seen = relying_parties(dir.path(), &server.url, &items);
    for (name, s) in &seen {
        let is_revoked = revoked.contains(name);
        assert!(s.db_proof && s.dcc_signature, "{name}: {s:?}");
        assert!(s.dcc_schema, "{name}: DCC's schema check");
        assert_eq!(s.db_revoked, is_revoked, "{name}: Digital Bazaar's status");
        let has_status = items.iter().any(|i| {
            i["name"] == name.as_str() && i["credential"].get("credentialStatus").is_some()
        });
        let expected = has_status.then_some(!is_revoked);
        assert_eq!(s.dcc_not_revoked, expected, "{name}: DCC's status");
    }

    // A badge revoked now is seen revoked through the list the node serves.
    let mira = api.token("mira", "guildmark-demo").await;
    let target = credentials
        .iter()
        .find(|c| {
            c["credentialSubject"]["achievement"].is_object()
                && c["issuer"]["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("Kestrel"))
                && !revoked.contains(&c["id"].as_str().unwrap().to_owned())
        })
        .expect("an active Kestrel badge");
    let uuid = target["id"].as_str().unwrap().rsplit('/').next().unwrap();
    api.call(
        reqwest::Method::POST,
        &format!("/api/v1/communities/kestrel/badges/{uuid}/revoke"),
        Some(&mira),
        None,
    )
    .await
    .expect(200);
    let item = json!({"name": target["id"], "credential": target});
    let after = relying_parties(dir.path(), &server.url, &[item]);
    let s = after[target["id"].as_str().unwrap()];
    assert!(
        s.db_proof && s.dcc_signature,
        "the signature still verifies"
    );
    assert!(
        s.db_revoked && s.dcc_not_revoked == Some(false),
        "both see the revocation: {s:?}"
    );

    // Tampered copies — a name, a date, the recipient — are refused by both.
    let mut tampered = Vec::new();
    for (i, credential) in credentials.iter().enumerate() {
        let mut copy = credential.clone();
        match i % 3 {
            0 => copy["name"] = "A badge nobody issued".into(),
            1 => copy["validFrom"] = "2020-01-01T00:00:00Z".into(),
            _ => {
                copy["credentialSubject"]["id"] =
                    "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH".into()
            }
        }
        tampered.push(json!({"name": format!("{} tampered", credential["id"].as_str().unwrap()), "credential": copy}));
    }
    let refused = relying_parties(dir.path(), &server.url, &tampered);
    for (name, s) in &refused {
        assert!(
            !s.db_proof && !s.dcc_signature,
            "{name} was accepted: {s:?}"
        );
    }
    println!(
        "Open Badges credentials the demo logged: {} ({badges} badges, {} endorsement): 1EdTech schema-valid {schema_valid}/{}; jsonld.js safe mode clean {}/{}; verified as issued by Digital Bazaar {}/{} and by DCC verifier-core {}/{}, revocation seen through the served list by both ({} revoked, then 1 more); {} tampered copies refused by both",
        credentials.len(),
        credentials.len() - badges,
        credentials.len(),
        canonical.as_array().unwrap().len(),
        credentials.len(),
        seen.values().filter(|s| s.db_proof).count(),
        seen.len(),
        seen.values().filter(|s| s.dcc_signature).count(),
        seen.len(),
        revoked.len(),
        refused.len(),
    );
}

/// Baked badges: the member page offers each badge as PNG and SVG; other software
/// (Pillow, Python's ElementTree) finds the very credential the node issued inside;
/// `guildmark verify` verifies the images and refuses one whose credential was changed
/// or that carries none; the artwork shows on the pages and the skill tree is readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baked_badges_carry_the_credential_and_refuse_changes() {
    use guildmark_credentials::baked;

    let server = Server::start(&["--demo"]);
    let api = Api::new(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let badges = api.get("/api/v1/accounts/felix/badges").await.expect(200);
    let badge = &badges.as_array().unwrap()[0];
    let uuid = badge["uuid"].as_str().unwrap();

    // The profile links both, and shows the achievement's artwork.
    let profile = reqwest::get(format!("{}/m/felix", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for link in [
        format!("/credentials/{uuid}/baked/png"),
        format!("/credentials/{uuid}/baked/svg"),
        "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME".into(),
    ] {
        assert!(profile.contains(&link), "{link} not on the profile");
    }
    assert!(
        profile.contains("class=\"badge-image\""),
        "no artwork on the profile"
    );
    assert!(
        profile.contains("<image href="),
        "no artwork in the skill tree"
    );
    assert!(
        !profile.contains("MPPT controller assemb…")
            && !profile.contains("Power-electronics revie…"),
        "skill tree labels are cut"
    );

    let mut files = Vec::new();
    for format in ["png", "svg"] {
        let response = reqwest::get(format!("{}/credentials/{uuid}/baked/{format}", server.url))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let media = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            media,
            format!("image/{}", if format == "png" { "png" } else { "svg+xml" })
        );
        let bytes = response.bytes().await.unwrap();
        let path = dir.path().join(format!("badge.{format}"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path.to_str().unwrap().to_owned());

        // Verified offline from the image; changed inside, refused; bare, unreadable.
        let out =
            crate::common::guildmark(dir.path(), &["verify", &format!("badge.{format}")], None)
                .expect(0);
        assert!(
            out.stdout
                .contains("ok   baked: one credential, extracted from"),
            "{}",
            out.stdout
        );
        let found = baked::extract(&bytes).unwrap();
        let changed = found
            .credential
            .replacen("\"validFrom\":\"", "\"validFrom\":\"1", 1)
            .replacen("\"name\":\"", "\"name\":\"Forged ", 1);
        assert_ne!(changed, found.credential);
        std::fs::write(
            dir.path().join(format!("changed.{format}")),
            baked::bake(&bytes, &changed).unwrap(),
        )
        .unwrap();
        crate::common::guildmark(dir.path(), &["verify", &format!("changed.{format}")], None)
            .expect(1);
    }
    let bare = crate::common::guildmark(dir.path(), &["verify", "bare.svg"], None);
    assert_eq!(bare.code, 2, "a missing file");
    std::fs::write(
        dir.path().join("bare.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    let bare = crate::common::guildmark(dir.path(), &["verify", "bare.svg"], None).expect(2);
    assert!(
        bare.stderr
            .contains("no Open Badges credential is baked into this SVG"),
        "{}",
        bare.stderr
    );

    // Other software reads the same credential out of both.
    let python = crate::interop_tlog::interop_python();
    let output = std::process::Command::new(python)
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/baked_check.py"))
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    for found in read.as_array().unwrap() {
        let credential: Value =
            serde_json::from_str(found["credential"].as_str().unwrap()).unwrap();
        assert_eq!(credential, badge["credential"], "{}", found["file"]);
    }
    assert_eq!(read[0]["format"], "PNG");
    assert_eq!(read[1]["credentials"], 1);
    println!(
        "baked badges: PNG {}×{} and SVG read by Pillow and ElementTree as the issued credential; verified, and refused when changed",
        read[0]["width"], read[0]["height"]
    );
}

/// VC-JWTs signed by panva's `jose` (npm) with fresh Ed25519, P-256 and RSA keys, in the
/// OB 3.0 §8.2 form (`vc` claim) and the VC-JOSE-COSE form, keys named by `kid` (did:key,
/// did:jwk) or embedded (`jwk`): genuine ones verify, changed payloads, claims that
/// disagree with the credential, a foreign signer and an expired badge fail, a key that
/// cannot be resolved offline leaves the badge not fully verified (exit 3); inside a
/// presentation, as an `EnvelopedVerifiableCredential`, they are verified too.
#[test]
fn vc_jwts_signed_with_jose_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwts.json");
    node_script("jwt.mjs", &["sign", file.to_str().unwrap()], &[]);
    let cases: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let holder = crate::common::keygen(dir.path(), "holder.key");
    let at = ["verify", "--at", "2026-06-01T00:00:00Z"];
    let mut by_code = BTreeMap::<i64, usize>::new();
    for case in cases.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let expect = case["expect"].as_i64().unwrap();
        let input = match (case.get("token"), case.get("presentation")) {
            (Some(token), _) => token.as_str().unwrap().to_owned(),
            (None, Some(presentation)) => {
                let mut presentation = presentation.clone();
                presentation["holder"] = holder.clone().into();
                crate::common::guildmark(
                    dir.path(),
                    &["sign", "--key", "holder.key"],
                    Some(presentation.to_string().as_bytes()),
                )
                .expect(0)
                .stdout
            }
            _ => panic!("{case}"),
        };
        std::fs::write(dir.path().join("case"), &input).unwrap();
        let run = crate::common::guildmark(dir.path(), &[&at[..], &["case"]].concat(), None);
        assert_eq!(
            i64::from(run.code),
            expect,
            "{name}:\n{}{}",
            run.stdout,
            run.stderr
        );
        *by_code.entry(expect).or_default() += 1;
    }
    println!("VC-JWTs from jose: exit codes {by_code:?} as expected");
    assert_eq!(
        by_code.values().sum::<usize>(),
        cases.as_array().unwrap().len()
    );
}

/// Into a wallet (OpenID4VCI 1.0, pre-authorized code): Felix asks for an offer of his
/// badge; a wallet built on the OpenWallet Foundation's client library redeems it and
/// gets a fresh badge bound to its own did:key, logged and verifiable; the node refuses
/// a broken proof signature, another audience, a made-up nonce, a missing token, the
/// same request twice and the code twice, and offers only to the badge's holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_receives_a_badge_over_openid4vci() {
    let server = Server::start(&["--demo"]);
    let api = Api::new(&server.url);
    let felix = api.token("felix", "guildmark-demo").await;
    let bo = api.token("bo", "guildmark-demo").await;
    let badges = api.get("/api/v1/accounts/felix/badges").await.expect(200);
    let original = &badges.as_array().unwrap()[0];
    let uuid = original["uuid"].as_str().unwrap();
    let metadata = api
        .get("/.well-known/openid-credential-issuer")
        .await
        .expect(200);
    assert_eq!(metadata["credential_issuer"], server.url.as_str());
    api.post(
        &format!("/api/v1/credentials/{uuid}/offer"),
        Some(&bo),
        json!({}),
    )
    .await
    .problem(404, "not-found");
    let offer = api
        .post(
            &format!("/api/v1/credentials/{uuid}/offer"),
            Some(&felix),
            json!({}),
        )
        .await
        .expect(201);
    let uri = offer["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("openid-credential-offer://?credential_offer="),
        "{uri}"
    );

    // Hostile token and credential requests get OAuth errors, not crashes or HTML.
    let client = reqwest::Client::new();
    for (content_type, body, error) in [
        ("application/json", "{}", "invalid_request"),
        ("application/x-www-form-urlencoded", "pre-authorized_code=x", "invalid_request"),
        ("application/x-www-form-urlencoded", "grant_type=password&username=a", "unsupported_grant_type"),
        ("application/x-www-form-urlencoded", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=nope", "invalid_grant"),
    ] {
        let reply = client
            .post(format!("{}/oid4vci/token", server.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400, "{body}");
        let answer: Value = reply.json().await.unwrap();
        assert_eq!(answer["error"], error, "{body}: {answer}");
    }
    let reply = client
        .post(format!("{}/oid4vci/credential", server.url))
        .bearer_auth("whatever")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    assert_eq!(
        reply.json::<Value>().await.unwrap()["error"],
        "invalid_credential_request"
    );

    let size_before = api.get("/api/v1/ledger").await.expect(200)["size"]
        .as_u64()
        .unwrap();
    let received = node_script("wallet.mjs", &["receive", uri], &[]);
    let refusals = &received["refusals"];
    for (case, error) in [
        ("brokenSignature", "invalid_proof"),
        ("otherAudience", "invalid_proof"),
        ("madeUpNonce", "invalid_nonce"),
        ("noToken", "invalid_token"),
        ("sameRequestAgain", "invalid_token"),
        ("codeReused", "invalid_grant"),
    ] {
        assert_eq!(refusals[case]["error"], error, "{case}: {refusals:#}");
    }
    let credential = &received["credential"];
    let did = received["did"].as_str().unwrap();
    assert_eq!(
        credential["credentialSubject"]["id"], did,
        "bound to the wallet's key"
    );
    assert_ne!(
        credential["id"], original["credential"]["id"],
        "a fresh badge"
    );
    assert_eq!(
        credential["credentialSubject"]["achievement"]["id"],
        original["credential"]["credentialSubject"]["achievement"]["id"]
    );
    assert_eq!(credential["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");
    let report = api
        .post("/api/v1/verify", None, credential.clone())
        .await
        .expect(200);
    assert_eq!(report["verified"], true, "{report:#}");
    // Logged like any other badge, and Digital Bazaar verifies it too.
    let size_after = api.get("/api/v1/ledger").await.expect(200)["size"]
        .as_u64()
        .unwrap();
    assert_eq!(size_after, size_before + 1);
    let new_uuid = credential["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let view = api
        .get(&format!("/api/v1/credentials/{new_uuid}"))
        .await
        .expect(200);
    assert_eq!(view["standing"], "active");
    let dir = tempfile::tempdir().unwrap();
    let item = json!({"name": "wallet badge", "credential": credential});
    let seen = relying_parties(dir.path(), &server.url, &[item]);
    assert!(
        seen["wallet badge"].db_proof && seen["wallet badge"].dcc_signature,
        "{seen:?}"
    );
    println!("OpenID4VCI: the wallet received a badge bound to {did}; refusals {refusals}");
}

/// Guildmark as an Open Badges displayer: badges another platform issued (Digital
/// Bazaar's libraries, a fresh key, eddsa-rdfc-2022) in VC Data Model 2.0 and 1.1 form —
/// valid, expired, revoked and not revoked through that platform's signed status list —
/// get the verdict they should, and a tampered copy of each is refused. (VC-JWT badges
/// are in `vc_jwts_signed_with_jose_are_verified`.)
#[test]
fn badges_other_platforms_issue_are_displayed_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("displayer.json");
    db(&["displayer", file.to_str().unwrap()]);
    let out: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    std::fs::write(dir.path().join("list.json"), out["statusList"].to_string()).unwrap();
    let mut by_code = BTreeMap::<i64, usize>::new();
    for case in out["cases"].as_array().unwrap() {
        std::fs::write(
            dir.path().join("badge.json"),
            case["credential"].to_string(),
        )
        .unwrap();
        let mut args = vec!["verify", "--at", "2026-06-01T00:00:00Z"];
        if case["withList"] == true {
            args.extend(["--status-list", "list.json"]);
        }
        args.push("badge.json");
        let run = crate::common::guildmark(dir.path(), &args, None);
        let expect = case["expect"].as_i64().unwrap();
        assert_eq!(
            i64::from(run.code),
            expect,
            "{}:\n{}",
            case["name"],
            run.stdout
        );
        *by_code.entry(expect).or_default() += 1;
    }
    println!("displayer cases from Digital Bazaar: exit codes {by_code:?} as expected");
    assert_eq!(
        by_code.get(&0),
        Some(&3),
        "three genuine, current, unrevoked badges"
    );
}

/// `ecdsa-sd-2023` as 1EdTech's displayer certification asks: badges Digital Bazaar signs
/// with a fresh P-256 key and derives as a holder's wallet would (disclosing the subject
/// and narrative, or only the mandatory statements) verify here as they do there; a
/// tampered achievement, a changed disclosed value and a base proof are refused.
#[test]
fn selectively_disclosed_badges_from_digital_bazaar_verify() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sd.json");
    db(&["sd", file.to_str().unwrap()]);
    let cases: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let mut by_code = BTreeMap::<i64, usize>::new();
    for case in cases.as_array().unwrap() {
        let expect = case["expect"].as_i64().unwrap();
        if expect == 0 {
            assert_eq!(case["dbVerified"], true, "{}", case["name"]);
        }
        std::fs::write(
            dir.path().join("badge.json"),
            case["credential"].to_string(),
        )
        .unwrap();
        let run = crate::common::guildmark(
            dir.path(),
            &["verify", "--at", "2026-06-01T00:00:00Z", "badge.json"],
            None,
        );
        assert_eq!(
            i64::from(run.code),
            expect,
            "{}:\n{}",
            case["name"],
            run.stdout
        );
        *by_code.entry(expect).or_default() += 1;
    }
    println!("ecdsa-sd-2023 from Digital Bazaar: exit codes {by_code:?} as expected");
    assert_eq!(by_code.get(&0), Some(&2));
}
