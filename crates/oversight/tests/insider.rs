//! The insider-misuse detectors (`oversight::insider`, wired into `search_audit::audit_file`):
//! counts on the real exports in `../shared/data/flock` (checked independently with Python, see
//! the README), and small synthetic files for the edges.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oversight::insider::Zone;
use oversight::search_audit::{audit_file, SearchRules};
use oversight::{Finding, Kind};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel)
}

fn audit_with(path: &Path, rules: &SearchRules) -> Vec<Finding> {
    let mut findings = Vec::new();
    audit_file(path, rules, &mut |_, _| {}, &mut |f| findings.push(f)).unwrap();
    findings
}

fn by_rule(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.rule).or_default() += 1;
    }
    m
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn eugene_outliers() {
    let findings = audit_with(&data("flock/eugene-or-search-audit-2025-06.csv"), &SearchRules::default());
    let rules = by_rule(&findings);
    // 147 users, no organisation column: one organisation. Python over the same file: 10 users
    // above z 3.5 on search volume (median 16 searches, MAD 13), 16 on cameras per search
    // (median 387, MAD 277.6), none on the share without a case number (median 100%).
    assert_eq!(rules.get("search.outlier_volume"), Some(&10), "{rules:?}");
    assert_eq!(rules.get("search.outlier_cameras"), Some(&16), "{rules:?}");
    assert_eq!(rules.get("search.outlier_no_case"), None);
    assert_eq!(rules.get("search.outlier_networks"), None);
    // No immigration or reproductive reason, no plate column, no moderation or organisation column.
    for r in ["search.org_immigration_purpose", "search.org_reproductive_purpose", "search.plate_many_users"] {
        assert_eq!(rules.get(r), None);
    }
    let top = findings
        .iter()
        .find(|f| {
            f.rule == "search.outlier_volume" && f.user.as_deref() == Some("369e55fd-ff18-4f88-93d4-c175acb52667")
        })
        .expect("the busiest user");
    assert!(
        top.evidence.contains(
            ": 197 searches (197 searches); the median of its 147 users is 16, MAD 13.00; robust z 9.4 > 3.5"
        ),
        "{}",
        top.evidence
    );
    assert!(top.evidence.ends_with("practice concern") && top.citation.is_empty());
    // Pinned to the user's first search.
    assert!(top.time.is_some() && top.line >= 2);
    // Off-hours findings say which zone they assume: the portal export writes none.
    let off: Vec<&Finding> = findings.iter().filter(|f| f.kind == Kind::OffHours).collect();
    assert_eq!(off.len(), 17);
    assert!(off.iter().all(|f| f.evidence.ends_with("times in the export's local time, zone not stated")));
    // With --tz the zone is the one given, and the times are not shifted (they were local).
    let tz = SearchRules { tz: Some(Zone::parse("-07:00").unwrap()), ..Default::default() };
    let with_tz = audit_with(&data("flock/eugene-or-search-audit-2025-06.csv"), &tz);
    let off_tz: Vec<&Finding> = with_tz.iter().filter(|f| f.kind == Kind::OffHours).collect();
    assert_eq!(off_tz.len(), 17);
    assert!(
        off_tz[0].evidence.ends_with("times in the export's local time, taken as UTC-07:00 (--tz)"),
        "{}",
        off_tz[0].evidence
    );
}

#[test]
fn okaloosa_blocked_searches() {
    let findings = audit_with(&data("flock/okaloosa-fl-org-audit-2025-11.csv"), &SearchRules::default());
    let rules = by_rule(&findings);
    // Moderation = "block" on 12 rows (Python: 12 block, 2 warn, 172 allow, 7,087 empty).
    assert_eq!(rules.get("search.moderation_blocked"), Some(&12), "{rules:?}");
    let first = findings.iter().find(|f| f.kind == Kind::ModerationBlocked).unwrap();
    assert!(
        first
            .evidence
            .starts_with("attempted search blocked by the vendor's moderation (Moderation \"block\"); reason "),
        "{}",
        first.evidence
    );
    assert_eq!(first.agency.as_deref(), Some("Okaloosa County FL SO"));
    // One organisation and no user column: no outliers; no plates; one local organisation.
    for r in [
        "search.outlier_volume",
        "search.plate_many_users",
        "search.federal_agency_name",
        "search.org_immigration_purpose",
    ] {
        assert_eq!(rules.get(r), None, "{r}");
    }
}

