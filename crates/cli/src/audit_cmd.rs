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
    /// ALPR search audits (Flock portal exports, organization or network audits), as CSV: one
    /// file, several, or folders of them (their .csv files), audited as one. The same search in
    /// several files (the same search ID) is counted once, and its findings name every file.
    #[command(
        after_help = "Examples:\n  fusionguard audit searches exports/ okaloosa-fl-org-audit-2025-11.csv --out report.html\n  fusionguard audit searches AUDIT.csv --state CA --tz -06:00 --format parquet --out findings.parquet"
    )]
    Searches {
        /// The CSV files, or folders holding them.
        #[arg(required = true, value_name = "FILE_OR_DIR")]
        files: Vec<PathBuf>,
        /// The zone off-hours and burst findings show times in: a fixed offset (`-06:00`, `+0530`,
        /// `UTC`; IANA names such as America/Chicago are not read). Times the export writes in UTC
        /// are converted to it; times written without a zone are taken to be in it.
        #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
        tz: Option<String>,
        /// The audited agency's state (two letters, e.g. CA): findings cite that state's statutes
        /// where one applies, else say they are a practice concern. Default: the state of the one
        /// organisation an export's rows name (agency directory); a network audit needs --state.
        #[arg(long, value_name = "ST")]
        state: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A sharing list (who gives whom access), resolved through the agency directory and checked
    /// against California SB 34 and 625 ILCS 5/2-130.
    #[command(
        after_help = "Examples:\n  fusionguard audit sharing flock-agency-access-2024-04-26.csv --resolutions\n  fusionguard audit sharing flock-agency-access-2024-04-26.csv --policies flock-agency-policies-2023-07.csv"
    )]
    Sharing {
        /// The CSV file (src_agency, external_agency, ...).
        file: PathBuf,
        /// Print the directory's resolution of every name (on standard error with the statistics).
        #[arg(long)]
        resolutions: bool,
        /// The agencies' published portal policies (CSV: agency, url, prohibited_uses,
        /// access_policy, acceptable_use_policy, ...): also report sharing that contradicts them
        /// (`policy_contradiction`).
        #[arg(long, value_name = "FILE")]
        policies: Option<PathBuf>,
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
    /// The ledgers of a federation's hubs side by side (each verified against its checkpoint and
    /// key first): requests one hub logged as sent to or received from another that the other
    /// never logged, requests the two hubs logged differently, peer receipts that do not name the
    /// peer's entry, and subjects denied on one hub then asked directly on another. Exit status 0
    /// when nothing is found, 1 with findings, 2 when a ledger cannot be read or verified.
    #[command(
        after_help = "Examples:\n  fusionguard audit federation --peer https://tx.example:8443/ledger=@tx.vkey --peer https://ca.example:8443/ledger=@ca.vkey --ca federation-ca.pem\n  fusionguard audit federation --peer HUB_A_DATA_DIR --peer HUB_B_DATA_DIR --format jsonl"
    )]
    Federation {
        /// A hub's ledger and its verifier key, as LOCATION=VKEY (at least two, each hub once).
        /// LOCATION is a hub's public ledger (https://HOST:PORT/ledger), a tiles directory, or a
        /// hub's data directory; VKEY the key as text (name+hash+key, as the hub serves it at
        /// /v1/ledger/key) or @FILE. A data directory may leave out =VKEY: its ledger.vkey is used.
        #[arg(long = "peer", value_name = "LOCATION=VKEY")]
        peers: Vec<String>,
        /// The CA certificate (PEM) https:// ledgers must chain to: the federation's private CA.
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        /// Seconds a forwarded request may be in flight: one sent less than this before the newest
        /// entry of the ledger that should hold its other side is not reported missing.
        #[arg(long, value_name = "SECS", default_value_t = oversight::federation::DEFAULT_GRACE_SECS)]
        grace: u64,
        /// Hours after a denial on one hub in which a direct request on another hub on the same
        /// subject is a finding.
        #[arg(long, default_value_t = 72)]
        window_hours: u64,
        #[command(flatten)]
        out: OutputArgs,
    },
}

