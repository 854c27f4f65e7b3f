//! This node's checkpoints, witnessed: every new checkpoint of the node's log goes to
//! the witnesses (its peers' witness keys, C2SP tlog-witness `add-checkpoint`), and the
//! cosignatures that come back are added to it. A checkpoint counts as **witnessed**
//! once the policy's quorum of witnesses cosigned it; `/checkpoint`, receipts and
//! provenance bundles then lead to the latest witnessed checkpoint.
//!
//! A witness that holds a larger tree of this log than the node has (409 with a larger
//! size), or that finds the node's tree inconsistent with the one it cosigned (422), has
//! caught a rollback or a fork: the node raises an alarm (error log, `/api/v1/ledger`,
//! the ledger page) and publishes no witnessed checkpoint while it stands.
//!
//! Rounds are sequential, at most one per [`MIN_ROUND_GAP`]: one checkpoint goes to all
//! witnesses at once, the answers are gathered, then the next round takes whatever
//! checkpoint is latest by then. A witness that failed is retried with a growing delay
//! (up to [`MAX_RETRY`]).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use guildmark_credentials::checkpoint::verify_checkpoint;
use guildmark_credentials::note::{Note, NoteSignature, VerifierKey};
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::witness::{self, Policy};
use guildmark_credentials::Timestamp;
use serde::Serialize;

use super::peer::{read_limited, Peer};
use super::{now, Node, NodeResult};
use crate::ledger::Published;

/// How long a witness may take to answer one request.
pub const SUBMIT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest wait before a failed witness is asked again.
pub const MAX_RETRY: Duration = Duration::from_secs(30);

/// The shortest time between two rounds.
pub const MIN_ROUND_GAP: Duration = Duration::from_millis(100);

/// The largest answer read from a witness.
const MAX_ANSWER: usize = 16 * 1024;

const WITNESSED_KEY: &[u8] = b"witnessed-checkpoint";

/// The node's witnessing state; see the module documentation.
#[derive(Default)]
pub struct Cosigning {
    /// How many witnesses must cosign (`None`: all of them).
    quorum: std::sync::OnceLock<Option<usize>>,
    state: RwLock<State>,
    /// Wakes the witnessing loop when peers change.
    wake: tokio::sync::Notify,
}

#[derive(Default)]
struct State {
    witnessed: Option<Published>,
    witnesses: BTreeMap<String, WitnessView>,
    alarm: Option<String>,
}

/// How one witness stands, as the node last saw it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WitnessView {
    /// The witness key's name.
    pub name: String,
    /// The witness key.
    pub key: String,
    /// Where checkpoints are sent.
    pub url: String,
    /// `ok` (cosigned the latest it was sent), `pending` (not asked yet),
    /// `unreachable`, `refused` (another error), or `conflict` (it caught a rollback
    /// or fork of this log).
    pub state: &'static str,
    /// The size of this log the witness holds, as far as the node knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds: Option<u64>,
    /// What went wrong, if something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Since when the state stands.
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

/// The witnessing status, as `/api/v1/ledger` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Witnessing {
    /// How many of the witnesses must cosign a checkpoint.
    pub quorum: usize,
    /// The witnesses (this node's peers' witness keys).
    pub witnesses: Vec<WitnessView>,
    /// The size of the latest witnessed checkpoint, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnessed_size: Option<u64>,
    /// The latest witnessed checkpoint with its cosignatures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnessed_checkpoint: Option<String>,
    /// Set when a witness caught a rollback or fork of this log: no witnessed
    /// checkpoint is published while it stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
}

/// What one witness said to one checkpoint.
enum Answer {
    /// Its cosignature.
    Cosigned(NoteSignature),
    /// It holds a tree this node cannot extend: a larger size, or another root.
    Conflict { holds: Option<u64>, detail: String },
    /// No answer.
    Unreachable(String),
    /// Any other refusal.
    Refused(String),
}

impl Cosigning {
    /// Sets the quorum (once, at start; `None`: every witness).
    pub fn set_quorum(&self, quorum: Option<usize>) {
        let _ = self.quorum.set(quorum);
    }

    /// Wakes the witnessing loop (peers were added or removed).
    pub fn peers_changed(&self) {
        self.wake.notify_one();
    }
}

