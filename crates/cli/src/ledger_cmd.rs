//! `fusionguard ledger ...`: create, append to, checkpoint, prove, verify and witness a ledger.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ledger::note::NoteVerifier;
use ledger::tiles::{verify_log, DirFetcher, HttpFetcher, TileFetcher};
use ledger::witness::{Witness, WitnessEndpoint};
use ledger::{Ledger, Options};

/// Arguments of `fusionguard ledger`.
#[derive(clap::Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(clap::Subcommand)]
enum LedgerCommand {
    /// Create a ledger directory and print its verifier key (last line).
    #[command(after_help = "Examples:\n  fusionguard ledger init --dir D --origin example.org/log")]
    Init {
        /// Ledger directory (created).
        #[arg(long)]
        dir: PathBuf,
        /// Origin (unique name) of the log, e.g. example.org/audit.
        #[arg(long)]
        origin: String,
    },
    /// Append entries read from standard input, one per line; print each index once durable.
    #[command(after_help = "Examples:\n  printf 'entry one\\nentry two\\n' | fusionguard ledger append --dir D")]
    Append {
        /// Ledger directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Integrate durable entries: write tiles and a signed checkpoint, and print it.
    #[command(after_help = "Examples:\n  fusionguard ledger checkpoint --dir D")]
    Checkpoint {
        /// Ledger directory.
        #[arg(long)]
        dir: PathBuf,
        /// A witness to ask for a cosignature, as <vkey>@<url> (repeatable).
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// Number of witness cosignatures required before publishing.
        #[arg(long, default_value_t = 0)]
        quorum: usize,
    },
    /// Print a proof as JSON with base64 `hashes`.
    #[command(after_help = "Examples:\n  fusionguard ledger prove inclusion --dir D --index 3 --size 10")]
    Prove {
        #[command(subcommand)]
        proof: ProveCommand,
    },
    /// Verify a whole published log: entries -> tiles -> root -> signature.
    #[command(
        after_help = "Examples:\n  fusionguard ledger verify --tiles D/tiles --vkey VKEY\n  fusionguard ledger verify --tiles http://HUB/ledger --vkey \"$(curl -s http://HUB/v1/ledger/key)\""
    )]
    Verify {
        /// The published tiles directory, or an http:// URL.
        #[arg(long)]
        tiles: String,
        /// The log's verifier key.
        #[arg(long)]
        vkey: String,
        /// A checkpoint seen earlier: the log must be consistent with it (detects rollback and forks).
        #[arg(long)]
        previous: Option<PathBuf>,
        /// A witness's cosignature verifier key (repeatable).
        #[arg(long = "witness-vkey")]
        witness_vkeys: Vec<String>,
        /// Number of valid witness cosignatures the checkpoint must carry.
        #[arg(long, default_value_t = 0)]
        quorum: usize,
    },
    /// Run a tlog-witness that cosigns only consistent checkpoints.
    #[command(after_help = "Examples:\n  fusionguard ledger witness --dir W --log-vkey VKEY --listen 127.0.0.1:7380")]
    Witness {
        /// Witness state directory (its key and what it saw).
        #[arg(long)]
        dir: PathBuf,
        /// The witness's name (used when creating its key).
        #[arg(long, default_value = "fusionguard-witness")]
        name: String,
        /// Verifier key of a log to witness (repeatable).
        #[arg(long = "log-vkey")]
        log_vkeys: Vec<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7380")]
        listen: String,
    },
}

#[derive(clap::Subcommand)]
enum ProveCommand {
    /// Inclusion proof of entry INDEX in the tree of SIZE entries.
    #[command(after_help = "Examples:\n  fusionguard ledger prove inclusion --dir D --index 3 --size 10")]
    Inclusion {
        /// Ledger directory.
        #[arg(long)]
        dir: PathBuf,
        /// Entry index.
        #[arg(long)]
        index: u64,
        /// Tree size.
        #[arg(long)]
        size: u64,
    },
    /// Consistency proof from tree size FROM to tree size TO.
    #[command(after_help = "Examples:\n  fusionguard ledger prove consistency --dir D --from 5 --to 10")]
    Consistency {
        /// Ledger directory.
        #[arg(long)]
        dir: PathBuf,
        /// Older tree size.
        #[arg(long)]
        from: u64,
        /// Newer tree size.
        #[arg(long)]
        to: u64,
    },
}

