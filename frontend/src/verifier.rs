//! The in-browser verifier as the node serves it: the WebAssembly build of the verifier
//! core (`browser-verifier/pkg`, rebuilt and compared byte-for-byte by `scripts/test`),
//! our script that wires it to the device and verify pages, and the offline verifier:
//! one self-contained HTML file a buyer saves and opens later with no network.
//!
//! Only the device page and the verify page load a script; their Content-Security-Policy
//! adds exactly what that needs: scripts from this origin, `'wasm-unsafe-eval'` to
//! compile the module, and `connect-src 'self'` to fetch it, the bundle and the trust file.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use base64::Engine as _;
use leptos::prelude::*;
use sha2::{Digest as _, Sha256};

/// wasm-bindgen's glue (`--target no-modules`): defines the global `wasm_bindgen`.
const GLUE: &str = include_str!("../../browser-verifier/pkg/guildmark_verifier.js");
/// The verifier core, compiled to WebAssembly.
pub const WASM: &[u8] = include_bytes!("../../browser-verifier/pkg/guildmark_verifier_bg.wasm");
/// Our script: loads the module and wires it to the pages.
const SCRIPT: &str = include_str!("verifier.js");

/// The policy of the two pages that verify in the browser.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Where the glue and our script are served, named by their content.
pub fn script_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let hash = crate::fnv1a(GLUE.as_bytes()) ^ crate::fnv1a(SCRIPT.as_bytes()).rotate_left(1);
        format!("/static/verifier-{hash:016x}.js")
    })
}

/// Where the module is served, named by its content.
pub fn wasm_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| format!("/static/verifier-{:016x}.wasm", crate::fnv1a(WASM)))
}

/// `GET /static/verifier-….js`
pub async fn script() -> Response {
    crate::immutable(
        format!("{GLUE}\n{SCRIPT}"),
        "text/javascript; charset=utf-8",
    )
}

/// `GET /static/verifier-….wasm`
pub async fn wasm() -> Response {
    crate::immutable(WASM, "application/wasm")
}

/// Gives the page being rendered the policy that lets it run the verifier.
pub fn allow_verifier_script() {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
}

/// The script element that loads the verifier into a page.
#[component]
pub fn VerifierScript() -> impl IntoView {
    allow_verifier_script();
    view! { <script src=script_path() data-wasm=wasm_path() defer></script> }
}

/// Where the trust anchors embedded in an offline file came from.
pub struct EmbeddedTrust {
    /// The trust file's text (TOML).
    pub text: String,
    /// The node that generated the file (its public URL).
    pub node: String,
    /// When (RFC 3339).
    pub generated_at: String,
}

/// The offline verifier: one HTML file with the module (gzip, base64), the glue, our script,
/// the stylesheet and the node's trust file inlined. Its policy (a `<meta>`, as it is
/// opened from disk) allows only those inline scripts and styles and no network at all.
pub fn offline_html(trust: &EmbeddedTrust) -> (String, String) {
    let css = crate::CSS;
    let (wasm, policy) = offline_parts();
    let anchors = guildmark_review_protocols::provenance::Trust::parse(&trust.text)
        .map(|t| {
            format!(
                "communities: {}, logs: {}, witnesses: {}",
                t.communities.len(),
                t.logs.len(),
                t.witnesses.len()
            )
        })
        .unwrap_or_else(|e| format!("unreadable: {e}"));
    let e = |s: &str| html_escape::encode_text(s).into_owned();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>Guildmark offline verifier</title>
<style>{css}</style>
</head>
<body>
<main id="main">
<h1>Guildmark offline verifier</h1>
<p>This file checks Guildmark credentials, presentations, baked badge images and device provenance bundles on this computer, with no network: save it, and open it whenever you need it. Nothing you drop here is sent anywhere; the page is not allowed to connect to anything.</p>
<section class="trust-source">
<h2>Trust anchors</h2>
<p>Embedded by <strong>{node}</strong> on {generated}: {anchors}. A bundle is trusted only if its communities and logs are listed here. Drop your own <code>trust.toml</code> (or choose it below) to use it instead.</p>
<details><summary>The embedded trust file</summary><pre id="guildmark-trust">{trust_text}</pre></details>
</section>
<div class="drop-zone">
<form class="browser-verify" data-result="verify-result">
<div class="field"><label for="verify-document">Document (JSON, or a VC-JWT)</label>
<textarea id="verify-document" name="document" rows="10" spellcheck="false"></textarea></div>
<div class="field"><label for="verify-file">…or a file (drop it anywhere here): JSON, PNG or SVG</label>
<input id="verify-file" type="file" name="file" accept=".json,.jwt,.png,.svg,application/json,image/png,image/svg+xml"></div>
<div class="field"><label for="verify-trust">Your trust.toml (optional)</label>
<input id="verify-trust" type="file" name="trust" accept=".toml"></div>
<button type="submit">Verify</button>
</form>
</div>
<div id="verify-result" aria-live="polite"></div>
</main>
<script id="guildmark-wasm" type="application/gzip">{wasm}</script>
<script>{GLUE}</script>
<script>{SCRIPT}</script>
</body>
</html>
"#,
        node = e(&trust.node),
        generated = e(&trust.generated_at),
        anchors = e(&anchors),
        trust_text = e(&trust.text),
    );
    (html, policy.to_owned())
}

/// What every offline file shares, computed once: the module gzipped and base64-encoded
/// (the browser inflates it with `DecompressionStream`, which keeps the file well under
/// 1 MB), and the policy allowing exactly its inline scripts and style.
fn offline_parts() -> (&'static str, &'static str) {
    static PARTS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    let (wasm, policy) = PARTS.get_or_init(|| {
        use std::io::Write as _;
        let mut encoder =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        let _ = encoder.write_all(WASM);
        let gzipped = encoder.finish().unwrap_or_default();
        let policy = format!(
            "default-src 'none'; script-src '{}' '{}' 'wasm-unsafe-eval'; style-src '{}'; img-src data:; form-action 'none'; base-uri 'none'",
            csp_hash(GLUE),
            csp_hash(SCRIPT),
            csp_hash(crate::CSS)
        );
        (base64::engine::general_purpose::STANDARD.encode(gzipped), policy)
    });
    (wasm, policy)
}

/// A CSP source expression allowing exactly this inline text.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlined_scripts_cannot_end_their_element_early() {
        for (name, text) in [("glue", GLUE), ("script", SCRIPT)] {
            assert!(
                !text.to_ascii_lowercase().contains("</script"),
                "{name} contains </script"
            );
        }
    }

    #[test]
    fn the_offline_file_escapes_the_trust_file_and_allows_only_its_own_scripts() {
        let (html, policy) = offline_html(&EmbeddedTrust {
            text: "communities = [\"did:key:z6Mk\"]\n# </pre><script>alert(1)</script>".into(),
            node: "http://node.example".into(),
            generated_at: "2026-12-03T00:00:00Z".into(),
        });
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;/pre&gt;&lt;script&gt;"));
        assert_eq!(policy.matches("'sha256-").count(), 3, "{policy}");
        assert!(!policy.contains("connect-src"), "no network: {policy}");
        assert!(html.contains(&policy));
    }
}
