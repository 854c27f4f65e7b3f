//! Forms without JavaScript. Every form posts back to the page it is on with a hidden
//! `form` field naming it. A change that succeeds answers 303 to the page showing the
//! result; a refused one renders the same page again, with the reason beside the field
//! and everything the user typed kept.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;

use crate::layout::{session_cookie, viewer};
use crate::node::{
    parse_verdict, AddPeer, Attest, Change, DefineAchievement, Endorse, Entered, EnteredResult,
    IssueBadge, Outcome, PublishProtocol, Refusal, RegisterBatch, Role, SetMember, SetStanding,
    StandingChange,
};
use crate::same_origin;
use crate::Ui;

/// Pages whose forms post back to them.
pub const POSTED_TO: &[&str] = &[
    "/signin",
    "/account",
    "/c/{slug}/manage",
    "/c/{slug}/register",
    "/c/{slug}/a/{name}",
    "/cred/{uuid}",
    "/b/{uuid}/attest",
    "/m/{username}",
    "/claim/{token}",
    "/ledger",
];

/// The largest form accepted (a protocol's TOML is the largest field).
const MAX_FORM: usize = 256 * 1024;
/// The largest document the Verify page accepts.
pub const MAX_DOCUMENT: usize = 4 * 1024 * 1024;

/// A form as it was posted, for the page that shows it again.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// Which form (its `form` field).
    pub form: String,
    /// The fields, in order.
    pub fields: Vec<(String, String)>,
    /// Why it was refused.
    pub refusal: Option<Refusal>,
    /// A notice for the user (a change that shows its result in place).
    pub notice: Option<String>,
}