/// Runs a ledger subcommand.
pub fn run(args: LedgerArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LedgerCommand::Init { dir, origin } => {
            let vkey = Ledger::init(&dir, &origin).with_context(|| format!("creating {}", dir.display()))?;
            println!("created ledger {} for origin {origin}", dir.display());
            println!("{vkey}");
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Append { dir } => append(&dir),
        LedgerCommand::Checkpoint { dir, witnesses, quorum } => {
            let witnesses = witnesses.iter().map(|w| WitnessEndpoint::parse(w)).collect::<Result<Vec<_>, _>>()?;
            if quorum > witnesses.len() {
                bail!("--quorum {quorum} needs at least that many --witness");
            }
            let options = Options { witnesses, witness_quorum: quorum, ..Options::default() };
            let log = Ledger::open_dir(&dir, options).with_context(|| format!("opening {}", dir.display()))?;
            let note = log.checkpoint()?;
            print!("{note}");
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Prove { proof } => {
            let (dir, kind, hashes, fields) = match proof {
                ProveCommand::Inclusion { dir, index, size } => {
                    let log = Ledger::open_dir(&dir, Options::default())?;
                    let p = log.inclusion_proof(index, size)?;
                    let root = log.root(size)?;
                    (dir, "inclusion", p, serde_json::json!({"index": index, "size": size, "root": B64.encode(root)}))
                }
                ProveCommand::Consistency { dir, from, to } => {
                    let log = Ledger::open_dir(&dir, Options::default())?;
                    let p = log.consistency_proof(from, to)?;
                    let (r1, r2) = (log.root(from)?, log.root(to)?);
                    (
                        dir,
                        "consistency",
                        p,
                        serde_json::json!({"from": from, "to": to, "root1": B64.encode(r1), "root2": B64.encode(r2)}),
                    )
                }
            };
            let _ = dir;
            let mut out = fields;
            out["proof"] = kind.into();
            out["hashes"] = hashes.iter().map(|h| B64.encode(h)).collect::<Vec<_>>().into();
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Verify { tiles, vkey, previous, witness_vkeys, quorum } => {
            let witnesses = witness_vkeys.iter().map(|v| NoteVerifier::parse(v)).collect::<Result<Vec<_>, _>>()?;
            if quorum > witnesses.len() {
                bail!("--quorum {quorum} needs at least that many --witness-vkey");
            }
            verify(&tiles, &vkey, previous.as_deref(), &witnesses, quorum)
        }
        LedgerCommand::Witness { dir, name, log_vkeys, listen } => {
            let w = Witness::open(&dir, &name, &log_vkeys)?;
            let listener = std::net::TcpListener::bind(&listen).with_context(|| format!("listening on {listen}"))?;
            println!("witness listening on http://{}", listener.local_addr()?);
            println!("{}", w.vkey());
            std::io::stdout().flush()?;
            static STOP: AtomicBool = AtomicBool::new(false);
            w.serve(&listener, &|| STOP.load(Ordering::Relaxed))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn append(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let log = Ledger::open_dir(dir, Options::default()).with_context(|| format!("opening {}", dir.display()))?;
    // Reader thread submits; this thread prints indexes in order as they become durable.
    let (tx, rx) = mpsc::sync_channel::<ledger::Pending>(1 << 16);
    let result = std::thread::scope(|scope| -> anyhow::Result<()> {
        let log = &log;
        let reader = scope.spawn(move || -> anyhow::Result<()> {
            let stdin = std::io::stdin().lock();
            for line in stdin.split(b'\n') {
                let mut line = line.context("reading standard input")?;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                let pending = log.submit(line)?;
                if tx.send(pending).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        loop {
            let pending = match rx.try_recv() {
                Ok(p) => p,
                Err(mpsc::TryRecvError::Empty) => {
                    out.flush()?;
                    match rx.recv() {
                        Ok(p) => p,
                        Err(_) => break,
                    }
                }
                Err(mpsc::TryRecvError::Disconnected) => break,
            };
            if !pending.is_ready() {
                // Everything printed so far is durable: show it before blocking.
                out.flush()?;
            }
            let index = pending.wait()?;
            writeln!(out, "{index}")?;
        }
        out.flush()?;
        reader.join().map_err(|_| anyhow::anyhow!("reader thread panicked"))?
    });
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Unix seconds as RFC 3339 in UTC.
fn rfc3339(unix_secs: u64) -> String {
    oversight::time::rfc3339(i64::try_from(unix_secs).unwrap_or(i64::MAX))
}

fn verify(
    tiles: &str,
    vkey: &str,
    previous: Option<&std::path::Path>,
    witnesses: &[NoteVerifier],
    quorum: usize,
) -> anyhow::Result<ExitCode> {
    let verifier = NoteVerifier::parse(vkey).context("parsing --vkey")?;
    let fetcher: Box<dyn TileFetcher> = if tiles.starts_with("http://") || tiles.starts_with("https://") {
        Box::new(HttpFetcher::new(tiles))
    } else if std::path::Path::new(tiles).is_dir() {
        Box::new(DirFetcher(PathBuf::from(tiles)))
    } else {
        bail!("--tiles {tiles}: no such folder (give the log's tiles folder or its http:// URL)")
    };
    match verify_log(fetcher.as_ref(), &verifier) {
        Ok(v) => {
            if let Some(prev) = previous {
                let raw = std::fs::read(prev).with_context(|| format!("reading {}", prev.display()))?;
                let note = ledger::note::Note::parse(&raw)?;
                note.verify_by(&verifier)?;
                let old = ledger::checkpoint::Checkpoint::parse(&note.body)?;
                if old.size > v.checkpoint.size {
                    println!(
                        "FAIL: checkpoint was rolled back: it covers {} entries, {} covered {}",
                        v.checkpoint.size,
                        prev.display(),
                        old.size
                    );
                    return Ok(ExitCode::FAILURE);
                }
                if v.root_at(old.size) != Some(old.root) {
                    println!(
                        "FAIL: the log's first {} entries do not hash to the root of {}: the log forked",
                        old.size,
                        prev.display()
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
            let note = ledger::note::Note::parse(v.note.as_bytes())?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            // The log's own timestamped signature, if it adds one, shows how fresh the view is.
            if let Ok(Some(t)) = note.verify_by(&verifier.with_alg(ledger::note::ALG_COSIGNATURE_V1)) {
                println!("signed by the log at {} ({}s ago)", rfc3339(t), now.saturating_sub(t));
            }
            let mut cosigned = 0;
            for w in witnesses {
                match note.verify_by(w) {
                    Ok(t) => {
                        cosigned += 1;
                        match t {
                            Some(t) => println!("cosigned by {} at {}", w.name(), rfc3339(t)),
                            None => println!("cosigned by {}", w.name()),
                        }
                    }
                    Err(e) => println!("no valid cosignature by {}: {e}", w.name()),
                }
            }
            if cosigned < quorum {
                println!("FAIL: {cosigned} witness cosignatures, {quorum} required");
                return Ok(ExitCode::FAILURE);
            }
            println!(
                "OK: {} entries, {} entry bundles, {} hash tiles, root {} signed by {}",
                v.checkpoint.size,
                v.bundles,
                v.tiles,
                B64.encode(v.checkpoint.root),
                verifier.name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("FAIL: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