/// Runs `fusionguard audit ...`.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    match args.command {
        AuditCommand::Searches { files, tz, state, out } => {
            let mut rules = oversight::search_audit::SearchRules::default();
            if let Some(tz) = tz {
                rules.tz = Some(oversight::insider::Zone::parse(&tz).map_err(|e| anyhow::anyhow!("--tz: {e}"))?);
            }
            if let Some(st) = &state {
                if st.len() != 2 || !st.chars().all(|c| c.is_ascii_alphabetic()) {
                    anyhow::bail!("--state: {st:?} is not a two-letter state code (e.g. CA, OR, FL)");
                }
            }
            rules.state = state;
            searches(&expand(&files)?, rules, &out)
        }
        AuditCommand::Sharing { file, resolutions, policies, out } => {
            sharing(&file, resolutions, policies.as_deref(), &out)
        }
        AuditCommand::Emails { file, out } => emails(&file, &out),
        AuditCommand::Intelligence { file, as_of, out } => intelligence(&file, as_of.as_deref(), &out),
        AuditCommand::Ledger { at, config, window_hours, retries, out } => {
            let rules = oversight::side_door::LedgerRules { window_secs: window_hours * 3600, retries };
            let shown = at.shown();
            let reader = at.open()?.with_context(|| format!("auditing the ledger of {shown}"))?;
            ledger(&reader, &shown, &config, rules, &out)
        }
        AuditCommand::Federation { peers, ca, grace, window_hours, out } => {
            let rules = oversight::federation::FederationRules { grace_secs: grace, window_secs: window_hours * 3600 };
            federation(&peers, ca.as_deref(), &rules, &out)
        }
    }
}

#[derive(Args)]
struct OutputArgs {
    /// Output format. Default: from the extension of --out (.html, .jsonl, .csv, .parquet), else
    /// table.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write the findings (or the evidence report) to FILE instead of standard output (written to
    /// FILE.partial first, renamed when complete); the summary then goes to standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Language of the HTML evidence report: en or es.
    #[arg(long, default_value = "en", value_parser = ["en", "es"])]
    lang: String,
    /// Findings listed one by one in the HTML evidence report (all are counted in its summary).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    html_limit: usize,
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
    /// A summary first (records read, findings by detector and severity, top organisations and
    /// users, searches by month, examples), then every finding, most severe first.
    Table,
    /// One JSON object per finding and line.
    Jsonl,
    /// One row per finding (the columns of the finding schema).
    Csv,
    /// One row per finding, in a Parquet file (needs --out).
    Parquet,
    /// A self-contained evidence report: summary, charts with their tables, findings with file and
    /// line, rules and citations, method.
    Html,
}

impl OutputArgs {
    fn format(&self) -> Format {
        if let Some(f) = self.format {
            return f;
        }
        let ext = self.out.as_ref().and_then(|p| p.extension()).map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("html" | "htm") => Format::Html,
            Some("jsonl" | "ndjson") => Format::Jsonl,
            Some("csv") => Format::Csv,
            Some("parquet") => Format::Parquet,
            _ => Format::Table,
        }
    }
}

/// An output file written beside its final name and renamed into place when complete, so that
/// a failed audit never leaves a half-written report under the name asked for.
struct OutFile {
    target: crate::out_file::Target,
    /// The name given.
    path: PathBuf,
}

impl OutFile {
    fn create(path: &Path) -> Result<(Self, std::fs::File)> {
        let target = crate::out_file::Target::of(path, ".partial")?;
        let file = std::fs::File::create(target.writing_to())
            .with_context(|| format!("cannot create the output file {}", target.writing_to().display()))?;
        Ok((Self { target, path: path.to_owned() }, file))
    }

    fn commit(self) -> Result<()> {
        self.target.commit()?;
        std::mem::forget(self);
        Ok(())
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        self.target.discard();
    }
}

/// A CSV writer's error, as the I/O error it wraps when it is one (so that a reader that stops
/// early, `| head`, is recognised as a closed pipe).
fn csv_error(e: csv::Error) -> anyhow::Error {
    if !e.is_io_error() {
        return e.into();
    }
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io.into(),
        other => anyhow::anyhow!("{other:?}"),
    }
}

