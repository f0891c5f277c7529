//! `fusionguard audit federation` end to end: two hubs' real ledgers (written through the `ledger`
//! crate in the hub's layout) read from their data directories, their tiles directories with a
//! key given as text or `@FILE`, and over HTTPS from two `fusionguard serve` hubs with a private
//! CA (certificates made by the `openssl` command); exit status 0 for a clean federation, 1 with
//! findings, 2 for bad arguments and ledgers that cannot be read.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use ledger::{Ledger, Options};
use model::entry::{DecisionEntry, Entry, EntryRequester, FederationInfo, HashedSubject, ENTRY_VERSION};
use model::{LegalBasis, Outcome};

const BIN: &str = env!("CARGO_BIN_EXE_fusionguard");
const A: &str = "hub-a.example/ledger";
const B: &str = "hub-b.example/ledger";
/// 2025-06-01T00:00:00Z.
const T: u64 = 1_748_736_000;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run fusionguard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

fn decision(i: u64, t: u64, outcome: Outcome, fed: Option<(&str, u64, &[&str], Option<u64>)>) -> DecisionEntry {
    DecisionEntry {
        v: ENTRY_VERSION,
        time: T + t,
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
        federation: fed.map(|(peer, n, hops, sender_index)| FederationInfo {
            peer: peer.into(),
            envelope: format!("{:064x}", n * 31),
            nonce: format!("{n:032x}"),
            hops: hops.iter().map(|h| h.to_string()).collect(),
            sender_index,
        }),
    }
}

/// Hub A's and hub B's entries: request 1 sent and logged by both; with `unmatched`, request 2
/// sent by A and never logged by B.
fn entries(unmatched: bool) -> (Vec<Entry>, Vec<Entry>) {
    let mut a = vec![Entry::Outbound(decision(1, 0, Outcome::Permit, Some((B, 1, &[], None))))];
    if unmatched {
        a.push(Entry::Outbound(decision(2, 10, Outcome::Permit, Some((B, 2, &[], None)))));
    }
    let b = vec![
        Entry::Inbound(decision(1, 1, Outcome::Permit, Some((A, 1, &[A], Some(0))))),
        Entry::Decision(decision(3, 3600, Outcome::Permit, None)),
    ];
    (a, b)
}

/// Writes a ledger of origin `origin` into the data directory `data` (`ledger/`, `ledger.vkey`).
fn write(data: &Path, origin: &str, entries: &[Entry]) -> String {
    let vkey = Ledger::init(&data.join("ledger"), origin).unwrap();
    std::fs::write(data.join("ledger.vkey"), format!("{vkey}\n")).unwrap();
    let log = Ledger::open_dir(&data.join("ledger"), Options::default()).unwrap();
    for e in entries {
        log.append(&e.to_json_vec()).unwrap();
    }
    log.checkpoint().unwrap();
    vkey
}

