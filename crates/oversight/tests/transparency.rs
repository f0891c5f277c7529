//! The annual transparency report from a ledger written in the hub's format: every count checked
//! against hand-counted entries, the year boundaries (UTC), the three formats agreeing number for
//! number, and no personal data in any of them.

use std::collections::BTreeMap;
mod common;

use std::path::Path;

use common::write_ledger;
use model::entry::{
    Citation, DecisionEntry, Entry, EntryRequester, HashedSubject, RefusedEntry, ReviewEntry, Supervisor, TokenHolder,
    Verdict, ENTRY_VERSION,
};
use model::{ChainLink, Deployment, LegalBasis, Outcome};
use oversight::ledger::LedgerReader;
use oversight::transparency::{LedgerInfo, Report, ReportLang, Tally};
use serde_json::Value;

/// 2025-01-01T00:00:00Z and 2026-01-01T00:00:00Z.
const Y2025: u64 = 1_735_689_600;
const Y2026: u64 = 1_767_225_600;

struct D {
    time: u64,
    source: &'static str,
    owner: &'static str,
    agency: &'static str,
    chain: &'static [&'static str],
    purpose: &'static str,
    basis: &'static str,
    outcome: Outcome,
    cites: &'static [(&'static str, &'static str)],
    obligations: &'static [&'static str],
    signals: &'static [&'static str],
}

const SB54: (&str, &str) = ("ca-sb54", "Cal. Gov. Code 7284.6(a)(1)(C), (D)");
const SB34: (&str, &str) = ("ca-sb34", "Cal. Civ. Code 1798.90.55(b)");
const MEMBER: (&str, &str) = ("member-access", "OCIAC data-sharing agreement, section 2");
const GANG_REVIEW: (&str, &str) = ("calgang-review", "Cal. Penal Code 186.36(l)");

fn decision(i: usize, d: &D) -> Entry {
    Entry::Decision(DecisionEntry {
        v: ENTRY_VERSION,
        time: d.time,
        decision_id: format!("decision-id-{i:04}"),
        requester: EntryRequester { id: format!("officer-{i:03}"), agency: d.agency.into(), role: "detective".into() },
        token: format!("tok{i:013x}"),
        on_behalf_of: d.chain.iter().map(|a| ChainLink { id: format!("agent-{i}-{a}"), agency: (*a).into() }).collect(),
        source: d.source.into(),
        owner: d.owner.into(),
        action: "lookup".into(),
        purpose: d.purpose.into(),
        legal_basis: LegalBasis {
            kind: d.basis.into(),
            reference: Some(format!("WARRANT-NO-{i:05}")),
            issued_by: Some("Judge Personal Name".into()),
        },
        case_number: Some(format!("{:064x}", 0xca5e_0000 + i)),
        justification: format!("{:064x}", 0x7057_0000 + i),
        subject: HashedSubject { kind: "plate".into(), hmac: format!("{:064x}", 0x5b1e_0000 + i) },
        fields: None,
        decision: d.outcome,
        citations: d.cites.iter().map(|(p, c)| Citation { policy: (*p).into(), citation: (*c).into() }).collect(),
        obligations: d.obligations.iter().map(|s| (*s).to_string()).collect(),
        certifications: vec![],
        justification_signals: d.signals.iter().map(|s| (*s).to_string()).collect(),
        policy_digest: "ab".repeat(32),
        federation: None,
    })
}

fn review(time: u64, of: u64, verdict: Verdict, obligations: &[&str]) -> Entry {
    Entry::Review(ReviewEntry {
        v: ENTRY_VERSION,
        time,
        decision_id: format!("decision-id-{of:04}"),
        decision_index: of,
        verdict,
        supervisor: Supervisor { id: "supervisor-person".into(), agency: "lapd".into(), token: "5u9e".repeat(4) },
        reason: format!("{:064x}", 0x4ea5_0000 + of),
        obligations: obligations.iter().map(|s| (*s).to_string()).collect(),
    })
}

