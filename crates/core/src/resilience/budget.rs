//! The retry budget of one route, Finagle / Envoy style: over a sliding window, retries may
//! number at most a share of the requests plus a small floor per second. During an outage,
//! when every attempt fails, the upstream then sees its usual load plus that share, instead
//! of the load multiplied by the attempts each request may make. It counts and answers only:
//! whether a given failure deserves a retry at all (client errors, a committed stream) is the
//! attempt loop's decision, made before it asks here.

use std::ops::AddAssign;
use std::time::{Duration, Instant};

use super::window::Window;

#[derive(Debug, Clone, PartialEq)]
pub struct BudgetConfig {
    /// Off: every retry is allowed (the attempt loop's own limits still apply).
    pub enabled: bool,
    /// Retries allowed per request in the window. Default 0.2, as Envoy's and Finagle's
    /// defaults: an outage costs the upstream at most 20 % extra load.
    pub ratio: f64,
    /// Retries allowed per second of window whatever the traffic. Default 10, as Finagle's:
    /// at low traffic the ratio alone would forbid retries (0.2 of one request is none), and a
    /// few retries a second harm no upstream.
    pub min_per_sec: f64,
    /// Span of the sliding window. Default 10 s: long enough to smooth bursts, short enough
    /// that the budget refills soon after an outage ends.
    pub window: Duration,
    /// Buckets the window is kept in. Default 10 (1 s each).
    pub buckets: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ratio: 0.2,
            min_per_sec: 10.0,
            window: Duration::from_secs(10),
            buckets: 10,
        }
    }
}

/// The budget of one route.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    config: BudgetConfig,
    window: Window<Spend>,
}

/// One budget for status displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetView {
    /// Requests (first attempts) in the window.
    pub requests: u32,
    /// Retries granted in the window.
    pub retries: u32,
    /// Retries the window allows in all: `ratio · requests + min_per_sec · window`, rounded
    /// down.
    pub allowance: u32,
    /// Retries still allowed now.
    pub remaining: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Spend {
    requests: u32,
    retries: u32,
}

impl AddAssign for Spend {
    fn add_assign(&mut self, o: Self) {
        self.requests = self.requests.saturating_add(o.requests);
        self.retries = self.retries.saturating_add(o.retries);
    }
}

impl RetryBudget {
    pub fn new(config: BudgetConfig) -> Self {
        let window = Window::new(config.window, config.buckets);
        Self { config, window }
    }

    /// A request reached this route (its first attempt). Retries are not requests: they
    /// would otherwise earn budget for more retries.
    pub fn on_request(&mut self, now: Instant) {
        self.window.add(
            now,
            Spend {
                requests: 1,
                retries: 0,
            },
        );
    }

    /// Asks for one retry; when granted, it is spent at once.
    pub fn try_retry(&mut self, now: Instant) -> bool {
        if !self.config.enabled {
            return true;
        }
        let spend = self.window.total(now);
        if f64::from(spend.retries) + 1.0 > self.allowance(spend) {
            return false;
        }
        self.window.add(
            now,
            Spend {
                requests: 0,
                retries: 1,
            },
        );
        true
    }

    pub fn view(&self, now: Instant) -> BudgetView {
        let spend = self.window.total(now);
        // `as` saturates from f64 (NaN reads 0), which is the wanted rounding here.
        let allowance = self.allowance(spend).floor() as u32;
        BudgetView {
            requests: spend.requests,
            retries: spend.retries,
            allowance,
            remaining: allowance.saturating_sub(spend.retries),
        }
    }

