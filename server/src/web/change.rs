//! Forms' changes as node operations: each [`Change`] is one call on the node for the
//! session's caller, authorized by the node exactly as the same call through the API. A
//! refusal comes back with the form field it is about, decided from the error's data.

use crate::node::claim::ClaimOffer;
use std::collections::BTreeSet;

use guildmark_credentials::Timestamp;
use guildmark_frontend::capitalised;
use guildmark_frontend::node::*;
use guildmark_review_protocols::attestation::{Recorded, StepResult};
use guildmark_review_protocols::unit::Quantity;

use super::views::role_for_node;
use super::WebNode;
use crate::node::account::Caller;
use crate::node::achievement::AchievementFields;
use crate::node::attestation::AttestRequest;
use crate::node::badge::{EvidenceInput, IssueRequest, StatusChange};
use crate::node::batch::RegisterRequest;
use crate::node::endorsement::EndorseRequest;
use crate::node::peer_review::PeerReviewRequest;
use crate::node::protocol::PublishRequest;
use crate::node::{Field, NodeError};
use crate::problem::Problem;

/// A refused change, shown beside the form field it is about when that field is one of
/// `fields` (the form's), above the form otherwise.
pub(super) fn refusal(error: NodeError, fields: &[Field]) -> Refusal {
    let field = error
        .field()
        .filter(|f| fields.contains(f))
        .map(|f| form_field(f).to_owned());
    let problem = Problem::from(error);
    Refusal {
        field,
        message: capitalised(&problem.detail),
        status: problem.status,
    }
}

/// The form field (its `name`) that shows a refusal of request field `field`: forms
/// name fields in snake case, and the issue form's one piece of evidence is a link.
fn form_field(field: Field) -> &'static str {
    match field {
        Field::ValidUntil => "valid_until",
        Field::Evidence => "evidence_url",
        Field::LotSize => "lot_size",
        Field::ProductionDate => "production_date",
        other => other.as_str(),
    }
}

/// A refusal blaming `fields`, for `map_err`.
fn refused(fields: &'static [Field]) -> impl Fn(NodeError) -> Refusal {
    move |error| refusal(error, fields)
}

impl WebNode {
    /// Makes `change` for the holder of session cookie `session`.
    pub(super) async fn make(&self, session: &str, change: Change) -> Result<Outcome, Refusal> {
        let caller = self.node.session(session).map_err(refused(&[]))?;
        let who = Some(&caller);
        match change {
            Change::IssueBadge(c) => self.issue_badge(who, c).await,
            Change::SetStanding(c) => self.set_standing(who, c).await,
            Change::Endorse(c) => self.endorse(who, c).await,
            Change::DefineAchievement(c) => self.define_achievement(who, c).await,
            Change::SetMember(c) => self.set_member(who, c).await,
            Change::PublishProtocol(c) => self.publish_protocol(who, c).await,
            Change::RegisterBatch(c) => self.register_batch(who, c).await,
            Change::Attest(c) => self.attest(who, c).await,
            Change::CreateToken(name) => self.create_token(&caller, &name).await,
            Change::RevokeToken(id) => self.revoke_token(&caller, &id).await,
            Change::OfferToWallet(uuid) => {
                let offer = self
                    .node
                    .offer_badge(who, &uuid)
                    .await
                    .map_err(refused(&[]))?;
                Ok(Outcome::Notice(offer.uri))
            }
            Change::AddPeer(p) => {
                self.node
                    .add_peer(
                        who,
                        crate::node::peer::NewPeer {
                            url: p.url,
                            log_key: p.log_key,
                            witness_key: None,
                        },
                    )
                    .await
                    .map_err(refused(&[Field::Url, Field::LogKey]))?;
                Ok(Outcome::Redirect("/ledger".into()))
            }
            Change::Claim(token) => {
                let (record, _) = self
                    .node
                    .claim_badge(who, &token)
                    .await
                    .map_err(refused(&[]))?;
                Ok(Outcome::Redirect(format!("/cred/{}", record.uuid)))
            }
        }
    }

