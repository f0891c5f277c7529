//! The annual transparency report on a hub's use, in the form local surveillance ordinances
//! (CCOPS: Oakland O.M.C. 9.64, Seattle S.M.C. 14.18, and the ACLU model bill they follow)
//! require: how the systems were used, what was shared with whom and under what authority, what
//! was denied and why, what supervisors decided, which safeguards were carried out, what the
//! oversight detectors found, and the complaints and violations recorded.
//!
//! Every number is counted from the verified ledger ([`crate::ledger::LedgerReader`]); the report
//! names the checkpoint (origin, size, root) it was computed from, so anyone holding the public
//! tiles can recount it. It holds aggregates only: no subject, justification, case number, legal
//! document reference, user or token id, decision id, or keyed hash appears in it.
//!
//! **Time zone rule.** An entry belongs to year `Y` when its `time` (Unix seconds, which the hub
//! writes in UTC) is in `[Y-01-01T00:00:00Z, (Y+1)-01-01T00:00:00Z)`. Months are UTC months too.
//! A held request counts in the year it was decided; its supervisor's verdict is linked to it
//! whenever the verdict was recorded (up to the checkpoint); safeguards are counted in the year
//! they were carried out (the permit, or the approval of a held request).
//!
//! **Between hubs.** A hub of a federation logs `outbound` entries (it decided a request for a
//! source a peer hub serves, by its own law, and sent it if permitted) and `inbound` entries (it
//! decided a peer's request). Both are decisions of this hub and count as such in the totals,
//! uses, citations and signals. An `inbound` one counts exactly as a plain `decision` (its permit
//! releases this hub's data, to a peer's member: outside sharing). An `outbound` one releases
//! nothing from this hub and shares none of its agencies' data (the peer decides again and logs
//! its own release), so it counts in neither the releases and their obligations nor the outside
//! sharing, even when approved on review. [`FederationSection`] counts, per peer hub, the requests
//! sent and received by decision, the peer's answers (its receipts), the forwards that failed and
//! the envelopes refused.
//!
//! One pass over the ledger counts one year ([`Report::build`], [`Report::build_audited`]) or every
//! year at once ([`Report::build_all`], [`Report::build_all_audited`]: the same per-year counting,
//! each entry dispatched to the year it is dated in, so each year's report is the one-year one).
//!
//! [`Report::html`], [`Report::csv`] and JSON (serde) render the same [`Report`]; the JSON format
//! is documented in the crate README ("Transparency report"). The HTML page is also written in
//! Spanish ([`Report::html_in`] with [`ReportLang::Es`]): every message of the page exists in both
//! languages, side by side in one table; numbers, keys, ids and citations are the same.
//!
//! ```
//! use model::entry::Entry;
//! let entries: Vec<(u64, Entry)> = Vec::new();
//! let report = oversight::transparency::Report::build(
//!     2025,
//!     oversight::transparency::LedgerInfo::default(),
//!     None,
//!     entries.into_iter().map(Ok::<_, std::convert::Infallible>),
//! ).unwrap();
//! assert_eq!(report.totals.requests, 0);
//! assert!(report.html().contains("No complaints are recorded"));
//! ```

pub(crate) mod render;

pub use render::bar_chart;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use model::entry::{DecisionEntry, Entry, ReviewEntry, Verdict};
use model::{Deployment, Outcome};
use serde::Serialize;

use crate::finding::Finding;
use crate::time::{civil_from_days, days_from_civil};

/// A language the HTML page is written in ([`Report::html_in`]): the languages of the hub's pages.
/// The JSON and CSV forms are language-neutral (their labels and statement are in English).
pub use model::lang::Lang as ReportLang;

/// The `format` member of the JSON report.
pub const FORMAT: &str = "fusionguard.transparency/1";

/// Earliest year a report covers.
pub const MIN_YEAR: i64 = 1970;
/// Latest year a report covers.
pub const MAX_YEAR: i64 = 9999;

/// The checkpoint a report was computed from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LedgerInfo {
    /// The log's origin (its name in checkpoints).
    pub origin: String,
    /// Number of entries the verified checkpoint covers (all were read).
    pub tree_size: u64,
    /// The checkpoint's root hash, base64.
    pub root: String,
}

impl LedgerInfo {
    /// The checkpoint of a verified ledger.
    pub fn of(reader: &crate::ledger::LedgerReader) -> Self {
        Self { origin: reader.checkpoint().origin.clone(), tree_size: reader.size(), root: reader.root_base64() }
    }
}

/// The period a report covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First instant, RFC 3339 (inclusive).
    pub start: String,
    /// End instant, RFC 3339 (exclusive).
    pub end: String,
    /// Always "UTC" (see the module documentation).
    pub time_zone: &'static str,
}

/// Counts of decisions for one key (a source, a purpose, a recipient, a month...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Row {
    /// What is counted (an id or vocabulary word; never personal data).
    pub key: String,
    /// A human name for the key, where the deployment gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Decisions in the year.
    pub requests: u64,
    /// Of which permitted.
    pub permit: u64,
    /// Of which denied.
    pub deny: u64,
    /// Of which held for a supervisor's review.
    pub review: u64,
    /// Held ones a supervisor approved (data released with the obligations).
    pub approved_on_review: u64,
    /// Held ones a supervisor denied.
    pub denied_on_review: u64,
}

