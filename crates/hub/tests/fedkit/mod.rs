//! A federation of hubs on loopback for the federation test and benchmark: a CA and hub
//! certificates (rcgen), fresh data directories with one shared subject key, hubs serving HTTPS
//! with mutual TLS on ports chosen before their configurations are written.
#![allow(dead_code)]

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use ledger::note::{NoteSigner, NoteVerifier};
use model::entry::Entry;
use serde_json::{json, Value};

#[path = "../common/mod.rs"]
mod common;

pub use common::repo;

/// The federation's CA and a certificate per name, written under `dir`.
pub struct Pki {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "FusionGuard test federation CA");
        let key = rcgen::KeyPair::generate().unwrap();
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Self { ca_pem, issuer: rcgen::Issuer::new(params, key) }
    }

    /// A hub certificate (`OU=hub`, `CN=name`) for 127.0.0.1, written to `dir/hub.pem`,
    /// `dir/hub.key`, with the CA at `dir/ca.pem`.
    pub fn hub(&self, dir: &Path, name: &str) {
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

pub struct Running {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn stop(&mut self) {
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

/// A hub's ledger origin.
pub fn origin(name: &str) -> String {
    format!("fusionguard.test/{name}")
}

/// Hubs on loopback, each with its configuration from the caller.
pub struct Fed {
    pub names: Vec<String>,
    pub root: PathBuf,
    pub hubs: Vec<Running>,
    pub vkeys: Vec<String>,
    listeners: Vec<Option<StdListener>>,
    pub ports: Vec<u16>,
    pub pki: Pki,
    /// How often each hub signs a checkpoint while its ledger grows.
    pub checkpoint_interval: Duration,
    /// Whether the hubs enforce their rate limits (off for benchmarks).
    pub limits: bool,
    // Last: the hubs stop before their folders go.
    _tmp: tempfile::TempDir,
}

impl Fed {
    /// Hubs named `names`, hub `i` configured with the deployment text `config(fed, i)` (its
    /// ports and verifier keys are known by then).
    pub fn start(names: &[&str], checkpoint_interval: Duration, config: impl Fn(&Fed, usize) -> String) -> Self {
        Self::start_with(names, checkpoint_interval, true, config)
    }

    /// [`Fed::start`], with the hubs' rate limits on or off.
    pub fn start_with(
        names: &[&str],
        checkpoint_interval: Duration,
        limits: bool,
        config: impl Fn(&Fed, usize) -> String,
    ) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let pki = Pki::new();
        let subject_key = "5a".repeat(32);
        let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
        let (mut vkeys, mut listeners, mut ports) = (Vec::new(), Vec::new(), Vec::new());
        for name in names {
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
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut fed = Self {
            names,
            _tmp: tmp,
            root,
            hubs: Vec::new(),
            vkeys,
            listeners,
            ports,
            pki,
            checkpoint_interval,
            limits,
        };
        for i in 0..fed.names.len() {
            std::fs::write(fed.config(i), config(&fed, i)).unwrap();
        }
        for i in 0..fed.names.len() {
            let h = fed.launch(i);
            fed.hubs.push(h);
        }
        fed
    }

    pub fn data(&self, i: usize) -> PathBuf {
        self.root.join(&self.names[i]).join("data")
    }

    pub fn config(&self, i: usize) -> PathBuf {
        self.root.join(&self.names[i]).join("deployment.toml")
    }

    /// The start of hub `i`'s deployment: the seed world, and its `[federation]` table.
    pub fn federation_table(&self, i: usize, law: &str, agencies: &str) -> String {
        let name = &self.names[i];
        format!(
            "extends = \"{}\"\nname = \"{name} hub\"\n\n[federation]\nname = \"{name}\"\nlaw = [\"{law}\"]\nagencies = {agencies}\nca = \"tls/ca.pem\"\ncert = \"tls/hub.pem\"\nkey = \"tls/hub.key\"\n\n",
            repo().join("examples/seed-world/deployment.toml").display(),
        )
    }

    /// A `[[peer]]` table for hub `j`.
    pub fn peer_table(&self, j: usize, agencies: &str, sources: &str) -> String {
        let name = &self.names[j];
        format!(
            "[[peer]]\nname = \"{name}\"\norigin = \"{}\"\nurl = \"https://127.0.0.1:{}\"\nvkey = \"{}\"\nagencies = {agencies}\nsources = {sources}\n\n",
            origin(name),
            self.ports[j],
            self.vkeys[j],
        )
    }

    pub fn launch(&mut self, i: usize) -> Running {
        let mut options = hub::HubOptions::new(self.config(i), repo().join("laws"), self.data(i));
        options.origin = origin(&self.names[i]);
        options.checkpoint_interval = self.checkpoint_interval;
        options.limits = self.limits;
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
    pub fn restart(&mut self, i: usize, between: impl FnOnce(&Path)) {
        self.hubs[i].stop();
        between(&self.data(i));
        self.hubs[i] = self.launch(i);
    }

    /// How many of hub `i`'s peers have cosigned its published checkpoint, and the checkpoint.
    pub fn cosignatures(&self, agent: &ureq::Agent, i: usize) -> (usize, String) {
        let text = agent_text(agent, &format!("{}/ledger/checkpoint", self.hubs[i].url));
        let note = ledger::note::Note::parse(text.as_bytes()).unwrap();
        note.verify_by(&NoteVerifier::parse(&self.vkeys[i]).unwrap()).unwrap();
        let n = (0..self.names.len())
            .filter(|&j| j != i)
            .filter(|&j| {
                let witness = NoteVerifier::parse(&self.vkeys[j]).unwrap().with_alg(ledger::note::ALG_COSIGNATURE_V1);
                note.verify_by(&witness).is_ok()
            })
            .count();
        (n, text)
    }

    /// Hub `i`'s published checkpoint, once it carries every other hub's cosignature (or panics).
    pub fn cosigned_checkpoint(&self, i: usize) -> String {
        let agent = self.agent(None);
        for _ in 0..100 {
            let (n, text) = self.cosignatures(&agent, i);
            if n == self.names.len() - 1 {
                return text;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("hub {}'s checkpoint never carried every peer's cosignature", self.names[i]);
    }

    /// An HTTPS client trusting the federation's CA, presenting the certificate in `as_hub` if given.
    pub fn agent(&self, as_hub: Option<&Path>) -> ureq::Agent {
        let tls = ledger::http::Tls::from_files(
            &self.root.join(&self.names[0]).join("tls/ca.pem"),
            as_hub.map(|d| (d.join("hub.pem"), d.join("hub.key"))).as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
        )
        .unwrap();
        ledger::http::tls_agent(&tls, Duration::from_secs(20)).unwrap()
    }

    pub fn token(&self, i: usize, agency: &str, user: &str, role: &str) -> String {
        let store = hub::store::FileStore::tokens_only(&self.data(i));
        hub::tokens::issue(&store, agency, user, role, 3600).unwrap().0
    }

    pub fn signer(&self, i: usize) -> NoteSigner {
        let text = std::fs::read_to_string(self.data(i).join("ledger").join(ledger::KEY_FILE)).unwrap();
        NoteSigner::parse(&text).unwrap()
    }

    pub fn verifier(&self, origin_name: &str) -> NoteVerifier {
        let i = self.names.iter().position(|h| origin(h) == origin_name).unwrap();
        NoteVerifier::parse(&self.vkeys[i]).unwrap()
    }

    /// Every entry of hub `i`'s published ledger, once they satisfy `done` (`what` names it).
    pub fn entries_until(&self, i: usize, what: &str, done: impl Fn(&[Entry]) -> bool) -> Vec<Entry> {
        for _ in 0..100 {
            if let Ok(r) = oversight::ledger::LedgerReader::open_data_dir(&self.data(i)) {
                let entries: Vec<Entry> = r.entries().map(|e| e.unwrap().1).collect();
                if done(&entries) {
                    return entries;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("hub {} never published {what}", self.names[i]);
    }
}

pub fn post(agent: &ureq::Agent, url: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
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

pub fn get(agent: &ureq::Agent, url: &str) -> (u16, Value) {
    let mut r = agent.get(url).call().unwrap();
    let status = r.status().as_u16();
    (status, serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null))
}

pub fn agent_text(agent: &ureq::Agent, url: &str) -> String {
    agent.get(url).call().unwrap().body_mut().read_to_string().unwrap()
}

pub fn copy_dir(from: &Path, to: &Path) {
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

pub fn rand_u128() -> u128 {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).unwrap();
    u128::from_le_bytes(b)
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Logs in to hub `url`'s console with `token` and returns the page at `path`, as the session sees it.
pub fn console_page(agent: &ureq::Agent, url: &str, token: &str, path: &str) -> String {
    let session = common::console_session(agent, url, token);
    let mut r = agent.get(format!("{url}{path}")).header("cookie", format!("fg_session={session}")).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.body_mut().read_to_string().unwrap()
}
