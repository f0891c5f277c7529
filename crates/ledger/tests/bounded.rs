//! The ledger's memory is bounded: it keeps only the tree's right edge (the
//! partial tile of each level and what is not yet published) and a bounded
//! tile cache; proofs of old entries read hashes back from the published
//! tiles, checked against the tree, and agree with a full in-memory oracle.

use std::path::PathBuf;
use std::sync::Arc;

use ledger::merkle::{self, leaf_hash, MemoryTree};
use ledger::note::NoteSigner;
use ledger::storage::{FileStorage, Storage};
use ledger::{Ledger, LedgerError, Options, KEY_FILE};
use rand::{Rng, SeedableRng};

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("ledger-{tag}-{}-{nanos}", std::process::id()))
}

fn entry(i: u64) -> Vec<u8> {
    format!("bounded entry {i}").into_bytes()
}

/// Hashes the tree part may hold right after a checkpoint, whatever the size:
/// at most one tile (256 + 128 + ... nodes, plus an even-aligned sibling) per
/// tile level, for the 3 tile levels of these sizes.
const TREE_BOUND: usize = 3 * 2 * 256;
/// Hashes the tile cache may add (64 tiles of 511 hashes).
const CACHE_BOUND: usize = 64 * 511;

fn append(log: &Ledger, range: std::ops::Range<u64>, oracle: &mut MemoryTree) {
    let pending: Vec<_> = range.clone().map(|i| log.submit(entry(i)).expect("submit")).collect();
    for (i, p) in range.zip(pending) {
        assert_eq!(p.wait().expect("durable"), i);
        oracle.push(leaf_hash(&entry(i)));
    }
}

fn check_proofs_against_oracle(log: &Ledger, oracle: &MemoryTree, rng: &mut impl Rng, rounds: usize) {
    let size = log.size();
    for _ in 0..rounds {
        let n = rng.gen_range(1..=size);
        let i = rng.gen_range(0..n);
        assert_eq!(
            log.inclusion_proof(i, n).unwrap(),
            merkle::inclusion_proof(oracle, i, n).unwrap(),
            "incl {i} in {n}"
        );
        let m = rng.gen_range(0..=n);
        assert_eq!(
            log.consistency_proof(m, n).unwrap(),
            merkle::consistency_proof(oracle, m, n).unwrap(),
            "{m} -> {n}"
        );
        assert_eq!(log.root(m).unwrap(), oracle.root(m).unwrap(), "root of {m}");
    }
    // The oldest entries, whose hashes are only in the tiles.
    for i in [0, 1, 255, 256, 65_535, 65_536] {
        if i < size {
            let p = log.inclusion_proof(i, size).unwrap();
            assert_eq!(p, merkle::inclusion_proof(oracle, i, size).unwrap());
            merkle::verify_inclusion(&leaf_hash(&entry(i)), i, size, &p, &oracle.root(size).unwrap()).unwrap();
        }
    }
}

