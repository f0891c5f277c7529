//! The console, for agency users (`/console`): log in with an access token (or a client
//! certificate), ask for data, preview what the law library would decide, review requests held
//! for the agency's supervisors, mark the notices owed to people as sent.
//!
//! **One authorisation code.** Every action calls the API's own handler (`api::*_as`) with
//! the session's identity, so a page shows and does exactly what the same token could do
//! through `/v1/`, with the same checks, limits and ledger entries.
//!
//! **Sessions.** Logging in checks the token and keeps it on the server, in memory, under a random
//! session id; the browser holds only that id, in a cookie that is `HttpOnly`, `SameSite=Strict`,
//! `Secure` under TLS and scoped to `/console`. Every page checks the token again, so a session
//! ends when its token expires or is revoked, and at the latest after 12 hours. The API never
//! reads the cookie (it takes bearer tokens and certificates only), so no other site can drive the
//! API through a logged-in browser. Every form carries the session's CSRF token; the login form,
//! before there is a session, a token bound to a cookie of its own. Sessions live in one hub
//! process: a restart, or another replica, asks to log in again.
//!
//! **My requests.** Each request made through the console is recorded in the hub's store
//! ([`crate::store::Store::add_console_request`]: `DATA/console-requests.jsonl` or the
//! `hub_console_requests` table), so the list outlives a restart and every replica shows it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use maud::{html, Markup};
use model::vocab;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::api::{self, AppState};
use crate::store::ConsoleRequest;
use crate::tls::ClientCert;
use crate::tokens::{now, TokenRecord, SUPERVISOR};
use crate::web::{self, Lang, Page, Viewer, Words};

mod auditor;

pub use auditor::{AUDITOR, UPLOAD_LIMIT};

/// The session cookie.
const SESSION_COOKIE: &str = "fg_session";
/// The cookie that binds the login form's CSRF token before there is a session.
const LOGIN_COOKIE: &str = "fg_login";
/// The longest a session lives, whatever its token's expiry.
const SESSION_SECS: u64 = 12 * 3600;
/// Live sessions at most (each holds a token and a CSRF secret, a few hundred bytes).
const MAX_SESSIONS: usize = 100_000;

/// How a session proves who it is on each page.
#[derive(Clone)]
enum Credential {
    /// A bearer token, checked again on every page.
    Token(String),
    /// A client certificate naming (agency, user, role), required on every page's connection.
    Cert(String, String, String),
}

struct Session {
    credential: Credential,
    csrf: String,
    expires: u64,
}

/// The console's state: the hub, the sessions, what the auditor's pages saw.
pub(crate) struct Console {
    app: Arc<AppState>,
    sessions: Mutex<HashMap<String, Session>>,
    /// The last checkpoint the ledger page saw, and what the check from it to the next found.
    seen: Mutex<Option<auditor::Seen>>,
    consistency: Mutex<Option<auditor::Consistency>>,
    /// The count of the ledger (its side-door findings are on the auditor's ledger page).
    cache: Arc<crate::transparency::Cache>,
    /// Each auditor session's last upload's findings (in memory, until the next upload or logout).
    audits: Mutex<HashMap<String, Arc<auditor::Audited>>>,
    /// Uploads being read at once: each may hold up to the upload limit in a temporary file, so
    /// their number bounds the disk they can take.
    uploads: tokio::sync::Semaphore,
}

type St = State<Arc<Console>>;
type Cert = Option<Extension<ClientCert>>;

/// The console's routes (merged into the hub's router).
pub(crate) fn routes<S>(app: Arc<AppState>, cache: Arc<crate::transparency::Cache>) -> Router<S> {
    let upload_body = usize::try_from(app.upload_limit).unwrap_or(usize::MAX).saturating_add(1 << 20);
    let console = Arc::new(Console {
        app,
        sessions: Mutex::new(HashMap::new()),
        seen: Mutex::new(None),
        consistency: Mutex::new(None),
        cache,
        audits: Mutex::new(HashMap::new()),
        uploads: tokio::sync::Semaphore::new(auditor::UPLOADS_AT_ONCE),
    });
    Router::new()
        .route("/console", get(home))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/requests/new", get(new_request).post(send_request))
        .route("/console/requests", get(my_requests))
        .route("/console/requests/{id}", post(fetch_approved))
        .route("/console/reviews", get(reviews))
        .route("/console/reviews/{id}", post(decide))
        .route("/console/notifications", get(notifications))
        .route("/console/notifications/{id}", post(mark_sent))
        .route("/console/ledger", get(auditor::ledger_page))
        .route(
            "/console/audit",
            get(auditor::audit_page).post(auditor::upload).layer(axum::extract::DefaultBodyLimit::max(upload_body)),
        )
        .with_state(console)
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS's generator; without it no session can be made safely, so none is.
    if getrandom::getrandom(&mut b).is_err() {
        return String::new();
    }
    B64URL.encode(b)
}