impl Node {
    /// The witnesses (peers with a witness key) and how many must cosign.
    pub fn witness_policy(&self) -> NodeResult<Policy> {
        let witnesses: Vec<VerifierKey> = self
            .peers()?
            .into_iter()
            .filter_map(|p| p.witness_key)
            .collect();
        let quorum = self
            .cosigning
            .quorum
            .get()
            .copied()
            .flatten()
            .unwrap_or(witnesses.len());
        Ok(Policy { witnesses, quorum })
    }

    /// The latest witnessed checkpoint, when the node has witnesses and one is.
    pub fn witnessed(&self) -> Option<Published> {
        let state = self.cosigning.state.read().expect("cosigning lock");
        state.witnessed.clone()
    }

    /// The checkpoint `/checkpoint` serves: the latest witnessed one when the node has
    /// one, otherwise the latest signed one.
    pub fn served_checkpoint(&self) -> Published {
        self.witnessed()
            .unwrap_or_else(|| self.ledger().published())
    }

    /// Receipts for entries against the latest witnessed checkpoint if it covers them
    /// all, otherwise against the latest checkpoint (whose receipts meet no witness
    /// policy).
    pub fn receipts(&self, indexes: &[u64]) -> NodeResult<Vec<Receipt>> {
        if let Some(witnessed) = self.witnessed() {
            if indexes.iter().all(|&i| i < witnessed.checkpoint.size) {
                return Ok(self.ledger().receipts_against(indexes, &witnessed)?);
            }
        }
        Ok(self.ledger().receipts(indexes)?)
    }

    /// The witnessing status.
    pub fn witnessing(&self) -> NodeResult<Witnessing> {
        let policy = self.witness_policy()?;
        let peers = self.peers()?;
        let state = self.cosigning.state.read().expect("cosigning lock");
        let witnesses = peers
            .iter()
            .filter_map(|peer| {
                let key = peer.witness_key.as_ref()?;
                Some(
                    state
                        .witnesses
                        .get(&key.to_string())
                        .cloned()
                        .unwrap_or_else(|| pending(peer, key)),
                )
            })
            .collect();
        Ok(Witnessing {
            quorum: policy.quorum,
            witnesses,
            witnessed_size: state.witnessed.as_ref().map(|w| w.checkpoint.size),
            witnessed_checkpoint: state.witnessed.as_ref().map(|w| w.note.clone()),
            alarm: state.alarm.clone(),
        })
    }

    /// Loads the witnessed checkpoint stored by an earlier run, if it still holds for
    /// this log: signed by its key and with the root the log has at that size. One that
    /// does not (a larger size than the log: the data directory was restored from an
    /// older copy) raises the alarm.
    pub(crate) fn load_witnessed(&self) -> NodeResult<()> {
        let Some(bytes) = self.trees.meta.get(WITNESSED_KEY)? else {
            return Ok(());
        };
        let note = String::from_utf8_lossy(&bytes).into_owned();
        let ledger = self.ledger();
        let held = verify_checkpoint(&note, ledger.verifier_key(), &[])
            .map_err(|e| e.to_string())
            .and_then(|v| {
                let size = v.checkpoint.size;
                match ledger.root(size) {
                    Ok(root) if root == v.checkpoint.root => Ok(v.checkpoint),
                    Ok(_) => Err(format!(
                        "the log's root at size {size} is not the one witnessed"
                    )),
                    Err(_) => Err(format!(
                        "it covers {size} entries; the log has {}",
                        ledger.published().checkpoint.size
                    )),
                }
            });
        let mut state = self.cosigning.state.write().expect("cosigning lock");
        match held {
            Ok(checkpoint) => state.witnessed = Some(Published { checkpoint, note }),
            Err(why) => {
                let alarm = format!(
                    "the last witnessed checkpoint stored here does not match this log ({why}): the log was rolled back or replaced"
                );
                tracing::error!(alarm, "ledger rollback");
                state.alarm = Some(alarm);
            }
        }
        Ok(())
    }

