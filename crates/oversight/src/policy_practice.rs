//! Published policy against practice: the promises agencies publish on their ALPR transparency
//! portals (prohibited uses, access policy, acceptable-use policy) checked against the sharing list
//! that shows whom they actually give access.
//!
//! **Policies** (`id, agency, updated, accessed, url, ..., acceptable_use_policy, prohibited_uses,
//! access_policy, ...`, as in `flock-agency-policies-2023-07.csv`): every field is read for the
//! commitments below ([`commitments`]), phrase by phrase, and each commitment keeps the words that
//! make it, to be quoted. When an agency has several versions, the latest (by `updated`, else
//! `accessed`) is used, and the notes say which commitments the earlier versions had and the latest
//! no longer has.
//!
//! | commitment | read from | contradicted by a recipient that is |
//! |---|---|---|
//! | [`Commitment::NoImmigrationEnforcement`] | "immigration enforcement" among the prohibited uses (or with a negation elsewhere); the California Values Act named | immigration enforcement (ICE, CBP, USCIS) or DHS with no component named |
//! | [`Commitment::NoFederalSharing`] | "only ... local or state law enforcement"; "not shared with federal agencies" | federal |
//! | [`Commitment::InStateOnly`] | "not shared out of state", "outside the state", "only ... within the state" | resolved to another state, or to no single state |
//! | [`Commitment::LawEnforcementOnly`] | "non-law enforcement" or "commercial" among the prohibited uses; "law enforcement (criminal justice) purposes only" | a vendor, private or test account |
//! | [`Commitment::OwnAgencyOnly`] | "may only be accessed by Kent Police officers"; "a member of the police department" | any other agency |
//!
//! Not read as commitments: "never sold to 3rd parties" (sharing is not selling), "requires a valid
//! reason" (the sharing list cannot show reasons), hotlist and retention rules.
//!
//! **Matching** a policy to the sharing list's source agencies: by the exact name (trimmed), else
//! when both names are the same entry of the agency directory ([`Method::Alias`]); never by a state
//! code or a guess. Policies that match no source agency are listed in the notes; so are those whose
//! portal id (`id`) equals a source agency's id (`src_agency_id`) under another name, which are not
//! matched (the id is a hint for a person to check, not a match).
//!
//! **Findings**: `policy_contradiction`, one per sharing row and contradicted commitment, with the
//! subject [`Subject::Sharing`] (agency, counterparty), evidence quoting the published phrase and
//! the directory's reading of the recipient, and the agency's published policy (its URL and date)
//! as the citation. Each is a practice concern: the rule applies the agency's own promise, not a
//! statute (the statutes on sharing are [`crate::sharing`]'s). Recipients the directory cannot
//! resolve are not judged (except against [`Commitment::OwnAgencyOnly`], which any other agency
//! contradicts) and are counted in the notes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use crate::directory::{Class, Directory, Level, Method, Resolution};
use crate::error::{Error, Result};
use crate::finding::{Finding, Kind, Severity, Subject};
use crate::stats::{next_record, ImportStats};

/// A promise about sharing or use that a published policy makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Commitment {
    /// The data is not used for immigration enforcement.
    NoImmigrationEnforcement,
    /// The data is not shared with federal agencies (only local or state ones).
    NoFederalSharing,
    /// The data is not shared out of state.
    InStateOnly,
    /// The data is used by law enforcement, for law enforcement, only (no commercial or other use).
    LawEnforcementOnly,
    /// Only the agency's own staff may use the system.
    OwnAgencyOnly,
}

impl Commitment {
    /// The snake_case name, as in the rule ids (`policy.no_immigration_enforcement`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::NoImmigrationEnforcement => "no_immigration_enforcement",
            Commitment::NoFederalSharing => "no_federal_sharing",
            Commitment::InStateOnly => "in_state_only",
            Commitment::LawEnforcementOnly => "law_enforcement_only",
            Commitment::OwnAgencyOnly => "own_agency_only",
        }
    }

    fn rule(self) -> &'static str {
        match self {
            Commitment::NoImmigrationEnforcement => "policy.no_immigration_enforcement",
            Commitment::NoFederalSharing => "policy.no_federal_sharing",
            Commitment::InStateOnly => "policy.in_state_only",
            Commitment::LawEnforcementOnly => "policy.law_enforcement_only",
            Commitment::OwnAgencyOnly => "policy.own_agency_only",
        }
    }
}

