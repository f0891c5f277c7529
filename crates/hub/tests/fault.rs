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
