//! The review queue: decisions of outcome `review` wait here for a supervisor of the agency that
//! owns the source. The queue is the hub's private state (it holds the full request, subject
//! included), kept in `DATA/reviews.jsonl`: one JSON event per line, each fsynced before it counts,
//! or, for replicas sharing a region, in PostgreSQL ([`crate::pgstate`]). The ledger holds the public, hashed record of both the decision and the verdict.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use model::{Decision, Request};
use serde::{Deserialize, Serialize};

use crate::pgstate::{db, parse_json, PgState};
use crate::HubError;

/// How long a claim on a review lasts when the replica that made it dies before the verdict.
pub const CLAIM_SECS: u64 = 120;

/// Name of the file (in the data directory) that keeps the logged verdicts the queue has not
/// stored yet ([`UnstoredVerdicts`]); absent when there are none.
pub const UNSTORED_FILE: &str = "unstored-verdicts.json";

/// Verdicts that the ledger holds but that the review queue could not store at the time, by
/// review id. They stand: no other verdict is accepted for those reviews, and the hub stores them
/// once the queue takes writes. Kept in memory and in [`UNSTORED_FILE`], so that a restart in
/// between does not forget them (the data directory is local even when the queue is in PostgreSQL).
#[derive(Debug)]
pub struct UnstoredVerdicts {
    dir: PathBuf,
    map: Mutex<HashMap<String, Verdict>>,
}

impl UnstoredVerdicts {
    /// Reads the verdicts left by a previous run from `dir` (none if the file is absent). A file
    /// that does not parse is an error naming it: starting without it could accept a second verdict.
    pub fn open(dir: &Path) -> Result<Self, HubError> {
        let path = dir.join(UNSTORED_FILE);
        let map = match std::fs::read(&path) {
            Ok(data) => serde_json::from_slice(&data).map_err(|e| {
                HubError::Config(format!(
                    "{}: {e}; it lists verdicts the ledger holds that the review queue has not stored",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(HubError::Io(format!("{}: {e}", path.display()))),
        };
        Ok(Self { dir: dir.to_path_buf(), map: Mutex::new(map) })
    }

    /// The ledger index of review `id`'s unstored verdict, if it has one.
    pub fn ledger_index(&self, id: &str) -> Option<u64> {
        self.map.lock().ok()?.get(id).map(|v| v.ledger_index)
    }

    /// Every unstored verdict.
    pub fn all(&self) -> Vec<(String, Verdict)> {
        self.map.lock().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
    }

    /// Keeps `verdict` of review `id` until [`UnstoredVerdicts::stored`]; an error if it could
    /// only be kept in memory.
    pub fn keep(&self, id: &str, verdict: Verdict) -> Result<(), HubError> {
        let mut map = self.map.lock().map_err(|_| HubError::Io("unstored verdicts: poisoned lock".into()))?;
        map.insert(id.to_string(), verdict);
        self.persist(&map)
    }

    /// Review `id`'s verdict is in the queue now (or the review is gone): forgets it.
    pub fn stored(&self, id: &str) -> Result<(), HubError> {
        let mut map = self.map.lock().map_err(|_| HubError::Io("unstored verdicts: poisoned lock".into()))?;
        if map.remove(id).is_some() {
            self.persist(&map)?;
        }
        Ok(())
    }

    fn persist(&self, map: &HashMap<String, Verdict>) -> Result<(), HubError> {
        if map.is_empty() {
            return match std::fs::remove_file(self.dir.join(UNSTORED_FILE)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(HubError::Io(format!("{}: {e}", self.dir.join(UNSTORED_FILE).display())))
                }
                _ => Ok(()),
            };
        }
        let data = serde_json::to_vec_pretty(map).map_err(|e| HubError::Io(e.to_string()))?;
        crate::tokens::write_private(&self.dir, UNSTORED_FILE, &data)
    }
}

/// Name of the queue file inside the data directory.
pub const REVIEWS_FILE: &str = "reviews.jsonl";

/// Where a review stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Waiting for a supervisor.
    Pending,
    /// Approved: the requester may fetch the data, with the obligations applied.
    Approved,
    /// Denied: nothing is released.
    Denied,
}

/// A supervisor's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Approved or denied.
    pub status: ReviewStatus,
    /// The supervisor's user id.
    pub by: String,
    /// The supervisor's agency.
    pub agency: String,
    /// The reason given.
    pub reason: String,
    /// The ledger index of the verdict.
    pub ledger_index: u64,
    /// When (Unix seconds).
    pub time: u64,
}

/// What the file queue keeps of a decided review once the review leaves memory (denied, or
/// approved and past its approval time): enough to answer its requester and to refuse a second
/// verdict, without the request itself (the ledger holds the public record of both).
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    /// Approved or denied.
    pub status: ReviewStatus,
    /// The agency that owns the source.
    pub owner: String,
    /// The requester's agency.
    pub requester_agency: String,
    /// The requester's user id.
    pub requester: String,
    /// The ledger index of the verdict.
    pub verdict_index: u64,
    /// When the verdict was given (Unix seconds).
    pub time: u64,
}

