//! The review credentials a node or buyer reads: attestation claims (with their
//! results), batch registrations (serial ranges) and protocol publications, never a panic.
#![no_main]

use guildmark_review_protocols::attestation::ReviewClaims;
use guildmark_review_protocols::registration::BatchRegistration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = ReviewClaims::from_credential(&document);
        let _ = guildmark_review_protocols::Protocol::from_credential(&document);
        if let Ok(registration) = BatchRegistration::from_credential(&document) {
            let _ = registration.to_batch("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
        }
    }
});
