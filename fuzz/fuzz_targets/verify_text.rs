//! Fuzzes the verifier's entry point for bytes from outside: any input must yield a
//! report or an input error, never a panic. Run (from the checkout):
//!   RUSTC_BOOTSTRAP=1 cargo fuzz run verify_text fuzz/corpus -- -max_total_time=600
//! after seeding fuzz/corpus with the signed vectors (scripts/fuzz does both).
#![no_main]

use guildmark_credentials::{verify_text, Contexts, KnownKeys, Timestamp, VerifyOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn contexts() -> &'static Contexts {
    static CONTEXTS: OnceLock<Contexts> = OnceLock::new();
    CONTEXTS.get_or_init(Contexts::bundled)
}

fuzz_target!(|data: &[u8]| {
    let keys = KnownKeys::default();
    let at = Timestamp::from_unix_seconds(1_767_225_600);
    let _ = verify_text(data, &VerifyOptions::new(at, contexts(), &keys));
});
