//! The ledger explorer: the checkpoint, entries page by page, one entry with its
//! inclusion proof, and a consistency proof between two sizes.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{Field, FormHead, FormMessage};
use crate::layout::{node, param, query, unavailable};
use crate::node::Unavailable;
use crate::pages::home::EntryList;
use crate::report::Receipt;

const PAGE: u64 = 25;

/// `/ledger?before=N`
#[component]
pub fn LedgerRoute() -> impl IntoView {
    let node = node();
    let size = match node.ledger(0, 0) {
        Ok(page) => page.checkpoint.size,
        Err(e) => return unavailable(e),
    };
    let before = query("before")
        .and_then(|b| b.parse::<u64>().ok())
        .unwrap_or(size)
        .min(size);
    let start = before.saturating_sub(PAGE);
    let page = match node.ledger(start, before - start) {
        Ok(page) => page,
        Err(e) => return unavailable(e),
    };
    let older = (start > 0)
        .then(|| view! { <a href=format!("/ledger?before={start}")>"Older entries"</a> });
    let newer = (before < size).then(|| view! { <a href=format!("/ledger?before={}", (before + PAGE).min(size))>"Newer entries"</a> });
    let c = page.checkpoint;
    let witnessing = witnessing_section(page.witnessing);
    view! {
        <Title text="Ledger — Guildmark"/>
        <h1>"Ledger"</h1>
        <p>"Every credential, status change and verdict of this node is an entry in this append-only log. "
           "Its signed checkpoint commits to all of them; receipts prove an entry is included, consistency proofs that nothing was rewritten."</p>
        <section>
            <h2>"Current checkpoint"</h2>
            <p>{format!("{} entries, root ", c.size)}<code class="id">{c.root}</code></p>
            <pre>{c.note}</pre>
        </section>
        {witnessing}
        <section>
            <h2>{format!("Entries {} – {}", start, before.saturating_sub(1))}</h2>
            <EntryList entries=page.entries/>
            <p class="pager">{newer}" "{older}</p>
        </section>
        <section>
            <h2>"Check consistency"</h2>
            <form method="get" action="/ledger/consistency" class="inline-form">
                <div class="field"><label for="old">"Older size"</label><input id="old" name="old" inputmode="numeric" value=(c.size / 2).to_string()/></div>
                <div class="field"><label for="new">"Newer size"</label><input id="new" name="new" inputmode="numeric" value=c.size.to_string()/></div>
                <button type="submit">"Prove"</button>
            </form>
        </section>
    }
    .into_any()
}

/// Who witnesses the log, and a loud alarm when a witness caught a rollback or fork.
fn witnessing_section(w: crate::node::WitnessingView) -> impl IntoView {
    let operator = crate::layout::viewer().is_some_and(|v| v.operator);
    let alarm = w.alarm.map(|a| {
        view! { <p class="refusal" role="alert"><strong>"Witnesses refuse this log: "</strong>{a}</p> }
    });
    let summary = if w.witnesses.is_empty() {
        "Nobody witnesses this log yet: its checkpoints rest on the node's own signature."
            .to_owned()
    } else {
        format!(
            "A checkpoint counts as witnessed once {} of these {} witnesses cosigned it. {}",
            w.quorum,
            w.witnesses.len(),
            match w.witnessed_size {
                Some(size) => format!("The latest witnessed checkpoint covers {size} entries."),
                None => "No checkpoint is witnessed yet.".to_owned(),
            }
        )
    };
    let witnesses = w
        .witnesses
        .into_iter()
        .map(|(name, state, detail)| {
            view! { <li><code>{name}</code>" — "{state}{detail.map(|d| format!(": {d}"))}</li> }
        })
        .collect_view();
    let peers = w
        .peers
        .into_iter()
        .map(|(url, origin)| view! { <li><a href=url.clone()>{url.clone()}</a>" — log "<code>{origin}</code></li> })
        .collect_view();
    view! {
        <section>
            <h2>"Witnesses"</h2>
            {alarm}
            <p>{summary}</p>
            <ul>{witnesses}</ul>
            <h3>"Peer nodes"</h3>
            <p>"This node witnesses their logs, and they witness this one."</p>
            <ul>{peers}</ul>
            {operator.then(|| view! {
                <form method="post" class="narrow">
                    <FormHead form="add-peer"/>
                    <FormMessage form="add-peer"/>
                    <Field form="add-peer" name="url" label="Peer's URL" required=true hint="e.g. https://saltmarsh.example"/>
                    <Field form="add-peer" name="logKey" label="Its log key" required=true hint="origin+id+key, as its operator gives it (their node prints it at start)"/>
                    <button type="submit">"Add peer"</button>
                </form>
            })}
        </section>
    }
}

/// `/ledger/e/{index}`
#[component]
pub fn EntryRoute() -> impl IntoView {
    let Ok(index) = param("index").parse::<u64>() else {
        return unavailable(Unavailable::NotFound(
            "Entry numbers are whole numbers.".into(),
        ));
    };
    match node().ledger_entry(index) {
        Ok(page) => view! {
            <Title text=format!("Ledger entry #{index} — Guildmark")/>
            <p class="crumbs"><a href="/ledger">"Ledger"</a>" › entry"</p>
            <h1>{format!("Entry #{index}: {}", page.entry.kind)}</h1>
            <p>{page.entry.summary.clone()}{page.entry.link.clone().map(|l| view! { " — "<a href=l>"view"</a> })}</p>
            <p class="muted">{format!("Logged {}", page.entry.time)}</p>
            <Receipt receipt=page.receipt/>
            <details open=true><summary>"Payload"</summary><pre class="json">{page.payload}</pre></details>
        }
        .into_any(),
        Err(e) => unavailable(e),
    }
}

/// `/ledger/consistency?old=&new=`
#[component]
pub fn ConsistencyRoute() -> impl IntoView {
    let number = |name: &str| query(name).and_then(|v| v.trim().parse::<u64>().ok());
    let (Some(old), Some(new)) = (number("old"), number("new")) else {
        return unavailable(Unavailable::NotFound(
            "Give two sizes as whole numbers: ?old=…&new=…".into(),
        ));
    };
    match node().consistency(old, new) {
        Ok(c) => {
            let proof = c
                .proof
                .iter()
                .map(|h| view! { <li><code>{h.clone()}</code></li> })
                .collect_view();
            let (class, word) = if c.verified {
                ("verdict verdict-passed", "verified")
            } else {
                ("verdict verdict-failed", "did NOT verify")
            };
            view! {
                <Title text=format!("Consistency {old} → {new} — Guildmark")/>
                <p class="crumbs"><a href="/ledger">"Ledger"</a>" › consistency"</p>
                <h1>{format!("Consistency of {old} → {new} entries")}</h1>
                <p class=class>{format!("The proof {word}: the log of {new} entries extends the log of {old} entries unchanged.")}</p>
                <dl class="facts">
                    <div><dt>{format!("Root at {old}")}</dt><dd><code class="id">{c.old_root}</code></dd></div>
                    <div><dt>{format!("Root at {new}")}</dt><dd><code class="id">{c.new_root}</code></dd></div>
                </dl>
                <h2>"Proof"</h2>
                <ol class="proof">{proof}</ol>
            }
            .into_any()
        }
        Err(e) => unavailable(e),
    }
}
