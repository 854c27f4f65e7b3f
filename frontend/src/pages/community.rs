//! A community: its skill tree, members by role, batches and protocols.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::layout::{node, param, unavailable, viewer, Tag};
use crate::node::{BatchSummary, CommunityPage, MemberView, Role};
use crate::skill_tree::SkillTree;

/// `/c/{slug}`
#[component]
pub fn CommunityRoute() -> impl IntoView {
    let node = node();
    // A signed-in member sees the tree coloured by what they have earned.
    let held = viewer()
        .and_then(|v| node.member(&v.username).ok())
        .map(|m| {
            m.badges
                .into_iter()
                .filter(|b| b.standing == "active")
                .map(|b| b.achievement)
                .collect::<BTreeSet<String>>()
        });
    match node.community(&param("slug")) {
        Ok(page) => view! { <CommunityView page held/> }.into_any(),
        Err(e) => unavailable(e),
    }
}

/// The community page's content.
#[component]
pub fn CommunityView(page: CommunityPage, held: Option<BTreeSet<String>>) -> impl IntoView {
    let c = page.community;
    let slug = c.slug.clone();
    let viewer = viewer();
    let admin = viewer
        .as_ref()
        .is_some_and(|v| v.has_role(&slug, Role::Admin));
    let producer = viewer
        .as_ref()
        .is_some_and(|v| v.has_role(&slug, Role::Producer) || v.has_role(&slug, Role::Admin));
    let tools = (admin || producer).then(|| {
        view! {
            <p class="tools">
                {admin.then(|| view! { <a class="button" href=format!("/c/{slug}/manage")>"Manage members, achievements and protocols"</a> })}
                {producer.then(|| view! { <a class="button" href=format!("/c/{slug}/register")>"Register a batch"</a> })}
            </p>
        }
    });
    let list = page
        .achievements
        .iter()
        .map(|a| {
            view! {
                <li><a href=format!("/c/{}/a/{}", a.community, a.name)>{a.title.clone()}</a>
                    {a.level.clone().map(|l| view! { <span class="muted">{format!(" · level {l}")}</span> })}
                    " — "{a.description.clone()}</li>
            }
        })
        .collect_view();
    let protocols = page
        .protocols
        .into_iter()
        .map(|p| view! { <li>{p.title}" "<span class="muted">{format!("v{} · ", p.version)}</span><code class="id">{p.hash}</code></li> })
        .collect_view();
    view! {
        <Title text=format!("{} — Guildmark", c.name)/>
        <h1>{c.name.clone()}</h1>
        <p>{c.description}</p>
        <p class="muted">"Issuer key: "<code class="id">{c.issuer}</code></p>
        {tools}
        <section>
            <h2>"Skill tree"</h2>
            {match held {
                Some(held) => view! {
                    <p class="legend">"Your progress: "<span class="tag tag-earned">"earned"</span>" "
                        <span class="tag tag-available">"available"</span>" "<span class="tag tag-locked">"locked"</span></p>
                    <SkillTree achievements=page.achievements.clone() held label=format!("Your progress in {}", c.name)/>
                }.into_any(),
                None => view! {
                    <SkillTree achievements=page.achievements.clone() label=format!("Achievements of {} and their prerequisites", c.name)/>
                }.into_any(),
            }}
            <ul>{list}</ul>
        </section>
        <section>
            <h2>"Members"</h2>
            <MembersByRole members=page.members/>
        </section>
        <section>
            <h2>"Batches"</h2>
            <BatchTable batches=page.batches/>
        </section>
        <section>
            <h2>"Review protocols"</h2>
            <ul>{protocols}</ul>
        </section>
    }
}

/// Members grouped by role.
#[component]
pub fn MembersByRole(members: Vec<MemberView>) -> impl IntoView {
    Role::ALL
        .iter()
        .map(|role| {
            let holding: Vec<_> = members.iter().filter(|m| m.roles.contains(role)).collect();
            let role = role.as_str();
            let names = holding
                .iter()
                .map(|m| view! { <li><a href=format!("/m/{}", m.username)>{m.username.clone()}</a></li> })
                .collect_view();
            (!holding.is_empty()).then(|| view! {
                <h3>{format!("{}{}s", role[..1].to_uppercase(), &role[1..])}</h3>
                <ul class="inline-list">{names}</ul>
            })
        })
        .collect_view()
}

/// Batches with their verdicts.
#[component]
pub fn BatchTable(batches: Vec<BatchSummary>) -> impl IntoView {
    if batches.is_empty() {
        return view! { <p class="muted">"No batches registered."</p> }.into_any();
    }
    let rows = batches
        .into_iter()
        .map(|b| {
            view! {
                <tr>
                    <td><a href=format!("/b/{}", b.uuid)>{b.product}</a></td>
                    <td>{format!("{} … {}", b.first_serial, b.last_serial)}</td>
                    <td>{b.units}</td>
                    <td>{b.attestations}</td>
                    <td><Tag word=b.verdict/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="scroll">
            <table>
                <thead><tr><th scope="col">"Product"</th><th scope="col">"Serials"</th><th scope="col">"Units"</th>
                    <th scope="col">"Attestations"</th><th scope="col">"Verdict"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
