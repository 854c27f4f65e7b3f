//! A batch: its protocol's steps and limits, every attestation's values against them,
//! quorum progress and the verdict; the attestation form generated from the protocol;
//! and a printable sheet of QR labels.

use leptos::prelude::*;
use leptos_meta::Title;

use guildmark_review_protocols::protocol::Protocol;
use guildmark_review_protocols::step::{Step, StepKind};

use crate::form::{kept, refusal_of, Choice, FormHead, FormMessage};
use crate::layout::{node, param, query, unavailable, viewer, Tag};

/// Labels on one printed sheet (a page of the labels view): a sheet draws in tens of
/// milliseconds, where a whole 100,000-unit batch took 49 s and 322 MiB.
pub const LABELS_PER_SHEET: usize = 240;
/// Serial numbers listed on a batch's page.
pub const SERIALS_SHOWN: usize = 1000;
use crate::node::{AttestationView, BatchPage, Role};

/// `/b/{uuid}`
#[component]
pub fn BatchRoute() -> impl IntoView {
    match node().batch(&param("uuid")) {
        Ok(page) => view! { <BatchView page/> }.into_any(),
        Err(e) => unavailable(e),
    }
}

/// What a step records, its unit and its limits, in words.
pub fn step_rule(step: &Step) -> (String, String) {
    match &step.kind {
        StepKind::Measurement { unit, limits } => {
            (format!("measured in {unit}"), limits.describe())
        }
        StepKind::Check => ("check".into(), "must pass".into()),
        StepKind::Observation => ("observation".into(), "recorded, not judged".into()),
    }
}

