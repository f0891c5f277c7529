//! Connectors to the data sources behind the hub, and the demo's synthetic data.
//!
//! A source is served from a table, found in this order:
//! 1. the table its deployment entry names (`table = "..."`), in the sources database;
//! 2. else the CSV file `DATA/sources/<source-id>.csv` (its header names the columns);
//! 3. else the table named by its id in the sources database, if there is one.
//!
//! The sources database is `serve --sources-db`: a PostgreSQL URL or libpq string, or the path of a
//! SQLite file; without it, the embedded store `DATA/sources/embedded.sqlite` if it exists
//! ([`sqlite`]; the demo's synthetic sources live there).
//!
//! A lookup matches the subject, trimmed and case-folded, against the columns named by the
//! subject's kind (`plate`, `name`, `license_number`; `name` also matches `student_name`, `plate`
//! also `vehicle_registration`). Only the fields the deployment declares for the source are ever
//! released; any other column stays behind. The hub does no biometric matching of its own: a
//! `face_image` subject matches nothing.

use std::collections::HashMap;
use std::path::Path;

use model::{Deployment, Source, Subject};
use serde_json::{Map, Value};

use crate::HubError;

pub mod sqlite;
pub use sqlite::{write_table, EMBEDDED_DB};

/// The columns a subject can be matched against (indexed in every table the hub writes).
pub const KEY_COLUMNS: &[&str] = &["name", "student_name", "plate", "vehicle_registration", "license_number"];

/// The folder of the data directory that holds one CSV file per source.
pub const SOURCES_DIR: &str = "sources";

/// At most this many records are returned for one request.
pub const MAX_RECORDS: usize = 1000;

/// One released record: field name to value.
pub type Record = Map<String, Value>;

/// A table read from a CSV file, indexed by every column that a subject kind can name.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    index: HashMap<(usize, String), Vec<usize>>,
}

