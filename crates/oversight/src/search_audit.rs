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
use std::sync::Arc;

use serde::Serialize;

use policy::justification::{self, Signal};

use crate::directory::Directory;
use crate::error::Result;
use crate::finding::{Finding, Kind, Location, Severity, Subject};
use crate::insider::{self, Insider, InsiderRules, RowFacts, Zone};
use crate::report::{Months, Tally};
use crate::searches::{self, Field, Search};
use crate::stats::ImportStats;
use crate::vocab;

/// Citation for immigration purposes where the jurisdiction is a whole network of sanctuary
/// states (a hub's ledger, an email production): each state's statute.
pub const SANCTUARY_CITATION: &str =
    "Cal. Gov. Code § 7284.6(a)(1); Cal. Civ. Code § 1798.90.55(b); Or. Rev. Stat. § 181A.820; 625 ILCS 5/2-130";
/// What a California agency's search by a federal organisation breaks.
pub const CA_FEDERAL_CITATION: &str = "Cal. Civ. Code § 1798.90.55(b) (ALPR data only to California public agencies)";
/// What a California agency's search without an auditable purpose falls short of.
pub const CA_VAGUE_CITATION: &str = "Cal. Civ. Code §§ 1798.90.51(b), 1798.90.52 (use only for the purposes the usage policy authorizes; each access logged with its purpose)";
/// Citation for protected activity (federal: it applies in every state).
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
    /// The audited agency's state (two letters, `--state`), whose statutes the findings cite.
    /// `None`: the state of the one organisation an export's rows name (agency directory), else
    /// no statute is cited and the findings say the state is not known.
    pub state: Option<String>,
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
            state: None,
        }
    }
}

/// Runs the per-search detectors on one search.
///
/// The reason is tokenized once: for ASCII text (nearly every export) by lowercasing it in one
/// buffer and borrowing the tokens, otherwise by [`justification::tokens`]; both give the same
/// tokens for ASCII text. [`detect_row_reference`] is the plain version the tests compare it with.
/// Returns what the aggregate detectors need to know about the row.
/// Citations follow [`SearchRules::state`].
pub fn detect_row(s: &Search, rules: &SearchRules, out: &mut dyn FnMut(Finding)) -> RowFacts {
    detect_row_in(s, rules, &Law::of(rules.state.as_deref()), out)
}

fn detect_row_in(s: &Search, rules: &SearchRules, law: &Law, out: &mut dyn FnMut(Finding)) -> RowFacts {
    let text = s.purpose_text();
    if text.is_ascii() {
        let lower = text.to_ascii_lowercase();
        let tokens: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
        detect_tokens(s, &text, &tokens, false, rules, law, out)
    } else {
        detect_tokens(s, &text, &justification::tokens(&text), false, rules, law, out)
    }
}

/// [`detect_row`] the plain way: [`justification::tokens`] on every reason, the reference
/// vocabulary matchers ([`vocab::find_reference`], [`vocab::is_vague_reference`]). Same findings,
/// slower; the tests hold the fast path to it.
pub fn detect_row_reference(s: &Search, rules: &SearchRules, out: &mut dyn FnMut(Finding)) -> RowFacts {
    let text = s.purpose_text();
    let law = Law::of(rules.state.as_deref());
    detect_tokens(s, &text, &justification::tokens(&text), true, rules, &law, out)
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
        file: None,
        also_in: Vec::new(),
    }
}

