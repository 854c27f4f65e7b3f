//! Signing in, and the signed-in person's account: memberships and API tokens.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::form::{Field, FormHead, FormMessage};
use crate::layout::{date, node, query, unavailable, viewer};
use crate::node::roles_text;

/// `/signin`
#[component]
pub fn SignInRoute() -> impl IntoView {
    let next = query("next").unwrap_or_default();
    let next = crate::form::kept("sign-in", "next", &next);
    let token = crate::same_origin::provide_sign_in_token();
    view! {
        <Title text="Sign in — Guildmark"/>
        <h1>"Sign in"</h1>
        <form method="post" action="/signin" class="narrow">
            <input type="hidden" name="form" value="sign-in"/>
            <input type="hidden" name="next" value=next/>
            <input type="hidden" name="signin" value=token/>
            <FormMessage form="sign-in"/>
            <Field form="sign-in" name="username" label="Username" required=true/>
            <div class="field">
                <label for="sign-in-password">"Password"</label>
                <input id="sign-in-password" type="password" name="password" autocomplete="current-password" required=true/>
            </div>
            <button type="submit">"Sign in"</button>
        </form>
    }
}

/// `/account`
#[component]
pub fn AccountRoute() -> impl IntoView {
    let Some(viewer) = viewer() else {
        return view! {
            <Title text="Account — Guildmark"/>
            <h1>"Account"</h1>
            <p><a href="/signin?next=/account">"Sign in"</a>" to see your account."</p>
        }
        .into_any();
    };
    let page = match node().account(&viewer.username) {
        Ok(page) => page,
        Err(e) => return unavailable(e),
    };
    let memberships = viewer
        .memberships
        .iter()
        .map(|m| view! { <li><a href=format!("/c/{}", m.community)>{m.community_name.clone()}</a>": "{roles_text(&m.roles)}</li> })
        .collect_view();
    let tokens = page
        .tokens
        .into_iter()
        .map(|t| {
            view! {
                <tr>
                    <td>{t.name}</td><td>{date(&t.created)}</td>
                    <td>{t.expires.map(|e| date(&e)).unwrap_or_else(|| "never".into())}</td>
                    <td>
                        <form method="post" class="inline">
                            <FormHead form="revoke-token"/>
                            <input type="hidden" name="id" value=t.id/>
                            <button type="submit" class="danger">"Revoke"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Title text="Account — Guildmark"/>
        <h1>{format!("Account: {}", viewer.username)}</h1>
        <p><a href=format!("/m/{}", viewer.username)>"Your public profile"</a></p>
        <h2>"Communities"</h2>
        <ul>{memberships}</ul>
        <section>
            <h2>"API tokens"</h2>
            <p>"Tokens let the command-line tool and scripts act as you ("<code>"Authorization: Bearer …"</code>"). A token's secret is shown once."</p>
            <FormMessage form="revoke-token"/>
            <div class="scroll">
                <table>
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Created"</th><th scope="col">"Expires"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{tokens}</tbody>
                </table>
            </div>
            <form method="post" class="narrow">
                <FormHead form="create-token"/>
                <FormMessage form="create-token"/>
                <Field form="create-token" name="name" label="New token's name" required=true hint="e.g. workshop laptop"/>
                <button type="submit">"Create token"</button>
            </form>
        </section>
    }
    .into_any()
}
