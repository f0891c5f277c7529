//! The side door: detectors over a hub's ledger entries ([`crate::ledger`], format
//! `model::entry`) for immigration enforcement getting local data around the checkpoint.
//!
//! Agencies are classed by the deployment the hub runs (`model::Deployment`): *immigration* (kind
//! `dhs_immigration`, or an immigration role), *federal* (federal jurisdiction), or *local*
//! (anything else). An agency id the deployment does not know is noted and counted as neither.
//!
//! A decision is *immigration-tied* when its purpose is an immigration purpose
//! (`model::vocab::IMMIGRATION_PURPOSES`), its justification carried immigration signals, or an
//! immigration agency is the requester or in its `on_behalf_of` chain; it is *federal* when it is
//! immigration-tied or a federal agency is the requester or in the chain.
//!
//! Rules (`side_door` findings unless said otherwise):
//! - `ledger.immigration_answered` (high): an immigration-tied request by a local requester that
//!   was permitted, or held and then approved by a supervisor: a local search answered it.
//! - `ledger.local_after_denied` (high if permitted, medium if held): a local requester's query,
//!   with no federal agency in its chain, on the same subject (same kind and HMAC) within the
//!   window after a federal request on it was denied (by the checkpoint or a supervisor).
//! - `ledger.retry_until_permitted` (`retry_until_permitted`, medium): the same user was denied on
//!   the same subject at least `retries` times within the window, then permitted.
//!
//! Memory holds, per subject, the denied federal requests still inside the window and, per user
//! and subject, their recent denials; held decisions are kept until their review.

use std::collections::HashMap;

use model::entry::{DecisionEntry, Entry, Verdict};
use model::{Deployment, Outcome};

use crate::finding::{Finding, Kind, Severity, Subject};
use crate::stats::ImportStats;

/// Thresholds of the ledger detectors.
#[derive(Clone, Debug)]
pub struct LedgerRules {
    /// How long after a denied federal request a local query on the same subject is suspect, and
    /// the span over which a user's denials are counted (seconds).
    pub window_secs: u64,
    /// Denials of one user on one subject, before a permit, that make a retry finding.
    pub retries: usize,
}

impl Default for LedgerRules {
    fn default() -> Self {
        Self { window_secs: 72 * 3600, retries: 2 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Immigration,
    Federal,
    Local,
    Unknown,
}

/// A denied federal request, remembered for its subject.
struct Denied {
    index: u64,
    time: u64,
    agency: String,
    purpose: String,
}

/// A user and a subject: (agency, user id, subject kind, subject HMAC).
type UserSubject = (String, String, String, String);

/// Runs the ledger detectors over entries in ledger order.
pub struct SideDoor<'d> {
    deployment: &'d Deployment,
    rules: LedgerRules,
    /// Denied federal requests by subject (kind, hmac).
    denied: HashMap<(String, String), Vec<Denied>>,
    /// Denials by (agency, user, subject kind, subject hmac): (index, time, purpose).
    denials: HashMap<UserSubject, Vec<(u64, u64, String)>>,
    /// Held decisions by decision id: the entry and its index.
    held: HashMap<String, (DecisionEntry, u64)>,
    /// Agency ids the deployment does not know.
    unknown: std::collections::BTreeSet<String>,
    /// Entries read, findings emitted, notes.
    pub stats: ImportStats,
}

impl<'d> SideDoor<'d> {
    /// A detector over the ledger of a hub running `deployment`.
    pub fn new(deployment: &'d Deployment, rules: LedgerRules) -> Self {
        Self {
            deployment,
            rules,
            denied: HashMap::new(),
            denials: HashMap::new(),
            held: HashMap::new(),
            unknown: Default::default(),
            stats: ImportStats::default(),
        }
    }

    fn class(&mut self, agency: &str) -> Class {
        match self.deployment.agency(agency) {
            Some(a) if a.kind == model::AgencyKind::DhsImmigration || a.immigration_role != Default::default() => {
                Class::Immigration
            }
            Some(a) if a.is_federal() => Class::Federal,
            Some(_) => Class::Local,
            None => {
                self.unknown.insert(agency.to_owned());
                Class::Unknown
            }
        }
    }

    /// (immigration-tied, federal, requester is local) for a decision.
    fn judge(&mut self, d: &DecisionEntry) -> (bool, bool, bool) {
        let requester = self.class(&d.requester.agency);
        let chain: Vec<Class> = d.on_behalf_of.iter().map(|l| l.agency.clone()).map(|a| self.class(&a)).collect();
        let all = || std::iter::once(requester).chain(chain.iter().copied());
        let immigration = model::vocab::IMMIGRATION_PURPOSES.contains(&d.purpose.as_str())
            || !d.justification_signals.is_empty()
            || all().any(|c| c == Class::Immigration);
        let federal = immigration || all().any(|c| c == Class::Federal);
        (immigration, federal, requester == Class::Local)
    }

