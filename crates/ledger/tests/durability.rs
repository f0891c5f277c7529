//! Durability, recovery, tamper evidence, periodic signing and witnessing of
//! the embedded ledger.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ledger::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use ledger::note::{Note, NoteVerifier};
use ledger::tiles::{verify_log, DirFetcher, VerifyError};
use ledger::witness::{Witness, WitnessEndpoint};
use ledger::{Ledger, LedgerError, Options};

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("ledger-{tag}-{}-{nanos}", std::process::id()))
}

fn entry(i: u64) -> Vec<u8> {
    format!("entry number {i}").into_bytes()
}

fn new_ledger(tag: &str, n: u64) -> (PathBuf, NoteVerifier) {
    let dir = tempdir(tag);
    let vkey = Ledger::init(&dir, "example.org/test").expect("init");
    let log = Ledger::open_dir(&dir, Options::default()).expect("open");
    let pending: Vec<_> = (0..n).map(|i| log.submit(entry(i)).expect("submit")).collect();
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(p.wait().expect("durable"), i as u64);
    }
    log.checkpoint().expect("checkpoint");
    (dir, NoteVerifier::parse(&vkey).expect("vkey"))
}

#[test]
fn concurrent_appends_get_unique_durable_indexes_and_verify() {
    let dir = tempdir("concurrent");
    let vkey = Ledger::init(&dir, "example.org/concurrent").unwrap();
    let log = Arc::new(Ledger::open_dir(&dir, Options::default()).unwrap());
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..1500u64)
                    .map(|i| {
                        let e = format!("thread {t} entry {i}").into_bytes();
                        (log.append(&e).unwrap(), e)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<(u64, Vec<u8>)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    all.sort();
    assert_eq!(all.len(), 12_000);
    for (i, (idx, _)) in all.iter().enumerate() {
        assert_eq!(*idx, i as u64, "indexes are dense and unique");
    }
    log.checkpoint().unwrap();
    drop(log);

    // Reopen: everything acknowledged is there, at its index.
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    assert_eq!(log.size(), 12_000);
    let verifier = NoteVerifier::parse(&vkey).unwrap();
    let v = verify_log(&DirFetcher(dir.join("tiles")), &verifier).unwrap();
    for (idx, e) in all.iter().step_by(97) {
        let p = log.inclusion_proof(*idx, 12_000).unwrap();
        verify_inclusion(&leaf_hash(e), *idx, 12_000, &p, &v.checkpoint.root).unwrap();
    }
    let c = log.consistency_proof(5000, 12_000).unwrap();
    verify_consistency(5000, 12_000, &c, &log.root(5000).unwrap(), &v.checkpoint.root).unwrap();
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn append_raw(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn torn_final_write_is_cut_off_and_acknowledged_entries_survive() {
    let (dir, verifier) = new_ledger("torn", 300);
    {
        let log = Ledger::open_dir(&dir, Options::default()).unwrap();
        for i in 300..310 {
            assert_eq!(log.append(&entry(i)).unwrap(), i);
        }
    }
    let wal = dir.join(ledger::storage::WAL_FILE);
    let good_len = std::fs::metadata(&wal).unwrap().len();
    // A torn record: header announcing 50 bytes, only 7 written.
    let mut torn = 50u32.to_be_bytes().to_vec();
    torn.extend_from_slice(&[0xAB; 8]);
    torn.extend_from_slice(b"partial");
    append_raw(&wal, &torn);
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    assert_eq!(log.size(), 310, "the torn record is dropped, all acknowledged entries kept");
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), good_len, "torn tail truncated");
    assert_eq!(log.append(b"after repair").unwrap(), 310);
    drop(log);

    // A complete-looking record whose checksum does not match (a torn page).
    let mut bad = 5u32.to_be_bytes().to_vec();
    bad.extend_from_slice(&leaf_hash(b"hello")[..8]);
    bad.extend_from_slice(b"hellx");
    append_raw(&wal, &bad);
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    assert_eq!(log.size(), 311);
    log.checkpoint().unwrap();
    drop(log);
    assert_eq!(verify_log(&DirFetcher(dir.join("tiles")), &verifier).unwrap().checkpoint.size, 311);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damage_inside_published_entries_is_refused_not_truncated() {
    let (dir, _) = new_ledger("walrot", 100);
    let wal = dir.join(ledger::storage::WAL_FILE);
    let mut data = std::fs::read(&wal).unwrap();
    let len = data.len();
    data[len / 2] ^= 0x40;
    std::fs::write(&wal, &data).unwrap();
    let err = Ledger::open_dir(&dir, Options::default()).unwrap_err();
    assert!(matches!(err, LedgerError::Corrupt(_)), "{err}");
    assert_eq!(std::fs::metadata(&wal).unwrap().len() as usize, len, "evidence left in place");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn public_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            public_files(&p, root, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
}

#[test]
fn tampering_with_any_published_file_is_detected_and_named() {
    let (dir, verifier) = new_ledger("tamper", 70_000);
    let tiles = dir.join("tiles");
    verify_log(&DirFetcher(tiles.clone()), &verifier).unwrap();
    let mut files = Vec::new();
    public_files(&tiles, &tiles, &mut files);
    assert!(files.len() > 500, "{}", files.len());
    assert!(files.iter().any(|f| f.starts_with("tile/2/")), "a level-2 tile exists");
    let mut checked = 0;
    for (k, f) in files.iter().enumerate() {
        // Every small file, and a sample of the rest, at three positions.
        if !(f.contains(".p/")
            || f.starts_with("tile/1")
            || f.starts_with("tile/2")
            || f == "checkpoint"
            || k % 101 == 0)
        {
            continue;
        }
        let path = tiles.join(f);
        let orig = std::fs::read(&path).unwrap();
        for pos in [0, orig.len() / 2, orig.len() - 1] {
            let mut m = orig.clone();
            m[pos] ^= 0x04;
            std::fs::write(&path, &m).unwrap();
            let err = verify_log(&DirFetcher(tiles.clone()), &verifier).expect_err(f);
            let msg = err.to_string();
            assert!(msg.contains(f.as_str()) || f == "checkpoint", "{f}@{pos}: error does not name it: {msg}");
            checked += 1;
        }
        std::fs::write(&path, &orig).unwrap();
        // Dropping the file is detected too.
        std::fs::remove_file(&path).unwrap();
        let err = verify_log(&DirFetcher(tiles.clone()), &verifier).expect_err(f);
        assert!(matches!(err, VerifyError::Missing { .. }), "{f}: {err}");
        std::fs::write(&path, &orig).unwrap();
    }
    assert!(checked > 30);
    verify_log(&DirFetcher(tiles.clone()), &verifier).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rolled_back_checkpoint_is_refused_on_open() {
    let (dir, verifier) = new_ledger("rollback", 500);
    let old = std::fs::read(dir.join("tiles/checkpoint")).unwrap();
    {
        let log = Ledger::open_dir(&dir, Options::default()).unwrap();
        for i in 500..700 {
            log.append(&entry(i)).unwrap();
        }
        log.checkpoint().unwrap();
    }
    std::fs::write(dir.join("tiles/checkpoint"), &old).unwrap();
    // The old checkpoint is still validly signed and self-consistent...
    assert_eq!(verify_log(&DirFetcher(dir.join("tiles")), &verifier).unwrap().checkpoint.size, 500);
    // ...but the ledger remembers privately that it published 700.
    let err = Ledger::open_dir(&dir, Options::default()).unwrap_err();
    assert!(err.to_string().contains("rolled back"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpoints_are_signed_while_growing_and_resigned_when_idle() {
    let dir = tempdir("cadence");
    Ledger::init(&dir, "example.org/cadence").unwrap();
    let options = Options {
        checkpoint_interval: Some(Duration::from_millis(50)),
        resign_interval: Duration::from_millis(1100),
        ..Options::default()
    };
    let log = Ledger::open_dir(&dir, options).unwrap();
    for i in 0..10 {
        log.append(&entry(i)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(400));
    let first = log.published().expect("published");
    assert_eq!(first.checkpoint.size, 10, "signed at the cadence while growing");
    let ts = |note: &str| {
        let n = Note::parse(note.as_bytes()).unwrap();
        n.verify_by(&log.verifier().with_alg(ledger::note::ALG_COSIGNATURE_V1)).unwrap().unwrap()
    };
    let t1 = ts(&first.note);
    std::thread::sleep(Duration::from_millis(2300));
    let second = log.published().unwrap();
    assert_eq!(second.checkpoint.size, 10);
    assert!(ts(&second.note) > t1, "re-signed with a newer timestamp while idle");
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn start_witness(dir: &Path, log_vkey: &str) -> (String, NoteVerifier) {
    let w = Witness::open(dir, "witness.example", &[log_vkey.to_string()]).unwrap();
    let vkey = w.vkey();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || w.serve(&listener, &|| false));
    (url, NoteVerifier::parse(&vkey).unwrap())
}

#[test]
fn witness_cosigns_consistent_checkpoints_and_refuses_a_fork() {
    let dir = tempdir("witnessed");
    let vkey = Ledger::init(&dir, "example.org/witnessed").unwrap();
    let (url, wv) = start_witness(&tempdir("witness-state"), &vkey);
    let options = Options {
        witnesses: vec![WitnessEndpoint::parse(&format!("{}@{url}", wv.vkey())).unwrap()],
        witness_quorum: 1,
        ..Options::default()
    };
    {
        let log = Ledger::open_dir(&dir, options.clone()).unwrap();
        for round in 0..3u64 {
            for i in 0..100 {
                log.append(&entry(round * 100 + i)).unwrap();
            }
            let note = log.checkpoint().unwrap();
            let n = Note::parse(note.as_bytes()).unwrap();
            n.verify_by(&wv).expect("witness cosignature present and valid");
        }
    }
    // A fork: same key, different history of the same size and beyond.
    let fork = tempdir("fork");
    std::fs::create_dir_all(&fork).unwrap();
    std::fs::copy(dir.join(ledger::KEY_FILE), fork.join(ledger::KEY_FILE)).unwrap();
    let forked = Ledger::open_dir(&fork, options).unwrap();
    for i in 0..400 {
        forked.append(format!("other history {i}").as_bytes()).unwrap();
    }
    let err = forked.checkpoint().unwrap_err();
    assert!(matches!(err, LedgerError::Quorum { got: 0, need: 1 }), "{err}");
    assert!(forked.published().is_none(), "nothing published without the quorum");
    drop(forked);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&fork).unwrap();
}

#[test]
fn damaged_unpublished_entry_is_not_published() {
    use std::io::{Seek, SeekFrom, Write};
    let (dir, verifier) = new_ledger("unpublished-rot", 300);
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    for i in 300..310 {
        log.append(&entry(i)).unwrap();
    }
    // Bit rot in the last acknowledged, not yet published entry.
    let wal = dir.join(ledger::storage::WAL_FILE);
    let len = std::fs::metadata(&wal).unwrap().len();
    let mut f = std::fs::OpenOptions::new().write(true).open(&wal).unwrap();
    f.seek(SeekFrom::Start(len - 2)).unwrap();
    f.write_all(b"X").unwrap();
    drop(f);
    let err = log.checkpoint().unwrap_err();
    assert!(err.to_string().contains("entry 309"), "{err}");
    drop(log);
    assert_eq!(verify_log(&DirFetcher(dir.join("tiles")), &verifier).unwrap().checkpoint.size, 300);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Waits (up to 10 s) until `done` holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn failed_publication_is_counted_reported_and_clears_itself() {
    let dir = tempdir("publish-fault");
    Ledger::init(&dir, "example.org/publish").unwrap();
    let options = Options { checkpoint_interval: Some(Duration::from_millis(50)), ..Options::default() };
    let log = Ledger::open_dir(&dir, options).unwrap();
    for i in 0..3 {
        log.append(&entry(i)).unwrap();
    }
    wait_until("the first checkpoint", || log.published().is_some_and(|p| p.checkpoint.size == 3));
    let p = log.publication();
    assert_eq!((p.faults, p.error.as_deref(), p.unpublished, p.lag), (0, None, 0, Duration::ZERO));
    assert_eq!(p.lag_limit, Some(Duration::from_secs(1)), "10 intervals, at least 1 s");
    assert!(!p.behind());

    // Obstruct the hash tiles' folder with a regular file: no tile (and so no checkpoint) can be
    // written, whoever the process runs as; appends go on (the write-ahead log is elsewhere).
    let tiles = dir.join("tiles/tile");
    std::fs::rename(&tiles, dir.join("tiles/tile.away")).unwrap();
    std::fs::write(&tiles, b"in the way").unwrap();
    for i in 3..8 {
        assert_eq!(log.append(&entry(i)).unwrap(), i, "appends are not stopped by publication faults");
    }
    wait_until("a failed publication", || log.checkpoint_faults() > 0);
    let error = log.last_publish_error().expect("the error is kept");
    assert!(error.contains(&tiles.display().to_string()) && error.contains("os error 20"), "{error}");
    let p = log.publication();
    let public = p.public_error.clone().unwrap();
    assert!(!public.contains(&dir.display().to_string()) && public.contains("os error 20"), "{public}");
    let name = dir.file_name().unwrap().to_string_lossy();
    assert!(public.contains(&format!("{name}/tiles/tile/")), "{public}");
    assert_eq!(p.unpublished, 5);
    assert!(!p.behind(), "not behind before the bound: {p:?}");
    wait_until("the lag to pass its bound", || log.publication().behind());
    assert_eq!(log.published().unwrap().checkpoint.size, 3);
    let before = log.checkpoint_faults();
    assert!(log.checkpoint().is_err());
    assert!(log.checkpoint_faults() > before, "explicit attempts count too");

    // Remove the obstruction: the next tick publishes, and the fault clears without a reopen.
    std::fs::remove_file(&tiles).unwrap();
    std::fs::rename(dir.join("tiles/tile.away"), &tiles).unwrap();
    wait_until("a checkpoint of 8", || log.published().is_some_and(|p| p.checkpoint.size == 8));
    let p = log.publication();
    assert!(!p.behind() && p.faults > before);
    assert_eq!((p.error, p.public_error, p.unpublished, p.lag), (None, None, 0, Duration::ZERO));
    let verifier = log.verifier();
    drop(log);
    assert_eq!(verify_log(&DirFetcher(dir.join("tiles")), &verifier).unwrap().checkpoint.size, 8);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A verified log follows the log's later checkpoints by reading only what was added, and ends
/// where a full verification ends; a rolled-back, forked or tampered log is refused and the
/// verified log is left as it was.
#[test]
fn a_verified_log_advances_to_later_checkpoints_and_refuses_rollback_fork_and_tampering() {
    let (dir, verifier) = new_ledger("advance", 300);
    let tiles = dir.join("tiles");
    let fetcher = DirFetcher(tiles.clone());
    let mut log = verify_log(&fetcher, &verifier).unwrap();
    let at_300 = std::fs::read(tiles.join("checkpoint")).unwrap();

    // Nothing new: the same size, nothing to read.
    assert_eq!(log.advance(&fetcher, &verifier).unwrap(), 300);
    assert_eq!(log.entries_from(&fetcher, 300).count(), 0);

    // 700 more entries (the partial bundle 001.p/44 fills up, new bundles and tiles at level 1).
    let ledger = Ledger::open_dir(&dir, Options::default()).unwrap();
    for i in 300..1000 {
        ledger.append(&entry(i)).unwrap();
    }
    ledger.checkpoint().unwrap();
    let bundles_before = log.bundles;
    assert_eq!(log.advance(&fetcher, &verifier).unwrap(), 300);
    assert!(log.bundles - bundles_before <= 3, "reads the partial bundle and the new ones only");
    let full = verify_log(&fetcher, &verifier).unwrap();
    assert_eq!(log.checkpoint, full.checkpoint);
    for size in [0, 1, 299, 300, 301, 512, 999, 1000] {
        assert_eq!(log.root_at(size), full.root_at(size), "root at {size}");
    }
    assert_eq!(log.root_at(1001), None);
    let new: Vec<(u64, Vec<u8>)> = log.entries_from(&fetcher, 300).map(Result::unwrap).collect();
    assert_eq!(new.len(), 700);
    assert!(new.iter().all(|(i, e)| *e == entry(*i)) && new[0].0 == 300);

    // Rolled back to the checkpoint of 300: refused, and the log still at 1000.
    let at_1000 = std::fs::read(tiles.join("checkpoint")).unwrap();
    std::fs::write(tiles.join("checkpoint"), &at_300).unwrap();
    let err = log.advance(&fetcher, &verifier).unwrap_err();
    assert!(matches!(err, VerifyError::Rollback { from: 1000, to: 300 }), "{err}");
    assert!(err.to_string().contains("rolled back"), "{err}");

    // Another root signed for 1000 entries with the log's own key: a fork.
    let signer =
        ledger::note::NoteSigner::parse(std::fs::read_to_string(dir.join(ledger::KEY_FILE)).unwrap().trim()).unwrap();
    let mut forked = log.checkpoint.clone();
    forked.root[0] ^= 1;
    let body = forked.body();
    let note = format!("{body}\n{}\n", signer.signature_line(body.as_bytes(), 0));
    std::fs::write(tiles.join("checkpoint"), note).unwrap();
    let err = log.advance(&fetcher, &verifier).unwrap_err();
    assert!(matches!(err, VerifyError::Fork { size: 1000 }), "{err}");
    std::fs::write(tiles.join("checkpoint"), &at_1000).unwrap();

    // A tampered new entry bundle: refused, and the next try, once repaired, succeeds.
    for i in 1000..1100 {
        ledger.append(&entry(i)).unwrap();
    }
    ledger.checkpoint().unwrap();
    let bundle = tiles.join("tile/entries/004.p/76");
    let good = std::fs::read(&bundle).unwrap();
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 1;
    std::fs::write(&bundle, &bad).unwrap();
    let before = log.clone();
    let err = log.advance(&fetcher, &verifier).unwrap_err();
    assert!(err.to_string().contains("004.p/76") || matches!(err, VerifyError::RootMismatch { .. }), "{err}");
    assert!(log == before, "a failed advance changes nothing");
    std::fs::write(&bundle, &good).unwrap();
    assert_eq!(log.advance(&fetcher, &verifier).unwrap(), 1000);
    assert_eq!(log.checkpoint, verify_log(&fetcher, &verifier).unwrap().checkpoint);
    let _ = std::fs::remove_dir_all(&dir);
}
