//! Email productions: Outlook CSV exports, mbox files, `.eml` files, printed email in PDF, and
//! folders of `.eml` and `.pdf` files.
//!
//! [`audit_path`] picks the format: a folder is read as `.eml` and `.pdf` files (recursively, in
//! path order; other files are listed in the notes); a file ending in `.mbox`, `.mbx` or `.mbs` is
//! an mbox, one ending in `.eml` a single message, one ending in `.csv` an Outlook export, one
//! ending in `.pdf` or starting with `%PDF-` a print; any other file is judged by its first line
//! (`From ` starts an mbox, `Name: value` a message, anything else is read as CSV). An empty file,
//! a binary one or one in UTF-16 is an [`Error::Format`] saying what was expected.
//!
//! **PDF** (released email printed from Outlook or Gmail, one message after another): the text
//! layer is read page by page ([`crate::pdf`]) and split into messages at their header blocks
//! ([`crate::printed`]: Outlook's `From:`/`Sent:`/`To:`/`Cc:`/`Subject:` block under the name
//! line, Gmail's sender line and `To:`), then each message goes through the same detectors as
//! the other formats. A message is named `FILE:pN` after the page it starts on (`FILE:pN.2`,
//! `FILE:pN.3` for the second and third starting there) and its findings' `line` is that page;
//! [`EmailReport::pages`] gives the pages each message spans. A recipient printed by name alone
//! is kept as that name (as an Outlook export keeps an Exchange X.500 address). Threads are
//! rebuilt from the normalised subject. A PDF without a text layer (a scan) is an
//! [`Error::Format`] naming its pages and saying OCR is needed (e.g. `ocrmypdf`); in a PDF with
//! text, pages that are images only are named in [`EmailReport::warnings`] and not read.
//!
//! **Outlook CSV** (`Subject, Body, From: (Name), From: (Address), From: (Type), To: (Name),
//! To: (Address), ..., CC: ..., BCC: ..., Importance, Sensitivity`), with bodies over many lines.
//! An export has no Message-ID, no date and no attachments: each message gets the id `row-N` (its
//! 1-based position in the file), threads are rebuilt from the normalised subject (without `RE:`,
//! `FW:`, `[EXTERNAL]` prefixes), and the statistics note that attachments cannot be seen.
//! Addresses are kept as written: an Exchange X.500 address (`/O=EXCHANGELABS/OU=.../CN=...`) is
//! the sender's id, and flagged as not being an email address.
//!
//! **mbox and `.eml`** are parsed by [`crate::mail`] (RFC 2047 encoded words, folded headers,
//! multipart bodies, quoted-printable and base64). An mbox is read as a stream, one message in
//! memory: messages start at a `From ` line that opens the file or follows an empty line, and
//! `>From ` escapes in bodies are undone. Each message is named by its Message-ID (`FILE:LINE`
//! when it has none, noted); its attachments are listed (name, type, size) in the report; a
//! malformed message is rejected with its line and reason. Threads are rebuilt from Message-ID,
//! In-Reply-To and References (messages linked through any chain of them are one thread, even when
//! a message in between is missing); a message with neither field whose subject starts with a
//! reply or forward prefix joins the thread of the first message with the same normalised subject.
//!
//! Detectors: an immigration-enforcement address ([`FEDERAL_DOMAINS`] of class immigration or
//! DHS: `ice.gov`, `cbp.gov`, `uscis.gov`, and `dhs.gov` with its subdomains `ice.dhs.gov`,
//! `cbp.dhs.gov`, ...) in From, To, CC or BCC (`federal_originator`, `email.dhs_address`, high in
//! From or CC, medium in To or BCC); another federal law-enforcement address (`fbi.gov`,
//! `usdoj.gov`, `atf.gov`, `dea.gov`, `usss.gov`, `usmarshals.gov`, `uscg.mil`; medium in From or
//! CC); a DHS component that does not enforce immigration law (`fema.gov`, `fema.dhs.gov`,
//! `cisa.gov`, `tsa.gov` and their `dhs.gov` forms: low in From or CC, `email.federal_non_enforcement`);
//! a personal mail account ([`PERSONAL_DOMAINS`]) on a message that also reaches an organisation
//! (`personal_account`, `email.personal_account`, medium: official business outside the agency's
//! records system; the evidence names the service and the address's [`address_hash`], never the
//! address; [`EmailReport::personal_accounts`] counts them per hash); immigration vocabulary in the
//! subject, the body text or an attachment's name (the policy crate's justification classifier,
//! with its readings that are not enforcement, such as "ice storm").

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use policy::justification::{self, Signal};

use crate::directory::Class;
use crate::error::{Error, Result};
use crate::finding::{Finding, Kind, Severity, Subject};
use crate::mail::{self, Attachment};
use crate::printed::{self, Layout};
use crate::stats::{next_record, ImportStats};

/// One message of a production.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Email {
    /// The 1-based line where the message starts (its CSV row, or its first header field).
    pub line: u64,
    /// The Message-ID without angle brackets; `row-N` for an Outlook CSV export, `FILE:LINE` for a
    /// message without one.
    pub message_id: String,
    /// The `.eml` file the message is in, when the production is a folder of them.
    pub file: Option<String>,
    /// The subject.
    pub subject: String,
    /// The body text.
    pub body: String,
    /// Sender's display name.
    pub from_name: String,
    /// Sender's address as written (an email address, or an Exchange X.500 address).
    pub from_address: String,
    /// Recipients' addresses.
    pub to: Vec<String>,
    /// Copied addresses.
    pub cc: Vec<String>,
    /// Blind-copied addresses.
    pub bcc: Vec<String>,
    /// The thread key: the normalised subject.
    pub thread: String,
    /// The Date header field as written (empty in an Outlook CSV export).
    pub date: String,
    /// The ids of In-Reply-To and References.
    pub references: Vec<String>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
}