    async fn issue_badge(
        &self,
        caller: Option<&Caller>,
        c: IssueBadge,
    ) -> Result<Outcome, Refusal> {
        const FIELDS: &[Field] = &[
            Field::Recipient,
            Field::Narrative,
            Field::Evidence,
            Field::ValidUntil,
        ];
        let valid_until = c
            .valid_until
            .map(|t| Timestamp::parse(&t))
            .transpose()
            .map_err(|e| {
                Refusal::field("valid_until", capitalised(&format!("valid until: {e}")))
            })?;
        let request = IssueRequest {
            recipient: c.recipient,
            achievement: c.achievement,
            narrative: c.narrative,
            evidence: c
                .evidence_url
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
        if crate::node::claim::is_email(&request.recipient) {
            let (_, _, offer) = self
                .node
                .award_to_email(caller, &c.community, request)
                .await
                .map_err(refused(FIELDS))?;
            return Ok(Outcome::Notice(match offer {
                ClaimOffer::Mailed { to } => format!(
                    "Awarded. The link to claim the badge was mailed to {to}."
                ),
                ClaimOffer::Link { url, reason } => format!(
                    "Awarded, but not mailed ({reason}). Give the person this link to claim it (it works once, for 90 days): {url}"
                ),
            }));
        }
        let (record, _) = self
            .node
            .issue_badge(caller, &c.community, request)
            .await
            .map_err(refused(FIELDS))?;
        Ok(Outcome::Redirect(format!("/cred/{}", record.uuid)))
    }

    async fn set_standing(
        &self,
        caller: Option<&Caller>,
        c: SetStanding,
    ) -> Result<Outcome, Refusal> {
        let change = match c.change {
            StandingChange::Revoke => StatusChange::Revoke,
            StandingChange::Reinstate => StatusChange::Reinstate,
        };
        self.node
            .set_standing(caller, None, &c.uuid, change)
            .await
            .map_err(refused(&[]))?;
        Ok(Outcome::Redirect(format!("/cred/{}", c.uuid)))
    }

    async fn endorse(&self, caller: Option<&Caller>, c: Endorse) -> Result<Outcome, Refusal> {
        let request = EndorseRequest {
            target: Some(c.target),
            comment: Some(c.comment),
            credential: None,
        };
        let (record, _) = self
            .node
            .endorse(caller, request)
            .await
            .map_err(refused(&[Field::Comment]))?;
        Ok(Outcome::Redirect(format!("/cred/{}", record.uuid)))
    }

    async fn define_achievement(
        &self,
        caller: Option<&Caller>,
        c: DefineAchievement,
    ) -> Result<Outcome, Refusal> {
        const FIELDS: &[Field] = &[
            Field::Name,
            Field::Title,
            Field::Description,
            Field::Criteria,
            Field::Level,
        ];
        let fields = AchievementFields {
            title: Some(c.title),
            description: Some(c.description),
            criteria: Some(c.criteria),
            level: c.level,
            prerequisites: Some(c.prerequisites),
            ..Default::default()
        };
        let achievement = self
            .node
            .create_achievement(caller, &c.community, &c.name, fields)
            .await
            .map_err(refused(FIELDS))?;
        Ok(Outcome::Redirect(format!(
            "/c/{}/a/{}",
            c.community, achievement.name
        )))
    }

    async fn set_member(&self, caller: Option<&Caller>, c: SetMember) -> Result<Outcome, Refusal> {
        let roles: BTreeSet<_> = c.roles.into_iter().map(role_for_node).collect();
        self.node
            .set_member(caller, &c.community, &c.username, roles)
            .await
            .map_err(refused(&[Field::Username, Field::Roles]))?;
        Ok(Outcome::Redirect(format!("/c/{}/manage", c.community)))
    }

    async fn publish_protocol(
        &self,
        caller: Option<&Caller>,
        c: PublishProtocol,
    ) -> Result<Outcome, Refusal> {
        let request = PublishRequest { source: c.source };
        self.node
            .publish_protocol(caller, &c.community, request)
            .await
            .map_err(refused(&[Field::Source]))?;
        Ok(Outcome::Redirect(format!("/c/{}", c.community)))
    }

    async fn register_batch(
        &self,
        caller: Option<&Caller>,
        c: RegisterBatch,
    ) -> Result<Outcome, Refusal> {
        const FIELDS: &[Field] = &[
            Field::Serials,
            Field::ProductionDate,
            Field::LotSize,
            Field::Protocol,
            Field::Product,
            Field::Notes,
        ];
        let request = RegisterRequest {
            product: c.product,
            protocol: c.protocol,
            lot_size: c.lot_size,
            serials: c.serials,
            production_date: c.production_date,
            notes: c.notes,
        };
        let record = self
            .node
            .register_batch(caller, &c.community, request)
            .await
            .map_err(refused(FIELDS))?;
        Ok(Outcome::Redirect(format!("/b/{}", record.uuid)))
    }

    async fn attest(&self, caller: Option<&Caller>, c: Attest) -> Result<Outcome, Refusal> {
        let mut recorded = Vec::new();
        for r in c.results {
            let position = c.sampled.iter().position(|s| *s == r.serial).unwrap_or(0);
            let field = format!("r.{position}.{}", r.step);
            let value = match r.entered {
                Entered::Value(text) => {
                    Recorded::Measured(text.parse::<Quantity>().map_err(|e| {
                        Refusal::field(&field, format!("{text:?} is not a value with a unit: {e}"))
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
        // A peer's batch (known from the mirror of its log): reviewed from here.
        if self.node.batch(&c.batch).is_err() {
            if let Some(mirrored) = self.node.mirrored_batch(&c.batch).map_err(refused(&[]))? {
                let request = PeerReviewRequest {
                    batch: mirrored.batch["credentialSubject"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    sampled: Some(c.sampled),
                    results: Some(recorded),
                    verdict: Some(c.verdict),
                    credential: None,
                };
                let accepted = self
                    .node
                    .review_on_peer(caller, request)
                    .await
                    .map_err(refused(&[]))?;
                // A notice here, not a redirect: the page's form-action CSP keeps form
                // answers on this node.
                return Ok(Outcome::Notice(format!(
                    "Your review was logged on this node and taken by {}: the batch is now {} there. See it at {}/b/{}",
                    mirrored.peer.url, accepted.verdict, mirrored.peer.url, c.batch
                )));
            }
        }
        let request = AttestRequest {
            sampled: Some(c.sampled),
            results: Some(recorded),
            verdict: Some(c.verdict),
            credential: None,
        };
        self.node
            .attest(caller, &c.batch, request)
            .await
            .map_err(refused(&[]))?;
        Ok(Outcome::Redirect(format!("/b/{}", c.batch)))
    }

    async fn create_token(&self, caller: &Caller, name: &str) -> Result<Outcome, Refusal> {
        let (secret, token) = self
            .node
            .create_token(caller, name, None)
            .await
            .map_err(refused(&[Field::Name]))?;
        Ok(Outcome::Notice(format!(
            "Token \"{}\" created. Its secret is shown only now — copy it: {secret}",
            token.name
        )))
    }

    async fn revoke_token(&self, caller: &Caller, id: &str) -> Result<Outcome, Refusal> {
        self.node
            .revoke_token(caller, id)
            .await
            .map_err(refused(&[]))?;
        Ok(Outcome::Redirect("/account".into()))
    }
}