impl Row {
    fn add(&mut self, outcome: Outcome) {
        self.requests += 1;
        match outcome {
            Outcome::Permit => self.permit += 1,
            Outcome::Deny => self.deny += 1,
            Outcome::Review => self.review += 1,
        }
    }

    fn verdict(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Approve => self.approved_on_review += 1,
            Verdict::Deny => self.denied_on_review += 1,
        }
    }
}

/// A count for one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CountRow {
    /// What is counted.
    pub key: String,
    /// A human name or explanation of the key, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How many.
    pub count: u64,
}

/// Overall counts for the year.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Decisions (requests decided).
    pub requests: u64,
    /// Permitted.
    pub permit: u64,
    /// Denied.
    pub deny: u64,
    /// Held for review.
    pub review: u64,
    /// Held ones approved by a supervisor (verdict recorded at any time up to the checkpoint).
    pub approved_on_review: u64,
    /// Held ones denied by a supervisor.
    pub denied_on_review: u64,
    /// Held ones with no verdict in the ledger yet.
    pub pending_review: u64,
    /// Requests from an agency other than the source's owner (outside sharing).
    pub outside_requests: u64,
    /// Of which data was released (permitted, or approved on review).
    pub outside_released: u64,
    /// Refused attempts to speak for another user or agency.
    pub refused: u64,
    /// Ledger entries dated in the year (all kinds).
    pub entries: u64,
}

/// How the systems were used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Uses {
    /// By source.
    pub by_source: Vec<Row>,
    /// By data type (the source's category in the deployment; "unknown" without one).
    pub by_data_type: Vec<Row>,
    /// By action (lookup, bulk export, biometric search).
    pub by_action: Vec<Row>,
    /// By stated purpose.
    pub by_purpose: Vec<Row>,
    /// By kind of legal basis.
    pub by_legal_basis: Vec<Row>,
    /// By UTC month, all twelve (`YYYY-MM`).
    pub by_month: Vec<Row>,
    /// By requesting agency (its own data included).
    pub by_requester: Vec<Row>,
}

/// Sharing outside the agency that owns the data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Sharing {
    /// Requests by the requesting agency, where it is not the source's owner.
    pub by_recipient: Vec<Row>,
    /// Forwarded requests by originator agency (the first of the chain), where it is not the owner.
    pub by_originator: Vec<Row>,
    /// Outside requests by kind of recipient agency (federal law enforcement, DHS immigration...).
    pub by_recipient_kind: Vec<Row>,
    /// Outside requests by the data's owner and the recipient's kind (key `OWNER/KIND`): what
    /// each agency shared with whom.
    pub by_owner_and_recipient_kind: Vec<Row>,
}

/// Denials and holds, by the law that decided them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Citations {
    /// Denied decisions by each policy they cite (key: policy id, label: the citation). A decision
    /// citing several counts once under each.
    pub denials: Vec<CountRow>,
    /// Held decisions by each policy they cite.
    pub reviews: Vec<CountRow>,
    /// Permitted decisions by each policy they cite.
    pub permits: Vec<CountRow>,
}

/// Supervisors' reviews.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Reviews {
    /// Requests held for review in the year.
    pub held: u64,
    /// Of which approved.
    pub approved: u64,
    /// Of which denied.
    pub denied: u64,
    /// Of which still pending at the checkpoint.
    pub pending: u64,
    /// Verdicts given in the year (on requests of any year), by verdict.
    pub verdicts_in_year: Vec<CountRow>,
    /// Median time from hold to verdict for the year's held requests that have one, in hours.
    pub median_hours_to_verdict: Option<f64>,
}

/// Safeguards carried out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Obligations {
    /// Releases in the year that carried at least one obligation.
    pub releases_with_obligations: u64,
    /// Releases in the year (permits, and approvals of held requests).
    pub releases: u64,
    /// By kind: redact, release_only, notify_subject, certify, record_dissemination, report.
    pub by_kind: Vec<CountRow>,
    /// By obligation as written (`redact:home_address`, `report:or_cjc`...).
    pub by_obligation: Vec<CountRow>,
    /// Notices to the people requests were about (`notify_subject` carried out), by the agency
    /// that gave them.
    pub notices_by_agency: Vec<CountRow>,
}

/// What detectors found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// Decisions whose justification the checkpoint's classifier flagged as immigration
    /// enforcement, by signal strength ("strong", "weak") and decision (`strong/deny`).
    pub justification_signals: Vec<CountRow>,
    /// Whether the oversight detectors ran on the ledger for this report.
    pub detectors_ran: bool,
    /// Their findings by kind and severity (`kind/severity`); empty when none ran or none found.
    pub by_kind: Vec<CountRow>,
}

/// Complaints and violations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Violations {
    /// Complaints recorded in the report's sources (the ledger records none: always 0 here).
    pub complaints_recorded: u64,
    /// Refused attempts by the agency that held the token.
    pub refused_by_agency: Vec<CountRow>,
    /// High-severity detector findings.
    pub high_severity_findings: u64,
    /// The plain statement of what is and is not recorded.
    pub statement: String,
}

