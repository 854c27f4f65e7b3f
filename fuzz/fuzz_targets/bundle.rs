//! A provenance bundle from a buyer's hands: a report, never a panic.
#![no_main]

use guildmark_credentials::{Contexts, Timestamp};
use guildmark_review_protocols::provenance::{verify_bundle, Bundle};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn contexts() -> &'static Contexts {
    static CONTEXTS: OnceLock<Contexts> = OnceLock::new();
    CONTEXTS.get_or_init(Contexts::bundled)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(data) {
        let at = Timestamp::from_unix_seconds(1_767_225_600);
        let _ = verify_bundle(&bundle, None, contexts(), at);
    }
});