    fn finding(
        index: u64,
        d: &DecisionEntry,
        kind: Kind,
        severity: Severity,
        evidence: String,
        rule: &'static str,
    ) -> Finding {
        Finding {
            kind,
            severity,
            subject: Subject::LedgerEntry { entry: index, decision_id: d.decision_id.clone() },
            line: index,
            evidence,
            rule,
            citation: if kind == Kind::SideDoor { crate::search_audit::SANCTUARY_CITATION } else { "" },
            agency: Some(d.requester.agency.clone()),
            user: Some(d.requester.id.clone()),
            time: i64::try_from(d.time)
                .ok()
                .map(|t| crate::time::Timestamp { millis: t.saturating_mul(1000), zone_known: true }),
            file: None,
            also_in: Vec::new(),
        }
    }

    fn chain_text(d: &DecisionEntry) -> String {
        let mut s = format!("{}/{}", d.requester.agency, d.requester.id);
        for l in &d.on_behalf_of {
            s.push_str(&format!(" for {}/{}", l.agency, l.id));
        }
        s
    }

    /// One entry, with its ledger index.
    pub fn entry(&mut self, index: u64, entry: &Entry, out: &mut dyn FnMut(Finding)) {
        self.stats.read += 1;
        self.stats.kept += 1;
        let mut emit = |f: Finding, stats: &mut ImportStats| {
            stats.findings += 1;
            out(f)
        };
        match entry {
            // An outbound permit releases nothing here (the peer decides again; its inbound
            // entry is the release), but its deny is a denial like any other.
            Entry::Outbound(d) if d.decision == Outcome::Deny => {
                let (_, federal, _) = self.judge(d);
                self.denial(index, d, federal);
            }
            Entry::Decision(d) | Entry::Inbound(d) => {
                let (immigration, federal, local) = self.judge(d);
                match d.decision {
                    Outcome::Permit => {
                        if immigration && local {
                            let f = Self::finding(
                                index,
                                d,
                                Kind::SideDoor,
                                Severity::High,
                                format!(
                                    "immigration-tied request permitted to a local requester: {} ({}, {} on {})",
                                    Self::chain_text(d),
                                    d.purpose,
                                    d.action,
                                    d.source
                                ),
                                "ledger.immigration_answered",
                            );
                            emit(f, &mut self.stats);
                        }
                        self.local_after_denied(index, d, federal, local, Severity::High, &mut emit);
                        self.retries(index, d, &mut emit);
                    }
                    Outcome::Review => {
                        self.local_after_denied(index, d, federal, local, Severity::Medium, &mut emit);
                        self.held.insert(d.decision_id.clone(), (d.clone(), index));
                    }
                    Outcome::Deny => self.denial(index, d, federal),
                }
            }
            Entry::Review(r) => {
                let Some((d, at)) = self.held.remove(&r.decision_id) else {
                    self.stats.notes.push(format!(
                        "entry {index}: review of {} whose decision is not in the ledger read",
                        r.decision_id
                    ));
                    return;
                };
                let (immigration, federal, local) = self.judge(&d);
                match r.verdict {
                    Verdict::Approve if immigration && local => {
                        let f = Self::finding(
                            index,
                            &d,
                            Kind::SideDoor,
                            Severity::High,
                            format!(
                                "immigration-tied request (entry {at}) approved by {}/{} for a local requester: {} ({}, {} on {})",
                                r.supervisor.agency,
                                r.supervisor.id,
                                Self::chain_text(&d),
                                d.purpose,
                                d.action,
                                d.source
                            ),
                            "ledger.immigration_answered",
                        );
                        emit(f, &mut self.stats);
                    }
                    Verdict::Approve => {}
                    Verdict::Deny => {
                        let mut denied = d.clone();
                        denied.time = r.time;
                        self.denial(index, &denied, federal);
                    }
                }
            }
            Entry::Refused(_)
            | Entry::Notified(_)
            | Entry::Release(_)
            | Entry::Outbound(_)
            | Entry::PeerReceipt(_)
            | Entry::ForwardFailed(_)
            | Entry::PeerRefused(_) => {}
        }
    }