#[test]
fn memory_stays_bounded_and_old_proofs_match_the_oracle() {
    let dir = tempdir("bounded");
    Ledger::init(&dir, "example.org/bounded").unwrap();
    let skey = std::fs::read_to_string(dir.join(KEY_FILE)).unwrap();
    let storage = Arc::new(FileStorage::open(&dir).unwrap());
    let log = Ledger::open(storage.clone(), NoteSigner::parse(&skey).unwrap(), Options::default()).unwrap();
    let mut oracle = MemoryTree::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let total = 70_000u64;
    let (mut next, mut proved) = (0, false);
    while next < total {
        let n = rng.gen_range(1..4_000).min(total - next);
        append(&log, next..next + n, &mut oracle);
        next += n;
        log.checkpoint().unwrap();
        // Independent of the log's length (a full tree holds 2 hashes per entry: 140 000 here).
        let held = log.memory_hashes();
        assert!(held <= TREE_BOUND + CACHE_BOUND, "{held} hashes held at size {next}");
        if !proved {
            assert!(held <= TREE_BOUND, "{held} hashes held at size {next}, no tile cached yet");
        }
        assert!(storage.indexed_entries() < 256, "{} WAL offsets held at size {next}", storage.indexed_entries());
        if next > 20_000 && rng.gen_bool(0.2) {
            proved = true;
            check_proofs_against_oracle(&log, &oracle, &mut rng, 20);
            assert!(log.memory_hashes() <= TREE_BOUND + CACHE_BOUND);
        }
    }
    check_proofs_against_oracle(&log, &oracle, &mut rng, 300);
    assert!(log.memory_hashes() <= TREE_BOUND + CACHE_BOUND, "{}", log.memory_hashes());

    // Unpublished entries are held until the next checkpoint, then released.
    append(&log, total..total + 3_000, &mut oracle);
    assert!(log.memory_hashes() >= 2 * 3_000 - 64);
    check_proofs_against_oracle(&log, &oracle, &mut rng, 50);
    log.checkpoint().unwrap();
    let size = log.size();
    drop(log);

    // Recovery on open rebuilds the same bounded state from the WAL.
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    assert_eq!(log.size(), size);
    assert!(log.memory_hashes() <= TREE_BOUND, "{} hashes held after reopening", log.memory_hashes());
    check_proofs_against_oracle(&log, &oracle, &mut rng, 100);
    drop(log);

    // Old entries are read from the published bundles once their offsets are forgotten.
    let storage = FileStorage::open(&dir).unwrap();
    assert_eq!(storage.recover(size, &mut |_, _| {}).unwrap(), size);
    assert!(storage.indexed_entries() < 256);
    let got = storage.read_entries(250, 600).unwrap();
    assert_eq!(got, (250..850).map(entry).collect::<Vec<_>>());
    let got = storage.read_entries(size - 300, 300).unwrap();
    assert_eq!(got, (size - 300..size).map(entry).collect::<Vec<_>>());
    assert!(matches!(storage.read_entries(size - 1, 2), Err(LedgerError::BeyondSize { .. })));
    drop(storage);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_or_missing_tile_is_refused_never_used_for_a_proof() {
    let dir = tempdir("tile-damage");
    Ledger::init(&dir, "example.org/tile-damage").unwrap();
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    let mut oracle = MemoryTree::new();
    append(&log, 0..70_000, &mut oracle);
    log.checkpoint().unwrap();
    drop(log);

    // One flipped bit in a full level-0 tile (reopened: nothing cached).
    let tile = dir.join("tiles/tile/0/000");
    let mut data = std::fs::read(&tile).unwrap();
    data[5 * 32] ^= 1;
    std::fs::write(&tile, &data).unwrap();
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    match log.inclusion_proof(4, 70_000) {
        Err(LedgerError::Corrupt(m)) => assert!(m.contains("tile/0/000"), "{m}"),
        other => panic!("a damaged tile gave {other:?}"),
    }
    // Entries elsewhere still prove, from intact tiles.
    let p = log.inclusion_proof(40_000, 70_000).unwrap();
    assert_eq!(p, merkle::inclusion_proof(&oracle, 40_000, 70_000).unwrap());
    drop(log);

    // A damaged level-1 tile is caught too (it vouches for the level-0 tiles below it).
    data[5 * 32] ^= 1;
    std::fs::write(&tile, &data).unwrap();
    let upper = dir.join("tiles/tile/1/000");
    let mut up = std::fs::read(&upper).unwrap();
    up[0] ^= 0x80;
    std::fs::write(&upper, &up).unwrap();
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    assert!(matches!(log.inclusion_proof(4, 70_000), Err(LedgerError::Corrupt(_))));
    drop(log);

    // A missing tile.
    std::fs::write(&upper, {
        up[0] ^= 0x80;
        &up
    })
    .unwrap();
    std::fs::remove_file(&tile).unwrap();
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    match log.consistency_proof(3, 70_000) {
        Err(LedgerError::Corrupt(m)) => assert!(m.contains("missing"), "{m}"),
        other => panic!("a missing tile gave {other:?}"),
    }
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}