/// Requests between this hub and one peer hub of its federation, in the year. "Sent" requests are
/// this hub's `outbound` entries (decided here by this hub's law, for a source the peer serves;
/// a denied one never leaves), "answered" their peer's decisions as its receipts state them,
/// "received" the peer's requests this hub decided (`inbound` entries).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PeerRow {
    /// The peer hub's ledger origin; `unknown` for senders not among the peers (refused
    /// envelopes, whose sender is recorded as a keyed hash).
    pub key: String,
    /// What the key means, where it is not an origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Requests for the peer's sources decided here.
    pub sent: u64,
    /// Of which permitted here (and sent).
    pub sent_permit: u64,
    /// Of which denied here (not sent).
    pub sent_deny: u64,
    /// Of which held here for a supervisor's review.
    pub sent_review: u64,
    /// The peer's decisions on requests sent to it, from its receipts: permitted.
    pub answered_permit: u64,
    /// Denied by the peer.
    pub answered_deny: u64,
    /// Held by the peer for its review.
    pub answered_review: u64,
    /// Requests the peer sent, decided here.
    pub received: u64,
    /// Of which permitted.
    pub received_permit: u64,
    /// Of which denied.
    pub received_deny: u64,
    /// Of which held for review.
    pub received_review: u64,
    /// Requests sent to the peer that got no valid answer (`forward_failed`).
    pub forward_failed: u64,
    /// Envelopes from the sender that this hub refused (`peer_refused`).
    pub refused: u64,
}

impl PeerRow {
    fn sent(&mut self, outcome: Outcome) {
        self.sent += 1;
        match outcome {
            Outcome::Permit => self.sent_permit += 1,
            Outcome::Deny => self.sent_deny += 1,
            Outcome::Review => self.sent_review += 1,
        }
    }

    fn answered(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Permit => self.answered_permit += 1,
            Outcome::Deny => self.answered_deny += 1,
            Outcome::Review => self.answered_review += 1,
        }
    }

    fn received(&mut self, outcome: Outcome) {
        self.received += 1;
        match outcome {
            Outcome::Permit => self.received_permit += 1,
            Outcome::Deny => self.received_deny += 1,
            Outcome::Review => self.received_review += 1,
        }
    }
}

/// Requests between hubs (a federation): empty for a hub that has no peers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FederationSection {
    /// By peer hub, in the order of their origins (`unknown` last).
    pub by_peer: Vec<PeerRow>,
    /// Requests sent that got no valid answer, by why (`unreachable`, `refused`, `bad_receipt`,
    /// `unverified_receipt`).
    pub forward_failures: Vec<CountRow>,
    /// Envelopes refused, by why (`malformed`, `unknown_peer`, `bad_signature`, ...).
    pub refusals: Vec<CountRow>,
}

impl FederationSection {
    /// Whether the year holds any federation entry.
    pub fn is_empty(&self) -> bool {
        self.by_peer.is_empty()
    }
}

/// The key of the senders of refused envelopes that are not among the peers.
pub const UNKNOWN_PEER: &str = "unknown";

/// One cost of the year and who pays it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FundingRow {
    /// Its place in the deployment's list of the year (1, 2, ...).
    pub key: String,
    /// What is paid for.
    pub program: String,
    /// Who pays.
    pub grantor: String,
    /// What the money buys.
    pub purpose: String,
    /// How much, in US dollars.
    pub amount_usd: f64,
}

/// What one grantor pays in the year.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GrantorRow {
    /// The grantor.
    pub key: String,
    /// In US dollars.
    pub amount_usd: f64,
    /// Entries.
    pub entries: u64,
}

/// Costs and funding sources of the year, as the deployment states them (not counted from the
/// ledger: the deployment's operator declares them).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FundingSection {
    /// Whether the deployment states any cost at all (`false`: "not provided").
    pub provided: bool,
    /// The year's costs, in the deployment's order.
    pub entries: Vec<FundingRow>,
    /// The year's costs by grantor, largest first.
    pub by_grantor: Vec<GrantorRow>,
    /// The year's total, in US dollars.
    pub total_usd: f64,
}

impl FundingSection {
    /// The costs `deployment` states for `year`.
    fn of(deployment: Option<&Deployment>, year: i64) -> Self {
        let all = deployment.map_or(&[][..], Deployment::funding);
        let cents = |usd: f64| (usd * 100.0).round() as i64;
        let dollars = |cents: i64| cents as f64 / 100.0;
        let mut by: BTreeMap<&str, (i64, u64)> = BTreeMap::new();
        let mut entries = Vec::new();
        for f in all.iter().filter(|f| f.year == year) {
            let e = by.entry(f.grantor.as_str()).or_default();
            e.0 += cents(f.amount_usd);
            e.1 += 1;
            entries.push(FundingRow {
                key: (entries.len() + 1).to_string(),
                program: f.program.clone(),
                grantor: f.grantor.clone(),
                purpose: f.purpose.clone(),
                amount_usd: dollars(cents(f.amount_usd)),
            });
        }
        let total = by.values().map(|v| v.0).sum();
        let mut by_grantor: Vec<GrantorRow> = by
            .into_iter()
            .map(|(k, (c, n))| GrantorRow { key: k.to_string(), amount_usd: dollars(c), entries: n })
            .collect();
        by_grantor.sort_by(|a, b| b.amount_usd.total_cmp(&a.amount_usd).then_with(|| a.key.cmp(&b.key)));
        Self { provided: !all.is_empty(), entries, by_grantor, total_usd: dollars(total) }
    }
}

