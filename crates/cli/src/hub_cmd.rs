//! `fusionguard demo`, `serve` and `token`: run the sharing hub and manage its bearer tokens.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use hub::{Hub, HubOptions};

/// Arguments of `fusionguard demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Start a federation of hubs instead of one: the hubs of `examples/federation/` (California,
    /// Colorado, Texas), each with its own data directory and ledger, serving HTTPS on PORT, PORT+1
    /// and PORT+2 of --listen with certificates of a CA made for the run.
    #[arg(long)]
    federation: bool,
    /// The deployment directory (default examples/seed-world); with --federation, the folder that
    /// holds one folder per hub (default examples/federation).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The law library directory.
    #[arg(long, default_value = "laws")]
    laws: PathBuf,
    /// Data directory (default: a fresh folder under the system's temporary directory); with
    /// --federation, the run folder that holds each hub's config/ and data/.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on, `HOST:PORT` (`localhost:8080` too; default 127.0.0.1:8080, and with
    /// --federation 127.0.0.1:8443 for the first hub, the next ports for the others). If the
    /// default port is taken, a free one is used; with --federation, a port given here must be free.
    #[arg(long, value_parser = parse_listen)]
    listen: Option<SocketAddr>,
    /// `off` lifts the deployment's request rates and held-review quotas (load benchmarks only).
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    limits: String,
    /// The largest file an auditor may upload to the console's audit page, in MiB.
    #[arg(long, default_value_t = hub::HubOptions::new(".".into(), ".".into(), ".".into()).upload_limit >> 20,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    max_upload_mib: u64,
}

/// Arguments of `fusionguard serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The deployment directory (holding deployment.toml).
    #[arg(long)]
    config: PathBuf,
    /// The law library directory.
    #[arg(long, default_value = "laws")]
    laws: PathBuf,
    /// Data directory: ledger, keys, tokens, review queue, sources/ (with --store: sources only).
    #[arg(long)]
    data: PathBuf,
    /// Keep the ledger, tokens, review queue and keys in PostgreSQL (`postgres://USER@HOST:PORT/DB`
    /// or `host=... dbname=...`), shared by every replica serving the region; needs --schema.
    #[arg(long, requires = "schema")]
    store: Option<String>,
    /// The PostgreSQL schema of the region (lower-case letters, digits and _).
    #[arg(long, requires = "store")]
    schema: Option<String>,
    /// The sources database instead of DATA/sources/embedded.sqlite: a PostgreSQL URL or libpq
    /// string, or the path of a SQLite file.
    #[arg(long)]
    sources_db: Option<String>,
    /// Address to listen on, `HOST:PORT` (`localhost:8080` too).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    listen: SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. A deployment with a
    /// [federation] table serves HTTPS with its federation certificate when this is not given.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Accept client certificates signed by this CA (PEM): subject O = agency, CN = user, OU = role.
    #[arg(long, requires = "tls_cert")]
    client_ca: Option<PathBuf>,
    /// A certificate revocation list (PEM) of the client CA; repeat for several. Certificates it
    /// revokes, or whose status it cannot tell, fail the handshake. The TLS files are re-read when
    /// they change (checked every second).
    #[arg(long, requires = "client_ca")]
    client_crl: Vec<PathBuf>,
    /// The ledger's origin (name in checkpoints), used when the ledger is created.
    #[arg(long, default_value = "fusionguard.local/hub")]
    origin: String,
    /// Milliseconds between checkpoints while the ledger grows.
    #[arg(long, default_value_t = 1000)]
    checkpoint_ms: u64,
    /// Microseconds the ledger's writer gathers appends under load before each durable write
    /// (more requests per flush, a little latency; a lone request is never delayed; 0: off).
    #[arg(long, default_value_t = hub::DEFAULT_COMMIT_DELAY.as_micros() as u64,
          value_parser = clap::value_parser!(u64).range(0..=100_000))]
    commit_delay_us: u64,
    /// `on` enforces the deployment's `[limits]` (requests a second per token and per agency, held
    /// reviews outstanding); `off` lifts them, for load benchmarks only (said on start).
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    limits: String,
    /// Most connections open at once; over it, new connections are closed when accepted.
    #[arg(long, default_value_t = hub::serve::Connections::default().max as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Seconds a client has to send a request's headers (also how long an idle keep-alive
    /// connection is kept).
    #[arg(long, default_value_t = hub::serve::Connections::default().header_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout_secs: u64,
    /// The largest file an auditor may upload to the console's audit page, in MiB.
    #[arg(long, default_value_t = hub::HubOptions::new(".".into(), ".".into(), ".".into()).upload_limit >> 20,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    max_upload_mib: u64,
}

