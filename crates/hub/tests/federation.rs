//! A federation of three hubs (California, Colorado, Texas deployments of the seed world) on
//! loopback, over real HTTPS with mutual TLS, each with its own ledger: a Texas request forwarded
//! by Colorado for an ICE originator is denied by California; a lawful Colorado request passes with
//! receipts that each verify; a tampered envelope, a replayed one, a chain with a link removed, an
//! unknown peer, an expired envelope, and a peer that dies mid-request each give a clear error,
//! release nothing, and leave their evidence in the ledger.

mod common;

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::repo;
use hub::federation::{digest, hop_body, link_of, Envelope, Hop, Receipt, ENVELOPE_VERSION, REQUESTS_PATH};
use ledger::note::{NoteSigner, NoteVerifier};
use model::entry::Entry;
use model::Outcome;
use serde_json::{json, Value};

const HUBS: [&str; 3] = ["ca", "co", "tx"];

/// The federation's CA and a certificate per name, written under `dir`.
struct Pki {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "FusionGuard test federation CA");
        let key = rcgen::KeyPair::generate().unwrap();
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Self { ca_pem, issuer: rcgen::Issuer::new(params, key) }
    }

    /// A hub certificate (`OU=hub`, `CN=name`) for 127.0.0.1, written to `dir/hub.pem`,
    /// `dir/hub.key`, with the CA at `dir/ca.pem`.
    fn hub(&self, dir: &Path, name: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::OrganizationName, "FusionGuard federation");
        params.distinguished_name.push(rcgen::DnType::OrganizationalUnitName, "hub");
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.extended_key_usages =
            vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth, rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(dir.join("hub.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("hub.key"), key.serialize_pem()).unwrap();
        std::fs::write(dir.join("ca.pem"), &self.ca_pem).unwrap();
    }
}

struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn origin(name: &str) -> String {
    format!("fusionguard.test/{name}")
}

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

struct Fed {
    root: PathBuf,
    hubs: Vec<Running>,
    vkeys: Vec<String>,
    listeners: Vec<Option<StdListener>>,
    ports: Vec<u16>,
    pki: Pki,
    // Last: the hubs stop before their folders go.
    _tmp: tempfile::TempDir,
}

impl Fed {
    fn data(&self, i: usize) -> PathBuf {
        self.root.join(HUBS[i]).join("data")
    }

    fn config(&self, i: usize) -> PathBuf {
        self.root.join(HUBS[i]).join("deployment.toml")
    }

