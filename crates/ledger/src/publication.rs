//! How the publication of checkpoints is going: failed attempts, the current error, and how far
//! the published checkpoint lags behind the durable log.
//!
//! A checkpoint that cannot be published does not stop appends (entries are durable in storage
//! before they are acknowledged), but the public log stops growing: receipts carry no inclusion
//! proof, and auditors see a stale tree. So every failed publication is counted, the background
//! publisher reports it on stderr (with the full path and the OS error, at most once per distinct
//! error and then every [`LOG_REPEAT`] while it persists), the next successful publication clears
//! it (and says so on stderr), and [`Publication::behind`] tells a service when the lag has
//! passed its bound ([`lag_limit`]).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::LedgerError;

/// The lag bound is this many checkpoint intervals ...
pub const LAG_INTERVALS: u32 = 10;
/// ... but never shorter than this (so that a very short interval does not report every slow
/// checkpoint of a burst as a fault).
pub const MIN_LAG_LIMIT: Duration = Duration::from_secs(1);
/// While the same error persists, the background publisher repeats it on stderr this often.
pub const LOG_REPEAT: Duration = Duration::from_secs(10);

/// The lag bound for a checkpoint interval: [`LAG_INTERVALS`] intervals, at least
/// [`MIN_LAG_LIMIT`] (10 s for the hub's default one-second interval). `None` without an
/// interval: checkpoints are then only published on request, and no lag is a fault.
pub fn lag_limit(checkpoint_interval: Option<Duration>) -> Option<Duration> {
    checkpoint_interval.map(|every| every.saturating_mul(LAG_INTERVALS).max(MIN_LAG_LIMIT))
}

/// The state of checkpoint publication ([`crate::Ledger::publication`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// Failed publications (background or [`crate::Ledger::checkpoint`] calls) since the ledger
    /// was opened.
    pub faults: u64,
    /// The error of the latest publication if it failed, with full paths (for the operator's
    /// log); `None` once a publication succeeds.
    pub error: Option<String>,
    /// The same error for clients: no absolute path (paths inside the ledger directory are given
    /// from the directory's own name on, e.g. `ledger/tiles/tile/0/000.p`; anything else is left
    /// out).
    pub public_error: Option<String>,
    /// Durable entries that the published checkpoint does not cover.
    pub unpublished: u64,
    /// How long entries have been waiting for a checkpoint: zero when the published checkpoint
    /// covers every durable entry, else the time since the published tree was last complete
    /// (an upper bound on the oldest unpublished entry's wait).
    pub lag: Duration,
    /// The bound past which the lag is a fault ([`lag_limit`] of the checkpoint interval).
    pub lag_limit: Option<Duration>,
}

impl Publication {
    /// True when entries have waited for a checkpoint longer than [`Publication::lag_limit`].
    pub fn behind(&self) -> bool {
        self.lag_limit.is_some_and(|limit| self.lag > limit)
    }
}

/// Failed publications and what has been reported about them.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    count: AtomicU64,
    state: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    /// The current failure: (full text, text for clients).
    error: Option<(String, String)>,
    /// When the current run of failures began, and how many attempts it holds.
    since: Option<Instant>,
    failed: u64,
    /// What was last reported on stderr (the error's kind) and when.
    logged: Option<(String, Instant)>,
}

impl Faults {
    /// Failed publications so far.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The current failure: (full text, text for clients).
    pub(crate) fn error(&self) -> Option<(String, String)> {
        self.state.lock().ok().and_then(|s| s.error.clone())
    }

