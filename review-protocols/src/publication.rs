//! A protocol published as a credential: a community signs the protocol's JSON form and
//! its content hash, so anyone can check which text an attestation's hash names and who
//! published it.

use guildmark_credentials::jsonld::GUILDMARK_CONTEXT;
use guildmark_credentials::time::Timestamp;
use serde_json::{json, Value};

use crate::protocol::{Protocol, ProtocolError, ProtocolHash};

/// The credential type of a published protocol.
pub const PROTOCOL_CREDENTIAL_TYPE: &str = "ReviewProtocolCredential";

/// The type of its subject.
pub const PROTOCOL_TYPE: &str = "ReviewProtocol";

/// Why a credential is not a well-formed published protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublicationError {
    /// The credential's `type` lacks `ReviewProtocolCredential`.
    #[error("not a published protocol (type lacks {PROTOCOL_CREDENTIAL_TYPE})")]
    NotAProtocol,
    /// A field is missing or malformed.
    #[error("credentialSubject: {0}")]
    Subject(String),
    /// The embedded definition is not a valid protocol.
    #[error("the protocol definition is invalid:\n{0}")]
    Definition(ProtocolError),
    /// The stated digest is not the definition's hash.
    #[error("the digest {stated} does not match the definition, whose hash is {actual}")]
    Digest {
        /// The digest the credential states.
        stated: String,
        /// The hash of its definition.
        actual: ProtocolHash,
    },
    /// The subject id does not name the definition's id and version.
    #[error("the subject id {stated} does not name the definition ({expected})")]
    Id {
        /// The id the credential states.
        stated: String,
        /// The URN of the definition.
        expected: String,
    },
}

impl Protocol {
    /// `urn:guildmark:protocol:<id>:<version>`: the protocol's name, as attestations and
    /// its credential cite it. The content hash, not this name, decides which text applies.
    pub fn urn(&self) -> String {
        format!("urn:guildmark:protocol:{}:{}", self.id, self.version)
    }

    /// The unsigned credential publishing this protocol, issued by a community.
    pub fn to_credential(&self, id: &str, issuer: &str, valid_from: Timestamp) -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", GUILDMARK_CONTEXT],
            "id": id,
            "type": ["VerifiableCredential", PROTOCOL_CREDENTIAL_TYPE],
            "issuer": issuer,
            "validFrom": valid_from.to_rfc3339(),
            "name": self.title,
            "credentialSubject": {
                "id": self.urn(),
                "type": PROTOCOL_TYPE,
                "digest": self.hash().to_string(),
                "definition": self.to_json(),
            },
        })
    }

    /// Reads the protocol a credential publishes (its shape and digest, not its proof).
    pub fn from_credential(document: &Value) -> Result<Protocol, PublicationError> {
        Self::from_credential_hashed(document).map(|(protocol, _)| protocol)
    }

    /// [`Protocol::from_credential`], also returning the protocol's hash (computed to
    /// check the digest anyway).
    pub fn from_credential_hashed(
        document: &Value,
    ) -> Result<(Protocol, ProtocolHash), PublicationError> {
        let is_protocol = match document.get("type") {
            Some(Value::Array(types)) => types.iter().any(|t| t == PROTOCOL_CREDENTIAL_TYPE),
            _ => false,
        };
        if !is_protocol {
            return Err(PublicationError::NotAProtocol);
        }
        let subject = document
            .get("credentialSubject")
            .and_then(Value::as_object)
            .ok_or_else(|| PublicationError::Subject("missing or not an object".into()))?;
        let text = |name: &str| {
            subject.get(name).and_then(Value::as_str).ok_or_else(|| {
                PublicationError::Subject(format!("{name} is missing or not a string"))
            })
        };
        if text("type")? != PROTOCOL_TYPE {
            return Err(PublicationError::Subject(format!(
                "type is not {PROTOCOL_TYPE:?}"
            )));
        }
        if let Some(extra) = subject
            .keys()
            .find(|k| !matches!(k.as_str(), "id" | "type" | "digest" | "definition"))
        {
            return Err(PublicationError::Subject(format!(
                "unknown field {extra:?}"
            )));
        }
        let definition = subject
            .get("definition")
            .ok_or_else(|| PublicationError::Subject("definition is missing".into()))?;
        let protocol = Protocol::from_json(definition).map_err(PublicationError::Definition)?;
        let stated = text("digest")?;
        let actual = protocol.hash();
        if stated != actual.to_string() {
            return Err(PublicationError::Digest {
                stated: stated.to_owned(),
                actual,
            });
        }
        let id = text("id")?;
        if id != protocol.urn() {
            return Err(PublicationError::Id {
                stated: id.to_owned(),
                expected: protocol.urn(),
            });
        }
        Ok((protocol, actual))
    }
}
