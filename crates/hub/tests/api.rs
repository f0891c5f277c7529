//! The hub over real HTTP: every public-record scenario, authentication, malformed bodies,
//! reviews, receipts, the public ledger and the OpenAPI document.

mod common;

use common::{race_verdicts, repo, TestHub};
use serde_json::{json, Value};

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join("laws/public-record.cases.json")).unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

fn problem(r: &common::Reply, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.content_type, "application/problem+json", "{}", r.text);
    let p = r.json();
    assert_eq!(p["status"], status);
    assert!(p["type"].as_str().unwrap().starts_with("urn:fusionguard:problem:"));
    assert!(!p["detail"].as_str().unwrap().is_empty());
    p
}

#[test]
fn every_public_record_scenario_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let mut indexes = Vec::new();
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let req = &case["request"];
        let r = &req["requester"];
        let token = hub.token(r["agency"].as_str().unwrap(), r["id"].as_str().unwrap(), r["role"].as_str().unwrap());
        let reply = hub.post("/v1/requests", Some(&token), &req.to_string());
        assert_eq!(reply.status, 200, "{name}: {}", reply.text);
        let body = reply.json();
        let expect = &case["expect"];
        assert_eq!(body["decision"], expect["decision"], "{name}: {body:#}");
        for p in expect["policies"].as_array().unwrap() {
            assert!(
                body["reasons"].as_array().unwrap().iter().any(|r| &r["policy"] == p),
                "{name}: no reason {p}: {body:#}"
            );
        }
        if let Some(obligations) = expect.get("obligations") {
            assert_eq!(&body["obligations"], obligations, "{name}");
        }
        if expect["decision"] == "permit" {
            let data = body["data"].as_array().unwrap_or_else(|| panic!("{name}: a permit carries data: {body:#}"));
            assert!(!data.is_empty(), "{name}: the synthetic source has records about the subject");
            let subject = req["subject"]["value"].as_str().unwrap();
            assert!(data.iter().all(|rec| rec.as_object().unwrap().values().any(|v| v == subject)), "{name}");
        } else {
            assert!(body.get("data").is_none(), "{name}: a {} releases nothing", body["decision"]);
        }
        indexes.push(body["ledger"]["index"].as_u64().unwrap());
    }
    // Every decision has its own ledger entry, in order.
    assert_eq!(indexes, (0..indexes.len() as u64).collect::<Vec<_>>());

    // Once a checkpoint covers them, receipts carry inclusion proofs that check against it.
    hub.wait_checkpoint(indexes.len() as u64);
    let verifier = ledger::note::NoteVerifier::parse(&hub.vkey).unwrap();
    let fetcher = ledger::tiles::HttpFetcher::new(&format!("{}/ledger", hub.url));
    let log = ledger::tiles::verify_log(&fetcher, &verifier).unwrap();
    assert!(log.checkpoint.size >= indexes.len() as u64);
    let entries = ledger::tiles::decode_bundle(&hub.get_bytes("/ledger/tile/entries/000.p/12").1).unwrap().len();
    assert_eq!(entries, 12);
    for &i in &indexes {
        // The checkpoint file is public a moment before the hub's own view of it is updated.
        let mut receipt = hub.get(&format!("/v1/ledger/proof/{i}"), None).json();
        for _ in 0..100 {
            if receipt.get("inclusion_proof").is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            receipt = hub.get(&format!("/v1/ledger/proof/{i}"), None).json();
        }
        let proof: Vec<[u8; 32]> = receipt["inclusion_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(h.as_str().unwrap()).unwrap().try_into().unwrap()
            })
            .collect();
        let size = receipt["tree_size"].as_u64().unwrap();
        let bundle = hub.get_bytes(&format!("/ledger/tile/entries/000.p/{size}")).1;
        let entry = ledger::tiles::decode_bundle(&bundle).unwrap()[i as usize].to_vec();
        let root = log.root_at(size).unwrap();
        ledger::merkle::verify_inclusion(&ledger::merkle::leaf_hash(&entry), i, size, &proof, &root).unwrap();
        let e: Value = serde_json::from_slice(&entry).unwrap();
        assert_eq!(e["type"], "decision");
        assert!(e["policy_digest"].as_str().unwrap().len() == 64);
    }
    // The public ledger holds no subject and no released record: only keyed hashes.
    let bundle = String::from_utf8_lossy(&hub.get_bytes("/ledger/tile/entries/000.p/12").1).into_owned();
    for secret in ["7ABC123", "J. Roe", "R. Roe", "probe-0193", "placeholder:photo"] {
        let lower = bundle.to_lowercase();
        assert!(!lower.contains(&secret.to_lowercase()), "{secret:?} must not be in the public ledger, in any case");
    }
    // The justification is hashed (its classifier signals, words of a closed vocabulary, are not).
    assert!(!bundle.contains("Immigration Question"));
}

