//! The authorization matrix: every write endpoint of the node × every kind of caller
//! (anonymous, the operator, a member of another community, and each role), through the
//! real binary over HTTP — once through the JSON API, once through the web forms a
//! browser without JavaScript posts. Each cell states the status it must get, from one
//! table for both.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::Server;
use crate::http::{Api, Reply};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Write {
    CreateCommunity,
    UpdateCommunity,
    RotateKey,
    SetMember,
    RemoveMember,
    CreateAchievement,
    UpdateAchievement,
    UploadFile,
    IssueBadge,
    OverridePrerequisites,
    Revoke,
    Reinstate,
    Endorse,
    PublishProtocol,
    RegisterBatch,
    Attest,
}

const WRITES: [Write; 16] = [
    Write::CreateCommunity,
    Write::UpdateCommunity,
    Write::RotateKey,
    Write::SetMember,
    Write::RemoveMember,
    Write::CreateAchievement,
    Write::UpdateAchievement,
    Write::UploadFile,
    Write::IssueBadge,
    Write::OverridePrerequisites,
    Write::Revoke,
    Write::Reinstate,
    Write::Endorse,
    Write::PublishProtocol,
    Write::RegisterBatch,
    Write::Attest,
];

const ACTORS: [&str; 8] = [
    "anonymous",
    "operator",
    "outsider",
    "admin",
    "assessor",
    "reviewer",
    "producer",
    "apprentice",
];

/// Who may: the table the node must implement, written independently of it.
fn allowed(write: Write, actor: &str) -> bool {
    use Write::*;
    match write {
        CreateCommunity => actor == "operator",
        UpdateCommunity
        | RotateKey
        | SetMember
        | RemoveMember
        | CreateAchievement
        | UpdateAchievement
        | OverridePrerequisites
        | Revoke => actor == "admin",
        UploadFile | IssueBadge | Reinstate => matches!(actor, "admin" | "assessor"),
        // Only the reviewer holds the achievement endorsed.
        Endorse => actor == "reviewer",
        PublishProtocol => actor == "admin",
        RegisterBatch => matches!(actor, "admin" | "producer"),
        // Batches of "other" are reviewed by forge's qualified reviewer; the outsider has
        // the reviewer role but belongs to the producing community.
        Attest => actor == "reviewer",
    }
}

/// The problem type of a refusal: 401 for anonymous callers, 403 otherwise (a reviewer
/// of the producing community is refused for not being independent).
fn refusal(write: Write, actor: &str) -> (u16, &'static str) {
    match (write, actor) {
        (_, "anonymous") => (401, "unauthenticated"),
        (Write::Attest, "outsider") => (403, "not-independent"),
        _ => (403, "forbidden"),
    }
}

/// A one-step protocol whose reviewers must hold forge's "skill".
fn protocol_source(base: &str, version: &str) -> String {
    format!(
        r#"id = "matrix"
version = "{version}"
title = "Matrix check"
description = "One look at each unit."
[subject]
kind = "product"
name = "Widget"
[[steps]]
id = "look"
kind = "check"
title = "Look"
method = "Look at it."
[sampling]
plan = [{{ lots = "1+", sample = "all", accept = 0 }}]
[reviewers]
achievements = ["{base}/communities/forge/achievements/skill"]
quorum = 1
distinct-communities = 1
independent-of-producer = true
max-age-days = 30
[decision]
on-failure = "reject"
"#
    )
}

fn success(write: Write) -> u16 {
    use Write::*;
    match write {
        CreateCommunity
        | CreateAchievement
        | UploadFile
        | IssueBadge
        | OverridePrerequisites
        | Endorse
        | PublishProtocol
        | RegisterBatch
        | Attest => 201,
        RemoveMember => 204,
        // Badges are no longer suspended, so there is no suspension to lift: a caller
        // who may reinstate gets past authorization to the conflict.
        Reinstate => 409,
        _ => 200,
    }
}

struct World {
    api: Api,
    admin: String,
    tokens: Vec<(String, Option<String>)>,
    /// Each actor's browser session (cookie, CSRF token), in the order of `tokens`.
    sessions: Vec<Option<(String, String)>>,
    endorsable: String,
    protocol: String,
    batch: String,
}

async fn issue(api: &Api, token: &str, to: &str, achievement: &str) -> Value {
    api.post(
        "/api/v1/communities/forge/badges",
        Some(token),
        json!({"recipient": to, "achievement": achievement}),
    )
    .await
    .expect(201)
}