fn refused(time: u64) -> Entry {
    Entry::Refused(RefusedEntry {
        v: ENTRY_VERSION,
        time,
        token: TokenHolder {
            id: "feed".repeat(4),
            agency: "ice-ero".into(),
            user: "impostor-user".into(),
            role: "agent".into(),
        },
        claimed: ChainLink { id: "claimed-person".into(), agency: "oc-sheriff".into() },
        on_behalf_of: vec![],
        source: "ociac-alpr".into(),
        action: "lookup".into(),
        purpose: "other".into(),
        subject: HashedSubject { kind: "plate".into(), hmac: "0f".repeat(32) },
        why: "the token is for user \"impostor-user\", the request names user \"claimed-person\"".into(),
    })
}

/// The ledger: index, entry. Entries 0 (2024), 1..=9 (2025), 10.. (2026).
fn entries() -> Vec<Entry> {
    let base = D {
        time: Y2025,
        source: "ociac-alpr",
        owner: "ociac",
        agency: "oc-sheriff",
        chain: &[],
        purpose: "criminal_investigation",
        basis: "none",
        outcome: Outcome::Permit,
        cites: &[MEMBER],
        obligations: &["record_dissemination"],
        signals: &[],
    };
    let ice = D {
        agency: "ice-ero",
        purpose: "civil_immigration_enforcement",
        outcome: Outcome::Deny,
        cites: &[SB54, SB34],
        obligations: &[],
        signals: &["strong: \"deportation\""],
        ..base
    };
    let mut e = vec![
        // 0: the last second of 2024.
        decision(0, &D { time: Y2025 - 1, ..ice }),
        // 1: the first second of 2025, January.
        decision(1, &base),
        // 2: ICE asks directly, March.
        decision(2, &D { time: Y2025 + 70 * 86_400, ..ice }),
        // 3: the FBI (outside, federal), denied on SB34 only, March.
        decision(
            3,
            &D {
                time: Y2025 + 71 * 86_400,
                agency: "fbi",
                purpose: "criminal_investigation",
                cites: &[SB34],
                signals: &[],
                ..ice
            },
        ),
        // 4: Denver PD asks CalGang (outside): held, approved in 2025 (entry 6).
        decision(
            4,
            &D {
                time: Y2025 + 100 * 86_400,
                source: "calgang",
                owner: "lapd",
                agency: "denver-pd",
                outcome: Outcome::Review,
                cites: &[GANG_REVIEW, MEMBER],
                obligations: &["redact:home_address", "notify_subject:3d"],
                signals: &["weak: \"status\""],
                ..base
            },
        ),
        // 5: forwarded for ICE by the sheriff, denied (the originator rule), May.
        decision(
            5,
            &D {
                time: Y2025 + 130 * 86_400,
                agency: "oc-sheriff",
                chain: &["ice-ero"],
                purpose: "other",
                signals: &[],
                ..ice
            },
        ),
        // 6: the verdict on 4: approved 30 hours later.
        review(Y2025 + 100 * 86_400 + 30 * 3600, 4, Verdict::Approve, &["redact:home_address", "notify_subject:3d"]),
        // 7: a refused impersonation, June.
        refused(Y2025 + 160 * 86_400),
        // 8: the last second of 2025: held, with a judicial warrant; approved in 2026 (entry 11).
        decision(
            8,
            &D {
                time: Y2026 - 1,
                source: "calgang",
                owner: "lapd",
                agency: "denver-pd",
                basis: "judicial_warrant",
                outcome: Outcome::Review,
                cites: &[GANG_REVIEW],
                obligations: &["redact:home_address"],
                ..base
            },
        ),
        // 9: held in 2025, denied the same day.
        decision(
            9,
            &D {
                time: Y2025 + 200 * 86_400,
                source: "calgang",
                owner: "lapd",
                agency: "lapd",
                outcome: Outcome::Review,
                cites: &[GANG_REVIEW],
                obligations: &[],
                ..base
            },
        ),
    ];
    e.push(review(Y2025 + 200 * 86_400 + 3600, 9, Verdict::Deny, &[]));
    // 11: the first hour of 2026: the verdict on 8.
    e.push(review(Y2026 + 3600, 8, Verdict::Approve, &["redact:home_address"]));
    // 12: the first second of 2026.
    e.push(decision(12, &D { time: Y2026, ..base }));
    e
}

fn deployment() -> Deployment {
    Deployment::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-world")).unwrap()
}

