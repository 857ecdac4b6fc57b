//! Pool behaviour on a fake timeline: every instant is `t0() + offset`.

use std::time::{Duration, Instant};

use super::*;
use crate::config::Strategy;

#[allow(clippy::disallowed_methods)] // reason: tests need one real instant as the origin of their fake timeline
fn t0() -> Instant {
    Instant::now()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn pool(names: &[&str]) -> Pool {
    Pool::new(names.iter().map(|n| Member::new(*n, 1)).collect())
}

fn weighted(members: &[(&str, u32)]) -> Pool {
    Pool::new(members.iter().map(|(n, w)| Member::new(*n, *w)).collect())
}

fn lease(s: Selection) -> Lease {
    match s {
        Selection::Chosen(lease) => lease,
        other => panic!("expected a member, got {other:?}"),
    }
}

/// Selects and releases at once, `n` times; the names chosen, in order.
fn picks(p: &Pool, strategy: Strategy, key: Option<&str>, now: Instant, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| lease(p.select(strategy, key, &[], now)).name().to_string())
        .collect()
}

fn rate_limited(retry_after: Option<Duration>) -> Outcome {
    Outcome::RateLimited { retry_after }
}

fn unauthorized() -> Outcome {
    Outcome::Unauthorized {
        status: 401,
        message: "invalid x-api-key".into(),
    }
}

// ---- strategies -------------------------------------------------------------------------

#[test]
fn balance_rotates_among_idle_members() {
    let p = pool(&["a", "b", "c"]);
    let got = picks(&p, Strategy::Balance, None, t0(), 6);
    assert_eq!(got, ["a", "b", "c", "a", "b", "c"]);
}

#[test]
fn balance_prefers_least_in_flight_then_most_quota() {
    let t = t0();
    let p = pool(&["a", "b", "c"]);
    let held_a = lease(p.select_fixed(Some("a"), &[], t));
    let held_b = lease(p.select_fixed(Some("b"), &[], t));
    // a and b are busy: c, whichever way the rotation points.
    assert_eq!(picks(&p, Strategy::Balance, None, t, 3), ["c", "c", "c"]);
    drop(held_a);
    drop(held_b);

    // All idle: the most remaining quota wins; unknown quota counts as full.
    assert!(p.set_quota(0, Some(0.2)));
    assert!(p.set_quota(1, Some(0.9)));
    assert!(p.set_quota(2, Some(0.5)));
    assert_eq!(picks(&p, Strategy::Balance, None, t, 3), ["b", "b", "b"]);
    assert!(p.set_quota(2, None));
    assert_eq!(picks(&p, Strategy::Balance, None, t, 2), ["c", "c"]);
    // Load still comes before quota.
    let _busy = lease(p.select(Strategy::Balance, None, &[], t));
    assert_eq!(picks(&p, Strategy::Balance, None, t, 1), ["b"]);
}

#[test]
fn set_quota_clamps_and_ignores_nan() {
    let t = t0();
    let p = pool(&["a"]);
    p.set_quota(0, Some(1.7));
    assert_eq!(p.status(t)[0].quota, Some(1.0));
    p.set_quota(0, Some(-3.0));
    assert_eq!(p.status(t)[0].quota, Some(0.0));
    p.set_quota(0, Some(f64::NAN));
    assert_eq!(p.status(t)[0].quota, None);
    assert!(!p.set_quota(5, Some(0.5)));
}

#[test]
fn round_robin_turns_over_usable_members() {
    let t = t0();
    let p = pool(&["a", "b", "c"]);
    assert_eq!(
        picks(&p, Strategy::RoundRobin, None, t, 6),
        ["a", "b", "c", "a", "b", "c"]
    );
    // Held leases do not matter to round-robin.
    let _held = lease(p.select(Strategy::RoundRobin, None, &[], t));
    assert_eq!(picks(&p, Strategy::RoundRobin, None, t, 2), ["b", "c"]);
    // With b cooling down, a and c alternate.
    p.record(1, &rate_limited(Some(secs(30))), t);
    let got = picks(&p, Strategy::RoundRobin, None, t, 4);
    assert!(!got.contains(&"b".to_string()), "{got:?}");
    assert_eq!(got.iter().filter(|n| *n == "a").count(), 2, "{got:?}");
}

