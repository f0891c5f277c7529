//! The documented export variants, rejections with their line and column, and the per-officer
//! detectors, on small files written here.

use std::io::Write;

use oversight::search_audit::{audit_file, SearchRules};
use oversight::{Finding, Kind, Severity};

fn run(csv: &str) -> (oversight::ImportStats, Vec<Finding>) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(csv.as_bytes()).unwrap();
    let mut findings = Vec::new();
    let stats = audit_file(f.path(), &SearchRules::default(), &mut |_, _| {}, &mut |x| findings.push(x)).unwrap();
    (stats, findings)
}

#[test]
fn network_audit_variant_with_two_line_time_frame() {
    let csv = "Name,Org Name,License Plate,Case #,Filters,Offense Type,Text Prompt,Time Frame,Reason,Search Time,Networks Searched,Devices Searched\n\
        J Doe,Example County TX SO [Federal],ABC123,,,,,\"11/13/2025, 10:00:17 PM UTC\n11/14/2025, 10:00:17 AM UTC\",ICE+ERO,\"11/14/2025, 09:53:36 AM UTC\",1,50\n";
    // No id column: the header is refused, naming what is missing and what was found.
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(csv.as_bytes()).unwrap();
    let err = audit_file(f.path(), &SearchRules::default(), &mut |_, _| {}, &mut |_| {}).unwrap_err().to_string();
    assert!(
        err.contains("line 1: not a search audit: no id column (columns found: Name, Org Name, License Plate"),
        "{err}"
    );

    let csv = format!("ID,{}", csv.replacen('\n', "\n42,", 1));
    let csv = csv.replace("\n42,", "\nrow-1,");
    let (stats, findings) = run(&csv);
    assert_eq!((stats.read, stats.kept, stats.rejected.len()), (1, 1, 0));
    let kinds: Vec<(Kind, Severity)> = findings.iter().map(|f| (f.kind, f.severity)).collect();
    // The immigration search is also counted for its organisation once the file is read.
    assert_eq!(
        kinds,
        vec![
            (Kind::ImmigrationPurpose, Severity::High),
            (Kind::FederalOriginator, Severity::High),
            (Kind::SensitivePurpose, Severity::High)
        ]
    );
    // The one organisation the export names is tagged federal, so the directory gives no state,
    // and without --state no state's statute is cited.
    assert_eq!(
        findings[0].evidence,
        "reason \"ICE+ERO\": strong: \"ice ero\"; practice concern (the audited agency's state is not known: name it with --state)"
    );
    assert_eq!(findings[0].citation, "");
}

#[test]
fn bad_rows_are_rejected_with_line_column_and_reason() {
    let csv = "id,userId,searchDate,cameraCount,reason\n\
        a,u1,2025-06-18 00:02:04.789,94,investigation\n\
        b,u1,2025-06-31 00:02:04.789,94,theft 25-1\n\
        c,u1,2025-06-18 01:02:04.789,lots,theft\n\
        ,u1,2025-06-18 01:02:04.789,94,theft\n\
        e,u1,2025-06-18 01:02:04.789,94\n\
        f,u1,\"2025-06-18\n01:02:04\",94,protest at city hall\n\
        g,u1,2025-06-18 03:00:00,94,Immigration (civil/administrative)\n";
    let (stats, findings) = run(csv);
    assert_eq!((stats.read, stats.kept), (7, 2));
    let rejected: Vec<(u64, Option<&str>, &str)> =
        stats.rejected.iter().map(|r| (r.line, r.column.as_deref(), r.reason.as_str())).collect();
    assert_eq!(
        rejected,
        vec![
            (3, Some("searchDate"), "impossible date in \"2025-06-31 00:02:04.789\""),
            (4, Some("cameraCount"), "not a count: \"lots\""),
            (5, Some("id"), "empty search id"),
            (6, None, "4 fields, the header has 5"),
            (7, Some("searchDate"), "unrecognised time \"2025-06-18\\n01:02:04\" (expected e.g. \"2025-06-18 00:02:04.789\" or \"11/14/2025, 09:53:36 AM UTC\")"),
        ]
    );
    // The multi-line cell moves the last row to line 9.
    let last: Vec<(u64, Kind)> = findings.iter().filter(|f| f.line == 9).map(|f| (f.line, f.kind)).collect();
    assert_eq!(last, vec![(9, Kind::ImmigrationPurpose), (9, Kind::SensitivePurpose)]);
    assert_eq!(findings.iter().filter(|f| f.kind == Kind::VagueReason).count(), 1);
}

