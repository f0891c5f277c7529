//! The public transparency page: `GET /transparency` (HTML) and `GET /v1/transparency` (JSON),
//! `?year=YYYY` (default: the current UTC year). No token: it is public, and holds aggregates only.
//! The page is in English or Spanish, picked as the portal's pages pick theirs (`?lang=`, the
//! `fg_lang` cookie, `Accept-Language`), with a link to the other language and one home.
//!
//! The numbers are [`oversight::transparency::Report`]'s, computed the way an outside auditor
//! computes them: from the hub's published ledger files, verified against the signed checkpoint
//! before any entry is counted. So the page shows what `fusionguard report transparency` shows
//! for the same checkpoint (which the page names, "checkpoint of N entries").
//!
//! **Cost.** One thread per hub follows the ledger: it verifies the hub's published ledger once
//! from the start and counts every entry into an [`oversight::transparency::Tally`] (the reports
//! of every year and the ledger audit's findings); then, each time the checkpoint moves, it
//! verifies only what was added ([`LedgerReader::advance`]: the new entries, the tiles they
//! complete and the new root over old and new entries), counts the new entries, and publishes
//! the reports, rendered (JSON, CSV, the page in each language). It looks for a new checkpoint
//! every second, and at once when a request sees that the checkpoint moved, as long as pages are
//! read (within [`FOLLOW_SECS`] of a page view); otherwise it rests, so a hub nobody reads costs
//! nothing but the first count, and it runs at a lower priority than requests. A page view never
//! counts or renders: it serves the latest published count, which names the checkpoint it was
//! counted at; only before the first count is done does a request wait for it (asynchronously).
//! A ledger that no longer verifies (rolled back, forked, a verified entry changed) is never
//! counted: the last good count stays up, the thread says why on stderr, and it verifies the
//! whole ledger again [`RETRY_AFTER`] later.
//!
//! **Years.** The ledger holds the years from the one its earliest entry is dated in (the current
//! year when it has none) to the current year (or the latest entry's, if later). A year in that
//! span with no entry gets an empty report; any other year is 404 (`year-not-in-ledger`, naming
//! the span in `first_year` and `last_year`), so no request costs more than a lookup.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ledger::tiles::{TileFetcher, VerifyError};
use maud::html;
use oversight::finding::Finding;
use oversight::ledger::LedgerReader;
use oversight::transparency::{LedgerInfo, Report, Tally, MAX_YEAR, MIN_YEAR};

use crate::api::AppState;
use crate::problem::Problem;
use crate::web::{Lang, Words};

/// The reports of every year, counted at one checkpoint.
struct Counted {
    /// The checkpoint they were counted at.
    info: LedgerInfo,
    /// The report of each year an entry is dated in.
    reports: BTreeMap<i64, Arc<Year>>,
    /// The ledger audit's findings (the console's ledger page lists them).
    findings: Arc<Vec<Finding>>,
    /// The empty reports of the years of the ledger's span with no entry, made on first use.
    empty: Mutex<BTreeMap<i64, Arc<Year>>>,
}

/// A year's report, and the bodies served, rendered with the count (off the async workers): the
/// page in each language, so that a page view never renders.
pub(crate) struct Year {
    /// The report (the portal's pages read their numbers from it).
    pub(crate) report: Report,
    json: Bytes,
    /// The page in English, then in Spanish.
    html: [Bytes; 2],
    csv: Bytes,
    /// The report's lists, its tables (`uses.by_source`), which `/transparency.csv?table=` serves.
    tables: Vec<String>,
}

impl Year {
    fn new(report: Report) -> Self {
        let value = serde_json::to_value(&report).unwrap_or_default();
        let tables = value
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(section, v)| {
                let lists = v.as_object().into_iter().flatten().filter(|(_, x)| x.is_array());
                lists.map(move |(name, _)| format!("{section}.{name}"))
            })
            .collect();
        Self {
            json: serde_json::to_vec(&report).unwrap_or_default().into(),
            html: [Lang::En, Lang::Es].map(|lang| page_in(&report, lang)),
            csv: report.csv().into(),
            tables,
            report,
        }
    }

    /// The page in `lang`.
    fn html(&self, lang: Lang) -> &Bytes {
        match lang {
            Lang::En => &self.html[0],
            Lang::Es => &self.html[1],
        }
    }
}