/// Whether an address is an email address (`local@domain.tld`), as opposed to an X.500 address or
/// a display name.
pub fn is_email_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else { return false };
    !local.is_empty()
        && !a.contains(char::is_whitespace)
        && domain.contains('.')
        && domain.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// The domain of an email address, lowercased.
pub fn domain(a: &str) -> Option<String> {
    is_email_address(a).then(|| a.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase())).flatten()
}

/// The thread key of a subject: lowercased, without reply/forward prefixes and `[EXTERNAL]` tags.
pub fn thread_key(subject: &str) -> String {
    let mut s = subject.trim().to_lowercase();
    loop {
        let before = s.len();
        for p in ["re:", "fw:", "fwd:", "aw:", "sv:", "[external]", "[external ⚠]", "external:"] {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.trim_start().to_owned();
            }
        }
        if s.len() == before {
            break;
        }
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Federal domains: the domain (a message's domain matches it or a subdomain of it; the longest
/// match wins, so `ice.dhs.gov` before `dhs.gov`), the component it names and its class.
pub const FEDERAL_DOMAINS: &[(&str, &str, Class)] = &[
    ("ice.dhs.gov", "ICE", Class::Immigration),
    ("ice.gov", "ICE", Class::Immigration),
    ("cbp.dhs.gov", "CBP", Class::Immigration),
    ("cbp.gov", "CBP", Class::Immigration),
    ("uscis.dhs.gov", "USCIS", Class::Immigration),
    ("uscis.gov", "USCIS", Class::Immigration),
    ("dhs.gov", "DHS", Class::Dhs),
    ("fema.dhs.gov", "FEMA", Class::FederalOther),
    ("fema.gov", "FEMA", Class::FederalOther),
    ("cisa.dhs.gov", "CISA", Class::FederalOther),
    ("cisa.gov", "CISA", Class::FederalOther),
    ("tsa.dhs.gov", "TSA", Class::FederalOther),
    ("tsa.gov", "TSA", Class::FederalOther),
    ("uscg.mil", "USCG", Class::FederalLe),
    ("fbi.gov", "FBI", Class::FederalLe),
    ("usdoj.gov", "DOJ", Class::FederalLe),
    ("atf.gov", "ATF", Class::FederalLe),
    ("dea.gov", "DEA", Class::FederalLe),
    ("usss.gov", "USSS", Class::FederalLe),
    ("usmarshals.gov", "USMS", Class::FederalLe),
];

/// Personal mail services: an address there is a person's own account, not an agency's or a
/// company's. Subdomains count (`mail.yahoo.com`); so do the national domains of the big
/// services (`yahoo.co.uk`, `hotmail.fr`, ...: [`is_personal_domain`]).
pub const PERSONAL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "rocketmail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "protonmail.ch",
    "proton.me",
    "pm.me",
    "gmx.com",
    "gmx.net",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "tutanota.com",
    "tuta.io",
    "fastmail.com",
    "hushmail.com",
    "comcast.net",
    "att.net",
    "sbcglobal.net",
    "verizon.net",
    "cox.net",
    "charter.net",
];

/// Whether a (lowercase) domain is a personal mail service's: one of [`PERSONAL_DOMAINS`] or a
/// subdomain of one, or `yahoo.`, `hotmail.`, `outlook.` or `live.` followed by a country's domain
/// (`yahoo.co.uk`, `hotmail.fr`).
pub fn is_personal_domain(d: &str) -> bool {
    if matches_domain(d, PERSONAL_DOMAINS) {
        return true;
    }
    ["yahoo.", "hotmail.", "outlook.", "live."].iter().any(|p| {
        d.strip_prefix(p).is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('.').collect();
            // A country's domain: `fr`, `co.uk`, `com.au`.
            matches!(parts.as_slice(), [cc] if cc.len() == 2)
                || matches!(parts.as_slice(), [sld, cc] if cc.len() == 2 && ["co", "com"].contains(sld))
        })
    })
}

