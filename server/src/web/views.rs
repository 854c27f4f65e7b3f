//! What pages show, built from the node's records: summaries of communities, badges,
//! batches and ledger entries in the shapes [`guildmark_frontend::node`] defines.

use guildmark_credentials::checkpoint::Checkpoint;
use guildmark_credentials::receipt::Receipt;
use guildmark_frontend::node::*;
use guildmark_review_protocols::attestation::{Recorded, ReviewClaims, StepResult};
use guildmark_review_protocols::step::StepKind;
use guildmark_review_protocols::Protocol;
use serde_json::Value;

use super::WebNode;
use crate::ledger::entry::{EntryKind, LedgerEntry};
use crate::node::achievement::Achievement;
use crate::node::badge::{CredentialKind, CredentialRecord};
use crate::node::batch::BatchRecord;
use crate::node::community::{self, Community};
use crate::node::endorsement::uuid_of;
use crate::node::protocol::ProtocolRecord;
use crate::node::NodeError;

/// One recorded result, judged against its step's limits.
fn result_view(protocol: &Protocol, r: &StepResult) -> ResultView {
    ResultView {
        serial: r.serial.clone(),
        step: r.step.clone(),
        recorded: match &r.recorded {
            Recorded::Measured(q) => q.to_string(),
            Recorded::Checked(true) => "passed".into(),
            Recorded::Checked(false) => "failed".into(),
            Recorded::Noted(note) => note.clone(),
        },
        passed: protocol
            .step(&r.step)
            .filter(|s| !matches!(s.kind, StepKind::Observation))
            .and_then(|s| s.accepts(&r.recorded).ok()),
    }
}

/// The UI's role for a node role. The UI crate does not depend on the server, so the
/// two enums are separate; this exhaustive pair keeps them in step.
pub(super) fn role_for_ui(role: community::Role) -> Role {
    match role {
        community::Role::Admin => Role::Admin,
        community::Role::Assessor => Role::Assessor,
        community::Role::Reviewer => Role::Reviewer,
        community::Role::Producer => Role::Producer,
        community::Role::Apprentice => Role::Apprentice,
    }
}

/// The node role for a role a form names.
pub(super) fn role_for_node(role: Role) -> community::Role {
    match role {
        Role::Admin => community::Role::Admin,
        Role::Assessor => community::Role::Assessor,
        Role::Reviewer => community::Role::Reviewer,
        Role::Producer => community::Role::Producer,
        Role::Apprentice => community::Role::Apprentice,
    }
}

pub(super) fn word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(super) fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

pub(super) fn protocol_summary(p: ProtocolRecord) -> ProtocolSummary {
    ProtocolSummary {
        hash: p.hash,
        title: p.title,
        version: p.version,
        community: p.community,
    }
}

pub(super) fn checkpoint_view(note: &str) -> CheckpointView {
    let body = note.split_once("\n\n").map(|(b, _)| b).unwrap_or(note);
    let parsed = Checkpoint::parse(&format!("{body}\n")).ok();
    CheckpointView {
        origin: parsed
            .as_ref()
            .map(|c| c.origin.clone())
            .unwrap_or_default(),
        size: parsed.as_ref().map(|c| c.size).unwrap_or_default(),
        root: parsed.map(|c| c.root.to_base64()).unwrap_or_default(),
        note: note.to_owned(),
    }
}

pub(super) fn receipt_view(receipt: &Receipt) -> ReceiptView {
    ReceiptView {
        index: receipt.index,
        checkpoint: checkpoint_view(&receipt.checkpoint),
        proof: receipt.proof.iter().map(|h| h.to_base64()).collect(),
        text: receipt.to_tlog_proof(),
    }
}

impl WebNode {
    pub(super) fn achievement_view(&self, a: &Achievement) -> AchievementView {
        AchievementView {
            id: a.id.clone(),
            community: a.community.clone(),
            name: a.name.clone(),
            title: a.title.clone(),
            description: a.description.clone(),
            criteria: a.criteria.clone(),
            image: a
                .image
                .as_ref()
                .map(|h| format!("{}/files/{h}", self.node.public_url())),
            level: a.level.clone(),
            tags: a.tags.clone(),
            prerequisites: a.prerequisites.clone(),
            protocol: a.protocol.clone(),
        }
    }

