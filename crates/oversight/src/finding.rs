//! Findings: what a detector found, on which record, with the evidence and the rule it applies.
//!
//! One schema for every `audit` command. JSON lines ([`Finding::write_json_line`]) write the
//! fields below by these names, leaving out those that are empty; CSV and Parquet write the flat
//! form ([`FLAT_COLUMNS`], [`Finding::flat`]), one row per finding:
//!
//! | field | meaning |
//! |---|---|
//! | `kind` | the detector ([`Kind`]) |
//! | `severity` | `high`, `medium` or `low` ([`Severity`]) |
//! | `rule` | the rule that fired (stable id, e.g. `search.vague_reason`) |
//! | `citation` | the law the rule applies in the audited agency's jurisdiction; empty for a practice concern |
//! | `record` | the record: a search ID, a message id, an intelligence record id, `#N DECISION` for a ledger entry (JSON lines: `record`, `message_id`, or `entry` and `decision_id`) |
//! | `agency` | the organisation whose act the record shows (a sharing list's sharing agency) |
//! | `counterparty` | a sharing list's recipient |
//! | `user` | the user the record names |
//! | `time` | when the record says it happened (ISO 8601; `Z` when the source gave the zone) |
//! | `file` | the source file; for a federation audit's finding, the origin of the hub's ledger |
//! | `line` | the 1-based line (or page) where the record starts; a ledger entry's index |
//! | `also_in` | other files holding the same record (JSON lines: `[{"file", "line"}]`; CSV and Parquet: `FILE:LINE; FILE:LINE`) |
//! | `evidence` | what in the record shows it (quoted text, counts), and "practice concern" where no statute applies |

use std::sync::Arc;

use serde::Serialize;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look in aggregate (habits, wording).
    Low,
    /// Needs an explanation from the agency.
    Medium,
    /// Shows, on its face, what the law forbids or a circumvention pattern.
    High,
}

impl Severity {
    /// "low", "medium" or "high".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// What kind of finding it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A reason, justification or email shows an immigration-enforcement purpose.
    ImmigrationPurpose,
    /// The originator (searching agency, email sender or copy) is federal or immigration enforcement.
    FederalOriginator,
    /// A reason too vague to audit ("investigation") with no case number or identifier.
    VagueReason,
    /// A search across many networks or cameras.
    WideSearch,
    /// A search at an hour the officer almost never searches.
    OffHours,
    /// Many searches by one officer within a few minutes.
    Burst,
    /// Protected activity (protest, religion, abortion) given as the purpose.
    ProtectedActivity,
    /// ALPR data shared with a recipient the law forbids (out of state, federal).
    ForbiddenSharing,
    /// Data reaching a recipient through a vendor or a non-agency account.
    VendorPassThrough,
    /// A name the agency directory could not resolve (reported, never guessed).
    UnresolvedAgency,
    /// A sender that is not an email address (e.g. an Exchange X.500 address).
    NonEmailSender,
    /// Criminal intelligence information held past its retention limit without review.
    RetentionExceeded,
    /// Immigration enforcement reaching local data around the checkpoint (ledger).
    SideDoor,
    /// A user denied repeatedly on one subject, then permitted (ledger).
    RetryUntilPermitted,
    /// Official business sent from or to a personal mail account (gmail.com, yahoo.com, ...).
    PersonalAccount,
    /// A user whose search volume, width or share of searches without a case number stands far
    /// above their organisation's peers (robust z-score).
    OutlierUser,
    /// One plate searched by many distinct users or organisations within a short window.
    PlateManyUsers,
    /// An organisation's searches with a sensitive purpose (immigration, reproductive care),
    /// counted per organisation.
    SensitivePurpose,
    /// A search the vendor's moderation blocked: an attempted search.
    ModerationBlocked,
    /// A sharing-list row that contradicts the source agency's own published policy (for example
    /// "no immigration enforcement", "only Kent Police officers"): a practice concern.
    PolicyContradiction,
    /// A request one hub's ledger says went to or came from a peer hub that the peer's ledger
    /// does not hold (federation audit).
    UnmatchedHop,
    /// A forwarded request logged differently by the two hubs, or changed by a relay (federation
    /// audit).
    ChainMismatch,
    /// A peer's receipt that does not name the peer's entry for the request (federation audit).
    ReceiptMismatch,
    /// A subject denied on one hub, then asked directly on another (federation audit).
    DeniedElsewhere,
}