/// Parses CSV text (RFC 4180: commas, double quotes, CRLF or LF). The error names the line.
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    let mut quoted = false;
    let mut quote_line = 0usize;
    let mut at_field_start = true;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    match chars.peek() {
                        None | Some(',') | Some('\n') | Some('\r') => {}
                        Some(other) => return Err(format!("line {line}: unexpected {other:?} after a closing quote")),
                    }
                }
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                quote_line = line;
                at_field_start = false;
            }
            '"' => return Err(format!("line {line}: a quote inside an unquoted field")),
            ',' => {
                row.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                at_field_start = true;
                line += 1;
                any = false;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err(format!("line {quote_line}: a quoted field opened here is not closed"));
    }
    if any {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// Formats rows as CSV text.
pub fn to_csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for r in rows {
        out.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The columns a subject kind is matched against.
fn columns_for(kind: &str) -> &'static [&'static str] {
    model::vocab::subject_columns(kind)
}

impl Table {
    /// Builds a table from CSV text; `what` names it in errors.
    pub fn from_csv(text: &str, what: &str) -> Result<Self, HubError> {
        let mut rows = parse_csv(text).map_err(|e| HubError::Config(format!("{what}: {e}")))?;
        if rows.is_empty() {
            return Err(HubError::Config(format!("{what}: no header line")));
        }
        let columns: Vec<String> = rows.remove(0).into_iter().map(|c| c.trim().to_string()).collect();
        for (i, r) in rows.iter().enumerate() {
            if r.len() != columns.len() {
                return Err(HubError::Config(format!(
                    "{what}: line {} has {} fields, the header has {}",
                    i + 2,
                    r.len(),
                    columns.len()
                )));
            }
        }
        let mut index: HashMap<(usize, String), Vec<usize>> = HashMap::new();
        for (c, name) in columns.iter().enumerate() {
            if KEY_COLUMNS.contains(&name.as_str()) {
                for (r, row) in rows.iter().enumerate() {
                    index.entry((c, normalize(&row[c]))).or_default().push(r);
                }
            }
        }
        Ok(Self { columns, rows, index })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The records about `subject`, restricted to `fields` (the source's declared fields).
    pub fn lookup(&self, subject: &Subject, fields: &[String]) -> Vec<Record> {
        let mut hits: Vec<usize> = Vec::new();
        let key = normalize(&subject.value);
        for col in columns_for(&subject.kind) {
            if let Some(c) = self.columns.iter().position(|x| x == col) {
                if let Some(rows) = self.index.get(&(c, key.clone())) {
                    for r in rows {
                        if !hits.contains(r) {
                            hits.push(*r);
                        }
                    }
                }
            }
        }
        hits.sort_unstable();
        hits.truncate(MAX_RECORDS);
        hits.into_iter()
            .map(|r| {
                let mut rec = Map::new();
                for f in fields {
                    if let Some(c) = self.columns.iter().position(|x| x == f) {
                        rec.insert(f.clone(), Value::String(self.rows[r][c].clone()));
                    }
                }
                rec
            })
            .collect()
    }
}

fn normalize(v: &str) -> String {
    v.trim().to_lowercase()
}

/// Checks that `columns` (of a table, CSV file or SQL table, named by `what` in the error) has a
/// column for every field the deployment declares for `source`.
pub fn check_columns<S: AsRef<str>>(source: &Source, columns: &[S], what: &str) -> Result<(), HubError> {
    match source.fields.iter().find(|f| !columns.iter().any(|c| c.as_ref() == f.as_str())) {
        Some(missing) => Err(HubError::Config(format!(
            "{what}: no column {missing:?}, a field of source {:?} in the deployment",
            source.id
        ))),
        None => Ok(()),
    }
}

/// Per subject kind, the statement `SELECT <select> FROM <from> WHERE <key(c1)> = <key($1)> OR ...
/// LIMIT n` over the key columns of that kind that `columns` has; a kind with none is absent (it
/// matches nothing). `key` turns a quoted column, or the subject, into its normalised form (trimmed,
/// case-folded) in the database's own SQL, so that both sides fold alike (SQLite's `lower` folds
/// ASCII letters only, Rust's folds all). `$1` is a bind parameter in PostgreSQL and SQLite alike.
fn select_by_kind(
    select: &str,
    from: &str,
    columns: &[String],
    key: impl Fn(&str) -> String,
) -> HashMap<&'static str, String> {
    let mut by_kind = HashMap::new();
    for kind in ["name", "plate", "license_number"] {
        let keys: Vec<String> = columns_for(kind)
            .iter()
            .filter(|c| columns.iter().any(|x| x == *c))
            .map(|c| format!("{} = {}", key(&quote_ident(c)), key("$1")))
            .collect();
        if !keys.is_empty() {
            by_kind
                .insert(kind, format!("SELECT {select} FROM {from} WHERE {} LIMIT {MAX_RECORDS}", keys.join(" OR ")));
        }
    }
    by_kind
}

/// Quotes an SQL identifier (PostgreSQL and SQLite).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The PostgreSQL tables behind some of the sources, on one connection (the table connector).
///
/// The statements are built once, when the hub starts, from identifiers that are checked twice:
/// the deployment allows only lower-case letters, digits and `_` in table names, and every column
/// named must exist in `information_schema.columns`; all are quoted. The subject is always a bind
/// parameter. Only the declared fields are selected, as text.
struct PgSources {
    conninfo: String,
    client: std::sync::Mutex<Option<postgres::Client>>,
    /// Per source id: per subject kind, the statement.
    tables: HashMap<String, HashMap<&'static str, String>>,
}

impl std::fmt::Debug for PgSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSources").field("tables", &self.tables.len()).finish_non_exhaustive()
    }
}

impl PgSources {
    fn with<T>(&self, f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>) -> Result<T, String> {
        let mut guard = self.client.lock().map_err(|_| "source connection lock poisoned".to_string())?;
        if guard.as_ref().is_none_or(postgres::Client::is_closed) {
            let c = postgres::Client::connect(&self.conninfo, postgres::NoTls)
                .map_err(|e| format!("cannot reach the sources database: {e}"))?;
            *guard = Some(c);
        }
        let c = guard.as_mut().ok_or("no connection to the sources database")?;
        f(c).map_err(|e| format!("sources database: {e}"))
    }

    /// The columns of `table` (`schema.table` or `table` in `public`); empty if there is none.
    fn columns(&self, table: &str) -> Result<Vec<String>, HubError> {
        let (schema, name) = table.split_once('.').unwrap_or(("public", table));
        Ok(self
            .with(|c| {
                c.query(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
                    &[&schema, &name],
                )
            })
            .map_err(|e| HubError::Io(format!("table {table}: {e}")))?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Builds the statements of `source` over `table`, whose columns are `columns`.
    fn prepare(&mut self, source: &Source, table: &str, columns: &[String]) -> Result<(), HubError> {
        let (schema, name) = table.split_once('.').unwrap_or(("public", table));
        let select = source.fields.iter().map(|f| format!("{}::text", quote_ident(f))).collect::<Vec<_>>().join(", ");
        let from = format!("{}.{}", quote_ident(schema), quote_ident(name));
        let by_kind = select_by_kind(&select, &from, columns, |e| format!("lower(btrim({e}::text))"));
        self.tables.insert(source.id.clone(), by_kind);
        Ok(())
    }

    fn lookup(&self, source: &Source, subject: &Subject) -> Option<Result<Vec<Record>, String>> {
        let by_kind = self.tables.get(&source.id)?;
        let Some(sql) = by_kind.get(subject.kind.as_str()) else { return Some(Ok(Vec::new())) };
        let rows = match self.with(|c| c.query(sql.as_str(), &[&subject.value])) {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(rows
            .iter()
            .map(|row| {
                source
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.clone(), row.get::<_, Option<String>>(i).map_or(Value::Null, Value::String)))
                    .collect()
            })
            .collect()))
    }
}

