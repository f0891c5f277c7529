//! Bearer tokens: one per user of one agency, stored hashed (SHA-256), expiring and revocable.
//!
//! A token reads `fgt_<id>_<secret>`: the id (16 hex digits) finds the record, the whole token's
//! SHA-256 must match the stored hash. The store is `DATA/tokens.json`, rewritten atomically under
//! an exclusive lock by `fusionguard token issue|revoke`; a running hub re-reads it when it
//! changes (within a second), so revocation needs no restart. With `--store postgres://...` the
//! records live in the `hub_tokens` table instead ([`crate::pgstate`]), shared by every replica,
//! which re-reads it every second and looks up an id it does not know yet.

use std::collections::HashMap;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::keys::random_bytes;
use crate::pgstate::{db, PgState};
use crate::HubError;

/// Name of the token store inside the data directory.
pub const TOKENS_FILE: &str = "tokens.json";
const LOCK_FILE: &str = "tokens.lock";

/// The role that may approve or deny reviews for its agency's sources.
pub const SUPERVISOR: &str = "supervisor";

/// What a token stands for (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Public id (16 hex digits), the part of the token used to find this record.
    pub id: String,
    /// SHA-256 (hex) of the whole token.
    pub hash: String,
    /// The agency the user acts for.
    pub agency: String,
    /// The user's id within the agency.
    pub user: String,
    /// The user's role (`supervisor` may decide reviews).
    pub role: String,
    /// Issue time (Unix seconds).
    pub issued: u64,
    /// Expiry time (Unix seconds).
    pub expires: u64,
    /// True once revoked.
    #[serde(default)]
    pub revoked: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn hash_token(token: &str) -> String {
    crate::keys::to_hex(&Sha256::digest(token.as_bytes()))
}

fn io(path: &Path, e: impl std::fmt::Display) -> HubError {
    HubError::Io(format!("{}: {e}", path.display()))
}

/// Why a token was refused (the 401 response says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Not of the form `fgt_<id>_<secret>`, or unknown, or the secret does not match.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
}

impl TokenRefusal {
    /// A sentence for the problem detail.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Invalid => "the bearer token is not valid",
            Self::Expired => "the bearer token has expired",
            Self::Revoked => "the bearer token has been revoked",
        }
    }
}

/// Exclusive lock on the token store for read-modify-write (released on drop).
struct FileLock(#[allow(dead_code)] std::fs::File);

impl FileLock {
    fn acquire(dir: &Path) -> Result<Self, HubError> {
        let p = dir.join(LOCK_FILE);
        let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&p).map_err(|e| io(&p, e))?;
        // SAFETY: flock on a valid, owned file descriptor; blocks until the lock is ours.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io(&p, std::io::Error::last_os_error()));
        }
        Ok(Self(f))
    }
}

fn read_file(path: &Path) -> Result<TokenFile, HubError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| HubError::Config(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
        Err(e) => Err(io(path, e)),
    }
}

fn write_file(dir: &Path, file: &TokenFile) -> Result<(), HubError> {
    let data = serde_json::to_vec_pretty(file).map_err(|e| HubError::Io(e.to_string()))?;
    write_private(dir, TOKENS_FILE, &data)
}

/// Replaces `dir/name` with `data` atomically and durably (a temporary file, fsynced, renamed,
/// then the directory fsynced), readable by the owner only.
pub(crate) fn write_private(dir: &Path, name: &str, data: &[u8]) -> Result<(), HubError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io(&tmp, e))?;
    f.write_all(data).and_then(|()| f.sync_all()).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, e))
}

/// A new token and its record (not stored yet).
fn new_token(agency: &str, user: &str, role: &str, ttl_secs: u64) -> Result<(String, TokenRecord), HubError> {
    for (what, v) in [("agency", agency), ("user", user), ("role", role)] {
        if v.is_empty() || v.len() > 128 || v.chars().any(|c| c.is_control()) {
            return Err(HubError::Config(format!("token {what} must be 1 to 128 printable characters")));
        }
    }
    if !model::vocab::is_known(model::vocab::ROLES, role) {
        return Err(HubError::Config(format!("unknown role {role:?}; roles: {}", model::vocab::ROLES.join(", "))));
    }
    let id = hex::encode(random_bytes::<8>()?);
    let token = format!("fgt_{id}_{}", B64URL.encode(random_bytes::<32>()?));
    let issued = now();
    let record = TokenRecord {
        id,
        hash: hash_token(&token),
        agency: agency.to_string(),
        user: user.to_string(),
        role: role.to_string(),
        issued,
        expires: issued.saturating_add(ttl_secs),
        revoked: false,
    };
    Ok((token, record))
}

