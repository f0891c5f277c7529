//! Insider misuse and side doors in a search audit, after the Minnesota Office of the Legislative
//! Auditor's 2013 review of driver-record lookups: users far above their organisation's peers,
//! one plate searched by many users or organisations, sensitive purposes per organisation,
//! federal agencies named in the organisation column, searches the vendor's moderation blocked,
//! and the time zone every time-of-day finding assumes.
//!
//! The per-search checks ([`federal_agency_name`], [`moderation_blocked`]) run in
//! [`crate::search_audit::detect_row`]; the aggregates ([`Insider`]) take one row at a time while
//! the file streams and report once it has been read.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::finding::{Finding, Kind, Severity, Subject};
use crate::searches::SearchRef;
use crate::time::Timestamp;

/// The robust z-score above which a user is an outlier (Iglewicz and Hoaglin's 3.5, on the
/// modified z-score `0.6745 (x - median) / MAD`).
pub const OUTLIER_Z: f64 = 3.5;

/// A fixed offset from UTC that the `--tz` option names (`-06:00`, `+0530`, `UTC`). IANA names
/// (`America/Chicago`) are not read: that needs a time-zone database this crate does not carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Minutes east of UTC.
    pub offset_minutes: i32,
}

impl Zone {
    /// Parses `UTC`, `Z`, `GMT`, `±HH:MM`, `±HHMM` or `±HH` (also after `UTC`, as in `UTC-06:00`).
    /// An IANA name is an error that says only fixed offsets are read.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let t = text.trim();
        let upper = t.to_ascii_uppercase();
        let rest = upper.strip_prefix("UTC").or_else(|| upper.strip_prefix("GMT")).unwrap_or(&upper);
        if rest.is_empty() || rest == "Z" {
            return Ok(Zone { offset_minutes: 0 });
        }
        let bad = || {
            format!(
                "time zone {t:?}: only fixed offsets are read (UTC, -06:00, +0530); IANA names such as America/Chicago need a time-zone database this build does not carry"
            )
        };
        let (sign, digits) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return Err(bad()),
        };
        let digits: String = digits.chars().filter(|&c| c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 1 | 2 | 4) {
            return Err(bad());
        }
        let (h, m) = if digits.len() == 4 { digits.split_at(2) } else { (digits.as_str(), "0") };
        let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 14 || m > 59 {
            return Err(bad());
        }
        Ok(Zone { offset_minutes: sign * (h * 60 + m) })
    }

    /// `+HH:MM` / `-HH:MM`.
    pub fn offset(&self) -> String {
        let m = self.offset_minutes.abs();
        format!("{}{:02}:{:02}", if self.offset_minutes < 0 { '-' } else { '+' }, m / 60, m % 60)
    }
}

/// The zone the time-of-day detectors assume for a time, in words for the evidence: UTC when the
/// export writes a zone, else the export's unstated local time, or the `--tz` zone.
pub fn zone_note(t: Timestamp, tz: Option<&Zone>) -> String {
    match (t.zone_known, tz) {
        (true, None) => "times in UTC (the export writes the zone)".to_owned(),
        (true, Some(z)) => format!("times in UTC{} (--tz; the export writes UTC)", z.offset()),
        (false, None) => "times in the export's local time, zone not stated".to_owned(),
        (false, Some(z)) => format!("times in the export's local time, taken as UTC{} (--tz)", z.offset()),
    }
}

/// A time as the evidence shows it: converted to the `--tz` offset (and suffixed with it) when
/// the export wrote UTC, suffixed with the `--tz` offset when it wrote local time, else as
/// [`Timestamp`]'s `Display`.
pub fn show_time(t: Timestamp, tz: Option<&Zone>) -> String {
    match tz {
        None => t.to_string(),
        Some(z) => {
            let shift = if t.zone_known { i64::from(z.offset_minutes) * 60_000 } else { 0 };
            let local = Timestamp { millis: t.millis + shift, zone_known: false };
            format!("{local}{}", z.offset())
        }
    }
}

