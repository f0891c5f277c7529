//! The full-disk fault: when the ledger cannot write, the hub answers 503 and releases nothing;
//! when the fault clears it resumes, and the ledger holds exactly the acknowledged decisions.
//!
//! The fault is real: the data directory is a 2 MiB tmpfs (when the test may mount one, as root
//! in CI) that is filled to the last byte; otherwise the process's file-size limit
//! (RLIMIT_FSIZE) is lowered below the ledger's next write, so the kernel refuses it (EFBIG).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::TestHub;
use serde_json::{json, Value};

enum Fault {
    Tmpfs(PathBuf),
    FileSizeLimit,
}

impl Fault {
    fn prepare(root: &Path) -> (Self, PathBuf) {
        let mnt = root.join("mnt");
        std::fs::create_dir_all(&mnt).unwrap();
        // FUSIONGUARD_TEST_FAULT=rlimit exercises the fallback where a tmpfs could be mounted.
        let want_rlimit = std::env::var("FUSIONGUARD_TEST_FAULT").is_ok_and(|v| v == "rlimit");
        let mounted = !want_rlimit
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
                .arg(&mnt)
                .status()
                .is_ok_and(|s| s.success());
        if mounted {
            (Fault::Tmpfs(mnt.clone()), mnt)
        } else {
            eprintln!("cannot mount a tmpfs here; using RLIMIT_FSIZE for the fault");
            // SAFETY: ignoring SIGXFSZ makes an over-limit write fail with EFBIG instead of killing us.
            unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
            (Fault::FileSizeLimit, mnt)
        }
    }

    fn start(&self, data: &Path) {
        match self {
            Fault::Tmpfs(mnt) => {
                let filler = mnt.join("filler");
                let mut f = std::fs::File::create(&filler).unwrap();
                let chunk = vec![0u8; 64 * 1024];
                while f.write_all(&chunk).is_ok() {}
                while f.write_all(&[0u8]).is_ok() {}
                let _ = f.sync_all();
            }
            Fault::FileSizeLimit => {
                let wal = std::fs::metadata(data.join("ledger/entries.wal")).unwrap().len();
                set_fsize(wal + 16);
            }
        }
    }

    fn clear(&self) {
        match self {
            Fault::Tmpfs(mnt) => std::fs::remove_file(mnt.join("filler")).unwrap(),
            Fault::FileSizeLimit => set_fsize(libc::RLIM_INFINITY),
        }
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        match self {
            Fault::Tmpfs(mnt) => {
                let _ = Command::new("umount").arg("-l").arg(mnt).status();
            }
            Fault::FileSizeLimit => set_fsize(libc::RLIM_INFINITY),
        }
    }
}

fn set_fsize(limit: libc::rlim_t) {
    let mut cur = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain getrlimit/setrlimit on this process with valid pointers.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut cur), 0);
        let new = libc::rlimit { rlim_cur: limit.min(cur.rlim_max), rlim_max: cur.rlim_max };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &new), 0);
    }
}

