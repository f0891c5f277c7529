//! The embedded SQL store: sources served from tables of a SQLite file, by default
//! `DATA/sources/embedded.sqlite` (what `fusionguard demo` and `fusionguard sources import` write).
//!
//! A lookup runs one prepared statement per subject kind, built when the hub starts from checked,
//! quoted identifiers; the subject is a bind parameter. Tables written by [`write_table`] carry an
//! index on `lower(trim(column))` for every key column, so a lookup is an index search, not a scan.
//! Connections are pooled (one per worker that fetches at the same time) and opened query-only:
//! the hub never writes to a source. Each pooled connection reads in one transaction that it
//! renews every [`SNAPSHOT`], so a lookup takes no file lock of its own; a change to the file
//! (`fusionguard sources import`, another program) is seen within that time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use model::{Source, Subject};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};

use super::{quote_ident, select_by_kind, Record, KEY_COLUMNS};
use crate::HubError;

/// The file name of the embedded store inside `DATA/sources/`.
pub const EMBEDDED_DB: &str = "embedded.sqlite";

/// How long a pooled connection reads from one snapshot of the file before it takes a new one.
pub const SNAPSHOT: Duration = Duration::from_secs(1);

/// A pooled connection and when its read transaction began (None: not in one).
type Pooled = (Connection, Option<Instant>);

/// The tables of one SQLite file behind some of the sources.
pub(super) struct LiteSources {
    path: PathBuf,
    pool: Mutex<Vec<Pooled>>,
    /// Per source id: per subject kind, the statement (absent: the kind matches nothing).
    tables: HashMap<String, HashMap<&'static str, String>>,
}

impl std::fmt::Debug for LiteSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiteSources").field("path", &self.path).field("tables", &self.tables.len()).finish()
    }
}

fn open(path: &Path) -> Result<Connection, String> {
    // Read-write (never create) so that a store in WAL mode is read through its shared memory,
    // without a file lock per query; `query_only` makes any write an error.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let c = Connection::open_with_flags(path, flags).map_err(|e| format!("{}: {e}", path.display()))?;
    c.pragma_update(None, "query_only", true).map_err(|e| format!("{}: {e}", path.display()))?;
    c.busy_timeout(std::time::Duration::from_secs(2)).map_err(|e| format!("{}: {e}", path.display()))?;
    c.set_prepared_statement_cache_capacity(256);
    Ok(c)
}

/// A table name as SQLite knows it: its own schema of a file is `main`.
fn local(table: &str) -> &str {
    table.strip_prefix("main.").unwrap_or(table)
}

/// The column names of `table` in `c` (empty if there is no such table).
fn columns_of(c: &Connection, table: &str) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt = c.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let rows = stmt.query_map([table], |r| r.get::<_, String>(0))?;
    rows.collect()
}

impl LiteSources {
    /// Opens the SQLite file at `path` (it must exist).
    pub(super) fn open(path: &Path) -> Result<Self, HubError> {
        if !path.is_file() {
            return Err(HubError::Config(format!("sources database {}: no such file", path.display())));
        }
        let c = open(path).map_err(HubError::Io)?;
        Ok(Self { path: path.to_path_buf(), pool: Mutex::new(vec![(c, None)]), tables: HashMap::new() })
    }

    /// The file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The column names of `table` (empty if there is no such table; `main.` is this file).
    pub(super) fn columns(&self, table: &str) -> Result<Vec<String>, HubError> {
        self.with(|c| columns_of(c, local(table))).map_err(HubError::Io)
    }

    /// Builds and prepares the statements of `source` over `table`, whose columns are `columns`:
    /// a statement that cannot be prepared is a configuration error at start.
    pub(super) fn prepare(&mut self, source: &Source, table: &str, columns: &[String]) -> Result<(), HubError> {
        let select = source.fields.iter().map(|f| quote_ident(f)).collect::<Vec<_>>().join(", ");
        let by_kind = select_by_kind(&select, &quote_ident(local(table)), columns, |e| format!("lower(trim({e}))"));
        for sql in by_kind.values() {
            self.with(|c| c.prepare_cached(sql).map(drop)).map_err(HubError::Config)?;
        }
        self.tables.insert(source.id.clone(), by_kind);
        Ok(())
    }

    /// True if `source` is served from this file.
    pub(super) fn serves(&self, source: &str) -> bool {
        self.tables.contains_key(source)
    }

    /// Number of sources served from this file.
    pub(super) fn len(&self) -> usize {
        self.tables.len()
    }