/// The hour of day of `t` as [`show_time`] shows it.
pub fn show_hour(t: Timestamp, tz: Option<&Zone>) -> u8 {
    match tz {
        Some(z) if t.zone_known => Timestamp { millis: t.millis + i64::from(z.offset_minutes) * 60_000, ..t }.hour(),
        _ => t.hour(),
    }
}

/// Federal agencies recognised by name in an organisation column (whole words, case ignored):
/// (phrase, label, immigration enforcement).
pub const FEDERAL_NAMES: &[(&str, &str, bool)] = &[
    ("ice", "ICE", true),
    ("immigration and customs enforcement", "ICE", true),
    ("ero", "ICE ERO", true),
    ("hsi", "HSI", true),
    ("homeland security investigations", "HSI", true),
    ("cbp", "CBP", true),
    ("customs and border protection", "CBP", true),
    ("border patrol", "Border Patrol", true),
    ("uscis", "USCIS", true),
    ("dhs", "DHS", true),
    ("department of homeland security", "DHS", true),
    ("fbi", "FBI", false),
    ("federal bureau of investigation", "FBI", false),
    ("dea", "DEA", false),
    ("drug enforcement administration", "DEA", false),
    ("atf", "ATF", false),
    ("us marshals", "US Marshals", false),
    ("u s marshals", "US Marshals", false),
    ("united states marshals", "US Marshals", false),
    ("usms", "US Marshals", false),
    ("secret service", "Secret Service", false),
    ("ncis", "NCIS", false),
    ("afosi", "AFOSI", false),
];

/// The federal agency an organisation's name names (by [`FEDERAL_NAMES`]): its label and whether
/// it enforces immigration law. (The search-audit detectors keep the last organisation's answer:
/// exports list one organisation over many rows.)
pub fn federal_agency_name(org: &str) -> Option<(&'static str, bool)> {
    let lower = org.to_ascii_lowercase();
    let tokens: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
    FEDERAL_NAMES.iter().find_map(|&(phrase, label, imm)| {
        let p: Vec<&str> = phrase.split(' ').collect();
        tokens.windows(p.len()).any(|w| w == p.as_slice()).then_some((label, imm))
    })
}

/// Whether a `Moderation` cell says the vendor blocked the search (`block`, `blocked`, `deny`,
/// `denied`, `reject`, `rejected`, case ignored). `warn` and `allow` are not blocks.
pub fn moderation_blocked(cell: &str) -> bool {
    ["block", "blocked", "deny", "denied", "reject", "rejected"].iter().any(|w| cell.trim().eq_ignore_ascii_case(w))
}

/// Statutes by state for the organisation-level purpose findings: (state, immigration citation,
/// reproductive-care citation). Only cited when `--state` names the audited agency's state.
const STATE_CITATIONS: &[(&str, &str, &str)] = &[
    ("CA", "Cal. Gov. Code § 7284.6(a)(1); Cal. Civ. Code § 1798.90.55(b)", "Cal. Penal Code § 13778.2"),
    ("OR", "Or. Rev. Stat. § 181A.820", ""),
    ("IL", "625 ILCS 5/2-130", "625 ILCS 5/2-130"),
];

/// The statute a purpose finding cites in `state` (two-letter code), or "" (then the evidence says
/// "practice concern").
pub fn purpose_citation(state: Option<&str>, purpose: Purpose) -> &'static str {
    let Some(state) = state else { return "" };
    STATE_CITATIONS
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(state))
        .map(|&(_, imm, repro)| match purpose {
            Purpose::Immigration => imm,
            Purpose::ReproductiveCare => repro,
        })
        .unwrap_or("")
}

/// A sensitive purpose counted per organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Immigration enforcement (the justification classifier's strong signal).
    Immigration,
    /// Reproductive health care (abortion, "reproductive", Planned Parenthood).
    ReproductiveCare,
}

impl Purpose {
    fn words(self) -> &'static str {
        match self {
            Purpose::Immigration => "an immigration purpose",
            Purpose::ReproductiveCare => "a reproductive-care purpose",
        }
    }
}

