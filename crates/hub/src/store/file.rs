//! The [`Store`] of one hub's data directory:
//!
//! * `tokens.json` ([`crate::tokens::TOKENS_FILE`]): every token record, rewritten atomically
//!   (a temporary file, fsynced, renamed) under an exclusive lock on `tokens.lock`, so that
//!   `fusionguard token issue|revoke` can change it beside a running hub, which re-reads it when
//!   its modification time or length changes.
//! * `reviews.jsonl` ([`crate::reviews::REVIEWS_FILE`]), `notifications.jsonl`
//!   ([`crate::duties::NOTIFICATIONS_FILE`]) and `console-requests.jsonl`
//!   ([`CONSOLE_REQUESTS_FILE`]): one JSON line per event, each fsynced before it counts, replayed
//!   into memory when the store opens. A torn last line (a crash mid-write, never acknowledged) is
//!   cut off; damage anywhere else is refused, naming the file and the line. One process owns
//!   these files: claims on reviews live in its memory.
//!
//! All the files are private (0600): the queue holds full requests, the outbox the people's names.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{by_deadline, ConsoleRequest, Stamp, Store, CONSOLE_REQUESTS_KEPT};
use crate::duties::{Notification, Sent, NOTIFICATIONS_FILE};
use crate::reviews::{Review, ReviewStatus, Settled, Verdict, REVIEWS_FILE};
use crate::tokens::{TokenRecord, TOKENS_FILE};
use crate::HubError;

/// Name of the file (in the data directory) of the requests made through the console.
pub const CONSOLE_REQUESTS_FILE: &str = "console-requests.jsonl";

/// The lock taken to change `tokens.json`.
const LOCK_FILE: &str = "tokens.lock";

fn io(path: &Path, e: impl std::fmt::Display) -> HubError {
    HubError::Io(format!("{}: {e}", path.display()))
}

/// The state of a data directory.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    /// The event files, replayed; `None` for a store opened for its tokens only.
    logs: Option<Logs>,
}

#[derive(Debug)]
struct Logs {
    reviews: Mutex<Reviews>,
    notices: Mutex<Notices>,
    requests: Mutex<Requests>,
}

impl FileStore {
    /// Opens the store of data directory `dir` (which must exist): replays (creating, 0600) its
    /// review queue, outbox and console requests; an absent token file means no tokens yet.
    pub fn open(dir: &Path) -> Result<Self, HubError> {
        let logs = Logs {
            reviews: Mutex::new(Reviews::open(dir)?),
            notices: Mutex::new(Notices::open(dir)?),
            requests: Mutex::new(Requests::open(dir)?),
        };
        Ok(Self { dir: dir.to_path_buf(), logs: Some(logs) })
    }

    /// The token records of data directory `dir` only, for `fusionguard token` beside a running
    /// hub: it neither opens nor repairs the files the hub appends to. The other methods fail
    /// with [`HubError::Config`].
    pub fn tokens_only(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf(), logs: None }
    }

    fn logs(&self) -> Result<&Logs, HubError> {
        self.logs.as_ref().ok_or_else(|| {
            HubError::Config(format!("{}: the store was opened for its tokens only", self.dir.display()))
        })
    }

    fn reviews(&self) -> Result<MutexGuard<'_, Reviews>, HubError> {
        self.logs()?.reviews.lock().map_err(|_| HubError::Io("review queue lock poisoned".into()))
    }

    /// Reads the review queue (a poisoned lock reads as an empty queue).
    fn read_reviews<T: Default>(&self, f: impl FnOnce(&Reviews) -> T) -> Result<T, HubError> {
        Ok(self.logs()?.reviews.lock().map(|st| f(&st)).unwrap_or_default())
    }

    fn notices(&self) -> Result<MutexGuard<'_, Notices>, HubError> {
        self.logs()?.notices.lock().map_err(|_| HubError::Io("outbox lock poisoned".into()))
    }

    fn requests(&self) -> Result<MutexGuard<'_, Requests>, HubError> {
        self.logs()?.requests.lock().map_err(|_| HubError::Io("console requests lock poisoned".into()))
    }
}

impl Store for FileStore {
    fn shared(&self) -> bool {
        false
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, HubError> {
        Ok(read_tokens(&self.dir.join(TOKENS_FILE))?.tokens)
    }

    fn token(&self, id: &str) -> Result<Option<TokenRecord>, HubError> {
        Ok(self.tokens()?.into_iter().find(|t| t.id == id))
    }

    fn insert_token(&self, record: &TokenRecord) -> Result<(), HubError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let _lock = FileLock::acquire(&self.dir)?;
        let mut file = read_tokens(&self.dir.join(TOKENS_FILE))?;
        file.tokens.push(record.clone());
        write_tokens(&self.dir, &file)
    }

    fn revoke_token(&self, id: &str) -> Result<bool, HubError> {
        let _lock = FileLock::acquire(&self.dir)?;
        let mut file = read_tokens(&self.dir.join(TOKENS_FILE))?;
        let mut found = false;
        for t in file.tokens.iter_mut().filter(|t| t.id == id) {
            t.revoked = true;
            found = true;
        }
        if found {
            write_tokens(&self.dir, &file)?;
        }
        Ok(found)
    }

