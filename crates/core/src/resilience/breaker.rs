//! Outlier ejection for one credential: a circuit breaker that takes a member out of rotation
//! when the upstream keeps failing on it (failures in a row, or a failure or slow-call ratio
//! over a sliding window), keeps it out for an ejection time that grows with each repeated
//! ejection, then lets a few probe requests through (half-open) and closes on a good probe.
//! Only upstream-side failures count: a client's 4xx, a 429 (the cooldown's business) and a
//! 401/403 (the credential is invalid, not sick) are neutral. It decides over memory with the
//! clock passed in; it never selects members, never sleeps, and never counts how much of the
//! pool is ejected (the pool does, and asks [`may_eject`] before letting a breaker trip).

use std::ops::AddAssign;
use std::time::{Duration, Instant};

use super::window::Window;
use crate::pool::Outcome;

/// No ejection lasts longer than a day, whatever the config says: it bounds the arithmetic
/// (an `Instant` plus years can overflow) and a day-long ejection is already an operator's
/// problem, not a breaker's.
const EJECTION_CEILING: Duration = Duration::from_secs(24 * 3600);

/// When a breaker trips and how long it stays open.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Off: every request is admitted and results are ignored.
    pub enabled: bool,
    /// Upstream failures in a row (neutral results in between do not break the streak) that
    /// eject. Default 5, as Envoy's `consecutive_5xx`: one or two failures happen to healthy
    /// credentials (a proxy's stray 502), five with no success between is a pattern. 0 turns
    /// this rule off.
    pub consecutive_failures: u32,
    /// Span of the sliding window the ratios are computed over. Default 10 s: long enough to
    /// gather `min_calls` at modest traffic, short enough to react within seconds.
    pub window: Duration,
    /// Buckets the window is kept in. Default 10 (1 s each): the window slides a tenth at a
    /// time, in fixed memory.
    pub buckets: u32,
    /// Calls the window must hold before a ratio may eject. Default 20: a ratio over a handful
    /// of calls is noise (2 failures out of 3 is 67 %).
    pub min_calls: u32,
    /// Share of failed calls in the window that ejects. Default 0.5: when half the calls fail,
    /// the credential costs more in retries and latency than it serves.
    pub failure_ratio: f64,
    /// Slow calls as a failure signal; off by default (see [`SlowCalls`]).
    pub slow_calls: Option<SlowCalls>,
    /// The first ejection's length. Default 5 s: a burst of requests goes elsewhere, and a
    /// false positive costs little.
    pub base_ejection: Duration,
    /// Each repeated ejection lasts this many times the previous one. Default 2 (5 s, 10 s,
    /// 20 s, ...): a credential that keeps failing its probes is tried ever more rarely.
    /// Values under 1 are read as 1.
    pub ejection_multiplier: f64,
    /// Cap of the growing ejection. Default 5 min: a broken credential is still probed a dozen
    /// times an hour, so it comes back on its own once fixed.
    pub max_ejection: Duration,
    /// Closed and healthy this long after an ejection, the breaker forgets past ejections and
    /// the next one starts from `base_ejection` again. Default 5 min, the longest ejection: a
    /// trouble-free stretch that long says the old trouble is over.
    pub forget_after: Duration,
    /// Probe requests allowed at once while half-open. Default 1: risk one request at a time
    /// on a credential that was failing. 0 is read as 1.
    pub probes: u32,
    /// A probe with no result after this long is presumed lost (its request was cancelled
    /// without a report) and its slot is given to a new probe. Default 2 min, twice the
    /// default first-byte timeout: a probe's result is known by its first byte or its failure.
    pub probe_timeout: Duration,
    /// The largest share of a pool's usable members ejected at once (see [`may_eject`]).
    /// Default 0.5: if the cause is the upstream rather than the credentials, ejecting them
    /// all would turn a partial failure into a total one; half keeps capacity while isolating
    /// the worst.
    pub max_ejected_share: f64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            consecutive_failures: 5,
            window: Duration::from_secs(10),
            buckets: 10,
            min_calls: 20,
            failure_ratio: 0.5,
            slow_calls: None,
            base_ejection: Duration::from_secs(5),
            ejection_multiplier: 2.0,
            max_ejection: Duration::from_secs(300),
            forget_after: Duration::from_secs(300),
            probes: 1,
            probe_timeout: Duration::from_secs(120),
            max_ejected_share: 0.5,
        }
    }
}

