//! Who may review: the achievements a reviewer must hold, how many independent
//! reviewers from how many communities, and how old an attestation may be.

use serde::{Deserialize, Serialize};

/// Reviewer requirements of a protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewerRequirements {
    /// Achievement ids; holding any one of them (a valid badge for it, held when the
    /// attestation was signed) qualifies a reviewer.
    pub achievements: Vec<String>,
    /// Distinct qualified persons whose passing attestations certify (k).
    pub quorum: u32,
    /// Distinct communities those persons must come from (m).
    pub distinct_communities: u32,
    /// Whether a reviewer from the producing community is refused.
    pub independent_of_producer: bool,
    /// Days after signing an attestation stops counting.
    pub max_age_days: u32,
}

/// How failing attestations are weighed.
///
/// Both rules are monotone on purpose: adding a failing attestation can never turn a
/// rejection into a certification, and no rule counts a person twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecisionRule {
    /// Any counted failing attestation rejects the batch: a critical step failed, or more
    /// units were nonconforming than the acceptance number allows (the default).
    #[serde(rename = "reject")]
    AnyFailureRejects,
    /// Only a failed critical step rejects. An attestation that fails on non-critical
    /// steps alone is reported and keeps its reviewer from counting as passing, but does
    /// not reject; certification still needs the quorum of passing reviewers.
    #[serde(rename = "critical-only")]
    CriticalFailureRejects,
}
