//! The federation audit: two or more hubs' verified ledgers ([`crate::ledger::LedgerReader`]),
//! each known by its origin, read side by side, to find what one hub's books say and a peer's do
//! not. A request that goes from hub A to hub B is logged twice: A's `outbound` entry (its
//! `federation.peer` is B) and B's `inbound` entry (its `peer` is A, its `sender_index` the index
//! of A's `outbound` entry), with the same `nonce` and `envelope` (the SHA-256 of what every hop
//! signs). A relay (TX to CO to CA) keeps the nonce and envelope: CO logs an `inbound` (peer TX)
//! and an `outbound` (peer CA). `hops` lists the hubs a request passed through before the hub that
//! logs it, the originating hub first. The hubs share one subject key, so subjects' keyed hashes
//! are comparable across their ledgers.
//!
//! Rules (every one a practice concern: no statute is cited):
//! - `federation.unmatched_outbound` ([`Kind::UnmatchedHop`], high): a request A sent to B (an
//!   `outbound` permitted, or held and approved on review), B among the audited ledgers, that B
//!   never logged (no `inbound` with its nonce naming A and its index). Not flagged while in
//!   flight (sent within `grace_secs` of B's newest entry read) or when A logged a
//!   `forward_failed` for it (noted instead).
//! - `federation.unmatched_inbound` ([`Kind::UnmatchedHop`], high): an `inbound` on B naming
//!   sender A (audited) whose `outbound` is not in A's ledger at `sender_index` (with the same nonce
//!   and B as peer): a request B says came from A that left no trace in A's books. Not flagged
//!   within `grace_secs` of A's newest entry. (A sends once its `outbound` is written, not yet
//!   flushed: an operating-system crash or storage fault on A in that window also leaves this,
//!   with nothing released to A's user.)
//! - `federation.chain_mismatch` ([`Kind::ChainMismatch`], high): a matched pair whose request
//!   differs between the two sides (requester, `on_behalf_of`, source, subject, action, purpose,
//!   envelope, or `hops` other than A's `hops` followed by A), or an `inbound` matching an
//!   `outbound` A denied (a request A's books say was never sent).
//! - `federation.relay_changed` ([`Kind::ChainMismatch`], high): a relay's `outbound` that differs
//!   from the `inbound` with the same nonce it relays (the same fields, `hops` equal), or relays a
//!   request the relay denied.
//! - `federation.receipt_mismatch` ([`Kind::ReceiptMismatch`], high): a `peer_receipt` on A whose
//!   `peer_index` and `peer_leaf` are not B's `inbound` entry for that request (another entry, a
//!   leaf hash that is not the entry's, an index beyond B's checkpoint), whose `peer_decision` is
//!   not B's decision, or that is for an entry of A that is not an `outbound` to B.
//! - `federation.denied_then_asked_elsewhere` ([`Kind::DeniedElsewhere`]; high when the later
//!   request was permitted, medium when held, low when denied): a deny on hub X (a `decision`,
//!   `outbound` or `inbound` entry) on a subject (kind and keyed hash), then, within `window_secs`
//!   and not before it, a plain `decision` (asked directly, not forwarded) on another hub Y on the
//!   same subject: asking one hub what another refused.
//!
//! Memory: per hub, a summary of every `outbound` and `inbound` entry (the compared fields, a few
//! hundred bytes each) indexed by ledger index and by nonce, the `peer_receipt` entries and the
//! indices of `forward_failed` ones; across hubs, every denial's subject, time and index. Plain
//! decisions are not held: they are checked against the denials of the hubs read before them,
//! and a hub read before another hub's denials is read a second time for them (only when there
//! are such denials).

use std::collections::HashMap;
use std::sync::Arc;

use model::entry::{DecisionEntry, Entry, FederationInfo, HashedSubject, PeerReceiptEntry, Verdict};
use model::{ChainLink, Outcome};

use crate::finding::{Finding, Kind, Severity, Subject};
use crate::ledger::{LedgerReader, ReadError};

/// Default of [`FederationRules::grace_secs`]: seconds in which a request may be in flight.
pub const DEFAULT_GRACE_SECS: u64 = 120;