fn report(data: &Path, year: i64, deployment: Option<&Deployment>) -> Report {
    let reader = LedgerReader::open_data_dir(data).unwrap();
    Report::build(year, LedgerInfo::of(&reader), deployment, reader.entries()).unwrap()
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, p| &v[p])
}

/// The row of list `path` whose key is `key`, as [requests, permit, deny, review, approved, denied].
fn row(v: &Value, path: &str, key: &str) -> [u64; 6] {
    let r = at(v, path).as_array().unwrap().iter().find(|r| r["key"] == key).unwrap_or_else(|| panic!("{path} {key}"));
    ["requests", "permit", "deny", "review", "approved_on_review", "denied_on_review"].map(|m| r[m].as_u64().unwrap())
}

fn counts(v: &Value, path: &str) -> Vec<(String, u64)> {
    at(v, path)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_string(), r["count"].as_u64().unwrap()))
        .collect()
}

fn s(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(k, n)| ((*k).to_string(), *n)).collect()
}

#[test]
fn every_count_of_2025() {
    let dir = tempfile::tempdir().unwrap();
    write_ledger(dir.path(), &entries());
    let dep = deployment();
    let r = report(dir.path(), 2025, Some(&dep));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["format"], "fusionguard.transparency/1");
    assert_eq!(v["period"]["start"], "2025-01-01T00:00:00Z");
    assert_eq!(v["period"]["end"], "2026-01-01T00:00:00Z");
    assert_eq!(v["ledger"]["tree_size"], 13);
    let t = &v["totals"];
    let totals: BTreeMap<&str, u64> =
        t.as_object().unwrap().iter().map(|(k, x)| (k.as_str(), x.as_u64().unwrap())).collect();
    let want: BTreeMap<&str, u64> = [
        ("requests", 7), // 1, 2, 3, 4, 5, 8, 9
        ("permit", 1),
        ("deny", 3),
        ("review", 3),
        ("approved_on_review", 2), // 4 in 2025, 8 in 2026
        ("denied_on_review", 1),
        ("pending_review", 0),
        ("outside_requests", 6), // all but 9 (lapd asking its own CalGang)
        ("outside_released", 3), // 1 permitted, 4 and 8 approved
        ("refused", 1),
        ("entries", 10), // 1..=10
    ]
    .into_iter()
    .collect();
    assert_eq!(totals, want);

    assert_eq!(row(&v, "uses.by_source", "ociac-alpr"), [4, 1, 3, 0, 0, 0]);
    assert_eq!(row(&v, "uses.by_source", "calgang"), [3, 0, 0, 3, 2, 1]);
    assert_eq!(at(&v, "uses.by_source").as_array().unwrap().len(), 2);
    assert_eq!(at(&v, "uses.by_source")[0]["label"], "alpr (ociac)");
    assert_eq!(row(&v, "uses.by_data_type", "alpr"), [4, 1, 3, 0, 0, 0]);
    assert_eq!(row(&v, "uses.by_data_type", "gang_database"), [3, 0, 0, 3, 2, 1]);
    assert_eq!(row(&v, "uses.by_action", "lookup"), [7, 1, 3, 3, 2, 1]);
    assert_eq!(row(&v, "uses.by_purpose", "criminal_investigation"), [5, 1, 1, 3, 2, 1]);
    assert_eq!(row(&v, "uses.by_purpose", "civil_immigration_enforcement"), [1, 0, 1, 0, 0, 0]);
    assert_eq!(row(&v, "uses.by_purpose", "other"), [1, 0, 1, 0, 0, 0]);
    assert_eq!(at(&v, "uses.by_purpose").as_array().unwrap().len(), 3);
    assert_eq!(row(&v, "uses.by_legal_basis", "none"), [6, 1, 3, 2, 1, 1]);
    assert_eq!(row(&v, "uses.by_legal_basis", "judicial_warrant"), [1, 0, 0, 1, 1, 0]);
    let months: Vec<u64> =
        at(&v, "uses.by_month").as_array().unwrap().iter().map(|m| m["requests"].as_u64().unwrap()).collect();
    assert_eq!(months, [1, 0, 2, 1, 1, 0, 1, 0, 0, 0, 0, 1]);
    assert_eq!(at(&v, "uses.by_month")[11]["key"], "2025-12");

    assert_eq!(row(&v, "sharing.by_recipient", "oc-sheriff"), [2, 1, 1, 0, 0, 0]);
    assert_eq!(row(&v, "sharing.by_recipient", "ice-ero"), [1, 0, 1, 0, 0, 0]);
    assert_eq!(row(&v, "sharing.by_recipient", "fbi"), [1, 0, 1, 0, 0, 0]);
    assert_eq!(row(&v, "sharing.by_recipient", "denver-pd"), [2, 0, 0, 2, 2, 0]);
    assert_eq!(at(&v, "sharing.by_recipient").as_array().unwrap().len(), 4);
    assert_eq!(row(&v, "sharing.by_recipient_kind", "dhs_immigration"), [1, 0, 1, 0, 0, 0]);
    assert_eq!(row(&v, "sharing.by_recipient_kind", "federal_le"), [1, 0, 1, 0, 0, 0]);
    assert_eq!(row(&v, "sharing.by_recipient_kind", "local_police"), [2, 0, 0, 2, 2, 0]);
    assert_eq!(row(&v, "sharing.by_recipient_kind", "sheriff"), [2, 1, 1, 0, 0, 0]);
    assert_eq!(row(&v, "sharing.by_originator", "ice-ero"), [1, 0, 1, 0, 0, 0]);
    assert_eq!(at(&v, "sharing.by_originator").as_array().unwrap().len(), 1);
    assert_eq!(
        at(&v, "sharing.by_recipient").as_array().unwrap().iter().find(|r| r["key"] == "fbi").unwrap()["label"],
        "Federal Bureau of Investigation"
    );

    assert_eq!(counts(&v, "citations.denials"), s(&[("ca-sb34", 3), ("ca-sb54", 2)]));
    assert_eq!(at(&v, "citations.denials")[1]["label"], SB54.1);
    assert_eq!(counts(&v, "citations.reviews"), s(&[("calgang-review", 3), ("member-access", 1)]));

    let rv = &v["reviews"];
    assert_eq!(
        [&rv["held"], &rv["approved"], &rv["denied"], &rv["pending"]].map(|x| x.as_u64().unwrap()),
        [3, 2, 1, 0]
    );
    assert_eq!(counts(&v, "reviews.verdicts_in_year"), s(&[("approve", 1), ("deny", 1)]));
    // 30 h (4), 1 h (9) and 1 h 1 s (8): the median, to the hundredth, is 1.
    assert_eq!(rv["median_hours_to_verdict"], 1.0);

    // Releases in 2025: the permit of 1 and the approval of 4 (8's approval is in 2026).
    let o = &v["obligations"];
    assert_eq!((o["releases"].as_u64(), o["releases_with_obligations"].as_u64()), (Some(2), Some(2)));
    assert_eq!(
        counts(&v, "obligations.by_kind"),
        s(&[("notify_subject", 1), ("record_dissemination", 1), ("redact", 1)])
    );
    assert_eq!(
        counts(&v, "obligations.by_obligation"),
        s(&[("notify_subject:3d", 1), ("record_dissemination", 1), ("redact:home_address", 1)])
    );
    assert_eq!(counts(&v, "findings.justification_signals"), s(&[("strong/deny", 1), ("weak/review", 1)]));
    assert_eq!(v["findings"]["detectors_ran"], false);
    assert_eq!(v["violations"]["complaints_recorded"], 0);
    assert_eq!(counts(&v, "violations.refused_by_agency"), s(&[("ice-ero", 1)]));
    let statement = v["violations"]["statement"].as_str().unwrap();
    assert!(statement.starts_with("No complaints are recorded"), "{statement}");
    assert!(statement.contains("1 attempt(s)") && statement.contains("did not run"), "{statement}");
}

