//! Reviewing across nodes. A reviewer whose account and badges live on this node
//! reviews a batch registered on a peer: this node fetches the batch and its protocol
//! from the peer (checking both against the peer's log key and this node's mirror of
//! that log), signs and logs the attestation in its own log, and sends the peer a
//! [`PeerReview`]: the attestation, the badges it cites and their status lists, each
//! with its receipt from this node's log against a witnessed checkpoint.
//!
//! The producer's node takes a review only from a peer, checks every receipt against
//! that peer's log key and its own mirror of the log (a split view is refused), checks
//! the whole by the offline bundle verifier with the review added (signatures, that the
//! badges were valid and logged before the attestation, qualification and
//! independence judged on community DIDs), logs the attestation in its own log, and
//! recomputes the verdict. The batch's bundles then carry the review with its receipts
//! from the reviewer's log.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use guildmark_credentials::checkpoint::Checkpoint;
use guildmark_credentials::note::VerifierKey;
use guildmark_credentials::{KnownKeys, VerifyOptions};
use guildmark_review_protocols::evaluation::Rule;
use guildmark_review_protocols::provenance::{verify_bundle, Bundle, Logged};
use guildmark_review_protocols::registration::BatchRegistration;
use guildmark_review_protocols::Protocol;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::account::Caller;
use super::attestation::{check_results, AttestRequest, Unsigned};
use super::badge::{issuer_of, CredentialKind, CredentialRecord};
use super::batch::BatchRecord;
use super::endorsement::uuid_of;
use super::error::{Field, Thing};
use super::peer::{read_limited, Peer};
use super::{key, now, read, scan, write, Node, NodeError, NodeResult};
use crate::ledger::entry::EntryKind;

/// How long the reviewer's node waits for its attestation's entry to be witnessed
/// before it sends the review anyway (the producer's buyers' policy then decides).
pub const WITNESS_WAIT: Duration = Duration::from_secs(10);

/// The largest answer read from a peer while reviewing (a bundle).
const MAX_PEER_ANSWER: usize = 8 * 1024 * 1024;

/// An attestation logged on the reviewer's node, with what checking it needs from that
/// node's log. Sent to the producer's node (`POST /api/v1/batches/{uuid}/reviews`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerReview {
    /// The verifier key of the reviewer's node's log, where every receipt below leads.
    #[schema(value_type = String)]
    pub log: VerifierKey,
    /// The attestation.
    #[schema(value_type = Object)]
    pub attestation: Logged,
    /// The badges it cites.
    #[schema(value_type = Vec<Object>)]
    pub badges: Vec<Logged>,
    /// Those badges' status lists.
    #[schema(value_type = Vec<Object>)]
    pub status_lists: Vec<Logged>,
}

impl PeerReview {
    fn all(&self) -> impl Iterator<Item = &Logged> {
        std::iter::once(&self.attestation)
            .chain(&self.badges)
            .chain(&self.status_lists)
    }
}

/// What the producer's node answered.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewAccepted {
    /// The attestation's id.
    pub attestation: String,
    /// The batch's verdict now.
    pub verdict: String,
    /// The batch's evaluation.
    #[schema(value_type = Object)]
    pub evaluation: Value,
}

/// A review of a batch on a peer node, as the reviewer submits it to their own node.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerReviewRequest {
    /// The batch's URL on the peer (`https://peer/batches/<uuid>`).
    pub batch: String,
    /// Serial numbers of the units inspected.
    pub sampled: Option<Vec<String>>,
    /// Each step's result on each unit.
    #[schema(value_type = Option<Vec<Object>>)]
    pub results: Option<Vec<guildmark_review_protocols::StepResult>>,
    /// The reviewer's own verdict.
    #[schema(value_type = Option<String>)]
    pub verdict: Option<guildmark_review_protocols::ReviewerVerdict>,
    /// An attestation credential signed by the reviewer's own key.
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Value>,
}

/// A batch on a peer, as fetched and checked.
pub struct PeerBatch {
    /// The peer.
    pub peer: Peer,
    /// The batch's UUID there.
    pub uuid: String,
    /// The batch registration (logged on the peer).
    pub batch: Logged,
    /// Its protocol (logged on the peer).
    pub protocol: Logged,
}

