//! Reading a hub's ledger as an auditor does: from its public files only, trusting nothing the
//! server says. [`LedgerReader::open`] checks the signed checkpoint against the verifier key and
//! every entry bundle and hash tile against it (C2SP tlog-tiles, [`verify_log`]);
//! only then does [`LedgerReader::entries`] stream the entries, in order, with their index, each
//! read again and checked against the leaf that was verified, and parsed into a typed
//! [`Entry`]. A tampered file is an error naming it; an entry that is not a known kind, or is
//! malformed, is an error naming its index and what is wrong. Nothing is skipped.
//!
//! ```no_run
//! use oversight::ledger::LedgerReader;
//! use model::entry::Entry;
//! let reader = LedgerReader::open_data_dir("/var/lib/fusionguard".as_ref())?;
//! println!("{} entries under checkpoint {}", reader.size(), reader.root_base64());
//! for item in reader.entries() {
//!     let (index, entry) = item?;
//!     if let Entry::Decision(d) = entry {
//!         println!("{index}: {} {} -> {}", d.requester.agency, d.source, d.decision.as_str());
//!     }
//! }
//! # Ok::<(), oversight::ledger::ReadError>(())
//! ```

use std::path::{Path, PathBuf};

use ::ledger::checkpoint::Checkpoint;
use ::ledger::note::NoteVerifier;
use ::ledger::tiles::{verify_log, DirFetcher, HttpFetcher, TileFetcher, VerifiedLog, VerifyError};
pub use model::entry::Entry;

/// The hub's ledger folder inside its data directory (crates/hub/README.md, "Data directory").
pub const LEDGER_DIR: &str = "ledger";
/// The hub's verifier key file inside its data directory.
pub const VKEY_FILE: &str = "ledger.vkey";

/// Why a ledger could not be read. Every variant says where.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The verifier key could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The verifier key is malformed.
    #[error("{location}: bad verifier key: {why}")]
    Key {
        /// Where the key came from.
        location: String,
        /// What is wrong.
        why: String,
    },
    /// The published log does not verify: a missing, malformed or tampered checkpoint, tile or
    /// entry bundle (named relative to `location`).
    #[error("ledger at {location}: {source}")]
    Verify {
        /// The tiles directory or URL.
        location: String,
        /// The first discrepancy, naming the file.
        source: VerifyError,
    },
    /// The TLS settings for an `https://` ledger could not be used (a CA file that holds no
    /// certificate).
    #[error("{location}: {why}")]
    Tls {
        /// The URL.
        location: String,
        /// What is wrong.
        why: String,
    },
    /// A verified entry is not a ledger entry this reader knows.
    #[error("ledger at {location}: entry {index}: {reason}")]
    Entry {
        /// The tiles directory or URL.
        location: String,
        /// The entry's index.
        index: u64,
        /// What is wrong.
        reason: model::entry::EntryError,
    },
}

/// A verified ledger whose entries can be streamed.
pub struct LedgerReader {
    fetcher: Box<dyn TileFetcher + Send + Sync>,
    location: String,
    /// The verifier key, to check later checkpoints.
    verifier: NoteVerifier,
    verified: VerifiedLog,
}

