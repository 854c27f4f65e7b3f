//! Review attestations: a reviewer's signed results for a batch, signed by the node with
//! the reviewer's node-held key or uploaded signed by their own. The node accepts one only
//! if its signature verifies, the reviewer holds a qualifying badge now, is independent of
//! the producer, and the results parse against the protocol — never because of what the
//! results say: failing results are logged like passing ones.

use std::collections::BTreeSet;

use guildmark_credentials::{KnownKeys, Timestamp, VerifyOptions};
use guildmark_review_protocols::attestation::{ProtocolReference, SUBJECT_TYPE};
use guildmark_review_protocols::registration::BatchRegistration;
use guildmark_review_protocols::{Protocol, ReviewClaims, ReviewerVerdict, StepResult};
use serde::Deserialize;
use serde_json::Value;

use super::account::{Account, Caller};
use super::authz::Action;
use super::badge::{issuer_of, CredentialKind, CredentialRecord, Standing};
use super::batch::BatchRecord;
use super::community::Community;
use super::endorsement::uuid_of;
use super::error::{Field, Thing};
use super::protocol::too_large;
use super::{key, now, Node, NodeError, NodeResult};
use crate::ledger::entry::EntryKind;

/// What the node signs an attestation for: who, which batch, under which protocol, and
/// the badges it cites.
pub(crate) struct Unsigned<'a> {
    pub reviewer: &'a Account,
    /// The batch's id (its URL, on this node or a peer).
    pub batch: &'a str,
    pub protocol: &'a Protocol,
    pub qualifying: &'a [CredentialRecord],
}

/// Refuses an attestation whose results do not read under the batch's protocol (unknown
/// steps, units not sampled, values of the wrong kind): never because of what they say.
pub(crate) fn check_results(
    credential: &Value,
    registration: &BatchRegistration,
    producer: &str,
    protocol: &Protocol,
) -> NodeResult<()> {
    let claims = ReviewClaims::from_credential(credential)
        .map_err(|e| NodeError::invalid(Field::Credential, e.to_string()))?;
    let facts = registration
        .to_batch(producer)
        .map_err(|e| NodeError::stored("batch credential")(e.into()))?;
    claims.check(protocol, &facts).map_err(|problems| {
        NodeError::invalid(
            Field::Results,
            format!(
                "the attestation does not read under {} {}:\n{}",
                protocol.id,
                protocol.version,
                problems.join("\n")
            ),
        )
    })
}

/// An attestation to submit: either the results (the node signs with the reviewer's
/// node-held key) or a credential the reviewer signed with `guildmark sign`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestRequest {
    /// Serial numbers of the units inspected.
    pub sampled: Option<Vec<String>>,
    /// Each step's result on each unit: `{"serial", "step", "value": "11.8 mA"}`,
    /// `{…, "passed": true}` or `{…, "note": "…"}`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub results: Option<Vec<StepResult>>,
    /// The reviewer's own verdict.
    #[schema(value_type = Option<String>)]
    pub verdict: Option<ReviewerVerdict>,
    /// An attestation credential signed by the reviewer's own key.
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Value>,
}

impl Node {
    /// Submits the caller's attestation of batch `uuid` (reviewers), logs it and
    /// recomputes the batch's verdict.
    pub async fn attest(
        &self,
        caller: Option<&Caller>,
        uuid: &str,
        request: AttestRequest,
    ) -> NodeResult<(CredentialRecord, BatchRecord)> {
        let batch = self.batch(uuid)?;
        let permit = self.permit_attest(caller)?;
        let reviewer = permit.account();
        let protocol = self.protocol(&batch.protocol)?.protocol()?;
        let producer = self.community(&batch.community)?;
        let qualifying = self.qualifying_badges(reviewer, &producer, &protocol)?;
        let at = now();
        let credential = match (&request.credential, &request.results) {
            (Some(_), _)
                if request.sampled.is_some()
                    || request.results.is_some()
                    || request.verdict.is_some() =>
            {
                return Err(NodeError::invalid_request(
                    "give either the results (the node signs) or a signed credential, not both",
                ))
            }
            (Some(credential), _) => {
                self.check_signed_attestation(reviewer, credential, &qualifying)?;
                credential.clone()
            }
            (None, Some(_)) => {
                let unsigned = Unsigned {
                    reviewer,
                    batch: batch.url(),
                    protocol: &protocol,
                    qualifying: &qualifying,
                };
                self.sign_attestation(unsigned, &request, at)?
            }
            (None, None) => {
                return Err(NodeError::invalid(
                    Field::Results,
                    "give sampled, results and verdict (the node signs with your key), or a credential you signed",
                ))
            }
        };
        check_results(
            &credential,
            &batch.registration()?,
            producer.issuer(),
            &protocol,
        )?;
        self.log_attestation(reviewer, &batch, credential, at).await
    }

