//! Rows that are not valid UTF-8, in an export read in chunks (a chunk is checked once, and a
//! chunk that fails is checked row by row): a row whose audited cell is not UTF-8 is rejected,
//! naming its line and column; a row whose bad bytes are in a column no detector reads is kept;
//! every other row of the chunk is audited as if the bad rows were not there.

use oversight::search_audit::{audit_files, SearchRules};

const HEADER: &[u8] = b"id,Search Time,reason,Org Name,Notes\n";

fn row(i: usize, reason: &[u8], notes: &[u8]) -> Vec<u8> {
    let mut r = format!("s{i},2025-06-01 10:{:02}:00,", i % 60).into_bytes();
    r.extend_from_slice(reason);
    r.extend_from_slice(b",Eugene PD,");
    r.extend_from_slice(notes);
    r.push(b'\n');
    r
}

/// (kind, line) of every finding, and (line, column, reason) of every rejected row.
#[allow(clippy::type_complexity)]
fn audit(bytes: &[u8]) -> (Vec<(String, u64)>, Vec<(u64, Option<String>, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, bytes).unwrap();
    let mut findings = Vec::new();
    let audit = audit_files(&[path], &SearchRules::default(), &mut |_, _| {}, &mut |f| {
        findings.push((format!("{:?}", f.kind), f.line))
    });
    let rejected = audit.files[0].stats.rejected.iter().map(|r| (r.line, r.column.clone(), r.reason.clone())).collect();
    (findings, rejected)
}

#[test]
fn a_bad_cell_rejects_its_row_and_a_bad_unread_cell_does_not() {
    // Enough rows for several chunks; the bad bytes sit in the first and in a later one.
    let n = 6_000;
    let mut good = HEADER.to_vec();
    let mut bad = HEADER.to_vec();
    for i in 0..n {
        let reason: &[u8] = if i % 3 == 0 { b"ICE detainer immigration enforcement" } else { b"BOLO" };
        good.extend(row(i, reason, b"none"));
        match i {
            10 | 4_000 => bad.extend(row(i, b"BOLO \xff\xfe", b"none")),
            20 | 5_000 => bad.extend(row(i, reason, b"caf\xe9")),
            _ => bad.extend(row(i, reason, b"none")),
        }
    }
    let (good_findings, good_rejected) = audit(&good);
    assert!(good_rejected.is_empty(), "{good_rejected:?}");
    let (bad_findings, bad_rejected) = audit(&bad);
    // Rows 10 and 4,000 (lines 12 and 4,002) are rejected for their reason.
    let expected: Vec<(u64, Option<String>, String)> =
        [12, 4_002].into_iter().map(|line| (line, Some("reason".to_owned()), "invalid UTF-8".to_owned())).collect();
    assert_eq!(bad_rejected, expected);
    // Every other row's findings are those of the good export, at the same lines.
    let without: Vec<(String, u64)> =
        good_findings.into_iter().filter(|(_, line)| ![12, 4_002].contains(line)).collect();
    assert!(!without.is_empty());
    assert_eq!(bad_findings, without);
}