impl std::fmt::Debug for LedgerReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerReader")
            .field("location", &self.location)
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl LedgerReader {
    /// Verifies the ledger of a hub's data directory: tiles in `DIR/ledger/tiles`, verifier key in
    /// `DIR/ledger.vkey`.
    pub fn open_data_dir(data: &Path) -> Result<Self, ReadError> {
        let key_path = data.join(VKEY_FILE);
        let vkey = std::fs::read_to_string(&key_path).map_err(|source| ReadError::Io { path: key_path, source })?;
        let tiles = data.join(LEDGER_DIR).join(::ledger::storage::TILES_DIR);
        Self::open(Box::new(DirFetcher(tiles.clone())), tiles.display().to_string(), vkey.trim())
    }

    /// Verifies a published ledger at `tiles` (a directory or an `http://` URL) with `vkey`.
    pub fn open_tiles(tiles: &str, vkey: &str) -> Result<Self, ReadError> {
        let fetcher: Box<dyn TileFetcher + Send + Sync> =
            if tiles.starts_with("http://") || tiles.starts_with("https://") {
                Box::new(HttpFetcher::new(tiles))
            } else {
                Box::new(DirFetcher(PathBuf::from(tiles)))
            };
        Self::open(fetcher, tiles.to_string(), vkey.trim())
    }

    /// Like [`LedgerReader::open_tiles`], an `https://` URL's server checked against `tls`'s CA
    /// (a private CA, as a federation's hubs use) instead of no roots at all; `tls` is unused for
    /// a directory or an `http://` URL.
    pub fn open_tiles_tls(tiles: &str, vkey: &str, tls: &::ledger::http::Tls) -> Result<Self, ReadError> {
        if !tiles.starts_with("https://") {
            return Self::open_tiles(tiles, vkey);
        }
        let agent = ::ledger::http::tls_agent(tls, std::time::Duration::from_secs(30))
            .map_err(|e| ReadError::Tls { location: tiles.to_string(), why: e.to_string() })?;
        Self::open(Box::new(HttpFetcher::with_agent(tiles, agent)), tiles.to_string(), vkey.trim())
    }

    /// Verifies the log `fetcher` reads (described as `location` in errors) against `vkey`.
    pub fn open(fetcher: Box<dyn TileFetcher + Send + Sync>, location: String, vkey: &str) -> Result<Self, ReadError> {
        let verifier =
            NoteVerifier::parse(vkey).map_err(|e| ReadError::Key { location: location.clone(), why: e.to_string() })?;
        let verified = verify_log(fetcher.as_ref(), &verifier)
            .map_err(|source| ReadError::Verify { location: location.clone(), source })?;
        Ok(Self { fetcher, location, verifier, verified })
    }

    /// The verified checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.verified.checkpoint
    }

    /// The verified checkpoint's signed note, as published.
    pub fn checkpoint_note(&self) -> &str {
        &self.verified.note
    }

    /// Number of verified entries.
    pub fn size(&self) -> u64 {
        self.verified.checkpoint.size
    }

    /// The verified root hash, base64 (as the checkpoint writes it).
    pub fn root_base64(&self) -> String {
        // The checkpoint body's third line is the root, base64, as signed.
        self.verified.checkpoint.body().lines().nth(2).unwrap_or_default().to_string()
    }

    /// Where the tiles are read from.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Verifies the ledger's current checkpoint as a continuation of the one verified (reading
    /// only what was added since: see [`VerifiedLog::advance`]), and returns the index of the
    /// first new entry, from which [`LedgerReader::entries_from`] reads the new entries. A ledger
    /// that went back, forked or changed a verified entry is an error, and the reader stays at
    /// the checkpoint it had.
    pub fn advance(&mut self) -> Result<u64, ReadError> {
        self.verified
            .advance(self.fetcher.as_ref(), &self.verifier)
            .map_err(|source| ReadError::Verify { location: self.location.clone(), source })
    }

    /// The verified entries in order, with their index, parsed. The first error ends the stream.
    pub fn entries(&self) -> impl Iterator<Item = Result<(u64, Entry), ReadError>> + '_ {
        self.entries_from(0)
    }

    /// Like [`LedgerReader::entries`], from index `first` on.
    pub fn entries_from(&self, first: u64) -> impl Iterator<Item = Result<(u64, Entry), ReadError>> + '_ {
        self.entries_with_bytes_from(first).map(|item| item.map(|(index, entry, _)| (index, entry)))
    }

    /// Like [`LedgerReader::entries_from`], each entry with its bytes as the log holds them
    /// (verified against their leaf: [`::ledger::merkle::leaf_hash`] of them is the leaf hash a
    /// receipt names).
    pub fn entries_with_bytes_from(
        &self,
        first: u64,
    ) -> impl Iterator<Item = Result<(u64, Entry, Vec<u8>), ReadError>> + '_ {
        let mut failed = false;
        self.verified.entries_from(self.fetcher.as_ref(), first).map_while(move |item| {
            if failed {
                return None;
            }
            let parsed = match item {
                Ok((index, bytes)) => match Entry::from_json_slice(&bytes) {
                    Ok(e) => Ok((index, e, bytes)),
                    Err(reason) => Err(ReadError::Entry { location: self.location.clone(), index, reason }),
                },
                Err(source) => Err(ReadError::Verify { location: self.location.clone(), source }),
            };
            failed = parsed.is_err();
            Some(parsed)
        })
    }
}
