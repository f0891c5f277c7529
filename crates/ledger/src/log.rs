//! The [`Ledger`] handle: group-committed appends, signed checkpoints, proofs.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, RwLock};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::checkpoint::Checkpoint;
use crate::merkle::{self, leaf_hash, Hash, HashSource, ProofError};
use crate::note::{sign_note, Note, NoteSigner, NoteVerifier, ALG_COSIGNATURE_V1};
use crate::publication::{self, Faults, Publication};
use crate::recent::{RecentTree, Tile, TileCache, HASHES_PER_TILE};
use crate::storage::{FileStorage, Storage};
use crate::tiles::{self, encode_bundle, entries_path, tile_path, tiles_at_level, TILE_HEIGHT, TILE_WIDTH};
use crate::witness::{WitnessClient, WitnessEndpoint};
use crate::LedgerError;

/// Name of the signing key file inside a ledger directory (private).
pub const KEY_FILE: &str = "signing.key";
/// Name of the lock file inside a ledger directory.
pub const LOCK_FILE: &str = "lock";

/// Tuning and policy for an open ledger.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sign a checkpoint this often while the tree grows (`None`: only on
    /// explicit [`Ledger::checkpoint`] calls).
    pub checkpoint_interval: Option<Duration>,
    /// Re-sign the same tree after this long without growth, so that a stale
    /// view is visible (the log's own timestamped cosignature changes).
    pub resign_interval: Duration,
    /// At most this many entries per group commit.
    pub max_batch: usize,
    /// Under concurrent load (the previous group commit held more than one
    /// entry), the writer waits this long before writing, so that each flush
    /// carries more entries: fewer flushes and wake-ups per entry, for a
    /// little latency. A lone append is never delayed. Zero: no wait.
    pub commit_delay: Duration,
    /// Witnesses asked to cosign each checkpoint.
    pub witnesses: Vec<WitnessEndpoint>,
    /// Number of witness cosignatures a checkpoint needs before it is published.
    pub witness_quorum: usize,
    /// How to reach the witnesses (for example over mutual TLS, [`crate::http::tls_agent`]);
    /// `None`: plain HTTP with a ten-second timeout.
    pub witness_agent: Option<ureq::Agent>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            checkpoint_interval: None,
            resign_interval: Duration::from_secs(60),
            max_batch: 16384,
            commit_delay: Duration::ZERO,
            witnesses: Vec::new(),
            witness_quorum: 0,
            witness_agent: None,
        }
    }
}

/// What is known of an append, and the task to wake when more is.
#[derive(Default)]
struct SlotState {
    /// The entry's index once it is written to the operating system (before its flush).
    written: Option<u64>,
    /// The outcome once it is durable (or failed).
    done: Option<Result<u64, LedgerError>>,
    waker: Option<Waker>,
}

/// Completion slot of one append.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    cv: Condvar,
}

impl Slot {
    fn update(&self, f: impl FnOnce(&mut SlotState)) {
        if let Ok(mut g) = self.state.lock() {
            f(&mut g);
            if let Some(w) = g.waker.take() {
                w.wake();
            }
        }
        self.cv.notify_all();
    }

    fn written(&self, index: u64) {
        self.update(|s| s.written = Some(index));
    }

    fn complete(&self, r: Result<u64, LedgerError>) {
        self.update(|s| s.done = Some(r));
    }
}

/// An append that has been submitted; resolves to the entry's index once it
/// is durable. Use [`Pending::wait`] from threads or `.await` it from async code.
pub struct Pending {
    slot: Arc<Slot>,
}

impl Pending {
    /// Whether the outcome is known (`wait` would not block).
    pub fn is_ready(&self) -> bool {
        self.slot.state.lock().map_or(true, |g| g.done.is_some())
    }

    /// Blocks until the entry is durable and returns its index.
    pub fn wait(self) -> Result<u64, LedgerError> {
        let mut g = self.slot.state.lock().map_err(|_| LedgerError::Poisoned)?;
        loop {
            if let Some(r) = g.done.take() {
                return r;
            }
            g = self.slot.cv.wait(g).map_err(|_| LedgerError::Poisoned)?;
        }
    }

