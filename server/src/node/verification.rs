//! Verifying what someone hands the node: a credential, presentation or provenance
//! bundle, with the node's own status lists supplied for its credentials.

use guildmark_credentials::{KnownKeys, Report, VerifyOptions};
use guildmark_review_protocols::provenance::{verify_bundle, Bundle, BUNDLE_TYPE};
use serde_json::Value;

use std::sync::Arc;
use std::time::Duration;

use super::error::Field;
use super::{now, Node, NodeError, NodeResult};

/// How long a verification waits for a free core before it is answered 503.
pub const VERIFY_WAIT: Duration = Duration::from_secs(5);

/// Verifications of documents from anyone run at most one per core at once, on blocking
/// threads: however many arrive, and however hard each is (within the canonicalization
/// and status-list bounds), the node's other requests keep a runtime to run on.
pub struct VerifyPool(tokio::sync::Semaphore);

impl Default for VerifyPool {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        VerifyPool(tokio::sync::Semaphore::new(cores))
    }
}

impl Node {
    /// [`Node::verify_document`] for a document from anyone, in the verification pool;
    /// busy (503) when no core frees up within [`VERIFY_WAIT`].
    pub async fn verify_untrusted(self: &Arc<Self>, document: Value) -> NodeResult<Report> {
        let permit = tokio::time::timeout(VERIFY_WAIT, self.verify_pool.0.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(NodeError::Busy {
                detail: "the node is verifying as many documents as it has cores".into(),
                retry_after: 1,
            })?;
        let node = self.clone();
        let report = super::account::blocking(move || node.verify_document(document)).await;
        drop(permit);
        report?
    }

    /// The same report as `guildmark verify`, as of now. CPU-bound (milliseconds for an
    /// rdfc proof or a bundle): call from a blocking task on busy paths.
    pub fn verify_document(&self, document: Value) -> NodeResult<Report> {
        if !document.is_object() {
            return Err(NodeError::invalid(
                Field::Document,
                "send a credential, presentation or provenance bundle: a JSON object",
            ));
        }
        if document.get("type").and_then(Value::as_str) == Some(BUNDLE_TYPE) {
            let bundle: Bundle = serde_json::from_value(document).map_err(|e| {
                NodeError::invalid(
                    Field::Document,
                    format!("not a well-formed provenance bundle: {e}"),
                )
            })?;
            return Ok(verify_bundle(&bundle, None, self.contexts(), now()).report);
        }
        let lists = self.lists_for(&document);
        let keys = KnownKeys::default();
        let options = VerifyOptions {
            status_lists: &lists,
            ..VerifyOptions::new(now(), self.contexts(), &keys)
        };
        Ok(guildmark_credentials::verify_document(&document, &options).report)
    }
}
