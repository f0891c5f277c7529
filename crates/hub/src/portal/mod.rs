//! The public portal, no login: what the hub is and this year's totals (`/`), every agency with
//! the data it holds, the laws that protect it and who asked for it (`/agencies`), the law
//! library (`/laws`), and the receipt check (`/verify`). Every number is the transparency
//! report's, counted from the verified ledger at a checkpoint the page names; a page view never
//! recounts (see `transparency.rs`). No page here shows a record or a subject.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ledger::checkpoint::Checkpoint;
use ledger::note::{Note, NoteError, NoteVerifier};
use maud::{html, Markup};
use oversight::transparency::{Report, Row};
use policy::{LawPolicy, PolicyClass, Verified};

use crate::api::AppState;
use crate::problem::Problem;
use crate::transparency::{current_year, Cache};
use crate::web::{self, Lang, Page, Words};

/// The portal's state: the hub and the shared count of its ledger.
#[derive(Clone)]
pub(crate) struct Portal {
    app: Arc<AppState>,
    cache: Arc<Cache>,
}

type St = State<Portal>;

/// The portal's routes and the assets (merged into the hub's router).
pub(crate) fn routes<S>(app: Arc<AppState>, cache: Arc<Cache>) -> Router<S> {
    Router::new()
        .route("/", get(home))
        .route("/agencies", get(agencies))
        .route("/agencies/{id}", get(agency))
        .route("/laws", get(laws))
        .route("/laws/{id}", get(law))
        .route("/verify", get(verify))
        .route("/assets/{name}", get(web::serve_asset))
        .route("/favicon.ico", get(web::no_icon))
        .with_state(Portal { app, cache })
}

/// The language and query of a page.
fn context(headers: &HeaderMap, query: Option<&str>) -> (Lang, bool, Vec<(String, String)>) {
    let pairs = web::pairs(query.unwrap_or(""));
    let (lang, remember) = web::negotiate(headers, &pairs);
    (lang, remember, pairs)
}

fn page<'a>(lang: Lang, title: &str, path: &'a str) -> Page<'a> {
    Page { lang, title: title.to_string(), path, viewer: None, scripts: vec![] }
}

/// This year's report and the checkpoint size it was counted at; a problem page if the ledger
/// cannot be counted now.
async fn this_year(p: &Portal, lang: Lang, path: &str) -> Result<(Arc<crate::transparency::Year>, u64), Response> {
    p.cache.year(current_year()).await.map_err(|e: Problem| web::error_page(e.status, lang, path, &e.detail))
}

fn sum(rows: &[Row]) -> Row {
    let mut t = Row::default();
    for r in rows {
        t.requests += r.requests;
        t.permit += r.permit;
        t.deny += r.deny;
        t.review += r.review;
    }
    t
}

fn decision_rows(lang: Lang, r: &Row) -> Vec<(&'static str, u64)> {
    vec![
        (lang.t("count.requests"), r.requests),
        (lang.t("count.permit"), r.permit),
        (lang.t("count.deny"), r.deny),
        (lang.t("count.review"), r.review),
    ]
}

async fn home(State(p): St, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let (lang, remember, _) = context(&headers, q.as_deref());
    let (year, size) = match this_year(&p, lang, "/").await {
        Ok(y) => y,
        Err(r) => return r,
    };
    let t = &year.report.totals;
    let y = year.report.year.to_string();
    let stats = [
        (lang.t("count.requests"), t.requests),
        (lang.t("count.permit"), t.permit),
        (lang.t("count.deny"), t.deny),
        (lang.t("count.review"), t.review),
        (lang.t("count.outside"), t.outside_requests),
        (lang.t("count.outside_released"), t.outside_released),
    ];
    let body = html! {
        h1 { (lang.t("home.title")) }
        p.lead { (lang.t("home.lead")) }
        section aria-labelledby="year-h" {
            h2 #year-h { (lang.f("home.year", &[&y])) }
            ul.stats {
                @for (label, n) in &stats { li { span.n { (n) } (label) } }
            }
            p.muted { (lang.f("home.counted", &[&size.to_string()])) }
        }
        (between_hubs(lang, &year.report))
        section aria-labelledby="explore-h" {
            h2 #explore-h { (lang.t("home.explore")) }
            ul.cards {
                li { a href="/transparency" { (lang.t("nav.transparency")) } p { (lang.t("home.transparency.desc")) } }
                li { a href="/agencies" { (lang.t("nav.agencies")) } p { (lang.t("home.agencies.desc")) } }
                li { a href="/laws" { (lang.t("nav.laws")) } p { (lang.t("home.laws.desc")) } }
                li { a href="/verify" { (lang.t("nav.verify")) } p { (lang.t("home.verify.desc")) } }
            }
        }
    };
    web::respond(StatusCode::OK, lang, remember, false, page(lang, "FusionGuard", "/").render(body))
}

