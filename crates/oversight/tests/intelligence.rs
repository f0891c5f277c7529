//! The 28 CFR 23.20(h) retention detector on intelligence-record exports written here: hand-made
//! edge cases, bad rows, and a generated export checked against a reference computed on calendar
//! dates.

use std::io::Write;

use oversight::intelligence::audit_file;
use oversight::time;
use oversight::{Finding, ImportStats, Kind, Severity, Subject};

fn run(csv: &str, as_of: &str) -> (ImportStats, Vec<Finding>) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(csv.as_bytes()).unwrap();
    let mut findings = Vec::new();
    let stats = audit_file(f.path(), time::parse(as_of).unwrap(), &mut |x| findings.push(x)).unwrap();
    (stats, findings)
}

#[test]
fn edge_cases_and_bad_rows() {
    let csv = "\u{feff}Record_ID,Date Entered,Last Validated,Purged On,Submitting Agency,Notes\n\
        R1,2019-03-01,,,Metro Gang Unit,never reviewed\n\
        R2,2019-03-01,2022-01-10,,Metro Gang Unit,review restarts the period\n\
        R3,1/1/2015,1/1/2016,6/30/2022,,purged late\n\
        R4,2020-11-25,,,,exactly five years today\n\
        R5,2020-11-24,,,,one day over\n\
        R6,2010-01-01,,2014-12-31,,purged in time\n\
        R7,2018-01-01,,2027-01-01,,purge only scheduled\n\
        ,2019-01-01,,,,no id\n\
        R9,2019-13-01,,,,impossible date\n\
        R10,2019-01-01,2018-05-01,,,review before entry\n\
        R11,2026-01-01,,,,entered after the as-of date\n\
        R12,2019-01-01,,\n";
    let (stats, findings) = run(csv, "2025-11-25");
    assert_eq!((stats.read, stats.kept, stats.findings), (12, 7, 4));
    let rejected: Vec<(u64, Option<&str>, &str)> =
        stats.rejected.iter().map(|r| (r.line, r.column.as_deref(), r.reason.as_str())).collect();
    assert_eq!(
        rejected,
        vec![
            (9, Some("Record_ID"), "empty record id"),
            (10, Some("Date Entered"), "impossible date in \"2019-13-01\""),
            (11, Some("Last Validated"), "last review 2018-05-01 is before the entry date 2019-01-01"),
            (12, Some("Date Entered"), "entry date 2026-01-01 is after the as-of date 2025-11-25"),
            (13, None, "4 fields, the header has 6"),
        ]
    );
    let got: Vec<(String, Severity, u64, &str)> =
        findings.iter().map(|f| (f.subject.label(), f.severity, f.line, f.evidence.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (
                "R1".into(),
                Severity::High,
                2,
                "\"Metro Gang Unit\": entered 2019-03-01, never reviewed, still held on 2025-11-25: 634 days past the five-year limit (2024-03-01)"
            ),
            (
                "R3".into(),
                Severity::Medium,
                4,
                "entered 2015-01-01, last reviewed 2016-01-01, purged 2022-06-30: 545 days past the five-year limit (2021-01-01)"
            ),
            (
                "R5".into(),
                Severity::High,
                6,
                "entered 2020-11-24, never reviewed, still held on 2025-11-25: 1 days past the five-year limit (2025-11-24)"
            ),
            (
                "R7".into(),
                Severity::High,
                8,
                "entered 2018-01-01, never reviewed, still held on 2025-11-25: 1059 days past the five-year limit (2023-01-01)"
            ),
        ]
    );
    assert!(findings.iter().all(|f| f.kind == Kind::RetentionExceeded && f.citation.starts_with("28 CFR 23.20(h)")));
    let json = serde_json::to_value(&findings[0]).unwrap();
    assert_eq!((json["record"].as_str(), json["kind"].as_str()), (Some("R1"), Some("retention_exceeded")));
    assert_eq!(findings[0].subject, Subject::Record { record: "R1".into() });
}

#[test]
fn header_without_the_needed_columns() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"name,gang,notes\nx,y,z\n").unwrap();
    let err = audit_file(f.path(), time::parse("2025-01-01").unwrap(), &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("line 1: not an intelligence-record export: needs a record id column"), "{err}");
    assert!(err.ends_with("columns found: name, gang, notes"), "{err}");
}

/// A tiny deterministic generator (no dependency, same rows on every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    [31, if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        [m as usize - 1]
}

#[test]
fn generated_export_matches_a_calendar_reference() {
    let as_of = (2025i64, 11u32, 25u32);
    let mut rng = Lcg(23);
    let mut csv = String::from("id,entered,review_date,purge_date,agency\n");
    let mut expected: Vec<(String, Severity)> = Vec::new();
    let random_date = |rng: &mut Lcg, from: (i64, u32, u32)| -> (i64, u32, u32) {
        loop {
            let y = from.0 + rng.next(12) as i64;
            let m = 1 + rng.next(12) as u32;
            let d = 1 + rng.next(u64::from(days_in_month(y, m))) as u32;
            if (y, m, d) >= from {
                return (y, m, d);
            }
        }
    };
    let write = |rng: &mut Lcg, (y, m, d): (i64, u32, u32)| {
        if rng.next(2) == 0 {
            format!("{y:04}-{m:02}-{d:02}")
        } else {
            format!("{m}/{d}/{y}")
        }
    };
    let n = 5000;
    let mut kept = 0;
    for i in 0..n {
        let entered = random_date(&mut rng, (2010, 1, 1));
        if entered > as_of {
            continue;
        }
        kept += 1;
        let reviewed = (rng.next(3) == 0).then(|| random_date(&mut rng, entered)).filter(|r| *r <= as_of);
        let purged = (rng.next(3) == 0).then(|| random_date(&mut rng, entered));
        let start = reviewed.unwrap_or(entered);
        let limit = (start.0 + 5, start.1, start.2.min(days_in_month(start.0 + 5, start.1)));
        let held = purged.is_none_or(|p| p > as_of);
        let until = if held { as_of } else { purged.unwrap() };
        if until > limit {
            expected.push((format!("G{i}"), if held { Severity::High } else { Severity::Medium }));
        }
        let cell = |rng: &mut Lcg, d: Option<(i64, u32, u32)>| d.map(|d| write(rng, d)).unwrap_or_default();
        let e = write(&mut rng, entered);
        let r = cell(&mut rng, reviewed);
        let p = cell(&mut rng, purged);
        csv.push_str(&format!("G{i},{e},{r},{p},Unit {}\n", i % 7));
    }
    let (stats, findings) = run(&csv, "2025-11-25");
    assert_eq!((stats.read, stats.kept, stats.rejected.len()), (kept, kept, 0));
    let got: Vec<(String, Severity)> = findings.iter().map(|f| (f.subject.label(), f.severity)).collect();
    assert!(expected.len() > 500 && expected.len() < kept as usize - 500, "{} of {kept}", expected.len());
    assert_eq!(got, expected);
}
