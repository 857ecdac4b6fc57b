//! The credential pool of one provider: who its members are, the live state of each (requests
//! in flight, cooldown after a 429, invalid after a 401/403, breaker, AIMD limit, quota per
//! model, last error), which member the next attempt should use under each scheduling strategy
//! (after the resilience checks, in the order `resilience` documents), what an attempt's
//! outcome does to the member that served it, and the pool's wait queue.
//!
//! Everything here is decision logic over memory: the current time is passed in, nothing
//! sleeps, spawns or does I/O, and the state is this instance's own (agreeing on cooldowns
//! and sessions across instances is the cluster crate's job). Methods take `&self`; counters are atomics and each
//! member's state sits under its own short `std::sync::Mutex` that is never held while another
//! lock is taken, so a pool can be shared behind an `Arc` by every request in flight.
//!
//! Files: `select` picks a member per strategy, `health` is one member's state machine,
//! `guards` its breaker, AIMD limit and quota readings, `outcome` classifies upstream answers,
//! `sessions` is the bounded sticky-session map, `affinity` derives session keys from
//! requests, `waiting` is the wait queue's ledger with its wake-up.

mod affinity;
mod guards;
mod health;
mod outcome;
#[cfg(test)]
mod resilience_tests;
mod select;
mod sessions;
#[cfg(test)]
mod tests;
mod waiting;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::config::CredentialConfig;
use crate::resilience::{
    is_overload, may_eject, AimdView, BreakerView, CallResult, Pass, QuotaReading,
    ResilienceConfig, Transition,
};
use guards::Guards;
use health::Health;
use sessions::Sessions;

pub use affinity::{affinity_key, session_key};
pub use health::{LastCheck, LastError};
pub use outcome::{classify, Outcome};
pub use select::Ask;
pub use sessions::SessionLimits;
pub use waiting::{Waiters, WaitersView};

/// A credential as the pool sees it: a name to report, a weight for `Weighted` and a cap on
/// requests in flight. The secret stays with the upstream client; the pool never needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// Share of traffic under `Weighted`; 0 is read as 1 (config already refuses 0).
    pub weight: u32,
    /// Most requests in flight at once on this credential; `None`: no cap.
    pub max_in_flight: Option<u32>,
    /// Shared quota group (credentials of one upstream project or organisation): a 429 on one
    /// cools every member of the group down.
    pub group: Option<String>,
}

impl Member {
    pub fn new(name: impl Into<String>, weight: u32) -> Self {
        Self {
            name: name.into(),
            weight,
            max_in_flight: None,
            group: None,
        }
    }

    pub fn with_max_in_flight(mut self, cap: Option<u32>) -> Self {
        self.max_in_flight = cap;
        self
    }

    pub fn with_group(mut self, group: Option<String>) -> Self {
        self.group = group;
        self
    }
}

impl From<&CredentialConfig> for Member {
    fn from(c: &CredentialConfig) -> Self {
        Member::new(c.name.clone(), c.weight)
            .with_max_in_flight(c.max_concurrency)
            .with_group(c.group.clone())
    }
}

/// One member and its live state. Shared through an `Arc` so a [`Lease`] can outlive the
/// borrow of the pool it came from (a lease travels with a request across tasks).
#[derive(Debug)]
struct Slot {
    name: String,
    weight: u32,
    max_in_flight: Option<u32>,
    group: Option<String>,
    in_flight: AtomicUsize,
    health: Mutex<Health>,
    /// Taken after `health` is released, never together with it.
    guards: Mutex<Guards>,
}

