//! Differential tests against independent implementations: `ct-merkle`
//! (RFC 6962 trees and proofs), `tlog_tiles` (a port of Go's sumdb/tlog,
//! reading our published tiles) and `signed_note` (a port of Go's sumdb/note).

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use ledger::merkle::{self, leaf_hash, MemoryTree};
use ledger::{Ledger, Options};
use rand::{Rng, SeedableRng};
use sha2_011::Sha256;

fn random_entries(rng: &mut impl Rng, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let len = rng.gen_range(0..40);
            (0..len).map(|_| rng.gen()).collect()
        })
        .collect()
}

#[test]
fn merkle_agrees_with_ct_merkle_on_random_trees() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..20 {
        let n = rng.gen_range(1..300usize);
        let entries = random_entries(&mut rng, n);
        let mut ours = MemoryTree::new();
        let mut theirs: MemoryBackedTree<Sha256, Vec<u8>> = MemoryBackedTree::new();
        for e in &entries {
            ours.push(leaf_hash(e));
            theirs.push(e.clone());
        }
        let root = ours.root(n as u64).unwrap();
        assert_eq!(theirs.root().as_bytes().as_slice(), root.as_slice(), "root of {n}");
        for _ in 0..10 {
            let i = rng.gen_range(0..n);
            let p = merkle::inclusion_proof(&ours, i as u64, n as u64).unwrap();
            let tp = theirs.prove_inclusion(i);
            assert_eq!(tp.as_bytes(), p.concat().as_slice(), "inclusion {i} in {n}");
            // Their verifier accepts our proof.
            let rh = RootHash::<Sha256>::new(root.into(), n as u64);
            rh.verify_inclusion(&entries[i], i as u64, &InclusionProof::from_bytes(p.concat())).unwrap();
        }
        for _ in 0..10 {
            let m = rng.gen_range(1..=n);
            if m == n {
                continue;
            }
            let p = merkle::consistency_proof(&ours, m as u64, n as u64).unwrap();
            // ct-merkle proves from a prefix of the *current* tree: rebuild at size n.
            let tp = theirs.prove_consistency(n - m);
            assert_eq!(tp.as_bytes(), p.concat().as_slice(), "consistency {m} -> {n}");
            let old = RootHash::<Sha256>::new(ours.root(m as u64).unwrap().into(), m as u64);
            let new = RootHash::<Sha256>::new(root.into(), n as u64);
            new.verify_consistency(&old, &ConsistencyProof::try_from_bytes(p.concat()).unwrap()).unwrap();
        }
    }
}

#[test]
fn proofs_agree_with_go_tlog_port() {
    use tlog_tiles::tlog;
    struct Stored(Vec<tlog::Hash>);
    impl tlog::HashReader for Stored {
        fn read_hashes(&self, idx: &[u64]) -> Result<Vec<tlog::Hash>, tlog::Error> {
            Ok(idx.iter().map(|&i| self.0[i as usize]).collect())
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let entries = random_entries(&mut rng, 600);
    let mut ours = MemoryTree::new();
    let mut stored = Stored(Vec::new());
    for (i, e) in entries.iter().enumerate() {
        let hs = tlog::stored_hashes(i as u64, e, &stored).unwrap();
        stored.0.extend(hs);
        ours.push(leaf_hash(e));
    }
    for _ in 0..200 {
        let t = rng.gen_range(1..=600u64);
        let n = rng.gen_range(0..t);
        let th = tlog::tree_hash(t, &stored).unwrap();
        assert_eq!(th.0, ours.root(t).unwrap());
        let rp = tlog::prove_record(t, n, &stored).unwrap();
        let p = merkle::inclusion_proof(&ours, n, t).unwrap();
        assert_eq!(rp.iter().map(|h| h.0).collect::<Vec<_>>(), p);
        if n > 0 {
            let tp = tlog::prove_tree(t, n, &stored).unwrap();
            let c = merkle::consistency_proof(&ours, n, t).unwrap();
            assert_eq!(tp.iter().map(|h| h.0).collect::<Vec<_>>(), c);
        }
    }
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("ledger-{tag}-{}-{nanos}", std::process::id()))
}

#[test]
fn go_tlog_port_reads_our_published_tiles_and_go_note_verifies_our_checkpoint() {
    use tlog_tiles::tile::{Tile, TileHashReader, TileReader};
    use tlog_tiles::tlog;

    let dir = tempdir("diff-tiles");
    let vkey = Ledger::init(&dir, "example.org/diff").unwrap();
    let log = Ledger::open_dir(&dir, Options::default()).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let count = 70_000 + rng.gen_range(0..500);
    let entries = random_entries(&mut rng, count);
    let mut pend = Vec::new();
    for e in &entries {
        pend.push(log.submit(e.clone()).unwrap());
    }
    for p in pend {
        p.wait().unwrap();
    }
    let note_text = log.checkpoint().unwrap();
    drop(log);

    // Go's note verification (ported) accepts our signature and vkey.
    let v = signed_note::StandardVerifier::new(&vkey).unwrap();
    let n = signed_note::Note::from_bytes(note_text.as_bytes()).unwrap();
    let (verified, unverified) = n.verify(&signed_note::VerifierList::new(vec![Box::new(v)])).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(unverified.len(), 1, "our timestamped cosignature is an unknown (ignored) signature");
    let cp = tlog_tiles::checkpoint::Checkpoint::from_bytes(n.text()).unwrap();
    assert_eq!(cp.size(), entries.len() as u64);

    // Go's tile reader authenticates our tiles against the checkpoint.
    struct Dir(std::path::PathBuf);
    impl TileReader for Dir {
        fn height(&self) -> u8 {
            8
        }
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog::Error> {
            Ok(tiles
                .iter()
                .map(|t| {
                    let path = ledger::tiles::tile_path(u32::from(t.level()), t.level_index(), u64::from(t.width()));
                    std::fs::read(self.0.join(path)).expect("tile exists")
                })
                .collect())
        }
        fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
    }
    let reader = Dir(dir.join("tiles"));
    let thr = TileHashReader::new(cp.size(), *cp.hash(), &reader);
    assert_eq!(tlog::tree_hash(cp.size(), &thr).unwrap(), *cp.hash());
    for _ in 0..50 {
        let i = rng.gen_range(0..cp.size());
        let p = tlog::prove_record(cp.size(), i, &thr).unwrap();
        tlog::check_record(&p, cp.size(), *cp.hash(), i, tlog::record_hash(&entries[i as usize])).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