/// `n` users of `org` with `per` searches each, then `extra` searches by `heavy`.
fn org_rows(out: &mut String, org: &str, n: usize, per: usize, heavy: Option<usize>) {
    let mut id = out.lines().count();
    for u in 0..n {
        let count = if u == 0 { heavy.unwrap_or(per) } else { per + u % 2 };
        for k in 0..count {
            id += 1;
            out.push_str(&format!(
                "s{id},{org},user-{org}-{u},2025-06-0{}T1{}:{:02}:00Z,theft 25-{id:04},100,\n",
                1 + k % 5,
                k % 10,
                (k * 7) % 60
            ));
        }
    }
}

#[test]
fn outliers_need_peers() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = "id,Organization,User,Search Time,Reason,Cameras,Moderation\n".to_owned();
    // Four users (too few peers), one of them with 200 searches: no finding.
    org_rows(&mut csv, "Small PD", 4, 10, Some(200));
    // Six users, one with 200 searches: one finding, on volume.
    org_rows(&mut csv, "Big SO", 6, 10, Some(200));
    let path = write(&dir, "a.csv", &csv);
    let findings = audit_with(&path, &SearchRules::default());
    let out: Vec<&Finding> = findings.iter().filter(|f| f.kind == Kind::OutlierUser).collect();
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].rule, "search.outlier_volume");
    assert_eq!(out[0].agency.as_deref(), Some("Big SO"));
    assert_eq!(out[0].user.as_deref(), Some("user-Big SO-0"));
    assert!(out[0].evidence.contains("> 3.5"), "{}", out[0].evidence);
}

