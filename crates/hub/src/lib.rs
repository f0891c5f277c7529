//! The FusionGuard sharing hub: the HTTP service that puts the policy checkpoint and the ledger in
//! front of the data sources agencies already run.
//!
//! One request flows: authenticate the bearer token (its agency and user must be the requester's,
//! otherwise 403 and the attempt is logged) → parse and check the request (400 names the field) →
//! decide with [`policy::Engine`] → append the decision to the [`ledger::Ledger`] and wait until it
//! is durable (if the ledger cannot write: 503, nothing released) → for a permit, fetch from the
//! source's connector and apply every obligation → answer with the decision, the reasons, the
//! obligations, a ledger receipt and the data. `review` decisions wait in a queue for a supervisor
//! of the agency that owns the source.
//!
//! Ledger entries hold keyed hashes (HMAC-SHA256) of subjects and free text, never the data
//! released; the key (`DATA/subject.key`) stays beside the ledger, outside its public tiles.
//!
//! Data directory layout (DATA itself and DATA/sources are 0700):
//! ```text
//! DATA/ledger/        the ledger (tiles/ is public, served at /ledger/)
//! DATA/ledger.vkey    the ledger's verifier key (public)
//! DATA/subject.key    HMAC key for subjects (private, 0600)
//! DATA/tokens.json    hashed bearer tokens (private, 0600)
//! DATA/reviews.jsonl  the review queue (private, 0600: holds full requests)
//! DATA/notifications.jsonl  notices owed to people (`notify_subject`; private, 0600)
//! DATA/console-requests.jsonl  the requests made through the console ("My requests"; private, 0600)
//! DATA/sources/embedded.sqlite  the embedded store: one table per source (`sources::sqlite`; 0600)
//! DATA/sources/*.csv  a CSV file per source (takes precedence over the store)
//! ```
//!
//! Tokens, reviews, notices and console requests are kept through one interface,
//! [`store::Store`]: the files above ([`store::FileStore`]) or, with [`HubOptions::store`], one
//! PostgreSQL schema shared by every replica of a region ([`pgstate::PgState`]), which then also
//! holds the ledger and the keys (`ledger::pg`).
//!
//! ```no_run
//! # async fn run() -> Result<(), hub::HubError> {
//! let options = hub::HubOptions::new("examples/seed-world".into(), "laws".into(), "/tmp/fg".into());
//! let hub = hub::Hub::open(options)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.map_err(|e| hub::HubError::Io(e.to_string()))?;
//! hub.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

#![warn(missing_docs)]

pub mod api;
mod console;
pub mod duties;
pub mod enforce;
pub mod entry;
pub mod federation;
pub mod keys;
pub mod ledger_slot;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod peer_client;
pub mod pgstate;
mod portal;
pub mod problem;
pub mod reviews;
pub mod routes;
pub mod serve;
pub mod sources;
pub mod store;
pub mod tls;
pub mod tokens;
mod transparency;
pub mod web;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ledger::{Ledger, LedgerError, Options};

/// Errors of the hub.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// A file, socket or database operation failed.
    #[error("{0}")]
    Io(String),
    /// Bad configuration or stored state.
    #[error("{0}")]
    Config(String),
    /// The law library or deployment could not be used.
    #[error("{0}")]
    Policy(String),
    /// The ledger failed.
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The operation conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
}

/// Folds bytes into 8 (for seeding the synthetic data per source).
pub(crate) fn fold8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (i, b) in bytes.iter().enumerate() {
        out[i % 8] = out[i % 8].rotate_left(3) ^ b;
    }
    out
}

/// Name of the ledger folder inside the data directory.
pub const LEDGER_DIR: &str = "ledger";
/// Name of the verifier key file inside the data directory.
pub const VKEY_FILE: &str = "ledger.vkey";