/// Arguments of `fusionguard sources`.
#[derive(clap::Args)]
pub struct SourcesArgs {
    #[command(subcommand)]
    command: SourcesCommand,
}

#[derive(clap::Subcommand)]
enum SourcesCommand {
    /// Import a CSV file (header line first) as the table of one source in the embedded store
    /// DATA/sources/embedded.sqlite, replacing that source's table in one transaction. A running
    /// hub serves the new rows within a second; a source it had no table for, from its next
    /// start. DATA/sources/ID.csv, if it exists, takes precedence.
    #[command(
        after_help = "Examples:\n  fusionguard sources import --config examples/seed-world --data DATA --source ociac-alpr reads.csv"
    )]
    Import {
        /// The deployment directory (the source must be registered there).
        #[arg(long)]
        config: PathBuf,
        /// Data directory of the hub.
        #[arg(long)]
        data: PathBuf,
        /// Source id.
        #[arg(long)]
        source: String,
        /// The CSV file.
        file: PathBuf,
    },
}

/// `fusionguard sources ...`.
pub fn sources(args: SourcesArgs) -> anyhow::Result<ExitCode> {
    let SourcesCommand::Import { config, data, source, file } = args.command;
    let deployment = model::Deployment::load(&crate::embedded::config(&config)?)?;
    let Some(s) = deployment.source(&source) else {
        bail!("source {source:?} is not registered in {}", config.display());
    };
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
            bail!("{}: line {line}: not UTF-8 text (save the export as UTF-8)", file.display());
        }
    };
    if text.trim().is_empty() {
        bail!("{}: the file is empty (expected a header line, then one line per record)", file.display());
    }
    let rows = hub::sources::parse_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let header: Vec<&str> = rows.first().map(|h| h.iter().map(|c| c.trim()).collect()).unwrap_or_default();
    hub::sources::check_columns(s, &header, &file.display().to_string())?;
    // Data minimisation: only the declared fields (and the columns a subject is matched on) are
    // stored; the others are dropped, named.
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| s.fields.iter().any(|f| f == header[i]) || hub::sources::KEY_COLUMNS.contains(&header[i]))
        .collect();
    let dropped: Vec<&str> = (0..header.len()).filter(|i| !keep.contains(i)).map(|i| header[i]).collect();
    if !dropped.is_empty() {
        eprintln!(
            "warning: {}: column(s) {} are not fields of source {source:?} in the deployment: not stored",
            file.display(),
            dropped.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
        );
    }
    let rows: Vec<Vec<String>> =
        rows.iter().map(|r| keep.iter().map(|&i| r.get(i).cloned().unwrap_or_default()).collect()).collect();
    let dir = data.join(hub::sources::SOURCES_DIR);
    hub::keys::create_private_dir(&data).and_then(|()| hub::keys::create_private_dir(&dir))?;
    let db = dir.join(hub::sources::EMBEDDED_DB);
    let n = hub::sources::write_table(&db, &source, &rows).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    println!("imported {n} rows of {} into {}, table {source:?}", file.display(), db.display());
    Ok(ExitCode::SUCCESS)
}

/// Where the tokens are: a data directory or a PostgreSQL schema.
#[derive(clap::Args)]
#[group(required = true, multiple = true)]
struct StoreArgs {
    /// Data directory of the hub (or --store with --schema).
    #[arg(long, conflicts_with = "store", value_name = "DIR")]
    data: Option<PathBuf>,
    /// The hub's PostgreSQL store, with --schema (as for `serve --store`).
    #[arg(long, requires = "schema", value_name = "URL")]
    store: Option<String>,
    /// The PostgreSQL schema, with --store (as for `serve --schema`).
    #[arg(long, requires = "store", value_name = "NAME")]
    schema: Option<String>,
}