/// The pseudonym of a personal address in summaries: the first 16 hex digits of SHA-256 over
/// `fusionguard.personal_account/1`, a zero byte and the address trimmed and lowercased. The same
/// address has the same pseudonym in every run and production, so counts can be compared; it is
/// not anonymity (whoever guesses an address can hash it and compare).
pub fn address_hash(address: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"fusionguard.personal_account/1\0");
    h.update(address.trim().to_lowercase().as_bytes());
    h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The practice concern the personal-account rule applies (no one statute: each state's
/// public-records and records-retention laws).
pub const PERSONAL_ACCOUNT_CITATION: &str = "public-records and records-retention laws (practice concern): official \
     business in a personal account is still a public record to be retained and produced";

fn matches_domain(d: &str, list: &[&str]) -> bool {
    list.iter().any(|x| d == *x || d.strip_suffix(x).is_some_and(|p| p.ends_with('.')))
}

/// The federal component and class of a (lowercase) domain, by [`FEDERAL_DOMAINS`].
pub fn federal_domain(d: &str) -> Option<(&'static str, Class)> {
    FEDERAL_DOMAINS
        .iter()
        .filter(|(x, _, _)| d == *x || d.strip_suffix(x).is_some_and(|p| p.ends_with('.')))
        .max_by_key(|(x, _, _)| x.len())
        .map(|&(_, c, class)| (c, class))
}

/// The message's From, To, CC and BCC, with their names.
fn address_fields(e: &Email) -> [(&'static str, &[String]); 4] {
    [("From", std::slice::from_ref(&e.from_address)), ("To", &e.to), ("CC", &e.cc), ("BCC", &e.bcc)]
}

/// The personal-service addresses of a message that also reaches an organisation (an address that
/// is not a personal service's, or an Exchange id of the agency's own staff): (field, hash of the
/// address, domain, number of organisation addresses). None when every party is a personal one.
fn personal_addresses(e: &Email) -> Vec<(&'static str, String, String, usize)> {
    let fields = address_fields(e);
    let organisational = fields
        .iter()
        .flat_map(|(_, addrs)| addrs.iter())
        .filter(|a| !a.trim().is_empty() && domain(a).is_none_or(|d| !is_personal_domain(&d)))
        .count();
    if organisational == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (field, addrs) in fields {
        for a in addrs {
            if let Some(d) = domain(a).filter(|d| is_personal_domain(d)) {
                out.push((field, address_hash(a), d, organisational));
            }
        }
    }
    out
}

/// The personal accounts of a message (hash, domain), as [`detect`] reports them.
fn personal_accounts(e: &Email) -> impl Iterator<Item = (String, String)> {
    personal_addresses(e).into_iter().map(|(_, h, d, _)| (h, d))
}

/// Runs the email detectors on one message.
pub fn detect(e: &Email, out: &mut dyn FnMut(Finding)) {
    let finding = |kind, severity, evidence: String, rule, citation| Finding {
        kind,
        severity,
        subject: Subject::Email { message_id: e.message_id.clone() },
        line: e.line,
        evidence,
        rule,
        citation,
        agency: None,
        user: None,
        time: None,
        file: e.file.as_deref().map(Into::into),
        also_in: Vec::new(),
    };
    if !e.from_address.is_empty() && !is_email_address(&e.from_address) {
        let what = if e.from_address.to_ascii_uppercase().starts_with("/O=") {
            "an Exchange X.500 address"
        } else {
            "not an email address"
        };
        out(finding(
            Kind::NonEmailSender,
            Severity::Low,
            format!("sender {:?} is {what}: {:?} (kept as the sender's id)", e.from_name, e.from_address),
            "email.non_email_sender",
            "",
        ));
    }
    for (field, addrs) in address_fields(e) {
        for a in addrs {
            let Some(d) = domain(a) else { continue };
            let prominent = field == "From" || field == "CC";
            match federal_domain(&d) {
                Some((_, class)) if class.is_immigration() => out(finding(
                    Kind::FederalOriginator,
                    if prominent { Severity::High } else { Severity::Medium },
                    format!("DHS address in {field}: {a}"),
                    "email.dhs_address",
                    crate::search_audit::SANCTUARY_CITATION,
                )),
                Some(_) if !prominent => {}
                Some((component, Class::FederalOther)) => out(finding(
                    Kind::FederalOriginator,
                    Severity::Low,
                    format!("federal address in {field} ({component}, not immigration enforcement): {a}"),
                    "email.federal_non_enforcement",
                    "",
                )),
                Some(_) => out(finding(
                    Kind::FederalOriginator,
                    Severity::Medium,
                    format!("federal address in {field}: {a}"),
                    "email.federal_address",
                    "",
                )),
                None => {}
            }
        }
    }
    for (field, hash, d, organisational) in personal_addresses(e) {
        let mut f = finding(
            Kind::PersonalAccount,
            Severity::Medium,
            format!(
                "personal mail service {d} in {field} (address {hash}) on a message with {organisational} \
                 organisation address(es)"
            ),
            "email.personal_account",
            PERSONAL_ACCOUNT_CITATION,
        );
        f.user = Some(hash);
        out(f);
    }
    let mut text = format!("{}\n{}", e.subject, e.body);
    for a in &e.attachments {
        text.push('\n');
        text.push_str(&a.name);
    }
    let c = justification::classify(&text);
    let severity = match c.signal {
        Signal::Strong => Some(Severity::High),
        Signal::Weak => Some(Severity::Low),
        Signal::None => None,
    };
    if let Some(severity) = severity {
        out(finding(
            Kind::ImmigrationPurpose,
            severity,
            format!("subject {:?}: {}", e.subject, c.evidence().join(", ")),
            if severity == Severity::High { "email.immigration_purpose" } else { "email.immigration_purpose.weak" },
            crate::search_audit::SANCTUARY_CITATION,
        ));
    }
}

/// The result of an email audit besides its findings.
#[derive(Clone, Debug, Default)]
pub struct EmailReport {
    /// Messages read, kept, rejected.
    pub stats: ImportStats,
    /// Threads: the normalised subject of the thread's first message and the ids of its messages,
    /// in file order of first message.
    pub threads: Vec<(String, Vec<String>)>,
    /// Attachments: the message id and the attachment, in file order.
    pub attachments: Vec<(String, Attachment)>,
    /// Personal mail accounts on messages that reach an organisation (the `email.personal_account`
    /// findings), by [`address_hash`]: the service's domain and the number of messages. Never the
    /// address itself.
    pub personal_accounts: BTreeMap<String, PersonalAccount>,
    /// The pages of each message read from a PDF, in file order: its id, its first and last
    /// page.
    pub pages: Vec<(String, u32, u32)>,
    /// What was not read and should be (pages without a text layer, a file that ends in the
    /// middle of a line, a file of a folder that could not be read): worth saying even without
    /// the statistics.
    pub warnings: Vec<String>,
}

/// One personal mail account of a production, known by its [`address_hash`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonalAccount {
    /// The mail service's domain (`gmail.com`).
    pub domain: String,
    /// Messages it is on.
    pub messages: u64,
}

impl EmailReport {
    /// Counts the `email.personal_account` findings of one message into
    /// [`EmailReport::personal_accounts`] (each account once per message).
    fn count_personal(&mut self, e: &Email) {
        let mut seen = Vec::new();
        for (hash, domain) in personal_accounts(e) {
            if seen.contains(&hash) {
                continue;
            }
            let a = self.personal_accounts.entry(hash.clone()).or_default();
            a.domain = domain;
            a.messages += 1;
            seen.push(hash);
        }
    }
}

fn split_addresses(s: &str) -> Vec<String> {
    s.split(';').map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect()
}

/// Audits an Outlook CSV export read from `input` (`path` names it in messages).
pub fn audit_outlook_csv<R: Read>(path: &Path, input: R, out: &mut dyn FnMut(Finding)) -> Result<EmailReport> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers().map_err(|e| Error::csv(path, e))?.clone();
    let col =
        |name: &str| headers.iter().position(|h| crate::directory::normalize(h.trim_start_matches('\u{feff}')) == name);
    let (Some(subject), Some(body), Some(from_addr)) = (col("subject"), col("body"), col("from address")) else {
        return Err(Error::Header {
            path: path.to_owned(),
            message: format!(
                "not an Outlook CSV export: needs Subject, Body and From: (Address); columns found: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    let (from_name, to, cc, bcc) = (col("from name"), col("to address"), col("cc address"), col("bcc address"));
    let mut report = EmailReport::default();
    report
        .stats
        .notes
        .push("Outlook CSV exports carry no Message-ID, date or attachments: messages are named row-N".into());
    let mut threads: HashMap<String, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    while next_record(&mut reader, &mut record, &mut report.stats, path)? {
        report.stats.read += 1;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != headers.len() {
            report.stats.reject(line, None, format!("{} fields, the header has {}", record.len(), headers.len()));
            continue;
        }
        let get = |i: Option<usize>| i.map(|i| record[i].to_owned()).unwrap_or_default();
        let email = Email {
            line,
            message_id: format!("row-{}", report.stats.read),
            subject: record[subject].to_owned(),
            body: record[body].to_owned(),
            from_name: get(from_name),
            from_address: record[from_addr].trim().to_owned(),
            to: split_addresses(&get(to)),
            cc: split_addresses(&get(cc)),
            bcc: split_addresses(&get(bcc)),
            thread: thread_key(&record[subject]),
            ..Default::default()
        };
        if email.from_address.is_empty() && email.subject.trim().is_empty() && email.body.trim().is_empty() {
            report.stats.reject(line, None, "empty message (no sender, subject or body)");
            continue;
        }
        report.stats.kept += 1;
        let n = threads.len();
        let t = *threads.entry(email.thread.clone()).or_insert(n);
        if t == report.threads.len() {
            report.threads.push((email.thread.clone(), Vec::new()));
        }
        report.threads[t].1.push(email.message_id.clone());
        let mut count = 0;
        detect(&email, &mut |f| {
            count += 1;
            out(f)
        });
        report.stats.findings += count;
        report.count_personal(&email);
    }
    Ok(report)
}

/// The format of an email production.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An Outlook CSV export.
    OutlookCsv,
    /// An mbox file.
    Mbox,
    /// One message (`.eml`).
    Eml,
    /// A folder of `.eml` and `.pdf` files.
    EmlFolder,
    /// Printed email in a PDF.
    Pdf,
}

/// What `audit emails` reads, for messages about a file that is not one.
pub const EXPECTED: &str =
    "an email production: an Outlook CSV export, an mbox file, an .eml file, printed email in a PDF, or a folder of .eml and .pdf files";

/// Which format `path` holds: by being a folder, by extension, else by its first bytes. An empty
/// file, a binary file (a NUL byte in its first 4 KiB) and a UTF-16 file are errors saying so.
pub fn format_of(path: &Path) -> Result<Format> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Ok(Format::EmlFolder);
    }
    let format_error = |message: String| Error::Format { path: path.to_owned(), message };
    if meta.len() == 0 {
        return Err(format_error(format!("the file is empty; expected {EXPECTED}")));
    }
    let mut head = Vec::new();
    std::fs::File::open(path).map_err(io)?.take(4096).read_to_end(&mut head).map_err(io)?;
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if ext == "pdf" || head.starts_with(b"%PDF-") {
        return Ok(Format::Pdf);
    }
    if head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff") {
        return Err(format_error(
            "the file is UTF-16 text; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8) and audit that".into(),
        ));
    }
    if let Some(at) = head.iter().position(|&b| b == 0) {
        return Err(format_error(format!("not a text file (a NUL byte at byte {at}); expected {EXPECTED}")));
    }
    match ext.as_str() {
        "mbox" | "mbx" | "mbs" => return Ok(Format::Mbox),
        "eml" => return Ok(Format::Eml),
        "csv" => return Ok(Format::OutlookCsv),
        _ => {}
    }
    let first = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let first = first.strip_prefix(b"\xef\xbb\xbf").unwrap_or(first);
    if first.starts_with(b"From ") {
        return Ok(Format::Mbox);
    }
    let colon = first.iter().position(|&b| b == b':');
    if colon.is_some_and(|c| c > 0 && first[..c].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')) {
        return Ok(Format::Eml);
    }
    Ok(Format::OutlookCsv)
}

