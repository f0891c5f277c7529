//! Email productions exported from Outlook as CSV (`Subject, Body, From: (Name), From: (Address),
//! From: (Type), To: (Name), To: (Address), ..., CC: ..., BCC: ..., Importance, Sensitivity`), with
//! bodies over many lines.
//!
//! An Outlook CSV export has no Message-ID, no date and no attachments: each message gets the id
//! `row-N` (its 1-based position in the file), threads are rebuilt from the normalised subject
//! (without `RE:`, `FW:`, `[EXTERNAL]` prefixes), and the statistics note that attachments cannot
//! be seen. Addresses are kept as written: an Exchange X.500 address
//! (`/O=EXCHANGELABS/OU=.../CN=...`) is the sender's id, and flagged as not being an email address.
//!
//! Detectors: a DHS address (`dhs.gov` and its subdomains such as `ice.dhs.gov`, `cbp.dhs.gov`;
//! `ice.gov`, `cbp.gov`, `uscis.gov`) in From, To, CC or BCC (`federal_originator`, high in From or
//! CC, medium in To or BCC); another federal address (`fbi.gov`, `usdoj.gov`, `atf.gov`, `dea.gov`,
//! `usss.gov`, `usmarshals.gov`; medium in From or CC); immigration vocabulary in the subject or
//! body (the policy crate's justification classifier).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use policy::justification::{self, Signal};

use crate::error::{Error, Result};
use crate::finding::{Finding, Kind, Severity, Subject};
use crate::stats::{next_record, ImportStats};

/// One message of a production.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Email {
    /// The 1-based line where the message's row starts.
    pub line: u64,
    /// `row-N` for an Outlook CSV export.
    pub message_id: String,
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
    /// The thread: the normalised subject.
    pub thread: String,
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

/// DHS domains.
const DHS_DOMAINS: &[&str] = &["dhs.gov", "ice.gov", "cbp.gov", "uscis.gov"];
/// Other federal law-enforcement domains.
const FEDERAL_DOMAINS: &[&str] = &["fbi.gov", "usdoj.gov", "atf.gov", "dea.gov", "usss.gov", "usmarshals.gov"];

fn matches_domain(d: &str, list: &[&str]) -> bool {
    list.iter().any(|x| d == *x || d.strip_suffix(x).is_some_and(|p| p.ends_with('.')))
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
    let fields: [(&str, &[String]); 4] =
        [("From", std::slice::from_ref(&e.from_address)), ("To", &e.to), ("CC", &e.cc), ("BCC", &e.bcc)];
    for (field, addrs) in fields {
        for a in addrs {
            let Some(d) = domain(a) else { continue };
            let prominent = field == "From" || field == "CC";
            if matches_domain(&d, DHS_DOMAINS) {
                out(finding(
                    Kind::FederalOriginator,
                    if prominent { Severity::High } else { Severity::Medium },
                    format!("DHS address in {field}: {a}"),
                    "email.dhs_address",
                    crate::search_audit::SANCTUARY_CITATION,
                ));
            } else if matches_domain(&d, FEDERAL_DOMAINS) && prominent {
                out(finding(
                    Kind::FederalOriginator,
                    Severity::Medium,
                    format!("federal address in {field}: {a}"),
                    "email.federal_address",
                    "",
                ));
            }
        }
    }
    let c = justification::classify(&format!("{}\n{}", e.subject, e.body));
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
    /// Threads: normalised subject and the ids of its messages, in file order of first message.
    pub threads: Vec<(String, Vec<String>)>,
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
    }
    Ok(report)
}

/// Audits an Outlook CSV file.
pub fn audit_file(path: &Path, out: &mut dyn FnMut(Finding)) -> Result<EmailReport> {
    let f = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    audit_outlook_csv(path, std::io::BufReader::new(f), out)
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
}
