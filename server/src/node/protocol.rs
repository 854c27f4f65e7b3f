//! Published review protocols: an admin uploads the TOML, the node validates it, signs it
//! as the community's protocol credential, logs it and serves it by content hash and by
//! id and version. Every version stays published.

use guildmark_credentials::Timestamp;
use guildmark_review_protocols::{Protocol, ProtocolHash};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::account::Caller;
use super::authz::Action;
use super::error::{Field, Thing};
use super::{key, now, read, scan, write, Node, NodeError, NodeResult};
use crate::ledger::entry::EntryKind;
use crate::ledger::LedgerError;

/// The largest protocol source accepted.
pub const MAX_SOURCE: usize = 128 * 1024;

/// A protocol to publish.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The protocol's TOML source.
    pub source: String,
}

/// The node's record of a published protocol.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolRecord {
    /// Its content hash, `sha256:…`.
    pub hash: String,
    /// The protocol's id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Its title.
    pub title: String,
    /// The publishing community.
    pub community: String,
    /// Its ledger index.
    pub ledger_index: u64,
    /// When it was logged.
    #[schema(value_type = String)]
    pub logged: Timestamp,
    /// The signed protocol credential.
    #[schema(value_type = Object)]
    pub credential: Value,
}

impl ProtocolRecord {
    /// The protocol the credential publishes.
    pub fn protocol(&self) -> NodeResult<Protocol> {
        Protocol::from_credential(&self.credential)
            .map_err(|e| NodeError::stored("published protocol")(e.into()))
    }
}

impl Node {
    /// Publishes a protocol as `slug`'s credential (its admins); refuses one already
    /// published.
    pub async fn publish_protocol(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        request: PublishRequest,
    ) -> NodeResult<ProtocolRecord> {
        self.permit(caller, slug, Action::PublishProtocol)?;
        if request.source.len() > MAX_SOURCE {
            return Err(NodeError::too_large(
                Some(Field::Source),
                format!("a protocol source may have at most {MAX_SOURCE} bytes"),
            ));
        }
        let protocol = Protocol::parse(&request.source).map_err(|e| {
            NodeError::invalid(Field::Source, format!("the protocol is not valid:\n{e}"))
        })?;
        let hash = protocol.hash();
        let _guard = self.review_lock.lock().await;
        if let Ok(existing) = self.protocol(&hash.to_string()) {
            return Err(NodeError::conflict(
                Thing::Protocol,
                format!(
                    "{hash} is already published by {:?} ({} {})",
                    existing.community, existing.id, existing.version
                ),
            )
            .at(Field::Source));
        }
        if self
            .trees
            .protocol_versions
            .contains_key(key(&[&protocol.id, &protocol.version]))?
        {
            return Err(NodeError::conflict(
                Thing::Protocol,
                format!(
                    "{} version {} is already published with other content; give the new text a new version",
                    protocol.id, protocol.version
                ),
            )
            .at(Field::Source));
        }
        let community = self.community(slug)?;
        let issuer_key = self.issuer_key(slug, community.epoch())?;
        let at = now();
        let url = self.protocol_url(&hash);
        let mut credential = protocol.to_credential(&url, community.issuer(), at);
        self.sign(&mut credential, &issuer_key, at, "protocol")?;
        let receipt = self
            .log(EntryKind::Protocol, &credential, Some(&url), at)
            .await
            .map_err(too_large("protocol", Thing::Protocol, Some(Field::Source)))?;
        let record = ProtocolRecord {
            hash: hash.to_string(),
            id: protocol.id.clone(),
            version: protocol.version.clone(),
            title: protocol.title.clone(),
            community: slug.to_owned(),
            ledger_index: receipt.index,
            logged: at,
            credential,
        };
        self.store_protocol(&record)?;
        Ok(record)
    }

    /// The URL of a protocol credential.
    pub fn protocol_url(&self, hash: &ProtocolHash) -> String {
        let hex = hash.to_string();
        format!(
            "{}/protocols/{}",
            self.public_url(),
            hex.trim_start_matches("sha256:")
        )
    }

    pub(crate) fn store_protocol(&self, record: &ProtocolRecord) -> NodeResult<()> {
        write(&self.trees.protocols, record.hash.as_bytes(), record)?;
        self.trees
            .protocol_versions
            .insert(key(&[&record.id, &record.version]), record.hash.as_bytes())?;
        Ok(())
    }

    /// A published protocol by content hash (`sha256:…`, or the 64 hex digits alone).
    pub fn protocol(&self, hash: &str) -> NodeResult<ProtocolRecord> {
        let full = if hash.starts_with("sha256:") {
            hash.to_owned()
        } else {
            format!("sha256:{hash}")
        };
        read(&self.trees.protocols, full.as_bytes())?.ok_or_else(|| {
            NodeError::not_found(
                Thing::Protocol,
                format!("no protocol {hash:?} is published here"),
            )
        })
    }

    /// A published protocol by id and version.
    pub fn protocol_version(&self, id: &str, version: &str) -> NodeResult<ProtocolRecord> {
        let hash = self
            .trees
            .protocol_versions
            .get(key(&[id, version]))?
            .ok_or_else(|| {
                NodeError::not_found(
                    Thing::Protocol,
                    format!("no protocol {id:?} version {version:?} is published here"),
                )
            })?;
        self.protocol(&String::from_utf8_lossy(&hash))
    }

    /// Every published protocol, in ledger order.
    pub fn protocols(&self) -> NodeResult<Vec<ProtocolRecord>> {
        let mut all: Vec<ProtocolRecord> = scan(&self.trees.protocols, b"")?;
        all.sort_by_key(|p| p.ledger_index);
        Ok(all)
    }

    /// Takes a logged protocol credential into the node's records (replay).
    pub(crate) fn adopt_protocol(
        &self,
        index: u64,
        credential: Value,
        at: Timestamp,
    ) -> NodeResult<()> {
        let Ok(protocol) = Protocol::from_credential(&credential) else {
            return Ok(());
        };
        let hash = protocol.hash().to_string();
        if self.trees.protocols.contains_key(hash.as_bytes())? {
            return Ok(());
        }
        let issuer = super::badge::issuer_of(&credential);
        let Some((slug, _)) = self.community_of_issuer(issuer)? else {
            return Ok(());
        };
        self.store_protocol(&ProtocolRecord {
            hash,
            id: protocol.id.clone(),
            version: protocol.version.clone(),
            title: protocol.title.clone(),
            community: slug,
            ledger_index: index,
            logged: at,
            credential,
        })
    }
}

/// Maps the ledger's size refusal to a clear "too large" for `what` (blaming `field`),
/// and its duplicate refusal to a conflict with `thing`.
pub(crate) fn too_large(
    what: &'static str,
    thing: Thing,
    field: Option<Field>,
) -> impl Fn(NodeError) -> NodeError {
    move |e| match e {
        NodeError::Ledger(LedgerError::EntryTooLarge(n)) => NodeError::too_large(
            field,
            format!(
                "the signed {what} would be {n} bytes; the ledger takes at most {}",
                crate::ledger::MAX_ENTRY
            ),
        ),
        NodeError::Ledger(LedgerError::Duplicate { .. }) => {
            NodeError::conflict(thing, format!("this {what} is already logged"))
        }
        e => e,
    }
}
