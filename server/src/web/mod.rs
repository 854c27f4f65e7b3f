//! The web UI's view of the node: [`guildmark_frontend::NodeView`] over the node's
//! stores and ledger. Changes are authorised here by the same rules as the JSON API
//! (`Node::allow…`), so a form can do exactly what its user could do with a token.

use std::collections::BTreeSet;
use std::sync::Arc;

use guildmark_credentials::checkpoint::Checkpoint;
use guildmark_credentials::merkle;
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::{Report, Timestamp};
use guildmark_frontend::node::*;
use guildmark_review_protocols::attestation::{
    Recorded, ReviewClaims, ReviewerVerdict, StepResult,
};
use guildmark_review_protocols::evaluation::Verdict;
use guildmark_review_protocols::step::StepKind;
use guildmark_review_protocols::unit::Quantity;
use serde_json::Value;

use crate::api::auth::{start_session, CLEAR_SESSION};
use crate::api::problem::Problem;
use crate::ledger::entry::{EntryKind, LedgerEntry};
use crate::node::account::{Caller, Credential};
use crate::node::achievement::{Achievement, AchievementFields};
use crate::node::attestation::AttestRequest;
use crate::node::authz::Action;
use crate::node::badge::{
    CredentialKind, CredentialRecord, EvidenceInput, IssueRequest, StatusChange,
};
use crate::node::batch::{BatchRecord, RegisterRequest};
use crate::node::community::{Community, Role};
use crate::node::endorsement::{uuid_of, EndorseRequest};
use crate::node::protocol::{ProtocolRecord, PublishRequest};
use crate::node::{Node, NodeError};

/// The node as the web UI sees it.
pub struct WebNode {
    node: Arc<Node>,
}

impl WebNode {
    /// Wraps `node` for the UI.
    pub fn shared(node: Arc<Node>) -> SharedNode {
        Arc::new(WebNode { node })
    }
}

fn unavailable(error: NodeError) -> Unavailable {
    let problem = Problem::from(error);
    if problem.status == 404 {
        Unavailable::NotFound(problem.detail)
    } else {
        Unavailable::Failed(problem.detail)
    }
}