impl Kind {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImmigrationPurpose => "immigration_purpose",
            Self::FederalOriginator => "federal_originator",
            Self::VagueReason => "vague_reason",
            Self::WideSearch => "wide_search",
            Self::OffHours => "off_hours",
            Self::Burst => "burst",
            Self::ProtectedActivity => "protected_activity",
            Self::ForbiddenSharing => "forbidden_sharing",
            Self::VendorPassThrough => "vendor_pass_through",
            Self::UnresolvedAgency => "unresolved_agency",
            Self::NonEmailSender => "non_email_sender",
            Self::RetentionExceeded => "retention_exceeded",
            Self::SideDoor => "side_door",
            Self::RetryUntilPermitted => "retry_until_permitted",
            Self::PersonalAccount => "personal_account",
            Self::OutlierUser => "outlier_user",
            Self::PlateManyUsers => "plate_many_users",
            Self::SensitivePurpose => "sensitive_purpose",
            Self::ModerationBlocked => "moderation_blocked",
            Self::PolicyContradiction => "policy_contradiction",
            Self::UnmatchedHop => "unmatched_hop",
            Self::ChainMismatch => "chain_mismatch",
            Self::ReceiptMismatch => "receipt_mismatch",
            Self::DeniedElsewhere => "denied_elsewhere",
        }
    }
}

/// The record a finding rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Subject {
    /// A row of a search audit, by its search ID.
    Search {
        /// The search's ID as the export gives it.
        record: String,
    },
    /// A message of an email production.
    Email {
        /// The Message-ID header (without its angle brackets), or a stable id where the export
        /// has none (`row-N` in an Outlook CSV export, `FILE:LINE` in an mbox or `.eml` file).
        message_id: String,
    },
    /// A record of a criminal intelligence system, by its id.
    Record {
        /// The record's id as the export gives it.
        record: String,
    },
    /// An entry of a hub's ledger.
    LedgerEntry {
        /// The entry's index in the ledger.
        entry: u64,
        /// The decision it records (or reviews).
        decision_id: String,
    },
    /// A row of a sharing list.
    Sharing {
        /// The agency whose data is shared (as written).
        agency: String,
        /// The agency given access (as written).
        counterparty: String,
    },
}

