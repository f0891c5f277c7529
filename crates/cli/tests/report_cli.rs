//! `fusionguard report transparency` end to end: a ledger in the hub's layout made with the
//! `ledger` commands, reported as HTML, CSV and JSON (each the library's rendering of the same
//! counts); a tampered ledger or a bad argument writes nothing and says why.

mod common;

use common::{repo, run, tempdir};
use model::entry::{DecisionEntry, Entry, EntryRequester, HashedSubject, ENTRY_VERSION};
use model::{LegalBasis, Outcome};

/// 2025-06-01T00:00:00Z.
const JUNE_2025: u64 = 1_748_736_000;

fn decision(i: u64, outcome: Outcome) -> Entry {
    Entry::Decision(DecisionEntry {
        v: ENTRY_VERSION,
        time: JUNE_2025 + i * 3600,
        decision_id: format!("secret-decision-{i}"),
        requester: EntryRequester { id: format!("secret-user-{i}"), agency: "ice-ero".into(), role: "agent".into() },
        token: format!("{i:016x}"),
        on_behalf_of: vec![],
        source: "ociac-alpr".into(),
        owner: "ociac".into(),
        action: "lookup".into(),
        purpose: "civil_immigration_enforcement".into(),
        legal_basis: LegalBasis { kind: "none".into(), reference: None, issued_by: None },
        case_number: None,
        justification: "ab".repeat(32),
        subject: HashedSubject { kind: "plate".into(), hmac: "cd".repeat(32) },
        fields: None,
        decision: outcome,
        citations: vec![],
        obligations: vec![],
        certifications: vec![],
        justification_signals: vec![],
        policy_digest: "00".repeat(32),
        federation: None,
    })
}

/// A hub data directory whose ledger holds `n` decisions (every third permitted).
fn data_dir(n: u64) -> std::path::PathBuf {
    let data = tempdir("report");
    std::fs::create_dir_all(&data).unwrap();
    let dir = data.join("ledger");
    let dir = dir.to_str().unwrap();
    let (code, out) = run(&["ledger", "init", "--dir", dir, "--origin", "test.example/hub"], b"");
    assert_eq!(code, 0, "{out}");
    std::fs::write(data.join("ledger.vkey"), out.trim().lines().last().unwrap()).unwrap();
    let mut lines = Vec::new();
    for i in 0..n {
        lines.extend(decision(i, if i.is_multiple_of(3) { Outcome::Permit } else { Outcome::Deny }).to_json_vec());
        lines.push(b'\n');
    }
    let (code, out) = run(&["ledger", "append", "--dir", dir], &lines);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&["ledger", "checkpoint", "--dir", dir], b"");
    assert_eq!(code, 0, "{out}");
    data
}

#[test]
fn the_three_formats_are_the_reports_renderings() {
    let data = data_dir(10);
    let config = repo().join("examples/seed-world");
    let d = data.to_str().unwrap();
    for ext in ["html", "csv", "json"] {
        let out = data.join(format!("report.{ext}"));
        let (code, text) = run(
            &[
                "report",
                "transparency",
                "--data",
                d,
                "--year",
                "2025",
                "--config",
                config.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(code, 0, "{text}");
        assert!(text.contains("10 requests (4 permitted, 6 denied, 0 held for review)"), "{text}");
        let written = std::fs::read_to_string(&out).unwrap();
        let reader = oversight::ledger::LedgerReader::open_data_dir(&data).unwrap();
        let deployment = model::Deployment::load(&config).unwrap();
        // With --config the command also runs the ledger audit and counts its findings.
        let report = oversight::transparency::Report::build_audited(
            2025,
            oversight::transparency::LedgerInfo::of(&reader),
            &deployment,
            reader.entries(),
        )
        .unwrap();
        assert!(report.findings.detectors_ran);
        let want = match ext {
            "html" => report.html(),
            "csv" => report.csv(),
            _ => report.json(),
        };
        assert_eq!(written, want, "{ext}");
        for secret in ["secret-decision-", "secret-user-", "cdcdcdcd", "abababab"] {
            assert!(!written.contains(secret), "{ext}: {secret}");
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["sharing"]["by_recipient"][0]["key"], "ice-ero");
    assert_eq!(json["sharing"]["by_recipient"][0]["deny"], 6);
    assert_eq!(json["sharing"]["by_recipient_kind"][0]["key"], "dhs_immigration");
    // Another year: nothing, said plainly.
    let out = data.join("2024.html");
    let (code, text) =
        run(&["report", "transparency", "--data", d, "--year", "2024", "--out", out.to_str().unwrap()], b"");
    assert_eq!(code, 0, "{text}");
    assert!(std::fs::read_to_string(&out).unwrap().contains("None recorded in 2024"));
    assert!(text.contains("no entries dated in 2024; the years it holds: 2025"), "{text}");
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn a_tampered_ledger_or_bad_argument_writes_nothing() {
    let data = data_dir(5);
    let d = data.to_str().unwrap();
    let out = data.join("report.html");
    let o = out.to_str().unwrap();
    // Flip one byte of an entry: a failed check (1), naming the bundle; no report.
    let bundle = data.join("ledger/tiles/tile/entries/000.p/5");
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    let (code, text) = run(&["report", "transparency", "--data", d, "--year", "2025", "--out", o], b"");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("tile/entries/000.p/5") && text.contains("no report written"), "{text}");
    assert!(!out.exists());
    bytes[10] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    // Bad input: exit 2 with what is wrong.
    for (args, want) in [
        (vec!["--data", d, "--year", "2025", "--out", "report.pdf"], "the extension must be .html, .csv or .json"),
        (vec!["--data", "/nonexistent/fg", "--year", "2025", "--out", o], "/nonexistent/fg/ledger.vkey"),
        (vec!["--data", d, "--year", "12025", "--out", o], "--year 12025"),
        (vec!["--year", "2025", "--out", o], "--data"),
    ] {
        let mut all = vec!["report", "transparency"];
        all.extend(args);
        let (code, text) = run(&all, b"");
        assert_eq!(code, 2, "{all:?}: {text}");
        assert!(text.contains(want), "{all:?}: {text}");
        assert!(!out.exists());
    }
    let (code, text) = run(&["report", "transparency", "--help"], b"");
    assert_eq!(code, 0);
    assert!(text.contains("--year") && text.contains("UTC") && text.contains(".json"), "{text}");
    std::fs::remove_dir_all(&data).unwrap();
}
