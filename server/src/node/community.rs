//! Communities, their issuer keys (one per epoch; rotation is logged and signed by the
//! old key) and their members' roles.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use guildmark_credentials::jsonld::GUILDMARK_CONTEXT;
use guildmark_credentials::validation::CREDENTIALS_V2;
use guildmark_credentials::{proof, Cryptosuite, KeyPair, ProofOptions, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::account::{check_name, Account};
use super::{key, now, read, scan, write, Node, NodeError, NodeResult};
use crate::keys;
use crate::ledger::entry::EntryKind;
use crate::ledger::LedgerError;

/// A member's role in a community.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the community: members, achievements, keys, revocation.
    Admin,
    /// Awards badges.
    Assessor,
    /// Reviews other communities' batches.
    Reviewer,
    /// Produces hardware.
    Producer,
    /// Learns.
    Apprentice,
}

/// One issuer key of a community, in force from `since` until the next one.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuerEpoch {
    /// The key's did:key.
    pub did: String,
    /// When it became the community's key.
    #[schema(value_type = String)]
    pub since: Timestamp,
}

/// A community hosted on this node.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Community {
    /// Short name used in URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the community is.
    pub description: String,
    /// Its page on this node (also the `url` of its issuer profile).
    pub url: String,
    /// Its issuer keys, oldest first; the last is current.
    pub issuers: Vec<IssuerEpoch>,
    /// When it was created.
    #[schema(value_type = String)]
    pub created: Timestamp,
}

impl Community {
    /// The current key epoch.
    pub fn epoch(&self) -> usize {
        self.issuers.len() - 1
    }

    /// The current issuer did:key.
    pub fn issuer(&self) -> &str {
        &self.issuers[self.epoch()].did
    }
}

/// A membership.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The member's account.
    pub username: String,
    /// Their roles here.
    pub roles: BTreeSet<Role>,
    /// Their holder did:key.
    pub holder: String,
    /// When they joined.
    #[schema(value_type = String)]
    pub since: Timestamp,
}

/// Issuer keys loaded from the data directory, by community and epoch.
#[derive(Default)]
pub struct IssuerKeys {
    loaded: Mutex<HashMap<(String, usize), Arc<KeyPair>>>,
}

impl Node {
    fn issuer_key_path(&self, slug: &str, epoch: usize) -> std::path::PathBuf {
        self.keys_dir
            .join("communities")
            .join(slug)
            .join(format!("{epoch}.key"))
    }