impl Subject {
    /// A one-line label for tables.
    pub fn label(&self) -> String {
        match self {
            Subject::Search { record } | Subject::Record { record } => record.clone(),
            Subject::Email { message_id } => message_id.clone(),
            Subject::Sharing { agency, counterparty } => format!("{agency} -> {counterparty}"),
            Subject::LedgerEntry { entry, decision_id } => format!("#{entry} {decision_id}"),
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was found.
    pub kind: Kind,
    /// How serious it is.
    pub severity: Severity,
    /// The record it rests on.
    #[serde(flatten)]
    pub subject: Subject,
    /// The 1-based line of the source file where the record starts (for a ledger entry, its
    /// index).
    pub line: u64,
    /// What in the record shows it (quoted text, counts).
    pub evidence: String,
    /// The detector rule that fired (stable id, e.g. `search.vague_reason`).
    pub rule: &'static str,
    /// The law, regulation or published standard the rule applies, when there is one.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub citation: &'static str,
    /// The organisation whose act the record shows (the searching organisation of a search
    /// audit, the requesting agency of a ledger entry, the agency of an intelligence record), as
    /// the record writes it; `None` where it names none, and for a sharing list's row, whose
    /// subject names it (`agency`; see [`Finding::agency_of`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The user the record names (the account of a search audit, the requester of a ledger
    /// entry), as the record writes it; `None` where it names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// When the record says it happened (ISO 8601; ending in `Z` when the source gave the
    /// zone, else in the export's unstated local time); `None` where it does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<crate::time::Timestamp>,
    /// The source file the record was read from (for a folder of `.eml` files, the file inside
    /// it); for a federation audit's ledger entry, the origin of the hub's ledger holding it;
    /// `None` for another ledger entry and where the caller gave no name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Arc<str>>,
    /// The other places the same record was read from, when several exports were audited at
    /// once and hold it (the same search in several agencies' network audits); the finding is
    /// reported once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<Location>,
}

/// A place in a source file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file.
    pub file: Arc<str>,
    /// The 1-based line where the record starts.
    pub line: u64,
}

/// The columns of a finding's flat form (CSV, Parquet), in order; `line` is a number, the rest
/// text (empty or null when the finding has none).
pub const FLAT_COLUMNS: [&str; 13] = [
    "kind",
    "severity",
    "rule",
    "citation",
    "record",
    "agency",
    "counterparty",
    "user",
    "time",
    "file",
    "line",
    "also_in",
    "evidence",
];

impl Finding {
    /// The finding's flat form, in the order of [`FLAT_COLUMNS`] (`None` for an empty field;
    /// `line` as decimal text): the cells of [`Finding::flat_cells`], owned.
    pub fn flat(&self) -> [Option<String>; 13] {
        let mut cells: [Option<String>; 13] = Default::default();
        self.flat_cells(&mut String::new(), &mut |i, cell| cells[i] = cell.map(str::to_owned));
        cells
    }

    /// The finding's flat form cell by cell: `each(i, cell)` for column `i` of [`FLAT_COLUMNS`],
    /// in order (`None` for an empty field), without a `String` per cell; the cells that are
    /// formatted (the time, the line, the other files) are written in `scratch` first.
    pub fn flat_cells(&self, scratch: &mut String, each: &mut dyn FnMut(usize, Option<&str>)) {
        use std::fmt::Write as _;
        each(0, Some(self.kind.as_str()));
        each(1, Some(self.severity.as_str()));
        each(2, Some(self.rule));
        each(3, Some(self.citation).filter(|c| !c.is_empty()));
        scratch.clear();
        let record = match &self.subject {
            Subject::Search { record } | Subject::Record { record } => Some(record.as_str()),
            Subject::Email { message_id } => Some(message_id.as_str()),
            // A sharing list's row names its agency and counterparty, no record.
            Subject::Sharing { .. } => None,
            Subject::LedgerEntry { .. } => {
                scratch.push_str(&self.subject.label());
                Some(scratch.as_str())
            }
        };
        each(4, record);
        each(5, self.agency_of());
        let counterparty = match &self.subject {
            Subject::Sharing { counterparty, .. } => Some(counterparty.as_str()),
            _ => None,
        };
        each(6, counterparty);
        each(7, self.user.as_deref());
        scratch.clear();
        let time = self.time.map(|t| {
            push_iso(scratch, t);
            scratch.as_str()
        });
        each(8, time);
        each(9, self.file.as_deref());
        scratch.clear();
        scratch.extend(decimal(self.line, &mut [0u8; 20]).iter().map(|&d| char::from(d)));
        each(10, Some(scratch));
        scratch.clear();
        for (i, l) in self.also_in.iter().enumerate() {
            let _ = write!(scratch, "{}{}:{}", if i > 0 { "; " } else { "" }, l.file, l.line);
        }
        each(11, Some(scratch.as_str()).filter(|s| !s.is_empty()));
        each(12, Some(&self.evidence));
    }

    /// The organisation the finding is about: [`Finding::agency`], or a sharing list row's
    /// agency.
    pub fn agency_of(&self) -> Option<&str> {
        match &self.subject {
            Subject::Sharing { agency, .. } => Some(agency),
            _ => self.agency.as_deref(),
        }
    }

