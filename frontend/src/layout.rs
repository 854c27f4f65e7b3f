//! What every page shares: who is looking, the header, reading the URL, statuses, and
//! the answer when a page cannot be shown.

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::node::{SharedNode, Unavailable, Viewer};

/// The session cookie's name (the node's API uses the same session).
pub const SESSION_COOKIE: &str = "gm_session";

/// Who is signed in, provided once per request.
#[derive(Clone)]
pub struct SignedIn(pub Option<Viewer>);

/// The node, from context.
pub fn node() -> SharedNode {
    expect_context::<SharedNode>()
}

/// The signed-in viewer, if any.
pub fn viewer() -> Option<Viewer> {
    use_context::<SignedIn>().and_then(|s| s.0)
}

/// The value of the session cookie among `headers`.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Resolves the session of the request being rendered.
pub fn provide_viewer() {
    let viewer = use_context::<Parts>()
        .and_then(|parts| session_cookie(&parts.headers))
        .and_then(|cookie| node().viewer(&cookie));
    provide_context(SignedIn(viewer));
}

/// A path parameter of the current route.
pub fn param(name: &str) -> String {
    use_params_map().with_untracked(|p| p.get(name).unwrap_or_default())
}

/// A query parameter of the current URL.
pub fn query(name: &str) -> Option<String> {
    use_query_map().with_untracked(|q| q.get(name))
}

/// Sets the response's status.
pub fn set_status(status: StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// The page for something that cannot be shown, with the right status.
pub fn unavailable(why: Unavailable) -> AnyView {
    match why {
        Unavailable::NotFound(what) => view! { <crate::pages::NotFound what/> }.into_any(),
        Unavailable::Failed(what) => {
            set_status(StatusCode::INTERNAL_SERVER_ERROR);
            view! {
                <leptos_meta::Title text="Something went wrong — Guildmark"/>
                <h1>"Something went wrong"</h1>
                <p class="failed">{what}</p>
            }
            .into_any()
        }
    }
}

/// The site header: the node's name, the main places, and who is signed in.
#[component]
pub fn Header() -> impl IntoView {
    let signed_in = viewer().map(|viewer| {
        view! {
            <a href=format!("/m/{}", viewer.username)>{viewer.username.clone()}</a>
            <a href="/account">"Account"</a>
            <form method="post" action="/signin" class="inline">
                <input type="hidden" name="form" value="sign-out"/>
                <input type="hidden" name="csrf" value=viewer.csrf.clone()/>
                <button type="submit" class="link">"Sign out"</button>
            </form>
        }
    });
    let anonymous = signed_in
        .is_none()
        .then(|| view! { <a href="/signin">"Sign in"</a> });
    view! {
        <header>
            <a class="skip" href="#main">"Skip to content"</a>
            <nav aria-label="Main">
                <a class="brand" href="/">"Guildmark"</a>
                <a href="/verify">"Verify"</a>
                <a href="/ledger">"Ledger"</a>
                <span class="who">{signed_in}{anonymous}</span>
            </nav>
        </header>
    }
}

/// Headers every response gets (no sniffing, no framing), and every page: no scripts,
/// frames or foreign resources at all — except the two pages that run the in-browser
/// verifier, which set their own policy. A response that sets its own (an upload served
/// inert) keeps them.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_html {
        // Leptos appends hydration data as inline scripts after the document; pages here
        // run no script (and the policy below would block them), so they are cut off.
        let (mut parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return Response::from_parts(parts, axum::body::Body::empty());
        };
        let end = bytes
            .windows(7)
            .rposition(|w| w == b"</html>")
            .map_or(bytes.len(), |i| i + 7);
        parts.headers.remove(header::CONTENT_LENGTH);
        response = Response::from_parts(parts, axum::body::Body::from(bytes.slice(..end)));
        let headers = response.headers_mut();
        // The pages that verify in the browser (and the offline file) set their own.
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    response
}

/// A verdict or standing as a coloured label.
#[component]
pub fn Tag(#[prop(into)] word: String) -> impl IntoView {
    let class = format!("tag tag-{word}");
    view! { <span class=class>{word}</span> }
}

/// Shortens a long identifier for display, keeping both ends.
pub fn short(id: &str) -> String {
    if id.chars().count() <= 28 {
        return id.to_owned();
    }
    let head: String = id.chars().take(16).collect();
    let tail: String = id
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head}…{tail}")
}

/// The date part of an RFC 3339 time.
pub fn date(time: &str) -> String {
    time.split('T').next().unwrap_or(time).to_owned()
}
