//! Bearer tokens: one per user of one agency, stored hashed (SHA-256), expiring and revocable.
//!
//! A token reads `fgt_<id>_<secret>`: the id (16 hex digits) finds the record, the whole token's
//! SHA-256 must match the stored hash. The records are in the hub's [`Store`]: in the file store,
//! `DATA/tokens.json`, rewritten atomically under an exclusive lock by `fusionguard token
//! issue|revoke`; a running hub re-reads it when it changes (within a second), so revocation needs
//! no restart. With `--store postgres://...` they live in the `hub_tokens` table instead, shared by
//! every replica, which re-reads it every second and looks up an id it does not know yet.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::keys::random_bytes;
use crate::store::{Stamp, Store};
use crate::HubError;

/// Name of the token store inside the data directory.
pub const TOKENS_FILE: &str = "tokens.json";

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

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn hash_token(token: &str) -> String {
    crate::keys::to_hex(&Sha256::digest(token.as_bytes()))
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

/// Issues a token for `user` of `agency` with `role`, valid for `ttl_secs`, into `store`.
/// Returns the token (shown once; only its hash is stored) and its record.
pub fn issue(
    store: &dyn Store,
    agency: &str,
    user: &str,
    role: &str,
    ttl_secs: u64,
) -> Result<(String, TokenRecord), HubError> {
    let (token, record) = new_token(agency, user, role, ttl_secs)?;
    store.insert_token(&record)?;
    Ok((token, record))
}

/// The public id in what a user gives for a token: the id itself (as `token list` prints it),
/// `fgt_<id>` (as the token begins) or the whole token `fgt_<id>_<secret>`.
pub fn given_id(given: &str) -> &str {
    let given = given.trim();
    let rest = given.strip_prefix("fgt_").unwrap_or(given);
    rest.split('_').next().unwrap_or(rest)
}

/// The hub's view of the token records of its [`Store`], re-read when they change (the file
/// store: when the file's [`Stamp`] changes; PostgreSQL: every second, and one record at a time
/// for ids issued since).
#[derive(Debug)]
pub struct TokenStore {
    store: Arc<dyn Store>,
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
    /// Reads the records of `store`. Blocking.
    pub fn open(store: Arc<dyn Store>) -> Result<Self, HubError> {
        let tokens = Self { store, state: RwLock::new((None, HashMap::new())), unknown: Default::default() };
        tokens.reload()?;
        Ok(tokens)
    }

    /// Re-reads the records if they may have changed since the last read (blocking). A damaged
    /// file or an unreachable database keeps the old view.
    pub fn reload(&self) -> Result<(), HubError> {
        let stamp = self.store.token_stamp();
        if stamp.is_some() && self.state.read().is_ok_and(|s| s.0 == stamp) {
            return Ok(());
        }
        let records = self.store.tokens()?;
        let map = records.into_iter().map(|t| (t.id.clone(), t)).collect();
        if let Ok(mut s) = self.state.write() {
            *s = (stamp, map);
        }
        Ok(())
    }

    /// True when `token` has an id this view does not know yet and the store is shared
    /// (PostgreSQL), where [`TokenStore::fetch`] (blocking) may find it: issued on another replica.
    pub fn should_fetch(&self, token: &str) -> bool {
        if !self.store.shared() {
            return false;
        }
        let Some(id) = token_id(token) else { return false };
        let recently_unknown =
            self.unknown.lock().is_ok_and(|u| u.get(id).is_some_and(|at| at.elapsed() < UNKNOWN_TTL));
        !recently_unknown && self.state.read().is_ok_and(|s| !s.1.contains_key(id))
    }

    /// Looks up the record of `token`'s id in a shared store (one indexed row) and keeps it.
    pub fn fetch(&self, token: &str) -> Result<(), HubError> {
        let Some(id) = token_id(token).filter(|_| self.store.shared()) else { return Ok(()) };
        match self.store.token(id)? {
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
            None if !self.store.shared() => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FileStore;

    #[test]
    fn unknown_roles_are_refused_and_ids_are_found_in_what_users_give() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileStore::tokens_only(dir.path());
        assert!(matches!(issue(&files, "a", "u", "wizard", 60), Err(HubError::Config(_))));
        for role in model::vocab::ROLES {
            issue(&files, "a", "u", role, 60).unwrap();
        }
        for given in ["0123456789abcdef", "fgt_0123456789abcdef", "fgt_0123456789abcdef_secret"] {
            assert_eq!(given_id(given), "0123456789abcdef");
        }
    }

    #[test]
    fn issue_verify_revoke_expire() {
        let dir = tempfile::tempdir().unwrap();
        let files = Arc::new(FileStore::tokens_only(dir.path()));
        let store = TokenStore::open(files.clone()).unwrap();
        let (token, rec) = issue(&*files, "lapd", "det-1", "detective", 3600).unwrap();
        assert_eq!(store.verify(&token).unwrap(), rec);
        let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!stored.contains(&token) && stored.contains(&rec.hash), "only the hash is stored");
        // A forged secret with a real id is refused.
        let forged = format!("fgt_{}_{}", rec.id, "A".repeat(43));
        assert_eq!(store.verify(&forged), Err(TokenRefusal::Invalid));
        assert_eq!(store.verify("nonsense"), Err(TokenRefusal::Invalid));
        let (expired, _) = issue(&*files, "lapd", "det-2", "detective", 0).unwrap();
        assert_eq!(store.verify(&expired), Err(TokenRefusal::Expired));
        assert!(files.revoke_token(&rec.id).unwrap());
        // The running store notices the rewrite (mtime or length changes).
        store.reload().unwrap();
        assert_eq!(store.verify(&token), Err(TokenRefusal::Revoked));
        assert!(!files.revoke_token("0000000000000000").unwrap());
    }
}