    fn allowance(&self, spend: Spend) -> f64 {
        let c = &self.config;
        // Negative or NaN settings allow nothing rather than something odd; infinity becomes
        // merely huge, so that infinity · 0 requests cannot make a NaN.
        let sane = |x: f64| if x > 0.0 { x.min(f64::MAX) } else { 0.0 };
        let (ratio, floor) = (sane(c.ratio), sane(c.min_per_sec));
        ratio * f64::from(spend.requests) + floor * c.window.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::test_clock::t0;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_storm_is_held_to_the_ratio_plus_the_floor() {
        let t = t0();
        let mut budget = RetryBudget::new(BudgetConfig::default());
        // 200 requests a second for a minute, every attempt failing, each request willing to
        // retry twice: unchecked, that is 400 retries a second.
        let mut retries_per_sec = vec![0u32; 60];
        for i in 0..12_000u64 {
            let now = t + ms(i * 5);
            budget.on_request(now);
            for _ in 0..2 {
                if !budget.try_retry(now) {
                    break;
                }
                retries_per_sec[(i / 200) as usize] += 1;
            }
            let view = budget.view(now);
            assert!(view.retries <= view.allowance, "at {i}: {view:?}");
        }
        // Once the window is full, retries average 0.2 · 200 + 10 = 50 a second. The floor is
        // a per-window allowance, so it is spent as a burst when the window frees it: no second
        // sees more than the ratio's 40 plus the window's whole floor of 100.
        assert!(
            retries_per_sec.iter().all(|&n| n <= 140),
            "{retries_per_sec:?}"
        );
        let steady: u32 = retries_per_sec[10..].iter().sum();
        assert!(
            (50 * 50 * 95 / 100..=50 * 50 * 105 / 100).contains(&steady),
            "{retries_per_sec:?}"
        );
        // The first window also had its floor to spend: at most one window's worth extra.
        let total: u32 = retries_per_sec.iter().sum();
        assert!(total <= 50 * 60 + 100, "{total}: {retries_per_sec:?}");
    }

    #[test]
    fn low_traffic_retries_freely_on_the_floor() {
        let t = t0();
        let mut budget = RetryBudget::new(BudgetConfig::default());
        // One request a second, each retried three times: 30 retries per 10 s, under the 100
        // the floor allows.
        for i in 0..60u64 {
            let now = t + ms(i * 1000);
            budget.on_request(now);
            for _ in 0..3 {
                assert!(budget.try_retry(now), "request {i}");
            }
        }
    }

    #[test]
    fn the_budget_refills_once_the_storm_leaves_the_window() {
        let t = t0();
        let mut budget = RetryBudget::new(BudgetConfig {
            min_per_sec: 0.0,
            ..BudgetConfig::default()
        });
        for _ in 0..50 {
            budget.on_request(t);
        }
        // 0.2 · 50 = 10.
        let granted = (0..100).filter(|_| budget.try_retry(t)).count();
        assert_eq!(granted, 10);
        assert_eq!(
            budget.view(t),
            BudgetView {
                requests: 50,
                retries: 10,
                allowance: 10,
                remaining: 0
            }
        );
        // Fresh requests earn new retries.
        for _ in 0..5 {
            budget.on_request(t + ms(500));
        }
        assert!(budget.try_retry(t + ms(500)));
        assert!(!budget.try_retry(t + ms(500)));
        // Ten seconds later the old requests and retries are gone.
        let later = t + ms(10_000);
        assert_eq!(budget.view(later).requests, 0);
        assert!(!budget.try_retry(later), "no requests, no floor: nothing");
        budget.on_request(later);
        assert_eq!(budget.view(later).allowance, 0);
        for _ in 0..4 {
            budget.on_request(later);
        }
        assert!(budget.try_retry(later));
    }

    #[test]
    fn disabled_and_odd_configs() {
        let t = t0();
        let mut budget = RetryBudget::new(BudgetConfig {
            enabled: false,
            ..BudgetConfig::default()
        });
        assert!((0..1000).all(|_| budget.try_retry(t)));
        for (ratio, min_per_sec) in [(f64::NAN, f64::NAN), (-1.0, -5.0), (0.0, 0.0)] {
            let mut budget = RetryBudget::new(BudgetConfig {
                ratio,
                min_per_sec,
                ..BudgetConfig::default()
            });
            budget.on_request(t);
            assert!(!budget.try_retry(t), "{ratio} {min_per_sec}");
            assert_eq!(budget.view(t).allowance, 0);
        }
        let mut budget = RetryBudget::new(BudgetConfig {
            ratio: f64::INFINITY,
            window: Duration::ZERO,
            buckets: 0,
            ..BudgetConfig::default()
        });
        assert_eq!(budget.view(t).allowance, 0);
        budget.on_request(t);
        assert!(budget.try_retry(t));
        assert_eq!(budget.view(t).allowance, u32::MAX);
    }
}
