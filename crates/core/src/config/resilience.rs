//! The `[resilience]` section: raw settings onto [`ResilienceConfig`] (defaults for whatever is
//! left out), then the mechanisms' own [`ResilienceConfig::check`], every problem reported with
//! its path under `resilience.`. It reads nothing and decides nothing at run time.

use std::time::Duration;

use super::raw::{RawDuration, RawResilience};
use super::{parse_duration, Problems};
use crate::resilience::{QueueConfig, ResilienceConfig, SlowCalls};

/// Health checks every five minutes: a revoked key is noticed within minutes, and one cheap
/// listing call per credential every five minutes costs nothing against any quota.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(300);

/// The validated settings and the health-check interval (`None`: off).
pub(super) fn validate(
    raw: &RawResilience,
    p: &mut Problems,
) -> (ResilienceConfig, Option<Duration>) {
    let mut c = ResilienceConfig::default();
    let mut duration = |path: &str, value: &Option<RawDuration>, into: &mut Duration| {
        if let Some(v) = value {
            match parse_duration(v) {
                Some(d) => *into = d,
                None => p.add(
                    format!("resilience.{path}"),
                    "expected a duration such as \"500ms\", \"30s\", \"5m\" or a number of seconds",
                ),
            }
        }
    };
    if let Some(b) = &raw.breaker {
        let d = &mut c.breaker;
        set(&mut d.enabled, b.enabled);
        set(&mut d.consecutive_failures, b.consecutive_failures);
        duration("breaker.window", &b.window, &mut d.window);
        set(&mut d.buckets, b.buckets);
        set(&mut d.min_calls, b.min_calls);
        set(&mut d.failure_ratio, b.failure_ratio);
        if let Some(s) = &b.slow_calls {
            let mut slow = SlowCalls::default();
            duration(
                "breaker.slow_calls.threshold",
                &s.threshold,
                &mut slow.threshold,
            );
            set(&mut slow.ratio, s.ratio);
            d.slow_calls = Some(slow);
        }
        duration(
            "breaker.base_ejection",
            &b.base_ejection,
            &mut d.base_ejection,
        );
        set(&mut d.ejection_multiplier, b.ejection_multiplier);
        duration("breaker.max_ejection", &b.max_ejection, &mut d.max_ejection);
        duration("breaker.forget_after", &b.forget_after, &mut d.forget_after);
        set(&mut d.probes, b.probes);
        duration(
            "breaker.probe_timeout",
            &b.probe_timeout,
            &mut d.probe_timeout,
        );
        set(&mut d.max_ejected_share, b.max_ejected_share);
    }
    if let Some(a) = &raw.aimd {
        let d = &mut c.aimd;
        set(&mut d.enabled, a.enabled);
        set(&mut d.initial, a.initial);
        set(&mut d.min, a.min);
        set(&mut d.max, a.max);
        set(&mut d.backoff, a.backoff);
        duration(
            "aimd.decrease_interval",
            &a.decrease_interval,
            &mut d.decrease_interval,
        );
    }
    if let Some(g) = &raw.budget {
        let d = &mut c.budget;
        set(&mut d.enabled, g.enabled);
        set(&mut d.ratio, g.ratio);
        set(&mut d.min_per_sec, g.min_per_sec);
        duration("budget.window", &g.window, &mut d.window);
        set(&mut d.buckets, g.buckets);
    }
    if let Some(q) = &raw.quota {
        set(&mut c.quota.protect_below, q.protect_below);
    }
    let mut health = Some(DEFAULT_HEALTH_INTERVAL);
    if let Some(h) = &raw.health {
        let mut interval = DEFAULT_HEALTH_INTERVAL;
        duration("health.interval", &h.interval, &mut interval);
        health = (!interval.is_zero()).then_some(interval);
    }
    if let Some(q) = &raw.queue {
        match q.mode.as_deref() {
            None | Some("off") => {
                if q.max_wait.is_some() || q.max_depth.is_some() {
                    p.add(
                        "resilience.queue.mode",
                        "max_wait and max_depth need mode = \"wait\"",
                    );
                }
            }
            Some("wait") => {
                let mut max_wait = None;
                if q.max_wait.is_some() {
                    let mut d = Duration::ZERO;
                    duration("queue.max_wait", &q.max_wait, &mut d);
                    max_wait = Some(d);
                }
                let mut queue = QueueConfig::wait(max_wait);
                if let (QueueConfig::Wait { max_depth, .. }, Some(depth)) =
                    (&mut queue, q.max_depth)
                {
                    *max_depth = depth;
                }
                c.queue = queue;
            }
            Some(other) => p.add(
                "resilience.queue.mode",
                format!("unknown mode {other:?} (expected off or wait)"),
            ),
        }
    }
    for problem in c.check() {
        p.add(
            format!("resilience.{}", problem.field),
            problem
                .to_string()
                .split_once(": ")
                .map_or(String::new(), |(_, rest)| rest.to_string()),
        );
    }
    (c, health)
}

fn set<T>(into: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *into = v;
    }
}
