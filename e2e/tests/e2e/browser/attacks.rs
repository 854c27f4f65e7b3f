//! What a visitor's browser does with hostile content (issue 17's probe, in Chromium):
//! a producer's product name that ends the page's title and redirects every visitor, and
//! another site's page that auto-posts a forged "verified" report to Verify or signs the
//! visitor into the attacker's account.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::webdriver::{Browser, Driver};
use crate::common::Server;

const PASSWORD: &str = "guildmark-demo";
const REDIRECT: &str =
    r#"C</title><meta http-equiv="refresh" content="0;url=https://evil.example/">"#;

/// Serves `html` to every request on a port of `localhost` (another site than the node's
/// `127.0.0.1`); returns its URL.
async fn attacker_site(html: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://localhost:{port}/")
}

/// Waits until the browser's URL starts with `prefix` (a navigation the page started).
async fn wait_for_url(browser: &Browser, prefix: &str) -> String {
    let started = Instant::now();
    loop {
        let url = browser.url().await;
        if url.starts_with(prefix) || started.elapsed() > Duration::from_secs(10) {
            return url;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn token(base: &str, username: &str) -> String {
    crate::http::Api::new(base).token(username, PASSWORD).await
}

#[tokio::test]
async fn hostile_names_and_other_sites_cannot_take_over_pages() {
    let server = Server::start(&["--demo"]);
    let base = server.url.clone();
    let api = crate::http::Api::new(&base);
    let jun = token(&base, "jun").await;
    let protocol = api.get("/api/v1/protocols").await.expect(200)[0]["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let batch: Value = api
        .post(
            "/api/v1/communities/kestrel/batches",
            Some(&jun),
            json!({"product": REDIRECT, "protocol": protocol, "lotSize": 2,
                   "serials": ["EVIL-1..2"], "productionDate": "2026-11-02"}),
        )
        .await
        .expect(201);
    let uuid = batch["id"].as_str().unwrap().rsplit('/').next().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let driver = Driver::start().await;
    let browser = driver.browser(downloads.path()).await;

    // The product name stays text; nobody is sent elsewhere.
    for path in [
        format!("/b/{uuid}"),
        "/d/EVIL-1".into(),
        format!("/b/{uuid}/labels"),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(
            browser.url().await,
            format!("{base}{path}"),
            "stayed on {path}"
        );
        assert_eq!(browser.count("meta[http-equiv]").await, 0, "{path}");
        if !path.ends_with("/labels") {
            let text = browser.text().await;
            assert!(
                text.contains(REDIRECT),
                "{path} shows the name as text: {text}"
            );
        }
    }
    browser.goto(&format!("{base}/b/{uuid}")).await;
    let title = browser.title().await;
    assert!(
        title.starts_with(REDIRECT),
        "the batch page's title: {title}"
    );

    // Another site auto-posts a forged report to Verify: the node refuses it unread,
    // so no report (forged or real) appears.
    let forged = "</textarea><section class=report><h2 class=\"verdict verdict-passed\">The credential verified</h2></section><textarea>";
    let attack = attacker_site(format!(
        r#"<form id="f" method="post" action="{base}/verify" enctype="multipart/form-data"><textarea name="document">{}</textarea></form><script>document.getElementById("f").submit()</script>"#,
        forged.replace('<', "&lt;")
    ))
    .await;
    browser.goto(&attack).await;
    let landed = wait_for_url(&browser, &format!("{base}/verify")).await;
    assert_eq!(landed, format!("{base}/verify"));
    assert_eq!(browser.count("section.report").await, 0);
    let text = browser.text().await;
    assert!(text.contains("not sent from a page of this node"), "{text}");
    assert!(!text.contains("The credential verified"), "{text}");

    // The same text on the node's own page is verified, in the browser, and shown as
    // text: not JSON, so no report, forged or real.
    browser.goto(&format!("{base}/verify")).await;
    browser.wait_for_verifier().await;
    let document = browser.find("#verify-document").await;
    browser.type_into(&document, forged).await;
    browser
        .click(&browser.find("form button[type=submit]").await)
        .await;
    let refusal = browser
        .wait_for(
            "const r = document.querySelector('#verify-result .refusal'); return r && r.textContent;",
            "the refusal",
        )
        .await;
    assert!(
        refusal.as_str().unwrap().contains("is not valid JSON"),
        "{refusal}"
    );
    assert_eq!(browser.count("section.report").await, 0, "not a credential");
    let kept = browser
        .property(&browser.find("#verify-document").await, "value")
        .await;
    assert_eq!(
        kept.as_str(),
        Some(forged),
        "the textarea holds what was typed"
    );

    // Another site auto-posts the attacker's own sign-in: the visitor stays signed out.
    browser.clear_cookies().await;
    let attack = attacker_site(format!(
        r#"<form id="f" method="post" action="{base}/signin"><input name="form" value="sign-in"><input name="username" value="jun"><input name="password" value="{PASSWORD}"><input name="signin" value="x"></form><script>document.getElementById("f").submit()</script>"#
    ))
    .await;
    browser.goto(&attack).await;
    wait_for_url(&browser, &base).await;
    browser.goto(&format!("{base}/account")).await;
    let text = browser.text().await;
    assert!(
        text.contains("to see your account"),
        "still signed out: {text}"
    );
    browser.quit().await;
}