/// Audits an email production, a file or a folder, in the format [`format_of`] finds.
pub fn audit_path(path: &Path, out: &mut dyn FnMut(Finding)) -> Result<EmailReport> {
    audit_path_with_progress(path, &mut |_| {}, out)
}

/// [`audit_path`], reporting the bytes of an mbox read so far to `progress` (every MiB or so).
pub fn audit_path_with_progress(
    path: &Path,
    progress: &mut dyn FnMut(u64),
    out: &mut dyn FnMut(Finding),
) -> Result<EmailReport> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    match format_of(path)? {
        Format::OutlookCsv => {
            let f = std::fs::File::open(path).map_err(io)?;
            audit_outlook_csv(path, std::io::BufReader::new(f), out)
        }
        Format::Mbox => {
            let f = std::fs::File::open(path).map_err(io)?;
            audit_mbox(path, std::io::BufReader::with_capacity(1 << 16, f), progress, out)
        }
        Format::Eml => {
            let mut audit = MailAudit::new(out);
            let data = std::fs::read(path).map_err(io)?;
            audit.message(None, &path.display().to_string(), &data, 1);
            Ok(audit.finish())
        }
        Format::Pdf => {
            let data = std::fs::read(path).map_err(io)?;
            let pdf = pdf_messages(path, &data, &path.display().to_string(), None)?;
            let mut audit = MailAudit::new(out);
            audit.printed(pdf);
            Ok(audit.finish())
        }
        Format::EmlFolder => {
            let mut files = Vec::new();
            let mut others = Vec::new();
            walk(path, &mut files, &mut others)?;
            files.sort();
            others.sort();
            let mut audit = MailAudit::new(out);
            if !others.is_empty() {
                let names: Vec<String> =
                    others.iter().map(|p| p.strip_prefix(path).unwrap_or(p).display().to_string()).collect();
                audit.report.stats.notes.push(format!(
                    "{} files not ending in .eml or .pdf were not read: {}",
                    others.len(),
                    names.join(", ")
                ));
            }
            for f in files {
                let data = std::fs::read(&f).map_err(|source| Error::Io { path: f.clone(), source })?;
                let rel = f.strip_prefix(path).unwrap_or(&f).display().to_string();
                if is_pdf_name(&f) {
                    match pdf_messages(&f, &data, &rel, Some(&rel)) {
                        Ok(pdf) => audit.printed(pdf),
                        // One unreadable print does not stop the folder: it is named, and skipped.
                        Err(e) => audit.report.warnings.push(format!("{e} (skipped)").replacen(
                            &f.display().to_string(),
                            &rel,
                            1,
                        )),
                    }
                } else {
                    audit.message(Some(&rel), &rel, &data, 1);
                }
            }
            Ok(audit.finish())
        }
    }
}

