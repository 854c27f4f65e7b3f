//! `guildmark serve`: run a community node.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use std::io::Write as _;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use axum::Router;

use crate::api::{self, AppState};
use crate::keys;
use crate::ledger::{Ledger, LedgerConfig};
use crate::node::demo::{DemoLogin, DEMO_PASSWORD};
use crate::node::migrate::LAYOUT_VERSION;
use crate::node::Node;
use crate::problem::{problems_only, Problem};
use crate::web::WebNode;

/// Arguments of `guildmark serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (created if missing): keys, the ledger, the node's records.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "guildmark-data",
        env = "GUILDMARK_DATA"
    )]
    data: PathBuf,
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The URL people reach this node at (default: `http://<listen address>`).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// The ledger's origin line (default: the public URL without its scheme). Fixed when
    /// the ledger is created.
    #[arg(long)]
    origin: Option<String>,
    /// How long the ledger pools appends into one batch, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2)]
    pool_window_ms: u64,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
    /// Accounts that one client network (an IPv4 address, an IPv6 /64) may create per
    /// hour through the API.
    #[arg(long, value_name = "N", default_value_t = crate::node::throttle::SIGN_UPS)]
    sign_ups_per_hour: usize,
    /// The SMTP relay that mails claim links for badges awarded to an email address
    /// (`smtp://host[:port]`, plain SMTP to a local relay). Without it, the link is
    /// shown to the assessor instead.
    #[arg(long, value_name = "URL", env = "GUILDMARK_SMTP")]
    smtp: Option<String>,
    /// A log this node witnesses besides its peers' (C2SP tlog-witness: `POST
    /// /add-checkpoint`), by its verifier key `origin+id+key` (repeatable). The node
    /// cosigns with its own witness key (`keys/witness.key`), printed at start.
    #[arg(long = "witness-log", value_name = "VKEY")]
    witness_logs: Vec<String>,
    /// How many of the peers' witnesses must cosign a checkpoint before it counts as
    /// witnessed (default: all of them).
    #[arg(long, value_name = "K")]
    witness_quorum: Option<usize>,
    /// The sender of the node's mail.
    #[arg(
        long,
        value_name = "MAILBOX",
        default_value = "Guildmark <guildmark@localhost>"
    )]
    mail_from: String,
    /// Seconds a request's header may take to arrive (and a connection may idle).
    #[arg(long, value_name = "SECS", default_value_t = crate::listener::HEADER_TIMEOUT.as_secs())]
    header_timeout: u64,
    /// Seconds a request's body may take to arrive.
    #[arg(long, value_name = "SECS", default_value_t = crate::listener::BODY_TIMEOUT.as_secs())]
    body_timeout: u64,
    /// On a node without communities, create a demo world (communities, members in
    /// every role, achievements, badges) and print how to log in.
    #[arg(long)]
    demo: bool,
}

/// The origin a public URL gives: without scheme and trailing slash.
pub fn origin_from_url(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    rest.trim_end_matches('/').to_owned()
}