/// A refused change; `field` names the form field a message about `topic` belongs to.
fn refusal(error: NodeError, fields: &[(&str, &str)]) -> Refusal {
    let problem = Problem::from(error);
    let lower = problem.detail.to_lowercase();
    let field = (problem.status == 404 || problem.status == 422 || problem.status == 409)
        .then(|| fields.iter().find(|(topic, _)| lower.contains(topic)))
        .flatten()
        .map(|(_, field)| (*field).to_owned());
    Refusal {
        field,
        message: capitalised(&problem.detail),
        status: problem.status,
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn protocol_summary(p: ProtocolRecord) -> ProtocolSummary {
    ProtocolSummary {
        hash: p.hash,
        title: p.title,
        version: p.version,
        community: p.community,
    }
}

fn checkpoint_view(note: &str) -> CheckpointView {
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

fn receipt_view(receipt: &Receipt) -> ReceiptView {
    ReceiptView {
        index: receipt.index,
        checkpoint: checkpoint_view(&receipt.checkpoint),
        proof: receipt.proof.iter().map(|h| h.to_base64()).collect(),
        text: receipt.to_tlog_proof(),
    }
}

impl WebNode {
    fn achievement_view(&self, a: &Achievement) -> AchievementView {
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

    fn community_summary(&self, c: &Community) -> Result<CommunitySummary, NodeError> {
        Ok(CommunitySummary {
            slug: c.slug.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            members: self.node.members(&c.slug)?.len(),
            achievements: self.node.achievements(&c.slug)?.len(),
            issuer: c.issuer().to_owned(),
        })
    }

    fn member_views(&self, slug: &str) -> Result<Vec<MemberView>, NodeError> {
        Ok(self
            .node
            .members(slug)?
            .into_iter()
            .map(|m| MemberView {
                username: m.username,
                roles: m.roles.iter().map(word).collect(),
                holder: m.holder,
            })
            .collect())
    }

    fn memberships(&self, username: &str) -> Result<Vec<Membership>, NodeError> {
        self.node
            .memberships(username)?
            .into_iter()
            .map(|(slug, roles)| {
                Ok(Membership {
                    community_name: self.node.community(&slug)?.name,
                    community: slug,
                    roles: roles.iter().map(word).collect(),
                })
            })
            .collect()
    }

    fn badge_view(&self, record: &CredentialRecord) -> Result<BadgeView, NodeError> {
        Ok(BadgeView {
            uuid: record.uuid.clone(),
            achievement: record.subject.clone(),
            title: text(&record.credential["credentialSubject"]["achievement"]["name"]),
            community: record.community.clone().unwrap_or_default(),
            holder: record.account.clone().unwrap_or_default(),
            standing: word(&self.node.standing(record)?),
            issued: record.issued.to_string(),
            valid_until: record.valid_until.map(|t| t.to_string()),
        })
    }

    fn endorsement_views(&self, target: &str) -> Result<Vec<EndorsementView>, NodeError> {
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

    fn batch_summary(&self, record: &BatchRecord) -> Result<BatchSummary, NodeError> {
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

    fn batch_page(&self, record: BatchRecord) -> Result<BatchPage, NodeError> {
        let registration = record.registration()?;
        let protocol_record = self.node.protocol(&record.protocol)?;
        let protocol = protocol_record.protocol()?;
        let mut attestations = Vec::new();
        for uuid in &record.attestations {
            let credential = self.node.credential(uuid)?;
            let claims = ReviewClaims::from_credential(&credential.credential).map_err(|e| {
                NodeError::Storage(format!("attestation {uuid} does not read: {e}"))
            })?;
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
            let results = claims
                .results
                .iter()
                .map(|r| ResultView {
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
                })
                .collect();
            let qualifications = claims
                .qualification
                .iter()
                .filter_map(|id| self.node.credential(&uuid_of(id)).ok())
                .filter(|r| r.kind == CredentialKind::Badge)
                .map(|r| self.badge_view(&r))
                .collect::<Result<_, _>>()?;
            attestations.push(AttestationView {
                uuid: uuid.clone(),
                reviewer,
                communities,
                logged: credential.issued.to_string(),
                verdict: word(&claims.verdict),
                sampled: claims.sampled.clone(),
                results,
                standing: outcome
                    .map(|o| o.standing.as_str().to_owned())
                    .unwrap_or_else(|| "not evaluated".into()),
                counted: outcome.is_some_and(|o| o.counted),
                findings: outcome
                    .map(|o| o.findings.iter().map(|f| f.message.clone()).collect())
                    .unwrap_or_default(),
                qualifications,
            });
        }
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
        })
    }

    fn entry_summary(&self, index: u64, bytes: &[u8]) -> Result<EntrySummary, NodeError> {
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

    fn entries(&self, start: u64, end: u64) -> Result<Vec<EntrySummary>, NodeError> {
        let entries = self.node.ledger().entries(start, end)?;
        entries
            .iter()
            .enumerate()
            .rev()
            .map(|(i, bytes)| self.entry_summary(start + i as u64, bytes))
            .collect()
    }

    fn caller(&self, viewer: &Viewer) -> Result<Caller, NodeError> {
        let account = self
            .node
            .account(&viewer.username)?
            .ok_or_else(|| NodeError::Unauthenticated("your account no longer exists".into()))?;
        Ok(Caller {
            account,
            credential: Credential::Session {
                csrf: viewer.csrf.clone(),
            },
        })
    }

    async fn make(&self, viewer: &Viewer, change: Change) -> Result<Outcome, Refusal> {
        let caller = self.caller(viewer).map_err(|e| refusal(e, &[]))?;
        let node = &self.node;
        let by = &caller.account;
        match change {
            Change::IssueBadge {
                community,
                recipient,
                achievement,
                narrative,
                evidence_url,
                valid_until,
            } => {
                const FIELDS: &[(&str, &str)] = &[
                    ("account", "recipient"),
                    ("member", "recipient"),
                    ("validuntil", "valid_until"),
                    ("valid", "valid_until"),
                    ("url", "evidence_url"),
                ];
                let result: Result<_, NodeError> = async {
                    node.allow(Some(&caller), &community, Action::IssueBadge)?;
                    let valid_until = valid_until
                        .map(|t| {
                            Timestamp::parse(&t)
                                .map_err(|e| NodeError::Invalid(format!("valid until: {e}")))
                        })
                        .transpose()?;
                    let request = IssueRequest {
                        recipient,
                        achievement,
                        narrative,
                        evidence: evidence_url
                            .map(|url| {
                                vec![EvidenceInput {
                                    url: Some(url),
                                    ..Default::default()
                                }]
                            })
                            .unwrap_or_default(),
                        valid_from: None,
                        valid_until,
                        override_prerequisites: None,
                    };
                    Ok(node.issue_badge(&community, by, request).await?.0)
                }
                .await;
                let record = result.map_err(|e| refusal(e, FIELDS))?;
                Ok(Outcome::Redirect(format!("/cred/{}", record.uuid)))
            }
            Change::SetStanding { uuid, change } => {
                let result: Result<_, NodeError> = async {
                    let record = node.credential(&uuid)?;
                    let slug = record
                        .community
                        .ok_or_else(|| NodeError::NotFound(format!("{uuid} is not a badge")))?;
                    let change = match change.as_str() {
                        "revoke" => StatusChange::Revoke,
                        "suspend" => StatusChange::Suspend,
                        _ => StatusChange::Reinstate,
                    };
                    node.allow(Some(&caller), &slug, change.action())?;
                    node.set_standing(&slug, &uuid, change).await
                }
                .await;
                result.map_err(|e| refusal(e, &[]))?;
                Ok(Outcome::Redirect(format!("/cred/{uuid}")))
            }
            Change::Endorse { target, comment } => {
                let result: Result<_, NodeError> = async {
                    node.allow_endorse(Some(&caller), Some(&target))?;
                    let request = EndorseRequest {
                        target: Some(target),
                        comment: Some(comment),
                        credential: None,
                    };
                    Ok(node.endorse(by, request).await?.0)
                }
                .await;
                let record = result.map_err(|e| refusal(e, &[("comment", "comment")]))?;
                Ok(Outcome::Redirect(format!("/cred/{}", record.uuid)))
            }
            Change::DefineAchievement {
                community,
                name,
                title,
                description,
                criteria,
                level,
                prerequisites,
            } => {
                const FIELDS: &[(&str, &str)] = &[
                    ("name", "name"),
                    ("title", "title"),
                    ("description", "description"),
                    ("criteria", "criteria"),
                    ("level", "level"),
                ];
                let result: Result<_, NodeError> = async {
                    node.allow(Some(&caller), &community, Action::CreateAchievement)?;
                    let fields = AchievementFields {
                        title: Some(title),
                        description: Some(description),
                        criteria: Some(criteria),
                        level,
                        prerequisites: Some(prerequisites),
                        ..Default::default()
                    };
                    node.create_achievement(&community, &name, fields).await
                }
                .await;
                let achievement = result.map_err(|e| refusal(e, FIELDS))?;
                Ok(Outcome::Redirect(format!(
                    "/c/{community}/a/{}",
                    achievement.name
                )))
            }
            Change::SetMember {
                community,
                username,
                roles,
            } => {
                let result: Result<_, NodeError> = async {
                    node.allow(Some(&caller), &community, Action::SetMember)?;
                    let roles = roles
                        .iter()
                        .map(|r| {
                            serde_json::from_value::<Role>(Value::String(r.clone()))
                                .map_err(|_| NodeError::Invalid(format!("{r:?} is not a role")))
                        })
                        .collect::<Result<BTreeSet<_>, _>>()?;
                    node.set_member(&community, &username, roles).await
                }
                .await;
                result.map_err(|e| refusal(e, &[("account", "username"), ("role", "roles")]))?;
                Ok(Outcome::Redirect(format!("/c/{community}/manage")))
            }
            Change::PublishProtocol { community, source } => {
                let result: Result<_, NodeError> = async {
                    node.allow(Some(&caller), &community, Action::PublishProtocol)?;
                    node.publish_protocol(&community, PublishRequest { source })
                        .await
                }
                .await;
                let mut refused = |e| {
                    let mut r = refusal(e, &[]);
                    if r.status == 422 || r.status == 409 || r.status == 413 {
                        r.field = Some("source".into());
                    }
                    r
                };
                result.map_err(&mut refused)?;
                Ok(Outcome::Redirect(format!("/c/{community}")))
            }
            Change::RegisterBatch {
                community,
                product,
                protocol,
                lot_size,
                serials,
                production_date,
                notes,
            } => {
                const FIELDS: &[(&str, &str)] = &[
                    ("serial", "serials"),
                    ("date", "production_date"),
                    ("lot", "lot_size"),
                    ("protocol", "protocol"),
                    ("product", "product"),
                    ("notes", "notes"),
                ];
                let result: Result<_, NodeError> = async {
                    node.allow(Some(&caller), &community, Action::RegisterBatch)?;
                    let request = RegisterRequest {
                        product,
                        protocol,
                        lot_size,
                        serials,
                        production_date,
                        notes,
                    };
                    node.register_batch(&community, by, request).await
                }
                .await;
                let record = result.map_err(|e| refusal(e, FIELDS))?;
                Ok(Outcome::Redirect(format!("/b/{}", record.uuid)))
            }
            Change::Attest {
                batch,
                sampled,
                results,
                verdict,
            } => {
                node.allow_attest(Some(&caller))
                    .map_err(|e| refusal(e, &[]))?;
                let mut recorded = Vec::new();
                for r in results {
                    let position = sampled.iter().position(|s| *s == r.serial).unwrap_or(0);
                    let field = format!("r.{position}.{}", r.step);
                    let value = match r.entered {
                        Entered::Value(text) => {
                            Recorded::Measured(text.parse::<Quantity>().map_err(|e| {
                                Refusal::field(
                                    &field,
                                    format!("{text:?} is not a value with a unit: {e}"),
                                )
                            })?)
                        }
                        Entered::Passed(passed) => Recorded::Checked(passed),
                        Entered::Note(note) => Recorded::Noted(note),
                    };
                    recorded.push(StepResult {
                        serial: r.serial,
                        step: r.step,
                        recorded: value,
                    });
                }
                let request = AttestRequest {
                    sampled: Some(sampled),
                    results: Some(recorded),
                    verdict: Some(if verdict == "fail" {
                        ReviewerVerdict::Fail
                    } else {
                        ReviewerVerdict::Pass
                    }),
                    credential: None,
                };
                node.attest(&batch, by, request)
                    .await
                    .map_err(|e| refusal(e, &[]))?;
                Ok(Outcome::Redirect(format!("/b/{batch}")))
            }
            Change::CreateToken { name } => {
                let (secret, token) = node
                    .create_token(by, &name, None)
                    .await
                    .map_err(|e| refusal(e, &[("name", "name")]))?;
                Ok(Outcome::Notice(format!(
                    "Token \"{}\" created. Its secret is shown only now — copy it: {secret}",
                    token.name
                )))
            }
            Change::RevokeToken { id } => {
                node.revoke_token(by, &id)
                    .await
                    .map_err(|e| refusal(e, &[]))?;
                Ok(Outcome::Redirect("/account".into()))
            }
        }
    }
}

impl NodeView for WebNode {
    fn public_url(&self) -> String {
        self.node.public_url().to_owned()
    }

    fn viewer(&self, session: &str) -> Option<Viewer> {
        let caller = self.node.session(session).ok()?;
        let Credential::Session { csrf } = caller.credential else {
            return None;
        };
        Some(Viewer {
            memberships: self.memberships(&caller.account.username).ok()?,
            username: caller.account.username,
            csrf,
            operator: caller.account.operator,
        })
    }

    fn home(&self) -> Result<Home, Unavailable> {
        let run = || -> Result<Home, NodeError> {
            let communities = self
                .node
                .communities()?
                .iter()
                .map(|c| self.community_summary(c))
                .collect::<Result<_, _>>()?;
            let batches = self.node.batches()?;
            let published = self.node.ledger().published();
            let size = published.checkpoint.size;
            Ok(Home {
                communities,
                badges_issued: self.node.badge_count()?,
                batches: batches.len(),
                batches_certified: batches
                    .iter()
                    .filter(|b| b.verdict == Verdict::Certified)
                    .count(),
                checkpoint: checkpoint_view(&published.note),
                recent: self.entries(size.saturating_sub(10), size)?,
            })
        };
        run().map_err(unavailable)
    }

    fn community(&self, slug: &str) -> Result<CommunityPage, Unavailable> {
        let run = || -> Result<CommunityPage, NodeError> {
            let community = self.node.community(slug)?;
            let batches = self
                .node
                .batches()?
                .iter()
                .filter(|b| b.community == slug)
                .map(|b| self.batch_summary(b))
                .collect::<Result<_, _>>()?;
            let protocols = self
                .node
                .protocols()?
                .into_iter()
                .filter(|p| p.community == slug)
                .map(protocol_summary)
                .collect();
            Ok(CommunityPage {
                community: self.community_summary(&community)?,
                achievements: self
                    .node
                    .achievements(slug)?
                    .iter()
                    .map(|a| self.achievement_view(a))
                    .collect(),
                members: self.member_views(slug)?,
                batches,
                protocols,
            })
        };
        run().map_err(unavailable)
    }

    fn achievement(&self, slug: &str, name: &str) -> Result<AchievementPage, Unavailable> {
        let run = || -> Result<AchievementPage, NodeError> {
            let achievement = self.node.achievement(slug, name)?;
            let prerequisites = achievement
                .prerequisites
                .iter()
                .filter_map(|id| self.node.achievement_by_id(id).transpose())
                .map(|a| a.map(|a| self.achievement_view(&a)))
                .collect::<Result<_, _>>()?;
            let holders = self
                .node
                .badges_for(&achievement.id)?
                .iter()
                .map(|r| self.badge_view(r))
                .collect::<Result<_, _>>()?;
            Ok(AchievementPage {
                community_name: self.node.community(slug)?.name,
                prerequisites,
                holders,
                endorsements: self.endorsement_views(&achievement.id)?,
                members: self.member_views(slug)?,
                achievement: self.achievement_view(&achievement),
            })
        };
        run().map_err(unavailable)
    }

    fn member(&self, username: &str) -> Result<MemberPage, Unavailable> {
        let run = || -> Result<MemberPage, NodeError> {
            if self.node.account(username)?.is_none() {
                return Err(NodeError::NotFound(format!(
                    "There is no member {username:?} on this node."
                )));
            }
            let memberships = self.memberships(username)?;
            let records = self.node.badges_of(username)?;
            let mut badges = records
                .iter()
                .map(|r| self.badge_view(r))
                .collect::<Result<Vec<_>, _>>()?;
            badges.reverse();
            let mut slugs: Vec<String> = memberships.iter().map(|m| m.community.clone()).collect();
            for b in &badges {
                if !slugs.contains(&b.community) {
                    slugs.push(b.community.clone());
                }
            }
            let trees = slugs
                .iter()
                .map(|slug| {
                    Ok(TreeView {
                        community_name: self.node.community(slug)?.name,
                        achievements: self
                            .node
                            .achievements(slug)?
                            .iter()
                            .map(|a| self.achievement_view(a))
                            .collect(),
                        community: slug.clone(),
                    })
                })
                .collect::<Result<_, NodeError>>()?;
            Ok(MemberPage {
                username: username.to_owned(),
                memberships,
                badges,
                trees,
            })
        };
        run().map_err(unavailable)
    }

    fn credential(&self, uuid: &str) -> Result<CredentialPage, Unavailable> {
        let run = || -> Result<CredentialPage, NodeError> {
            let record = self.node.credential(uuid)?;
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
            let (title, badge) = match record.kind {
                CredentialKind::Badge => {
                    let badge = self.badge_view(&record)?;
                    fact("Awarded to", badge.holder.clone());
                    fact("Issued by", format!("{} ({issuer})", badge.community));
                    fact(
                        "Criteria",
                        text(&subject["achievement"]["criteria"]["narrative"]),
                    );
                    if let Value::Array(evidence) = &c["evidence"] {
                        for e in evidence {
                            fact(
                                "Evidence",
                                e["narrative"]
                                    .as_str()
                                    .or(e["id"].as_str())
                                    .or(e["name"].as_str())
                                    .unwrap_or_default()
                                    .to_owned(),
                            );
                        }
                    }
                    (badge.title.clone(), Some(badge))
                }
                CredentialKind::Endorsement => {
                    fact(
                        "Endorsed by",
                        format!("{} ({issuer})", record.account.clone().unwrap_or_default()),
                    );
                    fact("Endorses", record.subject.clone());
                    fact("Says", text(&subject["endorsementComment"]));
                    (
                        format!(
                            "Endorsement by {}",
                            record.account.clone().unwrap_or_default()
                        ),
                        None,
                    )
                }
                CredentialKind::Attestation => {
                    fact(
                        "Reviewer",
                        format!("{} ({issuer})", record.account.clone().unwrap_or_default()),
                    );
                    fact("Batch", text(&subject["id"]));
                    fact("Reviewer's verdict", text(&subject["verdict"]));
                    (
                        format!("Review by {}", record.account.clone().unwrap_or_default()),
                        None,
                    )
                }
            };
            fact("Valid from", text(&c["validFrom"]));
            fact("Valid until", text(&c["validUntil"]));
            fact("Logged", record.issued.to_string());
            fact("Credential id", text(&c["id"]));
            let report: Report = self.node.verify_document(c.clone())?;
            let endorsements = match record.kind {
                CredentialKind::Badge => self
                    .endorsement_views(&format!("{}/credentials/{uuid}", self.node.public_url()))?,
                _ => Vec::new(),
            };
            Ok(CredentialPage {
                uuid: record.uuid.clone(),
                kind: word(&record.kind),
                title,
                badge,
                facts,
                json: serde_json::to_string_pretty(c).unwrap_or_default(),
                report,
                receipt: receipt_view(&self.node.receipt(&record)?),
                endorsements,
            })
        };
        run().map_err(unavailable)
    }

    fn batch(&self, uuid: &str) -> Result<BatchPage, Unavailable> {
        self.node
            .batch(uuid)
            .and_then(|record| self.batch_page(record))
            .map_err(unavailable)
    }

    fn device(&self, serial: &str) -> Result<DevicePage, Unavailable> {
        let record = self.node.batch_of_serial(serial).map_err(|e| match e {
            NodeError::NotFound(_) => Unavailable::NotFound(format!(
                "No batch on this node has the serial number {serial:?}. Check the label, or ask the maker which node logged it."
            )),
            other => unavailable(other),
        })?;
        Ok(DevicePage {
            serial: serial.to_owned(),
            batch: self.batch_page(record).map_err(unavailable)?,
        })
    }

    fn protocols(&self) -> Result<Vec<ProtocolSummary>, Unavailable> {
        Ok(self
            .node
            .protocols()
            .map_err(unavailable)?
            .into_iter()
            .map(protocol_summary)
            .collect())
    }

    fn verify(&self, document: &str) -> Result<Report, String> {
        if let Err(e) = guildmark_credentials::json::Json::parse(document.as_bytes()) {
            return Err(format!("This is not well-formed JSON: {e}."));
        }
        let value: Value = serde_json::from_str(document)
            .map_err(|e| format!("This is not well-formed JSON: {e}."))?;
        self.node
            .verify_document(value)
            .map_err(|e| capitalised(&e.to_string()))
    }

    fn ledger(&self, start: u64, count: u64) -> Result<LedgerPage, Unavailable> {
        let published = self.node.ledger().published();
        let size = published.checkpoint.size;
        let start = start.min(size);
        let end = start.saturating_add(count).min(size);
        Ok(LedgerPage {
            checkpoint: checkpoint_view(&published.note),
            entries: self.entries(start, end).map_err(unavailable)?,
        })
    }

    fn ledger_entry(&self, index: u64) -> Result<EntryPage, Unavailable> {
        let run = || -> Result<EntryPage, NodeError> {
            let size = self.node.ledger().published().checkpoint.size;
            if index >= size {
                return Err(NodeError::NotFound(format!(
                    "The ledger has {size} entries; there is no entry #{index}."
                )));
            }
            let bytes = self.node.ledger().entry(index)?;
            let payload = LedgerEntry::parse(&bytes)
                .map(|e| serde_json::to_string_pretty(&e.payload).unwrap_or_default())
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
            Ok(EntryPage {
                entry: self.entry_summary(index, &bytes)?,
                payload,
                receipt: receipt_view(&self.node.ledger().receipt(index)?),
            })
        };
        run().map_err(unavailable)
    }

    fn consistency(&self, old: u64, new: u64) -> Result<ConsistencyPage, Unavailable> {
        let run = || -> Result<ConsistencyPage, NodeError> {
            let size = self.node.ledger().published().checkpoint.size;
            if old == 0 || old > new || new > size {
                return Err(NodeError::NotFound(format!(
                    "Give sizes with 1 ≤ older ≤ newer ≤ {size} (the ledger's size)."
                )));
            }
            let ledger = self.node.ledger();
            let proof = ledger.consistency_proof(old, new)?;
            let (old_root, new_root) = (ledger.root(old)?, ledger.root(new)?);
            Ok(ConsistencyPage {
                old,
                new,
                verified: merkle::verify_consistency(old, new, &old_root, &new_root, &proof)
                    .is_ok(),
                old_root: old_root.to_base64(),
                new_root: new_root.to_base64(),
                proof: proof.iter().map(|h| h.to_base64()).collect(),
            })
        };
        run().map_err(unavailable)
    }

    fn account(&self, username: &str) -> Result<AccountPage, Unavailable> {
        let run = || -> Result<AccountPage, NodeError> {
            let account = self
                .node
                .account(username)?
                .ok_or_else(|| NodeError::NotFound(format!("there is no account {username:?}")))?;
            Ok(AccountPage {
                tokens: self
                    .node
                    .tokens(&account)?
                    .into_iter()
                    .map(|t| TokenView {
                        id: t.id,
                        name: t.name,
                        created: t.created.to_string(),
                        expires: t.expires.map(|e| e.to_string()),
                    })
                    .collect(),
            })
        };
        run().map_err(unavailable)
    }

    fn sign_in<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
        address: &'a str,
    ) -> Pending<'a, Result<String, Refusal>> {
        Box::pin(async move {
            let (cookie, _csrf) = self
                .node
                .login(username, password, address)
                .await
                .map_err(|e| refusal(e, &[]))?;
            Ok(start_session(&self.node, &cookie))
        })
    }

    fn sign_out(&self, session: &str) -> String {
        if let Err(e) = self.node.logout(session) {
            tracing::warn!(error = %e, "ending a session failed");
        }
        CLEAR_SESSION.to_owned()
    }

    fn change<'a>(
        &'a self,
        viewer: &'a Viewer,
        change: Change,
    ) -> Pending<'a, Result<Outcome, Refusal>> {
        Box::pin(self.make(viewer, change))
    }
}
