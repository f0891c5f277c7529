//! PostgreSQL storage, shared by several hub replicas.
//!
//! One schema holds one ledger: `entries (idx, data)`, `public_files (path, data)`
//! (the C2SP tiles and checkpoint, to serve from any replica) and
//! `ledger_state (published_size)`. Writers coordinate with an advisory lock
//! keyed by the schema, in one of two ways:
//!
//! * one sequencer ([`PgStorage::connect`], [`PgStorage::try_connect`]): it holds
//!   the lock for its whole session, on the very connection it writes with, so
//!   losing the connection loses the lock and the right to write together. The
//!   others wait for the lock or are refused at once.
//! * every replica writes ([`PgStorage::connect_shared`]): each group commit is one
//!   transaction that takes the lock for the transaction only, reads the entries
//!   other replicas appended since its own last one (they join its in-memory tree
//!   first), inserts its batch right after them and commits; only then are its
//!   entries acknowledged. Idle replicas catch up every [`SHARED_POLL`].
//!
//! Either way the primary key on `idx` makes two entries at one index impossible,
//! and a checkpoint is only ever replaced by one at least as large, so replicas
//! publishing in turn never roll the public checkpoint back. Any process can
//! read the public files with [`PgPublicReader`].
//!
//! A group commit is one transaction inserting the batch with `unnest`; with
//! PostgreSQL's default `synchronous_commit = on` the commit returns once the
//! WAL record is flushed, so one flush serves the whole batch.

use std::sync::Mutex;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

use crate::merkle::Hash;
use crate::storage::Storage;
use crate::tiles::{TileFetcher, VerifyError};
use crate::LedgerError;

/// A database error, with its causes: `postgres::Error` alone says only "db error", while the
/// server's message ("ERROR: ...") is its source.
fn db(what: &str, e: postgres::Error) -> LedgerError {
    let mut why = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        why.push_str(": ");
        why.push_str(&c.to_string().replace('\n', "; "));
        cause = c.source();
    }
    LedgerError::Io { what: format!("postgres: {what}"), why }
}

/// Checks a schema name: 1 to 63 lower-case letters, digits and `_`, not starting with a digit
/// (it is spliced into SQL as an identifier, so nothing else is allowed).
pub fn valid_schema(schema: &str) -> Result<(), LedgerError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(LedgerError::Config(format!(
            "schema name {schema:?} must be 1 to 63 lower-case letters, digits and _, not starting with a digit"
        )))
    }
}

/// The advisory lock key of a schema's sequencer.
fn lock_key(schema: &str) -> i64 {
    let h = crate::merkle::leaf_hash(format!("fusionguard-ledger sequencer {schema}").as_bytes());
    i64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

/// How often an idle replica of a shared ledger reads the entries the others appended.
pub const SHARED_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// How a [`PgStorage`] coordinates with other writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Wait for the session-level sequencer lock.
    Wait,
    /// Fail if another process holds the sequencer lock.
    Try,
    /// Take the lock per group commit (every replica writes).
    Shared,
}

/// The PostgreSQL backend of one ledger (one schema).
pub struct PgStorage {
    client: Mutex<Client>,
    schema: String,
    shared: bool,
}

impl std::fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStorage").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl PgStorage {
    /// Connects (`conninfo` as in libpq, e.g. `host=127.0.0.1 user=postgres dbname=test`),
    /// creates the schema's tables if needed, and waits until this replica
    /// holds the sequencer lock.
    pub fn connect(conninfo: &str, schema: &str) -> Result<Self, LedgerError> {
        Self::open(conninfo, schema, Mode::Wait)
    }

    /// Like [`PgStorage::connect`] but fails with [`LedgerError::Locked`] at
    /// once if another replica is sequencing.
    pub fn try_connect(conninfo: &str, schema: &str) -> Result<Self, LedgerError> {
        Self::open(conninfo, schema, Mode::Try)
    }

    /// Connects as one of several replicas that all append to the ledger: no
    /// session lock; each group commit takes the lock for its transaction, first
    /// takes in the entries the others appended, then appends after them.
    pub fn connect_shared(conninfo: &str, schema: &str) -> Result<Self, LedgerError> {
        Self::open(conninfo, schema, Mode::Shared)
    }

    fn open(conninfo: &str, schema: &str, mode: Mode) -> Result<Self, LedgerError> {
        valid_schema(schema)?;
        let mut client = Client::connect(conninfo, NoTls).map_err(|e| db("connect", e))?;
        let key = lock_key(schema);
        if mode == Mode::Wait {
            client.execute("SELECT pg_advisory_lock($1)", &[&key]).map_err(|e| db("sequencer lock", e))?;
        } else if mode == Mode::Try {
            let got: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .map_err(|e| db("sequencer lock", e))?
                .get(0);
            if !got {
                return Err(LedgerError::Locked(format!("postgres schema {schema}")));
            }
        }
        // Serialised by the lock, so that replicas starting together do not race to create.
        let mut tx = client.transaction().map_err(|e| db("begin", e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key]).map_err(|e| db("sequencer lock", e))?;
        tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 CREATE TABLE IF NOT EXISTS {schema}.entries (idx BIGINT PRIMARY KEY, data BYTEA NOT NULL);
                 CREATE TABLE IF NOT EXISTS {schema}.public_files (path TEXT PRIMARY KEY, data BYTEA NOT NULL);
                 CREATE TABLE IF NOT EXISTS {schema}.ledger_state (id INT PRIMARY KEY CHECK (id = 1), published_size BIGINT NOT NULL);"
            ))
            .map_err(|e| db("create tables", e))?;
        tx.commit().map_err(|e| db("create tables", e))?;
        Ok(Self { client: Mutex::new(client), schema: schema.to_string(), shared: mode == Mode::Shared })
    }

    fn client(&self) -> Result<std::sync::MutexGuard<'_, Client>, LedgerError> {
        self.client.lock().map_err(|_| LedgerError::Poisoned)
    }
}

