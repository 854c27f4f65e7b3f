//! Badges for people without a DID: an assessor awards a badge to an email address (an
//! Open Badges 3.0 `IdentityObject`, the address salted and hashed with SHA-256, as
//! every Open Badges platform allows), and the person claims it later with the link the
//! node mails them: signed in, they get a new badge of the same achievement bound to
//! their DID. The emailed badge stays as it was (valid, logged): it is the record of the
//! award; the claimed one cites it as evidence.

use guildmark_credentials::badge::{Evidence, IdentityObject};
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Map;
use sha2::{Digest as _, Sha256};

use super::account::{digest, secret, Caller};
use super::badge::{CredentialRecord, IssueRequest};
use super::error::{Field, Thing};
use super::{now, read, write, Node, NodeError, NodeResult};

/// How long a claim link works.
pub const CLAIM_VALIDITY: i64 = 90 * 86_400;

/// Whether a recipient as given in an issuance request is an email address (usernames
/// cannot contain `@`).
pub fn is_email(recipient: &str) -> bool {
    recipient.contains('@')
}

/// An email address as hashed: trimmed and lowercased, so that `Ada@Example.org` and
/// `ada@example.org` are one person. Refuses what is not an address.
pub fn normalize_email(text: &str) -> NodeResult<String> {
    let address = text.trim().to_lowercase();
    let bad = |why: &str| {
        NodeError::invalid(
            Field::Recipient,
            format!("{text:?} is not an email address: {why}"),
        )
    };
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(bad("no @"));
    };
    if local.is_empty() || domain.is_empty() {
        return Err(bad("empty before or after the @"));
    }
    if address.len() > 254 || local.len() > 64 {
        return Err(bad("too long"));
    }
    if address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'))
    {
        return Err(bad("spaces, quotes or separators"));
    }
    if !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(bad("the domain needs a dot between names"));
    }
    Ok(address)
}

/// The `IdentityObject` for `address` (normalized) with `salt`: `identityHash` is
/// `sha256$` and the hex SHA-256 of the address followed by the salt (OB 3.0
/// `IdentityHash`).
pub fn identity_object(address: &str, salt: &str) -> IdentityObject {
    IdentityObject {
        type_: "IdentityObject".into(),
        hashed: true,
        identity_hash: identity_hash(address, salt),
        identity_type: "emailAddress".into(),
        salt: Some(salt.to_owned()),
        extra: Map::new(),
    }
}

/// `sha256$<hex of SHA-256(address ‖ salt)>`.
pub fn identity_hash(address: &str, salt: &str) -> String {
    let digest = Sha256::digest(format!("{address}{salt}").as_bytes());
    format!("sha256${}", super::file::hex(&digest))
}

/// A fresh salt for an identity hash.
pub fn new_salt() -> String {
    secret("")
}

/// An open or used claim on a badge awarded to an email address. Kept under the
/// SHA-256 of its token, so the store does not hold what claims it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// The emailed badge.
    pub badge: String,
    /// When the link stops working.
    pub expires: Timestamp,
    /// Who claimed it, and the badge they got, once claimed.
    pub claimed: Option<(String, String)>,
}

impl Claim {
    /// `open`, `claimed` or `expired`, now.
    pub fn state(&self) -> &'static str {
        if self.claimed.is_some() {
            "claimed"
        } else if self.expires <= now() {
            "expired"
        } else {
            "open"
        }
    }
}

/// How the person learns of their badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ClaimOffer {
    /// The claim link was mailed to the address.
    Mailed {
        /// The address.
        to: String,
    },
    /// No mail was sent (the node has no mail server, or sending failed): hand the link
    /// over yourself.
    Link {
        /// The claim link.
        url: String,
        /// Why it was not mailed.
        reason: String,
    },
}