/// Slow calls count against a credential like failures, by their own ratio. Off by default:
/// an LLM call's latency depends mostly on the request (output length, reasoning, a
/// non-streamed answer arrives whole), so an absolute threshold misfires unless the operator
/// knows the traffic. The latency to report is the time to first byte.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowCalls {
    /// A call at least this slow is slow. Default 30 s.
    pub threshold: Duration,
    /// Share of slow calls in the window that ejects. Default 0.8: only when nearly every call
    /// is slow, which points at the credential's account or tier rather than the requests.
    pub ratio: f64,
}

impl Default for SlowCalls {
    fn default() -> Self {
        Self {
            threshold: Duration::from_secs(30),
            ratio: 0.8,
        }
    }
}

/// What one call said about the upstream behind a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    Success {
        latency: Duration,
    },
    /// The upstream failed: 5xx, timeout, connection refused.
    Failure {
        latency: Duration,
    },
    /// Says nothing about the upstream's health: the client's 4xx, a 429 (the cooldown and
    /// AIMD handle it), a 401/403 (the pool marks the credential invalid), a cancelled request.
    Neutral,
}

impl CallResult {
    /// The breaker's reading of a pool outcome. `latency` is the time to first byte (or to the
    /// failure).
    pub fn from_outcome(outcome: &Outcome, latency: Duration) -> Self {
        match outcome {
            Outcome::Success => CallResult::Success { latency },
            Outcome::ServerError { .. } | Outcome::Timeout | Outcome::ConnectFailed => {
                CallResult::Failure { latency }
            }
            Outcome::RateLimited { .. }
            | Outcome::Unauthorized { .. }
            | Outcome::ClientError { .. } => CallResult::Neutral,
        }
    }
}

/// A request's permission from the breaker, handed back with its result. It ties the result to
/// the breaker state that admitted it, so results of requests admitted before a change of
/// state (still in flight when the breaker tripped) cannot move the new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    generation: u64,
    probe: bool,
}

impl Pass {
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

/// The answer of [`Breaker::admits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a pass must be handed back to on_result"]
pub enum Admission {
    Admit(Pass),
    /// Half-open: this request is a probe; its result closes or re-ejects.
    Probe(Pass),
    /// Ejected until `until`; `None` while half-open with every probe slot taken (the probe's
    /// result decides, so the wait is unknown but short).
    Reject {
        until: Option<Instant>,
    },
}

/// What [`Breaker::gate`] sees without claiming a probe slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Admit,
    Probe,
    Reject { until: Option<Instant> },
}

/// Why a breaker tripped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trip {
    ConsecutiveFailures(u32),
    FailureRatio(f64),
    SlowCallRatio(f64),
    ProbeFailed,
}

/// A change of state worth a log line, a metric or a webhook.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transition {
    /// Ejected until `until`; `ejections` counts repeated ejections (1 for the first).
    Ejected {
        until: Instant,
        ejections: u32,
        trip: Trip,
    },
    /// A probe succeeded: back in rotation.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open { until: Instant },
    HalfOpen { probes_in_flight: u32 },
}

/// One breaker for status displays.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerView {
    pub state: BreakerState,
    pub consecutive_failures: u32,
    /// Counts in the sliding window (since the last change of state).
    pub calls: u32,
    pub failures: u32,
    pub slow: u32,
    /// Ejections since the breaker was last healthy for `forget_after`.
    pub ejections: u32,
    /// How long the next ejection would last.
    pub next_ejection: Duration,
    /// The breaker would have ejected at its last result but the pool's cap held it in
    /// rotation.
    pub held_by_cap: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    calls: u32,
    failures: u32,
    slow: u32,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, o: Self) {
        self.calls = self.calls.saturating_add(o.calls);
        self.failures = self.failures.saturating_add(o.failures);
        self.slow = self.slow.saturating_add(o.slow);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        probes: u32,
        /// When the latest probe was let through, to free the slots of lost probes.
        last_probe: Option<Instant>,
    },
}