#[test]
fn weighted_is_smooth_and_deterministic() {
    let t = t0();
    let p = weighted(&[("a", 2), ("b", 1)]);
    assert_eq!(
        picks(&p, Strategy::Weighted, None, t, 6),
        ["a", "b", "a", "a", "b", "a"]
    );
    // nginx's classic example: 5:1:1 spreads the light members out.
    let p = weighted(&[("a", 5), ("b", 1), ("c", 1)]);
    assert_eq!(
        picks(&p, Strategy::Weighted, None, t, 7),
        ["a", "a", "b", "a", "c", "a", "a"]
    );
}

#[test]
fn weighted_skips_unusable_members() {
    let t = t0();
    let p = weighted(&[("a", 3), ("b", 1), ("c", 1)]);
    p.quarantine(0, "rotated out");
    let got = picks(&p, Strategy::Weighted, None, t, 4);
    assert_eq!(got, ["b", "c", "b", "c"]);
    p.activate(0);
    let got = picks(&p, Strategy::Weighted, None, t, 50);
    assert_eq!(got.iter().filter(|n| *n == "a").count(), 30, "{got:?}");
}

#[test]
fn fixed_prefers_one_member_and_falls_back_to_balance() {
    let t = t0();
    let p = pool(&["a", "b", "c"]);
    // Load does not move a fixed choice.
    let held = lease(p.select(Strategy::Fixed, None, &[], t));
    assert_eq!(picks(&p, Strategy::Fixed, None, t, 3), ["a", "a", "a"]);
    drop(held);
    p.record(0, &rate_limited(Some(secs(10))), t);
    assert_eq!(picks(&p, Strategy::Fixed, None, t, 2), ["b", "c"]);
    // Back once the cooldown ends.
    assert_eq!(picks(&p, Strategy::Fixed, None, t + secs(10), 1), ["a"]);

    let named = |name: Option<&str>, exclude: &[usize]| {
        lease(p.select_fixed(name, exclude, t + secs(10)))
            .name()
            .to_string()
    };
    assert_eq!(named(Some("c"), &[]), "c");
    assert_ne!(named(Some("c"), &[2]), "c");
    // A name the pool does not have: balance over everyone.
    let got: Vec<String> = (0..3).map(|_| named(Some("zed"), &[])).collect();
    assert_eq!(got.len(), 3);
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, ["a", "b", "c"], "idle members share load: {got:?}");
}

#[test]
fn exclude_skips_members_already_tried() {
    let t = t0();
    let p = pool(&["a", "b", "c"]);
    for strategy in [
        Strategy::Balance,
        Strategy::RoundRobin,
        Strategy::Weighted,
        Strategy::Fixed,
        Strategy::CacheFirst,
    ] {
        for _ in 0..4 {
            let l = lease(p.select(strategy, Some("k"), &[0, 2], t));
            assert_eq!(l.name(), "b", "{strategy:?}");
        }
        assert!(
            matches!(
                p.select(strategy, Some("k"), &[0, 1, 2], t),
                Selection::NoneUsable
            ),
            "{strategy:?}"
        );
    }
}

// ---- outcomes ---------------------------------------------------------------------------

#[test]
fn rate_limit_honours_retry_after() {
    let t = t0();
    let p = pool(&["a"]);
    p.record(0, &rate_limited(Some(secs(30))), t);
    assert!(matches!(
        p.select(Strategy::Balance, None, &[], t + secs(29)),
        Selection::AllCoolingDown { until } if until == t + secs(30)
    ));
    // Usable exactly when the cooldown ends.
    let l = lease(p.select(Strategy::Balance, None, &[], t + secs(30)));
    assert_eq!(l.name(), "a");
    // A later, shorter answer does not cut a longer cooldown short.
    p.record(0, &rate_limited(Some(secs(60))), t);
    p.record(0, &rate_limited(Some(secs(5))), t + secs(1));
    assert_eq!(p.status(t + secs(2))[0].cooldown_until, Some(t + secs(60)));
    // Absurd values are capped at a day.
    p.record(0, &rate_limited(Some(Duration::from_secs(u64::MAX))), t);
    assert_eq!(
        p.status(t)[0].cooldown_until,
        Some(t + Duration::from_secs(24 * 3600))
    );
}

