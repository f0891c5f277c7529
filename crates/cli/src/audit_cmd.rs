//! `fusionguard audit`: the oversight detectors over records agencies release (search audits,
//! sharing lists, email productions). Findings go to standard output (a table, or JSON lines with
//! `--format jsonl`); statistics (`--stats`) and warnings go to standard error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use oversight::{Finding, ImportStats};

/// Arguments of `fusionguard audit`.
#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// An ALPR search audit (Flock portal export, organization or network audit), as CSV.
    #[command(
        after_help = "Examples:\n  fusionguard audit searches okaloosa-fl-org-audit-2025-11.csv --stats\n  fusionguard audit searches AUDIT.csv --format jsonl --tz -06:00 --state CA"
    )]
    Searches {
        /// The CSV file.
        file: PathBuf,
        /// The zone off-hours and burst findings show times in: a fixed offset (`-06:00`, `+0530`,
        /// `UTC`; IANA names such as America/Chicago are not read). Times the export writes in UTC
        /// are converted to it; times written without a zone are taken to be in it.
        #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
        tz: Option<String>,
        /// The audited agency's state (two letters, e.g. CA): purpose findings per organisation cite
        /// that state's statute where one applies (CA, OR, IL); without it they cite none.
        #[arg(long, value_name = "ST")]
        state: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A sharing list (who gives whom access), resolved through the agency directory and checked
    /// against California SB 34 and 625 ILCS 5/2-130.
    #[command(after_help = "Examples:\n  fusionguard audit sharing flock-agency-access-2024-04-26.csv --resolutions")]
    Sharing {
        /// The CSV file (src_agency, external_agency, ...).
        file: PathBuf,
        /// Print the directory's resolution of every name (on standard error with the statistics).
        #[arg(long)]
        resolutions: bool,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// An email production: an Outlook CSV export, an mbox file, an .eml file, email printed to PDF
    /// from Outlook or Gmail (text layer; a scan needs OCR first), or a folder of .eml and .pdf
    /// files (picked by extension, else by the file's first bytes). A PDF's messages are named
    /// FILE:pN after the page they start on, and their findings' line is that page. Exit status 2
    /// when no message could be read.
    #[command(
        after_help = "Examples:\n  fusionguard audit emails production.mbox --stats\n  fusionguard audit emails released-emails.pdf --format jsonl   # or .csv, .eml, a folder"
    )]
    Emails {
        /// The CSV, mbox, .eml or PDF file, or a folder of .eml and .pdf files.
        file: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A criminal intelligence system's records (e.g. a gang database export), as CSV: records held
    /// more than five years after entry or their last review (28 CFR 23.20(h)).
    #[command(after_help = "Examples:\n  fusionguard audit intelligence gang-db.csv --as-of 2025-11-25")]
    Intelligence {
        /// The CSV file (record_id, entry_date, last_review, purge_date, ...).
        file: PathBuf,
        /// The day to judge retention on (YYYY-MM-DD or M/D/YYYY; default: today, UTC).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A hub's ledger (verified against its checkpoint and key first): immigration enforcement
    /// reaching local data around the checkpoint (side doors), and users retried until permitted.
    #[command(
        after_help = "Examples:\n  fusionguard audit ledger --data HUB_DATA_DIR --config examples/seed-world\n  fusionguard audit ledger --tiles http://HOST/ledger --vkey \"$(curl -s http://HOST/v1/ledger/key)\" --config examples/seed-world"
    )]
    Ledger {
        #[command(flatten)]
        at: crate::report_cmd::LedgerAt,
        /// The deployment directory the hub runs (holding deployment.toml): agencies' kinds.
        #[arg(long)]
        config: PathBuf,
        /// Hours after a denied federal request in which a local query on the same subject is a
        /// side door, and over which a user's denials are counted.
        #[arg(long, default_value_t = 72)]
        window_hours: u64,
        /// Denials of one user on one subject, then a permit, that make a finding.
        #[arg(long, default_value_t = 2)]
        retries: usize,
        #[command(flatten)]
        out: OutputArgs,
    },
}

#[derive(Args)]
struct OutputArgs {
    /// Output format of the findings.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Print rows read, kept and rejected (with each rejection's line, column and reason) and
    /// findings by kind, on standard error.
    #[arg(long)]
    stats: bool,
    /// Never draw a progress bar (one is drawn on a terminal for inputs over 16 MiB).
    #[arg(long)]
    no_progress: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A readable table.
    Table,
    /// One JSON object per finding and line.
    Jsonl,
}

