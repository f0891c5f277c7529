//! Storage backends behind a [`crate::Ledger`]: the durable entry sequence
//! (write-ahead log), the public tiles, and the published checkpoint.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::merkle::Hash;
use crate::LedgerError;

/// Where a ledger keeps its data. Implementations are internally synchronised:
/// the ledger's writer thread calls [`Storage::append`] while checkpoints call
/// the public-file methods concurrently.
pub trait Storage: Send + Sync + 'static {
    /// Visits every durable entry in index order and returns the number of
    /// entries. A torn final write (never acknowledged) is cut off, but only
    /// if at least `published` entries remain valid: damage inside the
    /// published part is reported as [`LedgerError::Corrupt`] and left in place.
    fn recover(&self, published: u64, visit: &mut dyn FnMut(u64, &[u8])) -> Result<u64, LedgerError>;

    /// Durably appends `entries`, the first at `first_index`, with a single
    /// flush to stable storage. `leaf_hashes[i]` is the RFC 9162 leaf hash of
    /// `entries[i]` (backends may use it as a checksum). Returns only once
    /// every entry is durable.
    fn append(&self, first_index: u64, entries: &[Vec<u8>], leaf_hashes: &[Hash]) -> Result<(), LedgerError>;

    /// Reads `count` durable entries starting at index `first`.
    fn read_entries(&self, first: u64, count: u64) -> Result<Vec<Vec<u8>>, LedgerError>;

    /// Writes a public file (`tile/...`), replacing any previous content atomically.
    fn write_public(&self, path: &str, data: &[u8]) -> Result<(), LedgerError>;

    /// Makes every public file written so far durable.
    fn sync_public(&self) -> Result<(), LedgerError>;

    /// Reads a public file (`checkpoint`, `tile/...`); `None` if absent.
    fn read_public(&self, path: &str) -> Result<Option<Vec<u8>>, LedgerError>;

    /// Atomically and durably publishes a new signed checkpoint, and records
    /// its size privately so that a rolled-back public checkpoint is noticed.
    fn publish_checkpoint(&self, note: &[u8], size: u64) -> Result<(), LedgerError>;

    /// The largest checkpoint size ever published, from private state.
    fn published_high_water(&self) -> Result<u64, LedgerError>;

    /// For storage that several writers (replicas) append to: under the storage's own lock,
    /// reads the entries other writers appended from index `next` on, then appends `entries`
    /// right after them, durably. Returns the leaf hashes of the others' entries, in index
    /// order (`entries` got the indexes that follow). With no `entries` it only catches up.
    /// The default is a single writer: [`Storage::append`] at `next`.
    fn append_shared(&self, next: u64, entries: &[Vec<u8>], leaf_hashes: &[Hash]) -> Result<Vec<Hash>, LedgerError> {
        if !entries.is_empty() {
            self.append(next, entries, leaf_hashes)?;
        }
        Ok(Vec::new())
    }

    /// How often an idle writer catches up with entries other writers appended
    /// (`None`: this storage has a single writer).
    fn poll_interval(&self) -> Option<std::time::Duration> {
        None
    }
}

fn io(what: impl std::fmt::Display, e: std::io::Error) -> LedgerError {
    LedgerError::Io { what: what.to_string(), why: e.to_string() }
}

/// Name of the write-ahead log file inside a ledger directory.
pub const WAL_FILE: &str = "entries.wal";
/// Name of the private high-water file inside a ledger directory.
pub const STATE_FILE: &str = "published-size";
/// Name of the public subfolder.
pub const TILES_DIR: &str = "tiles";
/// Bytes of record header in the write-ahead log: u32 length + 8-byte checksum.
const RECORD_HEADER: usize = 12;

/// The embedded backend: a ledger directory holding `tiles/` (the public
/// C2SP tree), `entries.wal` (length-prefixed, checksummed entries, the
/// durable sequence) and `published-size` beside it.
#[derive(Debug)]
pub struct FileStorage {
    dir: PathBuf,
    wal: Mutex<File>,
    /// Byte offset of every entry's record in the write-ahead log (8 bytes per entry).
    offsets: Mutex<Vec<u64>>,
    /// Public files and directories written but not yet flushed.
    to_sync: Mutex<(Vec<PathBuf>, Vec<PathBuf>)>,
    tmp_counter: AtomicU64,
}

