//! The HTTP API: routes, authentication, intake, enforcement, receipts.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use model::{vocab, Decision, Outcome, Request};
use policy::Engine;
use serde_json::{json, Value};

use crate::keys::SubjectKey;
use crate::ledger_slot::{AppendError, LedgerSlot};
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::reviews::{Review, ReviewStatus, UnstoredVerdicts, Verdict};
use crate::sources::{Connectors, Record};
use crate::store::Store;
use crate::tls::ClientCert;
use crate::tokens::{now, TokenRecord, TokenRefusal, TokenStore, SUPERVISOR};
use crate::{duties, enforce, entry, HubError};

/// Largest request body accepted (bytes).
pub const MAX_BODY: usize = 64 * 1024;
/// Longest originator chain accepted.
pub const MAX_CHAIN: usize = 16;

/// Everything a request handler needs.
pub struct AppState {
    pub(crate) engine: Engine,
    pub(crate) tokens: TokenStore,
    pub(crate) key: SubjectKey,
    pub(crate) connectors: Connectors,
    pub(crate) ledger: Arc<LedgerSlot>,
    /// Tokens, reviews, notices owed and console requests: files or PostgreSQL.
    pub(crate) store: Arc<dyn Store>,
    /// Verdicts in the ledger that the review queue could not store yet: retried every second
    /// ([`AppState::store_logged_verdicts`]); meanwhile no other verdict is accepted.
    pub(crate) unstored: UnstoredVerdicts,
    pub(crate) reports: crate::duties::ReportCounts,
    pub(crate) metrics: Metrics,
    pub(crate) vkey: String,
    pub(crate) origin: String,
    /// Rates per token and agency, held-review quotas.
    pub(crate) limiter: crate::limits::Limiter,
    /// The certifications the law library asks for (`certify:WHAT`): the only ones a request may carry.
    pub(crate) certifications: Vec<String>,
    /// True when serving TLS: the console's cookies are then `Secure`.
    pub(crate) secure_cookies: std::sync::atomic::AtomicBool,
    /// The largest file an auditor may upload (bytes).
    pub(crate) upload_limit: u64,
    /// The peer hubs and this hub's part in their federation, if it is in one.
    pub(crate) federation: Option<crate::federation::Federation>,
}

type St = State<Arc<AppState>>;

/// Entry bundle `tile` as published under a checkpoint of `size` entries: the partial bundle, or
/// the full one that replaced it. `Err`: it cannot be read or is not published.
pub(crate) fn published_bundle(ledger: &ledger::Ledger, tile: u64, size: u64) -> Result<Vec<u8>, String> {
    const W: u64 = ledger::tiles::TILE_WIDTH;
    let width = size.saturating_sub(tile * W).min(W);
    let read = |w: u64| ledger.read_public(&ledger::tiles::entries_path(tile, w)).map_err(|e| e.to_string());
    match read(width)? {
        Some(b) => Ok(b),
        None if width < W => read(W)?.ok_or_else(|| "the entry bundle is not published".into()),
        None => Err("the entry bundle is not published".into()),
    }
}

/// Why a permit's data was not released.
enum Unreleased {
    /// The source's database cannot answer now (transient: 503).
    SourceDown(String),
    /// No connector serves the source on this hub (503 until one does).
    NoConnector,
    /// The hub cannot serve it (an obligation that cannot be applied): the answer says so in
    /// `data_error`.
    Refused(String),
}

/// The client certificate of the connection, when served over mutual TLS.
type Cert = Option<Extension<ClientCert>>;

/// The API's routes (`/v1/`, the public ledger, health, metrics, OpenAPI): every endpoint a client
/// program uses, with bearer tokens or client certificates. [`crate::routes::router`] puts them
/// beside the pages.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/requests", post(post_request))
        .route("/v1/requests/{id}", get(get_request))
        .route("/v1/reviews", get(list_reviews))
        .route("/v1/reviews/{id}", post(decide_review))
        .route("/v1/notifications", get(list_notifications))
        .route("/v1/notifications/{id}", post(mark_notification_sent))
        .route("/v1/reports", get(reports))
        .route(crate::federation::REQUESTS_PATH, post(crate::federation::receive))
        .route("/witness/add-checkpoint", post(crate::federation::add_checkpoint))
        .route("/federation/witness", get(crate::federation::witness_view))
        .route("/v1/ledger/key", get(ledger_key))
        .route("/v1/ledger/proof/{index}", get(ledger_proof))
        .route("/ledger/checkpoint", get(ledger_checkpoint))
        .route("/ledger/tile/{*path}", get(ledger_tile))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

impl AppState {
    /// Stores the verdicts that were logged but that the review queue could not store at the
    /// time; those it now takes (or finds decided) are done, the others stay for the next try.
    pub(crate) fn store_logged_verdicts(&self) {
        for (id, verdict) in self.unstored.all() {
            let done = match self.store.decide(&id, verdict) {
                Ok(r) => {
                    self.metrics.reviews_decided.fetch_add(1, Ordering::Relaxed);
                    self.limiter.held_changed(&r.request.requester, false);
                    true
                }
                Err(HubError::Conflict(_) | HubError::NotFound(_)) => true,
                Err(_) => false,
            };
            if done {
                let _ = self.unstored.stored(&id);
            }
        }
    }

    /// The caller's identity: from the client certificate of a mutual-TLS connection, else from
    /// the bearer token. A token issued on another replica is looked up in the shared store.
    pub(crate) async fn authenticate(
        self: &Arc<Self>,
        headers: &HeaderMap,
        cert: Cert,
    ) -> Result<TokenRecord, Problem> {
        let record = self.identify(headers, cert).await?;
        self.limiter.admit(&record.id, &record.agency)?;
        Ok(record)
    }

