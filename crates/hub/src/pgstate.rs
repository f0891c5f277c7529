//! The hub's own state in PostgreSQL, so that several replicas serve one region: the connection,
//! the schema and the hub's secrets (the ledger's signing key, the subject HMAC key), in the same
//! schema as the ledger (`ledger::pg`).
//!
//! Tables, created by [`PgState::connect`]: `hub_secrets (name, value)`; and those of the
//! [`crate::store::Store`] that [`PgState`] implements (its statements are in `store/pg.rs`):
//! `hub_tokens (id, hash, agency, usr, role, issued, expires, revoked)`, `hub_reviews (id, owner,
//! created, decided, data, claimed_until)` where `data` is the review as JSON and
//! `claimed_until` the end of a supervisor's claim (Unix seconds), `hub_notifications (id, owner,
//! due, sent, data)`, the notices owed, and `hub_console_requests (id, agency, usr, time, source,
//! decision, ledger_index, seq)`, the requests made through the console (`seq` keeps their order
//! within a second). Every statement runs on a blocking client: call these from threads or
//! `spawn_blocking`, never directly on an async task. A broken connection is replaced on the next
//! call, so the hub resumes by itself once the database is back.
//!
//! The dependencies point one way: `store` uses this module, and this module uses neither `store`
//! nor the modules whose records it keeps.

use std::sync::Mutex;

use postgres::{Client, NoTls};

use crate::HubError;

/// Where a hub keeps its state in PostgreSQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgStore {
    /// libpq connection string or URL (`postgres://user@host:port/db`).
    pub conninfo: String,
    /// The schema (lower-case letters, digits and `_`), one per region's ledger.
    pub schema: String,
}

impl PgStore {
    /// A store; checks the schema name.
    pub fn new(conninfo: &str, schema: &str) -> Result<Self, HubError> {
        ledger::pg::valid_schema(schema).map_err(|e| HubError::Config(e.to_string()))?;
        Ok(Self { conninfo: conninfo.to_string(), schema: schema.to_string() })
    }
}

/// A database error, saying what was being done.
pub(crate) fn db(what: &str, e: postgres::Error) -> HubError {
    HubError::Io(format!("postgres: {what}: {e}"))
}

/// A connection to the hub's state in one schema.
pub struct PgState {
    store: PgStore,
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PgState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgState").field("schema", &self.store.schema).finish_non_exhaustive()
    }
}

impl PgState {
    /// Connects and creates the hub's tables if needed.
    pub fn connect(store: &PgStore) -> Result<Self, HubError> {
        let state = Self { store: store.clone(), client: Mutex::new(None) };
        let s = &store.schema;
        state
            .with(|c| {
                c.batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {s};
                 CREATE TABLE IF NOT EXISTS {s}.hub_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS {s}.hub_tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL,
                     agency TEXT NOT NULL, usr TEXT NOT NULL, role TEXT NOT NULL, issued BIGINT NOT NULL,
                     expires BIGINT NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE);
                 CREATE TABLE IF NOT EXISTS {s}.hub_reviews (id TEXT PRIMARY KEY, owner TEXT NOT NULL,
                     created BIGINT NOT NULL, decided BOOLEAN NOT NULL DEFAULT FALSE, data TEXT NOT NULL,
                     claimed_until BIGINT NOT NULL DEFAULT 0);
                 ALTER TABLE {s}.hub_reviews ADD COLUMN IF NOT EXISTS claimed_until BIGINT NOT NULL DEFAULT 0;
                 CREATE INDEX IF NOT EXISTS hub_reviews_pending ON {s}.hub_reviews (owner, created) WHERE NOT decided;
                 CREATE TABLE IF NOT EXISTS {s}.hub_notifications (id TEXT PRIMARY KEY, owner TEXT NOT NULL,
                     due BIGINT NOT NULL, sent BOOLEAN NOT NULL DEFAULT FALSE, data TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS {s}.hub_console_requests (id TEXT PRIMARY KEY, agency TEXT NOT NULL,
                     usr TEXT NOT NULL, time BIGINT NOT NULL, source TEXT NOT NULL, decision TEXT NOT NULL,
                     ledger_index BIGINT NOT NULL, seq BIGSERIAL);
                 CREATE INDEX IF NOT EXISTS hub_console_requests_user ON {s}.hub_console_requests (agency, usr, time, seq);"
                ))
                .map_err(|e| db("create tables", e))
            })
            .map_err(|e| HubError::Io(format!("{e} (schema {s})")))?;
        Ok(state)
    }

    /// The schema.
    pub fn schema(&self) -> &str {
        &self.store.schema
    }

    /// Runs `f` on the connection, (re)connecting first if there is none or it broke.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, HubError>) -> Result<T, HubError> {
        let mut guard = self.client.lock().map_err(|_| HubError::Io("postgres client lock poisoned".into()))?;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(Client::connect(&self.store.conninfo, NoTls).map_err(|e| db("connect", e))?);
        }
        let client = guard.as_mut().ok_or_else(|| HubError::Io("postgres: no connection".into()))?;
        f(client)
    }

    /// The secret `name`, created with `make` by whichever replica asks first.
    pub fn secret(&self, name: &str, make: impl FnOnce() -> Result<String, HubError>) -> Result<String, HubError> {
        let s = &self.store.schema;
        let fresh = make()?;
        self.with(|c| {
            c.execute(
                &format!("INSERT INTO {s}.hub_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"),
                &[&name, &fresh],
            )
            .map_err(|e| db("write secret", e))?;
            Ok(c.query_one(&format!("SELECT value FROM {s}.hub_secrets WHERE name = $1"), &[&name])
                .map_err(|e| db("read secret", e))?
                .get(0))
        })
    }
}