fn request_of(agency: &str, user: &str) -> Value {
    json!({
        "requester": {"id": user, "agency": agency, "role": "detective"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "robbery follow-up", "case_number": "OCSD-1",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}
    })
}

#[test]
fn authentication_failures() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let body = request_of("oc-sheriff", "det-1").to_string();
    let p = problem(&hub.post("/v1/requests", None, &body), 401);
    assert!(p["detail"].as_str().unwrap().contains("Bearer"));
    problem(&hub.post("/v1/requests", Some("not-a-token"), &body), 401);
    let good = hub.token("oc-sheriff", "det-1", "detective");
    // A forged secret with a real token id.
    let forged = format!("{}{}", &good[..21], "A".repeat(good.len() - 21));
    problem(&hub.post("/v1/requests", Some(&forged), &body), 401);
    let (expired, _) = hub::tokens::issue(&*hub.store, "oc-sheriff", "det-1", "detective", 0).unwrap();
    let p = problem(&hub.post("/v1/requests", Some(&expired), &body), 401);
    assert!(p["detail"].as_str().unwrap().contains("expired"));
    assert_eq!(hub.post("/v1/requests", Some(&good), &body).status, 200);

    // Someone else's token: 403, and the attempt is in the ledger.
    let ice = hub.token("ice-ero", "ero-1", "deportation_officer");
    let p = problem(&hub.post("/v1/requests", Some(&ice), &body), 403);
    let index = p["ledger"]["index"].as_u64().unwrap();
    hub.wait_checkpoint(index + 1);
    let bundle = hub.get_bytes(&format!("/ledger/tile/entries/000.p/{}", index + 1)).1;
    let entry: Value = serde_json::from_slice(ledger::tiles::decode_bundle(&bundle).unwrap()[index as usize]).unwrap();
    assert_eq!(entry["type"], "refused");
    assert_eq!(entry["token"]["agency"], "ice-ero");
    assert_eq!(entry["claimed"]["agency"], "oc-sheriff");
    // Same agency, another user: also refused.
    let colleague = hub.token("oc-sheriff", "det-2", "detective");
    problem(&hub.post("/v1/requests", Some(&colleague), &body), 403);

    // Revocation takes effect in the running hub without a restart.
    let id = good.split('_').nth(1).unwrap();
    assert!(hub.store.revoke_token(id).unwrap());
    let mut status = 0;
    for _ in 0..60 {
        status = hub.post("/v1/requests", Some(&good), &body).status;
        if status == 401 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(status, 401);
    // Supervisor-only and authenticated endpoints.
    problem(&hub.get("/v1/reviews", None), 401);
    problem(&hub.get("/v1/reviews", Some(&colleague)), 403);
}

/// Sends a body over a plain socket and returns what the server answered, even if it stops
/// reading early (as it does for a body over the limit).
fn raw_post(url: &str, token: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /v1/requests HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(body.as_bytes()));
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn malformed_bodies_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let t = hub.token("oc-sheriff", "det-1", "detective");
    let good = request_of("oc-sheriff", "det-1");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        ("{\"requester\": ".into(), "(body)"),
        ("".into(), "(body)"),
        ("[1,2]".into(), "(body)"),
        (with(&|v| drop(v.as_object_mut().unwrap().remove("source"))), "source"),
        (with(&|v| v["requester"]["id"] = json!(5)), "requester.id"),
        (with(&|v| drop(v["requester"].as_object_mut().unwrap().remove("agency"))), "requester.agency"),
        (with(&|v| v["porpoise"] = json!("x")), "porpoise"),
        (with(&|v| v["purpose"] = json!("deportation")), "purpose"),
        (with(&|v| v["action"] = json!("scrape")), "action"),
        (with(&|v| v["legal_basis"]["kind"] = json!("ice_form")), "legal_basis.kind"),
        (with(&|v| v["subject"]["value"] = json!("  ")), "subject.value"),
        (with(&|v| v["on_behalf_of"] = json!([{"id": "x"}])), "on_behalf_of[0].agency"),
    ];
    for (body, field) in cases {
        let p = problem(&hub.post("/v1/requests", Some(&t), &body), 400);
        assert_eq!(p["field"], field, "{body}: {p:#}");
    }
    let p = problem(&hub.post("/v1/requests", Some(&t), "{\n  \"requester\": {\"id\": \"u1\",,}\n}"), 400);
    assert_eq!((p["line"].as_u64(), p["column"].as_u64()), (Some(2), Some(28)), "{p:#}");
    // Too large a body.
    let huge = with(&|v| v["justification"] = json!("x".repeat(200_000)));
    assert!(raw_post(&hub.url, &t, &huge).starts_with("HTTP/1.1 413"));
    // Nothing malformed reached the ledger; the server still answers.
    assert_eq!(hub.post("/v1/requests", Some(&t), &good.to_string()).json()["ledger"]["index"], 0);
}

