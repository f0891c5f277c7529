//! The obligations beyond the data, over HTTP: `notify_subject` (a durable notice in the owning
//! agency's outbox, listed to its supervisors, marked sent with a ledger entry), `certify` (no
//! certification, no data: a deny naming it; given certifications are logged) and `report` (counted
//! per oversight body from the published ledger).

mod common;

use common::{repo, Schema, TestHub};
use serde_json::{json, Value};

/// Public-record scenario 10 with a warrant signed by an Article III judge (the scenario's own
/// warrant is a magistrate judge's, which N.Y. VTL 201(12)(a) does not accept): ICE-HSI gets the New
/// York DMV record, and the person is owed a notice within three days.
fn ny_request() -> Value {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(repo().join("laws/us-ny/new-york.cases.json")).unwrap()).unwrap();
    let case =
        cases.into_iter().find(|c| c["name"].as_str().unwrap().starts_with("Public-record scenario 10, other side"));
    case.expect("the Article III side of scenario 10")["request"].clone()
}

fn notice_owed_listed_and_sent(hub: &TestHub) {
    let hsi = hub.token("ice-hsi", "hsi-sa", "special_agent");
    let ny_sup = hub.token("ny-dmv", "records-sup", "supervisor");
    let other_sup = hub.token("lapd", "sgt-ortiz", "supervisor");
    let r = hub.post("/v1/requests", Some(&hsi), &ny_request().to_string());
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["decision"], "permit");
    assert!(!body["data"].as_array().unwrap().is_empty());
    let n = &body["notification"];
    assert_eq!(n["owner"], "ny-dmv");
    assert_eq!(n["obligation"], "notify_subject:3d");
    let id = n["id"].as_str().unwrap().to_string();
    let logged_at = body["ledger"]["index"].as_u64().unwrap();

    // Only the owing agency's supervisors see it; it names the person and the requester.
    let listed = hub.get("/v1/notifications", Some(&ny_sup)).json();
    let notes = listed["notifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{listed}");
    // The subject in its canonical form (the one looked up and hashed).
    assert!(notes[0]["subject"]["value"].as_str().unwrap().eq_ignore_ascii_case("R. Roe"), "{listed}");
    assert_eq!(notes[0]["requester_agency"], "ice-hsi");
    assert_eq!(notes[0]["ledger_index"], logged_at);
    let requested = notes[0]["requested"].as_u64().unwrap();
    assert_eq!(notes[0]["due"].as_u64().unwrap(), requested + 3 * 86_400);
    assert!(hub.get("/v1/notifications", Some(&other_sup)).json()["notifications"].as_array().unwrap().is_empty());
    assert_eq!(hub.get("/v1/notifications", Some(&hsi)).status, 403);

    // Marking it sent: only the owner's supervisor, logged, once.
    let sent = r#"{"method": "first-class mail"}"#;
    assert_eq!(hub.post(&format!("/v1/notifications/{id}"), Some(&other_sup), sent).status, 403);
    assert_eq!(hub.post(&format!("/v1/notifications/{id}"), Some(&ny_sup), r#"{"how": 1}"#).status, 400);
    let done = hub.post(&format!("/v1/notifications/{id}"), Some(&ny_sup), sent);
    assert_eq!(done.status, 200, "{}", done.text);
    let index = done.json()["ledger"]["index"].as_u64().unwrap();
    assert_eq!(hub.post(&format!("/v1/notifications/{id}"), Some(&ny_sup), sent).status, 409);
    assert!(hub.get("/v1/notifications", Some(&ny_sup)).json()["notifications"].as_array().unwrap().is_empty());
    hub.wait_checkpoint(index + 1);
    let bundle = hub.get_bytes(&format!("/ledger/{}", ledger::tiles::entries_path(0, index + 1))).1;
    let entries = ledger::tiles::decode_bundle(&bundle).unwrap();
    let e: Value = serde_json::from_slice(entries[index as usize]).unwrap();
    assert_eq!(e["type"], "notified");
    assert_eq!(e["decision_index"], logged_at);
    let text = String::from_utf8_lossy(&bundle).to_lowercase();
    assert!(!text.contains("r. roe") && !text.contains("first-class mail"), "only keyed hashes are public");
}

#[test]
fn notify_subject_queues_a_durable_notice_for_the_owner() {
    let dir = tempfile::tempdir().unwrap();
    {
        let hub = TestHub::start(dir.path());
        notice_owed_listed_and_sent(&hub);
    }
    // The outbox survives a restart (and a sent notice stays sent).
    let text = std::fs::read_to_string(dir.path().join(hub::duties::NOTIFICATIONS_FILE)).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    let hub = TestHub::start(dir.path());
    let sup = hub.token("ny-dmv", "records-sup", "supervisor");
    assert!(hub.get("/v1/notifications", Some(&sup)).json()["notifications"].as_array().unwrap().is_empty());
    let hsi = hub.token("ice-hsi", "hsi-sa", "special_agent");
    assert_eq!(hub.post("/v1/requests", Some(&hsi), &ny_request().to_string()).status, 200);
    assert_eq!(hub.get("/v1/notifications", Some(&sup)).json()["notifications"].as_array().unwrap().len(), 1);
}

#[test]
fn notify_subject_outbox_in_postgres() {
    let schema = Schema::new("notices");
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_pg(dir.path(), &schema.store("fg_notices"));
    notice_owed_listed_and_sent(&hub);
}

fn co_request(certifications: &[&str]) -> String {
    json!({
        "requester": {"id": "det-ramos", "agency": "oc-sheriff", "role": "detective"},
        "source": "co-dmv-photos", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "Armed robbery 2024-118: suspect moved to Denver", "case_number": "OCSD-2024-118",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "name", "value": "J. Doe"},
        "certifications": certifications
    })
    .to_string()
}

