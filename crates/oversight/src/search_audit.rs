//! Detectors over an ALPR search audit, run as a stream.
//!
//! Per search (one pass, nothing kept): immigration purpose (the policy crate's justification
//! classifier over the reason, offence type and prompt), federal originator (an organization tagged
//! `[Federal]`), protected activity, vague reason without a case number or identifier, and wide
//! searches (many networks or cameras), federal agencies named in the organisation column, and
//! searches the vendor's moderation blocked.
//!
//! After the whole file is read ([`crate::insider`]): users far above their organisation's peers,
//! one plate searched by many, and sensitive purposes per organisation.
//!
//! Per officer (only when the export has a user column): a first pass keeps, for each officer, 24
//! hourly counts and per-minute counts; a second pass over the file flags searches at hours the
//! officer almost never searches, and bursts (many searches within a few minutes). Memory depends on
//! the number of officers and active minutes, not on the file's size.

use std::collections::HashMap;
use std::path::Path;

use policy::justification::{self, Signal};

use crate::error::Result;
use crate::finding::{Finding, Kind, Severity, Subject};
use crate::insider::{self, Insider, InsiderRules, RowFacts, Zone};
use crate::searches::{self, Field, Search};
use crate::stats::ImportStats;
use crate::vocab;

/// Citation for immigration purposes in local ALPR use.
pub const SANCTUARY_CITATION: &str =
    "Cal. Gov. Code § 7284.6(a)(1); Cal. Civ. Code § 1798.90.55(b); Or. Rev. Stat. § 181A.820; 625 ILCS 5/2-130";
/// Citation for protected activity.
pub const PROTECTED_CITATION: &str =
    "28 CFR 23.20(b) (no records of political, religious or social views or activities unless directly related to criminal conduct); U.S. Const. amend. I";

/// Thresholds of the search detectors.
#[derive(Clone, Debug)]
pub struct SearchRules {
    /// A search of at least this many networks is wide.
    pub wide_networks: u64,
    /// A search of at least this many cameras is wide.
    pub wide_devices: u64,
    /// Burst window, in minutes.
    pub burst_window_minutes: i64,
    /// At least this many searches by one officer within the window is a burst.
    pub burst_min_searches: u32,
    /// Officers with fewer searches than this have no "usual hours" to depart from.
    pub off_hours_min_searches: u32,
    /// A search is off-hours when the officer's searches in its hour and the hours either side
    /// are at most this share of all their searches.
    pub off_hours_max_share: f64,
    /// Thresholds of the aggregate detectors (outliers, plates, purposes per organisation).
    pub insider: InsiderRules,
    /// The zone the off-hours and burst findings show times in (`--tz`): UTC times are converted
    /// to it, times without a zone are taken to be in it. `None`: UTC where the export writes the
    /// zone, else the export's unstated local time.
    pub tz: Option<Zone>,
}

impl Default for SearchRules {
    fn default() -> Self {
        Self {
            wide_networks: 100,
            wide_devices: 1000,
            burst_window_minutes: 10,
            burst_min_searches: 10,
            off_hours_min_searches: 30,
            off_hours_max_share: 0.02,
            insider: InsiderRules::default(),
            tz: None,
        }
    }
}

/// Runs the per-search detectors on one search.
///
/// The reason is tokenized once: for ASCII text (nearly every export) by lowercasing it in one
/// buffer and borrowing the tokens, otherwise by [`justification::tokens`]; both give the same
/// tokens for ASCII text. [`detect_row_reference`] is the plain version the tests compare it with.
/// Returns what the aggregate detectors need to know about the row.
pub fn detect_row(s: &Search, rules: &SearchRules, out: &mut dyn FnMut(Finding)) -> RowFacts {
    let text = s.purpose_text();
    if text.is_ascii() {
        let lower = text.to_ascii_lowercase();
        let tokens: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
        detect_tokens(s, &text, &tokens, false, rules, out)
    } else {
        detect_tokens(s, &text, &justification::tokens(&text), false, rules, out)
    }
}

/// [`detect_row`] the plain way: [`justification::tokens`] on every reason, the reference
/// vocabulary matchers ([`vocab::find_reference`], [`vocab::is_vague_reference`]). Same findings,
/// slower; the tests hold the fast path to it.
pub fn detect_row_reference(s: &Search, rules: &SearchRules, out: &mut dyn FnMut(Finding)) -> RowFacts {
    let text = s.purpose_text();
    detect_tokens(s, &text, &justification::tokens(&text), true, rules, out)
}

