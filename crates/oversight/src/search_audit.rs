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

use crate::chunks;
use crate::directory::Directory;
use crate::error::Result;
use crate::finding::{Finding, FindingRef, JsonPieces, Kind, Location, Severity, Subject};
use crate::insider::{self, Insider, InsiderRules, RowFacts, Zone};
use crate::report::{Months, Summary, Tally};
use crate::searches::{self, Field, Search, SearchRef};
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
    detect_row_in(&s.view(), rules, &Law::of(rules.state.as_deref()), &mut Scratch::default(), &mut |f| {
        out(f.to_finding())
    })
}

fn detect_row_in(
    s: &SearchRef,
    rules: &SearchRules,
    law: &Law,
    scratch: &mut Scratch,
    out: &mut dyn FnMut(&FindingRef),
) -> RowFacts {
    let text = s.purpose_text();
    let Scratch { texts, evidence, subject, org } = scratch;
    // Exports name one organisation, or a few, row after row: the last one's answer is kept.
    let federal = match (s.org, &*org) {
        (None, _) => None,
        (Some(name), Some((last, found))) if last == name => *found,
        (Some(name), _) => org.insert((name.to_owned(), insider::federal_agency_name(name))).1,
    };
    if let Some(facts) = texts.get(text.as_ref()) {
        return detect_text(s, (&text, facts), federal, rules, law, &mut Emit { evidence, subject, out });
    }
    let facts = if text.is_ascii() {
        let lower = text.to_ascii_lowercase();
        let tokens: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
        TextFacts::of(&tokens, false)
    } else {
        TextFacts::of(&justification::tokens(&text), false)
    };
    let row = detect_text(s, (&text, &facts), federal, rules, law, &mut Emit { evidence, subject, out });
    if texts.len() >= TEXTS_KEPT {
        texts.clear();
    }
    texts.insert(text.into_owned(), facts);
    row
}

/// [`detect_row`] the plain way: [`justification::tokens`] on every reason, the reference
/// vocabulary matchers ([`vocab::find_reference`], [`vocab::is_vague_reference`]). Same findings,
/// slower; the tests hold the fast path to it.
pub fn detect_row_reference(s: &Search, rules: &SearchRules, out: &mut dyn FnMut(Finding)) -> RowFacts {
    let text = s.purpose_text();
    let law = Law::of(rules.state.as_deref());
    let facts = TextFacts::of(&justification::tokens(&text), true);
    let Scratch { evidence, subject, .. } = &mut Scratch::default();
    detect_text(
        &s.view(),
        (&text, &facts),
        s.org.as_deref().and_then(insider::federal_agency_name),
        rules,
        &law,
        &mut Emit { evidence, subject, out: &mut |f| out(f.to_finding()) },
    )
}

/// Distinct purpose texts whose [`TextFacts`] a thread keeps (then it starts afresh).
const TEXTS_KEPT: usize = 1 << 14;

/// What the per-search detectors find in a purpose text alone (the immigration classifier, the
/// protected-activity vocabulary, vague words and identifiers). Exports repeat their reasons
/// ("BOLO", "stolen vehicle"), so each thread keeps them per text ([`Scratch::texts`]).
#[derive(Clone, Debug)]
struct TextFacts {
    signal: Signal,
    /// The classifier's evidence, joined by ", ".
    evidence: String,
    protected: Vec<(&'static str, &'static str)>,
    identifier: bool,
    vague: bool,
    no_tokens: bool,
}

impl TextFacts {
    /// The facts of a text split into `tokens`, with the reference matchers or the fast ones.
    fn of<T: AsRef<str>>(tokens: &[T], reference: bool) -> TextFacts {
        let c = justification::classify_tokens(tokens);
        let owned = || tokens.iter().map(|t| t.as_ref().to_owned()).collect::<Vec<String>>();
        TextFacts {
            signal: c.signal,
            evidence: c.evidence().join(", "),
            protected: if reference {
                vocab::find_reference(&owned(), vocab::PROTECTED)
            } else {
                vocab::find(tokens, vocab::PROTECTED)
            },
            identifier: tokens.iter().any(|t| vocab::is_identifier(t.as_ref())),
            vague: if reference { vocab::is_vague_reference(&owned()) } else { vocab::is_vague(tokens) },
            no_tokens: tokens.is_empty(),
        }
    }
}

