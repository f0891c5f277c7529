//! The review queue: decisions of outcome `review` wait here for a supervisor of the agency that
//! owns the source. The queue is the hub's private state (it holds the full request, subject
//! included), kept in its [`crate::store::Store`]: `DATA/reviews.jsonl`, one JSON event per line,
//! each fsynced before it counts, or, for replicas sharing a region, the `hub_reviews` table in
//! PostgreSQL. This module has the queue's records; the ledger holds the public, hashed record of
//! both the decision and the verdict.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use model::{Decision, Request};
use serde::{Deserialize, Serialize};

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
        crate::store::file::write_private(&self.dir, UNSTORED_FILE, &data)
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
    pub(crate) fn of(review: &Review, verdict: &Verdict) -> Self {
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
