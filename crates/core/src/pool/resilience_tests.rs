//! The resilience checks as the pool applies them, on a fake timeline: breaker ejection and
//! probes, the AIMD limit, quota protection, shared quota groups, health checks against
//! operator quarantine, and what a successor keeps.

use std::time::{Duration, Instant};

use super::*;
use crate::config::Strategy;
use crate::resilience::{AimdConfig, BreakerState, QueueConfig};

#[allow(clippy::disallowed_methods)] // reason: tests need one real instant as the origin of their fake timeline
fn t0() -> Instant {
    Instant::now()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn pool_with(names: &[&str], resilience: ResilienceConfig) -> Pool {
    let members = names.iter().map(|n| Member::new(*n, 1)).collect();
    Pool::configured(members, SessionLimits::default(), resilience)
}

fn lease(s: Selection) -> Lease {
    match s {
        Selection::Chosen(lease) => lease,
        other => panic!("expected a member, got {other:?}"),
    }
}

fn fixed(p: &Pool, name: &str, now: Instant) -> Selection {
    p.select_fixed(Some(name), &[], now)
}

#[test]
fn five_failures_eject_a_member_until_a_probe_succeeds() {
    let t = t0();
    let p = pool_with(&["a", "b", "c"], ResilienceConfig::default());
    for i in 0..5 {
        let mut l = lease(fixed(&p, "a", t + ms(i)));
        assert_eq!(l.name(), "a");
        p.report(
            &mut l,
            &Outcome::ServerError { status: 500 },
            ms(10),
            t + ms(i),
        );
    }
    let s = &p.status(t + ms(10))[0];
    assert!(
        matches!(s.breaker.state, BreakerState::Open { .. }),
        "{s:?}"
    );
    // Ejected: fixed moves on, and nothing is leased on a.
    assert_ne!(lease(fixed(&p, "a", t + ms(10))).name(), "a");

    // After the 5 s ejection, one probe goes through; the second request goes elsewhere.
    let later = t + Duration::from_secs(6);
    let mut probe = lease(fixed(&p, "a", later));
    assert_eq!(probe.name(), "a");
    assert!(probe.is_probe());
    assert_ne!(lease(fixed(&p, "a", later)).name(), "a");
    p.report(&mut probe, &Outcome::Success, ms(10), later);
    drop(probe);
    assert_eq!(p.status(later)[0].breaker.state, BreakerState::Closed);
    assert_eq!(lease(fixed(&p, "a", later)).name(), "a");
}

#[test]
fn client_errors_rate_limits_and_refusals_never_eject() {
    let t = t0();
    let p = pool_with(&["a", "b"], ResilienceConfig::default());
    for i in 0..10 {
        let outcome = match i % 3 {
            0 => Outcome::ClientError { status: 400 },
            1 => Outcome::RateLimited {
                retry_after: Some(Duration::ZERO),
            },
            _ => Outcome::ClientError { status: 404 },
        };
        let mut l = lease(fixed(&p, "a", t + ms(i)));
        p.report(&mut l, &outcome, ms(5), t + ms(i));
    }
    assert_eq!(p.status(t)[0].breaker.state, BreakerState::Closed);
}

#[test]
fn a_lease_dropped_without_a_verdict_frees_the_probe_slot() {
    let t = t0();
    let p = pool_with(&["a", "b", "c"], ResilienceConfig::default());
    for i in 0..5 {
        let mut l = lease(fixed(&p, "a", t));
        p.report(&mut l, &Outcome::Timeout, ms(10), t + ms(i));
    }
    let later = t + Duration::from_secs(6);
    let probe = lease(fixed(&p, "a", later));
    assert!(probe.is_probe());
    drop(probe); // the client went away before the upstream answered
    let again = lease(fixed(&p, "a", later));
    assert_eq!(again.name(), "a");
    assert!(again.is_probe());
}

#[test]
fn the_ejection_cap_keeps_half_the_pool_in_rotation() {
    let t = t0();
    let p = pool_with(&["a", "b"], ResilienceConfig::default());
    for i in 0..10 {
        for name in ["a", "b"] {
            if let Selection::Chosen(mut l) = fixed(&p, name, t + ms(i)) {
                p.report(
                    &mut l,
                    &Outcome::ServerError { status: 502 },
                    ms(1),
                    t + ms(i),
                );
            }
        }
    }
    let status = p.status(t + ms(20));
    let ejected = status
        .iter()
        .filter(|s| !matches!(s.breaker.state, BreakerState::Closed))
        .count();
    assert_eq!(ejected, 1, "{status:?}");
    assert!(status.iter().any(|s| s.breaker.held_by_cap));
}

#[test]
fn a_member_at_its_aimd_limit_is_skipped_and_overload_halves_it() {
    let t = t0();
    let config = ResilienceConfig {
        aimd: AimdConfig {
            initial: 2,
            ..AimdConfig::default()
        },
        ..ResilienceConfig::default()
    };
    let p = pool_with(&["a"], config);
    let mut first = lease(p.select(Strategy::Balance, None, &[], t));
    let _second = lease(p.select(Strategy::Balance, None, &[], t));
    assert!(matches!(
        p.select(Strategy::Balance, None, &[], t),
        Selection::AllBusy
    ));
    p.report(
        &mut first,
        &Outcome::RateLimited {
            retry_after: Some(Duration::ZERO),
        },
        ms(5),
        t,
    );
    drop(first);
    assert_eq!(p.status(t)[0].aimd.limit, 1);
    // One still in flight and the limit is 1: busy.
    assert!(matches!(
        p.select(Strategy::Balance, None, &[], t + ms(1)),
        Selection::AllBusy
    ));
}

#[test]
fn quota_protection_passes_over_a_low_member_while_another_has_room() {
    let t = t0();
    let p = pool_with(&["low", "high"], ResilienceConfig::default());
    let reading = |fraction| QuotaReading {
        remaining_fraction: Some(fraction),
        reset_at: Some(t + Duration::from_secs(60)),
        retry_after: None,
    };
    p.note_quota(0, "m", reading(0.05), t);
    p.note_quota(1, "m", reading(0.5), t);
    let ask = Ask {
        strategy: Strategy::Fixed,
        preferred: Some("low"),
        model: Some("m"),
        ..Ask::default()
    };
    assert_eq!(lease(p.select_for(&ask, t)).name(), "high");
    // Another model has no reading on `low`: not protected for it.
    let other = Ask {
        model: Some("other"),
        ..ask
    };
    assert_eq!(lease(p.select_for(&other, t)).name(), "low");
    // When the unprotected one is out, the protected one serves.
    p.record(1, &Outcome::RateLimited { retry_after: None }, t);
    assert_eq!(lease(p.select_for(&ask, t)).name(), "low");
    // After the window resets, the reading no longer protects.
    let reset = t + Duration::from_secs(61);
    p.activate(1);
    assert_eq!(lease(p.select_for(&ask, reset)).name(), "low");
    let s = &p.status(t)[0];
    assert_eq!(s.quotas.len(), 1);
    assert!(s.quotas[0].protected);
}

#[test]
fn a_429_cools_the_whole_quota_group() {
    let t = t0();
    let members = vec![
        Member::new("a", 1).with_group(Some("org-x".into())),
        Member::new("b", 1).with_group(Some("org-x".into())),
        Member::new("c", 1),
    ];
    let p = Pool::configured(
        members,
        SessionLimits::default(),
        ResilienceConfig::default(),
    );
    p.record(
        0,
        &Outcome::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
        },
        t,
    );
    let status = p.status(t);
    assert_eq!(status[0].cooldown_until, Some(t + Duration::from_secs(30)));
    assert_eq!(status[1].cooldown_until, Some(t + Duration::from_secs(30)));
    assert_eq!(status[2].cooldown_until, None);
    let picks: Vec<String> = (0..3)
        .map(|_| {
            lease(p.select(Strategy::RoundRobin, None, &[], t))
                .name()
                .to_string()
        })
        .collect();
    assert_eq!(picks, ["c", "c", "c"]);
}

