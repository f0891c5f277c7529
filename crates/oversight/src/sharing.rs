//! Sharing lists (who gives whom access to ALPR data), resolved through the agency directory and
//! checked against the laws that limit recipients.
//!
//! Input: a CSV with a source-agency column (`src_agency`, `agency`, `source agency`) and a
//! recipient column (`external_agency`, `counterparty`, `recipient`, `shared with`); other columns
//! are ignored. Every name is resolved by [`Directory::resolve`]; each distinct name once.
//!
//! Rules:
//! - **California SB 34** (Cal. Civ. Code §§ 1798.90.5(f), 1798.90.55(b)): a California agency may
//!   share ALPR information only with another California public agency. A federal recipient, an
//!   out-of-state recipient, or a recipient whose state is unknown (multi-state centres) is
//!   `forbidden_sharing` (high); a vendor, private or test account is `vendor_pass_through` (high).
//! - **Illinois** (625 ILCS 5/2-130): sharing with out-of-state or federal recipients is restricted
//!   (no use for immigration or reproductive-care investigations, written assurances); flagged
//!   `forbidden_sharing` (medium) for review. Vendor, private or test accounts: medium.
//! - **Any state**: an immigration-enforcement recipient (class [`Class::Immigration`]: ICE, CBP,
//!   USCIS; or [`Class::Dhs`], DHS with no component named) is `forbidden_sharing` (high). A DHS
//!   component that does not enforce immigration law (FEMA, CISA, TSA, a grants office, the Coast
//!   Guard) is not; it is federal, so SB 34 still applies to it. A vendor, private or test account
//!   is `vendor_pass_through` (medium).
//! - A recipient the directory cannot resolve, shared with by a California or Illinois agency, is
//!   `unresolved_agency` (low): whether the sharing is lawful cannot be told. Every unresolved
//!   name is also listed in the report.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use crate::directory::{Class, Directory, Level, Resolution};
use crate::error::{Error, Result};
use crate::finding::{Finding, Kind, Severity, Subject};
use crate::stats::{next_record, ImportStats};

/// SB 34's citation.
pub const SB34: &str =
    "Cal. Civ. Code §§ 1798.90.5(f), 1798.90.55(b) (SB 34): ALPR data only to California public agencies";
/// Illinois' citation.
pub const IL_2_130: &str = "625 ILCS 5/2-130: limits on sharing ALPR data outside Illinois";

/// The result of a sharing audit besides its findings.
#[derive(Clone, Debug, Default)]
pub struct SharingReport {
    /// Rows read, kept, rejected.
    pub stats: ImportStats,
    /// The resolution of every distinct name (source agencies and recipients).
    pub resolutions: BTreeMap<String, Resolution>,
}

impl SharingReport {
    /// The names the directory could not resolve.
    pub fn unresolved(&self) -> impl Iterator<Item = &Resolution> {
        self.resolutions.values().filter(|r| !r.is_resolved())
    }
}

fn column(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        let n = crate::directory::normalize(h.trim_start_matches('\u{feff}'));
        names.contains(&n.as_str())
    })
}

/// The source-agency and recipient columns of a sharing list's header, if it has both.
pub(crate) fn columns(headers: &csv::StringRecord) -> Option<(usize, usize)> {
    let src = column(headers, &["src agency", "agency", "source agency", "sharing agency"]);
    let dst = column(headers, &["external agency", "counterparty", "recipient", "shared with", "external"]);
    src.zip(dst)
}