    /// The reviewer's badges that qualify them under `protocol`, after checking that
    /// they are independent of the producing community (neither a member nor holding
    /// any of its badges).
    fn qualifying_badges(
        &self,
        reviewer: &Account,
        producer: &Community,
        protocol: &Protocol,
    ) -> NodeResult<Vec<CredentialRecord>> {
        if self.member(&producer.slug, &reviewer.username)?.is_some() {
            return Err(NodeError::NotIndependent(format!(
                "{} is a member of {}, which produced this batch; its batches are reviewed by other communities",
                reviewer.username, producer.name
            )));
        }
        let producer_keys: BTreeSet<&str> =
            producer.issuers.iter().map(|e| e.did.as_str()).collect();
        self.qualifying_badges_of(reviewer, &producer.name, &producer_keys, protocol)
    }

    /// The reviewer's badges that qualify them under `protocol`, refusing a reviewer who
    /// holds a badge issued by any of the producer's keys (`producer_keys`; the producer
    /// may be a community on a peer node).
    pub(crate) fn qualifying_badges_of(
        &self,
        reviewer: &Account,
        producer_name: &str,
        producer_keys: &BTreeSet<&str>,
        protocol: &Protocol,
    ) -> NodeResult<Vec<CredentialRecord>> {
        let mut qualifying = Vec::new();
        for badge in self.badges_of(&reviewer.username)? {
            if producer_keys.contains(issuer_of(&badge.credential)) {
                return Err(NodeError::NotIndependent(format!(
                    "{} holds a badge of {}, which produced this batch ({}); its batches are reviewed by people independent of it",
                    reviewer.username, producer_name, badge.subject
                )));
            }
            let mine =
                badge.credential["credentialSubject"]["id"].as_str() == Some(&reviewer.holder);
            if mine
                && protocol.reviewers.achievements.contains(&badge.subject)
                && self.standing(&badge)? == Standing::Active
            {
                qualifying.push(badge);
            }
        }
        if qualifying.is_empty() {
            return Err(NodeError::NotQualified(format!(
                "{} holds no valid badge for any of the achievements this protocol requires of reviewers: {}",
                reviewer.username,
                protocol.reviewers.achievements.join(", ")
            )));
        }
        Ok(qualifying)
    }

    /// The attestation of `request`'s results, signed with the reviewer's node-held key
    /// and citing their qualifying badges.
    pub(crate) fn sign_attestation(
        &self,
        unsigned: Unsigned<'_>,
        request: &AttestRequest,
        at: Timestamp,
    ) -> NodeResult<Value> {
        let Some(key_pair) = self.holder_key(unsigned.reviewer)? else {
            return Err(NodeError::invalid(
                Field::Credential,
                "you registered your own key: sign the attestation with `guildmark sign` and upload it as `credential`",
            ));
        };
        let (Some(sampled), Some(results), Some(verdict)) =
            (&request.sampled, &request.results, request.verdict)
        else {
            let missing = if request.sampled.is_none() {
                Field::Sampled
            } else {
                Field::Verdict
            };
            return Err(NodeError::invalid(
                missing,
                "an attestation needs sampled, results and verdict",
            ));
        };
        let protocol = unsigned.protocol;
        let claims = ReviewClaims {
            id: unsigned.batch.to_owned(),
            type_: SUBJECT_TYPE.into(),
            protocol: ProtocolReference {
                id: protocol.urn(),
                digest: protocol.hash(),
            },
            sampled: sampled.clone(),
            results: results.clone(),
            verdict,
            qualification: unsigned
                .qualifying
                .iter()
                .filter_map(|b| b.credential["id"].as_str().map(str::to_owned))
                .collect(),
        };
        let id = format!("{}/credentials/{}", self.public_url(), uuid::Uuid::new_v4());
        let mut document = claims.to_credential(&id, &unsigned.reviewer.holder, at);
        self.sign(&mut document, &key_pair, at, "attestation")?;
        Ok(document)
    }

