//! The server crate's integration tests, one binary with a module per area. Tests that
//! need the `guildmark` executable run the real one built by cargo for this test binary.

mod api_ledger;
mod cli;
mod common;
mod disk_full;
mod http;
mod ledger;
mod node_api;
mod node_authz;
mod node_review;
mod node_store;
mod protocol;
mod security;
