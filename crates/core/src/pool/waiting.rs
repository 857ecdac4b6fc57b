//! The wait queue of one pool as requests use it: the FIFO ticket ledger
//! ([`crate::resilience::WaitQueue`]) under a short lock, a `tokio::sync::Notify` that wakes
//! waiting requests when a lease ends or a ticket leaves, and counters for status. It is the
//! thin async edge of the queue: it decides nothing (whose turn it is and who waited too long
//! are the ledger's answers) and never sleeps; the server parks requests on
//! [`Waiters::notified`] and sets its own timers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::lock;
use crate::resilience::{QueueConfig, QueueView, Refusal, Ticket, WaitQueue};

/// The queue of one pool, shared by its successors so a reload keeps the waiting order.
#[derive(Debug)]
pub struct Waiters {
    ledger: Mutex<WaitQueue>,
    config: QueueConfig,
    wake: Notify,
    /// Woken only when a lease that served ends: the upstream finished a request.
    finished: Notify,
    served: AtomicU64,
    refused: AtomicU64,
    longest_wait_ms: AtomicU64,
}

/// The queue for status displays: the ledger's view and what happened to those who waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitersView {
    pub queue: QueueView,
    /// Requests that got a credential after waiting.
    pub served: u64,
    /// Requests that waited and then got a 429 (too long, or the queue was full).
    pub refused: u64,
    /// The longest wait that ended so far.
    pub longest_wait: Duration,
}

impl Waiters {
    pub fn new(config: QueueConfig) -> Self {
        Self {
            ledger: Mutex::new(WaitQueue::new(config)),
            config,
            wake: Notify::new(),
            finished: Notify::new(),
            served: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            longest_wait_ms: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> QueueConfig {
        self.config
    }

    /// A ticket at the back, or why the request may not wait.
    pub fn enqueue(&self, now: Instant) -> Result<Ticket, Refusal> {
        let result = lock(&self.ledger).enqueue(now);
        if result.is_err() && self.config != QueueConfig::Off {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Whether `ticket` is at the head (and so may take a freed slot).
    pub fn is_turn(&self, ticket: Ticket) -> bool {
        lock(&self.ledger).is_turn(ticket)
    }

    /// Whether anyone waits: a newcomer then joins the back instead of taking a free slot.
    pub fn depth(&self) -> usize {
        lock(&self.ledger).depth()
    }

    /// Takes `ticket` out after waiting `waited`; `served` says whether it got a credential.
    /// Wakes the others, since the head may have changed. Safe to call twice.
    pub fn leave(&self, ticket: Ticket, waited: Duration, served: bool) {
        if !lock(&self.ledger).leave(ticket) {
            return;
        }
        let counter = if served { &self.served } else { &self.refused };
        counter.fetch_add(1, Ordering::Relaxed);
        let ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        self.longest_wait_ms.fetch_max(ms, Ordering::Relaxed);
        self.wake.notify_waiters();
    }

    /// A future that completes at the next wake-up. Create it before checking for a free
    /// slot, then await it: a wake-up between the check and the await is not lost.
    pub fn notified(&self) -> Notified<'_> {
        self.wake.notified()
    }

    /// A future that completes when a request that was served ends: after an upstream
    /// refused a request for having too many at once, the moment it has one fewer.
    pub fn finished(&self) -> Notified<'_> {
        self.finished.notified()
    }

    /// A slot may have freed (a lease ended): every waiter looks again. `served`: the lease's
    /// request got an answer, so the upstream has one fewer in flight.
    pub(super) fn wake(&self, served: bool) {
        self.wake.notify_waiters();
        if served {
            self.finished.notify_waiters();
        }
    }

    pub fn view(&self, now: Instant) -> WaitersView {
        WaitersView {
            queue: lock(&self.ledger).view(now),
            served: self.served.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            longest_wait: Duration::from_millis(self.longest_wait_ms.load(Ordering::Relaxed)),
        }
    }
}
