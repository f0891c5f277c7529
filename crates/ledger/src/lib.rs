//! An append-only, verifiable log of opaque entries, in the formats that
//! Certificate Transparency, Go's checksum database, Sigstore and Tessera use,
//! so that auditors can check it with tools we did not write.
//!
//! * [`merkle`]: RFC 9162 tree hashing, inclusion and consistency proofs.
//! * [`note`]: C2SP signed-note with Ed25519 keys, and tlog-cosignature.
//! * [`checkpoint`]: C2SP tlog-checkpoint bodies.
//! * [`tiles`]: the C2SP tlog-tiles public layout and a whole-log verifier.
//! * [`storage`]: the storage trait and the embedded file backend.
//! * `pg`: the PostgreSQL backend for replicas sharing one ledger (feature `postgres`, on by default).
//! * [`witness`]: C2SP tlog-witness server and client.
//! * [`publication`]: how checkpoint publication is going (failures, lag and its bound).
//! * [`Ledger`]: the handle an application embeds: group-committed appends,
//!   signed checkpoints, proofs, public files to serve.
//!
//! The ledger knows nothing of what its entries mean: they are opaque bytes
//! (at most 65535 each, the limit of a tlog-tiles entry bundle).
//!
//! # Example
//!
//! ```
//! use ledger::{Ledger, Options};
//! # let dir = std::env::temp_dir().join(format!("ledger-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let vkey = Ledger::init(&dir, "example.org/audit")?;
//! let log = Ledger::open_dir(&dir, Options::default())?;
//! let index = log.append(b"first entry")?; // returns once durable
//! let note = log.checkpoint()?;            // tiles + signed checkpoint
//! let proof = log.inclusion_proof(index, log.size())?;
//! drop(log);
//!
//! // Anyone can now check the published tiles/ with the verifier key.
//! let verifier = ledger::note::NoteVerifier::parse(&vkey)?;
//! let checked = ledger::tiles::verify_log(&ledger::tiles::DirFetcher(dir.join("tiles")), &verifier)?;
//! assert_eq!(checked.checkpoint.size, 1);
//! ledger::merkle::verify_inclusion(
//!     &ledger::merkle::leaf_hash(b"first entry"), index, 1, &proof, &checked.checkpoint.root)?;
//! # assert!(note.starts_with("example.org/audit\n1\n"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod checkpoint;
pub mod http;
mod log;
pub mod merkle;
pub mod note;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod publication;
mod recent;
pub mod storage;
pub mod tiles;
pub mod witness;

pub use log::{Ledger, Options, Pending, Published, Written, KEY_FILE, LOCK_FILE};
pub use publication::Publication;

/// Errors of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A file or database operation failed.
    #[error("{what}: {why}")]
    Io {
        /// What was being read or written.
        what: String,
        /// The underlying error.
        why: String,
    },
    /// Stored data is inconsistent.
    #[error("corrupt ledger: {0}")]
    Corrupt(String),
    /// Bad configuration or arguments.
    #[error("{0}")]
    Config(String),
    /// Another process holds the ledger directory.
    #[error("ledger {0} is locked by another process")]
    Locked(String),
    /// An entry is larger than an entry bundle can hold.
    #[error("entry of {0} bytes is larger than 65535 bytes")]
    EntryTooLarge(usize),
    /// A size beyond what is durable.
    #[error("tree size {size} is beyond the {have} durable entries")]
    BeyondSize {
        /// Requested size.
        size: u64,
        /// Durable entries.
        have: u64,
    },
    /// The ledger is shutting down.
    #[error("ledger is closed")]
    Closed,
    /// A lock was poisoned by a panic.
    #[error("internal lock poisoned")]
    Poisoned,
    /// Not enough witnesses cosigned.
    #[error("only {got} witness cosignatures, {need} required")]
    Quorum {
        /// Cosignatures received.
        got: usize,
        /// Cosignatures required.
        need: usize,
    },
    /// A public file does not exist or the path is not allowed.
    #[error("no such public file: {0}")]
    NotFound(String),
    /// A proof could not be built.
    #[error(transparent)]
    Proof(#[from] merkle::ProofError),
    /// A key or note is bad.
    #[error(transparent)]
    Note(#[from] note::NoteError),
    /// A checkpoint body is bad.
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
}