/// Issues a token for `user` of `agency` with `role`, valid for `ttl_secs`. Returns the token
/// (shown once; only its hash is stored) and its record.
pub fn issue(
    dir: &Path,
    agency: &str,
    user: &str,
    role: &str,
    ttl_secs: u64,
) -> Result<(String, TokenRecord), HubError> {
    let (token, record) = new_token(agency, user, role, ttl_secs)?;
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let _lock = FileLock::acquire(dir)?;
    let mut file = read_file(&dir.join(TOKENS_FILE))?;
    file.tokens.push(record.clone());
    write_file(dir, &file)?;
    Ok((token, record))
}

/// Like [`issue`], into the PostgreSQL store shared by replicas.
pub fn issue_pg(
    pg: &PgState,
    agency: &str,
    user: &str,
    role: &str,
    ttl_secs: u64,
) -> Result<(String, TokenRecord), HubError> {
    let (token, record) = new_token(agency, user, role, ttl_secs)?;
    pg.insert_token(&record)?;
    Ok((token, record))
}

/// The public id in what a user gives for a token: the id itself (as `token list` prints it),
/// `fgt_<id>` (as the token begins) or the whole token `fgt_<id>_<secret>`.
pub fn given_id(given: &str) -> &str {
    let given = given.trim();
    let rest = given.strip_prefix("fgt_").unwrap_or(given);
    rest.split('_').next().unwrap_or(rest)
}

/// Revokes the token with public id `id` (the part after `fgt_`). Returns false if unknown.
pub fn revoke(dir: &Path, id: &str) -> Result<bool, HubError> {
    let _lock = FileLock::acquire(dir)?;
    let mut file = read_file(&dir.join(TOKENS_FILE))?;
    let mut found = false;
    for t in file.tokens.iter_mut().filter(|t| t.id == id) {
        t.revoked = true;
        found = true;
    }
    if found {
        write_file(dir, &file)?;
    }
    Ok(found)
}

/// Every token record (for `fusionguard token list`).
pub fn list(dir: &Path) -> Result<Vec<TokenRecord>, HubError> {
    Ok(read_file(&dir.join(TOKENS_FILE))?.tokens)
}

type Stamp = Option<(SystemTime, u64)>;

/// Where a [`TokenStore`] reads its records.
#[derive(Debug)]
enum Backing {
    File(PathBuf),
    Pg(Arc<PgState>),
}

/// The hub's view of the token store, re-read when the file changes (or, in PostgreSQL, every
/// second, and one record at a time for ids issued since).
#[derive(Debug)]
pub struct TokenStore {
    backing: Backing,
    state: RwLock<(Stamp, HashMap<String, TokenRecord>)>,
    /// Ids looked up in PostgreSQL and not found, with when: not looked up again for
    /// [`UNKNOWN_TTL`], so that bogus tokens do not cost a database round trip each.
    unknown: std::sync::Mutex<HashMap<String, std::time::Instant>>,
}

/// How long an id PostgreSQL does not know is answered as unknown without asking it again (a
/// token issued on another replica in the meantime works at most this much later; the
/// once-a-second reload of every record usually finds it first).
pub const UNKNOWN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Most unknown ids remembered at once (the memory is dropped whole when full).
const MAX_UNKNOWN: usize = 100_000;

impl TokenStore {
    /// Opens the store of data directory `dir` (an absent file means no tokens yet).
    pub fn open(dir: &Path) -> Result<Self, HubError> {
        Self::with(Backing::File(dir.join(TOKENS_FILE)))
    }

    /// Opens the store in PostgreSQL. Blocking.
    pub fn open_pg(pg: Arc<PgState>) -> Result<Self, HubError> {
        Self::with(Backing::Pg(pg))
    }

    fn with(backing: Backing) -> Result<Self, HubError> {
        let store = Self { backing, state: RwLock::new((None, HashMap::new())), unknown: Default::default() };
        store.reload()?;
        Ok(store)
    }

