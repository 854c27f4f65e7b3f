//! `guildmark demo federation`: three real node processes on one machine, each with its
//! own data directory and keys — Kestrel Valley Microfactory, Saltmarsh Repair Café and
//! Lumen Mountain Power Co-op — that peer and witness each other (2 of 2 witnesses per
//! log). The demo world is made through the nodes' own API, as their people would: a
//! batch on Kestrel's node certified by reviewers on the other two.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use super::outln;
use crate::node::demo::{mppt_results, DEMO_PASSWORD};

/// Arguments of `guildmark demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Start three peered nodes on this machine and a demo world across them; runs
    /// until interrupted (the data stays for the next run).
    Federation {
        /// Where the three nodes keep their data (one directory each).
        #[arg(long, value_name = "DIR", default_value = "guildmark-federation")]
        data: PathBuf,
        /// The three nodes' ports, on 127.0.0.1.
        #[arg(
            long,
            value_name = "P1,P2,P3",
            value_delimiter = ',',
            default_value = "8081,8082,8083"
        )]
        ports: Vec<u16>,
    },
}

/// The three communities, one per node: slug, name, description, and who is who.
const NODES: [(&str, &str, &str); 3] = [
    ("kestrel", "Kestrel Valley Microfactory", "A valley workshop that designs and builds solar charge controllers and small wind turbines for the region."),
    ("saltmarsh", "Saltmarsh Repair Café", "A coastal repair café: every Saturday, neighbours fix electronics, bikes and batteries together and teach each other to solder."),
    ("lumen", "Lumen Mountain Power Co-op", "A mountain energy co-operative running micro-grids for twelve villages; it trains and qualifies the people who review power hardware."),
];

/// The certified batch's serial numbers, and the unit the demo points buyers at.
const SERIALS: &str = "MPPT20-2026-0001..0020";
const CERTIFIED: &str = "MPPT20-2026-0007";

/// Runs a demo command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Command::Federation { data, ports } = args.command;
    if ports.len() != 3 {
        bail!("--ports takes three ports, e.g. 8081,8082,8083");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(federation(&data, &ports))
}

/// One node process of the demo.
struct Process {
    child: Child,
    url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        // SIGTERM: the node finishes its appends and flushes before it exits.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn start(data: &Path, port: u16) -> anyhow::Result<Process> {
    let exe = std::env::current_exe().context("finding the guildmark binary")?;
    let mut child = std::process::Command::new(exe)
        .arg("serve")
        .arg("--data")
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--witness-quorum", "2"])
        .env(
            "GUILDMARK_LOG",
            std::env::var("GUILDMARK_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a node")?;
    let stdout = child.stdout.take().context("the node's output")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line?;
        if let Some(rest) = line.strip_prefix("listening on ") {
            url = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.starts_with("API: ") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let url =
        url.with_context(|| format!("the node on port {port} did not start (is the port free?)"))?;
    Ok(Process { child, url })
}

/// A node's API, as one of its people.
struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{} did not answer", self.url))?;
        let status = response.status().as_u16();
        let value = response.json().await.unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, value) = self.call(method, path, token, body).await?;
        if !(200..300).contains(&status) {
            bail!(
                "{}{path} answered {status}: {}",
                self.url,
                value["detail"].as_str().unwrap_or("no detail")
            );
        }
        Ok(value)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        self.expect(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// Logs `username` in (creating the account first if needed) and returns an API token.
    async fn person(&self, username: &str) -> anyhow::Result<String> {
        let credentials = json!({"username": username, "password": DEMO_PASSWORD});
        let (status, _) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/accounts",
                None,
                Some(credentials.clone()),
            )
            .await?;
        if status != 201 && status != 409 {
            bail!(
                "creating the account {username} on {} failed ({status})",
                self.url
            );
        }
        let session = self
            .http
            .post(format!("{}/api/v1/session", self.url))
            .json(&credentials)
            .send()
            .await?;
        let cookie = session
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .with_context(|| format!("{username} could not log in to {}", self.url))?;
        let body: Value = session.json().await?;
        let csrf = body["csrfToken"].as_str().unwrap_or_default().to_owned();
        let token: Value = self
            .http
            .post(format!("{}/api/v1/me/tokens", self.url))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .json(&json!({"name": "demo federation"}))
            .send()
            .await?
            .json()
            .await?;
        token["token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no API token for {username}"))
    }
}