/// A finding that rests on the search `s`.
fn search_finding(
    s: &Search,
    kind: Kind,
    severity: Severity,
    evidence: String,
    rule: &'static str,
    citation: &'static str,
) -> Finding {
    Finding {
        kind,
        severity,
        subject: Subject::Search { record: s.id.clone() },
        line: s.line,
        evidence,
        rule,
        citation,
        agency: s.org.clone(),
        user: s.user.clone(),
        time: s.time,
    }
}

fn detect_tokens<T: AsRef<str>>(
    s: &Search,
    text: &str,
    tokens: &[T],
    reference: bool,
    rules: &SearchRules,
    out: &mut dyn FnMut(Finding),
) -> RowFacts {
    let mut facts = RowFacts::default();
    let finding =
        |kind, severity, evidence, rule, citation| search_finding(s, kind, severity, evidence, rule, citation);
    let c = justification::classify_tokens(tokens);
    facts.immigration = c.signal == Signal::Strong;
    match c.signal {
        Signal::Strong => out(finding(
            Kind::ImmigrationPurpose,
            Severity::High,
            format!("reason {:?}: {}", text, c.evidence().join(", ")),
            "search.immigration_purpose",
            SANCTUARY_CITATION,
        )),
        Signal::Weak => out(finding(
            Kind::ImmigrationPurpose,
            Severity::Low,
            format!("reason {:?}: {} (suggestive only)", text, c.evidence().join(", ")),
            "search.immigration_purpose.weak",
            SANCTUARY_CITATION,
        )),
        Signal::None => {}
    }
    if s.org_federal {
        out(finding(
            Kind::FederalOriginator,
            Severity::High,
            format!("searching organization {:?} is tagged federal", s.org.as_deref().unwrap_or("")),
            "search.federal_originator",
            "Cal. Civ. Code § 1798.90.55(b) (ALPR data only to California public agencies)",
        ));
    } else if let Some((label, immigration)) = s.org.as_deref().and_then(insider::federal_agency_name) {
        out(finding(
            Kind::FederalOriginator,
            if immigration { Severity::High } else { Severity::Medium },
            format!(
                "searching organization {:?} names a federal agency ({label}{}) without a [Federal] tag; practice concern",
                s.org.as_deref().unwrap_or(""),
                if immigration { ", immigration enforcement" } else { "" }
            ),
            "search.federal_agency_name",
            "",
        ));
    }
    if let Some(m) = s.moderation.as_deref().filter(|m| insider::moderation_blocked(m)) {
        out(finding(
            Kind::ModerationBlocked,
            Severity::Medium,
            format!(
                "attempted search blocked by the vendor's moderation (Moderation {m:?}); reason {:?}{}; practice concern",
                text,
                s.search_type.as_deref().map(|t| format!(", search type {t:?}")).unwrap_or_default()
            ),
            "search.moderation_blocked",
            "",
        ));
    }
    let protected = if reference {
        let owned: Vec<String> = tokens.iter().map(|t| t.as_ref().to_owned()).collect();
        vocab::find_reference(&owned, vocab::PROTECTED)
    } else {
        vocab::find(tokens, vocab::PROTECTED)
    };
    facts.reproductive = protected.iter().any(|(_, l)| *l == "reproductive health care");
    if !protected.is_empty() {
        let what: Vec<String> = protected.iter().map(|(p, l)| format!("{l}: \"{p}\"")).collect();
        out(finding(
            Kind::ProtectedActivity,
            Severity::High,
            format!("reason {:?}: {}", text, what.join(", ")),
            "search.protected_activity",
            PROTECTED_CITATION,
        ));
    }
    let has_case = s.case_number.is_some() || tokens.iter().any(|t| vocab::is_identifier(t.as_ref()));
    facts.has_case = has_case;
    let vague = if reference {
        vocab::is_vague_reference(&tokens.iter().map(|t| t.as_ref().to_owned()).collect::<Vec<_>>())
    } else {
        vocab::is_vague(tokens)
    };
    if !has_case && vague {
        let (severity, evidence) = if tokens.is_empty() {
            (Severity::Medium, "no reason given".to_owned())
        } else {
            (Severity::Low, format!("reason {:?} with no case number", s.reason))
        };
        out(finding(
            Kind::VagueReason,
            severity,
            evidence,
            "search.vague_reason",
            "Cal. Civ. Code § 1798.90.51(b) (usage must follow a policy stating authorized purposes); 28 CFR 23.20(a) (reasonable suspicion)",
        ));
    }
    let wide_n = s.networks.filter(|&n| n >= rules.wide_networks);
    let wide_d = s.devices.filter(|&d| d >= rules.wide_devices);
    if wide_n.is_some() || wide_d.is_some() {
        use std::fmt::Write as _;
        let mut evidence = String::with_capacity(80);
        evidence.push_str("searched ");
        if let Some(n) = s.networks {
            let _ = write!(evidence, "{n} networks");
        }
        if let Some(d) = s.devices {
            let _ = write!(evidence, "{}{d} cameras", if s.networks.is_some() { ", " } else { "" });
        }
        let _ = write!(evidence, " (thresholds: {} networks, {} cameras)", rules.wide_networks, rules.wide_devices);
        out(finding(Kind::WideSearch, Severity::Medium, evidence, "search.wide", ""));
    }
    facts
}

