//! The auditor's pages (role `auditor`: oversight bodies; read-only, never shown released data).
//!
//! - `/console/ledger`: the latest checkpoint, whether it is consistent with the last one this
//!   console saw (an RFC 9162 consistency proof, checked), the witnesses' cosignatures, an entry
//!   browser by index (the decoded entry and a link to its receipt check), and the side-door
//!   findings of `fusionguard audit ledger` over the verified ledger, each linked to its entry.
//! - `/console/audit`: upload a public-records file (a search audit, a sharing list, an email
//!   production, an intelligence export); the same evidence report as `fusionguard audit --out
//!   report.html` ([`oversight::report`]: what was read, the searches, findings by detector and
//!   severity, top organisations and users, by month, examples, rules and citations, method), the
//!   list paged, and downloads as the HTML report, CSV and JSON lines.
//!   The upload is streamed to a private temporary file that only lives for the request (size
//!   limited: [`UPLOAD_LIMIT`], and at most [`UPLOADS_AT_ONCE`] read at a time); the findings stay in the auditor's session, in memory, for paging
//!   and downloads, until the next upload or the end of the session. Nothing is written to the
//!   data directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use axum::extract::{Multipart, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped};
use oversight::finding::Finding;
use serde_json::Value;

use super::{page, Cert, Console, St, Who};
use crate::tokens::now;
use crate::web::{self, Lang, Words};

/// The role of oversight bodies' users.
pub const AUDITOR: &str = "auditor";
/// The largest upload accepted by default (2 GiB; `serve --max-upload-mib`).
pub const UPLOAD_LIMIT: u64 = 2 << 30;
/// Uploads read at once, whoever sends them (each may take up to the upload limit on disk while it
/// is read); another gets a 503 page asking to try again.
pub(super) const UPLOADS_AT_ONCE: usize = 2;
/// Findings per page.
const PAGE: usize = 50;

/// The kinds of file an auditor can upload, and the importer that reads each.
const KINDS: &[(&str, &str)] = &[
    ("searches", "audit.kind.searches"),
    ("sharing", "audit.kind.sharing"),
    ("emails", "audit.kind.emails"),
    ("intelligence", "audit.kind.intelligence"),
];

/// An audit kept in the auditor's session.
pub(super) struct Audited {
    file: String,
    kind: String,
    findings: Vec<Finding>,
    records: u64,
    summary: oversight::report::Summary,
}

/// A checkpoint this console saw, for the next consistency check.
pub(super) struct Seen {
    size: u64,
    root: [u8; 32],
    time: u64,
}

/// What the last check between checkpoints found.
pub(super) struct Consistency {
    from: u64,
    to: u64,
    ok: bool,
    time: u64,
}

impl Console {
    /// The logged-in auditor of a page and its language; anyone else gets a 403 page titled by
    /// the message `title`.
    async fn auditor(
        &self,
        headers: &HeaderMap,
        cert: &Cert,
        query: Option<&str>,
        title: &'static str,
    ) -> Result<(Who, Lang), Response> {
        let (who, lang) = self.page_who(headers, cert, query).await?;
        if who.record.role != AUDITOR {
            return Err(super::refusal(
                &who,
                lang,
                title,
                "/console",
                StatusCode::FORBIDDEN,
                lang.t("audit.not_auditor"),
            ));
        }
        Ok((who, lang))
    }
}

/// A horizontal bar chart with a title and a description, and the table of its numbers beside it
/// (the chart says nothing the table does not).
/// A bar chart of `rows` (the transparency report's, [`oversight::transparency::bar_chart`]) and
/// the table of the same rows.
fn chart(lang: Lang, id: &str, title: &str, head: &str, rows: &[(String, u64)]) -> Markup {
    let bars: Vec<(&str, u64)> = rows.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    html! {
        (PreEscaped(oversight::transparency::bar_chart(id, title, &bars, lang)))
        table {
            caption { (title) }
            thead { tr { th scope="col" { (head) } th scope="col" .num { "n" } } }
            tbody { @for (k, n) in rows { tr { th scope="row" { code { (k) } } td.num { (n) } } } }
        }
    }
}

