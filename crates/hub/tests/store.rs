//! The hub's store ([`hub::store::Store`]) on real files and on the CI PostgreSQL: every kind of
//! record written, then read back by a store opened afresh (a restart), with the same answers and
//! the same refusals from both implementations; the file store's torn and damaged lines; and the
//! console's "My requests" still listing a request after the hub restarts (files) or on another
//! replica (PostgreSQL).

mod common;

use common::{ConsoleUser, Schema, TestHub};
use hub::duties::{Notification, Sent};
use hub::reviews::{Review, ReviewStatus, Verdict};
use hub::store::{ConsoleRequest, FileStore, Store, CONSOLE_REQUESTS_KEPT};
use hub::HubError;
use serde_json::json;

fn review(id: &str, owner: &str, created: u64) -> Review {
    let request = hub::api::parse_request(common::calgang_request().as_bytes()).unwrap();
    let decision = serde_json::from_value(json!({
        "decision_id": id, "decision": "review", "reasons": [], "obligations": [], "policy_digest": "test"
    }))
    .unwrap();
    Review { id: id.into(), owner: owner.into(), request, decision, ledger_index: created, created, verdict: None }
}

fn verdict(status: ReviewStatus, index: u64) -> Verdict {
    Verdict {
        status,
        by: "sgt-ortiz".into(),
        agency: "lapd".into(),
        reason: "checked".into(),
        ledger_index: index,
        time: 1,
    }
}

fn notice(id: &str, due: u64) -> Notification {
    let request = hub::api::parse_request(common::calgang_request().as_bytes()).unwrap();
    Notification {
        id: id.into(),
        owner: "ny-dmv".into(),
        subject: request.subject,
        requester_agency: "ice-hsi".into(),
        requester: "hsi-sa".into(),
        asked_by: vec![],
        source: "ny-dmv-registrations".into(),
        decision: "permit".into(),
        obligation: "notify_subject:3d".into(),
        ledger_index: due,
        requested: 1,
        due,
        sent: None,
    }
}

fn console_request(id: &str, user: &str, time: u64) -> ConsoleRequest {
    ConsoleRequest {
        id: id.into(),
        agency: "oc-sheriff".into(),
        user: user.into(),
        time,
        source: "ociac-alpr".into(),
        decision: "permit".into(),
        ledger_index: time,
    }
}

fn ids<T>(list: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    list.iter().map(|x| id(x).to_string()).collect()
}

fn conflict(r: Result<impl std::fmt::Debug, HubError>, message: &str) {
    match r {
        Err(HubError::Conflict(m)) => assert_eq!(m, message),
        other => panic!("expected the conflict {message:?}, got {other:?}"),
    }
}

fn not_found(r: Result<impl std::fmt::Debug, HubError>, message: &str) {
    match r {
        Err(HubError::NotFound(m)) => assert_eq!(m, message),
        other => panic!("expected not found {message:?}, got {other:?}"),
    }
}