impl FileStorage {
    /// Opens (creating if needed) the storage of the ledger directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, LedgerError> {
        std::fs::create_dir_all(dir.join(TILES_DIR)).map_err(|e| io(dir.display(), e))?;
        std::fs::create_dir_all(dir.join("tmp")).map_err(|e| io(dir.display(), e))?;
        let wal_path = dir.join(WAL_FILE);
        let wal = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&wal_path)
            .map_err(|e| io(wal_path.display(), e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            wal: Mutex::new(wal),
            offsets: Mutex::new(Vec::new()),
            to_sync: Mutex::new((Vec::new(), Vec::new())),
            tmp_counter: AtomicU64::new(0),
        })
    }

    fn tiles(&self) -> PathBuf {
        self.dir.join(TILES_DIR)
    }

    /// Writes `data` to a temporary file and renames it to `dest`, so readers
    /// never see a half-written file. With `sync`, the data is flushed first.
    fn atomic_write(&self, dest: &Path, data: &[u8], sync: bool) -> Result<(), LedgerError> {
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join("tmp").join(format!("{}-{n}", std::process::id()));
        let mut f = File::create(&tmp).map_err(|e| io(tmp.display(), e))?;
        f.write_all(data).map_err(|e| io(tmp.display(), e))?;
        if sync {
            f.sync_data().map_err(|e| io(tmp.display(), e))?;
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent.display(), e))?;
        }
        std::fs::rename(&tmp, dest).map_err(|e| io(dest.display(), e))?;
        Ok(())
    }
}

/// Above this many unflushed public files, `sync_public` flushes the whole
/// filesystem with one `syncfs` instead of one `fsync` per file.
const SYNCFS_THRESHOLD: usize = 64;

fn syncfs(dir: &Path) -> Result<(), LedgerError> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir).map_err(|e| io(dir.display(), e))?;
    // SAFETY: syncfs on a valid, owned file descriptor.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(io(dir.display(), std::io::Error::last_os_error()));
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir.display(), e))
}

fn public_path(path: &str) -> Result<&str, LedgerError> {
    if path.is_empty() || path.starts_with('/') || path.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Err(LedgerError::NotFound(path.to_string()));
    }
    Ok(path)
}