/// The hub's default [`HubOptions::commit_delay`]: shorter than one `fdatasync` on the disks
/// measured (BENCHMARKS.md), it about halves the flushes per request under load.
pub const DEFAULT_COMMIT_DELAY: Duration = Duration::from_micros(200);

/// How to start a hub.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// The deployment directory (holding deployment.toml) or file.
    pub deployment: PathBuf,
    /// The law library directory.
    pub laws: PathBuf,
    /// The data directory (created if absent).
    pub data: PathBuf,
    /// The ledger's origin (its name in checkpoints), used when the ledger is created.
    pub origin: String,
    /// How often to sign a checkpoint while the ledger grows.
    pub checkpoint_interval: Duration,
    /// How long the ledger's writer gathers appends under load before each durable write
    /// ([`ledger::Options::commit_delay`]); a lone request is never delayed.
    pub commit_delay: Duration,
    /// Keep the ledger, tokens, review queue and keys in PostgreSQL, shared by every replica
    /// of the region, instead of the data directory (which then only holds `sources/`).
    pub store: Option<pgstate::PgStore>,
    /// The sources database instead of the embedded store `DATA/sources/embedded.sqlite`: a
    /// PostgreSQL URL or libpq string, or the path of a SQLite file (see [`sources`]).
    pub sources_db: Option<String>,
    /// Enforce the deployment's rates and quotas ([`limits`]); false only for benchmarks
    /// (`serve --limits off`).
    pub limits: bool,
    /// Limits on connections: count, timeouts, lifetime ([`serve::Connections`]).
    pub connections: serve::Connections,
    /// The largest file an auditor may upload to the console (bytes; default 2 GiB).
    pub upload_limit: u64,
}

impl HubOptions {
    /// Options with the default origin (`fusionguard.local/hub`), a one-second checkpoint cadence
    /// and a [`DEFAULT_COMMIT_DELAY`].
    pub fn new(deployment: PathBuf, laws: PathBuf, data: PathBuf) -> Self {
        Self {
            deployment,
            laws,
            data,
            origin: "fusionguard.local/hub".into(),
            checkpoint_interval: Duration::from_secs(1),
            commit_delay: DEFAULT_COMMIT_DELAY,
            store: None,
            sources_db: None,
            limits: true,
            connections: serve::Connections::default(),
            upload_limit: console::UPLOAD_LIMIT,
        }
    }
}

/// Loads the law library and deployment into a checkpoint, with every slice built.
/// A federated hub's library keeps only the law of its `[federation] law` jurisdictions
/// ([`policy::LawLibrary::restricted_to`]).
pub fn load_engine(deployment: &Path, laws: &Path) -> Result<policy::Engine, HubError> {
    let library = policy::LawLibrary::load(laws).map_err(|e| HubError::Policy(format!("{}: {e}", laws.display())))?;
    let deployment = model::Deployment::load(deployment).map_err(|e| HubError::Policy(e.to_string()))?;
    let library = match deployment.federation() {
        Some(f) => library.restricted_to(&f.law),
        None => library,
    };
    let engine = policy::Engine::new(Arc::new(library), deployment).map_err(|e| HubError::Policy(e.to_string()))?;
    engine.warm();
    Ok(engine)
}

/// Creates the ledger in `DATA/ledger` if absent and writes its verifier key to `DATA/ledger.vkey`.
pub fn init_ledger(data: &Path, origin: &str) -> Result<String, HubError> {
    let dir = data.join(LEDGER_DIR);
    let vkey_path = data.join(VKEY_FILE);
    if dir.join(ledger::KEY_FILE).exists() {
        return std::fs::read_to_string(&vkey_path)
            .map(|v| v.trim().to_string())
            .map_err(|e| HubError::Io(format!("{}: {e}", vkey_path.display())));
    }
    let vkey = Ledger::init(&dir, origin)?;
    std::fs::write(&vkey_path, format!("{vkey}\n"))
        .map_err(|e| HubError::Io(format!("{}: {e}", vkey_path.display())))?;
    Ok(vkey)
}