async fn world(server: &Server) -> World {
    let api = Api::new(&server.url);
    let operator = api.account("operator").await;
    for slug in ["forge", "other"] {
        api.post(
            "/api/v1/communities",
            Some(&operator),
            json!({"slug": slug, "name": slug}),
        )
        .await
        .expect(201);
    }
    let mut tokens = vec![
        ("anonymous".to_owned(), None),
        ("operator".to_owned(), Some(operator.clone())),
    ];
    for name in [
        "outsider",
        "admin",
        "assessor",
        "reviewer",
        "producer",
        "apprentice",
        "spare",
        "holder",
    ] {
        let token = api.account(name).await;
        let (slug, roles) = match name {
            "outsider" => (
                "other",
                json!(["admin", "assessor", "reviewer", "producer", "apprentice"]),
            ),
            "spare" => continue,
            // Receives the badges acted on, so that no actor holds more than it should.
            "holder" => ("forge", json!(["apprentice"])),
            role => ("forge", json!([role])),
        };
        api.call(
            Method::PUT,
            &format!("/api/v1/communities/{slug}/members/{name}"),
            Some(&operator),
            Some(json!({"roles": roles})),
        )
        .await
        .expect(200);
        if name != "holder" {
            tokens.push((name.to_owned(), Some(token)));
        }
    }
    let admin = tokens
        .iter()
        .find(|(n, _)| n == "admin")
        .unwrap()
        .1
        .clone()
        .unwrap();
    // The operator founded both communities; leave them to their admins.
    for slug in ["forge", "other"] {
        api.call(
            Method::DELETE,
            &format!("/api/v1/communities/{slug}/members/operator"),
            Some(&operator),
            None,
        )
        .await
        .expect(204);
    }
    for (name, prerequisites) in [
        ("skill", json!([])),
        ("skill2", json!([])),
        ("advanced", json!(["skill2"])),
    ] {
        api.post(
            "/api/v1/communities/forge/achievements",
            Some(&admin),
            json!({"name": name, "title": name, "description": "d", "criteria": "c", "prerequisites": prerequisites}),
        )
        .await
        .expect(201);
    }
    issue(&api, &admin, "reviewer", "skill").await;
    let target = issue(&api, &admin, "holder", "skill").await;
    let protocol = api
        .post(
            "/api/v1/communities/forge/protocols",
            Some(&admin),
            json!({"source": protocol_source(&server.url, "1.0.0")}),
        )
        .await
        .expect(201)["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let outsider = tokens
        .iter()
        .find(|(n, _)| n == "outsider")
        .unwrap()
        .1
        .clone()
        .unwrap();
    let batch = api
        .post(
            "/api/v1/communities/other/batches",
            Some(&outsider),
            json!({"product": "Widget", "protocol": protocol, "lotSize": 1, "serials": ["W-1"], "productionDate": "2026-11-01"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut sessions = Vec::new();
    for (name, token) in &tokens {
        sessions.push(match token {
            Some(_) => Some(session(&api, name).await),
            None => None,
        });
    }
    World {
        api,
        admin,
        tokens,
        sessions,
        endorsable: target["credential"]["id"].as_str().unwrap().to_owned(),
        protocol,
        batch,
    }
}

/// A fresh badge for a standing change to act on, and the change's verb.
async fn standing_target(world: &World, write: Write) -> (String, &'static str) {
    let (api, admin) = (&world.api, world.admin.as_str());
    let badge = issue(api, admin, "holder", "skill").await;
    let uuid = badge["uuid"].as_str().unwrap().to_owned();
    let verb = match write {
        Write::Revoke => "revoke",
        _ => "reinstate",
    };
    (uuid, verb)
}

/// Signs `name` in as a browser does: the session cookie and its CSRF token.
async fn session(api: &Api, name: &str) -> (String, String) {
    let password = format!("{name}-password-1");
    let reply = api
        .post(
            "/api/v1/session",
            None,
            json!({"username": name, "password": password}),
        )
        .await;
    let cookie = reply.headers["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let csrf = reply.expect(200)["csrfToken"].as_str().unwrap().to_owned();
    (cookie, csrf)
}

/// Posts form `form` with `fields` to the page at `path` as a browser without
/// JavaScript does (urlencoded, no redirects followed); the status it got.
async fn post_form(
    world: &World,
    path: &str,
    session: Option<&(String, String)>,
    form: &str,
    fields: &[(&str, String)],
) -> u16 {
    let mut all: Vec<(&str, String)> = vec![("form", form.to_owned())];
    if let Some((_, csrf)) = session {
        all.push(("csrf", csrf.clone()));
    }
    all.extend(fields.iter().cloned());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.post(format!("{}{path}", world.api.base)).form(&all);
    if let Some((cookie, _)) = session {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap().status().as_u16()
}

/// The write through its form, if it has one: the status the form's answer had.
async fn attempt_form(
    world: &World,
    write: Write,
    session: Option<&(String, String)>,
    cell: usize,
) -> Option<u16> {
    let api = &world.api;
    let post = |path: String, form: &'static str, fields: Vec<(&'static str, String)>| async move {
        Some(post_form(world, &path, session, form, &fields).await)
    };
    let text = |t: &str| t.to_owned();
    match write {
        Write::IssueBadge => {
            post(
                "/c/forge/a/skill2".into(),
                "issue-badge",
                vec![("recipient", text("holder"))],
            )
            .await
        }
        Write::Revoke | Write::Reinstate => {
            let (uuid, verb) = standing_target(world, write).await;
            post(
                format!("/cred/{uuid}"),
                "standing",
                vec![("change", text(verb))],
            )
            .await
        }
        Write::Endorse => {
            let uuid = world.endorsable.rsplit('/').next().unwrap();
            post(
                format!("/cred/{uuid}"),
                "endorse",
                vec![
                    ("target", world.endorsable.clone()),
                    ("comment", text("good")),
                ],
            )
            .await
        }
        Write::CreateAchievement => {
            let fields = vec![
                ("name", format!("f{cell}")),
                ("title", text("t")),
                ("description", text("d")),
                ("criteria", text("c")),
            ];
            post("/c/forge/manage".into(), "define-achievement", fields).await
        }
        Write::SetMember => {
            let fields = vec![("username", text("spare")), ("roles", text("apprentice"))];
            post("/c/forge/manage".into(), "set-member", fields).await
        }
        Write::PublishProtocol => {
            let source = protocol_source(&api.base, &format!("3.0.{cell}"));
            post(
                "/c/forge/manage".into(),
                "publish-protocol",
                vec![("source", source)],
            )
            .await
        }
        Write::RegisterBatch => {
            let fields = vec![
                ("product", text("Widget")),
                ("protocol", world.protocol.clone()),
                ("lot_size", text("1")),
                ("serials", format!("G-{cell}")),
                ("production_date", text("2026-11-01")),
            ];
            post("/c/forge/register".into(), "register-batch", fields).await
        }
        Write::Attest => {
            let fields = vec![
                ("sampled.0", text("W-1")),
                ("kind.look", text("check")),
                ("r.0.look", text("pass")),
                ("verdict", text("pass")),
            ];
            post(format!("/b/{}/attest", world.batch), "attest", fields).await
        }
        // No page has a form for these: they are API-only.
        Write::CreateCommunity
        | Write::UpdateCommunity
        | Write::RotateKey
        | Write::RemoveMember
        | Write::UpdateAchievement
        | Write::UploadFile
        | Write::OverridePrerequisites => None,
    }
}

async fn attempt(world: &World, write: Write, token: Option<&str>, cell: usize) -> Reply {
    let api = &world.api;
    let admin = world.admin.as_str();
    let call = |method: Method, path: String, body: Option<Value>| async move {
        api.call(method, &path, token, body).await
    };
    match write {
        Write::CreateCommunity => {
            call(Method::POST, "/api/v1/communities".into(), Some(json!({"slug": format!("c{cell}"), "name": "New"}))).await
        }
        Write::UpdateCommunity => {
            call(Method::PATCH, "/api/v1/communities/forge".into(), Some(json!({"description": format!("edit {cell}")}))).await
        }
        Write::RotateKey => call(Method::POST, "/api/v1/communities/forge/key-rotation".into(), None).await,
        Write::SetMember => {
            call(Method::PUT, "/api/v1/communities/forge/members/spare".into(), Some(json!({"roles": ["apprentice"]}))).await
        }
        Write::RemoveMember => {
            // Make sure there is someone to remove.
            api.call(Method::PUT, "/api/v1/communities/forge/members/spare", Some(admin), Some(json!({"roles": ["apprentice"]})))
                .await
                .expect(200);
            call(Method::DELETE, "/api/v1/communities/forge/members/spare".into(), None).await
        }
        Write::CreateAchievement => {
            call(
                Method::POST,
                "/api/v1/communities/forge/achievements".into(),
                Some(json!({"name": format!("a{cell}"), "title": "t", "description": "d", "criteria": "c"})),
            )
            .await
        }
        Write::UpdateAchievement => {
            call(Method::PATCH, "/api/v1/communities/forge/achievements/skill".into(), Some(json!({"criteria": format!("c{cell}")}))).await
        }
        Write::UploadFile => {
            let form = reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(format!("evidence {cell}").into_bytes()).file_name("notes.txt"),
            );
            let mut request = api.client.post(format!("{}/api/v1/communities/forge/files", api.base)).multipart(form);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.json().await.unwrap_or(Value::Null);
            Reply { status, headers, body }
        }
        Write::IssueBadge => {
            call(Method::POST, "/api/v1/communities/forge/badges".into(), Some(json!({"recipient": "holder", "achievement": "skill2"}))).await
        }
        Write::OverridePrerequisites => {
            call(
                Method::POST,
                "/api/v1/communities/forge/badges".into(),
                Some(json!({"recipient": "holder", "achievement": "advanced", "overridePrerequisites": "assessed elsewhere"})),
            )
            .await
        }
        Write::Revoke | Write::Reinstate => {
            let (uuid, verb) = standing_target(world, write).await;
            call(Method::POST, format!("/api/v1/communities/forge/badges/{uuid}/{verb}"), None).await
        }
        Write::Endorse => {
            call(Method::POST, "/api/v1/endorsements".into(), Some(json!({"target": world.endorsable, "comment": "good"}))).await
        }
        Write::PublishProtocol => {
            let source = protocol_source(&api.base, &format!("2.0.{cell}"));
            call(Method::POST, "/api/v1/communities/forge/protocols".into(), Some(json!({"source": source}))).await
        }
        Write::RegisterBatch => {
            call(
                Method::POST,
                "/api/v1/communities/forge/batches".into(),
                Some(json!({"product": "Widget", "protocol": world.protocol, "lotSize": 1, "serials": [format!("F-{cell}")], "productionDate": "2026-11-01"})),
            )
            .await
        }
        Write::Attest => {
            call(
                Method::POST,
                format!("/api/v1/batches/{}/attestations", world.batch),
                Some(json!({"sampled": ["W-1"], "results": [{"serial": "W-1", "step": "look", "passed": true}], "verdict": "pass"})),
            )
            .await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_endpoint_against_every_caller() {
    let server = Server::start(&[]);
    let world = world(&server).await;
    let mut cells = 0;
    let mut table = String::new();
    for (i, write) in WRITES.iter().enumerate() {
        table.push_str(&format!("{:<22}", format!("{write:?}")));
        for (j, (actor, token)) in world.tokens.iter().enumerate() {
            let reply = attempt(&world, *write, token.as_deref(), i * 100 + j).await;
            let (refused, slug) = refusal(*write, actor);
            let expected = if allowed(*write, actor) {
                success(*write)
            } else {
                refused
            };
            assert_eq!(
                reply.status.as_u16(),
                expected,
                "{write:?} by {actor}: {:#}",
                reply.body
            );
            if expected == 409 {
                reply.problem(409, "conflict");
            } else if expected >= 400 {
                reply.problem(expected, slug);
            }
            table.push_str(&format!(" {expected}"));
            cells += 1;
        }
        table.push('\n');
    }
    println!("{:<22} {}\n{table}", "", ACTORS.join(" "));
    assert_eq!(
        world
            .tokens
            .iter()
            .map(|t| t.0.as_str())
            .collect::<Vec<_>>(),
        ACTORS
    );
    assert_eq!(cells, WRITES.len() * ACTORS.len());
    assert_eq!(cells, 128);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_against_every_caller() {
    let server = Server::start(&[]);
    let world = world(&server).await;
    let mut cells = 0;
    let mut table = String::new();
    for (i, write) in WRITES.iter().enumerate() {
        let mut row = format!("{:<22}", format!("{write:?}"));
        for (j, (actor, session)) in world
            .tokens
            .iter()
            .map(|t| t.0.as_str())
            .zip(&world.sessions)
            .enumerate()
        {
            let Some(status) = attempt_form(&world, *write, session.as_ref(), i * 100 + j).await
            else {
                continue;
            };
            // A form that succeeds answers 303 to the page showing the result.
            let expected = if allowed(*write, actor) {
                match success(*write) {
                    409 => 409,
                    _ => 303,
                }
            } else {
                refusal(*write, actor).0
            };
            assert_eq!(status, expected, "{write:?} by {actor} through its form");
            row.push_str(&format!(" {expected}"));
            cells += 1;
        }
        if cells % ACTORS.len() == 0 && row.len() > 22 {
            table.push_str(&row);
            table.push('\n');
        }
    }
    println!("{:<22} {}\n{table}", "", ACTORS.join(" "));
    // Nine writes have forms; the other seven are API-only.
    assert_eq!(cells, 9 * ACTORS.len());
}