/// Writes every kind of record into `store`, checking the answers as it goes; returns the ids of
/// the two tokens issued (the first revoked).
fn write_everything(store: &dyn Store) -> (String, String) {
    // Tokens: issued, one revoked, an unknown one not.
    let (_, t1) = hub::tokens::issue(store, "lapd", "sgt-ortiz", "supervisor", 3600).unwrap();
    let (_, t2) = hub::tokens::issue(store, "oc-sheriff", "det-1", "detective", 3600).unwrap();
    assert!(store.revoke_token(&t1.id).unwrap());
    assert!(!store.revoke_token("0000000000000000").unwrap());
    assert_eq!(store.token(&t2.id).unwrap(), Some(t2.clone()));

    // Reviews: held, listed oldest first per owner, claimed once, decided once.
    store.hold(review("r1", "lapd", 10)).unwrap();
    store.hold(review("r2", "lapd", 5)).unwrap();
    store.hold(review("r3", "oc-sheriff", 7)).unwrap();
    assert_eq!(ids(&store.pending_reviews("lapd").unwrap(), |r| &r.id), ["r2", "r1"]);
    assert_eq!(store.claim("r1").unwrap().id, "r1");
    conflict(store.claim("r1"), "review \"r1\" is being decided by another supervisor");
    store.unclaim("r1").unwrap();
    store.claim("r1").unwrap();
    let decided = store.decide("r1", verdict(ReviewStatus::Approved, 11)).unwrap();
    assert_eq!(decided.status(), ReviewStatus::Approved);
    conflict(store.claim("r1"), "review \"r1\" is already decided");
    conflict(store.decide("r1", verdict(ReviewStatus::Denied, 12)), "review \"r1\" is already decided");
    not_found(store.claim("r9"), "no review \"r9\"");
    not_found(store.decide("r9", verdict(ReviewStatus::Denied, 12)), "no review \"r9\"");
    store.claim("r2").unwrap();
    assert_eq!(store.decide("r2", verdict(ReviewStatus::Denied, 13)).unwrap().status(), ReviewStatus::Denied);

    // Notices: listed by deadline, sent once.
    store.queue_notice(notice("n1", 20)).unwrap();
    store.queue_notice(notice("n2", 10)).unwrap();
    assert_eq!(ids(&store.pending_notices("ny-dmv").unwrap(), |n| &n.id), ["n2", "n1"]);
    assert!(store.pending_notices("lapd").unwrap().is_empty());
    let sent = Sent { by: "records-sup".into(), method: "mail".into(), ledger_index: 21, time: 2 };
    assert_eq!(store.mark_notice_sent("n2", sent.clone()).unwrap().sent, Some(sent.clone()));
    conflict(store.mark_notice_sent("n2", sent.clone()), "notification \"n2\" is already sent");
    not_found(store.mark_notice_sent("n9", sent), "no notification \"n9\"");

    // Console requests: newest first (within one second, the later one first), per user.
    store.add_console_request(console_request("c1", "det-1", 100)).unwrap();
    store.add_console_request(console_request("c2", "det-1", 100)).unwrap();
    store.add_console_request(console_request("c3", "det-1", 101)).unwrap();
    store.add_console_request(console_request("c4", "det-2", 100)).unwrap();
    assert_eq!(ids(&store.console_requests("oc-sheriff", "det-1").unwrap(), |r| &r.id), ["c3", "c2", "c1"]);
    // Only the latest CONSOLE_REQUESTS_KEPT of a user are listed.
    for i in 0..CONSOLE_REQUESTS_KEPT + 3 {
        store.add_console_request(console_request(&format!("busy-{i}"), "det-busy", 200 + i as u64)).unwrap();
    }
    let busy = store.console_requests("oc-sheriff", "det-busy").unwrap();
    assert_eq!(busy.len(), CONSOLE_REQUESTS_KEPT);
    assert_eq!(busy[0].id, format!("busy-{}", CONSOLE_REQUESTS_KEPT + 2));
    assert_eq!(busy[CONSOLE_REQUESTS_KEPT - 1].id, "busy-3");
    (t1.id, t2.id)
}