/// What the per-search detectors learned about one row, for the aggregates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowFacts {
    /// The search gives a case number (a column, or an identifier in the reason).
    pub has_case: bool,
    /// The reason shows an immigration purpose (strong signal).
    pub immigration: bool,
    /// The reason names reproductive health care.
    pub reproductive: bool,
}

/// Thresholds of the aggregate detectors.
#[derive(Clone, Debug)]
pub struct InsiderRules {
    /// An organisation needs at least this many users for any of them to be an outlier.
    pub min_peers: usize,
    /// A user needs at least this many searches for their share of no-case-number searches to
    /// be compared.
    pub min_searches_for_share: u32,
    /// Window of the many-users-one-plate detector, in hours.
    pub plate_window_hours: i64,
    /// Distinct users searching one plate within the window that make a finding.
    pub plate_min_users: usize,
    /// Distinct organisations searching one plate within the window that make a finding.
    pub plate_min_orgs: usize,
    /// The audited agency's state (two letters), for citations; `None`: no statute cited.
    pub state: Option<String>,
}

impl Default for InsiderRules {
    fn default() -> Self {
        Self {
            min_peers: 5,
            min_searches_for_share: 5,
            plate_window_hours: 24,
            plate_min_users: 5,
            plate_min_orgs: 3,
            state: None,
        }
    }
}

/// The row a finding is pinned to: the first (or the triggering) search.
#[derive(Clone, Debug)]
struct Pin {
    id: String,
    file: Option<Arc<str>>,
    line: u64,
    org: Option<String>,
    user: Option<String>,
    time: Option<Timestamp>,
}

impl Pin {
    fn of(s: &SearchRef, file: &Option<Arc<str>>) -> Pin {
        Pin {
            id: s.id.to_owned(),
            file: file.clone(),
            line: s.line,
            org: s.org.map(str::to_owned),
            user: s.user.map(str::to_owned),
            time: s.time,
        }
    }
    fn finding(
        &self,
        kind: Kind,
        severity: Severity,
        evidence: String,
        rule: &'static str,
        citation: &'static str,
    ) -> Finding {
        Finding {
            kind,
            severity,
            subject: Subject::Search { record: self.id.clone() },
            line: self.line,
            evidence,
            rule,
            citation,
            agency: self.org.clone(),
            user: self.user.clone(),
            time: self.time,
            file: self.file.clone(),
            also_in: Vec::new(),
        }
    }
}

#[derive(Default)]
struct UserTally {
    first: Option<Pin>,
    searches: u32,
    no_case: u32,
    devices: (u64, u32),
    networks: (u64, u32),
}

struct OrgPurpose {
    first: Pin,
    count: u32,
    lines: Vec<u64>,
}

struct PlateEvent {
    millis: i64,
    user: Option<String>,
    org: Option<String>,
    pin: Pin,
}

/// The aggregate detectors' state: per organisation and user, per organisation and purpose, per
/// plate. Push every kept search once ([`Insider::push`]), then [`Insider::finish`].
#[derive(Default)]
pub struct Insider {
    users: HashMap<String, HashMap<String, UserTally>>,
    purposes: Vec<((String, Purpose), OrgPurpose)>,
    plates: HashMap<String, Vec<PlateEvent>>,
    org_column: bool,
    file: Option<Arc<str>>,
}

impl Insider {
    /// A new state; `org_column` says whether the export has an organisation column (without one,
    /// the export is one organisation's and every user is a peer of every other).
    pub fn new(org_column: bool) -> Self {
        Self { org_column, ..Default::default() }
    }

    /// The file the searches pushed next come from (findings pinned to them name it).
    pub fn set_file(&mut self, file: Arc<str>) {
        self.file = Some(file);
    }