    /// The caller's identity, before any limit is applied.
    async fn identify(self: &Arc<Self>, headers: &HeaderMap, cert: Cert) -> Result<TokenRecord, Problem> {
        if let Some(record) = self.cert_identity(cert.as_ref().map(|Extension(c)| c))? {
            return Ok(record);
        }
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(Problem::unauthorized("an Authorization: Bearer token is required"));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| Problem::unauthorized("the Authorization header must be `Bearer <token>`"))?;
        self.verify_token(token).await
    }

    /// The identity a verified client certificate (mutual TLS) names, if the connection has one;
    /// it takes precedence over a token. It is checked again on every request, so a certificate
    /// revoked or expired since the handshake stops working on open connections too.
    pub(crate) fn cert_identity(&self, cert: Option<&ClientCert>) -> Result<Option<TokenRecord>, Problem> {
        let Some(cert) = cert else { return Ok(None) };
        let Some(id) = &cert.identity else { return Ok(None) };
        cert.still_valid().map_err(Problem::unauthorized)?;
        if self.engine.deployment().agency(&id.agency).is_none() {
            return Err(Problem::unauthorized(format!(
                "the client certificate names agency {:?} (subject O), which is not an agency of this deployment",
                id.agency
            )));
        }
        Ok(Some(id.record()))
    }

    /// The record of a bearer token (expired, revoked or unknown: 401). A token issued on another
    /// replica is looked up in the shared store.
    pub(crate) async fn verify_token(self: &Arc<Self>, token: &str) -> Result<TokenRecord, Problem> {
        let verdict = match self.tokens.verify(token) {
            Err(TokenRefusal::Invalid) if self.tokens.should_fetch(token) => {
                let (st, t) = (Arc::clone(self), token.to_string());
                let _ = tokio::task::spawn_blocking(move || st.tokens.fetch(&t)).await;
                self.tokens.verify(token)
            }
            v => v,
        };
        verdict.map_err(|r| Problem::unauthorized(r.describe()))
    }

    /// What the checkpoint would decide for `request` from `token`'s user, today, without logging
    /// anything or reading any source (the console's "Preview decision"): the same checks as a
    /// request (fields, certifications, the requester is the token's user), then the decision with
    /// missing certifications turned into a deny.
    pub(crate) fn preview_as(&self, token: &TokenRecord, body: &[u8]) -> Result<Decision, Problem> {
        let request = parse_request(body).and_then(|r| self.check_certifications(r))?;
        if token.agency != request.requester.agency || token.user != request.requester.id {
            return Err(Problem::forbidden("a preview is for requests in your own name"));
        }
        let mut decision = self.engine.decide_on(&request, model::Date::from_unix(now() as i64));
        duties::require_certifications(&mut decision, &request);
        Ok(decision)
    }

    /// Runs blocking work on the hub's state (review queue, database) off the async workers.
    pub(crate) async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&AppState) -> Result<T, HubError> + Send + 'static,
    ) -> Result<T, HubError> {
        let st = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&st)).await.map_err(|e| HubError::Io(e.to_string()))?
    }

    /// The entry at `index` as published under a checkpoint of `size` entries, read from its entry
    /// bundle (the partial one, or the full one that replaced it). `Err`: no bundle can be read;
    /// `Ok(None)`: the bundle holds no such entry (or is not a bundle).
    pub(crate) fn published_entry(&self, index: u64, size: u64) -> Result<Option<Vec<u8>>, String> {
        const W: u64 = ledger::tiles::TILE_WIDTH;
        if index >= size {
            return Ok(None);
        }
        let ledger = self.ledger.get().ok_or("the ledger is recovering from a fault")?;
        let bundle = published_bundle(&ledger, index / W, size)?;
        Ok(ledger::tiles::decode_bundle(&bundle).ok().and_then(|e| e.get((index % W) as usize).map(|e| e.to_vec())))
    }

    /// The ledger receipt of entry `index`: with an inclusion proof once a checkpoint covers it.
    pub(crate) fn receipt(&self, index: u64) -> Value {
        let mut r = json!({"index": index, "origin": self.origin, "proof_url": format!("/v1/ledger/proof/{index}")});
        if let Some(l) = self.ledger.get() {
            if let Some(p) = l.published() {
                if index < p.checkpoint.size {
                    if let Ok(proof) = l.inclusion_proof(index, p.checkpoint.size) {
                        r["checkpoint"] = Value::String(p.note.clone());
                        r["tree_size"] = json!(p.checkpoint.size);
                        r["inclusion_proof"] = json!(proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>());
                    }
                }
            }
        }
        r
    }

    pub(crate) async fn log(&self, entry: &model::entry::Entry) -> Result<u64, Problem> {
        self.log_bytes(entry.to_json_vec()).await
    }

    /// Appends an entry's bytes and waits until they are durable; the problem says why not.
    pub(crate) async fn log_bytes(&self, bytes: Vec<u8>) -> Result<u64, Problem> {
        self.ledger.append(bytes).await.map_err(append_problem)
    }

    /// [`AppState::release`], off the async workers when the source is a network database.
    async fn release_async(
        self: &Arc<Self>,
        request: &Request,
        obligations: &[String],
    ) -> Result<Vec<Record>, Unreleased> {
        if !self.connectors.blocks(&request.source) {
            return self.release(request, obligations);
        }
        let (r, o) = (request.clone(), obligations.to_vec());
        self.blocking(move |st| Ok(st.release(&r, &o)))
            .await
            .unwrap_or_else(|e| Err(Unreleased::SourceDown(e.to_string())))
    }

    /// Fetches and enforces: the records about the subject, obligations applied.
    fn release(&self, request: &Request, obligations: &[String]) -> Result<Vec<Record>, Unreleased> {
        let source =
            self.engine.deployment().source(&request.source).ok_or(Unreleased::Refused("unknown source".into()))?;
        let records = self
            .connectors
            .fetch(source, &request.subject)
            .ok_or(Unreleased::NoConnector)?
            .map_err(Unreleased::SourceDown)?;
        let out = enforce::apply(obligations, request.fields.as_deref(), records)
            .map_err(|e| Unreleased::Refused(e.to_string()))?;
        Ok(out)
    }

    /// Puts the released data, or why none was released, into `body` (a permit's answer); a
    /// source that cannot answer is a 503 that carries the receipt of the logged decision.
    pub(crate) async fn attach_data(
        self: &Arc<Self>,
        body: &mut Value,
        request: &Request,
        obligations: &[String],
        index: u64,
    ) -> Result<(), Problem> {
        match self.release_async(request, obligations).await {
            Ok(data) => {
                // A lookup that finds nothing says so: `found` is 0, not an error.
                body["found"] = json!(data.len());
                body["data"] = Value::Array(data.into_iter().map(Value::Object).collect());
            }
            Err(Unreleased::Refused(why)) => body["data_error"] = json!(why),
            Err(Unreleased::NoConnector) => {
                self.metrics.source_errors.fetch_add(1, Ordering::Relaxed);
                return Err(Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "source-unavailable",
                    format!(
                        "the decision is recorded at ledger index {index} but no connector serves source {:?} on this hub \
                         (no CSV file, and no table in the sources database); nothing was released",
                        request.source
                    ),
                )
                .with("ledger", self.receipt(index)));
            }
            Err(Unreleased::SourceDown(why)) => {
                self.metrics.source_errors.fetch_add(1, Ordering::Relaxed);
                return Err(unavailable(
                    "source-unavailable",
                    format!("the decision is recorded at ledger index {index} but source {:?} cannot answer now; nothing was released, retry later", request.source),
                    &why,
                )
                .with("ledger", self.receipt(index)));
            }
        }
        Ok(())
    }

    /// Puts a held request in the review queue for a supervisor of `owner`.
    pub(crate) async fn hold_review(
        self: &Arc<Self>,
        request: &Request,
        decision: &Decision,
        owner: &str,
        index: u64,
        time: u64,
    ) -> Result<(), Problem> {
        let requester = request.requester.clone();
        let review = Review {
            id: decision.decision_id.clone(),
            owner: owner.to_string(),
            request: request.clone(),
            decision: decision.clone(),
            ledger_index: index,
            created: time,
            verdict: None,
        };
        match self.blocking(move |st| st.store.hold(review)).await {
            Ok(()) => {
                self.limiter.held_changed(&requester, true);
                Ok(())
            }
            Err(e) => Err(unavailable(
                "review-queue-unavailable",
                format!("the decision is recorded at ledger index {index} but the review queue cannot store it"),
                &e,
            )),
        }
    }

    /// A request this hub permitted for a source that peer `peer` serves: forwarded, and the
    /// peer's answer, its data carrying this hub's obligations too, with every receipt.
    async fn forward_for_user(
        self: &Arc<Self>,
        peer: usize,
        request: &Request,
        decision: &Decision,
        token: &TokenRecord,
        owner: &str,
    ) -> Result<Value, Problem> {
        let f = self.forward(peer, request, decision, token, owner, None).await?;
        let mut body = f.answer;
        if let Some(Value::Array(items)) = body.get_mut("data") {
            let records: Vec<Record> =
                std::mem::take(items).into_iter().filter_map(|v| v.as_object().cloned()).collect();
            match enforce::apply(&decision.obligations, request.fields.as_deref(), records) {
                Ok(out) => {
                    body["found"] = json!(out.len());
                    body["data"] = Value::Array(out.into_iter().map(Value::Object).collect());
                }
                Err(e) => {
                    body["data"] = json!([]);
                    body["data_error"] = json!(e.to_string());
                }
            }
        }
        let link = &self.federation.as_ref().map(|f| &f.peers[peer].peer);
        body["local_decision"] = decision_json(decision);
        body["ledger"] = self.receipt(f.receipts[0].index);
        body["federation"] = json!({
            "peer": link.map(|p| p.name.as_str()),
            "origin": link.map(|p| p.origin.as_str()),
            "receipts": f.receipts,
        });
        self.metrics.decided(f.decision);
        Ok(body)
    }

    /// True when the store (review queue, tokens) is shared with other replicas (PostgreSQL).
    pub(crate) fn shared(&self) -> bool {
        self.store.shared()
    }

    /// Seconds an approval may be fetched after its verdict.
    pub(crate) fn approval_secs(&self) -> u64 {
        (self.limiter.limits().approval_hours * 3600.0).round() as u64
    }

    /// Refuses a certification the law library does not ask for (a 400 naming it): the ledger
    /// records certifications in clear, so they come from that closed vocabulary.
    fn check_certifications(&self, request: Request) -> Result<Request, Problem> {
        for (i, c) in request.certifications.iter().enumerate() {
            if !self.certifications.contains(c) {
                return Err(Problem::bad_field(
                    &format!("certifications[{i}]"),
                    format!(
                        "certification {c:?} is not one the law library asks for; known: {}",
                        self.certifications.join(", ")
                    ),
                ));
            }
        }
        Ok(request)
    }

    /// Periodic upkeep: decided reviews leave memory, and the held-review counts are re-read
    /// from a shared queue (`recount`).
    pub(crate) fn upkeep(&self, recount: bool) {
        self.store.evict_decided(now(), self.approval_secs());
        if recount {
            if let Ok(pending) = self.store.all_pending_reviews() {
                self.limiter.recount_held(&pending);
            }
        }
    }
}

