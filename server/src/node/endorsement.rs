//! Endorsements: a member holding an achievement vouches for another member's badge of
//! it, or for the achievement itself, with an Open Badges `EndorsementCredential` signed
//! by their own holder key and logged.

use guildmark_credentials::badge::{EndorsementCredential, Profile};
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::{KnownKeys, Timestamp, VerifyOptions};
use serde::Deserialize;
use serde_json::Value;

use super::account::{Account, Caller};
use super::authz::Action;
use super::badge::{issuer_of, CredentialKind, CredentialRecord};
use super::community::check_text;
use super::error::{Field, Thing};
use super::{key, now, write, Node, NodeError, NodeResult};
use crate::ledger::entry::EntryKind;
use crate::ledger::LedgerError;

/// An endorsement request: either what to endorse (the node signs with the member's
/// node-held key) or an endorsement the member signed themselves.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndorseRequest {
    /// The endorsed badge (its URL) or achievement (its id).
    pub target: Option<String>,
    /// What the endorser says.
    pub comment: Option<String>,
    /// A signed `EndorsementCredential` (members who bring their own key).
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Value>,
}

const ENDORSEMENTS: &str = "@endorsement";

impl Node {
    /// The achievement an endorsement target stands for: a badge's achievement, or the
    /// achievement itself.
    pub fn endorsed_achievement(&self, target: &str) -> NodeResult<String> {
        let credentials = format!("{}/credentials/", self.public_url());
        if let Some(uuid) = target.strip_prefix(&credentials) {
            let record = self.credential(uuid).map_err(|e| e.at(Field::Target))?;
            if record.kind != CredentialKind::Badge {
                return Err(NodeError::invalid(
                    Field::Target,
                    "only badges and achievements can be endorsed",
                ));
            }
            return Ok(record.subject);
        }
        match self.achievement_by_id(target)? {
            Some(achievement) => Ok(achievement.id),
            None => Err(NodeError::not_found(
                Thing::Achievement,
                format!("{target} is neither a badge nor an achievement on this node"),
            )
            .at(Field::Target)),
        }
    }

