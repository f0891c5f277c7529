//! Helpers shared by the tests that read a hub's ledger: writing one in the hub's layout, and
//! entries used by more than one test.
#![allow(dead_code)]

use std::path::Path;

use ledger::{Ledger, Options};
use model::entry::{Entry, HashedSubject, RefusedEntry, TokenHolder, ENTRY_VERSION};
use model::ChainLink;

/// Writes `raw` entries into a hub-layout data directory (`ledger/`, `ledger.vkey`) and publishes
/// a checkpoint.
pub fn write_raw_ledger(data: &Path, raw: &[Vec<u8>]) {
    write_raw_ledger_as(data, "test.example/hub", raw);
}

/// Like [`write_raw_ledger`], for the hub whose ledger origin is `origin`.
pub fn write_raw_ledger_as(data: &Path, origin: &str, raw: &[Vec<u8>]) {
    let vkey = Ledger::init(&data.join("ledger"), origin).unwrap();
    std::fs::write(data.join("ledger.vkey"), format!("{vkey}\n")).unwrap();
    let log = Ledger::open_dir(&data.join("ledger"), Options::default()).unwrap();
    for e in raw {
        log.append(e).unwrap();
    }
    log.checkpoint().unwrap();
}

/// Like [`write_raw_ledger`], with entries as the hub writes them.
pub fn write_ledger(data: &Path, entries: &[Entry]) {
    write_raw_ledger(data, &entries.iter().map(Entry::to_json_vec).collect::<Vec<_>>());
}

/// Like [`write_ledger`], for the hub whose ledger origin is `origin`.
pub fn write_ledger_as(data: &Path, origin: &str, entries: &[Entry]) {
    write_raw_ledger_as(data, origin, &entries.iter().map(Entry::to_json_vec).collect::<Vec<_>>());
}

/// A `refused` entry: an ICE agent's token used to speak for an LAPD detective.
pub fn refused(time: u64, subject_hmac: String) -> Entry {
    Entry::Refused(RefusedEntry {
        v: ENTRY_VERSION,
        time,
        token: TokenHolder {
            id: "ab".repeat(8),
            agency: "ice-ero".into(),
            user: "agent-7".into(),
            role: "agent".into(),
        },
        claimed: ChainLink { id: "det-1".into(), agency: "lapd".into() },
        on_behalf_of: vec![],
        source: "ociac-alpr".into(),
        action: "lookup".into(),
        purpose: "other".into(),
        subject: HashedSubject { kind: "plate".into(), hmac: subject_hmac },
        why: "token of another agency".into(),
    })
}
