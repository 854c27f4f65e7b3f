//! The web UI in a real browser: headless Chromium (Debian's, through chromedriver)
//! against the real binary with the demo community. An assessor awards a badge through
//! the form and it shows on the apprentice's profile; a reviewer fills in the form
//! generated from the protocol and the batch's verdict changes; a buyer opens a device
//! page, downloads its bundle and verifies it with the CLI; a tampered credential pasted
//! into Verify fails. A screenshot of every page visited lands in `e2e/screenshots/`
//! (ignored by git).

mod attacks;
mod forms;
pub(crate) mod verifier;
pub(crate) mod webdriver;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{guildmark, Server};
use webdriver::{Browser, Driver};

/// `e2e/screenshots/`, emptied of the tour's numbered pictures of an earlier run (only
/// those: other browser tests save theirs there at the same time).
fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name();
        let numbered = name.to_str().is_some_and(|n| {
            n.len() > 3
                && n.as_bytes()[..2].iter().all(u8::is_ascii_digit)
                && n.as_bytes()[2] == b'-'
        });
        if numbered {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    dir
}

/// Visits pages, saving a numbered screenshot of each.
struct Tour<'a> {
    browser: &'a Browser,
    base: String,
    shots: PathBuf,
    taken: usize,
}

impl Tour<'_> {
    async fn visit(&mut self, path: &str, name: &str) -> String {
        self.browser.goto(&format!("{}{path}", self.base)).await;
        self.shot(name).await;
        self.browser.text().await
    }

    async fn shot(&mut self, name: &str) {
        self.taken += 1;
        let file = self.shots.join(format!("{:02}-{name}.png", self.taken));
        self.browser.screenshot(&file).await;
    }

    async fn sign_in(&mut self, username: &str) {
        self.browser.clear_cookies().await;
        self.visit("/signin", &format!("sign-in-{username}")).await;
        let b = self.browser;
        b.type_into(&b.find("#sign-in-username").await, username)
            .await;
        b.type_into(&b.find("#sign-in-password").await, "guildmark-demo")
            .await;
        b.submit(&b.find("form.narrow button[type=submit]").await)
            .await;
        assert!(
            b.url().await.ends_with(&format!("/m/{username}")),
            "signed in as {username}: {}",
            b.url().await
        );
    }
}

/// Fills every input of the attestation form with passing MPPT20 readings; returns how
/// many inputs it filled.
async fn fill_attestation(browser: &Browser) -> Value {
    let values = json!({
        "no-load-current": "11.9", "efficiency-rated-load": "95.6", "absorption-voltage": "14.42",
        "float-voltage": "13.81", "low-voltage-disconnect": "11.07", "temperature-rise": "33 °C",
        "output-ripple": "85"
    });
    browser
        .script(
            "let n = 0; for (const el of document.querySelectorAll('form.attest [name^=\"r.\"]')) {
                 const step = el.name.split('.').slice(2).join('.');
                 if (el.tagName === 'SELECT') { el.value = 'pass'; n++; }
                 else if (arguments[0][step] !== undefined) { el.value = arguments[0][step]; n++; }
                 else { el.value = 'looked fine'; n++; }
             } return n;",
            json!([values]),
        )
        .await
}

