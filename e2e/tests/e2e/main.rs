//! End-to-end tests, one binary: the story, interoperability, hostile input. They run the
//! real `guildmark` binary (built from `server/`, see `common::bin`) over loopback HTTP.

// Shared with the server's tests; not every helper is used here.
#[allow(dead_code)]
#[path = "../../../server/tests/suite/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../../../server/tests/suite/http.rs"]
mod http;

mod browser;
mod canonical_db;
mod email_recipients;
mod federation;
mod hostile;
mod interop_db;
mod interop_tlog;
mod open_badges;
mod story;
mod witness;
