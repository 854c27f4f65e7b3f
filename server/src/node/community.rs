//! Communities, their issuer keys (one per epoch; rotation is logged and signed by the
//! old key) and their members' roles.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use guildmark_credentials::jsonld::GUILDMARK_CONTEXT;
use guildmark_credentials::validation::CREDENTIALS_V2;
use guildmark_credentials::{KeyPair, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::account::{check_name, Caller};
use super::authz::Action;
use super::error::{Field, Thing};
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

impl Role {
    /// Every role, in the order pages list them.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Assessor,
        Role::Reviewer,
        Role::Producer,
        Role::Apprentice,
    ];

    /// Its name in the API (`admin`, `assessor`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Assessor => "assessor",
            Role::Reviewer => "reviewer",
            Role::Producer => "producer",
            Role::Apprentice => "apprentice",
        }
    }
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
            keys::load_or_create(&self.issuer_key_path(slug, epoch)).map_err(NodeError::from)?,
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
        read(&self.trees.communities, slug.as_bytes())?.ok_or_else(|| {
            NodeError::not_found(Thing::Community, format!("there is no community {slug:?}"))
        })
    }

    /// Every community on this node.
    pub fn communities(&self) -> NodeResult<Vec<Community>> {
        scan(&self.trees.communities, b"")
    }

    /// The community whose issuer key (at some epoch) is `did`.
    pub fn community_of_issuer(&self, did: &str) -> NodeResult<Option<(String, usize)>> {
        read(&self.trees.issuers, did.as_bytes())
    }

    /// Creates a community with a fresh issuer key and the caller (the operator) as its
    /// admin; logged.
    pub async fn create_community(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        name: &str,
        description: &str,
    ) -> NodeResult<Community> {
        let permit = self.permit_on_node(caller, Action::CreateCommunity)?;
        let founder = permit.account();
        check_name(slug, "community slug").map_err(|e| e.at(Field::Slug))?;
        check_line(name, Field::Name, 1, 200)?;
        check_text(description, Field::Description, 0, 5000)?;
        let taken = || {
            NodeError::conflict(
                Thing::Community,
                format!("the community {slug:?} already exists"),
            )
            .at(Field::Slug)
        };
        if self.trees.communities.contains_key(slug)? {
            return Err(taken());
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
            NodeError::Ledger(LedgerError::Duplicate { .. }) => taken(),
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

    /// Changes a community's name or description (its admins).
    pub async fn update_community(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> NodeResult<Community> {
        self.permit(caller, slug, Action::UpdateCommunity)?;
        let mut community = self.community(slug)?;
        if let Some(name) = name {
            check_line(name, Field::Name, 1, 200)?;
            community.name = name.to_owned();
        }
        if let Some(description) = description {
            check_text(description, Field::Description, 0, 5000)?;
            community.description = description.to_owned();
        }
        write(&self.trees.communities, slug.as_bytes(), &community)?;
        self.flush().await?;
        Ok(community)
    }

    /// Rotates a community's issuer key: the rotation is a credential signed by the old
    /// key naming the new one, logged before the new key is used. Credentials signed
    /// with the old key still verify (did:key needs nothing else), and its status lists
    /// stay signed by it. Its admins may.
    pub async fn rotate_key(
        &self,
        caller: Option<&Caller>,
        slug: &str,
    ) -> NodeResult<(Community, serde_json::Value)> {
        self.permit(caller, slug, Action::RotateKey)?;
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
        self.sign(&mut rotation, &old, at, "key rotation")?;
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

    /// Adds `username` to `slug` or changes their roles (its admins).
    pub async fn set_member(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        username: &str,
        roles: BTreeSet<Role>,
    ) -> NodeResult<Member> {
        self.permit(caller, slug, Action::SetMember)?;
        if roles.is_empty() {
            return Err(NodeError::invalid(
                Field::Roles,
                "a member needs at least one role (remove them instead)",
            ));
        }
        let account = self.account(username)?.ok_or_else(|| {
            NodeError::not_found(Thing::Account, format!("there is no account {username:?}"))
                .at(Field::Username)
        })?;
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

    /// Removes `username` from `slug` (its admins). Their badges stay valid.
    pub async fn remove_member(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        username: &str,
    ) -> NodeResult<()> {
        self.permit(caller, slug, Action::RemoveMember)?;
        let Some(member) = self.member(slug, username)? else {
            return Err(NodeError::not_found(
                Thing::Member,
                format!("{username:?} is not a member of {slug:?}"),
            )
            .at(Field::Username));
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
            Err(NodeError::conflict(
                Thing::Member,
                format!("{leaving:?} is the last admin of {slug:?}; make someone else admin first"),
            )
            .at(Field::Roles))
        }
    }
}

/// Checks a free-text field's length (in characters).
pub fn check_text(text: &str, field: Field, min: usize, max: usize) -> NodeResult<()> {
    check_text_named(text, field, field.as_str(), min, max)
}

/// [`check_text`] for a one-line value (a name, a title): no line breaks or tabs
/// either, since names go into titles, headers, labels and comment lines of files.
pub fn check_line(text: &str, field: Field, min: usize, max: usize) -> NodeResult<()> {
    check_text(text, field, min, max)?;
    if text.chars().any(char::is_control) {
        return Err(NodeError::invalid(
            field,
            format!(
                "{} must be one line, without tabs or line breaks",
                field.as_str()
            ),
        ));
    }
    Ok(())
}

/// [`check_text`] for a value the message names otherwise than its field (one of several
/// pieces of evidence, a tag).
pub fn check_text_named(
    text: &str,
    field: Field,
    what: &str,
    min: usize,
    max: usize,
) -> NodeResult<()> {
    let n = text.chars().count();
    if n < min || n > max {
        return Err(NodeError::invalid(
            field,
            format!("{what} must have {min}-{max} characters (it has {n})"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(NodeError::invalid(
            field,
            format!("{what} contains control characters"),
        ));
    }
    Ok(())
}