/// Two hubs' data directories under `root`; returns them and their keys.
fn federation(root: &Path, unmatched: bool) -> [(PathBuf, String); 2] {
    let (a, b) = entries(unmatched);
    let (da, db) = (root.join("a"), root.join("b"));
    let (ka, kb) = (write(&da, A, &a), write(&db, B, &b));
    [(da, ka), (db, kb)]
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_clean_federation_exits_0_with_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let [(a, _), (b, _)] = federation(dir.path(), false);
    let (code, stdout, stderr) = run(&["audit", "federation", "--peer", &s(&a), "--peer", &s(&b), "--stats"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("Audit of federation (2 files):"), "{stdout}");
    assert!(stdout.contains(&format!("  {A} ({}): 1 records read", s(&a.join("ledger/tiles")))), "{stdout}");
    assert!(stdout.ends_with("0 findings\n"), "{stdout}");
    assert!(stderr.contains(&format!("{B} (")) && stderr.contains("1 inbound"), "{stderr}");
}

#[test]
fn findings_exit_1_in_every_form_of_peer() {
    let dir = tempfile::tempdir().unwrap();
    let [(a, ka), (b, kb)] = federation(dir.path(), true);
    let key_file = dir.path().join("b.vkey");
    std::fs::write(&key_file, format!("{kb}\n")).unwrap();
    let a_tiles = s(&a.join("ledger/tiles"));
    for peers in [
        [s(&a), s(&b)],
        [format!("{a_tiles}={ka}"), format!("{}=@{}", s(&b), s(&key_file))],
        [format!("{}={ka}", s(&a)), format!("{}=@{}", s(&b.join("ledger/tiles")), s(&key_file))],
    ] {
        let (code, stdout, stderr) =
            run(&["audit", "federation", "--peer", &peers[0], "--peer", &peers[1], "--format", "jsonl"]);
        assert_eq!(code, 1, "{peers:?}: {stderr}");
        let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1, "{stdout}");
        let f = &lines[0];
        assert_eq!(
            (f["kind"].as_str(), f["rule"].as_str(), f["severity"].as_str()),
            (Some("unmatched_hop"), Some("federation.unmatched_outbound"), Some("high"))
        );
        assert_eq!(
            (f["file"].as_str(), f["entry"].as_u64(), f["decision_id"].as_str()),
            (Some(A), Some(1), Some("d-2"))
        );
        assert!(f["evidence"].as_str().unwrap().contains(&format!("nonce {:032x}", 2)), "{f}");
        assert_eq!((f["agency"].as_str(), f["user"].as_str()), (Some("lapd"), Some("det-1")));
    }
    // The table: the summary first, then the finding with the hub and the entry.
    let (code, stdout, _) = run(&["audit", "federation", "--peer", &s(&a), "--peer", &s(&b)]);
    assert_eq!(code, 1);
    assert!(stdout.contains("unmatched_hop"), "{stdout}");
    assert!(stdout.contains(&format!("{A}:1")), "{stdout}");
    assert!(stdout.ends_with("1 findings\n"), "{stdout}");
    // A grace longer than the hour between A's request and B's newest entry: in flight.
    let (code, stdout, _) = run(&["audit", "federation", "--peer", &s(&a), "--peer", &s(&b), "--grace", "7200"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("note: 1 outbound requests sent within 7200 s"), "{stdout}");
}

#[test]
fn bad_arguments_and_unreadable_ledgers_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let [(a, _), (b, kb)] = federation(dir.path(), false);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![], "needs at least two hubs' ledgers: give --peer LOCATION=VKEY for each (0 given)"),
        (vec![s(&a)], "(1 given)"),
        (vec![s(&a), s(&a)], "ledgers of one origin \"hub-a.example/ledger\""),
        (vec![s(&a), s(&dir.path().join("nowhere"))], "expected LOCATION=VKEY"),
        (vec![s(&a), format!("{}=@{}", s(&b), s(&dir.path().join("no.vkey")))], "reading the verifier key file"),
        (vec![s(&a), format!("{}=not-a-key", s(&b))], "bad verifier key"),
        (vec![s(&a), format!("{}={kb}", s(&dir.path().join("nowhere")))], "is neither a URL nor a directory"),
        (vec![s(&a), format!("https://127.0.0.1:1/ledger={kb}")], "https://127.0.0.1:1/ledger"),
        (vec![s(&a), "https://127.0.0.1:1/ledger".into()], "expected LOCATION=VKEY"),
    ];
    for (peers, message) in cases {
        let mut args = vec!["audit".to_string(), "federation".into()];
        for p in &peers {
            args.extend(["--peer".to_string(), p.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = run(&args);
        assert_eq!((code, stdout.as_str()), (2, ""), "{peers:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(message), "{peers:?}: {stderr}");
    }
    let (code, _, stderr) =
        run(&["audit", "federation", "--peer", &s(&a), "--peer", &s(&b), "--ca", &s(&dir.path().join("ca.pem"))]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--ca") && stderr.contains("ca.pem"), "{stderr}");
    // A tampered ledger is not audited.
    let bundle = b.join("ledger/tiles/tile/entries/000.p/2");
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[12] ^= 1;
    std::fs::write(&bundle, bytes).unwrap();
    let (code, stdout, stderr) = run(&["audit", "federation", "--peer", &s(&a), "--peer", &s(&b)]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains(&format!("--peer {}: ledger at {}", s(&b), s(&b.join("ledger/tiles")))), "{stderr}");
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("the openssl command");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA (`ca.pem`) and a server certificate for 127.0.0.1 signed by it (`server.pem`, `server.key`).
fn certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=federation test CA"]);
    openssl(dir, &ca);
    let mut req = vec!["req"];
    req.extend(ec);
    req.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    openssl(dir, &req);
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "server.ext",
        ],
    );
}

/// A `fusionguard serve` over HTTPS on the data directory `data`; stopped when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path, certs: &Path) -> Served {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-world");
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .args(["--laws"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../laws"))
        .arg("--data")
        .arg(data)
        .arg("--tls-cert")
        .arg(certs.join("server.pem"))
        .arg("--tls-key")
        .arg(certs.join("server.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut url = None;
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "serve exited early");
        if let Some(u) = line.trim().strip_prefix("fusionguard hub listening on ") {
            url = Some(u.to_string());
        }
        if line.contains("sources connected") {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
    });
    Served { child, url: url.expect("the listening line") }
}

#[test]
fn over_https_with_the_federation_ca() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let [(a, ka), (b, kb)] = federation(dir.path(), true);
    let (ha, hb) = (serve(&a, dir.path()), serve(&b, dir.path()));
    assert!(ha.url.starts_with("https://127.0.0.1:"), "{}", ha.url);
    let ca = s(&dir.path().join("ca.pem"));
    let pa = format!("{}/ledger={ka}", ha.url);
    let pb = format!("{}/ledger/={kb}", hb.url);
    let (code, stdout, stderr) =
        run(&["audit", "federation", "--peer", &pa, "--peer", &pb, "--ca", &ca, "--format", "jsonl"]);
    assert_eq!(code, 1, "{stderr}");
    let f: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!((f["file"].as_str(), f["entry"].as_u64()), (Some(A), Some(1)));
    // A data directory and a live hub side by side.
    let (code, _, stderr) = run(&["audit", "federation", "--peer", &s(&a), "--peer", &pb, "--ca", &ca]);
    assert_eq!(code, 1, "{stderr}");
    // Without the CA the server is not trusted: nothing is audited.
    let (code, stdout, stderr) = run(&["audit", "federation", "--peer", &pa, "--peer", &pb]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains(&format!("--peer {pa}: ledger at {}/ledger", ha.url)), "{stderr}");
}
