//! Acknowledgement only after the storage's durable write returns, batching of
//! concurrent appends into one commit, and `Pending` as a `Future`.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ledger::merkle::Hash;
use ledger::note::NoteSigner;
use ledger::storage::{FileStorage, Storage};
use ledger::{Ledger, LedgerError, Options};

/// File storage whose `append` waits for the test to open a gate, and which
/// records the size of every batch.
struct Gated {
    inner: FileStorage,
    open: Mutex<bool>,
    cv: Condvar,
    batches: Mutex<Vec<usize>>,
    /// Whether the entries count as written to the operating system before the gate (as file
    /// storage does between its write and its flush).
    written_early: bool,
}

impl Gated {
    fn set(&self, open: bool) {
        *self.open.lock().unwrap() = open;
        self.cv.notify_all();
    }
}

impl Storage for Gated {
    fn recover(&self, published: u64, visit: &mut dyn FnMut(u64, &[u8])) -> Result<u64, LedgerError> {
        self.inner.recover(published, visit)
    }
    fn append(&self, first: u64, entries: &[Vec<u8>], hashes: &[Hash]) -> Result<(), LedgerError> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
        drop(open);
        self.batches.lock().unwrap().push(entries.len());
        self.inner.append(first, entries, hashes)
    }
    fn append_shared_written(
        &self,
        next: u64,
        entries: &[Vec<u8>],
        hashes: &[Hash],
        written: &mut dyn FnMut(u64),
    ) -> Result<Vec<Hash>, LedgerError> {
        if self.written_early {
            written(next);
            self.append(next, entries, hashes).map(|()| Vec::new())
        } else {
            self.append(next, entries, hashes)?;
            written(next);
            Ok(Vec::new())
        }
    }
    fn read_entries(&self, first: u64, count: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        self.inner.read_entries(first, count)
    }
    fn write_public(&self, path: &str, data: &[u8]) -> Result<(), LedgerError> {
        self.inner.write_public(path, data)
    }
    fn sync_public(&self) -> Result<(), LedgerError> {
        self.inner.sync_public()
    }
    fn read_public(&self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        self.inner.read_public(path)
    }
    fn publish_checkpoint(&self, note: &[u8], size: u64) -> Result<(), LedgerError> {
        self.inner.publish_checkpoint(note, size)
    }
    fn published_high_water(&self) -> Result<u64, LedgerError> {
        self.inner.published_high_water()
    }
}

/// A closed gate over file storage in `dir`.
fn gated(dir: &std::path::Path, written_early: bool) -> Arc<Gated> {
    Arc::new(Gated {
        inner: FileStorage::open(dir).unwrap(),
        open: Mutex::new(false),
        cv: Condvar::new(),
        batches: Mutex::new(Vec::new()),
        written_early,
    })
}

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("ledger-{tag}-{}-{nanos}", std::process::id()))
}

struct ThreadWaker(std::thread::Thread);
impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor: polls `f` on this thread, parking between wake-ups.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_secs(5));
    }
}

