//! The example protocols shipped with this crate (`protocols/`), as their sources.
//!
//! Their reviewer achievements are URLs under `https://guildmark.example/<community>/`;
//! a node that publishes one for its own communities rewrites them to its achievements
//! (which changes the protocol's hash, as any edit does).

/// Batch QA of the MPPT20 solar charge controller.
pub const MPPT20_BATCH_QA: &str = include_str!("../protocols/mppt20-batch-qa.toml");

/// Soldering level 1 skill assessment.
pub const SOLDERING_L1: &str = include_str!("../protocols/soldering-l1.toml");

/// Laptop battery pack refurbishment.
pub const LAPTOP_BATTERY_REFURB: &str = include_str!("../protocols/laptop-battery-refurb.toml");

/// The example communities' achievement URL prefix, `https://guildmark.example/<community>/achievements/`.
pub fn achievement_prefix(community: &str) -> String {
    format!("https://guildmark.example/{community}/achievements/")
}
