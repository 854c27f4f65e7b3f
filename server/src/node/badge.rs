//! Badge credentials: issuance (prerequisites, evidence, status slot, signature, ledger),
//! the records kept for them, revocation, and lifting a suspension set before suspension
//! was withdrawn.

use guildmark_credentials::badge::{Evidence, OpenBadgeCredential, Profile};
use guildmark_credentials::credential::OneOrMany;
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::account::{Account, Caller};
use super::achievement::Achievement;
use super::authz::{Action, Permit};
use super::community::{check_text, check_text_named, Community};
use super::error::{Field, Thing};
use super::status::{Purpose, Slot};
use super::{key, now, read, write, Node, NodeError, NodeResult};
use crate::ledger::entry::EntryKind;
use crate::ledger::LedgerError;

/// How far in the past a badge's `validFrom` may be: badges cannot be back-dated (the
/// ledger shows when they were really issued), but clocks differ a little.
pub const BACKDATE_TOLERANCE: i64 = 300;

/// What kind of credential a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    /// An `OpenBadgeCredential`.
    Badge,
    /// An `EndorsementCredential`.
    Endorsement,
    /// A review attestation of a batch.
    Attestation,
}

/// The node's record of a logged credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRecord {
    /// The UUID in the credential's URL.
    pub uuid: String,
    /// What it is.
    pub kind: CredentialKind,
    /// The issuing community (badges).
    pub community: Option<String>,
    /// The recipient's account (badges), or the endorser's (endorsements).
    pub account: Option<String>,
    /// The achievement (badges), or what is endorsed (endorsements).
    pub subject: String,
    /// The badge's status slot.
    pub slot: Option<Slot>,
    /// Its ledger index.
    pub ledger_index: u64,
    /// When it expires.
    pub valid_until: Option<Timestamp>,
    /// When it was logged.
    pub issued: Timestamp,
    /// The signed credential.
    pub credential: Value,
}

/// Who a badge is for.
enum Recipient<'a> {
    /// A member, by their holder DID.
    Member(&'a Account),
    /// A person known by email address (normalized), as a salted hash.
    Email(String),
}

/// A badge about to be signed: everything issuance checked, by reference.
struct Draft<'a> {
    community: &'a Community,
    achievement: &'a Achievement,
    recipient: Recipient<'a>,
    valid_from: Timestamp,
    request: &'a IssueRequest,
    evidence: Vec<Evidence>,
    at: Timestamp,
}

/// A badge's current standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Valid now.
    Active,
    /// Revoked (permanent).
    Revoked,
    /// Suspended (may be reinstated).
    Suspended,
    /// Past its `validUntil`.
    Expired,
    /// Before its `validFrom`.
    NotYetValid,
}

/// One piece of evidence in an issuance request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvidenceInput {
    /// What it shows (Markdown).
    pub narrative: Option<String>,
    /// A link to it.
    pub url: Option<String>,
    /// SHA-256 of an uploaded file.
    pub file: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

/// An issuance request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssueRequest {
    /// The recipient: a member's username, or an email address (a person without a DID,
    /// who is mailed a link to claim the badge: `POST …/badges` then answers with
    /// `claim`).
    pub recipient: String,
    /// The achievement: its name in this community, or its id.
    pub achievement: String,
    /// How it was earned (Markdown).
    pub narrative: Option<String>,
    /// Evidence.
    #[serde(default)]
    pub evidence: Vec<EvidenceInput>,
    /// When it becomes valid (default: now; not in the past).
    #[schema(value_type = Option<String>)]
    pub valid_from: Option<Timestamp>,
    /// When it expires.
    #[schema(value_type = Option<String>)]
    pub valid_until: Option<Timestamp>,
    /// Issue although a prerequisite is not held (admins only): the reason, recorded in
    /// the badge as evidence.
    pub override_prerequisites: Option<String>,
}

impl Node {
    /// A credential record by UUID.
    pub fn credential(&self, uuid: &str) -> NodeResult<CredentialRecord> {
        read(&self.trees.credentials, uuid.as_bytes())?.ok_or_else(|| {
            NodeError::not_found(
                Thing::Credential,
                format!("there is no credential {uuid:?}"),
            )
        })
    }

    /// Whether the node holds a record of credential `uuid` (reads no record).
    pub fn has_credential(&self, uuid: &str) -> NodeResult<bool> {
        Ok(self.trees.credentials.contains_key(uuid.as_bytes())?)
    }

