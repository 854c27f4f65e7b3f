//! The server crate's integration tests, one binary with a module per area. Tests that
//! need the `guildmark` executable run the real one built by cargo for this test binary.

mod api_ledger;
mod cli;
mod common;
mod ledger;
mod protocol;