/// The year's requests between this hub and its peer hubs, by peer: sent (decided here, then by
/// the peer), received (decided here), failed forwards and refused envelopes. Nothing for a hub
/// whose year holds no federation entry.
fn between_hubs(lang: Lang, r: &Report) -> Markup {
    let fe = &r.federation;
    if fe.is_empty() {
        return html! {};
    }
    let y = r.year.to_string();
    html! {
        section aria-labelledby="hubs-h" {
            h2 #hubs-h { (lang.f("hubs.title", &[&y])) }
            p { (lang.t("hubs.lead")) }
            div.table-wrap {
                table {
                    caption { (lang.f("hubs.title", &[&y])) }
                    thead {
                        tr {
                            th scope="col" rowspan="2" { (lang.t("hubs.peer")) }
                            th scope="colgroup" colspan="3" { (lang.t("hubs.sent")) }
                            th scope="colgroup" colspan="3" { (lang.t("hubs.received")) }
                            th scope="col" rowspan="2" .num { (lang.t("hubs.forward_failed")) }
                            th scope="col" rowspan="2" .num { (lang.t("hubs.refused")) }
                        }
                        tr {
                            @for _ in 0..2 {
                                th scope="col" .num { (lang.t("count.permit")) }
                                th scope="col" .num { (lang.t("count.deny")) }
                                th scope="col" .num { (lang.t("count.review")) }
                            }
                        }
                    }
                    tbody {
                        @for row in &fe.by_peer {
                            tr {
                                th scope="row" {
                                    @if row.key == oversight::transparency::UNKNOWN_PEER { (lang.t("hubs.unknown")) } @else { code { (row.key) } }
                                }
                                td.num { (row.sent_permit) } td.num { (row.sent_deny) } td.num { (row.sent_review) }
                                td.num { (row.received_permit) } td.num { (row.received_deny) } td.num { (row.received_review) }
                                td.num { (row.forward_failed) }
                                td.num { (row.refused) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn agencies(State(p): St, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let (lang, remember, _) = context(&headers, q.as_deref());
    let (year, size) = match this_year(&p, lang, "/agencies").await {
        Ok(y) => y,
        Err(r) => return r,
    };
    let deployment = p.app.engine.deployment();
    let r = &year.report;
    let body = html! {
        h1 { (lang.t("agencies.title")) }
        p.lead { (lang.t("agencies.lead")) }
        div.table-wrap {
            table {
                caption { (lang.t("agencies.title")) " (" (r.year) ")" }
                thead { tr {
                    th scope="col" { (lang.t("agency.name")) }
                    th scope="col" { (lang.t("agency.kind")) }
                    th scope="col" { (lang.t("agency.jurisdiction")) }
                    th scope="col" .num { (lang.t("agency.sources")) }
                    th scope="col" .num { (lang.f("agency.on_data", &[&r.year.to_string()])) }
                    th scope="col" .num { (lang.f("agency.by_it", &[&r.year.to_string()])) }
                } }
                tbody {
                    @for a in deployment.agencies() {
                        @let owned: Vec<&str> = deployment.sources().iter().filter(|s| s.owner == a.id).map(|s| s.id.as_str()).collect();
                        @let on = sum(&r.uses.by_source.iter().filter(|row| owned.contains(&row.key.as_str())).cloned().collect::<Vec<_>>());
                        @let by = r.uses.by_requester.iter().find(|row| row.key == a.id).map_or(0, |row| row.requests);
                        tr {
                            th scope="row" { a href={ "/agencies/" (a.id) } { (a.name) } }
                            td { code { (a.kind.as_str()) } }
                            td { (a.jurisdiction.key()) }
                            td.num { (owned.len()) }
                            td.num { (on.requests) }
                            td.num { (by) }
                        }
                    }
                }
            }
        }
        p.muted { (lang.f("updated", &[&size.to_string()])) }
    };
    web::respond(StatusCode::OK, lang, remember, false, page(lang, lang.t("agencies.title"), "/agencies").render(body))
}

/// The policies that can apply to a source and are in force today: what the agency page lists.
fn laws_for<'a>(p: &'a Portal, source: &model::Source) -> Vec<&'a LawPolicy> {
    let today = model::Date::today();
    p.app.engine.policies_for_source(&source.id).into_iter().filter(|law| law.in_force(today)).collect()
}

async fn agency(State(p): St, headers: HeaderMap, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let path = format!("/agencies/{id}");
    let (lang, remember, _) = context(&headers, q.as_deref());
    let deployment = p.app.engine.deployment();
    let Some(a) = deployment.agency(&id) else {
        return web::error_page(StatusCode::NOT_FOUND, lang, &path, lang.t("agency.not_found"));
    };
    let (year, size) = match this_year(&p, lang, &path).await {
        Ok(y) => y,
        Err(r) => return r,
    };
    let r = &year.report;
    let y = r.year.to_string();
    let owned: Vec<&model::Source> = deployment.sources().iter().filter(|s| s.owner == a.id).collect();
    let on_rows: Vec<Row> =
        r.uses.by_source.iter().filter(|row| owned.iter().any(|s| s.id == row.key)).cloned().collect();
    let on = sum(&on_rows);
    let by = r.uses.by_requester.iter().find(|row| row.key == a.id).cloned().unwrap_or_default();
    let prefix = format!("{}/", a.id);
    let recipients: Vec<(&str, u64, u64)> = r
        .sharing
        .by_owner_and_recipient_kind
        .iter()
        .filter_map(|row| row.key.strip_prefix(&prefix).map(|kind| (kind, row.requests, row.permit)))
        .collect();
    let body = html! {
        h1 { (a.name) }
        dl.facts {
            dt { (lang.t("agency.kind")) } dd { code { (a.kind.as_str()) } }
            dt { (lang.t("agency.jurisdiction")) } dd { (a.jurisdiction.key()) }
            dt { (lang.t("agency.immigration")) } dd { code { (a.immigration_role.as_str()) } }
        }
        h2 { (lang.t("agency.sources")) }
        @if owned.is_empty() {
            p { (lang.t("agency.no_sources")) }
        } @else {
            @for s in &owned {
                h3 { code { (s.id) } " (" (s.category) ")" }
                @let laws = laws_for(&p, s);
                p { strong { (lang.t("agency.laws")) ":" } }
                ul {
                    @for law in laws {
                        li { a href={ "/laws/" (law.id) } { (law.citation) } " — " (law.summary) }
                    }
                }
            }
        }
        h2 #on-data { (lang.f("agency.on_data", &[&y])) }
        (web::totals_table(lang, &lang.f("agency.on_data", &[&y]), &decision_rows(lang, &on)))
        h2 { (lang.f("agency.by_it", &[&y])) }
        (web::totals_table(lang, &lang.f("agency.by_it", &[&y]), &decision_rows(lang, &by)))
        h2 { (lang.f("agency.recipients", &[&y])) }
        @if recipients.is_empty() {
            p { (lang.t("agency.no_recipients")) }
        } @else {
            table {
                caption { (lang.f("agency.recipients", &[&y])) }
                thead { tr {
                    th scope="col" { (lang.t("agency.recipient_kind")) }
                    th scope="col" .num { (lang.t("count.requests")) }
                    th scope="col" .num { (lang.t("count.permit")) }
                } }
                tbody {
                    @for (kind, n, permit) in &recipients {
                        tr { th scope="row" { code { (kind) } } td.num { (n) } td.num { (permit) } }
                    }
                }
            }
        }
        p.muted { (lang.f("updated", &[&size.to_string()])) }
    };
    web::respond(StatusCode::OK, lang, remember, false, page(lang, &a.name, &path).render(body))
}

fn outcome_key(law: &LawPolicy) -> &'static str {
    match law.class {
        PolicyClass::Review => "outcome.review",
        PolicyClass::Floor => "outcome.floor",
        PolicyClass::Obligation => "outcome.obligation",
        PolicyClass::Rule if law.is_forbid() => "outcome.forbid",
        PolicyClass::Rule => "outcome.permit",
    }
}

fn span(lang: Lang, law: &LawPolicy) -> String {
    match law.expires {
        Some(e) => lang.f("laws.until", &[&law.effective.to_string(), &e.to_string()]),
        None => lang.f("laws.from", &[&law.effective.to_string()]),
    }
}

fn verified(lang: Lang, v: &Verified) -> Markup {
    html! {
        @match v {
            Verified::Text { read_on, address } => {
                (lang.t("verified.text")) ", " (lang.f("verified.read_on", &[&read_on.to_string()])) " ("
                a href=(address) rel="noreferrer" { (lang.t("verified.source")) } ")"
            }
            Verified::Summary { source } => { (lang.t("verified.summary")) ": " (source) }
            Verified::Unverified { missing } => { strong { (lang.t("verified.unverified")) } ": " (missing) }
        }
    }
}

/// How many decisions of the year cited `id`: (permits, denials, reviews).
fn cited(r: &Report, id: &str) -> (u64, u64, u64) {
    let n = |rows: &[oversight::transparency::CountRow]| rows.iter().find(|c| c.key == id).map_or(0, |c| c.count);
    (n(&r.citations.permits), n(&r.citations.denials), n(&r.citations.reviews))
}

async fn laws(State(p): St, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let (lang, remember, pairs) = context(&headers, q.as_deref());
    let (year, size) = match this_year(&p, lang, "/laws").await {
        Ok(y) => y,
        Err(r) => return r,
    };
    let library = p.app.engine.library();
    let by = library.by_jurisdiction();
    let chosen = web::value(&pairs, "jurisdiction").filter(|j| !j.is_empty());
    if let Some(j) = chosen {
        if !by.contains_key(j) {
            let msg = format!("{}: {j}", lang.t("laws.filter"));
            return web::error_page(StatusCode::BAD_REQUEST, lang, "/laws", &msg);
        }
    }
    let shown: Vec<&LawPolicy> =
        library.policies().iter().filter(|l| chosen.is_none_or(|j| l.jurisdiction == j)).collect();
    let body = html! {
        h1 { (lang.t("laws.title")) }
        p.lead { (lang.t("laws.lead")) }
        form method="get" action="/laws" {
            div.field {
                label for="jurisdiction" { (lang.t("laws.filter")) }
                select #jurisdiction name="jurisdiction" {
                    option value="" { (lang.t("laws.all")) }
                    @for j in by.keys() {
                        option value=(j) selected[chosen == Some(*j)] { (if *j == "*" { lang.t("laws.template") } else { j }) }
                    }
                }
            }
            button type="submit" { (lang.t("laws.apply")) }
        }
        p { (lang.f("laws.count", &[&shown.len().to_string()])) }
        div.table-wrap {
            table {
                caption { (lang.t("laws.title")) }
                thead { tr {
                    th scope="col" { (lang.t("laws.citation")) }
                    th scope="col" { (lang.t("agency.jurisdiction")) }
                    th scope="col" { (lang.t("laws.outcome")) }
                    th scope="col" { (lang.t("laws.effective")) }
                    th scope="col" { (lang.t("laws.verified")) }
                    th scope="col" .num { (lang.t("laws.cited")) }
                } }
                tbody {
                    @for law in &shown {
                        @let (a, b, c) = cited(&year.report, &law.id);
                        tr {
                            th scope="row" { a href={ "/laws/" (law.id) } { (law.citation) } br; span.muted { (law.summary) } }
                            td { (if law.is_template() { lang.t("laws.template") } else { &law.jurisdiction }) }
                            td { (lang.t(outcome_key(law))) }
                            td { (span(lang, law)) }
                            td { (lang.t(match law.verified.level() { "text" => "verified.text", "summary" => "verified.summary", _ => "verified.unverified" })) }
                            td.num { (a + b + c) }
                        }
                    }
                }
            }
        }
        p.muted { (lang.f("updated", &[&size.to_string()])) }
    };
    web::respond(StatusCode::OK, lang, remember, false, page(lang, lang.t("laws.title"), "/laws").render(body))
}

async fn law(State(p): St, headers: HeaderMap, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let path = format!("/laws/{id}");
    let (lang, remember, _) = context(&headers, q.as_deref());
    let Some(law) = p.app.engine.library().policies().iter().find(|l| l.id == id) else {
        return web::error_page(StatusCode::NOT_FOUND, lang, &path, lang.t("laws.not_found"));
    };
    let (year, size) = match this_year(&p, lang, &path).await {
        Ok(y) => y,
        Err(r) => return r,
    };
    let (permits, denials, reviews) = cited(&year.report, &law.id);
    let y = year.report.year.to_string();
    let body = html! {
        h1 { (law.citation) }
        p.lead { (law.summary) }
        dl.facts {
            dt { (lang.t("laws.policy")) } dd { code { (law.id) } }
            dt { (lang.t("agency.jurisdiction")) } dd { (if law.is_template() { lang.t("laws.template") } else { &law.jurisdiction }) }
            dt { (lang.t("laws.outcome")) } dd { (lang.t(outcome_key(law))) }
            @if !law.obligations.is_empty() {
                dt { (lang.t("req.obligations")) }
                dd { @for o in &law.obligations { code { (o.to_string()) } " " } }
            }
            dt { (lang.t("laws.effective")) } dd { (span(lang, law)) }
            dt { (lang.t("laws.verified")) } dd { (verified(lang, &law.verified)) }
        }
        (web::totals_table(lang, &lang.f("laws.decisions", &[&y]), &[
            (lang.t("count.permit"), permits),
            (lang.t("count.deny"), denials),
            (lang.t("count.review"), reviews),
        ]))
        h2 { (lang.t("laws.cedar")) }
        (web::pre(&law.policy.to_string()))
        p.muted { (lang.f("updated", &[&size.to_string()])) }
    };
    web::respond(StatusCode::OK, lang, remember, false, page(lang, &law.citation, &path).render(body))
}

/// Why a receipt does not verify (the same reasons `verify.js` gives).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unverified {
    /// The verifier key is not a key.
    Key,
    /// Neither an index nor a receipt.
    Format,
    /// The checkpoint is not signed by the key given.
    OtherKey,
    /// The checkpoint's signature does not verify.
    Signature,
    /// The index is past the checkpoint, or the entry could not be read back as the log holds it.
    Entry,
    /// The inclusion proof does not lead to the checkpoint's root.
    Proof,
    /// The ledger's files could not be read.
    Fetch,
    /// The entry is in the ledger but newer than its latest checkpoint (published within seconds).
    Pending,
}

impl Unverified {
    fn message_key(&self) -> &'static str {
        match self {
            Unverified::Key => "verify.reason.key",
            Unverified::Format => "verify.reason.format",
            Unverified::OtherKey => "verify.reason.other_key",
            Unverified::Signature => "verify.reason.signature",
            Unverified::Entry => "verify.reason.entry",
            Unverified::Proof => "verify.reason.proof",
            Unverified::Fetch => "verify.reason.fetch",
            Unverified::Pending => "verify.reason.pending",
        }
    }
}

/// The check `verify.js` makes in the browser, made by the hub (for readers without
/// JavaScript): the checkpoint in the receipt is signed by `vkey`, the entry at the receipt's
/// index is read from the published entry bundle, and the inclusion proof leads from its leaf
/// hash to the checkpoint's root. Returns (index, tree size, origin).
pub(crate) fn check_receipt(app: &AppState, receipt: &str, vkey: &str) -> Result<(u64, u64, String), Unverified> {
    let verifier = NoteVerifier::parse(vkey.trim()).map_err(|_| Unverified::Key)?;
    let text = receipt.trim();
    let receipt: serde_json::Value = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let index: u64 = text.parse().map_err(|_| Unverified::Format)?;
        let size = app.ledger.get().ok_or(Unverified::Fetch)?.size();
        if index >= size {
            return Err(Unverified::Entry);
        }
        app.receipt(index)
    } else {
        serde_json::from_str(text).map_err(|_| Unverified::Format)?
    };
    let index = receipt["index"].as_u64().ok_or(Unverified::Format)?;
    let logged = |i: u64| app.ledger.get().is_some_and(|l| i < l.size());
    let Some(note_text) = receipt["checkpoint"].as_str() else {
        return Err(if logged(index) { Unverified::Pending } else { Unverified::Format });
    };
    let proof = receipt["inclusion_proof"].as_array().ok_or(Unverified::Format)?;
    let note = Note::parse(note_text.as_bytes()).map_err(|_| Unverified::Format)?;
    match note.verify_by(&verifier) {
        Ok(_) => {}
        Err(NoteError::OtherKey(_) | NoteError::Unverified(_)) => return Err(Unverified::OtherKey),
        Err(_) => return Err(Unverified::Signature),
    }
    let checkpoint = Checkpoint::parse(&note.body).map_err(|_| Unverified::Format)?;
    if index >= checkpoint.size {
        return Err(if logged(index) { Unverified::Pending } else { Unverified::Entry });
    }
    let entry = app.published_entry(index, checkpoint.size).map_err(|_| Unverified::Fetch)?.ok_or(Unverified::Entry)?;
    let mut hashes = Vec::with_capacity(proof.len());
    for h in proof {
        let raw = h.as_str().and_then(|s| B64.decode(s).ok()).ok_or(Unverified::Format)?;
        if raw.len() != 32 {
            return Err(Unverified::Proof);
        }
        hashes.push(raw);
    }
    let leaf = ledger::merkle::leaf_hash(&entry);
    ledger::merkle::verify_inclusion(&leaf, index, checkpoint.size, &hashes, &checkpoint.root)
        .map_err(|_| Unverified::Proof)?;
    Ok((index, checkpoint.size, checkpoint.origin))
}

async fn verify(State(p): St, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let (lang, remember, pairs) = context(&headers, q.as_deref());
    let receipt = web::value(&pairs, "receipt").unwrap_or("").to_string();
    let vkey = web::value(&pairs, "vkey").filter(|v| !v.trim().is_empty()).unwrap_or(&p.app.vkey).to_string();
    let outcome = if receipt.trim().is_empty() {
        None
    } else {
        let app = Arc::clone(&p.app);
        let (r, k) = (receipt.clone(), vkey.clone());
        Some(tokio::task::spawn_blocking(move || check_receipt(&app, &r, &k)).await.unwrap_or(Err(Unverified::Fetch)))
    };
    let status = match &outcome {
        Some(Err(Unverified::Format | Unverified::Key)) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let body = html! {
        h1 { (lang.t("verify.title")) }
        p.lead { (lang.t("verify.lead")) }
        form #verify-form.stack method="get" action="/verify" {
            div.field {
                label for="receipt" { (lang.t("verify.receipt")) }
                textarea #receipt name="receipt" rows="6" aria-describedby="receipt-hint"
                    aria-invalid=[matches!(outcome, Some(Err(Unverified::Format))).then_some("true")] { (receipt) }
                p #receipt-hint.hint { (lang.t("verify.receipt_hint")) }
            }
            div.field {
                label for="vkey" { (lang.t("verify.vkey")) }
                input #vkey type="text" name="vkey" value=(vkey) spellcheck="false" autocomplete="off" aria-describedby="vkey-hint"
                    aria-invalid=[matches!(outcome, Some(Err(Unverified::Key))).then_some("true")];
                p #vkey-hint.hint { (lang.t("verify.vkey_hint")) }
            }
            button type="submit" { (lang.t("verify.submit")) }
        }
        div #verify-result role="status" aria-live="polite"
            data-verified=(lang.t("verify.ok")) data-not-verified=(lang.t("verify.bad"))
            data-in-browser=(lang.t("verify.in_browser"))
            data-reason-signature=(lang.t("verify.reason.signature"))
            data-reason-other-key=(lang.t("verify.reason.other_key"))
            data-reason-proof=(lang.t("verify.reason.proof"))
            data-reason-entry=(lang.t("verify.reason.entry"))
            data-reason-fetch=(lang.t("verify.reason.fetch"))
            data-reason-format=(lang.t("verify.reason.format")) {
            @match &outcome {
                None => {}
                Some(Ok((index, size, origin))) => {
                    p.verdict.ok { (lang.t("verify.ok")) }
                    p { (lang.f("verify.ok_detail", &[&index.to_string(), origin, &size.to_string()])) " " (lang.t("verify.by_server")) }
                }
                Some(Err(why)) => {
                    p.verdict.bad { (lang.t("verify.bad")) }
                    p { (lang.t(why.message_key())) " " (lang.t("verify.by_server")) }
                }
            }
        }
    };
    let mut pg = page(lang, lang.t("verify.title"), "/verify");
    let js = web::VERIFY_JS.name.clone();
    pg.scripts.push(&js);
    web::respond(status, lang, remember, false, pg.render(body))
}

#[cfg(test)]
mod tests {
    use super::Unverified;
    use crate::web::Words;

    #[test]
    fn every_reason_has_a_message_in_both_languages() {
        for r in [
            Unverified::Key,
            Unverified::Format,
            Unverified::OtherKey,
            Unverified::Signature,
            Unverified::Entry,
            Unverified::Proof,
            Unverified::Fetch,
            Unverified::Pending,
        ] {
            let key = r.message_key();
            assert_ne!(crate::web::Lang::En.t(key), key);
            assert_ne!(crate::web::Lang::Es.t(key), crate::web::Lang::En.t(key));
        }
    }
}
