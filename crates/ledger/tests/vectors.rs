//! Conformance against the third-party vectors in `../shared/vectors`.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ledger::checkpoint::Checkpoint;
use ledger::merkle::{self, ProofError};
use ledger::note::{Note, NoteSigner, NoteVerifier};
use ledger::tiles::{verify_log, DirFetcher, VerifyError};
use serde_json::Value;

const TESSERA_VKEY: &str = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
const TESSERA_SKEY: &str = "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("vector dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    out.sort();
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap_or("")).expect("vector base64")
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v.as_array().map(|a| a.iter().map(b64).collect()).unwrap_or_default()
}

fn num(v: &Value) -> u64 {
    v.as_u64().expect("vector number")
}

/// Vectors that expect success although one of their hashes is not 32 bytes.
/// We reject every hash that is not exactly 32 bytes (README: "Proof
/// verification"), so for these we expect `ProofError::HashLength`.
fn non_32_byte_hash(d: &Value) -> bool {
    ["root", "root1", "root2", "leafHash"].iter().filter_map(|k| d.get(*k)).any(|v| b64(v).len() != 32)
        || proof(&d["proof"]).iter().any(|h| h.len() != 32)
}

fn run_merkle_vectors(kind: &str) -> (usize, usize) {
    let mut files = Vec::new();
    json_files(&vectors().join("merkle").join(kind), &mut files);
    assert!(!files.is_empty(), "no vectors for {kind}");
    let (mut ok, mut deviations) = (0, 0);
    for f in &files {
        let d: Value = serde_json::from_slice(&std::fs::read(f).expect("read")).expect("json");
        let p = proof(&d["proof"]);
        let res = match kind {
            "inclusion" => merkle::verify_inclusion(
                &b64(&d["leafHash"]),
                num(&d["leafIdx"]),
                num(&d["treeSize"]),
                &p,
                &b64(&d["root"]),
            ),
            "consistency" => {
                merkle::verify_consistency(num(&d["size1"]), num(&d["size2"]), &p, &b64(&d["root1"]), &b64(&d["root2"]))
            }
            "subtreeinclusion" => merkle::verify_subtree_inclusion(
                &b64(&d["leafHash"]),
                num(&d["leafIdx"]),
                num(&d["start"]),
                num(&d["end"]),
                &p,
                &b64(&d["root"]),
            ),
            "subtreeconsistency" => merkle::verify_subtree_consistency(
                num(&d["start"]),
                num(&d["end"]),
                num(&d["size"]),
                &p,
                &b64(&d["root1"]),
                &b64(&d["root2"]),
            ),
            _ => unreachable!(),
        };
        let want_err = d["wantErr"].as_bool().expect("wantErr");
        if !want_err && non_32_byte_hash(&d) {
            assert!(
                matches!(res, Err(ProofError::HashLength { .. })),
                "{}: expected our documented rejection of short hashes, got {res:?}",
                f.display()
            );
            deviations += 1;
            continue;
        }
        assert_eq!(res.is_err(), want_err, "{}: {:?} ({})", f.display(), res, d["desc"]);
        ok += 1;
    }
    (ok, deviations)
}

#[test]
fn merkle_inclusion_vectors() {
    let (ok, dev) = run_merkle_vectors("inclusion");
    assert!(ok > 60, "{ok}");
    assert_eq!(dev, 0);
}

#[test]
fn merkle_consistency_vectors() {
    let (ok, dev) = run_merkle_vectors("consistency");
    assert!(ok > 60, "{ok}");
    assert_eq!(dev, 1, "only sizes-are-equal-one-and-proof-is-empty uses 12-byte roots");
}

#[test]
fn merkle_subtree_inclusion_vectors() {
    let (ok, dev) = run_merkle_vectors("subtreeinclusion");
    assert!(ok > 100, "{ok}");
    assert_eq!(dev, 0);
}

#[test]
fn merkle_subtree_consistency_vectors() {
    let (ok, dev) = run_merkle_vectors("subtreeconsistency");
    assert!(ok > 60, "{ok}");
    assert_eq!(dev, 3);
}

#[test]
fn argon2020_certificate_transparency_proofs() {
    let dir = vectors().join("argon2020");
    let read = |f: &str| -> Value { serde_json::from_slice(&std::fs::read(dir.join(f)).expect("read")).expect("json") };
    let sth = read("sth.json");
    let size = num(&sth["tree_size"]);
    let root = b64(&sth["sha256_root_hash"]);
    let entry = b64(&read("entries.json")["entries"][0]["leaf_input"]);
    let p = read("proof.json");
    let leaf = merkle::leaf_hash(&entry);
    let path = proof(&p["audit_path"]);
    merkle::verify_inclusion(&leaf, num(&p["leaf_index"]), size, &path, &root).expect("argon2020 inclusion");
    assert!(merkle::verify_inclusion(&leaf, 10001, size, &path, &root).is_err());

    // The consistency proof 3654490 -> size; the old root is the one Go's
    // sumdb/tlog test pins for this proof.
    let c = proof(&read("consistency.json")["consistency"]);
    let old = B64.decode("AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=").expect("b64");
    merkle::verify_consistency(3654490, size, &c, &old, &root).expect("argon2020 consistency");
    assert!(merkle::verify_consistency(3654491, size, &c, &old, &root).is_err());
}