    /// The record key for an uploaded credential's chosen `id`: it must be
    /// `<public url>/credentials/<uuid>` or `urn:uuid:<uuid>`, and that UUID must name no
    /// record yet. Records are keyed by the UUID, so an upload naming another
    /// credential's UUID (under either form) would otherwise replace that record. Check
    /// again under [`Node::credential_ids`] before logging: two uploads may race.
    pub(crate) fn free_credential_uuid(&self, id: &str, what: &str) -> NodeResult<String> {
        self.free_credential_uuid_at(self.public_url(), id, what)
    }

    /// [`Node::free_credential_uuid`] for a credential made on the node at `base` (a
    /// peer's review).
    pub(crate) fn free_credential_uuid_at(
        &self,
        base: &str,
        id: &str,
        what: &str,
    ) -> NodeResult<String> {
        let prefix = format!("{base}/credentials/");
        let uuid = id
            .strip_prefix(&prefix)
            .or_else(|| id.strip_prefix("urn:uuid:"))
            .filter(|u| {
                // Only the canonical form: `A…` and `a…` would be two keys for one UUID.
                uuid::Uuid::parse_str(u).is_ok_and(|p| p.hyphenated().to_string() == *u)
            })
            .ok_or_else(|| {
                NodeError::invalid(
                    Field::Credential,
                    format!(
                        "the {what}'s id must be {prefix}<uuid> or urn:uuid:<uuid>, with the UUID in lowercase hyphenated form"
                    ),
                )
            })?;
        if self.has_credential(uuid)? {
            return Err(NodeError::conflict(
                Thing::Credential,
                format!("{id} names credential {uuid}, which this node already holds; give your {what} a new id"),
            )
            .at(Field::Credential));
        }
        Ok(uuid.to_owned())
    }

    /// The ledger receipt of a record.
    pub fn receipt(&self, record: &CredentialRecord) -> NodeResult<Receipt> {
        Ok(self.receipts(&[record.ledger_index])?.remove(0))
    }

    /// A badge's standing now.
    pub fn standing(&self, record: &CredentialRecord) -> NodeResult<Standing> {
        if let (Some(slug), Some(slot)) = (&record.community, record.slot) {
            let issuer = issuer_of(&record.credential);
            if self.status_bit(slug, issuer, slot, Purpose::Revocation)? {
                return Ok(Standing::Revoked);
            }
            if self.status_bit(slug, issuer, slot, Purpose::Suspension)? {
                return Ok(Standing::Suspended);
            }
        }
        let at = now();
        if record.valid_until.is_some_and(|t| t <= at) {
            return Ok(Standing::Expired);
        }
        let from = record
            .credential
            .get("validFrom")
            .and_then(Value::as_str)
            .and_then(|t| Timestamp::parse(t).ok());
        if from.is_some_and(|t| t > at) {
            return Ok(Standing::NotYetValid);
        }
        Ok(Standing::Active)
    }

    /// The badges of `username`, newest last.
    pub fn badges_of(&self, username: &str) -> NodeResult<Vec<CredentialRecord>> {
        let mut out = Vec::new();
        for item in self.trees.held.scan_prefix(key(&[username, ""])) {
            let (k, _) = item?;
            let uuid = String::from_utf8_lossy(k.rsplit(|b| *b == 0).next().unwrap_or_default())
                .into_owned();
            out.push(self.credential(&uuid)?);
        }
        out.sort_by_key(|r| r.ledger_index);
        Ok(out)
    }

