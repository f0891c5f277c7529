//! Precision and recall of the detectors on a hand-labelled sample of the real exports in
//! `../shared/data` (`tests/labels/`: 301 searches and the 90 Eugene emails, each label with the
//! reason for it; `tests/labels/README.md` says how the sample was chosen and how it was labelled).
//!
//! The labels are the truth as a reader judges the text, not what the detectors say: where a
//! detector is wrong the label stays. The test re-derives the sample by its rule (so the label file
//! cannot drift from it), runs the real detectors over the whole files, compares, prints a table
//! (`cargo test -p fusionguard-oversight --test labelled -- --nocapture`) and asserts floors just
//! below today's figures, so that they cannot fall unnoticed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use oversight::search_audit::SearchRules;
use oversight::{Finding, Kind, Subject};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel)
}

fn labels_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/labels").join(name)
}

/// One label: a record of a file, a detector, whether it should fire, and why.
#[derive(Debug)]
struct Label {
    file: String,
    line: u64,
    record: String,
    detector: String,
    expected: bool,
    text: String,
    reason: String,
}

fn read_labels(name: &str) -> Vec<Label> {
    let mut r = csv::Reader::from_path(labels_file(name)).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["file", "line", "record", "detector", "expected", "text", "reason"]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let expected = match &rec[4] {
                "yes" => true,
                "no" => false,
                other => panic!("{name}: expected must be yes or no, not {other:?}"),
            };
            assert!(!rec[6].trim().is_empty(), "{name}: a label without its reason: {rec:?}");
            Label {
                file: rec[0].to_owned(),
                line: rec[1].parse().unwrap(),
                record: rec[2].to_owned(),
                detector: rec[3].to_owned(),
                expected,
                text: rec[5].to_owned(),
                reason: rec[6].to_owned(),
            }
        })
        .collect()
}

/// Counts of one detector against the labels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Confusion {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

impl Confusion {
    fn precision(&self) -> Option<f64> {
        (self.tp + self.fp > 0).then(|| f64::from(self.tp) / f64::from(self.tp + self.fp))
    }
    fn recall(&self) -> Option<f64> {
        (self.tp + self.fn_ > 0).then(|| f64::from(self.tp) / f64::from(self.tp + self.fn_))
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("n/a".to_owned(), |x| format!("{:.1}%", 100.0 * x))
}

/// Compares the labels with what fired (file, line, detector), prints the table, lists the
/// disagreements, and returns the counts per detector.
fn score(title: &str, labels: &[Label], fired: &BTreeSet<(String, u64, &'static str)>) -> BTreeMap<String, Confusion> {
    let mut by: BTreeMap<String, Confusion> = BTreeMap::new();
    let mut wrong = Vec::new();
    for l in labels {
        let d = DETECTORS.iter().find(|d| **d == l.detector).unwrap_or_else(|| panic!("unknown detector {l:?}"));
        let got = fired.contains(&(l.file.clone(), l.line, *d));
        let c = by.entry(l.detector.clone()).or_default();
        match (l.expected, got) {
            (true, true) => c.tp += 1,
            (false, true) => c.fp += 1,
            (true, false) => c.fn_ += 1,
            (false, false) => c.tn += 1,
        }
        if l.expected != got {
            wrong.push(format!(
                "  {} {}:{} {:?} expected {} -- {}",
                if got { "FP" } else { "FN" },
                l.file,
                l.line,
                l.text,
                l.detector,
                l.reason
            ));
        }
    }
    println!("{title}");
    println!("| detector | labelled | should fire | precision | recall | TP | FP | FN | TN |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (d, c) in &by {
        println!(
            "| {d} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.tp + c.fp + c.fn_ + c.tn,
            c.tp + c.fn_,
            pct(c.precision()),
            pct(c.recall()),
            c.tp,
            c.fp,
            c.fn_,
            c.tn
        );
    }
    println!("disagreements ({}):", wrong.len());
    for w in &wrong {
        println!("{w}");
    }
    by
}

/// The detector names the label files use.
const DETECTORS: &[&str] = &[
    "immigration_purpose",
    "federal_originator",
    "federal_non_enforcement",
    "protected_activity",
    "vague_reason",
    "personal_account",
    "non_email_sender",
];

/// The detector a search finding counts for in the labels: immigration purpose only when strong
/// (a weak signal is "suggestive only"), a federal originator by tag or by name.
fn search_detector(f: &Finding) -> Option<&'static str> {
    match (f.kind, f.rule) {
        (Kind::ImmigrationPurpose, "search.immigration_purpose") => Some("immigration_purpose"),
        (Kind::FederalOriginator, _) => Some("federal_originator"),
        (Kind::ProtectedActivity, _) => Some("protected_activity"),
        (Kind::VagueReason, _) => Some("vague_reason"),
        _ => None,
    }
}

/// The detector an email finding counts for: any immigration-vocabulary finding (strong or weak),
/// an immigration or other federal law-enforcement address, a federal office that enforces
/// neither, a personal account, a sender that is not an email address.
fn email_detector(f: &Finding) -> Option<&'static str> {
    match (f.kind, f.rule) {
        (Kind::ImmigrationPurpose, _) => Some("immigration_purpose"),
        (Kind::FederalOriginator, "email.federal_non_enforcement") => Some("federal_non_enforcement"),
        (Kind::FederalOriginator, _) => Some("federal_originator"),
        (Kind::PersonalAccount, _) => Some("personal_account"),
        (Kind::NonEmailSender, _) => Some("non_email_sender"),
        _ => None,
    }
}

