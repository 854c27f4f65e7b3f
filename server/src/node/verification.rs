//! Verifying what someone hands the node: a credential, presentation or provenance
//! bundle, with the node's own status lists supplied for its credentials.

use guildmark_credentials::{KnownKeys, Report, VerifyOptions};
use guildmark_review_protocols::provenance::{verify_bundle, Bundle, BUNDLE_TYPE};
use serde_json::Value;

use super::error::Field;
use super::{now, Node, NodeError, NodeResult};

impl Node {
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
