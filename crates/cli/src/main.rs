//! `fusionguard`: the command line over the FusionGuard crates.

mod ledger_cmd;

use clap::{Parser, Subcommand};

/// FusionGuard: a policy checkpoint, tamper-evident ledger and oversight tools for data sharing.
#[derive(Parser)]
#[command(name = "fusionguard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The verifiable ledger: init, append, checkpoint, prove, verify, witness.
    Ledger(ledger_cmd::LedgerArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ledger(args) => ledger_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
