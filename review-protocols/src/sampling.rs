//! Sampling plans in the single-sampling shape of ISO 2859-1: a lot size range gives how
//! many units to inspect and how many nonconforming units are still acceptable.

use serde::{Deserialize, Serialize};

/// How many units a reviewer inspects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum SamplingPlan {
    /// Every unit of the lot is inspected; no nonconforming unit is accepted.
    EveryUnit,
    /// A table of lot-size ranges.
    Table {
        /// Rows in increasing, contiguous lot-size order.
        rows: Vec<SamplingRow>,
    },
}

/// One row of a sampling table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SamplingRow {
    /// Smallest lot size of the row.
    pub lot_min: u64,
    /// Largest lot size of the row (`None`: no upper bound).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lot_max: Option<u64>,
    /// Units to inspect (`None`: all of them).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sample: Option<u64>,
    /// Acceptance number: nonconforming units in the sample that still accept the lot.
    pub accept: u64,
}

/// What the plan asks for a given lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// Units to inspect.
    pub sample: u64,
    /// Nonconforming units accepted.
    pub accept: u64,
}

impl SamplingPlan {
    /// The requirement for a lot of `lot_size` units, or `None` if the plan does not cover
    /// that size.
    pub fn requirement(&self, lot_size: u64) -> Option<Requirement> {
        match self {
            SamplingPlan::EveryUnit => Some(Requirement {
                sample: lot_size,
                accept: 0,
            }),
            SamplingPlan::Table { rows } => rows
                .iter()
                .find(|r| lot_size >= r.lot_min && r.lot_max.is_none_or(|max| lot_size <= max))
                .map(|r| Requirement {
                    sample: r.sample.unwrap_or(lot_size).min(lot_size),
                    accept: r.accept,
                }),
        }
    }
}