fn counts<'a>(findings: &'a [Finding], key: impl Fn(&'a Finding) -> String) -> Vec<(String, u64)> {
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    for f in findings {
        *by.entry(key(f)).or_default() += 1;
    }
    let mut rows: Vec<(String, u64)> = by.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

fn findings_table(lang: Lang, findings: &[Finding], link_entries: bool) -> Markup {
    html! {
        div.table-wrap { table {
            caption.visually-hidden { (lang.t("audit.findings")) }
            thead { tr {
                th scope="col" { (lang.t("audit.severity")) }
                th scope="col" { (lang.t("audit.detector")) }
                th scope="col" { (lang.t("audit.record")) }
                th scope="col" { (lang.t("audit.evidence")) }
                th scope="col" { (lang.t("audit.rule")) }
            } }
            tbody { @for f in findings { tr {
                td { (f.severity.as_str()) }
                td { code { (f.kind.as_str()) } }
                td {
                    @match &f.subject {
                        oversight::finding::Subject::LedgerEntry { entry, .. } if link_entries => {
                            a href={ "/console/ledger?entry=" (entry) } { "#" (entry) }
                        }
                        s => { (s.label()) " (" (lang.t("audit.line")) " " (f.line) ")" }
                    }
                }
                td { (f.evidence) }
                td { code { (f.rule) } @if !f.citation.is_empty() { br; (f.citation) } }
            } } }
        } }
    }
}

/// The entry at `index` of the published log, as the tiles hold it.
fn read_entry(app: &crate::api::AppState, index: u64) -> Option<Vec<u8>> {
    let size = app.ledger.get()?.published()?.checkpoint.size;
    app.published_entry(index, size).ok().flatten()
}

/// `GET /console/ledger[?entry=N]`.
pub(super) async fn ledger_page(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery) -> Response {
    let path = "/console/ledger";
    let (who, lang) = match c.auditor(&headers, &cert, q.as_deref(), "ledger.title").await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let q: BTreeMap<String, String> = web::pairs(q.as_deref().unwrap_or("")).into_iter().collect();
    let Some(l) = c.app.ledger.get() else {
        return web::error_page(StatusCode::SERVICE_UNAVAILABLE, lang, path, lang.t("verify.reason.fetch"));
    };
    let size = l.size();
    let published = l.published();
    // A consistency proof from the last checkpoint this console saw to the latest one, checked.
    if let Some(p) = &published {
        let mut seen = c.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = seen.as_ref().filter(|s| s.size > 0 && s.size < p.checkpoint.size) {
            let ok = l.consistency_proof(s.size, p.checkpoint.size).is_ok_and(|proof| {
                ledger::merkle::verify_consistency(s.size, p.checkpoint.size, &proof, &s.root, &p.checkpoint.root)
                    .is_ok()
            });
            *c.consistency.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Consistency { from: s.size, to: p.checkpoint.size, ok, time: now() });
        }
        if seen.as_ref().is_none_or(|s| s.size < p.checkpoint.size) {
            *seen = Some(Seen { size: p.checkpoint.size, root: p.checkpoint.root, time: now() });
        }
    }
    let seen_time = c.seen.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|s| s.time);
    let consistency =
        c.consistency.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|k| (k.from, k.to, k.ok, k.time));
    let cosigners: Vec<String> = published
        .as_ref()
        .and_then(|p| ledger::note::Note::parse(p.note.as_bytes()).ok())
        .map(|n| n.signatures.into_iter().map(|s| s.name).filter(|n| n != l.origin()).collect())
        .unwrap_or_default();
    drop(l);
    // The entry asked for.
    let asked = q.get("entry").filter(|e| !e.is_empty());
    let entry = match asked.map(|e| e.parse::<u64>()) {
        None => None,
        Some(Err(_)) => Some(Err(lang.t("ledger.bad_index").to_string())),
        Some(Ok(i)) => {
            let app = Arc::clone(&c.app);
            let bytes = tokio::task::spawn_blocking(move || read_entry(&app, i)).await.ok().flatten();
            Some(bytes.map(|b| (i, b)).ok_or_else(|| lang.t("ledger.no_entry").to_string()))
        }
    };
    // What this hub, as its peers' witness, has seen of their ledgers.
    let peers = c.app.federation.as_ref().map(|f| f.witnessed());
    // The side-door findings over the verified ledger, found as the transparency count follows it.
    let findings = c.cache.findings().await.map(|(f, _)| f).map_err(|p| p.detail);
    let body = html! {
        h1 { (lang.t("ledger.title")) }
        p.lead { (lang.t("ledger.lead")) }
        h2 { (lang.t("ledger.checkpoint")) }
        @match &published {
            None => p { (lang.t("ledger.none")) }
            Some(p) => {
                dl.facts {
                    dt { (lang.t("ledger.origin")) } dd { code { (p.checkpoint.origin) } }
                    dt { (lang.t("ledger.size")) } dd { (p.checkpoint.size) " / " (size) }
                    dt { (lang.t("ledger.root")) } dd { code { (base64::Engine::encode(&base64::engine::general_purpose::STANDARD, p.checkpoint.root)) } }
                    @if let Some(t) = seen_time { dt { (lang.t("ledger.seen")) } dd { (crate::api::rfc3339(t)) } }
                    dt { (lang.t("ledger.consistency")) }
                    dd {
                        @match consistency {
                            None => { (lang.t("ledger.consistency_none")) }
                            Some((from, to, true, t)) => { span.decision-permit { (lang.f("ledger.consistent", &[&from.to_string(), &to.to_string(), &crate::api::rfc3339(t)])) } }
                            Some((from, to, false, t)) => { strong.decision-deny { (lang.f("ledger.inconsistent", &[&from.to_string(), &to.to_string(), &crate::api::rfc3339(t)])) } }
                        }
                    }
                    dt { (lang.t("ledger.cosignatures")) }
                    dd { @if cosigners.is_empty() { (lang.t("ledger.no_cosignatures")) } @else { @for n in &cosigners { code { (n) } " " } } }
                }
                (web::pre(&p.note))
            }
        }
        h2 #entry-h { (lang.t("ledger.entry")) }
        form method="get" action="/console/ledger" {
            div.field {
                label for="entry" { (lang.t("ledger.index")) }
                input #entry type="text" name="entry" inputmode="numeric" value=(asked.cloned().unwrap_or_default())
                    aria-invalid=[matches!(entry, Some(Err(_))).then_some("true")] aria-describedby=[matches!(entry, Some(Err(_))).then_some("entry-error")];
                @if let Some(Err(e)) = &entry { p #entry-error.field-error { (e) } }
            }
            button type="submit" { (lang.t("ledger.show")) }
        }
        @if let Some(Ok((i, bytes))) = &entry {
            @let pretty = serde_json::from_slice::<Value>(bytes).map(|v| serde_json::to_string_pretty(&v).unwrap_or_default()).unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned());
            h3 { (lang.f("ledger.entry_n", &[&i.to_string()])) }
            (web::pre(&pretty))
            p { a href={ "/verify?receipt=" (i) } { (lang.t("req.verify_link")) } }
        }
        @if let Some(peers) = &peers {
            h2 { (lang.t("ledger.peers")) }
            p { (lang.t("ledger.peers_lead")) }
            table {
                thead { tr { th scope="col" { (lang.t("ledger.peer")) } th scope="col" { (lang.t("ledger.origin")) } th scope="col" { (lang.t("ledger.cosigned_size")) } th scope="col" { (lang.t("ledger.split_views")) } } }
                tbody {
                    @for w in peers {
                        tr {
                            td { (w.peer.name) }
                            td { code { (w.peer.origin) } }
                            td { @match w.cosigned_size() { Some(n) => { (n) } None => { (lang.t("ledger.none_cosigned")) } } }
                            td { @if w.split_views.is_empty() { "0" } @else { strong.decision-deny { (w.split_views.len()) } } }
                        }
                    }
                }
            }
            @for w in peers {
                @for v in &w.split_views {
                    p { strong.decision-deny { (lang.f("ledger.split_view_alert", &[w.peer.name.as_str(), v.why.as_str()])) } }
                    h3 { (lang.t("ledger.witnessed")) }
                    (web::pre(&v.witnessed))
                    h3 { (lang.t("ledger.presented")) }
                    (web::pre(&v.presented))
                }
            }
        }
        h2 { (lang.t("ledger.side_doors")) }
        @match &findings {
            Err(e) => p.error { (e) }
            Ok(f) if f.is_empty() => p { (lang.t("ledger.no_findings")) }
            Ok(f) => {
                (chart(lang, "sd", lang.t("audit.by_detector"), lang.t("audit.detector"), &counts(f, |x| format!("{}/{}", x.kind.as_str(), x.severity.as_str()))))
                (findings_table(lang, f, true))
            }
        }
    };
    page(&who, lang, lang.t("ledger.title"), path, StatusCode::OK, body)
}

