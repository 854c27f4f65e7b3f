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
