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
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use model::{ChainLink, Decision, Outcome, Reason, Request, Subject};
use policy::Obligation;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::pgstate::{db, parse_json, PgState};
use crate::HubError;

/// Name of the notification outbox inside the data directory.
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

#[derive(Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    Owed { notice: Box<Notification> },
    Sent { id: String, sent: Sent },
}

/// The owning agencies' notification outboxes. Its methods block: call them off the async workers.
#[derive(Debug)]
pub enum Outbox {
    /// `DATA/notifications.jsonl` (one event per line, fsynced), replayed into memory.
    File {
        /// The file.
        path: PathBuf,
        /// The open file and the notices by id.
        state: Mutex<(File, BTreeMap<String, Notification>)>,
    },
    /// The `hub_notifications` table, shared by replicas.
    Pg(Arc<PgState>),
}

impl Outbox {
    /// Opens (creating) the outbox file of data directory `dir`. A torn last line is cut off.
    pub fn open(dir: &Path) -> Result<Self, HubError> {
        let path = dir.join(NOTIFICATIONS_FILE);
        let err = |e: std::io::Error| HubError::Io(format!("{}: {e}", path.display()));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(err(e)),
        };
        let mut map = BTreeMap::new();
        let mut good = 0usize;
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            match serde_json::from_str::<Event>(line.trim_end()) {
                Ok(e) if line.ends_with('\n') => {
                    apply(&mut map, e);
                    good += line.len();
                }
                _ if i + 1 == lines.len() => break,
                _ => return Err(HubError::Config(format!("{}: line {} is damaged", path.display(), i + 1))),
            }
        }
        let file = crate::keys::open_private_append(&path)?;
        if good < text.len() {
            file.set_len(good as u64).map_err(err)?;
        }
        Ok(Self::File { path, state: Mutex::new((file, map)) })
    }

    fn write(path: &Path, file: &mut File, event: &Event) -> Result<(), HubError> {
        let mut line = serde_json::to_vec(event).map_err(|e| HubError::Io(e.to_string()))?;
        line.push(b'\n');
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| HubError::Io(format!("{}: {e}", path.display())))
    }

    /// Queues a notice (durable once this returns).
    pub fn queue(&self, n: Notification) -> Result<(), HubError> {
        match self {
            Self::File { path, state } => {
                let mut st = state.lock().map_err(|_| HubError::Io("outbox lock poisoned".into()))?;
                let (file, map) = &mut *st;
                Self::write(path, file, &Event::Owed { notice: Box::new(n.clone()) })?;
                map.insert(n.id.clone(), n);
                Ok(())
            }
            Self::Pg(pg) => pg.queue_notice(&n),
        }
    }

    /// One notice.
    pub fn get(&self, id: &str) -> Result<Option<Notification>, HubError> {
        match self {
            Self::File { state, .. } => {
                Ok(state.lock().map_err(|_| HubError::Io("outbox lock poisoned".into()))?.1.get(id).cloned())
            }
            Self::Pg(pg) => pg.notice(id),
        }
    }

    /// The unsent notices `agency` owes, earliest deadline first.
    pub fn pending_for(&self, agency: &str) -> Result<Vec<Notification>, HubError> {
        let mut out = match self {
            Self::File { state, .. } => {
                let st = state.lock().map_err(|_| HubError::Io("outbox lock poisoned".into()))?;
                st.1.values().filter(|n| n.owner == agency && n.sent.is_none()).cloned().collect()
            }
            Self::Pg(pg) => pg.pending_notices(agency)?,
        };
        out.sort_by(|a: &Notification, b| (a.due, &a.id).cmp(&(b.due, &b.id)));
        Ok(out)
    }

    /// Marks a notice sent (durably); [`HubError::Conflict`] if it already was.
    pub fn mark_sent(&self, id: &str, sent: Sent) -> Result<Notification, HubError> {
        match self {
            Self::File { path, state } => {
                let mut st = state.lock().map_err(|_| HubError::Io("outbox lock poisoned".into()))?;
                let (file, map) = &mut *st;
                match map.get(id) {
                    None => return Err(HubError::NotFound(format!("no notification {id:?}"))),
                    Some(n) if n.sent.is_some() => {
                        return Err(HubError::Conflict(format!("notification {id:?} is already sent")))
                    }
                    Some(_) => {}
                }
                Self::write(path, file, &Event::Sent { id: id.to_string(), sent: sent.clone() })?;
                let n = map.get_mut(id).ok_or_else(|| HubError::NotFound(id.to_string()))?;
                n.sent = Some(sent);
                Ok(n.clone())
            }
            Self::Pg(pg) => pg.mark_notice_sent(id, sent),
        }
    }
}