/// The federation audit's thresholds.
#[derive(Clone, Debug)]
pub struct FederationRules {
    /// A request sent less than this many seconds before the newest entry of the ledger that should
    /// hold its other side is in flight, not missing.
    pub grace_secs: u64,
    /// How long after a denial on one hub a direct request on another hub on the same subject is
    /// a finding (seconds).
    pub window_secs: u64,
}

impl Default for FederationRules {
    fn default() -> Self {
        Self { grace_secs: DEFAULT_GRACE_SECS, window_secs: 72 * 3600 }
    }
}

/// Why a federation could not be audited.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// Fewer than two ledgers.
    #[error("a federation audit needs the ledgers of at least two hubs; {0} given")]
    TooFew(usize),
    /// Two ledgers with one origin (the same hub given twice, or two hubs misconfigured).
    #[error("{first} and {second} are ledgers of one origin {origin:?}: give each hub once")]
    SameOrigin {
        /// The origin.
        origin: String,
        /// Where the first was read.
        first: String,
        /// Where the second was read.
        second: String,
    },
    /// A ledger could not be read (it does not verify, or holds an entry that is not one).
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// What was read from one hub's ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubStats {
    /// The ledger's origin (its checkpoint's first line).
    pub origin: String,
    /// Where it was read (the directory or URL).
    pub location: String,
    /// Entries under its verified checkpoint (all were read).
    pub size: u64,
    /// The time of its newest entry (Unix seconds), if it has one.
    pub newest: Option<u64>,
    /// Plain `decision` entries.
    pub decisions: u64,
    /// `outbound` entries.
    pub outbound: u64,
    /// `inbound` entries.
    pub inbound: u64,
    /// `peer_receipt` entries.
    pub receipts: u64,
    /// `forward_failed` entries.
    pub forward_failed: u64,
    /// `peer_refused` entries.
    pub peer_refused: u64,
    /// Findings that rest on one of its entries.
    pub findings: u64,
    /// What was not checked, and why (requests in flight, peers not audited).
    pub notes: Vec<String>,
}

/// What a federation audit read and found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FederationStats {
    /// Each ledger, in the order given.
    pub hubs: Vec<HubStats>,
    /// Findings emitted.
    pub findings: u64,
}

/// The fields of a forwarded request that both sides must log alike.
struct Request {
    index: u64,
    time: u64,
    decision_id: String,
    decision: Outcome,
    requester: (String, String),
    on_behalf_of: Vec<ChainLink>,
    source: String,
    subject: HashedSubject,
    action: String,
    purpose: String,
    fed: FederationInfo,
}

impl Request {
    fn of(index: u64, d: &DecisionEntry) -> Option<Self> {
        Some(Self {
            index,
            time: d.time,
            decision_id: d.decision_id.clone(),
            decision: d.decision,
            requester: (d.requester.agency.clone(), d.requester.id.clone()),
            on_behalf_of: d.on_behalf_of.clone(),
            source: d.source.clone(),
            subject: d.subject.clone(),
            action: d.action.clone(),
            purpose: d.purpose.clone(),
            fed: d.federation.clone()?,
        })
    }
}

/// An outbound request and when it was sent (permitted, or approved on review), if it was.
struct Out {
    req: Request,
    sent: Option<u64>,
}

/// An inbound request and the leaf hash of its entry.
struct In {
    req: Request,
    leaf: [u8; 32],
}

/// One hub's federation entries.
#[derive(Default)]
struct Hub {
    stats: HubStats,
    outbound: Vec<Out>,
    out_at: HashMap<u64, usize>,
    inbound: Vec<In>,
    in_at: HashMap<u64, usize>,
    in_by_nonce: HashMap<String, Vec<usize>>,
    receipts: Vec<(u64, PeerReceiptEntry)>,
    /// Outbound indices with a `forward_failed` entry, and why.
    failed: HashMap<u64, String>,
    /// Denials it holds.
    denials: u64,
}

impl Hub {
    fn newest(&self) -> u64 {
        self.stats.newest.unwrap_or(0)
    }
}

