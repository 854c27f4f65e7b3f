//! JSON-LD expansion and RDF canonicalization of any JSON: an N-Quads document or an
//! error, never a panic or a hang (the blank-node and work bounds hold).
#![no_main]

use guildmark_credentials::jsonld::canonical_nquads;
use guildmark_credentials::Contexts;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn contexts() -> &'static Contexts {
    static CONTEXTS: OnceLock<Contexts> = OnceLock::new();
    CONTEXTS.get_or_init(Contexts::bundled)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = canonical_nquads(&document, contexts());
    }
});
