//! The credential pool of one provider: who its members are, the live state of each (requests
//! in flight, cooldown after a 429, invalid after a 401/403, remaining quota, last error), which
//! member the next attempt should use under each scheduling strategy, and what an attempt's
//! outcome does to the member that served it.
//!
//! Everything here is decision logic over memory: the current time is passed in, nothing
//! sleeps, spawns or does I/O, and the state is this instance's own (agreeing on cooldowns
//! and sessions across instances is the cluster crate's job). Methods take `&self`; counters are atomics and each
//! member's state sits under its own short `std::sync::Mutex` that is never held while another
//! lock is taken, so a pool can be shared behind an `Arc` by every request in flight.
//!
//! Files: `select` picks a member per strategy, `health` is one member's state machine,
//! `outcome` classifies upstream answers, `sessions` is the bounded sticky-session map,
//! `affinity` derives session keys from requests.

mod affinity;
mod health;
mod outcome;
mod select;
mod sessions;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::config::CredentialConfig;
use health::Health;
use sessions::Sessions;

pub use affinity::affinity_key;
pub use health::LastError;
pub use outcome::{classify, Outcome};
pub use sessions::SessionLimits;

/// A credential as the pool sees it: a name to report, a weight for `Weighted` and a cap on
/// requests in flight. The secret stays with the upstream client; the pool never needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// Share of traffic under `Weighted`; 0 is read as 1 (config already refuses 0).
    pub weight: u32,
    /// Most requests in flight at once on this credential; `None`: no cap.
    pub max_in_flight: Option<u32>,
}

impl Member {
    pub fn new(name: impl Into<String>, weight: u32) -> Self {
        Self {
            name: name.into(),
            weight,
            max_in_flight: None,
        }
    }

    pub fn with_max_in_flight(mut self, cap: Option<u32>) -> Self {
        self.max_in_flight = cap;
        self
    }
}

impl From<&CredentialConfig> for Member {
    fn from(c: &CredentialConfig) -> Self {
        Member::new(c.name.clone(), c.weight).with_max_in_flight(c.max_concurrency)
    }
}

/// One member and its live state. Shared through an `Arc` so a [`Lease`] can outlive the
/// borrow of the pool it came from (a lease travels with a request across tasks).
#[derive(Debug)]
struct Slot {
    name: String,
    weight: u32,
    max_in_flight: Option<u32>,
    in_flight: AtomicUsize,
    health: Mutex<Health>,
}

impl Slot {
    fn new(m: Member, health: Health) -> Self {
        Self {
            name: m.name,
            weight: m.weight.max(1),
            max_in_flight: m.max_in_flight,
            in_flight: AtomicUsize::new(0),
            health: Mutex::new(health),
        }
    }
}

/// The credentials of one provider and their scheduling state.
#[derive(Debug)]
pub struct Pool {
    members: Vec<Arc<Slot>>,
    /// Rotation counter of `RoundRobin`.
    round_robin: AtomicUsize,
    /// Rotation among equally loaded members under `Balance`, so idle members share load.
    tie_break: AtomicUsize,
    /// Current weights of smooth weighted round-robin, one per member.
    weighted: Mutex<Vec<i64>>,
    /// Sticky sessions of `CacheFirst`: affinity key → member index.
    sessions: Mutex<Sessions>,
}

/// The answer to [`Pool::select`].
#[derive(Debug)]
#[must_use = "dropping a Selection releases its lease at once"]
pub enum Selection {
    Chosen(Lease),
    /// No member is usable now but some are only cooling down; `until` is the earliest end of
    /// a cooldown, for a `retry-after` answer.
    AllCoolingDown {
        until: Instant,
    },
    /// Every usable member not yet tried already has as many requests in flight as its cap
    /// allows; a slot frees as soon as one of them ends.
    AllBusy,
    /// Every member is invalid or already tried by this request.
    NoneUsable,
}

/// A request's hold on one member: counts as in flight from creation until drop, so a
/// request that fails, panics or is cancelled never leaks a slot.
#[must_use = "the member counts as in flight only while the lease is held"]
pub struct Lease {
    index: usize,
    slot: Arc<Slot>,
}

impl Lease {
    fn new(index: usize, slot: Arc<Slot>) -> Self {
        slot.in_flight.fetch_add(1, Ordering::AcqRel);
        Self { index, slot }
    }

    /// The member's index in its pool, for [`Pool::report`] and the attempt's exclude list.
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn name(&self) -> &str {
        &self.slot.name
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.slot.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("index", &self.index)
            .field("name", &self.slot.name)
            .finish()
    }
}

/// One member's state for status displays (CLI, admin API, dashboard).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberStatus {
    pub index: usize,
    pub name: String,
    pub weight: u32,
    pub in_flight: usize,
    /// Set only while the cooldown is still running at the snapshot's `now`.
    pub cooldown_until: Option<Instant>,
    /// Consecutive 429s since the last success.
    pub rate_limit_streak: u32,
    /// Why the member is invalid (skipped until activated), if it is.
    pub invalid: Option<String>,
    /// Remaining quota as a fraction of the limit, when known.
    pub quota: Option<f64>,
    pub last_error: Option<LastError>,
}

impl Pool {
    /// A pool with the default sticky-session limits.
    pub fn new(members: Vec<Member>) -> Self {
        Self::with_session_limits(members, SessionLimits::default())
    }