    /// Resolves to the entry's index as soon as the entry is written to the operating system,
    /// before it is flushed to stable storage: from then on it survives this process's death
    /// (not a power loss or a storage fault; `.await` the [`Pending`] itself for that). With
    /// storage that several writers share, the index is known only once the entry is durable.
    /// Await it from the task that then awaits the [`Pending`] (one task is woken).
    pub fn written(&self) -> Written<'_> {
        Written { slot: &self.slot }
    }
}

/// The future of [`Pending::written`].
pub struct Written<'a> {
    slot: &'a Slot,
}

impl Future for Written<'_> {
    type Output = Result<u64, LedgerError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut g) = self.slot.state.lock() else {
            return Poll::Ready(Err(LedgerError::Poisoned));
        };
        if let Some(i) = g.written {
            return Poll::Ready(Ok(i));
        }
        match &g.done {
            Some(r) => Poll::Ready(r.clone()),
            None => {
                g.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Future for Pending {
    type Output = Result<u64, LedgerError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut g) = self.slot.state.lock() else {
            return Poll::Ready(Err(LedgerError::Poisoned));
        };
        match g.done.take() {
            Some(r) => Poll::Ready(r),
            None => {
                g.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

struct Msg {
    entry: Vec<u8>,
    /// Leaf hash, computed by the submitting thread so that hashing runs in
    /// parallel with the writer's I/O.
    hash: Hash,
    slot: Arc<Slot>,
}

/// The last published checkpoint.
#[derive(Debug, Clone)]
pub struct Published {
    /// Its body.
    pub checkpoint: Checkpoint,
    /// The signed note text.
    pub note: String,
    /// When it was signed by this process (`None` if loaded from disk).
    signed_at: Option<Instant>,
}

struct State {
    /// The bounded right edge of the tree (see [`crate::recent`]); older
    /// nodes are read back from the full hash tiles in storage.
    tree: RecentTree,
    published: Option<Published>,
    /// Since when the published checkpoint has not covered every durable entry (`None` while it
    /// does): when it fell behind, or when the tree it last published was snapshotted.
    behind_since: Option<Instant>,
}

impl State {
    fn published_size(&self) -> u64 {
        self.published.as_ref().map_or(0, |p| p.checkpoint.size)
    }
}

/// Hash tiles kept after reading them back for proofs (16 KiB each expanded).
const TILE_CACHE: usize = 64;

struct Inner {
    storage: Arc<dyn Storage>,
    /// The ledger directory, for the file backend (to keep absolute paths out of
    /// [`Publication::public_error`]).
    dir: Option<PathBuf>,
    signer: NoteSigner,
    clock: NoteSigner,
    origin: String,
    state: RwLock<State>,
    tiles: Mutex<TileCache>,
    checkpoint_lock: Mutex<WitnessClient>,
    options: Options,
    stop: AtomicBool,
    group_commits: AtomicU64,
    /// Failed checkpoint publications.
    faults: Faults,
}

/// An append-only, verifiable log of opaque entries.
///
/// `append` may be called from many threads at once: a dedicated writer thread
/// batches concurrent appends into one durable write (group commit) and
/// acknowledges each entry only once it is durable.
pub struct Ledger {
    inner: Arc<Inner>,
    tx: Option<mpsc::Sender<Msg>>,
    writer: Option<JoinHandle<()>>,
    ticker: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    _lock: Option<DirLock>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("origin", &self.inner.origin).finish_non_exhaustive()
    }
}

/// An exclusive advisory lock on a ledger directory (released on drop).
#[derive(Debug)]
struct DirLock(#[allow(dead_code)] std::fs::File);

impl DirLock {
    fn acquire(dir: &Path) -> Result<Self, LedgerError> {
        use std::os::fd::AsRawFd;
        let p = dir.join(LOCK_FILE);
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| LedgerError::Io { what: p.display().to_string(), why: e.to_string() })?;
        // A process of this program forked (to run another program) while the lock was held keeps
        // a copy of its descriptor until it execs, which closes it: a lock released a moment ago
        // can look held for that moment. A few short retries tell that from a real owner.
        for attempt in 0..10 {
            // SAFETY: flock on a valid, owned file descriptor.
            let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(Self(f));
            }
            if attempt < 9 {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        Err(LedgerError::Locked(dir.display().to_string()))
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Ledger {
    /// Creates a new ledger directory with a fresh Ed25519 key for `origin`
    /// and returns the verifier key (vkey).
    pub fn init(dir: &Path, origin: &str) -> Result<String, LedgerError> {
        if origin.starts_with("cosignature/") {
            return Err(LedgerError::Config("origin must not start with cosignature/".into()));
        }
        let key_path = dir.join(KEY_FILE);
        if key_path.exists() {
            return Err(LedgerError::Config(format!("{} already exists", key_path.display())));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| LedgerError::Io { what: dir.display().to_string(), why: e.to_string() })?;
        let signer = NoteSigner::generate(origin, crate::note::ALG_ED25519)?;
        write_private(&key_path, format!("{}\n", signer.skey()).as_bytes())?;
        let ledger = Self::open_dir(dir, Options::default())?;
        ledger.checkpoint()?;
        Ok(signer.verifier().vkey())
    }

    /// Opens the ledger directory `dir` (embedded file storage).
    pub fn open_dir(dir: &Path, options: Options) -> Result<Self, LedgerError> {
        let lock = DirLock::acquire_after_create(dir)?;
        let key_path = dir.join(KEY_FILE);
        let skey = std::fs::read_to_string(&key_path)
            .map_err(|e| LedgerError::Io { what: key_path.display().to_string(), why: e.to_string() })?;
        let signer = NoteSigner::parse(&skey)?;
        let storage = Arc::new(FileStorage::open(dir)?);
        let mut l = Self::open_in(storage, Some(dir), signer, options)?;
        l._lock = Some(lock);
        Ok(l)
    }

    /// Opens a ledger on any storage backend, signing with `signer` (whose
    /// name is the log's origin). Recovers every durable entry first.
    pub fn open(storage: Arc<dyn Storage>, signer: NoteSigner, options: Options) -> Result<Self, LedgerError> {
        Self::open_in(storage, None, signer, options)
    }

    fn open_in(
        storage: Arc<dyn Storage>,
        dir: Option<&Path>,
        signer: NoteSigner,
        options: Options,
    ) -> Result<Self, LedgerError> {
        let origin = signer.name().to_string();
        let verifier = signer.verifier();
        // The high-water mark first: with several writers, a checkpoint published in between
        // only makes the checkpoint read next larger, never smaller.
        let high_water = storage.published_high_water()?;
        let published = match storage.read_public("checkpoint")? {
            None => None,
            Some(raw) => {
                let note = Note::parse(&raw)?;
                note.verify_by(&verifier)?;
                let cp = Checkpoint::parse(&note.body)?;
                if cp.origin != origin {
                    return Err(LedgerError::Corrupt(format!(
                        "published checkpoint is for origin {:?}, key is for {origin:?}",
                        cp.origin
                    )));
                }
                Some(Published { checkpoint: cp, note: String::from_utf8_lossy(&raw).into_owned(), signed_at: None })
            }
        };
        let published_size = published.as_ref().map_or(0, |p| p.checkpoint.size);
        if published_size < high_water {
            return Err(LedgerError::Corrupt(format!(
                "published checkpoint was rolled back: it covers {published_size} entries, but {high_water} were published"
            )));
        }
        // Rebuild the tree from every entry, keeping only what is not inside
        // a published full tile (pruning as the recovery goes, so that memory
        // stays bounded even while recovering a long log).
        let mut tree = RecentTree::new();
        let count = storage.recover(published_size, &mut |i, e| {
            tree.push(leaf_hash(e));
            if (i + 1) % 65_536 == 0 {
                tree.prune((i + 1).min(published_size));
            }
        })?;
        tree.prune(published_size.min(tree.size()));
        if count < published_size {
            return Err(LedgerError::Corrupt(format!(
                "write-ahead log holds {count} entries but the published checkpoint covers {published_size}"
            )));
        }
        if let Some(p) = &published {
            // The published tree's peaks are held, so this needs no tile.
            if merkle::range_hash(&tree, 0, p.checkpoint.size)? != p.checkpoint.root {
                return Err(LedgerError::Corrupt(format!(
                    "entries 0..{} do not hash to the published checkpoint's root",
                    p.checkpoint.size
                )));
            }
        }
        let witness_client = match &options.witness_agent {
            Some(agent) => WitnessClient::with_agent(options.witnesses.clone(), agent.clone()),
            None => WitnessClient::new(options.witnesses.clone()),
        };
        let behind_since = (count > published_size).then(Instant::now);
        let inner = Arc::new(Inner {
            storage,
            dir: dir.map(Path::to_path_buf),
            clock: signer.with_alg(ALG_COSIGNATURE_V1),
            signer,
            origin,
            state: RwLock::new(State { tree, published, behind_since }),
            tiles: Mutex::new(TileCache::new(TILE_CACHE)),
            checkpoint_lock: Mutex::new(witness_client),
            options,
            stop: AtomicBool::new(false),
            group_commits: AtomicU64::new(0),
            faults: Faults::default(),
        });
        let (tx, rx) = mpsc::channel::<Msg>();
        let w = Arc::clone(&inner);
        let writer = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || writer_loop(&w, &rx, count))
            .map_err(|e| LedgerError::Io { what: "spawn writer".into(), why: e.to_string() })?;
        let ticker = match inner.options.checkpoint_interval {
            None => None,
            Some(every) => {
                let (stx, srx) = mpsc::channel::<()>();
                let t = Arc::clone(&inner);
                let h = std::thread::Builder::new()
                    .name("ledger-checkpointer".into())
                    .spawn(move || {
                        while let Err(mpsc::RecvTimeoutError::Timeout) = srx.recv_timeout(every) {
                            if t.stop.load(Ordering::Relaxed) {
                                break;
                            }
                            // Errors are counted, reported on stderr and retried at the next
                            // tick; the published checkpoint meanwhile stays older (visibly
                            // stale, see `Ledger::publication`).
                            let _ = t.checkpoint_if_due();
                        }
                    })
                    .map_err(|e| LedgerError::Io { what: "spawn checkpointer".into(), why: e.to_string() })?;
                Some((stx, h))
            }
        };
        Ok(Self { inner, tx: Some(tx), writer: Some(writer), ticker, _lock: None })
    }

    /// The log's origin (its name in checkpoints).
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The verifier key of the log's checkpoint signatures.
    pub fn verifier(&self) -> NoteVerifier {
        self.inner.signer.verifier()
    }

    /// Signs `body` (a note body: lines ending in a newline) with the log's key and returns the
    /// signed note. Only statements that cannot be read as a checkpoint should be signed this
    /// way (their first line names what they are), so that no signed note is taken for another.
    pub fn sign_note(&self, body: &str) -> Result<String, LedgerError> {
        if Checkpoint::parse(body).is_ok() {
            return Err(LedgerError::Config("refusing to sign a checkpoint body outside a checkpoint".into()));
        }
        Ok(sign_note(body, &[&self.inner.signer], 0))
    }

    /// Submits an entry without waiting; the returned [`Pending`] resolves to
    /// its index once durable. Submissions from one thread keep their order.
    pub fn submit(&self, entry: Vec<u8>) -> Result<Pending, LedgerError> {
        if entry.len() > tiles::MAX_ENTRY_SIZE {
            return Err(LedgerError::EntryTooLarge(entry.len()));
        }
        let slot = Arc::new(Slot::default());
        let tx = self.tx.as_ref().ok_or(LedgerError::Closed)?;
        let hash = leaf_hash(&entry);
        tx.send(Msg { entry, hash, slot: Arc::clone(&slot) }).map_err(|_| LedgerError::Closed)?;
        Ok(Pending { slot })
    }

    /// Appends an entry and blocks until it is durable; returns its index.
    pub fn append(&self, entry: &[u8]) -> Result<u64, LedgerError> {
        self.submit(entry.to_vec())?.wait()
    }

    /// Number of durable entries.
    pub fn size(&self) -> u64 {
        self.inner.state.read().map_or(0, |s| s.tree.size())
    }

    /// Number of group commits (durable writes, one sync each) since opening.
    pub fn group_commits(&self) -> u64 {
        self.inner.group_commits.load(Ordering::Relaxed)
    }

    /// The last published checkpoint, if any.
    pub fn published(&self) -> Option<Published> {
        self.inner.state.read().ok().and_then(|s| s.published.clone())
    }

    /// Integrates every durable entry: writes entry bundles and hash tiles,
    /// signs a checkpoint (collecting witness cosignatures if configured) and
    /// publishes it. Returns the checkpoint note.
    ///
    /// A failure is returned (and counted in [`Ledger::checkpoint_faults`]); the background
    /// publisher (with [`Options::checkpoint_interval`]) also reports its failures on stderr.
    pub fn checkpoint(&self) -> Result<String, LedgerError> {
        self.inner.checkpoint(false)
    }

    /// Number of failed checkpoint publications since the ledger was opened (background ones and
    /// [`Ledger::checkpoint`] calls).
    pub fn checkpoint_faults(&self) -> u64 {
        self.inner.faults.count()
    }

    /// The error of the latest checkpoint publication if it failed, with the full path and the OS
    /// error (for the operator; clients get [`Publication::public_error`]). `None` once a
    /// publication succeeds.
    pub fn last_publish_error(&self) -> Option<String> {
        self.inner.faults.error().map(|(full, _)| full)
    }

    /// How the publication of checkpoints is going: failures, the current error, the entries
    /// not yet published, the lag and its bound ([`Publication::behind`]).
    pub fn publication(&self) -> Publication {
        let (unpublished, lag) = self.inner.state.read().map_or((0, Duration::ZERO), |s| {
            let unpublished = s.tree.size().saturating_sub(s.published_size());
            let lag = match s.behind_since {
                Some(t) if unpublished > 0 => t.elapsed(),
                _ => Duration::ZERO,
            };
            (unpublished, lag)
        });
        let (error, public_error) = self.inner.faults.error().unzip();
        Publication {
            faults: self.inner.faults.count(),
            error,
            public_error,
            unpublished,
            lag,
            lag_limit: publication::lag_limit(self.inner.options.checkpoint_interval),
        }
    }

    /// The RFC 9162 root hash of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, LedgerError> {
        check_size(size, self.size())?;
        self.inner.with_source(|src| merkle::range_hash(src, 0, size))
    }

    /// Inclusion proof of entry `index` in the tree of `size` entries.
    ///
    /// Hashes older than the right-most tile of each level are read back from
    /// the hash tiles in storage (and checked against the tree above them), so
    /// a proof of an old entry may do a little I/O; read tiles are cached.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        check_size(size, self.size())?;
        self.inner.with_source(|src| merkle::inclusion_proof(src, index, size))
    }

    /// Consistency proof from the tree of `from` entries to the tree of `to` entries.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LedgerError> {
        check_size(to, self.size())?;
        self.inner.with_source(|src| merkle::consistency_proof(src, from, to))
    }

    /// Number of tree hashes held in memory (the tree's right edge plus the
    /// cached tiles). Bounded by the unpublished entries and a constant, not
    /// by the log's length: a diagnostic for tests and metrics.
    pub fn memory_hashes(&self) -> usize {
        let tree = self.inner.state.read().map_or(0, |s| s.tree.held());
        tree + self.inner.tiles.lock().map_or(0, |t| t.len() * HASHES_PER_TILE)
    }

    /// Reads a public file for serving (`checkpoint`, `tile/...`).
    pub fn read_public(&self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        self.inner.storage.read_public(path)
    }
}

fn check_size(size: u64, have: u64) -> Result<(), LedgerError> {
    if size > have {
        return Err(LedgerError::BeyondSize { size, have });
    }
    Ok(())
}

impl DirLock {
    fn acquire_after_create(dir: &Path) -> Result<Self, LedgerError> {
        if !dir.join(KEY_FILE).exists() {
            return Err(LedgerError::Config(format!(
                "{} is not a ledger directory (no {KEY_FILE}); run `ledger init`",
                dir.display()
            )));
        }
        Self::acquire(dir)
    }
}

fn write_private(path: &PathBuf, data: &[u8]) -> Result<(), LedgerError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| LedgerError::Io { what: path.display().to_string(), why: e.to_string() })?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|e| LedgerError::Io { what: path.display().to_string(), why: e.to_string() })
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        if let Some((stop, h)) = self.ticker.take() {
            let _ = stop.send(());
            let _ = h.join();
        }
    }
}

