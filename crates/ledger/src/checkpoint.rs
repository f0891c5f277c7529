//! C2SP tlog-checkpoint: the signed statement of a log's size and root hash.
//!
//! The body is `<origin>\n<size>\n<base64 root hash>\n` followed by optional
//! extension lines; it is carried in a signed note.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::merkle::Hash;

/// Errors parsing a checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed checkpoint: {0}")]
pub struct CheckpointError(pub String);

/// A checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (unique name of the log).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// RFC 9162 root hash of the first `size` entries.
    pub root: Hash,
    /// Extension lines (without their newlines), usually none.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Self {
        Self { origin: origin.to_string(), size, root, extensions: Vec::new() }
    }

    /// Parses a checkpoint body (the note text before the blank line, with its final newline).
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        let bad = |why: &str| CheckpointError(why.to_string());
        let text = body.strip_suffix('\n').ok_or_else(|| bad("body must end in a newline"))?;
        let mut lines = text.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or_else(|| bad("missing origin"))?;
        let size = lines.next().ok_or_else(|| bad("missing size"))?;
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) || (size.len() > 1 && size.starts_with('0')) {
            return Err(bad("size must be a decimal number without leading zeros"));
        }
        let size: u64 = size.parse().map_err(|_| bad("size out of range"))?;
        let root = lines.next().ok_or_else(|| bad("missing root hash"))?;
        let root = B64.decode(root).map_err(|_| bad("root hash is not base64"))?;
        let root: Hash = root.as_slice().try_into().map_err(|_| bad("root hash must be 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("empty extension line"));
        }
        Ok(Self { origin: origin.to_string(), size, root, extensions })
    }

    /// The body text, ending in a newline.
    pub fn body(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root));
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_rejects() {
        let c = Checkpoint::new("example.com/log", 15, [7; 32]);
        assert_eq!(Checkpoint::parse(&c.body()).unwrap(), c);
        assert!(Checkpoint::parse("o\n015\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n").is_err());
        assert!(Checkpoint::parse("o\n15\nBwcH\n").is_err());
        assert!(Checkpoint::parse("o\n15\n").is_err());
    }
}