impl Slot {
    fn new(m: Member, health: Health, guards: Guards) -> Self {
        Self {
            name: m.name,
            weight: m.weight.max(1),
            max_in_flight: m.max_in_flight,
            group: m.group,
            in_flight: AtomicUsize::new(0),
            health: Mutex::new(health),
            guards: Mutex::new(guards),
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
    /// Settings of every member's breaker and limiter, and of quota protection.
    resilience: Arc<ResilienceConfig>,
    /// The wait queue, shared with successors.
    waiters: Arc<Waiters>,
}

/// The answer to [`Pool::select`].
#[derive(Debug)]
#[must_use = "dropping a Selection releases its lease at once"]
pub enum Selection {
    Chosen(Lease),
    /// No member is usable now but some are only cooling down or ejected by their breaker;
    /// `until` is the earliest end of a cooldown or an ejection, for a `retry-after` answer.
    AllCoolingDown {
        until: Instant,
    },
    /// Every usable member not yet tried already has as many requests in flight as its cap or
    /// its AIMD limit allows (or is half-open with its probe taken); a slot frees as soon as
    /// one of them ends.
    AllBusy,
    /// Every member is invalid or already tried by this request.
    NoneUsable,
}

/// A request's hold on one member: counts as in flight from creation until drop, so a
/// request that fails, panics or is cancelled never leaks a slot. It carries the breaker's
/// pass; a lease dropped without [`Pool::report`] hands it back as neutral, so a half-open
/// member's probe slot is never lost. Dropping it wakes the pool's waiting requests.
#[must_use = "the member counts as in flight only while the lease is held"]
pub struct Lease {
    index: usize,
    slot: Arc<Slot>,
    pass: Option<Pass>,
    /// When the lease was taken: the instant a neutral hand-back is dated with (drop has no
    /// clock, and an earlier instant is harmless to the breaker).
    taken: Instant,
    waiters: Arc<Waiters>,
    /// Reported as a success: its end frees a place at the upstream.
    served: bool,
}

impl Lease {
    fn new(index: usize, slot: Arc<Slot>, pass: Pass, now: Instant, waiters: Arc<Waiters>) -> Self {
        slot.in_flight.fetch_add(1, Ordering::AcqRel);
        Self {
            index,
            slot,
            pass: Some(pass),
            taken: now,
            waiters,
            served: false,
        }
    }

    /// Whether this request is a half-open member's probe.
    pub fn is_probe(&self) -> bool {
        self.pass.is_some_and(|p| p.is_probe())
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
        if let Some(pass) = self.pass.take() {
            // Not a verdict on the upstream: the request ended before it heard one.
            let _ = lock(&self.slot.guards).breaker.on_result(
                pass,
                CallResult::Neutral,
                self.taken,
                true,
            );
        }
        self.slot.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.waiters.wake(self.served);
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
    /// Quarantined by an operator (health checks leave it alone).
    pub held: bool,
    /// Remaining quota as a fraction of the limit, when known: the scarcest live reading over
    /// the models it served, else the value set by [`Pool::set_quota`].
    pub quota: Option<f64>,
    pub last_error: Option<LastError>,
    pub last_check: Option<LastCheck>,
    pub group: Option<String>,
    pub breaker: BreakerView,
    pub aimd: AimdView,
    /// The latest reading per upstream model that announced a fraction.
    pub quotas: Vec<ModelQuota>,
    /// The latest `retry-after` received and when.
    pub last_retry_after: Option<(Duration, Instant)>,
}

/// One member's quota for one model, as status shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelQuota {
    pub model: String,
    /// `None` once the window it was read in has reset.
    pub fraction: Option<f64>,
    pub reset_at: Option<Instant>,
    /// Below the protection threshold: passed over while others have room.
    pub protected: bool,
}

impl Pool {
    /// A pool with the default sticky-session limits and resilience settings.
    pub fn new(members: Vec<Member>) -> Self {
        Self::with_session_limits(members, SessionLimits::default())
    }

    pub fn with_session_limits(members: Vec<Member>, limits: SessionLimits) -> Self {
        Self::configured(members, limits, ResilienceConfig::default())
    }

    /// A pool whose members' breakers, limiters and queue follow `resilience`.
    pub fn configured(
        members: Vec<Member>,
        limits: SessionLimits,
        resilience: ResilienceConfig,
    ) -> Self {
        let slots: Vec<Arc<Slot>> = members
            .into_iter()
            .map(|m| Arc::new(Slot::new(m, Health::default(), Guards::new(&resilience))))
            .collect();
        let weighted = Mutex::new(vec![0; slots.len()]);
        let waiters = Arc::new(Waiters::new(resilience.queue));
        Self {
            members: slots,
            round_robin: AtomicUsize::new(0),
            tie_break: AtomicUsize::new(0),
            weighted,
            sessions: Mutex::new(Sessions::new(limits)),
            resilience: Arc::new(resilience),
            waiters,
        }
    }

    /// The pool for a new member list (credentials added or removed at run time, a config
    /// reload), keeping what this one learned: a member whose name stays keeps its health
    /// (cooldown, invalid mark, quota, last error), its breaker, limiter and quota readings
    /// and, when its settings are unchanged, its very slot, so leases still held on this pool
    /// keep counting against it. Sticky sessions follow their member to its new index; those
    /// bound to a removed member are dropped and rebind on their next request. The wait queue
    /// is shared, so nobody loses their place. This pool stays valid for the requests still
    /// using it.
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
                            && slot.max_in_flight == m.max_in_flight
                            && slot.group == m.group =>
                    {
                        Arc::clone(slot)
                    }
                    Some(slot) => {
                        let health = lock(&slot.health).clone();
                        let guards = lock(&slot.guards).clone();
                        Arc::new(Slot::new(m, health, guards))
                    }
                    None => Arc::new(Slot::new(
                        m,
                        Health::default(),
                        Guards::new(&self.resilience),
                    )),
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
            resilience: Arc::clone(&self.resilience),
            waiters: Arc::clone(&self.waiters),
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

    /// The settings the pool's members run on.
    pub fn resilience(&self) -> &ResilienceConfig {
        &self.resilience
    }

    /// The pool's wait queue.
    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    /// The verdict of the attempt holding `lease`: feeds the member's health (cooldown,
    /// invalid mark, its quota group), its breaker (upstream-side failures only, `latency` the
    /// time to the first byte or to the failure) and its AIMD limit (cut on overload, grown on
    /// success). Call it once per lease; the lease stays held (a stream keeps it until its
    /// end) and a second report only updates health.
    pub fn report(&self, lease: &mut Lease, outcome: &Outcome, latency: Duration, now: Instant) {
        self.record_on(lease.index, &lease.slot, outcome, now);
        let result = CallResult::from_outcome(outcome, latency);
        let allowed = match result {
            CallResult::Failure { .. } => self.may_eject_one(),
            CallResult::Success { .. } | CallResult::Neutral => true,
        };
        let in_flight = lease.slot.in_flight.load(Ordering::Acquire);
        let pass = lease.pass.take();
        let mut g = lock(&lease.slot.guards);
        if let Some(pass) = pass {
            match g.breaker.on_result(pass, result, now, allowed) {
                Some(Transition::Ejected {
                    until,
                    ejections,
                    trip,
                }) => tracing::warn!(
                    credential = %lease.slot.name,
                    ejections,
                    ?trip,
                    for_ms = until.saturating_duration_since(now).as_millis() as u64,
                    "credential ejected by its breaker"
                ),
                Some(Transition::Closed) => {
                    tracing::info!(credential = %lease.slot.name, "credential back in rotation after a good probe")
                }
                None => {}
            }
        }
        if is_overload(outcome) {
            if g.aimd.on_overload_at(now, in_flight) {
                tracing::debug!(credential = %lease.slot.name, limit = g.aimd.limit(), "concurrency limit cut");
            }
        } else if *outcome == Outcome::Success {
            g.aimd.on_success(in_flight);
            lease.served = true;
        }
    }

    /// Records an outcome on `member`'s health only (cooldown, invalid mark, last error, its
    /// quota group), without a lease: for answers outside the attempt loop (count-tokens, a
    /// health check) and for tests. An index this pool does not have is ignored: outcomes are
    /// advisory and must never fail the request that reports them.
    pub fn record(&self, member: usize, outcome: &Outcome, now: Instant) {
        if let Some(slot) = self.members.get(member) {
            self.record_on(member, slot, outcome, now);
        }
    }

    fn record_on(&self, member: usize, slot: &Slot, outcome: &Outcome, now: Instant) {
        let cooldown = {
            let mut h = lock(&slot.health);
            h.record(outcome, now);
            h.cooldown_until
        };
        // A 429 on one credential of a shared quota group means the group's quota is spent:
        // the others would only collect their own 429s.
        if let (Outcome::RateLimited { .. }, Some(group), Some(until)) =
            (outcome, &slot.group, cooldown)
        {
            for (i, other) in self.members.iter().enumerate() {
                if i != member && other.group.as_ref() == Some(group) {
                    let mut h = lock(&other.health);
                    if h.cooldown_until.is_none_or(|c| c < until) {
                        h.cooldown_until = Some(until);
                    }
                }
            }
        }
    }

    /// Keeps what an upstream answer's rate-limit headers said about `member`'s quota for
    /// `model` (success or error alike).
    pub fn note_quota(&self, member: usize, model: &str, reading: QuotaReading, now: Instant) {
        if let Some(slot) = self.members.get(member) {
            lock(&slot.guards).note_quota(model, reading, now);
        }
    }

    /// Whether one more member may be ejected: the cap on the ejected share, counted over the
    /// members that are not invalid.
    fn may_eject_one(&self) -> bool {
        let mut usable = 0;
        let mut ejected = 0;
        for slot in &self.members {
            if lock(&slot.health).invalid.is_some() {
                continue;
            }
            usable += 1;
            if lock(&slot.guards).breaker.is_ejected() {
                ejected += 1;
            }
        }
        may_eject(ejected, usable, self.resilience.breaker.max_ejected_share)
    }

    /// Makes an invalid, cooling or ejected member usable again (an operator's action).
    /// Returns false when there is no such member.
    pub fn activate(&self, member: usize) -> bool {
        let found = self.with_health(member, Health::activate);
        if let Some(slot) = self.members.get(member) {
            lock(&slot.guards).breaker.reset();
        }
        found
    }

    /// Takes a member out of rotation until an operator activates it, with the reason shown
    /// in status. Health checks leave it alone.
    pub fn quarantine(&self, member: usize, reason: impl Into<String>) -> bool {
        let reason = reason.into();
        self.with_health(member, |h| {
            h.invalid = Some(reason);
            h.held = true;
        })
    }

    /// Marks a member invalid on a health check's word; a later good check brings it back. A
    /// member an operator quarantined keeps the operator's reason. Returns whether it marked.
    pub fn invalidate(&self, member: usize, reason: impl Into<String>) -> bool {
        let reason = reason.into();
        let mut marked = false;
        self.with_health(member, |h| {
            if !h.held {
                h.invalid = Some(reason);
                marked = true;
            }
        });
        marked
    }

    /// A health check found the credential accepted: an invalid member that no operator holds
    /// is back. Returns whether it was invalid and came back.
    pub fn recover(&self, member: usize) -> bool {
        let mut back = false;
        self.with_health(member, |h| {
            if h.invalid.is_some() && !h.held {
                h.activate();
                back = true;
            }
        });
        back
    }

    /// Keeps the latest health check's verdict for status.
    pub fn note_check(&self, member: usize, result: impl Into<String>, now: Instant) -> bool {
        let result = result.into();
        self.with_health(member, |h| {
            h.last_check = Some(LastCheck { result, at: now })
        })
    }

    /// Sets the member's remaining quota as a fraction of its limit (`None`: unknown).
    /// Values are clamped to `0.0..=1.0`; NaN reads as unknown.
    pub fn set_quota(&self, member: usize, quota: Option<f64>) -> bool {
        let quota = quota.filter(|q| !q.is_nan()).map(|q| q.clamp(0.0, 1.0));
        self.with_health(member, |h| h.quota = quota)
    }

    /// A snapshot of every member, in pool order.
    pub fn status(&self, now: Instant) -> Vec<MemberStatus> {
        let threshold = self.resilience.quota.protect_below;
        self.members
            .iter()
            .enumerate()
            .map(|(index, slot)| {
                let h = lock(&slot.health).clone();
                let g = lock(&slot.guards);
                let quotas = g
                    .quota
                    .iter()
                    .map(|(model, r)| {
                        let fraction = r.fraction_at(now);
                        ModelQuota {
                            model: model.clone(),
                            fraction,
                            reset_at: r.reset_at,
                            protected: crate::resilience::protected(fraction, threshold),
                        }
                    })
                    .collect();
                MemberStatus {
                    index,
                    name: slot.name.clone(),
                    weight: slot.weight,
                    in_flight: slot.in_flight.load(Ordering::Acquire),
                    cooldown_until: h.cooldown_until.filter(|&until| until > now),
                    rate_limit_streak: h.rate_limit_streak,
                    invalid: h.invalid,
                    held: h.held,
                    quota: g.fraction(None, now).or(h.quota),
                    last_error: h.last_error,
                    last_check: h.last_check,
                    group: slot.group.clone(),
                    breaker: g.breaker.view(now),
                    aimd: g.aimd.view(),
                    quotas,
                    last_retry_after: g.last_retry_after,
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