/// A size in bytes as MiB, for messages.
fn mib(bytes: u64) -> String {
    (bytes >> 20).to_string()
}

fn upload_form(who: &Who, lang: Lang, limit: u64, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { div.errors role="alert" { p { (e) } } }
        form.stack method="post" action="/console/audit" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(who.csrf);
            div.field {
                label for="kind" { (lang.t("audit.kind")) }
                select #kind name="kind" { @for (k, label) in KINDS { option value=(k) { (lang.t(label)) } } }
            }
            div.field {
                label for="file" { (lang.t("audit.file")) }
                input #file type="file" name="file" aria-describedby="file-hint"
                    aria-invalid=[error.map(|_| "true")];
                p #file-hint.hint { (lang.f("audit.file_hint", &[&mib(limit)])) }
            }
            button type="submit" { (lang.t("audit.submit")) }
        }
    }
}

/// `GET /console/audit[?page=N][&download=csv|jsonl]`.
pub(super) async fn audit_page(State(c): St, headers: HeaderMap, cert: Cert, RawQuery(q): RawQuery) -> Response {
    let (who, lang) = match c.auditor(&headers, &cert, q.as_deref(), "audit.title").await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let q: BTreeMap<String, String> = web::pairs(q.as_deref().unwrap_or("")).into_iter().collect();
    let key = c.session_of(&headers);
    let audited = key.as_ref().and_then(|k| c.audits.lock().unwrap_or_else(|e| e.into_inner()).get(k).cloned());
    if let (Some(kind), Some(a)) = (q.get("download"), &audited) {
        return download(a, kind, lang);
    }
    let page_no: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    render_audit(&who, lang, c.app.upload_limit, audited.as_deref(), page_no, None, StatusCode::OK)
}