/// Checks what [`write_everything`] wrote, read by a store opened afresh.
fn read_everything(store: &dyn Store, (t1, t2): &(String, String)) {
    let tokens = store.tokens().unwrap();
    assert_eq!(tokens.len(), 2);
    let token = |id: &str| tokens.iter().find(|t| t.id == id).unwrap().clone();
    assert!(token(t1).revoked && !token(t2).revoked);
    assert_eq!((token(t2).agency.as_str(), token(t2).user.as_str()), ("oc-sheriff", "det-1"));
    assert_eq!(store.token(t1).unwrap(), Some(token(t1)));

    let r1 = store.review("r1").unwrap().expect("an approved review is kept");
    assert_eq!((r1.status(), r1.verdict.as_ref().unwrap().ledger_index), (ReviewStatus::Approved, 11));
    if store.shared() {
        assert_eq!(store.review("r2").unwrap().unwrap().status(), ReviewStatus::Denied);
    } else {
        // The file store keeps only what answers the requester of a denied review.
        assert!(store.review("r2").unwrap().is_none());
        let settled = store.settled("r2").unwrap();
        assert_eq!((settled.status, settled.verdict_index, settled.owner.as_str()), (ReviewStatus::Denied, 13, "lapd"));
    }
    conflict(store.claim("r2"), "review \"r2\" is already decided");
    conflict(store.claim("r1"), "review \"r1\" is already decided");
    assert!(store.pending_reviews("lapd").unwrap().is_empty());
    assert_eq!(ids(&store.all_pending_reviews().unwrap(), |r| &r.id), ["r3"]);
    assert_eq!(store.claim("r3").unwrap().owner, "oc-sheriff");
    store.unclaim("r3").unwrap();

    assert_eq!(store.notice("n2").unwrap().unwrap().sent.unwrap().ledger_index, 21);
    assert!(store.notice("n9").unwrap().is_none());
    assert_eq!(ids(&store.pending_notices("ny-dmv").unwrap(), |n| &n.id), ["n1"]);

    let mine = store.console_requests("oc-sheriff", "det-1").unwrap();
    assert_eq!(mine[2], console_request("c1", "det-1", 100));
    assert_eq!(ids(&mine, |r| &r.id), ["c3", "c2", "c1"]);
    assert_eq!(ids(&store.console_requests("oc-sheriff", "det-2").unwrap(), |r| &r.id), ["c4"]);
    assert!(store.console_requests("lapd", "det-1").unwrap().is_empty());
    assert_eq!(store.console_requests("oc-sheriff", "det-busy").unwrap().len(), CONSOLE_REQUESTS_KEPT);
}

#[test]
fn the_file_store_reads_back_what_it_wrote_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let tokens = write_everything(&FileStore::open(data).unwrap());
    read_everything(&FileStore::open(data).unwrap(), &tokens);

    // Today's files and formats: the token file, one fsynced JSON line per event, all private.
    let lines = |name: &str| std::fs::read_to_string(data.join(name)).unwrap().lines().count();
    assert_eq!(lines(hub::reviews::REVIEWS_FILE), 3 + 2, "three held, two decided");
    assert_eq!(lines(hub::duties::NOTIFICATIONS_FILE), 2 + 1, "two owed, one sent");
    assert_eq!(lines(hub::store::file::CONSOLE_REQUESTS_FILE), 4 + CONSOLE_REQUESTS_KEPT + 3);
    let token_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join(hub::tokens::TOKENS_FILE)).unwrap()).unwrap();
    assert_eq!(token_file["tokens"].as_array().unwrap().len(), 2);
    let first_review: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(data.join(hub::reviews::REVIEWS_FILE)).unwrap().lines().next().unwrap(),
    )
    .unwrap();
    assert_eq!((first_review["event"].as_str(), first_review["review"]["id"].as_str()), (Some("held"), Some("r1")));
    use std::os::unix::fs::PermissionsExt;
    for name in [
        hub::tokens::TOKENS_FILE,
        hub::reviews::REVIEWS_FILE,
        hub::duties::NOTIFICATIONS_FILE,
        "console-requests.jsonl",
    ] {
        assert_eq!(std::fs::metadata(data.join(name)).unwrap().permissions().mode() & 0o777, 0o600, "{name}");
    }
}