    /// Runs `f` on a pooled connection (opening one if every pooled one is in use), inside that
    /// connection's read transaction, renewed when older than [`SNAPSHOT`]. A connection that
    /// failed is dropped, not pooled again.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>) -> Result<T, String> {
        let pooled = self.pool.lock().map_err(|_| "source pool lock poisoned".to_string())?.pop();
        let (c, mut since) = match pooled {
            Some(p) => p,
            None => (open(&self.path)?, None),
        };
        let out = (|| {
            if since.is_none_or(|t| t.elapsed() >= SNAPSHOT) {
                if !c.is_autocommit() {
                    c.execute_batch("COMMIT")?;
                }
                c.execute_batch("BEGIN")?;
                since = Some(Instant::now());
            }
            f(&c)
        })()
        .map_err(|e| format!("sources database {}: {e}", self.path.display()))?;
        if let Ok(mut pool) = self.pool.lock() {
            pool.push((c, since));
        }
        Ok(out)
    }

    /// The records about `subject` (declared fields only, each as text; SQL NULL as `null`);
    /// None if `source` is not served from this file.
    pub(super) fn lookup(&self, source: &Source, subject: &Subject) -> Option<Result<Vec<Record>, String>> {
        let by_kind = self.tables.get(&source.id)?;
        let Some(sql) = by_kind.get(subject.kind.as_str()) else { return Some(Ok(Vec::new())) };
        Some(self.with(|c| {
            let mut stmt = c.prepare_cached(sql)?;
            let mut rows = stmt.query([&subject.value])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let mut rec = Map::with_capacity(source.fields.len());
                for (i, f) in source.fields.iter().enumerate() {
                    rec.insert(f.clone(), text(row.get_ref(i)?));
                }
                out.push(rec);
            }
            Ok(out)
        }))
    }
}

/// A stored value as the hub releases it: text (numbers in their decimal form), `null` for NULL.
fn text(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::String(i.to_string()),
        ValueRef::Real(r) => Value::String(r.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
    }
}