    /// The finding, borrowed (what [`FindingRef::write_json_line`] writes).
    pub fn view(&self) -> FindingRef<'_> {
        FindingRef {
            kind: self.kind,
            severity: self.severity,
            subject: &self.subject,
            line: self.line,
            evidence: &self.evidence,
            rule: self.rule,
            citation: self.citation,
            agency: self.agency.as_deref(),
            user: self.user.as_deref(),
            time: self.time,
            file: self.file.as_ref(),
            also_in: &self.also_in,
        }
    }

    /// Writes the finding as one line of JSON (with its newline): the same bytes as
    /// `serde_json::to_writer` followed by `\n`, without going through serde's generic map
    /// serializer (the `--format jsonl` output of a large audit is mostly this).
    pub fn write_json_line(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        self.view().write_json_line(w)
    }
}

/// A [`Finding`] whose text is borrowed: what a detector that formats its evidence into a buffer
/// of its own hands over, so that a finding written straight out (JSON lines) is never
/// allocated. [`FindingRef::to_finding`] makes the owned one.
#[derive(Clone, Copy, Debug)]
pub struct FindingRef<'a> {
    /// What was found.
    pub kind: Kind,
    /// How serious it is.
    pub severity: Severity,
    /// The record it rests on.
    pub subject: &'a Subject,
    /// As [`Finding::line`].
    pub line: u64,
    /// As [`Finding::evidence`].
    pub evidence: &'a str,
    /// As [`Finding::rule`].
    pub rule: &'static str,
    /// As [`Finding::citation`].
    pub citation: &'static str,
    /// As [`Finding::agency`].
    pub agency: Option<&'a str>,
    /// As [`Finding::user`].
    pub user: Option<&'a str>,
    /// As [`Finding::time`].
    pub time: Option<crate::time::Timestamp>,
    /// As [`Finding::file`].
    pub file: Option<&'a Arc<str>>,
    /// As [`Finding::also_in`].
    pub also_in: &'a [Location],
}

impl FindingRef<'_> {
    /// As [`Finding::agency_of`].
    pub fn agency_of(&self) -> Option<&str> {
        match self.subject {
            Subject::Sharing { agency, .. } => Some(agency),
            _ => self.agency,
        }
    }

    /// The owned finding.
    pub fn to_finding(&self) -> Finding {
        Finding {
            kind: self.kind,
            severity: self.severity,
            subject: self.subject.clone(),
            line: self.line,
            evidence: self.evidence.to_owned(),
            rule: self.rule,
            citation: self.citation,
            agency: self.agency.map(str::to_owned),
            user: self.user.map(str::to_owned),
            time: self.time,
            file: self.file.cloned(),
            also_in: self.also_in.to_vec(),
        }
    }

    /// [`Finding::write_json_line`] of the owned finding.
    pub fn write_json_line(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        thread_local! {
            static LINE: std::cell::RefCell<(Vec<u8>, JsonPieces)> = std::cell::RefCell::default();
        }
        LINE.with_borrow_mut(|(line, pieces)| {
            line.clear();
            self.push_json_line_with(line, pieces);
            w.write_all(line)
        })
    }

    /// Appends what [`FindingRef::write_json_line`] writes to `out`, taking the pieces that
    /// repeat from finding to finding (kind, severity, rule and citation; agency; file; the
    /// day's date) from `pieces`, escaped once (where a large audit's JSON lines are gathered,
    /// a chunk's at a time).
    pub fn push_json_line_with(&self, out: &mut Vec<u8>, pieces: &mut JsonPieces) {
        let rule = pieces.rule(self);
        out.extend_from_slice(&pieces.rules[rule].1);
        match self.subject {
            Subject::Search { record } | Subject::Record { record } => {
                out.extend_from_slice(b"\"record\":");
                json_str(out, record);
            }
            Subject::Email { message_id } => {
                out.extend_from_slice(b"\"message_id\":");
                json_str(out, message_id);
            }
            Subject::LedgerEntry { entry, decision_id } => {
                out.extend_from_slice(b"\"entry\":");
                json_u64(out, *entry);
                out.extend_from_slice(b",\"decision_id\":");
                json_str(out, decision_id);
            }
            Subject::Sharing { agency, counterparty } => {
                out.extend_from_slice(b"\"agency\":");
                json_str(out, agency);
                out.extend_from_slice(b",\"counterparty\":");
                json_str(out, counterparty);
            }
        }
        out.extend_from_slice(b",\"line\":");
        json_u64(out, self.line);
        out.extend_from_slice(b",\"evidence\":");
        json_str(out, self.evidence);
        out.extend_from_slice(&pieces.rules[rule].2);
        if let Some(v) = self.agency {
            out.extend_from_slice(pieces.agency(v));
        }
        if let Some(v) = self.user {
            out.extend_from_slice(b",\"user\":");
            json_str(out, v);
        }
        if let Some(t) = self.time {
            json_time(out, t, &mut pieces.day);
        }
        if let Some(file) = self.file {
            out.extend_from_slice(pieces.file(file));
        }
        if !self.also_in.is_empty() {
            out.extend_from_slice(b",\"also_in\":[");
            for (i, l) in self.also_in.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"{\"file\":" } else { b",{\"file\":" });
                json_str(out, &l.file);
                out.extend_from_slice(b",\"line\":");
                json_u64(out, l.line);
                out.push(b'}');
            }
            out.push(b']');
        }
        out.extend_from_slice(b"}\n");
    }
}