pub(crate) fn decision_json(d: &Decision) -> Value {
    let mut v = json!({
        "decision_id": d.decision_id,
        "decision": d.decision.as_str(),
        "reasons": d.reasons,
        "obligations": d.obligations,
        "policy_digest": d.policy_digest,
    });
    if !d.justification_signals.is_empty() {
        v["justification_signals"] = json!(d.justification_signals);
    }
    v
}

/// The name inside backticks in a serde message ("missing field `source`").
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The one form of a subject that is looked up and hashed ([`model::canon::subject`]); a
/// `face_image` value is an opaque reference (the hub matches no images), kept as sent, trimmed.
fn canonical_subject(kind: &str, value: &str) -> String {
    if kind == "face_image" {
        value.trim().to_string()
    } else {
        model::canon::subject(kind, value)
    }
}

/// Parses and checks a request body; a 400 names the field at fault. The subject comes back in
/// its canonical form ([`model::canon::subject`]), the one both the source lookup and the
/// ledger's keyed hash see.
pub fn parse_request(body: &[u8]) -> Result<Request, Problem> {
    let mut request = match Request::from_json_slice(body) {
        Ok(r) => r,
        Err(e) => {
            let parsed = serde_json::from_slice::<Value>(body);
            if matches!(&parsed, Ok(v) if !v.is_object()) {
                return Err(Problem::bad_field("(body)", "the body must be a JSON object (a request)"));
            }
            let syntax = parsed.is_err();
            let path = {
                let mut de = serde_json::Deserializer::from_slice(body);
                match serde_path_to_error::deserialize::<_, Request>(&mut de) {
                    Err(pe) => pe.path().to_string(),
                    Ok(_) => ".".to_string(),
                }
            };
            let field = if syntax {
                "(body)".to_string()
            } else if e.message.starts_with("missing field") || e.message.starts_with("unknown field") {
                let name = backticked(&e.message).unwrap_or("");
                if path == "." {
                    name.to_string()
                } else if path.ends_with(name) {
                    path
                } else {
                    format!("{path}.{name}")
                }
            } else if path == "." {
                "(body)".to_string()
            } else {
                path
            };
            return Err(Problem::bad_field(&field, e.to_string()).with("line", e.line).with("column", e.column));
        }
    };
    let nonempty = [
        ("requester.id", &request.requester.id),
        ("requester.agency", &request.requester.agency),
        ("source", &request.source),
        ("subject.kind", &request.subject.kind),
        ("subject.value", &request.subject.value),
    ];
    for (field, v) in nonempty {
        if v.trim().is_empty() {
            return Err(Problem::bad_field(field, format!("`{field}` must not be empty")));
        }
    }
    let closed = [
        ("action", &request.action, vocab::ACTIONS),
        ("purpose", &request.purpose, vocab::PURPOSES),
        ("legal_basis.kind", &request.legal_basis.kind, vocab::LEGAL_BASIS_KINDS),
        ("subject.kind", &request.subject.kind, vocab::SUBJECT_KINDS),
    ];
    for (field, v, known) in closed {
        if !vocab::is_known(known, v) {
            return Err(Problem::bad_field(
                field,
                format!("`{field}` is {v:?}; expected one of: {}", known.join(", ")),
            ));
        }
    }
    if request.on_behalf_of.len() > MAX_CHAIN {
        return Err(Problem::bad_field("on_behalf_of", format!("at most {MAX_CHAIN} links")));
    }
    for (i, l) in request.on_behalf_of.iter().enumerate() {
        if l.id.trim().is_empty() || l.agency.trim().is_empty() {
            return Err(Problem::bad_field(&format!("on_behalf_of[{i}]"), "each link needs an `id` and an `agency`"));
        }
    }
    crate::limits::check_caps(&request)?;
    request.subject.value = canonical_subject(&request.subject.kind, &request.subject.value);
    if request.subject.value.is_empty() {
        return Err(Problem::bad_field("subject.value", "`subject.value` has nothing to look up once canonicalised"));
    }
    Ok(request)
}

