//! The holes of issue 11, each attacked over real HTTP on loopback with a valid token: one subject
//! one hash, nothing personal in the public ledger in clear, every release logged, separation of
//! duties, the notice naming who really asked, rate limits and quotas, slow clients, private files,
//! and answers without paths.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{alpr, calgang_request, repo, TestHub};
use serde_json::{json, Value};

/// The seed world's deployment with `limits` (TOML lines) as its `[limits]` table, in `dir`.
fn deployment_with(dir: &Path, limits: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("examples/seed-world/deployment.toml")).unwrap();
    let path = dir.join("deployment.toml");
    std::fs::write(&path, format!("{text}\n[limits]\n{limits}\n")).unwrap();
    path
}

/// The decoded entries of the hub's published ledger, once a checkpoint covers its size.
fn entries(hub: &TestHub) -> Vec<Value> {
    let (_, raw) = hub.verified_entries(hub.ledger_size());
    raw.iter().map(|e| serde_json::from_slice(e).unwrap()).collect()
}

#[test]
fn one_subject_one_hash_so_the_side_door_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let ice = hub.token("ice-ero", "ero-officer", "deportation_officer");
    let local = hub.token("oc-sheriff", "det-1", "detective");
    let ice_request = json!({
        "requester": {"id": "ero-officer", "agency": "ice-ero", "role": "deportation_officer"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "civil_immigration_enforcement",
        "justification": "please run [CA plate]", "legal_basis": {"kind": "none"},
        "subject": {"kind": "plate", "value": "7ABC123"}
    });
    let denied = hub.post("/v1/requests", Some(&ice), &ice_request.to_string()).json();
    assert_eq!(denied["decision"], "deny", "{denied}");
    // The same plate, written another way, by a local officer: the same records...
    let plain = hub.post("/v1/requests", Some(&local), &alpr("7ABC123")).json();
    for variant in [" 7abc123 ", "7abc-123", "７ＡＢＣ１２３", "7 ABC 123"] {
        let r = hub.post("/v1/requests", Some(&local), &alpr(variant)).json();
        assert_eq!(r["decision"], "permit", "{r}");
        assert_eq!(r["data"], plain["data"], "{variant:?} finds the same records");
    }
    assert!(!plain["data"].as_array().unwrap().is_empty());
    // ...and one keyed hash in the ledger, so the side-door detector sees the same subject.
    let hashes: std::collections::BTreeSet<String> = entries(&hub)
        .iter()
        .filter(|e| e["type"] == "decision")
        .map(|e| e["subject"]["hmac"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(hashes.len(), 1, "{hashes:?}");
    let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
    let mut findings = Vec::new();
    oversight::side_door::audit_data_dir(dir.path(), &deployment, Default::default(), &mut |f| findings.push(f))
        .unwrap();
    let side_doors = findings.iter().filter(|f| f.rule == "ledger.local_after_denied").count();
    assert_eq!(side_doors, 5, "every local query after the denial is flagged: {findings:?}");
}

#[test]
fn nothing_personal_reaches_the_public_ledger_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let det = hub.token("oc-sheriff", "det-1", "detective");
    let secrets = [
        "Warrant naming Jane Q. Public",
        "Judge Judith Sample",
        "agent-maria-perez",
        "agency-of-nowhere",
        "secret-source-x",
        "home_of_jane",
        "claimed-john-roe",
    ];
    let request = json!({
        "requester": {"id": "det-1", "agency": "oc-sheriff", "role": "detective"},
        "on_behalf_of": [{"id": secrets[2], "agency": "oc-sheriff"}, {"id": "x", "agency": secrets[3]}],
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "robbery", "case_number": "C-1",
        "legal_basis": {"kind": "judicial_warrant", "reference": secrets[0], "issued_by": secrets[1]},
        "subject": {"kind": "plate", "value": "7ABC123"}, "fields": ["plate", secrets[5]]
    });
    let r = hub.post("/v1/requests", Some(&det), &request.to_string());
    assert_eq!(r.status, 200, "{}", r.text);
    let mut unknown_source = request.clone();
    unknown_source["source"] = json!(secrets[4]);
    unknown_source["on_behalf_of"] = json!([]);
    // An unknown source is bad input (400, as `fusionguard decide` says), and the attempt is logged.
    let r = hub.post("/v1/requests", Some(&det), &unknown_source.to_string());
    assert_eq!(r.status, 400, "{}", r.text);
    let p = r.json();
    assert_eq!((&p["field"], p["ledger"]["index"].as_u64()), (&json!("source"), Some(1)), "{p}");
    // A refused attempt: the token claims to be someone else.
    let mut claim = request.clone();
    claim["requester"] = json!({"id": secrets[6], "agency": secrets[3]});
    assert_eq!(hub.post("/v1/requests", Some(&det), &claim.to_string()).status, 403);
    // A certification the laws do not declare is bad input, never logged.
    let mut cert = request.clone();
    cert["certifications"] = json!(["my name is Jane"]);
    let p = hub.post("/v1/requests", Some(&det), &cert.to_string()).json();
    assert_eq!(p["field"], "certifications[0]", "{p}");

    let all = entries(&hub);
    assert_eq!(all.len(), 3);
    let text = serde_json::to_string(&all).unwrap();
    for s in secrets {
        assert!(!text.contains(s), "{s:?} is in the public ledger: {text}");
    }
    let decision = &all[0];
    assert!(decision["legal_basis"]["reference"].as_str().unwrap().starts_with("hmac:"), "{decision}");
    assert_eq!(decision["on_behalf_of"][0]["agency"], "oc-sheriff", "a known agency stays readable");
    assert!(decision["on_behalf_of"][1]["agency"].as_str().unwrap().starts_with("hmac:"));
    assert_eq!(decision["fields"][0], "plate");
    assert!(all[1]["source"].as_str().unwrap().starts_with("hmac:"));
    assert_eq!(
        (&all[1]["decision"], &all[1]["citations"][0]["policy"]),
        (&json!("deny"), &json!("fusionguard:unknown-source"))
    );
    assert_eq!(all[2]["type"], "refused");
    assert_eq!(all[2]["why"], hub::entry::REFUSED_NOT_REQUESTER);
}

#[test]
fn every_release_is_logged_and_approvals_expire() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let deployment = deployment_with(cfg.path(), "approval_hours = 0.001"); // 3.6 seconds
    let hub = TestHub::start_custom(dir.path(), |o| o.deployment = deployment);
    let det = hub.token("denver-pd", "det-lee", "detective");
    let sup = hub.token("lapd", "sgt-ortiz", "supervisor");
    let held = hub.post("/v1/requests", Some(&det), &calgang_request()).json();
    let id = held["review"]["id"].as_str().unwrap().to_string();
    let url = format!("/v1/requests/{id}");
    let approved = hub.post(&format!("/v1/reviews/{id}"), Some(&sup), r#"{"decision":"approve","reason":"ok"}"#);
    assert_eq!(approved.status, 200, "{}", approved.text);
    let before = hub.ledger_size();
    // Each fetch is a `release` entry, logged before the data leaves.
    for n in 1..=2 {
        let r = hub.get(&url, Some(&det));
        assert_eq!(r.status, 200, "{}", r.text);
        let body = r.json();
        assert!(body["data"].is_array(), "{body}");
        assert_eq!(body["ledger"]["index"].as_u64(), Some(before + n - 1));
    }
    // The supervisor sees the review, never the data, and that is no release.
    assert!(hub.get(&url, Some(&sup)).json()["data"].is_null());
    assert_eq!(hub.ledger_size(), before + 2);
    let releases: Vec<Value> = entries(&hub).into_iter().filter(|e| e["type"] == "release").collect();
    assert_eq!(releases.len(), 2);
    assert_eq!(releases[0]["decision_id"], id.as_str());
    assert_eq!(releases[0]["requester"]["agency"], "denver-pd");
    // Past its time the approval releases nothing, and logs nothing.
    // (Times are whole seconds: 4 s after a verdict stamped up to 1 s early, plus a margin.)
    std::thread::sleep(Duration::from_millis(5200));
    let r = hub.get(&url, Some(&det));
    assert_eq!(r.status, 410, "{}", r.text);
    assert_eq!(r.json()["type"], "urn:fusionguard:problem:approval-expired");
    assert_eq!(hub.ledger_size(), before + 2);
    // Once it has left memory (within a second), the answer is the same.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(hub.get(&url, Some(&det)).status, 410);
}

#[test]
fn nobody_decides_a_request_they_asked_or_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    // An LAPD supervisor forwards a Denver detective's CalGang query (held: Denver is out of state).
    let ortiz = hub.token("lapd", "sgt-ortiz", "supervisor");
    let kim = hub.token("lapd", "lt-kim", "supervisor");
    let mut forwarded: Value = serde_json::from_str(&calgang_request()).unwrap();
    forwarded["requester"] = json!({"id": "sgt-ortiz", "agency": "lapd", "role": "supervisor"});
    forwarded["on_behalf_of"] = json!([{"id": "det-lee", "agency": "denver-pd"}]);
    let held = hub.post("/v1/requests", Some(&ortiz), &forwarded.to_string()).json();
    assert_eq!(held["decision"], "review", "{held}");
    let id = held["review"]["id"].as_str().unwrap();
    let own = hub.post(&format!("/v1/reviews/{id}"), Some(&ortiz), r#"{"decision":"approve","reason":"mine"}"#);
    assert_eq!(own.status, 403, "{}", own.text);
    assert!(own.json()["detail"].as_str().unwrap().contains("may not decide it"));
    // Someone in the chain cannot either (here a Denver user who is also an LAPD supervisor id).
    let mut chained = forwarded.clone();
    chained["on_behalf_of"] = json!([{"id": "det-lee", "agency": "denver-pd"}, {"id": "lt-kim", "agency": "lapd"}]);
    let held2 = hub.post("/v1/requests", Some(&ortiz), &chained.to_string()).json();
    let id2 = held2["review"]["id"].as_str().unwrap();
    assert_eq!(hub.post(&format!("/v1/reviews/{id2}"), Some(&kim), r#"{"decision":"deny","reason":"x"}"#).status, 403);
    // Another supervisor decides; the requester then gets the data.
    let ok = hub.post(&format!("/v1/reviews/{id}"), Some(&kim), r#"{"decision":"approve","reason":"checked"}"#);
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(hub.get(&format!("/v1/requests/{id}"), Some(&ortiz)).json()["data"].is_array());
}

#[test]
fn the_notice_names_everyone_who_asked_originator_first() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let nypd = hub.token("nypd", "det-ny", "detective");
    let request = json!({
        "requester": {"id": "det-ny", "agency": "nypd", "role": "detective"},
        "on_behalf_of": [{"id": "sa-1", "agency": "ice-hsi"}],
        "source": "ny-dmv-records", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "child exploitation investigation", "case_number": "HSI-NY-25-310",
        "legal_basis": {"kind": "federal_judicial_warrant", "reference": "25-MJ-0412", "issued_by": "S.D.N.Y."},
        "subject": {"kind": "name", "value": "R. Roe"}
    });
    let r = hub.post("/v1/requests", Some(&nypd), &request.to_string()).json();
    let asked = &r["notification"]["asked_by"];
    assert_eq!(asked, &json!([{"id": "sa-1", "agency": "ice-hsi"}, {"id": "det-ny", "agency": "nypd"}]), "{r}");
    let sup = hub.token("ny-dmv", "sup-1", "supervisor");
    let list = hub.get("/v1/notifications", Some(&sup)).json();
    assert_eq!(list["notifications"][0]["asked_by"][0]["agency"], "ice-hsi", "{list}");
}

#[test]
fn one_token_cannot_fill_the_ledger_or_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let deployment = deployment_with(cfg.path(), "token_per_second = 2\ntoken_burst = 5\ntoken_held_reviews = 2");
    let hub = TestHub::start_custom(dir.path(), |o| o.deployment = deployment.clone());
    let ice = hub.token("ice-ero", "ero-officer", "deportation_officer");
    let body = json!({
        "requester": {"id": "ero-officer", "agency": "ice-ero"}, "source": "ociac-alpr", "action": "lookup",
        "purpose": "other", "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "1"}
    })
    .to_string();
    let mut statuses = Vec::new();
    let start = Instant::now();
    for _ in 0..12 {
        let r = hub.post("/v1/requests", Some(&ice), &body);
        if r.status == 429 {
            let p = r.json();
            assert_eq!(p["type"], "urn:fusionguard:problem:rate-limited");
            assert!(p["retry_after"].as_u64().unwrap() >= 1);
        }
        statuses.push(r.status);
    }
    let logged = statuses.iter().filter(|s| **s == 200).count();
    // The burst, and what the rate refilled meanwhile (2 a second), and no more.
    let refilled = (start.elapsed().as_secs_f64() * 2.0).ceil() as usize;
    assert!(logged >= 5 && logged <= 5 + refilled && logged < 12, "{statuses:?} in {:?}", start.elapsed());
    assert_eq!(hub.ledger_size(), logged as u64, "refused requests cost the ledger nothing");
    // Retry-After is a header too.
    let raw = raw_exchange(&hub, &format!(
        "POST /v1/requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ice}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(raw.starts_with("HTTP/1.1 429") && raw.to_ascii_lowercase().contains("retry-after: "), "{raw}");

    // Held reviews outstanding: two, then 429 until a verdict.
    let det = hub.token("denver-pd", "det-lee", "detective");
    let ids: Vec<String> = (0..2)
        .map(|_| {
            hub.post("/v1/requests", Some(&det), &calgang_request()).json()["review"]["id"].as_str().unwrap().into()
        })
        .collect();
    let third = hub.post("/v1/requests", Some(&det), &calgang_request());
    assert_eq!(third.status, 429, "{}", third.text);
    assert!(third.json()["detail"].as_str().unwrap().contains("waiting for review"));
    let sup = hub.token("lapd", "sgt-ortiz", "supervisor");
    let denied = hub.post(&format!("/v1/reviews/{}", ids[0]), Some(&sup), r#"{"decision":"deny","reason":"no"}"#);
    assert_eq!(denied.status, 200, "{}", denied.text);
    assert_eq!(hub.post("/v1/requests", Some(&det), &calgang_request()).json()["decision"], "review");
    // A denied review left memory but is still decided: a second verdict is a conflict.
    assert_eq!(
        hub.post(&format!("/v1/reviews/{}", ids[0]), Some(&sup), r#"{"decision":"approve","reason":"x"}"#).status,
        409
    );
    assert_eq!(hub.get(&format!("/v1/requests/{}", ids[0]), Some(&det)).json()["status"], "denied");

    // A body over the limit is a 413 problem detail, like every other error.
    let big = hub.post("/v1/requests", Some(&other_token(&hub)), &"x".repeat(hub::api::MAX_BODY + 1));
    assert_eq!((big.status, big.content_type.as_str()), (413, "application/problem+json"), "{}", big.text);
    assert_eq!(big.json()["type"], "urn:fusionguard:problem:body-too-large");

    // Every free-text field has a cap; over it, a 400 naming the field.
    let mut long: Value = serde_json::from_str(&body).unwrap();
    long["justification"] = json!("x".repeat(hub::limits::MAX_JUSTIFICATION + 1));
    let other = hub.token("ice-ero", "ero-2", "analyst");
    long["requester"]["id"] = json!("ero-2");
    let p = hub.post("/v1/requests", Some(&other), &long.to_string()).json();
    assert_eq!(p["field"], "justification", "{p}");
    drop(hub);

    // With the limits off (benchmarks only), nothing is refused.
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_custom(dir.path(), |o| {
        o.deployment = deployment;
        o.limits = false;
    });
    let ice = hub.token("ice-ero", "ero-officer", "deportation_officer");
    assert!((0..12).all(|_| hub.post("/v1/requests", Some(&ice), &body).status == 200));
}

/// Sends `request` on a new connection and reads the answer until the server closes.
fn raw_exchange(hub: &TestHub, request: &str) -> String {
    let mut s = TcpStream::connect(hub.url.strip_prefix("http://").unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn slow_clients_cannot_lock_everyone_out() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_custom(dir.path(), |o| {
        o.connections.max = 300;
        o.connections.header_timeout = Duration::from_secs(1);
    });
    let addr = hub.url.strip_prefix("http://").unwrap().to_string();
    let healthz = || {
        let start = Instant::now();
        let mut s = TcpStream::connect(&addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).ok()?;
        String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200").then(|| start.elapsed())
    };
    // 1,100 half-sent requests: over the cap, the extra ones are closed at once.
    let mut slow: Vec<TcpStream> = (0..1100)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
            s
        })
        .collect();
    // The header timeout frees the slots: /healthz answers again within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        if healthz().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "/healthz never answered while slow clients held connections");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Every half-sent connection has been closed by the hub.
    std::thread::sleep(Duration::from_millis(1500));
    for s in slow.iter_mut().step_by(50) {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 512];
        let closed = match s.read(&mut buf) {
            Ok(0) => true,
            Ok(n) => String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408") || s.read(&mut buf).is_ok(),
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(closed, "a half-sent request was kept open");
    }
    assert!(healthz().is_some());
}

#[test]
fn private_files_are_private_and_answers_carry_no_paths() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hub = TestHub::start(&data);
    let det = hub.token("denver-pd", "det-lee", "detective");
    hub.post("/v1/requests", Some(&det), &calgang_request());
    let nypd = hub.token("nypd", "det-ny", "detective");
    let ny = json!({
        "requester": {"id": "det-ny", "agency": "nypd"}, "source": "ny-dmv-records", "action": "lookup",
        "purpose": "criminal_investigation", "justification": "fraud", "legal_basis": {"kind": "none"},
        "subject": {"kind": "name", "value": "R. Roe"}
    });
    hub.post("/v1/requests", Some(&nypd), &ny.to_string());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for f in ["reviews.jsonl", "notifications.jsonl", "sources/embedded.sqlite", "tokens.json", "subject.key"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    // No absolute path in what clients see.
    let root = dir.path().to_str().unwrap();
    assert!(!hub.get("/healthz", None).text.contains(root));
    // Unauthenticated /metrics holds no count that could be matched against single queries.
    assert!(!hub.get("/metrics", None).text.contains("records_released"));
}

#[test]
fn unknown_token_ids_cost_postgres_one_lookup_not_one_per_request() {
    let schema = common::Schema::new("unknown_tokens");
    let pg = std::sync::Arc::new(hub::pgstate::PgState::connect(&schema.store("unknown-tokens")).unwrap());
    let store = hub::tokens::TokenStore::open(pg.clone()).unwrap();
    let bogus = "fgt_0123456789abcdef_bogus";
    assert!(store.should_fetch(bogus), "an id never seen is looked up");
    store.fetch(bogus).unwrap();
    assert!(!store.should_fetch(bogus), "an id PostgreSQL does not know is not looked up again at once");
    // A token issued on another replica is still found: its id was never refused.
    let (token, _) = hub::tokens::issue(&*pg, "lapd", "sgt-ortiz", "supervisor", 3600).unwrap();
    assert!(store.should_fetch(&token));
    store.fetch(&token).unwrap();
    assert!(store.verify(&token).is_ok());
}

/// A fresh token whose buckets are full.
fn other_token(hub: &TestHub) -> String {
    hub.token("ice-hsi", "hsi-big", "special_agent")
}