/// The pieces of JSON lines that repeat from finding to finding, escaped once and kept (see
/// [`FindingRef::push_json_line_with`]): per kind, severity, rule and citation the line's head
/// (`{"kind":…,"severity":…,`) and its `,"rule":…,"citation":…`; the last agency's
/// `,"agency":…`; the last file's `,"file":…`; the date of the last day written.
#[derive(Default)]
pub struct JsonPieces {
    /// (kind, severity, rule, citation) with the head and the rule part; rules and citations
    /// are static text, told apart by address and length.
    rules: Vec<(RuleKey, Vec<u8>, Vec<u8>)>,
    agency: (String, Vec<u8>),
    file: Option<(Arc<str>, Vec<u8>)>,
    /// The last day written (days since 1970-01-01) and its date.
    day: Option<(i64, (i64, u32, u32))>,
}

type RuleKey = (Kind, Severity, (usize, usize), (usize, usize));

impl JsonPieces {
    /// Pieces kept per rule at most; then they are made afresh.
    const RULES_KEPT: usize = 64;

    /// The index in `rules` of the pieces of `f`'s rule.
    fn rule(&mut self, f: &FindingRef) -> usize {
        let text = |s: &'static str| (s.as_ptr() as usize, s.len());
        let key = (f.kind, f.severity, text(f.rule), text(f.citation));
        match self.rules.iter().position(|(k, ..)| *k == key) {
            Some(at) => at,
            None => {
                if self.rules.len() >= Self::RULES_KEPT {
                    self.rules.clear();
                }
                let mut head = b"{\"kind\":\"".to_vec();
                head.extend_from_slice(f.kind.as_str().as_bytes());
                head.extend_from_slice(b"\",\"severity\":\"");
                head.extend_from_slice(f.severity.as_str().as_bytes());
                head.extend_from_slice(b"\",");
                let mut rule = b",\"rule\":".to_vec();
                json_str(&mut rule, f.rule);
                if !f.citation.is_empty() {
                    rule.extend_from_slice(b",\"citation\":");
                    json_str(&mut rule, f.citation);
                }
                self.rules.push((key, head, rule));
                self.rules.len() - 1
            }
        }
    }

    fn agency(&mut self, agency: &str) -> &[u8] {
        if self.agency.1.is_empty() || self.agency.0 != agency {
            self.agency.0.clear();
            self.agency.0.push_str(agency);
            self.agency.1.clear();
            self.agency.1.extend_from_slice(b",\"agency\":");
            json_str(&mut self.agency.1, agency);
        }
        &self.agency.1
    }