async fn post_request(State(st): St, headers: HeaderMap, cert: Cert, body: Bytes) -> Response {
    match st.authenticate(&headers, cert).await {
        Ok(token) => post_request_as(st, token, body).await,
        Err(p) => p.into_response(),
    }
}

/// `post_request` for an identity already authenticated (and admitted by the limiter): the API's handler
/// and the console both call it, so a page does exactly what the same token could do.
pub(crate) async fn post_request_as(st: Arc<AppState>, token: TokenRecord, body: Bytes) -> Response {
    if token.role == crate::console::AUDITOR {
        return Problem::forbidden("an auditor reads the ledger and public records; an auditor does not request data")
            .into_response();
    }
    let request = match parse_request(&body).and_then(|r| st.check_certifications(r)) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let deployment = st.engine.deployment();
    let source = deployment.source(&request.source);
    if let Some(source) = source {
        let kinds = source.subject_kinds();
        if !kinds.contains(&request.subject.kind.as_str()) {
            return Problem::bad_field(
                "subject.kind",
                format!(
                    "source {:?} is looked up by {}; `subject.kind` is {:?}",
                    source.id,
                    kinds.join(", "),
                    request.subject.kind
                ),
            )
            .with("accepted_kinds", kinds)
            .into_response();
        }
    }
    if token.agency != request.requester.agency || token.user != request.requester.id {
        let why = format!(
            "the token is for user {:?} of agency {:?}, the request names user {:?} of agency {:?}",
            token.user, token.agency, request.requester.id, request.requester.agency
        );
        st.metrics.refused.fetch_add(1, Ordering::Relaxed);
        let e = entry::refused(&st.key, deployment, &request, &token, now());
        return match st.log(&e).await {
            Ok(index) => Problem::forbidden(format!("{why}; this attempt is recorded in the ledger"))
                .with("ledger", st.receipt(index))
                .into_response(),
            Err(p) => p.into_response(),
        };
    }
    // The law in force on the day the request arrives decides it (UTC).
    let mut decision = st.engine.decide_on(&request, model::Date::from_unix(now() as i64));
    let Some(source) = source else {
        // Bad input, as `fusionguard decide` says too; the attempt (the engine's deny naming the
        // unknown source, whose id the entry holds as a keyed hash) is in the ledger.
        let e = entry::decision(&st.key, deployment, &request, &decision, &token, "", now());
        return match st.log(&e).await {
            Ok(index) => Problem::bad_field(
                "source",
                format!(
                    "unknown source {:?}: this hub serves the sources listed in /openapi.json (x-subject-kinds); this attempt is recorded in the ledger",
                    request.source
                ),
            )
            .with("ledger", st.receipt(index))
            .into_response(),
            Err(p) => p.into_response(),
        };
    };
    // A law that releases only against a certification: without it, a deny naming it.
    let missing = duties::require_certifications(&mut decision, &request);
    if decision.decision == Outcome::Review {
        // Nothing is logged for a request refused for its held-review quota: it was not decided.
        if let Err(p) = st.limiter.check_held(&request.requester) {
            return p.into_response();
        }
    }
    let owner = source.owner.clone();
    // A source a peer hub serves: what this hub's law permits goes to the peer, which decides
    // by its own law; what it denies or holds stays here.
    let peer = st.federation.as_ref().and_then(|f| f.peer_for_source(&request.source));
    if let (Some(peer), Outcome::Permit) = (peer, decision.decision) {
        return match st.forward_for_user(peer, &request, &decision, &token, &owner).await {
            Ok(body) => (StatusCode::OK, Json(body)).into_response(),
            Err(p) => p.into_response(),
        };
    }
    let time = now();
    let e = entry::decision(&st.key, deployment, &request, &decision, &token, &owner, time);
    // Log before release: nothing below runs unless the decision is durable.
    let index = match st.log(&e).await {
        Ok(i) => i,
        Err(p) => return p.into_response(),
    };
    // The notice owed to the person is durable in the owner's outbox before anything is released.
    let notice = duties::Notification::owed(&request, &decision, &owner, index, time);
    let notice_json = notice.as_ref().map(
        |n| json!({"id": n.id, "owner": n.owner, "due": n.due, "obligation": n.obligation, "asked_by": n.asked_by}),
    );
    if let Some(n) = notice {
        if let Err(e) = st.blocking(move |st| st.store.queue_notice(n)).await {
            return unavailable(
                "notification-outbox-unavailable",
                format!("the decision is recorded at ledger index {index} but the notice it owes cannot be stored; nothing was released"),
                &e,
            )
            .into_response();
        }
    }
    st.metrics.decided(decision.decision);
    let mut body = decision_json(&decision);
    body["ledger"] = st.receipt(index);
    if !missing.is_empty() {
        body["missing_certifications"] = json!(missing);
    }
    if let Some(n) = notice_json {
        body["notification"] = n;
    }
    match decision.decision {
        Outcome::Permit => {
            if let Err(p) = st.attach_data(&mut body, &request, &decision.obligations, index).await {
                return p.into_response();
            }
            if request.action == "biometric_search" {
                body["note"] = json!("this hub does no biometric matching; records are matched by identifier only");
            }
        }
        Outcome::Review => {
            if let Err(p) = st.hold_review(&request, &decision, &owner, index, time).await {
                return p.into_response();
            }
            body["review"] = json!({
                "id": decision.decision_id,
                "status": "pending",
                "url": format!("/v1/requests/{}", decision.decision_id),
            });
        }
        Outcome::Deny => {}
    }
    (StatusCode::OK, Json(body)).into_response()
}