    /// How many badges the node has issued (reading keys only).
    pub fn badge_count(&self) -> NodeResult<usize> {
        let mut count = 0;
        for item in self.trees.held.iter().keys() {
            if !item?.starts_with(b"@") {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Every badge awarding `achievement` (its id), oldest first.
    pub fn badges_for(&self, achievement: &str) -> NodeResult<Vec<CredentialRecord>> {
        let mut out = Vec::new();
        for item in self.trees.held.iter().keys() {
            let k = item?;
            let mut parts = k.split(|b| *b == 0);
            let (Some(holder), Some(held), Some(uuid)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if !holder.starts_with(b"@") && held == achievement.as_bytes() {
                out.push(self.credential(&String::from_utf8_lossy(uuid))?);
            }
        }
        out.sort_by_key(|r| r.ledger_index);
        Ok(out)
    }

    /// Whether `username` holds an active badge for `achievement`.
    pub fn holds(&self, username: &str, achievement: &str) -> NodeResult<bool> {
        for item in self
            .trees
            .held
            .scan_prefix(key(&[username, achievement, ""]))
        {
            let (k, _) = item?;
            let uuid = String::from_utf8_lossy(k.rsplit(|b| *b == 0).next().unwrap_or_default())
                .into_owned();
            if self.standing(&self.credential(&uuid)?)? == Standing::Active {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Resolves an achievement named in a request to `slug`'s.
    pub fn own_achievement(&self, slug: &str, given: &str) -> NodeResult<Achievement> {
        let found = if given.contains("://") {
            self.achievement_by_id(given)?
        } else {
            self.achievement(slug, given).ok()
        };
        match found {
            Some(a) if a.community == slug => Ok(a),
            _ => Err(NodeError::not_found(
                Thing::Achievement,
                format!("{slug:?} has no achievement {given:?}"),
            )
            .at(Field::Achievement)),
        }
    }

    /// Issues a badge of `slug` (its admins and assessors; overriding a missing
    /// prerequisite: its admins): checks the recipient, prerequisites and evidence, takes
    /// a status slot, signs, and returns once the ledger has acknowledged it. If anything
    /// fails, nothing is logged and the slot is given back.
    pub async fn issue_badge(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        request: IssueRequest,
    ) -> NodeResult<(CredentialRecord, Receipt)> {
        let permit = self.permit(caller, slug, Action::IssueBadge)?;
        if request.override_prerequisites.is_some() {
            self.permit(caller, slug, Action::OverridePrerequisites)?;
        }
        let community = self.community(slug)?;
        let achievement = self.own_achievement(slug, &request.achievement)?;
        let member;
        let recipient = if super::claim::is_email(&request.recipient) {
            Recipient::Email(super::claim::normalize_email(&request.recipient)?)
        } else {
            member = self.recipient(slug, &request.recipient)?;
            Recipient::Member(&member)
        };
        let at = now();
        let valid_from = request.valid_from.unwrap_or(at);
        check_validity(valid_from, request.valid_until, at)?;
        let mut evidence = self.evidence(&request.evidence)?;
        if let Some(note) =
            self.prerequisite_override(&permit, &achievement, &recipient, &request)?
        {
            evidence.push(note);
        }
        if let Some(narrative) = &request.narrative {
            check_text(narrative, Field::Narrative, 1, 20_000)?;
        }

        let draft = Draft {
            community: &community,
            achievement: &achievement,
            recipient,
            valid_from,
            request: &request,
            evidence,
            at,
        };
        self.sign_and_log_badge(draft).await
    }

    /// Takes a status slot, signs the badge and logs it; gives the slot back if anything
    /// fails, so that nothing half-issued remains.
    async fn sign_and_log_badge(
        &self,
        mut draft: Draft<'_>,
    ) -> NodeResult<(CredentialRecord, Receipt)> {
        let (slug, at) = (draft.community.slug.as_str(), draft.at);
        let uuid = uuid::Uuid::new_v4().to_string();
        let epoch = draft.community.epoch();
        let issuer_key = self.issuer_key(slug, epoch)?;
        let slot = self.allocate_slot(slug, epoch)?;
        let result = async {
            self.publish_lists(slug, slot).await?;
            let evidence = std::mem::take(&mut draft.evidence);
            let mut credential = self.badge_document(&draft, evidence, &uuid, slot)?;
            self.sign(&mut credential, &issuer_key, at, "badge")?;
            let id = credential["id"].as_str().unwrap_or_default().to_owned();
            let receipt = self
                .log(EntryKind::Credential, &credential, Some(&id), at)
                .await
                .map_err(|e| match e {
                    NodeError::Ledger(LedgerError::EntryTooLarge(n)) => NodeError::too_large(
                        Some(Field::Evidence),
                        format!(
                            "the signed badge would be {n} bytes; the ledger takes at most {} (shorten the evidence or upload it as a file)",
                            crate::ledger::MAX_ENTRY
                        ),
                    ),
                    e => e,
                })?;
            Ok::<_, NodeError>((credential, receipt))
        }
        .await;
        let (credential, receipt) = match result {
            Ok(done) => done,
            Err(e) => {
                self.release_slot(slug, slot);
                return Err(e);
            }
        };
        let account = match &draft.recipient {
            Recipient::Member(account) => Some(account.username.clone()),
            Recipient::Email(_) => None,
        };
        let record = CredentialRecord {
            uuid,
            kind: CredentialKind::Badge,
            community: Some(slug.to_owned()),
            account,
            subject: draft.achievement.id.clone(),
            slot: Some(slot),
            ledger_index: receipt.index,
            valid_until: draft.request.valid_until,
            issued: at,
            credential,
        };
        self.store_badge(&record)?;
        Ok((record, receipt))
    }

    /// The account `username`, which must be a member of `slug`: badges go to members.
    fn recipient(&self, slug: &str, username: &str) -> NodeResult<Account> {
        let recipient = self.account(username)?.ok_or_else(|| {
            NodeError::not_found(Thing::Account, format!("there is no account {username:?}"))
                .at(Field::Recipient)
        })?;
        if self.member(slug, &recipient.username)?.is_none() {
            return Err(NodeError::invalid(
                Field::Recipient,
                format!(
                    "{:?} is not a member of {slug:?}; badges are issued to members",
                    recipient.username
                ),
            ));
        }
        Ok(recipient)
    }

    /// The evidence note that records issuing without prerequisites `recipient` lacks, or
    /// `None` if they hold them all; refused unless the request overrides with a reason
    /// (whose permission the caller checked).
    fn prerequisite_override(
        &self,
        permit: &Permit<'_>,
        achievement: &Achievement,
        recipient: &Recipient<'_>,
        request: &IssueRequest,
    ) -> NodeResult<Option<Evidence>> {
        let mut missing = Vec::new();
        for prerequisite in &achievement.prerequisites {
            // A person known only by email holds nothing the node could check.
            let held = match recipient {
                Recipient::Member(account) => self.holds(&account.username, prerequisite)?,
                Recipient::Email(_) => false,
            };
            if !held {
                missing.push(prerequisite.clone());
            }
        }
        if missing.is_empty() {
            return Ok(None);
        }
        let Some(reason) = &request.override_prerequisites else {
            return Err(NodeError::PrerequisiteMissing {
                recipient: request.recipient.clone(),
                missing,
            });
        };
        check_text_named(
            reason,
            Field::OverridePrerequisites,
            "the override reason",
            1,
            2000,
        )?;
        let mut note = Evidence::narrative(format!(
            "Issued without the prerequisite(s) {} by decision of {}: {reason}",
            missing.join(", "),
            permit.account().username
        ));
        note.name = Some("Prerequisite override".into());
        note.genre = Some("PrerequisiteOverride".into());
        Ok(Some(note))
    }

    /// The unsigned badge credential: the Open Badge with its status entries.
    fn badge_document(
        &self,
        draft: &Draft<'_>,
        evidence: Vec<Evidence>,
        uuid: &str,
        slot: Slot,
    ) -> NodeResult<Value> {
        let community = draft.community;
        let mut issuer = Profile::new(community.issuer(), &community.name);
        issuer.url = Some(community.url.clone());
        let mut badge = OpenBadgeCredential::new(
            format!("{}/credentials/{uuid}", self.public_url()),
            issuer,
            draft.valid_from.into(),
            "",
            draft
                .achievement
                .to_open_badge(community, self.public_url()),
        );
        match &draft.recipient {
            Recipient::Member(account) => {
                badge.credential_subject.id = Some(account.holder.clone());
            }
            Recipient::Email(address) => {
                badge.credential_subject.id = None;
                let salt = super::claim::new_salt();
                badge.credential_subject.identifier =
                    Some(vec![super::claim::identity_object(address, &salt)]);
            }
        }
        badge.valid_until = draft.request.valid_until.map(Into::into);
        badge.credential_subject.narrative = draft.request.narrative.clone();
        if !evidence.is_empty() {
            badge.evidence = Some(OneOrMany::Many(evidence));
        }
        let mut document = serde_json::to_value(&badge)?;
        document["credentialStatus"] = self.status_entry(&community.slug, community.issuer(), slot);
        Ok(document)
    }

    fn evidence(&self, given: &[EvidenceInput]) -> NodeResult<Vec<Evidence>> {
        if given.len() > 50 {
            return Err(NodeError::invalid(
                Field::Evidence,
                "at most 50 pieces of evidence",
            ));
        }
        let mut out = Vec::new();
        for (i, item) in given.iter().enumerate() {
            let mut evidence = Evidence::narrative(String::new());
            evidence.narrative = None;
            match (&item.url, &item.file) {
                (Some(_), Some(_)) => {
                    return Err(NodeError::invalid(
                        Field::Evidence,
                        format!("evidence {i}: give a url or a file, not both"),
                    ))
                }
                (Some(url), None) => {
                    let ok = (url.starts_with("https://") || url.starts_with("http://"))
                        && url.len() <= 2000
                        && !url.contains(char::is_whitespace);
                    if !ok {
                        return Err(NodeError::invalid(
                            Field::Evidence,
                            format!("evidence {i}: {url:?} is not an http(s) URL"),
                        ));
                    }
                    evidence.id = Some(url.clone());
                }
                (None, Some(hash)) => {
                    let file = self.file(hash).map_err(|e| match e {
                        NodeError::NotFound { detail, .. } | NodeError::Invalid { detail, .. } => {
                            NodeError::invalid(Field::Evidence, format!("evidence {i}: {detail}"))
                        }
                        e => e,
                    })?;
                    evidence.id = Some(format!("{}/files/{}", self.public_url(), file.sha256));
                    evidence.name = Some(file.name);
                }
                (None, None) if item.narrative.is_none() => {
                    return Err(NodeError::invalid(
                        Field::Evidence,
                        format!("evidence {i}: give a narrative, a url or a file"),
                    ))
                }
                (None, None) => {}
            }
            if let Some(narrative) = &item.narrative {
                check_text_named(
                    narrative,
                    Field::Evidence,
                    &format!("evidence {i}'s narrative"),
                    1,
                    20_000,
                )?;
                evidence.narrative = Some(narrative.clone());
            }
            if let Some(name) = &item.name {
                check_text_named(
                    name,
                    Field::Evidence,
                    &format!("evidence {i}'s name"),
                    1,
                    200,
                )?;
                evidence.name = Some(name.clone());
            }
            out.push(evidence);
        }
        Ok(out)
    }

    /// The badge a claim gives `caller`: the emailed badge's achievement, narrative and
    /// expiry, now bound to the caller's DID, citing the emailed badge. No role is
    /// needed (the claim link stands for the award) and the caller need not be a member.
    pub(crate) async fn claimed_badge(
        &self,
        caller: &Caller,
        slug: &str,
        emailed: &CredentialRecord,
    ) -> NodeResult<(CredentialRecord, Receipt)> {
        let evidence = super::claim::claim_evidence(emailed);
        self.reissue(caller.account(), slug, emailed, evidence)
            .await
    }

    /// A fresh badge of `original`'s achievement for `account`'s wallet DID `did`
    /// (OpenID4VCI), citing the badge it was offered from.
    pub(crate) async fn wallet_badge(
        &self,
        account: &Account,
        original: &CredentialRecord,
        did: &str,
    ) -> NodeResult<(CredentialRecord, Receipt)> {
        if self.standing(original)? != Standing::Active {
            return Err(NodeError::conflict(
                Thing::Credential,
                "the badge offered is no longer active",
            ));
        }
        let bound = Account {
            holder: did.to_owned(),
            ..account.clone()
        };
        let id = original.credential["id"].as_str().unwrap_or_default();
        let mut evidence = Evidence::narrative(format!(
            "Issued into its holder's wallet (OpenID4VCI), bound to the key the wallet proved, from the badge {id}."
        ));
        evidence.id = Some(id.to_owned());
        evidence.name = Some("Issued to a wallet".into());
        let slug = original.community.clone().unwrap_or_default();
        self.reissue(&bound, &slug, original, evidence).await
    }

    /// A new badge of `original`'s achievement, narrative and expiry for `account`
    /// (bound to `account.holder`), with `evidence`. No role is needed (the right comes
    /// from a claim link or a wallet offer), nor membership.
    async fn reissue(
        &self,
        account: &Account,
        slug: &str,
        original: &CredentialRecord,
        evidence: Evidence,
    ) -> NodeResult<(CredentialRecord, Receipt)> {
        let community = self.community(slug)?;
        let achievement = self.achievement_by_id(&original.subject)?.ok_or_else(|| {
            NodeError::not_found(
                Thing::Achievement,
                format!("{} no longer exists", original.subject),
            )
        })?;
        let at = now();
        let narrative = original.credential["credentialSubject"]["narrative"]
            .as_str()
            .map(str::to_owned);
        let request = IssueRequest {
            recipient: account.username.clone(),
            achievement: achievement.id.clone(),
            narrative,
            evidence: Vec::new(),
            valid_from: None,
            valid_until: original.valid_until.filter(|until| *until > at),
            override_prerequisites: None,
        };
        let draft = Draft {
            community: &community,
            achievement: &achievement,
            recipient: Recipient::Member(account),
            valid_from: at,
            request: &request,
            evidence: vec![evidence],
            at,
        };
        self.sign_and_log_badge(draft).await
    }

    /// Writes a badge's record and indexes.
    pub(crate) fn store_badge(&self, record: &CredentialRecord) -> NodeResult<()> {
        write(&self.trees.credentials, record.uuid.as_bytes(), record)?;
        if let Some(account) = &record.account {
            self.trees
                .held
                .insert(key(&[account, &record.subject, &record.uuid]), &[])?;
        }
        if let (Some(slug), Some(slot)) = (&record.community, record.slot) {
            self.commit_slot(slug, slot)?;
        }
        Ok(())
    }

    /// Revokes, suspends or reinstates badge `uuid` (admins of the issuing community
    /// revoke; its admins and assessors suspend and reinstate); returns the new status
    /// list. `slug`, when the request names a community, must be the one that issued it.
    pub async fn set_standing(
        &self,
        caller: Option<&Caller>,
        slug: Option<&str>,
        uuid: &str,
        change: StatusChange,
    ) -> NodeResult<Value> {
        if let Some(slug) = slug {
            self.permit(caller, slug, change.action())?;
        }
        let record = self.credential(uuid)?;
        let (Some(community), Some(slot)) = (&record.community, record.slot) else {
            return Err(NodeError::not_found(
                Thing::Credential,
                format!("{uuid} is not a badge"),
            ));
        };
        match slug {
            Some(slug) if community != slug => {
                return Err(NodeError::not_found(
                    Thing::Credential,
                    format!("{slug:?} did not issue the badge {uuid}"),
                ))
            }
            Some(_) => {}
            None => {
                self.permit(caller, community, change.action())?;
            }
        }
        let slug = community.as_str();
        let issuer = issuer_of(&record.credential).to_owned();
        let list = self.apply_change(slug, &issuer, slot, change).await?;
        // Reviews that rely on this badge may have a new verdict.
        let id = record.credential["id"].as_str().unwrap_or_default();
        // The change is done and logged: a verdict that cannot be recomputed now is
        // recomputed at the batch's next attestation (bundles always evaluate afresh), so
        // it does not fail the request.
        for batch in self.batches_citing(id)? {
            if let Err(e) = self.refresh_verdict(&batch).await {
                tracing::error!(batch, error = %e, "recomputing a verdict after a standing change");
            }
        }
        Ok(list)
    }

    async fn apply_change(
        &self,
        slug: &str,
        issuer: &str,
        slot: Slot,
        change: StatusChange,
    ) -> NodeResult<Value> {
        let issuer = issuer.to_owned();
        match change {
            StatusChange::Revoke => {
                self.change_status(slug, &issuer, slot, Purpose::Revocation, true)
                    .await
            }
            StatusChange::Reinstate => {
                if self.status_bit(slug, &issuer, slot, Purpose::Revocation)? {
                    return Err(NodeError::conflict(
                        Thing::Credential,
                        "the badge is revoked; revocation is permanent",
                    ));
                }
                self.change_status(slug, &issuer, slot, Purpose::Suspension, false)
                    .await
            }
        }
    }
}

/// A change of a badge's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Revoke for good.
    Revoke,
    /// Lift a suspension (of a badge issued before suspension was withdrawn).
    Reinstate,
}

impl StatusChange {
    /// The action whose permission the change needs.
    pub fn action(self) -> super::authz::Action {
        use super::authz::Action;
        match self {
            StatusChange::Revoke => Action::Revoke,
            StatusChange::Reinstate => Action::Reinstate,
        }
    }
}

/// Refuses a back-dated `validFrom` and a `validUntil` not after it (as of `at`).
fn check_validity(
    valid_from: Timestamp,
    valid_until: Option<Timestamp>,
    at: Timestamp,
) -> NodeResult<()> {
    if valid_from < at.plus_seconds(-BACKDATE_TOLERANCE) {
        return Err(NodeError::invalid(
            Field::ValidFrom,
            "validFrom is in the past: badges cannot be back-dated (the ledger records when they were issued)",
        ));
    }
    if valid_until.is_some_and(|until| until <= valid_from) {
        return Err(NodeError::invalid(
            Field::ValidUntil,
            "validUntil must be after validFrom",
        ));
    }
    Ok(())
}

/// The issuer id of a credential document.
pub fn issuer_of(credential: &Value) -> &str {
    guildmark_credentials::verify::party_id(credential.get("issuer")).unwrap_or_default()
}