/// One commitment as a policy publishes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promise {
    /// What is promised.
    pub commitment: Commitment,
    /// The policy's field it is in (`prohibited_uses`, `access_policy`, `acceptable_use_policy`).
    pub field: String,
    /// The published words that make it (one item or sentence, as written).
    pub phrase: String,
    /// Whether the promise is limited to civil immigration enforcement ("Civil immigration
    /// enforcement" among the prohibited uses).
    pub civil_only: bool,
}

/// One agency's published policy (its latest version in the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedPolicy {
    /// The 1-based line of the policies file where the row starts.
    pub line: u64,
    /// The portal's id for the agency (`id`).
    pub id: String,
    /// The agency, as the policy names it.
    pub agency: String,
    /// When the portal says the policy was last updated (`updated`), if it says.
    pub updated: Option<String>,
    /// When the policy was read (`accessed`), if the file says.
    pub accessed: Option<String>,
    /// Where it is published.
    pub url: String,
    /// The commitments it makes, one per kind (the first phrase found; a prohibited use before
    /// another field's sentence).
    pub promises: Vec<Promise>,
}

impl PublishedPolicy {
    /// The date the citation gives: `updated`, else `accessed`, else none.
    pub fn date(&self) -> Option<&str> {
        self.updated.as_deref().or(self.accessed.as_deref())
    }

    /// The citation of a finding that rests on this policy: the agency's published policy, its URL
    /// and date.
    pub fn citation(&self) -> String {
        let date = match (&self.updated, &self.accessed) {
            (Some(u), _) => format!("updated {}", day(u)),
            (None, Some(a)) => format!("read {}", day(a)),
            (None, None) => "date not stated".to_owned(),
        };
        format!("{}'s published ALPR policy ({date}): {}", self.agency, self.url)
    }
}

/// `2023-07-27T12:04:07Z` as `2023-07-27`.
fn day(t: &str) -> &str {
    t.get(..10).filter(|d| d.as_bytes().get(4) == Some(&b'-')).unwrap_or(t)
}

/// The policies of a file, and what reading it found.
#[derive(Clone, Debug, Default)]
pub struct PolicyFile {
    /// Rows read, kept, rejected; notes on versions and odd cells.
    pub stats: ImportStats,
    /// The latest version of each agency's policy, in file order.
    pub policies: Vec<PublishedPolicy>,
}

/// Words that turn a sentence into a prohibition when the field is not the prohibited uses.
const NEGATIONS: &[&str] =
    &["not", "never", "no", "prohibited", "prohibit", "prohibits", "shall not", "may not", "nor"];

/// Whole-word containment over normalised text (lowercase words separated by single spaces).
fn has(words: &str, phrase: &str) -> bool {
    let (w, p) = (format!(" {words} "), format!(" {phrase} "));
    w.contains(&p)
}

/// Lowercase words, every run of characters that are not letters or digits as one space, so that
/// phrases match whole words ("non-law enforcement" is `non law enforcement`).
fn words(text: &str) -> String {
    crate::directory::normalize(&text.replace('\'', ""))
}

/// The items of a field: split at sentence ends, semicolons, line breaks and, in a list of
/// prohibited uses, commas outside parentheses.
fn items(text: &str, commas: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        // A full stop ends a sentence unless it is inside a word or an abbreviation ("i.e.").
        let stop = c == '.' && chars.get(i + 1).is_none_or(|n| n.is_whitespace()) && depth <= 0;
        if c == ';' || c == '\n' || stop || (commas && c == ',' && depth <= 0) {
            if !cur.trim().is_empty() {
                out.push(cur.trim().trim_start_matches(['-', '•', '*']).trim().to_owned());
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().trim_start_matches(['-', '•', '*']).trim().to_owned());
    }
    out
}

