//! Several search-audit files audited as one (`search_audit::audit_files`): the same search in two
//! exports counted once with every place named, files that cannot be read, CSV that breaks
//! partway, and the evidence report over the result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oversight::report::Summary;
use oversight::search_audit::{audit_files, SearchRules};
use oversight::{Finding, Kind};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel)
}

fn audit(paths: &[PathBuf]) -> (oversight::search_audit::SearchAudit, Vec<Finding>) {
    let mut findings = Vec::new();
    let audit = audit_files(paths, &SearchRules::default(), &mut |_, _| {}, &mut |f| findings.push(f));
    (audit, findings)
}

fn by_kind(findings: &[Finding]) -> BTreeMap<Kind, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.kind).or_default() += 1;
    }
    m
}

/// The real Eugene export cut into two overlapping files: rows 1-3000 and rows 2001-4294 (1,000
/// rows in both), with the header on each.
fn split(dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(data("flock/eugene-or-search-audit-2025-06.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4294, "one search per line in this export");
    let a = dir.join("a.csv");
    let b = dir.join("b.csv");
    std::fs::write(&a, format!("{header}\n{}\n", rows[..3000].join("\n"))).unwrap();
    std::fs::write(&b, format!("{header}\n{}\n", rows[2000..].join("\n"))).unwrap();
    (a, b)
}

#[test]
fn the_same_search_in_two_exports_is_counted_once_and_names_both() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = split(dir.path());
    let (whole, whole_findings) = audit(&[data("flock/eugene-or-search-audit-2025-06.csv")]);
    let (merged, merged_findings) = audit(&[a.clone(), b.clone()]);
    assert_eq!(merged.duplicates, 1000);
    assert_eq!(merged.rows_read(), 3000 + 2294);
    // Counted once, the two files give what the whole export gives: the same findings by kind
    // (per-search, per-officer and aggregate detectors alike) and the same profile.
    assert_eq!(by_kind(&merged_findings), by_kind(&whole_findings));
    assert_eq!(merged.profile.searches, 4294);
    assert_eq!(merged.profile.by_user, whole.profile.by_user);
    assert_eq!(merged.profile.by_month, whole.profile.by_month);
    // A search in both files (line N of a.csv is line N - 2000 of b.csv) is reported from the
    // first, naming the second; one in a.csv only names nothing else.
    let a_name = a.display().to_string();
    let both: Vec<&Finding> = merged_findings.iter().filter(|f| !f.also_in.is_empty()).collect();
    assert!(!both.is_empty());
    for f in &both {
        assert_eq!(f.file.as_deref(), Some(a_name.as_str()));
        assert!(f.line >= 2002, "{f:?}");
        assert_eq!(f.also_in.len(), 1);
        assert_eq!(&*f.also_in[0].file, b.display().to_string().as_str());
        assert_eq!(f.also_in[0].line, f.line - 2000);
    }
    // Every per-search finding on the overlap names both files.
    let overlap_vague =
        whole_findings.iter().filter(|f| f.kind == Kind::VagueReason && (2002..=3001).contains(&f.line)).count();
    assert_eq!(both.iter().filter(|f| f.kind == Kind::VagueReason).count(), overlap_vague);
    assert!(merged_findings.iter().filter(|f| f.line < 2002).all(|f| f.also_in.is_empty()));
    // Rows of b.csv past the overlap are b.csv's own.
    let only_b = merged_findings.iter().find(|f| f.file.as_deref() == Some(b.display().to_string().as_str())).unwrap();
    assert!(only_b.line > 1001 && only_b.also_in.is_empty(), "{only_b:?}");
    // The JSON line names every place.
    let mut line = Vec::new();
    both[0].write_json_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(v["also_in"][0]["line"], both[0].line - 2000);
    assert_eq!(v["file"], a.display().to_string());
}

#[test]
fn unreadable_files_are_reported_and_the_rest_audited() {
    let dir = tempfile::tempdir().unwrap();
    let sharing = data("sharing/flock-agency-access-2024-04-26.csv");
    let missing = dir.path().join("missing.csv");
    let good = dir.path().join("good.csv");
    // Line 4 is not UTF-8: it is rejected with its line, and the other rows are audited.
    let mut rows =
        b"id,searchDate,reason\na,2025-06-18 00:02:04,investigation\nb,2025-06-18 00:03:04,ICE detainer\n".to_vec();
    rows.extend_from_slice(b"c,2025-06-18 00:04:04,caf\xe9\nd,2025-06-18 00:05:04,theft 25-1\n");
    std::fs::write(&good, rows).unwrap();
    let (audit, findings) = audit(&[sharing.clone(), missing.clone(), good.clone()]);
    assert!(audit.files[0].error.as_deref().unwrap().contains("not a search audit"), "{:?}", audit.files[0].error);
    assert!(audit.files[1].error.as_deref().unwrap().contains("missing.csv"), "{:?}", audit.files[1].error);
    let g = &audit.files[2];
    assert!(g.error.is_none());
    assert_eq!((g.stats.read, g.stats.kept), (4, 3), "{:?}", g.stats);
    assert_eq!(g.stats.rejected[0].line, 4);
    let kinds = by_kind(&findings);
    assert_eq!(kinds.get(&Kind::VagueReason), Some(&1));
    assert_eq!(kinds.get(&Kind::ImmigrationPurpose), Some(&1));
}

#[test]
fn the_summary_tells_the_story_and_the_report_holds_the_evidence() {
    let file = data("flock/okaloosa-fl-org-audit-2025-11.csv");
    let (audit, mut findings) = audit(std::slice::from_ref(&file));
    let mut s = Summary::new("searches");
    for f in &findings {
        s.push(f);
    }
    s.profile = Some(audit.profile.clone());
    s.inputs.push(oversight::report::Input {
        file: file.display().to_string(),
        read: 7273,
        kept: 7273,
        ..Default::default()
    });
    assert_eq!(s.findings, 5604);
    assert_eq!(s.by_kind[&Kind::WideSearch], [0, 3195, 0]);
    assert_eq!(s.by_kind[&Kind::VagueReason], [2388, 9, 0]);
    assert_eq!(s.by_agency.get("Okaloosa County FL SO"), 5604);
    // Examples: at most three per detector, the most severe first (the nine empty reasons are
    // medium, the rest low).
    let vague = &s.examples[&Kind::VagueReason];
    assert_eq!(vague.len(), 3);
    assert!(vague.iter().all(|f| f.evidence.starts_with("no reason given")), "{vague:?}");
    let p = s.profile.as_ref().unwrap();
    assert_eq!((p.searches, p.wide), (7273, 3195));
    assert_eq!(p.by_month.total(), 7273);
    assert!(p.nationwide > 0 && p.nationwide < p.wide);

    let mut text = Vec::new();
    s.write_text(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.starts_with("Audit of searches (1 file):\n"), "{text}");
    assert!(text.contains("Searches: 7,273 distinct; 3,195 wide (43.9%)"), "{text}");
    assert!(text.contains("  wide_search         0     3,195   0      3,195\n"), "{text}");

    oversight::report::sort_most_severe_first(&mut findings);
    assert!(findings.windows(2).all(|w| w[0].severity >= w[1].severity));
    for lang in model::lang::Lang::ALL {
        let page = oversight::report::html_page(&s, &findings, 100, lang);
        assert!(page.starts_with(&format!("<!DOCTYPE html><html lang=\"{}\">", lang.code())));
        // Self-contained: no script, stylesheet or image fetched from anywhere.
        for outside in ["<script", "<link", " src=", "href=\"http", "url("] {
            assert!(!page.contains(outside), "{outside} in the report");
        }
        // Charts with their tables, the method, the rules fired, and 100 of the 5,604 findings,
        // each with a link to its file and its line.
        assert!(page.matches("<svg").count() >= 3);
        assert!(page.contains("search.vague_reason") && page.contains("id=\"method\""));
        let links = page.matches("okaloosa-fl-org-audit-2025-11.csv\">").count();
        assert_eq!(links, 100 + 3 * s.examples.len(), "each listed finding and example links to its file");
        assert!(page.contains("5,604"));
    }
}
