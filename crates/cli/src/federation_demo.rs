//! `fusionguard demo --federation`: a federation of hubs on one machine. Each folder of the
//! federation folder (`examples/federation/`: `ca`, `co`, `tx`) is one hub; in a run folder each
//! gets `HUB/config/` (its deployment, its base deployment beside it, its TLS files) and
//! `HUB/data/` (ledger, keys, tokens, synthetic data for the sources its members own). The hubs
//! share one subject key, know each other's ledger keys and addresses, and serve HTTPS with
//! certificates of a CA made for the run, on one runtime, until Ctrl-C.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use hub::{Hub, HubOptions};

use crate::federation_certs::{self, FederationCa, HubPaths};

/// Where the first hub listens when `--listen` is not given; the others take the next ports.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8443);

/// The ledger origin of a hub that no other hub names as a peer.
fn default_origin(name: &str) -> String {
    format!("fusionguard.example/{name}")
}

/// What `demo --federation` is asked to do.
#[derive(Debug)]
pub struct Options {
    /// The folder holding one folder per hub (each with its `deployment.toml`).
    pub federation: PathBuf,
    /// The law library.
    pub laws: PathBuf,
    /// The run folder (default: a fresh one under the system's temporary folder).
    pub run: Option<PathBuf>,
    /// Where the first hub listens (the others on the next ports; port 0: free ports); `None`:
    /// [`DEFAULT_LISTEN`], or free ports if those are taken.
    pub listen: Option<SocketAddr>,
    /// Enforce the deployments' rates and quotas.
    pub limits: bool,
    /// The largest console upload, in bytes.
    pub upload_limit: u64,
}

/// One hub of the federation folder, as planned before anything is written.
struct Plan {
    /// Its federation name (`[federation].name`).
    name: String,
    /// The folder it comes from (its name is the hub's folder in the run).
    folder: String,
    /// Its example deployment file.
    example: PathBuf,
    /// Its ledger origin.
    origin: String,
    /// The agencies that are its members.
    members: Vec<String>,
}

/// A hub made ready in the run folder.
struct Ready {
    plan: Plan,
    url: String,
    config: PathBuf,
    data: PathBuf,
    vkey: String,
    deployment: model::Deployment,
}

/// Reads the federation folder: one hub per folder holding a `deployment.toml` with a
/// `[federation]` table, in the order of the folders' names; every peer a hub names must be one of
/// them, and each hub's origin is what its peers call it (the same in each).
fn plan(dir: &Path) -> anyhow::Result<Vec<Plan>> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(model::Deployment::FILE).is_file())
        .collect();
    folders.sort();
    if folders.is_empty() {
        bail!("{}: no hub deployments (expected {}/HUB/deployment.toml)", dir.display(), dir.display());
    }
    let mut decks = Vec::new();
    for folder in &folders {
        let file = folder.join(model::Deployment::FILE);
        let d = model::Deployment::load(&file)?;
        let Some(fed) = d.federation() else {
            bail!("{}: no [federation] table: every hub of a federation needs one", file.display());
        };
        if let Some(other) =
            decks.iter().position(|o: &model::Deployment| o.federation().is_some_and(|f| f.name == fed.name))
        {
            bail!(
                "{}: hub name {:?} is also the name of the hub in {}",
                file.display(),
                fed.name,
                folders[other].display()
            );
        }
        decks.push(d);
    }
    let names: Vec<&str> = decks.iter().filter_map(|d| d.federation().map(|f| f.name.as_str())).collect();
    let mut plans = Vec::new();
    for (i, folder) in folders.iter().enumerate() {
        let name = names[i];
        let file = folder.join(model::Deployment::FILE);
        for p in decks[i].peers() {
            if !names.contains(&p.name.as_str()) {
                bail!(
                    "{}: peer {:?} is not one of the hubs in {} ({})",
                    file.display(),
                    p.name,
                    dir.display(),
                    names.join(", ")
                );
            }
        }
        let mut origins: Vec<(&str, &str)> = Vec::new();
        for (j, d) in decks.iter().enumerate() {
            if let Some(p) = d.peers().iter().find(|p| p.name == name) {
                origins.push((names[j], p.origin.as_str()));
            }
        }
        let origin = match origins.first() {
            Some((_, o)) => o.to_string(),
            None => default_origin(name),
        };
        if let Some((other, o)) = origins.iter().find(|(_, o)| *o != origin) {
            bail!("hub {name:?} has two origins: {:?} to hub {:?}, {o:?} to hub {other:?}", origin, origins[0].0);
        }
        let folder_name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let members = decks[i].federation().map(|f| f.agencies.clone()).unwrap_or_default();
        plans.push(Plan { name: name.to_string(), folder: folder_name, example: file, origin, members });
    }
    Ok(plans)
}

