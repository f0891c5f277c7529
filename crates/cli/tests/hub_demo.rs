//! `fusionguard demo`, `token` and `ledger verify` against a live hub, over real HTTP; Ctrl-C
//! (SIGINT) stops the demo cleanly.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{bin, http, repo, token_of, Demo};

fn start_demo(data: &Path) -> Demo {
    let args: Vec<&std::ffi::OsStr> = ["demo", "--listen", "127.0.0.1:0", "--data"]
        .into_iter()
        .map(std::ffi::OsStr::new)
        .chain([data.as_os_str()])
        .collect();
    common::start_demo(&args)
}

#[test]
fn demo_serves_verifies_and_stops_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let mut demo = start_demo(&data);
    let url = demo.lines.iter().find_map(|l| l.strip_prefix("fusionguard hub listening on ")).unwrap().to_string();
    let addr = url.trim_start_matches("http://").to_string();

    let det = token_of(&demo.lines, "T_DET_RAMOS");
    let example = std::fs::read_to_string(data.join("examples/8-sheriff-alpr.json")).unwrap();
    let (status, body) = http(&addr, "POST", "/v1/requests", Some(&det), &example);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["decision"], "permit");
    assert!(!v["data"].as_array().unwrap().is_empty());
    let ero = token_of(&demo.lines, "T_ERO_OFFICER");
    let ice = std::fs::read_to_string(data.join("examples/1-ice-alpr.json")).unwrap();
    let (status, body) = http(&addr, "POST", "/v1/requests", Some(&ero), &ice);
    assert_eq!(status, 200);
    assert!(body.contains("\"decision\":\"deny\"") && !body.contains("\"data\""), "{body}");

    // A token issued by the CLI works at once in the running hub; a revoked one stops working.
    let out = Command::new(bin())
        .args(["token", "issue", "--config"])
        .arg(repo().join("examples/seed-world"))
        .arg("--data")
        .arg(&data)
        .args(["--agency", "oc-sheriff", "--user", "det-cli", "--role", "detective"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let mine = example.replace("det-ramos", "det-cli");
    assert_eq!(http(&addr, "POST", "/v1/requests", Some(&token), &mine).0, 200);
    let bad = Command::new(bin())
        .args(["token", "issue", "--config"])
        .arg(repo().join("examples/seed-world"))
        .arg("--data")
        .arg(&data)
        .args(["--agency", "no-such-agency", "--user", "x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let id = token.split('_').nth(1).unwrap();
    let out = Command::new(bin()).args(["token", "revoke", "--data"]).arg(&data).args(["--id", id]).output().unwrap();
    assert!(out.status.success());
    let mut status = 0;
    for _ in 0..60 {
        status = http(&addr, "POST", "/v1/requests", Some(&token), &mine).0;
        if status == 401 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status, 401);

    // `fusionguard ledger verify` against the live hub, with the key the hub serves.
    let (_, vkey) = http(&addr, "GET", "/v1/ledger/key", None, "");
    let (_, metrics) = http(&addr, "GET", "/metrics", None, "");
    let size: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fusionguard_ledger_size "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    assert!(size >= 3, "{metrics}");
    let mut verified = false;
    for _ in 0..100 {
        let (_, cp) = http(&addr, "GET", "/ledger/checkpoint", None, "");
        if cp.lines().nth(1) == Some(size.to_string().as_str()) {
            let out = Command::new(bin())
                .args(["ledger", "verify", "--tiles", &format!("{url}/ledger"), "--vkey", vkey.trim()])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
            assert!(text.contains(&format!("OK: {size} entries")), "{text}");
            // An outside auditor runs the side-door detectors on the live hub's public ledger,
            // without its data directory.
            let out = Command::new(bin())
                .args(["audit", "ledger", "--tiles", &format!("{url}/ledger"), "--vkey", vkey.trim(), "--stats"])
                .arg("--config")
                .arg(repo().join("examples/seed-world"))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{err}");
            assert!(err.contains(&format!("{url}/ledger: {size} entries read")), "{err}");
            verified = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(verified, "a checkpoint covers every decision");

    // Ctrl-C: a clean stop, exit status 0.
    let pid = demo.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let mut exited = None;
    for _ in 0..200 {
        if let Some(s) = demo.child.try_wait().unwrap() {
            exited = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(exited.and_then(|s| s.code()), Some(0), "the demo stops cleanly on SIGINT");
    // The ledger reopens cleanly after the stop (no torn state).
    assert!(data.join("ledger/tiles/checkpoint").exists());
}

/// `fusionguard audit ledger` on the ledger a live hub wrote: ICE's plate lookup is denied, then a
/// sheriff's detective looks up the same plate and is permitted: a side door.
#[test]
fn audit_ledger_finds_the_side_door_in_a_live_hubs_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let demo = start_demo(&data);
    let url = demo.lines.iter().find_map(|l| l.strip_prefix("fusionguard hub listening on ")).unwrap().to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let ice = std::fs::read_to_string(data.join("examples/1-ice-alpr.json")).unwrap();
    let (status, body) = http(&addr, "POST", "/v1/requests", Some(&token_of(&demo.lines, "T_ERO_OFFICER")), &ice);
    assert!(status == 200 && body.contains("\"decision\":\"deny\""), "{body}");
    let mut local: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("examples/8-sheriff-alpr.json")).unwrap()).unwrap();
    let ice: serde_json::Value = serde_json::from_str(&ice).unwrap();
    local["subject"] = ice["subject"].clone();
    let (status, body) =
        http(&addr, "POST", "/v1/requests", Some(&token_of(&demo.lines, "T_DET_RAMOS")), &local.to_string());
    assert!(status == 200 && body.contains("\"decision\":\"permit\""), "{body}");
    // Wait until the published checkpoint covers both entries.
    let mut size = 0;
    for _ in 0..200 {
        let (_, note) = http(&addr, "GET", "/ledger/checkpoint", None, "");
        size = note.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0u64);
        if size >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(size >= 2);
    let out = Command::new(bin())
        .args(["audit", "ledger", "--format", "jsonl", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(repo().join("examples/seed-world"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let findings: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(findings.len(), 1, "{stdout}");
    assert_eq!((findings[0]["kind"].as_str(), findings[0]["entry"].as_u64()), (Some("side_door"), Some(1)));
    assert_eq!(findings[0]["rule"], "ledger.local_after_denied");
    assert!(findings[0]["evidence"].as_str().unwrap().starts_with("oc-sheriff/det-ramos queried plate subject"));
    // The hub's public transparency page and the auditor's report count the same finding.
    let (status, page) = http(&addr, "GET", "/v1/transparency", None, "");
    assert_eq!(status, 200, "{page}");
    let page: serde_json::Value = serde_json::from_str(&page).unwrap();
    let year = page["year"].as_i64().unwrap().to_string();
    let side_doors = |r: &serde_json::Value| {
        assert_eq!(r["findings"]["detectors_ran"], true);
        r["findings"]["by_kind"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == "side_door/high")
            .map(|c| c["count"].clone())
    };
    assert_eq!(side_doors(&page), Some(serde_json::json!(1)), "{page}");
    let json = tmp.path().join("report.json");
    let out = Command::new(bin())
        .args(["report", "transparency", "--no-progress", "--year", &year, "--data"])
        .arg(&data)
        .arg("--config")
        .arg(repo().join("examples/seed-world"))
        .arg("--out")
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(side_doors(&report), Some(serde_json::json!(1)));
    assert_eq!(report["totals"], page["totals"]);
    drop(demo);
}

#[test]
fn sources_import_puts_a_csv_in_the_embedded_store_the_hub_serves() {
    let data = common::tempdir("import");
    let csv = common::tempdir("import-csv");
    std::fs::create_dir_all(&csv).unwrap();
    let file = csv.join("reads.csv");
    let config = repo().join("examples/seed-world");
    let import = |file: &Path, source: &str| {
        common::run(
            &[
                "sources",
                "import",
                "--config",
                config.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
                "--source",
                source,
                file.to_str().unwrap(),
            ],
            b"",
        )
    };
    // Bad input: exit 2, naming what and where; nothing is written.
    std::fs::write(&file, "plate,read_time\n7ABC123,2024-01-01\n").unwrap();
    let (code, out) = import(&file, "ociac-alpr");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("reads.csv") && out.contains("no column \"camera_location\""), "{out}");
    let (code, out) = import(&file, "no-such-source");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("\"no-such-source\" is not registered"), "{out}");
    std::fs::write(&file, "plate,read_time,camera_location,vehicle_image\n7ABC123,\"unclosed\n").unwrap();
    let (code, out) = import(&file, "ociac-alpr");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("reads.csv: line 2"), "{out}");
    // Not UTF-8: the line is named; an empty file says it is empty.
    std::fs::write(&file, b"plate,read_time,camera_location,vehicle_image\n7ABC123,x,y,z\n8XYZ\xff99,x,y,z\n").unwrap();
    let (code, out) = import(&file, "ociac-alpr");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("reads.csv: line 3: not UTF-8"), "{out}");
    std::fs::write(&file, "\n").unwrap();
    let (code, out) = import(&file, "ociac-alpr");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("reads.csv: the file is empty"), "{out}");
    assert!(!data.join("sources/embedded.sqlite").exists());

    std::fs::write(
        &file,
        "plate,read_time,camera_location,vehicle_image,owner_note\n\
         7ABC123,2024-02-02T10:00:00Z,imported camera 1,none,private\n\
         7abc123,2024-02-03T10:00:00Z,imported camera 2,none,private\n\
         8XYZ999,2024-02-04T10:00:00Z,imported camera 3,none,private\n",
    )
    .unwrap();
    let (code, out) = import(&file, "ociac-alpr");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("imported 3 rows") && out.contains("embedded.sqlite"), "{out}");
    // The column the deployment does not declare is named and not stored at all.
    assert!(out.contains("\"owner_note\" are not fields of source \"ociac-alpr\""), "{out}");
    let db = data.join("sources/embedded.sqlite");
    assert!(sqlite_holds(&db, "camera_location") && !sqlite_holds(&db, "owner_note"));

    // The hub serves the imported table (its other columns stay behind).
    let demo = start_demo(&data);
    let addr = demo.lines.iter().find_map(|l| l.strip_prefix("fusionguard hub listening on http://")).unwrap();
    let token = token_of(&demo.lines, "T_DET_RAMOS");
    let body = std::fs::read_to_string(data.join("examples/8-sheriff-alpr.json")).unwrap();
    let (status, text) = http(addr, "POST", "/v1/requests", Some(&token), &body);
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cameras: Vec<&str> =
        v["data"].as_array().unwrap().iter().map(|r| r["camera_location"].as_str().unwrap()).collect();
    assert_eq!(cameras, ["imported camera 1", "imported camera 2"], "{text}");
    assert!(!text.contains("private"));
    drop(demo);
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&csv);
}

/// True when the SQLite file `db` (or its write-ahead log) holds `text` anywhere: a column name
/// is in the table's stored `CREATE TABLE` statement.
fn sqlite_holds(db: &Path, text: &str) -> bool {
    let wal = db.with_extension("sqlite-wal");
    [db.to_path_buf(), wal]
        .iter()
        .any(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).contains(text))
}