fn is_pdf_name(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
}

/// The messages of a print, as [`pdf_messages`] reads them.
#[derive(Clone, Debug, Default)]
pub struct PdfMessages {
    /// The messages, in print order; `line` is the page each starts on.
    pub emails: Vec<Email>,
    /// Each message's first and last page.
    pub pages: Vec<(u32, u32)>,
    /// Notes: text before the first message, how the layout was read.
    pub notes: Vec<String>,
    /// Pages that could not be read (images only, damaged content), each naming the file.
    pub warnings: Vec<String>,
}

/// Pages as a short list: `1-3, 5`.
fn page_list(pages: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pages.len() {
        let mut j = i;
        while j + 1 < pages.len() && pages[j + 1] == pages[j] + 1 {
            j += 1;
        }
        out.push(if j > i { format!("{}-{}", pages[i], pages[j]) } else { pages[i].to_string() });
        i = j + 1;
    }
    out.join(", ")
}

/// Reads the printed messages of the PDF `data` (`path` names it in errors, `name` in message
/// ids and notes; `file` is set for a folder's files). An error when nothing could be read: not a
/// PDF, encrypted, damaged, no text layer (a scan: the pages are named and OCR is asked for), or
/// text without a printed header block.
pub fn pdf_messages(path: &Path, data: &[u8], name: &str, file: Option<&str>) -> Result<PdfMessages> {
    let text = crate::pdf::read(path, data)?;
    let cut = if text.truncated { "; the file does not end with %%EOF: it is truncated" } else { "" };
    let format_error = |message: String| Error::Format { path: path.to_owned(), message: format!("{message}{cut}") };
    let plural = |n: u32| if n == 1 { "page" } else { "pages" };
    if text.lines.is_empty() {
        if !text.image_only.is_empty() {
            let n = text.image_only.len() as u32;
            return Err(format_error(format!(
                "no text layer: {} {} of {} {} only images (a scanned production), so there is no text to read; \
                 run OCR on it first (e.g. ocrmypdf {} ocr.pdf) and audit the result",
                plural(n),
                page_list(&text.image_only),
                text.pages,
                if n == 1 { "is" } else { "are" },
                path.display(),
            )));
        }
        if let Some((page, why)) = text.unreadable.first() {
            return Err(format_error(format!("no text could be read: page {page}: {why}")));
        }
        return Err(format_error(format!(
            "no text on any of its {} {}; expected printed email",
            text.pages,
            plural(text.pages)
        )));
    }
    let split = printed::split(&text.lines);
    if split.messages.is_empty() {
        let first: String = text.lines.iter().take(3).map(|l| l.text.as_str()).collect::<Vec<_>>().join(" / ");
        let first: String = first.chars().take(120).collect();
        return Err(format_error(format!(
            "no printed email found in the text of its {} {}: expected Outlook's print layout (the sender's name, \
             then From:, Sent:, To:, Subject: lines) or Gmail's (the subject, a sender line with the date, then To:); \
             page {} begins {first:?}",
            text.pages,
            plural(text.pages),
            text.lines[0].page,
        )));
    }
    let mut out =
        PdfMessages { notes: split.notes.iter().map(|n| format!("{name}: {n}")).collect(), ..Default::default() };
    if !text.image_only.is_empty() {
        let n = text.image_only.len() as u32;
        out.warnings.push(format!(
            "{name}: {} {} {} no text layer (images only: scanned) and {} not read; run OCR on the file (e.g. ocrmypdf) \
             to audit {}",
            plural(n),
            page_list(&text.image_only),
            if n == 1 { "has" } else { "have" },
            if n == 1 { "was" } else { "were" },
            if n == 1 { "it" } else { "them" },
        ));
    }
    for (page, why) in &text.unreadable {
        out.warnings.push(format!("{name}: page {page}: {why}"));
    }
    if text.truncated {
        out.warnings.push(format!(
            "{name}: the file does not end with %%EOF: it is truncated; what could be read of its {} {} was read",
            text.pages,
            plural(text.pages)
        ));
    }
    let mut on_page: HashMap<u32, u32> = HashMap::new();
    for m in split.messages {
        let k = on_page.entry(m.first_page).or_insert(0);
        *k += 1;
        let message_id =
            if *k == 1 { format!("{name}:p{}", m.first_page) } else { format!("{name}:p{}.{k}", m.first_page) };
        let (from_name, from_address) = printed::party(&m.from);
        if m.layout == Layout::Gmail && m.subject.is_empty() {
            out.notes
                .push(format!("{name}, page {}: a Gmail message without its thread's subject above it", m.first_page));
        }
        out.pages.push((m.first_page, m.last_page));
        out.emails.push(Email {
            line: u64::from(m.first_page),
            message_id,
            file: file.map(str::to_owned),
            thread: thread_key(&m.subject),
            subject: m.subject,
            body: m.body,
            from_name: if from_name == from_address && is_email_address(&from_address) {
                String::new()
            } else {
                from_name
            },
            from_address,
            to: printed::recipients(&m.to),
            cc: printed::recipients(&m.cc),
            bcc: printed::recipients(&m.bcc),
            date: m.date,
            references: Vec::new(),
            attachments: m
                .attachments
                .into_iter()
                .map(|name| Attachment { name, content_type: String::new(), size: 0 })
                .collect(),
        });
    }
    Ok(out)
}