impl StoreArgs {
    /// The hub's store, for its token records (a data directory's files are read and written
    /// beside a running hub: the queues it appends to are left alone).
    fn open(self) -> anyhow::Result<Box<dyn hub::store::Store>> {
        match (self.data, self.store, self.schema) {
            (Some(d), None, None) => Ok(Box::new(hub::store::FileStore::tokens_only(&d))),
            (None, Some(store), Some(schema)) => {
                let store = hub::pgstate::PgStore::new(&store, &schema)?;
                Ok(Box::new(hub::pgstate::PgState::connect(&store).context("cannot reach the token store")?))
            }
            _ => bail!("give either --data DIR or --store URL --schema NAME"),
        }
    }

    fn describe(&self) -> String {
        match (&self.data, &self.schema) {
            (Some(d), _) => d.display().to_string(),
            (_, Some(s)) => format!("schema {s}"),
            _ => String::new(),
        }
    }
}

/// A `--listen` address: an IP address and port, or a host name (`localhost`) and port, resolved
/// to its first address (IPv4 first).
fn parse_listen(given: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = given.parse() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(given).map_err(|e| format!("{given}: not HOST:PORT ({e})"))?.collect();
    addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied().ok_or_else(|| format!("{given}: no address"))
}

/// Arguments of `fusionguard token`.
#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(clap::Subcommand)]
enum TokenCommand {
    /// Issue a bearer token for one user of one agency; prints the token (shown once) on the last line.
    #[command(
        after_help = "Examples:\n  fusionguard token issue --config examples/seed-world --data DATA --agency lapd --user det-1 --role detective",
        override_usage = "fusionguard token issue --config DIR (--data DIR | --store URL --schema NAME) --agency ID --user ID [--role ROLE] [--ttl-hours N]"
    )]
    Issue {
        /// The deployment directory (the agency must be registered there).
        #[arg(long)]
        config: PathBuf,
        #[command(flatten)]
        at: StoreArgs,
        /// Agency id.
        #[arg(long)]
        agency: String,
        /// User id within the agency.
        #[arg(long)]
        user: String,
        /// Role (`supervisor` may approve or deny reviews for the agency's sources).
        #[arg(long, default_value = "analyst", value_parser = clap::builder::PossibleValuesParser::new(model::vocab::ROLES))]
        role: String,
        /// Hours until the token expires (at least 1).
        #[arg(long, default_value_t = 24 * 30, value_parser = clap::value_parser!(u64).range(1..))]
        ttl_hours: u64,
    },
    /// Revoke a token by its id (the 16 hex digits after `fgt_`); a running hub stops accepting it within a second.
    #[command(
        after_help = "Examples:\n  fusionguard token revoke --data DATA --id 0123456789abcdef\n  fusionguard token revoke --data DATA --id fgt_0123456789abcdef",
        override_usage = "fusionguard token revoke (--data DIR | --store URL --schema NAME) --id ID"
    )]
    Revoke {
        #[command(flatten)]
        at: StoreArgs,
        /// Token id: as `token list` prints it, as the token begins (`fgt_<id>`), or the whole token.
        #[arg(long)]
        id: String,
    },
    /// List tokens (ids, users, agencies, expiry; never the tokens).
    #[command(
        after_help = "Examples:\n  fusionguard token list --data DATA",
        override_usage = "fusionguard token list (--data DIR | --store URL --schema NAME)"
    )]
    List {
        #[command(flatten)]
        at: StoreArgs,
    },
}

/// A multi-threaded runtime with every driver (I/O, time, signals).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

async fn ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}