    /// A community's achievements, as pages list them.
    pub(super) fn achievement_views(&self, slug: &str) -> Result<Vec<AchievementView>, NodeError> {
        Ok(self
            .node
            .achievements(slug)?
            .iter()
            .map(|a| self.achievement_view(a))
            .collect())
    }

    pub(super) fn community_summary(&self, c: &Community) -> Result<CommunitySummary, NodeError> {
        Ok(CommunitySummary {
            slug: c.slug.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            members: self.node.members(&c.slug)?.len(),
            achievements: self.node.achievements(&c.slug)?.len(),
            issuer: c.issuer().to_owned(),
        })
    }

    pub(super) fn member_views(&self, slug: &str) -> Result<Vec<MemberView>, NodeError> {
        Ok(self
            .node
            .members(slug)?
            .into_iter()
            .map(|m| MemberView {
                username: m.username,
                roles: m.roles.iter().copied().map(role_for_ui).collect(),
                holder: m.holder,
            })
            .collect())
    }

    pub(super) fn memberships(&self, username: &str) -> Result<Vec<Membership>, NodeError> {
        self.node
            .memberships(username)?
            .into_iter()
            .map(|(slug, roles)| {
                Ok(Membership {
                    community_name: self.node.community(&slug)?.name,
                    community: slug,
                    roles: roles.iter().copied().map(role_for_ui).collect(),
                })
            })
            .collect()
    }

    pub(super) fn badge_view(&self, record: &CredentialRecord) -> Result<BadgeView, NodeError> {
        Ok(BadgeView {
            uuid: record.uuid.clone(),
            achievement: record.subject.clone(),
            title: text(&record.credential["credentialSubject"]["achievement"]["name"]),
            community: record.community.clone().unwrap_or_default(),
            holder: record.account.clone().unwrap_or_default(),
            standing: word(&self.node.standing(record)?),
            issued: record.issued.to_string(),
            valid_until: record.valid_until.map(|t| t.to_string()),
            image: record.credential["credentialSubject"]["achievement"]["image"]["id"]
                .as_str()
                .map(str::to_owned),
            issuer_name: text(&record.credential["issuer"]["name"]),
        })
    }

    pub(super) fn endorsement_views(
        &self,
        target: &str,
    ) -> Result<Vec<EndorsementView>, NodeError> {
        Ok(self
            .node
            .endorsements_of(target)?
            .into_iter()
            .map(|r| EndorsementView {
                endorser: r.account.clone().unwrap_or_default(),
                comment: text(&r.credential["credentialSubject"]["endorsementComment"]),
                issued: r.issued.to_string(),
                uuid: r.uuid,
            })
            .collect())
    }

    pub(super) fn batch_summary(&self, record: &BatchRecord) -> Result<BatchSummary, NodeError> {
        Ok(BatchSummary {
            uuid: record.uuid.clone(),
            product: record.registration()?.product,
            community: record.community.clone(),
            verdict: record.verdict.to_string(),
            units: record.serials.len(),
            first_serial: record.serials.first().cloned().unwrap_or_default(),
            last_serial: record.serials.last().cloned().unwrap_or_default(),
            attestations: record.attestations.len(),
        })
    }

    pub(super) fn batch_page(&self, record: BatchRecord) -> Result<BatchPage, NodeError> {
        let registration = record.registration()?;
        let protocol_record = self.node.protocol(&record.protocol)?;
        let protocol = protocol_record.protocol()?;
        let attestations = record
            .attestations
            .iter()
            .map(|uuid| self.attestation_view(&record, &protocol, uuid))
            .collect::<Result<_, _>>()?;
        Ok(BatchPage {
            summary: self.batch_summary(&record)?,
            community_name: self.node.community(&record.community)?.name,
            lot_size: registration.lot_size,
            production_date: registration.production_date,
            notes: registration.notes,
            serials: record.serials.clone(),
            protocol_hash: record.protocol.clone(),
            protocol,
            attestations,
            evaluation: record.evaluation,
            home: None,
        })
    }

