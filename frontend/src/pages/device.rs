//! A device's page, the target of its QR label: a big verdict, the batch, who reviewed it
//! and why they were qualified, and how to check all of it offline.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::layout::{node, param, unavailable};
use crate::node::DevicePage;
use crate::pages::batch::VerdictPanel;
use crate::verifier::VerifierScript;

/// `/d/{serial}`
#[component]
pub fn DeviceRoute() -> impl IntoView {
    let node = node();
    match node.device(&param("serial")) {
        Ok(page) => view! { <DeviceView page public_url=node.public_url()/> }.into_any(),
        Err(e) => unavailable(e),
    }
}

/// The device page's content.
#[component]
pub fn DeviceView(page: DevicePage, public_url: String) -> impl IntoView {
    let batch = page.batch;
    let s = batch.summary.clone();
    let (headline, explain) = match s.verdict.as_str() {
        "certified" => (
            "Certified",
            "Qualified reviewers from other communities tested units of this batch and passed it.",
        ),
        "rejected" => (
            "Rejected",
            "Reviewers found this batch failing its protocol. Do not rely on this unit.",
        ),
        _ => (
            "Not yet certified",
            "The batch's review is not complete yet.",
        ),
    };
    let reviewers = batch
        .attestations
        .iter()
        .map(|a| {
            let badges = a
                .qualifications
                .iter()
                .map(|b| view! { <a href=format!("/cred/{}", b.uuid)>{format!("{} from {} ({})", b.title, b.community, b.standing)}</a> })
                .collect_view();
            view! {
                <li>
                    <strong><a href=format!("/m/{}", a.reviewer)>{a.reviewer.clone()}</a></strong>
                    {format!(" of {} — verdict {}, {} units inspected, {}. Qualified by: ", a.communities.join(", "), a.verdict, a.sampled.len(),
                        if a.counted { "counted" } else { "not counted" })}
                    {badges}
                </li>
            }
        })
        .collect_view();
    let bundle = format!("/api/v1/devices/{}/bundle", page.serial);
    let commands = format!(
        "curl -s {public_url}/api/v1/trust > trust.toml   # or write your own list of trusted communities\ncurl -s {public_url}{bundle} > bundle.json\nguildmark verify bundle.json --trust trust.toml"
    );
    view! {
        <Title text=format!("{} — {} — Guildmark", page.serial, headline)/>
        <section class=format!("device verdict-{}", s.verdict)>
            <p class="serial">{page.serial.clone()}</p>
            <p class="node-claim">"Checked by the node that serves this page:"</p>
            <h1 class="big-verdict">{headline}</h1>
            <p>{explain}</p>
        </section>
        // Filled in by the in-browser verifier; without JavaScript it says who checked.
        <section id="browser-check" class="browser-check" data-bundle=bundle.clone()
            data-trust="/api/v1/trust" data-node-verdict=s.verdict.clone()>
            <h2>"Who checked this"</h2>
            <p class="browser-status">"The verdict on this page was computed by the node that serves it. "
               "With JavaScript on, your browser checks the bundle itself; without it, check it yourself as shown at the end of this page."</p>
        </section>
        <dl class="facts">
            <div><dt>"Product"</dt><dd>{s.product.clone()}</dd></div>
            <div><dt>"Made by"</dt><dd><a href=format!("/c/{}", s.community)>{batch.community_name.clone()}</a>{format!(", {}", batch.production_date)}</dd></div>
            <div><dt>"Batch"</dt><dd><a href=format!("/b/{}", s.uuid)>{format!("{} … {} ({} units)", s.first_serial, s.last_serial, s.units)}</a></dd></div>
            <div><dt>"Protocol"</dt><dd>{format!("{} v{}", batch.protocol.title, batch.protocol.version)}</dd></div>
        </dl>
        <section>
            <h2>"Who vouched for it"</h2>
            <ul>{reviewers}</ul>
        </section>
        <VerdictPanel page=batch.clone()/>
        <section>
            <h2>"Check it yourself, offline"</h2>
            <p><a class="button" href=bundle.clone() download=format!("{}-provenance.json", page.serial)>"Download the provenance bundle"</a></p>
            <p>"The bundle holds every signed credential and ledger receipt behind this verdict. With the "
               <code>"guildmark"</code>" command-line tool, no network needed:"</p>
            <pre>{commands}</pre>
            <p>"Or save the "<a href="/verify/offline.html" download="guildmark-offline-verifier.html">"offline verifier"</a>
               ": one HTML file that checks a bundle (or any Guildmark credential) in your browser, later, with no network."</p>
        </section>
        <VerifierScript/>
    }
}