fn walk(dir: &Path, eml: &mut Vec<PathBuf>, others: &mut Vec<PathBuf>) -> Result<()> {
    let io = |source| Error::Io { path: dir.to_owned(), source };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        if p.is_dir() {
            walk(&p, eml, others)?;
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml")) || is_pdf_name(&p) {
            eml.push(p);
        } else {
            others.push(p);
        }
    }
    Ok(())
}

/// Audits an mbox read from `input` (`path` names it in messages), one message in memory at a time.
/// `progress` gets the bytes read so far, every MiB or so.
pub fn audit_mbox<R: BufRead>(
    path: &Path,
    mut input: R,
    progress: &mut dyn FnMut(u64),
    out: &mut dyn FnMut(Finding),
) -> Result<EmailReport> {
    let mut bytes = 0u64;
    let mut reported = 0u64;
    let io = |source| Error::Io { path: path.to_owned(), source };
    let name = path.display().to_string();
    let mut audit = MailAudit::new(out);
    let mut line = Vec::new();
    let mut message: Vec<u8> = Vec::new();
    // The line of the current message's first header field.
    let mut start: Option<u64> = None;
    let mut n = 0u64;
    let mut previous_empty = true;
    let mut unterminated = false;
    loop {
        line.clear();
        let read = input.read_until(b'\n', &mut line).map_err(io)?;
        if read == 0 {
            break;
        }
        unterminated = !line.ends_with(b"\n");
        bytes += read as u64;
        if bytes - reported >= 1 << 20 {
            reported = bytes;
            progress(bytes);
        }
        n += 1;
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.starts_with(b"From ") && previous_empty {
            if let Some(s) = start {
                audit.message(None, &name, &message, s);
            }
            message.clear();
            start = Some(n + 1);
            previous_empty = false;
            continue;
        }
        if start.is_none() {
            return Err(Error::Header {
                path: path.to_owned(),
                message: format!(
                    "not an mbox file: line {n} comes before any \"From \" separator line: {:?}",
                    String::from_utf8_lossy(&content[..content.len().min(60)])
                ),
            });
        }
        previous_empty = content.is_empty();
        // mboxrd: one '>' is removed from ">From ", ">>From ", ...
        let gt = content.iter().take_while(|&&b| b == b'>').count();
        if gt > 0 && content[gt..].starts_with(b"From ") {
            message.extend_from_slice(&line[1..]);
        } else {
            message.extend_from_slice(&line);
        }
    }
    if let Some(s) = start {
        // The empty line before the next separator (or at the end) is the mbox's, not the message's.
        audit.message(None, &name, &message, s);
        if unterminated {
            audit.report.warnings.push(format!(
                "{name}: line {n} ends without a newline: the file may be truncated; its last message (line {s}) \
                 was read as far as it goes"
            ));
        }
    }
    if start.is_none() {
        audit.report.stats.notes.push("the mbox file holds no message".into());
    }
    Ok(audit.finish())
}

/// Imports messages, runs the detectors, and keeps what threading needs.
struct MailAudit<'o> {
    out: &'o mut dyn FnMut(Finding),
    report: EmailReport,
    threads: Threader,
    without_id: u64,
    seen: HashMap<String, u64>,
}

impl<'o> MailAudit<'o> {
    fn new(out: &'o mut dyn FnMut(Finding)) -> Self {
        Self { out, report: EmailReport::default(), threads: Threader::default(), without_id: 0, seen: HashMap::new() }
    }