/// The report's page in `lang` as the hub serves it: each chart beside its CSV, and at the top a
/// link home and the switch to the other language (for the same year).
fn page_in(report: &Report, lang: Lang) -> Bytes {
    let year = report.year;
    let page = report.html_in(lang, Some(&format!("/transparency.csv?year={year}")));
    let other = lang.other();
    let nav = html! {
        nav aria-label=(lang.t("report.nav")) {
            p {
                a href="/" { (lang.t("report.home")) }
                " · "
                a href={ "/transparency?year=" (year) "&lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) {
                    (other.name())
                }
            }
        }
    };
    match page.split_once("<body>") {
        Some((head, body)) => format!("{head}<body>{}{body}", nav.into_string()).into(),
        None => page.into(),
    }
}

/// What the counting thread has published.
#[derive(Clone, Default)]
struct Published {
    /// The latest count, if one is done.
    counted: Option<Arc<Counted>>,
    /// Why the last try failed, while there is no count to serve.
    failed: Option<String>,
}

/// The latest count of the hub's ledger, kept up to date by the thread that follows it.
pub(crate) struct Cache {
    app: Arc<AppState>,
    /// What the counting thread published.
    latest: tokio::sync::watch::Receiver<Published>,
    /// Wakes the counting thread early (one pending wake is enough). When the cache is dropped,
    /// the thread ends.
    wake: std::sync::mpsc::SyncSender<()>,
    /// When a page last asked for the count (Unix seconds): the thread follows the ledger while
    /// someone reads the pages ([`FOLLOW_SECS`]).
    viewed: Arc<AtomicU64>,
}

/// How long after the last page view the count goes on following the ledger; then it rests
/// (costing the hub nothing) until the next view, which it serves from the count it has while it
/// catches up, reading only the entries added meanwhile.
const FOLLOW_SECS: u64 = 600;

/// How often the counting thread looks for a new checkpoint (a page that sees one wakes it sooner).
const FOLLOW_TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// How long after a ledger failed to verify the counting thread verifies it again.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// How long the first page view after the count rested waits for it to catch up (longer, it is
/// answered from the count there is, which names its checkpoint).
const CATCH_UP_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

type St = State<Arc<Cache>>;

impl Cache {
    /// The count of the hub's ledger, shared by the transparency report and the portal's and
    /// console's pages; starts the thread that follows the ledger.
    pub(crate) fn new(app: Arc<AppState>) -> Arc<Self> {
        let (publish, latest) = tokio::sync::watch::channel(Published::default());
        let (wake, woken) = std::sync::mpsc::sync_channel(1);
        let viewed = Arc::new(AtomicU64::new(0));
        let (follower, seen) = (Arc::clone(&app), Arc::clone(&viewed));
        let started = std::thread::Builder::new()
            .name("transparency".into())
            .spawn(move || follow(&follower, &seen, &woken, &publish));
        if let Err(e) = started {
            eprintln!("transparency: cannot start the counting thread: {e}");
        }
        Arc::new(Cache { app, latest, wake, viewed })
    }

    /// The report of `year` at the latest count (waiting for the first count if none is done
    /// yet) and the size of the checkpoint it was counted at.
    pub(crate) async fn year(self: &Arc<Self>, year: i64) -> Result<(Arc<Year>, u64), Problem> {
        let counted = self.counted().await?;
        Ok((counted.report(year, self.app.engine.deployment())?, counted.info.tree_size))
    }

    /// The ledger audit's findings at the latest count, and the size of the checkpoint they
    /// were found at.
    pub(crate) async fn findings(self: &Arc<Self>) -> Result<(Arc<Vec<Finding>>, u64), Problem> {
        let counted = self.counted().await?;
        Ok((Arc::clone(&counted.findings), counted.info.tree_size))
    }
}