fn render_audit(
    who: &Who,
    lang: Lang,
    limit: u64,
    audited: Option<&Audited>,
    page_no: usize,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = html! {
        h1 { (lang.t("audit.title")) }
        p.lead { (lang.t("audit.lead")) }
        (upload_form(who, lang, limit, error))
        @if let Some(a) = audited {
            h2 { (lang.f("audit.result", &[&a.file])) }
            p { (lang.f("audit.summary", &[&a.records.to_string(), &a.findings.len().to_string(), &a.kind])) }
            p {
                a href="/console/audit?download=html" download { (lang.t("audit.html")) } " · "
                a href="/console/audit?download=csv" download { (lang.t("audit.csv")) } " · "
                a href="/console/audit?download=jsonl" download { (lang.t("audit.jsonl")) }
            }
            (PreEscaped(oversight::report::html_sections(&a.summary, lang)))
            @if !a.findings.is_empty() {
                h2 { (lang.t("audit.findings")) }
                @let pages = a.findings.len().div_ceil(PAGE);
                @let p = page_no.min(pages);
                (PreEscaped(oversight::report::findings_table(&a.findings[(p - 1) * PAGE..(p * PAGE).min(a.findings.len())], lang)))
                nav aria-label=(lang.t("audit.pages")) {
                    p {
                        (lang.f("audit.page", &[&p.to_string(), &pages.to_string()])) " "
                        @if p > 1 { a href={ "/console/audit?page=" (p - 1) } { (lang.t("audit.prev")) } " " }
                        @if p < pages { a href={ "/console/audit?page=" (p + 1) } { (lang.t("audit.next")) } }
                    }
                }
            }
        }
    };
    page(who, lang, lang.t("audit.title"), "/console/audit", status, body)
}