fn detect_tokens<T: AsRef<str>>(
    s: &Search,
    text: &str,
    tokens: &[T],
    reference: bool,
    rules: &SearchRules,
    law: &Law,
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
            format!("reason {:?}: {}{}", text, c.evidence().join(", "), law.tail(law.immigration)),
            "search.immigration_purpose",
            law.immigration,
        )),
        Signal::Weak => out(finding(
            Kind::ImmigrationPurpose,
            Severity::Low,
            format!("reason {:?}: {} (suggestive only){}", text, c.evidence().join(", "), law.tail(law.immigration)),
            "search.immigration_purpose.weak",
            law.immigration,
        )),
        Signal::None => {}
    }
    if s.org_federal {
        out(finding(
            Kind::FederalOriginator,
            Severity::High,
            format!(
                "searching organization {:?} is tagged federal{}",
                s.org.as_deref().unwrap_or(""),
                law.tail(law.federal)
            ),
            "search.federal_originator",
            law.federal,
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
        out(finding(Kind::VagueReason, severity, evidence + law.tail(law.vague), "search.vague_reason", law.vague));
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

/// Progress of an audit: which pass (1 or 2) and bytes read in it, over all files.
pub type Progress<'a> = &'a mut dyn FnMut(u8, u64);

/// What an audit of one or more search-audit files read (the findings went to the caller).
#[derive(Clone, Debug, Default)]
pub struct SearchAudit {
    /// Each file, in the order given.
    pub files: Vec<FileAudit>,
    /// Rows skipped because the same search (same search ID) was already read from an earlier
    /// file; its findings name every file that holds it ([`Finding::also_in`]).
    pub duplicates: u64,
    /// Counts over the distinct searches, for the summary.
    pub profile: Profile,
    /// Findings emitted.
    pub findings: u64,
}

impl SearchAudit {
    /// Data rows read over all files (duplicates included).
    pub fn rows_read(&self) -> u64 {
        self.files.iter().map(|f| f.stats.read).sum()
    }
}

/// One file of an audit.
#[derive(Clone, Debug, Default)]
pub struct FileAudit {
    /// The file as given.
    pub path: std::path::PathBuf,
    /// Rows read, kept and rejected; notes (e.g. reading stopped at a broken row).
    pub stats: ImportStats,
    /// The audited agency's state whose statutes the findings cite, and how it was known.
    pub jurisdiction: Jurisdiction,
    /// Why nothing could be read from the file (not a search audit, unreadable), if so.
    pub error: Option<String>,
}

/// Counts over the distinct searches of an audit, for its summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Profile {
    /// Distinct searches counted.
    pub searches: u64,
    /// Searches per month (`YYYY-MM`, in the time the export writes).
    pub by_month: Months,
    /// Searches per searching organisation (where the export names it).
    pub by_org: Tally,
    /// Searches per user (where the export names them).
    pub by_user: Tally,
    /// Wide searches (the thresholds of [`SearchRules`]).
    pub wide: u64,
    /// Searches across every network the vendor offers ("nationwide": at least
    /// [`NATIONWIDE_NETWORKS`] networks).
    pub nationwide: u64,
    /// Searches with neither a case number nor an identifier in the reason.
    pub no_case: u64,
}

/// A search of at least this many networks is counted as nationwide in the summary.
pub const NATIONWIDE_NETWORKS: u64 = 1000;

impl Profile {
    fn push(&mut self, s: &Search, facts: &RowFacts, rules: &SearchRules) {
        self.searches += 1;
        if let Some(t) = s.time {
            self.by_month.add(t);
        }
        if let Some(org) = &s.org {
            self.by_org.add(org);
        }
        if let Some(user) = &s.user {
            self.by_user.add(user);
        }
        let networks = s.networks.unwrap_or(0);
        if networks >= rules.wide_networks || s.devices.unwrap_or(0) >= rules.wide_devices {
            self.wide += 1;
        }
        if networks >= NATIONWIDE_NETWORKS {
            self.nationwide += 1;
        }
        if !facts.has_case {
            self.no_case += 1;
        }
    }
}

/// The audited agency's state, whose statutes the per-search findings cite.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Jurisdiction {
    /// Two-letter code, or `None` when not known.
    pub state: Option<String>,
    /// How it was known: `--state`, or the one organisation the export's rows name.
    pub how: String,
}

/// What the per-search findings of one file cite, by its jurisdiction.
struct Law {
    immigration: &'static str,
    federal: &'static str,
    vague: &'static str,
    /// Appended to the evidence of a finding whose rule has no statute here.
    practice: String,
}

impl Law {
    fn of(state: Option<&str>) -> Law {
        let is = |code: &str| state.is_some_and(|s| s.eq_ignore_ascii_case(code));
        let practice = match state {
            Some(s) => format!("; practice concern (no statute of {s} in the law library governs it)"),
            None => "; practice concern (the audited agency's state is not known: name it with --state)".to_owned(),
        };
        Law {
            immigration: insider::purpose_citation(state, insider::Purpose::Immigration),
            federal: if is("CA") { CA_FEDERAL_CITATION } else { "" },
            vague: if is("CA") { CA_VAGUE_CITATION } else { "" },
            practice,
        }
    }

    fn tail(&self, citation: &str) -> &str {
        if citation.is_empty() {
            &self.practice
        } else {
            ""
        }
    }
}

/// A search's ID as a 64-bit hash, for recognising the same search in several files.
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Where a search was read: file index in the top 16 bits, line in the low 48.
fn pack(file: usize, line: u64) -> u64 {
    ((file as u64) << 48) | (line & ((1 << 48) - 1))
}

/// Searches read in more than one file: by ID hash, the ID and every place it was read
/// (the first is the copy that is audited).
#[derive(Default)]
struct Duplicates {
    by_hash: HashMap<u64, (String, Vec<u64>)>,
}

impl Duplicates {
    /// Reads every file's IDs once to find the searches several files hold. Memory: 16 bytes per
    /// search read (its ID's hash and its place, sorted to find equal hashes) while it runs, then
    /// only the duplicates.
    fn find(paths: &[std::path::PathBuf]) -> Duplicates {
        // Reserved for one search per 32 bytes of input, more than any export holds: only the
        // entries written are ever touched (resident), and the list is never copied to grow.
        let bytes: u64 = paths.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
        let mut seen: Vec<(u64, u64)> = Vec::with_capacity(usize::try_from(bytes / 32).unwrap_or(0).min(1 << 32));
        let mut s = Search::default();
        for (i, path) in paths.iter().enumerate() {
            let Ok(mut reader) = searches::open(path) else { continue };
            while let Ok(true) = reader.next_search_into(&mut s) {
                seen.push((id_hash(&s.id), pack(i, s.line)));
            }
        }
        // Equal hashes side by side, each run in reading order.
        seen.sort_unstable();
        let mut dups: HashMap<u64, Vec<u64>> = HashMap::new();
        for w in seen.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
            dups.insert(w[0].0, w.iter().map(|&(_, at)| at).collect());
        }
        drop(seen);
        // The ID of each duplicate, read back from its first place, so that a hash shared by two
        // different IDs is told apart when the files are audited.
        let mut by_hash = HashMap::with_capacity(dups.len());
        if !dups.is_empty() {
            let mut want: HashMap<u64, u64> = dups.iter().map(|(h, places)| (places[0], *h)).collect();
            for (i, path) in paths.iter().enumerate() {
                let Ok(mut reader) = searches::open(path) else { continue };
                while !want.is_empty() {
                    match reader.next_search_into(&mut s) {
                        Ok(true) => {
                            if let Some(h) = want.remove(&pack(i, s.line)) {
                                let places = dups.remove(&h).unwrap_or_default();
                                by_hash.insert(h, (s.id.clone(), places));
                            }
                        }
                        _ => break,
                    }
                }
            }
        }
        Duplicates { by_hash }
    }

    /// For the search `s` read in file `file`: `None` when this copy is not the audited one (a
    /// later copy of a search read before), else the other places it was read.
    fn check(&mut self, s: &Search, file: usize, names: &[Arc<str>]) -> Option<Vec<Location>> {
        if self.by_hash.is_empty() {
            return Some(Vec::new());
        }
        let h = id_hash(&s.id);
        let Some((id, places)) = self.by_hash.get(&h) else { return Some(Vec::new()) };
        let at = pack(file, s.line);
        if places[0] == at {
            if *id != s.id {
                // Two different IDs with one hash: not duplicates after all.
                self.by_hash.remove(&h);
                return Some(Vec::new());
            }
            return Some(
                places[1..]
                    .iter()
                    .map(|&p| Location { file: names[(p >> 48) as usize].clone(), line: p & ((1 << 48) - 1) })
                    .collect(),
            );
        }
        if places.contains(&at) && *id == s.id {
            None
        } else {
            Some(Vec::new())
        }
    }
}

