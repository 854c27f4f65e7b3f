//! Verification reports and ledger receipts, rendered for people.

use guildmark_credentials::report::{Conclusion, DocumentKind, Outcome, Report};
use leptos::prelude::*;

use crate::node::ReceiptView;

/// A verification report: the overall result, then every check with its reason.
#[component]
pub fn ReportView(report: Report) -> impl IntoView {
    report_view(report, 2)
}

fn report_view(report: Report, level: u8) -> AnyView {
    let kind = match report.kind {
        DocumentKind::Credential => "credential",
        DocumentKind::Presentation => "presentation",
        DocumentKind::Bundle => "provenance bundle",
    };
    let failed = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .count();
    let unknown = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Unknown)
        .count();
    let (class, headline) = if report.conclusion() == Conclusion::Incomplete {
        (
            "verdict verdict-unknown",
            format!("The {kind} could not be fully verified: {unknown} check(s) could not be made"),
        )
    } else if !report.verified {
        (
            "verdict verdict-failed",
            format!("The {kind} did not verify"),
        )
    } else if unknown > 0 {
        (
            "verdict verdict-unknown",
            format!("The {kind} verified, but {unknown} check(s) could not be made"),
        )
    } else {
        ("verdict verdict-passed", format!("The {kind} verified"))
    };
    let summary = format!(
        "{} checks: {} passed, {failed} failed, {unknown} unknown — as of {}",
        report.checks.len(),
        report.checks.len() - failed - unknown,
        report.checked_at
    );
    let heading = if level <= 2 {
        view! { <h2 class=class>{headline}</h2> }.into_any()
    } else {
        view! { <h3 class=class>{headline}</h3> }.into_any()
    };
    let rows = report
        .checks
        .into_iter()
        .map(|check| {
            let word = check.outcome.as_str();
            view! {
                <tr class=format!("check-{word}")>
                    <td><span class=format!("tag tag-{word}")>{word}</span></td>
                    <th scope="row"><code>{check.check}</code></th>
                    <td>{check.reason}</td>
                </tr>
            }
        })
        .collect_view();
    let nested = report
        .documents
        .into_iter()
        .map(|d| report_view(d, level + 1))
        .collect_view();
    view! {
        <section class="report" data-verified=report.verified.to_string()>
            {heading}
            <p class="muted">{summary}</p>
            {report.issuer.map(|i| view! { <p>"Issuer: "<code class="id">{i}</code></p> })}
            <div class="scroll">
                <table class="checks">
                    <thead><tr><th scope="col">"Outcome"</th><th scope="col">"Check"</th><th scope="col">"Why"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {nested}
        </section>
    }
    .into_any()
}

/// A ledger receipt: the entry, the checkpoint and the inclusion proof.
#[component]
pub fn Receipt(receipt: ReceiptView) -> impl IntoView {
    let proof = receipt
        .proof
        .into_iter()
        .enumerate()
        .map(|(i, h)| view! { <li><code>{format!("{i}: {h}")}</code></li> })
        .collect_view();
    view! {
        <section class="receipt">
            <h2>"Ledger receipt"</h2>
            <p>
                "Entry "<a href=format!("/ledger/e/{}", receipt.index)>{format!("#{}", receipt.index)}</a>
                " of a log of "{receipt.checkpoint.size}" entries ("<code>{receipt.checkpoint.origin}</code>
                "), root "<code class="id">{receipt.checkpoint.root}</code>"."
            </p>
            <details>
                <summary>"Inclusion proof and signed checkpoint"</summary>
                <ol class="proof">{proof}</ol>
                <pre>{receipt.text}</pre>
            </details>
        </section>
    }
}
