//! End-to-end tests of `fusionguard audit ...` on the real records in `../shared/data`.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_fusionguard");

fn data(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel).display().to_string()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run fusionguard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

#[test]
fn searches_jsonl_and_stats() {
    let file = data("flock/okaloosa-fl-org-audit-2025-11.csv");
    let (code, stdout, stderr) = run(&["audit", "searches", &file, "--format", "jsonl", "--stats"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2273 + 3195 + 12);
    // The first search (reason "bolo", 840 networks) is vague and wide.
    for (v, kind) in lines[..2].iter().zip(["vague_reason", "wide_search"]) {
        assert_eq!(v["kind"], kind);
        assert_eq!(v["record"], "23d55b89-42eb-4f5c-9281-f5e8bf4864be");
        assert_eq!(v["line"], 2);
    }
    assert_eq!(lines[0]["evidence"], "reason \"bolo\" with no case number");
    assert!(stderr.contains("7273 rows read, 7273 kept, 0 rejected; 5480 findings"), "{stderr}");
    assert!(stderr.contains("note: no user column"), "{stderr}");
}

#[test]
fn searches_tz_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.csv");
    let mut csv = "id,User,Organization,Search Time,Reason,Moderation\n".to_owned();
    for i in 0..12 {
        csv.push_str(&format!("b{i},u1,A PD,2025-06-01T03:0{}:00Z,theft 25-{i:03}1,\n", i % 10));
    }
    csv.push_str("m1,u1,A PD,2025-06-02T10:00:00Z,Immigration (civil/administrative),block\n");
    std::fs::write(&file, csv).unwrap();
    let file = file.display().to_string();
    let (code, stdout, stderr) =
        run(&["audit", "searches", &file, "--format", "jsonl", "--tz", "-06:00", "--state", "CA"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let burst = lines.iter().find(|v| v["kind"] == "burst").expect("a burst");
    assert!(burst["evidence"].as_str().unwrap().ends_with("times in UTC-06:00 (--tz; the export writes UTC)"));
    let blocked = lines.iter().find(|v| v["kind"] == "moderation_blocked").expect("a blocked search");
    assert_eq!(blocked["record"], "m1");
    // An IANA name is refused with a message saying only fixed offsets are read.
    let (code, _, stderr) = run(&["audit", "searches", &file, "--tz", "America/Chicago"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("only fixed offsets are read"), "{stderr}");
}

#[test]
fn searches_table() {
    let (code, stdout, _) = run(&["audit", "searches", &data("flock/eugene-or-search-audit-2025-06.csv")]);
    assert_eq!(code, 0);
    let header = stdout.lines().next().unwrap();
    assert!(header.starts_with("LINE") && header.contains("SEVERITY") && header.ends_with("EVIDENCE"), "{header}");
    assert!(
        stdout
            .contains("2216 findings\n  off_hours: 17\n  outlier_user: 26\n  vague_reason: 884\n  wide_search: 1289\n"),
        "{stdout}"
    );
}

#[test]
fn sharing_names_the_agencies() {
    let file = data("sharing/flock-agency-access-2024-04-26.csv");
    let (code, stdout, stderr) = run(&["audit", "sharing", &file, "--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    let fbi = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["counterparty"] == "FBI" && v["agency"] == "Hillsborough CA PD")
        .expect("Hillsborough CA PD shares with the FBI");
    assert_eq!(fbi["kind"], "forbidden_sharing");
    assert_eq!(fbi["severity"], "high");
    assert_eq!(fbi["rule"], "sharing.ca_sb34.federal");
    assert!(stderr.starts_with("8 names not resolved by the agency directory (never guessed):\n"), "{stderr}");
}

#[test]
fn emails_and_bad_input() {
    let (code, stdout, stderr) = run(&[
        "audit",
        "emails",
        &data("flock/eugene-or-public-records-emails-2025.csv"),
        "--format",
        "jsonl",
        "--stats",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 90);
    let v = lines.iter().find(|v| v["kind"] == "non_email_sender").unwrap();
    assert_eq!(v["message_id"], "row-4");
    // 89 vendor digests to a personal Gmail account beside the detectives' Exchange accounts.
    let personal: Vec<_> = lines.iter().filter(|v| v["kind"] == "personal_account").collect();
    assert_eq!(personal.len(), 89);
    assert_eq!(personal[0]["rule"], "email.personal_account");
    assert_eq!(personal[0]["severity"], "medium");
    let hash = personal[0]["user"].as_str().unwrap();
    assert!(stderr.contains("90 rows read, 90 kept, 0 rejected; 90 findings"), "{stderr}");
    assert!(stderr.contains("90 messages in 1 threads"), "{stderr}");
    // The summary counts the account by the hash of its address, never the address.
    assert!(stderr.contains(&format!("  1 personal mail accounts on official business (by address hash)\n    {hash} (gmail.com): 89 message(s)\n")), "{stderr}");
    assert!(!stderr.contains("kcorney") && !stdout.contains("kcorney"), "the address is never in clear");
    // A sharing list is not a search audit: exit 2, naming the file, the line and what is missing.
    let file = data("sharing/flock-agency-access-2024-04-26.csv");
    let (code, _, stderr) = run(&["audit", "searches", &file]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "flock-agency-access-2024-04-26.csv: line 1: not a search audit: no id, search time, reason column"
        ),
        "{stderr}"
    );
}

#[test]
fn emails_from_a_folder_of_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1.eml"),
        "From: sgt@ocsd.org\nCc: =?UTF-8?Q?Agent?= <a@ice.dhs.gov>\nSubject: =?UTF-8?B?cGxhdGUgcnVu?=\nMessage-ID: <1@x>\n\nhi\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("2.eml"), "To: nobody@x.org\n\nno sender\n").unwrap();
    let folder = dir.path().display().to_string();
    let (code, stdout, stderr) = run(&["audit", "emails", &folder, "--format", "jsonl", "--stats"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!((v["message_id"].as_str(), v["file"].as_str()), (Some("1@x"), Some("1.eml")));
    assert_eq!(v["evidence"], "DHS address in CC: a@ice.dhs.gov");
    assert!(stderr.contains("2 rows read, 1 kept, 1 rejected; 1 findings"), "{stderr}");
    assert!(stderr.contains("rejected 2.eml, line 1: no From header field"), "{stderr}");
    assert!(stderr.contains("1 message(s): \"plate run\""), "{stderr}");
}

#[test]
fn an_empty_mailbox_or_folder_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let empty_file = dir.path().join("empty.mbox");
    std::fs::write(&empty_file, "").unwrap();
    let empty_folder = dir.path().join("nothing");
    std::fs::create_dir(&empty_folder).unwrap();
    // Nothing audited is not nothing found: exit status 2, naming the file and what was expected.
    let (code, _, stderr) = run(&["audit", "emails", empty_file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("empty.mbox: the file is empty; expected an email production: "), "{stderr}");
    let (code, _, stderr) = run(&["audit", "emails", empty_folder.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("error: no messages were found in"), "{stderr}");
}

#[test]
fn intelligence_retention() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gang.csv");
    std::fs::write(&file, "record_id,entry_date,last_review\nA,2019-01-01,\nB,2019-01-01,2023-06-01\n").unwrap();
    let file = file.display().to_string();
    let (code, stdout, stderr) = run(&["audit", "intelligence", &file, "--as-of", "2025-11-25", "--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!((v["record"].as_str(), v["kind"].as_str()), (Some("A"), Some("retention_exceeded")));
    assert!(v["citation"].as_str().unwrap().starts_with("28 CFR 23.20(h)"));
    let (code, _, stderr) = run(&["audit", "intelligence", &file, "--as-of", "soon"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--as-of: unrecognised time \"soon\""), "{stderr}");
}

#[test]
fn ledger_audit_needs_a_verifiable_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-world").display().to_string();
    let (code, stdout, stderr) = run(&["audit", "ledger", "--data", &data, "--config", &config]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains("auditing the ledger of") && stderr.contains("ledger.vkey"), "{stderr}");
}