impl Settled {
    fn of(review: &Review, verdict: &Verdict) -> Self {
        Self {
            status: verdict.status,
            owner: review.owner.clone(),
            requester_agency: review.request.requester.agency.clone(),
            requester: review.request.requester.id.clone(),
            verdict_index: verdict.ledger_index,
            time: verdict.time,
        }
    }
}

/// A held request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// The decision id (also the review id).
    pub id: String,
    /// The agency that owns the source: only its supervisors may decide.
    pub owner: String,
    /// The request as sent.
    pub request: Request,
    /// The checkpoint's decision (outcome review, with reasons and obligations).
    pub decision: Decision,
    /// The ledger index of the decision.
    pub ledger_index: u64,
    /// When it was held (Unix seconds).
    pub created: u64,
    /// The verdict, once given.
    pub verdict: Option<Verdict>,
}

impl Review {
    /// Pending, approved or denied.
    pub fn status(&self) -> ReviewStatus {
        self.verdict.as_ref().map_or(ReviewStatus::Pending, |v| v.status)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    Held { review: Box<Review> },
    Decided { id: String, verdict: Verdict },
}

/// The queue. Its methods block (file or database I/O): call them from `spawn_blocking`.
#[derive(Debug)]
pub enum ReviewStore {
    /// `DATA/reviews.jsonl`, replayed into memory.
    File(FileQueue),
    /// The `hub_reviews` table, shared by replicas.
    Pg(Arc<PgState>),
}

impl ReviewStore {
    /// Opens the file queue of data directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, HubError> {
        FileQueue::open(dir).map(Self::File)
    }

    /// Holds a request for review (durably).
    pub fn hold(&self, review: Review) -> Result<(), HubError> {
        match self {
            Self::File(q) => q.hold(review),
            Self::Pg(pg) => pg.hold(&review),
        }
    }

    /// Claims a pending review for one supervisor's verdict, before the verdict is logged: until
    /// [`ReviewStore::decide`] or [`ReviewStore::unclaim`], every other attempt to decide it, on
    /// any replica, fails with [`HubError::Conflict`], so only one verdict per review ever reaches
    /// the ledger. A claim left by a replica that died expires after [`CLAIM_SECS`].
    pub fn claim(&self, id: &str) -> Result<Review, HubError> {
        match self {
            Self::File(q) => q.claim(id),
            Self::Pg(pg) => {
                let now = crate::tokens::now();
                pg.claim(id, now, now + CLAIM_SECS)
            }
        }
    }

    /// Gives up a claim whose verdict could not be logged: the review is pending again.
    pub fn unclaim(&self, id: &str) -> Result<(), HubError> {
        match self {
            Self::File(q) => q.unclaim(id),
            Self::Pg(pg) => pg.unclaim(id),
        }
    }

    /// Records a verdict (durably) and ends its claim. Fails if the review is unknown or already
    /// decided.
    pub fn decide(&self, id: &str, verdict: Verdict) -> Result<Review, HubError> {
        match self {
            Self::File(q) => q.decide(id, verdict),
            Self::Pg(pg) => pg.decide(id, verdict),
        }
    }

    /// One review.
    pub fn get(&self, id: &str) -> Result<Option<Review>, HubError> {
        match self {
            Self::File(q) => Ok(q.get(id)),
            Self::Pg(pg) => pg.review(id),
        }
    }

    /// The pending reviews of sources owned by `agency`, oldest first.
    pub fn pending_for(&self, agency: &str) -> Result<Vec<Review>, HubError> {
        match self {
            Self::File(q) => Ok(q.pending_for(agency)),
            Self::Pg(pg) => pg.pending_for(agency),
        }
    }

    /// Every pending review (to count them per requester).
    pub fn pending(&self) -> Result<Vec<Review>, HubError> {
        match self {
            Self::File(q) => Ok(q.pending()),
            Self::Pg(pg) => pg.pending_all(),
        }
    }

