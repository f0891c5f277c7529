//! The obligations that are not about the released data, carried out by the hub
//! (`laws/README.md`, `policy::Obligation`):
//!
//! * `certify:WHAT`: the law releases only against the requester's certification (C.R.S.
//!   24-74-105: certified under penalty of perjury that the data will not be used for immigration
//!   enforcement; 625 ILCS 5/2-130(c): a written declaration). The request must carry WHAT in its
//!   `certifications`; if it does not, the permit (or review) becomes a deny that names the missing
//!   certification. The certifications given are recorded in the decision's ledger entry.
//! * `notify_subject:Nd` / `Nbd`: the owning agency must tell the person, within N calendar (or
//!   business) days, that the request was made and by whom (N.Y. VTL 201(12)(a), 940 CMR
//!   37.04(1)), whatever the outcome. The hub puts a notice in the owning agency's durable outbox
//!   before it answers (`GET /v1/notifications` for its supervisors); marking it sent is a
//!   `notified` ledger entry.
//! * `report:BODY`: the request must be reported to an oversight body (ORS 181A.826(3)(a): the
//!   Criminal Justice Commission; 11 CCR 770.8(a), 776.4: California DOJ). The decision's ledger
//!   entry already carries the obligation; `GET /v1/reports` counts them per body from the
//!   published ledger, so anyone holding the public tiles can recompute the figures.
//! * `record_dissemination` is the ledger entry itself.

use std::collections::BTreeMap;
use std::sync::Mutex;

use model::{ChainLink, Decision, Outcome, Reason, Request, Subject};
use policy::Obligation;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Name of the notification outbox inside the data directory (the file store's; with PostgreSQL,
/// the `hub_notifications` table). The outbox is kept by the hub's [`crate::store::Store`].
pub const NOTIFICATIONS_FILE: &str = "notifications.jsonl";

/// The certifications that `obligations` require and `request` does not carry.
pub fn missing_certifications(obligations: &[String], request: &Request) -> Vec<String> {
    let mut out: Vec<String> = obligations
        .iter()
        .filter_map(|o| match Obligation::parse(o) {
            Ok(Obligation::Certify(what)) if !request.certifications.contains(&what) => Some(what),
            _ => None,
        })
        .collect();
    out.dedup();
    out
}

/// Turns a permit or review that lacks a required certification into a deny naming it.
/// Returns the missing certifications (empty: the decision is unchanged).
pub fn require_certifications(decision: &mut Decision, request: &Request) -> Vec<String> {
    if decision.decision == Outcome::Deny {
        return Vec::new();
    }
    let missing = missing_certifications(&decision.obligations, request);
    for what in &missing {
        decision.reasons.push(Reason {
            policy: "hub-certification-required".into(),
            citation: format!("obligation certify:{what}"),
            summary: format!(
                "The law that permits this release requires the requester's certification {what:?}; \
                 the request does not carry it (add it to `certifications`)."
            ),
        });
    }
    if !missing.is_empty() {
        decision.decision = Outcome::Deny;
    }
    missing
}

/// The `notify_subject` obligation of a decision: (days, business days).
pub fn notify_within(obligations: &[String]) -> Option<(u32, bool)> {
    obligations.iter().find_map(|o| match Obligation::parse(o) {
        Ok(Obligation::NotifySubject { days, business }) => Some((days, business)),
        _ => None,
    })
}

/// The deadline (Unix seconds) `days` calendar or business days (Monday to Friday) after `time`.
pub fn due(time: u64, days: u32, business: bool) -> u64 {
    const DAY: u64 = 86_400;
    if !business {
        return time + u64::from(days) * DAY;
    }
    let mut t = time;
    let mut left = days;
    while left > 0 {
        t += DAY;
        // 1970-01-01 was a Thursday: day 0 is Thursday, so (d + 3) % 7 is 0 on Monday.
        let weekday = (t / DAY + 3) % 7;
        if weekday < 5 {
            left -= 1;
        }
    }
    t
}

/// That a notice was sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// The supervisor who marked it sent.
    pub by: String,
    /// How the person was told (e.g. `mail`).
    pub method: String,
    /// The `notified` ledger entry.
    pub ledger_index: u64,
    /// When (Unix seconds).
    pub time: u64,
}

