//! Errors as RFC 9457 problem details (`application/problem+json`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// A problem detail response.
#[derive(Debug, Clone)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Short machine-readable kind: the last part of the `type` URI.
    pub kind: &'static str,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// Extension members (e.g. `field`, `line`, `column`; `retry_after`, also sent as the
    /// `Retry-After` header, which 503 answers get as 1 without it).
    pub extra: Map<String, Value>,
}

/// Base of the `type` URIs (documented in the OpenAPI document).
pub const TYPE_BASE: &str = "urn:fusionguard:problem:";

impl Problem {
    /// A problem with no extension members.
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self { status, kind, detail: detail.into(), extra: Map::new() }
    }

    /// Sets `Retry-After` (seconds), also given as the `retry_after` member.
    pub fn retry_after(self, seconds: u64) -> Self {
        self.with("retry_after", seconds)
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// 400 naming the field at fault.
    pub fn bad_field(field: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed-request", detail).with("field", field)
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 503: the ledger cannot record, so nothing is released.
    pub fn ledger_unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "ledger-unavailable", detail)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut v = json!({
            "type": format!("{TYPE_BASE}{}", self.kind),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Some(obj) = v.as_object_mut() {
            for (k, x) in &self.extra {
                obj.insert(k.clone(), x.clone());
            }
        }
        v
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body().to_string()).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        match self.extra.get("retry_after").and_then(Value::as_u64) {
            Some(s) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            None if self.status == StatusCode::SERVICE_UNAVAILABLE => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            None => {}
        }
        r
    }
}