fn apply(map: &mut BTreeMap<String, Notification>, event: Event) {
    match event {
        Event::Owed { notice } => {
            map.insert(notice.id.clone(), *notice);
        }
        Event::Sent { id, sent } => {
            if let Some(n) = map.get_mut(&id) {
                n.sent = Some(sent);
            }
        }
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

/// The PostgreSQL statements of this store (the connection is [`crate::pgstate`]'s).
impl PgState {
    /// Queues a notice (durable once this returns).
    pub fn queue_notice(&self, n: &Notification) -> Result<(), HubError> {
        let s = self.schema();
        let data = serde_json::to_string(n).map_err(|e| HubError::Io(e.to_string()))?;
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_notifications (id, owner, due, sent, data) VALUES ($1, $2, $3, FALSE, $4)"
                ),
                &[&n.id, &n.owner, &(n.due as i64), &data],
            )
            .map_err(|e| db("queue notification", e))?;
            Ok(())
        })
    }

    /// One notice.
    pub fn notice(&self, id: &str) -> Result<Option<Notification>, HubError> {
        let s = self.schema();
        self.with(|c| {
            c.query_opt(&format!("SELECT data FROM {s}.hub_notifications WHERE id = $1"), &[&id])
                .map_err(|e| db("read notification", e))?
                .map(|r| parse_json(r.get(0)))
                .transpose()
        })
    }

    /// The unsent notices of `agency`.
    pub fn pending_notices(&self, agency: &str) -> Result<Vec<Notification>, HubError> {
        let s = self.schema();
        self.with(|c| {
            c.query(&format!("SELECT data FROM {s}.hub_notifications WHERE owner = $1 AND NOT sent"), &[&agency])
                .map_err(|e| db("read notifications", e))?
                .iter()
                .map(|r| parse_json(r.get(0)))
                .collect()
        })
    }

    /// Marks a notice sent, once, across replicas.
    pub fn mark_notice_sent(&self, id: &str, sent: Sent) -> Result<Notification, HubError> {
        let s = self.schema();
        self.with(|c| {
            let mut tx = c.transaction().map_err(|e| db("begin", e))?;
            let row = tx
                .query_opt(&format!("SELECT data FROM {s}.hub_notifications WHERE id = $1 FOR UPDATE"), &[&id])
                .map_err(|e| db("read notification", e))?
                .ok_or_else(|| HubError::NotFound(format!("no notification {id:?}")))?;
            let mut n: Notification = parse_json(row.get(0))?;
            if n.sent.is_some() {
                return Err(HubError::Conflict(format!("notification {id:?} is already sent")));
            }
            n.sent = Some(sent);
            let data = serde_json::to_string(&n).map_err(|e| HubError::Io(e.to_string()))?;
            tx.execute(
                &format!("UPDATE {s}.hub_notifications SET sent = TRUE, data = $2 WHERE id = $1"),
                &[&id, &data],
            )
            .map_err(|e| db("mark notification sent", e))?;
            tx.commit().map_err(|e| db("commit notification", e))?;
            Ok(n)
        })
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
