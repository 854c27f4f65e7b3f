//! Peer nodes: other Guildmark nodes this node's operator chose to trust, each named by
//! its URL and its log's verifier key. A peer's log is witnessed by this node, and the
//! peer's witness key (when it has one) cosigns this node's checkpoints.
//!
//! Trust is explicit: the operator gives the log key. The witness key may be given too;
//! otherwise it is read from the peer's `/api/v1/ledger`, after checking that the peer
//! serves the very log key the operator gave.

use guildmark_credentials::note::{SignatureType, VerifierKey};
use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};

use super::authz::Action;
use super::error::{Field, Thing};
use super::{now, read, write, Node, NodeError, NodeResult};
use crate::node::account::Caller;

/// A peer node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    /// Its base URL, without a trailing slash.
    pub url: String,
    /// Its log's verifier key (C2SP note key; its name is the log's origin).
    #[schema(value_type = String)]
    pub log_key: VerifierKey,
    /// Its witness key (cosignature/v1), if it witnesses this node's log.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_key: Option<VerifierKey>,
    /// When it was added.
    #[schema(value_type = String)]
    pub added_at: Timestamp,
    /// Who added it.
    pub added_by: String,
}

impl Peer {
    /// The log's origin.
    pub fn origin(&self) -> &str {
        self.log_key.name()
    }
}

/// What the operator says about a new peer.
#[derive(Debug, Clone)]
pub struct NewPeer {
    /// Its URL.
    pub url: String,
    /// Its log's verifier key, as text.
    pub log_key: String,
    /// Its witness key, as text, if given; otherwise read from the peer.
    pub witness_key: Option<String>,
}

/// The part of a peer's `/api/v1/ledger` this node reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LedgerSummary {
    verifier_key: String,
    #[serde(default)]
    witness_key: Option<String>,
}

/// A URL as peers are keyed: `http(s)://host[:port][/path]`, no trailing slash, no query.
fn normalize_url(url: &str) -> NodeResult<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            NodeError::invalid(Field::Url, "a peer's URL starts with http:// or https://")
        })?;
    if rest.is_empty()
        || rest.starts_with('/')
        || rest.contains(['?', '#', ' ', '@'])
        || rest.chars().any(char::is_control)
    {
        return Err(NodeError::invalid(
            Field::Url,
            format!("{url:?} is not a node's base URL (scheme, host, optional port and path)"),
        ));
    }
    Ok(url.to_owned())
}

fn parse_key(text: &str, field: Field, kind: SignatureType) -> NodeResult<VerifierKey> {
    let key: VerifierKey =
        text.trim()
            .parse()
            .map_err(|e: guildmark_credentials::note::NoteError| {
                NodeError::invalid(field, e.to_string())
            })?;
    if key.kind() != kind {
        return Err(NodeError::invalid(
            field,
            match kind {
                SignatureType::Ed25519 => "a log key is an Ed25519 note key (type 0x01)",
                SignatureType::Cosignature => "a witness key is a cosignature/v1 key (type 0x04)",
            },
        ));
    }
    Ok(key)
}