/// The annual report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// [`FORMAT`].
    pub format: &'static str,
    /// The calendar year.
    pub year: i64,
    /// Its bounds.
    pub period: Period,
    /// The checkpoint it was computed from.
    pub ledger: LedgerInfo,
    /// Overall counts.
    pub totals: Totals,
    /// Uses.
    pub uses: Uses,
    /// Outside sharing.
    pub sharing: Sharing,
    /// Denials and holds by citation.
    pub citations: Citations,
    /// Reviews and outcomes.
    pub reviews: Reviews,
    /// Obligations carried out.
    pub obligations: Obligations,
    /// What the deployment costs and who pays, for the year (from the deployment's `[[funding]]`).
    pub funding: FundingSection,
    /// Requests between this hub and its peer hubs (empty without a federation).
    pub federation: FederationSection,
    /// Detector findings.
    pub findings: Findings,
    /// Complaints and violations.
    pub violations: Violations,
}

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError<E> {
    /// The year is outside [`MIN_YEAR`]..=[`MAX_YEAR`].
    #[error("year {0} is outside {MIN_YEAR}..={MAX_YEAR}")]
    Year(i64),
    /// Reading the ledger failed.
    #[error(transparent)]
    Read(E),
}

/// First second of `year` (UTC).
pub fn year_start(year: i64) -> i64 {
    days_from_civil(year, 1, 1) * 86_400
}

/// The year (UTC) the ledger time `t` (Unix seconds) falls in, if a report can cover it.
fn year_of(t: u64) -> Option<i64> {
    let t = i64::try_from(t).ok()?;
    Some(civil_from_days(t.div_euclid(86_400)).0).filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
}

fn rfc3339(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}T00:00:00Z")
}

fn month_of(secs: i64) -> String {
    let (y, m, _) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}")
}

/// What a held decision counts under, to credit its verdict later.
struct Held {
    time: u64,
    rows: Vec<(Table, String)>,
    outside: bool,
}

/// How a decision entry counts: a plain `decision`, an `inbound` one (decided here on a peer's
/// request: like a plain one, its permit releases this hub's data), or an `outbound` one (decided
/// here on a request for a peer's source: counted among the requests, but its permit releases
/// nothing from this hub and shares nothing of its agencies' data, so it counts in neither the
/// releases nor the outside sharing).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Decided {
    Here,
    Outbound,
}

/// The row tables verdicts are credited to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Table {
    Source,
    DataType,
    Action,
    Purpose,
    LegalBasis,
    Month,
    Recipient,
    Originator,
    RecipientKind,
    Requester,
    OwnerRecipientKind,
}

/// The counts of one year.
#[derive(Clone, Default)]
struct Counter {
    year: i64,
    rows: HashMap<Table, BTreeMap<String, Row>>,
    counts: BTreeMap<&'static str, BTreeMap<String, u64>>,
    totals: Totals,
    hours_to_verdict: Vec<f64>,
    releases: u64,
    releases_with_obligations: u64,
    peers: BTreeMap<String, PeerRow>,
}

impl Counter {
    /// An empty year (its twelve months listed).
    fn new(year: i64) -> Self {
        let mut c = Self { year, ..Self::default() };
        for m in 1..=12 {
            c.row(Table::Month, &format!("{year:04}-{m:02}"));
        }
        c
    }

    fn row(&mut self, table: Table, key: &str) -> &mut Row {
        let rows = self.rows.entry(table).or_default();
        // Look up before inserting: most rows exist, and a lookup allocates nothing.
        if !rows.contains_key(key) {
            rows.insert(key.to_string(), Row { key: key.to_string(), ..Row::default() });
        }
        rows.get_mut(key).expect("inserted above")
    }

    fn count(&mut self, list: &'static str, key: &str) {
        let counts = self.counts.entry(list).or_default();
        match counts.get_mut(key) {
            Some(n) => *n += 1,
            None => {
                counts.insert(key.to_string(), 1);
            }
        }
    }

    fn released(&mut self, obligations: &[String]) {
        self.releases += 1;
        if !obligations.is_empty() {
            self.releases_with_obligations += 1;
        }
        for o in obligations {
            let kind = o.split(':').next().unwrap_or(o).to_string();
            self.count("obligation_kind", &kind);
            self.count("obligation", o);
        }
    }