/// A denial remembered for its subject.
struct Denial {
    hub: usize,
    index: u64,
    time: u64,
    kind: &'static str,
    agency: String,
    purpose: String,
}

/// Denials by subject kind, then subject keyed hash.
type Denials = HashMap<String, HashMap<String, Vec<Denial>>>;

/// Audits the federation whose hubs' verified ledgers are `readers` (two or more, each hub once),
/// streaming the findings to `out`.
pub fn audit(
    readers: &[LedgerReader],
    rules: &FederationRules,
    out: &mut dyn FnMut(Finding),
) -> Result<FederationStats, FederationError> {
    if readers.len() < 2 {
        return Err(FederationError::TooFew(readers.len()));
    }
    let mut by_origin: HashMap<String, usize> = HashMap::new();
    for (i, r) in readers.iter().enumerate() {
        let origin = &r.checkpoint().origin;
        if let Some(&j) = by_origin.get(origin) {
            return Err(FederationError::SameOrigin {
                origin: origin.clone(),
                first: readers[j].location().to_string(),
                second: r.location().to_string(),
            });
        }
        by_origin.insert(origin.clone(), i);
    }
    let mut audit = Audit { hubs: Vec::new(), denials: HashMap::new(), by_origin, rules, found: 0 };
    let last = readers.len() - 1;
    for (i, r) in readers.iter().enumerate() {
        audit.read(i, r, i == last, out)?;
    }
    audit.match_outbound(out);
    audit.match_inbound(out);
    audit.relays(out);
    audit.receipts(out);
    // A hub read before another hub's denials: its plain decisions once more.
    for (i, r) in readers.iter().enumerate().take(last) {
        if audit.hubs.iter().enumerate().any(|(j, h)| j != i && h.denials > 0) {
            for item in r.entries() {
                if let (index, Entry::Decision(d)) = item? {
                    audit.denied_elsewhere(i, index, &d, out);
                }
            }
        }
    }
    let found = audit.found;
    Ok(FederationStats { hubs: audit.hubs.into_iter().map(|h| h.stats).collect(), findings: found })
}

/// A finding on a forwarded request, gathered while the hubs are borrowed and emitted after.
struct Pending {
    hub: usize,
    index: u64,
    decision_id: String,
    time: u64,
    requester: Option<(String, String)>,
    kind: Kind,
    rule: &'static str,
    evidence: String,
}

impl Pending {
    fn of(hub: usize, req: &Request, kind: Kind, rule: &'static str, evidence: String) -> Self {
        Self {
            hub,
            index: req.index,
            decision_id: req.decision_id.clone(),
            time: req.time,
            requester: Some(req.requester.clone()),
            kind,
            rule,
            evidence,
        }
    }
}

struct Audit<'r> {
    hubs: Vec<Hub>,
    denials: Denials,
    by_origin: HashMap<String, usize>,
    rules: &'r FederationRules,
    found: u64,
}

