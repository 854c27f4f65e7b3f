//! The home page: communities, totals, the checkpoint and recent ledger activity.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::layout::{node, short, unavailable};
use crate::node::{EntrySummary, Home};

/// `/`
#[component]
pub fn HomeRoute() -> impl IntoView {
    match node().home() {
        Ok(home) => view! { <HomeView home/> }.into_any(),
        Err(e) => unavailable(e),
    }
}

/// The home page's content.
#[component]
pub fn HomeView(home: Home) -> impl IntoView {
    let communities = home
        .communities
        .into_iter()
        .map(|c| {
            view! {
                <li class="card">
                    <h3><a href=format!("/c/{}", c.slug)>{c.name}</a></h3>
                    <p>{c.description}</p>
                    <p class="muted">{format!("{} members · {} achievements", c.members, c.achievements)}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <Title text="Guildmark — communities, badges and reviewed hardware"/>
        <h1>"Communities on this node"</h1>
        <ul class="cards">{communities}</ul>
        <section>
            <h2>"At a glance"</h2>
            <dl class="totals">
                <div><dt>"Badges issued"</dt><dd>{home.badges_issued}</dd></div>
                <div><dt>"Batches certified"</dt><dd>{format!("{} of {}", home.batches_certified, home.batches)}</dd></div>
                <div><dt>"Ledger entries"</dt><dd>{home.checkpoint.size}</dd></div>
            </dl>
            <p>"Current checkpoint: root "<code class="id">{home.checkpoint.root}</code>" — "
               <a href="/ledger">"explore the ledger"</a>"."</p>
        </section>
        <section>
            <h2>"Recent ledger activity"</h2>
            <EntryList entries=home.recent/>
        </section>
    }
}

/// Ledger entries as a table.
#[component]
pub fn EntryList(entries: Vec<EntrySummary>) -> impl IntoView {
    let rows = entries
        .into_iter()
        .map(|e| {
            let what = match e.link {
                Some(link) => view! { <a href=link>{e.summary}</a> }.into_any(),
                None => view! { <span>{e.summary}</span> }.into_any(),
            };
            view! {
                <tr>
                    <td><a href=format!("/ledger/e/{}", e.index)>{format!("#{}", e.index)}</a></td>
                    <td>{e.kind}</td>
                    <td>{what}</td>
                    <td><time datetime=e.time.clone()>{short(&e.time)}</time></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="scroll">
            <table>
                <thead><tr><th scope="col">"Entry"</th><th scope="col">"Kind"</th><th scope="col">"What"</th><th scope="col">"Logged"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
