//! C2SP signed-note with Ed25519 keys, and C2SP tlog-cosignature.
//!
//! A note is a UTF-8 text body ending in a newline, a blank line, and one or
//! more signature lines `— <key name> <base64(key id || signature)>`.
//! Key ids are the first four bytes of `SHA-256(name || "\n" || type || public key)`.
//! Verifier keys are written `<name>+<hex key id>+<base64(type || public key)>`,
//! signer keys `PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>`.
//!
//! Two signature types are supported: `0x01` (Ed25519 over the note body) and
//! `0x04` (tlog-cosignature/v1: Ed25519 over `"cosignature/v1\ntime <t>\n" || body`,
//! the signature carrying the 8-byte big-endian timestamp `t` in front).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signature type byte of plain Ed25519 note signatures.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of timestamped Ed25519 cosignatures (tlog-cosignature/v1).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// The dash that opens every signature line (U+2014 EM DASH).
const DASH: &str = "\u{2014} ";
/// At most this many signature lines are read from a note.
const MAX_SIGNATURES: usize = 100;

/// Errors from keys and notes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key string is malformed.
    #[error("malformed {kind} key: {why}")]
    Key {
        /// "verifier" or "signer".
        kind: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The note text is malformed.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A signature by a known key (name and key id match) does not verify.
    #[error("invalid signature by {name}")]
    BadSignature {
        /// Key name.
        name: String,
    },
    /// No signature by any of the given verifiers.
    #[error("note has no signature by {0}")]
    Unverified(String),
    /// A signature under the verifier's name, made with another key (key id differs).
    #[error("note under the name {0} is signed with a different key")]
    OtherKey(String),
}

/// Computes a key id: the first 4 bytes of SHA-256(name || "\n" || alg || key).
pub fn key_id(name: &str, alg: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

/// A key that verifies note signatures (Ed25519 or cosignature/v1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    alg: u8,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key `<name>+<hex id>+<base64(type || key)>`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let err = |why: &str| NoteError::Key { kind: "verifier", why: why.to_string() };
        let vkey = vkey.trim();
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err("expected <name>+<key id>+<key>"));
        };
        if !valid_name(name) {
            return Err(err("invalid key name"));
        }
        if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err("key id must be 8 hex digits"));
        }
        let id = u32::from_str_radix(hex, 16).map_err(|_| err("bad key id"))?;
        let raw = B64.decode(b64).map_err(|_| err("bad base64"))?;
        let (&alg, key) = raw.split_first().ok_or_else(|| err("empty key"))?;
        if alg != ALG_ED25519 && alg != ALG_COSIGNATURE_V1 {
            return Err(err(&format!("unsupported key type {alg:#04x}")));
        }
        let key: [u8; 32] = key.try_into().map_err(|_| err("Ed25519 key must be 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| err("not an Ed25519 point"))?;
        if key_id(name, alg, key.as_bytes()) != id {
            return Err(err("key id does not match key"));
        }
        Ok(Self { name: name.to_string(), id, alg, key })
    }

    /// Builds a verifier from a name, a type byte and an Ed25519 public key.
    pub fn new(name: &str, alg: u8, key: VerifyingKey) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::Key { kind: "verifier", why: "invalid key name".into() });
        }
        Ok(Self { name: name.to_string(), id: key_id(name, alg, key.as_bytes()), alg, key })
    }

    /// The same Ed25519 key with another signature type: `with_alg(ALG_COSIGNATURE_V1)`
    /// of a log's key verifies the log's own timestamped signature.
    pub fn with_alg(&self, alg: u8) -> Self {
        Self { name: self.name.clone(), id: key_id(&self.name, alg, self.key.as_bytes()), alg, key: self.key }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The signature type byte.
    pub fn alg(&self) -> u8 {
        self.alg
    }

    /// The verifier key in its text form.
    pub fn vkey(&self) -> String {
        let mut raw = vec![self.alg];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }

    /// Checks a raw signature (after the 4-byte key id) over `body`.
    /// Returns the cosignature timestamp for cosignature keys.
    pub fn verify(&self, body: &[u8], sig: &[u8]) -> Result<Option<u64>, NoteError> {
        let bad = || NoteError::BadSignature { name: self.name.clone() };
        match self.alg {
            ALG_ED25519 => {
                let s = ed25519_dalek::Signature::from_slice(sig).map_err(|_| bad())?;
                self.key.verify(body, &s).map_err(|_| bad())?;
                Ok(None)
            }
            _ => {
                if sig.len() != 72 {
                    return Err(bad());
                }
                let (ts, s) = sig.split_at(8);
                let ts = u64::from_be_bytes(ts.try_into().map_err(|_| bad())?);
                let s = ed25519_dalek::Signature::from_slice(s).map_err(|_| bad())?;
                let msg = cosignature_message(ts, body);
                self.key.verify(&msg, &s).map_err(|_| bad())?;
                Ok(Some(ts))
            }
        }
    }
}

/// The message a tlog-cosignature/v1 signs: header, time line, checkpoint body.
pub fn cosignature_message(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    m.extend_from_slice(body);
    m
}

