//! Why a node operation failed, as data: which request field was at fault, what was not
//! found or conflicted, which action was refused. Adapters (the API's problem details, the
//! pages' forms) decide from these variants and fields alone; the messages are for people,
//! and rewording one changes no behaviour.

use crate::durable::DurableError;
use crate::keys::KeyFileError;
use crate::ledger::LedgerError;

use super::authz::Action;

/// A request value an operation refused, named as the JSON API names it (forms map
/// these names to their own fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `username`: an account name.
    Username,
    /// `password`.
    Password,
    /// `slug`: a community's short name.
    Slug,
    /// `name`: a display name, an achievement's or an API token's name.
    Name,
    /// `title`.
    Title,
    /// `description`.
    Description,
    /// `criteria`.
    Criteria,
    /// `image`: an uploaded image's SHA-256.
    Image,
    /// `tags`.
    Tags,
    /// `level`.
    Level,
    /// `prerequisites`.
    Prerequisites,
    /// `protocol`: a protocol's id or content hash.
    Protocol,
    /// `roles`.
    Roles,
    /// `file`: an uploaded file.
    File,
    /// `recipient`: who a badge is for.
    Recipient,
    /// `achievement`.
    Achievement,
    /// `narrative`.
    Narrative,
    /// `evidence`.
    Evidence,
    /// `validFrom`.
    ValidFrom,
    /// `validUntil`.
    ValidUntil,
    /// `overridePrerequisites`: the reason for issuing without a prerequisite.
    OverridePrerequisites,
    /// `target`: what an endorsement endorses.
    Target,
    /// `comment`.
    Comment,
    /// `credential`: a credential the caller signed.
    Credential,
    /// `source`: a protocol's TOML.
    Source,
    /// `product`.
    Product,
    /// `lotSize`.
    LotSize,
    /// `serials`.
    Serials,
    /// `productionDate`.
    ProductionDate,
    /// `notes`.
    Notes,
    /// `sampled`: the units a reviewer inspected.
    Sampled,
    /// `results`: a reviewer's measured values.
    Results,
    /// `verdict`: a reviewer's verdict.
    Verdict,
    /// `expiresAt`: an API token's expiry.
    ExpiresAt,
    /// `presentation`: a signed verifiable presentation.
    Presentation,
    /// The document handed in for verification.
    Document,
    /// A peer's URL.
    Url,
    /// A log's verifier key.
    LogKey,
    /// A witness's verifier key.
    WitnessKey,
}

impl Field {
    /// The member's name in the API's JSON.
    pub fn as_str(self) -> &'static str {
        use Field::*;
        match self {
            Username => "username",
            Password => "password",
            Slug => "slug",
            Name => "name",
            Title => "title",
            Description => "description",
            Criteria => "criteria",
            Image => "image",
            Tags => "tags",
            Level => "level",
            Prerequisites => "prerequisites",
            Protocol => "protocol",
            Roles => "roles",
            File => "file",
            Recipient => "recipient",
            Achievement => "achievement",
            Narrative => "narrative",
            Evidence => "evidence",
            ValidFrom => "validFrom",
            ValidUntil => "validUntil",
            OverridePrerequisites => "overridePrerequisites",
            Target => "target",
            Comment => "comment",
            Credential => "credential",
            Source => "source",
            Product => "product",
            LotSize => "lotSize",
            Serials => "serials",
            ProductionDate => "productionDate",
            Notes => "notes",
            Sampled => "sampled",
            Results => "results",
            Verdict => "verdict",
            ExpiresAt => "expiresAt",
            Presentation => "presentation",
            Document => "document",
            Url => "url",
            LogKey => "logKey",
            WitnessKey => "witnessKey",
        }
    }
}

/// Something a request can name: what was not found, or what a conflict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Thing {
    /// An account.
    Account,
    /// A community.
    Community,
    /// A membership of an account in a community.
    Member,
    /// An achievement.
    Achievement,
    /// A logged credential (badge, endorsement, attestation).
    Credential,
    /// An uploaded file.
    File,
    /// An API token.
    Token,
    /// A review protocol.
    Protocol,
    /// A product batch.
    Batch,
    /// A device, by serial number.
    Device,
    /// A status list.
    StatusList,
    /// A holder key (a did:key registered to an account).
    HolderKey,
    /// A ledger entry, or a size of the ledger.
    Entry,
    /// A peer node.
    Peer,
}

