//! The hub's own state in PostgreSQL, so that several replicas serve one region: bearer tokens,
//! the review queue and the hub's secrets (the ledger's signing key, the subject HMAC key), in the
//! same schema as the ledger (`ledger::pg`).
//!
//! Tables: `hub_secrets (name, value)`, `hub_tokens (id, hash, agency, usr, role, issued,
//! expires, revoked)`, `hub_reviews (id, owner, created, decided, data, claimed_until)` where
//! `data` is the review as JSON and `claimed_until` the end of a supervisor's claim (Unix
//! seconds), and `hub_notifications (id, owner, due, sent, data)`, the notices owed. Every
//! statement runs on a blocking client: call these from threads or `spawn_blocking`, never
//! directly on an async task. A broken connection is replaced on the
//! next call, so the hub resumes by itself once the database is back.

use std::sync::Mutex;

use postgres::{Client, NoTls};

use crate::duties::{Notification, Sent};
use crate::reviews::{Review, Verdict};
use crate::tokens::TokenRecord;
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

fn db(what: &str, e: postgres::Error) -> HubError {
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
                     due BIGINT NOT NULL, sent BOOLEAN NOT NULL DEFAULT FALSE, data TEXT NOT NULL);"
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
    fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, HubError>) -> Result<T, HubError> {
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

    /// Stores a new token record.
    pub fn insert_token(&self, r: &TokenRecord) -> Result<(), HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_tokens (id, hash, agency, usr, role, issued, expires, revoked)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ),
                &[&r.id, &r.hash, &r.agency, &r.user, &r.role, &(r.issued as i64), &(r.expires as i64), &r.revoked],
            )
            .map_err(|e| db("store token", e))?;
            Ok(())
        })
    }

    /// Revokes a token; false if unknown.
    pub fn revoke_token(&self, id: &str) -> Result<bool, HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            let n = c
                .execute(&format!("UPDATE {s}.hub_tokens SET revoked = TRUE WHERE id = $1"), &[&id])
                .map_err(|e| db("revoke token", e))?;
            Ok(n > 0)
        })
    }

    /// Every token record, oldest first.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>, HubError> {
        self.read_tokens("TRUE", None)
    }

    /// The token record with public id `id`.
    pub fn token(&self, id: &str) -> Result<Option<TokenRecord>, HubError> {
        Ok(self.read_tokens("id = $1", Some(id))?.pop())
    }

    fn read_tokens(&self, filter: &str, id: Option<&str>) -> Result<Vec<TokenRecord>, HubError> {
        let s = &self.store.schema;
        let sql = format!(
            "SELECT id, hash, agency, usr, role, issued, expires, revoked FROM {s}.hub_tokens WHERE {filter} ORDER BY issued, id"
        );
        self.with(|c| {
            let rows = match id {
                Some(id) => c.query(&sql, &[&id]),
                None => c.query(&sql, &[]),
            }
            .map_err(|e| db("read tokens", e))?;
            Ok(rows
                .iter()
                .map(|r| TokenRecord {
                    id: r.get(0),
                    hash: r.get(1),
                    agency: r.get(2),
                    user: r.get(3),
                    role: r.get(4),
                    issued: r.get::<_, i64>(5) as u64,
                    expires: r.get::<_, i64>(6) as u64,
                    revoked: r.get(7),
                })
                .collect())
        })
    }

    /// Holds a review (durable once this returns).
    pub fn hold(&self, review: &Review) -> Result<(), HubError> {
        let s = &self.store.schema;
        let data = serde_json::to_string(review).map_err(|e| HubError::Io(e.to_string()))?;
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_reviews (id, owner, created, decided, data) VALUES ($1, $2, $3, FALSE, $4)"
                ),
                &[&review.id, &review.owner, &(review.created as i64), &data],
            )
            .map_err(|e| db("hold review", e))?;
            Ok(())
        })
    }

    /// Claims pending review `id` until Unix time `until` (see [`crate::reviews::ReviewStore::claim`]):
    /// one UPDATE, so of two replicas claiming at once exactly one gets it.
    pub fn claim(&self, id: &str, now: u64, until: u64) -> Result<Review, HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            let claimed = c
                .query_opt(
                    &format!(
                        "UPDATE {s}.hub_reviews SET claimed_until = $2 WHERE id = $1 AND NOT decided AND claimed_until <= $3 RETURNING data"
                    ),
                    &[&id, &(until as i64), &(now as i64)],
                )
                .map_err(|e| db("claim review", e))?;
            if let Some(row) = claimed {
                return parse_review(row.get(0));
            }
            let decided: Option<bool> = c
                .query_opt(&format!("SELECT decided FROM {s}.hub_reviews WHERE id = $1"), &[&id])
                .map_err(|e| db("read review", e))?
                .map(|r| r.get(0));
            Err(match decided {
                None => HubError::NotFound(format!("no review {id:?}")),
                Some(true) => HubError::Conflict(format!("review {id:?} is already decided")),
                Some(false) => HubError::Conflict(format!("review {id:?} is being decided by another supervisor")),
            })
        })
    }

    /// Gives up the claim on review `id`.
    pub fn unclaim(&self, id: &str) -> Result<(), HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            c.execute(&format!("UPDATE {s}.hub_reviews SET claimed_until = 0 WHERE id = $1 AND NOT decided"), &[&id])
                .map_err(|e| db("unclaim review", e))?;
            Ok(())
        })
    }

    /// Records a verdict, atomically across replicas: fails with [`HubError::Conflict`] if
    /// another supervisor decided first, [`HubError::NotFound`] if there is no such review.
    pub fn decide(&self, id: &str, verdict: Verdict) -> Result<Review, HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            let mut tx = c.transaction().map_err(|e| db("begin", e))?;
            let row = tx
                .query_opt(&format!("SELECT data FROM {s}.hub_reviews WHERE id = $1 FOR UPDATE"), &[&id])
                .map_err(|e| db("read review", e))?
                .ok_or_else(|| HubError::NotFound(format!("no review {id:?}")))?;
            let mut review = parse_review(row.get(0))?;
            if review.verdict.is_some() {
                return Err(HubError::Conflict(format!("review {id:?} is already decided")));
            }
            review.verdict = Some(verdict);
            let data = serde_json::to_string(&review).map_err(|e| HubError::Io(e.to_string()))?;
            tx.execute(
                &format!("UPDATE {s}.hub_reviews SET decided = TRUE, claimed_until = 0, data = $2 WHERE id = $1"),
                &[&id, &data],
            )
            .map_err(|e| db("decide review", e))?;
            tx.commit().map_err(|e| db("commit verdict", e))?;
            Ok(review)
        })
    }

    /// One review.
    pub fn review(&self, id: &str) -> Result<Option<Review>, HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            c.query_opt(&format!("SELECT data FROM {s}.hub_reviews WHERE id = $1"), &[&id])
                .map_err(|e| db("read review", e))?
                .map(|r| parse_review(r.get(0)))
                .transpose()
        })
    }

    /// The pending reviews of sources owned by `agency`, oldest first.
    pub fn pending_for(&self, agency: &str) -> Result<Vec<Review>, HubError> {
        self.pending_where("owner = $1 AND", &[&agency])
    }

    /// Every pending review, oldest first.
    pub fn pending_all(&self) -> Result<Vec<Review>, HubError> {
        self.pending_where("", &[])
    }

    fn pending_where(
        &self,
        filter: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Review>, HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            c.query(
                &format!("SELECT data FROM {s}.hub_reviews WHERE {filter} NOT decided ORDER BY created, id"),
                params,
            )
            .map_err(|e| db("read reviews", e))?
            .iter()
            .map(|r| parse_review(r.get(0)))
            .collect()
        })
    }
}