    /// Counts one kept search with what the per-search detectors learned about it.
    pub fn push(&mut self, s: &SearchRef, facts: RowFacts) {
        let org = s.org.unwrap_or("");
        if let Some(user) = s.user {
            let org_map = match self.users.get_mut(org) {
                Some(m) => m,
                None => self.users.entry(org.to_owned()).or_default(),
            };
            let u = match org_map.get_mut(user) {
                Some(u) => u,
                None => org_map.entry(user.to_owned()).or_default(),
            };
            if u.first.is_none() {
                u.first = Some(Pin::of(s, &self.file));
            }
            u.searches += 1;
            u.no_case += u32::from(!facts.has_case);
            if let Some(d) = s.devices {
                u.devices.0 += d;
                u.devices.1 += 1;
            }
            if let Some(n) = s.networks {
                u.networks.0 += n;
                u.networks.1 += 1;
            }
        }
        for (yes, p) in [(facts.immigration, Purpose::Immigration), (facts.reproductive, Purpose::ReproductiveCare)] {
            if !yes {
                continue;
            }
            match self.purposes.iter_mut().find(|((o, q), _)| o == org && *q == p) {
                Some((_, op)) => {
                    op.count += 1;
                    op.lines.push(s.line);
                }
                None => self.purposes.push((
                    (org.to_owned(), p),
                    OrgPurpose { first: Pin::of(s, &self.file), count: 1, lines: vec![s.line] },
                )),
            }
        }
        if let (Some(plate), Some(t)) = (&s.plate, s.time) {
            let key: String = plate.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect();
            if !key.is_empty() {
                self.plates.entry(key).or_default().push(PlateEvent {
                    millis: t.millis,
                    user: s.user.map(str::to_owned),
                    org: s.org.map(str::to_owned),
                    pin: Pin::of(s, &self.file),
                });
            }
        }
    }

    /// Adds the state of `later`, pushed the searches that follow this one's (in the same or a
    /// later file): the result is the state one [`Insider`] pushed all of them would have.
    pub fn merge(&mut self, later: Insider) {
        for (org, users) in later.users {
            let Some(mine) = self.users.get_mut(&org) else {
                self.users.insert(org, users);
                continue;
            };
            for (user, u) in users {
                let Some(t) = mine.get_mut(&user) else {
                    mine.insert(user, u);
                    continue;
                };
                if t.first.is_none() {
                    t.first = u.first;
                }
                t.searches += u.searches;
                t.no_case += u.no_case;
                t.devices.0 += u.devices.0;
                t.devices.1 += u.devices.1;
                t.networks.0 += u.networks.0;
                t.networks.1 += u.networks.1;
            }
        }
        for (key, op) in later.purposes {
            match self.purposes.iter_mut().find(|(k, _)| *k == key) {
                Some((_, mine)) => {
                    mine.count += op.count;
                    mine.lines.extend(op.lines);
                }
                None => self.purposes.push((key, op)),
            }
        }
        for (plate, events) in later.plates {
            self.plates.entry(plate).or_default().extend(events);
        }
    }