/// Where streamed findings go.
enum Stream {
    /// Gathered for the table or the HTML report, written at the end.
    Kept(Vec<Finding>, Box<dyn Write>),
    Json(std::io::BufWriter<Box<dyn Write>>),
    /// The writer, and where a finding's formatted cells are written ([`Finding::flat_cells`]).
    Csv(Box<csv::Writer<Box<dyn Write>>>, String),
    Parquet(Box<crate::parquet_out::ParquetSink>),
}

/// Where findings go: counted into the summary, and streamed out or gathered for the table or
/// the HTML report.
struct Sink {
    format: Format,
    summary: oversight::report::Summary,
    stream: Stream,
    out: Option<OutFile>,
    error: Option<anyhow::Error>,
    lang: model::lang::Lang,
    html_limit: usize,
    /// The file findings that name none were read from (commands of one input file).
    file: Option<std::sync::Arc<str>>,
    /// Whether the summary is shown (the table, the HTML report, or beside an --out file):
    /// findings streamed to standard output in a machine format are not counted for it.
    summarize: bool,
}

impl Sink {
    /// A sink for a `command` audit of `inputs`; refuses an `--out` file that is one of them (the
    /// findings would replace it).
    fn new(command: &str, args: &OutputArgs, inputs: &[PathBuf]) -> Result<Self> {
        let format = args.format();
        let (out, writer): (Option<OutFile>, Box<dyn Write>) = match &args.out {
            Some(p) => {
                if let Ok(out) = std::fs::canonicalize(p) {
                    if let Some(input) = inputs.iter().find(|i| std::fs::canonicalize(i).is_ok_and(|i| i == out)) {
                        anyhow::bail!(
                            "--out {} is the input {}: the findings would replace it; give --out another file",
                            p.display(),
                            input.display()
                        );
                    }
                }
                let (o, f) = OutFile::create(p)?;
                (Some(o), Box::new(f))
            }
            None if format == Format::Parquet => {
                anyhow::bail!("--format parquet needs --out FILE.parquet (Parquet is not written to a terminal)")
            }
            None if format == Format::Jsonl => (None, stdout_unbuffered()),
            None => (None, Box::new(std::io::stdout())),
        };
        let stream = match format {
            Format::Table | Format::Html => Stream::Kept(Vec::new(), writer),
            Format::Jsonl => Stream::Json(std::io::BufWriter::with_capacity(1 << 16, writer)),
            Format::Csv => {
                let mut w = csv::Writer::from_writer(writer);
                w.write_record(oversight::finding::FLAT_COLUMNS)
                    .map_err(csv_error)
                    .context("writing the CSV header")?;
                Stream::Csv(Box::new(w), String::new())
            }
            Format::Parquet => {
                drop(writer);
                let path = out.as_ref().map(|o| o.target.writing_to().to_owned()).context("--out")?;
                Stream::Parquet(Box::new(crate::parquet_out::ParquetSink::create(&path)?))
            }
        };
        let lang = model::lang::Lang::from_code(&args.lang).unwrap_or_default();
        Ok(Self {
            format,
            summary: oversight::report::Summary::new(command),
            stream,
            out,
            error: None,
            lang,
            html_limit: args.html_limit,
            file: None,
            summarize: matches!(format, Format::Table | Format::Html) || args.out.is_some(),
        })
    }

    /// Names `file` in the findings that name no file of their own.
    fn reading(mut self, file: &Path) -> Self {
        self.file = Some(std::sync::Arc::from(file.display().to_string()));
        self
    }

    /// The JSON lines writer and the summary that counts the findings (when one is shown), when
    /// findings are written as JSON lines: then they need not pass through [`Sink::push`].
    fn json_lines(&mut self) -> Option<(&mut dyn Write, Option<&mut oversight::report::Summary>)> {
        match &mut self.stream {
            Stream::Json(w) if self.file.is_none() => Some((w, self.summarize.then_some(&mut self.summary))),
            _ => None,
        }
    }