/// A key that signs notes.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    alg: u8,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner").field("name", &self.name).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let err = |why: &str| NoteError::Key { kind: "signer", why: why.to_string() };
        let rest = skey.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(|| err("missing PRIVATE+KEY+ prefix"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err("expected <name>+<key id>+<key>"));
        };
        if !valid_name(name) {
            return Err(err("invalid key name"));
        }
        let id = u32::from_str_radix(hex, 16).map_err(|_| err("bad key id"))?;
        let raw = B64.decode(b64).map_err(|_| err("bad base64"))?;
        let (&alg, seed) = raw.split_first().ok_or_else(|| err("empty key"))?;
        if alg != ALG_ED25519 && alg != ALG_COSIGNATURE_V1 {
            return Err(err("unsupported key type"));
        }
        let seed: [u8; 32] = seed.try_into().map_err(|_| err("seed must be 32 bytes"))?;
        let key = SigningKey::from_bytes(&seed);
        if key_id(name, alg, key.verifying_key().as_bytes()) != id {
            return Err(err("key id does not match key"));
        }
        Ok(Self { name: name.to_string(), alg, key })
    }

    /// Generates a fresh key from the operating system's random source.
    pub fn generate(name: &str, alg: u8) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::Key { kind: "signer", why: "invalid key name".into() });
        }
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|e| NoteError::Key { kind: "signer", why: format!("no randomness: {e}") })?;
        Ok(Self { name: name.to_string(), alg, key: SigningKey::from_bytes(&seed) })
    }

    /// The same Ed25519 key used with another signature type (e.g. to cosign).
    pub fn with_alg(&self, alg: u8) -> Self {
        Self { name: self.name.clone(), alg, key: self.key.clone() }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: key_id(&self.name, self.alg, self.key.verifying_key().as_bytes()),
            alg: self.alg,
            key: self.key.verifying_key(),
        }
    }

    /// The signer key in its text form (secret!).
    pub fn skey(&self) -> String {
        let mut raw = vec![self.alg];
        raw.extend_from_slice(self.key.as_bytes());
        format!("PRIVATE+KEY+{}+{:08x}+{}", self.name, self.verifier().key_id(), B64.encode(raw))
    }

    /// Signs `body` and returns the full signature line (without the newline).
    /// `timestamp` is used only by cosignature keys.
    pub fn signature_line(&self, body: &[u8], timestamp: u64) -> String {
        let mut raw = self.verifier().key_id().to_be_bytes().to_vec();
        if self.alg == ALG_COSIGNATURE_V1 {
            raw.extend_from_slice(&timestamp.to_be_bytes());
            raw.extend_from_slice(&self.key.sign(&cosignature_message(timestamp, body)).to_bytes());
        } else {
            raw.extend_from_slice(&self.key.sign(body).to_bytes());
        }
        format!("{DASH}{} {}", self.name, B64.encode(raw))
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id (first 4 bytes of the decoded signature).
    pub key_id: u32,
    /// The signature bytes after the key id.
    pub signature: Vec<u8>,
    /// The whole line, without its newline.
    pub line: String,
}

/// A parsed (not yet verified) signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The body text, ending in a newline.
    pub body: String,
    /// The signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note.
    pub fn parse(text: &[u8]) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::Malformed(why.to_string());
        let text = std::str::from_utf8(text).map_err(|_| bad("not UTF-8"))?;
        if !text.ends_with('\n') {
            return Err(bad("does not end in a newline"));
        }
        if text.chars().any(|c| c != '\n' && (c.is_control() || c == '\u{FEFF}')) {
            return Err(bad("control character"));
        }
        let split = text.rfind("\n\n").ok_or_else(|| bad("no blank line before signatures"))?;
        let body = &text[..split + 1];
        let sigs = &text[split + 2..];
        let mut signatures = Vec::new();
        for line in sigs.lines() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(bad("too many signatures"));
            }
            let rest = line.strip_prefix(DASH).ok_or_else(|| bad("signature line must start with an em dash"))?;
            let (name, b64) = rest.split_once(' ').ok_or_else(|| bad("signature line needs a name and a signature"))?;
            if !valid_name(name) {
                return Err(bad("invalid key name in signature"));
            }
            let raw = B64.decode(b64).map_err(|_| bad("signature is not base64"))?;
            if raw.len() < 5 {
                return Err(bad("signature too short"));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
                signature: raw[4..].to_vec(),
                line: line.to_string(),
            });
        }
        if signatures.is_empty() {
            return Err(bad("no signatures"));
        }
        Ok(Self { body: body.to_string(), signatures })
    }

    /// Finds the signature by `verifier` and checks it. Returns the
    /// cosignature timestamp for cosignature keys.
    pub fn verify_by(&self, verifier: &NoteVerifier) -> Result<Option<u64>, NoteError> {
        let sig =
            self.signatures.iter().find(|s| s.name == verifier.name() && s.key_id == verifier.key_id()).ok_or_else(
                || {
                    if self.signatures.iter().any(|s| s.name == verifier.name()) {
                        NoteError::OtherKey(verifier.name().to_string())
                    } else {
                        NoteError::Unverified(verifier.name().to_string())
                    }
                },
            )?;
        verifier.verify(self.body.as_bytes(), &sig.signature)
    }

    /// Renders the note as text.
    pub fn to_text(&self) -> String {
        let mut s = self.body.clone();
        s.push('\n');
        for sig in &self.signatures {
            s.push_str(&sig.line);
            s.push('\n');
        }
        s
    }

    /// Adds a signature line (e.g. a cosignature returned by a witness).
    pub fn add_signature_line(&mut self, line: &str) -> Result<(), NoteError> {
        let parsed = Note::parse(format!("x\n\n{line}\n").as_bytes())?;
        for s in parsed.signatures {
            if !self.signatures.iter().any(|o| o.line == s.line) {
                self.signatures.push(s);
            }
        }
        Ok(())
    }
}

/// Signs `body` with each signer and returns the note text.
pub fn sign_note(body: &str, signers: &[&NoteSigner], timestamp: u64) -> String {
    let mut s = body.to_string();
    s.push('\n');
    for signer in signers {
        s.push_str(&signer.signature_line(body.as_bytes(), timestamp));
        s.push('\n');
    }
    s
}
