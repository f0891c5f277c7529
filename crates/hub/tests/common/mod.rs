//! A hub started in-process on 127.0.0.1 with an ephemeral port, and a small HTTP client.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct TestHub {
    pub url: String,
    pub pg: Option<std::sync::Arc<hub::pgstate::PgState>>,
    /// The hub's store, for its token records (the data directory's token file, or PostgreSQL).
    pub store: std::sync::Arc<dyn hub::store::Store>,
    pub vkey: String,
    pub data: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl TestHub {
    /// Starts a hub on the seed world with synthetic sources in `data`.
    pub fn start(data: &Path) -> Self {
        Self::start_with(data, None)
    }

    /// Starts a hub with its ledger and state in PostgreSQL (a replica of the region `store`).
    pub fn start_pg(data: &Path, store: &hub::pgstate::PgStore) -> Self {
        Self::start_with(data, Some(store.clone()))
    }

    fn start_with(data: &Path, store: Option<hub::pgstate::PgStore>) -> Self {
        Self::start_custom(data, |o| o.store = store)
    }

    /// Starts a hub on the seed world with its options adjusted by `adjust`.
    pub fn start_custom(data: &Path, adjust: impl FnOnce(&mut hub::HubOptions)) -> Self {
        Self::launch(data, adjust, None)
    }

    /// Starts a hub serving HTTPS with `tls` (its `url` is then `https://...`).
    pub fn start_tls(data: &Path, tls: hub::tls::TlsFiles) -> Self {
        Self::launch(data, |_| {}, Some(tls))
    }

    fn launch(data: &Path, adjust: impl FnOnce(&mut hub::HubOptions), tls: Option<hub::tls::TlsFiles>) -> Self {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
        if !data.join(hub::sources::SOURCES_DIR).exists() {
            hub::sources::write_synthetic(data, &deployment, hub::sources::SYNTHETIC_SEED).unwrap();
        }
        let mut options =
            hub::HubOptions::new(repo().join("examples/seed-world"), repo().join("laws"), data.to_path_buf());
        options.checkpoint_interval = Duration::from_millis(100);
        adjust(&mut options);
        let pg = options.store.as_ref().map(|s| std::sync::Arc::new(hub::pgstate::PgState::connect(s).unwrap()));
        let store: std::sync::Arc<dyn hub::store::Store> = match &pg {
            Some(pg) => pg.clone(),
            None => std::sync::Arc::new(hub::store::FileStore::tokens_only(data)),
        };
        let hub = hub::Hub::open(options).unwrap();
        let vkey = hub.vkey().to_string();
        let (tx, rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let stop = async move {
                    let _ = stop_rx.await;
                };
                match tls {
                    Some(files) => hub.serve_tls(listener, files, stop).await.unwrap(),
                    None => hub.serve(listener, stop).await.unwrap(),
                }
            });
        });
        let addr = rx.recv().unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Self {
            url: format!("{scheme}://{addr}"),
            pg,
            store,
            vkey,
            data: data.to_path_buf(),
            stop: Some(stop_tx),
            thread: Some(thread),
            agent,
        }
    }

    pub fn token(&self, agency: &str, user: &str, role: &str) -> String {
        hub::tokens::issue(&*self.store, agency, user, role, 3600).unwrap().0
    }

    fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut r = r.expect("HTTP exchange");
        let status = r.status().as_u16();
        let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        Reply { status, content_type, text }
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &str) -> Reply {
        let mut req = self.agent.post(format!("{}{path}", self.url)).header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        Self::reply(req.send(body.as_bytes()))
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.agent.get(format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        Self::reply(req.call())
    }

    pub fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let mut r = self.agent.get(format!("{}{path}", self.url)).call().expect("HTTP exchange");
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_vec().unwrap_or_default())
    }

    /// Waits until the published checkpoint covers `size` entries.
    pub fn wait_checkpoint(&self, size: u64) -> String {
        for _ in 0..200 {
            let r = self.get("/ledger/checkpoint", None);
            if r.status == 200 {
                let n: u64 = r.text.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0);
                if n >= size {
                    return r.text;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no checkpoint covering {size} entries");
    }

    /// The ledger size this hub reports in /metrics.
    pub fn ledger_size(&self) -> u64 {
        self.get("/metrics", None)
            .text
            .lines()
            .find_map(|l| l.strip_prefix("fusionguard_ledger_size "))
            .and_then(|v| v.trim().parse().ok())
            .expect("fusionguard_ledger_size in /metrics")
    }

    /// The verdict (`review`) entries for the reviews `ids` in the published log, once a
    /// checkpoint covers `size`.
    pub fn verdict_entries(&self, size: u64, ids: &[String]) -> Vec<Value> {
        let (_, entries) = self.verified_entries(size);
        entries
            .iter()
            .map(|e| serde_json::from_slice::<Value>(e).unwrap())
            .filter(|e| e["type"] == "review" && ids.iter().any(|id| e["decision_id"] == id.as_str()))
            .collect()
    }

    /// The entries of the published log (raw bytes), once a checkpoint covers `size`, read
    /// through this hub's /ledger/ and verified against its key.
    pub fn verified_entries(&self, size: u64) -> (ledger::tiles::VerifiedLog, Vec<Vec<u8>>) {
        self.wait_checkpoint(size);
        let verifier = ledger::note::NoteVerifier::parse(&self.vkey).unwrap();
        let fetcher = ledger::tiles::HttpFetcher::new(&format!("{}/ledger", self.url));
        let log = ledger::tiles::verify_log(&fetcher, &verifier).unwrap();
        let mut entries = Vec::new();
        let size = log.checkpoint.size;
        for n in 0..size.div_ceil(256) {
            let w = (size - n * 256).min(256);
            let path = format!("/ledger/{}", ledger::tiles::entries_path(n, w));
            let (status, bundle) = self.get_bytes(&path);
            assert_eq!(status, 200, "{path}");
            entries.extend(ledger::tiles::decode_bundle(&bundle).unwrap().into_iter().map(<[u8]>::to_vec));
        }
        (log, entries)
    }
}

/// An OC Sheriff detective's lawful ALPR lookup of `plate` (a permit in the seed world).
pub fn alpr(plate: &str) -> String {
    serde_json::json!({
        "requester": {"id": "det-1", "agency": "oc-sheriff", "role": "detective"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "robbery follow-up", "case_number": "OCSD-1",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": plate}
    })
    .to_string()
}

/// An out-of-state CalGang query, which the seed world holds for a supervisor of LAPD.
pub fn calgang_request() -> String {
    serde_json::json!({
        "requester": {"id": "det-lee", "agency": "denver-pd", "role": "detective"},
        "source": "calgang", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "Homicide 24-0311: suspect reportedly moved from Los Angeles", "case_number": "DPD-24-0311",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "name", "value": "J. Doe"}
    })
    .to_string()
}

/// Holds `n` reviews through `hubs[0]`, then has two LAPD supervisors decide each one at the same
/// instant, one through `hubs[0]` and one through the last of `hubs`; asserts that each review got
/// exactly one 200 and one 409, and returns the ledger's review entries (verified), which must
/// then be exactly one per review.
pub fn race_verdicts(hubs: &[&TestHub], n: usize) -> Vec<Value> {
    let (a, b) = (hubs[0], hubs[hubs.len() - 1]);
    let det = a.token("denver-pd", "det-lee", "detective");
    let sups = [a.token("lapd", "sgt-ortiz", "supervisor"), b.token("lapd", "lt-kim", "supervisor")];
    let ids: Vec<String> = (0..n)
        .map(|_| {
            let held = a.post("/v1/requests", Some(&det), &calgang_request()).json();
            assert_eq!(held["decision"], "review", "{held}");
            held["review"]["id"].as_str().unwrap().to_string()
        })
        .collect();
    for id in &ids {
        let barrier = std::sync::Barrier::new(2);
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let runs: Vec<_> = [(a, &sups[0], "approve"), (b, &sups[1], "deny")]
                .into_iter()
                .map(|(hub, sup, verdict)| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        let body = serde_json::json!({"decision": verdict, "reason": "race"}).to_string();
                        barrier.wait();
                        hub.post(&format!("/v1/reviews/{id}"), Some(sup), &body).status
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [200, 409], "review {id}: one verdict wins, the other is refused: {statuses:?}");
    }
    // The largest ledger any of the hubs has seen (a replica learns of the others' entries
    // when it next appends or polls), which the first one's checkpoint then reaches.
    let size = hubs.iter().map(|h| h.ledger_size()).max().unwrap();
    a.verdict_entries(size, &ids)
}

#[path = "../../../ledger/tests/support/pg_server.rs"]
mod pg_server;

/// The PostgreSQL server of the tests (CI's, `FUSIONGUARD_TEST_PG`, or a private cluster).
pub fn conninfo() -> &'static str {
    pg_server::conninfo()
}

