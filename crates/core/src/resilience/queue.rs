//! The policy of the wait queue: whether a request that finds no credential with room waits
//! at all, and a FIFO ledger of tickets for those that do — who is next, who waited too long.
//! It is the bookkeeping only: parking a request and waking it (a `tokio::sync::Notify`), and
//! answering 429 with `retry-after`, are the server's. Nothing here is async or reads a clock.
//!
//! The server's side of the contract: one ledger per pool (a slot freed in one provider is no
//! use to a request waiting for another); a request that finds the queue non-empty joins it
//! even if a slot looks free, or newcomers would overtake the queue forever; every ticket
//! leaves exactly once ([`WaitQueue::leave`] when served or cancelled, or through
//! [`WaitQueue::expire`]), best from a drop guard, or the queue stalls behind a ghost head;
//! and after a ticket leaves, the new head is woken.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// Waiting requests a queue holds by default. Each parked request holds its body (up to the
/// body limit) and a connection, so the queue is bounded; 1024 absorbs the burst of a busy
/// team and stays far from memory trouble.
pub const DEFAULT_MAX_DEPTH: usize = 1024;

/// Whether requests wait for a credential to free up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueConfig {
    /// Default: no room → 429 at once, with `retry-after`. Clients and SDKs already retry on
    /// 429 with backoff, and a gateway that parks requests unasked hides overload from its
    /// operator and holds connections.
    #[default]
    Off,
    /// Wait in FIFO order up to `max_wait` (`None`: up to the request's own deadline), with
    /// at most `max_depth` requests waiting; past either, 429 as with `Off`.
    Wait {
        max_wait: Option<Duration>,
        max_depth: usize,
    },
}