/// A 503 of kind `kind` saying `detail`; the error itself, which may name files of the data
/// directory, goes to standard error only (answers to clients never carry paths).
fn unavailable(kind: &'static str, detail: impl Into<String>, error: &dyn std::fmt::Display) -> Problem {
    eprintln!("{kind}: {error}");
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, kind, detail)
}

fn queue_unavailable(e: &HubError) -> Problem {
    unavailable("review-queue-unavailable", "the review queue cannot be read right now; retry later", e)
}

fn review_json(r: &Review) -> Value {
    json!({
        "id": r.id,
        "status": r.status(),
        "owner": r.owner,
        "request": r.request,
        "decision": decision_json(&r.decision),
        "ledger_index": r.ledger_index,
        "created": r.created,
        "created_at": rfc3339(r.created),
        "verdict": r.verdict.as_ref().map(|v| json!({
            "status": v.status, "by": v.by, "agency": v.agency, "reason": v.reason,
            "ledger_index": v.ledger_index, "time": v.time, "time_at": rfc3339(v.time),
        })),
    })
}

/// Unix seconds as RFC 3339 (UTC), beside the number in answers people read.
pub(crate) fn rfc3339(secs: u64) -> String {
    oversight::time::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX))
}

async fn get_request(State(st): St, headers: HeaderMap, cert: Cert, Path(id): Path<String>) -> Response {
    match st.authenticate(&headers, cert).await {
        Ok(token) => get_request_as(st, token, id).await,
        Err(p) => p.into_response(),
    }
}