impl Storage for PgStorage {
    fn recover(&self, published: u64, visit: &mut dyn FnMut(u64, &[u8])) -> Result<u64, LedgerError> {
        let mut c = self.client()?;
        let s = &self.schema;
        let rows = c
            .query_raw(&format!("SELECT idx, data FROM {s}.entries ORDER BY idx"), std::iter::empty::<i64>())
            .map_err(|e| db("read entries", e))?;
        let mut n = 0u64;
        let mut it = rows;
        while let Some(row) = it.next().map_err(|e| db("read entries", e))? {
            let idx: i64 = row.get(0);
            if idx != n as i64 {
                return Err(LedgerError::Corrupt(format!("{s}.entries: expected index {n}, found {idx}")));
            }
            let data: &[u8] = row.get(1);
            visit(n, data);
            n += 1;
        }
        if n < published {
            return Err(LedgerError::Corrupt(format!("{s}.entries holds {n} entries, {published} were published")));
        }
        Ok(n)
    }

    fn append(&self, first_index: u64, entries: &[Vec<u8>], _leaf_hashes: &[Hash]) -> Result<(), LedgerError> {
        let mut c = self.client()?;
        let idx: Vec<i64> = (0..entries.len() as u64).map(|i| (first_index + i) as i64).collect();
        let data: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        c.execute(
            &format!("INSERT INTO {}.entries (idx, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])", self.schema),
            &[&idx, &data],
        )
        .map_err(|e| db(&format!("append entries from index {first_index}"), e))?;
        Ok(())
    }

    fn append_shared(&self, next: u64, entries: &[Vec<u8>], leaf_hashes: &[Hash]) -> Result<Vec<Hash>, LedgerError> {
        if !self.shared {
            if !entries.is_empty() {
                self.append(next, entries, leaf_hashes)?;
            }
            return Ok(Vec::new());
        }
        let s = &self.schema;
        let select = format!("SELECT idx, data FROM {s}.entries WHERE idx >= $1 ORDER BY idx");
        let mut c = self.client()?;
        if entries.is_empty() {
            // Catching up while idle, without the lock: what is committed, up to any gap.
            let rows = c.query(&select, &[&(next as i64)]).map_err(|e| db("read new entries", e))?;
            return contiguous(next, &rows, s, false);
        }
        let mut tx = c.transaction().map_err(|e| db("begin", e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(s)]).map_err(|e| db("sequencer lock", e))?;
        let rows = tx.query(&select, &[&(next as i64)]).map_err(|e| db("read new entries", e))?;
        let others = contiguous(next, &rows, s, true)?;
        let first = next + others.len() as u64;
        let idx: Vec<i64> = (0..entries.len() as u64).map(|i| (first + i) as i64).collect();
        let data: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        tx.execute(
            &format!("INSERT INTO {s}.entries (idx, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])"),
            &[&idx, &data],
        )
        .map_err(|e| db(&format!("append entries from index {first}"), e))?;
        tx.commit().map_err(|e| db(&format!("commit entries from index {first}"), e))?;
        Ok(others)
    }

    fn poll_interval(&self) -> Option<std::time::Duration> {
        self.shared.then_some(SHARED_POLL)
    }