    /// What is left of a decided review the file queue no longer keeps in memory (`None` for a
    /// review it keeps, or never had, and always with PostgreSQL, which keeps every review).
    pub fn settled(&self, id: &str) -> Option<Settled> {
        match self {
            Self::File(q) => q.settled(id),
            Self::Pg(_) => None,
        }
    }

    /// Lets decided reviews leave memory: denied ones at once, approved ones once `approval_secs`
    /// have passed since the verdict (the file queue; PostgreSQL keeps nothing in memory).
    pub fn evict_decided(&self, now: u64, approval_secs: u64) {
        if let Self::File(q) = self {
            q.evict_decided(now, approval_secs);
        }
    }
}

/// The review queue of one hub in `DATA/reviews.jsonl`.
#[derive(Debug)]
pub struct FileQueue {
    path: PathBuf,
    state: Mutex<QueueState>,
}

#[derive(Debug)]
struct QueueState {
    file: File,
    reviews: HashMap<String, Review>,
    /// Decided reviews that left memory (see [`Settled`]).
    settled: HashMap<String, Settled>,
    /// Reviews whose verdict is being logged (claims live in memory: one process owns the file).
    claimed: HashSet<String>,
}

impl QueueState {
    /// Review `id` while it waits for a verdict; a conflict once decided (kept or settled), not
    /// found if it never was held.
    fn pending(&self, id: &str) -> Result<&Review, HubError> {
        match self.reviews.get(id) {
            Some(r) if r.verdict.is_none() => Ok(r),
            Some(_) => Err(HubError::Conflict(format!("review {id:?} is already decided"))),
            None if self.settled.contains_key(id) => {
                Err(HubError::Conflict(format!("review {id:?} is already decided")))
            }
            None => Err(HubError::NotFound(format!("no review {id:?}"))),
        }
    }
}

impl FileQueue {
    /// Opens (creating) `DIR/reviews.jsonl` and replays it. A torn last line (a crash mid-write,
    /// never acknowledged) is cut off; damage anywhere else is refused.
    pub fn open(dir: &Path) -> Result<Self, HubError> {
        let path = dir.join(REVIEWS_FILE);
        let err = |e: std::io::Error| HubError::Io(format!("{}: {e}", path.display()));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(err(e)),
        };
        let mut reviews = HashMap::new();
        let mut settled = HashMap::new();
        let mut good_len = 0usize;
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            let complete = line.ends_with('\n');
            match serde_json::from_str::<Event>(line.trim_end()) {
                Ok(event) if complete => {
                    apply(&mut reviews, &mut settled, event);
                    good_len += line.len();
                }
                _ if i + 1 == lines.len() => break,
                Ok(_) | Err(_) => {
                    return Err(HubError::Config(format!("{}: line {} is damaged", path.display(), i + 1)));
                }
            }
        }
        let file = crate::keys::open_private_append(&path)?;
        if good_len < text.len() {
            file.set_len(good_len as u64).map_err(err)?;
        }
        Ok(Self { path, state: Mutex::new(QueueState { file, reviews, settled, claimed: HashSet::new() }) })
    }

    fn write(&self, file: &mut File, event: &Event) -> Result<(), HubError> {
        let mut line = serde_json::to_vec(event).map_err(|e| HubError::Io(e.to_string()))?;
        line.push(b'\n');
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| HubError::Io(format!("{}: {e}", self.path.display())))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, QueueState>, HubError> {
        self.state.lock().map_err(|_| HubError::Io("review queue lock poisoned".into()))
    }

    /// Holds a request for review (durably).
    pub fn hold(&self, review: Review) -> Result<(), HubError> {
        let mut st = self.lock()?;
        self.write(&mut st.file, &Event::Held { review: Box::new(review.clone()) })?;
        st.reviews.insert(review.id.clone(), review);
        Ok(())
    }

    /// Claims a pending review (see [`ReviewStore::claim`]).
    pub fn claim(&self, id: &str) -> Result<Review, HubError> {
        let mut st = self.lock()?;
        let review = st.pending(id)?.clone();
        if !st.claimed.insert(id.to_string()) {
            return Err(HubError::Conflict(format!("review {id:?} is being decided by another supervisor")));
        }
        Ok(review)
    }

    /// Gives up a claim.
    pub fn unclaim(&self, id: &str) -> Result<(), HubError> {
        self.lock()?.claimed.remove(id);
        Ok(())
    }

    /// Records a verdict (durably). Fails if the review is unknown or already decided.
    pub fn decide(&self, id: &str, verdict: Verdict) -> Result<Review, HubError> {
        let mut st = self.lock()?;
        st.pending(id)?;
        self.write(&mut st.file, &Event::Decided { id: id.to_string(), verdict: verdict.clone() })?;
        st.claimed.remove(id);
        let st = &mut *st;
        decided(&mut st.reviews, &mut st.settled, id, verdict).ok_or_else(|| HubError::NotFound(id.to_string()))
    }

    /// See [`ReviewStore::settled`].
    pub fn settled(&self, id: &str) -> Option<Settled> {
        self.state.lock().ok()?.settled.get(id).cloned()
    }

    /// See [`ReviewStore::evict_decided`].
    pub fn evict_decided(&self, now: u64, approval_secs: u64) {
        let Ok(mut st) = self.state.lock() else { return };
        let expired: Vec<String> = st
            .reviews
            .values()
            .filter(|r| r.verdict.as_ref().is_some_and(|v| v.time.saturating_add(approval_secs) <= now))
            .map(|r| r.id.clone())
            .collect();
        for id in expired {
            if let Some(r) = st.reviews.remove(&id) {
                if let Some(v) = &r.verdict {
                    st.settled.insert(id, Settled::of(&r, v));
                }
            }
        }
    }

    /// Every pending review.
    pub fn pending(&self) -> Vec<Review> {
        let Ok(st) = self.state.lock() else { return Vec::new() };
        st.reviews.values().filter(|r| r.verdict.is_none()).cloned().collect()
    }

    /// One review.
    pub fn get(&self, id: &str) -> Option<Review> {
        self.state.lock().ok()?.reviews.get(id).cloned()
    }

    /// The pending reviews of sources owned by `agency`, oldest first.
    pub fn pending_for(&self, agency: &str) -> Vec<Review> {
        let Ok(st) = self.state.lock() else { return Vec::new() };
        let mut out: Vec<Review> =
            st.reviews.values().filter(|r| r.owner == agency && r.verdict.is_none()).cloned().collect();
        out.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        out
    }
}

