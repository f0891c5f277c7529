//! The federation audit over real ledgers: three hubs' ledgers written through the `ledger` crate
//! in the hub's layout and entry format (each with its own origin), read back verified by
//! `oversight::ledger`, with requests forwarded between them: matched pairs, a relay, a request
//! one side never logged (each way), a request logged differently by the two sides, forged
//! receipts, a denial on one hub followed by a direct request on another; and a clean
//! federation. Also the transparency report's per-peer counts of the same ledgers.

mod common;

use std::path::Path;

use common::write_ledger_as;
use model::entry::{
    DecisionEntry, Entry, EntryRequester, FederationInfo, ForwardFailedEntry, HashedSubject, PeerReceiptEntry,
    PeerRefusedEntry, ReviewEntry, Supervisor, Verdict, ENTRY_VERSION,
};
use model::{ChainLink, LegalBasis, Outcome};
use oversight::federation::{audit, FederationError, FederationRules};
use oversight::ledger::LedgerReader;
use oversight::transparency::{LedgerInfo, Report, UNKNOWN_PEER};
use oversight::{Finding, Kind, Severity};

/// 2025-06-01T00:00:00Z.
const T: u64 = 1_748_736_000;
const TX: &str = "hub.tx.example/ledger";
const CO: &str = "hub.co.example/ledger";
const CA: &str = "hub.ca.example/ledger";
const NY: &str = "hub.ny.example/ledger";

/// A decision entry: `who` (agency, user) asks about plate `plate` at `T + t`.
fn d(i: u64, t: u64, who: (&str, &str), plate: u8, purpose: &str, outcome: Outcome) -> DecisionEntry {
    DecisionEntry {
        v: ENTRY_VERSION,
        time: T + t,
        decision_id: format!("d-{i}-{t}"),
        requester: EntryRequester { id: who.1.into(), agency: who.0.into(), role: "detective".into() },
        token: format!("{i:016x}"),
        on_behalf_of: vec![ChainLink { id: format!("{}-lead", who.1), agency: who.0.into() }],
        source: "ca-dmv".into(),
        owner: "ca-dmv-agency".into(),
        action: "lookup".into(),
        purpose: purpose.into(),
        legal_basis: LegalBasis { kind: "none".into(), reference: None, issued_by: None },
        case_number: None,
        justification: format!("{:064x}", i + 1000),
        subject: HashedSubject { kind: "plate".into(), hmac: format!("{plate:02x}").repeat(32) },
        fields: None,
        decision: outcome,
        citations: vec![],
        obligations: if outcome == Outcome::Permit { vec!["redact:home_address".into()] } else { vec![] },
        certifications: vec![],
        justification_signals: vec![],
        policy_digest: "00".repeat(32),
        federation: None,
    }
}

fn nonce(n: u64) -> String {
    format!("{n:032x}")
}

fn envelope(n: u64) -> String {
    format!("{:064x}", n * 7919)
}

fn fed(mut e: DecisionEntry, peer: &str, n: u64, hops: &[&str], sender_index: Option<u64>) -> DecisionEntry {
    e.federation = Some(FederationInfo {
        peer: peer.into(),
        envelope: envelope(n),
        nonce: nonce(n),
        hops: hops.iter().map(|h| h.to_string()).collect(),
        sender_index,
    });
    e
}

fn outbound(e: DecisionEntry, peer: &str, n: u64, hops: &[&str]) -> Entry {
    Entry::Outbound(fed(e, peer, n, hops, None))
}

fn inbound(e: DecisionEntry, peer: &str, n: u64, hops: &[&str], sender_index: u64) -> Entry {
    Entry::Inbound(fed(e, peer, n, hops, Some(sender_index)))
}

fn leaf(e: &Entry) -> String {
    ledger::merkle::leaf_hash(&e.to_json_vec()).iter().map(|b| format!("{b:02x}")).collect()
}

fn receipt(t: u64, of: u64, peer: &str, peer_index: u64, peer_leaf: String, decision: Outcome) -> Entry {
    Entry::PeerReceipt(PeerReceiptEntry {
        v: ENTRY_VERSION,
        time: T + t,
        decision_id: format!("d-{of}"),
        decision_index: of,
        peer: peer.into(),
        peer_index,
        peer_leaf,
        peer_decision: decision,
    })
}