    /// One message: `file` is set for a folder's files, `name` is the file in ids and notes.
    fn message(&mut self, file: Option<&str>, name: &str, raw: &[u8], first_line: u64) {
        let stats = &mut self.report.stats;
        stats.read += 1;
        let (raw, first_line) = match raw.strip_prefix(b"From ") {
            // An .eml saved with its mbox separator line.
            Some(_) if file.is_some() || first_line == 1 => {
                let nl = raw.iter().position(|&b| b == b'\n').map_or(raw.len(), |p| p + 1);
                (&raw[nl..], first_line + 1)
            }
            _ => (raw, first_line),
        };
        let msg = match mail::parse(raw, first_line) {
            Ok(m) => m,
            Err(e) => {
                stats.rejected.push(crate::stats::Rejection {
                    file: file.map(str::to_owned),
                    line: e.line,
                    column: None,
                    reason: e.reason,
                });
                return;
            }
        };
        stats.kept += 1;
        for (l, w) in &msg.warnings {
            stats.notes.push(format!("{name}, line {l}: {w}"));
        }
        let message_id = match msg.header("message-id").map(mail::message_ids).and_then(|v| v.into_iter().next()) {
            Some(id) => id,
            None => {
                self.without_id += 1;
                format!("{name}:{first_line}")
            }
        };
        if let Some(first) = self.seen.insert(message_id.clone(), first_line) {
            stats.notes.push(format!(
                "{name}, line {first_line}: Message-ID <{message_id}> again (first at line {first}); both are kept"
            ));
        }
        let list = |h: &str| msg.headers_named(h).flat_map(mail::addresses).collect::<Vec<_>>();
        let from_raw = msg.header("from").unwrap_or("");
        let from_address = mail::addresses(from_raw).into_iter().next().unwrap_or_default();
        let from_name = from_raw.split('<').next().unwrap_or("").trim().trim_matches('"').trim().to_owned();
        let mut references: Vec<String> = msg.headers_named("references").flat_map(mail::message_ids).collect();
        references.extend(msg.headers_named("in-reply-to").flat_map(mail::message_ids));
        let subject = msg.header("subject").unwrap_or("").to_owned();
        let (to, cc, bcc) = (list("to"), list("cc"), list("bcc"));
        let date = msg.header("date").unwrap_or("").to_owned();
        let email = Email {
            line: first_line,
            message_id,
            file: file.map(str::to_owned),
            thread: thread_key(&subject),
            subject,
            body: msg.text,
            from_name: if from_name == from_address { String::new() } else { from_name },
            from_address,
            to,
            cc,
            bcc,
            date,
            references,
            attachments: msg.attachments,
        };
        self.threads.add(&email);
        self.audit(&email);
    }

    /// The messages of a print: threaded by subject, pages kept.
    fn printed(&mut self, pdf: PdfMessages) {
        self.report.stats.notes.extend(pdf.notes);
        self.report.warnings.extend(pdf.warnings);
        for (email, (first, last)) in pdf.emails.into_iter().zip(pdf.pages) {
            self.report.stats.read += 1;
            self.report.stats.kept += 1;
            self.report.pages.push((email.message_id.clone(), first, last));
            self.threads.add_by_subject(&email);
            self.audit(&email);
        }
    }

    /// Runs the detectors on a kept message and counts what the report lists.
    fn audit(&mut self, email: &Email) {
        for a in &email.attachments {
            self.report.attachments.push((email.message_id.clone(), a.clone()));
        }
        let mut count = 0;
        detect(email, &mut |f| {
            count += 1;
            (self.out)(f)
        });
        self.report.stats.findings += count;
        self.report.count_personal(email);
    }

    fn finish(mut self) -> EmailReport {
        if self.without_id > 0 {
            self.report
                .stats
                .notes
                .push(format!("{} messages have no Message-ID: they are named FILE:LINE", self.without_id));
        }
        self.report.threads = self.threads.finish();
        self.report
    }
}

/// Rebuilds threads from Message-ID, In-Reply-To and References (a union of every linked id), with
/// the normalised subject as the fallback for replies that carry neither field.
#[derive(Default)]
struct Threader {
    ids: HashMap<String, usize>,
    parent: Vec<usize>,
    /// Per message: its node, id, thread key, and whether it is a reply without threading fields.
    messages: Vec<(usize, String, String, bool)>,
}

impl Threader {
    fn node(&mut self, id: &str) -> usize {
        if let Some(&n) = self.ids.get(id) {
            return n;
        }
        let n = self.parent.len();
        self.parent.push(n);
        self.ids.insert(id.to_owned(), n);
        n
    }

    fn find(&mut self, mut n: usize) -> usize {
        while self.parent[n] != n {
            self.parent[n] = self.parent[self.parent[n]];
            n = self.parent[n];
        }
        n
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        // The smaller node (seen first) stays the root.
        let (keep, join) = if a < b { (a, b) } else { (b, a) };
        self.parent[join] = keep;
    }

    fn add(&mut self, e: &Email) {
        let n = self.node(&e.message_id);
        for r in &e.references {
            let m = self.node(r);
            self.union(n, m);
        }
        let plain = e.subject.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let orphan_reply = e.references.is_empty() && plain != e.thread;
        self.messages.push((n, e.message_id.clone(), e.thread.clone(), orphan_reply));
    }

    /// A message without threading fields (a printed one): threaded by its normalised subject.
    fn add_by_subject(&mut self, e: &Email) {
        let n = self.node(&e.message_id);
        // A NUL cannot be in a Message-ID: the subject's node is no message's.
        let m = self.node(&format!("\0subject\0{}", e.thread));
        self.union(n, m);
        self.messages.push((n, e.message_id.clone(), e.thread.clone(), false));
    }