#[test]
fn health_checks_recover_invalid_members_but_not_quarantined_ones() {
    let t = t0();
    let p = pool_with(&["a", "b"], ResilienceConfig::default());
    p.invalidate(0, "health check: refused with 401");
    p.quarantine(1, "operator: rotating the key");
    assert!(p.recover(0));
    assert!(!p.recover(1));
    let status = p.status(t);
    assert!(status[0].invalid.is_none());
    assert!(status[1].invalid.is_some() && status[1].held);
    assert!(p.activate(1));
    assert!(p.status(t)[1].invalid.is_none());
}

#[test]
fn a_successor_keeps_breakers_limits_and_the_queue() {
    let t = t0();
    let config = ResilienceConfig {
        queue: QueueConfig::wait(None),
        ..ResilienceConfig::default()
    };
    let p = pool_with(&["a", "b", "c"], config);
    for i in 0..5 {
        let mut l = lease(fixed(&p, "a", t));
        p.report(
            &mut l,
            &Outcome::ServerError { status: 500 },
            ms(1),
            t + ms(i),
        );
    }
    let ticket = p.waiters().enqueue(t).expect("waiting is on");
    let next = p.successor(vec![Member::new("c", 1), Member::new("a", 3)]);
    assert!(matches!(
        next.status(t)[1].breaker.state,
        BreakerState::Open { .. }
    ));
    assert!(next.waiters().is_turn(ticket));
    next.waiters().leave(ticket, ms(5), true);
    assert_eq!(p.waiters().depth(), 0);
    assert_eq!(p.waiters().view(t).served, 1);
}