fn download(a: &Audited, kind: &str, lang: Lang) -> Response {
    let (body, ctype, ext) = match kind {
        "jsonl" => {
            let mut out = Vec::new();
            for f in &a.findings {
                let _ = f.write_json_line(&mut out);
            }
            (out, "application/x-ndjson", "jsonl")
        }
        "html" => {
            let page = oversight::report::html_page(&a.summary, &a.findings, usize::MAX, lang);
            (page.into_bytes(), "text/html; charset=utf-8", "html")
        }
        _ => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(oversight::finding::FLAT_COLUMNS);
            for f in &a.findings {
                let _ = w.write_record(f.flat().iter().map(|c| c.as_deref().unwrap_or("")));
            }
            (w.into_inner().unwrap_or_default(), "text/csv; charset=utf-8", "csv")
        }
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"findings.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A temporary file removed when dropped.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `POST /console/audit` (multipart: `csrf`, `kind`, `file`).
pub(super) async fn upload(State(c): St, headers: HeaderMap, cert: Cert, mut form: Multipart) -> Response {
    let path = "/console/audit";
    let (who, lang) = match c.auditor(&headers, &cert, None, "audit.title").await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let limit = c.app.upload_limit;
    let fail = |status: StatusCode, message: String| render_audit(&who, lang, limit, None, 1, Some(&message), status);
    // Refused uploads are read to their end and dropped before the answer, so that the browser
    // gets the page, not a connection reset halfway through sending the file.
    let Ok(_reading) = c.uploads.try_acquire() else {
        drain(&mut form).await;
        return fail(StatusCode::SERVICE_UNAVAILABLE, lang.t("audit.busy").to_string());
    };
    let (mut csrf, mut kind, mut file) = (None, None, None);
    let read = async {
        loop {
            let field = match form.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(fail(StatusCode::BAD_REQUEST, format!("{}: {e}", lang.t("audit.bad_form")))),
            };
            match field.name().unwrap_or("") {
                "csrf" => csrf = field.text().await.ok(),
                "kind" => kind = field.text().await.ok(),
                "file" => {
                    // The CSRF token and kind come first in the form; a file before them is refused.
                    if !csrf.as_deref().is_some_and(|t| super::same(t, &who.csrf)) {
                        return Err(web::error_page(StatusCode::FORBIDDEN, lang, path, lang.t("csrf.bad")));
                    }
                    let name = field
                        .file_name()
                        .unwrap_or("upload")
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(120)
                        .collect::<String>();
                    let ext = std::path::Path::new(&name)
                        .extension()
                        .and_then(|e| e.to_str())
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    let ext: String = ext.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
                    let tmp = std::env::temp_dir().join(format!(
                        "fg-audit-{}.{}",
                        super::random_token(),
                        if ext.is_empty() { "dat" } else { &ext }
                    ));
                    let guard = TempFile(tmp.clone());
                    let mut out = match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
                        Ok(f) => f,
                        Err(e) => {
                            eprintln!("console audit: cannot create a temporary file: {e}");
                            return Err(fail(StatusCode::SERVICE_UNAVAILABLE, lang.t("audit.no_space").to_string()));
                        }
                    };
                    let mut field = field;
                    let mut written = 0u64;
                    loop {
                        match field.chunk().await {
                            // Past the limit the rest is read and dropped (the body itself is capped a
                            // little above it), so that the browser gets the answer, not a reset.
                            Ok(Some(chunk)) if written > limit => written += chunk.len() as u64,
                            Ok(Some(chunk)) => {
                                written += chunk.len() as u64;
                                if written <= limit && out.write_all(&chunk).is_err() {
                                    return Err(fail(
                                        StatusCode::SERVICE_UNAVAILABLE,
                                        lang.t("audit.no_space").to_string(),
                                    ));
                                }
                            }
                            Ok(None) => break,
                            Err(_) if written > limit => break,
                            Err(e) => {
                                return Err(fail(StatusCode::BAD_REQUEST, format!("{}: {e}", lang.t("audit.bad_form"))))
                            }
                        }
                    }
                    if written > limit {
                        drop(out);
                        drop(guard);
                        return Err(fail(StatusCode::PAYLOAD_TOO_LARGE, lang.f("audit.too_large", &[&mib(limit)])));
                    }
                    file = Some((name, guard, written));
                }
                other => return Err(fail(StatusCode::BAD_REQUEST, lang.f("audit.unknown_field", &[other]))),
            }
        }
        Ok(())
    };
    if let Err(refused) = read.await {
        drain(&mut form).await;
        return refused;
    }
    if !csrf.as_deref().is_some_and(|t| super::same(t, &who.csrf)) {
        return web::error_page(StatusCode::FORBIDDEN, lang, path, lang.t("csrf.bad"));
    }
    let Some(kind) = kind.filter(|k| KINDS.iter().any(|(x, _)| x == k)) else {
        return fail(StatusCode::BAD_REQUEST, lang.t("audit.bad_kind").to_string());
    };
    let Some((name, guard, _)) = file.filter(|f| f.2 > 0) else {
        return fail(StatusCode::BAD_REQUEST, lang.t("audit.no_file").to_string());
    };
    let k = kind.clone();
    let result = tokio::task::spawn_blocking(move || run_audit(&k, &guard.0)).await;
    let (mut findings, records, profile, jurisdiction) = match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return fail(StatusCode::UNPROCESSABLE_ENTITY, lang.f("audit.unreadable", &[&name, &e])),
        Err(e) => return fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    // The findings name the file as uploaded, not the temporary copy.
    let shown: Arc<str> = Arc::from(name.as_str());
    let mut summary = oversight::report::Summary::new(&kind);
    summary.profile = profile;
    for f in &mut findings {
        if f.file.is_some() {
            f.file = Some(Arc::clone(&shown));
        }
        summary.push(f);
    }
    summary.inputs.push(oversight::report::Input {
        file: name.clone(),
        read: records.0,
        kept: records.1,
        rejected: records.0 - records.1,
        jurisdiction,
        ..Default::default()
    });
    oversight::report::sort_most_severe_first(&mut findings);
    let audited = Arc::new(Audited { file: name, kind, findings, records: records.0, summary });
    if let Some(key) = c.session_of(&headers) {
        c.audits.lock().unwrap_or_else(|e| e.into_inner()).insert(key, Arc::clone(&audited));
    }
    render_audit(&who, lang, limit, Some(&audited), 1, None, StatusCode::OK)
}

