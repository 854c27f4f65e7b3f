//! A community's forms for its admins (members, achievements, protocols) and producers
//! (batches).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{ticked, Choice, Field, FormHead, FormMessage, TextArea};
use crate::layout::{node, param, unavailable, viewer};
use crate::node::{roles_text, CommunityPage, Role};

fn signed_in_with(slug: &str, roles: &[Role], what: &str) -> Option<AnyView> {
    match viewer() {
        None => Some(view! { <p><a href=format!("/signin?next=/c/{slug}")>"Sign in"</a>{format!(" to {what}.")}</p> }.into_any()),
        Some(v) if !roles.iter().any(|r| v.has_role(slug, *r)) => {
            crate::layout::set_status(axum::http::StatusCode::FORBIDDEN);
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Some(view! { <p class="refusal">{format!("Only a community member with the role {} may {what}.", names.join(" or "))}</p> }.into_any())
        }
        Some(_) => None,
    }
}

/// `/c/{slug}/manage`
#[component]
pub fn ManageRoute() -> impl IntoView {
    let slug = param("slug");
    let page = match node().community(&slug) {
        Ok(page) => page,
        Err(e) => return unavailable(e),
    };
    let name = page.community.name.clone();
    let head = view! {
        <Title text=format!("Manage {name} — Guildmark")/>
        <p class="crumbs"><a href=format!("/c/{slug}")>{name.clone()}</a>" › manage"</p>
        <h1>{format!("Manage {name}")}</h1>
    };
    if let Some(refusal) = signed_in_with(&slug, &[Role::Admin], "manage this community") {
        return view! { {head}{refusal} }.into_any();
    }
    view! { {head}<ManageForms page/> }.into_any()
}

/// The admin forms.
#[component]
pub fn ManageForms(page: CommunityPage) -> impl IntoView {
    let members = page
        .members
        .iter()
        .map(|m| view! { <tr><td><a href=format!("/m/{}", m.username)>{m.username.clone()}</a></td><td>{roles_text(&m.roles)}</td></tr> })
        .collect_view();
    let role_boxes = Role::ALL
        .iter()
        .map(|role| {
            let role = role.as_str();
            let checked = ticked("set-member", "roles", role, role == "apprentice");
            let id = format!("role-{role}");
            let for_id = id.clone();
            view! { <label for=for_id class="check"><input id=id type="checkbox" name="roles" value=role checked=checked/>{role}</label> }
        })
        .collect_view();
    let prerequisite_boxes = page
        .achievements
        .iter()
        .map(|a| {
            let checked = ticked("define-achievement", "prerequisites", &a.name, false);
            let id = format!("pre-{}", a.name);
            let for_id = id.clone();
            view! { <label for=for_id class="check"><input id=id type="checkbox" name="prerequisites" value=a.name.clone() checked=checked/>{a.title.clone()}</label> }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"Members"</h2>
            <div class="scroll"><table><thead><tr><th scope="col">"Member"</th><th scope="col">"Roles"</th></tr></thead><tbody>{members}</tbody></table></div>
            <h3>"Add a member or change their roles"</h3>
            <form method="post">
                <FormHead form="set-member"/>
                <FormMessage form="set-member"/>
                <Field form="set-member" name="username" label="Username" required=true hint="An account on this node."/>
                <fieldset class:invalid=crate::form::refusal_of("set-member", "roles").is_some()>
                    <legend>"Roles"</legend>
                    {role_boxes}
                    {crate::form::refusal_of("set-member", "roles").map(|r| view! { <p class="field-error">{r}</p> })}
                </fieldset>
                <button type="submit">"Save member"</button>
            </form>
        </section>
        <section class="panel">
            <h2>"Define an achievement"</h2>
            <form method="post">
                <FormHead form="define-achievement"/>
                <FormMessage form="define-achievement"/>
                <Field form="define-achievement" name="title" label="Title" required=true/>
                <Field form="define-achievement" name="name" label="Short name" required=true hint="Lowercase letters, digits and hyphens; part of its address."/>
                <TextArea form="define-achievement" name="description" label="Description" required=true/>
                <TextArea form="define-achievement" name="criteria" label="Criteria: how it is earned" required=true/>
                <Field form="define-achievement" name="level" label="Level (optional)"/>
                <fieldset><legend>"Prerequisites"</legend>{prerequisite_boxes}</fieldset>
                <button type="submit">"Define achievement"</button>
            </form>
        </section>
        <section class="panel">
            <h2>"Publish a review protocol"</h2>
            <form method="post">
                <FormHead form="publish-protocol"/>
                <FormMessage form="publish-protocol"/>
                <TextArea form="publish-protocol" name="source" label="Protocol (TOML)" rows=16 required=true
                    hint="The format is documented in review-protocols/README.md; it is checked before anything is signed."/>
                <button type="submit">"Publish protocol"</button>
            </form>
        </section>
    }
}

/// `/c/{slug}/register`
#[component]
pub fn RegisterRoute() -> impl IntoView {
    let slug = param("slug");
    let node = node();
    let page = match node.community(&slug) {
        Ok(page) => page,
        Err(e) => return unavailable(e),
    };
    let name = page.community.name.clone();
    let head = view! {
        <Title text=format!("Register a batch — {name} — Guildmark")/>
        <p class="crumbs"><a href=format!("/c/{slug}")>{name.clone()}</a>" › register a batch"</p>
        <h1>"Register a batch"</h1>
    };
    if let Some(refusal) = signed_in_with(&slug, &[Role::Producer, Role::Admin], "register batches")
    {
        return view! { {head}{refusal} }.into_any();
    }
    let protocols = match node.protocols() {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let options = protocols
        .into_iter()
        .map(|p| {
            (
                p.hash.clone(),
                format!("{} v{} ({})", p.title, p.version, p.community),
            )
        })
        .collect::<Vec<_>>();
    view! {
        {head}
        <form method="post">
            <FormHead form="register-batch"/>
            <FormMessage form="register-batch"/>
            <Field form="register-batch" name="product" label="Product" required=true/>
            <Choice form="register-batch" name="protocol" label="Review protocol" options/>
            <Field form="register-batch" name="lot_size" label="Lot size (units)" required=true kind="number".to_owned()/>
            <TextArea form="register-batch" name="serials" label="Serial numbers" required=true
                hint="One per line, or ranges such as MPPT20-2026-0101..0150."/>
            <Field form="register-batch" name="production_date" label="Production date" required=true kind="date".to_owned()/>
            <TextArea form="register-batch" name="notes" label="Notes for reviewers and buyers (optional)"/>
            <button type="submit">"Register batch"</button>
        </form>
    }
    .into_any()
}