/// Reads a peer's answer, refusing one longer than `limit` bytes (a hostile peer does
/// not get to fill this node's memory).
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off: {e}"))?
    {
        if out.len() + chunk.len() > limit {
            return Err(format!("the answer is longer than {limit} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

impl Node {
    /// Every peer, by origin.
    pub fn peers(&self) -> NodeResult<Vec<Peer>> {
        self.trees
            .peers
            .iter()
            .map(|item| Ok(serde_json::from_slice(&item?.1)?))
            .collect()
    }

    /// The peer whose log has `origin`.
    pub fn peer(&self, origin: &str) -> NodeResult<Option<Peer>> {
        read(&self.trees.peers, origin.as_bytes())
    }

    /// Adds (or updates) a peer (operator only). Without a witness key, the peer's
    /// `/api/v1/ledger` must name the log key given, and its witness key is taken from
    /// there.
    pub async fn add_peer(&self, caller: Option<&Caller>, new: NewPeer) -> NodeResult<Peer> {
        let permit = self.permit_on_node(caller, Action::ManagePeers)?;
        let url = normalize_url(&new.url)?;
        let log_key = parse_key(&new.log_key, Field::LogKey, SignatureType::Ed25519)?;
        if log_key == *self.ledger().verifier_key() {
            return Err(NodeError::invalid(
                Field::LogKey,
                "this is this node's own log; a node does not peer with itself",
            ));
        }
        let witness_key = match &new.witness_key {
            Some(text) => Some(parse_key(
                text,
                Field::WitnessKey,
                SignatureType::Cosignature,
            )?),
            None => self.peer_witness_key(&url, &log_key).await?,
        };
        let peer = Peer {
            url,
            log_key,
            witness_key,
            added_at: now(),
            added_by: permit.account().username.clone(),
        };
        write(&self.trees.peers, peer.origin().as_bytes(), &peer)?;
        self.flush().await?;
        tracing::info!(origin = peer.origin(), url = peer.url, "peer added");
        self.cosigning.peers_changed();
        Ok(peer)
    }

    /// Removes the peer with log `origin` (operator only).
    pub async fn remove_peer(&self, caller: Option<&Caller>, origin: &str) -> NodeResult<Peer> {
        self.permit_on_node(caller, Action::ManagePeers)?;
        let peer = self.peer(origin)?.ok_or_else(|| {
            NodeError::not_found(Thing::Peer, format!("no peer has log {origin:?}"))
        })?;
        self.trees.peers.remove(origin.as_bytes())?;
        self.flush().await?;
        tracing::info!(origin, "peer removed");
        self.cosigning.peers_changed();
        Ok(peer)
    }

    /// Asks the node at `url` for its witness key, after checking it serves `log_key`.
    async fn peer_witness_key(
        &self,
        url: &str,
        log_key: &VerifierKey,
    ) -> NodeResult<Option<VerifierKey>> {
        let failed = |detail: String| NodeError::Peer {
            url: url.to_owned(),
            detail,
        };
        let response = self
            .http
            .get(format!("{url}/api/v1/ledger"))
            .send()
            .await
            .map_err(|e| failed(format!("could not be reached: {e}")))?;
        if !response.status().is_success() {
            return Err(failed(format!(
                "answered {} for /api/v1/ledger",
                response.status()
            )));
        }
        let bytes = read_limited(response, 64 * 1024).await.map_err(failed)?;
        let summary: LedgerSummary = serde_json::from_slice(&bytes).map_err(|e| {
            failed(format!(
                "/api/v1/ledger is not a Guildmark ledger summary: {e}"
            ))
        })?;
        if summary.verifier_key != log_key.to_string() {
            return Err(NodeError::invalid(
                Field::LogKey,
                format!(
                    "the node at {url} serves the log key {}, not the one given",
                    summary.verifier_key
                ),
            ));
        }
        summary
            .witness_key
            .map(|text| {
                parse_key(&text, Field::WitnessKey, SignatureType::Cosignature).map_err(|_| {
                    failed(format!(
                        "its witness key {text:?} is not a cosignature/v1 key"
                    ))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_url;

    #[test]
    fn peer_urls_are_base_urls() {
        assert_eq!(
            normalize_url(" http://127.0.0.1:8081/ ").unwrap(),
            "http://127.0.0.1:8081"
        );
        assert_eq!(
            normalize_url("https://node.example/guildmark").unwrap(),
            "https://node.example/guildmark"
        );
        for bad in [
            "ftp://x",
            "http://",
            "http:///x",
            "http://a?b",
            "http://u@h",
            "x",
        ] {
            assert!(normalize_url(bad).is_err(), "{bad}");
        }
    }
}
