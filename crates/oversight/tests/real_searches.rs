//! The search-audit importer and detectors on the real exports in `../shared/data/flock`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use oversight::search_audit::{audit_file, SearchRules};
use oversight::{Finding, Kind};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel)
}

fn audit(rel: &str) -> (oversight::ImportStats, Vec<Finding>) {
    let mut findings = Vec::new();
    let stats = audit_file(&data(rel), &SearchRules::default(), &mut |_, _| {}, &mut |f| findings.push(f)).unwrap();
    (stats, findings)
}

fn by_kind(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.kind.as_str()).or_default() += 1;
    }
    m
}

#[test]
fn eugene_portal_export() {
    let (stats, findings) = audit("flock/eugene-or-search-audit-2025-06.csv");
    // 4,295 lines: the header and 4,294 searches (the data README says 4,293; Python's csv module
    // and this importer both count 4,294, all with distinct ids).
    assert_eq!((stats.read, stats.kept, stats.rejected.len()), (4294, 4294, 0));
    assert_eq!(stats.findings as usize, findings.len());
    let kinds = by_kind(&findings);
    // Each count below was also computed independently with Python over the same file.
    // cameraCount >= 1000: 1,289 rows. Vague reasons with no identifier: 1,473
    // (884 before "suspicious", "vehicle", "daytime search for best result" were vague words). Off-hours: 17.
    // Outlier users (10 on volume, 16 on cameras per search; see tests/insider.rs).
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert_eq!(kinds["outlier_user"], 26);
    assert_eq!(kinds["wide_search"], 1289);
    assert_eq!(kinds["vague_reason"], 1473);
    assert_eq!(kinds["off_hours"], 17);
    // No officer made 10 searches within 10 minutes (the busiest made 4).
    assert!(!kinds.contains_key("burst"));
    // The five rows with an empty reason are vague, with medium severity.
    let empty: Vec<&Finding> = findings.iter().filter(|f| f.evidence.starts_with("no reason given;")).collect();
    assert_eq!(empty.len(), 5);
    // The export names no organisation, so no state's statute is cited without --state.
    assert!(empty[0].citation.is_empty());
    assert!(empty[0]
        .evidence
        .ends_with("practice concern (the audited agency's state is not known: name it with --state)"));
    // Every finding names its search and line.
    let first = findings.iter().find(|f| f.kind == Kind::WideSearch).unwrap();
    assert_eq!(first.line, 2);
    assert_eq!(first.subject, oversight::Subject::Search { record: "5869ce7e-98f2-47e7-a3c2-5e6bff4def4a".into() });
    assert_eq!(first.evidence, "searched 2510 cameras (thresholds: 100 networks, 1000 cameras)");
}

#[test]
fn okaloosa_org_audit() {
    let (stats, findings) = audit("flock/okaloosa-fl-org-audit-2025-11.csv");
    assert_eq!((stats.read, stats.kept, stats.rejected.len()), (7273, 7273, 0));
    assert!(stats.notes[0].starts_with("no user column"));
    let kinds = by_kind(&findings);
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    // Python over the same file with the Rust vocabulary: 2,397 (2,273 before the words of the
    // labelled sample).
    assert_eq!(kinds["vague_reason"], 2397);
    // Moderation "block" on 12 rows: attempted searches.
    assert_eq!(kinds["moderation_blocked"], 12);
    // Total_Networks_Searched >= 100 or Total_Devices_Searched >= 1000 (Python: 3,195 rows).
    assert_eq!(kinds["wide_search"], 3195);
    let empty: Vec<&Finding> = findings.iter().filter(|f| f.evidence.starts_with("no reason given;")).collect();
    assert_eq!(empty.len(), 9);
    // A Florida sheriff's export: no California statute is cited; the finding says it is a
    // practice concern under Florida law.
    assert!(findings.iter().all(|f| !f.citation.contains("Cal.")));
    assert_eq!(empty[0].evidence, "no reason given; practice concern (no statute of FL in the law library governs it)");
    // With --state CA the same rows cite California's ALPR statute.
    let mut ca = Vec::new();
    let rules = SearchRules { state: Some("CA".into()), ..Default::default() };
    audit_file(&data("flock/okaloosa-fl-org-audit-2025-11.csv"), &rules, &mut |_, _| {}, &mut |f| ca.push(f)).unwrap();
    let vague = ca.iter().find(|f| f.kind == Kind::VagueReason).unwrap();
    assert_eq!(vague.citation, oversight::search_audit::CA_VAGUE_CITATION);
    assert!(!vague.evidence.contains("practice concern"));
    // No officer column, so no per-officer findings.
    assert!(!kinds.contains_key("off_hours") && !kinds.contains_key("burst"));
}

