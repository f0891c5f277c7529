//! An export whose lines end in `\r\n` reports every finding and rejected row at the line the same
//! export with `\n` line ends reports (the header being line 1), whether the file is read in
//! chunks, in order, or by [`oversight::searches::SearchReader`].

use std::path::Path;

use oversight::search_audit::{audit_files, SearchRules};

const HEADER: &str = "id,Search Time,reason,User,Org Name,Time Frame";

/// Rows of an export (without line ends): plain rows, a quoted cell over two lines, a blank line,
/// a `""` inside quotes and a row with too few fields; `bad_quote` adds a row quoted otherwise
/// (a quote inside an unquoted field), after which the file is read in order.
fn rows(n: usize, bad_quote: bool) -> Vec<String> {
    let mut out = vec![HEADER.to_owned()];
    for i in 0..n {
        let reason = match i % 4 {
            0 => "investigation".to_owned(),
            1 => "ICE detainer immigration enforcement".to_owned(),
            2 => "\"stolen \"\"red\"\" car\"".to_owned(),
            _ => "\"BOLO\"".to_owned(),
        };
        let frame = if i % 5 == 0 { "\"2025-06-01 09:00:00\n2025-06-01 10:00:00\"" } else { "" };
        out.push(format!("s{i},2025-06-01 10:{:02}:00,{reason},officer{},Eugene PD,{frame}", i % 60, i % 7));
        if i % 97 == 3 {
            out.push(String::new());
        }
        if i % 101 == 5 {
            out.push("short,row".to_owned());
        }
        if bad_quote && i == n / 2 {
            out.push(format!("q{i},2025-06-01 10:00:00,ab\"c investigation,officer1,Eugene PD,"));
        }
    }
    out
}

/// (kind, line, subject) of every finding, and the lines of the rejected rows.
fn audit(path: &Path) -> (Vec<(String, u64, String)>, Vec<u64>) {
    let mut findings = Vec::new();
    let audit = audit_files(&[path.to_owned()], &SearchRules::default(), &mut |_, _| {}, &mut |f| {
        findings.push((format!("{:?}", f.kind), f.line, format!("{:?}", f.subject)))
    });
    let rejected = audit.files[0].stats.rejected.iter().map(|r| r.line).collect();
    (findings, rejected)
}

/// The export written with `\n` and with `\r\n` line ends.
fn both(dir: &Path, rows: &[String]) -> (std::path::PathBuf, std::path::PathBuf) {
    let lf = dir.join("lf.csv");
    let crlf = dir.join("crlf.csv");
    std::fs::write(&lf, rows.join("\n") + "\n").unwrap();
    std::fs::write(&crlf, rows.join("\r\n") + "\r\n").unwrap();
    (lf, crlf)
}

#[test]
fn a_small_crlf_export_reports_the_lines_of_the_same_export_with_lf() {
    let dir = tempfile::tempdir().unwrap();
    let (lf, crlf) = both(dir.path(), &rows(12, false));
    let (lf_findings, lf_rejected) = audit(&lf);
    let (crlf_findings, crlf_rejected) = audit(&crlf);
    assert!(!lf_findings.is_empty());
    // The first data row is line 2.
    assert_eq!(lf_findings[0].1, 2, "{lf_findings:?}");
    assert_eq!(crlf_findings, lf_findings);
    assert_eq!(crlf_rejected, lf_rejected);
    assert!(!lf_rejected.is_empty());
}

#[test]
fn a_crlf_export_read_by_search_reader_is_at_the_lines_of_lf() {
    let rows = rows(40, false);
    let lines = |text: String| {
        let mut r = oversight::searches::SearchReader::new("x.csv".as_ref(), text.as_bytes()).unwrap();
        let mut out = Vec::new();
        while let Some(s) = r.next_search().unwrap() {
            out.push((s.id, s.line));
        }
        (out, r.stats.rejected.iter().map(|r| r.line).collect::<Vec<_>>())
    };
    let lf = lines(rows.join("\n") + "\n");
    assert_eq!(lf.0[0], ("s0".to_owned(), 2));
    assert_eq!(lines(rows.join("\r\n") + "\r\n"), lf);
}

#[test]
fn a_large_crlf_export_in_chunks_and_in_order_reports_the_lines_of_lf() {
    let dir = tempfile::tempdir().unwrap();
    for bad_quote in [false, true] {
        let (lf, crlf) = both(dir.path(), &rows(30_000, bad_quote));
        assert!(std::fs::metadata(&crlf).unwrap().len() > 4 << 18, "several chunks");
        let (lf_findings, lf_rejected) = audit(&lf);
        let (crlf_findings, crlf_rejected) = audit(&crlf);
        assert!(lf_findings.len() > 10_000, "{}", lf_findings.len());
        assert_eq!(crlf_findings.len(), lf_findings.len());
        for (c, l) in crlf_findings.iter().zip(&lf_findings) {
            assert_eq!(c, l, "bad_quote: {bad_quote}");
        }
        assert_eq!(crlf_rejected, lf_rejected);
    }
}

/// The same large export twice (once with `\n`, once with `\r\n` line ends: the same searches at
/// the same lines), audited at once: the duplicate check reads both as the audit does (in chunks,
/// and in order after a record the chunks cannot cut), so every search of the second is
/// recognised as a copy, the findings are those of the first alone, and each search's findings
/// name the second file at the same line.
#[test]
fn the_same_large_export_twice_is_audited_once_even_when_read_in_order_partway() {
    let dir = tempfile::tempdir().unwrap();
    for bad_quote in [false, true] {
        let (lf, crlf) = both(dir.path(), &rows(30_000, bad_quote));
        let (alone, _) = audit(&lf);
        let mut findings = Vec::new();
        let both = audit_files(&[lf.clone(), crlf.clone()], &SearchRules::default(), &mut |_, _| {}, &mut |f| {
            findings.push(f)
        });
        let kept = both.files[0].stats.kept;
        assert!(kept > 29_000, "{kept}");
        assert_eq!(both.duplicates, kept, "bad_quote: {bad_quote}");
        let seen: Vec<(String, u64, String)> =
            findings.iter().map(|f| (format!("{:?}", f.kind), f.line, format!("{:?}", f.subject))).collect();
        assert_eq!(seen, alone, "bad_quote: {bad_quote}");
        // The per-search findings (the aggregates name no places).
        use oversight::Kind::{ImmigrationPurpose, ProtectedActivity, VagueReason, WideSearch};
        let per_search = findings
            .iter()
            .filter(|f| [ImmigrationPurpose, ProtectedActivity, VagueReason, WideSearch].contains(&f.kind));
        let mut named = 0;
        for f in per_search {
            assert_eq!(f.also_in.len(), 1, "{f:?}");
            assert_eq!((f.also_in[0].file.as_ref(), f.also_in[0].line), (crlf.to_str().unwrap(), f.line));
            named += 1;
        }
        assert!(named > 10_000, "{named}");
    }
}