    fn file(&mut self, file: &Arc<str>) -> &[u8] {
        if !self.file.as_ref().is_some_and(|(f, _)| Arc::ptr_eq(f, file)) {
            let mut json = b",\"file\":".to_vec();
            json_str(&mut json, file);
            self.file = Some((file.clone(), json));
        }
        self.file.as_ref().map_or(&[], |(_, json)| json)
    }
}

/// `,"time":"…"` as [`crate::time::Timestamp`]'s `Display` writes it, without the formatting
/// machinery for the years 0-9999 (a large audit writes one per finding).
fn json_time(out: &mut Vec<u8>, t: crate::time::Timestamp, last: &mut Option<(i64, (i64, u32, u32))>) {
    // Findings come in runs of one day: its date is kept (`last`).
    let day = t.seconds().div_euclid(86_400);
    let (y, mo, d) = match *last {
        Some((d, date)) if d == day => date,
        _ => last.insert((day, t.date())).1,
    };
    let year = match u32::try_from(y) {
        Ok(year) if year <= 9999 => year,
        _ => {
            use std::io::Write as _;
            // Writing to a Vec does not fail.
            let _ = write!(out, ",\"time\":\"{t}\"");
            return;
        }
    };
    let mut b = *b",\"time\":\"0000-00-00T00:00:00Z\"";
    put_iso(&mut b[9..28], (year, mo, d), t);
    if t.zone_known {
        out.extend_from_slice(&b);
    } else {
        out.extend_from_slice(&b[..28]);
        out.push(b'"');
    }
}

/// `t` as [`crate::time::Timestamp`]'s `Display` writes it, onto `out`, without the formatting
/// machinery for the years 0-9999.
fn push_iso(out: &mut String, t: crate::time::Timestamp) {
    use std::fmt::Write as _;
    let (y, mo, d) = t.date();
    match u32::try_from(y) {
        Ok(year) if year <= 9999 => {
            let mut b = *b"0000-00-00T00:00:00Z";
            put_iso(&mut b[..19], (year, mo, d), t);
            let n = if t.zone_known { 20 } else { 19 };
            out.push_str(std::str::from_utf8(&b[..n]).unwrap_or_default());
        }
        _ => {
            let _ = write!(out, "{t}");
        }
    }
}

/// The digits of a date in the years 0-9999 and of `t`'s time of day, into `b` laid out as
/// `0000-00-00T00:00:00`.
fn put_iso(b: &mut [u8], (year, mo, d): (u32, u32, u32), t: crate::time::Timestamp) {
    let s = t.seconds().rem_euclid(86_400) as u32;
    let mut put = |at: usize, n: u32| b[at..at + 2].copy_from_slice(pair(n));
    put(0, year / 100);
    put(2, year % 100);
    put(5, mo);
    put(8, d);
    put(11, s / 3600);
    put(14, s / 60 % 60);
    put(17, s % 60);
}

fn json_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(decimal(n, &mut [0u8; 20]));
}

/// The two decimal digits of `n` (below 100).
fn pair(n: u32) -> &'static [u8] {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let n = (n % 100) as usize;
    &PAIRS[2 * n..2 * n + 2]
}

/// `n` in decimal (ASCII digits), written into `digits` two at a time, without the formatting
/// machinery.
pub(crate) fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut i = digits.len();
    while n >= 100 {
        i -= 2;
        digits[i..i + 2].copy_from_slice(pair((n % 100) as u32));
        n /= 100;
    }
    if n >= 10 {
        i -= 2;
        digits[i..i + 2].copy_from_slice(pair(n as u32));
    } else {
        i -= 1;
        digits[i] = b'0' + n as u8;
    }
    &digits[i..]
}

