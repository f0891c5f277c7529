//! `fusionguard`: the command line over the FusionGuard crates. Each subcommand is a thin layer:
//! parse arguments, call a library, print. Exit status 0 means the command did its job (a deny is
//! a job done); 1 means a check failed (tests, verification); 2 means bad input or configuration.

mod audit_cmd;
mod embedded;
mod federation_certs;
mod federation_demo;
mod hub_cmd;
mod laws_cmd;
mod ledger_cmd;
mod out_file;
mod parquet_out;
mod report_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: the hub's request path allocates many small, short-lived
/// objects (JSON, Cedar evaluation) across threads; see the "Hub" section of BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// FusionGuard: a policy checkpoint, tamper-evident ledger and oversight tools for data sharing.
#[derive(Parser)]
#[command(name = "fusionguard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide one request (JSON file, or - for standard input) and print the decision as JSON.
    #[command(
        after_help = "Examples:\n  cat request.json | fusionguard decide -\n  fusionguard decide --at 2025-03-01 request.json   # by the law in force that day"
    )]
    Decide {
        /// The deployment directory (holding deployment.toml).
        #[arg(long, default_value = "examples/seed-world")]
        config: PathBuf,
        /// The law library directory.
        #[arg(long, default_value = "laws")]
        laws: PathBuf,
        /// Decide by the law in force on this day (YYYY-MM-DD, UTC) instead of today: what the
        /// checkpoint decided, or would have decided, on the day of a past ledger entry.
        #[arg(long, value_name = "YYYY-MM-DD")]
        at: Option<model::Date>,
        /// The request file.
        request: PathBuf,
    },
    /// The law library: test, check, list, bench.
    #[command(after_help = "Examples:\n  fusionguard laws test\n  fusionguard laws list | head")]
    Laws(laws_cmd::LawsArgs),
    /// The verifiable ledger: init, append, checkpoint, prove, verify, witness.
    #[command(
        after_help = "Examples:\n  fusionguard ledger init --dir D --origin example.org/log\n  fusionguard ledger verify --tiles D/tiles --vkey VKEY"
    )]
    Ledger(ledger_cmd::LedgerArgs),
    /// Oversight: find circumvention in released records (search audits, sharing lists, emails).
    #[command(
        after_help = "Examples:\n  fusionguard audit searches AUDIT.csv --stats\n  fusionguard audit ledger --data HUB_DATA_DIR --config examples/seed-world"
    )]
    Audit(audit_cmd::AuditArgs),
    /// Reports from a hub's verified ledger: the annual transparency report.
    #[command(
        after_help = "Examples:\n  fusionguard report transparency --data DATA --year 2025 --config examples/seed-world --out report.html"
    )]
    Report(report_cmd::ReportArgs),
    /// Run the sharing hub on the seed world with synthetic data (start here).
    #[command(
        after_help = "Examples:\n  fusionguard demo --listen localhost:8080\n  fusionguard demo --federation   # three hubs (CA, CO, TX) on 127.0.0.1:8443-8445"
    )]
    Demo(hub_cmd::DemoArgs),
    /// Run the sharing hub for a real deployment.
    #[command(
        after_help = "Examples:\n  fusionguard serve --config examples/seed-world --data /var/lib/fusionguard --listen 127.0.0.1:8080"
    )]
    Serve(hub_cmd::ServeArgs),
    /// Bearer tokens for the hub: issue, revoke, list.
    #[command(
        after_help = "Examples:\n  fusionguard token issue --config examples/seed-world --data DATA --agency lapd --user det-1 --role detective\n  fusionguard token list --data DATA"
    )]
    Token(hub_cmd::TokenArgs),
    /// The hub's embedded store of sources: import a CSV file as a source's table.
    #[command(
        after_help = "Examples:\n  fusionguard sources import --config examples/seed-world --data DATA --source ociac-alpr reads.csv"
    )]
    Sources(hub_cmd::SourcesArgs),
}

/// Whether `e` comes from writing into a closed pipe (`fusionguard laws test | head -1`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// A reader that stops early (`| head`) is not an error: `print!` into a closed pipe panics with
/// "failed printing to stdout: Broken pipe"; end quietly with status 0 instead. Other panics keep
/// the default report.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info)
    }));
}

/// `e` and its causes joined with ": ", each cause once: a library error that already writes its
/// source (`cannot read X: No such file or directory (os error 2)`) is not followed by it again,
/// and a cause that begins with the path its context ends with does not repeat the path.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        // `reading X` followed by `X: why`: the path once.
        let text = match text.split_once(": ") {
            Some((path, why)) if !path.is_empty() && out.ends_with(path) => why.to_string(),
            _ => text,
        };
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    // Removes the embedded law library and seed world if this run extracted them.
    let _cleanup = embedded::Cleanup;
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decide { config, laws, at, request } => laws_cmd::decide(&config, &laws, at, &request),
        Command::Laws(args) => laws_cmd::run(args),
        Command::Ledger(args) => ledger_cmd::run(args),
        Command::Audit(args) => audit_cmd::run(args),
        Command::Report(args) => report_cmd::run(args),
        Command::Demo(args) => hub_cmd::demo(args),
        Command::Serve(args) => hub_cmd::serve(args),
        Command::Token(args) => hub_cmd::token(args),
        Command::Sources(args) => hub_cmd::sources(args),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}
