//! `guildmark peer`: the operator adds, lists and removes a running node's peers
//! through its API (`/api/v1/peers`), with an operator's API token.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use super::outln;

/// Arguments of `guildmark peer`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The node to change (its URL).
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:8080",
        env = "GUILDMARK_NODE",
        global = true
    )]
    node: String,
    /// An API token of the node's operator (needed to add and remove).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GUILDMARK_TOKEN",
        global = true,
        hide_env_values = true
    )]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Trust another node: witness its log, and let its witness cosign this node's
    /// checkpoints.
    Add {
        /// The peer's URL.
        url: String,
        /// The peer's log verifier key (`origin+id+base64`), from its operator.
        #[arg(long, value_name = "VKEY")]
        log_key: String,
        /// The peer's witness key; read from the peer (after checking its log key)
        /// when not given.
        #[arg(long, value_name = "VKEY")]
        witness_key: Option<String>,
    },
    /// List the node's peers.
    List,
    /// Stop trusting a peer, named by its log's origin.
    Remove {
        /// The peer log's origin.
        origin: String,
    },
}

/// Runs a peer command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(peer(args))
}

async fn peer(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.trim_end_matches('/');
    let client = reqwest::Client::new();
    let authorized = |request: reqwest::RequestBuilder| match &args.token {
        Some(token) => Ok(request.bearer_auth(token)),
        None => bail!("an operator's API token is needed: --token or GUILDMARK_TOKEN"),
    };
    let request = match &args.command {
        Command::Add {
            url,
            log_key,
            witness_key,
        } => authorized(client.post(format!("{node}/api/v1/peers")).json(&json!({
            "url": url,
            "logKey": log_key,
            "witnessKey": witness_key,
        })))?,
        Command::List => client.get(format!("{node}/api/v1/peers")),
        Command::Remove { origin } => {
            authorized(client.delete(format!("{node}/api/v1/peers/{origin}")))?
        }
    };
    let response = request
        .send()
        .await
        .with_context(|| format!("the node at {node} could not be reached"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("the node at {node} answered {status} with no JSON"))?;
    if !status.is_success() {
        let detail = body
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or("no detail");
        eprintln!("error: the node refused ({status}): {detail}");
        return Ok(ExitCode::from(1));
    }
    let peers = match body {
        Value::Array(peers) => peers,
        one => vec![one],
    };
    if peers.is_empty() {
        outln!("no peers")?;
    }
    for peer in peers {
        let field = |name: &str| {
            peer.get(name)
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_owned()
        };
        let verb = match args.command {
            Command::Add { .. } => "added ",
            Command::Remove { .. } => "removed ",
            Command::List => "",
        };
        outln!("{verb}{}", field("url"))?;
        outln!("  log key:     {}", field("logKey"))?;
        outln!("  witness key: {}", field("witnessKey"))?;
    }
    Ok(ExitCode::SUCCESS)
}