/// Binds `count` listeners on `first`'s address, on its port and the next ones (all on free
/// ports when its port is 0); the error names the address that could not be bound.
fn bind(first: SocketAddr, count: usize) -> Result<Vec<std::net::TcpListener>, (SocketAddr, std::io::Error)> {
    let mut out = Vec::new();
    for i in 0..count {
        let port = match first.port() {
            0 => 0,
            p => match u16::try_from(usize::from(p) + i) {
                Ok(p) => p,
                Err(_) => {
                    let e = std::io::Error::new(std::io::ErrorKind::InvalidInput, "the port is above 65535");
                    return Err((SocketAddr::new(first.ip(), p), e));
                }
            },
        };
        let addr = SocketAddr::new(first.ip(), port);
        out.push(std::net::TcpListener::bind(addr).map_err(|e| (addr, e))?);
    }
    Ok(out)
}

/// The URL the hubs and a user on this machine reach `addr` at (the loopback address for an
/// unspecified one).
fn url_of(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("https://{}", SocketAddr::new(ip, addr.port()))
}

/// Gives every data directory the same subject key (`DATA/subject.key`): the one some already
/// hold, else a new one. Hubs whose keys already differ are an error: their ledgers' subject hashes
/// could not be matched.
fn share_subject_key(datas: &[&Path]) -> anyhow::Result<()> {
    let file = |d: &Path| d.join(hub::keys::SUBJECT_KEY_FILE);
    let mut key: Option<(String, PathBuf)> = None;
    for d in datas {
        if let Ok(text) = std::fs::read_to_string(file(d)) {
            let text = text.trim().to_string();
            match &key {
                Some((k, at)) if *k != text => {
                    bail!("{} and {} hold different subject keys", at.display(), file(d).display())
                }
                Some(_) => {}
                None => key = Some((text, file(d))),
            }
        }
    }
    let key = match key {
        Some((k, _)) => k,
        None => hub::keys::to_hex(&hub::keys::random_bytes::<32>()?),
    };
    if hub::keys::SubjectKey::from_hex(&key).is_none() {
        bail!("the subject key is not 64 hex digits");
    }
    for d in datas {
        if !file(d).exists() {
            federation_certs::write_private(&file(d), &format!("{key}\n"))?;
        }
    }
    Ok(())
}

/// The hub's deployment for the run: the example with `extends` pointing at a copy of its base
/// beside it (`base.toml`, so that the run folder stands alone), each peer's `url` where that hub
/// listens and its `vkey` filled in. Comments are kept.
fn run_deployment(
    example: &Path,
    config: &Path,
    peers: &[(String, String, String)], // (name, url, vkey)
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(example).with_context(|| format!("cannot read {}", example.display()))?;
    let mut doc: toml_edit::DocumentMut =
        text.parse().with_context(|| format!("{}: not a TOML document", example.display()))?;
    if let Some(base) = doc.get("extends").and_then(|v| v.as_str()) {
        let from = example.parent().unwrap_or(Path::new(".")).join(base);
        let to = config.join("base.toml");
        std::fs::copy(&from, &to).with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
        doc["extends"] = toml_edit::value("base.toml");
    }
    if let Some(tables) = doc.get_mut("peer").and_then(|p| p.as_array_of_tables_mut()) {
        for t in tables.iter_mut() {
            let name = t.get("name").and_then(|n| n.as_str()).unwrap_or_default().to_string();
            if let Some((_, url, vkey)) = peers.iter().find(|(n, _, _)| *n == name) {
                t["url"] = toml_edit::value(url.as_str());
                t["vkey"] = toml_edit::value(vkey.as_str());
            }
        }
    }
    let out = config.join(model::Deployment::FILE);
    let header = format!(
        "# Written by `fusionguard demo --federation` from {}: `extends` names the copy of its base\n\
         # beside this file, and each peer's `url` and `vkey` are those of this run's hubs.\n\n",
        example.display()
    );
    std::fs::write(&out, header + &doc.to_string()).with_context(|| format!("cannot write {}", out.display()))
}