/// A running hub's state: checkpoint, ledger, tokens, sources, review queue.
pub struct Hub {
    state: Arc<api::AppState>,
    connections: serve::Connections,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("origin", &self.state.origin).finish_non_exhaustive()
    }
}

impl Hub {
    /// Opens everything under the data directory, or in PostgreSQL with [`HubOptions::store`]
    /// (creating the ledger and keys on first use). Blocking: call it before starting the runtime or from `spawn_blocking`.
    pub fn open(options: HubOptions) -> Result<Self, HubError> {
        let data = &options.data;
        keys::create_private_dir(data)?;
        let engine = load_engine(&options.deployment, &options.laws)?;
        if engine.deployment().federation().is_some() && options.store.is_some() {
            return Err(HubError::Config(
                "a federated hub keeps its state in its data directory: [federation] does not work with --store yet"
                    .into(),
            ));
        }
        let connectors = sources::Connectors::load_with(data, engine.deployment(), options.sources_db.as_deref())?;
        let mut ledger_options = Options {
            checkpoint_interval: Some(options.checkpoint_interval),
            commit_delay: options.commit_delay,
            ..Default::default()
        };
        // A federated hub's ledger key is its witness key: the federation creates the ledger.
        let federation = match engine.deployment().federation() {
            Some(f) => {
                let fed = federation::Federation::open(engine.deployment(), data, &options.origin)?
                    .ok_or_else(|| HubError::Config(format!("[federation] {:?} did not open", f.name)))?;
                let (witnesses, agent) = fed.witnesses();
                ledger_options.witnesses = witnesses;
                ledger_options.witness_agent = Some(agent);
                Some(fed)
            }
            None => None,
        };
        let (opener, vkey, store, key): (ledger_slot::Opener, _, Arc<dyn store::Store>, _) = match &options.store {
            None => {
                let vkey = init_ledger(data, &options.origin)?;
                let dir = data.join(LEDGER_DIR);
                (
                    Box::new(move || Ledger::open_dir(&dir, ledger_options.clone())),
                    vkey,
                    Arc::new(store::FileStore::open(data)?),
                    keys::SubjectKey::load_or_create(data)?,
                )
            }
            Some(store) => {
                let pg = Arc::new(pgstate::PgState::connect(store)?);
                // Every replica signs with the same key and hashes subjects with the same key:
                // whichever starts first creates them.
                let origin = options.origin.clone();
                let skey = pg.secret("ledger_signing_key", || {
                    Ok(ledger::note::NoteSigner::generate(&origin, ledger::note::ALG_ED25519)
                        .map_err(|e| HubError::Config(e.to_string()))?
                        .skey())
                })?;
                let signer = ledger::note::NoteSigner::parse(&skey)
                    .map_err(|e| HubError::Config(format!("postgres: the stored ledger signing key: {e}")))?;
                let subject = pg.secret("subject_key", || Ok(hex::encode(keys::random_bytes::<32>()?)))?;
                let key = keys::SubjectKey::from_hex(&subject)
                    .ok_or_else(|| HubError::Config("postgres: the stored subject key is not 64 hex digits".into()))?;
                let (conninfo, schema) = (store.conninfo.clone(), store.schema.clone());
                let vkey = signer.verifier().vkey();
                let opener: ledger_slot::Opener = Box::new(move || {
                    let storage = ledger::pg::PgStorage::connect_shared(&conninfo, &schema)?;
                    Ledger::open(Arc::new(storage), signer.clone(), ledger_options.clone())
                });
                (opener, vkey, pg, key)
            }
        };
        let tokens = tokens::TokenStore::open(Arc::clone(&store))?;
        let slot = ledger_slot::LedgerSlot::open(opener)?;
        let origin = slot.get().map(|l| l.origin().to_string()).unwrap_or_default();
        let limiter = limits::Limiter::new(engine.deployment().limits().clone(), options.limits);
        limiter.recount_held(&store.all_pending_reviews()?);
        let certifications = engine.library().certifications();
        let state = api::AppState {
            engine,
            tokens,
            key,
            connectors,
            ledger: slot,
            store,
            unstored: reviews::UnstoredVerdicts::open(data)?,
            reports: duties::ReportCounts::default(),
            metrics: metrics::Metrics::new(),
            vkey,
            origin,
            limiter,
            certifications,
            secure_cookies: std::sync::atomic::AtomicBool::new(false),
            upload_limit: options.upload_limit,
            federation,
        };
        let state = Arc::new(state);
        state.upkeep(false);
        if let (Some(fed), Some(l)) = (&state.federation, state.ledger.get()) {
            fed.recover_nonces(&l)?;
        }
        Ok(Self { state, connections: options.connections })
    }

