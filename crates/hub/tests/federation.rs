//! A federation of three hubs (California, Colorado, Texas deployments of the seed world) on
//! loopback, over real HTTPS with mutual TLS, each with its own ledger: a Texas request forwarded
//! by Colorado for an ICE originator is denied by California; a lawful Colorado request passes with
//! receipts that each verify; a tampered envelope, a replayed one, a chain with a link removed, an
//! unknown peer, an expired envelope, and a peer that dies mid-request each give a clear error,
//! release nothing, and leave their evidence in the ledger; a hub that rolls back its ledger is
//! caught by its peers' witnesses.

mod fedkit;

use std::net::TcpListener as StdListener;
use std::time::Duration;

use fedkit::{agent_text, copy_dir, get, now, origin, post, rand_u128, Fed};
use hub::federation::{digest, hop_body, link_of, Envelope, Hop, Receipt, ENVELOPE_VERSION, REQUESTS_PATH};
use ledger::note::NoteVerifier;
use model::entry::Entry;
use model::Outcome;
use serde_json::{json, Value};

const HUBS: [&str; 3] = ["ca", "co", "tx"];

/// The agencies each hub serves, and the sources it owns.
fn members(name: &str) -> (&'static str, &'static str) {
    match name {
        "ca" => (
            r#"["ociac", "ncric", "oc-sheriff", "lapd", "ca-dmv", "ca-doj", "lausd", "lapd-oig"]"#,
            r#"["ociac-alpr", "ca-dmv-records", "ca-dmv-photos", "calgang", "ca-doj-clets", "lapd-rms", "lausd-incidents"]"#,
        ),
        "co" => (r#"["ciac", "co-dmv", "denver-pd"]"#, r#"["co-dmv-records", "co-dmv-photos", "denver-rms"]"#),
        _ => (r#"["tx-dps", "ice-ero", "ice-hsi", "cbp", "fbi"]"#, "[]"),
    }
}

/// Hub `i`'s deployment: its state's law and members; Texas reaches California's sources
/// through Colorado.
fn config(fed: &Fed, i: usize) -> String {
    let name = HUBS[i];
    let law = match name {
        "ca" => "US-CA",
        "co" => "US-CO",
        _ => "US-TX",
    };
    let mut text = fed.federation_table(i, law, members(name).0);
    let ca_and_co = r#"["ociac-alpr", "ca-dmv-records", "ca-dmv-photos", "calgang", "ca-doj-clets", "lapd-rms", "lausd-incidents", "co-dmv-records", "co-dmv-photos", "denver-rms"]"#;
    for (j, peer) in HUBS.iter().enumerate() {
        if j == i {
            continue;
        }
        let sources = match (name, *peer) {
            ("tx", "co") => ca_and_co,
            ("tx", _) => "[]",
            _ => members(peer).1,
        };
        text.push_str(&fed.peer_table(j, members(peer).0, sources));
    }
    text
}

fn request(requester: (&str, &str), chain: &[(&str, &str)], purpose: &str, justification: &str, basis: &str) -> Value {
    on_source("ca-dmv-records", ("name", "Jordan Doe"), requester, chain, purpose, justification, basis)
}

/// A lawful request for a California DMV record: a robbery investigation under a judicial warrant.
fn robbery(requester: (&str, &str)) -> Value {
    request(
        requester,
        &[],
        "criminal_investigation",
        "armed robbery investigation, suspect vehicle registration",
        "judicial_warrant",
    )
}

fn on_source(
    source: &str,
    subject: (&str, &str),
    requester: (&str, &str),
    chain: &[(&str, &str)],
    purpose: &str,
    justification: &str,
    basis: &str,
) -> Value {
    json!({
        "requester": {"id": requester.1, "agency": requester.0, "role": "analyst"},
        "on_behalf_of": chain.iter().map(|(a, id)| json!({"id": id, "agency": a})).collect::<Vec<_>>(),
        "source": source,
        "action": "lookup",
        "purpose": purpose,
        "justification": justification,
        "case_number": "CR-2026-0042",
        "legal_basis": {"kind": basis, "reference": "W-1", "issued_by": "Denver District Court"},
        "subject": {"kind": subject.0, "value": subject.1}
    })
}

/// Checks every receipt against its hub's key; returns their (origin, entry kind).
fn verify_receipts(fed: &Fed, receipts: &Value) -> Vec<(String, &'static str)> {
    let receipts: Vec<Receipt> = serde_json::from_value(receipts.clone()).unwrap();
    receipts
        .iter()
        .map(|r| {
            let entry = r.verify(&fed.verifier(&r.origin)).unwrap_or_else(|e| panic!("receipt of {}: {e}", r.origin));
            (r.origin.clone(), entry.kind())
        })
        .collect()
}

/// An envelope as hub `signers[k]` would send it, hop by hop.
fn envelope(fed: &Fed, request: &Value, signers: &[usize], issued: u64) -> Envelope {
    let mut e = Envelope {
        v: ENVELOPE_VERSION,
        request: request.to_string(),
        nonce: format!("{:032x}", rand_u128()),
        issued,
        expires: issued + 120,
        hops: Vec::new(),
    };
    let d = digest(&e);
    for (n, &i) in signers.iter().enumerate() {
        let mut hop = Hop {
            hub: origin(HUBS[i]),
            prev: e.hops.last().map_or_else(|| "-".to_string(), link_of),
            decision_id: format!("test-{n}"),
            index: 1000 + n as u64,
            leaf: "00".repeat(32),
            decision: Outcome::Permit,
            signature: String::new(),
        };
        let note = ledger::note::sign_note(&hop_body(&d, &hop), &[&fed.signer(i)], 0);
        hop.signature = note.lines().rev().find(|l| !l.is_empty()).unwrap().to_string();
        e.hops.push(hop);
    }
    e
}

#[test]
fn a_federation_of_three_hubs() {
    let mut fed = Fed::start(&HUBS, Duration::from_millis(100), config);
    let user = fed.agent(None);
    let (ca, co, tx) = (0, 1, 2);

    // An ICE request for California plate reads, made through a Texas agency and relayed by the
    // Colorado hub: Texas's side and Colorado's let it pass, California's law denies it.
    let t = fed.token(tx, "tx-dps", "trooper-7", "analyst");
    let ice = on_source(
        "ociac-alpr",
        ("plate", "7ABC123"),
        ("tx-dps", "trooper-7"),
        &[("ice-hsi", "hsi-agent-3")],
        "criminal_investigation",
        "narcotics trafficking investigation, vehicle sightings",
        "judicial_warrant",
    );
    let (status, body) =
        post(&user, &format!("{}/v1/requests", fed.hubs[tx].url), Some(&t), ice.to_string().as_bytes());
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["decision"], "deny", "{body:#}");
    assert!(body["federation"]["receipts"].is_array(), "California decided, not Texas: {body:#}");
    assert!(body.get("data").is_none_or(|d| d.as_array().is_some_and(|a| a.is_empty())), "{body:#}");
    let kinds = verify_receipts(&fed, &body["federation"]["receipts"]);
    let hubs_seen: Vec<&str> = kinds.iter().map(|(o, _)| o.as_str()).collect();
    assert!(kinds.contains(&(origin("ca"), "inbound")), "{kinds:?}");
    assert!(kinds.contains(&(origin("co"), "inbound")) && kinds.contains(&(origin("co"), "outbound")), "{kinds:?}");
    assert_eq!(kinds.first(), Some(&(origin("tx"), "outbound")), "{hubs_seen:?}");
    assert_eq!(kinds.last(), Some(&(origin("tx"), "peer_receipt")), "{hubs_seen:?}");
    // California's inbound entry names the whole chain: ICE first, and both hubs it crossed.
    let ca_entries = fed.entries_until(ca, "the inbound request", |e| e.iter().any(|e| matches!(e, Entry::Inbound(_))));
    let inbound = ca_entries.iter().find_map(|e| match e {
        Entry::Inbound(d) => Some(d),
        _ => None,
    });
    let inbound = inbound.expect("California logged the inbound request");
    assert_eq!(inbound.decision, Outcome::Deny);
    assert_eq!(inbound.on_behalf_of[0].agency, "ice-hsi");
    assert_eq!(inbound.federation.as_ref().unwrap().hops, vec![origin("tx"), origin("co")]);

    // A lawful Colorado request for a California record passes, with receipts that verify.
    let t = fed.token(co, "denver-pd", "det-2", "analyst");
    let lawful = robbery(("denver-pd", "det-2"));
    let (status, body) =
        post(&user, &format!("{}/v1/requests", fed.hubs[co].url), Some(&t), lawful.to_string().as_bytes());
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["decision"], "permit", "{body:#}");
    assert!(body["data"].is_array(), "{body:#}");
    let kinds = verify_receipts(&fed, &body["federation"]["receipts"]);
    assert_eq!(
        kinds,
        vec![(origin("co"), "outbound"), (origin("ca"), "inbound"), (origin("co"), "peer_receipt")],
        "three receipts, each verified"
    );

    // Every hub witnesses the others: California's checkpoint carries Colorado's and Texas's
    // cosignatures. A copy of California's ledger as it stands is kept for later.
    fed.cosigned_checkpoint(ca);
    let snapshot = fed.root.join("ca-ledger-snapshot");
    fed.restart(ca, |data| copy_dir(&data.join("ledger"), &snapshot));

    // Envelopes a peer makes by hand, signed with Colorado's ledger key, over Colorado's certificate.
    let as_co = fed.agent(Some(&fed.root.join("co/tls")));
    let url = format!("{}{REQUESTS_PATH}", fed.hubs[ca].url);
    let good = envelope(&fed, &lawful, &[co], now());
    let (status, body) = post(&as_co, &url, None, &serde_json::to_vec(&good).unwrap());
    assert_eq!(status, 200, "a well-formed envelope is accepted: {body:#}");
    // Replayed: refused and logged.
    let (status, body) = post(&as_co, &url, None, &serde_json::to_vec(&good).unwrap());
    assert_eq!((status, body["reason"].as_str()), (403, Some("replayed")), "{body:#}");
    assert!(body.get("data").is_none());
    // Still a replay after California restarts: it reads the nonces back from its ledger.
    fed.restart(ca, |_| {});
    let (status, body) = post(&as_co, &url, None, &serde_json::to_vec(&good).unwrap());
    assert_eq!((status, body["reason"].as_str()), (403, Some("replayed")), "{body:#}");
    // Tampered: the request changed after it was signed.
    let mut tampered = envelope(&fed, &lawful, &[co], now());
    tampered.request = tampered.request.replace("Jordan Doe", "Jordan Roe");
    let (status, body) = post(&as_co, &url, None, &serde_json::to_vec(&tampered).unwrap());
    assert_eq!((status, body["reason"].as_str()), (403, Some("bad_signature")), "{body:#}");
    // A link removed: Texas's hop taken out of a Texas -> Colorado chain.
    let t_req = request(("tx-dps", "trooper-7"), &[], "criminal_investigation", "robbery", "judicial_warrant");
    let mut shortened = envelope(&fed, &t_req, &[tx, co], now());
    shortened.hops.remove(0);
    let (status, body) = post(&as_co, &url, None, &serde_json::to_vec(&shortened).unwrap());
    assert_eq!((status, body["reason"].as_str()), (403, Some("broken_chain")), "{body:#}");
    // Colorado cannot send a Texas agency's request as if it were its own.
    let laundered = envelope(&fed, &t_req, &[co], now());
    let (status, body) = post(&as_co, &url, None, &serde_json::to_vec(&laundered).unwrap());
    assert_eq!((status, body["reason"].as_str()), (403, Some("not_a_member")), "{body:#}");
    // Expired.
    let old = envelope(&fed, &lawful, &[co], now() - 3600);
    let (status, body) = post(&as_co, &url, None, &serde_json::to_vec(&old).unwrap());
    assert_eq!((status, body["reason"].as_str()), (403, Some("expired")), "{body:#}");
    // Malformed: a 400, never a 5xx.
    let (status, _) = post(&as_co, &url, None, b"{\"v\": 1, \"hops\": 7}");
    assert_eq!(status, 400);
    // No client certificate: 401. A certificate of the federation's CA for a hub that is no peer: 403.
    let (status, _) = post(&user, &url, None, &serde_json::to_vec(&good).unwrap());
    assert_eq!(status, 401);
    let stranger = fed.root.join("nj/tls");
    fed.pki.hub(&stranger, "nj");
    let (status, body) = post(&fed.agent(Some(&stranger)), &url, None, &serde_json::to_vec(&good).unwrap());
    assert_eq!(status, 403, "{body:#}");
    assert!(body["detail"].as_str().unwrap().contains("\"nj\""), "{body:#}");

    // Everything refused is in California's ledger, by reason.
    let refused = |e: &Entry| matches!(e, Entry::PeerRefused(_));
    let entries = fed.entries_until(ca, "8 refusals", |e| e.iter().filter(|e| refused(e)).count() >= 8);
    let mut reasons: Vec<String> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::PeerRefused(r) => Some(r.why.clone()),
            _ => None,
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "bad_signature",
            "broken_chain",
            "expired",
            "malformed",
            "not_a_member",
            "replayed",
            "replayed",
            "unknown_peer"
        ]
    );

    // A peer that dies mid-request: California stops; what it holds is never released, the
    // user gets a 503 naming it, and Colorado logs the failed attempt.
    fed.hubs[ca].stop();
    let dead = StdListener::bind(("127.0.0.1", fed.ports[ca])).unwrap();
    let killer = std::thread::spawn(move || {
        if let Ok((mut s, _)) = dead.accept() {
            use std::io::Read;
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            // The connection closes here, mid-handshake.
        }
    });
    let t = fed.token(co, "denver-pd", "det-2", "analyst");
    let (status, body) =
        post(&user, &format!("{}/v1/requests", fed.hubs[co].url), Some(&t), lawful.to_string().as_bytes());
    killer.join().unwrap();
    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["peer"], "ca", "{body:#}");
    assert!(body.get("data").is_none(), "{body:#}");
    // (Colorado logged the failed forward.)
    fed.entries_until(co, "the failed forward", |e| {
        e.iter().any(|e| matches!(e, Entry::ForwardFailed(f) if f.why == "unreachable" && f.peer == origin("ca")))
    });

    // California rolls its ledger back to the copy and grows it again: a history that contradicts
    // what its peers cosigned. Its witnesses refuse to cosign, keep both signed checkpoints, and say so.
    fed.restart(ca, |data| {
        std::fs::remove_dir_all(data.join("ledger")).unwrap();
        copy_dir(&snapshot, &data.join("ledger"));
    });
    let as_co = fed.agent(Some(&fed.root.join("co/tls")));
    for _ in 0..16 {
        let (status, _) = post(&as_co, &url, None, b"{}");
        assert_eq!(status, 400);
    }
    let mut view = Value::Null;
    for _ in 0..100 {
        let (_, v) = get(&user, &format!("{}/federation/witness", fed.hubs[co].url));
        if v["split_views"].as_u64() > Some(0) {
            view = v;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ca_view = view["peers"].as_array().and_then(|p| p.iter().find(|p| p["name"] == "ca")).cloned();
    let ca_view = ca_view.unwrap_or_else(|| panic!("Colorado's witness saw no split view: {view:#}"));
    let evidence = &ca_view["split_views"][0];
    for side in ["witnessed", "presented"] {
        let note = ledger::note::Note::parse(evidence[side].as_str().unwrap().as_bytes()).unwrap();
        note.verify_by(&NoteVerifier::parse(&fed.vkeys[ca]).unwrap()).expect("both checkpoints are California's own");
    }
    // A peer that answers with a receipt its key on record does not verify (an impostor, or a
    // peer that changed keys): a 502 naming it, nothing released, the attempt logged.
    let impostor = ledger::note::NoteSigner::generate(&origin("ca"), ledger::note::ALG_ED25519).unwrap();
    let config_path = fed.config(co);
    let real_ca_vkey = fed.vkeys[ca].clone();
    fed.restart(co, |_| {
        let text = std::fs::read_to_string(&config_path).unwrap();
        std::fs::write(&config_path, text.replace(&real_ca_vkey, &impostor.verifier().vkey())).unwrap();
    });
    let t = fed.token(co, "denver-pd", "det-2", "analyst");
    let (status, body) =
        post(&user, &format!("{}/v1/requests", fed.hubs[co].url), Some(&t), lawful.to_string().as_bytes());
    assert_eq!((status, body["peer"].as_str()), (502, Some("ca")), "{body:#}");
    assert!(body["detail"].as_str().unwrap().contains("does not verify"), "{body:#}");
    assert!(body.get("data").is_none(), "{body:#}");
    fed.entries_until(co, "the unverified receipt", |e| {
        e.iter().any(|e| matches!(e, Entry::ForwardFailed(f) if f.why == "unverified_receipt"))
    });

    // Only a peer may submit a checkpoint, and only its own: a stranger gets 401, and Texas
    // presenting California's checkpoint (with a proof that fails) gets 403 and leaves no evidence.
    let evidence_count = get(&user, &format!("{}/federation/witness", fed.hubs[co].url)).1["split_views"].clone();
    let ca_checkpoint = agent_text(&user, &format!("{}/ledger/checkpoint", fed.hubs[ca].url));
    let bogus = format!("old 1\n{}\n\n{ca_checkpoint}", "A".repeat(43) + "=");
    let witness = format!("{}/witness/add-checkpoint", fed.hubs[co].url);
    let (status, _) = post(&user, &witness, None, bogus.as_bytes());
    assert_eq!(status, 401);
    let as_tx = fed.agent(Some(&fed.root.join("tx/tls")));
    let (status, body) = post(&as_tx, &witness, None, bogus.as_bytes());
    assert_eq!(status, 403, "{body:#}");
    let (_, v) = get(&user, &format!("{}/federation/witness", fed.hubs[co].url));
    assert_eq!(v["split_views"], evidence_count, "{v:#}");

    // The auditor's view of the ledger says so too, with both checkpoints.
    let auditor = fed.token(co, "denver-pd", "auditor-1", "auditor");
    let page = fedkit::console_page(&user, &fed.hubs[co].url, &auditor, "/console/ledger");
    assert!(page.contains("signed a checkpoint that contradicts one it signed before"), "{page}");
    assert!(page.contains("Presented later"), "{page}");

    let metrics = agent_text(&user, &format!("{}/metrics", fed.hubs[co].url));
    assert!(
        metrics.contains(&format!("fusionguard_federation_split_views{{origin=\"{}\"}} 1", origin("ca"))),
        "{metrics}"
    );
}

/// A peer over its envelope rate (`[limits] peer_per_second`, `peer_burst`) gets a 429 with
/// `Retry-After` before its envelope is checked, and the refusal costs the receiving ledger no
/// entry; the sending hub's user gets a 503 naming the peer, with nothing released and the failed
/// forward logged there. Local users of the receiving hub are not affected.
#[test]
fn a_peer_over_its_envelope_rate_is_refused_and_nothing_is_released() {
    // California takes two envelopes from each peer, then one every 1,000 seconds.
    let limited = |fed: &Fed, i: usize| {
        let mut text = config(fed, i);
        if HUBS[i] == "ca" {
            text.push_str("\n[limits]\npeer_per_second = 0.001\npeer_burst = 2\n");
        }
        text
    };
    let fed = Fed::start(&HUBS, Duration::from_millis(100), limited);
    let user = fed.agent(None);
    let (ca, co) = (0, 1);
    let lawful = robbery(("denver-pd", "det-2"));
    let t = fed.token(co, "denver-pd", "det-2", "analyst");
    let ask = || post(&user, &format!("{}/v1/requests", fed.hubs[co].url), Some(&t), lawful.to_string().as_bytes());

    // The first forwarded request and one envelope by hand take Colorado's two.
    let (status, body) = ask();
    assert_eq!((status, &body["decision"]), (200, &json!("permit")), "{body:#}");
    let as_co = fed.agent(Some(&fed.root.join("co/tls")));
    let url = format!("{}{REQUESTS_PATH}", fed.hubs[ca].url);
    let (status, body) = post(&as_co, &url, None, &serde_json::to_vec(&envelope(&fed, &lawful, &[co], now())).unwrap());
    assert_eq!(status, 200, "{body:#}");

    // The third: 429, Retry-After, whatever the envelope holds (not even checked).
    for bytes in [serde_json::to_vec(&envelope(&fed, &lawful, &[co], now())).unwrap(), b"{}".to_vec()] {
        let (status, body) = post(&as_co, &url, None, &bytes);
        assert_eq!(status, 429, "{body:#}");
        assert!(body["retry_after"].as_u64().is_some_and(|s| s >= 1), "{body:#}");
        assert!(body["detail"].as_str().unwrap().contains(&origin("co")), "{body:#}");
    }

    // Through Colorado: a 503 naming California, no data, the failed forward logged in Colorado.
    let (status, body) = ask();
    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["peer"], "ca", "{body:#}");
    assert!(body.get("data").is_none(), "{body:#}");
    assert!(body["detail"].as_str().unwrap().contains("429"), "{body:#}");
    fed.entries_until(co, "the refused forward", |e| {
        e.iter().any(|e| matches!(e, Entry::ForwardFailed(f) if f.why == "refused" && f.peer == origin("ca")))
    });

    // California's own users are served; its ledger holds no entry for the refused envelopes.
    let lapd = fed.token(ca, "lapd", "det-9", "analyst");
    let local = robbery(("lapd", "det-9"));
    let (status, body) =
        post(&user, &format!("{}/v1/requests", fed.hubs[ca].url), Some(&lapd), local.to_string().as_bytes());
    assert_eq!((status, &body["decision"]), (200, &json!("permit")), "{body:#}");
    let entries = fed.entries_until(ca, "the local decision", |e| e.iter().any(|e| matches!(e, Entry::Decision(_))));
    assert!(!entries.iter().any(|e| matches!(e, Entry::PeerRefused(_))), "{entries:?}");
    assert_eq!(entries.iter().filter(|e| matches!(e, Entry::Inbound(_))).count(), 2);

    // /metrics counts the three refusals (two by hand, one forwarded) as refused from Colorado.
    let metrics = agent_text(&user, &format!("{}/metrics", fed.hubs[ca].url));
    assert!(metrics.contains("fusionguard_federation_received_total{peer=\"co\",outcome=\"refused\"} 3"), "{metrics}");
}
