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
//! **Cost.** A count is one pass over the verified ledger that builds the report of every year at
//! once ([`Report::build_all_audited`]), so no year costs a pass of its own. At most one count runs
//! at a time, on one blocking thread that owns the count's lock; requests never wait on a blocking
//! thread. When the checkpoint has moved since the last count, requests get the last count's
//! reports at once (stale while revalidate: the page names the checkpoint it was counted at) while
//! one count of the new checkpoint runs; only before the first count do requests wait for it, and
//! then asynchronously.
//!
//! **Years.** The ledger holds the years from the one its earliest entry is dated in (the current
//! year when it has none) to the current year (or the latest entry's, if later). A year in that
//! span with no entry gets an empty report; any other year is 404 (`year-not-in-ledger`, naming
//! the span in `first_year` and `last_year`), so no request costs more than a lookup.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ledger::tiles::{TileFetcher, VerifyError};
use ledger::Ledger;
use maud::html;
use oversight::ledger::LedgerReader;
use oversight::transparency::{LedgerInfo, Report, ReportLang, MAX_YEAR, MIN_YEAR};
use tokio::sync::OwnedMutexGuard;

use crate::api::AppState;
use crate::problem::Problem;
use crate::web::Lang;

/// The reports of every year, counted at one checkpoint.
struct Counted {
    /// The checkpoint they were counted at.
    info: LedgerInfo,
    /// The report of each year an entry is dated in.
    reports: BTreeMap<i64, Arc<Year>>,
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
    let report_lang = match lang {
        Lang::En => ReportLang::En,
        Lang::Es => ReportLang::Es,
    };
    let year = report.year;
    let page = report.html_in(report_lang, Some(&format!("/transparency.csv?year={year}")));
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

/// The latest count, and the lock of the one count that may run.
pub(crate) struct Cache {
    app: Arc<AppState>,
    /// The latest count (the lock is only held to read or replace it).
    latest: Mutex<Option<Arc<Counted>>>,
    /// Held while a count runs, by the blocking task that runs it: one count at a time. Requests
    /// that have no count to serve wait for it here, asynchronously.
    counting: Arc<tokio::sync::Mutex<()>>,
}

type St = State<Arc<Cache>>;

impl Cache {
    /// The count of the hub's ledger, shared by the transparency report and the portal's pages.
    pub(crate) fn new(app: Arc<AppState>) -> Arc<Self> {
        Arc::new(Cache { app, latest: Mutex::new(None), counting: Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// The report of `year` at the latest count (counting first if none was made yet) and the
    /// size of the checkpoint it was counted at.
    pub(crate) async fn year(self: &Arc<Self>, year: i64) -> Result<(Arc<Year>, u64), Problem> {
        let counted = self.counted().await?;
        Ok((counted.report(year, self.app.engine.deployment())?, counted.info.tree_size))
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

/// Reads the ledger's public files through the ledger itself (whatever its storage backend).
pub(crate) struct Published(pub(crate) Arc<Ledger>);

impl TileFetcher for Published {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        self.0.read_public(path).map_err(|e| VerifyError::Fetch { path: path.to_string(), why: e.to_string() })
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
    fn latest(&self) -> Option<Arc<Counted>> {
        self.latest.lock().ok()?.clone()
    }

    /// The latest count: at once when there is one (a count of the newer checkpoint starts in
    /// the background if it moved and none runs), else once the first count is done.
    async fn counted(self: &Arc<Self>) -> Result<Arc<Counted>, Problem> {
        let size = self.app.ledger.get().ok_or_else(unavailable)?.published().map_or(0, |p| p.checkpoint.size);
        if let Some(counted) = self.latest() {
            if counted.info.tree_size < size {
                if let Ok(one_at_a_time) = Arc::clone(&self.counting).try_lock_owned() {
                    drop(self.count(one_at_a_time));
                }
            }
            return Ok(counted);
        }
        let one_at_a_time = Arc::clone(&self.counting).lock_owned().await;
        if let Some(counted) = self.latest() {
            return Ok(counted);
        }
        self.count(one_at_a_time)
            .await
            .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
    }

    /// Counts every year at the latest checkpoint on a blocking thread, which holds
    /// `one_at_a_time` until it is done (so a request that goes away cannot start a second
    /// count), and keeps the count.
    fn count(
        self: &Arc<Self>,
        one_at_a_time: OwnedMutexGuard<()>,
    ) -> tokio::task::JoinHandle<Result<Arc<Counted>, Problem>> {
        let cache = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _one_at_a_time = one_at_a_time;
            let counted = cache.count_now().map(Arc::new).inspect_err(|p| eprintln!("transparency: {}", p.detail))?;
            if let Ok(mut latest) = cache.latest.lock() {
                if latest.as_ref().is_none_or(|l| l.info.tree_size <= counted.info.tree_size) {
                    *latest = Some(Arc::clone(&counted));
                }
            }
            Ok(counted)
        })
    }

    /// One pass over the verified ledger at its latest checkpoint (blocking).
    fn count_now(&self) -> Result<Counted, Problem> {
        let ledger = self.app.ledger.get().ok_or_else(unavailable)?;
        let failed = |why: String| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ledger-unverifiable",
                format!("the hub's own ledger does not verify: {why}"),
            )
        };
        let reader = LedgerReader::open(Box::new(Published(ledger)), "the hub's ledger".into(), &self.app.vkey)
            .map_err(|e| failed(e.to_string()))?;
        let info = LedgerInfo::of(&reader);
        let reports = Report::build_all_audited(info.clone(), self.app.engine.deployment(), reader.entries())
            .map_err(|e| failed(e.to_string()))?;
        let reports = reports.into_iter().map(|(y, r)| (y, Arc::new(Year::new(r)))).collect();
        Ok(Counted { info, reports, empty: Mutex::new(BTreeMap::new()) })
    }
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