    /// A decision dated in this year; a held one is returned, so that its verdict (whenever it
    /// comes) is credited to this year.
    fn decision(&mut self, d: &DecisionEntry, deployment: Option<&Deployment>, decided: Decided) -> Option<Held> {
        let category = deployment
            .and_then(|dep| dep.source(&d.source))
            .map_or_else(|| "unknown".to_string(), |s| s.category.clone());
        let outside = d.requester.agency != d.owner && decided == Decided::Here;
        let mut rows = vec![
            (Table::Source, d.source.clone()),
            (Table::DataType, category),
            (Table::Action, d.action.clone()),
            (Table::Purpose, d.purpose.clone()),
            (Table::LegalBasis, d.legal_basis.kind.clone()),
            (Table::Month, month_of(d.time as i64)),
            (Table::Requester, d.requester.agency.clone()),
        ];
        if outside {
            let kind = deployment
                .and_then(|dep| dep.agency(&d.requester.agency))
                .map_or_else(|| "unknown".to_string(), |a| a.kind.as_str().to_string());
            rows.push((Table::Recipient, d.requester.agency.clone()));
            rows.push((Table::OwnerRecipientKind, format!("{}/{kind}", d.owner)));
            rows.push((Table::RecipientKind, kind));
        }
        if let Some(first) = d.on_behalf_of.first() {
            if first.agency != d.owner {
                rows.push((Table::Originator, first.agency.clone()));
            }
        }
        for (table, key) in &rows {
            self.row(*table, key).add(d.decision);
        }
        self.totals.requests += 1;
        match d.decision {
            Outcome::Permit => self.totals.permit += 1,
            Outcome::Deny => self.totals.deny += 1,
            Outcome::Review => self.totals.review += 1,
        }
        if outside {
            self.totals.outside_requests += 1;
            if d.decision == Outcome::Permit {
                self.totals.outside_released += 1;
            }
        }
        let cited: BTreeSet<(&str, &str)> =
            d.citations.iter().map(|r| (r.policy.as_str(), r.citation.as_str())).collect();
        let list = match d.decision {
            Outcome::Deny => "denial",
            Outcome::Review => "review_citation",
            Outcome::Permit => "permit_citation",
        };
        for (policy, citation) in cited {
            self.count(list, &format!("{policy}\u{1f}{citation}"));
        }
        let strengths: BTreeSet<&str> =
            d.justification_signals.iter().map(|s| s.split(':').next().unwrap_or("").trim()).collect();
        for s in strengths.into_iter().filter(|s| matches!(*s, "strong" | "weak")) {
            self.count("signal", &format!("{s}/{}", d.decision.as_str()));
        }
        match d.decision {
            Outcome::Permit if decided == Decided::Here => self.released(&d.obligations),
            Outcome::Permit => {}
            Outcome::Review => return Some(Held { time: d.time, rows, outside }),
            Outcome::Deny => {}
        }
        None
    }

    fn peer(&mut self, origin: &str) -> &mut PeerRow {
        let key = if origin.starts_with(model::entry::HMAC_PREFIX) { UNKNOWN_PEER } else { origin };
        if !self.peers.contains_key(key) {
            self.peers.insert(key.to_string(), PeerRow { key: key.to_string(), ..PeerRow::default() });
        }
        self.peers.get_mut(key).expect("inserted above")
    }

    /// A verdict given in this year, on a request of any year (`releases`: a request decided here
    /// for this hub's data, not an outbound one).
    fn verdict_given(&mut self, r: &ReviewEntry, releases: bool) {
        self.count("verdict", verdict_str(r.verdict));
        if r.verdict == Verdict::Approve && releases {
            self.released(&r.obligations);
        }
    }

    /// The verdict `r` (of any year) on `held`, a request this year held.
    fn verdict_on(&mut self, held: &Held, r: &ReviewEntry) {
        for (table, key) in &held.rows {
            self.row(*table, key).verdict(r.verdict);
        }
        match r.verdict {
            Verdict::Approve => {
                self.totals.approved_on_review += 1;
                if held.outside {
                    self.totals.outside_released += 1;
                }
            }
            Verdict::Deny => self.totals.denied_on_review += 1,
        }
        self.hours_to_verdict.push(r.time.saturating_sub(held.time) as f64 / 3600.0);
    }
}

/// Counts each entry into the year (UTC) it is dated in: one [`Counter`] per year, and the
/// held requests awaiting a verdict across years.
struct Years<'d> {
    deployment: Option<&'d Deployment>,
    /// Count this year only (the other years' entries are skipped).
    only: Option<i64>,
    counters: BTreeMap<i64, Counter>,
    /// Held decisions by ledger index, with the year they count in.
    held: HashMap<u64, (i64, Held)>,
    /// Held `outbound` decisions by ledger index, whatever their year (their approval releases
    /// nothing here).
    held_outbound: std::collections::HashSet<u64>,
}

impl Years<'_> {
    /// Counts the entry at `index` (entries come in ledger order, so a verdict comes after the
    /// request it decides); returns the year it counts in, if one is counted.
    fn entry(&mut self, index: u64, entry: &Entry) -> Option<i64> {
        let year = year_of(entry.time()).filter(|y| self.only.is_none_or(|only| only == *y));
        let outbound_verdict = match entry {
            Entry::Review(r) => self.held_outbound.remove(&r.decision_index),
            Entry::Outbound(d) if d.decision == Outcome::Review => {
                self.held_outbound.insert(index);
                false
            }
            _ => false,
        };
        if let Some(y) = year {
            let c = self.counters.entry(y).or_insert_with(|| Counter::new(y));
            c.totals.entries += 1;
            let decided = match entry {
                Entry::Decision(d) | Entry::Inbound(d) => Some((d, Decided::Here)),
                Entry::Outbound(d) => Some((d, Decided::Outbound)),
                _ => None,
            };
            if let Some((d, decided)) = decided {
                if let Some(held) = c.decision(d, self.deployment, decided) {
                    self.held.insert(index, (y, held));
                }
            }
            match entry {
                Entry::Outbound(d) => {
                    if let Some(f) = &d.federation {
                        c.peer(&f.peer).sent(d.decision);
                    }
                }
                Entry::Inbound(d) => {
                    if let Some(f) = &d.federation {
                        c.peer(&f.peer).received(d.decision);
                    }
                }
                Entry::PeerReceipt(r) => c.peer(&r.peer).answered(r.peer_decision),
                Entry::ForwardFailed(f) => {
                    c.peer(&f.peer).forward_failed += 1;
                    c.count("forward_failed", &f.why);
                }
                Entry::PeerRefused(r) => {
                    c.peer(&r.peer).refused += 1;
                    c.count("peer_refused", &r.why);
                }
                Entry::Review(r) => c.verdict_given(r, !outbound_verdict),
                Entry::Refused(r) => {
                    c.totals.refused += 1;
                    c.count("refused", &r.token.agency);
                }
                Entry::Notified(n) => c.count("notified", &n.supervisor.agency),
                // Kinds the report does not break down count in `totals.entries` only.
                _ => {}
            }
        }
        if let Entry::Review(r) = entry {
            if let Some((y, held)) = self.held.remove(&r.decision_index) {
                if let Some(c) = self.counters.get_mut(&y) {
                    c.verdict_on(&held, r);
                }
            }
        }
        year
    }
}