    fn token_stamp(&self) -> Stamp {
        std::fs::metadata(self.dir.join(TOKENS_FILE)).ok().and_then(|m| Some((m.modified().ok()?, m.len())))
    }

    fn hold(&self, review: Review) -> Result<(), HubError> {
        let mut st = self.reviews()?;
        st.journal.append(&ReviewEvent::Held { review: Box::new(review.clone()) })?;
        st.reviews.insert(review.id.clone(), review);
        Ok(())
    }

    fn claim(&self, id: &str) -> Result<Review, HubError> {
        let mut st = self.reviews()?;
        let review = st.pending(id)?.clone();
        if !st.claimed.insert(id.to_string()) {
            return Err(HubError::Conflict(format!("review {id:?} is being decided by another supervisor")));
        }
        Ok(review)
    }

    fn unclaim(&self, id: &str) -> Result<(), HubError> {
        self.reviews()?.claimed.remove(id);
        Ok(())
    }

    fn decide(&self, id: &str, verdict: Verdict) -> Result<Review, HubError> {
        let mut st = self.reviews()?;
        st.pending(id)?;
        st.journal.append(&ReviewEvent::Decided { id: id.to_string(), verdict: verdict.clone() })?;
        st.claimed.remove(id);
        let st = &mut *st;
        decided(&mut st.reviews, &mut st.settled, id, verdict).ok_or_else(|| HubError::NotFound(id.to_string()))
    }

    fn review(&self, id: &str) -> Result<Option<Review>, HubError> {
        self.read_reviews(|st| st.reviews.get(id).cloned())
    }

    fn pending_reviews(&self, agency: &str) -> Result<Vec<Review>, HubError> {
        let mut out: Vec<Review> = self.read_reviews(|st| {
            st.reviews.values().filter(|r| r.owner == agency && r.verdict.is_none()).cloned().collect()
        })?;
        out.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(out)
    }

    fn all_pending_reviews(&self) -> Result<Vec<Review>, HubError> {
        self.read_reviews(|st| st.reviews.values().filter(|r| r.verdict.is_none()).cloned().collect())
    }

    fn settled(&self, id: &str) -> Option<Settled> {
        self.reviews().ok()?.settled.get(id).cloned()
    }

    fn evict_decided(&self, now: u64, approval_secs: u64) {
        let Ok(mut st) = self.reviews() else { return };
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

    fn queue_notice(&self, notice: Notification) -> Result<(), HubError> {
        let mut st = self.notices()?;
        st.journal.append(&NoticeEvent::Owed { notice: Box::new(notice.clone()) })?;
        st.notices.insert(notice.id.clone(), notice);
        Ok(())
    }

    fn notice(&self, id: &str) -> Result<Option<Notification>, HubError> {
        Ok(self.notices()?.notices.get(id).cloned())
    }

    fn pending_notices(&self, agency: &str) -> Result<Vec<Notification>, HubError> {
        let mut out: Vec<Notification> =
            self.notices()?.notices.values().filter(|n| n.owner == agency && n.sent.is_none()).cloned().collect();
        by_deadline(&mut out);
        Ok(out)
    }

    fn mark_notice_sent(&self, id: &str, sent: Sent) -> Result<Notification, HubError> {
        let mut st = self.notices()?;
        match st.notices.get(id) {
            None => return Err(HubError::NotFound(format!("no notification {id:?}"))),
            Some(n) if n.sent.is_some() => {
                return Err(HubError::Conflict(format!("notification {id:?} is already sent")))
            }
            Some(_) => {}
        }
        st.journal.append(&NoticeEvent::Sent { id: id.to_string(), sent: sent.clone() })?;
        let n = st.notices.get_mut(id).ok_or_else(|| HubError::NotFound(id.to_string()))?;
        n.sent = Some(sent);
        Ok(n.clone())
    }

    fn add_console_request(&self, request: ConsoleRequest) -> Result<(), HubError> {
        let mut st = self.requests()?;
        st.journal.append(&request)?;
        add(&mut st.by_user, request);
        Ok(())
    }

    fn console_requests(&self, agency: &str, user: &str) -> Result<Vec<ConsoleRequest>, HubError> {
        let st = self.requests()?;
        let key = (agency.to_string(), user.to_string());
        Ok(st.by_user.get(&key).map(|list| list.iter().rev().cloned().collect()).unwrap_or_default())
    }
}

/// An append-only file of JSON lines, each fsynced before it counts.
#[derive(Debug)]
struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens (creating, 0600) `path` and replays its events with `apply`. A torn last line is cut
    /// off; damage anywhere else is refused, naming the file and the line.
    fn open<E: DeserializeOwned>(path: PathBuf, mut apply: impl FnMut(E)) -> Result<Self, HubError> {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(&path, e)),
        };
        let mut good = 0usize;
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            match serde_json::from_str::<E>(line.trim_end()) {
                Ok(event) if line.ends_with('\n') => {
                    apply(event);
                    good += line.len();
                }
                _ if i + 1 == lines.len() => break,
                Ok(_) | Err(_) => {
                    return Err(HubError::Config(format!("{}: line {} is damaged", path.display(), i + 1)));
                }
            }
        }
        let file = crate::keys::open_private_append(&path)?;
        if good < text.len() {
            file.set_len(good as u64).map_err(|e| io(&path, e))?;
        }
        Ok(Self { path, file })
    }

    /// Appends `event` as one line and waits until it is on disk.
    fn append<E: Serialize>(&mut self, event: &E) -> Result<(), HubError> {
        let mut line = serde_json::to_vec(event).map_err(|e| HubError::Io(e.to_string()))?;
        line.push(b'\n');
        self.file.write_all(&line).and_then(|()| self.file.sync_data()).map_err(|e| io(&self.path, e))
    }
}