#[test]
fn years_are_cut_at_midnight_utc() {
    let dir = tempfile::tempdir().unwrap();
    write_ledger(dir.path(), &entries());
    let v2024 = serde_json::to_value(report(dir.path(), 2024, None)).unwrap();
    assert_eq!((v2024["totals"]["requests"].as_u64(), v2024["totals"]["deny"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v2024["uses"]["by_month"][11]["requests"], 1);
    let v2026 = serde_json::to_value(report(dir.path(), 2026, None)).unwrap();
    let t = &v2026["totals"];
    assert_eq!((t["requests"].as_u64(), t["permit"].as_u64(), t["entries"].as_u64()), (Some(1), Some(1), Some(2)));
    // The verdict on 2025's last request is a 2026 verdict, and its release a 2026 release.
    assert_eq!(counts(&v2026, "reviews.verdicts_in_year"), s(&[("approve", 1)]));
    assert_eq!(v2026["reviews"]["held"], 0);
    assert_eq!(v2026["obligations"]["releases"], 2);
    assert_eq!(
        counts(&v2026, "obligations.by_obligation"),
        s(&[("record_dissemination", 1), ("redact:home_address", 1)])
    );
    // Without a deployment, data types and recipient kinds are unknown.
    assert_eq!(row(&v2026, "uses.by_data_type", "unknown"), [1, 1, 0, 0, 0, 0]);
    let v2023 = serde_json::to_value(report(dir.path(), 2023, None)).unwrap();
    assert_eq!(v2023["totals"]["entries"], 0);
    let html = report(dir.path(), 2023, None).html();
    assert!(html.contains("None recorded in 2023"));
    assert!(html.contains("No complaints are recorded"));
    // Out of range.
    let reader = LedgerReader::open_data_dir(dir.path()).unwrap();
    let err = Report::build(10_000, LedgerInfo::of(&reader), None, reader.entries()).unwrap_err();
    assert_eq!(err.to_string(), "year 10000 is outside 1970..=9999");
}

#[test]
fn one_pass_over_every_year_equals_the_per_year_reports() {
    let dir = tempfile::tempdir().unwrap();
    write_ledger(dir.path(), &entries());
    let dep = deployment();
    let reader = LedgerReader::open_data_dir(dir.path()).unwrap();
    let info = LedgerInfo::of(&reader);
    let none = || std::iter::empty::<Result<(u64, Entry), std::convert::Infallible>>();
    for deployment in [None, Some(&dep)] {
        let all = Report::build_all(info.clone(), deployment, reader.entries()).unwrap();
        assert_eq!(all.keys().copied().collect::<Vec<_>>(), [2024, 2025, 2026]);
        for year in 2023..=2027 {
            let one = Report::build(year, info.clone(), deployment, reader.entries()).unwrap();
            match all.get(&year) {
                Some(r) => assert_eq!(r, &one, "{year}"),
                None => assert_eq!(Report::build(year, info.clone(), deployment, none()).unwrap(), one, "{year}"),
            }
        }
    }
    // With the ledger audit: each finding in the year of the entry that completed it.
    let all = Report::build_all_audited(info.clone(), &dep, reader.entries()).unwrap();
    assert_eq!(all.keys().copied().collect::<Vec<_>>(), [2024, 2025, 2026]);
    assert!(all[&2025].violations.high_severity_findings > 0, "{:?}", all[&2025].findings);
    for year in 2023..=2027 {
        let one = Report::build_audited(year, info.clone(), &dep, reader.entries()).unwrap();
        assert!(one.findings.detectors_ran);
        match all.get(&year) {
            Some(r) => assert_eq!(r, &one, "{year}"),
            None => assert_eq!(Report::build_audited(year, info.clone(), &dep, none()).unwrap(), one, "{year}"),
        }
    }
    // An entry dated past 9999 counts in no year; a read error is the pass's error.
    let far = vec![Ok((0, refused(i64::MAX as u64))), Ok((1, refused(u64::MAX))), Ok((2, refused(Y2025)))];
    let all = Report::build_all::<String>(info.clone(), None, far.into_iter()).unwrap();
    assert_eq!(all.keys().copied().collect::<Vec<_>>(), [2025]);
    assert_eq!(all[&2025].totals.entries, 1);
    let broken = vec![Ok((0, refused(Y2025))), Err("entry 1 does not verify".to_string())];
    assert_eq!(Report::build_all(info, None, broken.into_iter()).unwrap_err(), "entry 1 does not verify");
}

/// Counting as the ledger grows gives, after every entry, the reports a whole pass over the
/// entries so far gives, audited or not: nothing is counted twice or lost between counts.
#[test]
fn a_tally_kept_as_entries_come_equals_a_pass_over_the_entries_so_far() {
    let dir = tempfile::tempdir().unwrap();
    write_ledger(dir.path(), &entries());
    let dep = deployment();
    let reader = LedgerReader::open_data_dir(dir.path()).unwrap();
    let info = LedgerInfo::of(&reader);
    let all: Vec<(u64, Entry)> = reader.entries().map(Result::unwrap).collect();
    let mut plain = Tally::new(Some(&dep));
    let mut audited = Tally::audited(&dep);
    let mut checked = 0;
    for (n, (index, entry)) in all.iter().enumerate() {
        plain.push(*index, entry);
        audited.push(*index, entry);
        assert_eq!(audited.entries(), n as u64 + 1);
        let so_far = || all[..=n].iter().cloned().map(Ok::<_, std::convert::Infallible>);
        assert_eq!(plain.reports(info.clone()), Report::build_all(info.clone(), Some(&dep), so_far()).unwrap());
        let whole = Report::build_all_audited(info.clone(), &dep, so_far()).unwrap();
        assert_eq!(audited.reports(info.clone()), whole, "after entry {index}");
        checked += whole.values().map(|r| r.findings.by_kind.len()).sum::<usize>();
    }
    assert!(checked > 0, "the audit found something along the way");
    let mut whole = Vec::new();
    oversight::side_door::audit(&reader, &dep, Default::default(), &mut |f| whole.push(f)).unwrap();
    assert_eq!(format!("{:?}", audited.findings()), format!("{whole:?}"));
    assert!(plain.findings().is_empty());
}

/// Every number of the JSON form, as (section, key, measure) -> value text.
fn json_numbers(v: &Value) -> BTreeMap<(String, String, String), String> {
    let mut out = BTreeMap::new();
    fn walk(v: &Value, section: &str, out: &mut BTreeMap<(String, String, String), String>) {
        for (k, x) in v.as_object().unwrap() {
            let path = if section.is_empty() { k.clone() } else { format!("{section}.{k}") };
            match x {
                Value::Object(_) => walk(x, &path, out),
                Value::Array(rows) => {
                    for r in rows {
                        for (m, n) in r.as_object().unwrap() {
                            if n.is_number() {
                                out.insert(
                                    (path.clone(), r["key"].as_str().unwrap().to_string(), m.clone()),
                                    n.to_string(),
                                );
                            }
                        }
                    }
                }
                Value::Number(n) => {
                    let sec = if section.is_empty() { "report".to_string() } else { section.to_string() };
                    out.insert((sec, String::new(), k.clone()), n.to_string());
                }
                _ => {}
            }
        }
    }
    walk(v, "", &mut out);
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// Every `<td data-m=...>` of the HTML page's tables, as (section, key, measure) -> text.
fn html_numbers(html: &str) -> BTreeMap<(String, String, String), String> {
    let mut out = BTreeMap::new();
    for table in html.split("<table data-section=\"").skip(1) {
        let section = &table[..table.find('"').unwrap()];
        let table = &table[..table.find("</table>").unwrap()];
        for tr in table.split("<tr data-key=\"").skip(1) {
            let key = unescape(&tr[..tr.find('"').unwrap()]);
            for td in tr.split("<td data-m=\"").skip(1) {
                let m = &td[..td.find('"').unwrap()];
                let value = &td[td.find('>').unwrap() + 1..td.find("</td>").unwrap()];
                out.insert((section.to_string(), key.clone(), m.to_string()), unescape(value));
            }
        }
    }
    out
}

#[test]
fn html_csv_and_json_agree_number_for_number() {
    let dir = tempfile::tempdir().unwrap();
    write_ledger(dir.path(), &entries());
    let dep = deployment();
    let r = report(dir.path(), 2025, Some(&dep));
    let json: Value = serde_json::from_str(&r.json()).unwrap();
    assert_eq!(json, serde_json::to_value(&r).unwrap());
    let from_json = json_numbers(&json);
    assert!(from_json.len() > 150, "{}", from_json.len());

    // CSV: exactly the JSON's numbers (and its strings).
    let mut from_csv = BTreeMap::new();
    let csv_text = r.csv();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(reader.headers().unwrap(), vec!["section", "key", "label", "measure", "value"]);
    for rec in reader.records() {
        let rec = rec.unwrap();
        if rec[4].parse::<f64>().is_ok() {
            from_csv.insert((rec[0].to_string(), rec[1].to_string(), rec[3].to_string()), rec[4].to_string());
        }
    }
    // The CSV also carries a label for a citation containing a comma, quoted.
    assert!(csv_text.contains("\"Cal. Gov. Code 7284.6(a)(1)(C), (D)\""));
    // The ledger's root and origin are strings: only in the CSV's metadata, not numbers.
    assert_eq!(from_csv, from_json);

    // HTML: every table cell is the JSON's number, and every JSON row has its table row.
    let html = r.html();
    let from_html = html_numbers(&html);
    for (k, v) in &from_html {
        let want =
            from_json.get(k).map(String::as_str).unwrap_or(if k.2 == "median_hours_to_verdict" { "none" } else { "?" });
        assert_eq!(v, want, "{k:?}");
    }
    for k in from_json.keys().filter(|k| k.0 != "ledger" && k.0 != "report") {
        assert!(from_html.contains_key(k), "{k:?} is not in the HTML tables");
    }
    // Accessible, self-contained charts: each SVG has a title and description, next to a table.
    let charts = html.matches("<svg role=\"img\"").count();
    assert!(charts >= 15, "{charts}");
    assert_eq!(html.matches("<title id=").count(), charts);
    assert_eq!(html.matches("<desc id=").count(), charts);
    assert!(html.matches("<table data-section=").count() > charts);
    for forbidden in ["<script", "src=", "href=", "url(", "@import"] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
}

#[test]
fn no_personal_data_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries();
    write_ledger(dir.path(), &all);
    let dep = deployment();
    let mut secrets: Vec<String> = Vec::new();
    for e in &all {
        let v = serde_json::to_value(e).unwrap();
        for p in [
            "decision_id",
            "requester.id",
            "token",
            "token.id",
            "token.user",
            "claimed.id",
            "legal_basis.reference",
            "legal_basis.issued_by",
            "case_number",
            "justification",
            "subject.hmac",
            "supervisor.id",
            "supervisor.token",
            "reason",
            "why",
        ] {
            if let Some(s) = at(&v, p).as_str() {
                secrets.push(s.to_string());
            }
        }
        for link in v["on_behalf_of"].as_array().into_iter().flatten() {
            secrets.push(link["id"].as_str().unwrap().to_string());
        }
    }
    assert!(secrets.len() > 80, "{}", secrets.len());
    for year in [2024, 2025, 2026] {
        let r = report(dir.path(), year, Some(&dep));
        for (format, text) in [("html", r.html()), ("csv", r.csv()), ("json", r.json())] {
            for s in &secrets {
                assert!(!text.contains(s.as_str()), "{year} {format}: {s:?}");
            }
            for s in ["officer-", "agent-", "WARRANT-NO", "Judge", "impostor", "claimed-person", "supervisor-person"] {
                assert!(!text.contains(s), "{year} {format}: {s:?}");
            }
        }
    }
}

#[test]
fn the_spanish_page_carries_the_english_page_numbers() {
    let dir = tempfile::tempdir().unwrap();
    write_ledger(dir.path(), &entries());
    let dep = deployment();
    for year in [2023, 2024, 2025] {
        for r in [report(dir.path(), year, Some(&dep)), report(dir.path(), year, Some(&dep)).with_findings(&[])] {
            let csv = format!("/transparency.csv?year={year}");
            assert_eq!(r.html_in(ReportLang::En, None), r.html());
            assert_eq!(r.html_in(ReportLang::En, Some(&csv)), r.html_with_csv(&csv));
            let (en, es) = (r.html_with_csv(&csv), r.html_in(ReportLang::Es, Some(&csv)));
            assert!(es.starts_with("<!DOCTYPE html><html lang=\"es\">"), "{year}");
            assert!(es.contains(&format!("Informe de transparencia sobre el uso de la vigilancia, {year}")));
            assert!(es.contains("No se registran quejas") && !es.contains("No complaints are recorded"));
            // Every table cell, the same number for the same section, key and measure.
            let (from_en, mut from_es) = (html_numbers(&en), html_numbers(&es));
            for (k, v) in from_es.iter_mut() {
                if k.2 == "median_hours_to_verdict" && v == "ninguna" {
                    *v = "none".to_string();
                }
            }
            assert_eq!(from_es, from_en, "{year}");
            assert!(from_en.len() > 50, "{}", from_en.len());
            // The same charts and CSV links; policy citations as they are.
            for mark in ["<svg role=\"img\"", "class=\"csv\"", "&amp;table="] {
                assert_eq!(es.matches(mark).count(), en.matches(mark).count(), "{mark}");
            }
            for c in &r.citations.denials {
                assert!(es.contains(&c.key), "{}", c.key);
            }
        }
    }
    assert_eq!(ReportLang::from_code("es-MX"), Some(ReportLang::Es));
    assert_eq!((ReportLang::from_code("fr"), ReportLang::default().code()), (None, "en"));
}

/// The report states the year's costs and who pays them, from the deployment's `[[funding]]`: each
/// entry, the totals by grantor (to the cent), "not provided" when the deployment states none; a
/// malformed entry is refused when the deployment loads, naming it.
#[test]
fn costs_and_funding_come_from_the_deployment() {
    let seed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-world/deployment.toml"),
    )
    .unwrap();
    let entry = |program: &str, grantor: &str, amount: &str, year: i64| {
        format!(
            "\n[[funding]]\nprogram = \"{program}\"\ngrantor = \"{grantor}\"\namount_usd = {amount}\nyear = {year}\npurpose = \"p\"\n"
        )
    };
    let text = format!(
        "{seed}{}{}{}",
        entry("ALPR access", "UASI", "100000.10", 2025),
        entry("Analysts", "UASI", "0.20", 2025),
        entry("Hosting", "City", "250000", 2025)
    );
    let dep = Deployment::from_toml_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_ledger(dir.path(), &entries());
    let r = report(dir.path(), 2025, Some(&dep));
    let v = serde_json::to_value(&r).unwrap();
    let f = &v["funding"];
    assert_eq!(f["provided"], true);
    assert_eq!(f["total_usd"], 350000.3);
    assert_eq!(f["entries"].as_array().unwrap().len(), 3);
    assert_eq!(
        (f["entries"][0]["program"].as_str(), f["entries"][0]["amount_usd"].as_f64()),
        (Some("ALPR access"), Some(100000.1))
    );
    let by: Vec<(&str, f64, u64)> = f["by_grantor"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap(), g["amount_usd"].as_f64().unwrap(), g["entries"].as_u64().unwrap()))
        .collect();
    assert_eq!(by, [("City", 250000.0, 1), ("UASI", 100000.3, 2)]);
    let html = r.html();
    assert!(html.contains("<h2 id=\"funding\">Costs and funding</h2>"));
    assert!(html.contains("<td data-m=\"amount_usd\">100000.3</td>"), "the total by grantor, to the cent");
    assert!(r.csv().contains("funding.by_grantor,UASI,,amount_usd,100000.3"));
    assert!(r.html_in(ReportLang::Es, None).contains("Costos y financiamiento"));
    // Another year of the same deployment: provided, none that year. No deployment: not provided.
    let other = report(dir.path(), 2024, Some(&dep));
    assert!(other.funding.provided && other.funding.entries.is_empty() && other.funding.total_usd == 0.0);
    let none = report(dir.path(), 2025, None);
    assert!(!none.funding.provided);
    assert!(none.html().contains("Not provided: the deployment states no costs"));

    // Malformed entries are refused at load, naming the entry (the seed world states two, so the
    // bad one is the third) and what is wrong.
    for (bad, why) in [
        (entry("X", "G", "-1", 2025), "`amount_usd` is -1"),
        (entry("X", "G", "10.005", 2025), "at most two decimals"),
        (entry("", "G", "1", 2025), "`program` is empty"),
        (entry("X", "G", "1", 1900), "`year` is 1900"),
        (
            "\n[[funding]]\nprogram = \"X\"\ngrantor = \"G\"\namount_usd = 1\nyear = 2025\npurpose = \"p\"\nfund = 1\n"
                .into(),
            "unknown field",
        ),
    ] {
        let err = Deployment::from_toml_str(&format!("{seed}{bad}")).unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
        if !why.contains("unknown") {
            assert!(err.contains("funding entry 3 (\"X\")") || err.contains("funding entry 3 (\"\")"), "{err}");
        }
    }
}