/// Buffers and memory the per-search detectors keep from row to row on one thread: each purpose
/// text's [`TextFacts`], a finding's evidence and subject, and the last organisation with the
/// federal agency it names ([`insider::federal_agency_name`]).
struct Scratch {
    texts: HashMap<String, TextFacts, std::hash::BuildHasherDefault<TextHasher>>,
    evidence: String,
    subject: Subject,
    org: Option<(String, Option<(&'static str, bool)>)>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            texts: HashMap::default(),
            evidence: String::new(),
            subject: Subject::Search { record: String::new() },
            org: None,
        }
    }
}

/// A quick hash of short texts (eight bytes at a time, multiplied) for [`Scratch::texts`]: its keys
/// come from the file audited, and at most [`TEXTS_KEPT`] are kept.
#[derive(Clone, Copy, Default)]
struct TextHasher(u64);

impl std::hash::Hasher for TextHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        // The last bytes, a byte at a time (no call to copy a few bytes).
        let w = words.remainder().iter().rev().fold(0u64, |w, &b| w << 8 | u64::from(b));
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// `text` as `{:?}` writes it, onto `buf` (printable ASCII without `"` or `\` is written as is,
/// between quotes).
fn push_debug(buf: &mut String, text: &str) {
    use std::fmt::Write as _;
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        buf.push('"');
        buf.push_str(text);
        buf.push('"');
    } else {
        let _ = write!(buf, "{text:?}");
    }
}

/// `n` in decimal, onto `buf`.
fn push_u64(buf: &mut String, n: u64) {
    buf.extend(crate::finding::decimal(n, &mut [0u8; 20]).iter().map(|&d| char::from(d)));
}

/// Where the per-search detectors write a finding's evidence, and whom they hand it to.
struct Emit<'a, 'o> {
    evidence: &'a mut String,
    subject: &'a mut Subject,
    out: &'a mut (dyn FnMut(&FindingRef) + 'o),
}

impl Emit<'_, '_> {
    /// The evidence buffer, emptied.
    fn evidence(&mut self) -> &mut String {
        self.evidence.clear();
        self.evidence
    }

    /// Hands over a finding that rests on the search `s`, with the evidence written.
    fn emit(&mut self, s: &SearchRef, (kind, severity, rule, citation): (Kind, Severity, &'static str, &'static str)) {
        if let Subject::Search { record } = &mut *self.subject {
            record.clear();
            record.push_str(s.id);
        }
        (self.out)(&FindingRef {
            kind,
            severity,
            subject: self.subject,
            line: s.line,
            evidence: self.evidence,
            rule,
            citation,
            agency: s.org,
            user: s.user,
            time: s.time,
            file: None,
            also_in: &[],
        });
    }
}

