//! Assembling a device's provenance bundle from the node's records and ledger: the batch,
//! its protocol, every attestation, the badges they cite, those badges' status lists as
//! of now, and a receipt for each against one checkpoint. The format is in
//! `docs/provenance-bundle.md`; its verification in `guildmark_review_protocols::provenance`.

use std::collections::BTreeMap;
use std::sync::Arc;

use guildmark_review_protocols::provenance::{
    verify_bundle, Bundle, Issuer, Logged, BUNDLE_TYPE, BUNDLE_VERSION,
};
use serde_json::Value;

use super::badge::{issuer_of, CredentialKind};
use super::batch::BatchRecord;
use super::endorsement::uuid_of;
use super::error::StorageError;
use super::{now, Node, NodeResult};
use crate::ledger::entry::EntryKind;
use guildmark_credentials::Timestamp;

impl Node {
    /// The provenance bundle of the device `serial`, with the node's evaluation as of now.
    pub fn bundle(&self, serial: &str) -> NodeResult<Bundle> {
        let record = self.batch_of_serial(serial)?;
        self.evaluated_bundle(&record, serial)
    }

    /// A bundle of `record` for `serial`, evaluated by the offline verifier itself.
    pub(crate) fn evaluated_bundle(
        &self,
        record: &BatchRecord,
        serial: &str,
    ) -> NodeResult<Bundle> {
        let mut bundle = self.assemble_bundle(record, serial)?;
        let verification = verify_bundle(&bundle, None, self.contexts(), bundle.assembled_at);
        bundle.evaluation = verification.evaluation;
        if bundle.evaluation.is_none() {
            return Err(StorageError::Missing(format!(
                "an evaluation of batch {} (it does not evaluate:\n{})",
                record.uuid, verification.report
            ))
            .into());
        }
        Ok(bundle)
    }

    /// The bundle without the node's evaluation.
    pub(crate) fn assemble_bundle(&self, record: &BatchRecord, serial: &str) -> NodeResult<Bundle> {
        let protocol = self.protocol(&record.protocol)?;
        let parts = self.cited_parts(record)?;
        let mut indexes = vec![record.ledger_index, protocol.ledger_index];
        for (_, _, _, index) in parts
            .attestations
            .iter()
            .chain(&parts.badges)
            .chain(&parts.lists)
        {
            indexes.push(*index);
        }
        let mut receipts = self.receipts(&indexes)?.into_iter();
        let mut logged = |(kind, time, credential, _): Part| -> NodeResult<Logged> {
            Ok(Logged {
                kind: kind_name(&kind),
                time,
                credential: Arc::new(credential),
                receipt: receipts
                    .next()
                    .ok_or_else(|| StorageError::Missing("a receipt".into()))?,
            })
        };
        let batch = logged((
            EntryKind::Batch,
            record.logged,
            record.credential.clone(),
            0,
        ))?;
        let protocol = logged((EntryKind::Protocol, protocol.logged, protocol.credential, 0))?;
        let mut all = |parts: Vec<Part>| {
            parts
                .into_iter()
                .map(&mut logged)
                .collect::<NodeResult<Vec<_>>>()
        };
        let attestations = all(parts.attestations)?;
        let badges = all(parts.badges)?;
        let status_lists = all(parts.lists)?;
        let mut bundle = Bundle {
            type_: BUNDLE_TYPE.into(),
            version: BUNDLE_VERSION,
            serial: serial.to_owned(),
            assembled_at: now(),
            logs: vec![self.ledger().verifier_key().clone()],
            batch,
            protocol,
            attestations,
            badges,
            status_lists,
            evaluation: None,
            issuers: Vec::new(),
        };
        for review in self.peer_reviews(&record.uuid)? {
            super::peer_review::add_review(&mut bundle, &review);
        }
        bundle.issuers = self.issuer_names(
            [&bundle.batch, &bundle.protocol]
                .into_iter()
                .chain(&bundle.badges),
        )?;
        Ok(bundle)
    }

    /// The batch's attestations, the badges they cite that this node issued (each
    /// once), and the current status lists of those badges (each once), in bundle order.
    fn cited_parts(&self, record: &BatchRecord) -> NodeResult<Parts> {
        let mut parts = Parts::default();
        let (mut badge_ids, mut list_urls) = (Vec::<String>::new(), Vec::<String>::new());
        for uuid in &record.attestations {
            // A peer's review comes with its own parts, from its own log.
            if self.peer_review_of(&record.uuid, uuid)?.is_some() {
                continue;
            }
            let attestation = self.credential(uuid)?;
            for cited in attestation.credential["credentialSubject"]["qualification"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if badge_ids.iter().any(|b| b == cited) {
                    continue;
                }
                let Ok(badge) = self.credential(&uuid_of(cited)) else {
                    continue; // not on this node: the verifier reports it as not given
                };
                if badge.kind != CredentialKind::Badge {
                    continue;
                }
                for list in self.lists_for(&badge.credential) {
                    let url = list["id"].as_str().unwrap_or_default().to_owned();
                    if list_urls.contains(&url) {
                        continue;
                    }
                    let (index, time) = self.list_entry(&url)?;
                    list_urls.push(url);
                    parts.lists.push((EntryKind::StatusList, time, list, index));
                }
                badge_ids.push(cited.to_owned());
                let part = (
                    EntryKind::Credential,
                    badge.issued,
                    badge.credential,
                    badge.ledger_index,
                );
                parts.badges.push(part);
            }
            parts.attestations.push((
                EntryKind::Credential,
                attestation.issued,
                attestation.credential,
                attestation.ledger_index,
            ));
        }
        Ok(parts)
    }

    /// The names of the communities on this node that issued `logged` (by issuer DID).
    fn issuer_names<'a>(
        &self,
        logged: impl Iterator<Item = &'a Logged>,
    ) -> NodeResult<Vec<Issuer>> {
        let mut issuers = BTreeMap::new();
        for part in logged {
            let did = issuer_of(&part.credential);
            if let Some((slug, _)) = self.community_of_issuer(did)? {
                issuers.insert(did.to_owned(), self.community(&slug)?.name);
            } else if let Some(community) = self.peer_community_of(did)? {
                issuers.insert(did.to_owned(), community.name);
            }
        }
        Ok(issuers
            .into_iter()
            .map(|(id, name)| Issuer { id, name })
            .collect())
    }
}

/// A logged part of a bundle before its receipt: kind, time, credential, ledger index.
type Part = (EntryKind, Timestamp, Value, u64);

/// The parts a batch's bundle cites, in bundle order.
#[derive(Default)]
struct Parts {
    attestations: Vec<Part>,
    badges: Vec<Part>,
    lists: Vec<Part>,
}

/// An entry kind as the ledger writes it (`status-list`, …).
pub(crate) fn kind_name(kind: &EntryKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
