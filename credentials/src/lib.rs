//! Everything a Guildmark verifier needs, and nothing that touches a disk, a network or
//! a clock: W3C Verifiable Credentials 2.0 and Open Badges 3.0 types, did:key, Data
//! Integrity EdDSA proofs, Bitstring Status Lists, and verification reports.
//!
//! # What this crate does not do
//!
//! It reads no files, opens no sockets and never asks the time: contexts, known keys,
//! status lists and "now" are all given by the caller. JSON-LD contexts are never fetched;
//! an unknown one is an error naming its URL. This keeps the verifier small enough to run
//! anywhere, including in a browser.
//!
//! # Overview
//!
//! - [`did_key`]: Ed25519 `did:key` identifiers, key pairs and key files.
//! - [`proof`]: adding and checking Data Integrity proofs with `eddsa-jcs-2022` (the
//!   default) and `eddsa-rdfc-2022`, in proof sets and chains.
//! - [`verify`]: checking a whole credential or presentation into a [`report::Report`]
//!   whose every check is passed, failed or unknown.
//! - [`credential`], [`badge`]: VC 2.0 and Open Badges 3.0 types.
//! - [`status_list`]: revocation and suspension bits.
//! - [`validation`], [`jsonld`], [`jcs`], [`multibase`], [`time`]: the pieces underneath.
//!
//! # Example
//!
//! ```
//! use guildmark_credentials::did_key::KeyPair;
//! use guildmark_credentials::jsonld::Contexts;
//! use guildmark_credentials::proof::{self, Cryptosuite, KnownKeys, ProofOptions};
//! use guildmark_credentials::time::Timestamp;
//! use guildmark_credentials::verify::{verify_credential, VerifyOptions};
//!
//! let issuer = KeyPair::from_seed(&[7; 32]);
//! let mut credential = serde_json::json!({
//!     "@context": ["https://www.w3.org/ns/credentials/v2"],
//!     "type": ["VerifiableCredential"],
//!     "issuer": issuer.did_key().did(),
//!     "validFrom": "2026-01-01T00:00:00Z",
//!     "credentialSubject": {"id": "did:example:apprentice", "name": "Ada"}
//! });
//! let now = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
//! let contexts = Contexts::bundled();
//! let options = ProofOptions::new(Cryptosuite::EddsaJcs2022, Some(now));
//! proof::sign(&mut credential, &issuer, &options, &contexts).unwrap();
//!
//! let keys = KnownKeys::default();
//! let verification = verify_credential(&credential, &VerifyOptions::new(now, &contexts, &keys));
//! assert!(verification.report.verified, "{}", verification.report);
//!
//! credential["credentialSubject"]["name"] = "Mallory".into();
//! let verification = verify_credential(&credential, &VerifyOptions::new(now, &contexts, &keys));
//! assert!(!verification.report.verified);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod badge;
pub mod baked;
pub mod checkpoint;
pub mod credential;
pub mod did_key;
pub mod ecdsa_sd;
pub mod jcs;
pub mod json;
pub mod jsonld;
pub mod jwt;
pub mod merkle;
pub mod multibase;
pub mod note;
pub mod proof;
pub mod receipt;
pub mod report;
pub mod status_list;
pub mod tile;
pub mod time;
pub mod validation;
pub mod verify;
pub mod witness;

pub use did_key::{DidKey, DidKeyError, KeyPair};
pub use json::JsonError;
pub use jsonld::{Contexts, JsonLdError};
pub use proof::{Cryptosuite, KnownKeys, ProofError, ProofOptions, ProofPurpose};
pub use report::{Check, Conclusion, Outcome, Report};
pub use status_list::StatusListError;
pub use time::{TimeError, Timestamp};
pub use validation::DataModelError;
pub use verify::{
    verify_credential, verify_credentials, verify_document, verify_shared_credentials, verify_text,
    SharedCredential, VerifiedCredential, VerifyOptions,
};
