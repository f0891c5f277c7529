//! The `decide` and `laws` commands, run as a user would run them.

mod common;

use std::process::{Command, Output};

use common::repo;

fn fusionguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fusionguard")).args(args).current_dir(repo()).output().expect("runs")
}

fn write_temp(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

#[test]
fn decide_prints_the_decision_and_exits_zero_even_for_a_deny() {
    let (_dir, path) = write_temp("r.json", common::SCENARIO_1);
    let out = fusionguard(&["decide", "--config", "examples/seed-world", &path]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(decision["decision"], "deny");
    let reasons = decision["reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r["citation"].as_str().unwrap().contains("1798.90.55(b)")), "{decision}");
    assert!(reasons.iter().all(|r| r["policy"].is_string() && r["summary"].is_string()));
    assert!(decision["obligations"].is_array());
    assert_eq!(decision["policy_digest"].as_str().unwrap().len(), 64);
}

#[test]
fn malformed_json_is_refused_with_line_and_column() {
    let (_dir, path) = write_temp("bad.json", "{\n  \"requester\": {\"id\": \"u\",,}\n}");
    let out = fusionguard(&["decide", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2 column 27"), "{err}");
    assert!(out.stdout.is_empty(), "no decision is printed for bad input");
}

#[test]
fn an_unknown_id_is_refused_by_name() {
    let (_dir, path) = write_temp("r.json", &common::SCENARIO_1.replace("ociac-alpr", "ociac-alrp"));
    let out = fusionguard(&["decide", &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown source \"ociac-alrp\""));
}

#[test]
fn laws_check_list_and_test_pass_on_the_library() {
    let out = fusionguard(&["laws", "check"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));

    let out = fusionguard(&["laws", "list"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.lines().next().unwrap().starts_with("ID"));
    assert!(
        table.contains("ny-vtl-201-12a-immigration-agencies") && table.contains("N.Y. Veh. & Traf. Law § 201(12)(a)")
    );

    let out = fusionguard(&["laws", "test"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" passed, 0 failed;") && !text.contains("MISSING"), "{text}");
}

#[test]
fn laws_bench_reports_the_figures_as_json() {
    let out = fusionguard(&["laws", "bench", "--json", "--mix", "200", "--rounds", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["p50_us", "p99_us", "policies", "unsliced_p50_us", "unsliced_p99_us"] {
        assert!(report[key].as_f64().is_some_and(|v| v > 0.0), "{key} in {report}");
    }
    assert_eq!(report["decisions"], 200);
}

#[test]
fn a_broken_library_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.cedarschema"), "namespace X { entity A; ").unwrap();
    let out = fusionguard(&["laws", "--laws", &dir.path().display().to_string(), "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema.cedarschema:1:"));
}

#[test]
fn decide_at_a_day_applies_the_law_in_force_that_day() {
    // New Mexico's Driver Privacy and Safety Act (SB 40) applies from 1 July 2026: an out-of-state
    // recipient of Albuquerque ALPR data must affirm no immigration use from that day, not before.
    let request = r#"{"requester": {"id": "u-1", "agency": "tx-dps", "role": "analyst"},
        "source": "abq-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "homicide suspect vehicle", "case_number": "TX-26-9",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}}"#;
    let (_dir, path) = write_temp("r.json", request);
    let obligations = |at: &str| -> Vec<String> {
        let out = fusionguard(&["decide", "--at", at, &path]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        d["obligations"].as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_string()).collect()
    };
    let before = obligations("2026-06-30");
    let after = obligations("2026-07-01");
    assert!(!before.iter().any(|o| o.starts_with("certify:nm_")), "{before:?}");
    assert!(after.iter().any(|o| o.starts_with("certify:nm_")), "{after:?}");

    for bad in ["2026-02-30", "July 1", ""] {
        let out = fusionguard(&["decide", "--at", bad, &path]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--at"), "{bad}");
    }
}

#[test]
fn laws_list_says_when_each_policy_applies_and_how_far_it_was_verified() {
    let out = fusionguard(&["laws", "list", "--json"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("one object per line")).collect();
    assert!(rows.len() > 60, "{}", rows.len());
    for row in &rows {
        for key in ["id", "jurisdiction", "citation", "effective", "verified"] {
            assert!(row[key].is_string(), "{key} in {row}");
        }
        assert!(row["expires"].is_null() || row["expires"].is_string(), "{row}");
        assert!(["text", "summary", "unverified"].contains(&row["verified"].as_str().unwrap()), "{row}");
    }
    let gaps = fusionguard(&["laws", "list", "--unverified"]);
    let gaps = String::from_utf8_lossy(&gaps.stdout);
    let unverified = rows.iter().filter(|r| r["verified"] != "text").count();
    assert_eq!(gaps.lines().count(), unverified + 1, "a header and one line per gap:\n{gaps}");
    assert!(unverified > 0);
    for line in gaps.lines().skip(1) {
        let id = line.split_whitespace().next().unwrap();
        let row = rows.iter().find(|r| r["id"] == id).expect("a policy of the library");
        assert_ne!(row["verified"], "text", "{line}");
    }
}

#[test]
fn the_readme_law_table_is_the_library_as_it_is() {
    let out = fusionguard(&["laws", "list", "--markdown"]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find("<!-- law-table:start -->").expect("README has the law table") + 24;
    let end = readme.find("<!-- law-table:end -->").unwrap();
    assert_eq!(
        readme[start..end].trim(),
        table.trim(),
        "README's law table is stale: replace it with `fusionguard laws list --markdown`"
    );
}