#[test]
fn full_disk_answers_503_releases_nothing_and_recovers_exactly() {
    let root = tempfile::tempdir().unwrap();
    let (fault, data) = Fault::prepare(root.path());
    let hub = TestHub::start(&data);
    let t = hub.token("oc-sheriff", "det-ramos", "detective");
    let body = json!({
        "requester": {"id": "det-ramos", "agency": "oc-sheriff", "role": "detective"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "armed robbery follow-up", "case_number": "OCSD-2024-118",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}
    })
    .to_string();
    let mut acked: Vec<u64> = Vec::new();
    let check = |r: &common::Reply, acked: &mut Vec<u64>| -> u16 {
        match r.status {
            200 => {
                let v: Value = r.json();
                assert!(!v["data"].as_array().unwrap().is_empty());
                acked.push(v["ledger"]["index"].as_u64().unwrap());
            }
            503 => {
                assert_eq!(r.content_type, "application/problem+json");
                let v: Value = r.json();
                assert!(v.get("data").is_none() && !r.text.contains("7ABC123"), "nothing released: {}", r.text);
                assert!(v["detail"].as_str().unwrap().contains("nothing was released"));
                assert!(!r.text.contains(".wal") && !r.text.contains("/tmp"), "no path in an answer: {}", r.text);
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
        r.status
    };
    for _ in 0..3 {
        assert_eq!(check(&hub.post("/v1/requests", Some(&t), &body), &mut acked), 200);
    }

    fault.start(&data);
    let mut refused = 0;
    for _ in 0..200 {
        if check(&hub.post("/v1/requests", Some(&t), &body), &mut acked) == 503 {
            refused += 1;
            if refused == 5 {
                break;
            }
        }
    }
    assert_eq!(refused, 5, "a full disk must stop the ledger");
    // What clients see of the fault names no file of the hub's.
    let health = hub.get("/healthz", None);
    let root = data.to_str().unwrap();
    assert!(!health.text.contains(root) && !health.text.contains("entries.wal"), "{}", health.text);
    let metrics = hub.get("/metrics", None).text;
    assert!(!metrics.contains("fusionguard_ledger_faults_total 0"), "{metrics}");

    fault.clear();
    let mut resumed = false;
    for _ in 0..200 {
        if check(&hub.post("/v1/requests", Some(&t), &body), &mut acked) == 200 {
            resumed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(resumed, "the hub resumes once the disk has room");
    for _ in 0..3 {
        assert_eq!(check(&hub.post("/v1/requests", Some(&t), &body), &mut acked), 200);
    }

    // Nothing lost, nothing duplicated: the acknowledged indexes are exactly 0..n, and the
    // published, verified log has exactly n entries, each a decision.
    let n = acked.len() as u64;
    assert_eq!(acked, (0..n).collect::<Vec<_>>());
    hub.wait_checkpoint(n);
    let verifier = ledger::note::NoteVerifier::parse(&hub.vkey).unwrap();
    let fetcher = ledger::tiles::HttpFetcher::new(&format!("{}/ledger", hub.url));
    let log = ledger::tiles::verify_log(&fetcher, &verifier).unwrap();
    assert_eq!(log.checkpoint.size, n);
    assert_eq!(hub.get("/healthz", None).status, 200);
    drop(hub);
    drop(fault);
}

/// The value of the metric `name` (a line `name value`) in the hub's /metrics.
fn metric(hub: &TestHub, name: &str) -> f64 {
    let text = hub.get("/metrics", None).text;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

/// Polls (every 50 ms, up to 20 s) until `done` holds.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// Set (to the data directory) in the child process that runs the hub's half of
/// `unpublishable_checkpoint_is_a_reported_fault_that_clears_itself`.
const CHECKPOINT_CHILD: &str = "FUSIONGUARD_TEST_CHECKPOINT_FAULT_DATA";

/// A checkpoint that cannot be published (its tiles' folder is obstructed by a regular file, which
/// stops root as well as anyone) does not stop requests, whose entries are durable in the
/// write-ahead log and whose receipts wait for a checkpoint; it is counted in /metrics, reported on
/// stderr with the path and the OS error (once, not at every attempt), and /healthz answers 503
/// `checkpoint-behind` once the lag passes its bound (10 checkpoint intervals, at least 1 s: 1 s
/// here), naming no absolute path. Removing the obstruction is enough: the next checkpoint is
/// published and everything recovers, without a restart.
///
/// The hub runs in a child process (this test, re-run with [`CHECKPOINT_CHILD`] set), so that its
/// real stderr can be read.
#[test]
fn unpublishable_checkpoint_is_a_reported_fault_that_clears_itself() {
    if let Ok(data) = std::env::var(CHECKPOINT_CHILD) {
        return unpublishable_checkpoint_in_the_hub(Path::new(&data));
    }
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let name = "unpublishable_checkpoint_is_a_reported_fault_that_clears_itself";
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHECKPOINT_CHILD, &data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the hub's half failed:\n{}\n{stderr}", String::from_utf8_lossy(&out.stdout));
    let reports: Vec<&str> = stderr.lines().filter(|l| l.contains("cannot publish a checkpoint")).collect();
    let path = data.join("ledger/tiles/tile").display().to_string();
    assert!(
        reports.iter().any(|l| l.contains(&path) && l.contains("Not a directory (os error 20)")),
        "stderr names the path and the OS error:\n{stderr}"
    );
    assert!(reports.len() <= 2, "reported once (again only after 10 s), not at every attempt:\n{stderr}");
    assert!(stderr.contains("checkpoints are published again"), "the recovery is reported:\n{stderr}");
}

fn unpublishable_checkpoint_in_the_hub(data: &Path) {
    let hub = TestHub::start(data);
    let t = hub.token("oc-sheriff", "det-1", "detective");
    let post = || {
        let r = hub.post("/v1/requests", Some(&t), &common::alpr("7ABC123"));
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    };
    for _ in 0..3 {
        post();
    }
    hub.wait_checkpoint(3);
    assert_eq!(hub.get("/healthz", None).status, 200);

    // Obstruct the hash tiles' folder: no tile, and so no checkpoint, can be written.
    let tiles = data.join("ledger/tiles/tile");
    std::fs::rename(&tiles, data.join("ledger/tiles/tile.away")).unwrap();
    std::fs::write(&tiles, b"in the way").unwrap();
    for i in 3..8 {
        // Answered, with a receipt (the entry is durable in the write-ahead log) that has no
        // checkpoint yet.
        let v = post();
        assert_eq!(v["ledger"]["index"], i, "{v}");
        assert!(v["ledger"].get("checkpoint").is_none(), "{v}");
    }
    wait_for("/healthz to report the lag", || hub.get("/healthz", None).status == 503);
    let health = hub.get("/healthz", None);
    let v = health.json();
    assert_eq!((v["status"].as_str(), v["ledger"].as_str()), (Some("degraded"), Some("checkpoint-behind")), "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("ledger/tiles/tile/") && error.contains("Not a directory (os error 20)"), "{error}");
    let root = data.parent().unwrap().display().to_string();
    assert!(!health.text.contains(&root), "no absolute path in an answer to clients: {}", health.text);
    assert!(!error.split([' ', '(', ':']).any(|w| w.starts_with('/')), "{error}");
    // Still answering, and still behind: the published checkpoint stays at 3.
    assert_eq!(post()["ledger"]["index"], 8);
    assert_eq!(hub.get("/ledger/checkpoint", None).text.lines().nth(1), Some("3"));
    assert!(metric(&hub, "fusionguard_ledger_checkpoint_lag_seconds") > 1.0);
    assert_eq!(metric(&hub, "fusionguard_ledger_lag_entries"), 6.0);
    assert_eq!(metric(&hub, "fusionguard_ledger_up"), 1.0);
    assert_eq!(metric(&hub, "fusionguard_ledger_faults_total"), 0.0, "appends never failed");
    let faults = metric(&hub, "fusionguard_ledger_checkpoint_faults_total");
    assert!(faults >= 5.0, "retried at every interval: {faults}");

    // Remove the obstruction: the next tick publishes, and the hub is healthy again.
    std::fs::remove_file(&tiles).unwrap();
    std::fs::rename(data.join("ledger/tiles/tile.away"), &tiles).unwrap();
    hub.wait_checkpoint(9);
    wait_for("/healthz to recover", || hub.get("/healthz", None).status == 200);
    assert_eq!(hub.get("/healthz", None).json()["status"], "ok");
    assert_eq!(metric(&hub, "fusionguard_ledger_checkpoint_lag_seconds"), 0.0);
    assert_eq!(metric(&hub, "fusionguard_ledger_lag_entries"), 0.0);
    assert!(metric(&hub, "fusionguard_ledger_checkpoint_faults_total") >= faults, "a counter never goes down");
    let receipt = hub.get("/v1/ledger/proof/5", None).json();
    assert_eq!(receipt["tree_size"], 9, "{receipt}");
    let (log, entries) = hub.verified_entries(9);
    assert_eq!((log.checkpoint.size, entries.len()), (9, 9));
}