/// The per-search detectors on `s`, whose purpose text `text` has the facts `t` and whose
/// organisation names the federal agency `federal` ([`insider::federal_agency_name`]).
fn detect_text(
    s: &SearchRef,
    (text, t): (&str, &TextFacts),
    federal: Option<(&'static str, bool)>,
    rules: &SearchRules,
    law: &Law,
    e: &mut Emit,
) -> RowFacts {
    use std::fmt::Write as _;
    let mut facts = RowFacts { immigration: t.signal == Signal::Strong, ..Default::default() };
    let immigration = match t.signal {
        Signal::Strong => Some((Severity::High, "search.immigration_purpose", "")),
        Signal::Weak => Some((Severity::Low, "search.immigration_purpose.weak", " (suggestive only)")),
        Signal::None => None,
    };
    if let Some((severity, rule, qualifier)) = immigration {
        let ev = e.evidence();
        ev.push_str("reason ");
        push_debug(ev, text);
        let _ = write!(ev, ": {}{qualifier}{}", t.evidence, law.tail(law.immigration));
        e.emit(s, (Kind::ImmigrationPurpose, severity, rule, law.immigration));
    }
    if s.org_federal {
        let ev = e.evidence();
        let _ =
            write!(ev, "searching organization {:?} is tagged federal{}", s.org.unwrap_or(""), law.tail(law.federal));
        e.emit(s, (Kind::FederalOriginator, Severity::High, "search.federal_originator", law.federal));
    } else if let Some((label, immigration)) = federal {
        let ev = e.evidence();
        let _ = write!(
            ev,
            "searching organization {:?} names a federal agency ({label}{}) without a [Federal] tag; practice concern",
            s.org.unwrap_or(""),
            if immigration { ", immigration enforcement" } else { "" }
        );
        let severity = if immigration { Severity::High } else { Severity::Medium };
        e.emit(s, (Kind::FederalOriginator, severity, "search.federal_agency_name", ""));
    }
    if let Some(m) = s.moderation.filter(|m| insider::moderation_blocked(m)) {
        let ev = e.evidence();
        let _ = write!(ev, "attempted search blocked by the vendor's moderation (Moderation {m:?}); reason {text:?}");
        if let Some(t) = s.search_type {
            let _ = write!(ev, ", search type {t:?}");
        }
        ev.push_str("; practice concern");
        e.emit(s, (Kind::ModerationBlocked, Severity::Medium, "search.moderation_blocked", ""));
    }
    facts.reproductive = t.protected.iter().any(|(_, l)| *l == "reproductive health care");
    if !t.protected.is_empty() {
        let ev = e.evidence();
        ev.push_str("reason ");
        push_debug(ev, text);
        ev.push_str(": ");
        for (i, (p, l)) in t.protected.iter().enumerate() {
            let _ = write!(ev, "{}{l}: \"{p}\"", if i > 0 { ", " } else { "" });
        }
        e.emit(s, (Kind::ProtectedActivity, Severity::High, "search.protected_activity", PROTECTED_CITATION));
    }
    let has_case = s.case_number.is_some() || t.identifier;
    facts.has_case = has_case;
    if !has_case && t.vague {
        let ev = e.evidence();
        let severity = if t.no_tokens {
            ev.push_str("no reason given");
            Severity::Medium
        } else {
            ev.push_str("reason ");
            push_debug(ev, s.reason);
            ev.push_str(" with no case number");
            Severity::Low
        };
        ev.push_str(law.tail(law.vague));
        e.emit(s, (Kind::VagueReason, severity, "search.vague_reason", law.vague));
    }
    let wide_n = s.networks.filter(|&n| n >= rules.wide_networks);
    let wide_d = s.devices.filter(|&d| d >= rules.wide_devices);
    if wide_n.is_some() || wide_d.is_some() {
        let ev = e.evidence();
        ev.push_str("searched ");
        if let Some(n) = s.networks {
            push_u64(ev, n);
            ev.push_str(" networks");
        }
        if let Some(d) = s.devices {
            if s.networks.is_some() {
                ev.push_str(", ");
            }
            push_u64(ev, d);
            ev.push_str(" cameras");
        }
        ev.push_str(" (thresholds: ");
        push_u64(ev, rules.wide_networks);
        ev.push_str(" networks, ");
        push_u64(ev, rules.wide_devices);
        ev.push_str(" cameras)");
        e.emit(s, (Kind::WideSearch, Severity::Medium, "search.wide", ""));
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
    /// Adds the counts of `later`.
    fn merge(&mut self, later: Profile) {
        self.searches += later.searches;
        self.by_month.merge(later.by_month);
        self.by_org.merge(later.by_org);
        self.by_user.merge(later.by_user);
        self.wide += later.wide;
        self.nationwide += later.nationwide;
        self.no_case += later.no_case;
    }

    fn push(&mut self, s: &SearchRef, facts: &RowFacts, rules: &SearchRules) {
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

/// Hands each kept search of the file at `path` to `f`, in order, until `f` says stop (false):
/// the rows the audit itself keeps, at the lines it reports (chunks parsed as the first pass
/// parses them, and the rest of the file read in order where a chunk cannot be cut). A file that
/// cannot be read gives nothing; the audit reports it.
fn each_search(path: &Path, f: &mut dyn FnMut(&SearchRef) -> bool) {
    let Ok(reader) = searches::open(path) else { return };
    let (offset, line, after_crlf) = reader.position();
    let layout = reader.layout().clone();
    let in_order = |offset: u64, line: u64, f: &mut dyn FnMut(&SearchRef) -> bool| {
        let Ok(mut reader) = searches::open_at(path, offset, line) else { return };
        let mut s = Search::default();
        while let Ok(true) = reader.next_search_into(&mut s) {
            if !f(&s.view()) {
                return;
            }
        }
    };
    let Ok(file) = file_at(path, offset) else { return };
    let mut chunks = chunks::Chunks::new(file, offset, line).after_crlf(after_crlf);
    let mut parser = chunks::RecordParser::new();
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = chunks.next_chunk(buf) {
        if chunk.in_order {
            return in_order(chunk.offset, chunk.line, f);
        }
        // Rejected rows are not the audit's: they are left out.
        match chunk_rows(&mut parser, &chunk, &layout, |_, search| search.map_or(true, &mut *f)) {
            ChunkEnd::Read => {}
            ChunkEnd::Stopped => return,
            ChunkEnd::InOrder(offset, line) => return in_order(offset, line, f),
        }
        buf = chunk.data;
    }
}

/// The file at `path`, open and at byte `offset`.
fn file_at(path: &Path, offset: u64) -> std::io::Result<std::fs::File> {
    use std::io::Seek;
    let mut file = std::fs::File::open(path)?;
    file.seek(std::io::SeekFrom::Start(offset))?;
    Ok(file)
}

/// How [`chunk_rows`] ended.
enum ChunkEnd {
    /// Every row of the chunk was read.
    Read,
    /// The caller said stop.
    Stopped,
    /// A record runs past the chunk's end: the rest of the file, from this byte offset and line,
    /// is to be read in order.
    InOrder(u64, u64),
}

/// Parses the records of `chunk` with `parser` and reads each with `layout`, handing `row` its
/// line and its search (or why the row is rejected) until `row` says stop (false).
fn chunk_rows(
    parser: &mut chunks::RecordParser,
    chunk: &chunks::Chunk,
    layout: &searches::Layout,
    mut row: impl FnMut(u64, std::result::Result<&SearchRef<'_>, searches::Rejected>) -> bool,
) -> ChunkEnd {
    parser.start(chunk);
    // Checked once for the chunk rather than once per record.
    let text = std::str::from_utf8(&chunk.data).ok();
    loop {
        match parser.next(&chunk.data, chunk.last) {
            chunks::Step::Record(line) => {
                // The search is lent, not moved (a move copies its 200-odd bytes for every row).
                let fields = parser.record.fields(&chunk.data, text);
                let read = layout.read(&fields, line);
                let search = match read {
                    Ok(ref search) => Ok(search),
                    Err(rejected) => Err(rejected),
                };
                if !row(line, search) {
                    return ChunkEnd::Stopped;
                }
            }
            chunks::Step::End => return ChunkEnd::Read,
            chunks::Step::Past(before_end, line) => {
                let end = chunk.offset + chunk.data.len() as u64;
                return ChunkEnd::InOrder(end - before_end as u64, line);
            }
        }
    }
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
        for (i, path) in paths.iter().enumerate() {
            each_search(path, &mut |s| {
                seen.push((id_hash(s.id), pack(i, s.line)));
                true
            });
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
                if want.is_empty() {
                    break;
                }
                each_search(path, &mut |s| {
                    if let Some(h) = want.remove(&pack(i, s.line)) {
                        let places = dups.remove(&h).unwrap_or_default();
                        by_hash.insert(h, (s.id.to_owned(), places));
                    }
                    !want.is_empty()
                });
            }
        }
        Duplicates { by_hash }
    }

    /// For the search `s` read in file `file`: `None` when this copy is not the audited one (a
    /// later copy of a search read before), else the other places it was read.
    fn check(&self, s: &SearchRef, file: usize, names: &[Arc<str>]) -> Option<Vec<Location>> {
        if self.by_hash.is_empty() {
            return Some(Vec::new());
        }
        let h = id_hash(s.id);
        let Some((id, places)) = self.by_hash.get(&h) else { return Some(Vec::new()) };
        let at = pack(file, s.line);
        if places[0] == at {
            if *id != s.id {
                // Two different IDs with one hash: not duplicates after all. (The first place's ID
                // is the one read there when the duplicates were found, so this happens only if
                // the file changed since.)
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

/// Where the findings of an audit go.
pub enum Output<'a> {
    /// Handed over one by one, in order.
    Each(&'a mut dyn FnMut(Finding)),
    /// Written as JSON lines ([`Finding::write_json_line`]), in order, and counted into the
    /// summary when one is given; the threads that find the per-search findings also format and
    /// count them (each chunk's count merged in order: [`Summary::merge_findings`]), and no
    /// [`Finding`] is allocated for them but the summary's examples.
    JsonLines(&'a mut dyn std::io::Write, Option<&'a mut Summary>),
}

impl Output<'_> {
    fn push(&mut self, f: &FindingRef) -> std::io::Result<()> {
        match self {
            Output::Each(out) => {
                out(f.to_finding());
                Ok(())
            }
            Output::JsonLines(w, summary) => {
                if let Some(summary) = summary {
                    summary.push_ref(f);
                }
                f.write_json_line(w)
            }
        }
    }

    /// Hands over what a chunk found, leaving `found` empty for reuse.
    fn take(&mut self, found: &mut Found) -> std::io::Result<()> {
        match (self, found) {
            (Output::JsonLines(w, summary), Found::Json(bytes, _, counted)) => {
                let r = w.write_all(bytes);
                bytes.clear();
                if let (Some(summary), Some(counted)) = (summary, counted) {
                    summary.merge_findings(std::mem::take(&mut **counted));
                }
                r
            }
            (Output::Each(out), Found::Each(findings)) => {
                findings.drain(..).for_each(out);
                Ok(())
            }
            _ => unreachable!("a chunk's findings are kept the way its output wants them"),
        }
    }
}

/// The findings of one chunk, as its [`Output`] takes them.
enum Found {
    /// JSON lines, the pieces of them that repeat, and their count when the output counts them.
    Json(Vec<u8>, JsonPieces, Option<Box<Summary>>),
    Each(Vec<Finding>),
}

impl Found {
    /// Findings kept as JSON lines (`json`, counted when `count`), or one by one.
    fn new(json: bool, count: bool) -> Self {
        if json {
            // JSON lines are about 1.5 times as long as the records they come from.
            Found::Json(Vec::with_capacity(2 * chunks::CHUNK), JsonPieces::default(), count.then(Box::default))
        } else {
            Found::Each(Vec::new())
        }
    }

    fn push(&mut self, f: &FindingRef) {
        match self {
            Found::Json(bytes, pieces, counted) => {
                f.push_json_line_with(bytes, pieces);
                if let Some(counted) = counted {
                    counted.push_ref(f);
                }
            }
            Found::Each(findings) => findings.push(f.to_finding()),
        }
    }
}

/// Audits search-audit files as one: imports each, runs every detector, and hands each finding
/// to `out` as it is found (per-search findings during the first pass, per-officer ones during
/// the second, aggregate ones at the end). See [`audit_files_to`].
pub fn audit_files(
    paths: &[std::path::PathBuf],
    rules: &SearchRules,
    progress: Progress<'_>,
    out: &mut dyn FnMut(Finding),
) -> SearchAudit {
    audit_files_to(paths, rules, progress, Output::Each(out)).unwrap_or_else(|_| unreachable!("no writer to fail"))
}

/// Audits search-audit files as one, sending the findings to `output` in the order
/// [`audit_files`] hands them over; fails only when writing to [`Output::JsonLines`] fails.
///
/// Each file's first pass runs on every core: a reader thread cuts the file into chunks of whole
/// records (module `chunks`), worker threads parse and run the per-search detectors on them,
/// each chunk with counts and aggregate state of its own, and this thread takes the chunks'
/// findings and state in file order (so the findings, their order and the aggregates are those
/// of one sequential read). Where the chunks cannot be cut safely (a record quoted otherwise than
/// the usual way across a cut, or no line break to cut at) the rest of the file is read in order.
///
/// With several files, the same search (the same search ID: the vendor gives every search one
/// ID, and each network's audit lists it under that ID) is audited once, from the first file that
/// holds it; its findings list the other places in [`Finding::also_in`]. A file that cannot be
/// read is reported in its [`FileAudit::error`] and the others are audited; a file whose CSV
/// breaks partway keeps the rows before the break (noted in its statistics).
pub fn audit_files_to(
    paths: &[std::path::PathBuf],
    rules: &SearchRules,
    progress: Progress<'_>,
    mut output: Output<'_>,
) -> std::io::Result<SearchAudit> {
    let names: Vec<Arc<str>> = paths.iter().map(|p| Arc::from(p.display().to_string())).collect();
    let dups = if paths.len() > 1 { Duplicates::find(paths) } else { Duplicates::default() };
    let mut dir = None;
    let mut audit = SearchAudit::default();
    let mut officers: HashMap<String, Officer> = HashMap::new();
    let mut insider: Option<Insider> = None;
    let mut per_officer = false;
    let mut findings = 0u64;
    // Findings per file of the passes over it (the aggregates are counted in the total only).
    let mut per_file = vec![0u64; paths.len()];
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
        let cx = FileContext { rules, law, dups: &dups, index: i, names: &names };
        let (gathered, stats) = first_pass(path, reader, &cx, &mut output, &mut *progress, done_bytes)?;
        audit.profile.merge(gathered.profile);
        ins.merge(gathered.insider);
        merge_officers(&mut officers, gathered.officers);
        audit.duplicates += gathered.duplicates;
        per_file[i] += gathered.findings;
        findings += gathered.findings;
        file.stats = stats;
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
                let s = s.view();
                let Some(also) = dups.check(&s, i, &names) else { continue };
                let (Some(user), Some(t)) = (s.user, s.time) else { continue };
                let Some(o) = officers.get_mut(user) else { continue };
                let mut result = Ok(());
                officer_findings(o, user, t, rules, &mut |kind, severity, evidence, rule| {
                    per_file[i] += 1;
                    findings += 1;
                    let mut f = search_finding(&s, kind, severity, evidence, rule, "");
                    f.file = Some(names[i].clone());
                    f.also_in = also.clone();
                    if result.is_ok() {
                        result = output.push(&f.view());
                    }
                });
                result?;
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
        let before = findings;
        let mut result = Ok(());
        ins.finish(&irules, &mut |f| {
            findings += 1;
            if result.is_ok() {
                result = output.push(&f.view());
            }
        });
        result?;
        if let [only] = per_file.as_mut_slice() {
            *only += findings - before;
        }
    }
    for (f, n) in audit.files.iter_mut().zip(per_file) {
        f.stats.findings = n;
    }
    audit.findings = findings;
    Ok(audit)
}

/// A finding that rests on the search `s`.
fn search_finding(
    s: &SearchRef,
    kind: Kind,
    severity: Severity,
    evidence: String,
    rule: &'static str,
    citation: &'static str,
) -> Finding {
    Finding {
        kind,
        severity,
        subject: Subject::Search { record: s.id.to_owned() },
        line: s.line,
        evidence,
        rule,
        citation,
        agency: s.org.map(str::to_owned),
        user: s.user.map(str::to_owned),
        time: s.time,
        file: None,
        also_in: Vec::new(),
    }
}

/// What the per-search detectors of one file read; shared by its threads.
struct FileContext<'a> {
    rules: &'a SearchRules,
    law: Law,
    dups: &'a Duplicates,
    /// The file's index in `names`.
    index: usize,
    names: &'a [Arc<str>],
}

/// What the first pass gathers over a run of searches (a chunk, or a file read in order): the
/// summary's counts, the aggregate detectors' state, per-officer counts. Runs gathered apart
/// are merged in file order ([`Gathered::merge`]), which gives what one run over them all gives.
#[derive(Default)]
struct Gathered {
    profile: Profile,
    insider: Insider,
    officers: HashMap<String, Officer>,
    duplicates: u64,
    findings: u64,
}

impl Gathered {
    fn new(cx: &FileContext) -> Self {
        let mut g = Gathered::default();
        g.insider.set_file(cx.names[cx.index].clone());
        g
    }

    /// Runs the per-search detectors on `s` and counts it; its findings go to `out`.
    fn row(&mut self, cx: &FileContext, s: &SearchRef, scratch: &mut Scratch, out: &mut dyn FnMut(&FindingRef)) {
        let Some(also) = cx.dups.check(s, cx.index, cx.names) else {
            self.duplicates += 1;
            return;
        };
        let name = &cx.names[cx.index];
        let findings = &mut self.findings;
        let facts = detect_row_in(s, cx.rules, &cx.law, scratch, &mut |f| {
            *findings += 1;
            out(&FindingRef { file: Some(name), also_in: &also, ..*f });
        });
        self.profile.push(s, &facts, cx.rules);
        self.insider.push(s, facts);
        if let (Some(user), Some(t)) = (s.user, s.time) {
            let o = match self.officers.get_mut(user) {
                Some(o) => o,
                None => self.officers.entry(user.to_owned()).or_default(),
            };
            o.hours[usize::from(t.hour())] += 1;
            o.total += 1;
            *o.minutes.entry(t.minute_index()).or_default() += 1;
        }
    }

    /// Adds what `later` gathered over the searches that follow this run's.
    fn merge(&mut self, later: Gathered) {
        self.profile.merge(later.profile);
        self.insider.merge(later.insider);
        merge_officers(&mut self.officers, later.officers);
        self.duplicates += later.duplicates;
        self.findings += later.findings;
    }
}

/// Adds per-officer counts (hours, minutes) gathered over later searches.
fn merge_officers(to: &mut HashMap<String, Officer>, later: HashMap<String, Officer>) {
    for (user, o) in later {
        let Some(t) = to.get_mut(&user) else {
            to.insert(user, o);
            continue;
        };
        for (a, b) in t.hours.iter_mut().zip(o.hours) {
            *a += b;
        }
        t.total += o.total;
        for (m, n) in o.minutes {
            *t.minutes.entry(m).or_default() += n;
        }
    }
}

/// Why the chunks of a file stopped before its end.
enum Stop {
    /// The rest of the file, from this byte offset and line, is to be read in order.
    InOrder(u64, u64),
    /// Reading failed.
    Failed(std::io::Error),
}

/// A chunk, or where chunking stopped, for a worker.
type Piece = std::result::Result<chunks::Chunk, Stop>;

/// What a worker did with one piece.
struct Done {
    found: Found,
    gathered: Gathered,
    stats: ImportStats,
    /// Byte offset after the chunk.
    end: u64,
    stop: Option<Stop>,
}

/// The first pass over one file (see [`audit_files_to`]): chunks parsed and run through the
/// per-search detectors on worker threads, taken in order here. Returns what it gathered and
/// the file's statistics; fails only when writing the findings fails.
fn first_pass(
    path: &Path,
    reader: searches::SearchReader<std::io::BufReader<std::fs::File>>,
    cx: &FileContext,
    output: &mut Output,
    progress: Progress<'_>,
    done_bytes: u64,
) -> std::io::Result<(Gathered, ImportStats)> {
    let mut reader = reader;
    let (offset, line, after_crlf) = reader.position();
    let layout = reader.layout().clone();
    let mut stats = std::mem::take(&mut reader.stats);
    let mut gathered = Gathered::new(cx);
    let stop = match file_at(path, offset) {
        Ok(f) => in_chunks(
            f,
            (offset, line, after_crlf),
            &layout,
            cx,
            &mut gathered,
            &mut stats,
            output,
            progress,
            done_bytes,
        )?,
        Err(e) => Some(Stop::Failed(e)),
    };
    match stop {
        None => {}
        Some(Stop::Failed(e)) => {
            let e = crate::Error::Io { path: path.to_owned(), source: e };
            stats.notes.push(format!("reading stopped: {e}; the rows before it were audited"));
        }
        Some(Stop::InOrder(offset, line)) => match searches::open_at(path, offset, line) {
            Ok(reader) => {
                let (g, s) = in_order(reader, cx, output, progress, done_bytes)?;
                gathered.merge(g);
                stats.merge(s);
            }
            Err(e) => stats.notes.push(format!("reading stopped: {e}; the rows before it were audited")),
        },
    }
    Ok((gathered, stats))
}

/// The chunked first pass over `file` from the record at `offset` (line `line`; `after_crlf`:
/// the bytes before it are a `\r\n` ending the header): a reader
/// thread cuts chunks, one worker per core parses them and runs the per-search detectors, and
/// this thread takes their findings and merges what they gathered, in order. Returns why it
/// stopped before the end of the file, if it did.
#[allow(clippy::too_many_arguments)]
fn in_chunks(
    file: std::fs::File,
    (offset, line, after_crlf): (u64, u64, bool),
    layout: &searches::Layout,
    cx: &FileContext,
    gathered: &mut Gathered,
    stats: &mut ImportStats,
    output: &mut Output,
    progress: Progress<'_>,
    done_bytes: u64,
) -> std::io::Result<Option<Stop>> {
    use std::sync::mpsc;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    std::thread::scope(|scope| {
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let mut to_workers = Vec::new();
        let mut from_workers = Vec::new();
        let mut backs = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..workers {
            let (piece_tx, piece_rx) = mpsc::sync_channel::<Piece>(2);
            let (done_tx, done_rx) = mpsc::sync_channel::<Done>(2);
            let (back_tx, back_rx) = mpsc::channel::<Found>();
            let free_tx = free_tx.clone();
            let (json, count) = match output {
                Output::JsonLines(_, summary) => (true, summary.is_some()),
                Output::Each(_) => (false, false),
            };
            handles.push(scope.spawn(move || {
                let mut parser = chunks::RecordParser::new();
                let mut scratch = Scratch::default();
                for piece in piece_rx {
                    let mut found = back_rx.try_recv().unwrap_or_else(|_| Found::new(json, count));
                    let done = match piece {
                        Err(stop) => Done {
                            found,
                            gathered: Gathered::default(),
                            stats: ImportStats::default(),
                            end: 0,
                            stop: Some(stop),
                        },
                        Ok(chunk) => {
                            let mut g = Gathered::new(cx);
                            let mut st = ImportStats::default();
                            let end = chunk_rows(&mut parser, &chunk, layout, |line, search| {
                                st.read += 1;
                                match search {
                                    Ok(search) => {
                                        st.kept += 1;
                                        g.row(cx, search, &mut scratch, &mut |f| found.push(f));
                                    }
                                    Err((column, reason)) => st.reject(line, column.as_deref(), reason),
                                }
                                true
                            });
                            let stop = match end {
                                ChunkEnd::InOrder(offset, line) => Some(Stop::InOrder(offset, line)),
                                ChunkEnd::Read | ChunkEnd::Stopped => None,
                            };
                            let end = chunk.offset + chunk.data.len() as u64;
                            let _ = free_tx.send(chunk.data);
                            Done { found, gathered: g, stats: st, end, stop }
                        }
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            }));
            to_workers.push(piece_tx);
            from_workers.push(done_rx);
            backs.push(back_tx);
        }
        drop(free_tx);
        let reader = scope.spawn(move || {
            let mut chunks = chunks::Chunks::new(file, offset, line).after_crlf(after_crlf);
            for index in 0.. {
                let buf = free_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(2 * chunks::CHUNK));
                let (what, end) = match chunks.next_chunk(buf) {
                    Ok(None) => break,
                    Ok(Some(c)) if c.in_order => (Err(Stop::InOrder(c.offset, c.line)), true),
                    Ok(Some(c)) => {
                        let last = c.last;
                        (Ok(c), last)
                    }
                    Err(e) => (Err(Stop::Failed(e)), true),
                };
                if to_workers[index % workers].send(what).is_err() || end {
                    break;
                }
            }
        });
        let mut result = Ok(None);
        for k in 0.. {
            let Ok(mut done) = from_workers[k % workers].recv() else { break };
            if let Err(e) = output.take(&mut done.found) {
                result = Err(e);
                break;
            }
            gathered.merge(done.gathered);
            stats.merge(done.stats);
            if done.stop.is_none() {
                progress(1, done_bytes + done.end);
            }
            let _ = backs[k % workers].send(done.found);
            if let Some(stop) = done.stop {
                result = Ok(Some(stop));
                break;
            }
        }
        // Workers and the reader stop at their next send.
        drop(from_workers);
        let panicked = handles.into_iter().map(|h| h.join().is_err()).fold(reader.join().is_err(), |a, b| a | b);
        if panicked && matches!(result, Ok(None)) {
            stats.notes.push("a reader thread panicked; the rows it read were not all audited".into());
        }
        result
    })
}

/// The first pass over the rest of a file in order: parse on a reader thread, detect on this
/// one (batches recycled, so memory stays flat). A CSV that breaks partway stops the pass with a
/// note; the rows before the break are kept.
fn in_order(
    reader: searches::SearchReader<std::io::BufReader<std::fs::File>>,
    cx: &FileContext,
    output: &mut Output,
    progress: Progress<'_>,
    done_bytes: u64,
) -> std::io::Result<(Gathered, ImportStats)> {
    let mut gathered = Gathered::new(cx);
    let mut scratch = Scratch::default();
    let mut result = Ok(());
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<Search>, usize, u64)>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<Search>>();
    let stats = std::thread::scope(|scope| {
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
                gathered.row(cx, &s.view(), &mut scratch, &mut |f| {
                    if result.is_ok() {
                        result = output.push(f);
                    }
                });
            }
            if result.is_err() {
                break;
            }
            progress(1, done_bytes + bytes);
            let _ = back_tx.send(batch);
        }
        parser.join().unwrap_or_else(|_| {
            let mut stats = ImportStats::default();
            stats.notes.push("the reader thread panicked".into());
            stats
        })
    });
    result.map(|()| (gathered, stats))
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