fn session_key(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Constant-time comparison of two secrets.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie(app: &AppState, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = if app.secure_cookies.load(std::sync::atomic::Ordering::Relaxed) { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The identity and CSRF token of a logged-in page.
struct Who {
    record: TokenRecord,
    csrf: String,
    /// The page was asked for in a language (`?lang=`) to remember.
    remember_lang: bool,
}

impl Who {
    fn viewer(&self) -> Viewer<'_> {
        Viewer { user: &self.record.user, agency: &self.record.agency, role: &self.record.role, csrf: &self.csrf }
    }
}

/// The answer of an API handler, as status and JSON.
async fn json_of(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024).await.unwrap_or_default();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

impl Console {
    /// The key of this request's session, if it has a session cookie.
    fn session_of(&self, headers: &HeaderMap) -> Option<String> {
        web::cookies(headers).get(SESSION_COOKIE).map(|id| session_key(id))
    }

    /// The logged-in user of a page and the page's language. The session is checked again
    /// (token still valid, certificate still presented, not past its time) and admitted by the
    /// limiter; else the login page (or the limiter's answer).
    async fn page_who(&self, headers: &HeaderMap, cert: &Cert, query: Option<&str>) -> Result<(Who, Lang), Response> {
        let (lang, remember_lang) = web::lang_of(headers, query);
        let to_login = || redirect("/console/login?expired=1");
        let Some(key) = self.session_of(headers) else {
            return Err(redirect("/console/login"));
        };
        let Some((credential, csrf, expires)) = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .map(|s| (s.credential.clone(), s.csrf.clone(), s.expires))
        else {
            return Err(to_login());
        };
        let record = if now() >= expires {
            None
        } else {
            match &credential {
                Credential::Token(t) => self.app.verify_token(t).await.ok(),
                Credential::Cert(a, u, r) => self
                    .app
                    .cert_identity(cert.as_ref().map(|Extension(c)| c))
                    .ok()
                    .flatten()
                    .filter(|rec| &rec.agency == a && &rec.user == u && &rec.role == r),
            }
        };
        let Some(record) = record else {
            self.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
            return Err(to_login());
        };
        if let Err(p) = self.app.limiter.admit(&record.id, &record.agency) {
            return Err(web::error_page(p.status, lang, "/console", &p.detail));
        }
        Ok((Who { record, csrf, remember_lang }, lang))
    }

    /// A posted form's user, language and fields, its CSRF token checked.
    async fn form_who(
        &self,
        headers: &HeaderMap,
        cert: &Cert,
        query: Option<&str>,
        body: &Bytes,
    ) -> Result<(Who, Lang, Vec<(String, String)>), Response> {
        let (who, lang) = self.page_who(headers, cert, query).await?;
        let form = web::pairs(&String::from_utf8_lossy(body));
        match web::value(&form, "csrf") {
            Some(c) if same(c, &who.csrf) => Ok((who, lang, form)),
            _ => Err(web::error_page(StatusCode::FORBIDDEN, lang, "/console", lang.t("csrf.bad"))),
        }
    }
}

/// A console page: private (`no-store`), with the user and the log-out button.
fn page(who: &Who, lang: Lang, title: &str, path: &str, status: StatusCode, body: Markup) -> Response {
    let p = Page { lang, title: title.to_string(), path, viewer: Some(who.viewer()), scripts: vec![] };
    web::respond(status, lang, who.remember_lang, true, p.render(body))
}

fn console_nav(lang: Lang, who: &Who) -> Markup {
    html! {
        nav aria-label=(lang.t("console.nav")) {
            ul.cards {
                @if who.record.role == AUDITOR {
                    li { a href="/console/ledger" { (lang.t("console.ledger")) } }
                    li { a href="/console/audit" { (lang.t("console.audit")) } }
                } @else {
                    li { a href="/console/requests/new" { (lang.t("console.new")) } }
                    li { a href="/console/requests" { (lang.t("console.mine")) } }
                }
                @if who.record.role == SUPERVISOR {
                    li { a href="/console/reviews" { (lang.t("console.reviews")) } }
                    li { a href="/console/notifications" { (lang.t("console.notifications")) } }
                }
            }
        }
    }
}

async fn home(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery) -> Response {
    let (who, lang) = match c.page_who(&headers, &cert, q.as_deref()).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body = html! {
        h1 { (lang.t("console.title")) }
        p.lead { (lang.t("console.welcome")) }
        (console_nav(lang, &who))
    };
    page(&who, lang, lang.t("console.title"), "/console", StatusCode::OK, body)
}

fn login_form(
    lang: Lang,
    csrf: &str,
    token_error: Option<&str>,
    cert: Option<&TokenRecord>,
    notice: Option<&str>,
) -> Markup {
    html! {
        h1 { (lang.t("login.title")) }
        p.lead { (lang.t("login.lead")) }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        @if let Some(rec) = cert {
            form.stack method="post" action="/console/login" {
                input type="hidden" name="login_csrf" value=(csrf);
                input type="hidden" name="with" value="certificate";
                p { (lang.f("login.cert_lead", &[&rec.user, &rec.agency, &rec.role])) }
                button type="submit" { (lang.t("login.cert")) }
            }
        }
        form.stack method="post" action="/console/login" novalidate {
            input type="hidden" name="login_csrf" value=(csrf);
            div.field {
                label for="token" { (lang.t("login.token")) }
                input #token type="password" name="token" autocomplete="current-password" spellcheck="false"
                    aria-invalid=[token_error.map(|_| "true")] aria-describedby=[token_error.map(|_| "token-error")];
                @if let Some(e) = token_error { p #token-error.field-error { (e) } }
            }
            button type="submit" { (lang.t("login.submit")) }
        }
    }
}

fn login_response(c: &Console, lang: Lang, remember: bool, status: StatusCode, body: Markup, csrf: &str) -> Response {
    let p =
        Page { lang, title: lang.t("login.title").to_string(), path: "/console/login", viewer: None, scripts: vec![] };
    let mut r = web::respond(status, lang, remember, true, p.render(body));
    r.headers_mut().append(header::SET_COOKIE, cookie(&c.app, LOGIN_COOKIE, csrf, 3600));
    r
}

async fn login_page(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery) -> Response {
    let pairs = web::pairs(q.as_deref().unwrap_or(""));
    let (lang, remember) = web::negotiate(&headers, &pairs);
    let csrf = web::cookies(&headers).get(LOGIN_COOKIE).filter(|v| v.len() == 43).cloned().unwrap_or_else(random_token);
    let cert_record = c.app.cert_identity(cert.as_ref().map(|Extension(c)| c)).ok().flatten();
    let notice = web::value(&pairs, "expired").map(|_| lang.t("login.expired"));
    let body = login_form(lang, &csrf, None, cert_record.as_ref(), notice);
    login_response(&c, lang, remember, StatusCode::OK, body, &csrf)
}

async fn login(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let (lang, _) = web::lang_of(&headers, q.as_deref());
    let form = web::pairs(&String::from_utf8_lossy(&body));
    let bound = web::cookies(&headers).get(LOGIN_COOKIE).cloned().unwrap_or_default();
    let sent = web::value(&form, "login_csrf").unwrap_or("");
    if bound.is_empty() || !same(sent, &bound) {
        return web::error_page(StatusCode::FORBIDDEN, lang, "/console/login", lang.t("csrf.bad"));
    }
    let cert_record = c.app.cert_identity(cert.as_ref().map(|Extension(c)| c)).ok().flatten();
    let (credential, record) = if web::value(&form, "with") == Some("certificate") {
        match cert_record.clone() {
            Some(r) => (Credential::Cert(r.agency.clone(), r.user.clone(), r.role.clone()), r),
            None => return web::error_page(StatusCode::UNAUTHORIZED, lang, "/console/login", lang.t("login.expired")),
        }
    } else {
        let token = web::value(&form, "token").unwrap_or("").trim().to_string();
        let error = if token.is_empty() {
            Err(lang.t("login.empty").to_string())
        } else {
            c.app.verify_token(&token).await.map_err(|p| lang.f("login.bad", &[&p.detail]))
        };
        match error {
            Ok(r) => (Credential::Token(token), r),
            Err(e) => {
                let body = login_form(lang, &bound, Some(&e), cert_record.as_ref(), None);
                return login_response(&c, lang, false, StatusCode::UNAUTHORIZED, body, &bound);
            }
        }
    };
    let id = random_token();
    if id.is_empty() {
        return web::error_page(StatusCode::SERVICE_UNAVAILABLE, lang, "/console/login", "no random numbers");
    }
    let expires = record.expires.min(now() + SESSION_SECS);
    let session = Session { credential, csrf: random_token(), expires };
    {
        let mut sessions = c.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let t = now();
        sessions.retain(|_, s| s.expires > t);
        // Memory is bounded: past this many live sessions, new logins wait for old ones to end.
        if sessions.len() >= MAX_SESSIONS {
            drop(sessions);
            return web::error_page(StatusCode::SERVICE_UNAVAILABLE, lang, "/console/login", lang.t("login.full"));
        }
        sessions.insert(session_key(&id), session);
    }
    let mut r = redirect("/console");
    r.headers_mut().append(header::SET_COOKIE, cookie(&c.app, SESSION_COOKIE, &id, expires.saturating_sub(now())));
    r.headers_mut().append(header::SET_COOKIE, cookie(&c.app, LOGIN_COOKIE, "", 0));
    r
}

async fn logout(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery, body: Bytes) -> Response {
    if let Err(r) = c.form_who(&headers, &cert, q.as_deref(), &body).await {
        return r;
    }
    if let Some(key) = c.session_of(&headers) {
        c.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        c.audits.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
    }
    let mut r = redirect("/console/login");
    r.headers_mut().append(header::SET_COOKIE, cookie(&c.app, SESSION_COOKIE, "", 0));
    r
}

/// The request form's fields; anything else in a submitted form is refused.
const FORM_FIELDS: &[&str] = &[
    "csrf",
    "do",
    "source",
    "action",
    "purpose",
    "justification",
    "case_number",
    "basis_kind",
    "basis_reference",
    "basis_issued_by",
    "subject_kind",
    "subject_value",
    "fields",
    "certification",
    "obo_agency_1",
    "obo_user_1",
    "obo_agency_2",
    "obo_user_2",
];

fn select(id: &str, label: &str, options: &[(&str, &str)], chosen: &str, error: Option<&str>) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select #(id) name=(id) aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))] {
                @for (value, text) in options {
                    option value=(value) selected[*value == chosen] { (text) }
                }
            }
            @if let Some(e) = error { p.field-error #{ (id) "-error" } { (e) } }
        }
    }
}

