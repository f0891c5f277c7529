//! PostgreSQL storage, shared by several hub replicas.
//!
//! One schema holds one ledger: `entries (idx, data)`, `public_files (path, data)`
//! (the C2SP tiles and checkpoint, to serve from any replica) and
//! `ledger_state (published_size)`. Exactly one replica sequences at a time: it
//! holds a session-level advisory lock, keyed by the schema, on the very
//! connection it writes with, so losing the connection loses the lock and the
//! right to write together. The primary key on `idx` makes two writers at one
//! index impossible even then. The others wait for the lock
//! ([`PgStorage::connect`]) or are refused at once ([`PgStorage::try_connect`]);
//! any replica can read the public files with [`PgPublicReader`].
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

fn db(what: &str, e: postgres::Error) -> LedgerError {
    LedgerError::Io { what: format!("postgres: {what}"), why: e.to_string() }
}

fn valid_schema(schema: &str) -> Result<(), LedgerError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(LedgerError::Config(format!("schema name {schema:?} must be lower-case letters, digits and _")))
    }
}

/// The advisory lock key of a schema's sequencer.
fn lock_key(schema: &str) -> i64 {
    let h = crate::merkle::leaf_hash(format!("fusionguard-ledger sequencer {schema}").as_bytes());
    i64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

/// The PostgreSQL backend of one ledger (one schema), holding the sequencer lock.
pub struct PgStorage {
    client: Mutex<Client>,
    schema: String,
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
        Self::open(conninfo, schema, true)
    }

    /// Like [`PgStorage::connect`] but fails with [`LedgerError::Locked`] at
    /// once if another replica is sequencing.
    pub fn try_connect(conninfo: &str, schema: &str) -> Result<Self, LedgerError> {
        Self::open(conninfo, schema, false)
    }

    fn open(conninfo: &str, schema: &str, wait: bool) -> Result<Self, LedgerError> {
        valid_schema(schema)?;
        let mut client = Client::connect(conninfo, NoTls).map_err(|e| db("connect", e))?;
        let key = lock_key(schema);
        if wait {
            client.execute("SELECT pg_advisory_lock($1)", &[&key]).map_err(|e| db("sequencer lock", e))?;
        } else {
            let got: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .map_err(|e| db("sequencer lock", e))?
                .get(0);
            if !got {
                return Err(LedgerError::Locked(format!("postgres schema {schema}")));
            }
        }
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 CREATE TABLE IF NOT EXISTS {schema}.entries (idx BIGINT PRIMARY KEY, data BYTEA NOT NULL);
                 CREATE TABLE IF NOT EXISTS {schema}.public_files (path TEXT PRIMARY KEY, data BYTEA NOT NULL);
                 CREATE TABLE IF NOT EXISTS {schema}.ledger_state (id INT PRIMARY KEY CHECK (id = 1), published_size BIGINT NOT NULL);"
            ))
            .map_err(|e| db("create tables", e))?;
        Ok(Self { client: Mutex::new(client), schema: schema.to_string() })
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