async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn people_use_guildmark_in_a_browser() {
    let server = Server::start(&["--demo"]);
    let base = server.url.clone();
    let downloads = tempfile::tempdir().unwrap();
    let driver = Driver::start().await;
    let browser = driver.browser(downloads.path()).await;
    let mut tour = Tour {
        browser: &browser,
        base: base.clone(),
        shots: screenshots(),
        taken: 0,
    };
    let batches = get_json(&format!("{base}/api/v1/batches")).await;
    let batch = |verdict: &str| {
        batches
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["verdict"] == verdict)
            .map(|b| {
                b["id"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .unwrap()
    };
    let (certified, pending) = (batch("certified"), batch("pending"));

    // Every page, anonymously, with a useful title.
    let text = tour.visit("/", "home").await;
    assert!(browser.title().await.contains("Guildmark"));
    for name in [
        "Kestrel Valley Microfactory",
        "Saltmarsh Repair Café",
        "Lumen Mountain Power Co-op",
        "Badges issued",
    ] {
        assert!(text.contains(name), "home page lacks {name}: {text}");
    }
    let text = tour.visit("/c/saltmarsh", "community").await;
    assert!(
        text.contains("Skill tree") && text.contains("Soldering"),
        "{text}"
    );
    assert_eq!(
        browser.count("figure.tree svg a.node").await,
        4,
        "four achievements drawn in the skill tree"
    );
    assert!(
        browser.count("figure.tree svg path.edge").await >= 3,
        "prerequisites drawn as edges"
    );
    let text = tour
        .visit("/c/saltmarsh/a/soldering-l2", "achievement")
        .await;
    assert!(
        text.contains("Prerequisites") && text.contains("Holders"),
        "{text}"
    );
    let text = tour.visit("/m/felix", "member").await;
    assert!(
        text.contains("Power-electronics reviewer") || text.contains("reviewer"),
        "{text}"
    );
    assert!(
        browser.count(".badge-card .qr svg").await >= 5,
        "a QR code per badge"
    );
    assert!(
        browser.count("figure.tree svg a.node-earned").await >= 4,
        "earned achievements marked"
    );
    let text = tour
        .visit(&format!("/b/{certified}"), "batch-certified")
        .await;
    assert!(text.contains("Verdict: certified"), "{text}");
    assert!(browser.count("td.result-pass").await > 0);
    let text = tour
        .visit(&format!("/b/{}", batch("rejected")), "batch-rejected")
        .await;
    assert!(
        text.contains("Verdict: rejected") && text.contains("OUT OF LIMITS"),
        "{text}"
    );
    tour.visit(&format!("/b/{certified}/labels"), "labels")
        .await;
    assert_eq!(
        browser.count(".labels .label svg").await,
        50,
        "one QR label per serial"
    );
    let text = tour.visit("/ledger", "ledger").await;
    assert!(text.contains("Current checkpoint"), "{text}");
    let text = tour.visit("/ledger/e/1", "ledger-entry").await;
    assert!(text.contains("Ledger receipt"), "{text}");
    let text = tour
        .visit("/ledger/consistency?old=3&new=20", "consistency")
        .await;
    assert!(text.contains("The proof verified"), "{text}");
    let text = tour.visit("/d/NO-SUCH-SERIAL", "not-found").await;
    assert!(
        text.contains("No batch on this node has the serial number"),
        "{text}"
    );

    // An assessor awards a badge through the form; a mistake comes back beside the field
    // with the input kept.
    tour.sign_in("priya").await;
    tour.visit("/c/lumen/a/electrical-safety", "award-form")
        .await;
    browser
        .type_into(&browser.find("#issue-badge-recipient").await, "nobody-here")
        .await;
    browser
        .type_into(
            &browser.find("#issue-badge-narrative").await,
            "Passed the bench test on 12 circuits.",
        )
        .await;
    browser
        .submit(&browser.find("main form button[type=submit]").await)
        .await;
    tour.shot("award-refused").await;
    let error = browser
        .text_of(&browser.find("#issue-badge-recipient-error").await)
        .await;
    assert!(
        error.contains("nobody-here"),
        "the refusal names the recipient: {error}"
    );
    let kept = browser
        .property(&browser.find("#issue-badge-narrative").await, "value")
        .await;
    assert_eq!(
        kept,
        json!("Passed the bench test on 12 circuits."),
        "the narrative is kept"
    );
    let recipient = browser.find("#issue-badge-recipient").await;
    browser.clear(&recipient).await;
    browser.type_into(&recipient, "lea").await;
    browser
        .submit(&browser.find("main form button[type=submit]").await)
        .await;
    assert!(
        browser.url().await.contains("/cred/"),
        "issued → the credential's page"
    );
    tour.shot("badge-issued").await;
    assert!(browser.text().await.contains("The credential verified"));
    let text = tour.visit("/m/lea", "apprentice-profile").await;
    assert!(
        text.contains("Electrical safety"),
        "lea's new badge on her profile: {text}"
    );

    // A reviewer fills in the form generated from the protocol; the verdict changes.
    tour.sign_in("felix").await;
    tour.visit("/c/saltmarsh", "community-as-member").await;
    assert_eq!(
        browser.count("figure.tree svg a.node-earned").await,
        4,
        "a signed-in member sees what they earned in the community's tree"
    );
    let text = tour.visit(&format!("/b/{pending}"), "batch-pending").await;
    assert!(text.contains("Verdict: pending"), "{text}");
    tour.visit(&format!("/b/{pending}/attest"), "attest-form")
        .await;
    let filled = fill_attestation(&browser).await;
    assert!(
        filled.as_u64().unwrap() >= 10,
        "the form has an input per unit and step: {filled}"
    );
    // One reading typed wrong, as people do.
    let first = browser
        .find("form.attest input[name^=\"r.0.no-load-current\"]")
        .await;
    browser.clear(&first).await;
    browser.type_into(&first, "eleven").await;
    browser
        .submit(&browser.find("form.attest button[type=submit]").await)
        .await;
    tour.shot("attest-refused").await;
    assert!(
        browser.text().await.contains("is not a value with a unit"),
        "the bad reading is refused"
    );
    let again = browser
        .find("form.attest input[name^=\"r.0.no-load-current\"]")
        .await;
    assert_eq!(
        browser.property(&again, "value").await,
        json!("eleven"),
        "the input is kept"
    );
    let kept = browser
        .find("form.attest input[name^=\"r.0.float-voltage\"]")
        .await;
    assert_eq!(
        browser.property(&kept, "value").await,
        json!("13.81"),
        "the other readings are kept"
    );
    browser.clear(&again).await;
    browser.type_into(&again, "11.9").await;
    browser
        .submit(&browser.find("form.attest button[type=submit]").await)
        .await;
    if !browser.url().await.ends_with(&format!("/b/{pending}")) {
        tour.shot("attest-failed").await;
        panic!("attested → the batch page, but: {}", browser.text().await);
    }
    tour.shot("batch-now-certified").await;
    let text = browser.text().await;
    assert!(
        text.contains("Verdict: certified"),
        "felix's attestation completes the quorum: {text}"
    );
    assert!(text.contains("felix"), "{text}");

    // A buyer scans a controller, downloads the bundle and verifies it offline.
    browser.clear_cookies().await;
    let text = tour.visit("/d/MPPT20-2026-0007", "device").await;
    assert!(
        text.contains("Certified") && text.contains("Who vouched for it"),
        "{text}"
    );
    browser.click(&browser.find("a[download]").await).await;
    let started = Instant::now();
    let bundle = loop {
        let found = std::fs::read_dir(downloads.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "json"));
        if let Some(path) = found {
            break path;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the bundle was not downloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(&bundle, work.path().join("bundle.json")).unwrap();
    let trust = reqwest::get(format!("{base}/api/v1/trust"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(work.path().join("trust.toml"), trust).unwrap();
    let run = guildmark(
        work.path(),
        &["verify", "bundle.json", "--trust", "trust.toml"],
        None,
    );
    assert_eq!(
        run.code, 0,
        "the downloaded bundle verifies:\n{}{}",
        run.stdout, run.stderr
    );

    // On a phone: no page is wider than the screen (wide tables scroll in their box).
    browser.set_window(390, 844).await;
    for (path, name) in [
        ("/d/MPPT20-2026-0007".to_owned(), "phone-device"),
        (format!("/b/{pending}"), "phone-batch"),
        ("/m/felix".to_owned(), "phone-member"),
        ("/c/saltmarsh".to_owned(), "phone-community"),
        ("/".to_owned(), "phone-home"),
    ] {
        tour.visit(&path, name).await;
        // Elements sticking out of the screen, outside boxes that scroll on their own.
        let wide = browser
            .script(
                "if (document.documentElement.scrollWidth <= window.innerWidth) return [];
                 return [...document.querySelectorAll('body *')]
                     .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                     .filter(e => !e.parentElement.closest('.scroll, .tree, .qr'))
                     .map(e => e.tagName + '.' + e.className).slice(0, 8)
                     .concat(['document ' + document.documentElement.scrollWidth + ' px wide']);",
                json!([]),
            )
            .await;
        assert_eq!(wide, json!([]), "{path} is wider than a phone's screen");
    }
    browser.set_window(1280, 1000).await;

    // Verify: a genuine credential passes, a tampered one fails — checked in the
    // browser, which the page says.
    let badge =
        get_json(&format!("{base}/api/v1/accounts/lea/badges")).await[0]["credential"].clone();
    let mut tampered = badge.clone();
    tampered["credentialSubject"]["achievement"]["name"] = json!("Master electrician");
    for (document, name, expected) in [
        (&badge, "verify-genuine", "The credential verified"),
        (
            &tampered,
            "verify-tampered",
            "The credential did not verify",
        ),
    ] {
        tour.visit("/verify", "verify").await;
        let area = browser.find("#verify-document").await;
        browser
            .script("arguments[0].value = arguments[1];", json!([{"element-6066-11e4-a52e-4f735466cecf": element_id(&area)}, serde_json::to_string_pretty(document).unwrap()]))
            .await;
        browser.wait_for_verifier().await;
        browser
            .click(&browser.find("main form button[type=submit]").await)
            .await;
        browser
            .wait_for(
                "return document.querySelector('#verify-result .report');",
                "the report",
            )
            .await;
        tour.shot(name).await;
        let text = browser.text().await;
        assert!(text.contains(expected), "{name}: {text}");
        assert!(text.contains("nothing was uploaded"), "{name}: {text}");
    }
    assert!(
        browser.count("tr.check-failed").await >= 1,
        "the failing check is listed"
    );
    browser.quit().await;
}

fn element_id(element: &webdriver::Element) -> String {
    element.id().to_owned()
}

/// Statuses a browser does not show: a bad address is a friendly 404 page.
#[tokio::test]
async fn unknown_pages_are_friendly_404s() {
    let server = Server::start(&[]);
    let client = reqwest::Client::new();
    for path in [
        "/d/NOPE",
        "/c/nope",
        "/cred/nope",
        "/b/nope",
        "/m/nobody",
        "/ledger/e/999999",
        "/ledger/e/x",
        "/no/such/page",
    ] {
        let reply = client
            .get(format!("{}{path}", server.url))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404, "{path}");
        assert!(
            reply.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let body = reply.text().await.unwrap();
        assert!(
            body.contains("<title>Not found — Guildmark</title>"),
            "{path}: {body}"
        );
    }
    let api = client
        .get(format!("{}/api/v1/nothing", server.url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
}

/// Logs `username` in on the node at `base` and returns an API token.
async fn token_at(base: &str, username: &str) -> String {
    crate::http::Api::new(base)
        .token(username, "guildmark-demo")
        .await
}

#[tokio::test]
async fn a_reviewer_reviews_a_peer_nodes_batch_and_an_operator_adds_a_peer_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<String> = (0..3)
        .map(|_| {
            crate::federation::free_port()
                .rsplit(':')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let (demo, _) = crate::federation::start_demo(&dir.path().join("federation"), &ports.join(","));
    let kestrel = format!("http://127.0.0.1:{}", ports[0]);
    let saltmarsh = format!("http://127.0.0.1:{}", ports[1]);

    // Jun registers a new batch on Kestrel's node, under the federation's protocol.
    let jun = token_at(&kestrel, "jun").await;
    let protocols = get_json(&format!("{kestrel}/api/v1/protocols")).await;
    let hash = protocols[0]["hash"].as_str().unwrap().to_owned();
    let api = crate::http::Api::new(&kestrel);
    let batch = api
        .post(
            "/api/v1/communities/kestrel/batches",
            Some(&jun),
            json!({"product": "MPPT20 solar charge controller", "protocol": hash, "lotSize": 20, "serials": ["MPPT20-2026-0101..0120"], "productionDate": "2026-11-30"}),
        )
        .await
        .expect(201);
    let uuid = batch["id"].as_str().unwrap().to_owned();
    // Saltmarsh's node learns of it from its mirror of Kestrel's log.
    let started = Instant::now();
    while reqwest::get(format!("{saltmarsh}/b/{uuid}"))
        .await
        .unwrap()
        .status()
        != 200
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Saltmarsh's node never mirrored the batch"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let downloads = tempfile::tempdir().unwrap();
    let driver = Driver::start().await;
    let browser = driver.browser(downloads.path()).await;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("screenshots")
        .join("federation");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let mut tour = Tour {
        browser: &browser,
        base: saltmarsh.clone(),
        shots,
        taken: 0,
    };
    tour.sign_in("felix").await;
    let text = tour.visit(&format!("/b/{uuid}"), "peer-batch").await;
    assert!(
        text.contains("registered on")
            && text.contains(&kestrel)
            && text.contains("Kestrel Valley Microfactory"),
        "{text}"
    );
    browser
        .click(&browser.find(&format!("a[href=\"/b/{uuid}/attest\"]")).await)
        .await;
    tour.shot("peer-attest-form").await;
    let filled = fill_attestation(&browser).await;
    assert!(filled.as_u64().unwrap() >= 10, "{filled}");
    browser
        .submit(&browser.find("form.attest button[type=submit]").await)
        .await;
    // Felix is told that Kestrel's node took his review; its page shows it.
    tour.shot("peer-review-taken").await;
    let text = browser.text().await;
    assert!(
        text.contains(&format!("taken by {kestrel}")) && text.contains("now pending"),
        "{text}"
    );
    browser.goto(&format!("{kestrel}/b/{uuid}")).await;
    tour.shot("peer-batch-reviewed").await;
    let text = browser.text().await;
    assert!(
        text.contains("Attestations (1)") && text.contains("Verdict: pending"),
        "{text}"
    );

    // Kestrel's operator adds a fourth node as a peer on the ledger page.
    let fourth = Server::start(&[]);
    crate::http::Api::new(&fourth.url).account("operator").await;
    let log_key = get_json(&format!("{}/api/v1/ledger", fourth.url)).await["verifierKey"]
        .as_str()
        .unwrap()
        .to_owned();
    tour.base = kestrel.clone();
    tour.sign_in("operator").await;
    tour.visit("/ledger", "ledger-as-operator").await;
    let b = tour.browser;
    b.type_into(&b.find("form input[name=url]").await, &fourth.url)
        .await;
    b.type_into(&b.find("form input[name=logKey]").await, "not a key")
        .await;
    b.submit(&b.find("form.narrow button[type=submit]").await)
        .await;
    tour.shot("add-peer-refused").await;
    let text = b.text().await;
    assert!(text.contains("Invalid verifier key"), "{text}");
    let key_input = b.find("form input[name=logKey]").await;
    b.clear(&key_input).await;
    b.type_into(&key_input, &log_key).await;
    b.submit(&b.find("form.narrow button[type=submit]").await)
        .await;
    tour.shot("peer-added").await;
    let text = b.text().await;
    assert!(text.contains(&fourth.url), "the new peer is listed: {text}");
    let peers = get_json(&format!("{kestrel}/api/v1/peers")).await;
    assert_eq!(peers.as_array().unwrap().len(), 3);

    browser.quit().await;
    crate::federation::stop_demo(demo);
}