#[test]
fn reviews_wait_for_a_supervisor_of_the_owner() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let det = hub.token("denver-pd", "det-lee", "detective");
    let req = json!({
        "requester": {"id": "det-lee", "agency": "denver-pd", "role": "detective"},
        "source": "calgang", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "Homicide 24-0311: suspect moved from Los Angeles", "case_number": "DPD-24-0311",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "name", "value": "J. Doe"}
    });
    let held = hub.post("/v1/requests", Some(&det), &req.to_string()).json();
    assert_eq!(held["decision"], "review", "{held:#}");
    assert!(held.get("data").is_none());
    let id = held["review"]["id"].as_str().unwrap().to_string();
    let mine = hub.get(&format!("/v1/requests/{id}"), Some(&det)).json();
    assert_eq!(mine["status"], "pending");
    assert!(mine.get("data").is_none());

    let other_sup = hub.token("ociac", "sup-9", "supervisor");
    let lapd_analyst = hub.token("lapd", "an-1", "analyst");
    let sup = hub.token("lapd", "sgt-ortiz", "supervisor");
    assert!(hub.get("/v1/reviews", Some(&other_sup)).json()["reviews"].as_array().unwrap().is_empty());
    let list = hub.get("/v1/reviews", Some(&sup)).json();
    assert_eq!(list["reviews"][0]["id"], id.as_str());
    let approve = json!({"decision": "approve", "reason": "homicide case confirmed with Denver"}).to_string();
    problem(&hub.post(&format!("/v1/reviews/{id}"), Some(&other_sup), &approve), 403);
    problem(&hub.post(&format!("/v1/reviews/{id}"), Some(&lapd_analyst), &approve), 403);
    problem(&hub.post(&format!("/v1/reviews/{id}"), Some(&det), &approve), 403);
    let p = problem(
        &hub.post(&format!("/v1/reviews/{id}"), Some(&sup), "{\"decision\": \"maybe\", \"reason\": \"x\"}"),
        400,
    );
    assert_eq!(p["field"], "decision");
    let p = problem(&hub.post(&format!("/v1/reviews/{id}"), Some(&sup), "{\"decision\": \"approve\"}"), 400);
    assert_eq!(p["field"], "reason");
    problem(&hub.post("/v1/reviews/nope", Some(&sup), &approve), 404);

    let done = hub.post(&format!("/v1/reviews/{id}"), Some(&sup), &approve);
    assert_eq!(done.status, 200, "{}", done.text);
    let verdict_index = done.json()["ledger"]["index"].as_u64().unwrap();
    assert!(verdict_index > held["ledger"]["index"].as_u64().unwrap());
    problem(&hub.post(&format!("/v1/reviews/{id}"), Some(&sup), &approve), 409);

    // The requester now gets the data, obligations applied; the supervisor sees no data.
    let mine = hub.get(&format!("/v1/requests/{id}"), Some(&det)).json();
    assert_eq!(mine["status"], "approved");
    // Times people read are RFC 3339 too, beside the Unix seconds.
    let at = mine["created_at"].as_str().unwrap();
    assert!(at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T', "{at}");
    assert!(mine["verdict"]["time_at"].as_str().unwrap().starts_with(&at[..4]));
    let data = mine["data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(data.iter().all(|r| r["name"] == "J. Doe"));
    assert!(hub.get(&format!("/v1/requests/{id}"), Some(&sup)).json().get("data").is_none());
    problem(&hub.get(&format!("/v1/requests/{id}"), Some(&other_sup)), 403);

    // A denied review releases nothing.
    let again = hub.post("/v1/requests", Some(&det), &req.to_string()).json();
    let id2 = again["review"]["id"].as_str().unwrap();
    let deny = json!({"decision": "deny", "reason": "no nexus to California"}).to_string();
    assert_eq!(hub.post(&format!("/v1/reviews/{id2}"), Some(&sup), &deny).status, 200);
    let mine = hub.get(&format!("/v1/requests/{id2}"), Some(&det)).json();
    assert_eq!(mine["status"], "denied");
    assert!(mine.get("data").is_none());

    // Both verdicts are in the ledger as review entries, with the reason hashed, and the
    // requester's fetch of the approved data as a release entry.
    let n = verdict_index + 4;
    hub.wait_checkpoint(n);
    let bundle = hub.get_bytes(&format!("/ledger/tile/entries/000.p/{n}")).1;
    let entries: Vec<Value> =
        ledger::tiles::decode_bundle(&bundle).unwrap().iter().map(|e| serde_json::from_slice(e).unwrap()).collect();
    let verdicts: Vec<&Value> = entries.iter().filter(|e| e["type"] == "review").collect();
    assert_eq!(verdicts.len(), 2);
    assert_eq!(verdicts[0]["verdict"], "approve");
    assert_eq!(verdicts[1]["verdict"], "deny");
    assert_eq!(entries.iter().filter(|e| e["type"] == "release").count(), 1);
    assert!(!String::from_utf8_lossy(&bundle).contains("nexus"));
}

#[test]
fn two_supervisors_at_once_log_one_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let verdicts = race_verdicts(&[&hub], 12);
    assert_eq!(verdicts.len(), 12, "one verdict per review in the ledger: {verdicts:#?}");
}