fn apply(map: &mut HashMap<String, Review>, settled: &mut HashMap<String, Settled>, event: Event) {
    match event {
        Event::Held { review } => {
            map.insert(review.id.clone(), *review);
        }
        Event::Decided { id, verdict } => {
            decided(map, settled, &id, verdict);
        }
    }
}

/// Records `verdict` on review `id`: a denied review leaves memory at once (only its
/// [`Settled`] stays); an approved one stays until its approval expires.
fn decided(
    map: &mut HashMap<String, Review>,
    settled: &mut HashMap<String, Settled>,
    id: &str,
    verdict: Verdict,
) -> Option<Review> {
    if verdict.status == ReviewStatus::Denied {
        let mut r = map.remove(id)?;
        settled.insert(id.to_string(), Settled::of(&r, &verdict));
        r.verdict = Some(verdict);
        return Some(r);
    }
    let r = map.get_mut(id)?;
    r.verdict = Some(verdict);
    Some(r.clone())
}

/// The PostgreSQL statements of this store (the connection is [`crate::pgstate`]'s).
impl PgState {
    /// Holds a review (durable once this returns).
    pub fn hold(&self, review: &Review) -> Result<(), HubError> {
        let s = self.schema();
        let data = serde_json::to_string(review).map_err(|e| HubError::Io(e.to_string()))?;
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_reviews (id, owner, created, decided, data) VALUES ($1, $2, $3, FALSE, $4)"
                ),
                &[&review.id, &review.owner, &(review.created as i64), &data],
            )
            .map_err(|e| db("hold review", e))?;
            Ok(())
        })
    }

    /// Claims pending review `id` until Unix time `until` (see [`crate::reviews::ReviewStore::claim`]):
    /// one UPDATE, so of two replicas claiming at once exactly one gets it.
    pub fn claim(&self, id: &str, now: u64, until: u64) -> Result<Review, HubError> {
        let s = self.schema();
        self.with(|c| {
            let claimed = c
                .query_opt(
                    &format!(
                        "UPDATE {s}.hub_reviews SET claimed_until = $2 WHERE id = $1 AND NOT decided AND claimed_until <= $3 RETURNING data"
                    ),
                    &[&id, &(until as i64), &(now as i64)],
                )
                .map_err(|e| db("claim review", e))?;
            if let Some(row) = claimed {
                return parse_review(row.get(0));
            }
            let decided: Option<bool> = c
                .query_opt(&format!("SELECT decided FROM {s}.hub_reviews WHERE id = $1"), &[&id])
                .map_err(|e| db("read review", e))?
                .map(|r| r.get(0));
            Err(match decided {
                None => HubError::NotFound(format!("no review {id:?}")),
                Some(true) => HubError::Conflict(format!("review {id:?} is already decided")),
                Some(false) => HubError::Conflict(format!("review {id:?} is being decided by another supervisor")),
            })
        })
    }

    /// Gives up the claim on review `id`.
    pub fn unclaim(&self, id: &str) -> Result<(), HubError> {
        let s = self.schema();
        self.with(|c| {
            c.execute(&format!("UPDATE {s}.hub_reviews SET claimed_until = 0 WHERE id = $1 AND NOT decided"), &[&id])
                .map_err(|e| db("unclaim review", e))?;
            Ok(())
        })
    }

    /// Records a verdict, atomically across replicas: fails with [`HubError::Conflict`] if
    /// another supervisor decided first, [`HubError::NotFound`] if there is no such review.
    pub fn decide(&self, id: &str, verdict: Verdict) -> Result<Review, HubError> {
        let s = self.schema();
        self.with(|c| {
            let mut tx = c.transaction().map_err(|e| db("begin", e))?;
            let row = tx
                .query_opt(&format!("SELECT data FROM {s}.hub_reviews WHERE id = $1 FOR UPDATE"), &[&id])
                .map_err(|e| db("read review", e))?
                .ok_or_else(|| HubError::NotFound(format!("no review {id:?}")))?;
            let mut review = parse_review(row.get(0))?;
            if review.verdict.is_some() {
                return Err(HubError::Conflict(format!("review {id:?} is already decided")));
            }
            review.verdict = Some(verdict);
            let data = serde_json::to_string(&review).map_err(|e| HubError::Io(e.to_string()))?;
            tx.execute(
                &format!("UPDATE {s}.hub_reviews SET decided = TRUE, claimed_until = 0, data = $2 WHERE id = $1"),
                &[&id, &data],
            )
            .map_err(|e| db("decide review", e))?;
            tx.commit().map_err(|e| db("commit verdict", e))?;
            Ok(review)
        })
    }

    /// One review.
    pub fn review(&self, id: &str) -> Result<Option<Review>, HubError> {
        let s = self.schema();
        self.with(|c| {
            c.query_opt(&format!("SELECT data FROM {s}.hub_reviews WHERE id = $1"), &[&id])
                .map_err(|e| db("read review", e))?
                .map(|r| parse_review(r.get(0)))
                .transpose()
        })
    }

    /// The pending reviews of sources owned by `agency`, oldest first.
    pub fn pending_for(&self, agency: &str) -> Result<Vec<Review>, HubError> {
        self.pending_where("owner = $1 AND", &[&agency])
    }

    /// Every pending review, oldest first.
    pub fn pending_all(&self) -> Result<Vec<Review>, HubError> {
        self.pending_where("", &[])
    }

    fn pending_where(
        &self,
        filter: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Review>, HubError> {
        let s = self.schema();
        self.with(|c| {
            c.query(
                &format!("SELECT data FROM {s}.hub_reviews WHERE {filter} NOT decided ORDER BY created, id"),
                params,
            )
            .map_err(|e| db("read reviews", e))?
            .iter()
            .map(|r| parse_review(r.get(0)))
            .collect()
        })
    }
}