/// Reads a sharing list from `input` (`path` names it in messages): hands `row` each kept row's
/// line, sharing agency and recipient (trimmed), the whole record and the header; a row with the wrong number
/// of fields or an empty name is rejected into `stats`, with its line. Fails when the header has
/// no source-agency or recipient column.
pub(crate) fn read_rows<R: Read>(
    path: &Path,
    input: R,
    stats: &mut ImportStats,
    mut row: impl FnMut(u64, &str, &str, &csv::StringRecord, &csv::StringRecord),
) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers().map_err(|e| Error::csv(path, e))?.clone();
    let Some((src, dst)) = columns(&headers) else {
        return Err(Error::Header {
            path: path.to_owned(),
            message: format!(
                "not a sharing list: needs a source-agency column (src_agency) and a recipient column \
                 (external_agency); columns found: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    let mut record = csv::StringRecord::new();
    while next_record(&mut reader, &mut record, stats, path)? {
        let line = record.position().map_or(0, |p| p.line());
        stats.read += 1;
        if record.len() != headers.len() {
            stats.reject(line, None, format!("{} fields, the header has {}", record.len(), headers.len()));
            continue;
        }
        let (a, b) = (record[src].trim(), record[dst].trim());
        if a.is_empty() || b.is_empty() {
            let col = if a.is_empty() { &headers[src] } else { &headers[dst] };
            stats.reject(line, Some(col), "empty agency name");
            continue;
        }
        stats.kept += 1;
        row(line, a, b, &record, &headers);
    }
    Ok(())
}

/// Audits a sharing list read from `input` (`path` names it in messages).
pub fn audit<R: Read>(path: &Path, input: R, dir: &Directory, out: &mut dyn FnMut(Finding)) -> Result<SharingReport> {
    let mut report = SharingReport::default();
    let mut cache: HashMap<String, Resolution> = HashMap::new();
    let mut findings = 0;
    read_rows(path, input, &mut report.stats, |line, a, b, _, _| {
        for n in [a, b] {
            if !cache.contains_key(n) {
                cache.insert(n.to_owned(), dir.resolve(n));
            }
        }
        let (ra, rb) = (&cache[a], &cache[b]);
        for f in judge(ra, rb) {
            findings += 1;
            out(Finding {
                kind: f.0,
                severity: f.1,
                subject: Subject::Sharing { agency: a.to_owned(), counterparty: b.to_owned() },
                line,
                evidence: format!("{}; {}: {}", f.2, ra, rb),
                rule: f.3,
                citation: f.4,
                // The record's own `agency` (the subject) names it.
                agency: None,
                user: None,
                time: None,
                file: None,
                also_in: Vec::new(),
            });
        }
    })?;
    report.stats.findings = findings;
    report.resolutions = cache.into_iter().collect();
    Ok(report)
}

type Judgement = (Kind, Severity, String, &'static str, &'static str);

/// The rules of the module documentation, for one (source, recipient) pair.
pub fn judge(src: &Resolution, dst: &Resolution) -> Vec<Judgement> {
    let mut out: Vec<Judgement> = Vec::new();
    let state = src.state.as_deref();
    let dst_state = dst.state.as_deref();
    let dst_level = dst.level;
    if dst.class.is_some_and(Class::is_immigration) {
        let what = match (dst.class, &dst.dhs_component) {
            (Some(Class::Dhs), _) | (_, None) => "recipient is DHS, component not named".to_owned(),
            (_, Some(c)) => format!("recipient is DHS component {c}"),
        };
        out.push((
            Kind::ForbiddenSharing,
            Severity::High,
            what,
            "sharing.dhs_recipient",
            crate::search_audit::SANCTUARY_CITATION,
        ));
    }
    match state {
        Some("CA") => {
            if !dst.is_resolved() {
                out.push((
                    Kind::UnresolvedAgency,
                    Severity::Low,
                    "recipient not in the directory; cannot tell whether it is a California public agency".into(),
                    "sharing.unresolved_recipient",
                    SB34,
                ));
            } else if dst_level == Some(Level::Federal) {
                out.push((
                    Kind::ForbiddenSharing,
                    Severity::High,
                    "California agency shares with a federal agency".into(),
                    "sharing.ca_sb34.federal",
                    SB34,
                ));
            } else if dst_level.is_some_and(|l| !l.is_public()) {
                out.push((
                    Kind::VendorPassThrough,
                    Severity::High,
                    format!("California agency shares with a {} account", dst_level.map_or("?", Level::as_str)),
                    "sharing.ca_sb34.non_public",
                    SB34,
                ));
            } else if dst_state.is_none() {
                out.push((
                    Kind::ForbiddenSharing,
                    Severity::High,
                    "California agency shares with a multi-state or unknown-state recipient".into(),
                    "sharing.ca_sb34.out_of_state",
                    SB34,
                ));
            } else if dst_state != Some("CA") {
                out.push((
                    Kind::ForbiddenSharing,
                    Severity::High,
                    format!("California agency shares out of state ({})", dst_state.unwrap_or("?")),
                    "sharing.ca_sb34.out_of_state",
                    SB34,
                ));
            }
        }
        Some("IL") => {
            if !dst.is_resolved() {
                out.push((
                    Kind::UnresolvedAgency,
                    Severity::Low,
                    "recipient not in the directory; cannot tell whether it is out of state".into(),
                    "sharing.unresolved_recipient",
                    IL_2_130,
                ));
            } else if dst_level.is_some_and(|l| !l.is_public()) {
                out.push((
                    Kind::VendorPassThrough,
                    Severity::Medium,
                    format!("Illinois agency shares with a {} account", dst_level.map_or("?", Level::as_str)),
                    "sharing.il_2_130.non_public",
                    IL_2_130,
                ));
            } else if dst_state != Some("IL") {
                out.push((
                    Kind::ForbiddenSharing,
                    Severity::Medium,
                    format!("Illinois agency shares outside Illinois ({})", dst_state.unwrap_or("state unknown")),
                    "sharing.il_2_130.out_of_state",
                    IL_2_130,
                ));
            }
        }
        _ => {
            if dst_level.is_some_and(|l| !l.is_public()) {
                out.push((
                    Kind::VendorPassThrough,
                    Severity::Medium,
                    format!("shares with a {} account", dst_level.map_or("?", Level::as_str)),
                    "sharing.non_public",
                    "",
                ));
            }
        }
    }
    out
}

/// Audits a sharing-list file.
pub fn audit_file(path: &Path, dir: &Directory, out: &mut dyn FnMut(Finding)) -> Result<SharingReport> {
    let f = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    audit(path, std::io::BufReader::new(f), dir, out)
}