/// The routes, with their own state around the hub's (merged into the hub's router).
pub(crate) fn routes<S>(cache: Arc<Cache>) -> Router<S> {
    Router::new()
        .route("/transparency", get(page))
        .route("/transparency.csv", get(csv))
        .route("/v1/transparency", get(json))
        .with_state(cache)
}

/// Reads the hub's public ledger files through the ledger in service (whatever its storage
/// backend, and the one reopened after a fault).
pub(crate) struct PublicFiles(pub(crate) Arc<AppState>);

impl TileFetcher for PublicFiles {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        let fail = |why: String| VerifyError::Fetch { path: path.to_string(), why };
        let ledger = self.0.ledger.get().ok_or_else(|| fail("the ledger is recovering from a fault".into()))?;
        ledger.read_public(path).map_err(|e| fail(e.to_string()))
    }
}

/// The current year (UTC).
pub(crate) fn current_year() -> i64 {
    let days = i64::try_from(crate::tokens::now() / 86_400).unwrap_or(0);
    oversight::time::civil_from_days(days).0
}

/// What else a query may hold besides `year`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Also {
    /// Nothing (`/v1/transparency`).
    Nothing,
    /// `table` (`/transparency.csv`).
    Table,
    /// `lang` (`/transparency`; any value: one that is no language of the page is ignored).
    Lang,
}

/// The `year` query parameter; a 400 names what is wrong.
fn year_of(query: Option<&str>) -> Result<i64, Problem> {
    query_of(query, Also::Nothing).map(|(y, _)| y)
}

/// The `year` query parameter (and `table` or `lang`, as `also` allows); a 400 names what is wrong.
fn query_of(query: Option<&str>, also: Also) -> Result<(i64, Option<String>), Problem> {
    let mut year = None;
    let mut table = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "lang" && also == Also::Lang {
            continue;
        }
        if k == "table" && also == Also::Table {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.') {
                return Err(Problem::bad_field(
                    "table",
                    format!("`table` is {v:?}; expected a section such as uses.by_source"),
                ));
            }
            table = Some(v.to_string());
            continue;
        }
        if k != "year" {
            let known = match also {
                Also::Nothing => "`year`",
                Also::Table => "`year` and `table`",
                Also::Lang => "`year` and `lang`",
            };
            return Err(Problem::bad_field(k, format!("unknown query parameter {k:?}; the only ones are {known}")));
        }
        match v.parse::<i64>() {
            Ok(y) if (MIN_YEAR..=MAX_YEAR).contains(&y) && v.len() == 4 => year = Some(y),
            _ => {
                return Err(Problem::bad_field(
                    "year",
                    format!("`year` is {v:?}; expected a four-digit year from {MIN_YEAR} to {MAX_YEAR}"),
                ))
            }
        }
    }
    Ok((year.unwrap_or_else(current_year), table))
}

fn unavailable() -> Problem {
    Problem::ledger_unavailable("the ledger is recovering from a fault; retry later")
}

impl Cache {
    /// The latest count: at once when there is one (waking the counting thread if the
    /// checkpoint moved since), else once the first count is done.
    async fn counted(self: &Arc<Self>) -> Result<Arc<Counted>, Problem> {
        let now = crate::tokens::now();
        let was_resting = now.saturating_sub(self.viewed.swap(now, Ordering::Relaxed)) > FOLLOW_SECS;
        let size = self.app.ledger.get().ok_or_else(unavailable)?.published().map_or(0, |p| p.checkpoint.size);
        let mut latest = self.latest.clone();
        let published = latest.borrow_and_update().clone();
        if let Some(counted) = published.counted {
            if counted.info.tree_size < size {
                let _ = self.wake.try_send(());
                // The first reader after a quiet spell gives the count a moment to catch up.
                if was_resting {
                    let caught_up = latest.wait_for(|p| p.counted.as_ref().is_some_and(|c| c.info.tree_size >= size));
                    if let Ok(Ok(p)) = tokio::time::timeout(CATCH_UP_WAIT, caught_up).await {
                        return Ok(p.counted.clone().unwrap_or(counted));
                    }
                }
            }
            return Ok(counted);
        }
        if let Some(why) = published.failed {
            let _ = self.wake.try_send(());
            return Err(unverifiable(&why));
        }
        let published = latest.wait_for(|p| p.counted.is_some() || p.failed.is_some()).await.map_err(|_| {
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the counting thread has stopped")
        })?;
        match (&published.counted, &published.failed) {
            (Some(counted), _) => Ok(Arc::clone(counted)),
            (None, why) => Err(unverifiable(why.as_deref().unwrap_or_default())),
        }
    }
}