    /// The page of a batch on a peer, read from this node's mirror of its log.
    pub(super) fn peer_batch_page(
        &self,
        mirrored: crate::node::mirror::MirroredBatch,
    ) -> Result<BatchPage, NodeError> {
        let registration = mirrored.registration;
        let protocol = Protocol::from_credential(&mirrored.protocol)
            .map_err(|e| NodeError::stored("mirrored protocol")(e.into()))?;
        let serials = guildmark_review_protocols::serials::expand(&registration.serials)
            .map_err(|e| NodeError::stored("mirrored batch")(e.into()))?;
        let producer = crate::node::badge::issuer_of(&mirrored.batch).to_owned();
        let community_name = self
            .node
            .peer_community_name(&mirrored.peer, &producer)?
            .unwrap_or(producer);
        Ok(BatchPage {
            summary: BatchSummary {
                uuid: mirrored.uuid,
                product: registration.product,
                community: String::new(),
                verdict: "on its node".into(),
                units: serials.len(),
                first_serial: serials.first().cloned().unwrap_or_default(),
                last_serial: serials.last().cloned().unwrap_or_default(),
                attestations: 0,
            },
            community_name,
            lot_size: registration.lot_size,
            production_date: registration.production_date,
            notes: registration.notes,
            serials,
            protocol_hash: registration.protocol.digest.to_string(),
            protocol,
            attestations: Vec::new(),
            evaluation: None,
            home: Some(mirrored.peer.url),
        })
    }

    /// Attestation `uuid` of batch `record`, with how its evaluation judged it.
    fn attestation_view(
        &self,
        record: &BatchRecord,
        protocol: &Protocol,
        uuid: &str,
    ) -> Result<AttestationView, NodeError> {
        let credential = self.node.credential(uuid)?;
        let claims = ReviewClaims::from_credential(&credential.credential)
            .map_err(|e| NodeError::stored("attestation")(e.into()))?;
        let id = text(&credential.credential["id"]);
        let outcome = record
            .evaluation
            .as_ref()
            .and_then(|e| e.attestations.iter().find(|o| o.id == id));
        let reviewer = credential
            .account
            .clone()
            .unwrap_or_else(|| text(&credential.credential["issuer"]));
        let communities = match &credential.account {
            Some(account) => self
                .node
                .memberships(account)?
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
            None => Vec::new(),
        };
        let qualifications = claims
            .qualification
            .iter()
            .filter_map(|id| self.node.credential(&uuid_of(id)).ok())
            .filter(|r| r.kind == CredentialKind::Badge)
            .map(|r| self.badge_view(&r))
            .collect::<Result<_, _>>()?;
        Ok(AttestationView {
            uuid: uuid.to_owned(),
            reviewer,
            communities,
            logged: credential.issued.to_string(),
            verdict: word(&claims.verdict),
            sampled: claims.sampled.clone(),
            results: claims
                .results
                .iter()
                .map(|r| result_view(protocol, r))
                .collect(),
            standing: outcome
                .map(|o| o.standing.as_str().to_owned())
                .unwrap_or_else(|| "not evaluated".into()),
            counted: outcome.is_some_and(|o| o.counted),
            findings: outcome
                .map(|o| o.findings.iter().map(|f| f.message.clone()).collect())
                .unwrap_or_default(),
            qualifications,
        })
    }