/// The sampling rule of `tests/labels/README.md`: every `every`-th search (the 1st, the
/// `every + 1`-th, ...) and the first search with each distinct reason holding a keyword.
fn sample_rule(path: &Path, every: u64) -> BTreeMap<u64, (String, String)> {
    const WORDS: &[&str] = &[
        "ice",
        "immigration",
        "hsi",
        "ero",
        "cbp",
        "dhs",
        "border",
        "alien",
        "federal",
        "fbi",
        "rally",
        "church",
        "abortion",
        "bolo",
        "case",
        "assist",
        "test",
        "other",
        "run",
        "patrol",
        "police",
        "search",
        "check",
        "lookup",
        "info",
    ];
    const PREFIXES: &[&str] = &["inv", "susp", "deport", "protest"];
    let keyword = |reason: &str| {
        reason
            .to_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|t| !t.is_empty() && (WORDS.contains(&t) || PREFIXES.iter().any(|p| t.starts_with(p))))
    };
    let mut reader = oversight::searches::open(path).unwrap();
    let mut sampled = BTreeMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut i = 0u64;
    while let Some(s) = reader.next_search().unwrap() {
        i += 1;
        let kw = keyword(&s.reason);
        let first = kw && seen.insert(s.reason.clone());
        if (i - 1).is_multiple_of(every) || first {
            sampled.insert(s.line, (s.id, s.reason));
        }
    }
    assert_eq!(reader.stats.rejected.len(), 0);
    sampled
}

#[test]
fn searches_precision_and_recall_on_the_labelled_sample() {
    let labels = read_labels("searches.csv");
    let files = [("flock/okaloosa-fl-org-audit-2025-11.csv", 68), ("flock/eugene-or-search-audit-2025-06.csv", 180)];
    let mut fired: BTreeSet<(String, u64, &'static str)> = BTreeSet::new();
    let mut sizes = Vec::new();
    for (file, every) in files {
        // The label file holds exactly the rule's sample, four detectors per search, and each
        // label's record id and text are the file's.
        let sample = sample_rule(&data(file), every);
        let mut labelled: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
        for l in labels.iter().filter(|l| l.file == file) {
            let (id, reason) = sample.get(&l.line).unwrap_or_else(|| panic!("{file}:{} is not in the sample", l.line));
            assert_eq!((&l.record, l.text.trim()), (id, reason.as_str()), "{file}:{}", l.line);
            assert!(labelled.entry(l.line).or_default().insert(l.detector.as_str()), "{l:?} twice");
        }
        assert_eq!(labelled.keys().copied().collect::<Vec<_>>(), sample.keys().copied().collect::<Vec<_>>());
        assert!(labelled.values().all(|d| d.len() == 4), "{file}: four detectors per search");
        sizes.push(sample.len());
        oversight::search_audit::audit_file(&data(file), &SearchRules::default(), &mut |_, _| {}, &mut |f| {
            if let Some(d) = search_detector(&f) {
                fired.insert((file.to_owned(), f.line, d));
            }
        })
        .unwrap();
    }
    assert_eq!(sizes, [199, 102]);
    let by = score("Searches (199 Okaloosa + 102 Eugene):", &labels, &fired);
    let c = |d: &str| by[d];
    // No reason in either export uses immigration, protest, religious or reproductive-care words,
    // and neither export names a federal searcher: these detectors must stay silent on the sample.
    for d in ["immigration_purpose", "protected_activity", "federal_originator"] {
        assert_eq!(c(d), Confusion { tp: 0, fp: 0, fn_: 0, tn: 301 }, "{d}");
    }
    // Vague reasons: floors just below today's figures.
    let v = c("vague_reason");
    assert_eq!(v.tp + v.fn_, 142, "labelled vague");
    assert!(v.precision().unwrap() >= 0.99, "{v:?}");
    assert!(v.recall().unwrap() >= 0.96, "{v:?}");
}

#[test]
fn emails_precision_and_recall_on_the_labelled_sample() {
    let labels = read_labels("emails.csv");
    let file = "flock/eugene-or-public-records-emails-2025.csv";
    let mut fired: BTreeSet<(String, u64, &'static str)> = BTreeSet::new();
    let mut ids: HashMap<String, u64> = HashMap::new();
    let report = oversight::emails::audit_path(&data(file), &mut |f| {
        if let Subject::Email { message_id, .. } = &f.subject {
            ids.insert(message_id.clone(), f.line);
        }
        if let Some(d) = email_detector(&f) {
            fired.insert((file.to_owned(), f.line, d));
        }
    })
    .unwrap();
    assert_eq!(report.stats.kept, 90);
    // Every message, five detectors each, each label's row id at its line.
    let mut per_row: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for l in &labels {
        assert_eq!(l.file, file);
        if let Some(line) = ids.get(&l.record) {
            assert_eq!(*line, l.line, "{l:?}");
        }
        assert!(per_row.entry(l.record.as_str()).or_default().insert(l.detector.as_str()), "{l:?} twice");
    }
    assert_eq!(per_row.len(), 90);
    assert!(per_row.values().all(|d| d.len() == 5));
    let by = score("Emails (all 90 of the Eugene production):", &labels, &fired);
    let c = |d: &str| by[d];
    for d in ["immigration_purpose", "federal_originator", "federal_non_enforcement"] {
        assert_eq!(c(d), Confusion { tp: 0, fp: 0, fn_: 0, tn: 90 }, "{d}");
    }
    assert_eq!(c("personal_account"), Confusion { tp: 89, fp: 0, fn_: 0, tn: 1 });
    assert_eq!(c("non_email_sender"), Confusion { tp: 1, fp: 0, fn_: 0, tn: 89 });
}