/// A JSON string as serde_json writes it: `"` and `\` escaped, control characters as `\n`, `\t`,
/// ... or `\u00XX`, everything else (all of Unicode) as is.
fn json_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.push(b'"');
    let mut start = 0;
    while let Some(i) = crate::scan::copy_to_escape(out, b, start) {
        let c = b[i];
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let unicode = [b'\\', b'u', b'0', b'0', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]];
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => &unicode,
        };
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_serde_json_byte_for_byte() {
        let subjects = [
            Subject::Search { record: "a\"b\\c".into() },
            Subject::Record { record: "R1".into() },
            Subject::Email { message_id: "m1@x".into() },
            Subject::Email { message_id: "m2@x".into() },
            Subject::Sharing { agency: "Chino PD (CA)".into(), counterparty: "ICE\tHSI".into() },
            Subject::LedgerEntry { entry: 42, decision_id: "d-\"1\"".into() },
        ];
        for (i, subject) in subjects.into_iter().enumerate() {
            let f = Finding {
                kind: Kind::ImmigrationPurpose,
                severity: Severity::High,
                subject,
                line: [0, 7, 1_234_567, u64::MAX, 10, 3][i],
                evidence: "reason \"ICE\u{1}\u{1f}\u{7f} é — \r\n\u{8}\u{c}\" / end".into(),
                rule: "search.immigration_purpose",
                citation: if i % 2 == 0 { "" } else { "Cal. Civ. Code § 1798.90.55(b)" },
                agency: (i % 3 != 0 && i != 4).then(|| "Texas DPS \"Region\" 3\u{1}".to_string()),
                user: (i % 2 == 0).then(|| "ofc. ñ\t12".to_string()),
                time: (i % 4 != 1)
                    .then_some(crate::time::Timestamp { millis: 1_750_000_000_123, zone_known: i % 2 == 0 }),
                file: (i % 2 == 1).then(|| Arc::from("a/0 \"1\".eml")),
                also_in: if i == 3 {
                    vec![Location { file: "b.csv".into(), line: 9 }, Location { file: "c\\d.csv".into(), line: 1 }]
                } else {
                    Vec::new()
                },
            };
            let mut ours = Vec::new();
            f.write_json_line(&mut ours).unwrap();
            let mut theirs = serde_json::to_vec(&f).unwrap();
            theirs.push(b'\n');
            assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
        }
    }

    /// Findings written one after another with the same [`JsonPieces`] (rules, citations,
    /// agencies and files that change, repeat and come back) are what serde_json writes.
    #[test]
    fn json_lines_with_kept_pieces_are_serde_json_byte_for_byte() {
        let files: [Arc<str>; 3] = [Arc::from("a.csv"), Arc::from("b \"2\".csv"), Arc::from("a.csv")];
        let mut pieces = JsonPieces::default();
        let mut out = Vec::new();
        let mut expected = Vec::new();
        for i in 0..200 {
            let f = Finding {
                kind: [Kind::VagueReason, Kind::WideSearch, Kind::ImmigrationPurpose][i % 3],
                severity: [Severity::Low, Severity::Medium, Severity::High, Severity::Low][i % 4],
                subject: Subject::Search { record: format!("s{i}") },
                line: i as u64 + 2,
                evidence: format!("reason \"bolo {i}\""),
                rule: ["search.vague_reason", "search.wide", "search.immigration_purpose", "a\"b"][i % 4],
                citation: ["", "Cal. Civ. Code § 1798.90.55(b)", "Fla. \"Stat.\""][i % 3],
                agency: (i % 5 != 0).then(|| ["Okaloosa County FL SO", "Texas DPS \"3\""][i / 7 % 2].to_string()),
                user: None,
                time: None,
                file: (i % 6 != 0).then(|| files[i / 11 % 3].clone()),
                also_in: Vec::new(),
            };
            f.view().push_json_line_with(&mut out, &mut pieces);
            expected.extend(serde_json::to_vec(&f).unwrap());
            expected.push(b'\n');
        }
        assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(expected).unwrap());
    }

    /// The flat form, cell by cell: the owned cells (what CSV and Parquet write) are the fields
    /// as `Display` and `to_string` write them, for every kind of subject.
    #[test]
    fn flat_cells_are_the_fields_as_text() {
        let t = crate::time::Timestamp { millis: 1_750_000_000_123, zone_known: false };
        let subjects = [
            (Subject::Search { record: "s1".into() }, Some("s1"), None),
            (Subject::Email { message_id: "m@x".into() }, Some("m@x"), None),
            (Subject::Sharing { agency: "Chino PD".into(), counterparty: "ICE".into() }, None, Some("ICE")),
            (Subject::LedgerEntry { entry: 42, decision_id: "d-1".into() }, Some("#42 d-1"), None),
        ];
        for (i, (subject, record, counterparty)) in subjects.into_iter().enumerate() {
            let f = Finding {
                kind: Kind::WideSearch,
                severity: Severity::Medium,
                subject,
                line: [0, 7, 1_234_567, u64::MAX][i],
                evidence: "searched 6586 networks".into(),
                rule: "search.wide",
                citation: if i % 2 == 0 { "" } else { "Cal. Civ. Code § 1798.90.55(b)" },
                agency: (i == 1).then(|| "Texas DPS".to_string()),
                user: (i % 2 == 0).then(|| "ofc. 12".to_string()),
                time: (i != 2).then_some(t),
                file: (i % 2 == 1).then(|| Arc::from("a.csv")),
                also_in: if i == 3 {
                    vec![Location { file: "b.csv".into(), line: 9 }, Location { file: "c.csv".into(), line: 1 }]
                } else {
                    Vec::new()
                },
            };
            let s = |v: Option<&str>| v.map(str::to_owned);
            let expected = [
                s(Some("wide_search")),
                s(Some("medium")),
                s(Some("search.wide")),
                s(Some(f.citation).filter(|c| !c.is_empty())),
                s(record),
                s(if i == 2 { Some("Chino PD") } else { f.agency.as_deref() }),
                s(counterparty),
                f.user.clone(),
                f.time.map(|t| t.to_string()),
                f.file.as_deref().map(str::to_owned),
                Some(f.line.to_string()),
                (i == 3).then(|| "b.csv:9; c.csv:1".to_owned()),
                s(Some("searched 6586 networks")),
            ];
            assert_eq!(f.flat(), expected, "subject {i}");
        }
    }

    /// Times written without the formatting machinery are what `Display` writes, in every year
    /// it covers and outside them.
    #[test]
    fn iso_times_are_what_display_writes() {
        let day = 86_400_000;
        for millis in [
            0,
            1,
            -1,
            59_999,
            1_750_000_000_123,
            253_402_300_799_000,
            253_402_300_800_000,
            -62_167_219_200_000,
            -62_167_219_200_001,
        ]
        .into_iter()
        .chain((-3_000..3_000).map(|k| k * 37 * day + k * 1_234_567))
        {
            for zone_known in [false, true] {
                let t = crate::time::Timestamp { millis, zone_known };
                let mut ours = String::new();
                push_iso(&mut ours, t);
                assert_eq!(ours, t.to_string(), "{millis}");
            }
        }
    }

    #[test]
    fn decimal_writes_what_to_string_writes() {
        for n in (0..100_000).chain([u64::MAX, u64::MAX / 10, 1 << 40, 10_u64.pow(19), 10_u64.pow(19) - 1]) {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }

    /// Strings of every length up to 40, with an escaped byte (or none) at every position and
    /// after a first one, are written as serde_json writes them.
    #[test]
    fn strings_of_every_length_are_escaped_as_serde_json_does() {
        for len in 0..40 {
            for at in 0..=len {
                for c in ['"', '\\', '\n', '\u{1}', '\u{1f}', ' ', '\u{7f}', 'é'] {
                    let mut text: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789ABCD".chars().take(len).collect();
                    if at < len {
                        text[at] = c;
                        if at + 3 < len {
                            text[at + 3] = '"';
                        }
                    }
                    let text: String = text.into_iter().collect();
                    let mut ours = Vec::new();
                    json_str(&mut ours, &text);
                    assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&text).unwrap(), "{text:?}");
                }
            }
        }
    }
}