/// Writes the synthetic data of the sources the hub's members own (the others are a peer's, or
/// no hub's), unless the data directory already has its sources.
fn write_sources(data: &Path, deployment: &model::Deployment, members: &[String]) -> anyhow::Result<()> {
    let dir = data.join(hub::sources::SOURCES_DIR);
    if dir.exists() {
        return Ok(());
    }
    hub::keys::create_private_dir(&dir)?;
    let db = dir.join(hub::sources::EMBEDDED_DB);
    for s in deployment.sources().iter().filter(|s| members.contains(&s.owner)) {
        hub::sources::write_table(&db, &s.id, &hub::sources::synthetic_rows(s, hub::sources::SYNTHETIC_SEED))?;
    }
    Ok(())
}

/// The federation demo's users: (agency, user, role, what they show). Each gets a token at the
/// hub whose member its agency is.
const USERS: &[(&str, &str, &str, &str)] = &[
    ("oc-sheriff", "det-ramos", "detective", "a lawful ALPR lookup at its own hub: permit, data returned"),
    ("lapd-oig", "inspector-ng", "auditor", "an inspector general: the ca hub's console, ledger and audit pages"),
    ("denver-pd", "det-lee", "detective", "Denver asks for California DMV records: forwarded to ca, permitted"),
    ("tx-dps", "trooper-diaz", "analyst", "Texas asks for California data on behalf of ICE"),
    ("ice-ero", "ero-officer", "deportation_officer", "ICE itself, a member of the tx hub"),
];

/// The example requests written to `RUN/examples/`.
fn examples() -> Vec<(String, String)> {
    use serde_json::json;
    let none = json!({"kind": "none", "reference": null, "issued_by": null});
    let ex = crate::hub_cmd::example;
    vec![
        crate::hub_cmd::sheriff_alpr(),
        ex(
            "denver-ca-dmv.json",
            json!({
            "requester": {"id": "det-lee", "agency": "denver-pd", "role": "detective"},
            "source": "ca-dmv-records", "action": "lookup", "purpose": "criminal_investigation",
            "justification": "Homicide 24-0311: the suspect's California licence and last address", "case_number": "DPD-24-0311",
            "legal_basis": none, "subject": {"kind": "name", "value": "J. Doe"}}),
        ),
        ex(
            "tx-for-hsi-ca-alpr.json",
            json!({
            "requester": {"id": "trooper-diaz", "agency": "tx-dps", "role": "analyst"},
            "on_behalf_of": [{"id": "hsi-agent", "agency": "ice-hsi"}],
            "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
            "justification": "Narcotics trafficking investigation: where the suspect vehicle has been seen", "case_number": "HSI-2026-0042",
            "legal_basis": {"kind": "judicial_warrant", "reference": "W-2026-117", "issued_by": "U.S. District Court, W.D. Tex."},
            "subject": {"kind": "plate", "value": "7ABC123"}}),
        ),
        ex(
            "tx-for-ice-ca-dmv.json",
            json!({
            "requester": {"id": "trooper-diaz", "agency": "tx-dps", "role": "analyst"},
            "on_behalf_of": [{"id": "ero-officer", "agency": "ice-ero"}],
            "source": "ca-dmv-records", "action": "lookup", "purpose": "civil_immigration_enforcement",
            "justification": "ICE ERO asks for the address on a California licence", "case_number": null,
            "legal_basis": none, "subject": {"kind": "name", "value": "J. Doe"}}),
        ),
    ]
}