async fn federation(data: &Path, ports: &[u16]) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let mut processes = Vec::new();
    for ((slug, _, _), port) in NODES.iter().zip(ports) {
        processes.push(start(&data.join(slug), *port)?);
    }
    let http = reqwest::Client::new();
    let nodes: Vec<Client> = processes
        .iter()
        .map(|p| Client {
            http: http.clone(),
            url: p.url.clone(),
        })
        .collect();
    let mut operators = Vec::new();
    for node in &nodes {
        operators.push(node.person("operator").await?);
    }
    // Everyone peers with everyone (and so witnesses everyone).
    for (i, node) in nodes.iter().enumerate() {
        let (_, peers) = node
            .call(reqwest::Method::GET, "/api/v1/peers", None, None)
            .await?;
        for (j, other) in nodes.iter().enumerate() {
            if i == j
                || peers
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["url"] == other.url.as_str())
            {
                continue;
            }
            let ledger = other
                .expect(reqwest::Method::GET, "/api/v1/ledger", None, None)
                .await?;
            node.post(
                "/api/v1/peers",
                Some(&operators[i]),
                json!({"url": other.url, "logKey": ledger["verifierKey"]}),
            )
            .await?;
        }
    }
    let (status, _) = nodes[0]
        .call(
            reqwest::Method::GET,
            "/api/v1/communities/kestrel",
            None,
            None,
        )
        .await?;
    if status == 404 {
        outln!("creating the demo world across the three nodes…")?;
        world(&nodes, &operators).await?;
    }
    let started = Instant::now();
    loop {
        let (_, device) = nodes[0]
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/devices/{CERTIFIED}"),
                None,
                None,
            )
            .await?;
        if device["verdict"] == "certified" || started.elapsed() > Duration::from_secs(30) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for ((_, name, _), node) in NODES.iter().zip(&nodes) {
        outln!("{name}: {}", node.url)?;
    }
    outln!("people log in with password {DEMO_PASSWORD:?}: operator on every node; mira (admin) and jun (producer) on Kestrel's; noor (admin, assessor) and felix (reviewer) on Saltmarsh's; oskar (admin, assessor) and bo (reviewer) on Lumen's")?;
    let first = &nodes[0].url;
    outln!(
        "a controller certified by reviewers on the other two nodes: {CERTIFIED}; verify its provenance offline with\n  curl -s {first}/api/v1/devices/{CERTIFIED}/bundle > b.json && curl -s {first}/api/v1/trust > trust.toml\n  guildmark verify b.json --trust trust.toml"
    )?;
    outln!("running; press Ctrl-C to stop all three nodes")?;
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate =
            signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    outln!("stopping the nodes…")?;
    drop(processes);
    Ok(ExitCode::SUCCESS)
}

/// The demo world, through the API: a community per node, its people, the reviewers'
/// badges, Kestrel's protocol and batch, and two reviews from the other nodes.
async fn world(nodes: &[Client], operators: &[String]) -> anyhow::Result<()> {
    let people: [&[(&str, &str)]; 3] = [
        &[("mira", "admin"), ("jun", "producer")],
        &[("noor", "admin"), ("felix", "reviewer")],
        &[("oskar", "admin"), ("bo", "reviewer")],
    ];
    let mut tokens = std::collections::HashMap::new();
    for (i, ((slug, name, description), node)) in NODES.iter().zip(nodes).enumerate() {
        node.post(
            "/api/v1/communities",
            Some(&operators[i]),
            json!({"slug": slug, "name": name, "description": description}),
        )
        .await?;
        for (username, role) in people[i] {
            tokens.insert(*username, node.person(username).await?);
            let roles = if *role == "admin" {
                json!(["admin", "assessor"])
            } else {
                json!([role])
            };
            node.expect(
                reqwest::Method::PUT,
                &format!("/api/v1/communities/{slug}/members/{username}"),
                Some(&operators[i]),
                Some(json!({"roles": roles})),
            )
            .await?;
        }
    }
    // The reviewers' achievement and badges on Saltmarsh's and Lumen's nodes.
    for (i, admin, reviewer) in [(1, "noor", "felix"), (2, "oskar", "bo")] {
        let slug = NODES[i].0;
        nodes[i]
            .post(
                &format!("/api/v1/communities/{slug}/achievements"),
                Some(&tokens[admin]),
                json!({"name": "power-electronics-reviewer", "title": "Power-electronics reviewer", "description": "Reviews power-electronics hardware under published protocols.", "criteria": "Reviewed three batches alongside a qualified reviewer.", "prerequisites": []}),
            )
            .await?;
        nodes[i]
            .post(
                &format!("/api/v1/communities/{slug}/badges"),
                Some(&tokens[admin]),
                json!({"recipient": reviewer, "achievement": "power-electronics-reviewer", "narrative": format!("{reviewer} reviewed three batches with us.")}),
            )
            .await?;
    }
    // Kestrel's protocol names the reviewer achievements on the other two nodes.
    let mut source = guildmark_review_protocols::examples::MPPT20_BATCH_QA.to_owned();
    for (example, (i, slug)) in ["ironbridge", "lumen", "kestrel"].into_iter().zip([
        (1, "saltmarsh"),
        (2, "lumen"),
        (0, "kestrel"),
    ]) {
        source = source.replace(
            &guildmark_review_protocols::examples::achievement_prefix(example),
            &format!("{}/communities/{slug}/achievements/", nodes[i].url),
        );
    }
    let protocol = nodes[0]
        .post(
            "/api/v1/communities/kestrel/protocols",
            Some(&tokens["mira"]),
            json!({"source": source}),
        )
        .await?;
    let batch = nodes[0]
        .post(
            "/api/v1/communities/kestrel/batches",
            Some(&tokens["jun"]),
            json!({"product": "MPPT20 12/24 V 20 A solar charge controller", "protocol": protocol["hash"], "lotSize": 20, "serials": [SERIALS], "productionDate": "2026-11-10", "notes": "Federation run: PCB rev C."}),
        )
        .await?;
    let serials: Vec<String> = batch["serials"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    // Wait for every log to be witnessed, so that the reviews carry witnessed receipts.
    for node in nodes {
        let started = Instant::now();
        loop {
            let ledger = node
                .expect(reqwest::Method::GET, "/api/v1/ledger", None, None)
                .await?;
            if ledger["witnessing"]["witnessedSize"] == ledger["size"]
                || started.elapsed() > Duration::from_secs(30)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    for (i, (node, reviewer)) in [(1, "felix"), (2, "bo")].into_iter().enumerate() {
        let sampled: Vec<String> = serials
            .iter()
            .cycle()
            .skip(i * 7)
            .take(13)
            .cloned()
            .collect();
        let results = serde_json::to_value(mppt_results(&sampled, false))?;
        nodes[node]
            .post(
                "/api/v1/reviews",
                Some(&tokens[reviewer]),
                json!({"batch": batch["url"], "sampled": sampled, "results": results, "verdict": "pass"}),
            )
            .await?;
    }
    Ok(())
}
