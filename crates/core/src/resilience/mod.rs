//! Resilience decisions: per credential, a breaker that ejects a member whose upstream keeps
//! failing ([`breaker`]) and an AIMD concurrency limit that backs off when the upstream says
//! it is overloaded ([`aimd`]); per route, a retry budget that keeps retries from multiplying
//! an outage ([`budget`]); per response, the quota read from rate-limit headers and the rule
//! protecting a credential running low ([`quota`]); per pool, the wait queue's policy and
//! ticket ledger ([`queue`]). Each is a small state machine or a pure function over memory,
//! with the clock passed in: nothing here sleeps, spawns, locks, does I/O or reads a clock.
//! Holding the state (a breaker and a limiter per member under the pool's per-member mutex, a
//! budget per route, a ledger per pool), parking requests and exposing status are the pool's
//! and the server's.
//!
//! The order a selection applies the checks in, cheapest and most final first:
//!
//! 1. **invalid** (401/403, quarantine): out until activated;
//! 2. **cooldown** (429): out until it ends;
//! 3. **breaker**: out while ejected, or while half-open with its probe slots taken
//!    ([`Breaker::gate`] to scan; [`Breaker::admits`] only on the member chosen, since it
//!    claims the probe slot);
//! 4. **quota protection**: a member below [`QuotaConfig::protect_below`] is passed over while
//!    another member that survived 1–3 and is not protected has AIMD room; when none has, the
//!    protected ones serve (a relative rule, unlike the others);
//! 5. **AIMD room**: a member at its limit is out for this request. If every member that
//!    survived 1–3 is full, or none survived 1–3 but some only cool down or are ejected, the
//!    request waits in the queue (when on) for a slot or the earliest end of a cooldown or
//!    ejection, instead of failing with a 429 (that end as `retry-after`); when every member
//!    is invalid, waiting would not help: 503.
//!
//! Then the strategy (cache-first, balance, ...) picks among what is left. After the attempt,
//! its outcome goes to the breaker ([`CallResult::from_outcome`]) and to the limiter
//! ([`Aimd::on_success`], or [`Aimd::on_overload`] when [`is_overload`]); a retry asks the
//! route's budget first ([`RetryBudget::try_retry`]).

pub mod aimd;
pub mod breaker;
pub mod budget;
pub mod queue;
pub mod quota;
mod window;

use std::fmt;

pub use aimd::{is_overload, Aimd, AimdConfig, AimdView};
pub use breaker::{
    may_eject, Admission, Breaker, BreakerConfig, BreakerState, BreakerView, CallResult, Gate,
    Pass, SlowCalls, Transition, Trip,
};
pub use budget::{BudgetConfig, BudgetView, RetryBudget};
pub use queue::{QueueConfig, QueueView, Refusal, Ticket, WaitQueue};
pub use quota::{protected, read_quota, QuotaConfig, QuotaReading};

/// Every resilience mechanism's settings; `Default` is what a config file that says nothing
/// gets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResilienceConfig {
    pub breaker: BreakerConfig,
    pub aimd: AimdConfig,
    pub budget: BudgetConfig,
    pub quota: QuotaConfig,
    pub queue: QueueConfig,
}

/// One setting outside what its mechanism can work with.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The setting's path under the resilience section, e.g. `breaker.failure_ratio`.
    pub field: &'static str,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// A count or a duration that must be above zero.
    NotPositive,
    /// A number outside `low..=high` (or not a number).
    OutOfRange { low: f64, high: f64 },
    /// Must not be below another setting, named by its path.
    Below { other: &'static str },
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::NotPositive => write!(f, "{}: must be greater than zero", self.field),
            Problem::OutOfRange { low, high } => {
                write!(f, "{}: must be between {low} and {high}", self.field)
            }
            Problem::Below { other } => write!(f, "{}: must not be below {other}", self.field),
        }
    }
}

