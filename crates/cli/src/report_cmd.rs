//! `fusionguard report transparency`: the annual surveillance-use report (CCOPS form) counted from
//! a hub's verified ledger, as HTML, CSV or JSON (by the extension of `--out`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use oversight::ledger::{LedgerReader, ReadError};
use oversight::transparency::{LedgerInfo, Report, ReportError};

/// Arguments of `fusionguard report`.
#[derive(Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The annual transparency report: uses, outside sharing, denials by citation, reviews,
    /// safeguards, findings, complaints and violations, counted from the verified ledger
    /// (aggregates only, no personal data). Entries count in the year of their time in UTC.
    #[command(
        after_help = "Examples:\n  fusionguard report transparency --data DATA --year 2025 --config examples/seed-world --out report.html"
    )]
    Transparency {
        #[command(flatten)]
        at: LedgerAt,
        /// The calendar year.
        #[arg(long)]
        year: i64,
        /// The hub's deployment (directory holding deployment.toml): names data types and agency
        /// kinds, and runs the ledger audit (`audit ledger`) whose findings the report counts.
        /// Without it data types and kinds are "unknown" and no detector runs.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The output file: FILE.html, FILE.csv or FILE.json.
        #[arg(long)]
        out: PathBuf,
        /// Never draw a progress bar (one is drawn on a terminal for ledgers over 100 000 entries).
        #[arg(long)]
        no_progress: bool,
    },
}

/// Runs `fusionguard report`.
pub fn run(args: ReportArgs) -> Result<ExitCode> {
    match args.command {
        ReportCommand::Transparency { at, year, config, out, no_progress } => {
            let render: fn(&Report) -> String = match out.extension().and_then(|e| e.to_str()) {
                Some("html" | "htm") => Report::html,
                Some("csv") => Report::csv,
                Some("json") => Report::json,
                _ => bail!("--out {}: the extension must be .html, .csv or .json", out.display()),
            };
            let deployment = config
                .map(|c| model::Deployment::load(&c).with_context(|| format!("--config {}", c.display())))
                .transpose()?;
            let reader = match at.open()? {
                Ok(r) => r,
                Err(e) => return failed(&e),
            };
            if !(oversight::transparency::MIN_YEAR..=oversight::transparency::MAX_YEAR).contains(&year) {
                bail!("--year {year}: expected a year from 1970 to 9999");
            }
            let bar = progress(reader.size(), no_progress);
            let entries = reader.entries().inspect(|_| bar.inc(1));
            let info = LedgerInfo::of(&reader);
            // Every year in one pass, so that an empty year can say which years the ledger holds.
            let built = match &deployment {
                Some(d) => Report::build_all_audited(info.clone(), d, entries),
                None => Report::build_all(info.clone(), None, entries),
            };
            let mut years = match built {
                Ok(years) => years,
                Err(e) => {
                    bar.finish_and_clear();
                    return failed(&e);
                }
            };
            let report = match years.remove(&year) {
                Some(r) => r,
                None => {
                    let held: Vec<String> = years.keys().map(i64::to_string).collect();
                    let held = if held.is_empty() { "none: the ledger is empty".to_string() } else { held.join(", ") };
                    eprintln!("note: the ledger has no entries dated in {year}; the years it holds: {held}");
                    match Report::build(year, info, deployment.as_ref(), std::iter::empty::<Result<_, ReadError>>()) {
                        Ok(r) => r,
                        Err(ReportError::Year(y)) => bail!("--year {y}: expected a year from 1970 to 9999"),
                        Err(ReportError::Read(e)) => return failed(&e),
                    }
                }
            };
            bar.finish_and_clear();
            write_atomic(&out, render(&report).as_bytes())?;
            let t = &report.totals;
            println!(
                "wrote {}: {year}, {} requests ({} permitted, {} denied, {} held for review), {} refused attempts; \
                 from the verified checkpoint of {} entries, root {}",
                out.display(),
                t.requests,
                t.permit,
                t.deny,
                t.review,
                t.refused,
                report.ledger.tree_size,
                report.ledger.root
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Where a command reads a hub's ledger: its data directory, or its published tiles and key (as
/// an outside auditor reads a live hub's `/ledger/`).
#[derive(clap::Args)]
pub struct LedgerAt {
    /// The hub's data directory (reads DIR/ledger/tiles and DIR/ledger.vkey).
    #[arg(long, required_unless_present = "tiles", conflicts_with = "tiles")]
    data: Option<PathBuf>,
    /// Or a published ledger: its tiles directory, or a hub's http://HOST/ledger URL.
    #[arg(long, requires = "vkey")]
    tiles: Option<String>,
    /// The ledger's verifier key (with --tiles; a hub serves it at /v1/ledger/key).
    #[arg(long, requires = "tiles")]
    vkey: Option<String>,
}

impl LedgerAt {
    /// Opens the ledger, verified against its checkpoint and key (the reader, or why not).
    pub fn open(&self) -> Result<Result<LedgerReader, ReadError>> {
        Ok(match (&self.data, &self.tiles, &self.vkey) {
            (Some(d), _, _) => LedgerReader::open_data_dir(d),
            (None, Some(t), Some(k)) => LedgerReader::open_tiles(t, k),
            _ => bail!("give --data DIR, or --tiles and --vkey"),
        })
    }

    /// The ledger as messages name it: the data directory or the tiles' location.
    pub fn shown(&self) -> String {
        self.data.as_ref().map(|d| d.display().to_string()).or_else(|| self.tiles.clone()).unwrap_or_default()
    }
}

/// A ledger that does not verify, or holds an entry that is not one, is a failed check (exit 1).
fn failed(e: &ReadError) -> Result<ExitCode> {
    match e {
        ReadError::Verify { .. } | ReadError::Entry { .. } => {
            eprintln!("error: {e}");
            eprintln!("no report written: the ledger must verify before anything in it is counted");
            Ok(ExitCode::from(1))
        }
        other => bail!("{other}"),
    }
}

fn progress(size: u64, hidden: bool) -> ProgressBar {
    if hidden || size < 100_000 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    if let Ok(style) = ProgressStyle::with_template("counting [{bar:40}] {pos}/{len} entries, eta {eta}") {
        bar.set_style(style);
    }
    bar
}

/// Writes `path` through a temporary file in the same folder, so a failure leaves no half report
/// (a device or a pipe is written in place: [`crate::out_file`]).
fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let target = crate::out_file::Target::of(path, &format!(".{}.tmp", std::process::id()))?;
    std::fs::write(target.writing_to(), data)
        .with_context(|| format!("writing {}", target.writing_to().display()))
        .and_then(|()| target.commit())
        .inspect_err(|_| target.discard())
}