#[test]
fn certify_requires_the_certification_in_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let det = hub.token("oc-sheriff", "det-ramos", "detective");
    // C.R.S. 24-74-105: an out-of-state agency's access needs its no-immigration-use certification.
    let without = hub.post("/v1/requests", Some(&det), &co_request(&[])).json();
    assert_eq!(without["decision"], "deny", "{without:#}");
    assert_eq!(without["missing_certifications"], json!(["no_immigration_use"]));
    assert!(without.get("data").is_none());
    assert!(without["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["citation"] == "obligation certify:no_immigration_use"));
    let with = hub.post("/v1/requests", Some(&det), &co_request(&["no_immigration_use"])).json();
    assert_eq!(with["decision"], "permit", "{with:#}");
    assert!(with["obligations"].as_array().unwrap().iter().any(|o| o == "certify:no_immigration_use"));
    assert!(!with["data"].as_array().unwrap().is_empty());
    // Both are in the ledger, with the certifications given.
    hub.wait_checkpoint(2);
    let bundle = hub.get_bytes("/ledger/tile/entries/000.p/2").1;
    let entries: Vec<Value> =
        ledger::tiles::decode_bundle(&bundle).unwrap().iter().map(|e| serde_json::from_slice(e).unwrap()).collect();
    assert_eq!(entries[0]["decision"], "deny");
    assert_eq!(entries[0]["certifications"], json!([]));
    assert_eq!(entries[1]["decision"], "permit");
    assert_eq!(entries[1]["certifications"], json!(["no_immigration_use"]));
}

#[test]
fn report_obligations_are_counted_from_the_published_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let ero = hub.token("ice-ero", "ero-officer", "deportation_officer");
    let ice_calgang = json!({
        "requester": {"id": "ero-officer", "agency": "ice-ero", "role": "deportation_officer"},
        "source": "calgang", "action": "lookup", "purpose": "civil_immigration_enforcement",
        "justification": "removal case", "legal_basis": {"kind": "none"},
        "subject": {"kind": "name", "value": "J. Doe"}
    })
    .to_string();
    let before = hub.get("/v1/reports", None).json();
    assert!(before["bodies"].as_object().unwrap().is_empty(), "{before}");
    let mut reported = 0;
    for _ in 0..3 {
        let b = hub.post("/v1/requests", Some(&ero), &ice_calgang).json();
        assert_eq!(b["decision"], "deny", "{b:#}");
        if b["obligations"].as_array().unwrap().iter().any(|o| o == "report:ca_doj_5_working_days") {
            reported += 1;
        }
    }
    assert_eq!(reported, 3, "11 CCR 776.4(c)(1): reported to DOJ");
    // A decision without a report obligation is not counted.
    let det = hub.token("oc-sheriff", "det-1", "detective");
    let plain = json!({
        "requester": {"id": "det-1", "agency": "oc-sheriff", "role": "detective"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "robbery", "case_number": "OCSD-1", "legal_basis": {"kind": "none"},
        "subject": {"kind": "plate", "value": "7ABC123"}
    });
    assert_eq!(hub.post("/v1/requests", Some(&det), &plain.to_string()).json()["decision"], "permit");
    hub.wait_checkpoint(4);
    let mut r = hub.get("/v1/reports", None).json();
    for _ in 0..100 {
        if r["tree_size"] == 4 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        r = hub.get("/v1/reports", None).json();
    }
    assert_eq!(r["tree_size"], 4, "{r}");
    assert_eq!(r["bodies"]["ca_doj_5_working_days"], json!({"deny": 3, "total": 3}), "{r}");
    assert_eq!(r["bodies"].as_object().unwrap().len(), 1, "{r}");
}
