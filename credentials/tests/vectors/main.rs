//! Conformance tests over the standards' vectors in `../shared/vectors/` (read in place).
//!
//! Each table-driven test runs every entry of its file, collects every mismatch, and
//! asserts how many entries ran, so a vector cannot be skipped silently.

mod common;
mod mutations;
mod open_badges;
mod status_list;
mod tlog;
mod vc_data_model;
mod vc_di_eddsa;
