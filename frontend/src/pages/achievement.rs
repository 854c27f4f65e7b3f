//! An achievement: what it stands for, who holds it, endorsements, and the forms to
//! award and endorse it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{Field, FormHead, FormMessage, TextArea};
use crate::layout::{date, node, param, unavailable, viewer, Tag};
use crate::node::{AchievementPage, BadgeView, EndorsementView, Role};

/// `/c/{slug}/a/{name}`
#[component]
pub fn AchievementRoute() -> impl IntoView {
    match node().achievement(&param("slug"), &param("name")) {
        Ok(page) => view! { <AchievementView page/> }.into_any(),
        Err(e) => unavailable(e),
    }
}

/// The achievement page's content.
#[component]
pub fn AchievementView(page: AchievementPage) -> impl IntoView {
    let a = page.achievement;
    let viewer = viewer();
    let awarder = viewer.as_ref().is_some_and(|v| {
        v.has_role(&a.community, Role::Assessor) || v.has_role(&a.community, Role::Admin)
    });
    let holds = viewer.as_ref().is_some_and(|v| {
        page.holders
            .iter()
            .any(|b| b.holder == v.username && b.standing == "active")
    });
    let prerequisites = page
        .prerequisites
        .iter()
        .map(|p| view! { <li><a href=format!("/c/{}/a/{}", p.community, p.name)>{p.title.clone()}</a></li> })
        .collect_view();
    let members: Vec<String> = page.members.iter().map(|m| m.username.clone()).collect();
    let issue = awarder.then(|| {
        let options = members
            .iter()
            .map(|m| view! { <option value=m.clone()></option> })
            .collect_view();
        view! {
            <section class="panel">
                <h2>"Award this badge"</h2>
                <form method="post">
                    <FormHead form="issue-badge"/>
                    <FormMessage form="issue-badge"/>
                    <datalist id="members">{options}</datalist>
                    <Field form="issue-badge" name="recipient" label="Recipient (username, or an email address for someone without an account)" required=true list="members".to_owned()
                        hint="A member of this community."/>
                    <TextArea form="issue-badge" name="narrative" label="How it was earned" hint="Markdown; shown in the badge."/>
                    <Field form="issue-badge" name="evidence_url" label="Evidence link (optional)" kind="url".to_owned()/>
                    <Field form="issue-badge" name="valid_until" label="Valid until (optional)" kind="date".to_owned()/>
                    <button type="submit">"Issue badge"</button>
                </form>
            </section>
        }
    });
    let endorse = holds.then(|| {
        view! {
            <section class="panel">
                <h2>"Endorse this achievement"</h2>
                <form method="post">
                    <FormHead form="endorse"/>
                    <FormMessage form="endorse"/>
                    <input type="hidden" name="target" value=a.id.clone()/>
                    <TextArea form="endorse" name="comment" label="What you vouch for" required=true/>
                    <button type="submit">"Sign endorsement"</button>
                </form>
            </section>
        }
    });
    view! {
        <Title text=format!("{} — {} — Guildmark", a.title, page.community_name)/>
        <p class="crumbs"><a href=format!("/c/{}", a.community)>{page.community_name.clone()}</a>" › achievement"</p>
        <div class="achievement-head">
            {a.image.clone().map(|src| view! { <img class="badge-image" src=src alt="" width="96" height="96"/> })}
            <div>
                <h1>{a.title.clone()}</h1>
                <p>{a.description.clone()}</p>
                <p class="muted">
                    {a.level.clone().map(|l| format!("Level {l}. ")).unwrap_or_default()}
                    {(!a.tags.is_empty()).then(|| format!("Tags: {}.", a.tags.join(", ")))}
                </p>
            </div>
        </div>
        <section>
            <h2>"Criteria"</h2>
            <p class="prose">{a.criteria.clone()}</p>
            {(!page.prerequisites.is_empty()).then(|| view! { <h3>"Prerequisites"</h3><ul>{prerequisites}</ul> })}
            {a.protocol.clone().map(|p| view! { <p>"Assessed under protocol "<code class="id">{p}</code></p> })}
        </section>
        <section>
            <h2>"Holders"</h2>
            <BadgeTable badges=page.holders who=true/>
        </section>
        <section>
            <h2>"Endorsements"</h2>
            <Endorsements endorsements=page.endorsements/>
        </section>
        {issue}
        {endorse}
    }
}

/// Badges with their standing.
#[component]
pub fn BadgeTable(badges: Vec<BadgeView>, #[prop(optional)] who: bool) -> impl IntoView {
    if badges.is_empty() {
        return view! { <p class="muted">"None yet."</p> }.into_any();
    }
    let rows = badges
        .into_iter()
        .map(|b| {
            let first = if who {
                view! { <a href=format!("/m/{}", b.holder)>{b.holder.clone()}</a> }.into_any()
            } else {
                view! { <a href=format!("/c/{}", b.community)>{b.community.clone()}</a> }.into_any()
            };
            view! {
                <tr>
                    <td><a href=format!("/cred/{}", b.uuid)>{b.title}</a></td>
                    <td>{first}</td>
                    <td><Tag word=b.standing/></td>
                    <td>{date(&b.issued)}</td>
                    <td>{b.valid_until.map(|u| date(&u)).unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    let second = if who { "Holder" } else { "Community" };
    view! {
        <div class="scroll">
            <table>
                <thead><tr><th scope="col">"Badge"</th><th scope="col">{second}</th><th scope="col">"Status"</th>
                    <th scope="col">"Issued"</th><th scope="col">"Valid until"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Endorsements as quotes.
#[component]
pub fn Endorsements(endorsements: Vec<EndorsementView>) -> impl IntoView {
    if endorsements.is_empty() {
        return view! { <p class="muted">"None yet."</p> }.into_any();
    }
    endorsements
        .into_iter()
        .map(|e| {
            view! {
                <blockquote class="endorsement">
                    <p>{e.comment}</p>
                    <footer>"— "<a href=format!("/m/{}", e.endorser)>{e.endorser.clone()}</a>", "{date(&e.issued)}
                        " · "<a href=format!("/cred/{}", e.uuid)>"credential"</a></footer>
                </blockquote>
            }
        })
        .collect_view()
        .into_any()
}