/// The counts of findings of one year, by `kind/severity`, and how many are of high severity.
#[derive(Clone, Default)]
struct FindingCounts {
    by: BTreeMap<String, u64>,
    high: u64,
}

impl FindingCounts {
    fn add(&mut self, f: &Finding) {
        *self.by.entry(format!("{}/{}", f.kind.as_str(), f.severity.as_str())).or_default() += 1;
        if f.severity == crate::finding::Severity::High {
            self.high += 1;
        }
    }
}

/// The counts of a verified ledger, kept up to date as entries come: [`Tally::push`] each entry
/// in ledger order, from the first, and [`Tally::reports`] gives at any point the report of
/// every year, each equal to what [`Report::build_all`] (or, for [`Tally::audited`],
/// [`Report::build_all_audited`]) gives over the entries pushed so far. A service that follows
/// a growing ledger counts each entry once ([`crate::ledger::LedgerReader::advance`] reads only
/// the new ones), never the whole ledger again.
pub struct Tally<'d> {
    years: Years<'d>,
    /// The ledger audit ([`crate::side_door`], default rules), when audited.
    detector: Option<crate::side_door::SideDoor<'d>>,
    /// The audit's findings by the year of the entry that completed each.
    findings: BTreeMap<i64, FindingCounts>,
    /// The audit's findings, in the order found.
    found: Vec<Finding>,
    /// Entries pushed.
    pushed: u64,
}

impl<'d> Tally<'d> {
    /// A tally of every year; `deployment` labels sources, data types and agencies.
    pub fn new(deployment: Option<&'d Deployment>) -> Self {
        Self::with(None, deployment, false)
    }

    /// A tally of every year with the ledger audit run over the same entries, each finding
    /// counted in the year of the entry that completed it.
    pub fn audited(deployment: &'d Deployment) -> Self {
        Self::with(None, Some(deployment), true)
    }

    fn with(only: Option<i64>, deployment: Option<&'d Deployment>, audited: bool) -> Self {
        let mut years = Years {
            deployment,
            only,
            counters: BTreeMap::new(),
            held: HashMap::new(),
            held_outbound: Default::default(),
        };
        if let Some(y) = only {
            years.counters.insert(y, Counter::new(y));
        }
        let detector = deployment.filter(|_| audited).map(|d| crate::side_door::SideDoor::new(d, Default::default()));
        Self { years, detector, findings: BTreeMap::new(), found: Vec::new(), pushed: 0 }
    }

    /// Counts the entry at `index` (entries must come in ledger order: a verdict is linked to its
    /// held request by index, and the audit sees them in order).
    pub fn push(&mut self, index: u64, entry: &Entry) {
        let year = self.years.entry(index, entry);
        if let Some(detector) = &mut self.detector {
            let (findings, found) = (&mut self.findings, &mut self.found);
            detector.entry(index, entry, &mut |f| {
                if let Some(y) = year {
                    findings.entry(y).or_default().add(&f);
                }
                found.push(f);
            });
        }
        self.pushed += 1;
    }

    /// How many entries were pushed.
    pub fn entries(&self) -> u64 {
        self.pushed
    }

    /// The ledger audit's findings so far, in the order found (none unless [`Tally::audited`]):
    /// what [`crate::side_door::audit`] finds over the entries pushed.
    pub fn findings(&self) -> &[Finding] {
        &self.found
    }

    /// The report of every year an entry pushed so far is dated in, for the ledger `ledger`
    /// describes (the checkpoint the entries were verified against).
    pub fn reports(&self, ledger: LedgerInfo) -> BTreeMap<i64, Report> {
        let deployment = self.years.deployment;
        self.years
            .counters
            .iter()
            .map(|(&year, c)| {
                let mut c = c.clone();
                c.totals.pending_review = c.totals.review - c.totals.approved_on_review - c.totals.denied_on_review;
                let report = Report::assemble(ledger.clone(), deployment, c);
                let report = match &self.detector {
                    Some(_) => report.with_finding_counts(self.findings.get(&year).cloned().unwrap_or_default()),
                    None => report,
                };
                (year, report)
            })
            .collect()
    }
}