/// `fusionguard serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut options =
        HubOptions::new(crate::embedded::config(&args.config)?, crate::embedded::laws(&args.laws)?, args.data.clone());
    options.origin = args.origin;
    options.checkpoint_interval = Duration::from_millis(args.checkpoint_ms.max(10));
    options.commit_delay = Duration::from_micros(args.commit_delay_us);
    options.sources_db = args.sources_db.clone();
    options.limits = args.limits == "on";
    options.connections.max = usize::try_from(args.max_connections)?;
    options.connections.header_timeout = Duration::from_secs(args.header_timeout_secs);
    options.upload_limit = args.max_upload_mib << 20;
    if let (Some(store), Some(schema)) = (&args.store, &args.schema) {
        options.store = Some(hub::pgstate::PgStore::new(store, schema)?);
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let files = hub::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: args.client_ca.clone(),
                client_crls: args.client_crl.clone(),
            };
            files.config()?; // refused before anything starts
            Some(files)
        }
        _ => None,
    };
    let hub = Hub::open(options).context("cannot start the hub")?;
    // A federated hub serves HTTPS with its [federation] certificate unless --tls-cert says otherwise.
    let tls = tls.or_else(|| hub.federation_tls());
    let rt = runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("fusionguard hub listening on {scheme}://{addr}");
        if args.client_ca.is_some() {
            println!("client certificates accepted (subject O = agency, CN = user, OU = role)");
        }
        if args.limits == "off" {
            println!("LIMITS OFF: no request rates or held-review quotas are enforced (for benchmarks only)");
        }
        println!("ledger verifier key: {}", hub.vkey());
        if let Some(schema) = &args.schema {
            println!("ledger, tokens and reviews in PostgreSQL schema {schema} (shared with every replica)");
        }
        println!("{} sources connected from {}", hub.connected_sources(), args.data.join("sources").display());
        match tls {
            Some(files) => hub.serve_tls(listener, files, ctrl_c()).await?,
            None => hub.serve(listener, ctrl_c()).await?,
        }
        println!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// The demo's users: (agency, user, role, what they show).
const DEMO_USERS: &[(&str, &str, &str, &str)] = &[
    ("oc-sheriff", "det-ramos", "detective", "a lawful ALPR lookup (scenario 8): permit, data returned"),
    ("ice-ero", "ero-officer", "deportation_officer", "the 2018 Orange County plate request (scenario 1): deny"),
    ("ice-ero", "lesc-analyst", "analyst", "the South Carolina DMV photo (scenario 7): permit"),
    ("denver-pd", "det-lee", "detective", "an out-of-state CalGang query: held for review"),
    ("lapd", "sgt-ortiz", "supervisor", "LAPD supervisor: approves or denies CalGang reviews"),
    ("lapd-oig", "inspector-ng", "auditor", "an inspector general: the console's ledger and audit pages"),
];

/// An example request file: its name and its pretty-printed JSON.
pub(crate) fn example(name: &str, body: serde_json::Value) -> (String, String) {
    (name.to_string(), serde_json::to_string_pretty(&body).unwrap_or_default())
}