/// A line of `reviews.jsonl`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum ReviewEvent {
    Held { review: Box<Review> },
    Decided { id: String, verdict: Verdict },
}

/// The review queue, replayed.
#[derive(Debug)]
struct Reviews {
    journal: Journal,
    reviews: HashMap<String, Review>,
    /// Decided reviews that left memory (see [`Settled`]).
    settled: HashMap<String, Settled>,
    /// Reviews whose verdict is being logged (claims live in memory: one process owns the file).
    claimed: HashSet<String>,
}

impl Reviews {
    fn open(dir: &Path) -> Result<Self, HubError> {
        let mut reviews = HashMap::new();
        let mut settled = HashMap::new();
        let journal = Journal::open(dir.join(REVIEWS_FILE), |event| match event {
            ReviewEvent::Held { review } => {
                reviews.insert(review.id.clone(), *review);
            }
            ReviewEvent::Decided { id, verdict } => {
                decided(&mut reviews, &mut settled, &id, verdict);
            }
        })?;
        Ok(Self { journal, reviews, settled, claimed: HashSet::new() })
    }

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

/// A line of `notifications.jsonl`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum NoticeEvent {
    Owed { notice: Box<Notification> },
    Sent { id: String, sent: Sent },
}

/// The notification outbox, replayed.
#[derive(Debug)]
struct Notices {
    journal: Journal,
    notices: BTreeMap<String, Notification>,
}

impl Notices {
    fn open(dir: &Path) -> Result<Self, HubError> {
        let mut notices = BTreeMap::new();
        let journal = Journal::open(dir.join(NOTIFICATIONS_FILE), |event| match event {
            NoticeEvent::Owed { notice } => {
                notices.insert(notice.id.clone(), *notice);
            }
            NoticeEvent::Sent { id, sent } => {
                if let Some(n) = notices.get_mut(&id) {
                    n.sent = Some(sent);
                }
            }
        })?;
        Ok(Self { journal, notices })
    }
}

/// The requests made through the console (a [`ConsoleRequest`] per line), the latest
/// [`CONSOLE_REQUESTS_KEPT`] of each user in memory.
#[derive(Debug)]
struct Requests {
    journal: Journal,
    by_user: HashMap<(String, String), VecDeque<ConsoleRequest>>,
}

impl Requests {
    fn open(dir: &Path) -> Result<Self, HubError> {
        let mut by_user = HashMap::new();
        let journal = Journal::open(dir.join(CONSOLE_REQUESTS_FILE), |r| add(&mut by_user, r))?;
        Ok(Self { journal, by_user })
    }
}

/// Adds `request` to its user's list, dropping the oldest past [`CONSOLE_REQUESTS_KEPT`].
fn add(by_user: &mut HashMap<(String, String), VecDeque<ConsoleRequest>>, request: ConsoleRequest) {
    let list = by_user.entry((request.agency.clone(), request.user.clone())).or_default();
    list.push_back(request);
    if list.len() > CONSOLE_REQUESTS_KEPT {
        list.pop_front();
    }
}

/// The token file.
#[derive(Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

/// Exclusive lock on the token file for read-modify-write (released on drop).
struct FileLock(#[allow(dead_code)] File);

impl FileLock {
    fn acquire(dir: &Path) -> Result<Self, HubError> {
        let p = dir.join(LOCK_FILE);
        let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&p).map_err(|e| io(&p, e))?;
        // SAFETY: flock on a valid, owned file descriptor; blocks until the lock is ours.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io(&p, std::io::Error::last_os_error()));
        }
        Ok(Self(f))
    }
}

fn read_tokens(path: &Path) -> Result<TokenFile, HubError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| HubError::Config(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
        Err(e) => Err(io(path, e)),
    }
}

fn write_tokens(dir: &Path, file: &TokenFile) -> Result<(), HubError> {
    let data = serde_json::to_vec_pretty(file).map_err(|e| HubError::Io(e.to_string()))?;
    write_private(dir, TOKENS_FILE, &data)
}

/// Replaces `dir/name` with `data` atomically and durably (a temporary file, fsynced, renamed,
/// then the directory fsynced), readable by the owner only.
pub(crate) fn write_private(dir: &Path, name: &str, data: &[u8]) -> Result<(), HubError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io(&tmp, e))?;
    f.write_all(data).and_then(|()| f.sync_all()).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, e))
}