    fn finish(mut self) -> Vec<(String, Vec<String>)> {
        let mut first_by_subject: HashMap<String, usize> = HashMap::new();
        let messages = std::mem::take(&mut self.messages);
        for (n, _, key, orphan_reply) in &messages {
            match first_by_subject.get(key) {
                Some(&m) if *orphan_reply => self.union(*n, m),
                Some(_) => {}
                None => {
                    first_by_subject.insert(key.clone(), *n);
                }
            }
        }
        let mut index: HashMap<usize, usize> = HashMap::new();
        let mut threads: Vec<(String, Vec<String>)> = Vec::new();
        for (n, id, key, _) in messages {
            let root = self.find(n);
            let t = *index.entry(root).or_insert_with(|| {
                threads.push((key, Vec::new()));
                threads.len() - 1
            });
            threads[t].1.push(id);
        }
        threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_threads() {
        assert!(is_email_address("digest@flocksafety.com"));
        assert!(!is_email_address("/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=X"));
        assert!(!is_email_address("DEWITT Derek A"));
        assert_eq!(domain("A.Agent@ICE.DHS.GOV").as_deref(), Some("ice.dhs.gov"));
        assert_eq!(thread_key("RE: FW: [EXTERNAL] Plate  check"), "plate check");
    }

    #[test]
    fn dhs_in_cc_and_vocabulary() {
        let e = Email {
            line: 2,
            message_id: "row-1".into(),
            subject: "please run plate".into(),
            body: "ICE asked us to run this plate, no case number yet".into(),
            from_address: "analyst@ocsd.org".into(),
            cc: vec!["agent@ice.dhs.gov".into()],
            to: vec!["noticeboard@notice.gov".into()],
            ..Default::default()
        };
        let mut found = Vec::new();
        detect(&e, &mut |f| found.push((f.kind, f.severity, f.evidence)));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0], (Kind::FederalOriginator, Severity::High, "DHS address in CC: agent@ice.dhs.gov".into()));
        assert_eq!((found[1].0, found[1].1), (Kind::ImmigrationPurpose, Severity::High));
    }

    fn found(e: &Email) -> Vec<(Kind, Severity, &'static str, String)> {
        let mut v = Vec::new();
        detect(e, &mut |f| v.push((f.kind, f.severity, f.rule, f.evidence)));
        v
    }

    #[test]
    fn severity_follows_the_component() {
        let mail = |from: &str| Email {
            message_id: "m".into(),
            subject: "FY25 award".into(),
            from_address: from.into(),
            to: vec!["grants@eugene-or.gov".into()],
            ..Default::default()
        };
        for (from, want) in [
            ("a@ice.dhs.gov", Some((Severity::High, "email.dhs_address"))),
            ("a@cbp.gov", Some((Severity::High, "email.dhs_address"))),
            ("a@uscis.dhs.gov", Some((Severity::High, "email.dhs_address"))),
            ("a@hq.dhs.gov", Some((Severity::High, "email.dhs_address"))),
            ("a@fbi.gov", Some((Severity::Medium, "email.federal_address"))),
            ("a@uscg.mil", Some((Severity::Medium, "email.federal_address"))),
            ("a@fema.dhs.gov", Some((Severity::Low, "email.federal_non_enforcement"))),
            ("a@fema.gov", Some((Severity::Low, "email.federal_non_enforcement"))),
            ("a@cisa.dhs.gov", Some((Severity::Low, "email.federal_non_enforcement"))),
            ("a@tsa.dhs.gov", Some((Severity::Low, "email.federal_non_enforcement"))),
            ("a@notice.gov", None),
        ] {
            let got: Vec<_> = found(&mail(from)).into_iter().map(|(_, s, r, _)| (s, r)).collect();
            assert_eq!(got, want.into_iter().collect::<Vec<_>>(), "{from}");
        }
        assert_eq!(
            found(&mail("grants.officer@fema.dhs.gov"))[0].3,
            "federal address in From (FEMA, not immigration enforcement): grants.officer@fema.dhs.gov"
        );
        // Not in From or CC: nothing for a non-enforcement component.
        let mut to_fema = mail("clerk@eugene-or.gov");
        to_fema.to = vec!["gpd@fema.dhs.gov".into()];
        assert!(found(&to_fema).is_empty());
    }

    #[test]
    fn personal_accounts_on_official_business() {
        assert!(is_personal_domain("gmail.com") && is_personal_domain("mail.yahoo.com"));
        assert!(is_personal_domain("yahoo.co.uk") && is_personal_domain("hotmail.fr") && is_personal_domain("pm.me"));
        assert!(!is_personal_domain("eugene-or.gov") && !is_personal_domain("notgmail.com"));
        assert!(!is_personal_domain("yahoo.example.org") && !is_personal_domain("outlook.office365.com"));
        let e = Email {
            message_id: "m".into(),
            subject: "camera locations".into(),
            from_address: "Sgt.Jones@Gmail.com".into(),
            to: vec!["rep@flocksafety.com".into()],
            cc: vec!["someone@protonmail.com".into()],
            ..Default::default()
        };
        let got = found(&e);
        assert_eq!(got.len(), 2, "{got:?}");
        let h = address_hash("sgt.jones@gmail.com");
        assert_eq!(h, address_hash(" SGT.JONES@GMAIL.COM"));
        assert_ne!(h, address_hash("sgt.jones2@gmail.com"));
        assert_eq!(
            got[0],
            (
                Kind::PersonalAccount,
                Severity::Medium,
                "email.personal_account",
                format!("personal mail service gmail.com in From (address {h}) on a message with 1 organisation address(es)")
            )
        );
        assert!(got[1].3.starts_with("personal mail service protonmail.com in CC"));
        assert!(got.iter().all(|g| !g.3.contains("jones") && !g.3.contains("someone")));
        // Between personal accounts only, nothing tells it is official business.
        let private = Email { to: vec!["friend@yahoo.com".into()], cc: vec![], ..e.clone() };
        assert!(found(&private).is_empty());
        // An Exchange id counts as the agency's own staff.
        let staff = Email { to: vec!["/O=EXCHANGELABS/OU=X/CN=RECIPIENTS/CN=ABC".into()], cc: vec![], ..e };
        assert_eq!(found(&staff).iter().filter(|g| g.0 == Kind::PersonalAccount).count(), 1);
    }
}