    /// The issuer key of `slug` at `epoch`.
    pub(crate) fn issuer_key(&self, slug: &str, epoch: usize) -> NodeResult<Arc<KeyPair>> {
        let id = (slug.to_owned(), epoch);
        if let Some(pair) = self
            .issuers
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            return Ok(pair.clone());
        }
        let pair = Arc::new(
            keys::load_or_create(&self.issuer_key_path(slug, epoch))
                .map_err(|e| NodeError::Keys(format!("{e:#}")))?,
        );
        self.issuers
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, pair.clone());
        Ok(pair)
    }

    /// A community by slug.
    pub fn community(&self, slug: &str) -> NodeResult<Community> {
        read(&self.trees.communities, slug.as_bytes())?
            .ok_or_else(|| NodeError::NotFound(format!("there is no community {slug:?}")))
    }

    /// Every community on this node.
    pub fn communities(&self) -> NodeResult<Vec<Community>> {
        scan(&self.trees.communities, b"")
    }

    /// The community whose issuer key (at some epoch) is `did`.
    pub fn community_of_issuer(&self, did: &str) -> NodeResult<Option<(String, usize)>> {
        read(&self.trees.issuers, did.as_bytes())
    }

    /// Creates a community with a fresh issuer key and `founder` as its admin; logged.
    pub async fn create_community(
        &self,
        slug: &str,
        name: &str,
        description: &str,
        founder: &Account,
    ) -> NodeResult<Community> {
        check_name(slug, "community slug")?;
        check_text(name, "name", 1, 200)?;
        check_text(description, "description", 0, 5000)?;
        if self.trees.communities.contains_key(slug)? {
            return Err(NodeError::Conflict(format!(
                "the community {slug:?} already exists"
            )));
        }
        let issuer_key = self.issuer_key(slug, 0)?;
        let created = now();
        let community = Community {
            slug: slug.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            url: format!("{}/communities/{slug}", self.public_url()),
            issuers: vec![IssuerEpoch {
                did: issuer_key.did_key().did().to_owned(),
                since: created,
            }],
            created,
        };
        let payload = json!({
            "community": community.url,
            "name": community.name,
            "issuer": community.issuer(),
        });
        self.log(
            EntryKind::Community,
            &payload,
            Some(&format!("community:{}", community.url)),
            created,
        )
        .await
        .map_err(|e| match e {
            NodeError::Ledger(LedgerError::Duplicate { .. }) => {
                NodeError::Conflict(format!("the community {slug:?} already exists"))
            }
            e => e,
        })?;
        self.store_community(&community)?;
        let member = Member {
            username: founder.username.clone(),
            roles: BTreeSet::from([Role::Admin]),
            holder: founder.holder.clone(),
            since: created,
        };
        write(
            &self.trees.members,
            &key(&[slug, &founder.username]),
            &member,
        )?;
        self.flush().await?;
        Ok(community)
    }

    pub(crate) fn store_community(&self, community: &Community) -> NodeResult<()> {
        write(
            &self.trees.communities,
            community.slug.as_bytes(),
            community,
        )?;
        for (epoch, issuer) in community.issuers.iter().enumerate() {
            write(
                &self.trees.issuers,
                issuer.did.as_bytes(),
                &(community.slug.clone(), epoch),
            )?;
        }
        Ok(())
    }

    /// Changes a community's name or description.
    pub async fn update_community(
        &self,
        slug: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> NodeResult<Community> {
        let mut community = self.community(slug)?;
        if let Some(name) = name {
            check_text(name, "name", 1, 200)?;
            community.name = name.to_owned();
        }
        if let Some(description) = description {
            check_text(description, "description", 0, 5000)?;
            community.description = description.to_owned();
        }
        write(&self.trees.communities, slug.as_bytes(), &community)?;
        self.flush().await?;
        Ok(community)
    }

    /// Rotates a community's issuer key: the rotation is a credential signed by the old
    /// key naming the new one, logged before the new key is used. Credentials signed
    /// with the old key still verify (did:key needs nothing else), and its status lists
    /// stay signed by it.
    pub async fn rotate_key(&self, slug: &str) -> NodeResult<(Community, serde_json::Value)> {
        let _guard = self.status.lock_community(slug).await;
        let mut community = self.community(slug)?;
        let old_epoch = community.epoch();
        let old = self.issuer_key(slug, old_epoch)?;
        let new = self.issuer_key(slug, old_epoch + 1)?;
        let at = now();
        let mut rotation = json!({
            "@context": [CREDENTIALS_V2, GUILDMARK_CONTEXT],
            "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            "type": ["VerifiableCredential", "IssuerKeyRotation"],
            "issuer": old.did_key().did(),
            "validFrom": at.to_string(),
            "credentialSubject": {
                "id": new.did_key().did(),
                "type": "IssuerKey",
                "community": community.url,
                "previousKey": old.did_key().did(),
            }
        });
        proof::sign(
            &mut rotation,
            &old,
            &ProofOptions::new(Cryptosuite::EddsaJcs2022, Some(at)),
            &self.contexts,
        )
        .map_err(|e| NodeError::Keys(format!("signing the key rotation: {e}")))?;
        self.log(EntryKind::Key, &rotation, None, at).await?;
        community.issuers.push(IssuerEpoch {
            did: new.did_key().did().to_owned(),
            since: at,
        });
        self.store_community(&community)?;
        self.flush().await?;
        Ok((community, rotation))
    }

    /// A member's record, if `username` belongs to `slug`.
    pub fn member(&self, slug: &str, username: &str) -> NodeResult<Option<Member>> {
        read(&self.trees.members, &key(&[slug, username]))
    }

    /// The roles `username` has in `slug` (empty if not a member).
    pub fn roles(&self, slug: &str, username: &str) -> NodeResult<BTreeSet<Role>> {
        Ok(self
            .member(slug, username)?
            .map(|m| m.roles)
            .unwrap_or_default())
    }

    /// A community's members.
    pub fn members(&self, slug: &str) -> NodeResult<Vec<Member>> {
        self.community(slug)?;
        scan(&self.trees.members, &key(&[slug, ""]))
    }

    /// The communities `username` belongs to, with their roles.
    pub fn memberships(&self, username: &str) -> NodeResult<Vec<(String, BTreeSet<Role>)>> {
        let mut out = Vec::new();
        for item in self.trees.members.iter() {
            let (k, v) = item?;
            let k = String::from_utf8_lossy(&k).into_owned();
            if let Some((slug, user)) = k.split_once('\0') {
                if user == username {
                    let member: Member = serde_json::from_slice(&v)?;
                    out.push((slug.to_owned(), member.roles));
                }
            }
        }
        Ok(out)
    }

    /// Adds `username` to `slug` or changes their roles.
    pub async fn set_member(
        &self,
        slug: &str,
        username: &str,
        roles: BTreeSet<Role>,
    ) -> NodeResult<Member> {
        self.community(slug)?;
        if roles.is_empty() {
            return Err(NodeError::Invalid(
                "a member needs at least one role (remove them instead)".into(),
            ));
        }
        let account = self
            .account(username)?
            .ok_or_else(|| NodeError::NotFound(format!("there is no account {username:?}")))?;
        let existing = self.member(slug, username)?;
        if existing
            .as_ref()
            .is_some_and(|m| m.roles.contains(&Role::Admin))
            && !roles.contains(&Role::Admin)
        {
            self.keep_an_admin(slug, username)?;
        }
        let member = Member {
            username: username.to_owned(),
            roles,
            holder: account.holder,
            since: existing.map(|m| m.since).unwrap_or_else(now),
        };
        write(&self.trees.members, &key(&[slug, username]), &member)?;
        self.flush().await?;
        Ok(member)
    }

    /// Removes `username` from `slug`. Their badges stay valid.
    pub async fn remove_member(&self, slug: &str, username: &str) -> NodeResult<()> {
        self.community(slug)?;
        let Some(member) = self.member(slug, username)? else {
            return Err(NodeError::NotFound(format!(
                "{username:?} is not a member of {slug:?}"
            )));
        };
        if member.roles.contains(&Role::Admin) {
            self.keep_an_admin(slug, username)?;
        }
        self.trees.members.remove(key(&[slug, username]))?;
        self.flush().await?;
        Ok(())
    }

    fn keep_an_admin(&self, slug: &str, leaving: &str) -> NodeResult<()> {
        let others = self
            .members(slug)?
            .into_iter()
            .any(|m| m.username != leaving && m.roles.contains(&Role::Admin));
        if others {
            Ok(())
        } else {
            Err(NodeError::Conflict(format!(
                "{leaving:?} is the last admin of {slug:?}; make someone else admin first"
            )))
        }
    }
}

/// Checks a free-text field's length (in characters).
pub fn check_text(text: &str, what: &str, min: usize, max: usize) -> NodeResult<()> {
    let n = text.chars().count();
    if n < min || n > max {
        return Err(NodeError::Invalid(format!(
            "{what} must have {min}-{max} characters (it has {n})"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(NodeError::Invalid(format!(
            "{what} contains control characters"
        )));
    }
    Ok(())
}
