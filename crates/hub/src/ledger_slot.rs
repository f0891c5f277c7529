//! The hub's hold on its ledger, with recovery from write faults.
//!
//! After a failed durable write the ledger refuses every further append, because it cannot know
//! what reached the disk. The hub then answers 503 (releasing nothing), drops the ledger once no
//! request still uses it, and reopens it until that succeeds: reopening recovers every
//! acknowledged entry and cuts off a torn final write, so nothing is lost or duplicated. An entry
//! written completely but not acknowledged before the fault may survive recovery: it records a
//! decision whose data was never released, which is the safe direction.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ledger::{Ledger, LedgerError};

/// Opens the ledger (again); called at start and after every fault.
pub type Opener = Box<dyn Fn() -> Result<Ledger, LedgerError> + Send + Sync>;

/// Why an append did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The ledger cannot write now (fault, recovery in progress).
    #[error("the ledger cannot record decisions right now: {0}")]
    Unavailable(String),
    /// The entry is too large for the ledger (a request problem, not a fault).
    #[error("{0}")]
    TooLarge(String),
}

/// A ledger that is reopened after write faults.
pub struct LedgerSlot {
    current: RwLock<Option<Arc<Ledger>>>,
    opener: Opener,
    recovering: AtomicBool,
    faults: AtomicU64,
    last_error: RwLock<Option<String>>,
    /// Failed checkpoint publications of the ledgers dropped after write faults (so that
    /// [`LedgerSlot::checkpoint_faults`] never goes down when the ledger is reopened).
    checkpoint_faults_before: AtomicU64,
}

impl std::fmt::Debug for LedgerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerSlot").field("up", &self.is_up()).finish_non_exhaustive()
    }
}

impl LedgerSlot {
    /// Opens the ledger with `opener` (which is kept for reopening).
    pub fn open(opener: Opener) -> Result<Arc<Self>, LedgerError> {
        let ledger = opener()?;
        Ok(Arc::new(Self {
            current: RwLock::new(Some(Arc::new(ledger))),
            opener,
            recovering: AtomicBool::new(false),
            faults: AtomicU64::new(0),
            last_error: RwLock::new(None),
            checkpoint_faults_before: AtomicU64::new(0),
        }))
    }

    /// The ledger, unless it is recovering from a fault.
    pub fn get(&self) -> Option<Arc<Ledger>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    /// True when the ledger accepts appends.
    pub fn is_up(&self) -> bool {
        self.get().is_some() && !self.recovering.load(Ordering::Acquire)
    }

    /// Number of write faults since start.
    pub fn faults(&self) -> u64 {
        self.faults.load(Ordering::Relaxed)
    }

    /// Failed checkpoint publications since start, over every reopening of the ledger
    /// ([`Ledger::checkpoint_faults`]). These stop no append: they are not write faults.
    pub fn checkpoint_faults(&self) -> u64 {
        let current = self.get().map_or(0, |l| l.checkpoint_faults());
        self.checkpoint_faults_before.load(Ordering::Relaxed) + current
    }

    /// The last fault's message.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.read().ok().and_then(|e| e.clone())
    }

    /// Appends `entry` and waits until it is durable; returns its index.
    pub async fn append(self: &Arc<Self>, entry: Vec<u8>) -> Result<u64, AppendError> {
        self.submit(entry)?.durable().await
    }

    /// Submits `entry` without waiting: the [`Appending`] gives its index once it is written,
    /// and then waits for it to be durable.
    pub fn submit(self: &Arc<Self>, entry: Vec<u8>) -> Result<Appending, AppendError> {
        let Some(ledger) = self.get() else {
            return Err(AppendError::Unavailable(self.last_error().unwrap_or_else(|| "recovering".into())));
        };
        match ledger.submit(entry) {
            Ok(pending) => Ok(Appending { slot: Arc::clone(self), pending, _ledger: ledger }),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// The append error for a ledger error; a fault starts recovery.
    fn failed(self: &Arc<Self>, e: LedgerError) -> AppendError {
        match e {
            e @ LedgerError::EntryTooLarge(_) => AppendError::TooLarge(e.to_string()),
            e => {
                self.fault(&e);
                AppendError::Unavailable(e.to_string())
            }
        }
    }

    /// Records a fault and starts recovery (once).
    fn fault(self: &Arc<Self>, e: &LedgerError) {
        if !self.recovering.load(Ordering::Acquire) {
            eprintln!("ledger fault, nothing is released until it is reopened: {e}");
        }
        if let Ok(mut l) = self.last_error.write() {
            *l = Some(e.to_string());
        }
        if self.recovering.swap(true, Ordering::AcqRel) {
            return;
        }
        self.faults.fetch_add(1, Ordering::Relaxed);
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new().name("ledger-recovery".into()).spawn(move || me.recover());
        if spawned.is_err() {
            self.recovering.store(false, Ordering::Release);
        }
    }

    fn recover(&self) {
        let mut old = self.current.write().ok().and_then(|mut c| c.take());
        // Its checkpoint faults count on (those it adds before it is dropped are added then).
        let counted = old.as_ref().map_or(0, |l| l.checkpoint_faults());
        self.checkpoint_faults_before.fetch_add(counted, Ordering::Relaxed);
        // Wait until no request still holds the failed ledger, so that dropping it releases its
        // directory lock (or database lock) and stops its threads.
        while let Some(arc) = old.take() {
            match Arc::try_unwrap(arc) {
                Ok(ledger) => {
                    let later = ledger.checkpoint_faults().saturating_sub(counted);
                    self.checkpoint_faults_before.fetch_add(later, Ordering::Relaxed);
                    drop(ledger);
                }
                Err(arc) => {
                    old = Some(arc);
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        loop {
            match (self.opener)() {
                Ok(ledger) => {
                    if let Ok(mut c) = self.current.write() {
                        *c = Some(Arc::new(ledger));
                    }
                    break;
                }
                Err(e) => {
                    if let Ok(mut l) = self.last_error.write() {
                        *l = Some(e.to_string());
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
        }
        self.recovering.store(false, Ordering::Release);
    }
}

/// An entry submitted to the ledger ([`LedgerSlot::submit`]). It holds the ledger it went to,
/// so that recovery after a fault waits for it.
pub struct Appending {
    slot: Arc<LedgerSlot>,
    pending: ledger::Pending,
    _ledger: Arc<Ledger>,
}

impl Appending {
    /// The entry's index once it is written to the operating system, before its flush
    /// ([`ledger::Pending::written`]): it survives this process's death, not yet a power loss.
    pub async fn written(&self) -> Result<u64, AppendError> {
        self.pending.written().await.map_err(|e| self.slot.failed(e))
    }

    /// Waits until the entry is durable; returns its index.
    pub async fn durable(self) -> Result<u64, AppendError> {
        let Self { slot, pending, _ledger } = self;
        let result = pending.await;
        drop(_ledger);
        result.map_err(|e| slot.failed(e))
    }
}