/// The sources database: PostgreSQL or a SQLite file.
#[derive(Debug)]
enum SqlSources {
    Pg(Box<PgSources>),
    Lite(sqlite::LiteSources),
}

impl SqlSources {
    /// Connects to `db`: a PostgreSQL URL (`postgres://`, `postgresql://`) or libpq string (with
    /// `=`), else the path of a SQLite file.
    fn connect(db: &str) -> Result<Self, HubError> {
        if db.starts_with("postgres://") || db.starts_with("postgresql://") || db.contains('=') {
            let pg =
                PgSources { conninfo: db.to_string(), client: std::sync::Mutex::new(None), tables: HashMap::new() };
            pg.with(|_| Ok(())).map_err(HubError::Io)?;
            Ok(Self::Pg(Box::new(pg)))
        } else {
            sqlite::LiteSources::open(Path::new(db.strip_prefix("sqlite:").unwrap_or(db))).map(Self::Lite)
        }
    }

    /// Checks `table` for `source` (a column for every declared field) and prepares its
    /// statements. A table that does not exist is an error if `required`, else `Ok(false)`.
    fn add(&mut self, source: &Source, table: &str, required: bool) -> Result<bool, HubError> {
        let (columns, place) = match self {
            Self::Pg(p) => (p.columns(table)?, "the sources database".to_string()),
            Self::Lite(l) => (l.columns(table)?, format!("the sources database {}", l.path().display())),
        };
        if columns.is_empty() {
            if !required {
                return Ok(false);
            }
            return Err(HubError::Config(format!("source {:?}: no table {table:?} in {place}", source.id)));
        }
        check_columns(source, &columns, &format!("{place}, table {table:?}"))?;
        match self {
            Self::Pg(p) => p.prepare(source, table, &columns)?,
            Self::Lite(l) => l.prepare(source, table, &columns)?,
        }
        Ok(true)
    }

    fn serves(&self, source: &str) -> bool {
        match self {
            Self::Pg(p) => p.tables.contains_key(source),
            Self::Lite(l) => l.serves(source),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Pg(p) => p.tables.len(),
            Self::Lite(l) => l.len(),
        }
    }

    fn lookup(&self, source: &Source, subject: &Subject) -> Option<Result<Vec<Record>, String>> {
        match self {
            Self::Pg(p) => p.lookup(source, subject),
            Self::Lite(l) => l.lookup(source, subject),
        }
    }
}

/// The connectors of a deployment's sources: a table in the sources database (PostgreSQL or
/// SQLite, the embedded store by default) or a CSV file per source (see the module's doc for
/// which one serves a source).
#[derive(Debug, Default)]
pub struct Connectors {
    tables: HashMap<String, Table>,
    sql: Option<SqlSources>,
}

impl Connectors {
    /// Connects every source of the deployment that has a table, with the embedded store
    /// `DATA/sources/embedded.sqlite` (if it exists) as the sources database.
    pub fn load(data: &Path, deployment: &Deployment) -> Result<Self, HubError> {
        Self::load_with(data, deployment, None)
    }

