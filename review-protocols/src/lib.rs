//! Guildmark review protocols: the published rules under which reviewers from other
//! communities test a batch of hardware (or assess a skill), and the evaluation that
//! turns their signed attestations into a verdict anyone can recompute offline.
//!
//! # Overview
//!
//! - [`Protocol`]: parsed from human-written TOML (see this crate's `README.md`, field by
//!   field), validated with errors naming line and field, and identified by the SHA-256 of
//!   its JCS-canonical JSON form ([`ProtocolHash`]). Its parts: [`step`] (measurements with
//!   [units](mod@unit) and limits, checks, observations), [`sampling`] (ISO 2859-1 single sampling),
//!   [`reviewers`] (qualification, quorum, communities, independence, age, decision rule).
//! - [`attestation`]: the review attestation credential and the [`VerifiedAttestation`]
//!   facts built from verified credentials (private fields, no other constructor);
//!   [`publication`]: a protocol published as a credential.
//! - [`evaluate`]: protocol + [`Batch`] + verified attestations → [`Evaluation`]
//!   (certified, rejected or pending, one reason per rule, and what a pending review still
//!   needs). It takes only [`VerifiedAttestation`]s, so an unchecked attestation cannot
//!   count toward a quorum.
//!
//! Nothing here reads a file or the clock: sources, credentials and "now" are arguments.
//!
//! # Example
//!
//! ```
//! use guildmark_review_protocols::Protocol;
//!
//! let source = include_str!("../protocols/soldering-l1.toml");
//! let protocol = Protocol::parse(source).unwrap();
//! assert_eq!(protocol.reviewers.quorum, 2);
//! println!("{} {} is {}", protocol.id, protocol.version, protocol.hash());
//!
//! let broken = source.replace("quorum = 2", "quorum = 0");
//! let error = Protocol::parse(&broken).unwrap_err();
//! assert!(error.to_string().contains("reviewers.quorum"), "{error}");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod attestation;
pub mod document;
pub mod evaluation;
pub mod examples;
pub mod protocol;
pub mod provenance;
pub mod publication;
pub mod registration;
pub mod reviewers;
pub mod sampling;
pub mod serials;
pub mod step;
pub mod unit;

pub use attestation::{
    Held, ReviewClaims, Reviewer, ReviewerVerdict, StepResult, VerifiedAttestation,
};
pub use evaluation::{evaluate, evaluate_hashed, Batch, BatchError, Evaluation, Rule, Verdict};
pub use protocol::{Protocol, ProtocolError, ProtocolHash, ProtocolIssue};
pub use publication::PublicationError;
pub use registration::{BatchRegistration, RegistrationError};