/// The seed world's scenario 8, an Orange County sheriff's detective's ALPR lookup (a local permit),
/// as a demo's example file.
pub(crate) fn sheriff_alpr() -> (String, String) {
    use serde_json::json;
    example(
        "8-sheriff-alpr.json",
        json!({
        "requester": {"id": "det-ramos", "agency": "oc-sheriff", "role": "detective"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "Armed robbery 2024-118: suspect vehicle seen leaving the scene", "case_number": "OCSD-2024-118",
        "legal_basis": {"kind": "none", "reference": null, "issued_by": null}, "subject": {"kind": "plate", "value": "7ABC123"}}),
    )
}

fn demo_examples() -> Vec<(String, String)> {
    use serde_json::json;
    let none = json!({"kind": "none", "reference": null, "issued_by": null});
    vec![
        sheriff_alpr(),
        example(
            "1-ice-alpr.json",
            json!({
            "requester": {"id": "ero-officer", "agency": "ice-ero", "role": "deportation_officer"},
            "source": "ociac-alpr", "action": "lookup", "purpose": "civil_immigration_enforcement",
            "justification": "please run [CA plate]", "case_number": null,
            "legal_basis": none, "subject": {"kind": "plate", "value": "7ABC123"}}),
        ),
        example(
            "7-sc-dmv-photo.json",
            json!({
            "requester": {"id": "lesc-analyst", "agency": "ice-ero", "role": "analyst"},
            "source": "sc-dmv-photos", "action": "lookup", "purpose": "civil_immigration_enforcement",
            "justification": "Law Enforcement Support Center request: licence photo and last address", "case_number": null,
            "legal_basis": none, "subject": {"kind": "name", "value": "J. Roe"}}),
        ),
        example(
            "calgang-out-of-state.json",
            json!({
            "requester": {"id": "det-lee", "agency": "denver-pd", "role": "detective"},
            "source": "calgang", "action": "lookup", "purpose": "criminal_investigation",
            "justification": "Homicide 24-0311: suspect reportedly moved from Los Angeles", "case_number": "DPD-24-0311",
            "legal_basis": none, "subject": {"kind": "name", "value": "J. Doe"}}),
        ),
    ]
}

/// `fusionguard demo`.
pub fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.federation {
        let federation = crate::embedded::federation(
            args.config.as_deref().unwrap_or(Path::new(crate::embedded::DEFAULT_FEDERATION)),
        )?;
        return crate::federation_demo::run(crate::federation_demo::Options {
            federation,
            laws: crate::embedded::laws(&args.laws)?,
            run: args.data,
            listen: args.listen,
            limits: args.limits == "on",
            upload_limit: args.max_upload_mib << 20,
        });
    }
    let listen = args.listen.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    let data = match args.data {
        Some(d) => d,
        None => {
            let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            std::env::temp_dir().join(format!("fusionguard-demo-{stamp}-{}", std::process::id()))
        }
    };
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let config = crate::embedded::config(args.config.as_deref().unwrap_or(Path::new(crate::embedded::DEFAULT_CONFIG)))?;
    let laws = crate::embedded::laws(&args.laws)?;
    let deployment = model::Deployment::load(&config)
        .context("cannot load the seed world (run from the repository root, or pass --config)")?;
    if !data.join(hub::sources::SOURCES_DIR).exists() {
        hub::sources::write_synthetic(&data, &deployment, hub::sources::SYNTHETIC_SEED)?;
    }
    let examples_dir = data.join("examples");
    std::fs::create_dir_all(&examples_dir)?;
    for (name, body) in demo_examples() {
        std::fs::write(examples_dir.join(name), body + "\n")?;
    }
    let mut options = HubOptions::new(config, laws, data.clone());
    options.upload_limit = args.max_upload_mib << 20;
    options.origin = "fusionguard.local/demo".into();
    options.limits = args.limits == "on";
    if !options.limits {
        println!("LIMITS OFF: no request rates or held-review quotas are enforced (for benchmarks only)");
    }
    let hub = Hub::open(options)
        .context("cannot start the hub (run from the repository root, or pass --laws and --config)")?;
    let mut tokens = Vec::new();
    let token_store = hub::store::FileStore::tokens_only(&data);
    for (agency, user, role, what) in DEMO_USERS {
        if deployment.agency(agency).is_none() {
            continue;
        }
        let (token, _) = hub::tokens::issue(&token_store, agency, user, role, 24 * 3600)?;
        tokens.push((*agency, *user, *role, *what, token));
    }
    let rt = runtime()?;
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                let fallback = SocketAddr::new(listen.ip(), 0);
                eprintln!("{listen} is not available ({e}); using a free port");
                tokio::net::TcpListener::bind(fallback).await.with_context(|| format!("cannot listen on {fallback}"))?
            }
        };
        let addr = listener.local_addr()?;
        print_banner(&addr, &data, &tokens, hub.vkey());
        hub.serve(listener, ctrl_c()).await?;
        println!("\nstopped. The ledger, tokens and synthetic sources stay in {}", data.display());
        Ok(ExitCode::SUCCESS)
    })
}