    /// Sends checkpoints to the witnesses until the node stops: a round whenever the
    /// log grows, peers change, or a failed witness is due for a retry.
    pub async fn run_witnessing(self: Arc<Self>) {
        let mut sizes = self.ledger().watch();
        let mut retry = Duration::from_secs(1);
        let mut last = tokio::time::Instant::now() - MIN_ROUND_GAP;
        loop {
            // Under load, one round per gap: every round costs each witness a durable
            // write, and a checkpoint that waits a little is still witnessed quickly.
            tokio::time::sleep_until(last + MIN_ROUND_GAP).await;
            last = tokio::time::Instant::now();
            let settled = match self.cosign_round().await {
                Ok(settled) => settled,
                Err(error) => {
                    tracing::error!(%error, "witnessing round failed");
                    false
                }
            };
            if settled {
                retry = Duration::from_secs(1);
                tokio::select! {
                    changed = sizes.changed() => if changed.is_err() { return },
                    () = self.cosigning.wake.notified() => {}
                }
            } else {
                tokio::select! {
                    changed = sizes.changed() => if changed.is_err() { return },
                    () = self.cosigning.wake.notified() => {}
                    () = tokio::time::sleep(retry) => retry = (retry * 2).min(MAX_RETRY),
                }
            }
        }
    }

    /// One round: the latest checkpoint to every witness that has not cosigned it.
    /// Returns whether every witness has (nothing to retry).
    pub async fn cosign_round(&self) -> NodeResult<bool> {
        let policy = self.witness_policy()?;
        let peers: Vec<Peer> = self
            .peers()?
            .into_iter()
            .filter(|p| p.witness_key.is_some())
            .collect();
        let published = self.ledger().published();
        let size = published.checkpoint.size;
        let mut note = Note::parse(published.note.as_bytes())
            .map_err(|e| super::NodeError::invalid_request(e.to_string()))?;
        {
            let mut state = self.cosigning.state.write().expect("cosigning lock");
            state.witnesses.retain(|key, _| {
                peers.iter().any(|p| {
                    p.witness_key.as_ref().map(ToString::to_string).as_deref() == Some(key)
                })
            });
            if peers.is_empty() {
                state.witnessed = None;
                return Ok(true);
            }
            // Nothing to do when every witness already cosigned the latest checkpoint.
            if let Some(witnessed) = &state.witnessed {
                if witnessed.checkpoint.size == size
                    && policy.cosigners(&witnessed.note).valid.len() == peers.len()
                {
                    return Ok(true);
                }
            }
        }
        let mut asked = tokio::task::JoinSet::new();
        for peer in peers {
            let key = peer.witness_key.clone().expect("filtered");
            let holds = {
                let state = self.cosigning.state.read().expect("cosigning lock");
                state.witnesses.get(&key.to_string()).and_then(|w| w.holds)
            };
            let client = self.http.clone();
            let ledger = self.ledger().clone();
            let published = published.clone();
            asked.spawn(async move {
                let answer = submit(&client, &ledger, &peer, &key, holds, &published).await;
                (peer, key, answer)
            });
        }
        let mut conflicts = Vec::new();
        let mut all_cosigned = true;
        while let Some(joined) = asked.join_next().await {
            let Ok((peer, key, answer)) = joined else {
                all_cosigned = false;
                continue;
            };
            let mut view = pending(&peer, &key);
            let at = now();
            match answer {
                Answer::Cosigned(line) => {
                    note.signatures
                        .retain(|s| !(s.name == line.name && s.key_id == line.key_id));
                    note.signatures.push(line);
                    view.state = "ok";
                    view.holds = Some(size);
                }
                Answer::Conflict { holds, detail } => {
                    all_cosigned = false;
                    conflicts.push(format!("{}: {detail}", key.name()));
                    view.state = "conflict";
                    view.holds = holds;
                    view.detail = Some(detail);
                }
                Answer::Unreachable(detail) => {
                    all_cosigned = false;
                    view.state = "unreachable";
                    view.detail = Some(detail);
                }
                Answer::Refused(detail) => {
                    all_cosigned = false;
                    view.state = "refused";
                    view.detail = Some(detail);
                }
            }
            let mut state = self.cosigning.state.write().expect("cosigning lock");
            let previous = state.witnesses.get(&view.key);
            view.since = match previous {
                Some(p) if p.state == view.state => p.since,
                _ => Some(at),
            };
            if view.holds.is_none() && view.state != "conflict" {
                view.holds = previous.and_then(|p| p.holds);
            }
            if previous.is_none_or(|p| p.state != view.state) && view.state != "ok" {
                tracing::warn!(
                    witness = view.name,
                    state = view.state,
                    detail = view.detail.as_deref().unwrap_or(""),
                    "witness"
                );
            }
            state.witnesses.insert(view.key.clone(), view);
        }
        let cosigned = note.to_string();
        let met = policy.met_by(&policy.cosigners(&cosigned));
        let mut state = self.cosigning.state.write().expect("cosigning lock");
        if !conflicts.is_empty() {
            let alarm = format!(
                "witnesses refuse this log's checkpoint of size {size}: {}. The log was rolled back or forked; no witnessed checkpoint is published",
                conflicts.join("; ")
            );
            if state.alarm.as_deref() != Some(alarm.as_str()) {
                tracing::error!(alarm, "ledger rollback or fork caught by witnesses");
            }
            state.alarm = Some(alarm);
            return Ok(false);
        }
        if state.alarm.is_some() && all_cosigned {
            tracing::info!("every witness cosigned again; the alarm is cleared");
            state.alarm = None;
        }
        if met && state.alarm.is_none() {
            let newer = state
                .witnessed
                .as_ref()
                .is_none_or(|w| w.checkpoint.size <= size);
            if newer {
                state.witnessed = Some(Published {
                    checkpoint: published.checkpoint.clone(),
                    note: cosigned.clone(),
                });
                drop(state);
                self.trees.meta.insert(WITNESSED_KEY, cosigned.as_bytes())?;
            }
        }
        Ok(all_cosigned)
    }
}