/// How a request failed to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No session cookie or token came with a request that needs one.
    #[error("log in or send an API token (Authorization: Bearer …)")]
    Missing,
    /// The `Authorization` header is not a Bearer token.
    #[error("the Authorization header must be `Bearer <API token>`")]
    MalformedHeader,
    /// A login named no account, or the password was wrong (not said which).
    #[error("unknown username or wrong password")]
    WrongPassword,
    /// The session cookie names no live session.
    #[error("the session has ended; log in again")]
    SessionEnded,
    /// The session is past its lifetime.
    #[error("the session has expired; log in again")]
    SessionExpired,
    /// The API token is unknown or was revoked.
    #[error("the API token is unknown or was revoked")]
    UnknownToken,
    /// The API token is past its expiry.
    #[error("the API token has expired")]
    TokenExpired,
    /// The session's or token's account was deleted.
    #[error("the account no longer exists")]
    AccountGone,
}

/// Why the node's own records could not be read or written; the source is kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// sled failed.
    #[error(transparent)]
    Sled(#[from] sled::Error),
    /// Opening or flushing the store failed.
    #[error(transparent)]
    Durable(#[from] DurableError),
    /// A stored record does not parse as its type.
    #[error("a stored record does not parse: {0}")]
    Record(#[from] serde_json::Error),
    /// A credential the node stored and signed itself does not read back.
    #[error("a stored {what} does not read: {source}")]
    Credential {
        /// What kind of credential.
        what: &'static str,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Something the records point at is missing.
    #[error("{0} is missing from the node's records")]
    Missing(String),
    /// The store was written by a layout this release does not know.
    #[error("{0}")]
    Version(String),
    /// A blocking task was cancelled or panicked.
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Why a key could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key file could not be read or created.
    #[error(transparent)]
    File(#[from] KeyFileError),
    /// Signing failed.
    #[error("signing the {what}: {source}")]
    Sign {
        /// What was being signed.
        what: &'static str,
        /// The signer's error.
        source: guildmark_credentials::ProofError,
    },
    /// Hashing a password failed.
    #[error("hashing a password: {0}")]
    Password(argon2::password_hash::Error),
}

/// A failed node operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The request names something that does not exist.
    #[error("{detail}")]
    NotFound {
        /// What kind of thing.
        what: Thing,
        /// The request field that named it, if one did.
        field: Option<Field>,
        /// What, in words.
        detail: String,
    },
    /// The request is well-formed but a value is not acceptable.
    #[error("{detail}")]
    Invalid {
        /// The field at fault, when one is.
        field: Option<Field>,
        /// Why, in words.
        detail: String,
    },
    /// The request conflicts with the current state (a taken name, a revoked badge).
    #[error("{detail}")]
    Conflict {
        /// What it conflicts with.
        what: Thing,
        /// The request field that caused it, if one did.
        field: Option<Field>,
        /// Why, in words.
        detail: String,
    },
    /// The recipient lacks prerequisite achievements.
    #[error("{recipient:?} does not hold the prerequisite(s) {} (an admin may override with a reason)", missing.join(", "))]
    PrerequisiteMissing {
        /// The recipient's username.
        recipient: String,
        /// The achievements (ids) not held.
        missing: Vec<String>,
    },
    /// The reviewer does not hold a badge the protocol requires.
    #[error("{0}")]
    NotQualified(String),
    /// The reviewer is affiliated with the producing community.
    #[error("{0}")]
    NotIndependent(String),
    /// No valid credentials were presented.
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// The caller is known but may not do this.
    #[error("{detail}")]
    Forbidden {
        /// What was refused.
        action: Action,
        /// Why, in words.
        detail: String,
    },
    /// Too many attempts; retry after this many seconds.
    #[error("{detail}; retry in {retry_after} s")]
    RateLimited {
        /// What was attempted too often.
        detail: String,
        /// Seconds until the next attempt is allowed.
        retry_after: u64,
    },
    /// The node cannot take this now (it is at a limit it keeps to stay up); retry
    /// after this many seconds.
    #[error("{detail}; retry in {retry_after} s")]
    Busy {
        /// What is at its limit.
        detail: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// Something is larger than the node accepts.
    #[error("{detail}")]
    TooLarge {
        /// The field that is too large, when one is.
        field: Option<Field>,
        /// The limit and the size, in words.
        detail: String,
    },
    /// Another node could not be reached, or answered what it must not.
    #[error("the node at {url}: {detail}")]
    Peer {
        /// The other node's URL.
        url: String,
        /// What went wrong, in words.
        detail: String,
    },
    /// The ledger refused or failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The node's own records could not be read or written.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// A key file or signature operation failed.
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
}

impl NodeError {
    /// `what` does not exist.
    pub fn not_found(what: Thing, detail: impl Into<String>) -> NodeError {
        NodeError::NotFound {
            what,
            field: None,
            detail: detail.into(),
        }
    }

    /// A value of `field` is not acceptable.
    pub fn invalid(field: Field, detail: impl Into<String>) -> NodeError {
        NodeError::Invalid {
            field: Some(field),
            detail: detail.into(),
        }
    }

    /// The request as a whole is not acceptable (no one field is at fault).
    pub fn invalid_request(detail: impl Into<String>) -> NodeError {
        NodeError::Invalid {
            field: None,
            detail: detail.into(),
        }
    }

    /// The request conflicts with `what`.
    pub fn conflict(what: Thing, detail: impl Into<String>) -> NodeError {
        NodeError::Conflict {
            what,
            field: None,
            detail: detail.into(),
        }
    }

    /// `field` (or the request) is larger than the node accepts.
    pub fn too_large(field: Option<Field>, detail: impl Into<String>) -> NodeError {
        NodeError::TooLarge {
            field,
            detail: detail.into(),
        }
    }

    /// The same error, attributed to request field `field` (for errors that can name
    /// one: not found, invalid, conflict, too large).
    pub fn at(mut self, at: Field) -> NodeError {
        match &mut self {
            NodeError::NotFound { field, .. }
            | NodeError::Invalid { field, .. }
            | NodeError::Conflict { field, .. }
            | NodeError::TooLarge { field, .. } => *field = Some(at),
            _ => {}
        }
        self
    }

    /// The request field at fault, if the error names one.
    pub fn field(&self) -> Option<Field> {
        match self {
            NodeError::NotFound { field, .. }
            | NodeError::Invalid { field, .. }
            | NodeError::Conflict { field, .. }
            | NodeError::TooLarge { field, .. } => *field,
            _ => None,
        }
    }

    /// Signing `what` failed.
    pub(crate) fn signing(
        what: &'static str,
    ) -> impl FnOnce(guildmark_credentials::ProofError) -> NodeError {
        move |source| NodeError::Keys(KeyError::Sign { what, source })
    }

    /// A credential the node stored does not read back as `what`.
    pub(crate) fn stored(
        what: &'static str,
    ) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> NodeError {
        move |source| NodeError::Storage(StorageError::Credential { what, source })
    }
}

impl From<sled::Error> for NodeError {
    fn from(error: sled::Error) -> Self {
        NodeError::Storage(error.into())
    }
}

impl From<DurableError> for NodeError {
    fn from(error: DurableError) -> Self {
        NodeError::Storage(error.into())
    }
}

impl From<serde_json::Error> for NodeError {
    fn from(error: serde_json::Error) -> Self {
        NodeError::Storage(error.into())
    }
}

impl From<KeyFileError> for NodeError {
    fn from(error: KeyFileError) -> Self {
        NodeError::Keys(error.into())
    }
}

impl From<sled::transaction::TransactionError<NodeError>> for NodeError {
    fn from(error: sled::transaction::TransactionError<NodeError>) -> Self {
        match error {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => e.into(),
        }
    }
}

/// The result of a node operation.
pub type NodeResult<T> = Result<T, NodeError>;