/// The fast path (`audit_file`: two threads, recycled batches, borrowed ASCII tokens, indexed
/// vocabularies, fixed-position time parsing) against the plain one (`SearchReader::next_search`
/// and `detect_row_reference`), finding for finding.
fn fast_equals_reference(path: &std::path::Path) -> usize {
    let mut fast = Vec::new();
    let audit = oversight::search_audit::audit_files(
        &[path.to_owned()],
        &SearchRules::default(),
        &mut |_, _| {},
        &mut |mut f| {
            assert_eq!(f.file.as_deref(), Some(path.display().to_string().as_str()));
            f.file = None;
            fast.push(f)
        },
    );
    let stats = &audit.files[0].stats;
    // The reference cites the statutes of the state the audit found for the file.
    let rules = SearchRules { state: audit.files[0].jurisdiction.state.clone(), ..Default::default() };
    let mut reader = oversight::searches::open(path).unwrap();
    let mut reference = Vec::new();
    while let Some(s) = reader.next_search().unwrap() {
        oversight::search_audit::detect_row_reference(&s, &rules, &mut |f| reference.push(f));
    }
    assert_eq!(
        (stats.read, stats.kept, &stats.rejected),
        (reader.stats.read, reader.stats.kept, &reader.stats.rejected)
    );
    // Per-search findings come first, in row order; per-officer ones (second pass) and the
    // aggregates (after the whole file) after them.
    let later = |k: Kind| {
        matches!(k, Kind::OffHours | Kind::Burst | Kind::OutlierUser | Kind::PlateManyUsers | Kind::SensitivePurpose)
    };
    let per_search: Vec<&Finding> = fast.iter().filter(|f| !later(f.kind)).collect();
    assert_eq!(per_search.len(), reference.len());
    for (a, b) in per_search.iter().zip(&reference) {
        assert_eq!(*a, b);
    }
    assert!(fast[..reference.len()].iter().all(|f| !later(f.kind)));
    reference.len()
}

#[test]
fn fast_path_agrees_with_the_reference_on_the_real_files() {
    assert_eq!(fast_equals_reference(&data("flock/eugene-or-search-audit-2025-06.csv")), 1289 + 1473);
    assert_eq!(fast_equals_reference(&data("flock/okaloosa-fl-org-audit-2025-11.csv")), 2397 + 3195 + 12);
}

#[test]
fn fast_path_agrees_with_the_reference_on_awkward_reasons() {
    // The real Okaloosa rows, with reasons that take the non-ASCII path, the vocabularies, and
    // times in the forms the fixed-position parser does not take.
    let mut reader = csv::Reader::from_path(data("flock/okaloosa-fl-org-audit-2025-11.csv")).unwrap();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(reader.headers().unwrap()).unwrap();
    let reasons = [
        "DEPORTATİON hold",
        "Protestación ICE",
        "ICE detainer",
        "protest at city hall",
        "no kings rally 25-1234",
        "not immigration related, theft",
        "inv",
        "",
        "Inmigración: orden de deportación",
        "planned parenthood",
    ];
    for (i, row) in reader.records().take(3000).enumerate() {
        let mut fields: Vec<String> = row.unwrap().iter().map(str::to_owned).collect();
        if i % 3 == 0 {
            fields[6] = reasons[i % reasons.len()].to_owned();
        }
        if i % 7 == 0 {
            // Forms the fixed-position parser hands to the general one.
            fields[7] = ["11/14/2025 9:53 pm UTC", "2025-11-01T10:00:00Z", "11/14/2025, 09:53:36 am UTC"][i % 3].into();
        }
        out.write_record(&fields).unwrap();
    }
    out.write_record([
        "x1",
        "Test SO [FEDERAL]",
        "1",
        "104",
        "",
        "",
        "deportation",
        "2025-11-02 10:00",
        "search",
        "allow",
    ])
    .unwrap();
    let csv = String::from_utf8(out.into_inner().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.csv");
    std::fs::write(&path, csv).unwrap();
    assert!(fast_equals_reference(&path) > 1000);
}

#[test]
fn fast_path_agrees_with_the_reference_across_chunks_of_a_crlf_file() {
    // The real Okaloosa rows three times over (several chunks of the parallel reader), with lines
    // ending in `\r\n` (as Python's csv module writes them; csv reports each record one line up),
    // reasons quoted with line breaks and `""` inside, and a blank line.
    let mut reader = csv::Reader::from_path(data("flock/okaloosa-fl-org-audit-2025-11.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    out.write_record(&headers).unwrap();
    for copy in 0..3 {
        for (i, row) in rows.iter().enumerate() {
            let mut fields: Vec<String> = row.iter().map(str::to_owned).collect();
            fields[0] = format!("{}-{copy}", fields[0]);
            match i % 11 {
                0 => fields[6] = format!("{}\r\nsee \"case\" 25-{i}", fields[6]),
                5 => fields[6] = "ICE \"detainer\"\nhold".into(),
                _ => {}
            }
            out.write_record(&fields).unwrap();
        }
    }
    let mut csv = out.into_inner().unwrap();
    csv.extend_from_slice(b"\r\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.csv");
    std::fs::write(&path, csv).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 3 << 20);
    assert!(fast_equals_reference(&path) > 3 * 5000);
}