/// The audited agency's state for one file: `--state`, else the one organisation its first rows
/// name, resolved by the agency directory (never guessed).
fn jurisdiction(path: &Path, rules: &SearchRules, dir: &mut Option<Directory>) -> Jurisdiction {
    if let Some(st) = &rules.state {
        return Jurisdiction { state: Some(st.to_ascii_uppercase()), how: "--state".into() };
    }
    let unknown = |how: &str| Jurisdiction { state: None, how: how.into() };
    let Ok(mut reader) = searches::open(path) else { return unknown("unreadable") };
    if !reader.has(Field::Org) {
        return unknown("the export names no organisation; give --state");
    }
    let mut org: Option<String> = None;
    let mut s = Search::default();
    for _ in 0..1000 {
        match reader.next_search_into(&mut s) {
            Ok(true) => match (&org, &s.org) {
                (_, None) => {}
                (None, Some(o)) => org = Some(o.clone()),
                (Some(a), Some(b)) if a == b => {}
                _ => return unknown("the export's rows name several organisations (a network audit); give --state"),
            },
            _ => break,
        }
    }
    let Some(org) = org else { return unknown("the export names no organisation; give --state") };
    let dir = match dir {
        Some(d) => d,
        None => match Directory::builtin() {
            Ok(d) => dir.insert(d),
            Err(_) => return unknown("the agency directory could not be loaded"),
        },
    };
    let r = dir.resolve(&org);
    match r.state.filter(|s| s != "US") {
        Some(st) => Jurisdiction { state: Some(st), how: format!("the organisation {org:?} (agency directory)") },
        None => unknown(&format!("the organisation {org:?} was not resolved to a state; give --state")),
    }
}