    pub(super) fn entry_summary(
        &self,
        index: u64,
        bytes: &[u8],
    ) -> Result<EntrySummary, NodeError> {
        let Ok(entry) = LedgerEntry::parse(bytes) else {
            return Ok(EntrySummary {
                index,
                kind: "unreadable".into(),
                time: String::new(),
                summary: "an entry that is not a Guildmark record".into(),
                link: None,
            });
        };
        let p = &entry.payload;
        let subject = &p["credentialSubject"];
        let types = || -> String {
            match &p["type"] {
                Value::Array(types) => types
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "VerifiableCredential")
                    .collect::<Vec<_>>()
                    .join(", "),
                other => text(other),
            }
        };
        let (summary, link) = match entry.kind {
            EntryKind::Credential => {
                let name = p["name"]
                    .as_str()
                    .or(subject["achievement"]["name"].as_str())
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default();
                let uuid = uuid_of(&text(&p["id"]));
                let known = self.node.has_credential(&uuid)?;
                (
                    format!("{}{name}", types()),
                    known.then(|| format!("/cred/{uuid}")),
                )
            }
            EntryKind::StatusList => (format!("status list {}", text(&p["id"])), None),
            EntryKind::Protocol => (
                format!(
                    "review protocol {}",
                    p["name"]
                        .as_str()
                        .or(subject["title"].as_str())
                        .unwrap_or_default()
                ),
                None,
            ),
            EntryKind::Batch => (
                format!("batch of {}", text(&subject["product"])),
                Some(format!("/b/{}", uuid_of(&text(&subject["id"])))),
            ),
            EntryKind::Verdict => (
                format!("verdict {} → {}", text(&p["previous"]), text(&p["verdict"])),
                Some(format!("/b/{}", uuid_of(&text(&p["batch"])))),
            ),
            EntryKind::Key => ("issuer key rotation".into(), None),
            EntryKind::Community => (
                format!("community {}", text(&p["name"])),
                Some(format!("/c/{}", uuid_of(&text(&p["community"])))),
            ),
        };
        Ok(EntrySummary {
            index,
            kind: word(&entry.kind),
            time: entry.time.to_string(),
            summary,
            link,
        })
    }

    pub(super) fn entries(&self, start: u64, end: u64) -> Result<Vec<EntrySummary>, NodeError> {
        let entries = self.node.ledger().entries(start, end)?;
        entries
            .iter()
            .enumerate()
            .rev()
            .map(|(i, bytes)| self.entry_summary(start + i as u64, bytes))
            .collect()
    }

    /// A credential page's heading, its badge (badges only) and the facts it lists, in
    /// order; empty facts are left out.
    pub(super) fn credential_facts(
        &self,
        record: &CredentialRecord,
    ) -> Result<CredentialFacts, NodeError> {
        let c = &record.credential;
        let subject = &c["credentialSubject"];
        let mut facts = Vec::new();
        let mut fact = |k: &str, v: String| {
            if !v.is_empty() {
                facts.push((k.to_owned(), v));
            }
        };
        let issuer = match &c["issuer"] {
            Value::Object(o) => o.get("id").map(text).unwrap_or_default(),
            other => text(other),
        };
        let by = record.account.clone().unwrap_or_default();
        let (title, badge) = match record.kind {
            CredentialKind::Badge => {
                let badge = self.badge_view(record)?;
                fact("Awarded to", badge.holder.clone());
                fact("Issued by", format!("{} ({issuer})", badge.community));
                fact(
                    "Criteria",
                    text(&subject["achievement"]["criteria"]["narrative"]),
                );
                for e in c["evidence"].as_array().into_iter().flatten() {
                    let shown = e["narrative"].as_str().or(e["id"].as_str());
                    fact(
                        "Evidence",
                        shown.or(e["name"].as_str()).unwrap_or_default().to_owned(),
                    );
                }
                (badge.title.clone(), Some(badge))
            }
            CredentialKind::Endorsement => {
                fact("Endorsed by", format!("{by} ({issuer})"));
                fact("Endorses", record.subject.clone());
                fact("Says", text(&subject["endorsementComment"]));
                (format!("Endorsement by {by}"), None)
            }
            CredentialKind::Attestation => {
                fact("Reviewer", format!("{by} ({issuer})"));
                fact("Batch", text(&subject["id"]));
                fact("Reviewer's verdict", text(&subject["verdict"]));
                (format!("Review by {by}"), None)
            }
        };
        fact("Valid from", text(&c["validFrom"]));
        fact("Valid until", text(&c["validUntil"]));
        fact("Logged", record.issued.to_string());
        fact("Credential id", text(&c["id"]));
        Ok(CredentialFacts {
            title,
            badge,
            facts,
        })
    }
}

/// What a credential page says about its credential, read from the credential itself.
pub(super) struct CredentialFacts {
    /// The page's heading.
    pub(super) title: String,
    /// The badge shown, for badge credentials.
    pub(super) badge: Option<BadgeView>,
    /// Labelled facts, in the order shown.
    pub(super) facts: Vec<(String, String)>,
}
