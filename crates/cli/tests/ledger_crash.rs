//! `fusionguard ledger append` killed with SIGKILL at random moments: every
//! index it printed (acknowledged as durable) must survive, and the log must
//! verify afterwards.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{tempdir, BIN};

fn run(args: &[&str]) -> (bool, String) {
    common::run_ok(args, "")
}

/// All entries published under `tiles` in index order.
fn published_entries(tiles: &Path, size: u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (_, n, w) in ledger::tiles::tiles_at_level(size, 0, 0) {
        let data = std::fs::read(tiles.join(ledger::tiles::entries_path(n, w))).expect("bundle");
        out.extend(ledger::tiles::decode_bundle(&data).expect("decode").into_iter().map(<[u8]>::to_vec));
    }
    out
}

fn entry(round: u64, i: u64) -> String {
    format!("round {round} entry {i}")
}

#[test]
fn kill_9_during_appends_loses_no_acknowledged_entry() {
    let dir = tempdir("crash");
    let d = dir.to_str().expect("utf8 path");
    let (ok, out) = run(&["ledger", "init", "--dir", d, "--origin", "example.org/crash"]);
    assert!(ok, "{out}");
    let vkey = out.lines().last().expect("vkey line").to_string();

    // What must be in the log: (index, entry) for every acknowledged index.
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    let mut size = 0u64;
    for round in 0..6u64 {
        let mut child = Command::new(BIN)
            .args(["ledger", "append", "--dir", d])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn append");
        let mut stdin = child.stdin.take().expect("stdin");
        let feeder = std::thread::spawn(move || {
            for i in 0.. {
                if writeln!(stdin, "{}", entry(round, i)).is_err() {
                    break;
                }
            }
        });
        // Kill after a varying number of acknowledgements, mid-stream.
        let kill_after = 200 + round * 1700;
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut acked_this_round = 0u64;
        while let Some(Ok(line)) = lines.next() {
            let index: u64 = line.trim().parse().expect("index line");
            assert_eq!(index, size + acked_this_round, "indexes are printed in order");
            acknowledged.push((index, entry(round, acked_this_round)));
            acked_this_round += 1;
            if acked_this_round == kill_after {
                child.kill().expect("SIGKILL");
                break;
            }
        }
        let _ = child.wait();
        drop(lines);
        let _ = feeder.join();
        assert_eq!(acked_this_round, kill_after, "round {round} got all its acknowledgements");

        // Recover, publish, verify; every acknowledged entry is at its index.
        let (ok, out) = run(&["ledger", "checkpoint", "--dir", d]);
        assert!(ok, "checkpoint after kill: {out}");
        let new_size: u64 = out.lines().nth(1).and_then(|l| l.parse().ok()).expect("size line");
        assert!(new_size >= size + kill_after, "size {new_size} lost acknowledged entries");
        let tiles = dir.join("tiles");
        let (ok, out) = run(&["ledger", "verify", "--tiles", tiles.to_str().expect("utf8"), "--vkey", &vkey]);
        assert!(ok, "verify after kill: {out}");
        let published = published_entries(&tiles, new_size);
        for (index, e) in &acknowledged {
            assert_eq!(published[*index as usize], e.as_bytes(), "entry {index}");
        }
        // Entries durable but not yet acknowledged are a prefix of what was sent.
        for (k, e) in published[(size + kill_after) as usize..].iter().enumerate() {
            assert_eq!(e.as_slice(), entry(round, kill_after + k as u64).as_bytes());
        }
        // The next round's indexes continue after what survived.
        acknowledged.extend((size + kill_after..new_size).map(|i| (i, entry(round, i - size))));
        size = new_size;
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