const CI: &str = "criminal_investigation";
const TXPD: (&str, &str) = ("tx-pd", "det-1");
const CAPD: (&str, &str) = ("ca-pd", "det-7");
use Outcome::{Deny, Permit, Review};

/// The three ledgers of the main scenario: TX sends to CA directly and to CA through CO.
fn scenario() -> [(&'static str, Vec<Entry>); 3] {
    // CA's ledger first: TX's receipts name its entries' leaves.
    let ca = vec![
        // 0: TX's request 1 (TX entry 0), as sent.
        inbound(d(0, 0, TXPD, 1, CI, Permit), TX, 1, &[TX], 0),
        // 1: TX's request 3 (TX entry 3), logged with another purpose.
        inbound(d(3, 20, TXPD, 3, "civil_immigration_enforcement", Permit), TX, 3, &[TX], 3),
        // 2: a request CA says TX sent (as TX's entry 6, a plain decision): not in TX's books.
        inbound(d(9, 25, TXPD, 9, CI, Permit), TX, 9, &[TX], 6),
        // 3: TX's request 4, relayed by CO (CO's entry 1).
        inbound(d(4, 31, TXPD, 4, CI, Permit), CO, 4, &[TX, CO], 1),
        // 4: asked directly on CA an hour after TX denied plate 0x19: permitted.
        Entry::Decision(d(100, 3640, CAPD, 0x19, CI, Permit)),
        Entry::PeerRefused(PeerRefusedEntry {
            v: ENTRY_VERSION,
            time: T + 3700,
            peer: TX.into(),
            why: "replayed".into(),
            envelope: "ab".repeat(32),
        }),
        Entry::PeerRefused(PeerRefusedEntry {
            v: ENTRY_VERSION,
            time: T + 3800,
            peer: format!("hmac:{}", "cd".repeat(32)),
            why: "unknown_peer".into(),
            envelope: "ef".repeat(32),
        }),
        // 7: CA's newest entry.
        Entry::Decision(d(101, 5000, CAPD, 0x0b, CI, Permit)),
    ];
    let co = vec![
        inbound(d(4, 30, TXPD, 4, CI, Permit), TX, 4, &[TX], 5),
        outbound(d(4, 31, TXPD, 4, CI, Permit), CA, 4, &[TX]),
        receipt(32, 1, CA, 3, leaf(&ca[3]), Permit),
        Entry::Decision(d(102, 5000, ("co-pd", "det-3"), 0x0c, CI, Permit)),
    ];
    let tx = vec![
        // 0: matched with CA's 0, and its true receipt (1).
        outbound(d(0, 0, TXPD, 1, CI, Permit), CA, 1, &[]),
        receipt(1, 0, CA, 0, leaf(&ca[0]), Permit),
        // 2: sent to CA, never logged there.
        outbound(d(2, 10, TXPD, 2, CI, Permit), CA, 2, &[]),
        // 3: logged by CA with another purpose; 4: its receipt names the right entry with a
        // forged leaf and the wrong decision.
        outbound(d(3, 20, TXPD, 3, CI, Permit), CA, 3, &[]),
        receipt(21, 3, CA, 1, "00".repeat(32), Deny),
        // 5: to CA through CO.
        outbound(d(4, 30, TXPD, 4, CI, Permit), CO, 4, &[]),
        // 6: a plain denial on plate 0x19.
        Entry::Decision(d(6, 40, TXPD, 0x19, "other", Deny)),
        // 7: denied here: never sent, nothing to match.
        outbound(d(7, 50, TXPD, 7, CI, Deny), CA, 7, &[]),
        // 8: sent, unreachable (9): not flagged.
        outbound(d(8, 60, TXPD, 8, CI, Permit), CA, 8, &[]),
        Entry::ForwardFailed(ForwardFailedEntry {
            v: ENTRY_VERSION,
            time: T + 61,
            decision_id: "d-8".into(),
            decision_index: 8,
            peer: CA.into(),
            why: "unreachable".into(),
        }),
        // 10: sent 30 s before CA's newest entry: in flight.
        outbound(d(10, 4970, TXPD, 10, CI, Permit), CA, 10, &[]),
        // 11: to a hub whose ledger is not audited.
        outbound(d(11, 4980, TXPD, 11, CI, Permit), NY, 11, &[]),
        // 12: CO's receipt for 5 (true); 13: a receipt for 2 naming CA's plain decision 4.
        receipt(32, 5, CO, 0, leaf(&co[0]), Permit),
        receipt(4990, 2, CA, 4, leaf(&ca[4]), Permit),
        // 14: held, approved on review (15), so sent; CA never logged it.
        outbound(d(14, 4000, TXPD, 14, CI, Review), CA, 14, &[]),
        Entry::Review(ReviewEntry {
            v: ENTRY_VERSION,
            time: T + 4100,
            decision_id: "d-14-4000".into(),
            decision_index: 14,
            verdict: Verdict::Approve,
            supervisor: Supervisor { id: "sup-1".into(), agency: "tx-pd".into(), token: "ef".repeat(8) },
            reason: "12".repeat(32),
            obligations: vec!["redact:home_address".into()],
        }),
    ];
    [(TX, tx), (CO, co), (CA, ca)]
}

/// Writes each hub's ledger into its own data directory under `root` and opens them verified.
fn open(root: &Path, hubs: &[(&str, Vec<Entry>)]) -> Vec<LedgerReader> {
    hubs.iter()
        .map(|(origin, entries)| {
            let dir = root.join(origin.split('.').nth(1).unwrap());
            write_ledger_as(&dir, origin, entries);
            LedgerReader::open_data_dir(&dir).unwrap()
        })
        .collect()
}

fn run(readers: &[LedgerReader]) -> (Vec<Finding>, oversight::federation::FederationStats) {
    let mut findings = Vec::new();
    let stats = audit(readers, &FederationRules::default(), &mut |f| findings.push(f)).unwrap();
    findings.sort_by(|a, b| (a.file.clone(), a.line, a.rule).cmp(&(b.file.clone(), b.line, b.rule)));
    (findings, stats)
}

#[test]
fn findings_across_three_ledgers() {
    let dir = tempfile::tempdir().unwrap();
    let readers = open(dir.path(), &scenario());
    let (findings, stats) = run(&readers);
    let got: Vec<(&str, u64, Kind, Severity, &str)> =
        findings.iter().map(|f| (f.file.as_deref().unwrap(), f.line, f.kind, f.severity, f.rule)).collect();
    assert_eq!(
        got,
        vec![
            (CA, 1, Kind::ChainMismatch, Severity::High, "federation.chain_mismatch"),
            (CA, 2, Kind::UnmatchedHop, Severity::High, "federation.unmatched_inbound"),
            (CA, 4, Kind::DeniedElsewhere, Severity::High, "federation.denied_then_asked_elsewhere"),
            (TX, 2, Kind::UnmatchedHop, Severity::High, "federation.unmatched_outbound"),
            (TX, 4, Kind::ReceiptMismatch, Severity::High, "federation.receipt_mismatch"),
            (TX, 13, Kind::ReceiptMismatch, Severity::High, "federation.receipt_mismatch"),
            (TX, 14, Kind::UnmatchedHop, Severity::High, "federation.unmatched_outbound"),
        ]
    );
    let evidence =
        |hub: &str, line: u64| findings.iter().find(|f| f.file.as_deref() == Some(hub) && f.line == line).unwrap();
    assert_eq!(
        evidence(CA, 1).evidence,
        format!(
            "{CA}'s inbound entry 1 and {TX}'s outbound entry 3 (nonce {}) differ: purpose criminal_investigation \
             sent, civil_immigration_enforcement logged; practice concern",
            nonce(3)
        )
    );
    assert_eq!(
        evidence(CA, 2).evidence,
        format!(
            "{CA} logged inbound entry 2 (permit for tx-pd/det-1 for tx-pd/det-1-lead on ca-dmv, nonce {}) at \
             2025-06-01T00:00:25Z as sent by {TX}, which has no outbound entry for it: {TX}'s entry 6 is not an \
             outbound entry; practice concern",
            nonce(9)
        )
    );
    assert_eq!(
        evidence(CA, 4).evidence,
        format!(
            "{CA} decided permit on ca-pd/det-7 for ca-pd/det-7-lead's direct request (criminal_investigation, \
             lookup on ca-dmv) on plate subject 191919191919… 1.0 h after {TX} denied it (its decision entry 6, for \
             tx-pd, purpose other); practice concern"
        )
    );
    assert_eq!(evidence(CA, 4).user.as_deref(), Some("det-7"));
    assert_eq!(
        evidence(TX, 2).evidence,
        format!(
            "{TX} sent outbound entry 2 (permit for tx-pd/det-1 for tx-pd/det-1-lead on ca-dmv, nonce {}) to {CA} \
             at 2025-06-01T00:00:10Z; {CA}'s ledger (8 entries, newest at 2025-06-01T01:23:20Z) has no inbound \
             entry for it; practice concern",
            nonce(2)
        )
    );
    let forged = &evidence(TX, 4).evidence;
    let true_leaf = leaf(&scenario()[2].1[1]);
    assert_eq!(
        forged,
        &format!(
            "{TX}'s peer receipt (entry 4) for outbound entry 3, nonce {}, names {CA}'s entry 1: peer leaf {} is not \
             the leaf hash of {CA}'s entry 1 ({true_leaf}); the receipt says deny, {CA}'s entry says permit; \
             practice concern",
            nonce(3),
            "00".repeat(32)
        )
    );
    assert!(
        evidence(TX, 13).evidence.contains(&format!("{CA}'s entry 4 is not an inbound entry")),
        "{}",
        evidence(TX, 13).evidence
    );
    // Held, approved on review, then sent: the approval's time is when it left.
    assert!(evidence(TX, 14).evidence.contains("(review for tx-pd/det-1"), "{}", evidence(TX, 14).evidence);
    assert!(evidence(TX, 14).evidence.contains("to hub.ca.example/ledger at 2025-06-01T01:08:20Z"));
    assert!(findings.iter().all(|f| f.citation.is_empty() && f.evidence.ends_with("; practice concern")));
    assert_eq!(stats.findings, 7);
    let tx = &stats.hubs[0];
    assert_eq!((tx.origin.as_str(), tx.size, tx.outbound, tx.receipts, tx.forward_failed), (TX, 16, 9, 4, 1));
    assert_eq!(tx.findings, 4);
    assert_eq!(
        tx.notes,
        vec![
            "1 outbound requests sent within 120 s of their peer's newest entry were not matched (in flight)",
            "1 outbound requests the peer did not log have a forward_failed entry (not flagged)",
            "1 outbound requests to hub.ny.example/ledger, whose ledger was not audited, were not matched",
        ]
    );
    let ca = &stats.hubs[2];
    assert_eq!((ca.inbound, ca.decisions, ca.peer_refused, ca.findings), (4, 2, 2, 3));

    // With a grace long enough, what was sent 4 970 s after the start is in flight too, and
    // TX's request 2 (sent at 10 s) is still flagged; with no grace, request 10 is flagged.
    let mut n = 0;
    audit(&readers, &FederationRules { grace_secs: 0, ..Default::default() }, &mut |f| {
        n += u64::from(f.rule == "federation.unmatched_outbound")
    })
    .unwrap();
    assert_eq!(n, 3);
    // A window shorter than the hour between the denial and the direct request: no finding.
    let rules = FederationRules { window_secs: 3000, ..Default::default() };
    let mut shopped = 0;
    audit(&readers, &rules, &mut |f| shopped += u64::from(f.kind == Kind::DeniedElsewhere)).unwrap();
    assert_eq!(shopped, 0);
}

#[test]
fn the_order_of_the_ledgers_does_not_change_the_findings() {
    let dir = tempfile::tempdir().unwrap();
    let mut hubs = scenario();
    let (first, _) = run(&open(dir.path(), &hubs));
    hubs.reverse();
    let other = tempfile::tempdir().unwrap();
    let (second, _) = run(&open(other.path(), &hubs));
    assert_eq!(first, second);
}

#[test]
fn relays_and_shortened_chains() {
    let dir = tempfile::tempdir().unwrap();
    let mut dropped = d(1, 2, TXPD, 1, CI, Permit);
    dropped.on_behalf_of.clear();
    let hubs = [
        (
            TX,
            vec![
                outbound(d(1, 0, TXPD, 1, CI, Permit), CO, 1, &[]),
                outbound(d(2, 10, TXPD, 2, CI, Permit), CO, 2, &[]),
                Entry::Decision(d(9, 1000, TXPD, 9, CI, Permit)),
            ],
        ),
        (
            CO,
            vec![
                inbound(d(1, 1, TXPD, 1, CI, Permit), TX, 1, &[TX], 0),
                // Relayed without its originator.
                outbound(dropped.clone(), CA, 1, &[TX]),
                // Denied here, relayed all the same.
                inbound(d(2, 11, TXPD, 2, CI, Deny), TX, 2, &[TX], 1),
                outbound(d(2, 12, TXPD, 2, CI, Permit), CA, 2, &[TX]),
                Entry::Decision(d(9, 1000, ("co-pd", "x"), 7, CI, Deny)),
            ],
        ),
        (
            CA,
            vec![
                // As CO sent it, but TX dropped from its hops.
                inbound(dropped, CO, 1, &[CO], 1),
                inbound(d(2, 13, TXPD, 2, CI, Permit), CO, 2, &[TX, CO], 3),
                Entry::Decision(d(9, 1000, CAPD, 8, CI, Permit)),
            ],
        ),
    ];
    let (findings, _) = run(&open(dir.path(), &hubs));
    let got: Vec<(&str, u64, &str, &str)> =
        findings.iter().map(|f| (f.file.as_deref().unwrap(), f.line, f.rule, f.evidence.as_str())).collect();
    let n1 = nonce(1);
    let n2 = nonce(2);
    assert_eq!(
        got,
        vec![
            (
                CA,
                0,
                "federation.chain_mismatch",
                format!(
                    "{CA}'s inbound entry 0 and {CO}'s outbound entry 1 (nonce {n1}) differ: hops [{TX}, {CO}] sent, \
                     [{CO}] logged; practice concern"
                )
                .as_str()
            ),
            (
                CO,
                1,
                "federation.relay_changed",
                format!(
                    "{CO} relayed inbound entry 0 (from {TX}) as outbound entry 1 (to {CA}), nonce {n1}, changed: \
                     on_behalf_of [tx-pd/det-1-lead] sent, [] logged; practice concern"
                )
                .as_str()
            ),
            (
                CO,
                3,
                "federation.relay_changed",
                format!(
                    "{CO} relayed inbound entry 2 (from {TX}) as outbound entry 3 (to {CA}), nonce {n2}, changed: \
                     the inbound request was denied, yet relayed (permit); practice concern"
                )
                .as_str()
            ),
        ]
    );
}

#[test]
fn a_clean_federation_has_no_findings() {
    let dir = tempfile::tempdir().unwrap();
    let ca0 = inbound(d(0, 1, TXPD, 1, CI, Deny), TX, 1, &[TX], 0);
    let hubs = [
        (
            TX,
            vec![
                outbound(d(0, 0, TXPD, 1, CI, Permit), CA, 1, &[]),
                receipt(2, 0, CA, 0, leaf(&ca0), Deny),
                Entry::Decision(d(2, 60, TXPD, 2, CI, Permit)),
            ],
        ),
        // CA denied TX's request on plate 1, then was asked on it directly: the same hub.
        (CA, vec![ca0, Entry::Decision(d(3, 10_000, CAPD, 1, CI, Permit))]),
    ];
    let readers = open(dir.path(), &hubs);
    let (findings, stats) = run(&readers);
    assert_eq!(findings, vec![]);
    assert!(stats.hubs.iter().all(|h| h.notes.is_empty()), "{:?}", stats.hubs);
    // Plate 1 asked directly on TX after CA denied it: past the window nothing, within it a
    // finding (medium: held for review).
    let mut late = hubs.clone();
    late[0].1.push(Entry::Decision(d(4, 2 + 72 * 3600, TXPD, 1, CI, Review)));
    let other = tempfile::tempdir().unwrap();
    assert_eq!(run(&open(other.path(), &late)).0, vec![]);
    let mut soon = hubs;
    soon[0].1.push(Entry::Decision(d(4, 3600, TXPD, 1, CI, Review)));
    let third = tempfile::tempdir().unwrap();
    let (found, _) = run(&open(third.path(), &soon));
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].kind, found[0].severity, found[0].file.as_deref(), found[0].line),
        (Kind::DeniedElsewhere, Severity::Medium, Some(TX), 3)
    );
}

