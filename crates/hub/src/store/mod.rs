//! The hub's durable state behind one interface, [`Store`]: bearer token records, the review
//! queue, the notices owed to people and the requests made through the console ("My requests").
//!
//! Two implementations, picked once by `Hub::open` for all of them:
//!
//! * [`FileStore`] ([`mod@file`]): the files of a data directory, `tokens.json` (rewritten atomically
//!   under an exclusive lock), `reviews.jsonl`, `notifications.jsonl` and `console-requests.jsonl`
//!   (one JSON line per event, fsynced before it counts, replayed into memory at start).
//! * [`crate::pgstate::PgState`] (its statements are in `pg.rs`): the `hub_tokens`,
//!   `hub_reviews`, `hub_notifications` and `hub_console_requests` tables of one PostgreSQL schema,
//!   shared by every replica of a region.
//!
//! Every method blocks (file or database I/O): call them from threads or `spawn_blocking`, never
//! directly on an async task. The record types stay with the code that uses them
//! ([`crate::tokens`], [`crate::reviews`], [`crate::duties`]); only [`ConsoleRequest`] is here.

use std::fmt::Debug;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::duties::{Notification, Sent};
use crate::reviews::{Review, Settled, Verdict};
use crate::tokens::TokenRecord;
use crate::HubError;

pub mod file;
mod pg;

pub use file::FileStore;

/// How many of a user's requests [`Store::console_requests`] lists (the latest).
pub const CONSOLE_REQUESTS_KEPT: usize = 200;

/// When the token records last changed, as far as the store can tell without reading them (the
/// token file's modification time and length); `None` when it cannot tell, and the records are
/// then read again every time.
pub type Stamp = Option<(SystemTime, u64)>;

/// A request made through the console, for its requester's "My requests" page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleRequest {
    /// The decision id.
    pub id: String,
    /// The requester's agency.
    pub agency: String,
    /// The requester's user id.
    pub user: String,
    /// When it was made (Unix seconds).
    pub time: u64,
    /// The source asked.
    pub source: String,
    /// The decision (`permit`, `deny`, `review`).
    pub decision: String,
    /// The decision's ledger index.
    pub ledger_index: u64,
}

/// The hub's durable state: tokens, reviews, notices owed and console requests. Every method
/// blocks.
pub trait Store: Send + Sync + Debug {
    /// True when other replicas share this store (PostgreSQL): a token id not seen yet may have
    /// been issued elsewhere and is looked up ([`Store::token`]), and the held-review counts are
    /// re-read from it now and then.
    fn shared(&self) -> bool;

    /// Every token record, in the order issued.
    fn tokens(&self) -> Result<Vec<TokenRecord>, HubError>;

    /// The token record with public id `id`, if any.
    fn token(&self, id: &str) -> Result<Option<TokenRecord>, HubError>;

    /// Stores a new token record (durable once this returns).
    fn insert_token(&self, record: &TokenRecord) -> Result<(), HubError>;

    /// Revokes the token with public id `id`; false if there is none.
    fn revoke_token(&self, id: &str) -> Result<bool, HubError>;

    /// See [`Stamp`]: the token records need not be read again while this stays the same.
    fn token_stamp(&self) -> Stamp;

    /// Holds a request for review (durable once this returns).
    fn hold(&self, review: Review) -> Result<(), HubError>;

    /// Claims a pending review for one supervisor's verdict, before the verdict is logged: until
    /// [`Store::decide`] or [`Store::unclaim`], every other attempt to decide it, on any replica,
    /// fails with [`HubError::Conflict`], so only one verdict per review ever reaches the ledger.
    /// A review decided already is a [`HubError::Conflict`], one never held
    /// [`HubError::NotFound`]. The file store keeps claims in memory (one process owns the file);
    /// PostgreSQL keeps them in the row, and a claim left by a replica that died expires after
    /// [`crate::reviews::CLAIM_SECS`].
    fn claim(&self, id: &str) -> Result<Review, HubError>;

    /// Gives up a claim whose verdict could not be logged: the review is pending again.
    fn unclaim(&self, id: &str) -> Result<(), HubError>;

    /// Records a verdict (durably) and ends its claim: [`HubError::NotFound`] if the review is
    /// unknown, [`HubError::Conflict`] if it is decided already.
    fn decide(&self, id: &str, verdict: Verdict) -> Result<Review, HubError>;

    /// One review (the file store: while it keeps it in memory, see [`Store::settled`]).
    fn review(&self, id: &str) -> Result<Option<Review>, HubError>;

    /// The pending reviews of sources owned by `agency`, oldest first.
    fn pending_reviews(&self, agency: &str) -> Result<Vec<Review>, HubError>;

    /// Every pending review (to count them per requester).
    fn all_pending_reviews(&self) -> Result<Vec<Review>, HubError>;

    /// What is left of a decided review the file store no longer keeps in memory (`None` for a
    /// review it keeps, or never had, and always with PostgreSQL, which keeps every review).
    fn settled(&self, id: &str) -> Option<Settled>;

    /// Lets decided reviews leave memory: denied ones at once, approved ones once `approval_secs`
    /// have passed since the verdict (the file store; PostgreSQL keeps nothing in memory).
    fn evict_decided(&self, now: u64, approval_secs: u64);

    /// Queues a notice owed to a person (durable once this returns).
    fn queue_notice(&self, notice: Notification) -> Result<(), HubError>;

    /// One notice.
    fn notice(&self, id: &str) -> Result<Option<Notification>, HubError>;

    /// The unsent notices `agency` owes, earliest deadline first.
    fn pending_notices(&self, agency: &str) -> Result<Vec<Notification>, HubError>;

    /// Marks a notice sent (durably): [`HubError::NotFound`] if there is no such notice,
    /// [`HubError::Conflict`] if it was sent already (on any replica).
    fn mark_notice_sent(&self, id: &str, sent: Sent) -> Result<Notification, HubError>;

    /// Records a request made through the console (durable once this returns).
    fn add_console_request(&self, request: ConsoleRequest) -> Result<(), HubError>;

    /// The latest [`CONSOLE_REQUESTS_KEPT`] requests `user` of `agency` made through the console,
    /// newest first.
    fn console_requests(&self, agency: &str, user: &str) -> Result<Vec<ConsoleRequest>, HubError>;
}

/// Orders notices by deadline, then id (both stores list them so).
fn by_deadline(notices: &mut [Notification]) {
    notices.sort_by(|a, b| (a.due, &a.id).cmp(&(b.due, &b.id)));
}