impl Audit<'_> {
    /// Reads hub `i`'s ledger; `last`: every other hub was read, so its plain decisions are
    /// checked against their denials now.
    fn read(&mut self, i: usize, r: &LedgerReader, last: bool, out: &mut dyn FnMut(Finding)) -> Result<(), ReadError> {
        let mut hub = Hub {
            stats: HubStats {
                origin: r.checkpoint().origin.clone(),
                location: r.location().to_string(),
                size: r.size(),
                ..HubStats::default()
            },
            ..Hub::default()
        };
        for item in r.entries_with_bytes_from(0) {
            let (index, entry, bytes) = item?;
            let s = &mut hub.stats;
            s.newest = Some(s.newest.unwrap_or(0).max(entry.time()));
            match &entry {
                Entry::Decision(d) => {
                    s.decisions += 1;
                    if last {
                        self.hubs.push(hub);
                        self.denied_elsewhere(i, index, d, out);
                        hub = self.hubs.pop().expect("pushed above");
                    }
                }
                Entry::Outbound(d) => {
                    s.outbound += 1;
                    if let Some(req) = Request::of(index, d) {
                        let sent = (d.decision == Outcome::Permit).then_some(d.time);
                        hub.out_at.insert(index, hub.outbound.len());
                        hub.outbound.push(Out { req, sent });
                    }
                }
                Entry::Inbound(d) => {
                    s.inbound += 1;
                    if let Some(req) = Request::of(index, d) {
                        let leaf = ::ledger::merkle::leaf_hash(&bytes);
                        hub.in_at.insert(index, hub.inbound.len());
                        hub.in_by_nonce.entry(req.fed.nonce.clone()).or_default().push(hub.inbound.len());
                        hub.inbound.push(In { req, leaf });
                    }
                }
                Entry::Review(rv) if rv.verdict == Verdict::Approve => {
                    if let Some(&k) = hub.out_at.get(&rv.decision_index) {
                        hub.outbound[k].sent = Some(rv.time);
                    }
                }
                Entry::PeerReceipt(p) => {
                    s.receipts += 1;
                    hub.receipts.push((index, p.clone()));
                }
                Entry::ForwardFailed(f) => {
                    s.forward_failed += 1;
                    hub.failed.insert(f.decision_index, f.why.clone());
                }
                Entry::PeerRefused(_) => s.peer_refused += 1,
                _ => {}
            }
            if let Some(d) = entry.as_decision().filter(|d| d.decision == Outcome::Deny) {
                hub.denials += 1;
                self.denials
                    .entry(d.subject.kind.clone())
                    .or_default()
                    .entry(d.subject.hmac.clone())
                    .or_default()
                    .push(Denial {
                        hub: i,
                        index,
                        time: d.time,
                        kind: entry.kind(),
                        agency: d.on_behalf_of.first().map_or(&d.requester.agency, |l| &l.agency).clone(),
                        purpose: d.purpose.clone(),
                    });
            }
        }
        self.hubs.push(hub);
        Ok(())
    }

    fn emit(&mut self, f: Finding, hub: usize, out: &mut dyn FnMut(Finding)) {
        self.found += 1;
        self.hubs[hub].stats.findings += 1;
        out(f);
    }

    /// A finding on entry `index` of hub `hub`, about the request `req` (or a plain decision).
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        hub: usize,
        index: u64,
        decision_id: &str,
        time: u64,
        requester: Option<(&str, &str)>,
        kind: Kind,
        severity: Severity,
        rule: &'static str,
        evidence: String,
    ) -> Finding {
        Finding {
            kind,
            severity,
            subject: Subject::LedgerEntry { entry: index, decision_id: decision_id.to_string() },
            line: index,
            evidence,
            rule,
            citation: "",
            agency: requester.map(|r| r.0.to_string()),
            user: requester.map(|r| r.1.to_string()),
            time: timestamp(time),
            file: Some(Arc::from(self.hubs[hub].stats.origin.as_str())),
            also_in: Vec::new(),
        }
    }

    /// Emits gathered findings (all of high severity).
    fn flush(&mut self, found: Vec<Pending>, out: &mut dyn FnMut(Finding)) {
        for p in found {
            let f = self.finding(
                p.hub,
                p.index,
                &p.decision_id,
                p.time,
                p.requester.as_ref().map(|(a, u)| (a.as_str(), u.as_str())),
                p.kind,
                Severity::High,
                p.rule,
                p.evidence,
            );
            self.emit(f, p.hub, out);
        }
    }

    fn origin(&self, hub: usize) -> &str {
        &self.hubs[hub].stats.origin
    }

    /// Every request a hub sent to an audited peer: logged by the peer, alike.
    fn match_outbound(&mut self, out: &mut dyn FnMut(Finding)) {
        let grace = self.rules.grace_secs;
        let mut found = Vec::new();
        for a in 0..self.hubs.len() {
            let (mut elsewhere, mut in_flight, mut failed) = (HashMap::<&str, u64>::new(), 0u64, 0u64);
            for o in &self.hubs[a].outbound {
                let Some(&b) = self.by_origin.get(&o.req.fed.peer) else {
                    *elsewhere.entry(o.req.fed.peer.as_str()).or_default() += 1;
                    continue;
                };
                let hb = &self.hubs[b];
                let got = hb
                    .in_by_nonce
                    .get(&o.req.fed.nonce)
                    .into_iter()
                    .flatten()
                    .map(|&k| &hb.inbound[k])
                    .find(|i| i.req.fed.peer == self.origin(a) && i.req.fed.sender_index == Some(o.req.index));
                match (got, o.sent) {
                    (Some(i), None) => {
                        let evidence = format!(
                            "{b_origin} logged inbound entry {} (nonce {}) for {a_origin}'s outbound entry {}, which \
                             {a_origin} decided {} and never sent; practice concern",
                            i.req.index,
                            o.req.fed.nonce,
                            o.req.index,
                            o.req.decision.as_str(),
                            a_origin = self.origin(a),
                            b_origin = hb.stats.origin,
                        );
                        found.push(Pending::of(b, &i.req, Kind::ChainMismatch, "federation.chain_mismatch", evidence));
                    }
                    (Some(i), Some(_)) => {
                        let diffs = differences(&o.req, &i.req, Some(self.origin(a)));
                        if !diffs.is_empty() {
                            let evidence = format!(
                                "{b_origin}'s inbound entry {} and {a_origin}'s outbound entry {} (nonce {}) differ: \
                                 {}; practice concern",
                                i.req.index,
                                o.req.index,
                                o.req.fed.nonce,
                                diffs.join("; "),
                                a_origin = self.origin(a),
                                b_origin = hb.stats.origin,
                            );
                            found.push(Pending::of(
                                b,
                                &i.req,
                                Kind::ChainMismatch,
                                "federation.chain_mismatch",
                                evidence,
                            ));
                        }
                    }
                    (None, None) => {}
                    (None, Some(_)) if self.hubs[a].failed.contains_key(&o.req.index) => failed += 1,
                    (None, Some(t)) if t.saturating_add(grace) > hb.newest() => in_flight += 1,
                    (None, Some(t)) => {
                        let near = hb
                            .in_by_nonce
                            .get(&o.req.fed.nonce)
                            .and_then(|v| v.first())
                            .map(|&k| {
                                let i = &hb.inbound[k].req;
                                format!(
                                    "; its inbound entry {} has this nonce but names sender {} index {}",
                                    i.index,
                                    i.fed.peer,
                                    i.fed.sender_index.map_or_else(|| "none".to_string(), |s| s.to_string())
                                )
                            })
                            .unwrap_or_default();
                        let evidence = format!(
                            "{a_origin} sent outbound entry {} ({} for {} on {}, nonce {}) to {b_origin} at {}; \
                             {b_origin}'s ledger ({} entries, newest at {}) has no inbound entry for it{near}; \
                             practice concern",
                            o.req.index,
                            o.req.decision.as_str(),
                            chain_text(&o.req),
                            o.req.source,
                            o.req.fed.nonce,
                            when(t),
                            hb.stats.size,
                            when(hb.newest()),
                            a_origin = self.origin(a),
                            b_origin = hb.stats.origin,
                        );
                        found.push(Pending::of(
                            a,
                            &o.req,
                            Kind::UnmatchedHop,
                            "federation.unmatched_outbound",
                            evidence,
                        ));
                    }
                }
            }
            let mut notes = Vec::new();
            if in_flight > 0 {
                notes.push(format!(
                    "{in_flight} outbound requests sent within {grace} s of their peer's newest entry were not \
                     matched (in flight)"
                ));
            }
            if failed > 0 {
                notes.push(format!(
                    "{failed} outbound requests the peer did not log have a forward_failed entry (not flagged)"
                ));
            }
            let mut elsewhere: Vec<_> = elsewhere.into_iter().collect();
            elsewhere.sort();
            for (peer, n) in elsewhere {
                notes.push(format!("{n} outbound requests to {peer}, whose ledger was not audited, were not matched"));
            }
            self.hubs[a].stats.notes.extend(notes);
        }
        self.flush(found, out);
    }

    /// Every request a hub says an audited peer sent: in the peer's books.
    fn match_inbound(&mut self, out: &mut dyn FnMut(Finding)) {
        let grace = self.rules.grace_secs;
        let mut found = Vec::new();
        for b in 0..self.hubs.len() {
            let (mut elsewhere, mut in_flight) = (HashMap::<&str, u64>::new(), 0u64);
            for i in &self.hubs[b].inbound {
                let Some(&a) = self.by_origin.get(&i.req.fed.peer) else {
                    *elsewhere.entry(i.req.fed.peer.as_str()).or_default() += 1;
                    continue;
                };
                let ha = &self.hubs[a];
                let at = i.req.fed.sender_index.and_then(|k| ha.out_at.get(&k)).map(|&k| &ha.outbound[k].req);
                if at.is_some_and(|o| o.fed.nonce == i.req.fed.nonce && o.fed.peer == self.origin(b)) {
                    continue;
                }
                if i.req.time.saturating_add(grace) > ha.newest() {
                    in_flight += 1;
                    continue;
                }
                let there = match (i.req.fed.sender_index, at) {
                    (None, _) => "the inbound entry names no sender index".to_string(),
                    (Some(k), _) if k >= ha.stats.size => {
                        format!("index {k} is beyond {}'s checkpoint of {} entries", ha.stats.origin, ha.stats.size)
                    }
                    (Some(k), Some(o)) => format!(
                        "{}'s outbound entry {k} is another request (nonce {}, to {})",
                        ha.stats.origin, o.fed.nonce, o.fed.peer
                    ),
                    (Some(k), None) => format!("{}'s entry {k} is not an outbound entry", ha.stats.origin),
                };
                let evidence = format!(
                    "{b_origin} logged inbound entry {} ({} for {} on {}, nonce {}) at {} as sent by {a_origin}, \
                     which has no outbound entry for it: {there}; practice concern",
                    i.req.index,
                    i.req.decision.as_str(),
                    chain_text(&i.req),
                    i.req.source,
                    i.req.fed.nonce,
                    when(i.req.time),
                    a_origin = ha.stats.origin,
                    b_origin = self.origin(b),
                );
                found.push(Pending::of(b, &i.req, Kind::UnmatchedHop, "federation.unmatched_inbound", evidence));
            }
            let mut notes = Vec::new();
            if in_flight > 0 {
                notes.push(format!(
                    "{in_flight} inbound requests logged within {grace} s of their sender's newest entry were not \
                     matched (in flight)"
                ));
            }
            let mut elsewhere: Vec<_> = elsewhere.into_iter().collect();
            elsewhere.sort();
            for (peer, n) in elsewhere {
                notes.push(format!("{n} inbound requests from {peer}, whose ledger was not audited, were not matched"));
            }
            self.hubs[b].stats.notes.extend(notes);
        }
        self.flush(found, out);
    }

    /// Every relayed request: the relay's outbound entry as its inbound entry said.
    fn relays(&mut self, out: &mut dyn FnMut(Finding)) {
        let mut found = Vec::new();
        for h in 0..self.hubs.len() {
            let hub = &self.hubs[h];
            for o in &hub.outbound {
                let Some(i) = hub
                    .in_by_nonce
                    .get(&o.req.fed.nonce)
                    .into_iter()
                    .flatten()
                    .map(|&k| &hub.inbound[k].req)
                    .find(|i| i.index < o.req.index)
                else {
                    continue;
                };
                let mut diffs = differences(i, &o.req, None);
                if i.decision == Outcome::Deny && o.sent.is_some() {
                    diffs.insert(
                        0,
                        format!("the inbound request was denied, yet relayed ({})", o.req.decision.as_str()),
                    );
                }
                if !diffs.is_empty() {
                    let evidence = format!(
                        "{} relayed inbound entry {} (from {}) as outbound entry {} (to {}), nonce {}, changed: {}; \
                         practice concern",
                        hub.stats.origin,
                        i.index,
                        i.fed.peer,
                        o.req.index,
                        o.req.fed.peer,
                        o.req.fed.nonce,
                        diffs.join("; ")
                    );
                    found.push(Pending::of(h, &o.req, Kind::ChainMismatch, "federation.relay_changed", evidence));
                }
            }
        }
        self.flush(found, out);
    }

    /// Every receipt a hub logged from an audited peer: the peer's inbound entry for the request.
    fn receipts(&mut self, out: &mut dyn FnMut(Finding)) {
        let grace = self.rules.grace_secs;
        let mut found = Vec::new();
        for a in 0..self.hubs.len() {
            let ha = &self.hubs[a];
            let mut in_flight = 0u64;
            for (index, r) in &ha.receipts {
                let Some(&b) = self.by_origin.get(&r.peer) else { continue };
                let hb = &self.hubs[b];
                let o = ha.out_at.get(&r.decision_index).map(|&k| &ha.outbound[k].req);
                let mut wrong = Vec::new();
                match o {
                    None => {
                        wrong.push(format!("{}'s entry {} is not an outbound entry", ha.stats.origin, r.decision_index))
                    }
                    Some(o) if o.fed.peer != r.peer => wrong.push(format!(
                        "{}'s outbound entry {} went to {}, not {}",
                        ha.stats.origin, r.decision_index, o.fed.peer, r.peer
                    )),
                    Some(_) => {}
                }
                if r.peer_index >= hb.stats.size {
                    if r.time.saturating_add(grace) > hb.newest() {
                        in_flight += 1;
                        continue;
                    }
                    wrong.push(format!(
                        "peer index {} is beyond {}'s checkpoint of {} entries",
                        r.peer_index, hb.stats.origin, hb.stats.size
                    ));
                } else if let Some(&k) = hb.in_at.get(&r.peer_index) {
                    let i = &hb.inbound[k];
                    let leaf = hex(&i.leaf);
                    if !r.peer_leaf.eq_ignore_ascii_case(&leaf) {
                        wrong.push(format!(
                            "peer leaf {} is not the leaf hash of {}'s entry {} ({leaf})",
                            r.peer_leaf, hb.stats.origin, r.peer_index
                        ));
                    }
                    if let Some(o) = o {
                        if i.req.fed.nonce != o.fed.nonce
                            || i.req.fed.peer != ha.stats.origin
                            || i.req.fed.sender_index != Some(o.index)
                        {
                            wrong.push(format!(
                                "{}'s entry {} is the inbound entry of another request (nonce {}, from {}, sender \
                                 index {})",
                                hb.stats.origin,
                                r.peer_index,
                                i.req.fed.nonce,
                                i.req.fed.peer,
                                i.req.fed.sender_index.map_or_else(|| "none".to_string(), |s| s.to_string())
                            ));
                        }
                    }
                    if i.req.decision != r.peer_decision {
                        wrong.push(format!(
                            "the receipt says {}, {}'s entry says {}",
                            r.peer_decision.as_str(),
                            hb.stats.origin,
                            i.req.decision.as_str()
                        ));
                    }
                } else {
                    wrong.push(format!("{}'s entry {} is not an inbound entry", hb.stats.origin, r.peer_index));
                }
                if !wrong.is_empty() {
                    let nonce = o.map_or("unknown", |o| o.fed.nonce.as_str());
                    let evidence = format!(
                        "{}'s peer receipt (entry {index}) for outbound entry {}, nonce {nonce}, names {}'s entry {}: \
                         {}; practice concern",
                        ha.stats.origin,
                        r.decision_index,
                        r.peer,
                        r.peer_index,
                        wrong.join("; ")
                    );
                    found.push(Pending {
                        hub: a,
                        index: *index,
                        decision_id: r.decision_id.clone(),
                        time: r.time,
                        requester: o.map(|o| o.requester.clone()),
                        kind: Kind::ReceiptMismatch,
                        rule: "federation.receipt_mismatch",
                        evidence,
                    });
                }
            }
            if in_flight > 0 {
                let note = format!(
                    "{in_flight} peer receipts name an entry beyond the peer's checkpoint within {grace} s of its \
                     newest entry (not yet published)"
                );
                self.hubs[a].stats.notes.push(note);
            }
        }
        self.flush(found, out);
    }

    /// A plain decision on hub `y`: on a subject another hub denied shortly before?
    fn denied_elsewhere(&mut self, y: usize, index: u64, d: &DecisionEntry, out: &mut dyn FnMut(Finding)) {
        let window = self.rules.window_secs;
        let Some(list) = self.denials.get(&d.subject.kind).and_then(|m| m.get(&d.subject.hmac)) else { return };
        let Some(x) = list
            .iter()
            .filter(|x| x.hub != y && x.time <= d.time && d.time - x.time <= window)
            .max_by_key(|x| (x.time, x.hub, x.index))
        else {
            return;
        };
        let severity = match d.decision {
            Outcome::Permit => Severity::High,
            Outcome::Review => Severity::Medium,
            Outcome::Deny => Severity::Low,
        };
        let mut chain = format!("{}/{}", d.requester.agency, d.requester.id);
        for l in &d.on_behalf_of {
            chain.push_str(&format!(" for {}/{}", l.agency, l.id));
        }
        let evidence = format!(
            "{y_origin} decided {} on {chain}'s direct request ({}, {} on {}) on {} subject {}… {} after {x_origin} \
             denied it (its {} entry {}, for {}, purpose {}); practice concern",
            d.decision.as_str(),
            d.purpose,
            d.action,
            d.source,
            d.subject.kind,
            &d.subject.hmac[..d.subject.hmac.len().min(12)],
            duration(d.time - x.time),
            x.kind,
            x.index,
            x.agency,
            x.purpose,
            y_origin = self.origin(y),
            x_origin = self.origin(x.hub),
        );
        let f = self.finding(
            y,
            index,
            &d.decision_id,
            d.time,
            Some((&d.requester.agency, &d.requester.id)),
            Kind::DeniedElsewhere,
            severity,
            "federation.denied_then_asked_elsewhere",
            evidence,
        );
        self.emit(f, y, out);
    }
}