fn unverifiable(why: &str) -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ledger-unverifiable",
        format!("the hub's own ledger does not verify: {why}"),
    )
}

/// The counting thread: counts the hub's ledger, then follows it as it grows while pages are read
/// ([`FOLLOW_SECS`]), publishing each count; ends when the cache is dropped.
fn follow(
    app: &Arc<AppState>,
    viewed: &AtomicU64,
    woken: &std::sync::mpsc::Receiver<()>,
    publish: &tokio::sync::watch::Sender<Published>,
) {
    background();
    let deployment = app.engine.deployment();
    let mut following: Option<(LedgerReader, Tally<'_>)> = None;
    let mut findings = Arc::new(Vec::new());
    loop {
        let resting =
            following.is_some() && crate::tokens::now().saturating_sub(viewed.load(Ordering::Relaxed)) > FOLLOW_SECS;
        let wait = match if resting { Ok(false) } else { count(app, deployment, &mut following) } {
            Ok(false) => FOLLOW_TICK,
            Ok(true) => {
                let Some((reader, tally)) = &following else { continue };
                if tally.findings().len() != findings.len() {
                    findings = Arc::new(tally.findings().to_vec());
                }
                let info = LedgerInfo::of(reader);
                let reports =
                    tally.reports(info.clone()).into_iter().map(|(y, r)| (y, Arc::new(Year::new(r)))).collect();
                app.metrics.counted_size.store(info.tree_size, Ordering::Relaxed);
                let counted =
                    Counted { info, reports, findings: Arc::clone(&findings), empty: Mutex::new(BTreeMap::new()) };
                publish.send_replace(Published { counted: Some(Arc::new(counted)), failed: None });
                FOLLOW_TICK
            }
            Err(why) => {
                app.metrics.count_failures.fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "transparency: {why}; the last count stays up, and the whole ledger is verified again in {} s",
                    RETRY_AFTER.as_secs()
                );
                following = None;
                publish.send_if_modified(|p| {
                    let first = p.counted.is_none();
                    if first {
                        p.failed = Some(why.clone());
                    }
                    first
                });
                RETRY_AFTER
            }
        };
        // Until the next tick, or a page's wake; after a failure, wakes are let pass until the
        // retry, so that a ledger that does not verify is not verified again for every page view.
        let until = std::time::Instant::now() + wait;
        loop {
            match woken.recv_timeout(until.saturating_duration_since(std::time::Instant::now())) {
                Ok(()) if wait == FOLLOW_TICK => break,
                Ok(()) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Lowers the calling thread's priority (nice 10): the count is background work, so on a busy
/// machine requests come first and the count catches up when the load falls.
fn background() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its arguments; on Linux, PRIO_PROCESS with a thread id sets
    // that thread's nice value, and gettid always succeeds.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, 10) != 0 {
            eprintln!("transparency: cannot lower the counting thread's priority: {}", std::io::Error::last_os_error());
        }
    }
}

/// Brings the count up to the ledger's latest checkpoint: the whole ledger when there is no count
/// yet, else the entries added since. Returns whether anything was counted. On an error the
/// count may be half done: the caller drops it.
fn count<'d>(
    app: &Arc<AppState>,
    deployment: &'d model::Deployment,
    following: &mut Option<(LedgerReader, Tally<'d>)>,
) -> Result<bool, String> {
    let Some(ledger) = app.ledger.get() else { return Ok(false) };
    let size = ledger.published().map_or(0, |p| p.checkpoint.size);
    let first = match following {
        Some((reader, _)) if reader.size() == size => return Ok(false),
        Some((reader, _)) => reader.advance().map_err(|e| e.to_string())?,
        None => {
            let files = Box::new(PublicFiles(Arc::clone(app)));
            let reader = LedgerReader::open(files, "the hub's ledger".into(), &app.vkey).map_err(|e| e.to_string())?;
            *following = Some((reader, Tally::audited(deployment)));
            0
        }
    };
    let Some((reader, tally)) = following else { return Ok(false) };
    for item in reader.entries_from(first) {
        let (index, entry) = item.map_err(|e| e.to_string())?;
        tally.push(index, &entry);
        app.metrics.counted_entries.fetch_add(1, Ordering::Relaxed);
    }
    Ok(true)
}

impl Counted {
    /// The report of `year`: counted, empty for a year of the ledger's span with no entry, or a
    /// 404 naming the span.
    fn report(&self, year: i64, deployment: &model::Deployment) -> Result<Arc<Year>, Problem> {
        if let Some(report) = self.reports.get(&year) {
            return Ok(Arc::clone(report));
        }
        let now = current_year();
        let first = self.reports.keys().next().map_or(now, |&y| y.min(now));
        let last = self.reports.keys().next_back().map_or(now, |&y| y.max(now));
        if !(first..=last).contains(&year) {
            let span = if first == last { format!("only {first}") } else { format!("{first} to {last}") };
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "year-not-in-ledger",
                format!(
                    "no report for {year}: the ledger holds {span} (from its earliest entry's year to the current \
                     one, at the checkpoint of {} entries)",
                    self.info.tree_size
                ),
            )
            .with("first_year", first)
            .with("last_year", last));
        }
        let mut empty = self.empty.lock().map_err(|_| unavailable())?;
        if let Some(report) = empty.get(&year) {
            return Ok(Arc::clone(report));
        }
        let none = std::iter::empty::<Result<(u64, model::entry::Entry), std::convert::Infallible>>();
        let report = Report::build_audited(year, self.info.clone(), deployment, none)
            .map_err(|e| Problem::bad_field("year", e.to_string()))?;
        Ok(Arc::clone(empty.entry(year).or_insert_with(|| Arc::new(Year::new(report)))))
    }
}

