//! C2SP tlog-tiles: the public, static layout of a log, and a verifier that
//! checks a whole published log from entries up to the signed checkpoint.
//!
//! Hash tiles have height 8 and width up to 256: tile `N` at level `L` holds
//! the hashes of Merkle level `8·L` nodes `256·N .. 256·N + W`. Entry bundles
//! hold up to 256 entries, each prefixed by its length as a big-endian u16.
//! Paths are `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, where `N`
//! is written in groups of three digits, all but the last prefixed by `x`.

use std::path::PathBuf;

use crate::checkpoint::Checkpoint;
use crate::merkle::{leaf_hash, Hash, MemoryTree, HASH_SIZE};
use crate::note::{Note, NoteVerifier};

/// Number of hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Number of Merkle levels a tile spans.
pub const TILE_HEIGHT: u32 = 8;
/// Largest entry an entry bundle can hold (u16 length prefix).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// Encodes a tile index as path elements: `1234067` becomes `x001/x234/067`.
pub fn encode_index(n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn width_suffix(width: u64) -> String {
    if width == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

/// Path of hash tile `index` at `level` with `width` hashes.
pub fn tile_path(level: u32, index: u64, width: u64) -> String {
    format!("tile/{level}/{}{}", encode_index(index), width_suffix(width))
}

/// Path of entry bundle `index` with `width` entries.
pub fn entries_path(index: u64, width: u64) -> String {
    format!("tile/entries/{}{}", encode_index(index), width_suffix(width))
}

/// Number of complete level-`8·level` nodes in a tree of `size` leaves.
pub fn nodes_at_tile_level(size: u64, level: u32) -> u64 {
    size.checked_shr(TILE_HEIGHT * level).unwrap_or(0)
}

/// For a tree of `size`, the tiles (level, index, width) at `level`, from tile `first` on.
pub fn tiles_at_level(size: u64, level: u32, first: u64) -> impl Iterator<Item = (u32, u64, u64)> {
    let nodes = nodes_at_tile_level(size, level);
    let count = nodes.div_ceil(TILE_WIDTH);
    (first..count).map(move |n| (level, n, (nodes - n * TILE_WIDTH).min(TILE_WIDTH)))
}

/// Encodes entries as an entry bundle.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.as_ref().len() + 2).sum());
    for e in entries {
        let e = e.as_ref();
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Decodes an entry bundle into its entries.
pub fn decode_bundle(data: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(format!("truncated length prefix after entry {}", out.len()));
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if rest.len() < 2 + len {
            return Err(format!("entry {} is truncated", out.len()));
        }
        out.push(&rest[2..2 + len]);
        rest = &rest[2 + len..];
    }
    Ok(out)
}

/// Errors reading or verifying a published log.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A file could not be fetched.
    #[error("cannot fetch {path}: {why}")]
    Fetch {
        /// Path relative to the log root (over HTTP, the whole URL).
        path: String,
        /// Why.
        why: String,
    },
    /// A file is missing.
    #[error("missing {path}")]
    Missing {
        /// Path relative to the log root (over HTTP, the whole URL).
        path: String,
    },
    /// The checkpoint note or its signature is bad.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// An entry bundle is malformed.
    #[error("entry bundle {path}: {why}")]
    Bundle {
        /// Path of the bundle.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// A hash tile is malformed (wrong length).
    #[error("tile {path}: {why}")]
    Tile {
        /// Path of the tile.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// A hash in a tile does not match the hash recomputed from the entries.
    #[error("tile {path}: hash {position} (level {level} node {node}, covering entries from index {first_entry}, first of them in {bundle}) does not match the entries")]
    TileMismatch {
        /// Path of the tile.
        path: String,
        /// Position of the hash inside the tile.
        position: u64,
        /// Merkle level of the node.
        level: u32,
        /// Index of the node in its level.
        node: u64,
        /// Index of the first entry that node covers.
        first_entry: u64,
        /// The entry bundle holding that first entry.
        bundle: String,
    },
    /// The root recomputed from the entries differs from the checkpoint.
    #[error("root hash recomputed from {size} entries does not match the checkpoint")]
    RootMismatch {
        /// Tree size.
        size: u64,
    },
    /// The log's checkpoint covers fewer entries than one verified before: it went back.
    #[error("the checkpoint covers {to} entries, fewer than the {from} verified before: the log was rolled back")]
    Rollback {
        /// The size verified before.
        from: u64,
        /// The size of the checkpoint now.
        to: u64,
    },
    /// The log signed another root for the size verified before: two views of one log.
    #[error("the checkpoint of {size} entries has another root than the one verified before: the log forked")]
    Fork {
        /// The size of both checkpoints.
        size: u64,
    },
}

/// Reads files of a published log (a directory or an HTTP base URL).
pub trait TileFetcher {
    /// Fetches `path` (relative to the log root); `Ok(None)` if it does not exist.
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError>;
}

/// Reads a published log from a local directory.
#[derive(Debug, Clone)]
pub struct DirFetcher(pub PathBuf);

impl TileFetcher for DirFetcher {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        match std::fs::read(self.0.join(path)) {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(VerifyError::Fetch { path: path.to_string(), why: e.to_string() }),
        }
    }
}

/// Reads a published log over HTTP (plain `http://`).
#[derive(Debug)]
pub struct HttpFetcher {
    base: String,
    agent: ureq::Agent,
}

impl HttpFetcher {
    /// A fetcher for the log published under `base` (e.g. `http://host/log/`).
    pub fn new(base: &str) -> Self {
        Self::with_agent(base, crate::http::agent(std::time::Duration::from_secs(30)))
    }

    /// A fetcher that uses `agent` (for example [`crate::http::tls_agent`] trusting a private CA).
    pub fn with_agent(base: &str, agent: ureq::Agent) -> Self {
        Self { base: base.trim_end_matches('/').to_string(), agent }
    }
}

impl TileFetcher for HttpFetcher {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        let url = format!("{}/{}", self.base, path);
        let fail = |why: String| VerifyError::Fetch { path: url.clone(), why };
        let mut resp = self.agent.get(&url).call().map_err(|e| fail(e.to_string()))?;
        match resp.status().as_u16() {
            200 => {
                resp.body_mut().with_config().limit(64 << 20).read_to_vec().map(Some).map_err(|e| fail(e.to_string()))
            }
            404 => Ok(None),
            s => Err(fail(format!("HTTP status {s}"))),
        }
    }
}

/// Fetches a tile at `path_full`/`path_partial`: the partial tile, or else a
/// full tile cut to `width` (clients may do so once the tile has filled up).
fn fetch_tile<F: TileFetcher + ?Sized>(
    f: &F,
    full: &str,
    partial: &str,
    width: u64,
    unit: usize,
) -> Result<(String, Vec<u8>), VerifyError> {
    if let Some(d) = f.fetch(partial)? {
        return Ok((partial.to_string(), d));
    }
    if full != partial {
        if let Some(d) = f.fetch(full)? {
            if unit > 0 && d.len() >= width as usize * unit {
                return Ok((full.to_string(), d[..width as usize * unit].to_vec()));
            }
            return Ok((full.to_string(), d));
        }
    }
    Err(VerifyError::Missing { path: partial.to_string() })
}

/// A verified log: its checkpoint, and the hash of every complete subtree of the entries it
/// covers, so that it can be extended to a later checkpoint ([`VerifiedLog::advance`]) by reading
/// only what was added, and can re-check entries read again ([`VerifiedLog::entries`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLog {
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
    /// The full checkpoint note text.
    pub note: String,
    /// Number of entry bundles checked (over every advance).
    pub bundles: u64,
    /// Number of hash tiles checked (over every advance).
    pub tiles: u64,
    tree: MemoryTree,
}

