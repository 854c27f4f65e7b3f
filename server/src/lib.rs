//! The Guildmark node and command-line tool.
//!
//! The binary (`src/main.rs`) only parses arguments and reports errors; everything it
//! does lives here so that tests can drive it without a process.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod cookie;
pub mod durable;
pub mod keys;
pub mod ledger;
pub mod listener;
pub mod node;
pub mod problem;
pub mod web;