    /// The TLS files a federated hub serves with (its certificate, the federation's CA for its
    /// peers' client certificates); `None` outside a federation.
    pub fn federation_tls(&self) -> Option<tls::TlsFiles> {
        self.state.federation.as_ref().map(federation::Federation::tls_files)
    }

    /// The ledger's verifier key.
    pub fn vkey(&self) -> &str {
        &self.state.vkey
    }

    /// Number of sources with a connector.
    pub fn connected_sources(&self) -> usize {
        self.state.connectors.len()
    }

    /// The HTTP router (for embedding in another server).
    pub fn router(&self) -> axum::Router {
        routes::router(Arc::clone(&self.state))
    }

    /// Serves HTTP on `listener` until `shutdown` completes, then finishes the requests in flight,
    /// publishes a final checkpoint and closes the ledger.
    pub async fn serve<F>(self, listener: tokio::net::TcpListener, shutdown: F) -> Result<(), HubError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.run(listener, None, shutdown).await
    }

    /// Like [`Hub::serve`], over TLS with the settings in `files` ([`tls::server_config`]),
    /// reloaded when they change; with a client CA there, a client certificate names the caller
    /// instead of a bearer token.
    pub async fn serve_tls<F>(
        self,
        listener: tokio::net::TcpListener,
        files: tls::TlsFiles,
        shutdown: F,
    ) -> Result<(), HubError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.run(listener, Some(files), shutdown).await
    }

    async fn run<F>(
        self,
        listener: tokio::net::TcpListener,
        tls: Option<tls::TlsFiles>,
        shutdown: F,
    ) -> Result<(), HubError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let state = Arc::clone(&self.state);
        state.secure_cookies.store(tls.is_some(), std::sync::atomic::Ordering::Relaxed);
        // Token revocations and new tokens are picked up within a second, and logged verdicts
        // the review queue could not store are stored once it can.
        let reload = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for n in 0u64.. {
                tick.tick().await;
                let st = Arc::clone(&state);
                let _ = tokio::task::spawn_blocking(move || {
                    let _ = st.tokens.reload();
                    st.store_logged_verdicts();
                    // Decided reviews leave memory; a shared queue's held counts are re-read.
                    st.upkeep(st.shared() && n % limits::HELD_REFRESH_SECS == 0);
                })
                .await;
            }
        });
        let tls = match tls.map(tls::Handshaker::new).transpose() {
            Ok(t) => t,
            Err(e) => {
                reload.abort();
                return Err(e);
            }
        };
        let result = serve::run(listener, tls, self.router(), self.connections, shutdown)
            .await
            .map_err(|e| HubError::Io(format!("serve: {e}")));
        reload.abort();
        let _ = reload.await;
        let state = Arc::clone(&self.state);
        drop(self);
        tokio::task::spawn_blocking(move || {
            if let Some(l) = state.ledger.get() {
                let _ = l.checkpoint();
            }
        })
        .await
        .map_err(|e| HubError::Io(e.to_string()))?;
        result
    }
}
