//! The hub's one router: the API (`api`), the public portal and the transparency report
//! (`portal`, `transparency`) and the console (`console`) on one port, behind the same body limit,
//! metrics and fallbacks.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, Request as HttpRequest, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::api::{AppState, MAX_BODY};
use crate::problem::Problem;

/// Every route of the hub: the API's, the pages', the assets.
pub fn router(state: Arc<AppState>) -> Router {
    let cache = crate::transparency::Cache::new(Arc::clone(&state));
    crate::api::routes()
        .merge(crate::transparency::routes(Arc::clone(&cache)))
        .merge(crate::portal::routes(Arc::clone(&state), Arc::clone(&cache)))
        .merge(crate::console::routes(Arc::clone(&state), cache))
        // Both read the body, so that the connection stays usable for the client's next request.
        .fallback(|_body: Bytes| async { Problem::not_found("no such endpoint (see /openapi.json)") })
        .method_not_allowed_fallback(|_body: Bytes| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this endpoint does not take that method (see /openapi.json)",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), track))
        .with_state(state)
}

fn route_of(path: &str) -> usize {
    if path.starts_with("/v1/requests") {
        0
    } else if path.starts_with("/v1/reviews") {
        1
    } else if path.starts_with("/ledger") || path.starts_with("/v1/ledger") {
        2
    } else if path == "/healthz" {
        3
    } else {
        4
    }
}

async fn track(State(st): State<Arc<AppState>>, req: HttpRequest<Body>, next: Next) -> Response {
    let route = route_of(req.uri().path());
    let start = Instant::now();
    let mut resp = next.run(req).await;
    // The body limit's own answer is plain text: every error is a problem detail.
    // (A console page that says so itself, in HTML, is left as it is.)
    let is_answer = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/problem+json" || v.as_bytes().starts_with(b"text/html"));
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_answer {
        resp = Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the request body is over {MAX_BODY} bytes, the most the hub accepts"),
        )
        .into_response();
    }
    st.metrics.record(route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}