    fn stamp(&self) -> Stamp {
        let Backing::File(path) = &self.backing else { return None };
        std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())))
    }

    /// Re-reads the records if they may have changed since the last read (blocking). A damaged
    /// file or an unreachable database keeps the old view.
    pub fn reload(&self) -> Result<(), HubError> {
        let stamp = self.stamp();
        let records = match &self.backing {
            Backing::File(path) => {
                if self.state.read().is_ok_and(|s| s.0 == stamp && stamp.is_some()) {
                    return Ok(());
                }
                read_file(path)?.tokens
            }
            Backing::Pg(pg) => pg.tokens()?,
        };
        let map = records.into_iter().map(|t| (t.id.clone(), t)).collect();
        if let Ok(mut s) = self.state.write() {
            *s = (stamp, map);
        }
        Ok(())
    }

    /// True when `token` has an id this store does not know yet and is kept in PostgreSQL,
    /// where [`TokenStore::fetch`] (blocking) may find it: issued on another replica.
    pub fn should_fetch(&self, token: &str) -> bool {
        let Backing::Pg(_) = self.backing else { return false };
        let Some(id) = token_id(token) else { return false };
        let recently_unknown =
            self.unknown.lock().is_ok_and(|u| u.get(id).is_some_and(|at| at.elapsed() < UNKNOWN_TTL));
        !recently_unknown && self.state.read().is_ok_and(|s| !s.1.contains_key(id))
    }

    /// Looks up the record of `token`'s id in PostgreSQL (one indexed row) and keeps it.
    pub fn fetch(&self, token: &str) -> Result<(), HubError> {
        let (Backing::Pg(pg), Some(id)) = (&self.backing, token_id(token)) else { return Ok(()) };
        match pg.token(id)? {
            Some(record) => {
                if let Ok(mut s) = self.state.write() {
                    s.1.insert(record.id.clone(), record);
                }
            }
            None => {
                if let Ok(mut u) = self.unknown.lock() {
                    if u.len() >= MAX_UNKNOWN {
                        u.clear();
                    }
                    u.insert(id.to_string(), std::time::Instant::now());
                }
            }
        }
        Ok(())
    }

    /// Checks a bearer token and returns its record.
    pub fn verify(&self, token: &str) -> Result<TokenRecord, TokenRefusal> {
        let Some(id) = token_id(token) else { return Err(TokenRefusal::Invalid) };
        let lookup = |s: &Self| s.state.read().ok().and_then(|st| st.1.get(id).cloned());
        let record = match lookup(self) {
            Some(r) => r,
            None if matches!(self.backing, Backing::File(_)) => {
                // Perhaps issued since the last read (PostgreSQL: see `should_fetch`).
                let _ = self.reload();
                lookup(self).ok_or(TokenRefusal::Invalid)?
            }
            None => return Err(TokenRefusal::Invalid),
        };
        let given = hash_token(token);
        // Constant-time comparison of the two hashes.
        let diff = given.bytes().zip(record.hash.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 || given.len() != record.hash.len() {
            return Err(TokenRefusal::Invalid);
        }
        if record.revoked {
            return Err(TokenRefusal::Revoked);
        }
        if now() >= record.expires {
            return Err(TokenRefusal::Expired);
        }
        Ok(record)
    }
}

/// The public id of a token of the form `fgt_<id>_<secret>`.
fn token_id(token: &str) -> Option<&str> {
    token.strip_prefix("fgt_").and_then(|rest| rest.split_once('_')).map(|(id, _)| id).filter(|id| id.len() == 16)
}

/// The PostgreSQL statements of this store (the connection is [`crate::pgstate`]'s).
impl PgState {
    /// Stores a new token record.
    pub fn insert_token(&self, r: &TokenRecord) -> Result<(), HubError> {
        let s = self.schema();
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
        let s = self.schema();
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
        let s = self.schema();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_roles_are_refused_and_ids_are_found_in_what_users_give() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(issue(dir.path(), "a", "u", "wizard", 60), Err(HubError::Config(_))));
        for role in model::vocab::ROLES {
            issue(dir.path(), "a", "u", role, 60).unwrap();
        }
        for given in ["0123456789abcdef", "fgt_0123456789abcdef", "fgt_0123456789abcdef_secret"] {
            assert_eq!(given_id(given), "0123456789abcdef");
        }
    }

    #[test]
    fn issue_verify_revoke_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        let (token, rec) = issue(dir.path(), "lapd", "det-1", "detective", 3600).unwrap();
        assert_eq!(store.verify(&token).unwrap(), rec);
        let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!stored.contains(&token) && stored.contains(&rec.hash), "only the hash is stored");
        // A forged secret with a real id is refused.
        let forged = format!("fgt_{}_{}", rec.id, "A".repeat(43));
        assert_eq!(store.verify(&forged), Err(TokenRefusal::Invalid));
        assert_eq!(store.verify("nonsense"), Err(TokenRefusal::Invalid));
        let (expired, _) = issue(dir.path(), "lapd", "det-2", "detective", 0).unwrap();
        assert_eq!(store.verify(&expired), Err(TokenRefusal::Expired));
        assert!(revoke(dir.path(), &rec.id).unwrap());
        // The running store notices the rewrite (mtime or length changes).
        store.reload().unwrap();
        assert_eq!(store.verify(&token), Err(TokenRefusal::Revoked));
        assert!(!revoke(dir.path(), "0000000000000000").unwrap());
    }
}
