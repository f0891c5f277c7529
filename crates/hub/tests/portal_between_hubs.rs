//! The portal's "Requests between hubs" section: a hub started on a data directory whose ledger
//! (written through the `ledger` crate in the hub's layout) holds requests sent to and received
//! from a peer hub, a failed forward and refused envelopes shows them per peer on its home page,
//! in English and Spanish, with the numbers of the transparency report; a hub without such entries
//! shows no section.

mod common;

use common::TestHub;
use ledger::{Ledger, Options};
use model::entry::{
    DecisionEntry, Entry, EntryRequester, FederationInfo, ForwardFailedEntry, HashedSubject, PeerRefusedEntry,
    ENTRY_VERSION,
};
use model::{LegalBasis, Outcome};

const PEER: &str = "hub.co.example/ledger";

fn decision(i: u64, time: u64, outcome: Outcome, sender_index: Option<u64>) -> DecisionEntry {
    DecisionEntry {
        v: ENTRY_VERSION,
        time,
        decision_id: format!("d-{i}"),
        requester: EntryRequester { id: "det-1".into(), agency: "lapd".into(), role: "detective".into() },
        token: format!("{i:016x}"),
        on_behalf_of: vec![],
        source: "ociac-alpr".into(),
        owner: "ociac".into(),
        action: "lookup".into(),
        purpose: "criminal_investigation".into(),
        legal_basis: LegalBasis { kind: "none".into(), reference: None, issued_by: None },
        case_number: None,
        justification: format!("{:064x}", i + 1000),
        subject: HashedSubject { kind: "plate".into(), hmac: format!("{i:02x}").repeat(32) },
        fields: None,
        decision: outcome,
        citations: vec![],
        obligations: vec![],
        certifications: vec![],
        justification_signals: vec![],
        policy_digest: "00".repeat(32),
        federation: Some(FederationInfo {
            peer: PEER.into(),
            envelope: format!("{:064x}", i),
            nonce: format!("{i:032x}"),
            hops: if sender_index.is_some() { vec![PEER.into()] } else { vec![] },
            sender_index,
        }),
    }
}

#[test]
fn the_home_page_counts_requests_between_hubs() {
    let dir = tempfile::tempdir().unwrap();
    let now = hub::tokens::now() - 60;
    let entries = [
        Entry::Outbound(decision(1, now, Outcome::Permit, None)),
        Entry::Outbound(decision(2, now, Outcome::Permit, None)),
        Entry::Outbound(decision(3, now, Outcome::Deny, None)),
        Entry::ForwardFailed(ForwardFailedEntry {
            v: ENTRY_VERSION,
            time: now,
            decision_id: "d-2".into(),
            decision_index: 1,
            peer: PEER.into(),
            why: "unreachable".into(),
        }),
        Entry::Inbound(decision(4, now, Outcome::Review, Some(7))),
        Entry::PeerRefused(PeerRefusedEntry {
            v: ENTRY_VERSION,
            time: now,
            peer: format!("hmac:{}", "ab".repeat(32)),
            why: "unknown_peer".into(),
            envelope: "cd".repeat(32),
        }),
    ];
    let vkey = Ledger::init(&dir.path().join("ledger"), "hub.ca.example/ledger").unwrap();
    std::fs::write(dir.path().join("ledger.vkey"), format!("{vkey}\n")).unwrap();
    {
        let log = Ledger::open_dir(&dir.path().join("ledger"), Options::default()).unwrap();
        for e in &entries {
            log.append(&e.to_json_vec()).unwrap();
        }
        log.checkpoint().unwrap();
    }
    let hub = TestHub::start(dir.path());
    let page = hub.get("/?lang=en", None);
    assert_eq!(page.status, 200, "{}", page.text);
    let text = &page.text;
    let at = text.find("<h2 id=\"hubs-h\">Requests between hubs, ").expect("the section");
    let section = &text[at..text[at..].find("</section>").map(|e| at + e).unwrap()];
    // The peer: 3 sent (2 permitted, 1 denied), 1 received (held), 1 failed forward; the unknown
    // sender: 1 refused envelope.
    let cells = |row: &str| -> Vec<String> {
        row.split("<td class=\"num\">").skip(1).map(|c| c[..c.find('<').unwrap()].to_string()).collect()
    };
    let rows: Vec<&str> = section.split("<tr>").filter(|r| r.contains("<th scope=\"row\">")).collect();
    assert_eq!(rows.len(), 2, "{section}");
    assert!(rows[0].contains(&format!("<code>{PEER}</code>")), "{}", rows[0]);
    assert_eq!(cells(rows[0]), ["2", "1", "0", "0", "0", "1", "1", "0"]);
    assert!(rows[1].contains("Senders not in the federation"), "{}", rows[1]);
    assert_eq!(cells(rows[1]), ["0", "0", "0", "0", "0", "0", "0", "1"]);
    // The same numbers as the report the hub serves.
    let report = hub.get("/v1/transparency", None).json();
    assert_eq!(report["federation"]["by_peer"][0]["sent"], 3);
    assert_eq!(report["federation"]["by_peer"][0]["received_review"], 1);
    let es = hub.get("/?lang=es", None).text;
    assert!(es.contains("Solicitudes entre centros, "), "{es}");
    assert!(es.contains("Remitentes ajenos a la federación"));
    // A hub with no federation entry has no such section.
    let other = tempfile::tempdir().unwrap();
    let plain = TestHub::start(other.path());
    let home = plain.get("/", None);
    assert_eq!(home.status, 200);
    assert!(!home.text.contains("hubs-h"));
}