#[test]
fn protected_activity_bursts_and_off_hours() {
    let mut csv = String::from("id,userId,searchDate,cameraCount,reason\n");
    // Officer u1: 40 daytime searches over 40 days at 10:00, then 12 within 5 minutes at 14:00
    // (a burst), then one at 03:00 (off-hours).
    for d in 0..40 {
        csv += &format!("d{d},u1,2025-07-{:02} 10:00:00,94,theft {d}000\n", d % 28 + 1);
    }
    for i in 0..12 {
        csv += &format!("b{i},u1,2025-08-01 14:0{}:00,94,No Kings protest\n", i % 5);
    }
    csv += "n1,u1,2025-08-02 03:00:00,94,theft 99000\n";
    let (stats, findings) = run(&csv);
    assert_eq!((stats.read, stats.kept), (53, 53));
    let count = |k: Kind| findings.iter().filter(|f| f.kind == k).count();
    assert_eq!(count(Kind::ProtectedActivity), 12);
    assert_eq!(count(Kind::Burst), 1);
    let burst = findings.iter().find(|f| f.kind == Kind::Burst).unwrap();
    assert_eq!(
        burst.evidence,
        "user u1: 12 searches between 2025-08-01T14:00:00 and 2025-08-01T14:04:59 (threshold 10 within 10 minutes); times in the export's local time, zone not stated"
    );
    // 03:00 is off-hours; 14:00 holds 12 of 53 searches, so it is not.
    let off: Vec<&str> = findings
        .iter()
        .filter(|f| f.kind == Kind::OffHours)
        .map(|f| match &f.subject {
            oversight::Subject::Search { record } => record.as_str(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(off, vec!["n1"]);
}

/// No detector reads the time frame: a frame that does not parse leaves `Search::frame` unset and
/// the row is kept and audited (read in order or in chunks alike); one that parses is read.
#[test]
fn a_time_frame_that_does_not_parse_does_not_reject_its_row() {
    let csv = "ID,Org_Name,Time_Frame_Start,Time_Frame_End,Reason,Search_Time\n\
        s1,Example PD,\"11/13/2025, 10:00:17 PM UTC\",\"11/14/2025, 10:00:17 AM UTC\",ICE hold,\"11/14/2025, 09:53:36 AM UTC\"\n\
        s2,Example PD,last week,\"11/14/2025, 10:00:17 AM UTC\",ICE hold,\"11/14/2025, 09:54:36 AM UTC\"\n\
        s3,Example PD,\"11/31/2025, 10:00:17 PM UTC\",,ICE hold,\"11/14/2025, 09:55:36 AM UTC\"\n";
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(csv.as_bytes()).unwrap();
    let mut reader = oversight::searches::open(f.path()).unwrap();
    let mut frames = Vec::new();
    while let Some(s) = reader.next_search().unwrap() {
        frames.push((s.id, s.frame.map(|(a, b)| (a.to_string(), b.to_string()))));
    }
    let parsed = Some(("2025-11-13T22:00:17Z".to_owned(), "2025-11-14T10:00:17Z".to_owned()));
    assert_eq!(frames, vec![("s1".into(), parsed), ("s2".into(), None), ("s3".into(), None)]);
    assert_eq!((reader.stats.read, reader.stats.kept), (3, 3));

    let (stats, findings) = run(csv);
    assert_eq!((stats.read, stats.kept, stats.rejected.len()), (3, 3, 0));
    let immigration: Vec<u64> =
        findings.iter().filter(|f| f.kind == Kind::ImmigrationPurpose).map(|f| f.line).collect();
    assert_eq!(immigration, vec![2, 3, 4]);
}