/// The commitments one field of a policy makes (see the module documentation for the phrases).
/// `field` is the column's name; in `prohibited_uses` every item is a prohibition, elsewhere a
/// sentence needs a negation ("not", "never", "prohibited") or "only".
pub fn commitments(field: &str, text: &str) -> Vec<Promise> {
    let prohibited = field == "prohibited_uses";
    let mut out: Vec<Promise> = Vec::new();
    let mut push = |commitment, phrase: &str, civil_only| {
        if !out.iter().any(|p: &Promise| p.commitment == commitment) {
            out.push(Promise { commitment, field: field.to_owned(), phrase: phrase.to_owned(), civil_only });
        }
    };
    // In a list of prohibited uses, an item that is a whole sentence ("To violate ... federal, state,
    // or local laws") must stay whole: split at commas only when the field reads as a list.
    let list = prohibited && !text.contains('\n');
    for item in items(text, list) {
        let w = words(&item);
        let negated = NEGATIONS.iter().any(|n| has(&w, n));
        let only = has(&w, "only") || has(&w, "solely") || has(&w, "restricted to");
        // Immigration.
        if has(&w, "immigration enforcement") && (prohibited || negated) {
            push(Commitment::NoImmigrationEnforcement, &item, has(&w, "civil immigration enforcement"));
        }
        if has(&w, "california values act") || has(&w, "sb 54") {
            push(Commitment::NoImmigrationEnforcement, &item, false);
        }
        // Federal.
        let local_or_state =
            ["local or state", "state or local", "local and state", "state and local"].iter().any(|p| has(&w, p));
        if local_or_state && only && !has(&w, "laws") {
            push(Commitment::NoFederalSharing, &item, false);
        }
        if has(&w, "federal")
            && (prohibited || negated)
            && ["shared", "share", "sharing", "access", "accessed", "disclosed", "released"].iter().any(|p| has(&w, p))
        {
            push(Commitment::NoFederalSharing, &item, false);
        }
        // Out of state.
        let out_of_state =
            ["out of state", "outside the state", "outside of the state", "other states", "another state"]
                .iter()
                .any(|p| has(&w, p));
        let in_state = ["in state", "within the state", "within state", "in state agencies"].iter().any(|p| has(&w, p));
        if (out_of_state && (prohibited || negated)) || (in_state && only) {
            push(Commitment::InStateOnly, &item, false);
        }
        // Law enforcement only.
        if prohibited && (has(&w, "non law enforcement") || has(&w, "commercial")) {
            push(Commitment::LawEnforcementOnly, &item, false);
        }
        let le = has(&w, "law enforcement") || has(&w, "criminal justice");
        if le
            && !local_or_state
            && (only || (prohibited && has(&w, "outside")))
            && ["purposes", "purpose", "personnel", "agencies", "investigations", "use"].iter().any(|p| has(&w, p))
        {
            push(Commitment::LawEnforcementOnly, &item, false);
        }
        // The agency's own staff only.
        if has(&w, "member of the police department") || has(&w, "member of the sheriffs office") {
            push(Commitment::OwnAgencyOnly, &item, false);
        }
        let padded = format!(" {w} ");
        for verb in ["only be accessed by", "only be used by", "only accessed by"] {
            if let Some(at) = padded.find(&format!(" {verb} ")) {
                let rest = &padded[at + verb.len() + 2..];
                let who: Vec<&str> =
                    rest.split(' ').take_while(|t| !["who", "for", "and", "with"].contains(t)).collect();
                let generic = ["law", "enforcement", "authorized", "any", "state", "local", "federal", "sworn"];
                if who.iter().any(|t| ["officers", "employees", "members", "staff"].contains(t))
                    && !who.iter().any(|t| generic.contains(t))
                {
                    push(Commitment::OwnAgencyOnly, &item, false);
                }
            }
        }
    }
    out
}

/// The columns of a policies file this module reads.
const FIELDS: &[&str] = &["prohibited_uses", "access_policy", "acceptable_use_policy"];

