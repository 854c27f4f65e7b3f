//! Any credential, for people: what it says, its live verification report, its ledger
//! receipt, and the forms to change its standing or endorse it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{FormHead, FormMessage, TextArea};
use crate::layout::{node, param, unavailable, viewer, Tag};
use crate::node::{BadgeView, CredentialPage, Role};
use crate::pages::achievement::Endorsements;
use crate::report::{Receipt, ReportView};

/// `/cred/{uuid}`
#[component]
pub fn CredentialRoute() -> impl IntoView {
    match node().credential(&param("uuid")) {
        Ok(page) => view! { <CredentialView page public_url=node().public_url()/> }.into_any(),
        Err(e) => unavailable(e),
    }
}

/// A badge's share links: baked into its image (PNG, SVG) and LinkedIn's add-certification
/// form, filled in.
#[component]
pub fn ShareBadge(badge: BadgeView, public_url: String) -> impl IntoView {
    let linkedin = badge.linkedin_url(&public_url);
    view! {
        "Baked into its image (the picture carries the credential): "
        <a href=badge.baked_url("png") download=format!("badge-{}.png", badge.uuid)>"PNG"</a>" · "
        <a href=badge.baked_url("svg") download=format!("badge-{}.svg", badge.uuid)>"SVG"</a>
        " · "<a href=linkedin rel="noopener noreferrer" target="_blank">"Add to LinkedIn profile"</a>
    }
}

/// The credential page's content.
#[component]
pub fn CredentialView(page: CredentialPage, public_url: String) -> impl IntoView {
    let viewer = viewer();
    let facts = page
        .facts
        .into_iter()
        .map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v}</dd></div> })
        .collect_view();
    let standing_form = page.badge.as_ref().and_then(|b| {
        let v = viewer.as_ref()?;
        let admin = v.has_role(&b.community, Role::Admin);
        let assessor = admin || v.has_role(&b.community, Role::Assessor);
        if !assessor {
            return None;
        }
        let suspended = b.standing == "suspended";
        let revoked = b.standing == "revoked";
        // Only admins revoke; assessors act only on a suspension set before suspension
        // was withdrawn.
        if !admin && !suspended {
            return None;
        }
        Some(view! {
            <section class="panel">
                <h2>"Change its standing"</h2>
                <FormMessage form="standing"/>
                {(!revoked).then(|| view! {
                    <form method="post" class="inline">
                        <FormHead form="standing"/>
                        {suspended.then(|| view! { <button type="submit" name="change" value="reinstate">"Reinstate"</button> })}
                        {admin.then(|| view! { <button type="submit" name="change" value="revoke" class="danger">"Revoke for good"</button> })}
                    </form>
                })}
                {revoked.then(|| view! { <p>"Revoked badges stay revoked."</p> })}
            </section>
        })
    });
    let endorse_form = page.badge.as_ref().and_then(|_| {
        viewer.as_ref()?;
        let target = format!("{public_url}/credentials/{}", page.uuid);
        Some(view! {
            <section class="panel">
                <h2>"Endorse this badge"</h2>
                <p class="muted">"Members who hold the same achievement may vouch for it."</p>
                <form method="post">
                    <FormHead form="endorse"/>
                    <FormMessage form="endorse"/>
                    <input type="hidden" name="target" value=target/>
                    <TextArea form="endorse" name="comment" label="What you vouch for" required=true/>
                    <button type="submit">"Sign endorsement"</button>
                </form>
            </section>
        })
    });
    let standing = page
        .badge
        .as_ref()
        .map(|b| view! { <p>"Status now: "<Tag word=b.standing.clone()/></p> });
    let image = page.badge.as_ref().and_then(|b| b.image.clone()).map(|src| {
        view! { <img class="badge-image badge-image-large" src=src alt="" width="128" height="128"/> }
    });
    let share = page.badge.clone().map(|badge| {
        let public_url = public_url.clone();
        view! { <p><ShareBadge badge public_url/></p> }
    });
    view! {
        <Title text=format!("{} — Guildmark", page.title)/>
        <p class="crumbs">{format!("{} credential", page.kind)}</p>
        {image}
        <h1>{page.title.clone()}</h1>
        {standing}
        <dl class="facts">{facts}</dl>
        <p><a href=format!("/credentials/{}", page.uuid) download=format!("{}.json", page.uuid)>"Download the credential (JSON)"</a>
           " · "<a href=format!("/api/v1/credentials/{}", page.uuid)>"with its receipt (JSON)"</a></p>
        {share}
        <ReportView report=page.report/>
        <Receipt receipt=page.receipt/>
        {(!page.endorsements.is_empty()).then(|| view! { <section><h2>"Endorsements"</h2><Endorsements endorsements=page.endorsements.clone()/></section> })}
        {standing_form}
        {endorse_form}
        <details>
            <summary>"The signed credential"</summary>
            <pre class="json">{page.json}</pre>
        </details>
    }
}
