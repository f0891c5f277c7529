//! Several hub replicas on one PostgreSQL schema (the CI server at 127.0.0.1:5432), over real
//! HTTP: every replica accepts requests, the ledger stays one verifiable log, tokens and reviews
//! are shared; a lost database connection gives 503 (nothing released) and the hub recovers.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{calgang_request, race_verdicts, Schema, TestHub};
use serde_json::{json, Value};

fn alpr_request(agency: &str, user: &str, n: usize) -> String {
    json!({
        "requester": {"id": user, "agency": agency, "role": "detective"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": format!("robbery follow-up {n}"), "case_number": "OCSD-1",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}
    })
    .to_string()
}

fn json_of(entry: &[u8]) -> Value {
    serde_json::from_slice(entry).unwrap()
}

#[test]
fn two_replicas_serve_one_ledger_with_shared_tokens_and_reviews() {
    let schema = Schema::new("replicas");
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestHub::start_pg(da.path(), &schema.store("fg_replica_a"));
    let b = TestHub::start_pg(db.path(), &schema.store("fg_replica_b"));
    assert_eq!(a.vkey, b.vkey, "the replicas share the ledger's key");

    // A token issued through one replica's store works on the other at once.
    let tokens: Vec<String> = (0..4).map(|t| a.token("oc-sheriff", &format!("det-{t}"), "detective")).collect();
    let first = b.post("/v1/requests", Some(&tokens[0]), &alpr_request("oc-sheriff", "det-0", 0));
    assert_eq!(first.status, 200, "{}", first.text);

    // Concurrent requests to both replicas.
    let per_thread = 25;
    let hubs = [&a, &b];
    let replies: Vec<(String, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let token = &tokens[t];
                s.spawn(move || {
                    (0..per_thread)
                        .map(|i| {
                            // Each thread alternates between the replicas.
                            let hub = hubs[(t + i) % 2];
                            let r = hub.post(
                                "/v1/requests",
                                Some(token),
                                &alpr_request("oc-sheriff", &format!("det-{t}"), i),
                            );
                            assert_eq!(r.status, 200, "{}", r.text);
                            let body = r.json();
                            assert_eq!(body["decision"], "permit");
                            assert!(!body["data"].as_array().unwrap().is_empty());
                            (
                                body["decision_id"].as_str().unwrap().to_string(),
                                body["ledger"]["index"].as_u64().unwrap(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let total = 1 + replies.len() as u64;
    let mut indexes: Vec<u64> = replies.iter().map(|r| r.1).collect();
    indexes.push(first.json()["ledger"]["index"].as_u64().unwrap());
    indexes.sort_unstable();
    assert_eq!(indexes, (0..total).collect::<Vec<_>>(), "every acknowledged entry has its own index, none lost");

    // The log verifies through both replicas' /ledger/, and both publish the same tree.
    let (log_a, entries_a) = a.verified_entries(total);
    let (log_b, entries_b) = b.verified_entries(total);
    assert_eq!(log_a.root_at(total).unwrap(), log_b.root_at(total).unwrap());
    assert_eq!(entries_a[..total as usize], entries_b[..total as usize]);
    // Each receipt's index holds that very decision.
    for (id, index) in &replies {
        assert_eq!(json_of(&entries_a[*index as usize])["decision_id"], id.as_str(), "entry {index}");
    }
    // A receipt from either replica verifies against the log fetched from the other.
    for (hub, other_log) in [(&a, &log_b), (&b, &log_a)] {
        let index = replies[7].1;
        let mut receipt = hub.get(&format!("/v1/ledger/proof/{index}"), None).json();
        let deadline = Instant::now() + Duration::from_secs(10);
        while receipt.get("inclusion_proof").is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            receipt = hub.get(&format!("/v1/ledger/proof/{index}"), None).json();
        }
        let proof: Vec<[u8; 32]> = receipt["inclusion_proof"]
            .as_array()
            .unwrap_or_else(|| panic!("no proof: {receipt}"))
            .iter()
            .map(|h| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(h.as_str().unwrap()).unwrap().try_into().unwrap()
            })
            .collect();
        let size = receipt["tree_size"].as_u64().unwrap();
        let leaf = ledger::merkle::leaf_hash(&entries_a[index as usize]);
        ledger::merkle::verify_inclusion(&leaf, index, size, &proof, &other_log.root_at(size).unwrap()).unwrap();
    }

    // A review held on one replica is listed and decided on the other.
    let det = b.token("denver-pd", "det-lee", "detective");
    let sup = b.token("lapd", "sgt-ortiz", "supervisor");
    let held = a.post("/v1/requests", Some(&det), &calgang_request()).json();
    assert_eq!(held["decision"], "review", "{held}");
    let id = held["review"]["id"].as_str().unwrap().to_string();
    let pending = b.get("/v1/reviews", Some(&sup)).json();
    assert!(pending["reviews"].as_array().unwrap().iter().any(|r| r["id"] == id.as_str()), "{pending}");
    let decided =
        b.post(&format!("/v1/reviews/{id}"), Some(&sup), r#"{"decision":"approve","reason":"case confirmed"}"#);
    assert_eq!(decided.status, 200, "{}", decided.text);
    let again = a.post(&format!("/v1/reviews/{id}"), Some(&sup), r#"{"decision":"deny","reason":"second opinion"}"#);
    assert_eq!(again.status, 409, "decided once, across replicas: {}", again.text);
    let got = a.get(&format!("/v1/requests/{id}"), Some(&det)).json();
    assert_eq!(got["status"], "approved");
    assert!(!got["data"].as_array().unwrap().is_empty(), "{got}");

    // Revoking through the shared store takes effect on both replicas within a second or two.
    let id0 = tokens[0].split('_').nth(1).unwrap();
    assert!(a.store.revoke_token(id0).unwrap());
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut refused = HashMap::new();
    while refused.len() < 2 && Instant::now() < deadline {
        for (name, hub) in [("a", &a), ("b", &b)] {
            if hub.post("/v1/requests", Some(&tokens[0]), &alpr_request("oc-sheriff", "det-0", 999)).status == 401 {
                refused.insert(name, true);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(refused.len(), 2, "both replicas refuse the revoked token");
}

fn entry_count(schema: &Schema) -> i64 {
    schema.client().query_one(&format!("SELECT count(*) FROM {}.entries", schema.0), &[]).unwrap().get(0)
}

#[test]
fn lost_database_connection_gives_503_and_the_hub_recovers() {
    let schema = Schema::new("pgfault");
    let dir = tempfile::tempdir().unwrap();
    let app = format!("fg_fault_{}", std::process::id());
    let hub = TestHub::start_pg(dir.path(), &schema.store(&app));
    let token = hub.token("oc-sheriff", "det-1", "detective");
    for i in 0..3 {
        assert_eq!(hub.post("/v1/requests", Some(&token), &alpr_request("oc-sheriff", "det-1", i)).status, 200);
    }
    assert_eq!(entry_count(&schema), 3);

    // The database drops every connection of this hub (as on a failover or restart).
    let killed: i64 = schema
        .client()
        .query_one("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", &[&app])
        .unwrap()
        .get(0);
    assert!(killed >= 2, "the hub's ledger and state connections ({killed})");
    let r = hub.post("/v1/requests", Some(&token), &alpr_request("oc-sheriff", "det-1", 3));
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.content_type, "application/problem+json");
    assert!(!r.text.contains("\"data\"") && !r.text.contains("placeholder:"), "nothing released: {}", r.text);
    assert_eq!(entry_count(&schema), 3, "nothing logged either");

    // It reconnects by itself; the next decision takes the next index.
    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let r = hub.post("/v1/requests", Some(&token), &alpr_request("oc-sheriff", "det-1", 4));
        if r.status == 200 {
            break r.json();
        }
        assert_eq!(r.status, 503, "{}", r.text);
        assert!(Instant::now() < deadline, "no recovery: {}", r.text);
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(body["ledger"]["index"], 3);
    assert!(!body["data"].as_array().unwrap().is_empty());
    let (log, _) = hub.verified_entries(4);
    assert_eq!(log.checkpoint.size, 4);
    assert_eq!(entry_count(&schema), 4);
}

#[test]
fn an_unreachable_database_is_a_clear_start_error() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut options = hub::HubOptions::new(
        common::repo().join("examples/seed-world"),
        common::repo().join("laws"),
        dir.path().to_path_buf(),
    );
    options.store = Some(
        hub::pgstate::PgStore::new(&format!("host=127.0.0.1 port={port} user=postgres dbname=test"), "hub_nowhere")
            .unwrap(),
    );
    let err = hub::Hub::open(options).unwrap_err().to_string();
    assert!(err.contains("postgres") && err.contains("connect"), "{err}");
    let bad = hub::pgstate::PgStore::new("host=127.0.0.1", "Bad-Name; DROP").unwrap_err().to_string();
    assert!(bad.contains("schema name"), "{bad}");
}

#[test]
fn two_supervisors_on_two_replicas_log_one_verdict() {
    let schema = Schema::new("race");
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestHub::start_pg(da.path(), &schema.store("race_a"));
    let b = TestHub::start_pg(db.path(), &schema.store("race_b"));
    let verdicts = race_verdicts(&[&a, &b], 12);
    assert_eq!(verdicts.len(), 12, "one verdict per review in the shared ledger: {verdicts:#?}");
    // Each review's stored verdict is the one in the ledger.
    let det = a.token("denver-pd", "det-lee", "detective");
    for v in &verdicts {
        let got = b.get(&format!("/v1/requests/{}", v["decision_id"].as_str().unwrap()), Some(&det)).json();
        let want = if v["verdict"] == "approve" { "approved" } else { "denied" };
        assert_eq!(got["status"], want, "{got:#}");
    }
}

#[test]
fn a_logged_verdict_the_queue_cannot_store_stands_across_a_restart_and_is_stored_later() {
    let schema = Schema::new("unstored");
    let s = &schema.0;
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_pg(dir.path(), &schema.store("unstored"));
    let det = hub.token("denver-pd", "det-lee", "detective");
    let (ortiz, kim) = (hub.token("lapd", "sgt-ortiz", "supervisor"), hub.token("lapd", "lt-kim", "supervisor"));
    let held = hub.post("/v1/requests", Some(&det), &calgang_request()).json();
    let id = held["review"]["id"].as_str().unwrap().to_string();
    let verdict = |decision: &str| json!({"decision": decision, "reason": "checked"}).to_string();

    // The real database refuses to store any verdict (a trigger), while claims still work.
    schema
        .client()
        .batch_execute(&format!(
            "CREATE FUNCTION {s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'queue down'; END $$;
             CREATE TRIGGER refuse BEFORE UPDATE ON {s}.hub_reviews FOR EACH ROW WHEN (NEW.decided) EXECUTE FUNCTION {s}.refuse();"
        ))
        .unwrap();
    let r = hub.post(&format!("/v1/reviews/{id}"), Some(&ortiz), &verdict("approve"));
    assert_eq!(r.status, 503, "{}", r.text);
    let body = r.json();
    assert_eq!(body["type"].as_str().map(|t| t.ends_with("review-queue-unavailable")), Some(true), "{body:#}");
    let at = body["ledger"]["index"].as_u64().unwrap();
    // The logged verdict stands: another supervisor cannot put a second one in the ledger.
    let r = hub.post(&format!("/v1/reviews/{id}"), Some(&kim), &verdict("deny"));
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains(&format!("ledger index {at}")), "{}", r.text);
    assert_eq!(hub.get(&format!("/v1/requests/{id}"), Some(&det)).json()["status"], "pending");

    // The hub stops before the queue is back; the verdict is kept in the data directory, and the
    // next start honours it (still the only verdict accepted).
    let unstored = dir.path().join(hub::reviews::UNSTORED_FILE);
    assert!(std::fs::read_to_string(&unstored).unwrap().contains(&id));
    drop(hub);
    let hub = TestHub::start_pg(dir.path(), &schema.store("unstored"));
    let r = hub.post(&format!("/v1/reviews/{id}"), Some(&kim), &verdict("deny"));
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains(&format!("ledger index {at}")), "{}", r.text);

    // The database takes verdicts again: the hub stores the logged one by itself.
    schema.client().batch_execute(&format!("DROP TRIGGER refuse ON {s}.hub_reviews")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = hub.get(&format!("/v1/requests/{id}"), Some(&det)).json();
        if got["status"] == "approved" {
            assert_eq!(got["verdict"]["ledger_index"], at, "{got:#}");
            break;
        }
        assert!(Instant::now() < deadline, "the logged verdict was never stored: {got:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
    while unstored.exists() {
        assert!(Instant::now() < deadline, "{} is still there", unstored.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    // One verdict in the ledger for the review.
    assert_eq!(hub.verdict_entries(hub.ledger_size(), &[id]).len(), 1);
}