#[test]
fn acknowledged_only_after_durable_write_and_batched() {
    let dir = tempdir("gated");
    let storage = gated(&dir, false);
    let signer = NoteSigner::generate("example.org/gated", 1).unwrap();
    let log = Ledger::open(Arc::clone(&storage) as Arc<dyn Storage>, signer, Options::default()).unwrap();

    // The first append enters the storage and blocks there: not acknowledged.
    let first = log.submit(b"first".to_vec()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(!first.is_ready(), "acknowledged before the durable write returned");
    // Appends arriving meanwhile queue up for the next group commit.
    let rest: Vec<_> = (0..500).map(|i| log.submit(format!("e{i}").into_bytes()).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(50));
    assert!(rest.iter().all(|p| !p.is_ready()));
    assert_eq!(log.size(), 0, "nothing is in the tree before it is durable");

    storage.set(true);
    assert_eq!(block_on(first).unwrap(), 0, "Pending works as a Future");
    for (i, p) in rest.into_iter().enumerate() {
        assert_eq!(p.wait().unwrap(), i as u64 + 1);
    }
    let batches = storage.batches.lock().unwrap().clone();
    assert_eq!(batches[0], 1);
    assert_eq!(batches[1], 500, "the 500 queued appends shared one durable write: {batches:?}");
    assert_eq!(log.group_commits(), 2);
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_gives_the_index_before_the_flush_and_never_a_durable_claim() {
    let dir = tempdir("written");
    let storage = gated(&dir, true);
    let signer = NoteSigner::generate("example.org/written", 1).unwrap();
    let log = Ledger::open(Arc::clone(&storage) as Arc<dyn Storage>, signer, Options::default()).unwrap();
    let first = log.submit(b"first".to_vec()).unwrap();
    // Written (index known) while the flush is held: not durable, not in the tree.
    assert_eq!(block_on(first.written()).unwrap(), 0);
    std::thread::sleep(Duration::from_millis(50));
    assert!(!first.is_ready(), "durable before the flush returned");
    assert_eq!(log.size(), 0);
    storage.set(true);
    assert_eq!(block_on(first).unwrap(), 0);
    let second = log.submit(b"second".to_vec()).unwrap();
    assert_eq!(block_on(second.written()).unwrap(), 1);
    assert_eq!(second.wait().unwrap(), 1);
    drop(log);

    // Storage that says nothing before the flush (the default): `written` waits for durability.
    let dir2 = tempdir("written-late");
    let late = gated(&dir2, false);
    let signer = NoteSigner::generate("example.org/written-late", 1).unwrap();
    let log = Ledger::open(Arc::clone(&late) as Arc<dyn Storage>, signer, Options::default()).unwrap();
    let p = log.submit(b"one".to_vec()).unwrap();
    let waiter = {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| tx.send(block_on(p.written())).unwrap());
            assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "written before it was durable");
            late.set(true);
            rx.recv_timeout(Duration::from_secs(5)).unwrap()
        })
    };
    assert_eq!(waiter.unwrap(), 0);
    assert_eq!(p.wait().unwrap(), 0);
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&dir2).unwrap();
}

/// `threads` threads each append `each` entries one after another (each waits for its own
/// entry to be durable, then `t` ms, before the next, so arrivals are spread out); returns the group commits that took, and how long each
/// of three lone appends took afterwards, one at a time on the otherwise idle ledger.
fn closed_loop(delay: Duration, threads: usize, each: usize) -> (u64, Vec<Duration>) {
    let dir = tempdir("delay");
    let storage = Arc::new(FileStorage::open(&dir).unwrap());
    let signer = NoteSigner::generate("example.org/delay", 1).unwrap();
    let options = Options { commit_delay: delay, ..Options::default() };
    let log = Arc::new(Ledger::open(storage, signer, options).unwrap());
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for i in 0..each {
                    log.append(format!("{t}/{i}").as_bytes()).unwrap();
                    std::thread::sleep(Duration::from_millis(t as u64));
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(log.size(), (threads * each) as u64);
    let commits = log.group_commits();
    let lone = (0..3)
        .map(|i| {
            let t = std::time::Instant::now();
            log.append(format!("lone {i}").as_bytes()).unwrap();
            t.elapsed()
        })
        .collect();
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
    (commits, lone)
}

#[test]
fn commit_delay_gathers_concurrent_appends_but_never_delays_a_lone_one() {
    let (threads, each) = (8, 10);
    let delay = Duration::from_millis(100);
    let (commits, lone) = closed_loop(delay, threads, each);
    // Eight appenders, each with one entry in flight and arriving 0-7 ms apart: while the writer
    // waits, every appender queues its next entry, so most commits carry all eight (without the
    // wait, a commit takes only what arrived during the previous flush, one or two entries).
    assert!(commits <= (threads * each / 4) as u64, "{commits} commits for {} entries", threads * each);
    // The first lone append follows a commit of several entries and waits once; a commit of
    // one entry means no concurrency, so the lone appends after it are not delayed.
    assert!(lone[1] < delay && lone[2] < delay, "lone appends took {lone:?} with a {delay:?} commit delay");
}