#[test]
fn blocked_federal_plates_and_purposes() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = "id,Organization,User,Search Time,Reason,License Plate,Moderation\n".to_owned();
    // Plate ABC123 searched by five users of three organisations within two hours.
    for (i, (org, user)) in
        [("A PD", "a1"), ("A PD", "a2"), ("B SO", "b1"), ("C PD", "c1"), ("C PD", "c2")].iter().enumerate()
    {
        csv.push_str(&format!("p{i},{org},{user},2025-06-01T1{i}:00:00Z,stolen 25-1234,abc-123,allow\n"));
    }
    // The same plate a week later by one user: no second finding.
    csv.push_str("p9,A PD,a1,2025-06-08T10:00:00Z,stolen 25-1234,ABC123,\n");
    // Another plate by two users: no finding.
    csv.push_str(
        "q1,A PD,a1,2025-06-01T10:00:00Z,theft 25-9,XYZ9,\nq2,A PD,a2,2025-06-01T10:05:00Z,theft 25-9,XYZ9,\n",
    );
    // A blocked search, an immigration reason (drop-down), reproductive care, a federal name.
    csv.push_str("m1,A PD,a1,2025-06-02T10:00:00Z,Immigration (civil/administrative),,block\n");
    csv.push_str("m2,A PD,a2,2025-06-02T11:00:00Z,Immigration (civil/administrative),,allow\n");
    csv.push_str("m3,B SO,b1,2025-06-02T12:00:00Z,abortion,,\n");
    csv.push_str("m4,B SO,b1,2025-06-02T12:10:00Z,reproductive services out of state,,warn\n");
    csv.push_str("f1,HSI Tampa,h1,2025-06-03T12:00:00Z,case 25-777,,\n");
    csv.push_str("f2,FBI Jacksonville,j1,2025-06-03T12:00:00Z,case 25-778,,\n");
    let path = write(&dir, "b.csv", &csv);
    let findings = audit_with(&path, &SearchRules::default());
    let rules = by_rule(&findings);
    assert_eq!(rules.get("search.plate_many_users"), Some(&1), "{rules:?}");
    let plate = findings.iter().find(|f| f.kind == Kind::PlateManyUsers).unwrap();
    assert_eq!(plate.line, 5, "pinned to the search that reached the threshold (3 organisations)");
    assert!(
        plate.evidence.starts_with("plate ABC123 searched 4 times by 4 distinct users and 3 distinct organisations"),
        "{}",
        plate.evidence
    );
    assert!(plate.evidence.contains("within 24 hours"));
    assert_eq!(rules.get("search.moderation_blocked"), Some(&1));
    let blocked = findings.iter().find(|f| f.kind == Kind::ModerationBlocked).unwrap();
    assert_eq!(blocked.subject, oversight::Subject::Search { record: "m1".into() });
    assert!(blocked.evidence.contains("reason \"Immigration (civil/administrative)\""), "{}", blocked.evidence);
    assert_eq!(rules.get("search.org_immigration_purpose"), Some(&1));
    let imm = findings.iter().find(|f| f.rule == "search.org_immigration_purpose").unwrap();
    assert!(
        imm.evidence.starts_with("organisation \"A PD\": 2 searches with an immigration purpose (lines "),
        "{}",
        imm.evidence
    );
    assert!(imm.citation.is_empty() && imm.evidence.contains("practice concern"));
    assert_eq!(rules.get("search.org_reproductive_purpose"), Some(&1));
    let rep = findings.iter().find(|f| f.rule == "search.org_reproductive_purpose").unwrap();
    assert_eq!(rep.agency.as_deref(), Some("B SO"));
    assert!(rep.evidence.contains("2 searches with a reproductive-care purpose"), "{}", rep.evidence);
    let fed: Vec<&Finding> = findings.iter().filter(|f| f.rule == "search.federal_agency_name").collect();
    assert_eq!(fed.len(), 2);
    assert_eq!((fed[0].severity, fed[1].severity), (oversight::Severity::High, oversight::Severity::Medium));
    // With the audited agency's state, the statute is cited.
    let mut ca = SearchRules::default();
    ca.insider.state = Some("CA".into());
    let cited = audit_with(&path, &ca);
    let imm = cited.iter().find(|f| f.rule == "search.org_immigration_purpose").unwrap();
    assert!(imm.citation.starts_with("Cal. Gov. Code § 7284.6"));
    let fl = SearchRules {
        insider: oversight::insider::InsiderRules { state: Some("FL".into()), ..Default::default() },
        ..Default::default()
    };
    assert!(audit_with(&path, &fl).iter().all(|f| f.rule != "search.org_immigration_purpose" || f.citation.is_empty()));
}

#[test]
fn bursts_state_the_zone_and_tz_converts_utc() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = "id,User,Search Time,Reason\n".to_owned();
    for i in 0..12 {
        csv.push_str(&format!("b{i},u1,2025-06-01T03:0{}:00Z,theft 25-{i:03}1\n", i % 10));
    }
    let path = write(&dir, "c.csv", &csv);
    let plain = audit_with(&path, &SearchRules::default());
    let burst = plain.iter().find(|f| f.kind == Kind::Burst).unwrap();
    assert!(burst.evidence.contains("between 2025-06-01T03:00:00Z and 2025-06-01T03:09:59Z"), "{}", burst.evidence);
    assert!(burst.evidence.ends_with("times in UTC (the export writes the zone)"), "{}", burst.evidence);
    let tz = SearchRules { tz: Some(Zone::parse("-06:00").unwrap()), ..Default::default() };
    let shifted = audit_with(&path, &tz);
    let burst = shifted.iter().find(|f| f.kind == Kind::Burst).unwrap();
    assert!(
        burst.evidence.contains("between 2025-05-31T21:00:00-06:00 and 2025-05-31T21:09:59-06:00"),
        "{}",
        burst.evidence
    );
    assert!(burst.evidence.ends_with("times in UTC-06:00 (--tz; the export writes UTC)"), "{}", burst.evidence);
}