    fn push(&mut self, mut f: Finding) {
        if f.file.is_none() {
            f.file.clone_from(&self.file);
        }
        if self.summarize {
            self.summary.push(&f);
        }
        if self.error.is_some() {
            return;
        }
        let result: Result<()> = match &mut self.stream {
            Stream::Kept(v, _) => {
                v.push(f);
                // The HTML report lists the first `html_limit` findings, most severe first: only
                // those are kept (sorted and cut whenever twice as many are held), so that memory
                // does not grow with the findings.
                if self.format == Format::Html && v.len() >= 2 * self.html_limit.max(1) {
                    oversight::report::sort_most_severe_first(v);
                    v.truncate(self.html_limit);
                }
                Ok(())
            }
            Stream::Json(w) => f.write_json_line(w).map_err(Into::into),
            Stream::Csv(w, scratch) => {
                // Cell by cell, without a String per cell.
                let mut written = Ok(());
                f.flat_cells(scratch, &mut |_, cell| {
                    if written.is_ok() {
                        written = w.write_field(cell.unwrap_or(""));
                    }
                });
                written.and_then(|()| w.write_record(None::<&[u8]>)).map_err(csv_error)
            }
            Stream::Parquet(p) => p.push(&f),
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Writes what was gathered, completes the output file, and prints the summary (to standard
    /// output when the findings went to a file or are machine formats on a terminal).
    fn finish(mut self) -> Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e).context("writing findings");
        }
        match std::mem::replace(&mut self.stream, Stream::Kept(Vec::new(), Box::new(std::io::sink()))) {
            Stream::Kept(mut findings, w) => {
                oversight::report::sort_most_severe_first(&mut findings);
                let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
                if self.format == Format::Html {
                    let page = oversight::report::html_page(&self.summary, &findings, self.html_limit, self.lang);
                    w.write_all(page.as_bytes()).context("writing the report")?;
                } else {
                    self.summary.write_text(&mut w)?;
                    writeln!(w)?;
                    writeln!(w, "Findings, most severe first:")?;
                    let rows: Vec<[String; 5]> = findings
                        .iter()
                        .map(|f| {
                            [
                                f.severity.as_str().to_owned(),
                                f.kind.as_str().to_owned(),
                                f.subject.label(),
                                match &f.file {
                                    Some(file) if self.summary.inputs.len() > 1 => format!("{file}:{}", f.line),
                                    _ => f.line.to_string(),
                                },
                                oversight::report::one_line(&f.evidence, 100),
                            ]
                        })
                        .collect();
                    oversight::report::write_table(
                        &mut w,
                        "",
                        ["SEVERITY", "KIND", "RECORD", "LINE", "EVIDENCE"],
                        &rows,
                    )?;
                    writeln!(w, "{} findings", findings.len())?;
                }
                w.flush().context("writing findings")?;
            }
            Stream::Json(mut w) => w.flush().context("writing findings")?,
            Stream::Csv(mut w, _) => w.flush().context("writing findings")?,
            Stream::Parquet(p) => p.close()?,
        }
        if let Some(o) = self.out.take() {
            let path = o.path.clone();
            o.commit()?;
            if self.format != Format::Table {
                let mut stdout = std::io::stdout().lock();
                self.summary.write_text(&mut stdout)?;
                stdout.flush()?;
            }
            eprintln!("wrote {} ({} findings)", path.display(), self.summary.findings);
        }
        Ok(())
    }
}

/// Standard output for a writer that buffers itself (JSON lines, through a `BufWriter`): its
/// descriptor written to directly where that can be had, not through `Stdout`'s line buffer,
/// which looks for line breaks in every write and copies the bytes after the last one (a large
/// audit writes hundreds of megabytes).
fn stdout_unbuffered() -> Box<dyn Write> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout())
}