/// Reads a policies file from `input` (`path` names it in messages): the latest version of each
/// agency's policy, with its commitments.
pub fn read_policies<R: Read>(path: &Path, input: R) -> Result<PolicyFile> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers().map_err(|e| Error::csv(path, e))?.clone();
    let col =
        |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').trim().eq_ignore_ascii_case(name));
    let (Some(agency), Some(url)) = (col("agency"), col("url")) else {
        return Err(Error::Header {
            path: path.to_owned(),
            message: format!(
                "not a policies file: needs agency and url columns (and prohibited_uses, access_policy, \
                 acceptable_use_policy); columns found: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    let fields: Vec<(&str, usize)> = FIELDS.iter().filter_map(|f| col(f).map(|i| (*f, i))).collect();
    if fields.is_empty() {
        return Err(Error::Header {
            path: path.to_owned(),
            message: "not a policies file: none of prohibited_uses, access_policy, acceptable_use_policy".into(),
        });
    }
    let (id, updated, accessed) = (col("id"), col("updated"), col("accessed"));
    let mut file = PolicyFile::default();
    // Every version of each agency's policy, in file order.
    let mut versions: BTreeMap<String, Vec<PublishedPolicy>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut record = csv::StringRecord::new();
    while next_record(&mut reader, &mut record, &mut file.stats, path)? {
        let line = record.position().map_or(0, |p| p.line());
        file.stats.read += 1;
        if record.len() != headers.len() {
            file.stats.reject(line, None, format!("{} fields, the header has {}", record.len(), headers.len()));
            continue;
        }
        let name = record[agency].trim().to_owned();
        if name.is_empty() {
            file.stats.reject(line, Some(&headers[agency]), "empty agency name");
            continue;
        }
        file.stats.kept += 1;
        let cell = |i: Option<usize>| {
            i.map(|i| record[i].trim().to_owned()).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("na"))
        };
        for (i, v) in record.iter().enumerate() {
            // A cell that holds a record of its own (a row that lost its line break).
            if v.contains("https://") && v.split(',').count() > 5 && i != url {
                file.stats.notes.push(format!(
                    "line {line}: {name}'s {} cell looks like another CSV record ({:?}...); read as text",
                    &headers[i],
                    v.chars().take(60).collect::<String>()
                ));
            }
        }
        let mut promises = Vec::new();
        for &(f, i) in &fields {
            for p in commitments(f, &record[i]) {
                if !promises.iter().any(|q: &Promise| q.commitment == p.commitment) {
                    promises.push(p);
                }
            }
        }
        let p = PublishedPolicy {
            line,
            id: cell(id).unwrap_or_default(),
            agency: name.clone(),
            updated: cell(updated),
            accessed: cell(accessed),
            url: record[url].trim().to_owned(),
            promises,
        };
        if !versions.contains_key(&name) {
            order.push(name.clone());
        }
        versions.entry(name).or_default().push(p);
    }
    for name in order {
        let mut v = versions.remove(&name).unwrap_or_default();
        // The latest version; among equal dates, the last in the file.
        let latest = (0..v.len()).max_by_key(|&i| (v[i].date().map(str::to_owned), i)).unwrap_or(0);
        let policy = v.swap_remove(latest);
        if !v.is_empty() {
            let now: BTreeSet<Commitment> = policy.promises.iter().map(|p| p.commitment).collect();
            let mut dropped: Vec<String> = Vec::new();
            for old in &v {
                for p in old.promises.iter().filter(|p| !now.contains(&p.commitment)) {
                    let s =
                        format!("{} ({:?}, {})", p.commitment.as_str(), p.phrase, old.date().map_or("undated", day));
                    if !dropped.contains(&s) {
                        dropped.push(s);
                    }
                }
            }
            file.stats.notes.push(format!(
                "{name}: {} versions; the latest ({}, line {}) is used{}",
                v.len() + 1,
                policy.date().map_or("undated", day),
                policy.line,
                if dropped.is_empty() {
                    String::new()
                } else {
                    format!("; earlier versions also promised what it no longer does: {}", dropped.join("; "))
                }
            ));
        }
        file.policies.push(policy);
    }
    Ok(file)
}

/// Reads a policies file.
pub fn read_policies_file(path: &Path) -> Result<PolicyFile> {
    let f = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    read_policies(path, std::io::BufReader::new(f))
}

/// The result of a policy-against-practice audit besides its findings.
#[derive(Clone, Debug, Default)]
pub struct PracticeReport {
    /// Sharing rows read, kept, rejected; findings; notes (unmatched policies, recipients not
    /// judged).
    pub stats: ImportStats,
    /// Each matched policy's agency and the sharing list's name for it, with how they were matched
    /// (`exact name` or `directory entry ID`).
    pub matched: BTreeMap<String, (String, String)>,
    /// The policies not checked: those that match no source agency of the sharing list, and those
    /// whose directory entry is a source agency that has its own policy under its exact name.
    pub unmatched: Vec<String>,
}

/// Interns a citation: findings carry `&'static str` citations, and a policy's citation is built
/// from the file. Each distinct citation is leaked once per process (a few hundred at most).
fn intern(s: String) -> &'static str {
    static SET: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = SET.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&x) = set.get(s.as_str()) {
        return x;
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    set.insert(leaked);
    leaked
}

/// Whether two names are the same agency: the same name, or the same directory entry.
fn same_agency(a: &Resolution, b: &Resolution) -> bool {
    a.name.trim() == b.name.trim()
        || matches!((&a.method, &b.method), (Method::Alias { id: x }, Method::Alias { id: y }) if x == y)
}

/// Whether a recipient is a private police department (level private, and its name says `PD` or
/// `Police`: a railroad's, a company's or a private university's commissioned police), which is a
/// law enforcement agency although not a public one.
pub fn private_police(r: &Resolution) -> bool {
    r.level == Some(Level::Private) && {
        let w = crate::directory::normalize(&r.name);
        has(&w, "pd") || has(&w, "police")
    }
}

/// How a recipient contradicts a promise of the source agency, if it does: severity and what.
/// `None` also when the recipient is unresolved and the promise needs to know who it is (the
/// caller counts those).
pub fn judge(promise: &Promise, src: &Resolution, dst: &Resolution) -> Option<(Severity, String)> {
    let class = dst.class;
    match promise.commitment {
        Commitment::NoImmigrationEnforcement => match class {
            Some(Class::Immigration) => Some((
                if promise.civil_only { Severity::Medium } else { Severity::High },
                format!(
                    "shares with an immigration-enforcement agency{}",
                    if promise.civil_only { " (the policy names civil immigration enforcement only)" } else { "" }
                ),
            )),
            Some(Class::Dhs) => Some((Severity::Medium, "shares with DHS, component not named".into())),
            _ => None,
        },
        Commitment::NoFederalSharing => (dst.level == Some(Level::Federal)).then(|| {
            let imm = class.is_some_and(Class::is_immigration);
            (if imm { Severity::High } else { Severity::Medium }, "shares with a federal agency".to_owned())
        }),
        Commitment::InStateOnly => {
            let here = src.state.as_deref().filter(|s| *s != "US")?;
            if !dst.is_resolved() || dst.level == Some(Level::Federal) {
                return None;
            }
            match dst.state.as_deref() {
                None => Some((Severity::Low, "shares with a multi-state or unknown-state recipient".into())),
                Some(s) if s != here => Some((Severity::Medium, format!("shares out of state ({here} to {s})"))),
                _ => None,
            }
        }
        Commitment::LawEnforcementOnly => dst.level.filter(|l| !l.is_public() && !private_police(dst)).map(|l| {
            let severity = if promise.field == "prohibited_uses" { Severity::Medium } else { Severity::Low };
            (severity, format!("shares with a {} account, not a law enforcement agency", l.as_str()))
        }),
        Commitment::OwnAgencyOnly => {
            (!same_agency(src, dst)).then(|| (Severity::Medium, "shares with another agency".to_owned()))
        }
    }
}

/// Audits a sharing list read from `input` (`path` names it in messages) against the published
/// policies of its source agencies.
pub fn audit<R: Read>(
    path: &Path,
    input: R,
    policies: &PolicyFile,
    dir: &Directory,
    out: &mut dyn FnMut(Finding),
) -> Result<PracticeReport> {
    let mut report = PracticeReport::default();
    // The rows, kept: (line, source, recipient). A sharing list is read once; its rows are few
    // (37,099 in the 2024 list).
    let mut rows: Vec<(u64, String, String)> = Vec::new();
    let mut source_ids: BTreeMap<String, String> = BTreeMap::new();
    let mut src_id = None;
    crate::sharing::read_rows(path, input, &mut report.stats, |line, a, b, record, headers| {
        let column = *src_id
            .get_or_insert_with(|| headers.iter().position(|h| crate::directory::normalize(h) == "src agency id"));
        if let Some(i) = column {
            source_ids.entry(record[i].trim().to_owned()).or_insert_with(|| a.to_owned());
        }
        rows.push((line, a.to_owned(), b.to_owned()));
    })?;
    let mut cache: HashMap<String, Resolution> = HashMap::new();
    let mut resolve = |n: &str| cache.entry(n.to_owned()).or_insert_with(|| dir.resolve(n)).clone();
    // Match each policy to a source agency of the list.
    let sources: BTreeSet<&str> = rows.iter().map(|(_, a, _)| a.as_str()).collect();
    let mut by_source: HashMap<String, &PublishedPolicy> = HashMap::new();
    // Exact names first, so that a directory match never takes an agency's own policy's place.
    let exact: HashSet<&str> =
        policies.policies.iter().map(|p| p.agency.as_str()).filter(|a| sources.contains(a)).collect();
    for p in &policies.policies {
        let how = if exact.contains(p.agency.as_str()) {
            Some((p.agency.clone(), "exact name".to_owned()))
        } else if let (Method::Alias { id }, Some(true)) = {
            // Only a public agency's entry: a vendor's or demo accounts' entry gathers many accounts.
            let r = resolve(&p.agency);
            (r.method, r.level.map(Level::is_public))
        } {
            let same = sources.iter().find(|s| matches!(&resolve(s).method, Method::Alias { id: x } if *x == id));
            match same {
                Some(s) if exact.contains(*s) => {
                    report.stats.notes.push(format!(
                        "policy of {:?} (line {}) is directory entry {id} like the sharing list's {s:?}, which has \
                         its own policy under its exact name: that one is used",
                        p.agency, p.line
                    ));
                    report.unmatched.push(p.agency.clone());
                    continue;
                }
                Some(s) => Some(((*s).to_owned(), format!("directory entry {id}"))),
                None => None,
            }
        } else {
            None
        };
        match how {
            Some((name, how)) => {
                if by_source.contains_key(&name) {
                    report.stats.notes.push(format!(
                        "policy of {:?} (line {}) names the same sharing-list agency {name:?} as another policy; not used",
                        p.agency, p.line
                    ));
                    continue;
                }
                by_source.insert(name.clone(), p);
                report.matched.insert(p.agency.clone(), (name, how));
            }
            None => {
                report.unmatched.push(p.agency.clone());
                if let Some(other) = source_ids.get(&p.id).filter(|_| !p.id.is_empty()) {
                    report.stats.notes.push(format!(
                        "policy of {:?} (line {}) has portal id {} like the sharing list's {other:?}, under another name: \
                         not matched (check by hand)",
                        p.agency, p.line, p.id
                    ));
                }
            }
        }
    }
    if !report.unmatched.is_empty() {
        report.stats.notes.push(format!(
            "{} of {} published policies match no source agency of the sharing list (by exact name or directory \
             entry), so they were not checked: {}",
            report.unmatched.len(),
            policies.policies.len(),
            report.unmatched.join("; ")
        ));
    }
    let without: BTreeSet<&str> = sources.iter().filter(|s| !by_source.contains_key(**s)).copied().collect();
    if !without.is_empty() {
        report.stats.notes.push(format!(
            "{} of {} source agencies of the sharing list have no published policy in the policies file",
            without.len(),
            sources.len()
        ));
    }
    // Judge every row of an agency with commitments.
    let mut not_judged: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    let mut private_pd: BTreeSet<String> = BTreeSet::new();
    let mut federal_le: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut citations: HashMap<&str, &'static str> = HashMap::new();
    for (line, a, b) in &rows {
        let Some(policy) = by_source.get(a.as_str()) else { continue };
        if policy.promises.is_empty() {
            continue;
        }
        let (ra, rb) = (resolve(a), resolve(b));
        for promise in &policy.promises {
            match promise.commitment {
                Commitment::LawEnforcementOnly if private_police(&rb) => {
                    private_pd.insert(format!("{a} -> {b}"));
                }
                Commitment::NoImmigrationEnforcement
                    if rb.level == Some(Level::Federal) && rb.class.is_some_and(|c| !c.is_immigration()) =>
                {
                    federal_le.entry(a.clone()).or_default().insert(b.clone());
                }
                _ => {}
            }
            let Some((severity, what)) = judge(promise, &ra, &rb) else {
                if !rb.is_resolved() && promise.commitment != Commitment::OwnAgencyOnly {
                    not_judged.entry(promise.commitment.as_str()).or_default().insert(format!("{a} -> {b}"));
                }
                continue;
            };
            let citation = *citations.entry(policy.agency.as_str()).or_insert_with(|| intern(policy.citation()));
            report.stats.findings += 1;
            out(Finding {
                kind: Kind::PolicyContradiction,
                severity,
                subject: Subject::Sharing { agency: a.clone(), counterparty: b.clone() },
                line: *line,
                evidence: format!(
                    "published {}: {:?}; {what}: {rb}; practice concern (the agency's own published policy, not a statute)",
                    promise.field.replace('_', " "),
                    promise.phrase
                ),
                rule: promise.commitment.rule(),
                citation,
                agency: None,
                user: None,
                time: None,
                file: None,
                also_in: Vec::new(),
            });
        }
    }
    if !private_pd.is_empty() {
        report.stats.notes.push(format!(
            "{} shares with private police departments (a railroad's, a company's, a private university's) \
             were not judged against law_enforcement_only: they are law enforcement agencies: {}",
            private_pd.len(),
            private_pd.into_iter().collect::<Vec<_>>().join("; ")
        ));
    }
    if !federal_le.is_empty() {
        report.stats.notes.push(format!(
            "{} agencies whose policy prohibits immigration enforcement share with federal agencies that do \
             not enforce immigration law (not a contradiction, not flagged; the policy cannot bind them): {}",
            federal_le.len(),
            federal_le
                .iter()
                .map(|(a, bs)| format!("{a} -> {}", bs.iter().cloned().collect::<Vec<_>>().join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    for (c, pairs) in not_judged {
        report.stats.notes.push(format!(
            "{} shares to recipients the directory cannot resolve were not judged against {c}: {}",
            pairs.len(),
            pairs.into_iter().collect::<Vec<_>>().join("; ")
        ));
    }
    Ok(report)
}

/// Audits a sharing-list file against a policies file read with [`read_policies_file`].
pub fn audit_file(
    path: &Path,
    policies: &PolicyFile,
    dir: &Directory,
    out: &mut dyn FnMut(Finding),
) -> Result<PracticeReport> {
    let f = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    audit(path, std::io::BufReader::new(f), policies, dir, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(field: &str, text: &str) -> Vec<(Commitment, bool)> {
        commitments(field, text).into_iter().map(|p| (p.commitment, p.civil_only)).collect()
    }

    #[test]
    fn reads_the_published_phrasings() {
        use Commitment::*;
        let boiler = "Immigration enforcement, traffic enforcement, harrassment or intimidation, usage based solely \
                      on a protected class (i.e. race, sex, religion), Personal use.";
        assert_eq!(kinds("prohibited_uses", boiler), [(NoImmigrationEnforcement, false)]);
        let kent = "Civil immigration enforcement; automated traffic infraction ticketing; personal use; non-law \
                    enforcement purposes; harassment or intimidation";
        assert_eq!(kinds("prohibited_uses", kent), [(NoImmigrationEnforcement, true), (LawEnforcementOnly, false)]);
        let p = &commitments("prohibited_uses", kent)[0];
        assert_eq!(p.phrase, "Civil immigration enforcement");
        assert_eq!(
            kinds(
                "access_policy",
                "The system may only be accessed by Kent Police officers who have been trained in its use, for \
                 official and legitimate law enforcement purposes."
            ),
            [(LawEnforcementOnly, false), (OwnAgencyOnly, false)]
        );
        assert_eq!(
            kinds(
                "access_policy",
                "All system access requires an individual to be a member of the police department and a valid reason."
            ),
            [(OwnAgencyOnly, false)]
        );
        assert_eq!(
            kinds(
                "access_policy",
                "All system access requires a valid investigative reason and is stored indefinitely and can only be \
                 used by local or state law enforcement personnel."
            ),
            [(NoFederalSharing, false)]
        );
        assert_eq!(
            kinds(
                "acceptable_use_policy",
                "Data is used for law enforcement purposes only. Data is owned by Atherton Police Department and is \
                 never sold to 3rd parties."
            ),
            [(LawEnforcementOnly, false)]
        );
        assert_eq!(kinds("acceptable_use_policy", "Data is never sold to 3rd parties."), []);
        assert_eq!(kinds("access_policy", "All system access requires a valid reason and is stored indefinitely."), []);
        assert_eq!(kinds("acceptable_use_policy", "Data is not shared out of state."), [(InStateOnly, false)]);
        assert_eq!(
            kinds("access_policy", "Data may be shared only with agencies within the state."),
            [(InStateOnly, false)]
        );
        assert_eq!(
            kinds("acceptable_use_policy", "Data will not be shared with federal agencies."),
            [(NoFederalSharing, false)]
        );
        assert_eq!(
            kinds("acceptable_use_policy", "We do not assist with immigration enforcement."),
            [(NoImmigrationEnforcement, false)]
        );
        // A mention without a prohibition is no commitment.
        assert_eq!(kinds("acceptable_use_policy", "Immigration enforcement is a federal matter."), []);
        // San Diego's list of whole sentences: the California Values Act is named, and "federal,
        // state, or local laws" is not a promise about federal sharing.
        let sd = "The following uses of ALPRs shall be expressly prohibited:\n\n- To violate any Constitutional \
                  rights, federal, state, or local laws (e.g., California Values Act, FACE Act, etc.)\n- To be \
                  utilized for any personal purpose.";
        assert_eq!(kinds("prohibited_uses", sd), [(NoImmigrationEnforcement, false)]);
        let whitehall =
            "Personal use, sharing LPR data with non-law enforcement agencies (unless required by law), and \
                         non-criminal investigations including traffic enforcement.";
        assert_eq!(kinds("prohibited_uses", whitehall), [(LawEnforcementOnly, false)]);
    }

    fn res(dir: &Directory, n: &str) -> Resolution {
        dir.resolve(n)
    }

    #[test]
    fn judges_recipients() {
        let dir = Directory::builtin().unwrap();
        let promise = |commitment, field: &str| Promise {
            commitment,
            field: field.into(),
            phrase: "x".into(),
            civil_only: false,
        };
        let src = res(&dir, "Chino PD (CA)");
        let imm = promise(Commitment::NoImmigrationEnforcement, "prohibited_uses");
        assert_eq!(judge(&imm, &src, &res(&dir, "ICE ERO")).map(|j| j.0), Some(Severity::High));
        assert_eq!(judge(&imm, &src, &res(&dir, "FBI")), None);
        assert_eq!(judge(&imm, &src, &res(&dir, "Ontario CA PD")), None);
        let fed = promise(Commitment::NoFederalSharing, "access_policy");
        assert_eq!(judge(&fed, &src, &res(&dir, "FBI")).map(|j| j.0), Some(Severity::Medium));
        assert_eq!(judge(&fed, &src, &res(&dir, "Reno NV PD")), None);
        let state = promise(Commitment::InStateOnly, "acceptable_use_policy");
        assert_eq!(
            judge(&state, &src, &res(&dir, "Reno NV PD")).map(|j| j.1),
            Some("shares out of state (CA to NV)".into())
        );
        assert_eq!(judge(&state, &src, &res(&dir, "Ontario CA PD")), None);
        assert_eq!(judge(&state, &src, &res(&dir, "Lynne Drake")), None);
        let own = promise(Commitment::OwnAgencyOnly, "access_policy");
        assert!(judge(&own, &src, &res(&dir, "Ontario CA PD")).is_some());
        assert!(judge(&own, &src, &res(&dir, "Chino PD (CA)")).is_none());
    }
}