/// A witness not asked yet.
fn pending(peer: &Peer, key: &VerifierKey) -> WitnessView {
    WitnessView {
        name: key.name().to_owned(),
        key: key.to_string(),
        url: format!("{}/add-checkpoint", peer.url),
        state: "pending",
        holds: None,
        detail: None,
        since: None,
    }
}

/// Sends `published` to one witness, starting from the size it is known to hold (0 if
/// unknown, to learn it), and once more from the size a 409 names.
async fn submit(
    client: &reqwest::Client,
    ledger: &crate::ledger::Ledger,
    peer: &Peer,
    key: &VerifierKey,
    holds: Option<u64>,
    published: &Published,
) -> Answer {
    let size = published.checkpoint.size;
    let mut old = holds.unwrap_or(0);
    for _ in 0..2 {
        if old > size {
            return Answer::Conflict {
                holds: Some(old),
                detail: format!(
                    "it holds size {old} of this log, larger than the {size} the log has now"
                ),
            };
        }
        let proof = match ledger.consistency_proof(old, size) {
            Ok(proof) if old < size => proof,
            Ok(_) => Vec::new(),
            Err(e) => return Answer::Refused(format!("no consistency proof from {old}: {e}")),
        };
        let body = witness::request_body(old, &proof, &published.note);
        let response = match client
            .post(format!("{}/add-checkpoint", peer.url))
            .timeout(SUBMIT_TIMEOUT)
            .body(body)
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) => return Answer::Unreachable(e.to_string()),
        };
        let status = response.status().as_u16();
        let answer = match read_limited(response, MAX_ANSWER).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => return Answer::Refused(e),
        };
        let text = published
            .note
            .split_once("\n\n")
            .map(|(t, _)| format!("{t}\n"))
            .unwrap_or_default();
        match status {
            200 => {
                return match witness::read_cosignature(&answer, &text, key) {
                    Ok(line) => Answer::Cosigned(line),
                    Err(e) => Answer::Refused(e),
                }
            }
            409 => match answer.trim_end_matches('\n').parse::<u64>() {
                Ok(held) => old = held,
                Err(_) => return Answer::Refused(format!("409 without a size: {answer:.200}")),
            },
            422 => {
                return Answer::Conflict {
                    holds: Some(old),
                    detail: format!(
                        "it finds this log's tree of size {size} inconsistent with the size {old} it cosigned ({})",
                        excerpt(&answer)
                    ),
                }
            }
            _ => return Answer::Refused(format!("answered {status}: {}", excerpt(&answer))),
        }
    }
    Answer::Refused(format!("it kept changing the size it holds (last {old})"))
}

/// The detail of a problem answer, or the start of any other.
fn excerpt(answer: &str) -> String {
    serde_json::from_str::<serde_json::Value>(answer)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
        .unwrap_or_else(|| answer.chars().take(200).collect())
}