/// `fusionguard demo --federation`.
pub fn run(options: Options) -> anyhow::Result<ExitCode> {
    let plans = plan(&options.federation)?;
    let first = options.listen.unwrap_or(DEFAULT_LISTEN);
    let listeners = match bind(first, plans.len()) {
        Ok(l) => l,
        Err((addr, e)) if options.listen.is_some() => bail!("cannot listen on {addr}: {e}"),
        Err((addr, e)) => {
            eprintln!("{addr} is not available ({e}); using free ports");
            let any = SocketAddr::new(first.ip(), 0);
            bind(any, plans.len()).map_err(|(addr, e)| anyhow::anyhow!("cannot listen on {addr}: {e}"))?
        }
    };
    let run = match options.run {
        Some(d) => d,
        None => {
            let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            std::env::temp_dir().join(format!("fusionguard-federation-{stamp}-{}", std::process::id()))
        }
    };
    hub::keys::create_private_dir(&run)?;
    let run = std::path::absolute(&run).with_context(|| format!("cannot resolve {}", run.display()))?;

    // Ledgers first: each hub's deployment names its peers' verifier keys.
    let mut made = Vec::new();
    for (plan, listener) in plans.into_iter().zip(listeners) {
        let dir = run.join(&plan.folder);
        let (config, data) = (dir.join("config"), dir.join("data"));
        hub::keys::create_private_dir(&config)?;
        hub::keys::create_private_dir(&data)?;
        let vkey = hub::init_ledger(&data, &plan.origin)?;
        if !vkey.starts_with(&format!("{}+", plan.origin)) {
            bail!(
                "{}: the ledger there is not hub {:?}'s (origin {:?}); use a fresh --data",
                data.display(),
                plan.name,
                plan.origin
            );
        }
        let url = url_of(listener.local_addr()?);
        made.push((plan, listener, url, config, data, vkey));
    }
    let datas: Vec<&Path> = made.iter().map(|m| m.4.as_path()).collect();
    share_subject_key(&datas)?;
    let peers: Vec<(String, String, String)> =
        made.iter().map(|(p, _, url, _, _, vkey)| (p.name.clone(), url.clone(), vkey.clone())).collect();

    let ca = FederationCa::generate()?;
    let ca_dir = run.join("federation-ca");
    ca.write(&ca_dir)?;
    let mut names: Vec<String> = federation_certs::LOOPBACK_NAMES.iter().map(|s| s.to_string()).collect();
    if !first.ip().is_unspecified() && !names.contains(&first.ip().to_string()) {
        names.push(first.ip().to_string());
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (mut hubs, mut listeners) = (Vec::new(), Vec::new());
    for (plan, listener, url, config, data, vkey) in made {
        run_deployment(&plan.example, &config, &peers)?;
        let deployment = model::Deployment::load(&config)?;
        let Some(fed) = deployment.federation() else { bail!("{}: no [federation] table", config.display()) };
        let cert = ca.hub_cert(&fed.name, &names)?;
        federation_certs::write_hub_files(&ca, &cert, HubPaths { ca: &fed.ca, cert: &fed.cert, key: &fed.key })?;
        write_sources(&data, &deployment, &plan.members)?;
        hubs.push(Ready { plan, url, config, data, vkey, deployment });
        listeners.push(listener);
    }
    let examples_dir = run.join("examples");
    std::fs::create_dir_all(&examples_dir)?;
    for (name, body) in examples() {
        std::fs::write(examples_dir.join(name), body + "\n")?;
    }

    // Open the hubs side by side (each loads the law library).
    let opened: Vec<anyhow::Result<Hub>> = std::thread::scope(|s| {
        let tasks: Vec<_> = hubs
            .iter()
            .map(|h| {
                let mut o = HubOptions::new(h.config.clone(), options.laws.clone(), h.data.clone());
                o.origin = h.plan.origin.clone();
                o.limits = options.limits;
                o.upload_limit = options.upload_limit;
                let name = h.plan.name.clone();
                s.spawn(move || Hub::open(o).with_context(|| format!("cannot start hub {name:?}")))
            })
            .collect();
        tasks
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a hub panicked while opening"))))
            .collect()
    });
    let opened: Vec<Hub> = opened.into_iter().collect::<anyhow::Result<_>>()?;
    let mut tokens = Vec::new();
    for h in &hubs {
        let store = hub::store::FileStore::tokens_only(&h.data);
        for (agency, user, role, what) in USERS {
            if h.plan.members.iter().any(|m| m == agency) && h.deployment.agency(agency).is_some() {
                let (token, _) = hub::tokens::issue(&store, agency, user, role, 24 * 3600)?;
                tokens.push((h.plan.name.clone(), *agency, *user, *role, *what, token));
            }
        }
    }
    if !options.limits {
        println!("LIMITS OFF: no request rates or held-review quotas are enforced (for benchmarks only)");
    }

    let rt = crate::hub_cmd::runtime()?;
    rt.block_on(async move {
        // Ctrl-C is caught from here on (before anything says the hubs are up).
        let mut sigint =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).context("cannot catch Ctrl-C")?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        for ((h, hub), listener) in hubs.iter().zip(opened).zip(listeners) {
            let Some(files) = hub.federation_tls() else {
                bail!("hub {:?} opened without its [federation] table", h.plan.name);
            };
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let mut stopped = stopped.clone();
            let name = h.plan.name.clone();
            tasks.spawn(async move {
                let shutdown = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                (name, hub.serve_tls(listener, files, shutdown).await)
            });
        }
        print_banner(&run, &hubs, &tokens, &ca_dir.join("ca.pem"));
        let mut failed = Vec::new();
        tokio::select! {
            _ = sigint.recv() => {}
            Some(ended) = tasks.join_next() => failed.push(ended),
        }
        let _ = stop.send(true);
        while let Some(ended) = tasks.join_next().await {
            failed.push(ended);
        }
        let mut errors = Vec::new();
        for ended in failed {
            match ended {
                Ok((_, Ok(()))) => {}
                Ok((name, Err(e))) => errors.push(format!("hub {name:?}: {e}")),
                Err(e) => errors.push(format!("a hub stopped abnormally: {e}")),
            }
        }
        if !errors.is_empty() {
            bail!("{}", errors.join("; "));
        }
        println!("\nstopped. The ledgers, tokens and synthetic sources stay in {}", run.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// The line scripts read: `{"hubs": [{"name", "url", "origin", "vkey", "data", "config"}, ...],
/// "ca": PATH}`.
fn summary(hubs: &[Ready], ca: &Path) -> String {
    let list: Vec<serde_json::Value> = hubs
        .iter()
        .map(|h| {
            serde_json::json!({
                "name": h.plan.name, "url": h.url, "origin": h.plan.origin, "vkey": h.vkey,
                "data": h.data.display().to_string(), "config": h.config.display().to_string(),
            })
        })
        .collect();
    serde_json::json!({"hubs": list, "ca": ca.display().to_string()}).to_string()
}

fn print_banner(run: &Path, hubs: &[Ready], tokens: &[(String, &str, &str, &str, &str, String)], ca: &Path) {
    let hub_url = |name: &str| hubs.iter().find(|h| h.plan.name == name).map(|h| h.url.clone());
    let ex = run.join("examples");
    println!(
        "FusionGuard federation demo: the seed world split between {} hubs, with synthetic data (no real person).",
        hubs.len()
    );
    println!();
    for h in hubs {
        println!("  hub {:<4} {}   members: {}", h.plan.name, h.url, h.plan.members.join(", "));
        println!("           config {}   data {}", h.config.display(), h.data.display());
    }
    println!();
    println!("Each hub serves HTTPS with a certificate of the run's federation CA ({}):", ca.display());
    println!("pass it to curl as --cacert; hubs present their certificates to each other (mutual TLS).");
    println!();
    println!("Access tokens (valid 24 h; issue more with `fusionguard token issue --config CONFIG --data DATA --agency ID --user ID` and a hub's folders above):");
    for (hub, agency, user, role, what, token) in tokens {
        println!("  at {hub}: {agency}/{user} ({role}): {what}");
        println!("    export T_{}={token}", user.replace('-', "_").to_uppercase());
    }
    println!();
    let curl = format!("curl -s --cacert {}", ca.display());
    if let Some(ca_url) = hub_url("ca") {
        println!("Try:");
        println!("  {curl} {ca_url}/healthz");
        println!(
            "  {curl} -H \"Authorization: Bearer $T_DET_RAMOS\" -d @{}/8-sheriff-alpr.json {ca_url}/v1/requests   # local: permit",
            ex.display()
        );
    }
    if let Some(co_url) = hub_url("co") {
        println!(
            "  {curl} -H \"Authorization: Bearer $T_DET_LEE\" -d @{}/denver-ca-dmv.json {co_url}/v1/requests",
            ex.display()
        );
        println!("      # forwarded to ca, which permits it: the data, with three ledger receipts (co outbound, ca inbound, co peer_receipt)");
    }
    if let Some(tx_url) = hub_url("tx") {
        println!(
            "  {curl} -H \"Authorization: Bearer $T_TROOPER_DIAZ\" -d @{}/tx-for-hsi-ca-alpr.json {tx_url}/v1/requests",
            ex.display()
        );
        println!("      # for ICE HSI, with a warrant: Texas lets it pass, California's ALPR law denies it (its receipts say so)");
        println!(
            "  {curl} -H \"Authorization: Bearer $T_TROOPER_DIAZ\" -d @{}/tx-for-ice-ca-dmv.json {tx_url}/v1/requests",
            ex.display()
        );
        println!("      # for ICE ERO, civil immigration: denied at tx already by the source's data-sharing agreement; never sent");
    }
    println!();
    println!("Each hub's ledger: `fusionguard ledger verify --tiles URL/ledger --vkey VKEY` (VKEY below, or URL/v1/ledger/key);");
    println!("run folder: {}", run.display());
    println!();
    println!("For scripts, the hubs as one JSON object:");
    println!("{}", summary(hubs, ca));
    println!("Press Ctrl-C to stop all {}.", hubs.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// The example federation: each hub's peers are the other hubs, listed with exactly the
    /// members those hubs declare and the sources those members own; no source is served twice.
    #[test]
    fn the_example_federation_is_consistent() {
        let plans = plan(&repo().join("examples/federation")).unwrap();
        let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ca", "co", "tx"]);
        let decks: Vec<model::Deployment> =
            plans.iter().map(|p| model::Deployment::load(&p.example).unwrap()).collect();
        let mut owners = std::collections::HashMap::new();
        for (plan, d) in plans.iter().zip(&decks) {
            assert_eq!(plan.origin, default_origin(&plan.name));
            let owned: Vec<&str> =
                d.sources().iter().filter(|s| plan.members.contains(&s.owner)).map(|s| s.id.as_str()).collect();
            for s in &owned {
                assert_eq!(owners.insert(s.to_string(), plan.name.clone()), None, "{s} is served by two hubs");
            }
            for (other, od) in plans.iter().zip(&decks) {
                if other.name == plan.name {
                    assert!(od.peers().iter().all(|p| p.name != plan.name));
                    continue;
                }
                let p = od.peers().iter().find(|p| p.name == plan.name).unwrap();
                assert_eq!(p.agencies, plan.members, "{} lists {}'s members", other.name, plan.name);
                assert_eq!(p.sources, owned, "{} lists {}'s sources", other.name, plan.name);
                assert!(p.vkey.is_none(), "the demo fills in the keys");
            }
            // Every member is an agency of its hub's state, or federal (at tx).
            let law = &d.federation().unwrap().law;
            for m in &plan.members {
                let j = d.agency(m).unwrap().jurisdiction.key();
                assert!(law.contains(&j) || (plan.name == "tx" && j == "US"), "{m} ({j}) at {}", plan.name);
            }
        }
        assert_eq!(owners.get("ca-dmv-records").map(String::as_str), Some("ca"));
        assert_eq!(owners.get("denver-rms").map(String::as_str), Some("co"));
        // Other states' sources are no hub's.
        assert!(!owners.contains_key("il-alpr"));
    }

    #[test]
    fn the_listeners_take_consecutive_ports_and_a_taken_one_is_named() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap();
        // The port after a bound one is what fails, and is named.
        let at = SocketAddr::new(addr.ip(), addr.port() - 1);
        match bind(at, 3) {
            Err((bad, _)) => assert!(bad == addr || bad.port() == at.port(), "{bad}"),
            Ok(_) => panic!("{addr} is taken"),
        }
        let any = bind("127.0.0.1:0".parse().unwrap(), 3).unwrap();
        assert_eq!(any.len(), 3);
        let last = SocketAddr::new(addr.ip(), 65535);
        assert!(bind(last, 2).is_err());
        assert_eq!(url_of("0.0.0.0:8443".parse().unwrap()), "https://127.0.0.1:8443");
        assert_eq!(url_of("[::]:8443".parse().unwrap()), "https://[::1]:8443");
    }

    #[test]
    fn a_run_deployment_points_at_its_base_and_its_peers() {
        let dir = tempfile::tempdir().unwrap();
        let example = repo().join("examples/federation/co/deployment.toml");
        let peers = vec![
            (
                "ca".to_string(),
                "https://127.0.0.1:9000".to_string(),
                "fusionguard.example/ca+00000000+AAAA".to_string(),
            ),
            (
                "tx".to_string(),
                "https://127.0.0.1:9002".to_string(),
                "fusionguard.example/tx+00000000+BBBB".to_string(),
            ),
        ];
        run_deployment(&example, dir.path(), &peers).unwrap();
        let d = model::Deployment::load(dir.path()).unwrap();
        assert!(d.agency("denver-pd").is_some(), "the base is read");
        let ca = d.peers().iter().find(|p| p.name == "ca").unwrap();
        assert_eq!((ca.url.as_str(), ca.vkey.as_deref()), ("https://127.0.0.1:9000", Some(peers[0].2.as_str())));
        assert_eq!(d.federation().unwrap().cert, dir.path().join("tls/hub.pem"));
        let text = std::fs::read_to_string(dir.path().join("deployment.toml")).unwrap();
        assert!(text.contains("extends = \"base.toml\"") && text.contains("# Its members"), "{text}");
    }

    #[test]
    fn hubs_share_one_subject_key_and_refuse_two() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).unwrap();
        }
        share_subject_key(&[&a, &b]).unwrap();
        let read = |d: &Path| std::fs::read_to_string(d.join(hub::keys::SUBJECT_KEY_FILE)).unwrap();
        assert_eq!(read(&a), read(&b));
        let ka = hub::keys::SubjectKey::load_or_create(&a).unwrap();
        let kb = hub::keys::SubjectKey::load_or_create(&b).unwrap();
        assert_eq!(ka.hash("plate", "7ABC123"), kb.hash("plate", "7ABC123"));
        // A third hub joins with the same key; one with another key is refused.
        let c = dir.path().join("c");
        std::fs::create_dir_all(&c).unwrap();
        share_subject_key(&[&a, &b, &c]).unwrap();
        assert_eq!(read(&c), read(&a));
        std::fs::remove_file(c.join(hub::keys::SUBJECT_KEY_FILE)).unwrap();
        hub::keys::SubjectKey::load_or_create(&c).unwrap();
        let err = share_subject_key(&[&a, &c]).unwrap_err().to_string();
        assert!(err.contains("different subject keys"), "{err}");
    }
}