/// Reads what is left of an upload form and drops it (the body is capped a little above the
/// upload limit).
async fn drain(form: &mut Multipart) {
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// What an audit of an upload gives: the findings, (records read, kept), the searches' profile
/// and whose statutes its findings cite (search audits).
type AuditResult = (Vec<Finding>, (u64, u64), Option<oversight::search_audit::Profile>, Option<String>);

/// Runs the importer of `kind` over the uploaded file.
fn run_audit(kind: &str, path: &std::path::Path) -> Result<AuditResult, String> {
    let mut out = Vec::new();
    let read_kept = |s: &oversight::ImportStats| (s.read, s.kept);
    let (mut profile, mut jurisdiction) = (None, None);
    let read = match kind {
        "searches" => {
            let rules = oversight::search_audit::SearchRules::default();
            let audit =
                oversight::search_audit::audit_files(&[path.to_owned()], &rules, &mut |_, _| {}, &mut |f| out.push(f));
            let file = audit.files.first().ok_or("no file")?;
            if let Some(e) = &file.error {
                return Err(e.clone());
            }
            let j = &file.jurisdiction;
            jurisdiction = Some(match &j.state {
                Some(st) => format!("{st} ({})", j.how),
                // The console has no --state: the reason alone.
                None => format!("— ({})", j.how.trim_end_matches("; give --state")),
            });
            let read = read_kept(&file.stats);
            profile = Some(audit.profile);
            read
        }
        "sharing" => {
            let dir = oversight::directory::Directory::builtin().map_err(|e| e.to_string())?;
            read_kept(
                &oversight::sharing::audit_file(path, &dir, &mut |f| out.push(f)).map_err(|e| e.to_string())?.stats,
            )
        }
        "emails" => {
            read_kept(&oversight::emails::audit_path(path, &mut |f| out.push(f)).map_err(|e| e.to_string())?.stats)
        }
        _ => {
            let now_ms = (now() as i64) * 1000;
            let as_of = oversight::time::Timestamp { millis: now_ms, zone_known: true };
            read_kept(
                &oversight::intelligence::audit_file(path, as_of, &mut |f| out.push(f)).map_err(|e| e.to_string())?,
            )
        }
    };
    Ok((out, read, profile, jurisdiction))
}