async fn compute(cache: Arc<Cache>, year: i64) -> Result<Arc<Year>, Problem> {
    cache.counted().await?.report(year, cache.app.engine.deployment())
}

async fn json(State(cache): St, RawQuery(query): RawQuery) -> Response {
    let year = match year_of(query.as_deref()) {
        Ok(y) => y,
        Err(p) => return p.into_response(),
    };
    match compute(cache, year).await {
        Ok(year) => {
            let mut r = (StatusCode::OK, year.json.clone()).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=5"));
            r
        }
        Err(p) => p.into_response(),
    }
}

/// `GET /transparency.csv?year=YYYY[&table=SECTION]`: the report's CSV, or one table's rows.
async fn csv(State(cache): St, RawQuery(query): RawQuery) -> Response {
    let (year, table) = match query_of(query.as_deref(), Also::Table) {
        Ok(q) => q,
        Err(p) => return p.into_response(),
    };
    let (counted, _) = match cache.year(year).await {
        Ok(y) => y,
        Err(p) => return p.into_response(),
    };
    let body: Bytes = match &table {
        None => counted.csv.clone(),
        Some(t) => {
            if !counted.tables.contains(t) {
                return Problem::not_found(format!("the report has no table {t:?} (for example uses.by_source)"))
                    .into_response();
            }
            let text = String::from_utf8_lossy(&counted.csv);
            let prefix = format!("{t},");
            let mut lines = text.lines();
            let mut out = format!("{}\n", lines.next().unwrap_or(""));
            for line in lines.filter(|l| l.starts_with(&prefix)) {
                out.push_str(line);
                out.push('\n');
            }
            out.into()
        }
    };
    let name = match &table {
        None => format!("transparency-{year}.csv"),
        Some(t) => format!("transparency-{year}-{t}.csv"),
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=5"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /transparency?year=YYYY[&lang=en|es]`: the report's page, in the language the portal's
/// pages pick (`?lang=`, remembered in the `fg_lang` cookie; else the cookie; else
/// `Accept-Language`; else English).
async fn page(State(cache): St, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let year = match query_of(query.as_deref(), Also::Lang) {
        Ok((y, _)) => y,
        Err(p) => return p.into_response(),
    };
    let (lang, remember) = crate::web::lang_of(&headers, query.as_deref());
    match compute(cache, year).await {
        Ok(year) => {
            let mut r = (StatusCode::OK, year.html(lang).clone()).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=5"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"),
            );
            crate::web::language_headers(h, lang, remember);
            r
        }
        Err(p) => p.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use oversight::transparency::{LedgerInfo, Report};

    use super::{current_year, query_of, year_of, Also, Counted, Year};

    #[test]
    fn years_the_ledger_holds() {
        let deployment = model::Deployment::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-world"),
        )
        .unwrap();
        let now = current_year();
        let first = now - 3;
        let info = LedgerInfo { origin: "test".into(), tree_size: 7, root: "AA==".into() };
        let none = || std::iter::empty::<Result<(u64, model::entry::Entry), std::convert::Infallible>>();
        let counted = |years: &[i64]| Counted {
            info: info.clone(),
            reports: years
                .iter()
                .map(|&y| (y, Arc::new(Year::new(Report::build(y, info.clone(), None, none()).unwrap()))))
                .collect(),
            findings: Arc::new(Vec::new()),
            empty: Mutex::new(BTreeMap::new()),
        };
        let c = counted(&[first, now]);
        // A year of the span with no entry: an empty report, made once.
        let empty = c.report(first + 1, &deployment).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&empty.json).unwrap();
        assert_eq!((v["year"].as_i64(), v["totals"]["entries"].as_u64()), (Some(first + 1), Some(0)));
        assert_eq!(v["ledger"]["tree_size"], 7);
        assert!(v["findings"]["detectors_ran"].as_bool().unwrap());
        assert!(Arc::ptr_eq(&empty, &c.report(first + 1, &deployment).unwrap()));
        assert!(Arc::ptr_eq(&c.reports[&first], &c.report(first, &deployment).unwrap()));
        // Before the earliest entry's year, or after the current one: 404 naming the span.
        for year in [first - 1, 1970, now + 1, 9999] {
            let p = c.report(year, &deployment).err().unwrap();
            assert_eq!((p.status.as_u16(), p.kind), (404, "year-not-in-ledger"), "{year}");
            assert_eq!((p.extra["first_year"].as_i64(), p.extra["last_year"].as_i64()), (Some(first), Some(now)));
            assert!(p.detail.contains(&format!("{first} to {now}")), "{}", p.detail);
        }
        // An empty ledger holds the current year only; an entry dated after it extends the span.
        let c = counted(&[]);
        assert!(c.report(now, &deployment).is_ok());
        assert!(c.report(now - 1, &deployment).err().unwrap().detail.contains(&format!("only {now}")));
        let c = counted(&[now + 2]);
        assert!(c.report(now + 1, &deployment).is_ok() && c.report(now - 1, &deployment).is_err());
    }

    #[test]
    fn year_parameter() {
        assert_eq!(year_of(Some("year=2025")).unwrap(), 2025);
        assert!(year_of(None).unwrap() >= 2025);
        for bad in ["year=25", "year=abc", "year=", "year=10000", "year=+202", "yr=2025", "year=2025&x=1", "lang=es"] {
            let p = year_of(Some(bad)).unwrap_err();
            assert_eq!(p.status, 400, "{bad}");
        }
        // The page also takes `lang` (whatever its value); the CSV takes `table`.
        for ok in ["year=2025&lang=es", "lang=xx&year=2025", "year=2025&lang="] {
            assert_eq!(query_of(Some(ok), Also::Lang).unwrap().0, 2025, "{ok}");
        }
        assert_eq!(query_of(Some("year=2025&lang=es"), Also::Table).unwrap_err().status, 400);
        assert_eq!(query_of(Some("year=2025&table=totals"), Also::Lang).unwrap_err().status, 400);
    }
}