/// Runs the node until SIGINT or SIGTERM.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_logging(args.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GUILDMARK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opens the ledger in `data`, creating its log key and store if needed.
pub fn open_ledger(
    data: &Path,
    origin: Option<&str>,
    public_url: &str,
    window: Duration,
) -> anyhow::Result<Ledger> {
    let ledger_dir = data.join("ledger");
    let stored = Ledger::stored_origin(&ledger_dir)?;
    let origin = match (stored, origin) {
        (Some(stored), Some(asked)) if stored != asked => bail!(
            "the ledger in {} has origin {stored:?}; a log's origin cannot change (asked for {asked:?})",
            ledger_dir.display()
        ),
        (Some(stored), _) => stored,
        (None, Some(asked)) => asked.to_owned(),
        (None, None) => origin_from_url(public_url),
    };
    let log_key = keys::load_or_create(&data.join("keys").join("log.key"))?;
    let config = LedgerConfig {
        pool_window: window,
        ..LedgerConfig::new(origin)
    };
    Ledger::open(&ledger_dir, log_key, config)
        .with_context(|| format!("opening the ledger in {}", ledger_dir.display()))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    for dir in [args.data.clone(), args.data.join("keys")] {
        let opened = crate::keys::private_dir(&dir)
            .with_context(|| format!("making {} private", dir.display()))?;
        if let Some(mode) = opened {
            tracing::warn!(
                dir = %dir.display(),
                was = format!("{mode:o}"),
                "others could enter this directory; it is now 0700"
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let ledger = open_ledger(
        &args.data,
        args.origin.as_deref(),
        &public_url,
        Duration::from_millis(args.pool_window_ms),
    )?;
    let node = Node::open(&args.data, ledger.clone(), &public_url)
        .with_context(|| format!("opening the node's records in {}", args.data.display()))?;
    if let Some(old) = node.opened_layout().filter(|v| *v < LAYOUT_VERSION) {
        tracing::info!(
            from = old,
            to = LAYOUT_VERSION,
            "the node store was migrated"
        );
    }
    node.throttle.limit_sign_ups(args.sign_ups_per_hour);
    if args.witness_quorum == Some(0) {
        bail!("--witness-quorum must be at least 1");
    }
    node.cosigning.set_quorum(args.witness_quorum);
    {
        let mut logs = Vec::new();
        for text in &args.witness_logs {
            let key: guildmark_credentials::note::VerifierKey = text
                .parse()
                .with_context(|| format!("--witness-log {text:?} is not a verifier key"))?;
            logs.push(key);
        }
        let pair = keys::load_or_create(&args.data.join("keys").join("witness.key"))?;
        let host = public_url
            .split_once("://")
            .map_or(public_url.as_str(), |(_, rest)| rest)
            .trim_end_matches('/');
        let signer =
            guildmark_credentials::note::NoteSigner::cosigner(&format!("{host}/witness"), pair)
                .context("the witness key")?;
        println!("witness key: {}", signer.verifier());
        node.set_witness(crate::node::witness::Witness::new(signer, logs));
    }
    if let Some(url) = &args.smtp {
        let mailer = crate::node::mail::Mailer::new(url, &args.mail_from)
            .context("setting up the mail relay")?;
        node.set_mailer(mailer);
    }
    let demo = if args.demo {
        node.seed_demo().await.context("creating the demo world")?
    } else {
        None
    };
    // Lists written by earlier releases (eddsa-jcs-2022, no validUntil) and lists near
    // their validUntil are re-signed now, then checked every hour.
    let refreshed = node
        .refresh_lists()
        .await
        .context("re-signing status lists")?;
    if refreshed > 0 {
        tracing::info!(refreshed, "status lists re-signed");
    }
    let refresher = tokio::spawn(refresh_lists_hourly(node.clone()));
    let witnessing = tokio::spawn(node.clone().run_witnessing());
    let following = tokio::spawn(node.clone().run_following());
    announce(&args.data, &ledger, address, &public_url, demo)?;
    tracing::info!(%address, "serving");

    let app = app(AppState {
        ledger: ledger.clone(),
        node: node.clone(),
    });
    let timeouts = crate::listener::Timeouts {
        header: Duration::from_secs(args.header_timeout.max(1)),
        body: Duration::from_secs(args.body_timeout.max(1)),
    };
    crate::listener::serve(listener, app, timeouts, shutdown_signal()).await;
    refresher.abort();
    witnessing.abort();
    following.abort();
    tracing::info!("shutting down: finishing pending ledger appends");
    let stopping = tokio::task::spawn_blocking(move || {
        ledger.shutdown();
        node.shutdown()
    });
    match tokio::time::timeout(SHUTDOWN_DEADLINE, stopping).await {
        Ok(Ok(Ok(()))) => {
            tracing::info!("stopped");
            Ok(())
        }
        // A store that failed (a full disk) can block forever in its destructors: leave
        // without them. Every acknowledged write was durable when it was acknowledged.
        Ok(Ok(Err(error))) => {
            tracing::error!(%error, "the node's records could not be flushed; exiting");
            std::process::exit(1)
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "shutting down failed; exiting");
            std::process::exit(1)
        }
        Err(_) => {
            tracing::error!(
                seconds = SHUTDOWN_DEADLINE.as_secs(),
                "the stores did not finish flushing in time; exiting without them (acknowledged writes were already durable)"
            );
            std::process::exit(1)
        }
    }
}

/// Re-signs status lists before they lapse, every hour while the node runs.
async fn refresh_lists_hourly(node: std::sync::Arc<Node>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(3600));
    ticks.tick().await; // the first tick is immediate; the lists were just refreshed
    loop {
        ticks.tick().await;
        match node.refresh_lists().await {
            Ok(0) => {}
            Ok(refreshed) => tracing::info!(refreshed, "status lists re-signed"),
            Err(error) => tracing::error!(%error, "re-signing status lists failed"),
        }
    }
}

/// How long a stopping node waits for its stores to flush before it exits anyway.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(20);

/// Prints what a person (or a script that pins the log key) needs: where the data is,
/// the ledger's origin and verifier key, the addresses, and the demo's logins.
fn announce(
    data: &Path,
    ledger: &Ledger,
    address: SocketAddr,
    public_url: &str,
    demo: Option<Vec<DemoLogin>>,
) -> std::io::Result<()> {
    let published = ledger.published();
    let mut out = std::io::stdout().lock();
    writeln!(out, "Guildmark node, data in {}", data.display())?;
    writeln!(
        out,
        "ledger origin: {} ({} entries)",
        published.checkpoint.origin, published.checkpoint.size
    )?;
    writeln!(out, "ledger verifier key: {}", ledger.verifier_key())?;
    writeln!(
        out,
        "listening on http://{address} (public URL {public_url})"
    )?;
    if let Some(logins) = demo {
        writeln!(
            out,
            "demo world created; log in (password {DEMO_PASSWORD:?}) as:"
        )?;
        for login in logins {
            writeln!(out, "  {:<10} {}", login.username, login.roles)?;
        }
        let serial = crate::node::demo::demo_serial(7);
        writeln!(
            out,
            "a certified MPPT20 controller: {serial}; verify its provenance offline with\n  curl -s {public_url}/api/v1/devices/{serial}/bundle > b.json && curl -s {public_url}/api/v1/trust > trust.toml\n  guildmark verify b.json --trust trust.toml"
        )?;
    }
    writeln!(
        out,
        "API: {public_url}/api/v1/communities (OpenAPI at {public_url}/api/v1/openapi.json)"
    )?;
    out.flush()
}

/// The node's whole HTTP surface in one router: the JSON API and the ledger's static
/// paths, the web pages and their forms, and one fallback for unknown addresses (a
/// friendly page for browsers, a problem for everyone else). Tests drive it in-process.
pub fn app(state: AppState) -> Router {
    let pages = guildmark_frontend::router(WebNode::shared(state.node.clone()));
    let node = state.node.clone();
    api::router(state)
        .merge(pages)
        .fallback(move |request: Request| not_found(node.clone(), request))
        .layer(middleware::from_fn(problems_only))
        .layer(middleware::from_fn(guildmark_frontend::security_headers))
        .layer(middleware::from_fn(log_requests))
}

/// Nothing here: a friendly page for browsers, a problem for everyone else.
async fn not_found(node: std::sync::Arc<Node>, request: Request) -> Response {
    let wants_html = request
        .headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !request.uri().path().starts_with("/api/") {
        return guildmark_frontend::not_found(WebNode::shared(node), request).await;
    }
    Problem::not_found("no such resource").into_response()
}

/// Logs every request with its status and duration.
async fn log_requests(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
