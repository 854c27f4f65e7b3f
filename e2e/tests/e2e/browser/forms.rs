//! Every form of the UI as a browser without JavaScript sends it: a plain urlencoded
//! POST. Success answers 303 to the page showing the result; a refusal answers the same
//! page with the reason beside the field, the input kept, the right status — and nothing
//! saved (the ledger does not grow).

use serde_json::Value;

use crate::common::Server;

/// A person with a session, or nobody.
struct Visitor {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

/// An answer: status, `Location`, body.
struct Page {
    status: u16,
    location: String,
    html: String,
}

impl Page {
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.html.find(marker).expect("a form with a CSRF token") + marker.len();
        self.html[start..].split('"').next().unwrap().to_owned()
    }

    fn has(&self, text: &str) -> bool {
        self.html.contains(text)
    }
}

impl Visitor {
    fn new(base: &str) -> Visitor {
        Visitor {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookie: None,
        }
    }

    async fn answer(reply: reqwest::Response) -> Page {
        let status = reply.status().as_u16();
        let location = reply
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Page {
            status,
            location,
            html: reply.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        Visitor::answer(request.send().await.unwrap()).await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        Visitor::answer(request.send().await.unwrap()).await
    }

    /// Posts form `form` on the page at `path` with the page's CSRF token.
    async fn submit(&self, path: &str, form: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(path).await.csrf();
        let mut all = vec![("form", form), ("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    /// Posts the sign-in form as the sign-in page sends it: with the token the page put
    /// in the form and in its cookie.
    async fn post_sign_in(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        let page = self
            .client
            .get(format!("{}/signin", self.base))
            .send()
            .await
            .unwrap();
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("gm_signin="))
            .expect("the sign-in page's token cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let token = cookie.trim_start_matches("gm_signin=").to_owned();
        let mut all = vec![("form", "sign-in"), ("signin", token.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(format!("{}/signin", self.base))
            .header("cookie", cookie)
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    async fn sign_in(base: &str, username: &str) -> Visitor {
        let mut visitor = Visitor::new(base);
        let reply = visitor
            .post_sign_in(&[("username", username), ("password", "guildmark-demo")])
            .await;
        assert_eq!(reply.status(), 303, "{username} signs in");
        let cookie = reply.headers()["set-cookie"].to_str().unwrap();
        visitor.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        visitor
    }
}

async fn ledger_size(base: &str) -> u64 {
    let summary: Value = reqwest::get(format!("{base}/api/v1/ledger"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    summary["size"].as_u64().unwrap()
}

async fn badge_of(base: &str, username: &str, achievement: &str) -> String {
    let badges: Value = reqwest::get(format!("{base}/api/v1/accounts/{username}/badges"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    badges
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["subject"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/{achievement}"))
        })
        .map(|b| b["uuid"].as_str().unwrap().to_owned())
        .unwrap()
}

#[tokio::test]
async fn every_form_works_without_javascript() {
    let server = Server::start(&["--demo"]);
    let base = server.url.as_str();

    // Sign-in: a wrong password is refused, the username kept, the password never echoed.
    let anonymous = Visitor::new(base);
    let page = Visitor::answer(
        anonymous
            .post_sign_in(&[("username", "mira"), ("password", "not-her-password")])
            .await,
    )
    .await;
    assert_eq!(page.status, 401);
    assert!(
        page.has("value=\"mira\"") && !page.has("not-her-password"),
        "{}",
        page.html
    );
    // After signing in, only this node's pages: never another site.
    for next in [
        "//evil.example/",
        "/\\evil.example/",
        "https://evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
    ] {
        let page = Visitor::answer(
            anonymous
                .post_sign_in(&[
                    ("username", "lea"),
                    ("password", "guildmark-demo"),
                    ("next", next),
                ])
                .await,
        )
        .await;
        assert_eq!(
            (page.status, page.location.as_str()),
            (303, "/m/lea"),
            "no redirect to {next}"
        );
    }

    // Anonymous and forged posts change nothing.
    let size = ledger_size(base).await;
    let page = anonymous
        .post(
            "/c/kestrel/manage",
            &[
                ("form", "set-member"),
                ("csrf", "x"),
                ("username", "lea"),
                ("roles", "admin"),
            ],
        )
        .await;
    assert_eq!(page.status, 401);
    assert!(page.has("sign in again"), "{}", page.html);
    let mira = Visitor::sign_in(base, "mira").await;
    let page = mira
        .post(
            "/c/kestrel/manage",
            &[
                ("form", "set-member"),
                ("csrf", "forged"),
                ("username", "lea"),
                ("roles", "admin"),
            ],
        )
        .await;
    assert_eq!(page.status, 403, "a post without the session's CSRF token");
    assert_eq!(ledger_size(base).await, size);

    // An admin: achievements (a bad name comes back beside the field), members, protocols.
    let page = mira
        .submit(
            "/c/kestrel/manage",
            "define-achievement",
            &[
                ("name", "Bad Name"),
                ("title", "Enclosure sealing"),
                ("description", "Seals enclosures to IP65."),
                ("criteria", "Three enclosures pass the spray test."),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.has("id=\"define-achievement-name-error\"") && page.has("value=\"Enclosure sealing\""),
        "{}",
        page.html
    );
    assert_eq!(ledger_size(base).await, size, "nothing half-saved");
    let page = mira
        .submit(
            "/c/kestrel/manage",
            "define-achievement",
            &[
                ("name", "enclosure-sealing"),
                ("title", "Enclosure sealing"),
                ("description", "Seals enclosures to IP65."),
                ("criteria", "Three enclosures pass the spray test."),
                ("level", "1"),
                ("prerequisites", "mppt-assembly"),
            ],
        )
        .await;
    assert_eq!(
        (page.status, page.location.as_str()),
        (303, "/c/kestrel/a/enclosure-sealing")
    );
    let page = mira.get("/c/kestrel/a/enclosure-sealing").await;
    assert!(
        page.has("Enclosure sealing") && page.has("MPPT"),
        "the prerequisite is listed"
    );
    let page = mira
        .submit(
            "/c/kestrel/manage",
            "set-member",
            &[("username", "nobody-at-all"), ("roles", "apprentice")],
        )
        .await;
    assert_eq!(page.status, 404);
    assert!(
        page.has("id=\"set-member-username-error\""),
        "{}",
        page.html
    );
    let page = mira
        .submit(
            "/c/kestrel/manage",
            "set-member",
            &[
                ("username", "lea"),
                ("roles", "apprentice"),
                ("roles", "producer"),
            ],
        )
        .await;
    assert_eq!(
        (page.status, page.location.as_str()),
        (303, "/c/kestrel/manage")
    );
    assert!(
        mira.get("/c/kestrel").await.has("href=\"/m/lea\""),
        "lea is listed"
    );
    let size = ledger_size(base).await;
    let page = mira
        .submit(
            "/c/kestrel/manage",
            "publish-protocol",
            &[("source", "id = \"broken\"\nversion = 1\n")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.has("id=\"publish-protocol-source-error\"")
            && page.has("line 2")
            && page.has("version = 1"),
        "{}",
        page.html
    );
    assert_eq!(ledger_size(base).await, size, "nothing half-saved");
    let source = include_str!("../../../../review-protocols/protocols/soldering-l1.toml");
    let page = mira
        .submit(
            "/c/kestrel/manage",
            "publish-protocol",
            &[("source", source)],
        )
        .await;
    assert_eq!((page.status, page.location.as_str()), (303, "/c/kestrel"));
    assert!(mira
        .get("/c/kestrel")
        .await
        .has("Soldering L1 — through-hole assessment"));

    // A producer registers a batch; a bad serial range is refused beside the field.
    let jun = Visitor::sign_in(base, "jun").await;
    let protocols: Value = reqwest::get(format!("{base}/api/v1/protocols"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mppt = protocols
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"].as_str().unwrap().contains("mppt20"))
        .unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let fields = |serials: &'static str| {
        vec![
            ("product", "MPPT20 12/24 V 20 A solar charge controller"),
            ("protocol", mppt.as_str()),
            ("lot_size", "10"),
            ("serials", serials),
            ("production_date", "2026-11-01"),
            ("notes", "Winter run."),
        ]
    };
    let page = jun
        .submit(
            "/c/kestrel/register",
            "register-batch",
            &fields("MPPT20-2027-0010..0001"),
        )
        .await;
    assert_eq!(page.status, 422, "{}", page.html);
    assert!(
        page.has("id=\"register-batch-serials-error\"") && page.has("Winter run."),
        "{}",
        page.html
    );
    let page = jun
        .submit(
            "/c/kestrel/register",
            "register-batch",
            &fields("MPPT20-2027-0001..0010"),
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert!(page.location.starts_with("/b/"));
    let labels = jun.get(&format!("{}/labels", page.location)).await;
    assert_eq!(
        labels.html.matches("class=\"label\"").count(),
        10,
        "one label per serial"
    );
    assert!(labels.has("/d/MPPT20-2027-0007"));
    // A producer is no admin.
    let page = jun
        .submit(
            "/c/kestrel/register",
            "set-member",
            &[("username", "lea"), ("roles", "admin")],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.html);
    // Nor a reviewer.
    let page = jun
        .submit(
            &format!("{}/attest", page_path(&labels)),
            "attest",
            &[("sampled.0", "MPPT20-2027-0001"), ("verdict", "pass")],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.html);

    // Badges are no longer suspended (Open Badges verifiers would not see it); an
    // assessor can neither suspend nor revoke, and there is no suspension to lift.
    let tomas = Visitor::sign_in(base, "tomas").await;
    let badge = badge_of(base, "ada", "mppt-assembly").await;
    let path = format!("/cred/{badge}");
    assert!(
        !tomas.get(&path).await.has("value=\"suspend\""),
        "no suspend button"
    );
    assert!(
        !tomas.get(&path).await.has("name=\"change\""),
        "an assessor has no standing to change on an active badge"
    );
    let page = tomas
        .submit(&path, "standing", &[("change", "suspend")])
        .await;
    assert_eq!(page.status, 410, "{}", page.html);
    // An admin, who sees the form, is told why.
    let page = mira
        .submit(&path, "standing", &[("change", "suspend")])
        .await;
    assert_eq!(page.status, 410, "{}", page.html);
    assert!(page.has("Revoke it instead"), "{}", page.html);
    assert!(mira.get(&path).await.has("tag-active"));
    let page = tomas
        .submit(&path, "standing", &[("change", "revoke")])
        .await;
    assert_eq!(page.status, 403, "only admins revoke");
    let page = tomas
        .submit(&path, "standing", &[("change", "reinstate")])
        .await;
    assert_eq!(page.status, 409, "{}", page.html);
    assert!(tomas.get(&path).await.has("tag-active"));

    // A holder offers a badge to their wallet: a QR code and an openid-credential-offer
    // link on their profile; nobody offers another member's badge.
    let felix = Visitor::sign_in(base, "felix").await;
    let felix_badge = badge_of(base, "felix", "soldering-l1").await;
    let page = felix
        .submit("/m/felix", "wallet-offer", &[("badge", &felix_badge)])
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.has("href=\"openid-credential-offer://?credential_offer=") && page.has("wallet-offer"),
        "{}",
        page.html
    );
    let page = tomas
        .submit("/m/felix", "wallet-offer", &[("badge", &felix_badge)])
        .await;
    assert_eq!(page.status, 404, "{}", page.html);

    // An assessor awards a badge to an email address through the form; without a mail
    // server the page shows the claim link, which a signed-in person claims once.
    let noor = Visitor::sign_in(base, "noor").await;
    let page = noor
        .submit(
            "/c/saltmarsh/a/soldering-l1",
            "issue-badge",
            &[
                ("recipient", "kim@example.org"),
                ("narrative", "Open workshop."),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    let marker = format!("{base}/claim/");
    let start = page.html.find(&marker).expect("the claim link on the page");
    let link: String = page.html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || ":/._-".contains(*c))
        .collect();
    let path = link.strip_prefix(base).unwrap().to_owned();
    let jun = Visitor::sign_in(base, "jun").await;
    assert!(jun.get(&path).await.has("Claim this badge"));
    let page = jun.submit(&path, "claim", &[]).await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert!(page.location.starts_with("/cred/"), "{}", page.location);
    let claimed = jun.get(&page.location).await;
    assert!(
        claimed.has("Claimed from a badge awarded by email"),
        "{}",
        claimed.html
    );
    let page = jun.submit(&path, "claim", &[]).await;
    assert_eq!(page.status, 409, "a claim link works once");

    // A holder endorses another member's badge.
    let ada_l1 = format!("/cred/{}", badge_of(base, "ada", "soldering-l1").await);
    let page = felix
        .submit(
            &ada_l1,
            "endorse",
            &[
                ("target", &format!("{base}/credentials/{}", &ada_l1[6..])),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 422, "an empty comment");
    assert!(page.has("id=\"endorse-comment-error\""));
    let page = felix
        .submit(
            &ada_l1,
            "endorse",
            &[
                ("target", &format!("{base}/credentials/{}", &ada_l1[6..])),
                ("comment", "Clean joints, every time."),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert!(
        felix.get(&ada_l1).await.has("Clean joints, every time."),
        "the endorsement shows on the badge"
    );

    // API tokens: the secret is shown once and works; revoked, it stops working.
    let ada = Visitor::sign_in(base, "ada").await;
    let page = ada
        .submit("/account", "create-token", &[("name", "workshop laptop")])
        .await;
    assert_eq!(page.status, 200);
    let secret = page
        .html
        .split("copy it: ")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let me = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let account = ada.get("/account").await;
    let marker = "name=\"id\" value=\"";
    let start = account.html.find(marker).unwrap() + marker.len();
    let id = account.html[start..].split('"').next().unwrap().to_owned();
    let page = ada.submit("/account", "revoke-token", &[("id", &id)]).await;
    assert_eq!((page.status, page.location.as_str()), (303, "/account"));
    let me = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);

    // Signing out ends the session for good.
    let page = ada.submit("/account", "sign-out", &[]).await;
    assert_eq!(page.status, 303);
    assert!(
        ada.get("/account").await.has("to see your account"),
        "the old cookie no longer signs in"
    );
}

/// The batch path of a labels page (its breadcrumb links the batch).
fn page_path(labels: &Page) -> String {
    let start = labels.html.find("href=\"/b/").unwrap() + 6;
    labels.html[start..].split('"').next().unwrap().to_owned()
}