    /// Records a failed publication of the ledger `origin`; with `report`, says so on stderr
    /// unless the same kind of error was reported less than [`LOG_REPEAT`] ago.
    pub(crate) fn failed(&self, origin: &str, e: &LedgerError, public: String, report: bool, unpublished: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let Ok(mut s) = self.state.lock() else { return };
        let now = Instant::now();
        let since = *s.since.get_or_insert(now);
        s.failed += 1;
        s.error = Some((e.to_string(), public));
        let kind = error_kind(e);
        let repeat = s.logged.as_ref().is_some_and(|(k, at)| *k == kind && now.duration_since(*at) < LOG_REPEAT);
        if report && !repeat {
            eprintln!(
                "ledger {origin}: cannot publish a checkpoint: {e} (failed attempts: {} in {:.1} s; durable entries \
                 waiting: {unpublished}; retried at every checkpoint interval)",
                s.failed,
                now.duration_since(since).as_secs_f64(),
            );
            s.logged = Some((kind, now));
        }
    }

    /// Records a successful publication of `size` entries; if a failure was reported, says on
    /// stderr that publication works again.
    pub(crate) fn succeeded(&self, origin: &str, size: u64) {
        let Ok(mut s) = self.state.lock() else { return };
        if s.logged.take().is_some() {
            let secs = s.since.map_or(0.0, |t| t.elapsed().as_secs_f64());
            eprintln!(
                "ledger {origin}: checkpoints are published again (size {size}; failed attempts: {} in {secs:.1} s)",
                s.failed
            );
        }
        s.error = None;
        s.since = None;
        s.failed = 0;
    }
}

/// What makes two errors "the same" for reporting: the OS error of an I/O failure (its path may
/// change from one attempt to the next, e.g. a temporary file's name), else the whole message.
fn error_kind(e: &LedgerError) -> String {
    match e {
        LedgerError::Io { why, .. } => format!("io: {why}"),
        other => other.to_string(),
    }
}

/// The text of a publication error for clients: paths inside the ledger directory `dir` start
/// at the directory's name; if an absolute path is still left, only the OS error is given.
pub(crate) fn public_text(e: &LedgerError, dir: Option<&Path>) -> String {
    let mut text = e.to_string();
    if let Some(dir) = dir {
        let shown = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let full = dir.display().to_string();
        let full = full.trim_end_matches('/');
        if !shown.is_empty() && !full.is_empty() {
            text = text.replace(full, &shown);
        }
    }
    let absolute =
        text.split(|c: char| c.is_whitespace() || "\"'`(),:;=<>[]{}".contains(c)).any(|w| w.starts_with('/'));
    if !absolute {
        return format!("cannot publish a checkpoint: {text}");
    }
    match e {
        LedgerError::Io { why, .. } if !why.contains('/') => {
            format!("cannot publish a checkpoint: cannot write the ledger's files ({why})")
        }
        _ => "cannot publish a checkpoint (the server's log says why)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(what: &str) -> LedgerError {
        LedgerError::Io { what: what.into(), why: "Not a directory (os error 20)".into() }
    }

    #[test]
    fn public_text_has_no_absolute_path() {
        let dir = Path::new("/srv/data/ledger");
        assert_eq!(
            public_text(&io("/srv/data/ledger/tiles/tile/0/000.p"), Some(dir)),
            "cannot publish a checkpoint: ledger/tiles/tile/0/000.p: Not a directory (os error 20)"
        );
        assert_eq!(
            public_text(&io("/elsewhere/x"), Some(dir)),
            "cannot publish a checkpoint: cannot write the ledger's files (Not a directory (os error 20))"
        );
        assert_eq!(
            public_text(&LedgerError::Corrupt("\"/srv/x\" is bad".into()), None),
            "cannot publish a checkpoint (the server's log says why)"
        );
        assert_eq!(
            public_text(&LedgerError::Quorum { got: 0, need: 1 }, None),
            "cannot publish a checkpoint: only 0 witness cosignatures, 1 required"
        );
    }

    #[test]
    fn lag_limit_is_ten_intervals_at_least_one_second() {
        assert_eq!(lag_limit(None), None);
        assert_eq!(lag_limit(Some(Duration::from_secs(1))), Some(Duration::from_secs(10)));
        assert_eq!(lag_limit(Some(Duration::from_millis(10))), Some(Duration::from_secs(1)));
    }
}