    /// Like [`Connectors::load`], with `sources_db` (a PostgreSQL URL or libpq string, or a SQLite
    /// file) as the sources database instead of the embedded store. Every table must have a
    /// column for each field the deployment declares for its source. Blocking.
    pub fn load_with(data: &Path, deployment: &Deployment, sources_db: Option<&str>) -> Result<Self, HubError> {
        let dir = data.join(SOURCES_DIR);
        let embedded = dir.join(EMBEDDED_DB);
        let mut sql = match sources_db {
            Some(db) => Some(SqlSources::connect(db)?),
            None if embedded.is_file() => Some(SqlSources::Lite(sqlite::LiteSources::open(&embedded)?)),
            None => None,
        };
        let mut tables = HashMap::new();
        for s in deployment.sources() {
            if let Some(table) = &s.table {
                let Some(sql) = sql.as_mut() else {
                    return Err(HubError::Config(format!(
                        "source {:?} is served from table {table}: give the sources database (--sources-db), or put the table in {}",
                        s.id,
                        embedded.display()
                    )));
                };
                sql.add(s, table, true).map_err(|e| match e {
                    HubError::Io(m) => HubError::Io(format!("source {:?}: {m}", s.id)),
                    other => other,
                })?;
                continue;
            }
            let path = dir.join(format!("{}.csv", s.id));
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if let Some(sql) = sql.as_mut() {
                        sql.add(s, &s.id, false)?;
                    }
                    continue;
                }
                Err(e) => return Err(HubError::Io(format!("{}: {e}", path.display()))),
            };
            let table = Table::from_csv(&text, &path.display().to_string())?;
            check_columns(s, &table.columns, &path.display().to_string())?;
            tables.insert(s.id.clone(), table);
        }
        Ok(Self { tables, sql })
    }

    /// True if `source` has a connector.
    pub fn has(&self, source: &str) -> bool {
        self.tables.contains_key(source) || self.sql.as_ref().is_some_and(|p| p.serves(source))
    }

    /// True if fetching from `source` blocks on a network database (call [`Connectors::fetch`]
    /// off the async workers then). The embedded store answers from a local file in microseconds.
    pub fn blocks(&self, source: &str) -> bool {
        matches!(&self.sql, Some(SqlSources::Pg(p)) if p.tables.contains_key(source))
    }

    /// Number of connected sources.
    pub fn len(&self) -> usize {
        self.tables.len() + self.sql.as_ref().map_or(0, SqlSources::len)
    }

    /// True when no source is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fetches the records about `subject` from `source` (declared fields only); None if the
    /// source has no connector, an error if its database cannot answer.
    pub fn fetch(&self, source: &Source, subject: &Subject) -> Option<Result<Vec<Record>, String>> {
        match self.tables.get(&source.id) {
            Some(t) => Some(Ok(t.lookup(subject, &source.fields))),
            None => self.sql.as_ref()?.lookup(source, subject),
        }
    }
}

/// SplitMix64: a small, fixed, well-known generator, so the synthetic world is the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// The seed of the demo's synthetic world.
pub const SYNTHETIC_SEED: u64 = 20_241_101;
/// Names that the seed world's scenarios and examples ask about; every name-keyed source has them.
pub const DEMO_NAMES: &[&str] = &["J. Doe", "J. Roe", "R. Roe", "M. Roe", "student"];
/// The plate the scenarios ask about; every ALPR source has reads of it.
pub const DEMO_PLATE: &str = "7ABC123";

const SURNAMES: &[&str] = &["Doe", "Roe", "Poe", "Moe", "Sample", "Example", "Placeholder", "Testcase", "Fixture"];
const STREETS: &[&str] = &["Example St", "Sample Ave", "Placeholder Rd", "Fixture Ln", "Synthetic Blvd"];
const TOWNS: &[&str] = &["Sampletown", "Exampleville", "Fixture City", "Mockford"];
const LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

fn plate(rng: &mut Rng) -> String {
    let l = |rng: &mut Rng| LETTERS[rng.below(LETTERS.len() as u64) as usize] as char;
    format!("{}{}{}{}{:03}", 1 + rng.below(9), l(rng), l(rng), l(rng), rng.below(1000))
}

fn value(field: &str, key_name: &str, key_plate: &str, n: u64, rng: &mut Rng) -> String {
    match field {
        "name" | "student_name" => key_name.to_string(),
        "plate" | "vehicle_registration" => key_plate.to_string(),
        "date_of_birth" => format!("19{:02}-{:02}-{:02}", 50 + rng.below(50), 1 + rng.below(12), 1 + rng.below(28)),
        "license_number" => format!("S{:07}", rng.below(10_000_000)),
        "home_address" | "last_address" => {
            format!("{} {}, {} (synthetic)", 1 + rng.below(9999), rng.pick(STREETS), rng.pick(TOWNS))
        }
        "photo" => format!("placeholder:photo-{n:05}.jpg"),
        "vehicle_image" => format!("placeholder:vehicle-{n:05}.jpg"),
        "read_time" => format!(
            "2024-{:02}-{:02}T{:02}:{:02}:00Z",
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60)
        ),
        "camera_location" => format!("synthetic camera {}", 1 + rng.below(40)),
        "gang_designation" => format!("synthetic group {}", 1 + rng.below(12)),
        "associates" => rng.below(6).to_string(),
        "last_review" | "release_date" => format!("2023-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
        "immigration_status" => rng.pick(&["citizen", "lawful_permanent_resident", "visa_holder", "unknown"]).into(),
        "citizenship" => rng.pick(&["US", "unknown", "other"]).into(),
        "incident_summary" => format!("synthetic incident report {n}"),
        "booking_status" => rng.pick(&["booked", "released", "none"]).into(),
        "school" => format!("Sample School {}", 1 + rng.below(9)),
        other => format!("synthetic {other} {n}"),
    }
}

