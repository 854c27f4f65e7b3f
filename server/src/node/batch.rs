//! Product batches: registered by a producer as the community's signed batch credential
//! and logged; reviewed by attestations; their verdict recomputed with
//! `review-protocols` after every attestation and every change of a cited badge's
//! standing, and logged when it changes.

use guildmark_credentials::Timestamp;
use guildmark_review_protocols::attestation::ProtocolReference;
use guildmark_review_protocols::registration::RegistrationError;
use guildmark_review_protocols::{BatchRegistration, Evaluation, ProtocolHash, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::account::Caller;
use super::authz::Action;
use super::community::{check_line, check_text, Community};
use super::error::{Field, StorageError, Thing};
use super::protocol::too_large;
use super::{now, read, scan, write, Node, NodeError, NodeResult};
use crate::ledger::entry::EntryKind;

/// A batch to register.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    /// The product, e.g. "MPPT20 12/24 V 20 A solar charge controller".
    pub product: String,
    /// The protocol's content hash (`sha256:…`).
    pub protocol: String,
    /// Units in the lot.
    pub lot_size: u64,
    /// Serial numbers and ranges such as `MPPT20-2026-0001..0050`.
    pub serials: Vec<String>,
    /// When the lot was produced (`YYYY-MM-DD`).
    pub production_date: String,
    /// Notes for reviewers and buyers.
    pub notes: Option<String>,
}

/// The node's record of a batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRecord {
    /// The UUID in its URLs.
    pub uuid: String,
    /// The producing community.
    pub community: String,
    /// Who registered it.
    pub registered_by: Option<String>,
    /// The protocol's hash.
    pub protocol: String,
    /// Every serial number, expanded.
    pub serials: Vec<String>,
    /// Its ledger index.
    pub ledger_index: u64,
    /// When it was logged.
    pub logged: Timestamp,
    /// The signed batch credential.
    pub credential: Value,
    /// UUIDs of its attestations, in the order they were logged.
    pub attestations: Vec<String>,
    /// The verdict as last computed.
    pub verdict: Verdict,
    /// The evaluation it came from.
    pub evaluation: Option<Evaluation>,
}

impl BatchRecord {
    /// The batch's URL (its credential subject id).
    pub fn url(&self) -> &str {
        self.credential["credentialSubject"]["id"]
            .as_str()
            .unwrap_or_default()
    }

    /// What the producer registered.
    pub fn registration(&self) -> NodeResult<BatchRegistration> {
        BatchRegistration::from_credential(&self.credential)
            .map_err(|e| NodeError::stored("batch credential")(e.into()))
    }
}

/// A registration the review-protocols rules refuse, blamed on the field at fault.
fn refused_registration(error: RegistrationError) -> NodeError {
    let field = match &error {
        RegistrationError::Serials(_) => Some(Field::Serials),
        RegistrationError::Subject(_) => Some(Field::ProductionDate),
        _ => None,
    };
    NodeError::Invalid {
        field,
        detail: error.to_string(),
    }
}

impl Node {
    /// Registers a batch of `slug` (its admins and producers), signed with the
    /// community's key and logged.
    pub async fn register_batch(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        request: RegisterRequest,
    ) -> NodeResult<BatchRecord> {
        let permit = self.permit(caller, slug, Action::RegisterBatch)?;
        let community = self.community(slug)?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let (registration, serials) = self.registration(&community, &uuid, request)?;
        let _guard = self.review_lock.lock().await;
        self.refuse_taken_serials(&serials)?;
        let issuer_key = self.issuer_key(slug, community.epoch())?;
        let at = now();
        let mut credential = registration.to_credential(
            &format!("{}/credentials/{uuid}", self.public_url()),
            community.issuer(),
            at,
        );
        self.sign(&mut credential, &issuer_key, at, "batch")?;
        let id = credential["id"].as_str().unwrap_or_default().to_owned();
        let receipt = self
            .log(EntryKind::Batch, &credential, Some(&id), at)
            .await
            .map_err(too_large("batch registration", Thing::Batch, None))?;
        let mut record = BatchRecord {
            uuid,
            community: slug.to_owned(),
            registered_by: Some(permit.account().username.clone()),
            protocol: registration.protocol.digest.to_string(),
            serials,
            ledger_index: receipt.index,
            logged: at,
            credential,
            attestations: Vec::new(),
            verdict: Verdict::Pending,
            evaluation: None,
        };
        self.store_batch(&record)?;
        self.refresh_verdict_locked(&mut record).await?;
        Ok(record)
    }