/// The breaker of one credential.
#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    state: State,
    /// Bumped at every change of state; see [`Pass`].
    generation: u64,
    streak: u32,
    window: Window<Tally>,
    /// Ejections so far; sets the next ejection's length.
    ejections: u32,
    /// When the breaker last closed after an ejection.
    closed_at: Option<Instant>,
    /// See [`BreakerView::held_by_cap`].
    held_by_cap: bool,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        let window = Window::new(config.window, config.buckets);
        Self {
            config,
            state: State::Closed,
            generation: 0,
            streak: 0,
            window,
            ejections: 0,
            closed_at: None,
            held_by_cap: false,
        }
    }

    /// Whether a request may use this credential now, claiming a probe slot when half-open.
    /// Call it for the member actually chosen (use [`Breaker::gate`] to scan), and hand the
    /// pass back to [`Breaker::on_result`] exactly once, with `Neutral` if the request ends
    /// without an upstream verdict.
    pub fn admits(&mut self, now: Instant) -> Admission {
        if !self.config.enabled {
            return Admission::Admit(self.pass(false));
        }
        if let State::Open { until } = self.state {
            if now < until {
                return Admission::Reject { until: Some(until) };
            }
            self.change(State::HalfOpen {
                probes: 0,
                last_probe: None,
            });
        }
        let probe = self.pass(true);
        let (probe_timeout, slots) = (self.config.probe_timeout, self.config.probes.max(1));
        match &mut self.state {
            State::Closed => Admission::Admit(self.pass(false)),
            State::HalfOpen { probes, last_probe } => {
                if last_probe.is_some_and(|at| now.saturating_duration_since(at) >= probe_timeout) {
                    *probes = 0;
                }
                if *probes >= slots {
                    return Admission::Reject { until: None };
                }
                *probes += 1;
                *last_probe = Some(now);
                Admission::Probe(probe)
            }
            // Left above.
            State::Open { until } => Admission::Reject {
                until: Some(*until),
            },
        }
    }

    /// What [`Breaker::admits`] would answer at `now`, without claiming anything: for scanning
    /// members before choosing one.
    pub fn gate(&self, now: Instant) -> Gate {
        if !self.config.enabled {
            return Gate::Admit;
        }
        match self.state {
            State::Closed => Gate::Admit,
            State::Open { until } if now < until => Gate::Reject { until: Some(until) },
            State::Open { .. } => Gate::Probe,
            State::HalfOpen { probes, last_probe } => {
                let lost = last_probe.is_some_and(|at| {
                    now.saturating_duration_since(at) >= self.config.probe_timeout
                });
                if lost || probes < self.config.probes.max(1) {
                    Gate::Probe
                } else {
                    Gate::Reject { until: None }
                }
            }
        }
    }

    /// Records the result of a request this breaker admitted with `pass`. `may_eject` is the
    /// pool's [`may_eject`] answer for one more ejection, consulted only when this result
    /// would trip a closed breaker; when false, the breaker stays closed with its counts kept
    /// and trips on a later failure once allowed. A failed probe re-ejects regardless: the
    /// member is already counted as ejected.
    ///
    /// A pool counting its ejected members adds one on `Ejected` with a trip other than
    /// [`Trip::ProbeFailed`] (a re-ejection from half-open) and removes one on `Closed`.
    pub fn on_result(
        &mut self,
        pass: Pass,
        result: CallResult,
        now: Instant,
        may_eject: bool,
    ) -> Option<Transition> {
        if !self.config.enabled || pass.generation != self.generation {
            return None;
        }
        self.forget_if_healthy(now);
        let bad = match result {
            CallResult::Neutral => {
                if let State::HalfOpen { probes, .. } = &mut self.state {
                    if pass.probe {
                        *probes = probes.saturating_sub(1);
                    }
                }
                return None;
            }
            CallResult::Success { latency } => (false, self.is_slow(latency)),
            CallResult::Failure { latency } => (true, self.is_slow(latency)),
        };
        match self.state {
            State::Closed => self.record_closed(bad, now, may_eject),
            State::HalfOpen { .. } if pass.probe => {
                let (failed, slow) = bad;
                if failed || slow {
                    Some(self.eject(Trip::ProbeFailed, now))
                } else {
                    self.change(State::Closed);
                    self.closed_at = Some(now);
                    Some(Transition::Closed)
                }
            }
            // Passes are only issued in Closed and HalfOpen, and a change bumps the generation.
            State::HalfOpen { .. } | State::Open { .. } => None,
        }
    }

    /// Back to closed with no history (an operator activated the credential). Returns whether
    /// it was ejected, for a pool that keeps a count of its ejected members.
    pub fn reset(&mut self) -> bool {
        let was_ejected = self.is_ejected();
        self.change(State::Closed);
        self.ejections = 0;
        self.closed_at = None;
        was_ejected
    }

    /// Open or half-open: what counts against the pool's ejection cap (a half-open member only
    /// takes probes, so it is still out of rotation). Independent of the clock: an ejection
    /// that has run out stays counted until a probe closes it.
    pub fn is_ejected(&self) -> bool {
        self.config.enabled && !matches!(self.state, State::Closed)
    }

    pub fn view(&self, now: Instant) -> BreakerView {
        let tally = self.window.total(now);
        let state = match self.state {
            State::Closed => BreakerState::Closed,
            State::Open { until } if now < until => BreakerState::Open { until },
            State::Open { .. } => BreakerState::HalfOpen {
                probes_in_flight: 0,
            },
            State::HalfOpen { probes, .. } => BreakerState::HalfOpen {
                probes_in_flight: probes,
            },
        };
        let ejections = self.effective_ejections(now);
        BreakerView {
            state,
            consecutive_failures: self.streak,
            calls: tally.calls,
            failures: tally.failures,
            slow: tally.slow,
            ejections,
            next_ejection: ejection_time(&self.config, ejections.saturating_add(1)),
            held_by_cap: self.held_by_cap,
        }
    }

    fn record_closed(
        &mut self,
        (failed, slow): (bool, bool),
        now: Instant,
        may_eject: bool,
    ) -> Option<Transition> {
        self.held_by_cap = false;
        self.streak = if failed {
            self.streak.saturating_add(1)
        } else {
            0
        };
        self.window.add(
            now,
            Tally {
                calls: 1,
                failures: u32::from(failed),
                slow: u32::from(slow),
            },
        );
        // A success never trips a breaker, but may leave it over a ratio the cap holds back.
        let trip = self.trip(now)?;
        if !may_eject {
            self.held_by_cap = true;
            return None;
        }
        if !(failed || slow) {
            return None;
        }
        Some(self.eject(trip, now))
    }

    fn trip(&self, now: Instant) -> Option<Trip> {
        let c = &self.config;
        if c.consecutive_failures > 0 && self.streak >= c.consecutive_failures {
            return Some(Trip::ConsecutiveFailures(self.streak));
        }
        let tally = self.window.total(now);
        if tally.calls < c.min_calls.max(1) {
            return None;
        }
        let calls = f64::from(tally.calls);
        let failures = f64::from(tally.failures) / calls;
        if failures >= c.failure_ratio {
            return Some(Trip::FailureRatio(failures));
        }
        let slow = f64::from(tally.slow) / calls;
        match c.slow_calls {
            Some(s) if slow >= s.ratio => Some(Trip::SlowCallRatio(slow)),
            _ => None,
        }
    }

    fn eject(&mut self, trip: Trip, now: Instant) -> Transition {
        let ejections = self.effective_ejections(now).saturating_add(1);
        self.ejections = ejections;
        // The ejection is capped at a day, so the addition cannot overflow in practice; if it
        // did, ejecting for no time is the harmless way out.
        let until = now
            .checked_add(ejection_time(&self.config, ejections))
            .unwrap_or(now);
        self.change(State::Open { until });
        self.closed_at = None;
        Transition::Ejected {
            until,
            ejections,
            trip,
        }
    }

    /// Every change starts the counts afresh: failures from before an ejection must not count
    /// against the member once it is back.
    fn change(&mut self, state: State) {
        self.state = state;
        self.held_by_cap = false;
        self.generation = self.generation.wrapping_add(1);
        self.streak = 0;
        self.window.clear();
    }

    fn pass(&self, probe: bool) -> Pass {
        Pass {
            generation: self.generation,
            probe,
        }
    }

    fn is_slow(&self, latency: Duration) -> bool {
        self.config
            .slow_calls
            .is_some_and(|s| latency >= s.threshold)
    }

    fn forget_if_healthy(&mut self, now: Instant) {
        self.ejections = self.effective_ejections(now);
    }

    /// Past ejections, forgotten once closed and healthy for `forget_after`.
    fn effective_ejections(&self, now: Instant) -> u32 {
        match (self.state, self.closed_at) {
            (State::Closed, Some(at))
                if now.saturating_duration_since(at) >= self.config.forget_after =>
            {
                0
            }
            _ => self.ejections,
        }
    }
}