/// Writes `rows` (header first) as table `name` of the SQLite file `path`, creating the file (in
/// WAL mode) if needed and replacing a table of that name, in one transaction: a failure leaves
/// the file as it was. Every key column (`plate`, `name`, ...) gets an index on its trimmed,
/// case-folded value. Returns the number of rows written.
pub fn write_table(path: &Path, name: &str, rows: &[Vec<String>]) -> Result<usize, HubError> {
    let err = |e: rusqlite::Error| HubError::Io(format!("{}: table {name:?}: {e}", path.display()));
    let Some((header, body)) = rows.split_first() else {
        return Err(HubError::Config(format!("table {name:?}: no header line")));
    };
    if header.is_empty() || header.iter().any(|c| c.trim().is_empty()) {
        return Err(HubError::Config(format!("table {name:?}: the header has an empty column name")));
    }
    if let Some((i, r)) = body.iter().enumerate().find(|(_, r)| r.len() != header.len()) {
        return Err(HubError::Config(format!(
            "table {name:?}: line {} has {} fields, the header has {}",
            i + 2,
            r.len(),
            header.len()
        )));
    }
    // The store holds records about people: the file (and so its WAL, which SQLite creates with
    // the file's mode) is the hub user's alone.
    drop(crate::keys::open_private_append(path)?);
    let mut c = Connection::open(path).map_err(err)?;
    c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    let tx = c.transaction().map_err(err)?;
    let table = quote_ident(name);
    let cols = header.iter().map(|h| format!("{} TEXT", quote_ident(h.trim()))).collect::<Vec<_>>().join(", ");
    tx.execute_batch(&format!("DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({cols});")).map_err(err)?;
    {
        let marks = (1..=header.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let mut insert = tx.prepare(&format!("INSERT INTO {table} VALUES ({marks})")).map_err(err)?;
        for r in body {
            insert.execute(rusqlite::params_from_iter(r.iter())).map_err(err)?;
        }
    }
    for col in header.iter().map(|h| h.trim()).filter(|h| KEY_COLUMNS.contains(h)) {
        tx.execute_batch(&format!(
            "CREATE INDEX {} ON {table} (lower(trim({})))",
            quote_ident(&format!("{name}__{col}")),
            quote_ident(col)
        ))
        .map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(body.len())
}

#[cfg(test)]
mod tests {
    use super::super::SqlSources;
    use super::*;

    /// The store at `path` as the hub's sources database.
    fn store(path: &Path) -> SqlSources {
        SqlSources::Lite(LiteSources::open(path).unwrap())
    }

    fn lite(sql: &SqlSources) -> &LiteSources {
        match sql {
            SqlSources::Lite(l) => l,
            SqlSources::Pg(_) => unreachable!("a SQLite store"),
        }
    }

    fn source(id: &str, fields: &[&str]) -> Source {
        Source {
            id: id.into(),
            category: "alpr".into(),
            owner: "o".into(),
            fields: fields.iter().map(|f| (*f).to_string()).collect(),
            agreements: vec![],
            part23: false,
            table: None,
        }
    }

    fn rows(text: &str) -> Vec<Vec<String>> {
        super::super::parse_csv(text).unwrap()
    }

    #[test]
    fn lookup_uses_the_key_index_and_releases_declared_fields_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let n = write_table(
            &path,
            "x-alpr",
            &rows("plate,read_time,secret\n7ABC123,t1,s1\n 7abc123 ,t2,s2\n9ZZZ999,t3,s3\nÉTÉ1,t4,s4\n"),
        )
        .unwrap();
        assert_eq!(n, 4);
        let mut sql = store(&path);
        let s = source("x-alpr", &["plate", "read_time"]);
        assert!(sql.add(&s, "x-alpr", true).unwrap());
        let lite = lite(&sql);
        let got = lite.lookup(&s, &Subject { kind: "plate".into(), value: "7Abc123 ".into() }).unwrap().unwrap();
        let times: Vec<&str> = got.iter().map(|r| r["read_time"].as_str().unwrap()).collect();
        assert_eq!(times, ["t1", "t2"]);
        assert!(got.iter().all(|r| !r.contains_key("secret")));
        // A key with non-ASCII letters is found as it is stored (SQLite folds ASCII only, on
        // both sides of the comparison alike).
        let ete = lite.lookup(&s, &Subject { kind: "plate".into(), value: " ÉtÉ1".into() }).unwrap().unwrap();
        assert_eq!(ete.len(), 1, "{ete:?}");
        // A kind with no column matches nothing; an injection attempt is only a value.
        assert!(lite.lookup(&s, &Subject { kind: "name".into(), value: "x".into() }).unwrap().unwrap().is_empty());
        let evil = Subject { kind: "plate".into(), value: "x' OR '1'='1".into() };
        assert!(lite.lookup(&s, &evil).unwrap().unwrap().is_empty());
        // The statement searches the index on lower(trim(plate)), it does not scan the table.
        let sql = &lite.tables["x-alpr"]["plate"];
        let plan: Vec<String> = lite
            .with(|c| {
                let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let r = st.query_map(["7abc123"], |r| r.get::<_, String>(3))?;
                r.collect()
            })
            .unwrap();
        assert!(plan.iter().any(|p| p.contains("USING INDEX")), "{plan:?}");
    }

    #[test]
    fn bad_tables_are_refused_with_what_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        write_table(&path, "t", &rows("plate,read_time\nA,1\n")).unwrap();
        let mut sql = store(&path);
        let err = sql.add(&source("x", &["plate", "camera"]), "t", true).unwrap_err().to_string();
        assert!(err.contains("no column \"camera\"") && err.contains("s.sqlite"), "{err}");
        let err = sql.add(&source("x", &["plate"]), "missing", true).unwrap_err().to_string();
        assert!(err.contains("no table \"missing\""), "{err}");
        // Not required (a source's implicit table): absent is no error, and nothing is served.
        assert!(!sql.add(&source("y", &["plate"]), "missing", false).unwrap());
        assert!(!sql.serves("y"));
        let err = write_table(&path, "t", &rows("plate,read_time\nB\n")).unwrap_err().to_string();
        assert!(err.contains("line 2 has 1 fields"), "{err}");
        // The failed write left the table as it was.
        sql.add(&source("x", &["plate"]), "t", true).unwrap();
        let got = sql.lookup(&source("x", &["plate"]), &Subject { kind: "plate".into(), value: "a".into() });
        assert_eq!(got.unwrap().unwrap().len(), 1);
        let err = LiteSources::open(&dir.path().join("none.sqlite")).unwrap_err().to_string();
        assert!(err.contains("none.sqlite: no such file"), "{err}");
    }

    #[test]
    fn the_hub_cannot_write_to_a_source() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        write_table(&path, "t", &rows("plate\nA\n")).unwrap();
        let lite = LiteSources::open(&path).unwrap();
        let err = lite.with(|c| c.execute("DELETE FROM t", [])).unwrap_err();
        assert!(err.contains("readonly") || err.contains("read-only") || err.contains("query_only"), "{err}");
        assert_eq!(lite.columns("t").unwrap(), ["plate"]);
    }
}