#[test]
fn rate_limit_without_retry_after_backs_off_exponentially() {
    let t = t0();
    let p = pool(&["a"]);
    let mut now = t;
    let mut waits = Vec::new();
    for _ in 0..8 {
        p.record(0, &rate_limited(None), now);
        let until = p.status(now)[0].cooldown_until.expect("cooling down");
        waits.push((until - now).as_secs());
        now = until;
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
    assert_eq!(p.status(now)[0].rate_limit_streak, 8);
    // A success resets the streak: the next 429 waits one second again.
    p.record(0, &Outcome::Success, now);
    assert_eq!(p.status(now)[0].rate_limit_streak, 0);
    p.record(0, &rate_limited(None), now);
    assert_eq!(p.status(now)[0].cooldown_until, Some(now + secs(1)));
}

#[test]
fn all_cooling_down_reports_the_earliest_end() {
    let t = t0();
    let p = pool(&["a", "b", "c", "d"]);
    p.record(0, &rate_limited(Some(secs(40))), t);
    p.record(1, &rate_limited(Some(secs(15))), t);
    p.record(2, &rate_limited(Some(secs(25))), t);
    // An invalid member's cooldown does not count: it will not come back by itself.
    p.record(3, &rate_limited(Some(secs(5))), t);
    p.record(3, &unauthorized(), t);
    for strategy in [Strategy::Balance, Strategy::CacheFirst, Strategy::Weighted] {
        assert!(matches!(
            p.select(strategy, Some("k"), &[], t + secs(1)),
            Selection::AllCoolingDown { until } if until == t + secs(15)
        ));
    }
    // Members this request already tried still count: the client may retry then.
    assert!(matches!(
        p.select(Strategy::Balance, None, &[1], t + secs(1)),
        Selection::AllCoolingDown { until } if until == t + secs(15)
    ));
    let l = lease(p.select(Strategy::Balance, None, &[], t + secs(15)));
    assert_eq!(l.name(), "b");
}

#[test]
fn none_usable_when_all_invalid_or_excluded() {
    let t = t0();
    let p = pool(&["a", "b"]);
    p.record(0, &unauthorized(), t);
    assert_eq!(lease(p.select(Strategy::Balance, None, &[], t)).name(), "b");
    assert!(matches!(
        p.select(Strategy::Balance, None, &[1], t),
        Selection::NoneUsable
    ));
    p.quarantine(1, "health check failed");
    assert!(matches!(
        p.select(Strategy::RoundRobin, None, &[], t),
        Selection::NoneUsable
    ));
    assert!(matches!(
        pool(&[]).select(Strategy::Fixed, None, &[], t),
        Selection::NoneUsable
    ));
}

#[test]
fn invalid_members_are_skipped_until_activated() {
    let t = t0();
    let p = pool(&["a", "b"]);
    p.record(0, &unauthorized(), t);
    assert_eq!(picks(&p, Strategy::RoundRobin, None, t, 3), ["b", "b", "b"]);
    // Time alone does not bring it back.
    assert_eq!(
        picks(&p, Strategy::Balance, None, t + secs(86_400), 2),
        ["b", "b"]
    );
    let status = &p.status(t)[0];
    assert_eq!(
        status.invalid.as_deref(),
        Some("refused with 401: invalid x-api-key")
    );
    assert_eq!(
        status.last_error.as_ref().map(|e| e.class),
        Some("unauthorized")
    );

    assert!(p.activate(0));
    assert_eq!(p.status(t)[0].invalid, None);
    let got = picks(&p, Strategy::RoundRobin, None, t, 4);
    assert!(got.contains(&"a".to_string()), "{got:?}");
    assert!(!p.activate(7));
    assert!(!p.quarantine(7, "no such member"));
}

#[test]
fn activate_clears_a_cooldown_and_its_streak() {
    let t = t0();
    let p = pool(&["a"]);
    p.record(0, &rate_limited(None), t);
    p.record(0, &rate_limited(None), t);
    p.activate(0);
    let s = &p.status(t)[0];
    assert_eq!((s.cooldown_until, s.rate_limit_streak), (None, 0));
    assert_eq!(s.last_error.as_ref().map(|e| e.class), Some("rate_limited"));
}

#[test]
fn other_failures_are_only_recorded() {
    let t = t0();
    let p = pool(&["a"]);
    for (i, outcome) in [
        Outcome::ServerError { status: 503 },
        Outcome::Timeout,
        Outcome::ConnectFailed,
        Outcome::ClientError { status: 400 },
    ]
    .iter()
    .enumerate()
    {
        let at = t + secs(i as u64);
        p.record(0, outcome, at);
        let s = &p.status(at)[0];
        assert_eq!(
            (s.cooldown_until.is_some(), s.invalid.is_some()),
            (false, false)
        );
        let last = s.last_error.as_ref().expect("recorded");
        assert_eq!((last.class, last.at), (outcome.class(), at));
        assert_eq!(last.message, outcome.describe());
        assert_eq!(
            lease(p.select(Strategy::Balance, None, &[], at)).name(),
            "a"
        );
    }
    // A success keeps the last error for display.
    p.record(0, &Outcome::Success, t + secs(9));
    assert!(p.status(t)[0].last_error.is_some());
    // Reports for members the pool does not have are ignored.
    p.record(3, &unauthorized(), t);
}

// ---- sticky sessions --------------------------------------------------------------------

#[test]
fn cache_first_keeps_a_conversation_on_one_member() {
    let t = t0();
    let p = pool(&["a", "b", "c"]);
    // New sessions go to the least loaded member, lowest index first.
    let held = lease(p.select(Strategy::CacheFirst, Some("conv-1"), &[], t));
    assert_eq!(held.name(), "a");
    let second = lease(p.select(Strategy::CacheFirst, Some("conv-2"), &[], t));
    assert_eq!(second.name(), "b");
    // conv-1 stays on a although a is now the busiest.
    let _more = lease(p.select(Strategy::CacheFirst, Some("conv-1"), &[], t));
    assert_eq!(
        picks(&p, Strategy::CacheFirst, Some("conv-1"), t + secs(60), 5),
        ["a"; 5]
    );
    assert_eq!(
        picks(&p, Strategy::CacheFirst, Some("conv-2"), t + secs(60), 2),
        ["b"; 2]
    );
    assert_eq!(p.session_count(), 2);
}

#[test]
fn cache_first_without_a_key_balances() {
    let p = pool(&["a", "b", "c"]);
    let got = picks(&p, Strategy::CacheFirst, None, t0(), 6);
    assert_eq!(got, ["a", "b", "c", "a", "b", "c"]);
    assert_eq!(p.session_count(), 0);
}

#[test]
fn cache_first_rebinds_on_failover_and_does_not_snap_back() {
    let t = t0();
    let p = pool(&["a", "b"]);
    assert_eq!(picks(&p, Strategy::CacheFirst, Some("conv"), t, 1), ["a"]);
    // a answers 429: the conversation moves to b.
    p.record(0, &rate_limited(Some(secs(20))), t + secs(1));
    assert_eq!(
        picks(&p, Strategy::CacheFirst, Some("conv"), t + secs(2), 1),
        ["b"]
    );
    // a recovers, and is even idler than b, but b holds the cache now.
    let _busy_b = lease(p.select(Strategy::CacheFirst, Some("conv"), &[], t + secs(30)));
    assert_eq!(
        picks(&p, Strategy::CacheFirst, Some("conv"), t + secs(30), 3),
        ["b"; 3]
    );
}

#[test]
fn cache_first_rebinds_when_the_bound_member_was_tried() {
    let t = t0();
    let p = pool(&["a", "b", "c"]);
    assert_eq!(picks(&p, Strategy::CacheFirst, Some("k"), t, 1), ["a"]);
    // The attempt loop tried a (say it answered 503) and asks again without it.
    let retry = lease(p.select(Strategy::CacheFirst, Some("k"), &[0], t));
    assert_eq!(retry.name(), "b");
    drop(retry);
    assert_eq!(picks(&p, Strategy::CacheFirst, Some("k"), t, 2), ["b"; 2]);
    // Invalid bound member: rebinds as well.
    p.record(1, &unauthorized(), t);
    assert_eq!(picks(&p, Strategy::CacheFirst, Some("k"), t, 1), ["a"]);
}

#[test]
fn sticky_sessions_are_bounded_and_expire() {
    let t = t0();
    let limits = SessionLimits {
        capacity: 2,
        idle_ttl: secs(3600),
    };
    let p = Pool::with_session_limits(vec![Member::new("a", 1), Member::new("b", 1)], limits);
    let bind = |key: &str, now: Instant| {
        lease(p.select(Strategy::CacheFirst, Some(key), &[], now))
            .name()
            .to_string()
    };
    // Hold a lease on a so new keys land on b.
    let busy_a = lease(p.select(Strategy::Fixed, None, &[], t));
    assert_eq!(bind("k1", t), "b");
    assert_eq!(bind("k2", t), "b");
    assert_eq!(bind("k3", t), "b");
    assert_eq!(p.session_count(), 2);
    drop(busy_a);
    // k1 was evicted (least recently used): it is placed afresh, on idle a, evicting k2.
    assert_eq!(bind("k1", t), "a");
    assert_eq!(p.session_count(), 2);
    // k3 is still bound to b although a is just as idle.
    assert_eq!(bind("k3", t), "b");
    // k1 stays put up to an hour idle...
    assert_eq!(bind("k1", t + secs(3600)), "a");
    // ...and is forgotten past it: with a busy, fresh placement shows it on b.
    let _busy_a = lease(p.select(Strategy::Fixed, None, &[], t));
    assert_eq!(bind("k1", t + secs(7201)), "b");
    assert!(p.session_count() <= 2);
}

// ---- leases -----------------------------------------------------------------------------

#[test]
fn leases_count_in_flight_until_dropped() {
    let t = t0();
    let p = pool(&["a", "b"]);
    let l1 = lease(p.select(Strategy::Fixed, None, &[], t));
    let l2 = lease(p.select(Strategy::Fixed, None, &[], t));
    assert_eq!((l1.index(), p.in_flight(0), p.in_flight(1)), (0, 2, 0));
    assert_eq!(p.status(t)[0].in_flight, 2);
    drop(l1);
    assert_eq!(p.in_flight(0), 1);
    // A lease released on another thread (a request finishing elsewhere) counts the same.
    std::thread::scope(|s| {
        s.spawn(move || drop(l2));
    });
    assert_eq!(p.in_flight(0), 0);
    // A selection dropped unopened releases too.
    let _ = p.select(Strategy::Fixed, None, &[], t);
    assert_eq!(p.in_flight(0), 0);
}

#[test]
fn lease_released_when_its_request_panics() {
    let t = t0();
    let p = pool(&["a"]);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _l = lease(p.select(Strategy::Balance, None, &[], t));
        assert_eq!(p.in_flight(0), 1);
        panic!("request handler failed");
    }));
    assert!(result.is_err());
    assert_eq!(p.in_flight(0), 0);
}