impl Storage for FileStorage {
    fn recover(&self, published: u64, visit: &mut dyn FnMut(u64, &[u8])) -> Result<u64, LedgerError> {
        let wal_name = self.dir.join(WAL_FILE);
        let wal = self.wal.lock().map_err(|_| LedgerError::Poisoned)?;
        let mut file = wal.try_clone().map_err(|e| io(wal_name.display(), e))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| io(wal_name.display(), e))?;
        let len = file.metadata().map_err(|e| io(wal_name.display(), e))?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut offset = 0u64;
        let mut index = 0u64;
        let mut header = [0u8; RECORD_HEADER];
        let mut buf = Vec::new();
        let mut offsets = Vec::new();
        loop {
            if offset + RECORD_HEADER as u64 > len {
                break;
            }
            reader.read_exact(&mut header).map_err(|e| io(wal_name.display(), e))?;
            let n = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as u64;
            if n as usize > crate::tiles::MAX_ENTRY_SIZE || offset + RECORD_HEADER as u64 + n > len {
                break;
            }
            buf.resize(n as usize, 0);
            reader.read_exact(&mut buf).map_err(|e| io(wal_name.display(), e))?;
            if crate::merkle::leaf_hash(&buf)[..8] != header[4..] {
                break;
            }
            visit(index, &buf);
            offsets.push(offset);
            index += 1;
            offset += RECORD_HEADER as u64 + n;
        }
        if index < published {
            return Err(LedgerError::Corrupt(format!(
                "{}: record {index} at byte {offset} is damaged, but {published} entries were published",
                wal_name.display()
            )));
        }
        if offset < len {
            // A torn or partial final write: it was never acknowledged.
            wal.set_len(offset).map_err(|e| io(wal_name.display(), e))?;
            wal.sync_all().map_err(|e| io(wal_name.display(), e))?;
        }
        *self.offsets.lock().map_err(|_| LedgerError::Poisoned)? = offsets;
        Ok(index)
    }

    fn append(&self, _first_index: u64, entries: &[Vec<u8>], leaf_hashes: &[Hash]) -> Result<(), LedgerError> {
        let mut buf = Vec::with_capacity(entries.iter().map(|e| e.len() + RECORD_HEADER).sum());
        for (e, h) in entries.iter().zip(leaf_hashes) {
            buf.extend_from_slice(&(e.len() as u32).to_be_bytes());
            buf.extend_from_slice(&h[..8]);
            buf.extend_from_slice(e);
        }
        let mut wal = self.wal.lock().map_err(|_| LedgerError::Poisoned)?;
        let name = || self.dir.join(WAL_FILE).display().to_string();
        let start = wal.seek(SeekFrom::End(0)).map_err(|e| io(name(), e))?;
        wal.write_all(&buf).map_err(|e| io(name(), e))?;
        wal.sync_data().map_err(|e| io(name(), e))?;
        let mut offsets = self.offsets.lock().map_err(|_| LedgerError::Poisoned)?;
        let mut at = start;
        for e in entries {
            offsets.push(at);
            at += (RECORD_HEADER + e.len()) as u64;
        }
        Ok(())
    }

    fn read_entries(&self, first: u64, count: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        use std::os::unix::fs::FileExt;
        let name = || self.dir.join(WAL_FILE).display().to_string();
        let range: Vec<u64> = {
            let offsets = self.offsets.lock().map_err(|_| LedgerError::Poisoned)?;
            let (lo, hi) = (first as usize, (first + count) as usize);
            offsets
                .get(lo..hi)
                .ok_or_else(|| LedgerError::BeyondSize { size: first + count, have: offsets.len() as u64 })?
                .to_vec()
        };
        let file = self.wal.lock().map_err(|_| LedgerError::Poisoned)?.try_clone().map_err(|e| io(name(), e))?;
        let mut out = Vec::with_capacity(range.len());
        let mut header = [0u8; RECORD_HEADER];
        for off in range {
            file.read_exact_at(&mut header, off).map_err(|e| io(name(), e))?;
            let n = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let mut data = vec![0u8; n];
            file.read_exact_at(&mut data, off + RECORD_HEADER as u64).map_err(|e| io(name(), e))?;
            out.push(data);
        }
        Ok(out)
    }

    fn write_public(&self, path: &str, data: &[u8]) -> Result<(), LedgerError> {
        let dest = self.tiles().join(public_path(path)?);
        // Flushed later, all together, by sync_public (before any checkpoint
        // refers to them). A crash before that leaves only files beyond the
        // published size, which the next checkpoint rewrites.
        self.atomic_write(&dest, data, false)?;
        let mut pending = self.to_sync.lock().map_err(|_| LedgerError::Poisoned)?;
        if let Some(parent) = dest.parent() {
            if !pending.1.iter().any(|d| d == parent) {
                pending.1.push(parent.to_path_buf());
            }
        }
        pending.0.push(dest);
        Ok(())
    }

    fn sync_public(&self) -> Result<(), LedgerError> {
        let (files, dirs) = std::mem::take(&mut *self.to_sync.lock().map_err(|_| LedgerError::Poisoned)?);
        if files.len() > SYNCFS_THRESHOLD {
            // One filesystem-wide flush instead of thousands of fsyncs.
            return syncfs(&self.tiles());
        }
        for f in files {
            File::open(&f).and_then(|f| f.sync_data()).map_err(|e| io(f.display(), e))?;
        }
        for d in dirs {
            sync_dir(&d)?;
        }
        Ok(())
    }

    fn read_public(&self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        let p = self.tiles().join(public_path(path)?);
        match std::fs::read(&p) {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(p.display(), e)),
        }
    }

    fn publish_checkpoint(&self, note: &[u8], size: u64) -> Result<(), LedgerError> {
        self.sync_public()?;
        // Checkpoint first, then the private high-water mark: a crash in
        // between leaves the mark behind the checkpoint, never ahead of it.
        self.atomic_write(&self.tiles().join("checkpoint"), note, true)?;
        sync_dir(&self.tiles())?;
        self.atomic_write(&self.dir.join(STATE_FILE), size.to_string().as_bytes(), true)?;
        sync_dir(&self.dir)
    }

    fn published_high_water(&self) -> Result<u64, LedgerError> {
        let p = self.dir.join(STATE_FILE);
        match std::fs::read_to_string(&p) {
            Ok(s) => s.trim().parse().map_err(|_| LedgerError::Corrupt(format!("{} is not a number", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io(p.display(), e)),
        }
    }
}
