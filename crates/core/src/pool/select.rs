//! Choosing the member for the next attempt. One scan applies the checks in the order the
//! resilience module documents — invalid, cooling down, already tried by this request, breaker
//! gate, AIMD room and in-flight cap — then quota protection among the survivors (a relative
//! rule: the protected are passed over only while someone else has room); a strategy picks
//! among what is left; the pick's breaker claims its pass (a probe slot when half-open) and the
//! pick comes back as a [`Lease`]. Strategies never look at members the scan left out, and
//! nothing here changes a member's health.
//!
//! Loads are read, then the chosen member's count is raised, without a lock across the two:
//! two requests selecting at the same instant may both see a member idle and pick it (or both
//! see one slot of room under its limit). That costs a little balance under bursts and saves a
//! pool-wide lock on every request.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::{lock, Lease, Pool, Selection};
use crate::config::Strategy;
use crate::resilience::{protected, Admission, Gate};

/// What an attempt asks the pool for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask<'a> {
    pub strategy: Strategy,
    /// The member `Fixed` prefers, by name (else the first member).
    pub preferred: Option<&'a str>,
    /// The request's session key (used by `CacheFirst` only).
    pub affinity: Option<&'a str>,
    /// The upstream model, whose quota reading decides protection; `None`: the scarcest
    /// reading over all models.
    pub model: Option<&'a str>,
    /// Members this request already tried.
    pub exclude: &'a [usize],
}

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
    /// Untried, valid, not cooling down, not ejected, but without room: at their in-flight cap
    /// or AIMD limit, or half-open with their probe slots taken.
    full: usize,
    /// The earliest end of a running cooldown or ejection.
    earliest_end: Option<Instant>,
}

impl Pool {
    /// A member for the next attempt under `strategy`. `affinity` is the request's session key
    /// (used by `CacheFirst` only); `exclude` lists members this request already tried.
    /// `Fixed` prefers the first member; see [`Pool::select_for`] to name another or a model.
    pub fn select(
        &self,
        strategy: Strategy,
        affinity: Option<&str>,
        exclude: &[usize],
        now: Instant,
    ) -> Selection {
        self.select_for(
            &Ask {
                strategy,
                affinity,
                exclude,
                ..Ask::default()
            },
            now,
        )
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
        self.select_for(
            &Ask {
                strategy: Strategy::Fixed,
                preferred,
                exclude,
                ..Ask::default()
            },
            now,
        )
    }

    /// A member for the attempt `ask` describes.
    pub fn select_for(&self, ask: &Ask<'_>, now: Instant) -> Selection {
        match ask.strategy {
            Strategy::Fixed => {
                let fixed = match ask.preferred {
                    Some(name) => self.index_of(name),
                    None => Some(0),
                };
                self.choose(ask, now, |c| match fixed {
                    Some(f) if c.iter().any(|c| c.index == f) => f,
                    _ => self.pick_balance(c),
                })
            }
            Strategy::CacheFirst => self.choose(ask, now, |c| match ask.affinity {
                Some(key) => self.pick_sticky(key, c, now),
                None => self.pick_balance(c),
            }),
            Strategy::Balance => self.choose(ask, now, |c| self.pick_balance(c)),
            Strategy::RoundRobin => self.choose(ask, now, |c| self.pick_round_robin(c)),
            Strategy::Weighted => self.choose(ask, now, |c| self.pick_weighted(c)),
        }
    }

    /// Scans, lets `pick` choose among a non-empty candidate list, claims the choice's breaker
    /// pass and leases it. A breaker that refuses the claim (another request took the probe
    /// slot since the scan) drops its member from the list and `pick` chooses again.
    fn choose(
        &self,
        ask: &Ask<'_>,
        now: Instant,
        mut pick: impl FnMut(&[Candidate]) -> usize,
    ) -> Selection {
        let scan = self.scan(ask, now);
        let mut candidates = scan.usable;
        let mut full = scan.full;
        while !candidates.is_empty() {
            // `pick` returns the index of a candidate, and candidates are members of this pool.
            let index = pick(&candidates);
            let slot = &self.members[index];
            let admission = lock(&slot.guards).breaker.admits(now);
            match admission {
                Admission::Admit(pass) | Admission::Probe(pass) => {
                    return Selection::Chosen(Lease::new(
                        index,
                        Arc::clone(slot),
                        pass,
                        now,
                        Arc::clone(&self.waiters),
                    ));
                }
                Admission::Reject { .. } => {
                    candidates.retain(|c| c.index != index);
                    full += 1;
                }
            }
        }
        match scan.earliest_end {
            // A full member frees up sooner than any cooldown ends.
            _ if full > 0 => Selection::AllBusy,
            Some(until) => Selection::AllCoolingDown { until },
            None => Selection::NoneUsable,
        }
    }

    /// The usable members in pool order, how many untried members have no room, and the
    /// earliest end of a running cooldown or ejection among the members that are not invalid.
    /// Excluded members count for that end: it answers "when may the client try again", which
    /// does not depend on what this request already tried.
    fn scan(&self, ask: &Ask<'_>, now: Instant) -> Scan {
        let mut usable = Vec::with_capacity(self.members.len());
        let mut protected_flags = Vec::with_capacity(self.members.len());
        let mut earliest: Option<Instant> = None;
        let mut full = 0;
        let mut note_end = |until: Instant| {
            earliest = Some(earliest.map_or(until, |e: Instant| e.min(until)));
        };
        let threshold = self.resilience.quota.protect_below;
        for (index, slot) in self.members.iter().enumerate() {
            let set_quota = {
                let health = lock(&slot.health);
                if health.invalid.is_some() {
                    continue;
                }
                if let Some(until) = health.cooling_until(now) {
                    note_end(until);
                    continue;
                }
                health.quota
            };
            let guards = lock(&slot.guards);
            let gate = guards.breaker.gate(now);
            if let Gate::Reject { until: Some(until) } = gate {
                note_end(until);
                continue;
            }
            if ask.exclude.contains(&index) {
                continue;
            }
            if let Gate::Reject { until: None } = gate {
                // Half-open with its probe out: it frees when the probe reports.
                full += 1;
                continue;
            }
            let in_flight = slot.in_flight.load(Ordering::Acquire);
            let capped = slot
                .max_in_flight
                .is_some_and(|cap| in_flight >= cap as usize);
            if capped || !guards.aimd.has_room(in_flight) {
                full += 1;
                continue;
            }
            let fraction = guards.fraction(ask.model, now);
            protected_flags.push(protected(fraction, threshold));
            usable.push(Candidate {
                index,
                in_flight,
                quota: fraction.or(set_quota).unwrap_or(1.0),
            });
        }
        // Quota protection is relative: the protected serve only when nobody else can.
        if protected_flags.iter().any(|p| !p) {
            let mut flags = protected_flags.iter();
            usable.retain(|_| flags.next().is_some_and(|p| !p));
        }
        Scan {
            usable,
            full,
            earliest_end: earliest,
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