    /// Logs an accepted attestation, stores its record and recomputes the batch's
    /// verdict (under the review lock: a verdict comes from a settled set).
    async fn log_attestation(
        &self,
        reviewer: &Account,
        batch: &BatchRecord,
        credential: Value,
        at: Timestamp,
    ) -> NodeResult<(CredentialRecord, BatchRecord)> {
        let id = credential["id"].as_str().unwrap_or_default().to_owned();
        let _guard = self.review_lock.lock().await;
        let _ids = self.credential_ids.lock().await;
        // Under the locks, for an uploaded attestation that chose its id: still free?
        // (The node's own ids are new UUIDs.)
        self.free_credential_uuid(&id, "attestation")?;
        self.first_attestation_of(reviewer, &batch.uuid)?;
        let receipt = self
            .log(EntryKind::Credential, &credential, Some(&id), at)
            .await
            .map_err(too_large(
                "attestation",
                Thing::Credential,
                Some(Field::Results),
            ))?;
        let record = CredentialRecord {
            uuid: uuid_of(&id),
            kind: CredentialKind::Attestation,
            community: None,
            account: Some(reviewer.username.clone()),
            subject: batch.uuid.clone(),
            slot: None,
            ledger_index: receipt.index,
            valid_until: None,
            issued: at,
            credential,
        };
        self.store_attestation(&record)?;
        let mut batch = self.batch(&batch.uuid)?;
        self.refresh_verdict_locked(&mut batch).await?;
        Ok((record, batch))
    }

    /// Refuses a reviewer's second attestation of a batch: the ledger keeps the first for
    /// good, and two would count one reviewer twice.
    fn first_attestation_of(&self, reviewer: &Account, batch: &str) -> NodeResult<()> {
        for uuid in &self.batch(batch)?.attestations {
            let earlier = self.credential(uuid)?;
            if earlier.account.as_deref() == Some(reviewer.username.as_str()) {
                return Err(NodeError::conflict(
                    Thing::Credential,
                    format!(
                        "{} already attested this batch ({}); an attestation cannot be replaced or repeated",
                        reviewer.username,
                        earlier.credential["id"].as_str().unwrap_or(uuid)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks an uploaded attestation: it verifies, is signed by the reviewer's own key,
    /// has a fresh id, and cites only the reviewer's qualifying badges.
    pub(crate) fn check_signed_attestation(
        &self,
        reviewer: &Account,
        credential: &Value,
        qualifying: &[CredentialRecord],
    ) -> NodeResult<()> {
        let keys = KnownKeys::default();
        let verification = guildmark_credentials::verify_credential(
            credential,
            &VerifyOptions::new(now(), self.contexts(), &keys),
        );
        if !verification.report.verified {
            return Err(NodeError::invalid(
                Field::Credential,
                format!("the attestation does not verify:\n{}", verification.report),
            ));
        }
        if issuer_of(credential) != reviewer.holder {
            return Err(NodeError::Forbidden {
                action: Action::Attest,
                detail: format!(
                    "the attestation must be issued by your holder did:key {}",
                    reviewer.holder
                ),
            });
        }
        self.free_credential_uuid(credential["id"].as_str().unwrap_or_default(), "attestation")?;
        let cited = credential["credentialSubject"]["qualification"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let qualifying_ids: Vec<&str> = qualifying
            .iter()
            .filter_map(|b| b.credential["id"].as_str())
            .collect();
        if cited.is_empty() {
            return Err(NodeError::NotQualified(format!(
                "the attestation cites no badge; cite one of yours that qualifies: {}",
                qualifying_ids.join(", ")
            )));
        }
        for badge in &cited {
            let badge = badge.as_str().unwrap_or_default();
            if !qualifying_ids.contains(&badge) {
                return Err(NodeError::NotQualified(format!(
                    "{badge} is not one of your valid badges that qualify under this protocol ({})",
                    qualifying_ids.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Writes an attestation's record and its indexes (the batch's list, the badges it
    /// cites).
    pub(crate) fn store_attestation(&self, record: &CredentialRecord) -> NodeResult<()> {
        super::write(&self.trees.credentials, record.uuid.as_bytes(), record)?;
        let mut batch = self.batch(&record.subject)?;
        if !batch.attestations.contains(&record.uuid) {
            batch.attestations.push(record.uuid.clone());
            super::write(&self.trees.batches, batch.uuid.as_bytes(), &batch)?;
        }
        for cited in record.credential["credentialSubject"]["qualification"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            self.trees
                .citations
                .insert(key(&[cited, &batch.uuid]), &[])?;
        }
        Ok(())
    }
}
