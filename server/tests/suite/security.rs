//! Attacks on the node through the real binary over HTTP (issue 17's probe, each finding
//! a test): user text that tries to become markup, posts from other sites, the sign-in
//! form's token and where it leads, connections that are slow or many, what passwords
//! cost, the data directory's permissions, label sheets of large batches and the trust
//! file. The browser-level tests of the same pages are in e2e (`browser::attacks`).

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::Server;
use crate::http::Api;

const PUBLIC: &str = "https://kestrel.example";
const PASSWORD: &str = "guildmark-demo";
/// Ends the <title>, then redirects every visitor elsewhere, if written as markup.
const REDIRECT: &str =
    r#"C</title><meta http-equiv="refresh" content="0;url=https://evil.example/">"#;
/// Runs script, if written as markup.
const SCRIPT: &str = r#"<img src=x onerror="alert(1)"><script>alert(2)</script>"#;

/// A client that shows redirects instead of following them, and keeps no cookies.
fn browser_like() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Fails if `html` holds any of the hostile markup as markup.
fn inert(what: &str, html: &str) {
    for markup in [
        "<meta http-equiv",
        "<img src=x",
        "<script>alert",
        "</textarea><section",
    ] {
        assert!(
            !html.contains(markup),
            "{what} renders {markup:?} as markup"
        );
    }
}