/// A notice the owning agency must send to the person a request was about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The decision id (also the notice's id).
    pub id: String,
    /// The agency that must notify (the source's owner).
    pub owner: String,
    /// The person (private: only the owner's supervisors see it; the ledger holds a keyed hash).
    pub subject: Subject,
    /// The requesting agency and user, as the notice must name them.
    pub requester_agency: String,
    /// The requesting user.
    pub requester: String,
    /// Everyone who asked, originator first and the requester last (the `on_behalf_of` chain,
    /// then the requester): N.Y. VTL 201(12)(a) requires naming the agency that asked, which
    /// for a forwarded request is the originator, not the agency that forwarded it.
    #[serde(default)]
    pub asked_by: Vec<ChainLink>,
    /// The source asked.
    pub source: String,
    /// The decision (`permit`, `deny`, `review`).
    pub decision: String,
    /// The obligation, e.g. `notify_subject:3d`.
    pub obligation: String,
    /// The decision's ledger index.
    pub ledger_index: u64,
    /// When the request was made (Unix seconds).
    pub requested: u64,
    /// The deadline (Unix seconds).
    pub due: u64,
    /// Set once sent.
    pub sent: Option<Sent>,
}

impl Notification {
    /// The notice owed for `decision` on `request`, if its obligations include `notify_subject`.
    pub fn owed(request: &Request, decision: &Decision, owner: &str, ledger_index: u64, time: u64) -> Option<Self> {
        let (days, business) = notify_within(&decision.obligations)?;
        Some(Self {
            id: decision.decision_id.clone(),
            owner: owner.to_string(),
            subject: request.subject.clone(),
            requester_agency: request.requester.agency.clone(),
            requester: request.requester.id.clone(),
            asked_by: request
                .on_behalf_of
                .iter()
                .cloned()
                .chain(std::iter::once(ChainLink {
                    id: request.requester.id.clone(),
                    agency: request.requester.agency.clone(),
                }))
                .collect(),
            source: request.source.clone(),
            decision: decision.decision.as_str().to_string(),
            obligation: format!("notify_subject:{days}{}", if business { "bd" } else { "d" }),
            ledger_index,
            requested: time,
            due: due(time, days, business),
            sent: None,
        })
    }
}

/// Counts of `report:BODY` obligations in the published ledger, per body and outcome, kept up to
/// date incrementally (full entry bundles are counted once).
#[derive(Debug, Default)]
pub struct ReportCounts {
    /// Full entry bundles counted, and their counts.
    state: Mutex<(u64, Counts)>,
}

/// Report body → outcome (and `total`) → count.
type Counts = BTreeMap<String, BTreeMap<String, u64>>;

fn count_entry(entry: &[u8], into: &mut Counts) {
    let Ok(v) = serde_json::from_slice::<Value>(entry) else { return };
    if v["type"] != "decision" {
        return;
    }
    let outcome = v["decision"].as_str().unwrap_or("unknown").to_string();
    for o in v["obligations"].as_array().into_iter().flatten() {
        if let Some(body) = o.as_str().and_then(|o| o.strip_prefix("report:")) {
            let per = into.entry(body.to_string()).or_default();
            *per.entry(outcome.clone()).or_default() += 1;
            *per.entry("total".into()).or_default() += 1;
        }
    }
}

impl ReportCounts {
    /// The counts over the first `size` entries, reading entry bundles with `read`
    /// (`tile/entries/...`, as published).
    pub fn at(&self, size: u64, read: impl Fn(&str) -> Result<Option<Vec<u8>>, String>) -> Result<Value, String> {
        const W: u64 = ledger::tiles::TILE_WIDTH;
        let mut st = self.state.lock().map_err(|_| "report lock poisoned".to_string())?;
        let bundle = |n: u64, w: u64| -> Result<Vec<Vec<u8>>, String> {
            let path = ledger::tiles::entries_path(n, w);
            let data = read(&path)?.ok_or_else(|| format!("{path} is not published"))?;
            Ok(ledger::tiles::decode_bundle(&data)?.into_iter().map(<[u8]>::to_vec).collect())
        };
        while (st.0 + 1) * W <= size {
            let n = st.0;
            for e in bundle(n, W)? {
                count_entry(&e, &mut st.1);
            }
            st.0 += 1;
        }
        let mut counts = st.1.clone();
        let rest = size - st.0 * W;
        if rest > 0 {
            for e in bundle(st.0, rest)? {
                count_entry(&e, &mut counts);
            }
        }
        Ok(json!({"tree_size": size, "bodies": counts}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_days_skip_weekends() {
        // Friday 2024-03-01 12:00 UTC + 3 business days = Wednesday 2024-03-06.
        let fri = 1_709_294_400;
        assert_eq!(due(fri, 3, true), fri + 5 * 86_400);
        assert_eq!(due(fri, 3, false), fri + 3 * 86_400);
        // Monday + 1 business day = Tuesday.
        assert_eq!(due(fri + 3 * 86_400, 1, true), fri + 4 * 86_400);
    }
}