    fn denial(&mut self, index: u64, d: &DecisionEntry, federal: bool) {
        let subject = (d.subject.kind.clone(), d.subject.hmac.clone());
        if federal {
            self.denied.entry(subject.clone()).or_default().push(Denied {
                index,
                time: d.time,
                agency: d.on_behalf_of.first().map_or(&d.requester.agency, |l| &l.agency).clone(),
                purpose: d.purpose.clone(),
            });
        }
        let key = (d.requester.agency.clone(), d.requester.id.clone(), subject.0, subject.1);
        self.denials.entry(key).or_default().push((index, d.time, d.purpose.clone()));
    }

    fn local_after_denied(
        &mut self,
        index: u64,
        d: &DecisionEntry,
        federal: bool,
        local: bool,
        severity: Severity,
        emit: &mut dyn FnMut(Finding, &mut ImportStats),
    ) {
        if federal || !local {
            return;
        }
        let window = self.rules.window_secs;
        let key = (d.subject.kind.clone(), d.subject.hmac.clone());
        let Some(list) = self.denied.get_mut(&key) else { return };
        list.retain(|x| d.time.saturating_sub(x.time) <= window);
        if let Some(x) = list.iter().rev().find(|x| x.time <= d.time) {
            let f = Self::finding(
                index,
                d,
                Kind::SideDoor,
                severity,
                format!(
                    "{} queried {} subject {}… {} after {} was denied on it (entry {}, purpose {}); {}",
                    Self::chain_text(d),
                    d.subject.kind,
                    &d.subject.hmac[..d.subject.hmac.len().min(12)],
                    duration(d.time - x.time),
                    x.agency,
                    x.index,
                    x.purpose,
                    d.decision.as_str()
                ),
                "ledger.local_after_denied",
            );
            emit(f, &mut self.stats);
        }
        if list.is_empty() {
            self.denied.remove(&key);
        }
    }

    fn retries(&mut self, index: u64, d: &DecisionEntry, emit: &mut dyn FnMut(Finding, &mut ImportStats)) {
        let key = (d.requester.agency.clone(), d.requester.id.clone(), d.subject.kind.clone(), d.subject.hmac.clone());
        let Some(list) = self.denials.remove(&key) else { return };
        let recent: Vec<&(u64, u64, String)> =
            list.iter().filter(|(_, t, _)| d.time.saturating_sub(*t) <= self.rules.window_secs).collect();
        if recent.len() >= self.rules.retries {
            let tries: Vec<String> = recent.iter().map(|(i, _, p)| format!("entry {i} ({p})")).collect();
            let f = Self::finding(
                index,
                d,
                Kind::RetryUntilPermitted,
                Severity::Medium,
                format!(
                    "{} was denied {} times on {} subject {}… ({}), then permitted with purpose {}",
                    Self::chain_text(d),
                    recent.len(),
                    d.subject.kind,
                    &d.subject.hmac[..d.subject.hmac.len().min(12)],
                    tries.join(", "),
                    d.purpose
                ),
                "ledger.retry_until_permitted",
            );
            emit(f, &mut self.stats);
        }
    }

    /// Ends the audit: notes agencies the deployment does not know and reviews never given.
    pub fn finish(mut self) -> ImportStats {
        if !self.unknown.is_empty() {
            let names: Vec<&str> = self.unknown.iter().map(String::as_str).collect();
            self.stats.notes.push(format!(
                "agencies not in the deployment (classed neither federal nor local): {}",
                names.join(", ")
            ));
        }
        if !self.held.is_empty() {
            self.stats.notes.push(format!("{} held decisions have no review yet", self.held.len()));
        }
        self.stats
    }
}

fn duration(secs: u64) -> String {
    if secs < 3600 {
        format!("{} min", secs / 60)
    } else {
        format!("{:.1} h", secs as f64 / 3600.0)
    }
}

/// Audits the verified ledger of a hub's data directory.
pub fn audit_data_dir(
    data: &std::path::Path,
    deployment: &Deployment,
    rules: LedgerRules,
    out: &mut dyn FnMut(Finding),
) -> Result<ImportStats, crate::ledger::ReadError> {
    audit(&crate::ledger::LedgerReader::open_data_dir(data)?, deployment, rules, out)
}

/// Audits a verified ledger: a data directory's, or one read from published tiles (a live
/// hub's `/ledger/` URL, with its verifier key), as an outside auditor does.
pub fn audit(
    reader: &crate::ledger::LedgerReader,
    deployment: &Deployment,
    rules: LedgerRules,
    out: &mut dyn FnMut(Finding),
) -> Result<ImportStats, crate::ledger::ReadError> {
    let mut detector = SideDoor::new(deployment, rules);
    for item in reader.entries() {
        let (index, entry) = item?;
        detector.entry(index, &entry, out);
    }
    Ok(detector.finish())
}