fn text(id: &str, label: &str, value: &str, error: Option<&str>, hint: Option<&str>) -> Markup {
    let described = match (error, hint) {
        (Some(_), _) => Some(format!("{id}-error")),
        (None, Some(_)) => Some(format!("{id}-hint")),
        _ => None,
    };
    html! {
        div.field {
            label for=(id) { (label) }
            input #(id) type="text" name=(id) value=(value) aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
            @if let Some(h) = hint { p.hint #{ (id) "-hint" } { (h) } }
            @if let Some(e) = error { p.field-error #{ (id) "-error" } { (e) } }
        }
    }
}

/// The request form, filled with `form` (a previous submission) and showing `error` at the
/// field it names.
fn request_form(c: &Console, who: &Who, lang: Lang, form: &[(String, String)], error: Option<(&str, &str)>) -> Markup {
    let v = |k: &str| web::value(form, k).unwrap_or("").to_string();
    let err = |k: &str| error.filter(|(f, _)| *f == k).map(|(_, m)| m);
    let deployment = c.app.engine.deployment();
    let sources: Vec<(&str, String)> = deployment
        .sources()
        .iter()
        .map(|s| (s.id.as_str(), format!("{} ({}, {})", s.id, s.category, s.owner)))
        .collect();
    let source_opts: Vec<(&str, &str)> = sources.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let words =
        |list: &[&'static str]| -> Vec<(&'static str, &'static str)> { list.iter().map(|w| (*w, *w)).collect() };
    let mut agencies: Vec<(&str, &str)> = vec![("", lang.t("req.none"))];
    agencies.extend(deployment.agencies().iter().map(|a| (a.id.as_str(), a.name.as_str())));
    let certified: Vec<String> = form.iter().filter(|(k, _)| k == "certification").map(|(_, v)| v.clone()).collect();
    let field_error = error.filter(|(f, _)| !FORM_FIELDS.contains(f) || *f == "(body)").map(|(_, m)| m);
    html! {
        @if let Some((_, m)) = error {
            div.errors role="alert" {
                p { strong { (lang.t("req.errors")) } }
                p { (m) }
            }
        }
        form.stack method="post" action="/console/requests/new" novalidate {
            input type="hidden" name="csrf" value=(who.csrf);
            (select("source", lang.t("req.source"), &source_opts, &v("source"), err("source")))
            (select("action", lang.t("req.action"), &words(vocab::ACTIONS), &v("action"), err("action")))
            (select("purpose", lang.t("req.purpose"), &words(vocab::PURPOSES), &v("purpose"), err("purpose")))
            div.field {
                label for="justification" { (lang.t("req.justification")) }
                textarea #justification name="justification" rows="3" aria-describedby="justification-hint" { (v("justification")) }
                p.hint #justification-hint { (lang.t("req.justification_hint")) }
            }
            (text("case_number", lang.t("req.case"), &v("case_number"), err("case_number"), None))
            fieldset {
                legend { (lang.t("req.basis")) }
                (select("basis_kind", lang.t("req.basis_kind"), &words(vocab::LEGAL_BASIS_KINDS), &v("basis_kind"), err("legal_basis.kind")))
                (text("basis_reference", lang.t("req.basis_ref"), &v("basis_reference"), err("legal_basis.reference"), None))
                (text("basis_issued_by", lang.t("req.basis_issuer"), &v("basis_issued_by"), err("legal_basis.issued_by"), None))
            }
            fieldset {
                legend { (lang.t("req.subject")) }
                (select("subject_kind", lang.t("req.subject_kind"), &words(vocab::SUBJECT_KINDS), &v("subject_kind"), err("subject.kind")))
                (text("subject_value", lang.t("req.subject_value"), &v("subject_value"), err("subject.value"), None))
            }
            (text("fields", lang.t("req.fields"), &v("fields"), err("fields"), None))
            @if !c.app.certifications.is_empty() {
                fieldset {
                    legend { (lang.t("req.certifications")) }
                    @for cert in &c.app.certifications {
                        label.check {
                            input type="checkbox" name="certification" value=(cert) checked[certified.contains(cert)];
                            code { (cert) }
                        }
                    }
                }
            }
            fieldset {
                legend { (lang.t("req.chain")) }
                @for n in ["1", "2"] {
                    (select(&format!("obo_agency_{n}"), &lang.f("req.chain_agency", &[n]), &agencies, &v(&format!("obo_agency_{n}")), None))
                    (text(&format!("obo_user_{n}"), &lang.f("req.chain_user", &[n]), &v(&format!("obo_user_{n}")), None, None))
                }
            }
            @if let Some(m) = field_error { p.field-error { (m) } }
            div.actions {
                button.secondary type="submit" name="do" value="preview" { (lang.t("req.preview")) }
                button type="submit" name="do" value="submit" { (lang.t("req.submit")) }
            }
        }
    }
}

async fn new_request(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery) -> Response {
    let (who, lang) = match c.page_who(&headers, &cert, q.as_deref()).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body = html! {
        h1 { (lang.t("req.title")) }
        p.lead { (lang.t("req.lead")) }
        (request_form(&c, &who, lang, &[], None))
    };
    page(&who, lang, lang.t("req.title"), "/console/requests/new", StatusCode::OK, body)
}

/// The request JSON the API takes, from the form (`preview`: a placeholder subject, which the
/// decision does not depend on and nothing records).
fn request_json(who: &Who, form: &[(String, String)], preview: bool) -> Result<Value, (&'static str, String)> {
    if let Some((k, _)) = form.iter().find(|(k, _)| !FORM_FIELDS.contains(&k.as_str())) {
        return Err(("(body)", format!("the form has an unknown field {k:?}")));
    }
    let v = |k: &str| web::value(form, k).map(str::trim).unwrap_or("");
    let opt = |k: &str| if v(k).is_empty() { Value::Null } else { json!(v(k)) };
    for required in ["source", "action", "purpose", "basis_kind", "subject_kind"] {
        if v(required).is_empty() {
            return Err((required, format!("the form has no {required:?}")));
        }
    }
    let mut chain = Vec::new();
    for n in ["1", "2"] {
        let (a, u) = (v(&format!("obo_agency_{n}")), v(&format!("obo_user_{n}")));
        match (a.is_empty(), u.is_empty()) {
            (true, true) => {}
            (false, false) => chain.push(json!({"agency": a, "id": u})),
            _ => return Err(("on_behalf_of", "each link of the chain needs both an agency and a user".into())),
        }
    }
    let subject = if preview && v("subject_value").is_empty() { "PREVIEW" } else { v("subject_value") };
    let mut request = json!({
        "requester": {"id": who.record.user, "agency": who.record.agency, "role": who.record.role},
        "on_behalf_of": chain,
        "source": v("source"),
        "action": v("action"),
        "purpose": v("purpose"),
        "justification": v("justification"),
        "case_number": opt("case_number"),
        "legal_basis": {"kind": v("basis_kind"), "reference": opt("basis_reference"), "issued_by": opt("basis_issued_by")},
        "subject": {"kind": v("subject_kind"), "value": subject},
    });
    let fields: Vec<&str> = v("fields").split(',').map(str::trim).filter(|f| !f.is_empty()).collect();
    if !fields.is_empty() {
        request["fields"] = json!(fields);
    }
    let certs: Vec<&str> = form.iter().filter(|(k, _)| k == "certification").map(|(_, v)| v.as_str()).collect();
    if !certs.is_empty() {
        request["certifications"] = json!(certs);
    }
    Ok(request)
}

fn decision_class(d: &str) -> &'static str {
    match d {
        "permit" => "decision decision-permit",
        "deny" => "decision decision-deny",
        _ => "decision decision-review",
    }
}

fn decision_word(lang: Lang, d: &str) -> &'static str {
    match d {
        "permit" => lang.t("decision.permit"),
        "deny" => lang.t("decision.deny"),
        _ => lang.t("decision.review"),
    }
}

/// The decision part of an answer: outcome, reasons with citations, obligations.
fn decision_view(lang: Lang, d: &Value) -> Markup {
    let word = d["decision"].as_str().unwrap_or("deny");
    html! {
        p class=(decision_class(word)) { (decision_word(lang, word)) }
        h3 { (lang.t("req.reasons")) }
        ul {
            @for r in d["reasons"].as_array().into_iter().flatten() {
                li {
                    @let policy = r["policy"].as_str().unwrap_or("");
                    @if policy.starts_with("fusionguard:") { (r["citation"].as_str().unwrap_or("")) }
                    @else { a href={ "/laws/" (policy) } { (r["citation"].as_str().unwrap_or("")) } }
                    ": " (r["summary"].as_str().unwrap_or(""))
                }
            }
        }
        @if let Some(obs) = d["obligations"].as_array().filter(|o| !o.is_empty()) {
            h3 { (lang.t("req.obligations")) }
            ul { @for o in obs { li { code { (o.as_str().unwrap_or("")) } } } }
        }
        @if let Some(m) = d["missing_certifications"].as_array() {
            @for c in m { p.error { (lang.f("req.missing_cert", &[c.as_str().unwrap_or("")])) } }
        }
    }
}

/// Released records as a table (columns: the union of the records' fields).
fn data_view(lang: Lang, data: &[Value]) -> Markup {
    let mut columns: Vec<String> = Vec::new();
    for rec in data {
        for k in rec.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    html! {
        h3 { (lang.t("req.data")) }
        @if data.is_empty() { p { (lang.t("req.no_data")) } }
        @else {
            div.table-wrap { table {
                caption.visually-hidden { (lang.t("req.data")) }
                thead { tr { @for c in &columns { th scope="col" { (c) } } } }
                tbody { @for rec in data { tr { @for c in &columns {
                    td { (match &rec[c.as_str()] { Value::String(s) => s.clone(), Value::Null => String::new(), other => other.to_string() }) }
                } } } }
            } }
        }
    }
}

fn receipt_view(lang: Lang, ledger: &Value) -> Markup {
    html! {
        @if let Some(i) = ledger["index"].as_u64() {
            p { (lang.f("req.receipt", &[&i.to_string()])) " " a href={ "/verify?receipt=" (i) } { (lang.t("req.verify_link")) } }
        }
    }
}

/// A verdict's or a marked notice's outcome on the page that lists them: `(status, message, ok)`.
type Notice = (StatusCode, String, bool);

fn notice_view(notice: &Option<Notice>) -> Markup {
    html! {
        @if let Some((_, message, ok)) = notice {
            @if *ok { p.notice role="status" { (message) } } @else { p.error role="alert" { (message) } }
        }
    }
}

/// A page that says the API refused (its status, its problem's message).
fn refusal(who: &Who, lang: Lang, title: &'static str, path: &str, status: StatusCode, message: &str) -> Response {
    page(who, lang, lang.t(title), path, status, html! { h1 { (lang.t(title)) } p.error role="alert" { (message) } })
}

/// What a verdict or a notice marked sent says on the page: the ledger entry it is recorded at
/// (message `done`), or the API's problem.
fn notice(lang: Lang, status: StatusCode, answer: &Value, done: &'static str) -> Notice {
    if status == StatusCode::OK {
        let index = answer["verdict"]["ledger_index"].as_u64().or(answer["ledger"]["index"].as_u64()).unwrap_or(0);
        (status, lang.f(done, &[&index.to_string()]), true)
    } else {
        (status, problem_of(answer).1, false)
    }
}

/// An API problem's message, and the form field it names.
fn problem_of(v: &Value) -> (String, String) {
    (
        v["field"].as_str().unwrap_or("(body)").to_string(),
        v["detail"].as_str().unwrap_or("the hub refused the request").to_string(),
    )
}

async fn send_request(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let (who, lang, form) = match c.form_who(&headers, &cert, q.as_deref(), &body).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let path = "/console/requests/new";
    let preview = web::value(&form, "do") == Some("preview");
    let show_form = |status: StatusCode, field: &str, message: &str| {
        let body = html! {
            h1 { (lang.t("req.title")) }
            (request_form(&c, &who, lang, &form, Some((field, message))))
        };
        page(&who, lang, lang.t("req.title"), path, status, body)
    };
    let request = match request_json(&who, &form, preview) {
        Ok(r) => r,
        Err((field, message)) => return show_form(StatusCode::BAD_REQUEST, field, &message),
    };
    let bytes = serde_json::to_vec(&request).unwrap_or_default();
    if preview {
        return match c.app.preview_as(&who.record, &bytes) {
            Ok(d) => {
                let d = json!({"decision": d.decision.as_str(), "reasons": d.reasons, "obligations": d.obligations});
                let body = html! {
                    h1 { (lang.t("req.title")) }
                    section.notice aria-labelledby="preview-h" {
                        h2 #preview-h { (lang.t("req.preview_title")) }
                        (decision_view(lang, &d))
                        p.muted { (lang.t("req.preview_note")) }
                    }
                    (request_form(&c, &who, lang, &form, None))
                };
                page(&who, lang, lang.t("req.title"), path, StatusCode::OK, body)
            }
            Err(p) => {
                let field = p.extra.get("field").and_then(Value::as_str).unwrap_or("(body)").to_string();
                show_form(p.status, &field, &p.detail)
            }
        };
    }
    let (status, answer) =
        json_of(api::post_request_as(Arc::clone(&c.app), who.record.clone(), bytes.into()).await).await;
    if status != StatusCode::OK {
        let (field, message) = problem_of(&answer);
        return show_form(status, &field, &message);
    }
    let decision = answer["decision"].as_str().unwrap_or("deny").to_string();
    let index = answer["ledger"]["index"].as_u64().unwrap_or(0);
    let mine = ConsoleRequest {
        id: answer["decision_id"].as_str().unwrap_or("").to_string(),
        agency: who.record.agency.clone(),
        user: who.record.user.clone(),
        time: now(),
        source: web::value(&form, "source").unwrap_or("").to_string(),
        decision: decision.clone(),
        ledger_index: index,
    };
    // The request is made and logged whatever happens here: the page shows its result, and says
    // so if "My requests" cannot list it.
    let listed = c.app.blocking(move |st| st.store.add_console_request(mine)).await.is_ok();
    let body = html! {
        h1 { (lang.t("req.result_title")) }
        @if !listed { p.error role="alert" { (lang.t("mine.unlisted")) } }
        (decision_view(lang, &answer))
        @if decision == "permit" {
            (data_view(lang, answer["data"].as_array().map_or(&[][..], Vec::as_slice)))
        }
        @if decision == "review" { p.notice { (lang.t("req.review_note")) } }
        (receipt_view(lang, &answer["ledger"]))
        p { a href="/console/requests/new" { (lang.t("console.new")) } " · " a href="/console/requests" { (lang.t("console.mine")) } }
    };
    page(&who, lang, lang.t("req.result_title"), path, StatusCode::OK, body)
}

async fn my_requests(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery) -> Response {
    let (who, lang) = match c.page_who(&headers, &cert, q.as_deref()).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let (agency, user) = (who.record.agency.clone(), who.record.user.clone());
    let list = match c.app.blocking(move |st| st.store.console_requests(&agency, &user)).await {
        Ok(list) => list,
        Err(_) => {
            let message = lang.t("mine.unavailable");
            return refusal(&who, lang, "mine.title", "/console/requests", StatusCode::SERVICE_UNAVAILABLE, message);
        }
    };
    // The status of held requests, from the review queue.
    let mut statuses = HashMap::new();
    for m in list.iter().filter(|m| m.decision == "review") {
        let (status, v) = json_of(api::get_request_status_as(&c.app, &who.record, &m.id).await).await;
        if status == StatusCode::OK {
            statuses.insert(m.id.clone(), v["status"].as_str().unwrap_or("pending").to_string());
        }
    }
    let body = html! {
        h1 { (lang.t("mine.title")) }
        p.lead { (lang.t("mine.lead")) }
        @if list.is_empty() { p { (lang.t("mine.none")) } }
        @else {
            div.table-wrap { table {
                caption { (lang.t("mine.title")) }
                thead { tr {
                    th scope="col" { (lang.t("mine.when")) }
                    th scope="col" { (lang.t("req.source")) }
                    th scope="col" { (lang.t("req.result_title")) }
                    th scope="col" { (lang.t("mine.status")) }
                    th scope="col" { (lang.t("req.receipt").split(':').next().unwrap_or("")) }
                } }
                tbody { @for m in &list {
                    tr {
                        td { (api::rfc3339(m.time)) }
                        td { code { (m.source) } }
                        td { span class=(decision_class(&m.decision)) { (decision_word(lang, &m.decision)) } }
                        td {
                            @match statuses.get(&m.id).map(String::as_str) {
                                Some("approved") => {
                                    (lang.t("status.approved")) " "
                                    form method="post" action={ "/console/requests/" (m.id) } {
                                        input type="hidden" name="csrf" value=(who.csrf);
                                        button type="submit" { (lang.t("mine.fetch")) }
                                    }
                                }
                                Some("denied") => { (lang.t("status.denied")) }
                                Some(_) => { (lang.t("status.pending")) }
                                None => { "—" }
                            }
                        }
                        td { a href={ "/verify?receipt=" (m.ledger_index) } { (m.ledger_index) } }
                    }
                } }
            } }
        }
    };
    page(&who, lang, lang.t("mine.title"), "/console/requests", StatusCode::OK, body)
}

async fn fetch_approved(
    State(c): St,
    headers: HeaderMap,
    cert: Cert,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let (who, lang, _) = match c.form_who(&headers, &cert, q.as_deref(), &body).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let (status, answer) = json_of(api::get_request_as(Arc::clone(&c.app), who.record.clone(), id).await).await;
    let path = "/console/requests";
    if status != StatusCode::OK || answer["data"].is_null() {
        let message = answer["detail"].as_str().unwrap_or("no data can be released for this request").to_string();
        let status = if status == StatusCode::OK { StatusCode::CONFLICT } else { status };
        return page(
            &who,
            lang,
            lang.t("mine.title"),
            path,
            status,
            html! {
                h1 { (lang.t("mine.title")) }
                p.error role="alert" { (message) }
                p { a href="/console/requests" { (lang.t("console.mine")) } }
            },
        );
    }
    let body = html! {
        h1 { (lang.t("mine.fetch")) }
        (decision_view(lang, &answer["decision"]))
        (data_view(lang, answer["data"].as_array().map_or(&[][..], Vec::as_slice)))
        (receipt_view(lang, &answer["ledger"]))
    };
    page(&who, lang, lang.t("mine.fetch"), path, StatusCode::OK, body)
}

/// The justification with the classifier's signals (`strong: ...`) marked where they occur.
fn highlighted(text: &str, signals: &[Value]) -> Markup {
    let words: Vec<String> = signals
        .iter()
        .filter_map(|s| s.as_str())
        .filter_map(|s| s.split_once(':').map(|(_, w)| w.trim().trim_matches('"').to_lowercase()))
        .filter(|w| !w.is_empty())
        .collect();
    let lower = text.to_lowercase();
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for w in &words {
        if let Some(at) = lower.find(w.as_str()) {
            if text.is_char_boundary(at) && text.is_char_boundary(at + w.len()) {
                marks.push((at, at + w.len()));
            }
        }
    }
    marks.sort();
    let mut out = Vec::new();
    let mut pos = 0;
    for (a, b) in marks {
        if a >= pos {
            out.push((false, &text[pos..a]));
            out.push((true, &text[a..b]));
            pos = b;
        }
    }
    out.push((false, &text[pos..]));
    html! { @for (m, part) in out { @if m { mark { (part) } } @else { (part) } } }
}

async fn reviews_page(c: &Console, who: &Who, lang: Lang, notice: Option<Notice>) -> Response {
    let path = "/console/reviews";
    // Who may list reviews is the API's to say (a supervisor of the owning agency).
    let (status, answer) = json_of(api::list_reviews_as(Arc::clone(&c.app), who.record.clone()).await).await;
    if status == StatusCode::FORBIDDEN {
        return refusal(who, lang, "reviews.title", path, status, lang.t("reviews.not_supervisor"));
    } else if status != StatusCode::OK {
        return refusal(who, lang, "reviews.title", path, status, &problem_of(&answer).1);
    }
    let list = answer["reviews"].as_array().cloned().unwrap_or_default();
    let status = notice.as_ref().map_or(status, |(s, _, _)| *s);
    let body = html! {
        h1 { (lang.t("reviews.title")) }
        p.lead { (lang.t("reviews.lead")) }
        (notice_view(&notice))
        @if list.is_empty() { p { (lang.t("reviews.none")) } }
        @for r in &list {
            @let id = r["id"].as_str().unwrap_or("");
            @let req = &r["request"];
            @let signals = r["decision"]["justification_signals"].as_array().cloned().unwrap_or_default();
            section.review-card aria-labelledby={ "r-" (id) } {
                h2 #{ "r-" (id) } { code { (req["source"].as_str().unwrap_or("")) } " · " (req["purpose"].as_str().unwrap_or("")) }
                dl {
                    dt { (lang.t("reviews.requester")) }
                    dd { (req["requester"]["id"].as_str().unwrap_or("")) " (" (req["requester"]["agency"].as_str().unwrap_or("")) ")" }
                    @if let Some(chain) = req["on_behalf_of"].as_array().filter(|c| !c.is_empty()) {
                        dt { (lang.t("reviews.chain")) }
                        dd { @for l in chain { (l["id"].as_str().unwrap_or("")) " (" (l["agency"].as_str().unwrap_or("")) ") " } }
                    }
                    dt { (lang.t("req.justification")) }
                    dd { (highlighted(req["justification"].as_str().unwrap_or(""), &signals)) }
                    @if !signals.is_empty() {
                        dt { (lang.t("reviews.signals")) }
                        dd { @for s in &signals { code { (s.as_str().unwrap_or("")) } " " } }
                    }
                    dt { (lang.t("req.case")) } dd { (req["case_number"].as_str().unwrap_or("—")) }
                    dt { (lang.t("req.basis")) } dd { (req["legal_basis"]["kind"].as_str().unwrap_or("")) }
                    dt { (lang.t("reviews.age")) } dd { (r["created_at"].as_str().unwrap_or("")) }
                }
                (decision_view(lang, &r["decision"]))
                form.stack method="post" action={ "/console/reviews/" (id) } {
                    input type="hidden" name="csrf" value=(who.csrf);
                    div.field {
                        label for={ "reason-" (id) } { (lang.t("reviews.reason")) }
                        textarea #{ "reason-" (id) } name="reason" rows="2" required {}
                    }
                    div.actions {
                        button type="submit" name="decision" value="approve" { (lang.t("reviews.approve")) }
                        button.danger type="submit" name="decision" value="deny" { (lang.t("reviews.deny")) }
                    }
                }
            }
        }
    };
    page(who, lang, lang.t("reviews.title"), path, status, body)
}

async fn reviews(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery) -> Response {
    match c.page_who(&headers, &cert, q.as_deref()).await {
        Ok((who, lang)) => reviews_page(&c, &who, lang, None).await,
        Err(r) => r,
    }
}

async fn decide(
    State(c): St,
    headers: HeaderMap,
    cert: Cert,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let (who, lang, form) = match c.form_who(&headers, &cert, q.as_deref(), &body).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let verdict = json!({
        "decision": web::value(&form, "decision").unwrap_or(""),
        "reason": web::value(&form, "reason").unwrap_or("").trim(),
    });
    let bytes = serde_json::to_vec(&verdict).unwrap_or_default();
    let (status, answer) =
        json_of(api::decide_review_as(Arc::clone(&c.app), who.record.clone(), id, bytes.into()).await).await;
    reviews_page(&c, &who, lang, Some(notice(lang, status, &answer, "reviews.done"))).await
}

async fn notifications_page(c: &Console, who: &Who, lang: Lang, notice: Option<Notice>) -> Response {
    let path = "/console/notifications";
    let (status, answer) = json_of(api::list_notifications_as(Arc::clone(&c.app), who.record.clone()).await).await;
    if status != StatusCode::OK {
        return refusal(who, lang, "notes.title", path, status, &problem_of(&answer).1);
    }
    let list = answer["notifications"].as_array().cloned().unwrap_or_default();
    let status = notice.as_ref().map_or(StatusCode::OK, |(s, _, _)| *s);
    let body = html! {
        h1 { (lang.t("notes.title")) }
        p.lead { (lang.t("notes.lead")) }
        (notice_view(&notice))
        @if list.is_empty() { p { (lang.t("notes.none")) } }
        @for n in &list {
            @let id = n["id"].as_str().unwrap_or("");
            section.review-card aria-labelledby={ "n-" (id) } {
                h2 #{ "n-" (id) } { (n["subject"]["value"].as_str().unwrap_or("")) }
                dl {
                    dt { (lang.t("req.source")) } dd { code { (n["source"].as_str().unwrap_or("")) } }
                    dt { (lang.t("notes.asked_by")) } dd { (n["requester"].as_str().unwrap_or("")) " (" (n["requester_agency"].as_str().unwrap_or("")) ")" }
                    dt { (lang.t("req.obligations")) } dd { code { (n["obligation"].as_str().unwrap_or("")) } }
                    dt { (lang.t("notes.due")) } dd { (api::rfc3339(n["due"].as_u64().unwrap_or(0))) }
                }
                form.stack method="post" action={ "/console/notifications/" (id) } {
                    input type="hidden" name="csrf" value=(who.csrf);
                    div.field {
                        label for={ "method-" (id) } { (lang.t("notes.method")) }
                        input #{ "method-" (id) } type="text" name="method" required;
                    }
                    button type="submit" { (lang.t("notes.mark")) }
                }
            }
        }
    };
    page(who, lang, lang.t("notes.title"), path, status, body)
}

async fn notifications(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery) -> Response {
    match c.page_who(&headers, &cert, q.as_deref()).await {
        Ok((who, lang)) => notifications_page(&c, &who, lang, None).await,
        Err(r) => r,
    }
}

async fn mark_sent(
    State(c): St,
    headers: HeaderMap,
    cert: Cert,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let (who, lang, form) = match c.form_who(&headers, &cert, q.as_deref(), &body).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let bytes =
        serde_json::to_vec(&json!({"method": web::value(&form, "method").unwrap_or("").trim()})).unwrap_or_default();
    let (status, answer) =
        json_of(api::mark_notification_sent_as(Arc::clone(&c.app), who.record.clone(), id, bytes.into()).await).await;
    notifications_page(&c, &who, lang, Some(notice(lang, status, &answer, "notes.done"))).await
}
