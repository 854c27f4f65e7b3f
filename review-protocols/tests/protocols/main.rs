//! The review-protocols test suite, one binary.
//!
//! - `examples`: every protocol in `protocols/` parses, hashes stably and round-trips.
//! - `format`: bad protocol sources are refused with the line and field named.
//! - `evaluation`: verdicts and reasons on signed and verified scenarios, one rule at a
//!   time (`common` signs every attestation and badge with keys from fixed seeds).
//! - `credentials`: protocol and attestation credentials signed, verified, read back and
//!   checked against their JSON Schemas, end to end into an evaluation.
//! - `properties`: proptest properties of evaluation (duplicates, monotonicity, order).

mod common;
mod credentials;
mod evaluation;
mod examples;
mod format;
mod properties;