impl ResilienceConfig {
    /// Every setting the mechanisms cannot work with as meant, all at once, for the config
    /// validator to report with its own path prefix. The mechanisms themselves never panic on
    /// such values (they clamp them); this is so an operator learns of a typo instead of
    /// silently running on the clamp.
    pub fn check(&self) -> Vec<Invalid> {
        let mut found = Vec::new();
        let mut positive = |field, ok: bool| {
            if !ok {
                found.push(Invalid {
                    field,
                    problem: Problem::NotPositive,
                });
            }
        };
        let b = &self.breaker;
        positive("breaker.window", !b.window.is_zero());
        positive("breaker.buckets", b.buckets > 0);
        positive("breaker.base_ejection", !b.base_ejection.is_zero());
        positive("breaker.probes", b.probes > 0);
        positive("breaker.probe_timeout", !b.probe_timeout.is_zero());
        if let Some(slow) = b.slow_calls {
            positive("breaker.slow_calls.threshold", !slow.threshold.is_zero());
        }
        let a = &self.aimd;
        positive("aimd.min", a.min > 0);
        let g = &self.budget;
        positive("budget.window", !g.window.is_zero());
        positive("budget.buckets", g.buckets > 0);
        if let QueueConfig::Wait {
            max_wait,
            max_depth,
        } = self.queue
        {
            positive("queue.max_depth", max_depth > 0);
            positive("queue.max_wait", max_wait.is_none_or(|w| !w.is_zero()));
        }

        let mut range = |field, value: f64, low: f64, high: f64| {
            // Written so NaN fails too.
            if !(value >= low && value <= high) {
                found.push(Invalid {
                    field,
                    problem: Problem::OutOfRange { low, high },
                });
            }
        };
        range("breaker.failure_ratio", b.failure_ratio, 0.0, 1.0);
        if let Some(slow) = b.slow_calls {
            range("breaker.slow_calls.ratio", slow.ratio, 0.0, 1.0);
        }
        range(
            "breaker.ejection_multiplier",
            b.ejection_multiplier,
            1.0,
            100.0,
        );
        range("breaker.max_ejected_share", b.max_ejected_share, 0.0, 1.0);
        range("aimd.backoff", a.backoff, 0.5, 0.9);
        range("budget.ratio", g.ratio, 0.0, 100.0);
        range("budget.min_per_sec", g.min_per_sec, 0.0, 1e6);
        range("quota.protect_below", self.quota.protect_below, 0.0, 1.0);

        let mut below = |field, ok: bool, other| {
            if !ok {
                found.push(Invalid {
                    field,
                    problem: Problem::Below { other },
                });
            }
        };
        below(
            "breaker.max_ejection",
            b.max_ejection >= b.base_ejection,
            "breaker.base_ejection",
        );
        below("aimd.max", a.max >= a.min, "aimd.min");
        below("aimd.initial", a.initial >= a.min, "aimd.min");
        // Stated as "max must not be below initial", the one fix that keeps both meaningful.
        below("aimd.max", a.max >= a.initial, "aimd.initial");
        found
    }
}

#[cfg(test)]
mod test_clock {
    use std::time::Instant;

    /// The origin of every test timeline; tests add offsets to it and never read the clock
    /// again.
    #[allow(clippy::disallowed_methods)] // reason: tests need one real instant to anchor their fake timeline
    pub(crate) fn t0() -> Instant {
        Instant::now()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn defaults_pass_their_own_check() {
        assert_eq!(ResilienceConfig::default().check(), []);
        let waiting = ResilienceConfig {
            queue: QueueConfig::wait(Some(Duration::from_secs(30))),
            breaker: BreakerConfig {
                slow_calls: Some(SlowCalls::default()),
                ..BreakerConfig::default()
            },
            ..ResilienceConfig::default()
        };
        assert_eq!(waiting.check(), []);
    }

    #[test]
    fn check_names_every_problem() {
        let config = ResilienceConfig {
            breaker: BreakerConfig {
                window: Duration::ZERO,
                failure_ratio: 1.5,
                ejection_multiplier: f64::NAN,
                base_ejection: Duration::from_secs(10),
                max_ejection: Duration::from_secs(5),
                slow_calls: Some(SlowCalls {
                    threshold: Duration::ZERO,
                    ratio: 0.8,
                }),
                ..BreakerConfig::default()
            },
            aimd: AimdConfig {
                min: 0,
                initial: 20_000,
                backoff: 0.3,
                ..AimdConfig::default()
            },
            budget: BudgetConfig {
                ratio: -0.1,
                ..BudgetConfig::default()
            },
            quota: QuotaConfig { protect_below: 2.0 },
            queue: QueueConfig::Wait {
                max_wait: Some(Duration::ZERO),
                max_depth: 0,
            },
        };
        let got: Vec<String> = config.check().iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "breaker.window: must be greater than zero",
                "breaker.slow_calls.threshold: must be greater than zero",
                "aimd.min: must be greater than zero",
                "queue.max_depth: must be greater than zero",
                "queue.max_wait: must be greater than zero",
                "breaker.failure_ratio: must be between 0 and 1",
                "breaker.ejection_multiplier: must be between 1 and 100",
                "aimd.backoff: must be between 0.5 and 0.9",
                "budget.ratio: must be between 0 and 100",
                "quota.protect_below: must be between 0 and 1",
                "breaker.max_ejection: must not be below breaker.base_ejection",
                "aimd.max: must not be below aimd.initial",
            ]
        );
    }

    /// How a pool is meant to combine its members' breakers with [`may_eject`]: when every
    /// credential fails, only the cap's share is ejected and the rest stay in rotation.
    #[test]
    fn a_pool_wide_outage_ejects_only_the_capped_share() {
        let t = test_clock::t0();
        for (members, want_ejected) in [(1, 0), (2, 1), (3, 1), (4, 2), (10, 5)] {
            let mut breakers: Vec<Breaker> = (0..members)
                .map(|_| Breaker::new(BreakerConfig::default()))
                .collect();
            let failure = CallResult::Failure {
                latency: Duration::from_millis(50),
            };
            for round in 0..10u64 {
                let now = t + Duration::from_millis(round);
                for i in 0..members {
                    let Admission::Admit(pass) = breakers[i].admits(now) else {
                        continue;
                    };
                    let ejected = breakers.iter().filter(|b| b.is_ejected()).count();
                    let allowed = may_eject(ejected, members, 0.5);
                    let _ = breakers[i].on_result(pass, failure, now, allowed);
                }
            }
            let ejected = breakers.iter().filter(|b| b.is_ejected()).count();
            assert_eq!(ejected, want_ejected, "{members} members");
            let held = breakers.iter().filter(|b| b.view(t).held_by_cap).count();
            assert_eq!(held, members - want_ejected, "{members} members");
        }
    }
}