/// One pass over a verified ledger's entries: the report of `only`, or of every year an entry
/// is dated in. With `audited` (and a deployment), the ledger audit runs over the same entries.
fn count_years<E>(
    only: Option<i64>,
    ledger: LedgerInfo,
    deployment: Option<&Deployment>,
    audited: bool,
    entries: impl Iterator<Item = Result<(u64, Entry), E>>,
) -> Result<BTreeMap<i64, Report>, E> {
    let mut tally = Tally::with(only, deployment, audited);
    for item in entries {
        let (index, entry) = item?;
        tally.push(index, &entry);
    }
    Ok(tally.reports(ledger))
}

impl Report {
    /// Counts the entries of `year` from a verified ledger's entries (all of them, in order: a
    /// verdict is linked to its held request by index). `deployment` labels sources, data types
    /// and agencies; without it data types are "unknown".
    pub fn build<E>(
        year: i64,
        ledger: LedgerInfo,
        deployment: Option<&Deployment>,
        entries: impl Iterator<Item = Result<(u64, Entry), E>>,
    ) -> Result<Self, ReportError<E>> {
        Self::build_year(year, ledger, deployment, false, entries)
    }

    /// Like [`Report::build`], with the ledger audit ([`crate::side_door`], default rules) run over
    /// the same entries: a finding counts in the year of the entry that completed it (the detector
    /// sees every entry, so a pattern that began the year before is still found).
    pub fn build_audited<E>(
        year: i64,
        ledger: LedgerInfo,
        deployment: &Deployment,
        entries: impl Iterator<Item = Result<(u64, Entry), E>>,
    ) -> Result<Self, ReportError<E>> {
        Self::build_year(year, ledger, Some(deployment), true, entries)
    }

