//! The side-door detectors on a ledger written through the `ledger` crate in the hub's layout and
//! entry format, read back verified by `oversight::ledger`, with the seed world's agencies.

mod common;

use std::path::Path;

use common::{refused, write_ledger};
use model::entry::{
    DecisionEntry, Entry, EntryRequester, HashedSubject, ReviewEntry, Supervisor, Verdict, ENTRY_VERSION,
};
use model::{ChainLink, LegalBasis, Outcome};
use oversight::side_door::{audit_data_dir, LedgerRules};
use oversight::{Kind, Severity, Subject};

const T: u64 = 1_764_000_000;
const H: u64 = 3600;

fn decision(
    i: u64,
    who: (&str, &str),
    chain: &[(&str, &str)],
    purpose: &str,
    plate: u8,
    outcome: Outcome,
    t: u64,
) -> Entry {
    Entry::Decision(DecisionEntry {
        v: ENTRY_VERSION,
        time: T + t,
        decision_id: format!("d-{i}"),
        requester: EntryRequester { id: who.1.into(), agency: who.0.into(), role: "detective".into() },
        token: format!("{i:016x}"),
        on_behalf_of: chain.iter().map(|(a, u)| ChainLink { id: (*u).into(), agency: (*a).into() }).collect(),
        source: "ociac-alpr".into(),
        owner: "ociac".into(),
        action: "lookup".into(),
        purpose: purpose.into(),
        legal_basis: LegalBasis { kind: "none".into(), reference: None, issued_by: None },
        case_number: None,
        justification: format!("{:064x}", i + 1000),
        subject: HashedSubject { kind: "plate".into(), hmac: format!("{plate:02x}").repeat(32) },
        fields: None,
        decision: outcome,
        citations: vec![],
        obligations: vec![],
        certifications: vec![],
        justification_signals: vec![],
        policy_digest: "00".repeat(32),
        federation: None,
    })
}

fn entries() -> Vec<Entry> {
    use Outcome::{Deny, Permit, Review};
    let ci = "criminal_investigation";
    vec![
        decision(0, ("ice-ero", "agent-7"), &[], "civil_immigration_enforcement", 1, Deny, 0),
        decision(1, ("lapd", "det-1"), &[], ci, 1, Permit, 2 * H),
        decision(2, ("lapd", "det-2"), &[("ice-ero", "agent-7")], ci, 2, Permit, 3 * H),
        decision(3, ("lapd", "det-4"), &[], "other", 3, Deny, 3 * H),
        decision(4, ("lapd", "det-4"), &[], "missing_person", 3, Deny, 4 * H),
        decision(5, ("lapd", "det-4"), &[], ci, 3, Permit, 5 * H),
        decision(6, ("lapd", "det-5"), &[("cbp", "x")], ci, 4, Review, 5 * H),
        Entry::Review(ReviewEntry {
            v: ENTRY_VERSION,
            time: T + 6 * H,
            decision_id: "d-6".into(),
            decision_index: 6,
            verdict: Verdict::Approve,
            supervisor: Supervisor { id: "sup-1".into(), agency: "ociac".into(), token: "ef".repeat(8) },
            reason: "12".repeat(32),
            obligations: vec![],
        }),
        decision(8, ("fbi", "agent-9"), &[], ci, 5, Deny, 6 * H),
        decision(9, ("denver-pd", "det-6"), &[], ci, 5, Review, 7 * H),
        refused(T + 7 * H, "01".repeat(32)),
        decision(11, ("ghost-pd", "u"), &[], ci, 6, Permit, 8 * H),
        decision(12, ("lapd", "det-1"), &[], ci, 1, Deny, 9 * H),
        // Past the 72-hour window after entry 0's denial: not a side door.
        decision(13, ("oc-sheriff", "dep-3"), &[], ci, 1, Permit, 100 * H),
    ]
}

#[test]
fn side_doors_in_a_verified_ledger() {
    let dir = tempfile::tempdir().unwrap();
    write_ledger(dir.path(), &entries());
    let deployment =
        model::Deployment::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-world")).unwrap();
    let mut findings = Vec::new();
    let stats = audit_data_dir(dir.path(), &deployment, LedgerRules::default(), &mut |f| findings.push(f)).unwrap();
    let got: Vec<(u64, Kind, Severity, &str, &str)> =
        findings.iter().map(|f| (f.line, f.kind, f.severity, f.rule, f.evidence.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (
                1,
                Kind::SideDoor,
                Severity::High,
                "ledger.local_after_denied",
                "lapd/det-1 queried plate subject 010101010101… 2.0 h after ice-ero was denied on it (entry 0, purpose civil_immigration_enforcement); permit"
            ),
            (
                2,
                Kind::SideDoor,
                Severity::High,
                "ledger.immigration_answered",
                "immigration-tied request permitted to a local requester: lapd/det-2 for ice-ero/agent-7 (criminal_investigation, lookup on ociac-alpr)"
            ),
            (
                5,
                Kind::RetryUntilPermitted,
                Severity::Medium,
                "ledger.retry_until_permitted",
                "lapd/det-4 was denied 2 times on plate subject 030303030303… (entry 3 (other), entry 4 (missing_person)), then permitted with purpose criminal_investigation"
            ),
            (
                7,
                Kind::SideDoor,
                Severity::High,
                "ledger.immigration_answered",
                "immigration-tied request (entry 6) approved by ociac/sup-1 for a local requester: lapd/det-5 for cbp/x (criminal_investigation, lookup on ociac-alpr)"
            ),
            (
                9,
                Kind::SideDoor,
                Severity::Medium,
                "ledger.local_after_denied",
                "denver-pd/det-6 queried plate subject 050505050505… 1.0 h after fbi was denied on it (entry 8, purpose criminal_investigation); review"
            ),
        ]
    );
    assert_eq!(findings[3].subject, Subject::LedgerEntry { entry: 7, decision_id: "d-6".into() });
    assert!(findings[0].citation.starts_with("Cal. Gov. Code § 7284.6(a)(1)"));
    assert_eq!((stats.read, stats.findings), (14, 5));
    assert_eq!(
        stats.notes,
        vec![
            "agencies not in the deployment (classed neither federal nor local): ghost-pd".to_owned(),
            "1 held decisions have no review yet".into(),
        ]
    );
    // A tampered ledger is an error, not an audit.
    let bundle = dir.path().join("ledger/tiles/tile/entries/000.p/14");
    let bundle = if bundle.exists() { bundle } else { dir.path().join("ledger/tiles/tile/entries/000") };
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&bundle, bytes).unwrap();
    let err = audit_data_dir(dir.path(), &deployment, LedgerRules::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("ledger at"), "{err}");
}