impl Submission {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The submission being shown again, if the page is answering one.
pub fn submission() -> Option<Submission> {
    use_context::<Submission>()
}

/// What field `name` of form `form` should show: what was typed, or `default`.
pub fn kept(form: &str, name: &str, default: &str) -> String {
    match submission() {
        Some(s) if s.form == form => s.get(name).unwrap_or_default().to_owned(),
        _ => default.to_owned(),
    }
}

/// Whether checkbox `name` = `value` of form `form` was ticked (or `default`).
pub fn ticked(form: &str, name: &str, value: &str, default: bool) -> bool {
    match submission() {
        Some(s) if s.form == form => s.all(name).iter().any(|v| v == value),
        _ => default,
    }
}

/// The refusal of field `name` of form `form`, if it was refused.
pub fn refusal_of(form: &str, name: &str) -> Option<String> {
    submission()
        .filter(|s| s.form == form)
        .and_then(|s| s.refusal)
        .filter(|r| r.field.as_deref() == Some(name))
        .map(|r| r.message)
}

/// The hidden fields every form carries: its name and the session's CSRF token.
#[component]
pub fn FormHead(#[prop(into)] form: String) -> impl IntoView {
    let csrf = viewer().map(|v| v.csrf).unwrap_or_default();
    view! {
        <input type="hidden" name="form" value=form/>
        <input type="hidden" name="csrf" value=csrf/>
    }
}

/// A refusal of the whole form, or a notice, shown above its fields.
#[component]
pub fn FormMessage(#[prop(into)] form: String) -> impl IntoView {
    let shown = submission().filter(|s| s.form == form);
    // An ended session is said once, at the top of the page (see `SessionEnded`).
    let refusal = shown
        .as_ref()
        .and_then(|s| s.refusal.clone())
        .filter(|r| r.field.is_none() && !(r.status == 401 && form != "sign-in"))
        .map(|r| view! { <p class="refusal" role="alert">{r.message}</p> });
    let field_refusal = shown
        .as_ref()
        .and_then(|s| s.refusal.clone())
        .filter(|r| r.field.is_some())
        .map(|_| view! { <p class="refusal" role="alert">"Please correct the field marked below."</p> });
    let notice = shown.and_then(|s| s.notice).map(|n| {
        // A wallet offer is scanned or opened, not read.
        if n.starts_with("openid-credential-offer://") {
            let qr = crate::qr::svg(&n, 220).map(|s| s.to_string()).unwrap_or_default();
            view! {
                <div class="notice wallet-offer" role="status">
                    <p>"Scan this with your wallet within 10 minutes, or open it on this device: "
                       <a href=n.clone()>"Add to wallet"</a></p>
                    <div class="qr" role="img" aria-label="QR code of the credential offer" inner_html=qr></div>
                </div>
            }
            .into_any()
        } else {
            view! { <p class="notice" role="status">{n}</p> }.into_any()
        }
    });
    view! { {refusal}{field_refusal}{notice} }
}

/// Says so at the top of any page when a form was posted without a live session: the
/// page may not even show the form to someone signed out.
#[component]
pub fn SessionEnded() -> impl IntoView {
    submission()
        .filter(|s| s.form != "sign-in")
        .and_then(|s| s.refusal)
        .filter(|r| r.status == 401)
        .map(|r| view! { <p class="refusal" role="alert">{r.message}" "<a href="/signin">"Sign in"</a></p> })
}

/// What a field shows: its id, its value (as typed, or the default) and its refusal.
struct FieldState {
    id: String,
    value: String,
    refusal: Option<String>,
    error_id: String,
    invalid: bool,
    /// The refusal's id, for `aria-describedby`, when there is one.
    described: Option<String>,
}

fn field_state(form: &str, name: &str, default: &str) -> FieldState {
    let id = format!("{form}-{name}");
    let refusal = refusal_of(form, name);
    let error_id = format!("{id}-error");
    let invalid = refusal.is_some();
    FieldState {
        value: kept(form, name, default),
        described: invalid.then(|| error_id.clone()),
        id,
        refusal,
        error_id,
        invalid,
    }
}

/// A field's hint and refusal, under its input.
#[component]
fn FieldNotes(hint: String, refusal: Option<String>, error_id: String) -> impl IntoView {
    view! {
        {(!hint.is_empty()).then(|| view! { <small>{hint}</small> })}
        {refusal.map(|r| view! { <p class="field-error" id=error_id>{r}</p> })}
    }
}

/// A labelled one-line input that keeps its value and shows its refusal.
#[component]
pub fn Field(
    #[prop(into)] form: String,
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(into, optional)] value: String,
    #[prop(into, optional)] hint: String,
    #[prop(into, optional)] kind: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(into, optional)] list: Option<String>,
) -> impl IntoView {
    let FieldState {
        id,
        value,
        refusal,
        error_id,
        invalid,
        described,
    } = field_state(&form, &name, &value);
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}</label>
            <input id=id type=kind.unwrap_or_else(|| "text".into()) name=name value=value
                required=required aria-invalid=invalid.then_some("true") aria-describedby=described list=list/>
            <FieldNotes hint refusal error_id/>
        </div>
    }
}

/// `text` escaped for the inside of a `<textarea>`: Leptos writes a textarea's children
/// unescaped (it treats them like a script's), so a value holding `</textarea>` would end
/// the element and the rest would become markup.
pub fn textarea_text(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

/// A labelled multi-line input that keeps its value and shows its refusal.
#[component]
pub fn TextArea(
    #[prop(into)] form: String,
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(into, optional)] value: String,
    #[prop(into, optional)] hint: String,
    #[prop(optional)] required: bool,
    #[prop(default = 4)] rows: u32,
) -> impl IntoView {
    let FieldState {
        id,
        value,
        refusal,
        error_id,
        invalid,
        described,
    } = field_state(&form, &name, &value);
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows=rows required=required
                aria-invalid=invalid.then_some("true") aria-describedby=described>{textarea_text(&value)}</textarea>
            <FieldNotes hint refusal error_id/>
        </div>
    }
}

/// A labelled choice among `options` (value, label) that keeps its value.
#[component]
pub fn Choice(
    #[prop(into)] form: String,
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    options: Vec<(String, String)>,
    #[prop(into, optional)] value: String,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let chosen = kept(&form, &name, &value);
    let refusal = refusal_of(&form, &name);
    let invalid = refusal.is_some();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}</label>
            <select id=id name=name aria-invalid=invalid.then_some("true")>
                {options.into_iter().map(|(value, label)| {
                    let selected = value == chosen;
                    view! { <option value=value selected=selected>{label}</option> }
                }).collect_view()}
            </select>
            {refusal.map(|r| view! { <p class="field-error">{r}</p> })}
        </div>
    }
}