/// `get_request` for an identity already authenticated (and admitted by the limiter): the API's handler
/// and the console both call it, so a page does exactly what the same token could do.
pub(crate) async fn get_request_as(st: Arc<AppState>, token: TokenRecord, id: String) -> Response {
    let id2 = id.clone();
    let review = match st.blocking(move |st| st.store.review(&id2)).await {
        Ok(Some(r)) => r,
        Ok(None) => return settled_request(&st, &token, &id),
        Err(e) => return queue_unavailable(&e).into_response(),
    };
    let requester = &review.request.requester;
    let is_requester = match viewer(&token, &requester.agency, &requester.id, &review.owner) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let mut body = review_json(&review);
    let Some(v) = review.verdict.as_ref().filter(|v| is_requester && v.status == ReviewStatus::Approved) else {
        return (StatusCode::OK, Json(body)).into_response();
    };
    let time = now();
    let expires = v.time.saturating_add(st.approval_secs());
    body["approval_expires"] = json!(expires);
    body["approval_expires_at"] = json!(rfc3339(expires));
    if time >= expires {
        return approval_expired(&id, expires, v.ledger_index);
    }
    // Every release is in the ledger: each fetch of the approved data is logged before it leaves.
    let index = match st.log(&entry::release(&id, review.ledger_index, v.ledger_index, &token, time)).await {
        Ok(i) => i,
        Err(p) => return p.into_response(),
    };
    body["ledger"] = st.receipt(index);
    if let Err(p) = st.attach_data(&mut body, &review.request, &review.decision.obligations, index).await {
        return p.into_response();
    }
    let mut r = (StatusCode::OK, Json(body)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The status of a held request, for its requester or a supervisor of its owner, releasing
/// nothing (the console's "My requests"; `get_request_as` releases an approved request's data).
pub(crate) async fn get_request_status_as(st: &Arc<AppState>, token: &TokenRecord, id: &str) -> Response {
    let id2 = id.to_string();
    let review = match st.blocking(move |st| st.store.review(&id2)).await {
        Ok(Some(r)) => r,
        Ok(None) => return Problem::not_found(format!("no held request {id:?} in the queue")).into_response(),
        Err(e) => return queue_unavailable(&e).into_response(),
    };
    let requester = &review.request.requester;
    if let Err(p) = viewer(token, &requester.agency, &requester.id, &review.owner) {
        return p.into_response();
    }
    (StatusCode::OK, Json(review_json(&review))).into_response()
}

/// 410: an approval past its time releases nothing.
fn approval_expired(id: &str, expired: u64, verdict_index: u64) -> Response {
    Problem::new(
        StatusCode::GONE,
        "approval-expired",
        format!(
            "the approval of request {id:?} (ledger index {verdict_index}) expired at {expired} (Unix time); nothing was released: send a new request"
        ),
    )
    .into_response()
}

/// Who `token` is to a held request of `requester` (agency, user) on `owner`'s source: true for
/// the requester, false for a supervisor of the owner; 403 for anyone else.
fn viewer(token: &TokenRecord, agency: &str, user: &str, owner: &str) -> Result<bool, Problem> {
    let is_requester = token.agency == agency && token.user == user;
    if is_requester || (token.role == SUPERVISOR && token.agency == owner) {
        Ok(is_requester)
    } else {
        Err(Problem::forbidden("only the requester or a supervisor of the owning agency may see this request"))
    }
}

/// The answer about a decided review the queue no longer keeps in memory.
fn settled_request(st: &AppState, token: &TokenRecord, id: &str) -> Response {
    let Some(s) = st.store.settled(id) else {
        return Problem::not_found(format!("no held request {id:?} (only reviewed requests are kept)")).into_response();
    };
    let is_requester = match viewer(token, &s.requester_agency, &s.requester, &s.owner) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    if s.status == ReviewStatus::Approved && is_requester {
        return approval_expired(id, s.time.saturating_add(st.approval_secs()), s.verdict_index);
    }
    let body = json!({
        "id": id, "status": s.status, "owner": s.owner,
        "verdict": {"status": s.status, "ledger_index": s.verdict_index, "time": s.time},
        "note": "the request itself is no longer kept by this hub; the ledger holds its record",
    });
    (StatusCode::OK, Json(body)).into_response()
}

async fn list_reviews(State(st): St, headers: HeaderMap, cert: Cert) -> Response {
    match st.authenticate(&headers, cert).await {
        Ok(token) => list_reviews_as(st, token).await,
        Err(p) => p.into_response(),
    }
}

/// `list_reviews` for an identity already authenticated (and admitted by the limiter): the API's handler
/// and the console both call it, so a page does exactly what the same token could do.
pub(crate) async fn list_reviews_as(st: Arc<AppState>, token: TokenRecord) -> Response {
    if token.role != SUPERVISOR {
        return Problem::forbidden("only a supervisor may list reviews").into_response();
    }
    let agency = token.agency.clone();
    let list: Vec<Value> = match st.blocking(move |st| st.store.pending_reviews(&agency)).await {
        Ok(l) => l.iter().map(review_json).collect(),
        Err(e) => return queue_unavailable(&e).into_response(),
    };
    (StatusCode::OK, Json(json!({"agency": token.agency, "reviews": list}))).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictBody {
    decision: String,
    reason: String,
}

async fn decide_review(State(st): St, headers: HeaderMap, cert: Cert, Path(id): Path<String>, body: Bytes) -> Response {
    match st.authenticate(&headers, cert).await {
        Ok(token) => decide_review_as(st, token, id, body).await,
        Err(p) => p.into_response(),
    }
}

/// `decide_review` for an identity already authenticated (and admitted by the limiter): the API's handler
/// and the console both call it, so a page does exactly what the same token could do.
pub(crate) async fn decide_review_as(st: Arc<AppState>, token: TokenRecord, id: String, body: Bytes) -> Response {
    let v: VerdictBody = {
        let mut de = serde_json::Deserializer::from_slice(&body);
        match serde_path_to_error::deserialize(&mut de) {
            Ok(v) => v,
            Err(e) => {
                let inner = e.inner().to_string();
                let field = match backticked(&inner) {
                    Some(name) if inner.starts_with("missing") || inner.starts_with("unknown") => name.to_string(),
                    _ if e.path().to_string() == "." => "(body)".to_string(),
                    _ => e.path().to_string(),
                };
                return Problem::bad_field(&field, inner).into_response();
            }
        }
    };
    let approve = match v.decision.as_str() {
        "approve" => true,
        "deny" => false,
        other => {
            return Problem::bad_field("decision", format!("`decision` is {other:?}; expected \"approve\" or \"deny\""))
                .into_response()
        }
    };
    if v.reason.trim().is_empty() || v.reason.len() > 4096 {
        return Problem::bad_field("reason", "a reason of 1 to 4096 bytes is required").into_response();
    }
    let id2 = id.clone();
    let review = match st.blocking(move |st| st.store.review(&id2)).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return match st.store.settled(&id) {
                Some(s) if token.role == SUPERVISOR && token.agency == s.owner => Problem::new(
                    StatusCode::CONFLICT,
                    "already-decided",
                    format!("review {id:?} is already decided (ledger index {})", s.verdict_index),
                )
                .into_response(),
                _ => Problem::not_found(format!("no review {id:?}")).into_response(),
            }
        }
        Err(e) => return queue_unavailable(&e).into_response(),
    };
    if token.role != SUPERVISOR || token.agency != review.owner {
        return Problem::forbidden(format!(
            "only a supervisor of {:?}, the agency that owns the source, may decide",
            review.owner
        ))
        .into_response();
    }
    // Separation of duties: whoever asked, or is in the chain the request was made for, never
    // gives the verdict on it.
    let r = &review.request;
    let asked = std::iter::once((&r.requester.agency, &r.requester.id))
        .chain(r.on_behalf_of.iter().map(|l| (&l.agency, &l.id)))
        .any(|(agency, user)| *agency == token.agency && *user == token.user);
    if asked {
        return Problem::forbidden(format!(
            "user {:?} made this request (or is in its on_behalf_of chain) and may not decide it; another supervisor of {:?} must",
            token.user, review.owner
        ))
        .into_response();
    }
    // A verdict already in the ledger that the queue has not stored yet is the verdict.
    if let Some(at) = st.unstored.ledger_index(&id) {
        return Problem::new(
            StatusCode::CONFLICT,
            "already-decided",
            format!("review {id:?} is decided by the verdict at ledger index {at}; the hub is still storing it"),
        )
        .into_response();
    }
    // Claim the review before logging the verdict: of two supervisors deciding at once, on one
    // replica or two, one gets 409 and only one verdict ever reaches the ledger.
    let id2 = id.clone();
    let review = match st.blocking(move |st| st.store.claim(&id2)).await {
        Ok(r) => r,
        Err(HubError::Conflict(m)) => return Problem::new(StatusCode::CONFLICT, "already-decided", m).into_response(),
        Err(HubError::NotFound(m)) => return Problem::not_found(m).into_response(),
        Err(e) => return queue_unavailable(&e).into_response(),
    };
    let time = now();
    let e = entry::review(
        &st.key,
        &id,
        review.ledger_index,
        approve,
        &token,
        &v.reason,
        &review.decision.obligations,
        time,
    );
    let index = match st.log(&e).await {
        Ok(i) => i,
        Err(p) => {
            let id2 = id.clone();
            let _ = st.blocking(move |st| st.store.unclaim(&id2)).await;
            return p.into_response();
        }
    };
    let verdict = Verdict {
        status: if approve { ReviewStatus::Approved } else { ReviewStatus::Denied },
        by: token.user.clone(),
        agency: token.agency.clone(),
        reason: v.reason,
        ledger_index: index,
        time,
    };
    let (id2, kept) = (id.clone(), verdict.clone());
    match st.blocking(move |st| st.store.decide(&id2, verdict)).await {
        Ok(r) => {
            st.metrics.reviews_decided.fetch_add(1, Ordering::Relaxed);
            st.limiter.held_changed(&r.request.requester, false);
            let mut body = review_json(&r);
            body["ledger"] = st.receipt(index);
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(HubError::Conflict(m)) => Problem::new(StatusCode::CONFLICT, "already-decided", m).into_response(),
        _ => {
            // The ledger holds the verdict, so it stands: keep it and store it when the queue is back.
            // (In memory at least, if the data directory cannot take it either.)
            let id2 = id.clone();
            let _ = st.blocking(move |st| st.unstored.keep(&id2, kept)).await;
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "review-queue-unavailable",
                format!(
                    "the verdict is recorded at ledger index {index} and stands, but the review queue cannot store it now; \
                     the hub stores it as soon as it can (no other verdict is accepted meanwhile)"
                ),
            )
            .with("ledger", st.receipt(index))
            .into_response()
        }
    }
}

async fn list_notifications(State(st): St, headers: HeaderMap, cert: Cert) -> Response {
    match st.authenticate(&headers, cert).await {
        Ok(token) => list_notifications_as(st, token).await,
        Err(p) => p.into_response(),
    }
}

/// `list_notifications` for an identity already authenticated (and admitted by the limiter): the API's handler
/// and the console both call it, so a page does exactly what the same token could do.
pub(crate) async fn list_notifications_as(st: Arc<AppState>, token: TokenRecord) -> Response {
    if token.role != SUPERVISOR {
        return Problem::forbidden("only a supervisor may list the notices the agency owes").into_response();
    }
    let agency = token.agency.clone();
    match st.blocking(move |st| st.store.pending_notices(&agency)).await {
        Ok(list) => (StatusCode::OK, Json(json!({"agency": token.agency, "notifications": list}))).into_response(),
        Err(e) => unavailable("notification-outbox-unavailable", "the outbox cannot be read now; retry later", &e)
            .into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SentBody {
    method: String,
}

async fn mark_notification_sent(
    State(st): St,
    headers: HeaderMap,
    cert: Cert,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    match st.authenticate(&headers, cert).await {
        Ok(token) => mark_notification_sent_as(st, token, id, body).await,
        Err(p) => p.into_response(),
    }
}

/// `mark_notification_sent` for an identity already authenticated (and admitted by the limiter): the API's handler
/// and the console both call it, so a page does exactly what the same token could do.
pub(crate) async fn mark_notification_sent_as(
    st: Arc<AppState>,
    token: TokenRecord,
    id: String,
    body: Bytes,
) -> Response {
    let sent: SentBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return Problem::bad_field("method", format!("expected {{\"method\": \"...\"}}: {e}")).into_response()
        }
    };
    if sent.method.trim().is_empty() || sent.method.len() > 256 {
        return Problem::bad_field("method", "how the person was told, 1 to 256 bytes (e.g. \"mail\")").into_response();
    }
    let id2 = id.clone();
    let notice = match st.blocking(move |st| st.store.notice(&id2)).await {
        Ok(Some(n)) => n,
        Ok(None) => return Problem::not_found(format!("no notification {id:?}")).into_response(),
        Err(e) => {
            return unavailable("notification-outbox-unavailable", "the outbox cannot be read now; retry later", &e)
                .into_response()
        }
    };
    if token.role != SUPERVISOR || token.agency != notice.owner {
        return Problem::forbidden(format!("only a supervisor of {:?} may mark this notice sent", notice.owner))
            .into_response();
    }
    if notice.sent.is_some() {
        return Problem::new(StatusCode::CONFLICT, "already-sent", format!("notification {id:?} is already sent"))
            .into_response();
    }
    let time = now();
    let index = match st.log(&entry::notified(&st.key, &id, notice.ledger_index, &token, &sent.method, time)).await {
        Ok(i) => i,
        Err(p) => return p.into_response(),
    };
    let record = duties::Sent { by: token.user.clone(), method: sent.method, ledger_index: index, time };
    match st.blocking(move |st| st.store.mark_notice_sent(&id, record)).await {
        Ok(n) => {
            let mut body = json!(n);
            body["ledger"] = st.receipt(index);
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(HubError::Conflict(m)) => Problem::new(StatusCode::CONFLICT, "already-sent", m).into_response(),
        Err(e) => unavailable(
            "notification-outbox-unavailable",
            format!("the notice is recorded at ledger index {index} but the outbox cannot store it"),
            &e,
        )
        .into_response(),
    }
}

async fn reports(State(st): St) -> Response {
    let Some(l) = st.ledger.get() else {
        return Problem::ledger_unavailable("the ledger is recovering from a fault").into_response();
    };
    let size = l.published().map_or(0, |p| p.checkpoint.size);
    let st2 = Arc::clone(&st);
    let counted = tokio::task::spawn_blocking(move || {
        st2.reports.at(size, |path| l.read_public(path).map_err(|e| e.to_string()))
    })
    .await;
    match counted {
        Ok(Ok(v)) => (StatusCode::OK, Json(v)).into_response(),
        Ok(Err(e)) => {
            unavailable("ledger-unavailable", "cannot read the published ledger; retry later", &e).into_response()
        }
        Err(e) => {
            unavailable("ledger-unavailable", "cannot count the published ledger; retry later", &e).into_response()
        }
    }
}

async fn ledger_key(State(st): St) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{}\n", st.vkey)).into_response()
}

async fn ledger_proof(State(st): St, Path(index): Path<String>) -> Response {
    let Ok(index) = index.parse::<u64>() else {
        return Problem::bad_field("index", "the index must be a non-negative integer").into_response();
    };
    let Some(l) = st.ledger.get() else {
        return Problem::ledger_unavailable("the ledger is recovering from a fault").into_response();
    };
    if index >= l.size() {
        return Problem::not_found(format!("the ledger has {} entries", l.size())).into_response();
    }
    drop(l);
    (StatusCode::OK, Json(st.receipt(index))).into_response()
}

async fn read_public(st: Arc<AppState>, path: String, content_type: &'static str, cache: &'static str) -> Response {
    let Some(l) = st.ledger.get() else {
        return Problem::ledger_unavailable("the ledger is recovering from a fault").into_response();
    };
    let p2 = path.clone();
    match tokio::task::spawn_blocking(move || l.read_public(&p2)).await {
        Ok(Ok(Some(data))) => {
            let mut r = (StatusCode::OK, data).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            r
        }
        Ok(Ok(None)) | Ok(Err(ledger::LedgerError::NotFound(_))) => {
            Problem::not_found(format!("no public ledger file {path:?}")).into_response()
        }
        _ => Problem::ledger_unavailable(format!("cannot read {path:?}")).into_response(),
    }
}

async fn ledger_checkpoint(State(st): St) -> Response {
    read_public(st, "checkpoint".into(), "text/plain; charset=utf-8", "no-cache").await
}

/// True for a path of the C2SP tlog-tiles layout below `tile/`: `<L>/<N>[.p/<W>]` or
/// `entries/<N>[.p/<W>]`, where `<N>` is `x000/`-prefixed groups ending in three digits.
pub fn is_tile_path(path: &str) -> bool {
    let digits3 = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 {
        return false;
    }
    let level = parts.remove(0);
    if level != "entries" && !(level.len() <= 2 && !level.is_empty() && level.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let (partial, width) = match parts.last().copied() {
        Some(w) if parts.len() >= 2 && parts[parts.len() - 2].ends_with(".p") => (true, Some(w)),
        _ => (false, None),
    };
    if let Some(w) = width {
        let ok = !w.is_empty()
            && w.len() <= 3
            && w.bytes().all(|b| b.is_ascii_digit())
            && w.parse::<u32>().is_ok_and(|n| (1..256).contains(&n));
        if !ok {
            return false;
        }
        parts.pop();
    }
    let Some(last) = parts.pop() else { return false };
    let last = if partial { last.trim_end_matches(".p") } else { last };
    digits3(last) && parts.iter().all(|p| p.len() == 4 && p.starts_with('x') && digits3(&p[1..]))
}

async fn ledger_tile(State(st): St, Path(path): Path<String>) -> Response {
    if !is_tile_path(&path) {
        return Problem::not_found(format!(
            "{path:?} is not a tile path (tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>])"
        ))
        .into_response();
    }
    // Partial tiles change as the log grows; full tiles never do.
    let cache = if path.contains(".p/") { "max-age=5" } else { "public, max-age=31536000, immutable" };
    read_public(st, format!("tile/{path}"), "application/octet-stream", cache).await
}

/// 200 `ok`; 503 `degraded` while the ledger recovers from a write fault (`recovering`), or once
/// entries have waited for a checkpoint past the bound (`checkpoint-behind`: 10 checkpoint
/// intervals, at least 1 s; requests are still answered). The error names no absolute path.
async fn healthz(State(st): St) -> Response {
    if !st.ledger.is_up() {
        // The ledger's error names files of the data directory: it goes to standard error when
        // the fault happens (`LedgerSlot`), never to this unauthenticated answer.
        let why =
            "the ledger cannot write and is being reopened; nothing is released meanwhile (the hub's log says why)";
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "degraded", "ledger": "recovering", "error": why})),
        )
            .into_response();
    }
    match st.ledger.get().map(|l| l.publication()).filter(ledger::Publication::behind) {
        None => (StatusCode::OK, Json(json!({"status": "ok", "ledger": "up"}))).into_response(),
        Some(p) => {
            let lag = p.lag.as_secs_f64();
            let why = p.public_error.unwrap_or_else(|| format!("checkpoints are slow: entries have waited {lag:.1} s"));
            let body = json!({
                "status": "degraded", "ledger": "checkpoint-behind", "error": why,
                "checkpoint_lag_seconds": lag, "unpublished_entries": p.unpublished,
            });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

async fn metrics(State(st): St) -> Response {
    let mut figures = crate::metrics::LedgerFigures {
        up: st.ledger.is_up(),
        faults: st.ledger.faults(),
        checkpoint_faults: st.ledger.checkpoint_faults(),
        ..Default::default()
    };
    if let Some(l) = st.ledger.get() {
        figures.size = l.size();
        figures.published = l.published().map_or(0, |p| p.checkpoint.size);
        figures.group_commits = l.group_commits();
        figures.checkpoint_lag = l.publication().lag;
    }
    let mut text = st.metrics.render(figures);
    if let Some(f) = &st.federation {
        crate::metrics::render_federation(&mut text, &f.counts(), &f.witness.split_views());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn openapi(State(st): St) -> Response {
    let doc = crate::openapi::document_for(st.engine.deployment());
    ([(header::CONTENT_TYPE, "application/json")], doc.to_string()).into_response()
}

/// The problem for an append that did not happen: nothing was released.
pub(crate) fn append_problem(e: AppendError) -> Problem {
    match e {
        AppendError::TooLarge(m) => {
            Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "entry-too-large", format!("request too large to record: {m}"))
        }
        AppendError::Unavailable(m) => {
            unavailable("ledger-unavailable", "the ledger cannot record now; nothing was released, retry later", &m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_tile_path;

    #[test]
    fn tile_paths() {
        for ok in ["0/000", "1/x001/x234/067", "entries/000.p/12", "0/000.p/255", "entries/x001/000"] {
            assert!(is_tile_path(ok), "{ok}");
        }
        for bad in
            ["0", "0/", "0/00", "0/000.p/0", "0/000.p/256", "x/000", "entries/000.p", "0/x1/000", "../key", "0/000/"]
        {
            assert!(!is_tile_path(bad), "{bad}");
        }
    }
}
