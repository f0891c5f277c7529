//! Two `fusionguard serve --store postgres://... --schema S` processes on one schema of the CI
//! PostgreSQL: tokens issued with `token issue --store` work on both, both accept requests, and
//! when one is killed (SIGKILL) the other keeps serving the same verifiable ledger.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, http, repo};

#[path = "../../ledger/tests/support/pg_server.rs"]
mod pg_server;

struct Schema(String);

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(pg_server::conninfo(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
        }
    }
}

struct Replica {
    child: Child,
    addr: String,
    vkey: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path, schema: &str) -> Replica {
    let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
    hub::sources::write_synthetic(data, &deployment, hub::sources::SYNTHETIC_SEED).unwrap();
    let mut child = Command::new(bin())
        .current_dir(repo())
        .args(["serve", "--config", "examples/seed-world", "--listen", "127.0.0.1:0", "--checkpoint-ms", "100"])
        .args(["--store", pg_server::conninfo(), "--schema", schema, "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (mut addr, mut vkey) = (None, None);
    while addr.is_none() || vkey.is_none() {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "serve exited early");
        if let Some(a) = line.trim().strip_prefix("fusionguard hub listening on http://") {
            addr = Some(a.to_string());
        }
        if let Some(v) = line.trim().strip_prefix("ledger verifier key: ") {
            vkey = Some(v.to_string());
        }
    }
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
    });
    Replica { child, addr: addr.unwrap(), vkey: vkey.unwrap() }
}

fn token(schema: &str, agency: &str, user: &str) -> String {
    let out = Command::new(bin())
        .current_dir(repo())
        .args([
            "token",
            "issue",
            "--config",
            "examples/seed-world",
            "--store",
            pg_server::conninfo(),
            "--schema",
            schema,
        ])
        .args(["--agency", agency, "--user", user, "--role", "detective"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn request(n: usize) -> String {
    serde_json::json!({
        "requester": {"id": "det-1", "agency": "oc-sheriff", "role": "detective"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": format!("robbery follow-up {n}"), "case_number": "OCSD-1",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}
    })
    .to_string()
}

fn index_of(reply: &(u16, String)) -> u64 {
    assert_eq!(reply.0, 200, "{}", reply.1);
    let v: serde_json::Value = serde_json::from_str(&reply.1).unwrap();
    v["ledger"]["index"].as_u64().unwrap()
}

#[test]
fn two_serve_processes_share_a_schema_and_survive_a_kill() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let schema = Schema(format!("cli_replicas_{}_{nanos}", std::process::id()));
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = serve(da.path(), &schema.0);
    let b = serve(db.path(), &schema.0);
    assert_eq!(a.vkey, b.vkey);
    let t = token(&schema.0, "oc-sheriff", "det-1");

    let mut indexes = Vec::new();
    for n in 0..10 {
        let r = if n % 2 == 0 { &a } else { &b };
        indexes.push(index_of(&http(&r.addr, "POST", "/v1/requests", Some(&t), &request(n))));
    }
    // SIGKILL one replica: no graceful shutdown, no final checkpoint.
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    for n in 10..15 {
        indexes.push(index_of(&http(&b.addr, "POST", "/v1/requests", Some(&t), &request(n))));
    }
    let mut sorted = indexes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..15).collect::<Vec<_>>(), "{indexes:?}");

    // The survivor publishes the whole log; `ledger verify` checks it from outside.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, cp) = http(&b.addr, "GET", "/ledger/checkpoint", None, "");
        if cp.lines().nth(1) == Some("15") {
            break;
        }
        assert!(Instant::now() < deadline, "checkpoint: {cp}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new(bin())
        .args(["ledger", "verify", "--tiles", &format!("http://{}/ledger", b.addr), "--vkey", &b.vkey])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // The token store is the schema's: listing and revoking work with --store too.
    let list = Command::new(bin())
        .args(["token", "list", "--store", pg_server::conninfo(), "--schema", &schema.0])
        .output()
        .unwrap();
    let listed = String::from_utf8(list.stdout).unwrap();
    let id = t.split('_').nth(1).unwrap();
    assert!(listed.contains(id) && listed.contains("active"), "{listed}");
    let revoke = Command::new(bin())
        .args(["token", "revoke", "--store", pg_server::conninfo(), "--schema", &schema.0, "--id", id])
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while http(&b.addr, "POST", "/v1/requests", Some(&t), &request(99)).0 != 401 {
        assert!(Instant::now() < deadline, "the revoked token still works");
        std::thread::sleep(Duration::from_millis(100));
    }
    let both = Command::new(bin())
        .args(["token", "list", "--data", "/tmp", "--store", pg_server::conninfo(), "--schema", &schema.0])
        .output()
        .unwrap();
    assert!(!both.status.success(), "--data and --store exclude each other");
}
