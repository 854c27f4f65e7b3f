//! Verify: paste or upload a credential, presentation or provenance bundle and read the
//! report.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{refusal_of, submission, textarea_text, Verified};
use crate::report::ReportView;
use crate::verifier::VerifierScript;

/// `/verify`
#[component]
pub fn VerifyRoute() -> impl IntoView {
    let document = submission()
        .filter(|s| s.form == "verify" && s.refusal.is_none())
        .and_then(|s| {
            s.fields
                .into_iter()
                .find(|(n, _)| n == "document")
                .map(|(_, v)| v)
        })
        .unwrap_or_default();
    let refusal = refusal_of("verify", "document");
    let outcome = use_context::<Verified>().and_then(|v| v.0);
    let result = match outcome {
        Some(Ok(report)) => Some(view! { <ReportView report/> }.into_any()),
        Some(Err(why)) => Some(
            view! { <p class="refusal" role="alert" id="verify-document-error">{why}</p> }
                .into_any(),
        ),
        None => None,
    };
    let invalid = refusal.is_some();
    view! {
        <Title text="Verify a credential — Guildmark"/>
        <h1>"Verify"</h1>
        <p>"Paste a credential, a presentation, a VC-JWT or a provenance bundle, or choose or drop its file (JSON, or a baked badge PNG or SVG). "
           "Signatures, issuers, validity, status and ledger receipts are checked; each check says passed, failed or unknown, and why."</p>
        <p class="no-upload" hidden>"Your browser checks it here, with the same verifier as the "<code>"guildmark"</code>" command-line tool: nothing is uploaded. "
           "To check later with no network at all, save the "<a href="/verify/offline.html" download="guildmark-offline-verifier.html">"offline verifier"</a>"."</p>
        <div class="drop-zone">
        <form class="browser-verify" data-result="verify-result" method="post" action="/verify" enctype="multipart/form-data">
            <div class="field" class:invalid=invalid>
                <label for="verify-document">"Document (JSON, or a VC-JWT)"</label>
                <textarea id="verify-document" name="document" rows="12" spellcheck="false">{textarea_text(&document)}</textarea>
                {refusal.map(|r| view! { <p class="field-error">{r}</p> })}
            </div>
            <div class="field">
                <label for="verify-file">"…or a file"</label>
                <input id="verify-file" type="file" name="file" accept=".json,.jwt,.png,.svg,application/json,image/png,image/svg+xml"/>
            </div>
            <div class="field">
                <label for="verify-trust">"Your trust.toml, for a bundle (optional; checked in your browser only)"</label>
                <input id="verify-trust" type="file" name="trust" accept=".toml"/>
            </div>
            <button type="submit">"Verify"</button>
        </form>
        </div>
        <div id="verify-result" aria-live="polite">{result}</div>
        <VerifierScript/>
    }
}
