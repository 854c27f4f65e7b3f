//! A member's profile: badges with their status, share links and QR codes, and progress
//! on the skill trees of their communities.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{FormHead, FormMessage};
use crate::layout::{date, node, param, unavailable, viewer, Tag};
use crate::node::{roles_text, MemberPage};
use crate::pages::credential::ShareBadge;
use crate::skill_tree::SkillTree;

/// `/m/{username}`
#[component]
pub fn MemberRoute() -> impl IntoView {
    match node().member(&param("username")) {
        Ok(page) => view! { <MemberView page public_url=node().public_url()/> }.into_any(),
        Err(e) => unavailable(e),
    }
}

/// The profile's content.
#[component]
pub fn MemberView(page: MemberPage, public_url: String) -> impl IntoView {
    let held: BTreeSet<String> = page
        .badges
        .iter()
        .filter(|b| b.standing == "active")
        .map(|b| b.achievement.clone())
        .collect();
    let memberships = page
        .memberships
        .iter()
        .map(|m| {
            view! { <li><a href=format!("/c/{}", m.community)>{m.community_name.clone()}</a>": "{roles_text(&m.roles)}</li> }
        })
        .collect_view();
    let own = viewer().is_some_and(|v| v.username == page.username);
    let wallet = own.then(|| {
        let options = page
            .badges
            .iter()
            .filter(|b| b.standing == "active")
            .map(|b| view! { <option value=b.uuid.clone()>{b.title.clone()}</option> })
            .collect_view();
        view! {
            <section class="panel">
                <h2>"Add a badge to your wallet"</h2>
                <p class="muted">"Your wallet receives a fresh copy of the badge, bound to the wallet's own key (OpenID for Verifiable Credential Issuance)."</p>
                <form method="post">
                    <FormHead form="wallet-offer"/>
                    <FormMessage form="wallet-offer"/>
                    <label>"Badge "<select name="badge">{options}</select></label>
                    " "<button type="submit">"Add to wallet"</button>
                </form>
            </section>
        }
    });
    let badges = page
        .badges
        .into_iter()
        .map(|b| {
            let share = format!("{public_url}/cred/{}", b.uuid);
            let qr = crate::qr::svg(&share, 132).map(|s| s.to_string()).unwrap_or_default();
            let image = b.image.clone().map(|src| {
                view! { <img class="badge-image" src=src alt="" width="64" height="64"/> }
            });
            view! {
                <li class="card badge-card">
                    {image}
                    <div>
                        <h3><a href=format!("/cred/{}", b.uuid)>{b.title.clone()}</a></h3>
                        <p><Tag word=b.standing.clone()/>" "<span class="muted">{format!("from {} · issued {}", b.community, date(&b.issued))}
                            {b.valid_until.as_ref().map(|u| format!(" · valid until {}", date(u)))}</span></p>
                        <p>
                            <a href=format!("/credentials/{}", b.uuid) download=format!("{}.json", b.uuid)>"Download credential (JSON)"</a>
                            " · "<ShareBadge badge=b.clone() public_url=public_url.clone()/>
                        </p>
                        <p class="share"><label>"Share link "<input type="text" readonly value=share.clone()/></label></p>
                    </div>
                    <div class="qr" role="img" aria-label=format!("QR code for {share}") inner_html=qr></div>
                </li>
            }
        })
        .collect_view();
    let trees = page
        .trees
        .into_iter()
        .map(|t| {
            let earned = t
                .achievements
                .iter()
                .filter(|a| held.contains(&a.id))
                .count();
            let total = t.achievements.len();
            view! {
                <h3>{format!("{} — {earned} of {total} earned", t.community_name)}</h3>
                <SkillTree achievements=t.achievements held=held.clone()
                    label=format!("{}'s progress in {}", page.username, t.community_name)/>
            }
        })
        .collect_view();
    view! {
        <Title text=format!("{} — Guildmark", page.username)/>
        <h1>{page.username.clone()}</h1>
        <ul>{memberships}</ul>
        <section>
            <h2>"Badges"</h2>
            <ul class="cards">{badges}</ul>
        </section>
        {wallet}
        <section>
            <h2>"Progress"</h2>
            <p class="legend"><span class="tag tag-earned">"earned"</span>" "<span class="tag tag-available">"available"</span>" "
               <span class="tag tag-locked">"locked"</span></p>
            {trees}
        </section>
    }
}