/// Renders the page `request` asks for with `submission` in context.
pub async fn render(ui: &Ui, request: Request, submission: Submission) -> Response {
    crate::render_app(ui, request, move || provide_context(submission.clone())).await
}

/// The page at the request's URL, as a GET with the same cookies.
fn same_page(parts: &axum::http::request::Parts) -> Request {
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = parts.uri.clone();
    *request.headers_mut() = parts.headers.clone();
    request.headers_mut().remove(header::CONTENT_TYPE);
    request.headers_mut().remove(header::CONTENT_LENGTH);
    request
}

/// Handles every form but Verify.
pub async fn submit(State(ui): State<Ui>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let page = same_page(&parts);
    if let Some(refusal) = refuse_cross_site(&ui, &parts) {
        return refused(&ui, page, Submission::default(), refusal).await;
    }
    let bytes = match axum::body::to_bytes(body, MAX_FORM).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let refusal = Refusal::form(413, "The form is too large (at most 256 KiB).");
            return refused(&ui, page, Submission::default(), refusal).await;
        }
    };
    let mut submission = match read_submission(&bytes) {
        Ok(submission) => submission,
        Err(refusal) => return refused(&ui, page, Submission::default(), refusal).await,
    };
    if submission.form == "sign-in" {
        let address = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        let token = submission.get("signin").unwrap_or_default();
        if !same_origin::sign_in_token_matches(&parts.headers, token) {
            let refusal = Refusal::form(
                403,
                "This sign-in form has expired or was not sent from this node's sign-in page; try again.",
            );
            return refused(&ui, page, submission, refusal).await;
        }
        return sign_in(&ui, page, submission, &bytes, &address).await;
    }
    let session = session_cookie(&parts.headers).unwrap_or_default();
    let Some(viewer) = ui.node.viewer(&session) else {
        let refusal = Refusal::form(
            401,
            "Your session has ended: sign in again, then repeat this.",
        );
        return refused(&ui, page, submission, refusal).await;
    };
    if submission.get("csrf") != Some(viewer.csrf.as_str()) {
        let refusal = Refusal::form(
            403,
            "This form was not sent from a page of this node's current session; reload the page and try again.",
        );
        return refused(&ui, page, submission, refusal).await;
    }
    if submission.form == "sign-out" {
        let cookie = ui.node.sign_out(&session);
        return with_cookie(Redirect::to("/").into_response(), &cookie);
    }
    let change = match read_change(&submission, &parts.uri) {
        Ok(change) => change,
        Err(refusal) => return refused(&ui, page, submission, refusal).await,
    };
    match ui.node.change(&session, change).await {
        Ok(Outcome::Redirect(to)) => Redirect::to(&to).into_response(),
        Ok(Outcome::Notice(notice)) => {
            submission.notice = Some(notice);
            render(&ui, page, submission).await
        }
        Err(refusal) => refused(&ui, page, submission, refusal).await,
    }
}

/// The refusal of a post sent from another site's page (see [`same_origin`]).
fn refuse_cross_site(ui: &Ui, parts: &axum::http::request::Parts) -> Option<Refusal> {
    let why = same_origin::cross_site(&parts.headers, &ui.node.public_url())?;
    Some(Refusal::form(
        403,
        format!("This form was not sent from a page of this node ({why}); nothing was done. Open the page here and try again."),
    ))
}

/// A posted urlencoded form, without its password (never sent back to the page).
fn read_submission(bytes: &[u8]) -> Result<Submission, Refusal> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| Refusal::form(400, format!("The form could not be read: {e}")))?;
    let mut submission = Submission {
        form: String::new(),
        fields,
        refusal: None,
        notice: None,
    };
    submission.form = submission.get("form").unwrap_or_default().to_owned();
    submission.fields.retain(|(name, _)| name != "password");
    Ok(submission)
}