/// Runs `fusionguard audit ...`.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    match args.command {
        AuditCommand::Searches { file, tz, state, out } => {
            let mut rules = oversight::search_audit::SearchRules::default();
            if let Some(tz) = tz {
                rules.tz = Some(oversight::insider::Zone::parse(&tz).map_err(|e| anyhow::anyhow!("--tz: {e}"))?);
            }
            rules.insider.state = state;
            searches(&file, rules, &out)
        }
        AuditCommand::Sharing { file, resolutions, out } => sharing(&file, resolutions, &out),
        AuditCommand::Emails { file, out } => emails(&file, &out),
        AuditCommand::Intelligence { file, as_of, out } => intelligence(&file, as_of.as_deref(), &out),
        AuditCommand::Ledger { at, config, window_hours, retries, out } => {
            let rules = oversight::side_door::LedgerRules { window_secs: window_hours * 3600, retries };
            let shown = at.shown();
            let reader = at.open()?.with_context(|| format!("auditing the ledger of {shown}"))?;
            ledger(&reader, &shown, &config, rules, &out)
        }
    }
}

fn progress_bar(path: &Path, out: &OutputArgs) -> ProgressBar {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if out.no_progress || len < 16 << 20 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

fn searches(file: &Path, rules: oversight::search_audit::SearchRules, out: &OutputArgs) -> Result<ExitCode> {
    let bar = progress_bar(file, out);
    let mut sink = Sink::new(out.format);
    let stats = oversight::search_audit::audit_file(
        file,
        &rules,
        &mut |pass, bytes| {
            bar.set_message(format!("pass {pass}"));
            bar.set_position(bytes);
        },
        &mut |f| sink.push(f),
    )
    .with_context(|| format!("auditing {}", file.display()))?;
    bar.finish_and_clear();
    sink.finish()?;
    report_stats(file, &stats, out.stats);
    Ok(ExitCode::SUCCESS)
}

fn sharing(file: &Path, resolutions: bool, out: &OutputArgs) -> Result<ExitCode> {
    let dir = oversight::directory::Directory::builtin().context("loading the agency directory")?;
    let mut sink = Sink::new(out.format);
    let report = oversight::sharing::audit_file(file, &dir, &mut |f| sink.push(f))
        .with_context(|| format!("auditing {}", file.display()))?;
    sink.finish()?;
    report_stats(file, &report.stats, out.stats);
    let unresolved: Vec<_> = report.unresolved().collect();
    if resolutions {
        eprintln!("resolution of every name ({}):", report.resolutions.len());
        for r in report.resolutions.values() {
            eprintln!("  {r}");
        }
    } else if !unresolved.is_empty() {
        eprintln!("{} names not resolved by the agency directory (never guessed):", unresolved.len());
        for r in &unresolved {
            eprintln!("  {r}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn emails(file: &Path, out: &OutputArgs) -> Result<ExitCode> {
    let bar = progress_bar(file, out);
    let mut sink = Sink::new(out.format);
    let report =
        oversight::emails::audit_path_with_progress(file, &mut |bytes| bar.set_position(bytes), &mut |f| sink.push(f))
            .with_context(|| format!("auditing {}", file.display()))?;
    bar.finish_and_clear();
    sink.finish()?;
    report_stats(file, &report.stats, out.stats);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if out.stats {
        eprintln!("  {} messages in {} threads", report.stats.kept, report.threads.len());
        for (subject, ids) in &report.threads {
            eprintln!("    {} message(s): {subject:?}", ids.len());
        }
        if !report.pages.is_empty() {
            eprintln!("  pages of the {} printed messages:", report.pages.len());
            for (id, first, last) in &report.pages {
                match first == last {
                    true => eprintln!("    {id}: page {first}"),
                    false => eprintln!("    {id}: pages {first}-{last}"),
                }
            }
        }
        eprintln!("  {} attachments", report.attachments.len());
        for (id, a) in &report.attachments {
            match a.content_type.is_empty() {
                // A print names its attachments, nothing more.
                true => eprintln!("    <{id}>: {:?} (named in the printed header)", a.name),
                false => eprintln!("    <{id}>: {:?} ({}, {} bytes)", a.name, a.content_type, a.size),
            }
        }
        // Personal accounts by the hash of their address, never the address.
        eprintln!("  {} personal mail accounts on official business (by address hash)", report.personal_accounts.len());
        for (hash, a) in &report.personal_accounts {
            eprintln!("    {hash} ({}): {} message(s)", a.domain, a.messages);
        }
    }
    if report.stats.kept == 0 {
        // Nothing audited is not the same as nothing found: bad input, exit status 2.
        let rejected = &report.stats.rejected;
        if rejected.is_empty() {
            eprintln!("error: no messages were found in {}; expected {}", file.display(), oversight::emails::EXPECTED);
        } else {
            if !out.stats {
                for r in rejected {
                    let f = r.file.as_deref().map(|f| format!("{f}, ")).unwrap_or_default();
                    eprintln!("  rejected {f}line {}: {}", r.line, r.reason);
                }
            }
            eprintln!(
                "error: no message could be read from {}: {} rejected (each with its line and reason above)",
                file.display(),
                rejected.len()
            );
        }
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn intelligence(file: &Path, as_of: Option<&str>, out: &OutputArgs) -> Result<ExitCode> {
    let as_of = match as_of {
        Some(d) => oversight::time::parse(d).map_err(|e| anyhow::anyhow!("--as-of: {e}"))?,
        None => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).context("system clock")?;
            oversight::time::Timestamp { millis: now.as_millis() as i64, zone_known: true }
        }
    };
    let mut sink = Sink::new(out.format);
    let stats = oversight::intelligence::audit_file(file, as_of, &mut |f| sink.push(f))
        .with_context(|| format!("auditing {}", file.display()))?;
    sink.finish()?;
    report_stats(file, &stats, out.stats);
    Ok(ExitCode::SUCCESS)
}

fn ledger(
    reader: &oversight::ledger::LedgerReader,
    shown: &str,
    config: &Path,
    rules: oversight::side_door::LedgerRules,
    out: &OutputArgs,
) -> Result<ExitCode> {
    let deployment =
        model::Deployment::load(config).with_context(|| format!("loading the deployment {}", config.display()))?;
    let mut sink = Sink::new(out.format);
    let stats = oversight::side_door::audit(reader, &deployment, rules, &mut |f| sink.push(f))
        .with_context(|| format!("auditing the ledger of {shown}"))?;
    sink.finish()?;
    if out.stats {
        eprintln!("{shown}: {} entries read; {} findings", stats.read, stats.findings);
        for n in &stats.notes {
            eprintln!("  note: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where findings go: straight out as JSON lines, or gathered for a table sorted by line.
struct Sink {
    format: Format,
    table: Vec<Finding>,
    out: std::io::BufWriter<std::io::Stdout>,
    error: Option<std::io::Error>,
    by_kind: std::collections::BTreeMap<&'static str, u64>,
}

impl Sink {
    fn new(format: Format) -> Self {
        Self {
            format,
            table: Vec::new(),
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
            error: None,
            by_kind: Default::default(),
        }
    }

    fn push(&mut self, f: Finding) {
        *self.by_kind.entry(f.kind.as_str()).or_default() += 1;
        match self.format {
            Format::Table => self.table.push(f),
            Format::Jsonl => {
                if self.error.is_none() {
                    if let Err(e) = f.write_json_line(&mut self.out) {
                        self.error = Some(e);
                    }
                }
            }
        }
    }

    fn finish(mut self) -> Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e).context("writing findings");
        }
        if self.format == Format::Table {
            self.table.sort_by_key(|f| (f.line, f.kind));
            let rows: Vec<[String; 5]> = self
                .table
                .iter()
                .map(|f| {
                    [
                        f.line.to_string(),
                        f.severity.as_str().to_owned(),
                        f.kind.as_str().to_owned(),
                        f.subject.label(),
                        truncate(&f.evidence, 100),
                    ]
                })
                .collect();
            write_table(&mut self.out, ["LINE", "SEVERITY", "KIND", "RECORD", "EVIDENCE"], &rows)?;
            writeln!(self.out, "{} findings", self.table.len())?;
            for (kind, n) in &self.by_kind {
                writeln!(self.out, "  {kind}: {n}")?;
            }
        }
        self.out.flush().context("writing findings")?;
        Ok(())
    }
}

fn truncate(s: &str, max: usize) -> String {
    let one_line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut t: String = one_line.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn write_table<const N: usize>(out: &mut impl Write, header: [&str; N], rows: &[[String; N]]) -> Result<()> {
    let mut widths = header.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', w - c.chars().count() + 2));
            }
        }
        s
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for r in rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

fn report_stats(file: &Path, stats: &ImportStats, full: bool) {
    let rejected = stats.rejected.len();
    if full {
        eprintln!(
            "{}: {} rows read, {} kept, {} rejected; {} findings",
            file.display(),
            stats.read,
            stats.kept,
            rejected,
            stats.findings
        );
        for r in &stats.rejected {
            let file = r.file.as_deref().map(|f| format!("{f}, ")).unwrap_or_default();
            match &r.column {
                Some(c) => eprintln!("  rejected {file}line {}, column {c}: {}", r.line, r.reason),
                None => eprintln!("  rejected {file}line {}: {}", r.line, r.reason),
            }
        }
        for n in &stats.notes {
            eprintln!("  note: {n}");
        }
    } else if rejected > 0 {
        eprintln!("warning: {}: {rejected} rows rejected (--stats lists them with their reasons)", file.display());
    }
}
