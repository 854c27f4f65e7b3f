//! The Guildmark web UI: Leptos pages rendered on the server, with forms that work
//! without JavaScript (post → redirect → get; a refused form comes back with the reason
//! beside the field and the input kept).
//!
//! The UI reaches the node only through [`NodeView`]; `guildmark serve` provides it and
//! mounts [`router`]. Pages read what they show from the node while rendering; each
//! page is a route component that loads its data and hands it to components that only
//! take props, so a later client-side build can hydrate them.

mod form;
mod layout;
mod pages;
mod qr;
mod report;
mod same_origin;
mod skill_tree;

pub mod verifier;

pub mod node;

use axum::body::Body;
use axum::extract::{FromRef, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub use form::capitalised;
pub use layout::{security_headers, session_cookie, SESSION_COOKIE};
pub use node::{NodeView, SharedNode};

/// The stylesheet, served at [`stylesheet_path`].
const CSS: &str = include_str!("guildmark.css");

/// FNV-1a of the stylesheet, computed when compiling.
const CSS_HASH: u64 = fnv1a(CSS.as_bytes());

/// FNV-1a: names a static file by its content, so browsers may cache it for good.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Where the stylesheet is served: its name changes with its content, so browsers may
/// cache it for good.
pub fn stylesheet_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| format!("/static/guildmark-{CSS_HASH:016x}.css"))
}

/// What the UI's handlers share.
#[derive(Clone)]
pub struct Ui {
    options: LeptosOptions,
    node: SharedNode,
}

impl FromRef<Ui> for LeptosOptions {
    fn from_ref(ui: &Ui) -> LeptosOptions {
        ui.options.clone()
    }
}

