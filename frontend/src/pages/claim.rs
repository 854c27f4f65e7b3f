//! A claim link's page: the badge someone was awarded by email, and the button that
//! binds it to their account (a new badge to their DID; the emailed one stays).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{FormHead, FormMessage};
use crate::layout::{node, param, unavailable, viewer};
use crate::node::ClaimPage;

/// `/claim/{token}`
#[component]
pub fn ClaimRoute() -> impl IntoView {
    let token = param("token");
    match node().claim(&token) {
        Ok(page) => view! { <ClaimView page token/> }.into_any(),
        Err(e) => unavailable(e),
    }
}

/// The claim page's content.
#[component]
pub fn ClaimView(page: ClaimPage, token: String) -> impl IntoView {
    let badge = page.badge;
    let image = badge.image.clone().map(|src| {
        view! { <img class="badge-image badge-image-large" src=src alt="" width="128" height="128"/> }
    });
    let action = match (page.state.as_str(), viewer()) {
        ("claimed", _) => view! { <p>"This badge has been claimed; a claim link works once."</p> }.into_any(),
        ("expired", _) => view! { <p>{format!("This claim link expired at {}. Ask the community to award the badge again.", page.expires)}</p> }.into_any(),
        (_, None) => view! {
            <p><a href=format!("/signin?next=/claim/{token}")>"Sign in"</a>" (or create an account) to claim it. "
               "You get a badge of your own, bound to your account's key, that anyone can verify."</p>
        }.into_any(),
        (_, Some(v)) => view! {
            <form method="post">
                <FormHead form="claim"/>
                <FormMessage form="claim"/>
                <p>{format!("Claim it as {}: a new badge, bound to your key, citing this award. The link then stops working.", v.username)}</p>
                <button type="submit">"Claim this badge"</button>
            </form>
        }.into_any(),
    };
    view! {
        <Title text=format!("Claim {} — Guildmark", badge.title)/>
        {image}
        <p class="crumbs">"a badge awarded to you by email"</p>
        <h1>{badge.title.clone()}</h1>
        <p>{format!("Awarded by {} on {}.", badge.issuer_name, badge.issued.get(..10).unwrap_or_default())}
           " "<a href=format!("/cred/{}", badge.uuid)>"See the awarded credential"</a></p>
        <section class="panel">{action}</section>
    }
}