/// How `got` differs from `sent` (the same request on the next hub: `hops` grown by `sender`; on
/// a relay, `sender` is `None` and `hops` is the same), one phrase per field.
fn differences(sent: &Request, got: &Request, sender: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name} {a} sent, {b} logged"));
        }
    };
    field(
        "requester",
        format!("{}/{}", sent.requester.0, sent.requester.1),
        format!("{}/{}", got.requester.0, got.requester.1),
    );
    field("on_behalf_of", links(&sent.on_behalf_of), links(&got.on_behalf_of));
    field("source", sent.source.clone(), got.source.clone());
    field(
        "subject",
        format!("{} {}", sent.subject.kind, sent.subject.hmac),
        format!("{} {}", got.subject.kind, got.subject.hmac),
    );
    field("action", sent.action.clone(), got.action.clone());
    field("purpose", sent.purpose.clone(), got.purpose.clone());
    field("envelope", sent.fed.envelope.clone(), got.fed.envelope.clone());
    let mut hops = sent.fed.hops.clone();
    hops.extend(sender.map(str::to_string));
    field("hops", format!("[{}]", hops.join(", ")), format!("[{}]", got.fed.hops.join(", ")));
    out
}

/// An `on_behalf_of` chain as `[agency/id, ...]`.
fn links(chain: &[ChainLink]) -> String {
    let parts: Vec<String> = chain.iter().map(|l| format!("{}/{}", l.agency, l.id)).collect();
    format!("[{}]", parts.join(", "))
}

/// The requester and the chain: `agency/id for agency/id ...`.
fn chain_text(r: &Request) -> String {
    let mut s = format!("{}/{}", r.requester.0, r.requester.1);
    for l in &r.on_behalf_of {
        s.push_str(&format!(" for {}/{}", l.agency, l.id));
    }
    s
}

fn timestamp(secs: u64) -> Option<crate::time::Timestamp> {
    i64::try_from(secs).ok().map(|t| crate::time::Timestamp { millis: t.saturating_mul(1000), zone_known: true })
}

/// A ledger time as ISO 8601 (UTC).
fn when(secs: u64) -> String {
    timestamp(secs).map_or_else(|| secs.to_string(), |t| t.to_string())
}

fn duration(secs: u64) -> String {
    if secs < 3600 {
        format!("{} min", secs / 60)
    } else {
        format!("{:.1} h", secs as f64 / 3600.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