/// Registers a batch in the demo's Kestrel community as jun (its producer), under the
/// node's first protocol, with `fields` added to the request; its UUID.
async fn register_batch(api: &Api, jun: &str, mut fields: Value) -> String {
    let protocol = api.get("/api/v1/protocols").await.expect(200)[0]["hash"].clone();
    fields["protocol"] = protocol;
    fields["productionDate"] = "2026-11-02".into();
    let batch = api
        .post("/api/v1/communities/kestrel/batches", Some(jun), fields)
        .await
        .expect(201);
    batch["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_text_stays_text_on_every_page() {
    let server = Server::start(&["--demo", "--public-url", PUBLIC]);
    let api = Api::new(&server.url);
    let mira = api.token("mira", PASSWORD).await; // kestrel admin
    let jun = api.token("jun", PASSWORD).await; // kestrel producer

    // Names are one line: a line break is refused, with the field named.
    let refused = api
        .call(
            Method::PATCH,
            "/api/v1/communities/kestrel",
            Some(&mira),
            Some(json!({"name": "Kestrel\ncommunities = [\"did:key:z6MkATTACKER\"]\n# "})),
        )
        .await
        .problem(422, "invalid");
    assert_eq!(refused["field"], "name");
    api.call(
        Method::PATCH,
        "/api/v1/communities/kestrel",
        Some(&mira),
        Some(json!({"name": REDIRECT})),
    )
    .await
    .expect(200);
    api.post(
        "/api/v1/communities/kestrel/achievements",
        Some(&mira),
        json!({"name": "hostile", "title": SCRIPT, "description": SCRIPT, "criteria": SCRIPT}),
    )
    .await
    .expect(201);
    let uuid = register_batch(
        &api,
        &jun,
        json!({"product": REDIRECT, "lotSize": 3, "serials": ["X<b>-1..3"], "notes": SCRIPT}),
    )
    .await;
    let tomas = api.token("tomas", PASSWORD).await; // kestrel assessor
    let badge = api
        .post(
            "/api/v1/communities/kestrel/badges",
            Some(&tomas),
            json!({"recipient": "ada", "achievement": "hostile", "narrative": SCRIPT}),
        )
        .await
        .expect(201);
    let credential = badge["uuid"].as_str().unwrap();

    let mut pages: Vec<String> = vec![
        "/".to_owned(),
        "/c/kestrel".into(),
        "/c/kestrel/a/hostile".into(),
        format!("/b/{uuid}"),
        format!("/b/{uuid}/labels"),
        "/d/X<b>-2".into(),
        "/ledger".into(),
        "/m/ada".into(),
    ];
    pages.push(format!("/cred/{credential}"));
    for path in &pages {
        let (status, html) = page(&format!("{}{path}", server.url)).await;
        assert_eq!(status, 200, "{path}");
        inert(path, &html);
    }
    let (_, html) = page(&format!("{}/b/{uuid}", server.url)).await;
    assert!(
        html.contains("<title>C&lt;/title&gt;&lt;meta http-equiv="),
        "the batch page's title is the product, escaped: {}",
        &html[..html.len().min(600)]
    );

    // The Verify page shows what was posted inside its textarea, as text.
    let forged =
        "</textarea><section class=report><h2>The credential verified</h2></section><textarea>";
    let response = browser_like()
        .post(format!("{}/verify", server.url))
        .form(&[("document", forged)])
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    inert("/verify", &html);
    assert!(html.contains("&lt;/textarea&gt;&lt;section class=report&gt;"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_from_other_sites_are_refused_unread() {
    let server = Server::start(&["--demo"]);
    let client = browser_like();
    let verify = format!("{}/verify", server.url);
    let document = r#"{"type": "FORGED-BY-ANOTHER-SITE"}"#;
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let response = client
            .post(&verify)
            .header(name, value)
            .form(&[("document", document)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{name}: {value}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("FORGED-BY-ANOTHER-SITE"), "{name}: {value}");
        assert!(html.contains("not sent from a page of this node"), "{html}");
    }
    // From the node's own page (the browser says so), and from a script (says nothing).
    for headers in [
        vec![
            ("origin", server.url.clone()),
            ("sec-fetch-site", "same-origin".into()),
        ],
        vec![],
    ] {
        let mut request = client.post(&verify).form(&[("document", document)]);
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{headers:?}");
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("FORGED-BY-ANOTHER-SITE"));
    }
    // Another site cannot sign a visitor in either, even with a valid form token.
    let (cookie, token) = sign_in_form(&client, &server.url).await;
    let response = client
        .post(format!("{}/signin", server.url))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .form(&[
            ("form", "sign-in"),
            ("username", "mira"),
            ("password", PASSWORD),
            ("signin", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(session_set(&response).is_none());
}

/// The sign-in page's token cookie (`name=value`) and the same token from its form.
async fn sign_in_form(client: &reqwest::Client, base: &str) -> (String, String) {
    let response = client.get(format!("{base}/signin")).send().await.unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gm_signin="))
        .expect("the sign-in page sets its token cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let html = response.text().await.unwrap();
    let token = html
        .split(r#"name="signin" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries the token")
        .to_owned();
    assert_eq!(cookie, format!("gm_signin={token}"));
    (cookie, token)
}

fn session_set(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gm_session=") && !v.starts_with("gm_session=;"))
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_needs_its_page_and_leads_only_to_this_node() {
    let server = Server::start(&["--demo"]);
    let client = browser_like();
    let signin = format!("{}/signin", server.url);
    let (cookie, token) = sign_in_form(&client, &server.url).await;
    // Without the cookie the page set (an auto-posted form from elsewhere), or with a
    // token that is not the cookie's: refused, and no session.
    for (cookie, token) in [(None, token.as_str()), (Some(cookie.as_str()), "00112233")] {
        let mut request = client.post(&signin).form(&[
            ("form", "sign-in"),
            ("username", "mira"),
            ("password", PASSWORD),
            ("signin", token),
        ]);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403);
        assert!(session_set(&response).is_none());
    }
    // `next` is followed only when it is a path here.
    for (next, lands) in [
        ("/account", "/account"),
        ("/c/kestrel?tab=members", "/c/kestrel?tab=members"),
        ("/\t/evil.example", "/m/mira"),
        ("/\n/evil.example", "/m/mira"),
        ("//evil.example", "/m/mira"),
        ("/\\evil.example", "/m/mira"),
        ("https://evil.example/", "/m/mira"),
    ] {
        let response = client
            .post(&signin)
            .header("cookie", &cookie)
            .form(&[
                ("form", "sign-in"),
                ("username", "mira"),
                ("password", PASSWORD),
                ("signin", &token),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{next:?}");
        assert_eq!(response.headers()["location"], lands, "{next:?}");
        assert!(session_set(&response).is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_forbids_sniffing_and_framing() {
    let server = Server::start(&[]);
    let client = reqwest::Client::new();
    for (path, accept, html) in [
        ("/no-such-page", "text/html", true),
        ("/", "text/html", true),
        ("/api/v1/ledger", "application/json", false),
        ("/api/v1/nothing", "application/json", false),
        ("/checkpoint", "*/*", false),
    ] {
        let response = client
            .get(format!("{}{path}", server.url))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        if html {
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        }
    }
}

/// Reads from `stream` until it closes; how long that took (`None`: still open after
/// `limit`).
fn closed_within(stream: &mut std::net::TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue, // a 408 or 400 before closing
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return None
            }
            Err(_) => return Some(started.elapsed()), // reset
        }
    }
}

fn connect_from(url: &str, address: &str) -> std::net::TcpStream {
    let target: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let socket = std::net::TcpStream::connect_timeout(&target, Duration::from_secs(2));
    if address == "127.0.0.1" {
        return socket.unwrap();
    }
    // std cannot bind before connecting: go through a socket2-free route, tokio's.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    drop(socket);
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(format!("{address}:0").parse().unwrap())
            .unwrap();
        let stream = socket.connect(target).await.unwrap().into_std().unwrap();
        // tokio hands its sockets over non-blocking.
        stream.set_nonblocking(false).unwrap();
        stream
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_numerous_connections_are_cut() {
    let server = Server::start(&["--header-timeout", "2", "--body-timeout", "2"]);
    let url = server.url.clone();
    tokio::task::spawn_blocking(move || {
        // A header that never ends, and a body that never comes, are cut.
        let mut header = connect_from(&url, "127.0.0.1");
        header.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        let took = closed_within(&mut header, Duration::from_secs(8)).expect("closed");
        assert!(took < Duration::from_secs(5), "{took:?}");
        let mut body = connect_from(&url, "127.0.0.1");
        body.write_all(b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":")
            .unwrap();
        let took = closed_within(&mut body, Duration::from_secs(8)).expect("closed");
        assert!(took < Duration::from_secs(5), "{took:?}");

        // One network holds at most 128 connections; others still get in.
        let held: Vec<_> = (0..128).map(|_| connect_from(&url, "127.0.0.7")).collect();
        let mut over = connect_from(&url, "127.0.0.7");
        let took = closed_within(&mut over, Duration::from_millis(1500)).expect("refused");
        assert!(took < Duration::from_secs(1), "{took:?}");
        let mut other = connect_from(&url, "127.0.0.8");
        other
            .write_all(b"GET /api/v1/ledger HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        other.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        drop(held);
    })
    .await
    .unwrap();
    // The node is still up and answering.
    Api::new(&server.url)
        .get("/api/v1/ledger")
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_cost_a_bounded_amount() {
    let server = Server::start(&["--sign-ups-per-hour", "5"]);
    let api = Api::new(&server.url);
    // Weak passwords are refused, with the field named.
    for weak in [
        "aaaaaaaaaa",
        "0123456789",
        "abababababab",
        "ada-lovelace",
        "password123",
    ] {
        let problem = api
            .post(
                "/api/v1/accounts",
                None,
                json!({"username": "ada-lovelace", "password": weak}),
            )
            .await
            .problem(422, "invalid");
        assert_eq!(problem["field"], "password", "{weak}");
    }
    // Five accounts an hour from one network; the sixth waits.
    for name in ["ada", "bo", "cy", "di", "ed"] {
        api.post(
            "/api/v1/accounts",
            None,
            json!({"username": name, "password": "correct horse battery"}),
        )
        .await
        .expect(201);
    }
    let limited = api
        .post(
            "/api/v1/accounts",
            None,
            json!({"username": "fy", "password": "correct horse battery"}),
        )
        .await;
    assert!(limited.headers.get("retry-after").is_some());
    limited.problem(429, "rate-limited");

    // Forty sign-ins to one account at once from forty networks: at most five passwords
    // are checked, whichever order they arrive in.
    let attempts: Vec<_> = (0..40)
        .map(|i| {
            let api = Api::from_address(&server.url, &format!("127.0.1.{}", i + 1));
            let password = if i == 39 {
                "correct horse battery"
            } else {
                "wrong horse battery"
            };
            tokio::spawn(async move {
                api.post(
                    "/api/v1/session",
                    None,
                    json!({"username": "ada", "password": password}),
                )
                .await
                .status
                .as_u16()
            })
        })
        .collect();
    let mut checked = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            200 | 401 => checked += 1,
            429 | 503 => {}
            other => panic!("a sign-in answered {other}"),
        }
    }
    assert!(checked <= 5, "{checked} passwords were checked");

    // 150 wrong passwords at once from one network: at most its 20 are hashed, the rest
    // wait or are refused, and memory stays far from gigabytes.
    let before = server.peak_mib();
    let flood = Api::from_address(&server.url, "127.0.2.1");
    let attempts: Vec<_> = (0..150)
        .map(|i| {
            let flood = flood.clone();
            tokio::spawn(async move {
                // Past 128 connections from one network the node closes new ones at once.
                let sent = flood
                    .client
                    .post(format!("{}/api/v1/session", flood.base))
                    .json(
                        &json!({"username": format!("user{i}"), "password": "wrong horse battery"}),
                    )
                    .send()
                    .await;
                sent.map_or(0, |r| r.status().as_u16())
            })
        })
        .collect();
    let mut hashed = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            401 => hashed += 1,
            0 | 429 | 503 => {}
            other => panic!("a sign-in answered {other}"),
        }
    }
    assert!(hashed <= 20, "{hashed} passwords were hashed");
    // Four hashing threads of 19 MiB each over an idle node of ~30 MiB (one buffer
    // per sign-in was kept before: 12 sign-ins took it past 250 MiB).
    let peak = server.peak_mib();
    println!("sign-ins: the node peaked at {peak} MiB (from {before} MiB)");
    assert!(
        peak < 200,
        "the node peaked at {peak} MiB (from {before} MiB)"
    );
}

#[test]
fn the_data_directory_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A directory others may enter, as an older release left it, is closed.
    std::fs::create_dir_all(data.join("keys")).unwrap();
    for d in [&data, &data.join("keys")] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let _server = Server::start_in(&data, &[]);
    for d in [data.clone(), data.join("keys"), data.join("keys/holders")] {
        if d.exists() {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_batches_print_their_labels_sheet_by_sheet() {
    let server = Server::start(&["--demo", "--public-url", PUBLIC]);
    let api = Api::new(&server.url);
    let jun = api.token("jun", PASSWORD).await;
    let uuid = register_batch(
        &api,
        &jun,
        json!({"product": "MPPT20", "lotSize": 1210, "serials": ["BIG-0001..1210"]}),
    )
    .await;
    let labels = |html: &str| html.matches(r#"<figure class="label">"#).count();
    let (status, first) = page(&format!("{}/b/{uuid}/labels", server.url)).await;
    assert_eq!((status, labels(&first)), (200, 240));
    assert!(first.contains("Sheet 1 of 6"), "{first}");
    let (status, last) = page(&format!("{}/b/{uuid}/labels?sheet=6", server.url)).await;
    assert_eq!((status, labels(&last)), (200, 10));
    assert!(last.contains("BIG-1210") && !last.contains("BIG-0001<"));
    for sheet in ["7", "0", "x"] {
        let (status, _) = page(&format!("{}/b/{uuid}/labels?sheet={sheet}", server.url)).await;
        assert_eq!(status, 404, "sheet {sheet}");
    }
    let (_, html) = page(&format!("{}/b/{uuid}", server.url)).await;
    assert!(html.contains("BIG-1000") && !html.contains("BIG-1001,"));
    assert!(
        html.contains("… and 210 more"),
        "the batch page lists the first 1,000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trust_file_is_data_not_text() {
    let server = Server::start(&["--demo", "--public-url", PUBLIC]);
    let api = Api::new(&server.url);
    let mira = api.token("mira", PASSWORD).await;
    for name in [
        "Kestrel\ncommunities = [\"did:key:z6MkATTACKER\"]\n# ",
        "Kestrel\rcommunities = [\"did:key:z6MkATTACKER\"]\r# ",
        "Kestrel\u{2028}x\u{0085}y",
    ] {
        api.call(
            Method::PATCH,
            "/api/v1/communities/kestrel",
            Some(&mira),
            Some(json!({"name": name})),
        )
        .await
        .problem(422, "invalid");
    }
    api.call(
        Method::PATCH,
        "/api/v1/communities/kestrel",
        Some(&mira),
        Some(json!({"name": "Kestrel \"Valley\" = ]"})),
    )
    .await
    .expect(200);
    let text = reqwest::get(format!("{}/api/v1/trust", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let trust: Value = toml::from_str::<toml::Value>(&text)
        .map(|v| serde_json::to_value(v).unwrap())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let communities = trust["communities"].as_array().unwrap();
    assert!(communities.len() >= 3, "{text}");
    assert!(communities
        .iter()
        .all(|c| c.as_str().unwrap().starts_with("did:key:z6Mk")));
    assert!(!text.contains("ATTACKER"));
    assert_eq!(trust.as_object().unwrap().len(), 2, "{text}");
}

/// A status list credential whose list is 16 MiB of zero bits (16 KiB compressed: a
/// GZIP bomb), issued and signed by the key in `dir/key_file`.
fn bomb_status_list(dir: &std::path::Path, key_file: &str, did: &str, i: usize) -> Value {
    use base64::Engine as _;
    use flate2::{write::GzEncoder, Compression};
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&vec![0u8; 16 << 20]).unwrap();
    let encoded = format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(gz.finish().unwrap())
    );
    let list = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("https://lists.example/{i}"),
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": format!("https://lists.example/{i}#list"), "type": "BitstringStatusList",
            "statusPurpose": "revocation", "encodedList": encoded}
    });
    let signed = crate::common::guildmark(
        dir,
        &["sign", "--key", key_file],
        Some(list.to_string().as_bytes()),
    )
    .expect(0);
    serde_json::from_str(&signed.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_lists_in_a_bundle_decode_within_a_budget() {
    let server = Server::start(&["--demo", "--public-url", PUBLIC]);
    let api = Api::new(&server.url);
    let mut bundle = api
        .get("/api/v1/devices/MPPT20-2026-0007/bundle")
        .await
        .expect(200);
    let dir = tempfile::tempdir().unwrap();
    let did = crate::common::keygen(dir.path(), "lists.key");
    // Thirty signed lists of 16 MiB each; each proof verifies, so each is decoded.
    let template = bundle["statusLists"][0].clone();
    let lists = bundle["statusLists"].as_array_mut().unwrap();
    for i in 0..30 {
        let mut logged = template.clone();
        logged["credential"] = bomb_status_list(dir.path(), "lists.key", &did, i);
        lists.push(logged);
    }
    let before = server.peak_mib();
    let started = Instant::now();
    // Through the Verify page's form, which takes documents of up to 4 MiB.
    let response = reqwest::Client::new()
        .post(format!("{}/verify", server.url))
        .form(&[("document", bundle.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let took = started.elapsed();
    assert!(
        html.contains("did not verify"),
        "{}",
        &html[..html.len().min(2000)]
    );
    let peak = server.peak_mib();
    println!("30 status lists of 16 MiB in one bundle: {took:?}, peak {peak} MiB (from {before})");
    assert!(
        peak < before + 200,
        "verification peaked at {peak} MiB (from {before})"
    );
}

/// Pages run no script, except the two that verify in the browser: they may load
/// scripts from the node itself and compile WebAssembly, nothing more; the offline
/// verifier file may run only its own inline scripts and connect nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_verifying_pages_run_script_and_only_their_own() {
    let server = Server::start(&["--demo"]);
    let client = reqwest::Client::new();
    let serial = "MPPT20-2026-0001";
    for (path, scripted) in [
        ("/".to_owned(), false),
        ("/ledger".to_owned(), false),
        ("/c/saltmarsh".to_owned(), false),
        ("/verify".to_owned(), true),
        (format!("/d/{serial}"), true),
    ] {
        let response = client
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let html = response.text().await.unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        if !scripted {
            assert!(!csp.contains("script-src"), "{path}: {csp}");
            assert!(!html.contains("<script"), "{path} has a script");
            continue;
        }
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';")
                && csp.contains("connect-src 'self';"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        // The script and the module it loads are the node's own, named by content.
        let src = html.split("<script src=\"").nth(1).unwrap();
        let src = &src[..src.find('"').unwrap()];
        let wasm = html.split("data-wasm=\"").nth(1).unwrap();
        let wasm = &wasm[..wasm.find('"').unwrap()];
        for (asset, kind) in [(src, "text/javascript"), (wasm, "application/wasm")] {
            assert!(asset.starts_with("/static/verifier-"), "{asset}");
            let response = client
                .get(format!("{}{asset}", server.url))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            let headers = response.headers();
            assert!(
                headers["content-type"].to_str().unwrap().starts_with(kind),
                "{asset}"
            );
            assert!(headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable"));
        }
    }
    let response = client
        .get(format!("{}/verify/offline.html", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'sha256-"),
        "{csp}"
    );
    assert!(
        !csp.contains("connect-src") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        html.contains(&format!("content=\"{csp}\"")),
        "the file carries its policy"
    );
    assert!(html.len() <= 1024 * 1024, "{} bytes", html.len());
}