/// Generates the synthetic rows of one source (header first), the same for the same seed: 60
/// made-up people or vehicles plus the names and plate the seed world's scenarios use.
pub fn synthetic_rows(source: &Source, seed: u64) -> Vec<Vec<String>> {
    let mut rng = Rng(seed ^ u64::from_le_bytes(crate::fold8(source.id.as_bytes())));
    let mut rows = vec![source.fields.clone()];
    let by_plate = source.fields.iter().any(|f| f == "plate");
    let mut keys: Vec<(String, String)> = Vec::new();
    if by_plate {
        for _ in 0..3 {
            keys.push((String::new(), DEMO_PLATE.to_string()));
        }
    } else {
        for n in DEMO_NAMES {
            keys.push(((*n).to_string(), plate(&mut rng)));
        }
    }
    for _ in 0..60 {
        let name = format!("{}. {}", LETTERS[rng.below(LETTERS.len() as u64) as usize] as char, rng.pick(SURNAMES));
        keys.push((name, plate(&mut rng)));
    }
    for (n, (name, p)) in keys.iter().enumerate() {
        rows.push(source.fields.iter().map(|f| value(f, name, p, n as u64, &mut rng)).collect());
    }
    rows
}

/// Writes the synthetic rows of every source of the deployment into the embedded store
/// `DATA/sources/embedded.sqlite`, one table per source named by its id.
pub fn write_synthetic(data: &Path, deployment: &Deployment, seed: u64) -> Result<(), HubError> {
    crate::keys::create_private_dir(data)?;
    let dir = data.join(SOURCES_DIR);
    crate::keys::create_private_dir(&dir)?;
    let path = dir.join(EMBEDDED_DB);
    for s in deployment.sources() {
        write_table(&path, &s.id, &synthetic_rows(s, seed))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_and_errors() {
        let rows = vec![vec!["a".to_string(), "b,c".into()], vec!["say \"hi\"".into(), "x\ny".into()]];
        assert_eq!(parse_csv(&to_csv(&rows)).unwrap(), rows);
        assert_eq!(parse_csv("a,b\r\n1,2\r\n").unwrap(), vec![vec!["a", "b"], vec!["1", "2"]]);
        assert!(parse_csv("a,b\n1,\"2\n").unwrap_err().contains("line 2: a quoted field opened here"));
        assert!(parse_csv("a,b\n1,x\"y\n").unwrap_err().contains("line 2"));
        let err = Table::from_csv("a,b\n1,2\n3\n", "t.csv").unwrap_err().to_string();
        assert!(err.contains("t.csv: line 3"), "{err}");
    }

    #[test]
    fn lookup_releases_declared_fields_only() {
        let t = Table::from_csv("name,home_address,secret\nJ. Doe,1 Main,x\nA. Roe,2 Main,y\n", "t").unwrap();
        let subject = Subject { kind: "name".into(), value: " j. doe ".into() };
        let got = t.lookup(&subject, &["name".into(), "home_address".into()]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["home_address"], "1 Main");
        assert!(!got[0].contains_key("secret"));
        assert!(t.lookup(&Subject { kind: "face_image".into(), value: "x".into() }, &["name".into()]).is_empty());
    }

    #[test]
    fn synthetic_world_is_fixed() {
        let s = Source {
            id: "x-alpr".into(),
            category: "alpr".into(),
            owner: "o".into(),
            fields: vec!["plate".into(), "read_time".into()],
            agreements: vec![],
            part23: false,
            table: None,
        };
        let a = synthetic_rows(&s, SYNTHETIC_SEED);
        assert_eq!(a, synthetic_rows(&s, SYNTHETIC_SEED));
        assert_ne!(a, synthetic_rows(&s, SYNTHETIC_SEED + 1));
        assert_eq!(a.iter().filter(|r| r[0] == DEMO_PLATE).count(), 3);
    }
}