    /// Endorses as the caller, who must hold (an active badge of) the endorsed
    /// achievement: checked for the target asked for, and again for the target of a
    /// credential they signed themselves.
    pub async fn endorse(
        &self,
        caller: Option<&Caller>,
        request: EndorseRequest,
    ) -> NodeResult<(CredentialRecord, Receipt)> {
        let target = request.target.clone().or_else(|| {
            request
                .credential
                .as_ref()
                .and_then(|c| c["credentialSubject"]["id"].as_str().map(str::to_owned))
        });
        let permit = self.permit_endorse(caller, target.as_deref())?;
        let endorser = permit.account();
        let at = now();
        let uploaded = request.credential.is_some();
        let credential = match (request.credential, request.target) {
            (Some(_), Some(_)) => {
                return Err(NodeError::invalid_request(
                    "give either a target (the node signs) or a signed credential",
                ))
            }
            (Some(credential), None) => self.check_signed_endorsement(endorser, credential)?,
            (None, Some(target)) => self.sign_endorsement(endorser, target, request.comment, at)?,
            (None, None) => {
                return Err(NodeError::invalid(
                    Field::Target,
                    "say what to endorse (target) or upload a signed credential",
                ))
            }
        };
        let target = credential["credentialSubject"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let achievement = self.endorsed_achievement(&target)?;
        if !self.holds(&endorser.username, &achievement)? {
            return Err(NodeError::Forbidden {
                action: Action::Endorse,
                detail: format!("only members holding {achievement} may endorse it or its badges"),
            });
        }
        let _ids = self.credential_ids.lock().await;
        if uploaded {
            // Again under the lock: another upload may have taken the id meanwhile.
            self.free_credential_uuid(
                credential["id"].as_str().unwrap_or_default(),
                "endorsement",
            )?;
        }
        let (record, receipt) = self
            .log_endorsement(endorser, target, credential, at)
            .await?;
        self.store_endorsement(&record)?;
        Ok((record, receipt))
    }

    /// An endorsement of `target` by `endorser`, signed with their node-held key.
    fn sign_endorsement(
        &self,
        endorser: &Account,
        target: String,
        comment: Option<String>,
        at: Timestamp,
    ) -> NodeResult<Value> {
        let Some(key) = self.holder_key(endorser)? else {
            return Err(NodeError::invalid(
                Field::Credential,
                "you registered your own key: sign the endorsement with `guildmark sign` and upload it as `credential`",
            ));
        };
        if let Some(comment) = &comment {
            check_text(comment, Field::Comment, 1, 5000)?;
        }
        self.endorsed_achievement(&target)?;
        let mut profile = Profile::new(&endorser.holder, &endorser.username);
        profile.url = None;
        let uuid = uuid::Uuid::new_v4();
        let endorsement = EndorsementCredential::new(
            format!("{}/credentials/{uuid}", self.public_url()),
            format!("Endorsement by {}", endorser.username),
            profile,
            at.into(),
            target,
            comment,
        );
        let mut document = serde_json::to_value(&endorsement)?;
        self.sign(&mut document, &key, at, "endorsement")?;
        Ok(document)
    }

    /// Logs an endorsement of `target`; its record, not yet stored.
    async fn log_endorsement(
        &self,
        endorser: &Account,
        target: String,
        credential: Value,
        at: Timestamp,
    ) -> NodeResult<(CredentialRecord, Receipt)> {
        let id = credential["id"].as_str().unwrap_or_default().to_owned();
        let receipt = self
            .log(EntryKind::Credential, &credential, Some(&id), at)
            .await
            .map_err(|e| match e {
                NodeError::Ledger(LedgerError::Duplicate { .. }) => {
                    NodeError::conflict(Thing::Credential, format!("{id} is already logged"))
                        .at(Field::Credential)
                }
                e => e,
            })?;
        let record = CredentialRecord {
            uuid: uuid_of(&id),
            kind: CredentialKind::Endorsement,
            community: None,
            account: Some(endorser.username.clone()),
            subject: target,
            slot: None,
            ledger_index: receipt.index,
            valid_until: None,
            issued: at,
            credential,
        };
        Ok((record, receipt))
    }

    fn check_signed_endorsement(&self, endorser: &Account, credential: Value) -> NodeResult<Value> {
        let kinds = guildmark_credentials::badge::badge_kind(&credential);
        if kinds != Some("EndorsementCredential") {
            return Err(NodeError::invalid(
                Field::Credential,
                "the credential is not an EndorsementCredential",
            ));
        }
        let keys = KnownKeys::default();
        let verification = guildmark_credentials::verify_credential(
            &credential,
            &VerifyOptions::new(now(), self.contexts(), &keys),
        );
        if !verification.report.verified {
            return Err(NodeError::invalid(
                Field::Credential,
                format!("the endorsement does not verify:\n{}", verification.report),
            ));
        }
        let issuer = issuer_of(&credential);
        if self.account_of_holder(issuer)?.as_deref() != Some(endorser.username.as_str()) {
            return Err(NodeError::Forbidden {
                action: Action::Endorse,
                detail: "the endorsement must be issued by your own holder did:key".into(),
            });
        }
        self.free_credential_uuid(credential["id"].as_str().unwrap_or_default(), "endorsement")?;
        Ok(credential)
    }

    pub(crate) fn store_endorsement(&self, record: &CredentialRecord) -> NodeResult<()> {
        write(&self.trees.credentials, record.uuid.as_bytes(), record)?;
        self.trees
            .held
            .insert(key(&[ENDORSEMENTS, &record.subject, &record.uuid]), &[])?;
        Ok(())
    }

    /// The endorsements of a badge URL or achievement id.
    pub fn endorsements_of(&self, target: &str) -> NodeResult<Vec<CredentialRecord>> {
        let mut out = Vec::new();
        for item in self
            .trees
            .held
            .scan_prefix(key(&[ENDORSEMENTS, target, ""]))
        {
            let (k, _) = item?;
            let uuid = String::from_utf8_lossy(k.rsplit(|b| *b == 0).next().unwrap_or_default())
                .into_owned();
            out.push(self.credential(&uuid)?);
        }
        Ok(out)
    }
}

/// The UUID of a credential id (`…/credentials/<uuid>` or `urn:uuid:<uuid>`).
pub fn uuid_of(id: &str) -> String {
    id.rsplit(['/', ':']).next().unwrap_or(id).to_owned()
}