/// Audits a search-audit file (see [`audit_files`]). Returns its import statistics; fails when
/// nothing could be read from it (not a search audit, unreadable).
pub fn audit_file(
    path: &Path,
    rules: &SearchRules,
    progress: Progress<'_>,
    out: &mut dyn FnMut(Finding),
) -> Result<ImportStats> {
    searches::open(path)?;
    let audit = audit_files(&[path.to_owned()], rules, progress, out);
    let mut file = audit.files.into_iter().next().unwrap_or_default();
    file.stats.findings = audit.findings;
    Ok(file.stats)
}

/// Audits search-audit files as one: imports each, runs every detector, and hands each finding
/// to `out` as it is found (per-search findings during the first pass, per-officer ones during
/// the second, aggregate ones at the end).
///
/// With several files, the same search (the same search ID: the vendor gives every search one
/// ID, and each network's audit lists it under that ID) is audited once, from the first file that
/// holds it; its findings list the other places in [`Finding::also_in`]. A file that cannot be
/// read is reported in its [`FileAudit::error`] and the others are audited; a file whose CSV
/// breaks partway keeps the rows before the break (noted in its statistics).
pub fn audit_files(
    paths: &[std::path::PathBuf],
    rules: &SearchRules,
    progress: Progress<'_>,
    out: &mut dyn FnMut(Finding),
) -> SearchAudit {
    let names: Vec<Arc<str>> = paths.iter().map(|p| Arc::from(p.display().to_string())).collect();
    let mut dups = if paths.len() > 1 { Duplicates::find(paths) } else { Duplicates::default() };
    let mut dir = None;
    let mut audit = SearchAudit::default();
    let mut officers: HashMap<String, Officer> = HashMap::new();
    let mut insider: Option<Insider> = None;
    let mut per_officer = false;
    let findings = std::cell::Cell::new(0u64);
    // Findings per file of the passes over it (the aggregates are counted in the total only).
    let mut per_file = vec![0u64; paths.len()];
    let mut count = |f: Finding| {
        findings.set(findings.get() + 1);
        out(f)
    };
    let mut done_bytes = 0u64;
    for (i, path) in paths.iter().enumerate() {
        let jurisdiction = jurisdiction(path, rules, &mut dir);
        let law = Law::of(jurisdiction.state.as_deref());
        let mut file = FileAudit { path: path.clone(), jurisdiction, ..Default::default() };
        let reader = match searches::open(path) {
            Ok(r) => r,
            Err(e) => {
                file.error = Some(e.to_string());
                audit.files.push(file);
                continue;
            }
        };
        per_officer |= reader.has(Field::User);
        let ins = insider.get_or_insert_with(|| Insider::new(reader.has(Field::Org)));
        ins.set_file(names[i].clone());
        let name = &names[i];
        let n = &mut per_file[i];
        let mut emit = |mut f: Finding, also: &[Location]| {
            f.file = Some(name.clone());
            f.also_in = also.to_vec();
            *n += 1;
            count(f)
        };
        file.stats = first_pass(reader, progress, done_bytes, |s| {
            let Some(also) = dups.check(s, i, &names) else {
                audit.duplicates += 1;
                return;
            };
            let facts = detect_row_in(s, rules, &law, &mut |f| emit(f, &also));
            audit.profile.push(s, &facts, rules);
            ins.push(s, facts);
            if let (Some(user), Some(t)) = (&s.user, s.time) {
                let o = match officers.get_mut(user.as_str()) {
                    Some(o) => o,
                    None => officers.entry(user.clone()).or_default(),
                };
                o.hours[usize::from(t.hour())] += 1;
                o.total += 1;
                *o.minutes.entry(t.minute_index()).or_default() += 1;
            }
        });
        done_bytes += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        audit.files.push(file);
    }
    if per_officer && !officers.is_empty() {
        for o in officers.values_mut() {
            o.bursts = bursts(&o.minutes, rules);
            o.minutes = HashMap::new();
        }
        let mut done = 0u64;
        for (i, path) in paths.iter().enumerate() {
            if audit.files[i].error.is_some() {
                continue;
            }
            let Ok(mut reader) = searches::open(path) else { continue };
            let mut n = 0u64;
            while let Ok(Some(s)) = reader.next_search() {
                let Some(also) = dups.check(&s, i, &names) else { continue };
                let (Some(user), Some(t)) = (&s.user, s.time) else { continue };
                let Some(o) = officers.get_mut(user.as_str()) else { continue };
                let finding = |kind, severity, evidence, rule| {
                    let mut f = search_finding(&s, kind, severity, evidence, rule, "");
                    f.file = Some(names[i].clone());
                    f.also_in = also.clone();
                    f
                };
                officer_findings(o, user, t, rules, &mut |k, sev, ev, r| {
                    per_file[i] += 1;
                    count(finding(k, sev, ev, r))
                });
                n += 1;
                if n.is_multiple_of(8192) {
                    progress(2, done + reader.bytes_read());
                }
            }
            done += reader.bytes_read();
            progress(2, done);
        }
    }
    if let Some(ins) = insider {
        let mut irules = rules.insider.clone();
        if irules.state.is_none() {
            // Purposes per organisation cite the state every file agrees on, if they do.
            let mut states = audit.files.iter().map(|f| f.jurisdiction.state.clone());
            let first = states.next().flatten();
            if states.all(|s| s == first) {
                irules.state = first;
            }
        }
        let before = findings.get();
        ins.finish(&irules, &mut count);
        if let [only] = per_file.as_mut_slice() {
            *only += findings.get() - before;
        }
    }
    for (f, n) in audit.files.iter_mut().zip(per_file) {
        f.stats.findings = n;
    }
    audit.findings = findings.get();
    audit
}