    /// The registration `request` asks for, checked as the review-protocols rules and
    /// the protocol's sampling plan require, with its serials expanded.
    fn registration(
        &self,
        community: &Community,
        uuid: &str,
        request: RegisterRequest,
    ) -> NodeResult<(BatchRegistration, Vec<String>)> {
        check_line(&request.product, Field::Product, 1, 200)?;
        if let Some(notes) = &request.notes {
            check_text(notes, Field::Notes, 1, 5000)?;
        }
        if request.serials.len() > 1000 {
            return Err(NodeError::invalid(
                Field::Serials,
                "give at most 1000 serial numbers or ranges",
            ));
        }
        let hash: ProtocolHash = request
            .protocol
            .parse()
            .map_err(|e| NodeError::invalid(Field::Protocol, e))?;
        let protocol = self
            .protocol(&hash.to_string())
            .map_err(|e| e.at(Field::Protocol))?
            .protocol()?;
        let registration = BatchRegistration {
            id: format!("{}/batches/{uuid}", self.public_url()),
            type_: guildmark_review_protocols::registration::BATCH_TYPE.into(),
            product: request.product,
            protocol: ProtocolReference {
                id: protocol.urn(),
                digest: hash,
            },
            lot_size: request.lot_size,
            serials: request.serials,
            production_date: request.production_date,
            notes: request.notes,
        };
        registration.check_date().map_err(refused_registration)?;
        let batch = registration
            .to_batch(community.issuer())
            .map_err(refused_registration)?;
        if protocol.sampling.requirement(batch.lot_size).is_none() || batch.lot_size == 0 {
            return Err(NodeError::invalid(
                Field::LotSize,
                format!(
                    "the protocol's sampling plan does not cover a lot of {} units",
                    batch.lot_size
                ),
            ));
        }
        Ok((registration, batch.serials))
    }

    /// Refuses serials another batch already has (a device belongs to one batch).
    fn refuse_taken_serials(&self, serials: &[String]) -> NodeResult<()> {
        for serial in serials {
            if let Some(other) = self.trees.serials.get(serial.as_bytes())? {
                return Err(NodeError::conflict(
                    Thing::Device,
                    format!(
                        "serial number {serial} is already in batch {}",
                        String::from_utf8_lossy(&other)
                    ),
                )
                .at(Field::Serials));
            }
        }
        Ok(())
    }

    pub(crate) fn store_batch(&self, record: &BatchRecord) -> NodeResult<()> {
        write(&self.trees.batches, record.uuid.as_bytes(), record)?;
        for serial in &record.serials {
            self.trees
                .serials
                .insert(serial.as_bytes(), record.uuid.as_bytes())?;
        }
        Ok(())
    }

    /// A batch by UUID.
    pub fn batch(&self, uuid: &str) -> NodeResult<BatchRecord> {
        read(&self.trees.batches, uuid.as_bytes())?.ok_or_else(|| {
            NodeError::not_found(Thing::Batch, format!("there is no batch {uuid:?}"))
        })
    }

    /// Every batch, oldest first.
    pub fn batches(&self) -> NodeResult<Vec<BatchRecord>> {
        let mut all: Vec<BatchRecord> = scan(&self.trees.batches, b"")?;
        all.sort_by_key(|b| b.ledger_index);
        Ok(all)
    }