/// The files of `inputs`: files as given, folders as their `.csv` files (sorted by name).
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading the folder {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
                .collect();
            if found.is_empty() {
                anyhow::bail!("{}: the folder holds no .csv files", p.display());
            }
            found.sort();
            files.extend(found);
        } else {
            refuse_if_read_only_once(p)?;
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Refuses an input that can be read only once (a pipe, standard input, a device): a search
/// audit reads its files more than once (the header, then chunks on every core; the IDs of many
/// files before their searches) and an email production its first bytes before the rest.
fn refuse_if_read_only_once(path: &Path) -> Result<()> {
    let once = match std::fs::metadata(path) {
        Ok(m) => !m.is_file() && !m.is_dir(),
        Err(_) => path.as_os_str() == "-",
    };
    if once {
        anyhow::bail!(
            "{}: a pipe, standard input or a device can be read only once, and the audit reads its input more \
             than once: save it to a file first (e.g. `cat > export.csv`) and give that file",
            path.display()
        );
    }
    Ok(())
}

fn progress_bar(len: u64, out: &OutputArgs) -> ProgressBar {
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

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn searches(files: &[PathBuf], rules: oversight::search_audit::SearchRules, out: &OutputArgs) -> Result<ExitCode> {
    use oversight::search_audit::{audit_files_to, Output};
    if files.len() == 1 {
        // One file: a file that is not a search audit is an error, said before anything is written.
        oversight::searches::open(&files[0]).with_context(|| format!("auditing {}", files[0].display()))?;
    }
    let bar = progress_bar(files.iter().map(|f| file_len(f)).sum(), out);
    let mut sink = Sink::new("searches", out, files)?;
    let mut progress = |pass, bytes| {
        bar.set_message(format!("pass {pass}"));
        bar.set_position(bytes);
    };
    let audit = match sink.json_lines() {
        // JSON lines: the audit's threads write (and count) the findings themselves.
        Some((w, summary)) => {
            audit_files_to(files, &rules, &mut progress, Output::JsonLines(w, summary)).context("writing findings")?
        }
        None => audit_files_to(files, &rules, &mut progress, Output::Each(&mut |f| sink.push(f)))
            .context("writing findings")?,
    };
    bar.finish_and_clear();
    sink.summary.duplicates = audit.duplicates;
    sink.summary.profile = Some(audit.profile.clone());
    for f in &audit.files {
        let mut i = input(&f.path, &f.stats);
        i.error = f.error.clone();
        let j = &f.jurisdiction;
        i.jurisdiction = Some(match &j.state {
            Some(st) => format!("{st} (from {})", j.how),
            None => format!("no state: {}", j.how),
        });
        sink.summary.inputs.push(i);
    }
    sink.finish()?;
    for f in &audit.files {
        match &f.error {
            Some(e) => eprintln!("error: {e}"),
            None => report_stats(&f.path, &f.stats, out.stats),
        }
    }
    if audit.files.iter().all(|f| f.error.is_some() || f.stats.kept == 0) {
        eprintln!(
            "error: no search could be read (a search audit is a CSV file with id, search time and reason columns)"
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn sharing(file: &Path, resolutions: bool, policies: Option<&Path>, out: &OutputArgs) -> Result<ExitCode> {
    let dir = oversight::directory::Directory::builtin().context("loading the agency directory")?;
    let published = policies
        .map(|p| oversight::policy_practice::read_policies_file(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    let inputs: Vec<PathBuf> = std::iter::once(file).chain(policies).map(Path::to_owned).collect();
    let mut sink = Sink::new("sharing", out, &inputs)?.reading(file);
    let report = oversight::sharing::audit_file(file, &dir, &mut |f| sink.push(f))
        .with_context(|| format!("auditing {}", file.display()))?;
    let practice = published
        .as_ref()
        .map(|p| {
            oversight::policy_practice::audit_file(file, p, &dir, &mut |f| sink.push(f))
                .with_context(|| format!("auditing {} against its agencies' policies", file.display()))
        })
        .transpose()?;
    sink.summary.inputs.push(input(file, &report.stats));
    if let (Some(p), Some(published)) = (policies, &published) {
        let mut i = input(p, &published.stats);
        if let Some(practice) = &practice {
            i.notes.extend(practice.stats.notes.iter().cloned());
        }
        sink.summary.inputs.push(i);
    }
    sink.summary.unresolved = report.unresolved().map(|r| r.to_string()).collect();
    let summary_shown = matches!(out.format(), Format::Table | Format::Html) || out.out.is_some();
    sink.finish()?;
    report_stats(file, &report.stats, out.stats);
    if let (Some(p), Some(published), Some(practice)) = (policies, &published, &practice) {
        report_stats(p, &published.stats, out.stats);
        if out.stats {
            eprintln!(
                "  {} policies matched to the sharing list's agencies; {} policy contradictions",
                practice.matched.len(),
                practice.stats.findings
            );
            for n in &practice.stats.notes {
                eprintln!("  note: {n}");
            }
        } else if !practice.unmatched.is_empty() {
            eprintln!(
                "note: {} published policies match no agency of the sharing list (--stats lists them)",
                practice.unmatched.len()
            );
        }
    }
    let unresolved: Vec<_> = report.unresolved().collect();
    if resolutions {
        eprintln!("resolution of every name ({}):", report.resolutions.len());
        for r in report.resolutions.values() {
            eprintln!("  {r}");
        }
    } else if !unresolved.is_empty() && !summary_shown {
        eprintln!("{} names not resolved by the agency directory (never guessed):", unresolved.len());
        for r in &unresolved {
            eprintln!("  {r}");
        }
    }
    Ok(nothing_read(file, &report.stats, "a sharing list (src_agency, external_agency, ...)"))
}

/// Exit status 2, with a message, when no record of `file` could be read.
fn nothing_read(file: &Path, stats: &ImportStats, expected: &str) -> ExitCode {
    if stats.kept == 0 {
        eprintln!("error: {}: no record could be read; expected {expected}", file.display());
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn emails(file: &Path, out: &OutputArgs) -> Result<ExitCode> {
    refuse_if_read_only_once(file)?;
    let bar = progress_bar(file_len(file), out);
    let mut sink = Sink::new("emails", out, &[file.to_owned()])?.reading(file);
    let report =
        oversight::emails::audit_path_with_progress(file, &mut |bytes| bar.set_position(bytes), &mut |f| sink.push(f))
            .with_context(|| format!("auditing {}", file.display()))?;
    bar.finish_and_clear();
    sink.summary.inputs.push(input(file, &report.stats));
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
    let mut sink = Sink::new("intelligence", out, &[file.to_owned()])?.reading(file);
    let stats = oversight::intelligence::audit_file(file, as_of, &mut |f| sink.push(f))
        .with_context(|| format!("auditing {}", file.display()))?;
    sink.summary.inputs.push(input(file, &stats));
    sink.finish()?;
    report_stats(file, &stats, out.stats);
    Ok(nothing_read(file, &stats, "criminal intelligence records (record_id, entry_date, last_review, ...)"))
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
    let mut sink = Sink::new("ledger", out, &[])?;
    let stats = oversight::side_door::audit(reader, &deployment, rules, &mut |f| sink.push(f))
        .with_context(|| format!("auditing the ledger of {shown}"))?;
    sink.summary.inputs.push(oversight::report::Input {
        file: shown.to_owned(),
        read: stats.read,
        kept: stats.read,
        notes: stats.notes.clone(),
        ..Default::default()
    });
    sink.finish()?;
    if out.stats {
        eprintln!("{shown}: {} entries read; {} findings", stats.read, stats.findings);
        for n in &stats.notes {
            eprintln!("  note: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Splits `--peer LOCATION=VKEY` at the first `=` followed by a key (`@FILE`, or text that parses
/// as a verifier key: a key's base64 may end in `=`, a path may hold one); with no key, a data
/// directory's own (`None`). Returns the location and the key text.
fn peer_arg(arg: &str) -> Result<(String, Option<String>)> {
    let splits: Vec<(&str, &str)> = arg.match_indices('=').map(|(i, _)| (&arg[..i], &arg[i + 1..])).collect();
    let key = |k: &str| -> Result<String> {
        match k.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file)
                .map(|s| s.trim().to_string())
                .with_context(|| format!("--peer {arg}: reading the verifier key file {file}")),
            None => Ok(k.trim().to_string()),
        }
    };
    if let Some((loc, k)) =
        splits.iter().find(|(_, k)| k.starts_with('@') || ledger::note::NoteVerifier::parse(k.trim()).is_ok())
    {
        return Ok((loc.to_string(), Some(key(k)?)));
    }
    if Path::new(arg).join(oversight::ledger::VKEY_FILE).is_file() {
        return Ok((arg.to_string(), None));
    }
    match splits.first() {
        // Not a key: the reader says what is wrong with it, naming the ledger.
        Some((loc, k)) => Ok((loc.to_string(), Some(key(k)?))),
        None => anyhow::bail!(
            "--peer {arg}: expected LOCATION=VKEY (a hub's ledger URL or directory, and its verifier key or @FILE), \
             or a hub's data directory holding {}",
            oversight::ledger::VKEY_FILE
        ),
    }
}

/// Opens one `--peer`'s ledger, verified: a URL (https:// checked against `tls`), a hub's data
/// directory (its `ledger/tiles`, and its `ledger.vkey` unless a key is given) or a tiles
/// directory.
fn open_peer(arg: &str, tls: &ledger::http::Tls) -> Result<oversight::ledger::LedgerReader> {
    let (location, vkey) = peer_arg(arg)?;
    let opened = if location.starts_with("http://") || location.starts_with("https://") {
        let vkey = vkey.with_context(|| format!("--peer {arg}: a URL needs its verifier key (=VKEY)"))?;
        oversight::ledger::LedgerReader::open_tiles_tls(&location, &vkey, tls)
    } else {
        let dir = Path::new(&location);
        let tiles = dir.join(oversight::ledger::LEDGER_DIR).join(ledger::storage::TILES_DIR);
        match (vkey, tiles.is_dir()) {
            (None, _) => oversight::ledger::LedgerReader::open_data_dir(dir),
            (Some(k), true) => oversight::ledger::LedgerReader::open_tiles(&tiles.display().to_string(), &k),
            (Some(_), false) if !dir.is_dir() => {
                anyhow::bail!("--peer {arg}: {location} is neither a URL nor a directory")
            }
            (Some(k), false) => oversight::ledger::LedgerReader::open_tiles(&location, &k),
        }
    };
    opened.with_context(|| format!("--peer {arg}"))
}

fn federation(
    peers: &[String],
    ca: Option<&Path>,
    rules: &oversight::federation::FederationRules,
    out: &OutputArgs,
) -> Result<ExitCode> {
    if peers.len() < 2 {
        anyhow::bail!(
            "a federation audit needs at least two hubs' ledgers: give --peer LOCATION=VKEY for each ({} given)",
            peers.len()
        );
    }
    let tls = match ca {
        Some(ca) => ledger::http::Tls::from_files(ca, None).with_context(|| format!("--ca {}", ca.display()))?,
        None => ledger::http::Tls::default(),
    };
    let readers = peers.iter().map(|p| open_peer(p, &tls)).collect::<Result<Vec<_>>>()?;
    let mut sink = Sink::new("federation", out, &[])?;
    let stats = oversight::federation::audit(&readers, rules, &mut |f| sink.push(f))
        .context("auditing the federation's ledgers")?;
    for h in &stats.hubs {
        sink.summary.inputs.push(oversight::report::Input {
            file: format!("{} ({})", h.origin, h.location),
            read: h.size,
            kept: h.size,
            notes: h.notes.clone(),
            ..Default::default()
        });
    }
    sink.finish()?;
    if out.stats {
        for h in &stats.hubs {
            eprintln!(
                "{} ({}): {} entries; {} decisions, {} outbound, {} inbound, {} peer receipts, {} failed forwards, \
                 {} refused envelopes; {} findings",
                h.origin,
                h.location,
                h.size,
                h.decisions,
                h.outbound,
                h.inbound,
                h.receipts,
                h.forward_failed,
                h.peer_refused,
                h.findings
            );
            for n in &h.notes {
                eprintln!("  note: {n}");
            }
        }
    }
    Ok(if stats.findings > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The input of one file for the summary.
fn input(file: &Path, stats: &ImportStats) -> oversight::report::Input {
    oversight::report::Input {
        file: file.display().to_string(),
        read: stats.read,
        kept: stats.kept,
        rejected: stats.rejected.len() as u64,
        notes: stats.notes.clone(),
        ..Default::default()
    }
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