/// The UI's routes: every page (GET), the forms posted to them, and the stylesheet.
/// The node wraps them, with everything else it serves, in [`security_headers`].
pub fn router(node: SharedNode) -> axum::Router {
    // Leptos spawns its async rendering on tokio (leptos_axum's default features did
    // this; they also bring websockets and file serving, which are not used here).
    let _ = any_spawner::Executor::init_tokio();
    let options = LeptosOptions::builder().output_name("guildmark").build();
    let ui = Ui {
        options: options.clone(),
        node: node.clone(),
    };
    let routes = generate_route_list(App);
    let context = {
        let node = node.clone();
        move || provide_context(node.clone())
    };
    let mut router = axum::Router::new();
    // Forms post back to the page they are on.
    for path in form::POSTED_TO {
        router = router.route(path, post(form::submit));
    }
    router
        .route("/verify", post(form::verify))
        .route(stylesheet_path(), get(stylesheet))
        .route(verifier::script_path(), get(verifier::script))
        .route(verifier::wasm_path(), get(verifier::wasm))
        .route("/verify/offline.html", get(offline_verifier))
        .leptos_routes_with_context(&ui, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .layer(axum::extract::DefaultBodyLimit::max(form::MAX_DOCUMENT))
        .with_state(ui)
}

/// The friendly 404 page for `request` (for the node's fallback, when a browser asks).
pub async fn not_found(node: SharedNode, request: Request) -> Response {
    let options = LeptosOptions::builder().output_name("guildmark").build();
    let ui = Ui { options, node };
    let mut response = form::render(&ui, request, form::Submission::default()).await;
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// `GET /verify/offline.html`: the offline verifier, with this node's trust file.
async fn offline_verifier(axum::extract::State(ui): axum::extract::State<Ui>) -> Response {
    let text = match ui.node.trust_file() {
        Ok(text) => text,
        Err(why) => {
            let detail = match why {
                node::Unavailable::NotFound(d) | node::Unavailable::Failed(d) => d,
            };
            return (StatusCode::SERVICE_UNAVAILABLE, detail).into_response();
        }
    };
    let trust = verifier::EmbeddedTrust {
        text,
        node: ui.node.public_url(),
        generated_at: {
            let since = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            guildmark_credentials::Timestamp::from_unix_seconds(since.as_secs() as i64).to_string()
        },
    };
    let (html, policy) = verifier::offline_html(&trust);
    let mut response = html.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

async fn stylesheet() -> Response {
    immutable(CSS, "text/css; charset=utf-8")
}

/// A static file named by its content: its type, and cacheable for good.
fn immutable(body: impl IntoResponse, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

/// The HTML document around the app. It loads no script: pages are complete as sent.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href=stylesheet_path()/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: the header with who is signed in, and the page for the URL.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    layout::provide_viewer();
    // leptos_meta writes the title into <head> as raw HTML; every page's title holds
    // user text (a community's name, a batch's product), so all are escaped here.
    let escaped = |title: String| html_escape::encode_text(&title).into_owned();
    view! {
        <leptos_meta::Title formatter=escaped/>
        <Router>
            <layout::Header/>
            <main id="main">
                <form::SessionEnded/>
                <Routes fallback=|| view! { <pages::NotFound what="There is no page at this address.".to_owned()/> }>
                    <Route path=path!("/") view=pages::home::HomeRoute ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug") view=pages::community::CommunityRoute ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug/manage") view=pages::manage::ManageRoute ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug/register") view=pages::manage::RegisterRoute ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug/a/:name") view=pages::achievement::AchievementRoute ssr=SsrMode::Async/>
                    <Route path=path!("/m/:username") view=pages::member::MemberRoute ssr=SsrMode::Async/>
                    <Route path=path!("/cred/:uuid") view=pages::credential::CredentialRoute ssr=SsrMode::Async/>
                    <Route path=path!("/b/:uuid") view=pages::batch::BatchRoute ssr=SsrMode::Async/>
                    <Route path=path!("/b/:uuid/attest") view=pages::batch::AttestRoute ssr=SsrMode::Async/>
                    <Route path=path!("/b/:uuid/labels") view=pages::batch::LabelsRoute ssr=SsrMode::Async/>
                    <Route path=path!("/d/:serial") view=pages::device::DeviceRoute ssr=SsrMode::Async/>
                    <Route path=path!("/claim/:token") view=pages::claim::ClaimRoute ssr=SsrMode::Async/>
                    <Route path=path!("/verify") view=pages::verify::VerifyRoute ssr=SsrMode::Async/>
                    <Route path=path!("/ledger") view=pages::ledger::LedgerRoute ssr=SsrMode::Async/>
                    <Route path=path!("/ledger/e/:index") view=pages::ledger::EntryRoute ssr=SsrMode::Async/>
                    <Route path=path!("/ledger/consistency") view=pages::ledger::ConsistencyRoute ssr=SsrMode::Async/>
                    <Route path=path!("/signin") view=pages::account::SignInRoute ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=pages::account::AccountRoute ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer>
                <p>
                    "Guildmark — every credential here is signed and logged in this node's public "
                    <a href="/ledger">"ledger"</a>
                    ". Check anything offline with "<code>"guildmark verify"</code>"."
                </p>
            </footer>
        </Router>
    }
}

/// Renders the app for a request built by the UI itself (a refused form, a 404).
async fn render_app(
    ui: &Ui,
    request: Request<Body>,
    extra: impl Fn() + Clone + Send + Sync + 'static,
) -> Response {
    let node = ui.node.clone();
    let options = ui.options.clone();
    let handler = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(node.clone());
            extra();
        },
        move || shell(options.clone()),
    );
    handler(request).await
}

#[cfg(test)]
mod raw_html {
    //! Leptos escapes text and attributes, except in a few places it writes raw: the
    //! children of `<textarea>`, `<script>`, `<style>` and `<noscript>`, `inner_html`,
    //! and leptos_meta's `<title>`. User text reaches those only through the escaping
    //! made for them; this keeps a new page from adding another.

    use std::path::Path;

    fn sources(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path.display().to_string(), text));
            }
        }
    }

    #[test]
    fn user_text_reaches_raw_html_only_escaped() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut offending = Vec::new();
        for (path, text) in &files {
            if path.ends_with("lib.rs") {
                continue; // this test, and the title formatter that escapes every title
            }
            // The offline verifier is a `format!` template, not Leptos: its scripts and
            // style are our own constants, and the text it embeds (trust file, node URL)
            // is escaped there, which its own test checks with a hostile trust file.
            if path.ends_with("verifier.rs") {
                continue;
            }
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                let raw_child = ["<script", "<style", "<noscript"]
                    .iter()
                    .any(|tag| line.contains(tag));
                let textarea = line.contains("</textarea>") && !line.contains("{textarea_text(");
                // QR codes are SVG drawn by the qrcode crate from a URL, never user markup.
                let inner = line.contains("inner_html=")
                    && !line.contains("inner_html=svg")
                    && !line.contains("inner_html=qr");
                let formatter = line.contains("formatter=");
                if raw_child || textarea || inner || formatter {
                    offending.push(format!("{path}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(offending.is_empty(), "raw HTML sinks: {offending:#?}");
        assert!(files.len() > 10, "read the sources: {}", files.len());
    }
}
