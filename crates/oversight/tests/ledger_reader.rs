//! `oversight::ledger`: a ledger written through the `ledger` crate in the hub's layout and entry
//! format (`model::entry`), read back verified and typed; tampered files, unknown kinds and
//! malformed entries are errors naming the file or the index. (crates/hub/tests/transparency.rs
//! reads the ledger of a real hub.)

mod common;

use std::path::Path;

use common::{refused, write_ledger, write_raw_ledger};
use ledger::Ledger;
use model::entry::{
    Citation, DecisionEntry, Entry, EntryRequester, HashedSubject, ReviewEntry, Supervisor, Verdict, ENTRY_VERSION,
};
use model::{ChainLink, LegalBasis, Outcome};
use oversight::ledger::{LedgerReader, ReadError};

fn decision(i: u64) -> Entry {
    let outcome = [Outcome::Permit, Outcome::Deny, Outcome::Review][(i % 3) as usize];
    Entry::Decision(DecisionEntry {
        v: ENTRY_VERSION,
        time: 1_735_689_600 + i * 60,
        decision_id: format!("d-{i}"),
        requester: EntryRequester { id: format!("det-{i}"), agency: "lapd".into(), role: "detective".into() },
        token: format!("{i:016x}"),
        on_behalf_of: if i.is_multiple_of(5) {
            vec![ChainLink { id: "agent-7".into(), agency: "ice-ero".into() }]
        } else {
            vec![]
        },
        source: "ociac-alpr".into(),
        owner: "ociac".into(),
        action: "lookup".into(),
        purpose: "criminal_investigation".into(),
        legal_basis: LegalBasis { kind: "none".into(), reference: None, issued_by: None },
        case_number: Some(format!("{:064x}", i)),
        justification: format!("{:064x}", i + 1),
        subject: HashedSubject { kind: "plate".into(), hmac: format!("{:064x}", i + 2) },
        fields: None,
        decision: outcome,
        citations: vec![Citation { policy: "ca-sb54".into(), citation: "Cal. Gov. Code 7284.6(a)(1)".into() }],
        obligations: if outcome == Outcome::Permit { vec!["redact:home_address".into()] } else { vec![] },
        certifications: vec![],
        justification_signals: vec![],
        policy_digest: "00".repeat(32),
        federation: None,
    })
}

fn review(i: u64, of: u64) -> Entry {
    Entry::Review(ReviewEntry {
        v: ENTRY_VERSION,
        time: 1_735_689_600 + i * 60,
        decision_id: format!("d-{of}"),
        decision_index: of,
        verdict: if i.is_multiple_of(2) { Verdict::Approve } else { Verdict::Deny },
        supervisor: Supervisor { id: "sup-1".into(), agency: "ociac".into(), token: "ef".repeat(8) },
        reason: "12".repeat(32),
        obligations: vec![],
    })
}

/// The entries of the test ledger: 300 (two bundles), all three kinds.
fn entries() -> Vec<Entry> {
    (0..300u64)
        .map(|i| match i % 10 {
            7 => refused(1_735_689_600 + i * 60, "cd".repeat(32)),
            9 => review(i, i - 1),
            _ => decision(i),
        })
        .collect()
}

fn good_ledger() -> (tempfile::TempDir, Vec<Entry>) {
    let dir = tempfile::tempdir().unwrap();
    let all = entries();
    write_ledger(dir.path(), &all);
    (dir, all)
}

fn tiles(data: &Path) -> std::path::PathBuf {
    data.join("ledger/tiles")
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn streams_every_entry_in_order_typed() {
    let (dir, expected) = good_ledger();
    let reader = LedgerReader::open_data_dir(dir.path()).unwrap();
    assert_eq!(reader.size(), 300);
    assert_eq!(reader.checkpoint().origin, "test.example/hub");
    assert_eq!(reader.checkpoint_note().lines().nth(2), Some(reader.root_base64().as_str()));
    let got: Vec<(u64, Entry)> = reader.entries().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 300);
    for (i, (index, entry)) in got.iter().enumerate() {
        assert_eq!(*index, i as u64);
        assert_eq!(entry, &expected[i]);
    }
    let kinds = |k: &str| got.iter().filter(|(_, e)| e.kind() == k).count();
    assert_eq!((kinds("decision"), kinds("refused"), kinds("review")), (240, 30, 30));
    // The same ledger through the tiles-and-key entry point.
    let vkey = std::fs::read_to_string(dir.path().join("ledger.vkey")).unwrap();
    let again = LedgerReader::open_tiles(tiles(dir.path()).to_str().unwrap(), &vkey).unwrap();
    assert_eq!(again.entries().count(), 300);
}

