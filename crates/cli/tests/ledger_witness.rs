//! `fusionguard ledger witness` cosigning checkpoints made by `ledger checkpoint --witness`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

mod common;
use common::{run_ok as run, tempdir, BIN};

#[test]
fn witness_cosigns_and_quorum_is_enforced() {
    let dir = tempdir("wlog");
    let d = dir.to_str().expect("utf8");
    let (ok, out) = run(&["ledger", "init", "--dir", d, "--origin", "example.org/witnessed"], "");
    assert!(ok, "{out}");
    let log_vkey = out.lines().last().expect("vkey").to_string();

    let wdir = tempdir("witness");
    let mut witness = Command::new(BIN)
        .args(["ledger", "witness", "--dir", wdir.to_str().expect("utf8"), "--name", "board.example/witness"])
        .args(["--log-vkey", &log_vkey, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn witness");
    let mut lines = BufReader::new(witness.stdout.take().expect("stdout")).lines();
    let url = lines.next().expect("line").expect("read").rsplit(' ').next().expect("url").to_string();
    let wkey = lines.next().expect("line").expect("read");
    assert!(wkey.starts_with("board.example/witness+"), "{wkey}");
    let spec = format!("{wkey}@{url}");

    for round in 0..3 {
        let input: String = (0..50).map(|i| format!("round {round} entry {i}\n")).collect();
        assert!(run(&["ledger", "append", "--dir", d], &input).0);
        let (ok, out) = run(&["ledger", "checkpoint", "--dir", d, "--witness", &spec, "--quorum", "1"], "");
        assert!(ok, "{out}");
        assert!(out.lines().any(|l| l.starts_with("\u{2014} board.example/witness ")), "{out}");
    }
    // An auditor can require the witness's cosignature.
    let tiles = dir.join("tiles");
    let t = tiles.to_str().expect("utf8");
    let (ok, out) =
        run(&["ledger", "verify", "--tiles", t, "--vkey", &log_vkey, "--witness-vkey", &wkey, "--quorum", "1"], "");
    assert!(ok, "{out}");
    assert!(out.contains("cosigned by board.example/witness at "), "{out}");
    // At an RFC 3339 time, not Unix seconds.
    let at = out.split("cosigned by board.example/witness at ").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(at.len() == 20 && at.as_bytes()[10] == b'T' && at.ends_with('Z'), "{out}");
    // A checkpoint without it fails that requirement.
    let stripped: String = std::fs::read_to_string(tiles.join("checkpoint"))
        .expect("checkpoint")
        .lines()
        .filter(|l| !l.starts_with("\u{2014} board.example/witness "))
        .map(|l| format!("{l}\n"))
        .collect();
    let saved = std::fs::read(tiles.join("checkpoint")).expect("checkpoint");
    std::fs::write(tiles.join("checkpoint"), stripped).expect("write");
    let (ok, out) =
        run(&["ledger", "verify", "--tiles", t, "--vkey", &log_vkey, "--witness-vkey", &wkey, "--quorum", "1"], "");
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL: 0 witness cosignatures, 1 required"), "{out}");
    std::fs::write(tiles.join("checkpoint"), saved).expect("restore");

    let _ = witness.kill();
    let _ = witness.wait();

    // Without the witness the quorum cannot be met and nothing new is published.
    assert!(run(&["ledger", "append", "--dir", d], "one more\n").0);
    let before = std::fs::read(dir.join("tiles/checkpoint")).expect("checkpoint");
    let (ok, out) = run(&["ledger", "checkpoint", "--dir", d, "--witness", &spec, "--quorum", "1"], "");
    assert!(!ok, "{out}");
    assert!(out.contains("witness cosignatures"), "{out}");
    assert_eq!(std::fs::read(dir.join("tiles/checkpoint")).expect("checkpoint"), before);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&wdir);
}