/// The first pass over one file: parse on a reader thread, detect on this one (batches recycled,
/// so memory stays flat). `row` runs the detectors on one search. A CSV that breaks partway
/// stops the pass with a note; the rows before the break are kept.
fn first_pass(
    reader: searches::SearchReader<std::io::BufReader<std::fs::File>>,
    progress: Progress<'_>,
    done_bytes: u64,
    mut row: impl FnMut(&Search),
) -> ImportStats {
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<Search>, usize, u64)>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<Search>>();
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || -> ImportStats {
            let mut reader = reader;
            loop {
                let mut batch = back_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
                let mut n = 0;
                let mut broken = None;
                while n < BATCH {
                    if n == batch.len() {
                        batch.push(Search::default());
                    }
                    match reader.next_search_into(&mut batch[n]) {
                        Ok(true) => n += 1,
                        Ok(false) => break,
                        Err(e) => {
                            broken = Some(e);
                            break;
                        }
                    }
                }
                let done = n < BATCH;
                let sent = tx.send((batch, n, reader.bytes_read())).is_ok();
                if let Some(e) = broken {
                    reader.stats.notes.push(format!("reading stopped: {e}; the rows before it were audited"));
                }
                if !sent || done {
                    return std::mem::take(&mut reader.stats);
                }
            }
        });
        for (batch, n, bytes) in rx {
            for s in &batch[..n] {
                row(s);
            }
            progress(1, done_bytes + bytes);
            let _ = back_tx.send(batch);
        }
        parser.join().unwrap_or_else(|_| {
            let mut stats = ImportStats::default();
            stats.notes.push("the reader thread panicked".into());
            stats
        })
    })
}

/// Off-hours and burst findings of one officer's search at `t`.
fn officer_findings(
    o: &mut Officer,
    user: &str,
    t: crate::time::Timestamp,
    rules: &SearchRules,
    emit: &mut dyn FnMut(Kind, Severity, String, &'static str),
) {
    let tz = rules.tz.as_ref();
    if o.total >= rules.off_hours_min_searches {
        let h = usize::from(t.hour());
        let near = o.hours[(h + 23) % 24] + o.hours[h] + o.hours[(h + 1) % 24];
        if f64::from(near) <= rules.off_hours_max_share * f64::from(o.total) {
            emit(
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
            );
        }
    }
    let m = t.minute_index();
    for b in o.bursts.iter_mut().filter(|b| !b.3 && b.0 <= m && m <= b.1) {
        b.3 = true;
        emit(
            Kind::Burst,
            Severity::Medium,
            format!(
                "user {user}: {} searches between {} and {} (threshold {} within {} minutes); {}",
                b.2,
                insider::show_time(crate::time::Timestamp { millis: b.0 * 60_000, zone_known: t.zone_known }, tz),
                insider::show_time(
                    crate::time::Timestamp { millis: b.1 * 60_000 + 59_000, zone_known: t.zone_known },
                    tz
                ),
                rules.burst_min_searches,
                rules.burst_window_minutes,
                insider::zone_note(t, tz)
            ),
            "search.burst",
        );
    }
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