impl VerifiedLog {
    /// Root hash of the first `size` verified entries (to check an older
    /// checkpoint against this log); `None` beyond the verified size.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        if size > self.checkpoint.size {
            return None;
        }
        self.tree.root(size).ok()
    }

    /// Verifies the log's current checkpoint as a continuation of the one verified: its
    /// signature; the entries added since (and the earlier entries of a bundle that was partial,
    /// which must be unchanged); every hash tile those entries complete or extend; and the new
    /// root, recomputed over the entries verified before and the new ones, so a log that changed
    /// or dropped an entry verified before is an error ([`VerifyError::RootMismatch`]), as is one
    /// that went back to fewer entries ([`VerifyError::Rollback`]) or signed another root for
    /// as many ([`VerifyError::Fork`]). Returns the index of the first new entry (the size
    /// verified before); [`VerifiedLog::entries_from`] then reads the new entries. On an error
    /// the log stays as it was.
    pub fn advance<F: TileFetcher + ?Sized>(
        &mut self,
        fetcher: &F,
        verifier: &NoteVerifier,
    ) -> Result<u64, VerifyError> {
        let raw = fetcher.fetch("checkpoint")?.ok_or(VerifyError::Missing { path: "checkpoint".into() })?;
        let note = Note::parse(&raw).map_err(|e| VerifyError::Checkpoint(e.to_string()))?;
        note.verify_by(verifier).map_err(|e| VerifyError::Checkpoint(e.to_string()))?;
        let checkpoint = Checkpoint::parse(&note.body).map_err(|e| VerifyError::Checkpoint(e.to_string()))?;
        if !self.note.is_empty() && checkpoint.origin != self.checkpoint.origin {
            return Err(VerifyError::Checkpoint(format!(
                "the origin is {:?}, not {:?} as verified before",
                checkpoint.origin, self.checkpoint.origin
            )));
        }
        let old = self.checkpoint.size;
        let size = checkpoint.size;
        if size < old {
            return Err(VerifyError::Rollback { from: old, to: size });
        }
        if size == old && checkpoint.root != self.checkpoint.root {
            return Err(VerifyError::Fork { size });
        }
        let checked = self.extend(fetcher, old, size, &checkpoint);
        match checked {
            Ok((bundles, tiles)) => {
                self.bundles += bundles;
                self.tiles += tiles;
                self.checkpoint = checkpoint;
                self.note = String::from_utf8_lossy(&raw).into_owned();
                Ok(old)
            }
            Err(e) => {
                self.tree.truncate(old);
                Err(e)
            }
        }
    }

    /// Reads and checks the entries `old..size` into the tree, then the hash tiles and the root
    /// of `checkpoint`; returns the bundles and tiles checked.
    fn extend<F: TileFetcher + ?Sized>(
        &mut self,
        fetcher: &F,
        old: u64,
        size: u64,
        checkpoint: &Checkpoint,
    ) -> Result<(u64, u64), VerifyError> {
        let mut bundles = 0;
        for (_, n, w) in tiles_at_level(size, 0, old / TILE_WIDTH) {
            let full = entries_path(n, TILE_WIDTH);
            let partial = entries_path(n, w);
            let (path, data) = fetch_tile(fetcher, &full, &partial, w, 0)?;
            let entries = decode_bundle(&data).map_err(|why| VerifyError::Bundle { path: path.clone(), why })?;
            if (entries.len() as u64) < w || (path == partial && entries.len() as u64 != w) {
                return Err(VerifyError::Bundle {
                    path,
                    why: format!("holds {} entries, expected {w}", entries.len()),
                });
            }
            for (i, e) in entries.iter().take(w as usize).enumerate() {
                let index = n * TILE_WIDTH + i as u64;
                let hash = leaf_hash(e);
                if index >= old {
                    self.tree.push(hash);
                } else if self.tree.level(0).get(index as usize) != Some(&hash) {
                    return Err(VerifyError::Bundle {
                        path,
                        why: format!("entry {index} differs from the one verified at the checkpoint of {old} entries"),
                    });
                }
            }
            bundles += 1;
        }

        // Hash tiles, level by level: tile level L holds the complete Merkle level-8·L nodes. The
        // tiles that were complete at `old` were checked then.
        let mut tiles = 0;
        let mut level = 0u32;
        while nodes_at_tile_level(size, level) > 0 {
            let first = nodes_at_tile_level(old, level) / TILE_WIDTH;
            let nodes = self.tree.level((level * TILE_HEIGHT) as usize);
            for (_, n, w) in tiles_at_level(size, level, first) {
                let full = tile_path(level, n, TILE_WIDTH);
                let partial = tile_path(level, n, w);
                let (path, data) = fetch_tile(fetcher, &full, &partial, w, HASH_SIZE)?;
                if data.len() as u64 != w * HASH_SIZE as u64 {
                    return Err(VerifyError::Tile {
                        path,
                        why: format!("is {} bytes, expected {}", data.len(), w * HASH_SIZE as u64),
                    });
                }
                for (i, got) in data.chunks_exact(HASH_SIZE).enumerate() {
                    let node = n * TILE_WIDTH + i as u64;
                    if nodes.get(node as usize).map(|h| h.as_slice()) != Some(got) {
                        let first_entry = node << (level * TILE_HEIGHT);
                        let bundle = first_entry / TILE_WIDTH;
                        return Err(VerifyError::TileMismatch {
                            path,
                            position: i as u64,
                            level: level * TILE_HEIGHT,
                            node,
                            first_entry,
                            bundle: entries_path(bundle, (size - bundle * TILE_WIDTH).min(TILE_WIDTH)),
                        });
                    }
                }
                tiles += 1;
            }
            level += 1;
        }

        if self.tree.root(size).ok() != Some(checkpoint.root) {
            return Err(VerifyError::RootMismatch { size });
        }
        Ok((bundles, tiles))
    }

    /// Reads the verified entries again, bundle by bundle, in order, with their index: each must
    /// hash to the leaf that was verified, so a file changed since it was verified is an error
    /// naming it, never an entry. Holds one bundle in memory at a time.
    pub fn entries<'a, F: TileFetcher + ?Sized>(
        &'a self,
        fetcher: &'a F,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), VerifyError>> + 'a {
        self.entries_from(fetcher, 0)
    }

    /// Like [`VerifiedLog::entries`], from index `first` on (the new entries after
    /// [`VerifiedLog::advance`]).
    pub fn entries_from<'a, F: TileFetcher + ?Sized>(
        &'a self,
        fetcher: &'a F,
        first: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), VerifyError>> + 'a {
        let size = self.checkpoint.size;
        let mut bundles = tiles_at_level(size, 0, first / TILE_WIDTH);
        let mut current: std::vec::IntoIter<(u64, Vec<u8>)> = Vec::new().into_iter();
        let mut failed = false;
        std::iter::from_fn(move || loop {
            if failed {
                return None;
            }
            if let Some(item) = current.next() {
                return Some(Ok(item));
            }
            let (_, n, w) = bundles.next()?;
            match self.read_bundle(fetcher, n, w, first) {
                Ok(entries) => current = entries.into_iter(),
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            }
        })
    }

    /// The entries from index `first` of entry bundle `n` of width `w`, checked against the
    /// verified leaf hashes.
    fn read_bundle<F: TileFetcher + ?Sized>(
        &self,
        f: &F,
        n: u64,
        w: u64,
        first: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, VerifyError> {
        let (path, data) = fetch_tile(f, &entries_path(n, TILE_WIDTH), &entries_path(n, w), w, 0)?;
        let entries = decode_bundle(&data).map_err(|why| VerifyError::Bundle { path: path.clone(), why })?;
        if (entries.len() as u64) < w {
            return Err(VerifyError::Bundle { path, why: format!("holds {} entries, expected {w}", entries.len()) });
        }
        let start = n * TILE_WIDTH;
        let mut out = Vec::with_capacity(w as usize);
        for (i, e) in entries.iter().take(w as usize).enumerate() {
            let index = start + i as u64;
            if index < first {
                continue;
            }
            if self.tree.level(0).get(index as usize) != Some(&leaf_hash(e)) {
                return Err(VerifyError::Bundle {
                    path,
                    why: format!("entry {index} differs from the one verified against the checkpoint"),
                });
            }
            out.push((index, e.to_vec()));
        }
        Ok(out)
    }
}

