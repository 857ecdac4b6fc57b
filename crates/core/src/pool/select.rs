//! Choosing the member for the next attempt. One scan finds the usable members (not invalid,
//! not cooling down at `now`, not already tried by this request); a strategy picks among them;
//! the pick comes back as a [`Lease`]. Strategies never look at members the scan left out,
//! and nothing here changes a member's health.
//!
//! Loads are read, then the chosen member's count is raised, without a lock across the two:
//! two requests selecting at the same instant may both see a member idle and pick it. That
//! costs a little balance under bursts and saves a pool-wide lock on every request.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::{lock, Lease, Pool, Selection};
use crate::config::Strategy;

/// A usable member as seen by the scan.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    index: usize,
    in_flight: usize,
    /// Remaining quota fraction; unknown counts as full.
    quota: f64,
}

/// What one pass over the members found.
#[derive(Debug)]
struct Scan {
    usable: Vec<Candidate>,
    /// Untried, valid, not cooling down, but at their in-flight cap.
    full: usize,
    earliest_cooldown_end: Option<Instant>,
}

impl Pool {
    /// A member for the next attempt under `strategy`. `affinity` is the request's session key
    /// (used by `CacheFirst` only); `exclude` lists members this request already tried.
    /// `Fixed` prefers the first member; see [`Pool::select_fixed`] to name another.
    pub fn select(
        &self,
        strategy: Strategy,
        affinity: Option<&str>,
        exclude: &[usize],
        now: Instant,
    ) -> Selection {
        match strategy {
            Strategy::Fixed => self.select_fixed(None, exclude, now),
            Strategy::CacheFirst => self.choose(exclude, now, |c| match affinity {
                Some(key) => self.pick_sticky(key, c, now),
                None => self.pick_balance(c),
            }),
            Strategy::Balance => self.choose(exclude, now, |c| self.pick_balance(c)),
            Strategy::RoundRobin => self.choose(exclude, now, |c| self.pick_round_robin(c)),
            Strategy::Weighted => self.choose(exclude, now, |c| self.pick_weighted(c)),
        }
    }

    /// The preferred member (by name, else the first) while it is usable; otherwise `Balance`
    /// over the rest. A name this pool does not have counts as an unusable preference, so
    /// traffic still flows while config and pool disagree.
    pub fn select_fixed(
        &self,
        preferred: Option<&str>,
        exclude: &[usize],
        now: Instant,
    ) -> Selection {
        let fixed = match preferred {
            Some(name) => self.index_of(name),
            None => Some(0),
        };
        self.choose(exclude, now, |c| match fixed {
            Some(f) if c.iter().any(|c| c.index == f) => f,
            _ => self.pick_balance(c),
        })
    }

    /// Scans, lets `pick` choose among a non-empty candidate list, and leases the choice.
    fn choose(
        &self,
        exclude: &[usize],
        now: Instant,
        pick: impl FnOnce(&[Candidate]) -> usize,
    ) -> Selection {
        let scan = self.scan(exclude, now);
        let candidates = scan.usable;
        if candidates.is_empty() {
            return match scan.earliest_cooldown_end {
                // A full member frees up sooner than any cooldown ends.
                _ if scan.full > 0 => Selection::AllBusy,
                Some(until) => Selection::AllCoolingDown { until },
                None => Selection::NoneUsable,
            };
        }
        // `pick` returns the index of a candidate, and candidates are members of this pool.
        let index = pick(&candidates);
        Selection::Chosen(Lease::new(index, Arc::clone(&self.members[index])))
    }

    /// The usable members in pool order, how many untried members are at their in-flight cap,
    /// and the earliest end of a running cooldown among the members that are not invalid.
    /// Excluded members count for that end: it answers "when may the client try again", which
    /// does not depend on what this request already tried.
    fn scan(&self, exclude: &[usize], now: Instant) -> Scan {
        let mut usable = Vec::with_capacity(self.members.len());
        let mut earliest: Option<Instant> = None;
        let mut full = 0;
        for (index, slot) in self.members.iter().enumerate() {
            let health = lock(&slot.health);
            if health.invalid.is_some() {
                continue;
            }
            if let Some(until) = health.cooling_until(now) {
                earliest = Some(earliest.map_or(until, |e| e.min(until)));
                continue;
            }
            if exclude.contains(&index) {
                continue;
            }
            let in_flight = slot.in_flight.load(Ordering::Acquire);
            if slot
                .max_in_flight
                .is_some_and(|cap| in_flight >= cap as usize)
            {
                full += 1;
                continue;
            }
            usable.push(Candidate {
                index,
                in_flight,
                quota: health.quota.unwrap_or(1.0),
            });
        }
        Scan {
            usable,
            full,
            earliest_cooldown_end: earliest,
        }
    }

    /// Least in flight; ties → most remaining quota; ties → rotation, so equally idle members
    /// take turns instead of the first one taking everything.
    fn pick_balance(&self, c: &[Candidate]) -> usize {
        let least = c.iter().map(|c| c.in_flight).min().unwrap_or(0);
        let most_quota = c
            .iter()
            .filter(|c| c.in_flight == least)
            .map(|c| c.quota)
            .fold(f64::NEG_INFINITY, f64::max);
        let tied: Vec<usize> = c
            .iter()
            .filter(|c| c.in_flight == least && c.quota == most_quota)
            .map(|c| c.index)
            .collect();
        // Never empty: the least loaded member with the most quota is in it.
        let turn = self.tie_break.fetch_add(1, Ordering::Relaxed) % tied.len();
        tied[turn]
    }

    /// Turns over the usable members, so load spreads evenly over whoever is usable now
    /// (rotating over all members and skipping would double the load of an unusable one's
    /// successor).
    fn pick_round_robin(&self, c: &[Candidate]) -> usize {
        let turn = self.round_robin.fetch_add(1, Ordering::Relaxed) % c.len();
        c[turn].index
    }

    /// Smooth weighted round-robin (as in nginx): every usable member gains its weight, the
    /// richest is picked (ties → lowest index) and pays the round's total. Picks interleave
    /// (2:1 gives a, b, a) rather than bunch, and the sequence is deterministic. Unusable
    /// members sit the round out with their balance kept.
    fn pick_weighted(&self, c: &[Candidate]) -> usize {
        let mut current = lock(&self.weighted);
        let mut total = 0i64;
        for cand in c {
            let weight = i64::from(self.members[cand.index].weight);
            current[cand.index] += weight;
            total += weight;
        }
        let mut best = c[0].index;
        for cand in c {
            if current[cand.index] > current[best] {
                best = cand.index;
            }
        }
        current[best] -= total;
        best
    }

    /// `CacheFirst` with a key: the bound member while usable; otherwise the least loaded
    /// (ties → lowest index, so new sessions gather where caches are already warm) and the key
    /// moves there for good: after a failover it stays on its new member even when the old
    /// one recovers, since the new one now holds the conversation's cache.
    fn pick_sticky(&self, key: &str, c: &[Candidate], now: Instant) -> usize {
        let mut sessions = lock(&self.sessions);
        if let Some(bound) = sessions.get(key, now) {
            if c.iter().any(|c| c.index == bound) {
                return bound;
            }
        }
        // `min_by_key` keeps the first of equal minima, and candidates are in pool order.
        let chosen = c
            .iter()
            .min_by_key(|c| c.in_flight)
            .map_or(c[0].index, |c| c.index);
        sessions.bind(key, chosen, now);
        chosen
    }
}