/// The length of the `n`th ejection in a row (1-based): `base · multiplier^(n-1)`, capped.
pub fn ejection_time(config: &BreakerConfig, n: u32) -> Duration {
    let cap = config.max_ejection.min(EJECTION_CEILING);
    let base = config.base_ejection.min(cap);
    let multiplier = if config.ejection_multiplier >= 1.0 {
        config.ejection_multiplier
    } else {
        // Also catches NaN, which compares false.
        1.0
    };
    let exponent = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
    let secs = base.as_secs_f64() * multiplier.powi(exponent);
    // Infinity or overflow: the cap is the answer anyway.
    Duration::try_from_secs_f64(secs).map_or(cap, |d| d.min(cap))
}

/// Whether one more member of a pool may be ejected, given how many are ejected now (open or
/// half-open) and how many are usable apart from the breaker (not invalid; ejected ones
/// included). The ejected share after this ejection must stay within `max_share`, and the
/// last usable member is never ejected: a pool whose every credential fails still tries one,
/// so it notices when the upstream recovers, and the retry budget bounds the cost meanwhile.
pub fn may_eject(ejected_now: usize, usable_total: usize, max_share: f64) -> bool {
    let after = ejected_now.saturating_add(1);
    // Tolerates rounding in `max_share · usable` (0.5 · 2 must allow exactly 1).
    let within_share = after as f64 <= max_share * usable_total as f64 + 1e-9;
    within_share && after < usable_total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::test_clock::t0;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    const FAIL: CallResult = CallResult::Failure {
        latency: Duration::from_millis(100),
    };
    const OK: CallResult = CallResult::Success {
        latency: Duration::from_millis(100),
    };

    fn admit(b: &mut Breaker, now: Instant) -> Pass {
        match b.admits(now) {
            Admission::Admit(pass) => pass,
            other => panic!("expected an admission, got {other:?}"),
        }
    }

    fn probe(b: &mut Breaker, now: Instant) -> Pass {
        match b.admits(now) {
            Admission::Probe(pass) => pass,
            other => panic!("expected a probe, got {other:?}"),
        }
    }

    /// One whole call: admitted, answered, reported, with ejection allowed.
    fn call(b: &mut Breaker, r: CallResult, now: Instant) -> Option<Transition> {
        let pass = admit(b, now);
        b.on_result(pass, r, now, true)
    }

    fn ejected_until(t: Option<Transition>) -> Instant {
        match t {
            Some(Transition::Ejected { until, .. }) => until,
            other => panic!("expected an ejection, got {other:?}"),
        }
    }

    /// Trips a fresh breaker at `now` with five failures in a row.
    fn tripped(now: Instant) -> Breaker {
        let mut b = Breaker::new(BreakerConfig::default());
        for _ in 0..4 {
            assert_eq!(call(&mut b, FAIL, now), None);
        }
        let until = ejected_until(call(&mut b, FAIL, now));
        assert_eq!(until, now + secs(5));
        b
    }

    #[test]
    fn five_failures_in_a_row_eject_and_neutral_results_do_not_break_the_streak() {
        let t = t0();
        let mut b = Breaker::new(BreakerConfig::default());
        for _ in 0..4 {
            assert_eq!(call(&mut b, FAIL, t), None);
        }
        // A client's 400 between failures says nothing either way.
        assert_eq!(call(&mut b, CallResult::Neutral, t), None);
        assert_eq!(b.view(t).consecutive_failures, 4);
        // A success does reset the streak.
        assert_eq!(call(&mut b, OK, t), None);
        assert_eq!(b.view(t).consecutive_failures, 0);
        for _ in 0..4 {
            assert_eq!(call(&mut b, FAIL, t), None);
        }
        assert_eq!(
            call(&mut b, FAIL, t + ms(1)),
            Some(Transition::Ejected {
                until: t + ms(1) + secs(5),
                ejections: 1,
                trip: Trip::ConsecutiveFailures(5),
            })
        );
        assert_eq!(
            b.admits(t + ms(2)),
            Admission::Reject {
                until: Some(t + ms(1) + secs(5))
            }
        );
    }

    #[test]
    fn failure_ratio_ejects_only_past_the_minimum_sample() {
        let t = t0();
        let mut b = Breaker::new(BreakerConfig::default());
        // Alternating: the streak never passes 1, the ratio sits at 0.5.
        for i in 0..19u64 {
            let r = if i % 2 == 0 { FAIL } else { OK };
            assert_eq!(call(&mut b, r, t + ms(i * 100)), None, "call {i}");
        }
        let view = b.view(t + ms(1900));
        assert_eq!((view.calls, view.failures), (19, 10));
        // The 20th call: 11 of 20 failed.
        match call(&mut b, FAIL, t + ms(1900)) {
            Some(Transition::Ejected {
                trip: Trip::FailureRatio(r),
                ..
            }) => assert!((r - 0.55).abs() < 1e-9, "ratio {r}"),
            other => panic!("expected a ratio ejection, got {other:?}"),
        }
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let t = t0();
        let mut b = Breaker::new(BreakerConfig::default());
        // 15 failures then a success, 11 s before 19 more mixed calls: the early failures left
        // the window, so the ratio is computed over the late calls only.
        for _ in 0..3 {
            for _ in 0..4 {
                call(&mut b, FAIL, t);
            }
            call(&mut b, OK, t);
        }
        let later = t + secs(11);
        for i in 0..24u64 {
            let r = if i % 3 == 0 { FAIL } else { OK };
            assert_eq!(call(&mut b, r, later), None, "call {i}");
        }
        let view = b.view(later);
        assert_eq!((view.calls, view.failures), (24, 8));
        assert_eq!(view.state, BreakerState::Closed);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_a_good_probe_closes() {
        let t = t0();
        let mut b = tripped(t);
        let end = t + secs(5);
        assert_eq!(b.gate(end - ms(1)), Gate::Reject { until: Some(end) });
        assert_eq!(b.gate(end), Gate::Probe);
        let p = probe(&mut b, end);
        assert!(p.is_probe());
        assert!(b.is_ejected(), "half-open still counts against the cap");
        // The probe slot is taken: others wait for its answer.
        assert_eq!(b.admits(end), Admission::Reject { until: None });
        assert_eq!(b.gate(end), Gate::Reject { until: None });
        assert_eq!(
            b.view(end).state,
            BreakerState::HalfOpen {
                probes_in_flight: 1
            }
        );
        assert_eq!(
            b.on_result(p, OK, end + secs(1), true),
            Some(Transition::Closed)
        );
        assert_eq!(b.view(end + secs(1)).state, BreakerState::Closed);
        assert!(!b.is_ejected());
        admit(&mut b, end + secs(1));
    }

    #[test]
    fn failed_probes_re_eject_longer_up_to_the_cap() {
        let t = t0();
        let mut b = tripped(t);
        let mut now = t + secs(5);
        let mut lengths = Vec::new();
        for _ in 0..9 {
            let p = probe(&mut b, now);
            // May-eject false does not matter: the member is ejected already.
            let until = ejected_until(b.on_result(p, FAIL, now, false));
            lengths.push((until - now).as_secs());
            now = until;
        }
        assert_eq!(lengths, [10, 20, 40, 80, 160, 300, 300, 300, 300]);
        assert_eq!(b.view(now).ejections, 10);
        assert_eq!(b.view(now).next_ejection, secs(300));
    }

    #[test]
    fn a_healthy_stretch_forgets_past_ejections() {
        let t = t0();
        let mut b = tripped(t);
        let p = probe(&mut b, t + secs(5));
        let fail_again = ejected_until(b.on_result(p, FAIL, t + secs(5), true));
        assert_eq!(fail_again, t + secs(15));
        let p = probe(&mut b, fail_again);
        assert_eq!(
            b.on_result(p, OK, fail_again, true),
            Some(Transition::Closed)
        );
        assert_eq!(b.view(fail_again).ejections, 2);
        assert_eq!(b.view(fail_again).next_ejection, secs(20));

        // Failing again within five minutes of closing: the ejection keeps growing.
        let mut c = b.clone();
        let soon = fail_again + secs(299);
        for _ in 0..4 {
            call(&mut c, FAIL, soon);
        }
        assert_eq!(ejected_until(call(&mut c, FAIL, soon)), soon + secs(20));

        // After five healthy minutes it starts from the base again.
        let late = fail_again + secs(300);
        assert_eq!(b.view(late).ejections, 0);
        for _ in 0..4 {
            call(&mut b, FAIL, late);
        }
        assert_eq!(ejected_until(call(&mut b, FAIL, late)), late + secs(5));
    }

    #[test]
    fn results_from_before_a_change_of_state_are_ignored() {
        let t = t0();
        let mut b = Breaker::new(BreakerConfig::default());
        // Passes handed out while closed, whose answers arrive after the breaker tripped.
        let stale: Vec<Pass> = (0..3).map(|_| admit(&mut b, t)).collect();
        for _ in 0..4 {
            call(&mut b, FAIL, t);
        }
        ejected_until(call(&mut b, FAIL, t));
        assert_eq!(b.on_result(stale[0], OK, t + secs(1), true), None);
        let p = probe(&mut b, t + secs(5));
        // A stale success while half-open must not close the breaker: only the probe's may.
        assert_eq!(b.on_result(stale[1], OK, t + secs(5), true), None);
        assert!(matches!(
            b.view(t + secs(5)).state,
            BreakerState::HalfOpen { .. }
        ));
        assert_eq!(
            b.on_result(p, OK, t + secs(6), true),
            Some(Transition::Closed)
        );
        // And a stale failure after closing counts for nothing.
        assert_eq!(b.on_result(stale[2], FAIL, t + secs(6), true), None);
        assert_eq!(b.view(t + secs(6)).consecutive_failures, 0);
        // Nor does a pass used twice.
        assert_eq!(b.on_result(p, FAIL, t + secs(6), true), None);
    }

    #[test]
    fn the_pool_cap_holds_a_tripping_breaker_closed_until_allowed() {
        let t = t0();
        let mut b = Breaker::new(BreakerConfig::default());
        for _ in 0..7 {
            let pass = admit(&mut b, t);
            assert_eq!(b.on_result(pass, FAIL, t, false), None);
        }
        assert_eq!(b.view(t).state, BreakerState::Closed);
        assert_eq!(b.view(t).consecutive_failures, 7);
        assert!(b.view(t).held_by_cap);
        // Once the pool allows it, the next failure ejects with the streak it reached.
        let pass = admit(&mut b, t);
        match b.on_result(pass, FAIL, t, true) {
            Some(Transition::Ejected {
                trip: Trip::ConsecutiveFailures(8),
                ..
            }) => {}
            other => panic!("expected an ejection, got {other:?}"),
        }
        assert!(!b.view(t).held_by_cap);
    }

    #[test]
    fn a_neutral_or_lost_probe_frees_its_slot() {
        let t = t0();
        let mut b = tripped(t);
        let end = t + secs(5);
        let p = probe(&mut b, end);
        // The probe's request was cancelled: no verdict, the slot goes to the next request.
        assert_eq!(b.on_result(p, CallResult::Neutral, end, true), None);
        let _lost = probe(&mut b, end + secs(1));
        assert_eq!(b.admits(end + secs(2)), Admission::Reject { until: None });
        // Never reported: after the probe timeout a new probe goes through.
        assert_eq!(b.admits(end + secs(120)), Admission::Reject { until: None });
        assert_eq!(b.gate(end + secs(121)), Gate::Probe);
        let p = probe(&mut b, end + secs(121));
        assert_eq!(
            b.on_result(p, OK, end + secs(122), true),
            Some(Transition::Closed)
        );
    }

    #[test]
    fn several_probe_slots() {
        let t = t0();
        let config = BreakerConfig {
            probes: 2,
            ..BreakerConfig::default()
        };
        let mut b = Breaker::new(config);
        for _ in 0..5 {
            call(&mut b, FAIL, t);
        }
        let end = t + secs(5);
        let first = probe(&mut b, end);
        let second = probe(&mut b, end);
        assert_eq!(b.admits(end), Admission::Reject { until: None });
        assert_eq!(b.on_result(first, OK, end, true), Some(Transition::Closed));
        // The other probe's answer belongs to the half-open state that is gone.
        assert_eq!(b.on_result(second, FAIL, end, true), None);
        assert_eq!(b.view(end).state, BreakerState::Closed);
    }

    #[test]
    fn slow_calls_eject_when_enabled_and_fail_a_probe() {
        let t = t0();
        let slow = CallResult::Success { latency: secs(31) };
        let quick_enough = CallResult::Success { latency: secs(29) };
        // Off by default: slow successes are successes.
        let mut b = Breaker::new(BreakerConfig::default());
        for _ in 0..40 {
            assert_eq!(call(&mut b, slow, t), None);
        }
        assert_eq!(b.view(t).slow, 0);

        let config = BreakerConfig {
            slow_calls: Some(SlowCalls::default()),
            ..BreakerConfig::default()
        };
        let mut b = Breaker::new(config);
        for _ in 0..4 {
            call(&mut b, quick_enough, t);
        }
        for i in 0..15 {
            assert_eq!(call(&mut b, slow, t), None, "call {i}");
        }
        // 16 slow of 20 = 0.8.
        match call(&mut b, slow, t) {
            Some(Transition::Ejected {
                trip: Trip::SlowCallRatio(r),
                ..
            }) => assert!((r - 0.8).abs() < 1e-9),
            other => panic!("expected a slow-call ejection, got {other:?}"),
        }
        let p = probe(&mut b, t + secs(5));
        let until = ejected_until(b.on_result(p, slow, t + secs(5), true));
        assert_eq!(until, t + secs(15));
    }

    #[test]
    fn disabled_admits_everything_and_ignores_results() {
        let t = t0();
        let mut b = Breaker::new(BreakerConfig {
            enabled: false,
            ..BreakerConfig::default()
        });
        for _ in 0..100 {
            assert_eq!(call(&mut b, FAIL, t), None);
        }
        assert_eq!(b.gate(t), Gate::Admit);
        assert_eq!(b.view(t).state, BreakerState::Closed);
    }

    #[test]
    fn reset_forgets_everything() {
        let t = t0();
        let mut b = tripped(t);
        assert!(b.is_ejected());
        assert!(b.reset());
        assert!(!b.is_ejected());
        assert!(!b.reset(), "already closed");
        admit(&mut b, t + ms(1));
        assert_eq!(b.view(t).ejections, 0);
        assert_eq!(b.view(t).next_ejection, secs(5));
    }

    #[test]
    fn ejection_time_table_and_odd_configs() {
        let c = BreakerConfig::default();
        let got: Vec<u64> = (0..=8).map(|n| ejection_time(&c, n).as_secs()).collect();
        // n = 0 cannot happen (ejections count from 1) but reads as the first.
        assert_eq!(got, [5, 5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(ejection_time(&c, u32::MAX), secs(300));
        for multiplier in [f64::NAN, 0.5, -3.0, 1.0] {
            let c = BreakerConfig {
                ejection_multiplier: multiplier,
                ..BreakerConfig::default()
            };
            assert_eq!(ejection_time(&c, 7), secs(5), "multiplier {multiplier}");
        }
        let c = BreakerConfig {
            ejection_multiplier: f64::INFINITY,
            max_ejection: Duration::MAX,
            ..BreakerConfig::default()
        };
        assert_eq!(ejection_time(&c, 3), EJECTION_CEILING);
        let c = BreakerConfig {
            base_ejection: secs(60),
            max_ejection: secs(10),
            ..BreakerConfig::default()
        };
        assert_eq!(ejection_time(&c, 1), secs(10));
    }

    #[test]
    fn odd_configs_never_panic() {
        let t = t0();
        let config = BreakerConfig {
            consecutive_failures: 0,
            min_calls: 0,
            failure_ratio: f64::NAN,
            buckets: 0,
            window: Duration::ZERO,
            probes: 0,
            probe_timeout: Duration::MAX,
            forget_after: Duration::MAX,
            ..BreakerConfig::default()
        };
        let mut b = Breaker::new(config);
        for i in 0..50 {
            assert_eq!(call(&mut b, FAIL, t + ms(i)), None);
        }
        // Only the ratio rule with a NaN threshold: nothing trips. Now one that always does.
        let mut b = Breaker::new(BreakerConfig {
            failure_ratio: 0.0,
            min_calls: 0,
            probes: 0,
            probe_timeout: Duration::MAX,
            ..BreakerConfig::default()
        });
        ejected_until(call(&mut b, FAIL, t));
        probe(&mut b, t + secs(5));
        assert_eq!(b.admits(t + secs(6)), Admission::Reject { until: None });
    }

    #[test]
    fn may_eject_caps_the_share_and_spares_the_last() {
        let table = [
            // (ejected now, usable, max share, may eject one more)
            (0, 1, 0.5, false),
            (0, 1, 1.0, false),
            (0, 2, 0.5, true),
            (1, 2, 0.5, false),
            (1, 2, 1.0, false),
            (0, 3, 0.5, true),
            (1, 3, 0.5, false),
            (1, 4, 0.5, true),
            (2, 4, 0.5, false),
            (2, 3, 1.0, false),
            (1, 3, 1.0, true),
            (4, 10, 0.5, true),
            (5, 10, 0.5, false),
            (0, 10, 0.1, true),
            (1, 10, 0.1, false),
            (0, 10, 0.0, false),
            (0, 10, f64::NAN, false),
            (0, 0, 0.5, false),
            (usize::MAX, usize::MAX, 1.0, false),
        ];
        for (ejected, usable, share, want) in table {
            assert_eq!(
                may_eject(ejected, usable, share),
                want,
                "{ejected} of {usable} ejected, share {share}"
            );
        }
    }

    #[test]
    fn outcomes_map_to_call_results() {
        let l = ms(250);
        let table = [
            (Outcome::Success, CallResult::Success { latency: l }),
            (
                Outcome::ServerError { status: 503 },
                CallResult::Failure { latency: l },
            ),
            (Outcome::Timeout, CallResult::Failure { latency: l }),
            (Outcome::ConnectFailed, CallResult::Failure { latency: l }),
            (
                Outcome::RateLimited { retry_after: None },
                CallResult::Neutral,
            ),
            (
                Outcome::Unauthorized {
                    status: 401,
                    message: String::new(),
                },
                CallResult::Neutral,
            ),
            (Outcome::ClientError { status: 400 }, CallResult::Neutral),
        ];
        for (outcome, want) in table {
            assert_eq!(CallResult::from_outcome(&outcome, l), want, "{outcome:?}");
        }
    }
}