#[test]
fn concurrent_leases_never_leak() {
    let t = t0();
    let p = pool(&["a", "b", "c", "d"]);
    let strategies = [
        Strategy::CacheFirst,
        Strategy::Balance,
        Strategy::RoundRobin,
        Strategy::Weighted,
        Strategy::Fixed,
    ];
    std::thread::scope(|s| {
        for thread in 0..8usize {
            let p = &p;
            s.spawn(move || {
                let mut held = Vec::new();
                for i in 0..10_000usize {
                    let strategy = strategies[(thread + i) % strategies.len()];
                    let key = format!("conv-{}", i % 97);
                    let now = t + Duration::from_millis(i as u64);
                    if let Selection::Chosen(l) = p.select(strategy, Some(&key), &[], now) {
                        if i % 500 == 0 {
                            p.record(l.index(), &rate_limited(Some(Duration::ZERO)), now);
                        }
                        held.push(l);
                    }
                    // Hold a few at a time so loads differ while others select.
                    if held.len() > 3 {
                        drop(held.remove(0));
                    }
                }
            });
        }
    });
    let status = p.status(t);
    assert!(status.iter().all(|m| m.in_flight == 0), "{status:?}");
}

// ---- in-flight caps -----------------------------------------------------------------------

#[test]
fn a_member_at_its_cap_is_skipped_and_a_full_pool_is_busy() {
    let p = Pool::new(vec![
        Member::new("a", 1).with_max_in_flight(Some(1)),
        Member::new("b", 1).with_max_in_flight(Some(2)),
    ]);
    let now = t0();
    let first = lease(p.select(Strategy::Fixed, None, &[], now));
    assert_eq!(first.name(), "a");
    // `a` is full, so even the fixed strategy moves on.
    let second = lease(p.select(Strategy::Fixed, None, &[], now));
    let third = lease(p.select(Strategy::Fixed, None, &[], now));
    assert_eq!((second.name(), third.name()), ("b", "b"));
    assert!(matches!(
        p.select(Strategy::Balance, None, &[], now),
        Selection::AllBusy
    ));
    drop(second);
    assert_eq!(
        lease(p.select(Strategy::Balance, None, &[], now)).name(),
        "b"
    );
}