fn print_banner(addr: &SocketAddr, data: &Path, tokens: &[(&str, &str, &str, &str, String)], vkey: &str) {
    let url = format!("http://{addr}");
    let ex = data.join("examples");
    println!("FusionGuard demo: the seed world's hub, with synthetic data (no real person).");
    println!();
    println!("Open in a browser:");
    println!("  {url}/console/login    the console: paste one of the tokens below as the access token");
    println!("  {url}/                 the public portal: totals, agencies, law library, receipts");
    println!();
    println!("fusionguard hub listening on {url}");
    println!("data directory: {}", data.display());
    println!();
    println!("Access tokens for the console and the API (valid 24 h; issue more with `fusionguard token issue --config examples/seed-world --data {} --agency ID --user ID`):", data.display());
    for (agency, user, role, what, token) in tokens {
        println!("  {agency}/{user} ({role}): {what}");
        println!("    export T_{}={token}", user.replace('-', "_").to_uppercase());
    }
    println!();
    println!("Try (each request is decided, durably logged, and only then answered):");
    println!(
        "  curl -s -H \"Authorization: Bearer $T_DET_RAMOS\" -d @{}/8-sheriff-alpr.json {url}/v1/requests",
        ex.display()
    );
    println!(
        "  curl -s -H \"Authorization: Bearer $T_ERO_OFFICER\" -d @{}/1-ice-alpr.json {url}/v1/requests",
        ex.display()
    );
    println!(
        "  curl -s -H \"Authorization: Bearer $T_LESC_ANALYST\" -d @{}/7-sc-dmv-photo.json {url}/v1/requests",
        ex.display()
    );
    println!(
        "  curl -s -H \"Authorization: Bearer $T_DET_LEE\" -d @{}/calgang-out-of-state.json {url}/v1/requests",
        ex.display()
    );
    println!("  curl -s -H \"Authorization: Bearer $T_SGT_ORTIZ\" {url}/v1/reviews");
    println!("  curl -s -H \"Authorization: Bearer $T_SGT_ORTIZ\" -d '{{\"decision\":\"approve\",\"reason\":\"homicide case confirmed\"}}' {url}/v1/reviews/ID");
    println!("  curl -s -H \"Authorization: Bearer $T_ERO_OFFICER\" -d @{}/8-sheriff-alpr.json {url}/v1/requests   # 403, logged", ex.display());
    println!();
    println!("Audit the ledger from outside:");
    println!("  fusionguard ledger verify --tiles {url}/ledger --vkey {vkey}");
    println!("  (the verifier key is also at {url}/v1/ledger/key and in {})", data.join(hub::VKEY_FILE).display());
    println!("API: {url}/openapi.json   metrics: {url}/metrics");
    println!();
    println!("Press Ctrl-C to stop.");
}

/// Unix seconds as RFC 3339 in UTC.
fn rfc3339(unix_secs: u64) -> String {
    oversight::time::rfc3339(i64::try_from(unix_secs).unwrap_or(i64::MAX))
}

/// `fusionguard token ...`.
pub fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TokenCommand::Issue { config, at, agency, user, role, ttl_hours } => {
            let deployment = model::Deployment::load(&crate::embedded::config(&config)?)?;
            if deployment.agency(&agency).is_none() {
                bail!("agency {agency:?} is not registered in {}", config.display());
            }
            let ttl = ttl_hours.saturating_mul(3600);
            let (token, record) = hub::tokens::issue(&*at.open()?, &agency, &user, &role, ttl)?;
            eprintln!(
                "token {} for {user} ({role}) of {agency}, expires {}; only its hash is stored",
                record.id,
                rfc3339(record.expires)
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { at, id } => {
            let place = at.describe();
            let id = hub::tokens::given_id(&id).to_string();
            let found = at.open()?.revoke_token(&id)?;
            if found {
                println!("revoked {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                bail!("no token with id {id:?} in {place}")
            }
        }
        TokenCommand::List { at } => {
            let now = hub::tokens::now();
            let tokens = at.open()?.tokens()?;
            for t in tokens {
                let state = if t.revoked {
                    "revoked"
                } else if t.expires <= now {
                    "expired"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}\t{}\t{state}\texpires {}", t.id, t.agency, t.user, t.role, rfc3339(t.expires));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
