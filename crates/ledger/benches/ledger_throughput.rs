//! Durable appends per second: the ledger (group commit) against a
//! hash-chained SQLite table (commit per 256 rows), side by side in one run,
//! plus checkpoint and proof latency.
//!
//! `cargo bench -p fusionguard-ledger --bench ledger_throughput`
//! (`LEDGER_BENCH_N` sets the number of entries, default 200000).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use ledger::{Ledger, Options};
use sha2::{Digest, Sha256};

fn entry(i: u64) -> Vec<u8> {
    // ~120 bytes, like a small JSON decision record.
    format!(
        "{{\"seq\":{i},\"decision\":\"permit\",\"policy\":\"law/section-{}\",\"subject\":\"agent-{}\",\"pad\":\"0123456789abcdef\"}}",
        i % 97,
        i % 13
    )
    .into_bytes()
}

fn bench_dir(tag: &str) -> PathBuf {
    static RUN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-{tag}-{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn ledger_one_stream(n: u64) -> (f64, u64, Ledger, PathBuf) {
    let dir = bench_dir("ledger");
    Ledger::init(&dir, "bench.example/log").expect("init");
    let log = Ledger::open_dir(&dir, Options::default()).expect("open");
    let entries: Vec<Vec<u8>> = (0..n).map(entry).collect();
    let start = Instant::now();
    // One stream, pipelined: keep up to 16384 appends in flight, and consume
    // acknowledgements (durable indexes) in order, like `ledger append`.
    let mut window = std::collections::VecDeque::new();
    for e in entries {
        window.push_back(log.submit(e).expect("submit"));
        if window.len() >= 16384 {
            window.pop_front().expect("pending").wait().expect("durable");
        }
    }
    for p in window {
        p.wait().expect("durable");
    }
    let secs = start.elapsed().as_secs_f64();
    let commits = log.group_commits();
    (n as f64 / secs, commits, log, dir)
}

fn ledger_threads(n: u64, threads: u64) -> (f64, u64) {
    let dir = bench_dir("ledger-threads");
    Ledger::init(&dir, "bench.example/threads").expect("init");
    let log = Arc::new(Ledger::open_dir(&dir, Options::default()).expect("open"));
    let start = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for i in 0..n / threads {
                    log.append(&entry(t * 1_000_000 + i)).expect("append");
                }
            })
        })
        .collect();
    for h in hs {
        h.join().expect("thread");
    }
    let secs = start.elapsed().as_secs_f64();
    let commits = log.group_commits();
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
    ((n / threads * threads) as f64 / secs, commits)
}