impl Node {
    /// The batch at `url` on a peer, fetched and checked against the peer's log.
    pub async fn peer_batch(&self, url: &str) -> NodeResult<PeerBatch> {
        let url = url.trim().trim_end_matches('/');
        let (base, uuid) = url
            .rsplit_once("/batches/")
            .filter(|(_, uuid)| !uuid.is_empty() && !uuid.contains('/'))
            .ok_or_else(|| {
                NodeError::invalid(
                    Field::Target,
                    format!("{url:?} is not a batch URL (…/batches/<uuid>)"),
                )
            })?;
        let base = base.trim_end_matches("/api/v1");
        let peer = self
            .peers()?
            .into_iter()
            .find(|p| p.url == base)
            .ok_or_else(|| {
                NodeError::invalid(
                    Field::Target,
                    format!("{base} is not a peer of this node; its operator adds it first"),
                )
            })?;
        let view: Value = self
            .peer_json(&peer, &format!("api/v1/batches/{uuid}"))
            .await?;
        let serial = view["serials"]
            .as_array()
            .and_then(|s| s.first())
            .and_then(Value::as_str)
            .ok_or_else(|| peer_failed(&peer, "its batch has no serial numbers"))?
            .to_owned();
        let bundle: Bundle = serde_json::from_value(
            self.peer_json(&peer, &format!("api/v1/devices/{serial}/bundle"))
                .await?,
        )
        .map_err(|e| peer_failed(&peer, format!("its bundle does not read: {e}")))?;
        for (what, logged) in [("batch", &bundle.batch), ("protocol", &bundle.protocol)] {
            self.check_peer_logged(&peer, logged)
                .await
                .map_err(|e| peer_failed(&peer, format!("its {what}: {e}")))?;
        }
        if bundle.batch.credential["credentialSubject"]["id"].as_str() != Some(url) {
            return Err(peer_failed(&peer, "it served another batch"));
        }
        Ok(PeerBatch {
            peer,
            uuid: uuid.to_owned(),
            batch: bundle.batch,
            protocol: bundle.protocol,
        })
    }

    /// A credential logged on `peer`: its signature, its receipt under the peer's log
    /// key, and that checkpoint against this node's mirror of the log.
    async fn check_peer_logged(&self, peer: &Peer, logged: &Logged) -> Result<(), String> {
        let keys = KnownKeys::default();
        let verification = guildmark_credentials::verify_credential(
            &logged.credential,
            &VerifyOptions::new(now(), self.contexts(), &keys),
        );
        if !verification.report.verified {
            return Err(format!("does not verify:\n{}", verification.report));
        }
        let checkpoint = logged
            .receipt
            .verify(&logged.entry_bytes(), &peer.log_key, &[])
            .map_err(|e| format!("its receipt: {e}"))?
            .checkpoint;
        self.check_against_mirror(peer, &checkpoint).await
    }

    /// Whether `checkpoint` of a peer's log is the tree this node mirrors (following the
    /// peer once more if the mirror is behind): a peer showing this node another tree
    /// than the one it publishes is caught here.
    async fn check_against_mirror(
        &self,
        peer: &Peer,
        checkpoint: &Checkpoint,
    ) -> Result<(), String> {
        let mirror = self
            .mirror(peer.origin())
            .map_err(|e| e.to_string())?
            .ok_or("no mirror")?;
        if mirror.size() < checkpoint.size {
            self.follow_and_record(peer).await;
        }
        let root = mirror.root(checkpoint.size).map_err(|_| {
            format!(
                "its checkpoint of size {} is beyond what this node could mirror of the log ({}): it is not published",
                checkpoint.size,
                mirror.size()
            )
        })?;
        if root != checkpoint.root {
            return Err(format!(
                "a split view: its checkpoint of size {} has root {}, the published log has {root}",
                checkpoint.size, checkpoint.root
            ));
        }
        Ok(())
    }

