//! The public transparency page: `GET /transparency` (HTML) and `GET /v1/transparency` (JSON),
//! `?year=YYYY` (default: the current UTC year). No token: it is public, and holds aggregates only.
//!
//! The numbers are [`oversight::transparency::Report`]'s, computed the way an outside auditor
//! computes them: from the hub's published ledger files, verified against the signed checkpoint
//! before any entry is counted. So the page shows what `fusionguard report transparency` shows
//! for the same checkpoint, and entries newer than the latest checkpoint (at most one checkpoint
//! interval old) are not yet on it. A report is cached per year until the next checkpoint: a new
//! checkpoint costs one pass over the ledger, however many readers ask.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ledger::tiles::{TileFetcher, VerifyError};
use ledger::Ledger;
use oversight::ledger::LedgerReader;
use oversight::transparency::{LedgerInfo, Report, ReportError, MAX_YEAR, MIN_YEAR};

use crate::problem::Problem;
use crate::server::AppState;

/// Reports kept per year, keyed by the checkpoint size they were computed at.
struct Cache {
    app: Arc<AppState>,
    reports: Mutex<HashMap<i64, (u64, Arc<Report>)>>,
    /// Held while a report is computed, so that concurrent readers wait for it instead of
    /// computing it again.
    computing: Mutex<()>,
}

type St = State<Arc<Cache>>;

/// The routes, with their own state around the hub's (merged into the hub's router).
pub(crate) fn routes<S>(app: Arc<AppState>) -> Router<S> {
    let cache = Arc::new(Cache { app, reports: Mutex::new(HashMap::new()), computing: Mutex::new(()) });
    Router::new().route("/transparency", get(page)).route("/v1/transparency", get(json)).with_state(cache)
}

/// Reads the ledger's public files through the ledger itself (whatever its storage backend).
struct Published(Arc<Ledger>);

impl TileFetcher for Published {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        self.0.read_public(path).map_err(|e| VerifyError::Fetch { path: path.to_string(), why: e.to_string() })
    }
}

/// The `year` query parameter; a 400 names what is wrong.
fn year_of(query: Option<&str>) -> Result<i64, Problem> {
    let mut year = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != "year" {
            return Err(Problem::bad_field(k, format!("unknown query parameter {k:?}; the only one is `year`")));
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
    Ok(year.unwrap_or_else(|| {
        let days = i64::try_from(crate::tokens::now() / 86_400).unwrap_or(0);
        oversight::time::civil_from_days(days).0
    }))
}

impl Cache {
    /// The report of `year` at the latest checkpoint (blocking: reads the whole ledger when the
    /// checkpoint moved since the last report of that year).
    fn report(&self, year: i64) -> Result<Arc<Report>, Problem> {
        let unavailable = || Problem::ledger_unavailable("the ledger is recovering from a fault; retry later");
        let ledger = self.app.ledger.get().ok_or_else(unavailable)?;
        let size = ledger.published().map_or(0, |p| p.checkpoint.size);
        if let Some(r) = self.cached(year, size) {
            return Ok(r);
        }
        let _one_at_a_time = self.computing.lock().map_err(|_| unavailable())?;
        if let Some(r) = self.cached(year, size) {
            return Ok(r);
        }
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
        let at = info.tree_size;
        let report =
            Report::build_audited(year, info, self.app.engine.deployment(), reader.entries()).map_err(|e| match e {
                ReportError::Year(y) => {
                    Problem::bad_field("year", format!("year {y} is outside {MIN_YEAR}..={MAX_YEAR}"))
                }
                ReportError::Read(e) => failed(e.to_string()),
            })?;
        let report = Arc::new(report);
        if let Ok(mut reports) = self.reports.lock() {
            reports.insert(year, (at, Arc::clone(&report)));
        }
        Ok(report)
    }

    fn cached(&self, year: i64, size: u64) -> Option<Arc<Report>> {
        let reports = self.reports.lock().ok()?;
        reports.get(&year).filter(|(at, _)| *at >= size).map(|(_, r)| Arc::clone(r))
    }
}

async fn compute(cache: Arc<Cache>, query: Option<String>) -> Result<Arc<Report>, Problem> {
    let year = year_of(query.as_deref())?;
    tokio::task::spawn_blocking(move || cache.report(year))
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
}

async fn json(State(cache): St, RawQuery(query): RawQuery) -> Response {
    match compute(cache, query).await {
        Ok(report) => {
            let mut r = (StatusCode::OK, Json(&*report)).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=5"));
            r
        }
        Err(p) => p.into_response(),
    }
}

async fn page(State(cache): St, RawQuery(query): RawQuery) -> Response {
    match compute(cache, query).await {
        Ok(report) => {
            let mut r = (StatusCode::OK, report.html()).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=5"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"),
            );
            r
        }
        Err(p) => p.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::year_of;

    #[test]
    fn year_parameter() {
        assert_eq!(year_of(Some("year=2025")).unwrap(), 2025);
        assert!(year_of(None).unwrap() >= 2025);
        for bad in ["year=25", "year=abc", "year=", "year=10000", "year=+202", "yr=2025", "year=2025&x=1"] {
            let p = year_of(Some(bad)).unwrap_err();
            assert_eq!(p.status, 400, "{bad}");
        }
    }
}