fn writer_loop(inner: &Inner, rx: &mpsc::Receiver<Msg>, mut next: u64) {
    let mut failed: Option<LedgerError> = None;
    let max = inner.options.max_batch.max(1);
    let poll = inner.storage.poll_interval();
    // Whether the last group commit held more than one entry (concurrent appenders).
    let mut busy = false;
    loop {
        let first = match poll {
            None => rx.recv().map_err(|_| ()),
            Some(every) => match rx.recv_timeout(every) {
                Ok(m) => Ok(m),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // Idle: take in what other writers appended (a failure shows at the next append).
                    if failed.is_none() {
                        if let Ok(others) = inner.storage.append_shared(next, &[], &[]) {
                            next += push_hashes(inner, others, &mut failed);
                        }
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => Err(()),
            },
        };
        let Ok(first) = first else { break };
        if busy && !inner.options.commit_delay.is_zero() {
            // A plain sleep: senders do not wake a writer that is not blocked in `recv`.
            std::thread::sleep(inner.options.commit_delay);
        }
        let mut batch = vec![first];
        while batch.len() < max {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        busy = batch.len() > 1;
        if let Some(e) = &failed {
            for m in batch {
                m.slot.complete(Err(e.clone()));
            }
            continue;
        }
        let mut entries = Vec::with_capacity(batch.len());
        let mut hashes = Vec::with_capacity(batch.len());
        let mut slots = Vec::with_capacity(batch.len());
        for m in batch {
            entries.push(m.entry);
            hashes.push(m.hash);
            slots.push(m.slot);
        }
        let mut written = |first: u64| {
            for (i, slot) in slots.iter().enumerate() {
                slot.written(first + i as u64);
            }
        };
        match inner.storage.append_shared_written(next, &entries, &hashes, &mut written) {
            Ok(mut others) => {
                inner.group_commits.fetch_add(1, Ordering::Relaxed);
                // Entries other writers appended come first; ours follow them.
                next += others.len() as u64;
                let all = if others.is_empty() {
                    hashes
                } else {
                    others.extend(hashes);
                    others
                };
                push_hashes(inner, all, &mut failed);
                for (i, slot) in slots.iter().enumerate() {
                    slot.complete(Ok(next + i as u64));
                }
                next += slots.len() as u64;
            }
            Err(e) => {
                // We cannot know what reached the disk: refuse further appends
                // until the ledger is reopened (and recovers).
                for slot in &slots {
                    slot.complete(Err(e.clone()));
                }
                failed = Some(e);
            }
        }
    }
}

/// Adds leaf hashes to the tree; returns how many.
fn push_hashes(inner: &Inner, hashes: Vec<Hash>, failed: &mut Option<LedgerError>) -> u64 {
    let n = hashes.len() as u64;
    match inner.state.write() {
        Ok(mut s) => {
            hashes.into_iter().for_each(|h| s.tree.push(h));
            if n > 0 && s.behind_since.is_none() {
                s.behind_since = Some(Instant::now());
            }
        }
        Err(_) => *failed = Some(LedgerError::Poisoned),
    }
    n
}

impl Inner {
    fn checkpoint_if_due(&self) -> Result<(), LedgerError> {
        let (grown, stale) = {
            let s = self.state.read().map_err(|_| LedgerError::Poisoned)?;
            let published = s.published.as_ref();
            let grown = published.is_none_or(|p| p.checkpoint.size < s.tree.size());
            let stale = published.and_then(|p| p.signed_at).is_none_or(|t| t.elapsed() >= self.options.resign_interval);
            (grown, stale)
        };
        if grown || stale {
            self.checkpoint(true)?;
        }
        Ok(())
    }

    /// Publishes a checkpoint ([`Inner::publish`]) and records how that went; `background`
    /// failures are also reported on stderr.
    fn checkpoint(&self, background: bool) -> Result<String, LedgerError> {
        let result = self.publish();
        match &result {
            Ok(_) => {
                let size = self.state.read().map_or(0, |s| s.published_size());
                self.faults.succeeded(&self.origin, size);
            }
            Err(e) => {
                let unpublished = self.state.read().map_or(0, |s| s.tree.size().saturating_sub(s.published_size()));
                let public = publication::public_text(e, self.dir.as_deref());
                self.faults.failed(&self.origin, e, public, background, unpublished);
            }
        }
        result
    }

    fn publish(&self) -> Result<String, LedgerError> {
        let mut witnesses = self.checkpoint_lock.lock().map_err(|_| LedgerError::Poisoned)?;
        // Snapshot what is durable and collect the files to write.
        let (size, root, files, old, leaves, taken) = {
            let s = self.state.read().map_err(|_| LedgerError::Poisoned)?;
            let taken = Instant::now();
            let size = s.tree.size();
            let old = s.published.as_ref().map_or(0, |p| p.checkpoint.size);
            let mut files: Vec<(String, Vec<u8>)> = Vec::new();
            let first_bundle = old / TILE_WIDTH * TILE_WIDTH;
            let missing = |level: u32, lo: u64| {
                LedgerError::Corrupt(format!("tree level {level} from node {lo} is not in memory (internal error)"))
            };
            let leaves = s.tree.range(0, first_bundle, size).ok_or_else(|| missing(0, first_bundle))?.to_vec();
            if size > old {
                let mut level = 0;
                while tiles::nodes_at_tile_level(size, level) > 0 {
                    let first = tiles::nodes_at_tile_level(old, level) / TILE_WIDTH;
                    for (_, n, w) in tiles_at_level(size, level, first) {
                        let (lo, merkle_level) = (n * TILE_WIDTH, level * TILE_HEIGHT);
                        let hashes = s.tree.range(merkle_level, lo, lo + w).ok_or_else(|| missing(merkle_level, lo))?;
                        files.push((tile_path(level, n, w), hashes.concat()));
                    }
                    level += 1;
                }
            }
            // The peaks of any size the tree has reached are held.
            (size, merkle::range_hash(&s.tree, 0, size)?, files, old, leaves, taken)
        };
        for (path, data) in &files {
            self.storage.write_public(path, data)?;
        }
        // Entry bundles, read back from storage one bundle at a time (so that a checkpoint
        // after a burst does not hold the whole burst in memory) and checked against the leaf
        // hashes the tree was built from, so damaged storage is never published.
        if size > old {
            for (k, (_, n, w)) in tiles_at_level(size, 0, old / TILE_WIDTH).enumerate() {
                let first = n * TILE_WIDTH;
                let entries = self.storage.read_entries(first, w)?;
                if entries.len() as u64 != w {
                    return Err(LedgerError::Corrupt(format!(
                        "storage returned {} entries from index {first}, expected {w}",
                        entries.len()
                    )));
                }
                let lo = k * TILE_WIDTH as usize;
                for (i, (e, h)) in entries.iter().zip(&leaves[lo..]).enumerate() {
                    if leaf_hash(e) != *h {
                        return Err(LedgerError::Corrupt(format!(
                            "stored entry {} no longer matches its leaf hash",
                            first + i as u64
                        )));
                    }
                }
                self.storage.write_public(&entries_path(n, w), &encode_bundle(&entries))?;
            }
        }
        let body = Checkpoint::new(&self.origin, size, root).body();
        let mut note = Note::parse(sign_note(&body, &[&self.signer, &self.clock], now_secs()).as_bytes())?;
        if !self.options.witnesses.is_empty() {
            let proof_for = |from: u64| -> Result<Vec<Hash>, LedgerError> {
                self.with_source(|src| merkle::consistency_proof(src, from, size))
            };
            let lines = witnesses.cosign(&note.to_text(), size, &proof_for)?;
            if lines.len() < self.options.witness_quorum {
                return Err(LedgerError::Quorum { got: lines.len(), need: self.options.witness_quorum });
            }
            for l in lines {
                note.add_signature_line(&l)?;
            }
        }
        let text = note.to_text();
        self.storage.publish_checkpoint(text.as_bytes(), size)?;
        let mut s = self.state.write().map_err(|_| LedgerError::Poisoned)?;
        s.published = Some(Published {
            checkpoint: Checkpoint::new(&self.origin, size, root),
            note: text.clone(),
            signed_at: Some(Instant::now()),
        });
        // Entries appended after the snapshot have waited at most since it was taken.
        s.behind_since = (s.tree.size() > size).then_some(taken);
        // The full tiles of `size` are durable now: proofs can read them back.
        s.tree.prune(size);
        Ok(text)
    }

    /// Runs a proof builder over the tree: held hashes first, then hash tiles
    /// read back from storage (never holding the state lock during I/O, so
    /// appends are not delayed by a proof).
    fn with_source<T>(&self, build: impl FnOnce(&Source<'_>) -> Result<T, ProofError>) -> Result<T, LedgerError> {
        let src = Source { inner: self, error: std::cell::RefCell::new(None) };
        let out = build(&src);
        match src.error.into_inner() {
            Some(e) => Err(e),
            None => Ok(out?),
        }
    }

    /// Complete node `index` at Merkle `level`, from memory or from its hash tile.
    fn node(&self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        {
            let s = self.state.read().map_err(|_| LedgerError::Poisoned)?;
            if let Some(h) = s.tree.get(level, index) {
                return Ok(h);
            }
            if level >= 64 || index >= s.tree.size() >> level {
                return Err(ProofError::MissingNode { level, index }.into());
            }
        }
        let (tile_level, k) = (level / TILE_HEIGHT, level % TILE_HEIGHT);
        let n = (index << k) / TILE_WIDTH;
        let tile = self.tile(tile_level, n)?;
        tile.node(k, index - (n << (TILE_HEIGHT - k))).ok_or_else(|| ProofError::MissingNode { level, index }.into())
    }

    /// The full hash tile `n` of tile level `tile_level`, read from storage
    /// and checked against its root node in the tree above (memory or a tile
    /// checked the same way), so a damaged tile never yields a wrong proof.
    fn tile(&self, tile_level: u32, n: u64) -> Result<Arc<Tile>, LedgerError> {
        if let Some(t) = self.tiles.lock().map_err(|_| LedgerError::Poisoned)?.get((tile_level, n)) {
            return Ok(t);
        }
        let path = tile_path(tile_level, n, TILE_WIDTH);
        let data = self
            .storage
            .read_public(&path)?
            .ok_or_else(|| LedgerError::Corrupt(format!("hash tile {path} is missing from storage")))?;
        let tile = Tile::parse(&data)
            .ok_or_else(|| LedgerError::Corrupt(format!("hash tile {path} is {} bytes, expected 8192", data.len())))?;
        if tile.root() != self.node((tile_level + 1) * TILE_HEIGHT, n)? {
            return Err(LedgerError::Corrupt(format!("hash tile {path} in storage does not match the log's entries")));
        }
        let tile = Arc::new(tile);
        self.tiles.lock().map_err(|_| LedgerError::Poisoned)?.insert((tile_level, n), Arc::clone(&tile));
        Ok(tile)
    }
}

/// The tree as a [`HashSource`] for the proof builders; keeps the first
/// storage error (the builders only know [`ProofError`]).
struct Source<'a> {
    inner: &'a Inner,
    error: std::cell::RefCell<Option<LedgerError>>,
}

impl HashSource for Source<'_> {
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        self.inner.node(level, index).map_err(|e| {
            let missing = ProofError::MissingNode { level, index };
            self.error.borrow_mut().get_or_insert(e);
            missing
        })
    }
}