/// Checks a whole published log: the checkpoint signature, every entry
/// bundle, every hash tile at every level, and the root hash. Returns the
/// first discrepancy found, naming the tile and index. The log returned can
/// then follow the log's later checkpoints ([`VerifiedLog::advance`]).
pub fn verify_log<F: TileFetcher + ?Sized>(fetcher: &F, verifier: &NoteVerifier) -> Result<VerifiedLog, VerifyError> {
    let empty = Checkpoint::new("", 0, crate::merkle::EMPTY_ROOT);
    let mut log = VerifiedLog { checkpoint: empty, note: String::new(), bundles: 0, tiles: 0, tree: MemoryTree::new() };
    log.advance(fetcher, verifier)?;
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(tile_path(0, 0, 3), "tile/0/000.p/3");
        assert_eq!(tile_path(1, 1000, 256), "tile/1/x001/000");
        assert_eq!(entries_path(5, 10), "tile/entries/005.p/10");
    }

    #[test]
    fn bundle_roundtrip() {
        let b = encode_bundle(&[b"one".as_slice(), b"", b"three"]);
        assert_eq!(decode_bundle(&b).unwrap(), vec![b"one".as_slice(), b"", b"three"]);
        assert!(decode_bundle(&b[..b.len() - 1]).is_err());
    }
}
