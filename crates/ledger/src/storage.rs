//! Storage backends behind a [`crate::Ledger`]: the durable entry sequence
//! (write-ahead log), the public tiles, and the published checkpoint.

use std::collections::HashSet;
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

    /// [`Storage::append_shared`] that also calls `written(first)` (`first`: the index of
    /// `entries[0]`) once `entries` are written to the operating system, before they are flushed
    /// to stable storage: a process that dies then leaves them in the file. The default calls it
    /// once they are durable.
    fn append_shared_written(
        &self,
        next: u64,
        entries: &[Vec<u8>],
        leaf_hashes: &[Hash],
        written: &mut dyn FnMut(u64),
    ) -> Result<Vec<Hash>, LedgerError> {
        let others = self.append_shared(next, entries, leaf_hashes)?;
        written(next + others.len() as u64);
        Ok(others)
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
    /// A second handle on the write-ahead log for reads (`pread`), so that
    /// reading never waits for an append's flush.
    reader: File,
    /// Byte offsets of the records of the entries not yet inside a published
    /// full entry bundle (older entries are read from the bundles).
    offsets: Mutex<Offsets>,
    /// Public files and directories written but not yet flushed (each once: a checkpoint that
    /// fails and is retried writes the same files again).
    to_sync: Mutex<(HashSet<PathBuf>, Vec<PathBuf>)>,
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
        let reader = wal.try_clone().map_err(|e| io(wal_path.display(), e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            wal: Mutex::new(wal),
            reader,
            offsets: Mutex::new(Offsets::default()),
            to_sync: Mutex::new((HashSet::new(), Vec::new())),
            tmp_counter: AtomicU64::new(0),
        })
    }

    /// Number of entries whose write-ahead-log offset is held in memory (the
    /// entries not yet inside a published full entry bundle): a diagnostic.
    pub fn indexed_entries(&self) -> usize {
        self.offsets.lock().map_or(0, |o| o.at.len())
    }

    fn tiles(&self) -> PathBuf {
        self.dir.join(TILES_DIR)
    }

    /// Writes `data` to a temporary file and renames it to `dest`, so readers
    /// never see a half-written file. With `sync`, the data is flushed first.
    fn atomic_write(&self, dest: &Path, data: &[u8], sync: bool) -> Result<(), LedgerError> {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent.display(), e))?;
        }
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join("tmp").join(format!("{}-{n}", std::process::id()));
        let mut f = File::create(&tmp).map_err(|e| io(tmp.display(), e))?;
        let written = f
            .write_all(data)
            .and_then(|()| if sync { f.sync_data() } else { Ok(()) })
            .map_err(|e| io(tmp.display(), e))
            .and_then(|()| std::fs::rename(&tmp, dest).map_err(|e| io(dest.display(), e)));
        if written.is_err() {
            // A failed checkpoint is retried at every interval: leave no temporary file behind.
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

/// Record offsets of entries `first..first + at.len()` in the write-ahead log.
#[derive(Debug, Default)]
struct Offsets {
    first: u64,
    at: Vec<u64>,
}

impl Offsets {
    fn end(&self) -> u64 {
        self.first + self.at.len() as u64
    }

    /// Forgets the offsets of entries before `first` (never moves backwards).
    fn forget_before(&mut self, first: u64) {
        let first = first.min(self.end());
        if first > self.first {
            self.at.drain(..(first - self.first) as usize);
            self.first = first;
            if self.at.capacity() > 4 * self.at.len() + 4096 {
                self.at.shrink_to(2 * self.at.len());
            }
        }
    }
}

/// Public files are flushed by this many threads at once, so that their
/// flushes share journal commits (one `syncfs` would also flush every other
/// process's writes on the filesystem and stall the write-ahead log behind them).
const SYNC_THREADS: usize = 8;

/// `fdatasync`s every file in `files` (from up to [`SYNC_THREADS`] threads).
fn sync_files(files: &[PathBuf]) -> Result<(), LedgerError> {
    let sync = |f: &PathBuf| File::open(f).and_then(|h| h.sync_data()).map_err(|e| io(f.display(), e));
    if files.len() <= 2 {
        return files.iter().try_for_each(sync);
    }
    let chunk = files.len().div_ceil(SYNC_THREADS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files.chunks(chunk).map(|c| scope.spawn(move || c.iter().try_for_each(sync))).collect();
        handles.into_iter().try_for_each(|h| h.join().unwrap_or(Err(LedgerError::Poisoned)))
    })
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
        // Offsets are kept from the first entry not in a published full bundle.
        let keep_from = published / crate::tiles::TILE_WIDTH * crate::tiles::TILE_WIDTH;
        let mut offsets = Offsets { first: keep_from, at: Vec::new() };
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
            if index >= keep_from {
                offsets.at.push(offset);
            }
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

    fn append(&self, first_index: u64, entries: &[Vec<u8>], leaf_hashes: &[Hash]) -> Result<(), LedgerError> {
        self.append_shared_written(first_index, entries, leaf_hashes, &mut |_| ()).map(drop)
    }

    fn append_shared_written(
        &self,
        next: u64,
        entries: &[Vec<u8>],
        leaf_hashes: &[Hash],
        written: &mut dyn FnMut(u64),
    ) -> Result<Vec<Hash>, LedgerError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
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
        written(next);
        wal.sync_data().map_err(|e| io(name(), e))?;
        let mut offsets = self.offsets.lock().map_err(|_| LedgerError::Poisoned)?;
        let mut at = start;
        for e in entries {
            offsets.at.push(at);
            at += (RECORD_HEADER + e.len()) as u64;
        }
        Ok(Vec::new())
    }

    fn read_entries(&self, first: u64, count: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        use std::os::unix::fs::FileExt;
        let name = || self.dir.join(WAL_FILE).display().to_string();
        let end = first + count;
        let (indexed_from, range): (u64, Vec<u64>) = {
            let offsets = self.offsets.lock().map_err(|_| LedgerError::Poisoned)?;
            if end > offsets.end() {
                return Err(LedgerError::BeyondSize { size: end, have: offsets.end() });
            }
            let lo = first.max(offsets.first);
            let from = (lo - offsets.first) as usize;
            (lo, offsets.at.get(from..(end.max(lo) - offsets.first) as usize).unwrap_or_default().to_vec())
        };
        let mut out = Vec::with_capacity(count as usize);
        // Entries inside published full bundles: read them from the bundles.
        let mut i = first;
        while i < end.min(indexed_from) {
            let n = i / crate::tiles::TILE_WIDTH;
            let path = crate::tiles::entries_path(n, crate::tiles::TILE_WIDTH);
            let data = self
                .read_public(&path)?
                .ok_or_else(|| LedgerError::Corrupt(format!("entry bundle {path} is missing")))?;
            let bundle =
                crate::tiles::decode_bundle(&data).map_err(|why| LedgerError::Corrupt(format!("{path}: {why}")))?;
            let skip = (i - n * crate::tiles::TILE_WIDTH) as usize;
            let take = (end.min(indexed_from).min((n + 1) * crate::tiles::TILE_WIDTH) - i) as usize;
            let got = bundle
                .get(skip..skip + take)
                .ok_or_else(|| LedgerError::Corrupt(format!("{path} holds {} entries, expected 256", bundle.len())))?;
            out.extend(got.iter().map(|e| e.to_vec()));
            i += take as u64;
        }
        // The records are contiguous in the log: read them with one `pread` (after one for the
        // last record's header, which gives where the run ends), not two per entry.
        let (Some(&lo), Some(&hi)) = (range.first(), range.last()) else { return Ok(out) };
        let file = &self.reader;
        let len_of = |h: &[u8]| u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let mut header = [0u8; RECORD_HEADER];
        file.read_exact_at(&mut header, hi).map_err(|e| io(name(), e))?;
        let span = usize::try_from(hi - lo).map_err(|_| LedgerError::Corrupt(format!("{}: offsets", name())))?;
        let mut block = vec![0u8; span + RECORD_HEADER + len_of(&header)];
        file.read_exact_at(&mut block, lo).map_err(|e| io(name(), e))?;
        for off in range {
            let at = (off - lo) as usize;
            let record = block
                .get(at..at + RECORD_HEADER)
                .map(len_of)
                .and_then(|n| block.get(at + RECORD_HEADER..at + RECORD_HEADER + n))
                .ok_or_else(|| {
                    LedgerError::Corrupt(format!("{}: the record at byte {off} runs past its neighbours", name()))
                })?;
            out.push(record.to_vec());
        }
        Ok(out)
    }

    fn write_public(&self, path: &str, data: &[u8]) -> Result<(), LedgerError> {
        let dest = self.tiles().join(public_path(path)?);
        // Flushed later, all together, by sync_public (before any checkpoint
        // refers to them). A crash before that leaves only files beyond the
        // published size, which the next checkpoint rewrites.
        let written = self.atomic_write(&dest, data, false);
        let mut pending = self.to_sync.lock().map_err(|_| LedgerError::Poisoned)?;
        if let Err(e) = written {
            // This checkpoint fails; the next one writes (and lists) every file it refers to
            // again, so forget the list rather than keep paths that may be gone by then.
            *pending = Default::default();
            return Err(e);
        }
        if let Some(parent) = dest.parent() {
            if !pending.1.iter().any(|d| d == parent) {
                pending.1.push(parent.to_path_buf());
            }
        }
        pending.0.insert(dest);
        Ok(())
    }

    fn sync_public(&self) -> Result<(), LedgerError> {
        let (files, dirs) = std::mem::take(&mut *self.to_sync.lock().map_err(|_| LedgerError::Poisoned)?);
        // Only the files written, never the whole filesystem (`syncfs` would
        // also wait for other processes' writes and stall the WAL's flushes).
        sync_files(&files.into_iter().collect::<Vec<_>>())?;
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
        sync_dir(&self.dir)?;
        // Entries inside full bundles are read from the bundles from now on.
        let tile = crate::tiles::TILE_WIDTH;
        self.offsets.lock().map_err(|_| LedgerError::Poisoned)?.forget_before(size / tile * tile);
        Ok(())
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