/// The protocol's steps as a table.
#[component]
pub fn StepTable(protocol: Protocol) -> impl IntoView {
    let rows = protocol
        .steps
        .iter()
        .map(|s| {
            let (kind, limits) = step_rule(s);
            view! {
                <tr>
                    <td><code>{s.id.clone()}</code></td>
                    <td>{s.title.clone()}{s.critical.then(|| view! { " "<span class="tag tag-critical">"critical"</span> })}</td>
                    <td>{kind}</td>
                    <td>{limits}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="scroll">
            <table>
                <thead><tr><th scope="col">"Step"</th><th scope="col">"Title"</th><th scope="col">"Records"</th><th scope="col">"Limits"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The verdict, its reasons, and what is still missing.
#[component]
pub fn VerdictPanel(page: BatchPage) -> impl IntoView {
    let verdict = page.summary.verdict.clone();
    let requirements = &page.protocol.reviewers;
    let (reviewers, communities) = page
        .evaluation
        .as_ref()
        .map(|e| (e.passing, e.communities.len()))
        .unwrap_or((0, 0));
    let reasons = page
        .evaluation
        .as_ref()
        .map(|e| {
            e.reasons
                .iter()
                .map(|r| {
                    let word = r.outcome.as_str();
                    view! { <li data-rule=r.rule.as_str() data-outcome=word><span class=format!("tag tag-{word}")>{word}</span>" "<strong>{r.rule.as_str()}</strong>": "{r.detail.clone()}</li> }
                })
                .collect_view()
        });
    let missing = page.evaluation.as_ref().map(|e| {
        e.missing
            .iter()
            .map(|m| view! { <li>{m.clone()}</li> })
            .collect_view()
    });
    view! {
        <section class=format!("verdict-box verdict-{verdict}")>
            <h2>"Verdict: "<Tag word=verdict.clone()/></h2>
            <p class="quorum">
                {format!("Qualified independent reviewers who passed it: {reviewers} of {} needed; communities: {communities} of {} needed.",
                    requirements.quorum, requirements.distinct_communities)}
            </p>
            <h3>"Reasons"</h3>
            <ul class="reasons">{reasons}</ul>
            {missing.map(|m| view! { <h3>"Still needed"</h3><ul>{m}</ul> })}
        </section>
    }
}

/// One attestation: who, their qualification, and the values against the limits.
#[component]
pub fn AttestationCard(attestation: AttestationView, protocol: Protocol) -> impl IntoView {
    let a = attestation;
    let header = protocol
        .steps
        .iter()
        .map(|s| view! { <th scope="col" title=s.title.clone()><code>{s.id.clone()}</code></th> })
        .collect_view();
    let by_cell: std::collections::HashMap<(&str, &str), &crate::node::ResultView> = a
        .results
        .iter()
        .map(|r| ((r.serial.as_str(), r.step.as_str()), r))
        .collect();
    let rows = a
        .sampled
        .iter()
        .map(|serial| {
            let cells = protocol
                .steps
                .iter()
                .map(|step| {
                    let result = by_cell.get(&(serial.as_str(), step.id.as_str()));
                    match result {
                        Some(r) => {
                            let (class, mark) = match r.passed {
                                Some(true) => ("pass", "✓ "),
                                Some(false) => ("fail", "✗ "),
                                None => ("note", ""),
                            };
                            let label = match r.passed {
                                Some(true) => "within limits",
                                Some(false) => "OUT OF LIMITS",
                                None => "recorded",
                            };
                            view! { <td class=format!("result-{class}") title=label><span aria-hidden="true">{mark}</span>{r.recorded.clone()}<span class="sr-only">{format!(" ({label})")}</span></td> }.into_any()
                        }
                        None => view! { <td class="result-missing">"—"</td> }.into_any(),
                    }
                })
                .collect_view();
            view! { <tr><th scope="row">{serial.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    let qualifications = a
        .qualifications
        .iter()
        .map(|b| view! { <a href=format!("/cred/{}", b.uuid)>{format!("{} ({}, {})", b.title, b.community, b.standing)}</a>" " })
        .collect_view();
    let findings = a
        .findings
        .iter()
        .map(|f| view! { <li>{f.clone()}</li> })
        .collect_view();
    view! {
        <article class="card attestation">
            <h3>
                <a href=format!("/m/{}", a.reviewer)>{a.reviewer.clone()}</a>
                {format!(" ({}) — ", a.communities.join(", "))}<Tag word=a.verdict.clone()/>
                {format!(" · judged {}{}", a.standing, if a.counted { ", counted" } else { ", not counted" })}
            </h3>
            <p class="muted">{format!("Logged {} · ", a.logged)}<a href=format!("/cred/{}", a.uuid)>"credential"</a>
               " · qualified by: "{qualifications}</p>
            {(!a.findings.is_empty()).then(|| view! { <ul class="findings">{findings}</ul> })}
            <div class="scroll">
                <table class="results">
                    <thead><tr><th scope="col">"Unit"</th>{header}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </article>
    }
}

/// What a batch is: serials, lot size, production date, protocol.
#[component]
fn BatchFacts(page: BatchPage) -> impl IntoView {
    let s = page.summary;
    view! {
        <dl class="facts">
            <div><dt>"Serials"</dt><dd>{format!("{} … {} ({} units)", s.first_serial, s.last_serial, s.units)}</dd></div>
            <div><dt>"Lot size"</dt><dd>{page.lot_size}</dd></div>
            <div><dt>"Produced"</dt><dd>{page.production_date}</dd></div>
            <div><dt>"Protocol"</dt><dd>{format!("{} v{} ", page.protocol.title, page.protocol.version)}<code class="id">{page.protocol_hash}</code></dd></div>
        </dl>
    }
}

/// The batch page's content.
#[component]
pub fn BatchView(page: BatchPage) -> impl IntoView {
    let s = page.summary.clone();
    let reviewer = viewer().is_some_and(|v| v.has_role_anywhere(Role::Reviewer));
    if let Some(home) = page.home.clone() {
        return view! {
            <Title text=format!("{} {} … {} — Guildmark", s.product, s.first_serial, s.last_serial)/>
            <p class="crumbs">{page.community_name.clone()}" › batch on a peer node"</p>
            <h1>{s.product.clone()}</h1>
            <p class="prose">"This batch is registered on "<a href=format!("{home}/b/{}", s.uuid)>{home.clone()}</a>
                ", a peer of this node; this node read it from its verified copy of that node's ledger. Its reviews and verdict are kept there."</p>
            <BatchFacts page=page.clone()/>
            <p class="tools">
                {reviewer.then(|| view! { <a class="button" href=format!("/b/{}/attest", s.uuid)>"Review it from this node"</a> })}
            </p>
            <section>
                <h2>"Protocol steps and limits"</h2>
                <StepTable protocol=page.protocol.clone()/>
            </section>
        }
        .into_any();
    }
    let attestations = page
        .attestations
        .iter()
        .map(|a| view! { <AttestationCard attestation=a.clone() protocol=page.protocol.clone()/> })
        .collect_view();
    // A batch may have up to 100,000 units: the page lists the first ones.
    let shown = page.serials.len().min(SERIALS_SHOWN);
    let serials = page.serials[..shown].join(", ");
    let more = (page.serials.len() > shown).then(|| {
        view! {
            <p class="muted">
                {format!("… and {} more; all of them are in the batch's record: ", page.serials.len() - shown)}
                <a href=format!("/api/v1/batches/{}", s.uuid)>"JSON"</a>"."
            </p>
        }
    });
    view! {
        <Title text=format!("{} {} … {} — Guildmark", s.product, s.first_serial, s.last_serial)/>
        <p class="crumbs"><a href=format!("/c/{}", s.community)>{page.community_name.clone()}</a>" › batch"</p>
        <h1>{s.product.clone()}</h1>
        <BatchFacts page=page.clone()/>
        {page.notes.clone().map(|n| view! { <p class="prose">{n}</p> })}
        <p class="tools">
            <a class="button" href=format!("/b/{}/labels", s.uuid)>"Print QR labels"</a>
            {reviewer.then(|| view! { <a class="button" href=format!("/b/{}/attest", s.uuid)>"Submit an attestation"</a> })}
        </p>
        <VerdictPanel page=page.clone()/>
        <section>
            <h2>{format!("Attestations ({})", page.attestations.len())}</h2>
            {attestations}
        </section>
        <section>
            <h2>"Protocol steps and limits"</h2>
            <StepTable protocol=page.protocol.clone()/>
        </section>
        <details><summary>"Serial numbers"</summary><p>{serials}</p>{more}</details>
    }
    .into_any()
}

/// `/b/{uuid}/attest`: the attestation form, generated from the protocol's steps.
#[component]
pub fn AttestRoute() -> impl IntoView {
    let page = match node().batch(&param("uuid")) {
        Ok(page) => page,
        Err(e) => return unavailable(e),
    };
    let Some(viewer) = viewer() else {
        return view! {
            <Title text="Sign in to attest — Guildmark"/>
            <h1>"Submit an attestation"</h1>
            <p>"Reviewers "<a href=format!("/signin?next=/b/{}/attest", page.summary.uuid)>"sign in"</a>" to attest a batch."</p>
        }
        .into_any();
    };
    let _ = viewer;
    let sample = page
        .protocol
        .sampling
        .requirement(page.lot_size)
        .map(|r| r.sample as usize)
        .unwrap_or(1)
        .clamp(1, page.serials.len().max(1));
    // Suggested units spread evenly over the lot; the reviewer replaces them with the
    // units they really drew.
    let suggested: Vec<String> = (0..sample)
        .map(|i| page.serials[i * page.serials.len() / sample].clone())
        .collect();
    let steps = page.protocol.steps.clone();
    let step_heads = steps
        .iter()
        .map(|s| {
            let (kind, limits) = step_rule(s);
            view! { <th scope="col"><span title=s.method.clone()>{s.title.clone()}</span><br/><small>{format!("{kind}; {limits}")}</small></th> }
        })
        .collect_view();
    let hidden = steps
        .iter()
        .map(|s| {
            let (kind, unit) = match &s.kind {
                StepKind::Measurement { unit, .. } => ("measurement", unit.to_string()),
                StepKind::Check => ("check", String::new()),
                StepKind::Observation => ("observation", String::new()),
            };
            view! {
                <input type="hidden" name=format!("kind.{}", s.id) value=kind/>
                <input type="hidden" name=format!("unit.{}", s.id) value=unit/>
            }
        })
        .collect_view();
    let rows = suggested
        .iter()
        .enumerate()
        .map(|(i, serial)| unit_row(i, serial, &steps))
        .collect_view();
    let s = page.summary.clone();
    view! {
        <Title text=format!("Attest {} — Guildmark", s.product)/>
        <p class="crumbs"><a href=format!("/b/{}", s.uuid)>{format!("{} {} … {}", s.product, s.first_serial, s.last_serial)}</a>" › attest"</p>
        <h1>"Submit an attestation"</h1>
        <p>{format!("Protocol {} v{}: inspect {sample} units drawn from the lot of {}. Enter each reading in the unit shown (another unit of the same kind, such as 0.0118 A for mA, is also accepted). Failing readings are as welcome as passing ones.",
            page.protocol.title, page.protocol.version, page.lot_size)}</p>
        <form method="post" class="attest">
            <FormHead form="attest"/>
            <FormMessage form="attest"/>
            {hidden}
            <div class="scroll">
                <table class="entry">
                    <thead><tr><th scope="col">"Unit (serial)"</th>{step_heads}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <Choice form="attest" name="verdict" label="Your verdict on what you inspected"
                options=vec![("pass".into(), "pass — it conforms".into()), ("fail".into(), "fail — it should not be certified".into())]
                value="pass"/>
            <button type="submit">"Sign and submit attestation"</button>
        </form>
    }
    .into_any()
}

/// Unit `i`'s row of the attestation form: its serial (suggested, or as typed) and an
/// input per step.
fn unit_row(i: usize, serial: &str, steps: &[Step]) -> impl IntoView {
    let serial_name = format!("sampled.{i}");
    let serial_value = kept("attest", &serial_name, serial);
    let serial_error = refusal_of("attest", &serial_name);
    let serial_invalid = serial_error.is_some();
    let cells = steps.iter().map(|s| result_cell(i, s)).collect_view();
    view! {
        <tr>
            <th scope="row" class:invalid=serial_invalid>
                <input name=serial_name value=serial_value size="16" aria-label=format!("Serial number of unit {}", i + 1) required=true/>
                {serial_error.map(|e| view! { <p class="field-error">{e}</p> })}
            </th>
            {cells}
        </tr>
    }
}

/// Step `s`'s input for unit `i` (a reading with its unit, passed/failed, or a note),
/// keeping what was typed and showing its refusal.
fn result_cell(i: usize, s: &Step) -> impl IntoView {
    let name = format!("r.{i}.{}", s.id);
    let id = format!("attest-{name}");
    let value = kept("attest", &name, "");
    let error = refusal_of("attest", &name);
    let invalid = error.is_some();
    let label = format!("{} — unit {}", s.title, i + 1);
    let input = match &s.kind {
        StepKind::Measurement { unit, limits } => view! {
            <span class="with-unit">
                <input id=id.clone() name=name.clone() value=value inputmode="decimal" size="7" required=true
                    aria-label=label aria-invalid=invalid.then_some("true")/>
                <span class="unit" title=limits.describe()>{unit.to_string()}</span>
            </span>
        }.into_any(),
        StepKind::Check => {
            let (pass, fail) = (value == "pass", value == "fail");
            view! {
                <select id=id.clone() name=name.clone() aria-label=label aria-invalid=invalid.then_some("true")>
                    <option value="" selected=!(pass || fail)>"—"</option>
                    <option value="pass" selected=pass>"passed"</option>
                    <option value="fail" selected=fail>"failed"</option>
                </select>
            }.into_any()
        }
        StepKind::Observation => view! {
            <input id=id.clone() name=name.clone() value=value aria-label=label/>
        }.into_any(),
    };
    view! { <td class:invalid=invalid>{input}{error.map(|e| view! { <p class="field-error">{e}</p> })}</td> }
}

/// `/b/{uuid}/labels`: a printable sheet, one QR code per serial, each pointing at the
/// device page.
#[component]
pub fn LabelsRoute() -> impl IntoView {
    let node = node();
    let page = match node.batch(&param("uuid")) {
        Ok(page) => page,
        Err(e) => return unavailable(e),
    };
    let base = node.public_url();
    let sheets = page.serials.len().div_ceil(LABELS_PER_SHEET).max(1);
    let sheet = query("sheet")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| (1..=sheets).contains(n));
    let Some(sheet) = sheet.or(query("sheet").is_none().then_some(1)) else {
        let what = format!("This batch's labels fill sheets 1 to {sheets}.");
        return view! { <crate::pages::NotFound what/> }.into_any();
    };
    let from = (sheet - 1) * LABELS_PER_SHEET;
    let to = (from + LABELS_PER_SHEET).min(page.serials.len());
    let labels = page.serials[from..to]
        .iter()
        .map(|serial| {
            let url = format!("{base}/d/{serial}");
            let svg = crate::qr::svg(&url, 112).map(|s| s.to_string()).unwrap_or_default();
            view! {
                <figure class="label">
                    <div class="qr" role="img" aria-label=format!("QR code for {url}") inner_html=svg></div>
                    <figcaption><strong>{serial.clone()}</strong><br/><small>"Scan to verify"</small></figcaption>
                </figure>
            }
        })
        .collect_view();
    let s = page.summary;
    let link = |n: usize, text: String| {
        view! { <a href=format!("/b/{}/labels?sheet={n}", s.uuid)>{text}</a> }
    };
    let pager = (sheets > 1).then(|| {
        view! {
            <nav class="pager" aria-label="Sheets">
                {(sheet > 1).then(|| link(sheet - 1, "‹ previous sheet".into()))}
                {format!(" Sheet {sheet} of {sheets} ")}
                {(sheet < sheets).then(|| link(sheet + 1, "next sheet ›".into()))}
            </nav>
        }
    });
    view! {
        <Title text=format!("QR labels {} … {} — Guildmark", s.first_serial, s.last_serial)/>
        <div class="no-print">
            <p class="crumbs"><a href=format!("/b/{}", s.uuid)>{format!("{} {} … {}", s.product, s.first_serial, s.last_serial)}</a>" › labels"</p>
            <h1>"QR labels"</h1>
            <p>{format!("{} labels, {LABELS_PER_SHEET} to a sheet; this sheet has {} to {}. Print it (labels are 38 mm wide); each code opens the unit's page on {base}.", s.units, from + 1, to)}</p>
            {pager}
        </div>
        <div class="labels">{labels}</div>
    }
    .into_any()
}
