//! End-to-end tests of `fusionguard ledger ...`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

mod common;
use common::{run, tempdir};

const TESSERA_VKEY: &str = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

fn tessera() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/tessera-log")
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).expect("json output")
}

#[test]
fn init_append_checkpoint_prove_verify() {
    let dir = tempdir("cli");
    let d = dir.to_str().expect("utf8");
    let (rc, out) = run(&["ledger", "init", "--dir", d, "--origin", "example.org/cli"], b"");
    assert_eq!(rc, 0, "{out}");
    let vkey = out.lines().last().expect("vkey").to_string();
    assert!(vkey.starts_with("example.org/cli+"), "{vkey}");
    assert_ne!(rc, run(&["ledger", "init", "--dir", d, "--origin", "x"], b"").0, "no re-init");

    let input: String = (0..600).map(|i| format!("decision {i}\n")).collect();
    let (rc, out) = run(&["ledger", "append", "--dir", d], input.as_bytes());
    assert_eq!(rc, 0, "{out}");
    let indexes: Vec<u64> = out.lines().map(|l| l.parse().expect("index")).collect();
    assert_eq!(indexes, (0..600).collect::<Vec<_>>());

    let (rc, out) = run(&["ledger", "checkpoint", "--dir", d], b"");
    assert_eq!(rc, 0, "{out}");
    assert!(out.starts_with("example.org/cli\n600\n"), "{out}");
    let on_disk = std::fs::read_to_string(dir.join("tiles/checkpoint")).expect("checkpoint file");
    assert_eq!(on_disk, out);
    let root = B64.decode(out.lines().nth(2).expect("root")).expect("b64");

    let (rc, out) = run(&["ledger", "prove", "inclusion", "--dir", d, "--index", "123", "--size", "600"], b"");
    assert_eq!(rc, 0, "{out}");
    let p = json(&out);
    let hashes: Vec<Vec<u8>> = p["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(|h| B64.decode(h.as_str().expect("str")).expect("b64"))
        .collect();
    ledger::merkle::verify_inclusion(&ledger::merkle::leaf_hash(b"decision 123"), 123, 600, &hashes, &root)
        .expect("proof verifies");

    let (rc, out) = run(&["ledger", "prove", "consistency", "--dir", d, "--from", "100", "--to", "600"], b"");
    assert_eq!(rc, 0, "{out}");
    let p = json(&out);
    let hashes: Vec<Vec<u8>> = p["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(|h| B64.decode(h.as_str().expect("str")).expect("b64"))
        .collect();
    let root1 = B64.decode(p["root1"].as_str().expect("root1")).expect("b64");
    ledger::merkle::verify_consistency(100, 600, &hashes, &root1, &root).expect("consistency verifies");
    assert_ne!(run(&["ledger", "prove", "inclusion", "--dir", d, "--index", "600", "--size", "600"], b"").0, 0);

    let tiles = dir.join("tiles");
    let t = tiles.to_str().expect("utf8");
    let (rc, out) = run(&["ledger", "verify", "--tiles", t, "--vkey", &vkey], b"");
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("\nOK: 600 entries"), "{out}");

    // Keep the 600 checkpoint, grow, then roll the public checkpoint back.
    let old_cp = dir.join("old-checkpoint");
    std::fs::copy(tiles.join("checkpoint"), &old_cp).expect("copy");
    let (rc, _) = run(&["ledger", "append", "--dir", d], b"more\n");
    assert_eq!(rc, 0);
    assert_eq!(run(&["ledger", "checkpoint", "--dir", d], b"").0, 0);
    let newer = dir.join("newer-checkpoint");
    std::fs::copy(tiles.join("checkpoint"), &newer).expect("copy");
    let p = old_cp.to_str().expect("utf8");
    assert_eq!(run(&["ledger", "verify", "--tiles", t, "--vkey", &vkey, "--previous", p], b"").0, 0);
    std::fs::copy(&old_cp, tiles.join("checkpoint")).expect("rollback");
    let (rc, out) =
        run(&["ledger", "verify", "--tiles", t, "--vkey", &vkey, "--previous", newer.to_str().expect("utf8")], b"");
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("rolled back"), "{out}");

    // Flip a byte in a tile: verify names it.
    std::fs::copy(&newer, tiles.join("checkpoint")).expect("restore");
    let tile = tiles.join("tile/0/001");
    let mut data = std::fs::read(&tile).expect("tile");
    data[100] ^= 1;
    std::fs::write(&tile, data).expect("write");
    let (rc, out) = run(&["ledger", "verify", "--tiles", t, "--vkey", &vkey], b"");
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("tile/0/001") && out.contains("hash 3"), "{out}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn verify_tessera_log_from_directory_and_reject_modified_copy() {
    let t = tessera();
    let (rc, out) = run(&["ledger", "verify", "--tiles", t.to_str().expect("utf8"), "--vkey", TESSERA_VKEY], b"");
    assert_eq!(rc, 0, "{out}");
    assert!(out.starts_with("OK: 15 entries"), "{out}");

    let copy = tempdir("tessera-copy");
    std::fs::create_dir_all(copy.join("tile/entries/000.p")).expect("mkdir");
    std::fs::create_dir_all(copy.join("tile/0/000.p")).expect("mkdir");
    for f in ["checkpoint", "tile/entries/000.p/15", "tile/0/000.p/15"] {
        std::fs::copy(t.join(f), copy.join(f)).expect("copy");
    }
    let c = copy.to_str().expect("utf8");
    assert_eq!(run(&["ledger", "verify", "--tiles", c, "--vkey", TESSERA_VKEY], b"").0, 0);
    let bundle = copy.join("tile/entries/000.p/15");
    let mut data = std::fs::read(&bundle).expect("read");
    let last = data.len() - 1;
    data[last] ^= 0x20;
    std::fs::write(&bundle, data).expect("write");
    let (rc, out) = run(&["ledger", "verify", "--tiles", c, "--vkey", TESSERA_VKEY], b"");
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("tile/0/000.p/15") && out.contains("index 14"), "{out}");
    // Wrong key.
    let other = "example.com/log/testdata+00000000+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
    assert_ne!(run(&["ledger", "verify", "--tiles", c, "--vkey", other], b"").0, 0);
    std::fs::remove_dir_all(&copy).expect("cleanup");
}

/// A minimal static file server for one directory (GET only).
fn serve_dir(root: PathBuf) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let mut reader = BufReader::new(s.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let path = line.split(' ').nth(1).unwrap_or("/").trim_start_matches('/').to_string();
            let body = if path.contains("..") { None } else { std::fs::read(root.join(&path)).ok() };
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", Vec::new()),
            };
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn verify_over_http() {
    let url = serve_dir(tessera());
    let (rc, out) = run(&["ledger", "verify", "--tiles", &url, "--vkey", TESSERA_VKEY], b"");
    assert_eq!(rc, 0, "{out}");
    assert!(out.starts_with("OK: 15 entries"), "{out}");
    let empty = serve_dir(tempdir("nothing"));
    let (rc, out) = run(&["ledger", "verify", "--tiles", &empty, "--vkey", TESSERA_VKEY], b"");
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("missing checkpoint"), "{out}");
}
