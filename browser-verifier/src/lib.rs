//! The verifier core, for a browser: one function, [`verify`], that takes what a buyer
//! has (a credential, presentation, VC-JWT, baked badge image or provenance bundle, and
//! optionally a `trust.toml`) and returns the JSON report `guildmark verify --json`
//! prints for it. It calls the same [`verify_document`] as the CLI; nothing is
//! reimplemented or relaxed for the browser.
//!
//! Built for `wasm32-unknown-unknown` by `scripts/build-verifier`, which also runs
//! wasm-bindgen; the node serves the result (see `server/src/web/verifier.rs`).

use guildmark_credentials::{Contexts, KnownKeys, Timestamp};
use guildmark_review_protocols::document::{verify_document, Setup};
use guildmark_review_protocols::provenance::Trust;
use wasm_bindgen::prelude::wasm_bindgen;

thread_local! {
    /// The bundled JSON-LD contexts, kept between calls: they cache processed contexts,
    /// which otherwise took a quarter of a bundle's verification in the browser (the CLI
    /// keeps one for its whole run in the same way).
    static CONTEXTS: Contexts = Contexts::bundled();
}

/// Verifies `input` (named `name` in errors) as of `at_unix_seconds`, against the trust
/// file `trust` (named `trust_name`) when given. Returns the report as JSON text, the
/// same as `guildmark verify --json`; an input that cannot be verified at all (not JSON,
/// not an image with one baked credential, a malformed trust file) is an error message.
#[wasm_bindgen]
pub fn verify(
    input: &[u8],
    name: &str,
    trust: Option<String>,
    trust_name: Option<String>,
    at_unix_seconds: f64,
) -> Result<String, String> {
    let trust = match trust {
        None => None,
        Some(text) => Some(Trust::parse(&text).map_err(|e| {
            let name = trust_name.as_deref().unwrap_or("the trust file");
            format!("{name} is not a trust file: {e}")
        })?),
    };
    let keys = KnownKeys::default();
    // JavaScript numbers are f64; a time before 1970 or past 2^53 s is not one to check.
    let at = Timestamp::from_unix_seconds(at_unix_seconds.floor() as i64);
    let verified = CONTEXTS.with(|contexts| {
        let setup = Setup {
            trust: trust.as_ref(),
            ..Setup::new(at, contexts, &keys)
        };
        verify_document(input, &setup, name).map_err(|e| e.to_string())
    })?;
    if trust.is_some() && !verified.bundle {
        return Err(format!(
            "a trust file applies to provenance bundles, and {name} is not one"
        ));
    }
    serde_json::to_string_pretty(&verified.to_json()).map_err(|e| e.to_string())
}

/// The version of the verifier core this module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