/// A uniquely named schema in the CI PostgreSQL, dropped at the end.
pub struct Schema(pub String);

impl Schema {
    pub fn new(tag: &str) -> Self {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        Schema(format!("hub_{tag}_{}_{nanos}", std::process::id()))
    }

    pub fn store(&self, application_name: &str) -> hub::pgstate::PgStore {
        hub::pgstate::PgStore::new(&format!("{} application_name={application_name}", conninfo()), &self.0).unwrap()
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(conninfo(), postgres::NoTls).unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(conninfo(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
        }
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A browser of the console, without the browser: cookies by hand, no redirects followed.
pub struct ConsoleUser<'a> {
    pub hub: &'a TestHub,
    pub agent: ureq::Agent,
    /// The session cookie's value.
    pub session: String,
}

impl<'a> ConsoleUser<'a> {
    pub fn log_in(hub: &'a TestHub, token: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        let session = console_session(&agent, &hub.url, token);
        Self { hub, agent, session }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let mut r = self
            .agent
            .get(format!("{}{path}", self.hub.url))
            .header("cookie", format!("fg_session={}", self.session))
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    }

    /// Submits the request form (an OC Sheriff detective's ALPR lookup, a permit); the receipt's
    /// ledger index.
    pub fn request_alpr(&self) -> u64 {
        let (status, page) = self.get("/console/requests/new");
        assert_eq!(status, 200, "{page}");
        let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
        let body = form(&[
            ("csrf", &csrf),
            ("do", "submit"),
            ("source", "ociac-alpr"),
            ("action", "lookup"),
            ("purpose", "criminal_investigation"),
            ("justification", "robbery follow-up"),
            ("case_number", "OCSD-1"),
            ("basis_kind", "none"),
            ("subject_kind", "plate"),
            ("subject_value", "7ABC123"),
        ]);
        let mut r = self
            .agent
            .post(format!("{}/console/requests/new", self.hub.url))
            .header("cookie", format!("fg_session={}", self.session))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .unwrap();
        let text = r.body_mut().read_to_string().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{text}");
        assert!(!text.contains("could not add this request"), "{text}");
        between(&text, "/verify?receipt=", "\"").parse().unwrap()
    }

    /// The receipts "My requests" lists, in its order.
    pub fn my_receipts(&self) -> Vec<u64> {
        let (status, page) = self.get("/console/requests");
        assert_eq!(status, 200, "{page}");
        page.split("href=\"/verify?receipt=")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
            .collect()
    }
}

/// Logs in to the console of the hub at `url` with `token` (the agent must not follow redirects);
/// the session cookie's value.
pub fn console_session(agent: &ureq::Agent, url: &str, token: &str) -> String {
    let page = agent.get(format!("{url}/console/login")).call().unwrap();
    let login = cookie(&page, "fg_login");
    let form = form(&[("login_csrf", &login), ("token", token)]);
    let r = agent
        .post(format!("{url}/console/login"))
        .header("cookie", format!("fg_login={login}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    cookie(&r, "fg_session")
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

pub fn cookie(r: &ureq::http::Response<ureq::Body>, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

pub fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?} in {text}")) + start.len();
    text[from..from + text[from..].find(end).unwrap()].to_string()
}