#[derive(Default)]
struct Officer {
    hours: [u32; 24],
    total: u32,
    minutes: HashMap<i64, u32>,
    /// Burst intervals [first minute, last minute], with their search counts and whether reported.
    bursts: Vec<(i64, i64, u32, bool)>,
}

/// Searches handed from the reader thread to the detectors at a time.
const BATCH: usize = 512;

/// Progress of an audit: which pass (1 or 2) and bytes read in it.
pub type Progress<'a> = &'a mut dyn FnMut(u8, u64);

/// Audits a search-audit file: imports it, runs every detector, and hands each finding to `out` as
/// it is found (per-search findings during the first pass, per-officer ones during the second).
/// Returns the import statistics (rows read, kept, rejected with reasons, findings).
pub fn audit_file(
    path: &Path,
    rules: &SearchRules,
    progress: Progress<'_>,
    out: &mut dyn FnMut(Finding),
) -> Result<ImportStats> {
    let reader = searches::open(path)?;
    let per_officer = reader.has(Field::User);
    let mut insider = Insider::new(reader.has(Field::Org));
    let mut officers: HashMap<String, Officer> = HashMap::new();
    let mut findings = 0u64;
    let mut count = |f: Finding| {
        findings += 1;
        out(f)
    };
    // Two stages on two threads: this thread detects (and the caller prints) while a reader
    // thread parses the next batch. Batches are bounded, so memory stays flat.
    // Batches are recycled: the detector thread hands each one back, and the reader refills its
    // searches in place, so rows cost no allocation once the strings have grown.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<Search>, usize, u64)>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<Search>>();
    let mut stats = std::thread::scope(|scope| -> Result<ImportStats> {
        let parser = scope.spawn(move || -> Result<ImportStats> {
            let mut reader = reader;
            loop {
                let mut batch = back_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
                let mut n = 0;
                while n < BATCH {
                    if n == batch.len() {
                        batch.push(Search::default());
                    }
                    if !reader.next_search_into(&mut batch[n])? {
                        break;
                    }
                    n += 1;
                }
                let done = n < BATCH;
                if tx.send((batch, n, reader.bytes_read())).is_err() || done {
                    return Ok(std::mem::take(&mut reader.stats));
                }
            }
        });
        for (batch, n, bytes) in rx {
            for s in &batch[..n] {
                let facts = detect_row(s, rules, &mut count);
                insider.push(s, facts);
                if per_officer {
                    if let (Some(user), Some(t)) = (&s.user, s.time) {
                        let o = match officers.get_mut(user.as_str()) {
                            Some(o) => o,
                            None => officers.entry(user.clone()).or_default(),
                        };
                        o.hours[usize::from(t.hour())] += 1;
                        o.total += 1;
                        *o.minutes.entry(t.minute_index()).or_default() += 1;
                    }
                }
            }
            progress(1, bytes);
            let _ = back_tx.send(batch);
        }
        parser.join().unwrap_or_else(|_| {
            Err(crate::error::Error::Csv {
                path: path.to_owned(),
                line: 0,
                message: "the reader thread panicked".into(),
            })
        })
    })?;
    if per_officer && !officers.is_empty() {
        for o in officers.values_mut() {
            o.bursts = bursts(&o.minutes, rules);
            o.minutes = HashMap::new();
        }
        let mut reader = searches::open(path)?;
        let mut n = 0u64;
        while let Some(s) = reader.next_search()? {
            let (Some(user), Some(t)) = (&s.user, s.time) else { continue };
            let Some(o) = officers.get_mut(user.as_str()) else { continue };
            let finding = |kind, severity, evidence, rule| search_finding(&s, kind, severity, evidence, rule, "");
            let tz = rules.tz.as_ref();
            if o.total >= rules.off_hours_min_searches {
                let h = usize::from(t.hour());
                let near = o.hours[(h + 23) % 24] + o.hours[h] + o.hours[(h + 1) % 24];
                if f64::from(near) <= rules.off_hours_max_share * f64::from(o.total) {
                    count(finding(
                        Kind::OffHours,
                        Severity::Low,
                        format!(
                            "user {user} searched at {} (hour {:02}); {near} of their {} searches fall within an hour of it; {}",
                            insider::show_time(t, tz),
                            insider::show_hour(t, tz),
                            o.total,
                            insider::zone_note(t, tz)
                        ),
                        "search.off_hours",
                    ));
                }
            }
            let m = t.minute_index();
            for b in o.bursts.iter_mut().filter(|b| !b.3 && b.0 <= m && m <= b.1) {
                b.3 = true;
                count(finding(
                    Kind::Burst,
                    Severity::Medium,
                    format!(
                        "user {user}: {} searches between {} and {} (threshold {} within {} minutes); {}",
                        b.2,
                        insider::show_time(
                            crate::time::Timestamp { millis: b.0 * 60_000, zone_known: t.zone_known },
                            tz
                        ),
                        insider::show_time(
                            crate::time::Timestamp { millis: b.1 * 60_000 + 59_000, zone_known: t.zone_known },
                            tz
                        ),
                        rules.burst_min_searches,
                        rules.burst_window_minutes,
                        insider::zone_note(t, tz)
                    ),
                    "search.burst",
                ));
            }
            n += 1;
            if n.is_multiple_of(8192) {
                progress(2, reader.bytes_read());
            }
        }
        progress(2, reader.bytes_read());
    }
    insider.finish(&rules.insider, &mut count);
    stats.findings = findings;
    Ok(stats)
}