#[test]
fn tessera_checkpoints_resign_byte_for_byte() {
    let signer = NoteSigner::parse(TESSERA_SKEY).expect("skey");
    let verifier = NoteVerifier::parse(TESSERA_VKEY).expect("vkey");
    assert_eq!(signer.verifier(), verifier);
    assert_eq!(verifier.vkey(), TESSERA_VKEY);
    assert_eq!(signer.skey(), TESSERA_SKEY);
    let dir = vectors().join("tessera-log");
    for n in 0..=15 {
        let text = std::fs::read(dir.join(format!("checkpoint.{n}"))).expect("checkpoint.N");
        let note = Note::parse(&text).expect("note");
        note.verify_by(&verifier).expect("signature");
        let cp = Checkpoint::parse(&note.body).expect("body");
        assert_eq!(cp.size, n);
        assert_eq!(cp.body(), note.body);
        let resigned = ledger::note::sign_note(&note.body, &[&signer], 0);
        assert_eq!(resigned.as_bytes(), text.as_slice(), "checkpoint.{n}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).expect("copy");
        }
    }
}

#[test]
fn verify_tessera_log_and_reject_every_modified_copy() {
    let src = vectors().join("tessera-log");
    let verifier = NoteVerifier::parse(TESSERA_VKEY).expect("vkey");
    let ok = verify_log(&DirFetcher(src.clone()), &verifier).expect("tessera-log verifies");
    assert_eq!(ok.checkpoint.size, 15);
    assert_eq!(ok.bundles, 1);
    assert_eq!(ok.tiles, 1);

    // Flip one bit in every byte position of every published file that the
    // size-15 checkpoint covers, one copy at a time.
    let tmp = tempdir("tessera-tamper");
    copy_dir(&src, &tmp);
    let targets = ["checkpoint", "tile/entries/000.p/15", "tile/0/000.p/15"];
    let mut rejected = 0;
    for t in targets {
        let path = tmp.join(t);
        let orig = std::fs::read(&path).expect("read");
        for i in 0..orig.len() {
            let mut m = orig.clone();
            m[i] ^= 0x01;
            std::fs::write(&path, &m).expect("write");
            let res = verify_log(&DirFetcher(tmp.clone()), &verifier);
            assert!(res.is_err(), "{t} byte {i} flipped but the log still verifies");
            rejected += 1;
        }
        std::fs::write(&path, &orig).expect("restore");
    }
    assert!(rejected > 700);

    // Drop each tile in turn.
    for t in &targets[1..] {
        let path = tmp.join(t);
        let orig = std::fs::read(&path).expect("read");
        std::fs::remove_file(&path).expect("rm");
        let err = verify_log(&DirFetcher(tmp.clone()), &verifier).expect_err("dropped tile");
        assert!(matches!(err, VerifyError::Missing { .. }), "{err}");
        std::fs::write(&path, orig).expect("restore");
    }

    // Roll the checkpoint back to an older, validly signed one: the tiles for
    // size 15 no longer match a size-14 checkpoint's expectations.
    let old = std::fs::read(tmp.join("checkpoint.14")).expect("read");
    std::fs::write(tmp.join("checkpoint"), old).expect("write");
    let cp = verify_log(&DirFetcher(tmp.clone()), &verifier).expect("older checkpoint is self-consistent");
    assert_eq!(cp.checkpoint.size, 14, "rollback is visible as a smaller size");

    // From the size-14 view, the log advances to 15 (reading the one new entry); going back to
    // 14 after that is a rollback.
    let mut cp = cp;
    std::fs::copy(src.join("checkpoint"), tmp.join("checkpoint")).expect("copy");
    assert_eq!(cp.advance(&DirFetcher(tmp.clone()), &verifier).expect("14 -> 15"), 14);
    assert_eq!((cp.checkpoint.size, cp.root_at(15)), (15, Some(ok.checkpoint.root)));
    let new: Vec<_> = cp.entries_from(&DirFetcher(tmp.clone()), 14).map(Result::unwrap).collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].0, 14);
    std::fs::write(tmp.join("checkpoint"), std::fs::read(tmp.join("checkpoint.14")).unwrap()).expect("write");
    let err = cp.advance(&DirFetcher(tmp.clone()), &verifier).expect_err("rollback");
    assert!(matches!(err, VerifyError::Rollback { from: 15, to: 14 }), "{err}");

    // Wrong key.
    let other = NoteSigner::generate("example.com/log/testdata", 1).expect("key");
    std::fs::copy(src.join("checkpoint"), tmp.join("checkpoint")).expect("copy");
    assert!(verify_log(&DirFetcher(tmp.clone()), &other.verifier()).is_err());
    let _ = std::fs::remove_dir_all(&tmp);
}

fn tempdir(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ledger-{tag}-{}-{}", std::process::id(), nanos()));
    std::fs::create_dir_all(&p).expect("tempdir");
    p
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}