    /// Reports the aggregate findings, in a stable order (organisations, users and plates sorted).
    pub fn finish(self, rules: &InsiderRules, out: &mut dyn FnMut(Finding)) {
        let mut orgs: Vec<_> = self.users.into_iter().collect();
        orgs.sort_by(|a, b| a.0.cmp(&b.0));
        for (org, users) in orgs {
            outliers(&org, self.org_column, users, rules, out);
        }
        let mut purposes = self.purposes;
        purposes.sort_by(|a, b| (a.1.first.line, &a.0 .0).cmp(&(b.1.first.line, &b.0 .0)));
        for ((org, p), op) in purposes {
            let citation = purpose_citation(rules.state.as_deref(), p);
            let mut lines = String::new();
            for (i, l) in op.lines.iter().take(10).enumerate() {
                let _ = write!(lines, "{}{l}", if i > 0 { ", " } else { "" });
            }
            if op.lines.len() > 10 {
                lines.push_str(", ...");
            }
            let who = if org.is_empty() {
                "the export's organisation (not named)".to_owned()
            } else {
                format!("organisation {org:?}")
            };
            let tail = if citation.is_empty() {
                "; practice concern (no statute of the audited agency's state applies or none was given with --state)"
            } else {
                ""
            };
            out(op.first.finding(
                Kind::SensitivePurpose,
                Severity::High,
                format!("{who}: {} searches with {} (lines {lines}){tail}", op.count, p.words()),
                match p {
                    Purpose::Immigration => "search.org_immigration_purpose",
                    Purpose::ReproductiveCare => "search.org_reproductive_purpose",
                },
                citation,
            ));
        }
        let mut plates: Vec<_> = self.plates.into_iter().collect();
        plates.sort_by(|a, b| a.0.cmp(&b.0));
        for (plate, mut events) in plates {
            events.sort_by_key(|e| (e.millis, e.pin.line));
            many_on_one_plate(&plate, &events, rules, out);
        }
    }
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Robust z-scores of `values`: `0.6745 (x - median) / MAD`; where the MAD is 0, `(x - median) /
/// (1.253314 * mean absolute deviation)`; `None` when both are 0 (no spread to stand out of).
/// Returns (median, spread used, scale name, scores).
pub fn robust_z(values: &[f64]) -> Option<(f64, f64, &'static str, Vec<f64>)> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let med = median(&sorted);
    let mut dev: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median(&dev);
    if mad > 0.0 {
        return Some((med, mad, "MAD", values.iter().map(|v| 0.6745 * (v - med) / mad).collect()));
    }
    let mean_ad = dev.iter().sum::<f64>() / dev.len() as f64;
    if mean_ad > 0.0 {
        return Some((
            med,
            mean_ad,
            "mean absolute deviation (MAD is 0)",
            values.iter().map(|v| (v - med) / (1.253314 * mean_ad)).collect(),
        ));
    }
    None
}

fn outliers(
    org: &str,
    org_column: bool,
    users: HashMap<String, UserTally>,
    rules: &InsiderRules,
    out: &mut dyn FnMut(Finding),
) {
    if users.len() < rules.min_peers {
        return;
    }
    let mut users: Vec<(String, UserTally)> = users.into_iter().collect();
    users.sort_by(|a, b| a.0.cmp(&b.0));
    let who = if !org_column {
        "the export's organisation (no organisation column; the export is taken as one organisation's)".to_owned()
    } else if org.is_empty() {
        "rows with no organisation".to_owned()
    } else {
        format!("{org:?}")
    };
    type Measure = (&'static str, &'static str, fn(&UserTally) -> Option<f64>, &'static str);
    let measures: [Measure; 4] = [
        ("searches", "search volume", |u| Some(f64::from(u.searches)), "search.outlier_volume"),
        (
            "cameras per search",
            "cameras per search",
            |u| (u.devices.1 > 0).then(|| u.devices.0 as f64 / f64::from(u.devices.1)),
            "search.outlier_cameras",
        ),
        (
            "networks per search",
            "networks per search",
            |u| (u.networks.1 > 0).then(|| u.networks.0 as f64 / f64::from(u.networks.1)),
            "search.outlier_networks",
        ),
        (
            "share of searches without a case number",
            "share without a case number",
            |u| Some(f64::from(u.no_case) / f64::from(u.searches)),
            "search.outlier_no_case",
        ),
    ];
    for (unit, name, value, rule) in measures {
        let share = rule == "search.outlier_no_case";
        let of: Vec<(&String, &UserTally, f64)> = users
            .iter()
            .filter(|(_, u)| !share || u.searches >= rules.min_searches_for_share)
            .filter_map(|(n, u)| value(u).map(|v| (n, u, v)))
            .collect();
        if of.len() < rules.min_peers {
            continue;
        }
        let values: Vec<f64> = of.iter().map(|x| x.2).collect();
        let Some((med, spread, scale, z)) = robust_z(&values) else { continue };
        for ((user, u, v), z) in of.iter().zip(z) {
            if z <= OUTLIER_Z {
                continue;
            }
            let Some(pin) = &u.first else { continue };
            let shown = |x: f64| {
                if share {
                    format!("{:.0}%", x * 100.0)
                } else if x.fract() == 0.0 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.1}")
                }
            };
            out(pin.finding(
                Kind::OutlierUser,
                Severity::Medium,
                format!(
                    "user {user} in {who}: {} {unit} ({} searches); the median of its {} users is {}, {scale} {:.2}; robust z {z:.1} > {OUTLIER_Z} (threshold; 0.6745·(x − median)/MAD) on {name}; practice concern",
                    shown(*v),
                    u.searches,
                    of.len(),
                    shown(med),
                    if share { spread * 100.0 } else { spread },
                ),
                rule,
                "",
            ));
        }
    }
}

