//! Badges for people without a DID: an assessor awards a badge to an email address; the
//! node mails the claim link through a real SMTP server (aiosmtpd, from PyPI, writing a
//! maildir); the person signs up, claims it, and holds a badge bound to their own DID,
//! while the emailed badge stays valid. Links work once; bad addresses, missing
//! prerequisites and strangers are refused.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::Server;
use crate::http::Api;
use crate::story::validator;

/// aiosmtpd on a free loopback port, delivering into `maildir`.
struct SmtpServer {
    child: Child,
    port: u16,
}

impl SmtpServer {
    fn start(maildir: &std::path::Path) -> SmtpServer {
        let python = crate::interop_tlog::interop_python();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        SmtpServer { child, port }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message delivered to `maildir` so far, as text.
fn mails(maildir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(maildir.join(sub)) {
            for entry in entries {
                out.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_badge_awarded_by_email_is_mailed_and_claimed_once() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let smtp = SmtpServer::start(&maildir);
    let relay = format!("smtp://127.0.0.1:{}", smtp.port);
    let server = Server::start(&[
        "--demo",
        "--smtp",
        &relay,
        "--mail-from",
        "Saltmarsh <badges@saltmarsh.example>",
    ]);
    let api = Api::new(&server.url);
    let noor = api.token("noor", "guildmark-demo").await;
    let award = |recipient: &str, achievement: &str| {
        json!({"recipient": recipient, "achievement": achievement,
               "narrative": "Soldered forty joints at the open workshop."})
    };

    // Refused: not an address; a prerequisite nobody can show for an address.
    api.post(
        "/api/v1/communities/saltmarsh/badges",
        Some(&noor),
        award("rosa@", "soldering-l1"),
    )
    .await
    .problem(422, "invalid");
    api.post(
        "/api/v1/communities/saltmarsh/badges",
        Some(&noor),
        award("rosa@example.org", "soldering-l2"),
    )
    .await
    .problem(409, "prerequisite-missing");

    let awarded = api
        .post(
            "/api/v1/communities/saltmarsh/badges",
            Some(&noor),
            award("  Rosa@Example.ORG ", "soldering-l1"),
        )
        .await
        .expect(201);
    assert_eq!(
        awarded["claim"],
        json!({"mailed": {"to": "rosa@example.org"}}),
        "{awarded:#}"
    );
    let emailed = &awarded["credential"];
    let subject = &emailed["credentialSubject"];
    assert!(subject.get("id").is_none(), "no DID for an email recipient");
    let identity = &subject["identifier"][0];
    assert_eq!(identity["type"], "IdentityObject");
    assert_eq!(identity["identityType"], "emailAddress");
    assert_eq!(identity["hashed"], true);
    // sha256$ + hex SHA-256(address ‖ salt), computed here independently.
    let salt = identity["salt"].as_str().unwrap();
    let digest = {
        use sha2::Digest as _;
        sha2::Sha256::digest(format!("rosa@example.org{salt}").as_bytes())
    };
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(identity["identityHash"], format!("sha256${hex}"));
    assert!(
        !emailed.to_string().contains("rosa@"),
        "the address itself is not in the badge"
    );
    let errors: Vec<String> = validator("achievementcredential.json")
        .iter_errors(emailed)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let report = api
        .post("/api/v1/verify", None, emailed.clone())
        .await
        .expect(200);
    assert_eq!(report["verified"], true, "{report:#}");

    // The mail arrived through the SMTP server, with the link.
    let started = Instant::now();
    let mail = loop {
        if let Some(mail) = mails(&maildir).into_iter().next() {
            break mail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no mail arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(mail.contains("To: rosa@example.org"), "{mail}");
    assert!(
        mail.contains("Subject: Your badge from Saltmarsh Repair"),
        "{mail}"
    );
    let link = mail
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/claim/", server.url)))
        .unwrap_or_else(|| panic!("no claim link in {mail}"))
        .to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let info = api
        .get(&format!("/api/v1/claims/{token}"))
        .await
        .expect(200);
    assert_eq!(
        (info["state"].as_str(), info["title"].as_str()),
        (Some("open"), Some("Soldering, level 1"))
    );
    let page = reqwest::get(&link).await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Soldering, level 1") && page.contains("Sign in"),
        "{page}"
    );

    // Rosa signs up and claims it; nobody else can, and not twice.
    api.post(&format!("/api/v1/claims/{token}"), None, json!({}))
        .await
        .problem(401, "unauthenticated");
    let rosa = api.account("rosa").await;
    let me = api
        .call(reqwest::Method::GET, "/api/v1/me", Some(&rosa), None)
        .await
        .expect(200);
    let claimed = api
        .post(&format!("/api/v1/claims/{token}"), Some(&rosa), json!({}))
        .await
        .expect(201);
    let credential = &claimed["credential"];
    assert_eq!(
        credential["credentialSubject"]["id"], me["account"]["holder"],
        "{claimed:#}"
    );
    assert_eq!(
        credential["credentialSubject"]["achievement"]["id"],
        subject["achievement"]["id"]
    );
    assert_eq!(credential["evidence"][0]["id"], emailed["id"]);
    let report = api
        .post("/api/v1/verify", None, credential.clone())
        .await
        .expect(200);
    assert_eq!(report["verified"], true, "{report:#}");
    let bo = api.token("bo", "guildmark-demo").await;
    api.post(&format!("/api/v1/claims/{token}"), Some(&bo), json!({}))
        .await
        .problem(409, "conflict");
    api.post("/api/v1/claims/not-a-token", Some(&bo), json!({}))
        .await
        .problem(404, "not-found");
    let held = api.get("/api/v1/accounts/rosa/badges").await.expect(200);
    assert_eq!(held.as_array().unwrap().len(), 1);
    // The emailed badge stays as it was.
    let uuid = emailed["id"].as_str().unwrap().rsplit('/').next().unwrap();
    let still = api
        .get(&format!("/api/v1/credentials/{uuid}"))
        .await
        .expect(200);
    assert_eq!(still["standing"], "active");
    assert_eq!(
        api.get(&format!("/api/v1/claims/{token}"))
            .await
            .expect(200)["state"],
        "claimed"
    );
    drop(smtp);

    // A node without a mail server answers with the link for the assessor to pass on.
    let quiet = Server::start(&["--demo"]);
    let quiet_api = Api::new(&quiet.url);
    let noor = quiet_api.token("noor", "guildmark-demo").await;
    let awarded = quiet_api
        .post(
            "/api/v1/communities/saltmarsh/badges",
            Some(&noor),
            award("sam@example.org", "soldering-l1"),
        )
        .await
        .expect(201);
    let url = awarded["claim"]["link"]["url"].as_str().unwrap_or_default();
    assert!(
        url.starts_with(&format!("{}/claim/", quiet.url)),
        "{awarded:#}"
    );
    let _: Value = quiet_api
        .get(&format!(
            "/api/v1/claims/{}",
            url.rsplit('/').next().unwrap()
        ))
        .await
        .expect(200);
}