    /// The batch a device belongs to.
    pub fn batch_of_serial(&self, serial: &str) -> NodeResult<BatchRecord> {
        let uuid = self.trees.serials.get(serial.as_bytes())?.ok_or_else(|| {
            NodeError::not_found(
                Thing::Device,
                format!("no batch here has serial number {serial:?}"),
            )
        })?;
        self.batch(&String::from_utf8_lossy(&uuid))
    }

    /// Recomputes a batch's verdict (after an attestation, or a change of a cited badge's
    /// standing) and logs it when it changed.
    pub async fn refresh_verdict(&self, uuid: &str) -> NodeResult<BatchRecord> {
        let _guard = self.review_lock.lock().await;
        let mut record = self.batch(uuid)?;
        self.refresh_verdict_locked(&mut record).await?;
        Ok(record)
    }

    /// [`Node::refresh_verdict`] with the review lock held.
    pub(crate) async fn refresh_verdict_locked(&self, record: &mut BatchRecord) -> NodeResult<()> {
        let evaluation = self.evaluate_batch(record)?;
        let changed = evaluation.verdict != record.verdict;
        if changed {
            let at = now();
            let payload = json!({
                "batch": record.url(),
                "verdict": evaluation.verdict,
                "previous": record.verdict,
                "passing": evaluation.passing,
                "communities": evaluation.communities,
                "attestations": record.attestations.len(),
            });
            self.log(EntryKind::Verdict, &payload, None, at).await?;
            tracing::info!(batch = record.uuid, verdict = %evaluation.verdict, "verdict changed");
        }
        record.verdict = evaluation.verdict;
        record.evaluation = Some(evaluation);
        write(&self.trees.batches, record.uuid.as_bytes(), &*record)?;
        Ok(())
    }

    /// The batch's evaluation now, computed from its provenance bundle exactly as an
    /// offline verifier computes it.
    pub fn evaluate_batch(&self, record: &BatchRecord) -> NodeResult<Evaluation> {
        let serial = record.serials.first().cloned().unwrap_or_default();
        self.evaluated_bundle(record, &serial)?
            .evaluation
            .ok_or_else(|| {
                StorageError::Missing(format!("the evaluation of batch {}", record.uuid)).into()
            })
    }

    /// Batches one of whose attestations cites the badge `credential_id`.
    pub fn batches_citing(&self, credential_id: &str) -> NodeResult<Vec<String>> {
        let mut out = Vec::new();
        for item in self
            .trees
            .citations
            .scan_prefix(super::key(&[credential_id, ""]))
        {
            let (k, _) = item?;
            let uuid = String::from_utf8_lossy(k.rsplit(|b| *b == 0).next().unwrap_or_default())
                .into_owned();
            if !out.contains(&uuid) {
                out.push(uuid);
            }
        }
        Ok(out)
    }

    /// Takes a logged batch credential into the node's records (replay).
    pub(crate) fn adopt_batch(
        &self,
        index: u64,
        credential: Value,
        at: Timestamp,
    ) -> NodeResult<()> {
        let Ok(registration) = BatchRegistration::from_credential(&credential) else {
            return Ok(());
        };
        let uuid = super::endorsement::uuid_of(credential["id"].as_str().unwrap_or_default());
        if self.trees.batches.contains_key(uuid.as_bytes())? {
            return Ok(());
        }
        let issuer = super::badge::issuer_of(&credential).to_owned();
        let Some((slug, _)) = self.community_of_issuer(&issuer)? else {
            return Ok(());
        };
        let Ok(batch) = registration.to_batch(&issuer) else {
            return Ok(());
        };
        self.store_batch(&BatchRecord {
            uuid,
            community: slug,
            registered_by: None,
            protocol: registration.protocol.digest.to_string(),
            serials: batch.serials,
            ledger_index: index,
            logged: at,
            credential,
            attestations: Vec::new(),
            verdict: Verdict::Pending,
            evaluation: None,
        })
    }
}
