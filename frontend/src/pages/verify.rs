//! Verify: paste or upload a credential, presentation or provenance bundle and read the
//! report.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{refusal_of, submission, textarea_text, Verified};
use crate::report::ReportView;

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
        <p>"Paste a credential, a presentation or a provenance bundle (JSON), or choose its file. "
           "Signatures, issuers, validity, status and ledger receipts are checked; each check says passed, failed or unknown, and why."</p>
        <form method="post" action="/verify" enctype="multipart/form-data">
            <div class="field" class:invalid=invalid>
                <label for="verify-document">"Document (JSON)"</label>
                <textarea id="verify-document" name="document" rows="12" spellcheck="false">{textarea_text(&document)}</textarea>
                {refusal.map(|r| view! { <p class="field-error">{r}</p> })}
            </div>
            <div class="field">
                <label for="verify-file">"…or a file"</label>
                <input id="verify-file" type="file" name="file" accept=".json,application/json"/>
            </div>
            <button type="submit">"Verify"</button>
        </form>
        {result}
    }
}
