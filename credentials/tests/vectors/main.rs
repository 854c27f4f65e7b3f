//! Conformance tests over the standards' vectors in `testdata/` at the repository root.
//!
//! Each table-driven test runs every entry of its file, collects every mismatch, and
//! asserts how many entries ran, so a vector cannot be skipped silently.

mod common;
mod ecdsa_sd;
mod mutations;
mod open_badges;
mod rdf_canon;
mod status_list;
mod testdata;
mod tlog;
mod vc_data_model;
mod vc_di_eddsa;
mod w3c_suites;