    fn read_entries(&self, first: u64, count: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        let mut c = self.client()?;
        let rows = c
            .query(
                &format!("SELECT data FROM {}.entries WHERE idx >= $1 AND idx < $2 ORDER BY idx", self.schema),
                &[&(first as i64), &((first + count) as i64)],
            )
            .map_err(|e| db(&format!("read entries {first}..{}", first + count), e))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    fn write_public(&self, path: &str, data: &[u8]) -> Result<(), LedgerError> {
        let mut c = self.client()?;
        c.execute(
            &format!(
                "INSERT INTO {}.public_files (path, data) VALUES ($1, $2) ON CONFLICT (path) DO UPDATE SET data = EXCLUDED.data",
                self.schema
            ),
            &[&path, &data],
        )
        .map_err(|e| db(&format!("write {path}"), e))?;
        Ok(())
    }

    fn sync_public(&self) -> Result<(), LedgerError> {
        Ok(()) // every write_public is its own committed statement
    }

    fn read_public(&self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        let mut c = self.client()?;
        read_file(&mut c, &self.schema, path).map_err(|e| db(&format!("read {path}"), e))
    }

    fn publish_checkpoint(&self, note: &[u8], size: u64) -> Result<(), LedgerError> {
        let mut c = self.client()?;
        let s = &self.schema;
        let mut tx = c.transaction().map_err(|e| db("begin", e))?;
        tx.execute(
            &format!("INSERT INTO {s}.ledger_state (id, published_size) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"),
            &[],
        )
        .map_err(|e| db("write state", e))?;
        let current: i64 = tx
            .query_one(&format!("SELECT published_size FROM {s}.ledger_state WHERE id = 1 FOR UPDATE"), &[])
            .map_err(|e| db("read state", e))?
            .get(0);
        if (size as i64) < current {
            // Another replica already published a larger tree; ours stays unpublished.
            return tx.commit().map_err(|e| db("commit checkpoint", e));
        }
        tx.execute(
            &format!("INSERT INTO {s}.public_files (path, data) VALUES ('checkpoint', $1) ON CONFLICT (path) DO UPDATE SET data = EXCLUDED.data"),
            &[&note],
        )
        .map_err(|e| db("write checkpoint", e))?;
        tx.execute(
            &format!("INSERT INTO {s}.ledger_state (id, published_size) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET published_size = GREATEST({s}.ledger_state.published_size, EXCLUDED.published_size)"),
            &[&(size as i64)],
        )
        .map_err(|e| db("write state", e))?;
        tx.commit().map_err(|e| db("commit checkpoint", e))
    }

    fn published_high_water(&self) -> Result<u64, LedgerError> {
        let mut c = self.client()?;
        let row = c
            .query_opt(&format!("SELECT published_size FROM {}.ledger_state WHERE id = 1", self.schema), &[])
            .map_err(|e| db("read state", e))?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }
}

/// The leaf hashes of `rows` (`idx`, `data`, ordered by `idx`) that follow on from index `next`
/// without a gap. Under the lock (`strict`) a gap means damaged storage.
fn contiguous(next: u64, rows: &[postgres::Row], schema: &str, strict: bool) -> Result<Vec<Hash>, LedgerError> {
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let idx: i64 = row.get(0);
        let want = next + i as u64;
        if idx != want as i64 {
            if strict {
                return Err(LedgerError::Corrupt(format!("{schema}.entries: expected index {want}, found {idx}")));
            }
            break;
        }
        out.push(crate::merkle::leaf_hash(row.get::<_, &[u8]>(1)));
    }
    Ok(out)
}

fn read_file(c: &mut Client, schema: &str, path: &str) -> Result<Option<Vec<u8>>, postgres::Error> {
    Ok(c.query_opt(&format!("SELECT data FROM {schema}.public_files WHERE path = $1"), &[&path])?.map(|r| r.get(0)))
}

/// Read-only access to a PostgreSQL ledger's public files, from any replica
/// (no sequencer lock), e.g. to serve `/ledger/tile/...` or to verify the log.
pub struct PgPublicReader {
    client: Mutex<Client>,
    schema: String,
}

impl std::fmt::Debug for PgPublicReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPublicReader").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl PgPublicReader {
    /// Connects without taking the sequencer lock.
    pub fn connect(conninfo: &str, schema: &str) -> Result<Self, LedgerError> {
        valid_schema(schema)?;
        let client = Client::connect(conninfo, NoTls).map_err(|e| db("connect", e))?;
        Ok(Self { client: Mutex::new(client), schema: schema.to_string() })
    }

    /// Reads a public file (`checkpoint`, `tile/...`).
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        let mut c = self.client.lock().map_err(|_| LedgerError::Poisoned)?;
        read_file(&mut c, &self.schema, path).map_err(|e| db(&format!("read {path}"), e))
    }
}

impl TileFetcher for PgPublicReader {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        self.read(path).map_err(|e| VerifyError::Fetch { path: path.to_string(), why: e.to_string() })
    }
}