#[test]
fn obligations_remove_fields() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let t = hub.token("oc-sheriff", "det-1", "detective");
    let mut req = request_of("oc-sheriff", "det-1");
    req["fields"] = json!(["plate", "read_time"]);
    let body = hub.post("/v1/requests", Some(&t), &req.to_string()).json();
    assert_eq!(body["decision"], "permit");
    for r in body["data"].as_array().unwrap() {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 2, "{r}");
    }
}

#[test]
fn openapi_health_metrics_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let doc = hub.get("/openapi.json", None).json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in ["/v1/requests", "/v1/reviews", "/v1/reviews/{id}", "/ledger/checkpoint", "/healthz", "/metrics"] {
        assert!(paths.contains_key(p), "{p}");
    }
    // Every documented GET without parameters answers.
    for (path, ops) in paths {
        if ops.get("get").is_some() && !path.contains('{') {
            let s = hub.get(path, None).status;
            assert!(s == 200 || s == 401, "{path}: {s}");
        }
    }
    assert_eq!(hub.get("/healthz", None).json()["status"], "ok");
    assert_eq!(hub.get("/v1/ledger/key", None).text.trim(), hub.vkey);
    problem(&hub.get("/nowhere", None), 404);
    problem(&hub.get("/v1/ledger/proof/99", None), 404);
    problem(&hub.get("/v1/ledger/proof/x", None), 400);
    problem(&hub.get("/ledger/tile/../../signing.key", None), 404);
    let t = hub.token("ice-ero", "ero-officer", "deportation_officer");
    let deny = cases()[0]["request"].to_string();
    assert_eq!(hub.post("/v1/requests", Some(&t), &deny).json()["decision"], "deny");
    let m = hub.get("/metrics", None).text;
    assert!(m.contains("fusionguard_decisions_total{outcome=\"deny\"} 1"), "{m}");
    assert!(m.contains("fusionguard_ledger_size 1"), "{m}");
    assert!(m.contains("fusionguard_http_request_duration_seconds_bucket{route=\"requests\""), "{m}");
}

#[test]
fn a_source_is_looked_up_only_by_the_kinds_its_fields_allow() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let token = hub.token("oc-sheriff", "det-1", "detective");
    let mut request: Value = serde_json::from_str(&common::alpr("7ABC123")).unwrap();
    request["subject"] = json!({"kind": "license_number", "value": "D1234567"});
    let r = hub.post("/v1/requests", Some(&token), &request.to_string());
    let p = problem(&r, 400);
    assert_eq!(p["field"], "subject.kind");
    assert_eq!(p["accepted_kinds"], json!(["plate"]), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("\"ociac-alpr\" is looked up by plate"), "{p}");
    // A kind outside the vocabulary is refused by name too.
    request["subject"] = json!({"kind": "ssn", "value": "1"});
    assert_eq!(problem(&hub.post("/v1/requests", Some(&token), &request.to_string()), 400)["field"], "subject.kind");
    // Nothing of it was logged; the OpenAPI document lists each source's kinds.
    assert_eq!(hub.ledger_size(), 0);
    let doc = hub.get("/openapi.json", None).json();
    assert_eq!(doc["x-subject-kinds"]["ociac-alpr"], json!(["plate"]));
    assert_eq!(doc["x-subject-kinds"]["ca-dmv-photos"], json!(["name", "license_number", "face_image"]));
    assert_eq!(doc["x-subject-kinds"]["ca-dmv-records"], json!(["name", "plate", "license_number"]));
}
