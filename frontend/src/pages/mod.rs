//! One module per page; each `…Route` component loads what its page shows.

pub mod account;
pub mod achievement;
pub mod batch;
pub mod claim;
pub mod community;
pub mod credential;
pub mod device;
pub mod home;
pub mod ledger;
pub mod manage;
pub mod member;
pub mod verify;

use axum::http::StatusCode;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::layout::set_status;

/// The friendly 404 page.
#[component]
pub fn NotFound(what: String) -> impl IntoView {
    set_status(StatusCode::NOT_FOUND);
    view! {
        <Title text="Not found — Guildmark"/>
        <h1>"Not found"</h1>
        <p>{what}</p>
        <p>"Try the "<a href="/">"communities on this node"</a>", "<a href="/ledger">"its ledger"</a>
           ", or "<a href="/verify">"verify a credential"</a>" you were given."</p>
    }
}