    fn build_year<E>(
        year: i64,
        ledger: LedgerInfo,
        deployment: Option<&Deployment>,
        audited: bool,
        entries: impl Iterator<Item = Result<(u64, Entry), E>>,
    ) -> Result<Self, ReportError<E>> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(ReportError::Year(year));
        }
        let mut reports = count_years(Some(year), ledger, deployment, audited, entries).map_err(ReportError::Read)?;
        Ok(reports.remove(&year).expect("the year asked for is always counted"))
    }

    /// The reports of every year (UTC) an entry of the ledger is dated in, keyed by year, counted
    /// in one pass over a verified ledger's entries (all of them, in order). Each equals what
    /// [`Report::build`] gives for its year. A year missing from the map has no entry: its report
    /// is [`Report::build`] over no entries. Entries dated outside [`MIN_YEAR`]..=[`MAX_YEAR`]
    /// count in no report.
    pub fn build_all<E>(
        ledger: LedgerInfo,
        deployment: Option<&Deployment>,
        entries: impl Iterator<Item = Result<(u64, Entry), E>>,
    ) -> Result<BTreeMap<i64, Self>, E> {
        count_years(None, ledger, deployment, false, entries)
    }

    /// Like [`Report::build_all`], with the ledger audit run once over the entries, each finding
    /// counted in the year of the entry that completed it: each report equals what
    /// [`Report::build_audited`] gives for its year, and a year missing from the map has the
    /// report [`Report::build_audited`] gives over no entries.
    pub fn build_all_audited<E>(
        ledger: LedgerInfo,
        deployment: &Deployment,
        entries: impl Iterator<Item = Result<(u64, Entry), E>>,
    ) -> Result<BTreeMap<i64, Self>, E> {
        count_years(None, ledger, Some(deployment), true, entries)
    }

    /// Adds the findings of oversight detectors run over the same ledger (counted by kind and
    /// severity; nothing of the records they rest on is kept).
    pub fn with_findings(self, findings: &[Finding]) -> Self {
        let mut counts = FindingCounts::default();
        findings.iter().for_each(|f| counts.add(f));
        self.with_finding_counts(counts)
    }

    fn with_finding_counts(mut self, counts: FindingCounts) -> Self {
        self.findings.detectors_ran = true;
        self.findings.by_kind = sorted_counts(counts.by, |_| None);
        self.violations.high_severity_findings = counts.high;
        self.violations.statement = statement(&self.violations, true);
        self
    }

    fn assemble(ledger: LedgerInfo, deployment: Option<&Deployment>, mut c: Counter) -> Self {
        let year = c.year;
        let (start, end) = (year_start(year), year_start(year + 1));
        let agency_name = |id: &str| deployment.and_then(|d| d.agency(id)).map(|a| a.name.clone());
        let mut take = |table: Table, label: &dyn Fn(&str) -> Option<String>, by_count: bool| {
            let mut rows: Vec<Row> = c.rows.remove(&table).unwrap_or_default().into_values().collect();
            for r in &mut rows {
                r.label = label(&r.key);
            }
            if by_count {
                rows.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.key.cmp(&b.key)));
            }
            rows
        };
        let none = |_: &str| None;
        let uses = Uses {
            by_source: take(
                Table::Source,
                &|id| deployment.and_then(|d| d.source(id)).map(|s| format!("{} ({})", s.category, s.owner)),
                true,
            ),
            by_data_type: take(Table::DataType, &none, true),
            by_action: take(Table::Action, &none, true),
            by_purpose: take(Table::Purpose, &none, true),
            by_legal_basis: take(Table::LegalBasis, &none, true),
            by_month: take(Table::Month, &none, false),
            by_requester: take(Table::Requester, &agency_name, true),
        };
        let sharing = Sharing {
            by_recipient: take(Table::Recipient, &agency_name, true),
            by_originator: take(Table::Originator, &agency_name, true),
            by_recipient_kind: take(Table::RecipientKind, &none, true),
            by_owner_and_recipient_kind: take(Table::OwnerRecipientKind, &none, true),
        };
        let mut list = |name: &str| c.counts.remove(name).unwrap_or_default();
        let split_citation = |counts: BTreeMap<String, u64>| -> Vec<CountRow> {
            let mut rows: Vec<CountRow> = counts
                .into_iter()
                .map(|(k, count)| {
                    let (policy, citation) = k.split_once('\u{1f}').unwrap_or((&k, ""));
                    CountRow { key: policy.to_string(), label: Some(citation.to_string()), count }
                })
                .collect();
            rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
            rows
        };
        let citations = Citations {
            denials: split_citation(list("denial")),
            reviews: split_citation(list("review_citation")),
            permits: split_citation(list("permit_citation")),
        };
        let mut hours = std::mem::take(&mut c.hours_to_verdict);
        hours.sort_by(f64::total_cmp);
        let median = match hours.len() {
            0 => None,
            n if n % 2 == 1 => Some(hours[n / 2]),
            n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
        }
        .map(|h| (h * 100.0).round() / 100.0);
        let reviews = Reviews {
            held: c.totals.review,
            approved: c.totals.approved_on_review,
            denied: c.totals.denied_on_review,
            pending: c.totals.pending_review,
            verdicts_in_year: sorted_counts(list("verdict"), |_| None),
            median_hours_to_verdict: median,
        };
        let obligations = Obligations {
            releases_with_obligations: c.releases_with_obligations,
            releases: c.releases,
            by_kind: sorted_counts(list("obligation_kind"), |k| obligation_label(k).map(str::to_string)),
            by_obligation: sorted_counts(list("obligation"), |_| None),
            notices_by_agency: sorted_counts(list("notified"), agency_name),
        };
        let findings_section = Findings {
            justification_signals: sorted_counts(list("signal"), |_| None),
            detectors_ran: false,
            by_kind: Vec::new(),
        };
        let mut by_peer: Vec<PeerRow> = std::mem::take(&mut c.peers).into_values().collect();
        // Origins in order, the senders not among the peers last.
        by_peer.sort_by_key(|r| (r.key == UNKNOWN_PEER, r.key.clone()));
        for r in &mut by_peer {
            if r.key == UNKNOWN_PEER {
                r.label = Some(render::t(ReportLang::En, "federation.unknown").to_string());
            }
        }
        let federation = FederationSection {
            by_peer,
            forward_failures: sorted_counts(list("forward_failed"), |_| None),
            refusals: sorted_counts(list("peer_refused"), |_| None),
        };
        let mut violations = Violations {
            complaints_recorded: 0,
            refused_by_agency: sorted_counts(list("refused"), agency_name),
            high_severity_findings: 0,
            statement: String::new(),
        };
        violations.statement = statement(&violations, false);
        Self {
            format: FORMAT,
            year,
            period: Period { start: rfc3339(start), end: rfc3339(end), time_zone: "UTC" },
            ledger,
            totals: c.totals,
            uses,
            sharing,
            citations,
            reviews,
            obligations,
            funding: FundingSection::of(deployment, year),
            federation,
            findings: findings_section,
            violations,
        }
    }

    /// The report as a self-contained HTML page: inline SVG charts, each with a title, a
    /// description and the table of its numbers; no script, no external asset.
    pub fn html(&self) -> String {
        render::html(self, ReportLang::En, None)
    }

    /// [`Report::html`] as a hub serves it beside its CSV at `csv` (`/transparency.csv?year=2026`):
    /// every chart links to the CSV of its own rows (`&table=uses.by_source`).
    pub fn html_with_csv(&self, csv: &str) -> String {
        render::html(self, ReportLang::En, Some(csv))
    }

    /// The page in `lang` (`<html lang="es">`), with a CSV link beside every chart when `csv` is
    /// given: the same tables, numbers, keys, ids and citations as in English, every word of the
    /// page in `lang`. `html_in(ReportLang::En, None)` is [`Report::html`], and
    /// `html_in(ReportLang::En, Some(csv))` is [`Report::html_with_csv`].
    pub fn html_in(&self, lang: ReportLang, csv: Option<&str>) -> String {
        render::html(self, lang, csv)
    }

    /// The report as CSV: one row per number, `section,key,label,measure,value`.
    pub fn csv(&self) -> String {
        render::csv(self)
    }

    /// The report as pretty-printed JSON (the format documented in the crate README).
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Approve => "approve",
        Verdict::Deny => "deny",
    }
}

fn sorted_counts(counts: BTreeMap<String, u64>, label: impl Fn(&str) -> Option<String>) -> Vec<CountRow> {
    let mut rows: Vec<CountRow> =
        counts.into_iter().map(|(key, count)| CountRow { label: label(&key), key, count }).collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    rows
}

/// What each kind of obligation means (policy::obligation), in English (the JSON's labels).
fn obligation_label(kind: &str) -> Option<&'static str> {
    render::obligation_label(kind, ReportLang::En)
}

/// The statement on complaints and violations, in English (the JSON's).
fn statement(v: &Violations, detectors_ran: bool) -> String {
    render::statement(v, detectors_ran, ReportLang::En)
}
