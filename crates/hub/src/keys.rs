//! The hub's secret keys: the HMAC key that turns subjects into keyed hashes for the ledger,
//! and random bearer-token material. Keys live beside the ledger, never in its public tiles.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::HubError;

/// Name of the subject key file inside the data directory (mode 0600).
pub const SUBJECT_KEY_FILE: &str = "subject.key";

/// Creates `dir` (and its parents) if absent and makes it private: mode 0700, so that the files
/// in it (requests, tokens, keys, the people requests are about) are the hub's user's alone.
pub fn create_private_dir(dir: &Path) -> Result<(), HubError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |e: std::io::Error| HubError::Io(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(err)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)
}

/// Opens `path` for appending, creating it with mode 0600 (and making an existing file 0600).
pub fn open_private_append(path: &Path) -> Result<std::fs::File, HubError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |e: std::io::Error| HubError::Io(format!("{}: {e}", path.display()));
    let f = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(err)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    Ok(f)
}

/// Fills a buffer with random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], HubError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| HubError::Io(format!("random: {e}")))?;
    Ok(b)
}

/// The key of the keyed hashes (HMAC-SHA256) that stand for subjects and free text in the ledger.
/// Whoever holds it (the hub's operator, an inspector general given a copy) can check whether a
/// ledger entry is about a given person; without it the entries reveal nobody.
#[derive(Clone)]
pub struct SubjectKey([u8; 32]);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

impl SubjectKey {
    /// Loads `DIR/subject.key`, creating it (random, mode 0600, fsynced) if absent.
    pub fn load_or_create(dir: &Path) -> Result<Self, HubError> {
        let path = dir.join(SUBJECT_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_hex(text.trim())
                .ok_or_else(|| HubError::Config(format!("{}: expected 64 hex digits", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = random_bytes()?;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| HubError::Io(format!("{}: {e}", path.display())))?;
                f.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(|e| HubError::Io(format!("{}: {e}", path.display())))?;
                Ok(Self(key))
            }
            Err(e) => Err(HubError::Io(format!("{}: {e}", path.display()))),
        }
    }

    /// A key from 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// HMAC-SHA256 over `domain`, a zero byte, and `value`, as hex. The domain keeps hashes of
    /// different kinds of thing (a plate, a name, a justification) from colliding.
    pub fn hash(&self, domain: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        to_hex(&mac.finalize().into_bytes())
    }
}

/// Lower-case hex of `bytes` (as `hex::encode`, which goes through a `char` iterator and showed in
/// the POST profile: each request hashes its subject, justification, case number and token).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.extend_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]);
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn to_hex_is_hex_encode() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(to_hex(&all), hex::encode(&all));
        assert_eq!(to_hex(&[]), "");
    }

    #[test]
    fn domains_separate_and_keys_persist() {
        let dir = tempfile::tempdir().unwrap();
        let k = SubjectKey::load_or_create(dir.path()).unwrap();
        assert_ne!(k.hash("plate", "7ABC123"), k.hash("name", "7ABC123"));
        let again = SubjectKey::load_or_create(dir.path()).unwrap();
        assert_eq!(k.hash("plate", "7ABC123"), again.hash("plate", "7ABC123"));
        let other = SubjectKey::from_hex(&"00".repeat(32)).unwrap();
        assert_ne!(k.hash("plate", "7ABC123"), other.hash("plate", "7ABC123"));
    }
}