impl QueueConfig {
    /// `Wait` with the default depth.
    pub fn wait(max_wait: Option<Duration>) -> Self {
        QueueConfig::Wait {
            max_wait,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// A place in the queue. Tickets of one queue are unique and increase in arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(u64);

/// Why a request may not wait; the server answers 429 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Waiting is off.
    Off,
    Full {
        depth: usize,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Off => write!(f, "no credential has room and waiting is off"),
            Refusal::Full { depth } => {
                write!(
                    f,
                    "no credential has room and {depth} requests are waiting already"
                )
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// The queue of one pool, for status displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueView {
    pub depth: usize,
    pub oldest_wait: Option<Duration>,
    pub config: QueueConfig,
}

/// The ticket ledger of one pool.
#[derive(Debug, Clone)]
pub struct WaitQueue {
    config: QueueConfig,
    next: u64,
    /// Tickets in arrival order, each with when it joined.
    waiting: VecDeque<(Ticket, Instant)>,
}

impl WaitQueue {
    pub fn new(config: QueueConfig) -> Self {
        Self {
            config,
            next: 0,
            waiting: VecDeque::new(),
        }
    }

    /// A ticket at the back of the queue, or why the request may not wait.
    pub fn enqueue(&mut self, now: Instant) -> Result<Ticket, Refusal> {
        let QueueConfig::Wait { max_depth, .. } = self.config else {
            return Err(Refusal::Off);
        };
        if self.waiting.len() >= max_depth {
            return Err(Refusal::Full {
                depth: self.waiting.len(),
            });
        }
        let ticket = Ticket(self.next);
        self.next = self.next.wrapping_add(1);
        self.waiting.push_back((ticket, now));
        Ok(ticket)
    }

    /// Whether `ticket` may take a freed slot now: only the head may, so slots go in arrival
    /// order. Call [`WaitQueue::expire`] first, so an expired head is not served.
    pub fn is_turn(&self, ticket: Ticket) -> bool {
        self.waiting
            .front()
            .is_some_and(|&(head, _)| head == ticket)
    }

    /// Takes `ticket` out (served, or its request gave up). False when it was not waiting
    /// (already left or expired), so a drop guard may call this unconditionally.
    pub fn leave(&mut self, ticket: Ticket) -> bool {
        match self.waiting.iter().position(|&(t, _)| t == ticket) {
            Some(i) => {
                self.waiting.remove(i);
                true
            }
            None => false,
        }
    }

    /// Takes out and returns, in arrival order, the tickets that have waited `max_wait` or
    /// longer; their requests get a 429.
    pub fn expire(&mut self, now: Instant) -> Vec<Ticket> {
        let QueueConfig::Wait {
            max_wait: Some(max_wait),
            ..
        } = self.config
        else {
            return Vec::new();
        };
        let mut expired = Vec::new();
        // Not just a prefix: arrival instants computed on different threads may be slightly
        // out of order, and a scan of a bounded queue is cheap.
        self.waiting.retain(|&(ticket, since)| {
            let keep = now.saturating_duration_since(since) < max_wait;
            if !keep {
                expired.push(ticket);
            }
            keep
        });
        expired
    }

    /// When the next ticket expires, for the server's timer.
    pub fn next_expiry(&self) -> Option<Instant> {
        let QueueConfig::Wait {
            max_wait: Some(max_wait),
            ..
        } = self.config
        else {
            return None;
        };
        let since = self.waiting.iter().map(|&(_, since)| since).min()?;
        // An `Instant` that far away will never come; no expiry is the honest answer.
        since.checked_add(max_wait)
    }

    /// Tickets ahead of `ticket` (0 for the head), or `None` when it is not waiting.
    pub fn position(&self, ticket: Ticket) -> Option<usize> {
        self.waiting.iter().position(|&(t, _)| t == ticket)
    }

    pub fn depth(&self) -> usize {
        self.waiting.len()
    }

    /// How long the longest-waiting ticket has waited.
    pub fn oldest_wait(&self, now: Instant) -> Option<Duration> {
        let since = self.waiting.iter().map(|&(_, since)| since).min()?;
        Some(now.saturating_duration_since(since))
    }

    pub fn view(&self, now: Instant) -> QueueView {
        QueueView {
            depth: self.depth(),
            oldest_wait: self.oldest_wait(now),
            config: self.config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::test_clock::t0;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn waiting(max_wait: Option<Duration>) -> WaitQueue {
        WaitQueue::new(QueueConfig::wait(max_wait))
    }

    #[test]
    fn off_refuses_at_once() {
        let t = t0();
        let mut q = WaitQueue::new(QueueConfig::default());
        assert_eq!(q.enqueue(t), Err(Refusal::Off));
        assert_eq!(q.depth(), 0);
        assert_eq!(q.expire(t + ms(1)), []);
        assert_eq!(q.next_expiry(), None);
        assert_eq!(
            Refusal::Off.to_string(),
            "no credential has room and waiting is off"
        );
    }

    #[test]
    fn slots_go_in_arrival_order() {
        let t = t0();
        let mut q = waiting(None);
        let tickets: Vec<Ticket> = (0..4).map(|i| q.enqueue(t + ms(i)).unwrap()).collect();
        // Only the head may take a slot, whoever asks first.
        assert!(!q.is_turn(tickets[2]));
        assert!(q.is_turn(tickets[0]));
        assert_eq!(q.position(tickets[3]), Some(3));
        // The second gives up (client gone): the order of the rest holds.
        assert!(q.leave(tickets[1]));
        assert!(!q.leave(tickets[1]), "leaving twice is harmless");
        let mut served = Vec::new();
        while let Some(&head) = tickets.iter().find(|&&t| q.is_turn(t)) {
            served.push(head);
            assert!(q.leave(head));
        }
        assert_eq!(served, [tickets[0], tickets[2], tickets[3]]);
        assert_eq!(q.depth(), 0);
        assert_eq!(q.position(tickets[0]), None);
        assert!(!q.is_turn(tickets[0]));
    }

    #[test]
    fn tickets_past_max_wait_expire() {
        let t = t0();
        let mut q = waiting(Some(ms(1000)));
        let a = q.enqueue(t).unwrap();
        let b = q.enqueue(t + ms(400)).unwrap();
        // Computed on another thread a moment earlier than b's instant.
        let c = q.enqueue(t + ms(300)).unwrap();
        assert_eq!(q.next_expiry(), Some(t + ms(1000)));
        assert_eq!(q.oldest_wait(t + ms(500)), Some(ms(500)));
        assert_eq!(q.expire(t + ms(999)), []);
        assert_eq!(q.expire(t + ms(1000)), [a]);
        assert!(q.is_turn(b));
        assert_eq!(q.next_expiry(), Some(t + ms(1300)));
        assert_eq!(q.expire(t + ms(1350)), [c]);
        assert!(q.is_turn(b));
        assert_eq!(
            q.view(t + ms(1350)),
            QueueView {
                depth: 1,
                oldest_wait: Some(ms(950)),
                config: QueueConfig::wait(Some(ms(1000))),
            }
        );
        assert!(!q.leave(a), "expired tickets have left already");
    }

    #[test]
    fn without_max_wait_nothing_expires() {
        let t = t0();
        let mut q = waiting(None);
        q.enqueue(t).unwrap();
        assert_eq!(q.expire(t + Duration::from_secs(86_400)), []);
        assert_eq!(q.next_expiry(), None);
        assert_eq!(q.depth(), 1);
    }

    #[test]
    fn depth_is_bounded() {
        let t = t0();
        let mut q = WaitQueue::new(QueueConfig::Wait {
            max_wait: None,
            max_depth: 2,
        });
        let a = q.enqueue(t).unwrap();
        q.enqueue(t).unwrap();
        assert_eq!(q.enqueue(t), Err(Refusal::Full { depth: 2 }));
        q.leave(a);
        let c = q.enqueue(t).unwrap();
        assert!(c > a, "tickets keep increasing");
        let mut none = WaitQueue::new(QueueConfig::Wait {
            max_wait: None,
            max_depth: 0,
        });
        assert_eq!(none.enqueue(t), Err(Refusal::Full { depth: 0 }));
        assert_eq!(
            Refusal::Full { depth: 2 }.to_string(),
            "no credential has room and 2 requests are waiting already"
        );
    }

    #[test]
    fn an_enormous_max_wait_never_expires_and_never_panics() {
        let t = t0();
        let mut q = waiting(Some(Duration::MAX));
        q.enqueue(t).unwrap();
        assert_eq!(q.next_expiry(), None);
        assert_eq!(q.expire(t + Duration::from_secs(1_000_000)), []);
    }
}