    /// Three hubs; Texas reaches California's sources through Colorado.
    fn start() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let pki = Pki::new();
        let subject_key = "5a".repeat(32);
        let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
        let mut vkeys = Vec::new();
        let mut listeners = Vec::new();
        let mut ports = Vec::new();
        for name in HUBS {
            let dir = root.join(name);
            pki.hub(&dir.join("tls"), name);
            let data = dir.join("data");
            std::fs::create_dir_all(&data).unwrap();
            hub::sources::write_synthetic(&data, &deployment, hub::sources::SYNTHETIC_SEED).unwrap();
            std::fs::write(data.join("subject.key"), format!("{subject_key}\n")).unwrap();
            vkeys.push(hub::init_ledger(&data, &origin(name)).unwrap());
            let l = StdListener::bind("127.0.0.1:0").unwrap();
            ports.push(l.local_addr().unwrap().port());
            listeners.push(Some(l));
        }
        let mut fed = Self { _tmp: tmp, root, hubs: Vec::new(), vkeys, listeners, ports, pki };
        for i in 0..3 {
            fed.write_config(i);
        }
        for i in 0..3 {
            let h = fed.launch(i);
            fed.hubs.push(h);
        }
        fed
    }

    fn peer_table(&self, j: usize, sources: &str) -> String {
        let name = HUBS[j];
        format!(
            "[[peer]]\nname = \"{name}\"\norigin = \"{}\"\nurl = \"https://127.0.0.1:{}\"\nvkey = \"{}\"\nagencies = {}\nsources = {sources}\n\n",
            origin(name),
            self.ports[j],
            self.vkeys[j],
            members(name).0
        )
    }

    fn write_config(&self, i: usize) {
        let name = HUBS[i];
        let law = match name {
            "ca" => "US-CA",
            "co" => "US-CO",
            _ => "US-TX",
        };
        let mut text = format!(
            "extends = \"{}\"\nname = \"{name} hub\"\n\n[federation]\nname = \"{name}\"\nlaw = [\"{law}\"]\nagencies = {}\nca = \"tls/ca.pem\"\ncert = \"tls/hub.pem\"\nkey = \"tls/hub.key\"\n\n",
            repo().join("examples/seed-world/deployment.toml").display(),
            members(name).0
        );
        let ca_and_co = r#"["ociac-alpr", "ca-dmv-records", "ca-dmv-photos", "calgang", "ca-doj-clets", "lapd-rms", "lausd-incidents", "co-dmv-records", "co-dmv-photos", "denver-rms"]"#;
        for (j, peer) in HUBS.iter().enumerate() {
            if j == i {
                continue;
            }
            let sources = match (name, *peer) {
                // Texas sends everything through Colorado, which relays California's requests.
                ("tx", "co") => ca_and_co,
                ("tx", _) => "[]",
                _ => members(peer).1,
            };
            text.push_str(&self.peer_table(j, sources));
        }
        std::fs::write(self.config(i), text).unwrap();
    }

    fn launch(&mut self, i: usize) -> Running {
        let mut options = hub::HubOptions::new(self.config(i), repo().join("laws"), self.data(i));
        options.origin = origin(HUBS[i]);
        options.checkpoint_interval = Duration::from_millis(100);
        let hub = hub::Hub::open(options).unwrap();
        let tls = hub.federation_tls().expect("a federated hub");
        let listener =
            self.listeners[i].take().unwrap_or_else(|| StdListener::bind(("127.0.0.1", self.ports[i])).unwrap());
        listener.set_nonblocking(true).unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                ready_tx.send(()).unwrap();
                let stop = async move {
                    let _ = stop_rx.await;
                };
                hub.serve_tls(listener, tls, stop).await.unwrap();
            });
        });
        ready_rx.recv().unwrap();
        Running { url: format!("https://127.0.0.1:{}", self.ports[i]), stop: Some(stop_tx), thread: Some(thread) }
    }

    /// Stops hub `i` and starts it again on the same port, with `between` run while it is down.
    fn restart(&mut self, i: usize, between: impl FnOnce(&Path)) {
        self.hubs[i].stop();
        between(&self.data(i));
        self.hubs[i] = self.launch(i);
    }

    /// Hub `i`'s published checkpoint, once it carries every peer's cosignature (or panics).
    fn cosigned_checkpoint(&self, i: usize) -> String {
        let agent = self.agent(None);
        for _ in 0..100 {
            let text = agent
                .get(&format!("{}/ledger/checkpoint", self.hubs[i].url))
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap();
            let note = ledger::note::Note::parse(text.as_bytes()).unwrap();
            note.verify_by(&NoteVerifier::parse(&self.vkeys[i]).unwrap()).unwrap();
            let cosigned = (0..3).filter(|&j| j != i).all(|j| {
                let witness = NoteVerifier::parse(&self.vkeys[j]).unwrap().with_alg(ledger::note::ALG_COSIGNATURE_V1);
                note.verify_by(&witness).is_ok()
            });
            if cosigned {
                return text;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("hub {}'s checkpoint never carried both peers' cosignatures", HUBS[i]);
    }

    /// An HTTPS client trusting the federation's CA, presenting hub `as_hub`'s certificate if given.
    fn agent(&self, as_hub: Option<&Path>) -> ureq::Agent {
        let tls_dir = self.root.join("ca/tls");
        let tls = ledger::http::Tls::from_files(
            &tls_dir.join("ca.pem"),
            as_hub.map(|d| (d.join("hub.pem"), d.join("hub.key"))).as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
        )
        .unwrap();
        ledger::http::tls_agent(&tls, Duration::from_secs(20)).unwrap()
    }

    fn token(&self, i: usize, agency: &str, user: &str, role: &str) -> String {
        let store = hub::store::FileStore::tokens_only(&self.data(i));
        hub::tokens::issue(&store, agency, user, role, 3600).unwrap().0
    }

    fn signer(&self, i: usize) -> NoteSigner {
        let text = std::fs::read_to_string(self.data(i).join("ledger").join(ledger::KEY_FILE)).unwrap();
        NoteSigner::parse(&text).unwrap()
    }

    fn verifier(&self, origin_name: &str) -> NoteVerifier {
        let i = HUBS.iter().position(|h| origin(h) == origin_name).unwrap();
        NoteVerifier::parse(&self.vkeys[i]).unwrap()
    }

    /// Every entry of hub `i`'s ledger, once a checkpoint covers at least `min` entries.
    fn entries(&self, i: usize, min: u64) -> Vec<Entry> {
        for _ in 0..100 {
            let reader = oversight::ledger::LedgerReader::open_data_dir(&self.data(i));
            if let Ok(r) = reader {
                if r.size() >= min {
                    return r.entries().map(|e| e.unwrap().1).collect();
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("hub {} never published {min} entries", HUBS[i]);
    }
}

fn post(agent: &ureq::Agent, url: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut req = agent.post(url).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    match req.send(body) {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let text = r.body_mut().read_to_string().unwrap();
            (status, serde_json::from_str(&text).unwrap_or_else(|_| json!({"raw": text})))
        }
        Err(e) => (0, json!({"transport": e.to_string()})),
    }
}

fn request(requester: (&str, &str), chain: &[(&str, &str)], purpose: &str, justification: &str, basis: &str) -> Value {
    on_source("ca-dmv-records", ("name", "Jordan Doe"), requester, chain, purpose, justification, basis)
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

fn rand_u128() -> u128 {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).unwrap();
    u128::from_le_bytes(b)
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn a_federation_of_three_hubs() {
    let mut fed = Fed::start();
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
    let ca_entries = fed.entries(ca, 1);
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
    let lawful = request(
        ("denver-pd", "det-2"),
        &[],
        "criminal_investigation",
        "armed robbery investigation, suspect vehicle registration",
        "judicial_warrant",
    );
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
    let entries = fed.entries(ca, 10);
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
        ["bad_signature", "broken_chain", "expired", "malformed", "not_a_member", "replayed", "unknown_peer"]
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
    let co_entries = fed.entries(co, 6);
    assert!(
        co_entries
            .iter()
            .any(|e| matches!(e, Entry::ForwardFailed(f) if f.why == "unreachable" && f.peer == origin("ca"))),
        "Colorado logged the failed forward"
    );

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
    let metrics = agent_text(&user, &format!("{}/metrics", fed.hubs[co].url));
    assert!(
        metrics.contains(&format!("fusionguard_federation_split_views{{origin=\"{}\"}} 1", origin("ca"))),
        "{metrics}"
    );
}

fn get(agent: &ureq::Agent, url: &str) -> (u16, Value) {
    let mut r = agent.get(url).call().unwrap();
    let status = r.status().as_u16();
    (status, serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null))
}

fn agent_text(agent: &ureq::Agent, url: &str) -> String {
    agent.get(url).call().unwrap().body_mut().read_to_string().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
