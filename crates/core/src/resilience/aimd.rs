//! The concurrency limit of one credential, found by AIMD as TCP finds a window: the limit
//! grows by one per round trip of successes while the credential is busy, and is cut by a
//! factor when the upstream says it is overloaded (429, 503, 529, a timeout), at most once per
//! short interval so the burst of overload answers from requests already in flight cuts once,
//! not once each. It owns the number only: counting requests in flight is the pool's (it passes
//! the count in), and what to do when there is no room (wait in the queue or answer 429) is
//! the caller's. No clock is read; `now` comes in.

use std::time::{Duration, Instant};

use crate::pool::Outcome;

/// Bounds and steps of the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct AimdConfig {
    /// Off: there is always room.
    pub enabled: bool,
    /// The limit of a credential nothing is known about yet. Default: the ceiling, so nothing
    /// is refused before the upstream itself says it is overloaded; the first overload cuts
    /// the limit to half of what was in flight then (see [`Aimd::on_overload_at`]), which is
    /// the capacity just measured, in one step. A low starting limit would instead turn a
    /// burst on a healthy credential into 429s from the gateway itself.
    pub initial: u32,
    /// Floor of the limit. Default 1: AIMD slows a credential down but never shuts it; taking
    /// a credential out is the cooldown's and the breaker's job. 0 is read as 1.
    pub min: u32,
    /// Ceiling of the limit. Default 10,000: above any concurrency one key is given (long
    /// streams from coding agents run by the thousand), so it bounds only arithmetic.
    pub max: u32,
    /// The limit is multiplied by this on overload. Default 0.5, as TCP: gets under a capacity
    /// that halved in one step. Meant for 0.5–0.9 (gentler cuts, slower to settle); values
    /// outside are clamped to that range.
    pub backoff: f64,
    /// Overload signals within this long of a cut do not cut again. Default 1 s: overload
    /// answers (429 especially) come back fast, so the answers to requests sent together
    /// arrive within about a second of each other and count as one signal.
    pub decrease_interval: Duration,
}

impl Default for AimdConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            initial: 10_000,
            min: 1,
            max: 10_000,
            backoff: 0.5,
            decrease_interval: Duration::from_secs(1),
        }
    }
}

/// The limiter of one credential.
#[derive(Debug, Clone)]
pub struct Aimd {
    config: AimdConfig,
    limit: u32,
    /// Successes since the limit last changed; at `limit` of them the limit grows by one.
    successes: u32,
    last_decrease: Option<Instant>,
}

/// One limiter for status displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AimdView {
    pub limit: u32,
    /// Successes counted toward the next increase (one is due at `limit`).
    pub successes: u32,
    pub last_decrease: Option<Instant>,
}

impl Aimd {
    pub fn new(config: AimdConfig) -> Self {
        let (min, max) = bounds(&config);
        let limit = config.initial.clamp(min, max);
        Self {
            config,
            limit,
            successes: 0,
            last_decrease: None,
        }
    }

    /// The current limit (also while disabled, for display).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Whether one more request fits next to the `in_flight` ones already on the credential.
    pub fn has_room(&self, in_flight: usize) -> bool {
        !self.config.enabled || in_flight < self.limit as usize
    }

    /// A request on this credential succeeded; `in_flight` is the credential's count of
    /// requests in flight at the report, this one included. The limit grows by one per `limit`
    /// successes, about one per round trip when the credential is full, and only while the
    /// credential is at least half busy: successes at low load prove nothing about a higher
    /// limit, and would let it drift to the ceiling during a quiet spell.
    pub fn on_success(&mut self, in_flight: usize) {
        if !self.config.enabled || in_flight.saturating_mul(2) < self.limit as usize {
            return;
        }
        self.successes = self.successes.saturating_add(1);
        if self.successes >= self.limit {
            let (_, max) = bounds(&self.config);
            self.limit = self.limit.saturating_add(1).min(max);
            self.successes = 0;
        }
    }

    /// The upstream said this credential is overloaded. Cuts the limit unless it was cut
    /// within `decrease_interval`; returns whether it did.
    pub fn on_overload(&mut self, now: Instant) -> bool {
        self.on_overload_at(now, usize::MAX)
    }

    /// [`Aimd::on_overload`] knowing the credential had `in_flight` requests when the
    /// upstream refused: the capacity is at most that, so the cut starts from it when it is
    /// below the limit (a limit far above the real load would otherwise take many halvings,
    /// each a burst of refusals, to come down).
    pub fn on_overload_at(&mut self, now: Instant, in_flight: usize) -> bool {
        if !self.config.enabled {
            return false;
        }
        if let Some(last) = self.last_decrease {
            // An instant before the last cut (a report computed earlier) is within it too.
            if now.saturating_duration_since(last) < self.config.decrease_interval {
                return false;
            }
        }
        let (min, _) = bounds(&self.config);
        let backoff = if self.config.backoff.is_nan() {
            0.5
        } else {
            self.config.backoff.clamp(0.5, 0.9)
        };
        let base = u32::try_from(in_flight.max(1))
            .unwrap_or(u32::MAX)
            .min(self.limit);
        // Floor: the cut always lowers a limit above the minimum by at least one.
        let cut = (f64::from(base) * backoff).floor() as u32;
        self.limit = cut.min(self.limit.saturating_sub(1)).max(min);
        self.successes = 0;
        self.last_decrease = Some(now);
        true
    }