impl PgState {
    /// Queues a notice (durable once this returns).
    pub fn queue_notice(&self, n: &Notification) -> Result<(), HubError> {
        let s = &self.store.schema;
        let data = serde_json::to_string(n).map_err(|e| HubError::Io(e.to_string()))?;
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_notifications (id, owner, due, sent, data) VALUES ($1, $2, $3, FALSE, $4)"
                ),
                &[&n.id, &n.owner, &(n.due as i64), &data],
            )
            .map_err(|e| db("queue notification", e))?;
            Ok(())
        })
    }

    /// One notice.
    pub fn notice(&self, id: &str) -> Result<Option<Notification>, HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            c.query_opt(&format!("SELECT data FROM {s}.hub_notifications WHERE id = $1"), &[&id])
                .map_err(|e| db("read notification", e))?
                .map(|r| parse_json(r.get(0)))
                .transpose()
        })
    }

    /// The unsent notices of `agency`.
    pub fn pending_notices(&self, agency: &str) -> Result<Vec<Notification>, HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            c.query(&format!("SELECT data FROM {s}.hub_notifications WHERE owner = $1 AND NOT sent"), &[&agency])
                .map_err(|e| db("read notifications", e))?
                .iter()
                .map(|r| parse_json(r.get(0)))
                .collect()
        })
    }

    /// Marks a notice sent, once, across replicas.
    pub fn mark_notice_sent(&self, id: &str, sent: Sent) -> Result<Notification, HubError> {
        let s = &self.store.schema;
        self.with(|c| {
            let mut tx = c.transaction().map_err(|e| db("begin", e))?;
            let row = tx
                .query_opt(&format!("SELECT data FROM {s}.hub_notifications WHERE id = $1 FOR UPDATE"), &[&id])
                .map_err(|e| db("read notification", e))?
                .ok_or_else(|| HubError::NotFound(format!("no notification {id:?}")))?;
            let mut n: Notification = parse_json(row.get(0))?;
            if n.sent.is_some() {
                return Err(HubError::Conflict(format!("notification {id:?} is already sent")));
            }
            n.sent = Some(sent);
            let data = serde_json::to_string(&n).map_err(|e| HubError::Io(e.to_string()))?;
            tx.execute(
                &format!("UPDATE {s}.hub_notifications SET sent = TRUE, data = $2 WHERE id = $1"),
                &[&id, &data],
            )
            .map_err(|e| db("mark notification sent", e))?;
            tx.commit().map_err(|e| db("commit notification", e))?;
            Ok(n)
        })
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(data: &str) -> Result<T, HubError> {
    serde_json::from_str(data).map_err(|e| HubError::Config(format!("postgres: a stored record is damaged: {e}")))
}

fn parse_review(data: &str) -> Result<Review, HubError> {
    parse_json(data)
}