fn many_on_one_plate(plate: &str, events: &[PlateEvent], rules: &InsiderRules, out: &mut dyn FnMut(Finding)) {
    let window = rules.plate_window_hours * 3_600_000;
    let mut users: HashMap<&str, u32> = HashMap::new();
    let mut orgs: HashMap<&str, u32> = HashMap::new();
    let mut j = 0;
    let mut i = 0;
    while i < events.len() {
        let e = &events[i];
        if let Some(u) = &e.user {
            *users.entry(u).or_default() += 1;
        }
        if let Some(o) = &e.org {
            *orgs.entry(o).or_default() += 1;
        }
        while e.millis - events[j].millis >= window {
            let old = &events[j];
            for (m, k) in [(&mut users, &old.user), (&mut orgs, &old.org)] {
                if let Some(k) = k {
                    let c = m.get_mut(k.as_str()).expect("counted");
                    *c -= 1;
                    if *c == 0 {
                        m.remove(k.as_str());
                    }
                }
            }
            j += 1;
        }
        if users.len() >= rules.plate_min_users || orgs.len() >= rules.plate_min_orgs {
            let first = Timestamp { millis: events[j].millis, zone_known: e.pin.time.is_some_and(|t| t.zone_known) };
            let last = e.pin.time.unwrap_or(first);
            out(e.pin.finding(
                Kind::PlateManyUsers,
                Severity::Medium,
                format!(
                    "plate {plate} searched {} times by {} distinct users and {} distinct organisations between {first} and {last} (thresholds: {} users or {} organisations within {} hours; the searches from line {} to line {}); practice concern",
                    i + 1 - j,
                    users.len(),
                    orgs.len(),
                    rules.plate_min_users,
                    rules.plate_min_orgs,
                    rules.plate_window_hours,
                    events[j].pin.line,
                    e.pin.line,
                ),
                "search.plate_many_users",
                "",
            ));
            // Start afresh after the reported cluster.
            users.clear();
            orgs.clear();
            j = i + 1;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones() {
        assert_eq!(Zone::parse("-06:00").unwrap().offset_minutes, -360);
        assert_eq!(Zone::parse("+0530").unwrap().offset_minutes, 330);
        assert_eq!(Zone::parse("UTC").unwrap().offset_minutes, 0);
        assert_eq!(Zone::parse("UTC-5").unwrap().offset_minutes, -300);
        assert!(Zone::parse("America/Chicago").unwrap_err().contains("only fixed offsets"));
        assert!(Zone::parse("+25:00").is_err());
    }

    #[test]
    fn robust_z_scores() {
        let (med, mad, _, z) = robust_z(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
        assert_eq!((med, mad), (3.0, 1.0));
        assert!(z[4] > OUTLIER_Z && z[3] < OUTLIER_Z);
        assert!(robust_z(&[2.0; 6]).is_none());
        // MAD 0, spread elsewhere: the mean absolute deviation is used.
        let (_, _, scale, z) = robust_z(&[5.0, 5.0, 5.0, 5.0, 5.0, 50.0]).unwrap();
        assert!(scale.starts_with("mean") && z[5] > OUTLIER_Z);
    }

    #[test]
    fn federal_names() {
        assert_eq!(federal_agency_name("ICE ERO Atlanta"), Some(("ICE", true)));
        assert_eq!(federal_agency_name("Oakland Police Department"), None);
        assert_eq!(federal_agency_name("U.S. Marshals Service"), Some(("US Marshals", false)));
        assert_eq!(federal_agency_name("Price County Sheriff"), None);
        assert!(moderation_blocked("Block") && !moderation_blocked("warn"));
    }
}