    pub fn view(&self) -> AimdView {
        AimdView {
            limit: self.limit,
            successes: self.successes,
            last_decrease: self.last_decrease,
        }
    }
}

/// Whether an outcome is the upstream saying "too much": 429, 503, 529 (Anthropic's
/// overloaded) or a timeout. Other 5xx are faults, not load, and are the breaker's business.
pub fn is_overload(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::RateLimited { .. } | Outcome::Timeout => true,
        Outcome::ServerError { status } => matches!(status, 503 | 529),
        Outcome::Success
        | Outcome::Unauthorized { .. }
        | Outcome::ConnectFailed
        | Outcome::ClientError { .. } => false,
    }
}

/// `(min, max)` made consistent: min at least 1, max at least min.
fn bounds(config: &AimdConfig) -> (u32, u32) {
    let min = config.min.max(1);
    (min, config.max.max(min))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The behaviour the tests below were written against: a start of 16 under a ceiling of
    /// 256 (the defaults start at the ceiling, see `starts_at_the_ceiling_and_cuts_to_what_was_in_flight`).
    fn sixteen() -> AimdConfig {
        AimdConfig {
            initial: 16,
            max: 256,
            ..AimdConfig::default()
        }
    }

    #[test]
    fn starts_at_the_ceiling_and_cuts_to_what_was_in_flight() {
        let mut aimd = Aimd::new(AimdConfig::default());
        assert_eq!(aimd.limit(), 10_000);
        assert!(
            aimd.has_room(2_000),
            "nothing refused before the upstream pushes back"
        );
        let t = t0();
        assert!(aimd.on_overload_at(t, 30));
        assert_eq!(aimd.limit(), 15, "half of what was in flight, in one step");
        // Already below what is in flight: cut from the limit.
        assert!(aimd.on_overload_at(t + Duration::from_secs(2), 100));
        assert_eq!(aimd.limit(), 7);
    }
    use crate::resilience::test_clock::t0;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// One round trip (1 s) of a sender with unbounded demand: it fills the limit, the
    /// upstream serves `capacity` of the requests and answers the rest with a 429 at once (at
    /// +50 ms), the served ones complete at +900 ms. Returns the overload answers of the round.
    fn round(aimd: &mut Aimd, capacity: u32, start: Instant) -> u32 {
        let sent = aimd.limit();
        let served = sent.min(capacity);
        let refused = sent - served;
        for _ in 0..refused {
            aimd.on_overload(start + ms(50));
        }
        // The sender refills each freed slot, so the served requests keep the credential as
        // busy as they found it.
        for _ in 0..served {
            aimd.on_success(served as usize);
        }
        refused
    }

    #[test]
    fn converges_near_capacity_and_follows_a_halving_without_a_storm() {
        let t = t0();
        let mut aimd = Aimd::new(sixteen());
        let mut clock = t;
        let mut tick = |aimd: &mut Aimd, capacity: u32| {
            let refused = round(aimd, capacity, clock);
            clock += Duration::from_secs(1);
            refused
        };

        // Capacity 40: from 16 the limit climbs one per round trip and then saws between half
        // the capacity and just over it.
        let mut limits = Vec::new();
        for _ in 0..200 {
            tick(&mut aimd, 40);
            limits.push(aimd.limit());
        }
        let settled = &limits[100..];
        assert!(
            settled.iter().all(|&l| (20..=41).contains(&l)),
            "{settled:?}"
        );
        assert!(
            settled.contains(&41),
            "it probes up to the capacity: {settled:?}"
        );

        // Capacity halves to 20.
        let mut refused_after = Vec::new();
        for _ in 0..200 {
            refused_after.push(tick(&mut aimd, 20));
            limits.push(aimd.limit());
        }
        let settled = &limits[300..];
        assert!(
            settled.iter().all(|&l| (10..=21).contains(&l)),
            "{settled:?}"
        );
        // The first round after the change meets at most the old limit's excess (the requests
        // already sent); from then on each cycle of probing costs one refused request, and a
        // cycle (climbing from about half the capacity back to just over it) takes about ten
        // round trips.
        assert!(refused_after[0] <= 21, "first round: {}", refused_after[0]);
        assert!(
            refused_after[1..].iter().all(|&r| r <= 1),
            "{refused_after:?}"
        );
        let total: u32 = refused_after.iter().sum();
        assert!(total <= 21 + 200 / 10 + 2, "total refused {total}");
        // A sender that kept its old 41 in flight would have met 21 refusals every round.
        assert!(total * 20 < 21 * 200, "total refused {total}");
    }

    #[test]
    fn a_burst_of_overload_answers_cuts_once_per_interval() {
        let t = t0();
        let mut aimd = Aimd::new(sixteen());
        assert!(aimd.on_overload(t));
        assert_eq!(aimd.limit(), 8);
        for i in 1..=10 {
            assert!(!aimd.on_overload(t + ms(i * 90)), "answer {i}");
        }
        // A report computed before the cut is part of the same burst.
        assert!(!aimd.on_overload(t - ms(5)));
        assert_eq!(aimd.limit(), 8);
        assert!(aimd.on_overload(t + ms(1000)));
        assert_eq!(aimd.limit(), 4);
        assert_eq!(aimd.view().last_decrease, Some(t + ms(1000)));
    }

    #[test]
    fn grows_one_per_window_of_successes_only_when_busy() {
        let mut aimd = Aimd::new(AimdConfig {
            initial: 4,
            ..sixteen()
        });
        // Idle-ish: 1 in flight of a limit of 4 proves nothing.
        for _ in 0..100 {
            aimd.on_success(1);
        }
        assert_eq!(aimd.limit(), 4);
        for _ in 0..3 {
            aimd.on_success(2);
        }
        assert_eq!(aimd.view().successes, 3);
        aimd.on_success(2);
        assert_eq!(aimd.limit(), 5);
        // Five more at the new limit for the next step.
        for _ in 0..4 {
            aimd.on_success(5);
        }
        assert_eq!(aimd.limit(), 5);
        aimd.on_success(5);
        assert_eq!(aimd.limit(), 6);
    }

    #[test]
    fn room_bounds_and_backoff() {
        let t = t0();
        let mut aimd = Aimd::new(AimdConfig {
            initial: 3,
            min: 2,
            max: 4,
            backoff: 0.9,
            ..sixteen()
        });
        assert!(aimd.has_room(2));
        assert!(!aimd.has_room(3));
        for _ in 0..20 {
            aimd.on_success(4);
        }
        assert_eq!(aimd.limit(), 4, "capped at max");
        // 4 · 0.9 = 3.6 → 3: a cut always lowers the limit by at least one.
        assert!(aimd.on_overload(t));
        assert_eq!(aimd.limit(), 3);
        assert!(aimd.on_overload(t + ms(1000)));
        assert_eq!(aimd.limit(), 2);
        assert!(aimd.on_overload(t + ms(2000)));
        assert_eq!(aimd.limit(), 2, "floored at min");
    }

    #[test]
    fn odd_configs_are_made_consistent() {
        let t = t0();
        let cases = [
            // (initial, min, max, backoff, limit after new, after one cut)
            (16, 0, 0, 0.5, 1, 1),
            (0, 0, 256, 0.5, 1, 1),
            (500, 1, 256, 0.5, 256, 128),
            (16, 20, 10, 0.5, 20, 20),
            (16, 1, 256, 0.1, 16, 8),
            (16, 1, 256, 1.0, 16, 14),
            (16, 1, 256, f64::NAN, 16, 8),
        ];
        for (initial, min, max, backoff, start, after) in cases {
            let mut aimd = Aimd::new(AimdConfig {
                initial,
                min,
                max,
                backoff,
                ..sixteen()
            });
            assert_eq!(aimd.limit(), start, "{initial} in {min}..={max}");
            aimd.on_overload(t);
            assert_eq!(
                aimd.limit(),
                after,
                "{initial} in {min}..={max} × {backoff}"
            );
        }
    }

    #[test]
    fn disabled_always_has_room() {
        let t = t0();
        let mut aimd = Aimd::new(AimdConfig {
            enabled: false,
            ..sixteen()
        });
        assert!(aimd.has_room(10_000));
        assert!(!aimd.on_overload(t));
        aimd.on_success(100);
        assert_eq!(aimd.view().successes, 0);
        assert_eq!(aimd.limit(), 16);
    }

    #[test]
    fn overload_outcomes() {
        let table = [
            (Outcome::RateLimited { retry_after: None }, true),
            (Outcome::Timeout, true),
            (Outcome::ServerError { status: 503 }, true),
            (Outcome::ServerError { status: 529 }, true),
            (Outcome::ServerError { status: 500 }, false),
            (Outcome::ServerError { status: 502 }, false),
            (Outcome::ConnectFailed, false),
            (Outcome::Success, false),
            (Outcome::ClientError { status: 400 }, false),
        ];
        for (outcome, want) in table {
            assert_eq!(is_overload(&outcome), want, "{outcome:?}");
        }
    }
}
