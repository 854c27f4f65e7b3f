//! Why a node operation failed, in terms the API maps to problem details.

use crate::durable::DurableError;
use crate::ledger::LedgerError;

/// A failed node operation.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The request names something that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but not acceptable (a bad value, an unknown role, …).
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (a taken name, an already revoked badge).
    #[error("{0}")]
    Conflict(String),
    /// The recipient lacks a prerequisite achievement.
    #[error("{0}")]
    PrerequisiteMissing(String),
    /// The reviewer does not hold a badge the protocol requires.
    #[error("{0}")]
    NotQualified(String),
    /// The reviewer is affiliated with the producing community.
    #[error("{0}")]
    NotIndependent(String),
    /// No valid credentials were presented.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed attempts; retry after this many seconds.
    #[error("too many failed login attempts; retry in {retry_after} s")]
    RateLimited {
        /// Seconds until the next attempt is allowed.
        retry_after: u64,
    },
    /// Something is larger than the node accepts.
    #[error("{0}")]
    TooLarge(String),
    /// The ledger refused or failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The node's own records could not be read or written.
    #[error("storage: {0}")]
    Storage(String),
    /// A key file or signature operation failed.
    #[error("keys: {0}")]
    Keys(String),
}

impl From<sled::Error> for NodeError {
    fn from(error: sled::Error) -> Self {
        NodeError::Storage(error.to_string())
    }
}

impl From<DurableError> for NodeError {
    fn from(error: DurableError) -> Self {
        NodeError::Storage(error.to_string())
    }
}

impl From<serde_json::Error> for NodeError {
    fn from(error: serde_json::Error) -> Self {
        NodeError::Storage(format!("a stored record does not parse: {error}"))
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
