//! Everything a Guildmark verifier needs, with no I/O.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod did_key;
pub mod jcs;
pub mod jsonld;
pub mod multibase;
pub mod proof;
pub mod report;
pub mod status_list;
pub mod time;
pub mod validation;
pub mod verify;
