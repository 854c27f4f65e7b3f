//! The in-browser verifier (the verifier core compiled to WebAssembly), in real
//! Chromium: the device page checks its bundle in the browser; the verify page keeps
//! verifying after its node is gone; the offline file, opened from disk with the network
//! cut, verifies genuine bundles and fails tampered or doctored ones with the check
//! named; a node that lies about a verdict is caught; and the browser's report is
//! JSON-equal to `guildmark verify --json` for every document of the test corpus.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value};

use super::webdriver::{Browser, Driver};
use crate::common::{guildmark, vectors, Server};

/// Devices of the demo's certified and pending batches.
const CERTIFIED: &str = "MPPT20-2026-0001";
const PENDING: &str = "MPPT20-2026-0051";

/// Browser and CLI check as of the same time, so their reports can be compared whole.
fn now_rfc3339() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    guildmark_credentials::Timestamp::from_unix_seconds(seconds).to_string()
}

async fn get_bytes(url: &str) -> Vec<u8> {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.bytes().await.unwrap().to_vec()
}

/// A screenshot in `e2e/screenshots/` (ignored by git), to look at what a buyer sees.
async fn shot(browser: &Browser, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    browser.screenshot(&dir.join(format!("{name}.png"))).await;
}

/// `window.guildmark.verify` in the page: the report JSON, or the error's message.
async fn verify_in_page(
    browser: &Browser,
    bytes: &[u8],
    name: &str,
    trust: Option<&str>,
    at: &str,
) -> Result<Value, String> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let outcome = browser
        .script(
            "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
             return window.guildmark.verify(bytes, arguments[1], {name: arguments[2], at: arguments[3]})
                 .then(json => ({ok: json}), why => ({error: why.message}));",
            json!([encoded, trust, name, at]),
        )
        .await;
    match outcome.get("ok") {
        Some(json) => Ok(json.clone()),
        None => Err(outcome["error"].as_str().unwrap_or_default().to_owned()),
    }
}

/// What `guildmark verify --json` prints for one file (exit code aside).
fn verify_with_cli(dir: &Path, file: &str, trust: Option<&str>, at: &str) -> Value {
    let mut args = vec!["verify", "--json", "--at", at, file];
    if let Some(trust) = trust {
        args.extend(["--trust", trust]);
    }
    let run = guildmark(dir, &args, None);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("guildmark verify {file}: {e}\n{}{}", run.stdout, run.stderr))
}

/// The names of a report's failed checks, nested documents included.
fn failed_checks(report: &Value) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["check"].as_str().unwrap().to_owned())
        .collect();
    for document in report["documents"].as_array().into_iter().flatten() {
        names.extend(failed_checks(document));
    }
    names
}

/// Types a local file's path into a file input, as a person choosing it would.
async fn choose_file(browser: &Browser, input: &str, path: &Path) {
    browser
        .type_into(&browser.find(input).await, path.to_str().unwrap())
        .await;
}