impl Node {
    /// Awards a badge of `slug` to the email address in `request.recipient`, then offers
    /// it to the person: mailed when the node has a mail server, else as a link in the
    /// answer.
    pub async fn award_to_email(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        request: IssueRequest,
    ) -> NodeResult<(CredentialRecord, Receipt, ClaimOffer)> {
        let address = normalize_email(&request.recipient)?;
        let title_request = request.achievement.clone();
        let (record, receipt) = self.issue_badge(caller, slug, request).await?;
        let token = secret("");
        let claim = Claim {
            badge: record.uuid.clone(),
            expires: now().plus_seconds(CLAIM_VALIDITY),
            claimed: None,
        };
        write(&self.trees.claims, &digest(&token), &claim)?;
        self.flush().await?;
        let url = format!("{}/claim/{token}", self.public_url());
        let title = record.credential["credentialSubject"]["achievement"]["name"]
            .as_str()
            .unwrap_or(&title_request)
            .to_owned();
        let community = self.community(slug)?.name;
        let offer = match self.mailer() {
            None => ClaimOffer::Link {
                url,
                reason: "this node has no mail server (guildmark serve --smtp)".into(),
            },
            Some(mailer) => match mailer.send_claim(&address, &title, &community, &url).await {
                Ok(()) => ClaimOffer::Mailed { to: address },
                Err(error) => {
                    tracing::warn!(%error, "mailing a claim link failed");
                    ClaimOffer::Link {
                        url,
                        reason: format!("mailing it failed: {error}"),
                    }
                }
            },
        };
        Ok((record, receipt, offer))
    }

    /// The claim behind `token` and its badge; not found when the token is unknown.
    pub fn claim(&self, token: &str) -> NodeResult<(Claim, CredentialRecord)> {
        let claim: Claim = read(&self.trees.claims, &digest(token))?.ok_or_else(|| {
            NodeError::not_found(Thing::Credential, "this claim link is not valid")
        })?;
        let record = self.credential(&claim.badge)?;
        Ok((claim, record))
    }

    /// Claims the badge behind `token` for the signed-in `caller`: a new badge of the same
    /// achievement, from the same community, bound to the caller's DID, citing the
    /// emailed one. A link works once and for [`CLAIM_VALIDITY`].
    pub async fn claim_badge(
        &self,
        caller: Option<&Caller>,
        token: &str,
    ) -> NodeResult<(CredentialRecord, Receipt)> {
        let Some(caller) = caller else {
            return Err(NodeError::Unauthenticated(super::error::AuthError::Missing));
        };
        let _one_at_a_time = self.credential_ids.lock().await;
        let (claim, emailed) = self.claim(token)?;
        if let Some((by, _)) = &claim.claimed {
            return Err(NodeError::conflict(
                Thing::Credential,
                format!("this badge was already claimed (by {by}); a claim link works once"),
            ));
        }
        if claim.expires <= now() {
            return Err(NodeError::conflict(
                Thing::Credential,
                format!("this claim link expired at {}", claim.expires),
            ));
        }
        let slug = emailed.community.clone().unwrap_or_default();
        let record = self.claimed_badge(caller, &slug, &emailed).await?;
        let claimed = Claim {
            claimed: Some((caller.account().username.clone(), record.0.uuid.clone())),
            ..claim
        };
        write(&self.trees.claims, &digest(token), &claimed)?;
        self.flush().await?;
        Ok(record)
    }
}

/// The evidence a claimed badge carries: the emailed badge it replaces for its holder.
pub(crate) fn claim_evidence(emailed: &CredentialRecord) -> Evidence {
    let id = emailed.credential["id"].as_str().unwrap_or_default();
    let identity = emailed.credential["credentialSubject"]["identifier"][0]["identityHash"]
        .as_str()
        .unwrap_or_default();
    Evidence {
        id: Some(id.to_owned()),
        types: guildmark_credentials::credential::OneOrMany::Many(vec!["Evidence".into()]),
        narrative: Some(format!(
            "Claimed by its earner, who followed the claim link mailed to the address hashed as {identity} in the badge {id}."
        )),
        name: Some("Claimed from a badge awarded by email".into()),
        description: None,
        genre: None,
        extra: Map::new(),
    }
}