/// The sign-in form: on success, the session cookie and a redirect to where the visitor
/// was going on this node (or their profile).
async fn sign_in(
    ui: &Ui,
    page: Request,
    submission: Submission,
    bytes: &[u8],
    address: &str,
) -> Response {
    let get = |name: &str| {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .unwrap_or_default()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_default()
    };
    let (username, password) = (get("username"), get("password"));
    if username.trim().is_empty() {
        let refusal = Refusal::field("username", "Enter your username.");
        return refused(ui, page, submission, refusal).await;
    }
    match ui.node.sign_in(username.trim(), &password, address).await {
        Ok(cookie) => {
            let next = submission
                .get("next")
                .and_then(same_origin::local_path)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("/m/{}", username.trim()));
            with_cookie(Redirect::to(&next).into_response(), &cookie)
        }
        Err(refusal) => refused(ui, page, submission, refusal).await,
    }
}

async fn refused(ui: &Ui, page: Request, mut submission: Submission, refusal: Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    submission.refusal = Some(refusal);
    let mut response = render(ui, page, submission).await;
    *response.status_mut() = status;
    response
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The path segment after `prefix` in `uri`'s path, e.g. the slug of `/c/{slug}/…`.
fn segment(uri: &axum::http::Uri, index: usize) -> String {
    uri.path()
        .split('/')
        .nth(index)
        .unwrap_or_default()
        .to_owned()
}

fn required(submission: &Submission, name: &str, what: &str) -> Result<String, Refusal> {
    let value = submission.get(name).unwrap_or_default().trim().to_owned();
    if value.is_empty() {
        return Err(Refusal::field(name, format!("Enter {what}.")));
    }
    Ok(value)
}

fn optional(submission: &Submission, name: &str) -> Option<String> {
    submission
        .get(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The change a submitted form asks for, with its fields checked for form.
fn read_change(s: &Submission, uri: &axum::http::Uri) -> Result<Change, Refusal> {
    let community = || segment(uri, 2);
    Ok(match s.form.as_str() {
        "issue-badge" => Change::IssueBadge(read_issue_badge(s, community(), segment(uri, 4))?),
        "endorse" => Change::Endorse(Endorse {
            target: required(s, "target", "what you endorse")?,
            comment: required(s, "comment", "what you want to say about it")?,
        }),
        "standing" => Change::SetStanding(SetStanding {
            uuid: segment(uri, 2),
            change: match s.get("change").map(str::parse::<StandingChange>) {
                Some(Ok(change)) => change,
                Some(Err(_)) if s.get("change") == Some("suspend") => {
                    return Err(Refusal::form(
                        410,
                        "Badges can no longer be suspended: Open Badges verifiers do not see a suspension, so a suspended badge would look valid to them. Revoke it instead.",
                    ))
                }
                _ => return Err(Refusal::form(400, "Choose revoke or reinstate.")),
            },
        }),
        "define-achievement" => Change::DefineAchievement(read_define_achievement(s, community())?),
        "set-member" => Change::SetMember(SetMember {
            community: community(),
            username: required(s, "username", "the member's username")?,
            roles: read_roles(s)?,
        }),
        "publish-protocol" => Change::PublishProtocol(PublishProtocol {
            community: community(),
            source: required(s, "source", "the protocol's TOML")?,
        }),
        "register-batch" => Change::RegisterBatch(read_register_batch(s, community())?),
        "attest" => read_attestation(s, segment(uri, 2))?,
        "create-token" => Change::CreateToken(required(s, "name", "a name for the token")?),
        "revoke-token" => Change::RevokeToken(required(s, "id", "the token")?),
        "claim" => Change::Claim(segment(uri, 2)),
        "wallet-offer" => Change::OfferToWallet(required(s, "badge", "a badge")?),
        "add-peer" => Change::AddPeer(AddPeer {
            url: required(s, "url", "the peer's URL")?,
            log_key: required(s, "logKey", "the peer's log key")?,
        }),
        other => {
            return Err(Refusal::form(
                400,
                format!("This page has no form {other:?}."),
            ))
        }
    })
}

/// The issue form of achievement `achievement` of `community`.
fn read_issue_badge(
    s: &Submission,
    community: String,
    achievement: String,
) -> Result<IssueBadge, Refusal> {
    let recipient = required(s, "recipient", "the recipient's username or email address")?;
    let evidence_url = optional(s, "evidence_url");
    if evidence_url
        .as_ref()
        .is_some_and(|url| !(url.starts_with("https://") || url.starts_with("http://")))
    {
        return Err(Refusal::field(
            "evidence_url",
            "Give an http:// or https:// link, or leave it empty.",
        ));
    }
    Ok(IssueBadge {
        community,
        achievement,
        recipient,
        narrative: optional(s, "narrative"),
        evidence_url,
        valid_until: optional(s, "valid_until")
            .map(|date| valid_until(&date))
            .transpose()?,
    })
}

/// The form defining an achievement of `community`; its name becomes part of addresses.
fn read_define_achievement(
    s: &Submission,
    community: String,
) -> Result<DefineAchievement, Refusal> {
    let name = required(s, "name", "a short name for its address")?;
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(Refusal::field(
            "name",
            "Use lowercase letters, digits and hyphens only (it becomes part of the address).",
        ));
    }
    Ok(DefineAchievement {
        community,
        name,
        title: required(s, "title", "a title")?,
        description: required(s, "description", "a description")?,
        criteria: required(s, "criteria", "how it is earned")?,
        level: optional(s, "level"),
        prerequisites: s.all("prerequisites"),
    })
}

/// The ticked roles: at least one, each one the form offers.
fn read_roles(s: &Submission) -> Result<Vec<Role>, Refusal> {
    let roles = s
        .all("roles")
        .iter()
        .map(|r| r.parse::<Role>())
        .collect::<Result<BTreeSet<Role>, _>>()
        .map_err(|e| Refusal::field("roles", format!("{}.", capitalised(&e.to_string()))))?;
    if roles.is_empty() {
        return Err(Refusal::field("roles", "Tick at least one role."));
    }
    Ok(roles.into_iter().collect())
}

/// The batch registration form of `community`: serials one per line or comma-separated.
fn read_register_batch(s: &Submission, community: String) -> Result<RegisterBatch, Refusal> {
    let product = required(s, "product", "the product")?;
    let protocol = required(s, "protocol", "the protocol")?;
    let lot = required(s, "lot_size", "the lot size")?;
    let lot_size = match lot.parse::<u64>() {
        Ok(n) if n > 0 => n,
        _ => {
            return Err(Refusal::field(
                "lot_size",
                format!("{lot:?} is not a whole number of units."),
            ))
        }
    };
    let serials = required(s, "serials", "the serial numbers")?
        .split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(RegisterBatch {
        community,
        product,
        protocol,
        lot_size,
        serials,
        production_date: required(s, "production_date", "the production date")?,
        notes: optional(s, "notes"),
    })
}

/// `text` with its first letter upper-case (a message starting a sentence).
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A date (`YYYY-MM-DD`, from a date input) as the end of that day in UTC.
fn valid_until(date: &str) -> Result<String, Refusal> {
    let bytes = date.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err(Refusal::field("valid_until", "Give a date as YYYY-MM-DD."));
    }
    Ok(format!("{date}T23:59:59Z"))
}

/// The attestation form: `sampled.{i}` serials, `r.{i}.{step}` results, `verdict`, and
/// `unit.{step}` (the step's unit, appended to a bare number).
fn read_attestation(s: &Submission, batch: String) -> Result<Change, Refusal> {
    let mut sampled = Vec::new();
    let mut results = Vec::new();
    for (name, value) in &s.fields {
        let Some(i) = name.strip_prefix("sampled.") else {
            continue;
        };
        let serial = value.trim();
        if serial.is_empty() {
            return Err(Refusal::field(
                name,
                "Enter the serial number of the unit you inspected.",
            ));
        }
        sampled.push(serial.to_owned());
        for (field, entered) in &s.fields {
            let Some(rest) = field.strip_prefix("r.") else {
                continue;
            };
            let Some((index, step)) = rest.split_once('.') else {
                continue;
            };
            if index != i {
                continue;
            }
            let entered = entered.trim();
            let kind = s.get(&format!("kind.{step}")).unwrap_or("measurement");
            let value = match kind {
                "check" => match entered {
                    "pass" => Entered::Passed(true),
                    "fail" => Entered::Passed(false),
                    _ => return Err(Refusal::field(field, "Choose passed or failed.")),
                },
                "observation" => {
                    if entered.is_empty() {
                        continue;
                    }
                    Entered::Note(entered.to_owned())
                }
                _ => {
                    if entered.is_empty() {
                        return Err(Refusal::field(field, "Enter the measured value."));
                    }
                    let unit = s.get(&format!("unit.{step}")).unwrap_or_default();
                    let bare_number = entered.parse::<f64>().is_ok();
                    Entered::Value(if bare_number && !unit.is_empty() {
                        format!("{entered} {unit}")
                    } else {
                        entered.to_owned()
                    })
                }
            };
            results.push(EnteredResult {
                serial: serial.to_owned(),
                step: step.to_owned(),
                entered: value,
            });
        }
    }
    if sampled.is_empty() {
        return Err(Refusal::form(
            422,
            "An attestation needs at least one inspected unit.",
        ));
    }
    let Some(Ok(verdict)) = s.get("verdict").map(parse_verdict) else {
        return Err(Refusal::field(
            "verdict",
            "Choose your verdict: pass or fail.",
        ));
    };
    Ok(Change::Attest(Attest {
        batch,
        sampled,
        results,
        verdict,
    }))
}

/// What verifying the posted document gave, for the Verify page (`None`: nothing to
/// verify). Verification runs in the handler, in the node's pool, before the page renders.
#[derive(Clone)]
pub struct Verified(pub Option<Result<guildmark_credentials::report::Report, String>>);

/// The Verify page's form: a pasted document or an uploaded file.
pub async fn verify(State(ui): State<Ui>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let page = same_page(&parts);
    // Refused unread: the page echoes the document, so another site's post would
    // otherwise show its own text inside this node's page.
    if let Some(mut refusal) = refuse_cross_site(&ui, &parts) {
        refusal.field = Some("document".into());
        let submission = Submission {
            form: "verify".into(),
            ..Submission::default()
        };
        return refused(&ui, page, submission, refusal).await;
    }
    let mut document = String::new();
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let read: Result<(), String> = async {
        if multipart {
            let request = Request::from_parts(parts.clone(), body);
            let mut form = Multipart::from_request(request, &())
                .await
                .map_err(|e| e.body_text())?;
            while let Some(field) = form.next_field().await.map_err(|e| e.body_text())? {
                let name = field.name().unwrap_or_default().to_owned();
                let text = field.text().await.map_err(|e| e.body_text())?;
                if (name == "document" || name == "file") && !text.trim().is_empty() {
                    document = text;
                }
            }
        } else {
            let bytes = axum::body::to_bytes(body, MAX_DOCUMENT)
                .await
                .map_err(|e| e.to_string())?;
            let fields: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&bytes).map_err(|e| e.to_string())?;
            document = fields
                .into_iter()
                .find(|(n, _)| n == "document")
                .map(|(_, v)| v)
                .unwrap_or_default();
        }
        Ok(())
    }
    .await;
    let outcome = match &read {
        Ok(()) if !document.trim().is_empty() => Some(ui.node.verify(&document).await),
        _ => None,
    };
    let mut submission = Submission {
        form: "verify".into(),
        fields: vec![("document".into(), document)],
        refusal: None,
        notice: None,
    };
    match read {
        Ok(()) => {
            let outcome = Verified(outcome);
            crate::render_app(&ui, page, move || {
                provide_context(submission.clone());
                provide_context(outcome.clone());
            })
            .await
        }
        Err(e) => {
            submission.refusal = Some(Refusal::field(
                "document",
                format!("The document could not be read: {e}"),
            ));
            let mut response = render(&ui, page, submission).await;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response
        }
    }
}