/// Burst intervals of one officer from per-minute counts: every window of
/// `burst_window_minutes` holding at least `burst_min_searches` searches, overlapping windows merged.
fn bursts(minutes: &HashMap<i64, u32>, rules: &SearchRules) -> Vec<(i64, i64, u32, bool)> {
    let mut ms: Vec<(i64, u32)> = minutes.iter().map(|(&m, &c)| (m, c)).collect();
    ms.sort_unstable();
    let mut out: Vec<(i64, i64, u32, bool)> = Vec::new();
    let mut j = 0;
    let mut sum = 0u32;
    // Index in `ms` of the last minute counted into the last burst.
    let mut last_idx = 0;
    for i in 0..ms.len() {
        sum += ms[i].1;
        while ms[i].0 - ms[j].0 >= rules.burst_window_minutes {
            sum -= ms[j].1;
            j += 1;
        }
        if sum >= rules.burst_min_searches {
            let (start, end) = (ms[j].0, ms[i].0);
            match out.last_mut() {
                Some(last) if start <= last.1 => {
                    // Extend the burst; count the searches of the union.
                    last.2 += ms[last_idx + 1..=i].iter().map(|(_, c)| c).sum::<u32>();
                    last.1 = end;
                }
                _ => out.push((start, end, sum, false)),
            }
            last_idx = i;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_merge_overlapping_windows() {
        let rules = SearchRules { burst_window_minutes: 10, burst_min_searches: 5, ..Default::default() };
        // 3 searches at minute 0, 2 at minute 5, 3 at minute 12, 1 at minute 100.
        let minutes: HashMap<i64, u32> = [(0, 3), (5, 2), (12, 3), (100, 1)].into_iter().collect();
        let b = bursts(&minutes, &rules);
        assert_eq!(b, vec![(0, 12, 8, false)]);
        let quiet: HashMap<i64, u32> = [(0, 2), (20, 2)].into_iter().collect();
        assert!(bursts(&quiet, &rules).is_empty());
    }
}