#[test]
fn an_empty_ledger_has_no_entries() {
    let dir = tempfile::tempdir().unwrap();
    write_raw_ledger(dir.path(), &[]);
    let reader = LedgerReader::open_data_dir(dir.path()).unwrap();
    assert_eq!((reader.size(), reader.entries().count()), (0, 0));
}

#[test]
fn a_tampered_entry_bundle_is_an_error_naming_it() {
    let (dir, _) = good_ledger();
    // Inside the first entry of the second bundle (44 entries: a partial bundle).
    flip_byte(&tiles(dir.path()).join("tile/entries/001.p/44"), 40);
    let err = LedgerReader::open_data_dir(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ReadError::Verify { .. }), "{msg}");
    assert!(msg.contains("ledger/tiles") && msg.contains("tile/entries/001.p/44"), "{msg}");
}

#[test]
fn a_tampered_hash_tile_is_an_error_naming_it() {
    let (dir, _) = good_ledger();
    flip_byte(&tiles(dir.path()).join("tile/0/000"), 32 * 5);
    let msg = LedgerReader::open_data_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("tile/0/000") && msg.contains("hash 5"), "{msg}");
}

#[test]
fn a_truncated_or_missing_bundle_is_an_error_naming_it() {
    let (dir, _) = good_ledger();
    let path = tiles(dir.path()).join("tile/entries/001.p/44");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    let msg = LedgerReader::open_data_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("tile/entries/001.p/44") && msg.contains("truncated"), "{msg}");
    std::fs::remove_file(&path).unwrap();
    let msg = LedgerReader::open_data_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("missing tile/entries/001.p/44"), "{msg}");
}

#[test]
fn a_bad_signature_or_key_is_an_error() {
    let (dir, _) = good_ledger();
    // Another log's key does not verify this checkpoint.
    let other = tempfile::tempdir().unwrap();
    let other_vkey = Ledger::init(other.path(), "test.example/hub").unwrap();
    std::fs::write(dir.path().join("ledger.vkey"), &other_vkey).unwrap();
    let msg = LedgerReader::open_data_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("checkpoint"), "{msg}");
    std::fs::write(dir.path().join("ledger.vkey"), "not a key").unwrap();
    let msg = LedgerReader::open_data_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("bad verifier key"), "{msg}");
    std::fs::remove_file(dir.path().join("ledger.vkey")).unwrap();
    let msg = LedgerReader::open_data_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("ledger.vkey"), "{msg}");
}

#[test]
fn a_checkpoint_claiming_more_entries_is_an_error() {
    let (dir, _) = good_ledger();
    let path = tiles(dir.path()).join("checkpoint");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\n300\n", "\n299\n", 1)).unwrap();
    let msg = LedgerReader::open_data_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("checkpoint"), "{msg}");
}

#[test]
fn a_bundle_changed_after_verification_is_an_error_not_an_entry() {
    let (dir, _) = good_ledger();
    let reader = LedgerReader::open_data_dir(dir.path()).unwrap();
    // Rewrite the decision of entry 256 (the second bundle's first) after the reader verified
    // the log.
    let path = tiles(dir.path()).join("tile/entries/001.p/44");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(6).position(|w| w == b"\"deny\"").unwrap();
    bytes[at + 1..at + 5].copy_from_slice(b"DENY");
    std::fs::write(&path, bytes).unwrap();
    let items: Vec<_> = reader.entries().collect();
    // The first bundle's 256 entries, then the error, then nothing.
    assert_eq!(items.len(), 257);
    assert!(items[..256].iter().all(Result::is_ok));
    let msg = items[256].as_ref().unwrap_err().to_string();
    assert!(msg.contains("tile/entries/001.p/44") && msg.contains("differs from the one verified"), "{msg}");
}

#[test]
fn an_unknown_kind_or_malformed_entry_is_an_error_with_its_index() {
    for (bad, want) in [
        (br#"{"type":"memo","v":1,"time":1}"#.to_vec(), "entry 2: unknown entry type \"memo\""),
        (br#"{"type":"refused","v":1,"time":1}"#.to_vec(), "entry 2: refused entry: missing field `token`"),
        (br#"{"type":"decision","v":9}"#.to_vec(), "entry 2: decision entry has format version 9"),
        (b"not json".to_vec(), "entry 2: not a JSON object"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let raw = vec![decision(0).to_json_vec(), decision(1).to_json_vec(), bad, decision(3).to_json_vec()];
        write_raw_ledger(dir.path(), &raw);
        let reader = LedgerReader::open_data_dir(dir.path()).unwrap();
        let items: Vec<_> = reader.entries().collect();
        assert_eq!(items.len(), 3, "the stream stops at the first bad entry");
        assert!(items[0].is_ok() && items[1].is_ok());
        let err = items[2].as_ref().unwrap_err();
        assert!(matches!(err, ReadError::Entry { index: 2, .. }), "{err}");
        assert!(err.to_string().contains(want), "{err}");
    }
}