fn parse_review(data: &str) -> Result<Review, HubError> {
    parse_json(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(index: u64) -> Verdict {
        Verdict {
            status: ReviewStatus::Approved,
            by: "sgt-ortiz".into(),
            agency: "lapd".into(),
            reason: "checked".into(),
            ledger_index: index,
            time: 1,
        }
    }

    #[test]
    fn unstored_verdicts_survive_a_restart_and_a_damaged_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let u = UnstoredVerdicts::open(dir.path()).unwrap();
        assert!(u.all().is_empty() && !dir.path().join(UNSTORED_FILE).exists());
        u.keep("r1", verdict(7)).unwrap();
        u.keep("r2", verdict(9)).unwrap();
        // A restart reads them back.
        let again = UnstoredVerdicts::open(dir.path()).unwrap();
        assert_eq!((again.ledger_index("r1"), again.ledger_index("r2")), (Some(7), Some(9)));
        again.stored("r1").unwrap();
        assert_eq!(UnstoredVerdicts::open(dir.path()).unwrap().all(), vec![("r2".to_string(), verdict(9))]);
        // The last one stored: the file is gone.
        again.stored("r2").unwrap();
        assert!(!dir.path().join(UNSTORED_FILE).exists());
        // A damaged file stops the start, naming it.
        std::fs::write(dir.path().join(UNSTORED_FILE), "{\"r3\": {\"status\":").unwrap();
        let err = UnstoredVerdicts::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains(UNSTORED_FILE), "{err}");
    }
}