    pub fn with_session_limits(members: Vec<Member>, limits: SessionLimits) -> Self {
        let slots: Vec<Arc<Slot>> = members
            .into_iter()
            .map(|m| Arc::new(Slot::new(m, Health::default())))
            .collect();
        let weighted = Mutex::new(vec![0; slots.len()]);
        Self {
            members: slots,
            round_robin: AtomicUsize::new(0),
            tie_break: AtomicUsize::new(0),
            weighted,
            sessions: Mutex::new(Sessions::new(limits)),
        }
    }

    /// The pool for a new member list (credentials added or removed at run time, a config
    /// reload), keeping what this one learned: a member whose name stays keeps its health
    /// (cooldown, invalid mark, quota, last error) and, when its settings are unchanged, its
    /// very slot, so leases still held on this pool keep counting against it. Sticky sessions
    /// follow their member to its new index; those bound to a removed member are dropped and
    /// rebind on their next request. This pool stays valid for the requests still using it.
    pub fn successor(&self, members: Vec<Member>) -> Pool {
        let mut moved = Vec::with_capacity(self.members.len());
        let slots: Vec<Arc<Slot>> = members
            .into_iter()
            .enumerate()
            .map(|(new_index, m)| {
                let old = self.members.iter().position(|s| s.name == m.name);
                moved.push((old, new_index));
                match old.map(|i| &self.members[i]) {
                    Some(slot)
                        if slot.weight == m.weight.max(1)
                            && slot.max_in_flight == m.max_in_flight =>
                    {
                        Arc::clone(slot)
                    }
                    Some(slot) => Arc::new(Slot::new(m, lock(&slot.health).clone())),
                    None => Arc::new(Slot::new(m, Health::default())),
                }
            })
            .collect();
        let mut index_map = vec![None; self.members.len()];
        for (old, new) in moved {
            if let Some(old) = old {
                index_map[old] = Some(new);
            }
        }
        let sessions = lock(&self.sessions).remapped(&index_map);
        Self {
            weighted: Mutex::new(vec![0; slots.len()]),
            members: slots,
            round_robin: AtomicUsize::new(self.round_robin.load(Ordering::Relaxed)),
            tie_break: AtomicUsize::new(self.tie_break.load(Ordering::Relaxed)),
            sessions: Mutex::new(sessions),
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The index of the member with this name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.members.iter().position(|s| s.name == name)
    }

    pub fn name(&self, member: usize) -> Option<&str> {
        self.members.get(member).map(|s| s.name.as_str())
    }

    pub fn in_flight(&self, member: usize) -> usize {
        self.members
            .get(member)
            .map_or(0, |s| s.in_flight.load(Ordering::Acquire))
    }

    /// Records what an attempt on `member` led to. An index this pool does not have is
    /// ignored: outcomes are advisory and must never fail the request that reports them.
    pub fn report(&self, member: usize, outcome: &Outcome, now: Instant) {
        if let Some(slot) = self.members.get(member) {
            lock(&slot.health).record(outcome, now);
        }
    }

    /// Makes an invalid or cooling member usable again (operator action or a passed health
    /// check). Returns false when there is no such member.
    pub fn activate(&self, member: usize) -> bool {
        self.with_health(member, Health::activate)
    }

    /// Takes a member out of rotation until [`Pool::activate`], with the reason shown in status.
    pub fn quarantine(&self, member: usize, reason: impl Into<String>) -> bool {
        let reason = reason.into();
        self.with_health(member, |h| h.invalid = Some(reason))
    }

    /// Sets the member's remaining quota as a fraction of its limit (`None`: unknown).
    /// Values are clamped to `0.0..=1.0`; NaN reads as unknown.
    pub fn set_quota(&self, member: usize, quota: Option<f64>) -> bool {
        let quota = quota.filter(|q| !q.is_nan()).map(|q| q.clamp(0.0, 1.0));
        self.with_health(member, |h| h.quota = quota)
    }

    /// A snapshot of every member, in pool order.
    pub fn status(&self, now: Instant) -> Vec<MemberStatus> {
        self.members
            .iter()
            .enumerate()
            .map(|(index, slot)| {
                let h = lock(&slot.health);
                MemberStatus {
                    index,
                    name: slot.name.clone(),
                    weight: slot.weight,
                    in_flight: slot.in_flight.load(Ordering::Acquire),
                    cooldown_until: h.cooldown_until.filter(|&until| until > now),
                    rate_limit_streak: h.rate_limit_streak,
                    invalid: h.invalid.clone(),
                    quota: h.quota,
                    last_error: h.last_error.clone(),
                }
            })
            .collect()
    }

    /// The number of sticky-session bindings held (for status and tests).
    pub fn session_count(&self) -> usize {
        lock(&self.sessions).len()
    }

    fn with_health(&self, member: usize, f: impl FnOnce(&mut Health)) -> bool {
        match self.members.get(member) {
            Some(slot) => {
                f(&mut lock(&slot.health));
                true
            }
            None => false,
        }
    }
}

/// Locks a mutex even if a panicking thread poisoned it. Every critical section here makes
/// whole-field assignments, so the data is consistent even after such a panic, and refusing
/// to schedule afterwards would turn one bug into an outage.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