#[test]
fn the_file_store_cuts_a_torn_last_line_and_refuses_a_damaged_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(hub::store::file::CONSOLE_REQUESTS_FILE);
    {
        let store = FileStore::open(dir.path()).unwrap();
        store.add_console_request(console_request("c1", "det-1", 100)).unwrap();
        store.add_console_request(console_request("c2", "det-1", 101)).unwrap();
    }
    let whole = std::fs::read(&path).unwrap();
    // A crash in the middle of a line: the line was never acknowledged, and is cut at the restart.
    let mut torn = whole.clone();
    torn.extend_from_slice(br#"{"id":"c3","agency":"oc-sh"#);
    std::fs::write(&path, &torn).unwrap();
    {
        let store = FileStore::open(dir.path()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), whole, "the torn line is cut off");
        assert_eq!(ids(&store.console_requests("oc-sheriff", "det-1").unwrap(), |r| &r.id), ["c2", "c1"]);
        store.add_console_request(console_request("c4", "det-1", 102)).unwrap();
    }
    let store = FileStore::open(dir.path()).unwrap();
    assert_eq!(ids(&store.console_requests("oc-sheriff", "det-1").unwrap(), |r| &r.id), ["c4", "c2", "c1"]);
    drop(store);

    // A damaged line before the last one is not a crash's doing: the store refuses to open,
    // naming the file and the line, and changes nothing.
    let text = std::fs::read_to_string(&path).unwrap();
    let damaged = text.replacen("\"c2\"", "\"c2\",,", 1);
    std::fs::write(&path, &damaged).unwrap();
    match FileStore::open(dir.path()) {
        Err(HubError::Config(m)) => {
            assert_eq!(m, format!("{}: line 2 is damaged", path.display()));
        }
        other => panic!("a damaged line must stop the start: {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), damaged);
    // The same rule holds for the review queue and the outbox.
    for name in [hub::reviews::REVIEWS_FILE, hub::duties::NOTIFICATIONS_FILE] {
        let sub = tempfile::tempdir().unwrap();
        std::fs::write(sub.path().join(name), "not json\n{}\n").unwrap();
        let err = FileStore::open(sub.path()).unwrap_err().to_string();
        assert!(err.ends_with(&format!("{name}: line 1 is damaged")), "{err}");
    }
}

#[test]
fn a_token_only_file_store_leaves_the_hubs_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = FileStore::tokens_only(dir.path());
    let (token, record) = hub::tokens::issue(&tokens, "lapd", "sgt-ortiz", "supervisor", 3600).unwrap();
    assert_eq!(tokens.tokens().unwrap(), vec![record.clone()]);
    assert!(matches!(tokens.hold(review("r1", "lapd", 1)), Err(HubError::Config(_))));
    assert!(matches!(tokens.console_requests("lapd", "sgt-ortiz"), Err(HubError::Config(_))));
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(!names.iter().any(|n| n.ends_with(".jsonl")), "{names:?}");
    // What it wrote is what the hub's store reads.
    let full = std::sync::Arc::new(FileStore::open(dir.path()).unwrap());
    let view = hub::tokens::TokenStore::open(full).unwrap();
    assert_eq!(view.verify(&token).unwrap(), record);
}

#[test]
fn the_postgres_store_reads_back_what_it_wrote_after_a_restart() {
    let schema = Schema::new("store");
    let tokens = {
        let pg = hub::pgstate::PgState::connect(&schema.store("fg_store_a")).unwrap();
        write_everything(&pg)
    };
    // Another connection (a restart, or another replica) reads the same.
    let pg = hub::pgstate::PgState::connect(&schema.store("fg_store_b")).unwrap();
    read_everything(&pg, &tokens);
    let rows: i64 = schema
        .client()
        .query_one(&format!("SELECT count(*) FROM {}.hub_console_requests", schema.0), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows as usize, 4 + CONSOLE_REQUESTS_KEPT + 3);
}

#[test]
fn my_requests_are_still_listed_after_the_hub_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (token, first, second) = {
        let hub = TestHub::start(dir.path());
        let token = hub.token("oc-sheriff", "det-1", "detective");
        let user = ConsoleUser::log_in(&hub, &token);
        let first = user.request_alpr();
        let second = user.request_alpr();
        assert_eq!(user.my_receipts(), [second, first], "newest first");
        (token, first, second)
    };
    let hub = TestHub::start(dir.path());
    let user = ConsoleUser::log_in(&hub, &token);
    assert_eq!(user.my_receipts(), [second, first], "the restarted hub lists them");
    // Another user's page does not.
    let other = ConsoleUser::log_in(&hub, &hub.token("oc-sheriff", "det-2", "detective"));
    assert!(other.my_receipts().is_empty());
    assert!(other.get("/console/requests").1.contains("You have made no request yet."));
}

#[test]
fn my_requests_are_listed_by_every_replica() {
    let schema = Schema::new("console_requests");
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestHub::start_pg(da.path(), &schema.store("fg_console_a"));
    let b = TestHub::start_pg(db.path(), &schema.store("fg_console_b"));
    let token = a.token("oc-sheriff", "det-1", "detective");
    let index = ConsoleUser::log_in(&a, &token).request_alpr();
    // The token reaches the other replica through the shared store too (looked up by id).
    assert_eq!(ConsoleUser::log_in(&b, &token).my_receipts(), [index]);
}