fn sqlite_chain(n: u64) -> f64 {
    let dir = bench_dir("sqlite");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let conn = rusqlite::Connection::open(dir.join("log.db")).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    conn.pragma_update(None, "synchronous", "FULL").expect("sync");
    conn.execute_batch("CREATE TABLE log (id INTEGER PRIMARY KEY, entry BLOB NOT NULL, chain BLOB NOT NULL)")
        .expect("create");
    let entries: Vec<Vec<u8>> = (0..n).map(entry).collect();
    let start = Instant::now();
    let mut prev = [0u8; 32];
    for chunk in entries.chunks(256) {
        let tx = conn.unchecked_transaction().expect("tx");
        {
            let mut stmt = tx.prepare_cached("INSERT INTO log (entry, chain) VALUES (?1, ?2)").expect("prepare");
            for e in chunk {
                let mut h = Sha256::new();
                h.update(prev);
                h.update(e);
                prev = h.finalize().into();
                stmt.execute(rusqlite::params![e, &prev[..]]).expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    let secs = start.elapsed().as_secs_f64();
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
    n as f64 / secs
}

/// The same pipelined stream on the PostgreSQL backend (skipped if no server).
fn ledger_postgres(n: u64) -> Option<(f64, u64)> {
    let conninfo =
        std::env::var("LEDGER_BENCH_PG").unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=test".into());
    let schema = format!("ledger_bench_{}", std::process::id());
    let storage = ledger::pg::PgStorage::connect(&conninfo, &schema).ok()?;
    let signer = ledger::note::NoteSigner::generate("bench.example/pg", 1).expect("key");
    let log = Ledger::open(Arc::new(storage), signer, Options::default()).expect("open");
    let start = Instant::now();
    let mut window = std::collections::VecDeque::new();
    for i in 0..n {
        window.push_back(log.submit(entry(i)).expect("submit"));
        if window.len() >= 16384 {
            window.pop_front().expect("pending").wait().expect("durable");
        }
    }
    for p in window {
        p.wait().expect("durable");
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let commits = log.group_commits();
    drop(log);
    if let Ok(mut c) = postgres::Client::connect(&conninfo, postgres::NoTls) {
        let _ = c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
    }
    Some((rate, commits))
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p) as usize]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let n: u64 = std::env::var("LEDGER_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let rounds: usize = std::env::var("LEDGER_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    println!(
        "entries per run: {n} (~120 bytes each), {rounds} alternating rounds, cores: {}",
        std::thread::available_parallelism().map_or(0, |c| c.get())
    );

    // Alternate the two stores so that background load hits both alike.
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut kept = None;
    for round in 0..rounds {
        let (rate, commits, log, dir) = ledger_one_stream(n);
        let sqlite = sqlite_chain(n);
        println!(
            "round {round}: ledger {rate:>9.0}/s ({:.0} entries per fsync), sqlite {sqlite:>9.0}/s, ratio {:.1}x",
            n as f64 / commits as f64,
            rate / sqlite
        );
        ours.push(rate);
        theirs.push(sqlite);
        ratios.push(rate / sqlite);
        if let Some((_, old_dir)) = kept.replace((log, dir)) {
            let _ = std::fs::remove_dir_all(old_dir);
        }
    }
    println!("ledger, one pipelined stream:  median {:>10.0} durable appends/s", median(ours));
    println!(
        "sqlite hash chain, 256/commit: median {:>10.0} durable appends/s (WAL, synchronous=FULL)",
        median(theirs)
    );
    println!("ledger / sqlite: median {:.1}x", median(ratios));
    let (log, dir) = kept.expect("at least one round");
    let (trate, tcommits) = ledger_threads(n / 4, 64);
    println!(
        "ledger, 64 threads blocking append(): {trate:>10.0} durable appends/s  ({:.1} entries per fsync)",
        (n / 4) as f64 / tcommits as f64
    );
    match ledger_postgres(n / 4) {
        Some((r, c)) => println!(
            "ledger on PostgreSQL, one pipelined stream ({} entries): {r:>10.0} durable appends/s ({c} group commits)",
            n / 4
        ),
        None => println!("ledger on PostgreSQL: skipped (no server)"),
    }

    let t = Instant::now();
    log.checkpoint().expect("checkpoint");
    println!("checkpoint of {n} entries (tiles + signature, fsynced): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    for _ in 0..1000 {
        log.append(b"x").expect("append");
    }
    let t = Instant::now();
    log.checkpoint().expect("checkpoint");
    println!("incremental checkpoint after 1000 more entries: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    println!("tree hashes held in memory after the checkpoint: {} (size {})", log.memory_hashes(), log.size());

    let size = log.size();
    let mut lat = Vec::new();
    let mut x = 12345u64;
    for _ in 0..20_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let i = x % size;
        let t = Instant::now();
        let p = log.inclusion_proof(i, size).expect("proof");
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(p);
    }
    println!(
        "inclusion proof of a random entry (size {size}, old hashes read from tiles): median {:.1} us, p99 {:.1} us",
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99)
    );
    let mut lat = Vec::new();
    for _ in 0..20_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let i = size - 1 - x % 1000;
        let t = Instant::now();
        let p = log.inclusion_proof(i, size).expect("proof");
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(p);
    }
    println!(
        "inclusion proof of one of the last 1000 entries: median {:.1} us, p99 {:.1} us",
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99)
    );
    let mut lat = Vec::new();
    for _ in 0..20_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let m = 1 + x % (size - 1);
        let t = Instant::now();
        let p = log.consistency_proof(m, size).expect("proof");
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(p);
    }
    println!(
        "consistency proof (m -> {size}): median {:.1} us, p99 {:.1} us",
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99)
    );
    let verifier = log.verifier();
    println!("tree hashes held in memory after the proofs (tile cache included): {}", log.memory_hashes());
    drop(log);
    let t = Instant::now();
    let log = Ledger::open_dir(&dir, Options::default()).expect("reopen");
    println!(
        "reopen (recovery: WAL scanned, every entry hashed, root checked) of {} entries: {:.0} ms, {} hashes held",
        log.size(),
        t.elapsed().as_secs_f64() * 1e3,
        log.memory_hashes()
    );
    drop(log);
    let t = Instant::now();
    let v = ledger::tiles::verify_log(&ledger::tiles::DirFetcher(dir.join("tiles")), &verifier).expect("verify");
    println!(
        "verify whole log ({} entries, {} tiles): {:.0} ms",
        v.checkpoint.size,
        v.tiles + v.bundles,
        t.elapsed().as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