/// Submits a verify form (which the page intercepts) and waits for the report.
async fn verify_with_form(browser: &Browser) -> String {
    browser
        .script(
            "const r = document.getElementById('verify-result'); r.replaceChildren(); r.dataset.json = '';",
            json!([]),
        )
        .await;
    browser
        .click(
            &browser
                .find("form.browser-verify button[type=submit]")
                .await,
        )
        .await;
    browser
        .wait_for(
            "const r = document.getElementById('verify-result');
             return (r.querySelector('.report') || r.querySelector('.refusal')) ? r.innerText : null;",
            "the report in the page",
        )
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_buyer_verifies_a_device_in_the_browser_with_the_node_gone_and_offline_from_a_file() {
    let mut server = Server::start(&["--demo"]);
    let base = server.url.clone();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let bundle = get_bytes(&format!("{base}/api/v1/devices/{CERTIFIED}/bundle")).await;
    let trust = String::from_utf8(get_bytes(&format!("{base}/api/v1/trust")).await).unwrap();
    let offline = get_bytes(&format!("{base}/verify/offline.html")).await;
    assert!(
        offline.len() <= 1024 * 1024,
        "the offline file is {} bytes",
        offline.len()
    );
    // A signed value changed (a reviewer's measured efficiency), and a bundle whose
    // statement of the node's verdict was changed.
    let genuine: Value = serde_json::from_slice(&bundle).unwrap();
    let mut tampered = genuine.clone();
    let text = serde_json::to_string(&tampered["attestations"][0]["credential"]).unwrap();
    let changed = text.replacen("95.", "99.", 1);
    assert_ne!(text, changed, "the attestation records an efficiency");
    tampered["attestations"][0]["credential"] = serde_json::from_str(&changed).unwrap();
    let mut doctored = genuine.clone();
    assert_eq!(doctored["evaluation"]["verdict"], "certified");
    doctored["evaluation"]["verdict"] = json!("rejected");
    for (file, value) in [("tampered.json", &tampered), ("doctored.json", &doctored)] {
        std::fs::write(dir.join(file), serde_json::to_vec_pretty(value).unwrap()).unwrap();
    }
    std::fs::write(dir.join("bundle.json"), &bundle).unwrap();
    std::fs::write(dir.join("trust.toml"), &trust).unwrap();
    std::fs::write(dir.join("offline.html"), &offline).unwrap();

    let downloads = tempfile::tempdir().unwrap();
    let driver = Driver::start().await;
    let browser = driver.browser(downloads.path()).await;

    // The device page verifies its own bundle in the browser, beside every check.
    browser.goto(&format!("{base}/d/{CERTIFIED}")).await;
    let verdict = browser
        .wait_for(
            "return document.getElementById('browser-check').dataset.browserVerdict;",
            "the browser's verdict",
        )
        .await;
    assert_eq!(verdict, json!("certified"), "{}", browser.text().await);
    let text = browser.text().await;
    assert!(text.contains("Verified in your browser"), "{text}");
    assert!(text.contains("The node's claim"), "{text}");
    let rules = browser.count(".reasons li[data-rule]").await;
    assert!(rules >= 3, "the node lists its reasons");
    assert_eq!(
        browser
            .count(".reasons li[data-rule] .browser-passed")
            .await,
        rules,
        "every reason is confirmed by the browser"
    );
    assert!(browser.count("#browser-check tr.check-passed").await > 10);
    assert_eq!(browser.count(".disagreement").await, 0);
    shot(&browser, "verifier-device").await;

    // The verify page, loaded while the node was up, keeps verifying after it is gone:
    // nothing is uploaded.
    browser.goto(&format!("{base}/verify")).await;
    browser.wait_for_verifier().await;
    server.stop();
    let at = now_rfc3339();
    for (file, verified) in [
        ("bundle.json", true),
        ("tampered.json", false),
        ("doctored.json", false),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let in_browser = verify_in_page(&browser, &bytes, file, Some(&trust), &at)
            .await
            .unwrap();
        let cli = verify_with_cli(dir, file, Some("trust.toml"), &at);
        assert_eq!(in_browser, cli, "{file}: the browser's report is the CLI's");
        assert_eq!(in_browser["report"]["verified"], json!(verified), "{file}");
    }
    let cli = verify_with_cli(dir, "tampered.json", Some("trust.toml"), &at);
    let tampered_checks = failed_checks(&cli["report"]);
    assert!(
        tampered_checks
            .iter()
            .any(|c| c.contains("attestations[0]")),
        "{tampered_checks:?}"
    );
    let doctored_checks =
        failed_checks(&verify_with_cli(dir, "doctored.json", Some("trust.toml"), &at)["report"]);
    assert!(
        doctored_checks.contains("verdict recomputed"),
        "{doctored_checks:?}"
    );
    // And through the form, as a person would: the file chosen, the report shown.
    choose_file(&browser, "#verify-trust", &dir.join("trust.toml")).await;
    choose_file(&browser, "#verify-file", &dir.join("bundle.json")).await;
    let text = verify_with_form(&browser).await;
    assert!(
        text.contains("The provenance bundle verified") && text.contains("nothing was uploaded"),
        "{text}"
    );
    browser
        .script(
            "document.getElementById('verify-file').value = '';",
            json!([]),
        )
        .await;
    choose_file(&browser, "#verify-file", &dir.join("tampered.json")).await;
    let text = verify_with_form(&browser).await;
    shot(&browser, "verifier-tampered-node-stopped").await;
    assert!(
        text.contains("The provenance bundle did not verify"),
        "{text}"
    );
    for check in &tampered_checks {
        assert!(text.contains(check.as_str()), "{check} is named: {text}");
    }

    // The offline file, opened from disk with the network cut.
    browser.set_offline(true).await;
    browser
        .goto(&format!("file://{}", dir.join("offline.html").display()))
        .await;
    browser.wait_for_verifier().await;
    let embedded = browser
        .script("return window.guildmark.trust;", json!([]))
        .await;
    assert_eq!(embedded, json!(trust), "the node's trust file is embedded");
    let text = browser.text().await;
    assert!(text.contains(&format!("Embedded by {base}")), "{text}");
    for (file, verified, named) in [
        ("bundle.json", true, &BTreeSet::new()),
        ("tampered.json", false, &tampered_checks),
        ("doctored.json", false, &doctored_checks),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let json = verify_in_page(&browser, &bytes, file, Some(&trust), &at)
            .await
            .unwrap();
        assert_eq!(json["report"]["verified"], json!(verified), "{file}");
        assert_eq!(&failed_checks(&json["report"]), named, "{file}");
    }
    // Dropped without a trust file of the user's: the embedded one is used.
    choose_file(&browser, "#verify-file", &dir.join("bundle.json")).await;
    let text = verify_with_form(&browser).await;
    shot(&browser, "verifier-offline-file").await;
    assert!(text.contains("The provenance bundle verified"), "{text}");
    assert!(
        browser
            .count("#verify-result tr.check-passed[data-check=trust]")
            .await
            == 1,
        "trusted by the embedded anchors: {text}"
    );
    // The file may not reach the network even when the browser could.
    browser.set_offline(false).await;
    let fetched = browser
        .script(
            "return fetch(arguments[0]).then(() => 'fetched', e => 'refused: ' + e.message);",
            json!([format!("{base}/api/v1/trust")]),
        )
        .await;
    assert!(
        fetched.as_str().unwrap().starts_with("refused"),
        "{fetched}"
    );
    browser.quit().await;
}

/// A node that lies: the same node, behind a proxy that rewrites its device page to say
/// a pending batch is certified. The browser recomputes the verdict from the bundle and
/// says, loudly, that it disagrees.
#[tokio::test]
async fn a_device_page_whose_node_lies_about_the_verdict_is_flagged_in_the_browser() {
    let server = Server::start(&["--demo"]);
    let proxy = lying_proxy(server.url.clone()).await;
    let downloads = tempfile::tempdir().unwrap();
    let driver = Driver::start().await;
    let browser = driver.browser(downloads.path()).await;
    browser.goto(&format!("{proxy}/d/{PENDING}")).await;
    let text = browser.text().await;
    assert!(text.contains("Certified"), "the page lies: {text}");
    let verdict = browser
        .wait_for(
            "return document.getElementById('browser-check').dataset.browserVerdict;",
            "the browser's verdict",
        )
        .await;
    assert_eq!(verdict, json!("pending"));
    let alarm = browser
        .text_of(&browser.find(".disagreement[role=alert]").await)
        .await;
    assert!(
        alarm.contains("Your browser disagrees with this node")
            && alarm.contains("The node says this device is certified, but the bundle's own credentials, checked in your browser, give pending"),
        "{alarm}"
    );
    shot(&browser, "verifier-lying-node").await;
    browser.quit().await;
}

/// Serves `node`'s pages with every pending verdict turned into a certified one.
async fn lying_proxy(node: String) -> String {
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let (client, node) = (client.clone(), node.clone());
        async move {
            let reply = client.get(format!("{node}{uri}")).send().await.unwrap();
            let mut headers = axum::http::HeaderMap::new();
            for name in ["content-type", "content-security-policy"] {
                if let Some(value) = reply.headers().get(name) {
                    headers.insert(name, value.to_str().unwrap().parse().unwrap());
                }
            }
            let status = reply.status().as_u16();
            let mut body = reply.bytes().await.unwrap().to_vec();
            if uri.path().starts_with("/d/") {
                body = String::from_utf8(body)
                    .unwrap()
                    .replace("verdict-pending", "verdict-certified")
                    .replace("Not yet certified", "Certified")
                    .replace(
                        "data-node-verdict=\"pending\"",
                        "data-node-verdict=\"certified\"",
                    )
                    .into_bytes();
            }
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                headers,
                body,
            )
                .into_response()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Opens the offline file `dir/offline` from disk in Chromium with the network cut, and
/// checks that each of `files` (in `dir`) gets the report `guildmark verify --json
/// --trust dir/trust` prints; returns those reports.
pub(crate) async fn offline_file_agrees_with_the_cli(
    dir: &Path,
    offline: &str,
    files: &[&str],
    trust: &str,
) -> Vec<Value> {
    let trust_text = std::fs::read_to_string(dir.join(trust)).unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let driver = Driver::start().await;
    let browser = driver.browser(downloads.path()).await;
    browser.set_offline(true).await;
    browser
        .goto(&format!("file://{}", dir.join(offline).display()))
        .await;
    browser.wait_for_verifier().await;
    let at = now_rfc3339();
    let mut reports = Vec::new();
    for file in files {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let in_browser = verify_in_page(&browser, &bytes, file, Some(&trust_text), &at)
            .await
            .unwrap();
        let cli = verify_with_cli(dir, file, Some(trust), &at);
        assert_eq!(
            in_browser, cli,
            "{file}: the offline file's report is the CLI's"
        );
        reports.push(in_browser);
    }
    browser.quit().await;
    reports
}

/// Every document of the corpus: the W3C and Open Badges vectors in `testdata/`, the
/// demo's bundles (certified, pending, rejected) and a baked badge image.
fn corpus() -> Vec<PathBuf> {
    let root = vectors();
    let mut files = Vec::new();
    for dir in [
        "vc-data-model-2",
        "vc-di-eddsa",
        "vc-di-ecdsa",
        "open-badges-3/1edtech-validator-samples",
        "open-badges-3/spec-examples",
        "open-badges-3/test-vector-eddsa-rdfc-2022",
        "status-list",
        "bundle",
    ] {
        collect(&root.join(dir), &mut files);
    }
    files.sort();
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path
            .extension()
            .is_some_and(|e| ["json", "jsonld", "jwt", "png", "svg"].contains(&e.to_str().unwrap()))
        {
            files.push(path);
        }
    }
}

#[tokio::test]
async fn the_browser_and_the_cli_give_the_same_report_for_every_document_of_the_corpus() {
    let server = Server::start(&["--demo"]);
    let base = server.url.clone();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let mut files = corpus();
    for (serial, name) in [
        (CERTIFIED, "certified.json"),
        (PENDING, "pending.json"),
        ("MPPT20-2026-0081", "rejected.json"),
    ] {
        let bytes = get_bytes(&format!("{base}/api/v1/devices/{serial}/bundle")).await;
        std::fs::write(dir.join(name), bytes).unwrap();
        files.push(dir.join(name));
    }
    let badges: Value =
        serde_json::from_slice(&get_bytes(&format!("{base}/api/v1/accounts/felix/badges")).await)
            .unwrap();
    let uuid = badges[0]["uuid"].as_str().unwrap();
    for format in ["png", "svg"] {
        let bytes = get_bytes(&format!("{base}/credentials/{uuid}/baked/{format}")).await;
        let path = dir.join(format!("baked.{format}"));
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    }
    assert!(files.len() > 150, "{} documents", files.len());

    // The CLI, all at once: one report (or error) per document.
    let at = now_rfc3339();
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut args = vec!["verify", "--json", "--at", at.as_str()];
    args.extend(names.iter().map(String::as_str));
    let run = guildmark(dir, &args, None);
    let cli: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    let documents = cli["documents"].as_array().unwrap();
    assert_eq!(documents.len(), files.len());

    let downloads = tempfile::tempdir().unwrap();
    let driver = Driver::start().await;
    let browser = driver.browser(downloads.path()).await;
    browser.goto(&format!("{base}/verify")).await;
    browser.wait_for_verifier().await;
    let (mut reports, mut errors) = (0, 0);
    for (path, expected) in files.iter().zip(documents) {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).unwrap();
        match verify_in_page(&browser, &bytes, &name, None, &at).await {
            Ok(json) => {
                let report = json.get("report").unwrap_or(&json);
                assert_eq!(
                    report, &expected["report"],
                    "{name}: browser and CLI differ"
                );
                reports += 1;
            }
            Err(message) => {
                assert_eq!(
                    json!(message),
                    expected["error"],
                    "{name}: browser and CLI differ"
                );
                errors += 1;
            }
        }
    }
    assert!(reports > 100, "{reports} reports, {errors} errors");
    browser.quit().await;
}
