//! `fusionguard ledger ...` (placeholder until the ledger crate lands).

/// Arguments of `fusionguard ledger`.
#[derive(clap::Args)]
pub struct LedgerArgs {}

/// Runs a ledger subcommand.
pub fn run(_args: LedgerArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("the ledger commands are not built yet")
}