#[test]
fn busy_wins_over_cooling_down_because_a_slot_frees_sooner() {
    let p = Pool::new(vec![
        Member::new("a", 1).with_max_in_flight(Some(1)),
        Member::new("b", 1),
    ]);
    let now = t0();
    p.record(1, &rate_limited(Some(secs(30))), now);
    let _held = lease(p.select(Strategy::Balance, None, &[], now));
    assert!(matches!(
        p.select(Strategy::Balance, None, &[], now),
        Selection::AllBusy
    ));
}

// ---- succession -----------------------------------------------------------------------------

#[test]
fn a_successor_keeps_health_sessions_and_held_leases() {
    let p = pool(&["a", "b"]);
    let now = t0();
    p.record(0, &rate_limited(Some(secs(30))), now);
    p.quarantine(1, "revoked upstream");
    p.activate(1);
    let sticky = lease(p.select(Strategy::CacheFirst, Some("conv"), &[], now));
    assert_eq!(sticky.name(), "b");

    let next = p.successor(vec![
        Member::new("new", 1),
        Member::new("b", 1),
        Member::new("a", 1),
    ]);
    let status = next.status(now);
    assert_eq!(status[0].name, "new");
    assert_eq!(
        status[2].cooldown_until,
        Some(now + secs(30)),
        "a's cooldown carried"
    );
    // The lease taken on the old pool still counts on the same member in the new one.
    assert_eq!(status[1].in_flight, 1);
    drop(sticky);
    assert_eq!(next.in_flight(1), 0);
    // The session follows `b` to its new index.
    let again = lease(next.select(Strategy::CacheFirst, Some("conv"), &[], now));
    assert_eq!(again.name(), "b");
}

#[test]
fn a_successor_drops_sessions_of_removed_members_and_applies_new_settings() {
    let p = pool(&["a", "b"]);
    let now = t0();
    let bound = lease(p.select(Strategy::CacheFirst, Some("conv"), &[], now));
    assert_eq!(bound.name(), "a");
    drop(bound);
    p.record(1, &unauthorized(), now);

    let next = p.successor(vec![Member::new("b", 5).with_max_in_flight(Some(1))]);
    assert_eq!(next.session_count(), 0);
    let status = next.status(now);
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].weight, 5);
    assert!(
        status[0].invalid.is_some(),
        "health survives a settings change"
    );
}