    async fn peer_json(&self, peer: &Peer, path: &str) -> NodeResult<Value> {
        let response = self
            .http
            .get(format!("{}/{path}", peer.url))
            .send()
            .await
            .map_err(|e| peer_failed(peer, format!("could not be reached: {e}")))?;
        let status = response.status();
        let bytes = read_limited(response, MAX_PEER_ANSWER)
            .await
            .map_err(|e| peer_failed(peer, e))?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| peer_failed(peer, format!("/{path} answered {status} with no JSON")))?;
        if !status.is_success() {
            return Err(peer_failed(
                peer,
                format!(
                    "/{path} answered {status}: {}",
                    value["detail"].as_str().unwrap_or("no detail")
                ),
            ));
        }
        Ok(value)
    }

    /// The caller (a reviewer on this node) reviews a batch on a peer; see the module
    /// documentation. Returns what the producer's node answered.
    pub async fn review_on_peer(
        &self,
        caller: Option<&Caller>,
        request: PeerReviewRequest,
    ) -> NodeResult<ReviewAccepted> {
        let permit = self.permit_attest(caller)?;
        let reviewer = permit.account();
        let remote = self.peer_batch(&request.batch).await?;
        let protocol = Protocol::from_credential(&remote.protocol.credential)
            .map_err(|e| peer_failed(&remote.peer, format!("its protocol does not read: {e}")))?;
        let registration = BatchRegistration::from_credential(&remote.batch.credential)
            .map_err(|e| peer_failed(&remote.peer, format!("its batch does not read: {e}")))?;
        let producer = issuer_of(&remote.batch.credential).to_owned();
        let producer_keys = self.keys_of_community(&remote.peer, &producer)?;
        let producer_name = self
            .peer_community_name(&remote.peer, &producer)?
            .unwrap_or_else(|| producer.clone());
        let keys: BTreeSet<&str> = producer_keys.iter().map(String::as_str).collect();
        let qualifying = self.qualifying_badges_of(reviewer, &producer_name, &keys, &protocol)?;
        let request = AttestRequest {
            sampled: request.sampled,
            results: request.results,
            verdict: request.verdict,
            credential: request.credential,
        };
        let at = now();
        // The batch's URL: what attestations name as their subject.
        let batch_id = remote.batch.credential["credentialSubject"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let credential = match request.credential.clone() {
            Some(credential) => {
                if request.sampled.is_some()
                    || request.results.is_some()
                    || request.verdict.is_some()
                {
                    return Err(NodeError::invalid_request(
                        "give either the results (the node signs) or a signed credential, not both",
                    ));
                }
                self.check_signed_attestation(reviewer, &credential, &qualifying)?;
                credential
            }
            None => self.sign_attestation(
                Unsigned {
                    reviewer,
                    batch: &batch_id,
                    protocol: &protocol,
                    qualifying: &qualifying,
                },
                &request,
                at,
            )?,
        };
        check_results(&credential, &registration, &producer, &protocol)?;
        let id = credential["id"].as_str().unwrap_or_default().to_owned();
        let receipt = self
            .log(EntryKind::Credential, &credential, Some(&id), at)
            .await?;
        let review = self
            .peer_review(credential, receipt.index, at, &qualifying)
            .await?;
        tracing::info!(
            batch = batch_id,
            attestation = id,
            "review logged; sending it to the producer's node"
        );
        let response = self
            .http
            .post(format!(
                "{}/api/v1/batches/{}/reviews",
                remote.peer.url, remote.uuid
            ))
            .json(&review)
            .send()
            .await
            .map_err(|e| peer_failed(&remote.peer, format!("could not be reached: {e}")))?;
        let status = response.status();
        let bytes = read_limited(response, MAX_PEER_ANSWER)
            .await
            .map_err(|e| peer_failed(&remote.peer, e))?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(peer_failed(
                &remote.peer,
                format!(
                    "it refused the review ({status}): {}",
                    answer["detail"].as_str().unwrap_or("no detail")
                ),
            ));
        }
        serde_json::from_value(answer)
            .map_err(|e| peer_failed(&remote.peer, format!("its answer does not read: {e}")))
    }

    /// The review to send: the attestation logged at `index`, its cited badges and
    /// their status lists, with receipts against one checkpoint — the witnessed one
    /// once it covers the attestation (waiting up to [`WITNESS_WAIT`]).
    async fn peer_review(
        &self,
        credential: Value,
        index: u64,
        at: guildmark_credentials::Timestamp,
        qualifying: &[CredentialRecord],
    ) -> NodeResult<PeerReview> {
        let started = Instant::now();
        while !self.witness_policy()?.witnesses.is_empty()
            && self.witnessed().is_none_or(|w| w.checkpoint.size <= index)
            && started.elapsed() < WITNESS_WAIT
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cited: BTreeSet<&str> = credential["credentialSubject"]["qualification"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut parts: Vec<(EntryKind, guildmark_credentials::Timestamp, Value, u64)> =
            vec![(EntryKind::Credential, at, credential.clone(), index)];
        let mut lists = Vec::new();
        let mut list_urls: Vec<String> = Vec::new();
        for badge in qualifying.iter().filter(|b| {
            b.credential["id"]
                .as_str()
                .is_some_and(|id| cited.contains(id))
        }) {
            for list in self.lists_for(&badge.credential) {
                let url = list["id"].as_str().unwrap_or_default().to_owned();
                if list_urls.contains(&url) {
                    continue;
                }
                let (list_index, time) = self.list_entry(&url)?;
                list_urls.push(url);
                lists.push((EntryKind::StatusList, time, list, list_index));
            }
            parts.push((
                EntryKind::Credential,
                badge.issued,
                badge.credential.clone(),
                badge.ledger_index,
            ));
        }
        let badge_count = parts.len() - 1;
        parts.extend(lists);
        let indexes: Vec<u64> = parts.iter().map(|p| p.3).collect();
        let receipts = self.receipts(&indexes)?;
        let mut logged: Vec<Logged> = parts
            .into_iter()
            .zip(receipts)
            .map(|((kind, time, credential, _), receipt)| Logged {
                kind: super::provenance::kind_name(&kind),
                time,
                credential: Arc::new(credential),
                receipt,
            })
            .collect();
        let status_lists = logged.split_off(1 + badge_count);
        let badges = logged.split_off(1);
        Ok(PeerReview {
            log: self.ledger().verifier_key().clone(),
            attestation: logged.remove(0),
            badges,
            status_lists,
        })
    }

    /// Takes a review of batch `uuid` from a peer's reviewer; see the module
    /// documentation.
    pub async fn accept_peer_review(
        &self,
        uuid: &str,
        review: PeerReview,
    ) -> NodeResult<(CredentialRecord, BatchRecord)> {
        let peer = self
            .peer(review.log.name())?
            .filter(|p| p.log_key == review.log)
            .ok_or_else(|| NodeError::Forbidden {
                action: super::authz::Action::Attest,
                detail: format!(
                    "the log {} is not a peer's: this node takes reviews only from its peers",
                    review.log
                ),
            })?;
        let batch = self.batch(uuid)?;
        for (i, logged) in review.all().enumerate() {
            let what = if i == 0 {
                "the attestation"
            } else {
                "a cited credential"
            };
            let checkpoint = logged
                .receipt
                .verify(&logged.entry_bytes(), &peer.log_key, &[])
                .map_err(|e| {
                    NodeError::invalid(
                        Field::Credential,
                        format!("{what}: its receipt does not verify: {e}"),
                    )
                })?
                .checkpoint;
            self.check_against_mirror(&peer, &checkpoint)
                .await
                .map_err(|e| NodeError::conflict(Thing::Credential, format!("{what}: {e}")))?;
        }
        let credential = (*review.attestation.credential).clone();
        let id = credential["id"].as_str().unwrap_or_default().to_owned();
        if review.attestation.kind != "credential"
            || credential["credentialSubject"]["id"] != batch.url()
        {
            return Err(NodeError::invalid(
                Field::Credential,
                format!("the attestation is not about batch {}", batch.url()),
            ));
        }
        let producer = self.community(&batch.community)?;
        let protocol = self.protocol(&batch.protocol)?.protocol()?;
        check_results(
            &credential,
            &batch.registration()?,
            producer.issuer(),
            &protocol,
        )?;

        let _guard = self.review_lock.lock().await;
        let reviewer = issuer_of(&credential).to_owned();
        for earlier in &batch.attestations {
            let earlier = self.credential(earlier)?;
            if issuer_of(&earlier.credential) == reviewer {
                return Err(NodeError::conflict(
                    Thing::Credential,
                    format!("{reviewer} already attested this batch; an attestation cannot be replaced or repeated"),
                ));
            }
        }
        // The whole, checked as a buyer's verifier will: the review's own credentials
        // and receipts must hold (the verdict may be anything).
        let serial = batch.serials.first().cloned().unwrap_or_default();
        let mut candidate = self.assemble_bundle(&batch, &serial)?;
        let ours = ReviewPlaces::of(&candidate, &review);
        add_review(&mut candidate, &review);
        let verification = verify_bundle(&candidate, None, self.contexts(), candidate.assembled_at);
        let new = ours.failures(&verification.report);
        if !new.is_empty() {
            return Err(NodeError::invalid(
                Field::Credential,
                format!("the review does not check:\n{}", new.join("\n")),
            ));
        }
        if let Some(outcome) = verification
            .evaluation
            .as_ref()
            .and_then(|e| e.attestations.iter().find(|a| a.id == id))
        {
            for finding in &outcome.findings {
                match finding.rule {
                    Rule::Qualification => {
                        return Err(NodeError::NotQualified(finding.message.clone()))
                    }
                    Rule::Independence => {
                        return Err(NodeError::NotIndependent(finding.message.clone()))
                    }
                    _ => {}
                }
            }
        }
        drop(_guard);

        let at = now();
        let _ids = self.credential_ids.lock().await;
        self.free_credential_uuid_at(&peer.url, &id, "attestation")?;
        let receipt = self
            .log(EntryKind::Credential, &credential, Some(&id), at)
            .await?;
        let record = CredentialRecord {
            uuid: uuid_of(&id),
            kind: CredentialKind::Attestation,
            community: None,
            account: None,
            subject: batch.uuid.clone(),
            slot: None,
            ledger_index: receipt.index,
            valid_until: None,
            issued: at,
            credential,
        };
        write(
            &self.trees.peer_reviews,
            &key(&[&batch.uuid, &record.uuid]),
            &review,
        )?;
        let _guard = self.review_lock.lock().await;
        self.store_attestation(&record)?;
        let mut batch = self.batch(&batch.uuid)?;
        self.refresh_verdict_locked(&mut batch).await?;
        tracing::info!(
            batch = batch.uuid,
            attestation = id,
            peer = peer.url,
            "a peer's review was taken in"
        );
        Ok((record, batch))
    }

    /// Takes in the status lists a peer just logged (`entries` with their indexes, as
    /// the mirror verified them): every peer review citing a badge on such a list gets
    /// the new list, with its receipt from the mirror, and its batch's verdict is
    /// recomputed — a revocation on the reviewer's node reaches the producer's.
    pub(crate) async fn take_new_status(
        &self,
        peer: &Peer,
        entries: &[(u64, crate::ledger::entry::LedgerEntry)],
    ) -> NodeResult<()> {
        let mut lists = Vec::new();
        for (index, entry) in entries {
            if entry.kind == EntryKind::StatusList {
                if let Some(id) = entry.payload["id"].as_str() {
                    lists.push((id.to_owned(), *index, entry));
                }
            }
        }
        if lists.is_empty() {
            return Ok(());
        }
        let Some(mirror) = self.mirror(peer.origin())? else {
            return Ok(());
        };
        let mut batches = BTreeSet::new();
        for item in self.trees.peer_reviews.iter() {
            let (key, value) = item?;
            let mut review: PeerReview = serde_json::from_slice(&value)?;
            if review.log != peer.log_key {
                continue;
            }
            let mut changed = false;
            for held in &mut review.status_lists {
                let id = held.credential["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                // The latest entry of that list.
                let Some((_, index, entry)) = lists.iter().rev().find(|(l, _, _)| *l == id) else {
                    continue;
                };
                let receipt = mirror.receipts(&[*index])?.remove(0);
                *held = Logged {
                    kind: super::provenance::kind_name(&EntryKind::StatusList),
                    time: entry.time,
                    credential: Arc::new(entry.payload.clone()),
                    receipt,
                };
                changed = true;
            }
            if changed {
                self.trees
                    .peer_reviews
                    .insert(&key, serde_json::to_vec(&review)?)?;
                let batch =
                    String::from_utf8_lossy(key.split(|b| *b == 0).next().unwrap_or_default())
                        .into_owned();
                batches.insert(batch);
            }
        }
        for uuid in batches {
            let _guard = self.review_lock.lock().await;
            let mut batch = self.batch(&uuid)?;
            self.refresh_verdict_locked(&mut batch).await?;
            tracing::info!(batch = uuid, peer = peer.url, verdict = %batch.verdict, "a peer's status list changed; verdict recomputed");
        }
        Ok(())
    }

    /// The reviews of batch `uuid` that came from peers.
    pub(crate) fn peer_reviews(&self, uuid: &str) -> NodeResult<Vec<PeerReview>> {
        scan(&self.trees.peer_reviews, &key(&[uuid, ""]))
    }

    /// The review of attestation `attestation` (a UUID) of batch `uuid`, if from a peer.
    pub(crate) fn peer_review_of(
        &self,
        uuid: &str,
        attestation: &str,
    ) -> NodeResult<Option<PeerReview>> {
        read(&self.trees.peer_reviews, &key(&[uuid, attestation]))
    }
}

/// Where a review's parts land in a bundle, to pick out the checks about them.
struct ReviewPlaces {
    /// Check names that concern the review's parts (`attestations[3]`, `badges[5]`, …).
    names: Vec<String>,
    /// The ids of its credentials (their nested reports).
    ids: BTreeSet<String>,
}

impl ReviewPlaces {
    /// The places `review` will take when added to `bundle`.
    fn of(bundle: &Bundle, review: &PeerReview) -> ReviewPlaces {
        let id = |l: &Logged| l.credential["id"].as_str().unwrap_or_default().to_owned();
        let mut names = vec![format!("attestations[{}]", bundle.attestations.len())];
        let mut badges = bundle.badges.len();
        for badge in &review.badges {
            if let Some(at) = bundle.badges.iter().position(|b| id(b) == id(badge)) {
                names.push(format!("badges[{at}]"));
            } else {
                names.push(format!("badges[{badges}]"));
                badges += 1;
            }
        }
        let mut lists = bundle.status_lists.len();
        for list in &review.status_lists {
            if let Some(at) = bundle.status_lists.iter().position(|l| id(l) == id(list)) {
                names.push(format!("statusLists[{at}]"));
            } else {
                names.push(format!("statusLists[{lists}]"));
                lists += 1;
            }
        }
        ReviewPlaces {
            names,
            ids: review.all().map(id).collect(),
        }
    }

    /// The failed checks about the review's parts: named after one of its places, the
    /// bundle-wide receipt and content checks, and any check of its credentials' own
    /// reports.
    fn failures(&self, report: &guildmark_credentials::Report) -> Vec<String> {
        let ours = |name: &str| {
            matches!(name, "receipts" | "contents" | "format")
                || self.names.iter().any(|n| {
                    name == n
                        || name.starts_with(&format!("{n} "))
                        || name.starts_with(&format!("{n}:"))
                })
        };
        let mut out: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.outcome == guildmark_credentials::Outcome::Failed && ours(&c.check))
            .map(|c| format!("{}: {}", c.check, c.reason))
            .collect();
        for nested in &report.documents {
            if nested.id.as_ref().is_some_and(|id| self.ids.contains(id)) {
                out.extend(
                    nested
                        .checks
                        .iter()
                        .filter(|c| c.outcome != guildmark_credentials::Outcome::Passed)
                        .map(|c| {
                            format!(
                                "{}: {}: {}",
                                nested.id.as_deref().unwrap_or(""),
                                c.check,
                                c.reason
                            )
                        }),
                );
            }
        }
        out
    }
}

/// `review`'s parts added to `bundle` (after what it holds; credentials it already
/// carries are not repeated).
pub(crate) fn add_review(bundle: &mut Bundle, review: &PeerReview) {
    if !bundle.logs.contains(&review.log) {
        bundle.logs.push(review.log.clone());
    }
    bundle.attestations.push(review.attestation.clone());
    let id = |l: &Logged| l.credential["id"].as_str().unwrap_or_default().to_owned();
    for badge in &review.badges {
        if !bundle.badges.iter().any(|b| id(b) == id(badge)) {
            bundle.badges.push(badge.clone());
        }
    }
    for list in &review.status_lists {
        if !bundle.status_lists.iter().any(|l| id(l) == id(list)) {
            bundle.status_lists.push(list.clone());
        }
    }
}

fn peer_failed(peer: &Peer, detail: impl Into<String>) -> NodeError {
    NodeError::Peer {
        url: peer.url.clone(),
        detail: detail.into(),
    }
}
