//! `fusionguard demo --federation`: three hubs start from `examples/federation/`, each with its own
//! ledger and data, serve HTTPS with certificates of the run's CA, know each other's addresses and
//! ledger keys, take tokens issued with the paths they print, and stop together on Ctrl-C (SIGINT).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{bin, repo, token_of, Demo};
use serde_json::Value;

/// Held by each test while it picks and uses its ports, so that the tests of this file never pick
/// overlapping ones.
static PORTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A port P such that P, P+1 and P+2 are free on 127.0.0.1 (checked by binding them).
fn three_free_ports() -> u16 {
    for _ in 0..100 {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = first.local_addr().unwrap().port();
        if p > 65533 {
            continue;
        }
        let next: Vec<_> = (1..3).filter_map(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).ok()).collect();
        if next.len() == 2 {
            return p;
        }
    }
    panic!("no three consecutive free ports");
}

fn start(listen: &str, run: &Path) -> Demo {
    let args: Vec<&std::ffi::OsStr> = ["demo", "--federation", "--listen", listen, "--data"]
        .into_iter()
        .map(std::ffi::OsStr::new)
        .chain([run.as_os_str()])
        .collect();
    common::start_demo(&args)
}

fn call(agent: &ureq::Agent, method: &str, url: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let result = match method {
        "GET" => {
            let mut r = agent.get(url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        _ => {
            let mut r = agent.post(url).header("Content-Type", "application/json");
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.send(body)
        }
    };
    let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap_or_default())
}

fn path(v: &Value) -> PathBuf {
    PathBuf::from(v.as_str().unwrap())
}

#[test]
fn three_hubs_serve_https_take_tokens_and_stop_together_on_ctrl_c() {
    let _ports = PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let port = three_free_ports();
    let mut demo = start(&format!("127.0.0.1:{port}"), &run);

    // The one line for scripts: every hub, where it listens, its ledger, its folders.
    let line = demo.lines.iter().find(|l| l.starts_with("{\"hubs\"")).expect("the JSON line");
    let summary: Value = serde_json::from_str(line).unwrap();
    let hubs = summary["hubs"].as_array().unwrap();
    let names: Vec<&str> = hubs.iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ca", "co", "tx"]);
    for (i, h) in hubs.iter().enumerate() {
        let name = names[i];
        assert_eq!(h["url"], format!("https://127.0.0.1:{}", port + i as u16));
        assert_eq!(h["origin"], format!("fusionguard.example/{name}"));
        assert!(h["vkey"].as_str().unwrap().starts_with(&format!("fusionguard.example/{name}+")), "{h}");
        let (data, config) = (path(&h["data"]), path(&h["config"]));
        assert!(data.starts_with(&run) && config.starts_with(&run), "{h}");
        assert_eq!(std::fs::read_to_string(data.join("ledger.vkey")).unwrap().trim(), h["vkey"]);
        // Each hub's deployment names the others where they listen, with their ledger keys.
        let d = model::Deployment::load(&config).unwrap();
        assert_eq!(d.federation().unwrap().name, name);
        let peers = d.peers();
        assert_eq!(peers.len(), 2);
        for p in peers {
            let other = hubs.iter().find(|o| o["name"] == p.name.as_str()).unwrap();
            assert_eq!(
                (p.url.as_str(), p.origin.as_str()),
                (other["url"].as_str().unwrap(), other["origin"].as_str().unwrap())
            );
            assert_eq!(p.vkey.as_deref(), other["vkey"].as_str());
        }
        // Its key is private.
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&d.federation().unwrap().key).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }
    // One subject key for all: subject hashes match across the ledgers.
    let keys: Vec<String> =
        hubs.iter().map(|h| std::fs::read_to_string(path(&h["data"]).join("subject.key")).unwrap()).collect();
    assert!(keys.iter().all(|k| *k == keys[0]) && keys[0].trim().len() == 64);

    // Every hub answers over HTTPS, trusting the run's CA only.
    let ca_pem = std::fs::read(path(&summary["ca"])).unwrap();
    let tls = ledger::http::Tls { ca_pem: Some(ca_pem), client_pem: None };
    let agent = ledger::http::tls_agent(&tls, Duration::from_secs(20)).unwrap();
    for h in hubs {
        let url = h["url"].as_str().unwrap();
        let (status, body) = call(&agent, "GET", &format!("{url}/healthz"), None, "");
        assert_eq!(status, 200, "{url}: {body}");
        let (status, key) = call(&agent, "GET", &format!("{url}/v1/ledger/key"), None, "");
        assert_eq!((status, key.trim()), (200, h["vkey"].as_str().unwrap()));
    }
    // A client that trusts another CA (here: the hub's own certificate as if it were one) is
    // refused in the handshake.
    let leaf = std::fs::read(path(&hubs[0]["config"]).join("tls/hub.pem")).unwrap();
    let wrong =
        ledger::http::tls_agent(&ledger::http::Tls { ca_pem: Some(leaf), client_pem: None }, Duration::from_secs(5))
            .unwrap();
    assert!(wrong.get(&format!("{}/healthz", hubs[0]["url"].as_str().unwrap())).call().is_err());

    // A printed token works at its hub: the sheriff's lawful ALPR lookup at the ca hub, whose
    // members' sources hold the synthetic data.
    let ca_url = hubs[0]["url"].as_str().unwrap();
    let det = token_of(&demo.lines, "T_DET_RAMOS");
    let example = std::fs::read_to_string(run.join("examples/8-sheriff-alpr.json")).unwrap();
    let (status, body) = call(&agent, "POST", &format!("{ca_url}/v1/requests"), Some(&det), &example);
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["decision"], "permit", "{body}");
    assert!(!v["data"].as_array().unwrap().is_empty(), "{body}");
    // The hubs are wired to each other (addresses, ledger keys, certificates): Denver's request for
    // California DMV records goes from co to ca and comes back permitted, with receipts of both.
    let send = |hub: usize, var: &str, file: &str| {
        let body = std::fs::read_to_string(run.join("examples").join(file)).unwrap();
        let url = format!("{}/v1/requests", hubs[hub]["url"].as_str().unwrap());
        let (status, text) = call(&agent, "POST", &url, Some(&token_of(&demo.lines, var)), &body);
        assert_eq!(status, 200, "{file}: {text}");
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let receipts = |v: &Value| -> Vec<String> {
        v["federation"]["receipts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["origin"].as_str().unwrap().to_string())
            .collect()
    };
    let v = send(1, "T_DET_LEE", "denver-ca-dmv.json");
    assert_eq!((v["decision"].as_str(), v["federation"]["peer"].as_str()), (Some("permit"), Some("ca")), "{v}");
    assert!(!v["data"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(receipts(&v), ["fusionguard.example/co", "fusionguard.example/ca", "fusionguard.example/co"]);
    // Texas asks for ICE HSI, with a warrant: Texas lets it pass, California denies it.
    let v = send(2, "T_TROOPER_DIAZ", "tx-for-hsi-ca-alpr.json");
    assert_eq!((v["decision"].as_str(), v["federation"]["peer"].as_str()), (Some("deny"), Some("ca")), "{v}");
    assert!(v["reasons"].to_string().contains("1798.90.55"), "{v}");
    assert!(v.get("data").is_none_or(|d| d.as_array().is_some_and(|a| a.is_empty())), "{v}");
    assert!(receipts(&v).contains(&"fusionguard.example/ca".to_string()), "{v}");
    // For ICE ERO's civil immigration enforcement: denied at Texas already, never forwarded.
    let v = send(2, "T_TROOPER_DIAZ", "tx-for-ice-ca-dmv.json");
    assert_eq!(v["decision"], "deny", "{v}");
    assert!(v.get("federation").is_none_or(Value::is_null), "{v}");

    // `token issue` with the printed config and data works for each hub, and the running hub
    // accepts the new token within a few seconds.
    let co = &hubs[1];
    for (h, agency) in hubs.iter().zip(["lapd", "denver-pd", "tx-dps"]) {
        let out = Command::new(bin())
            .args(["token", "issue", "--config"])
            .arg(path(&h["config"]))
            .arg("--data")
            .arg(path(&h["data"]))
            .args(["--agency", agency, "--user", "cli-user", "--role", "detective"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", h["name"], String::from_utf8_lossy(&out.stderr));
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        if h["name"] != co["name"] {
            continue;
        }
        let request = serde_json::json!({
            "requester": {"id": "cli-user", "agency": "denver-pd", "role": "detective"},
            "source": "denver-rms", "action": "lookup", "purpose": "criminal_investigation",
            "justification": "Burglary 24-1102: prior contacts", "case_number": "DPD-24-1102",
            "legal_basis": {"kind": "none"}, "subject": {"kind": "name", "value": "J. Doe"}
        })
        .to_string();
        let url = format!("{}/v1/requests", co["url"].as_str().unwrap());
        let mut answer = (0, String::new());
        for _ in 0..100 {
            answer = call(&agent, "POST", &url, Some(&token), &request);
            if answer.0 != 401 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(answer.0, 200, "{}", answer.1);
        assert!(answer.1.contains("\"decision\""), "{}", answer.1);
    }

    // Ctrl-C: all three stop cleanly, exit status 0, each ledger with its final checkpoint.
    let pid = demo.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let mut exited = None;
    for _ in 0..400 {
        if let Some(s) = demo.child.try_wait().unwrap() {
            exited = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(exited.and_then(|s| s.code()), Some(0), "the demo stops cleanly on SIGINT");
    for h in hubs {
        let checkpoint = std::fs::read_to_string(path(&h["data"]).join("ledger/tiles/checkpoint")).unwrap();
        assert!(checkpoint.starts_with(h["origin"].as_str().unwrap()), "{checkpoint}");
        let url = h["url"].as_str().unwrap().trim_start_matches("https://").to_string();
        assert!(std::net::TcpStream::connect(&url).is_err(), "{url} still listens");
    }
}

#[test]
fn a_taken_port_or_a_missing_folder_is_refused_by_name() {
    let _ports = PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    // The second hub's port is taken: exit 2, naming that address; nothing is made. (Taken as
    // soon as it is found free: another test's or process's ephemeral port may land on it.)
    let (port, _taken) = (0..100)
        .find_map(|_| {
            let p = three_free_ports();
            std::net::TcpListener::bind(("127.0.0.1", p + 1)).ok().map(|l| (p, l))
        })
        .expect("three consecutive free ports");
    let out = Command::new(bin())
        .current_dir(repo())
        .args(["demo", "--federation", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&run)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("cannot listen on 127.0.0.1:{}", port + 1)), "{err}");
    assert!(!run.exists());
    let out = Command::new(bin())
        .current_dir(repo())
        .args(["demo", "--federation", "--listen", "127.0.0.1:0", "--config", "/nonexistent/federation"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--config /nonexistent/federation"), "{err}");
}

#[test]
fn serving_a_federated_deployment_without_peer_keys_is_refused_before_any_ledger_is_made() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = Command::new(bin())
        .current_dir(repo())
        .args(["serve", "--config", "examples/federation/ca/deployment.toml", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("peer \"co\": no `vkey`"), "{err}");
    assert!(!data.join("ledger").exists(), "a ledger was made before the refusal");
}