#[test]
fn one_ledger_or_the_same_twice_is_not_a_federation() {
    let dir = tempfile::tempdir().unwrap();
    let hubs = scenario();
    let mut readers = open(dir.path(), &hubs[..1]);
    let err = audit(&readers, &FederationRules::default(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, FederationError::TooFew(1)), "{err}");
    readers.push(LedgerReader::open_data_dir(&dir.path().join("tx")).unwrap());
    let err = audit(&readers, &FederationRules::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("ledgers of one origin \"hub.tx.example/ledger\""), "{err}");
}

#[test]
fn transparency_counts_requests_between_hubs() {
    let dir = tempfile::tempdir().unwrap();
    let readers = open(dir.path(), &scenario());
    let report = |r: &LedgerReader| Report::build(2025, LedgerInfo::of(r), None, r.entries()).unwrap();
    let tx = report(&readers[0]);
    let rows: Vec<_> = tx.federation.by_peer.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(rows, vec![CA, CO, NY]);
    let to_ca = &tx.federation.by_peer[0];
    assert_eq!((to_ca.sent, to_ca.sent_permit, to_ca.sent_deny, to_ca.sent_review), (7, 5, 1, 1), "{to_ca:?}");
    assert_eq!((to_ca.answered_permit, to_ca.answered_deny, to_ca.answered_review), (2, 1, 0));
    assert_eq!((to_ca.received, to_ca.forward_failed, to_ca.refused), (0, 1, 0));
    let to_co = &tx.federation.by_peer[1];
    assert_eq!((to_co.sent, to_co.sent_permit, to_co.answered_permit), (1, 1, 1));
    assert_eq!(tx.federation.by_peer[2].sent, 1);
    assert_eq!(tx.federation.forward_failures.len(), 1);
    assert_eq!(
        (tx.federation.forward_failures[0].key.as_str(), tx.federation.forward_failures[0].count),
        ("unreachable", 1)
    );
    // Outbound requests are the hub's decisions, not its releases nor its outside sharing.
    let t = &tx.totals;
    assert_eq!((t.requests, t.permit, t.deny, t.review, t.approved_on_review), (10, 7, 2, 1, 1));
    // (The one outside request is TX's plain decision 6, denied.)
    assert_eq!((t.outside_requests, t.outside_released), (1, 0));
    assert_eq!((tx.obligations.releases, tx.reviews.approved), (0, 1));
    assert_eq!(tx.sharing.by_recipient.iter().map(|r| r.requests).collect::<Vec<_>>(), vec![1]);
    assert_eq!(tx.uses.by_source[0].requests, 10);

    let ca = report(&readers[2]);
    let keys: Vec<_> = ca.federation.by_peer.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, vec![CO, TX, UNKNOWN_PEER]);
    let from = |k: &str| ca.federation.by_peer.iter().find(|r| r.key == k).unwrap();
    assert_eq!((from(TX).received, from(TX).received_permit, from(TX).refused, from(TX).sent), (3, 3, 1, 0));
    assert_eq!((from(CO).received, from(CO).received_permit), (1, 1));
    assert_eq!(
        (from(UNKNOWN_PEER).refused, from(UNKNOWN_PEER).label.as_deref()),
        (1, Some("a sender not among the peers"))
    );
    let refusals: Vec<_> = ca.federation.refusals.iter().map(|r| (r.key.as_str(), r.count)).collect();
    assert_eq!(refusals, vec![("replayed", 1), ("unknown_peer", 1)]);
    // Inbound requests count as the hub's own decisions: released, and shared outside.
    let t = &ca.totals;
    assert_eq!((t.requests, t.permit, t.outside_requests, t.outside_released), (6, 6, 6, 6));
    assert_eq!(ca.obligations.releases, 6);

    // The three forms carry the table; the page shows it, in both languages.
    let json: serde_json::Value = serde_json::from_str(&ca.json()).unwrap();
    assert_eq!(json["federation"]["by_peer"][1]["key"], TX);
    assert_eq!(json["federation"]["by_peer"][1]["received_permit"], 3);
    let csv = ca.csv();
    assert!(csv.contains(&format!("federation.by_peer,{TX},,received,3\n")), "{csv}");
    assert!(csv.contains("federation.refusals,replayed,,count,1\n"), "{csv}");
    let html = ca.html();
    assert!(html.contains("<h2 id=\"federation\">Requests between hubs</h2>"));
    assert!(
        html.contains(&format!("<tr data-key=\"{TX}\"><th scope=\"row\">{TX}</th><td></td><td data-m=\"sent\">0</td>"))
    );
    let es = ca.html_in(oversight::transparency::ReportLang::Es, None);
    assert!(es.contains("<h2 id=\"federation\">Solicitudes entre centros</h2>"));
    assert!(es.contains("un remitente ajeno a la federación"));
    // A hub without peers has no such section.
    let plain =
        Report::build(2025, LedgerInfo::default(), None, std::iter::empty::<Result<_, std::convert::Infallible>>())
            .unwrap();
    assert!(plain.federation.is_empty() && !plain.html().contains("id=\"federation\""));
}
