//! The sticky-session map of `CacheFirst`: affinity key → member index, bounded in size and
//! in idle time. It only remembers bindings; whether a bound member is still usable, and whom
//! to bind instead, is decided by the caller.
//!
//! Bounded because keys come from clients: at the default 100 000 keys of at most 128
//! characters the map stays in the tens of megabytes whatever clients send. Past the bound the
//! least recently used key is evicted. Keys idle longer than the TTL (default one hour, the
//! longest prompt-cache lifetime providers offer, after which the binding keeps nothing warm)
//! are dropped lazily: when looked up, and from the least recently used end whenever a key is
//! bound, so no sweeper task is needed.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// How many sticky sessions a pool remembers and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Most keys held; past it the least recently used one is evicted.
    pub capacity: usize,
    /// A key unused for longer than this is forgotten.
    pub idle_ttl: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            capacity: 100_000,
            idle_ttl: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug)]
struct Binding {
    member: usize,
    last_used: Instant,
    /// Position in `order`.
    seq: u64,
}

#[derive(Debug)]
pub(super) struct Sessions {
    limits: SessionLimits,
    bindings: HashMap<String, Binding>,
    /// Use order: the smallest sequence number is the least recently used key. A B-tree over a
    /// counter gives LRU order in O(log n) without a hand-written linked list.
    order: BTreeMap<u64, String>,
    next_seq: u64,
}

impl Sessions {
    pub(super) fn new(limits: SessionLimits) -> Self {
        Self {
            limits,
            bindings: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.bindings.len()
    }

    /// The member `key` is bound to, marking it used at `now`; an expired binding is dropped.
    pub(super) fn get(&mut self, key: &str, now: Instant) -> Option<usize> {
        let (member, last_used) = self.bindings.get(key).map(|b| (b.member, b.last_used))?;
        if expired(last_used, now, self.limits.idle_ttl) {
            self.remove(key);
            return None;
        }
        self.bind(key, member, now);
        Some(member)
    }

    /// Binds `key` to `member` (new or moved), marks it used at `now`, then drops expired and
    /// excess keys from the least recently used end.
    pub(super) fn bind(&mut self, key: &str, member: usize, now: Instant) {
        let seq = self.next_seq;
        self.next_seq += 1;
        match self.bindings.get_mut(key) {
            Some(binding) => {
                self.order.remove(&binding.seq);
                binding.member = member;
                binding.last_used = now;
                binding.seq = seq;
            }
            None => {
                self.bindings.insert(
                    key.to_string(),
                    Binding {
                        member,
                        last_used: now,
                        seq,
                    },
                );
            }
        }
        self.order.insert(seq, key.to_string());
        self.trim(now);
    }

    /// A copy for a pool whose members moved: `index_map[old]` is the member's new index, or
    /// `None` when it is gone (its bindings are dropped). Use order is kept.
    pub(super) fn remapped(&self, index_map: &[Option<usize>]) -> Sessions {
        let mut next = Sessions::new(self.limits);
        for (seq, key) in &self.order {
            let Some(binding) = self.bindings.get(key) else {
                continue;
            };
            let Some(&Some(member)) = index_map.get(binding.member) else {
                continue;
            };
            next.bindings.insert(
                key.clone(),
                Binding {
                    member,
                    last_used: binding.last_used,
                    seq: *seq,
                },
            );
            next.order.insert(*seq, key.clone());
        }
        next.next_seq = self.next_seq;
        next
    }

    fn trim(&mut self, now: Instant) {
        let ttl = self.limits.idle_ttl;
        while let Some(entry) = self.order.first_entry() {
            let stale = self
                .bindings
                .get(entry.get())
                .is_none_or(|b| expired(b.last_used, now, ttl));
            if !stale && self.bindings.len() <= self.limits.capacity {
                break;
            }
            let key = entry.remove();
            self.bindings.remove(&key);
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(binding) = self.bindings.remove(key) {
            self.order.remove(&binding.seq);
        }
    }
}

fn expired(last_used: Instant, now: Instant, ttl: Duration) -> bool {
    now.saturating_duration_since(last_used) > ttl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // reason: tests need one real instant as the origin of their fake timeline
    fn t0() -> Instant {
        Instant::now()
    }

    fn limits(capacity: usize, ttl_secs: u64) -> SessionLimits {
        SessionLimits {
            capacity,
            idle_ttl: Duration::from_secs(ttl_secs),
        }
    }

    #[test]
    fn evicts_least_recently_used_past_capacity() {
        let t = t0();
        let mut s = Sessions::new(limits(3, 3600));
        s.bind("a", 0, t);
        s.bind("b", 1, t);
        s.bind("c", 2, t);
        // Touching "a" makes "b" the least recently used.
        assert_eq!(s.get("a", t), Some(0));
        s.bind("d", 0, t);
        assert_eq!(s.len(), 3);
        assert_eq!(s.get("b", t), None);
        assert_eq!(s.get("a", t), Some(0));
        assert_eq!(s.get("c", t), Some(2));
        assert_eq!(s.get("d", t), Some(0));
        assert_eq!(s.order.len(), s.bindings.len());
    }

    #[test]
    fn rebinding_moves_a_key_without_growing() {
        let t = t0();
        let mut s = Sessions::new(limits(10, 3600));
        s.bind("a", 0, t);
        s.bind("a", 2, t);
        assert_eq!(s.len(), 1);
        assert_eq!(s.order.len(), 1);
        assert_eq!(s.get("a", t), Some(2));
    }

    #[test]
    fn idle_keys_expire_lazily() {
        let t = t0();
        let ttl = Duration::from_secs(3600);
        let mut s = Sessions::new(limits(10, 3600));
        s.bind("old", 0, t);
        s.bind("kept", 1, t);
        // Use keeps a key alive: "kept" is touched just before "old" would expire.
        assert_eq!(s.get("kept", t + ttl), Some(1));
        // Exactly the TTL idle is still alive; one tick more is not.
        assert_eq!(s.get("old", t + ttl), Some(0));
        assert_eq!(s.get("old", t + ttl * 2 + Duration::from_millis(1)), None);
        assert_eq!(s.len(), 1);
        // Binding a new key sweeps expired ones from the old end.
        s.bind("new", 2, t + ttl * 3);
        assert_eq!(s.len(), 1);
        assert_eq!(s.order.len(), 1);
        assert_eq!(s.get("new", t + ttl * 3), Some(2));
    }

    #[test]
    fn zero_capacity_remembers_nothing() {
        let t = t0();
        let mut s = Sessions::new(limits(0, 3600));
        s.bind("a", 1, t);
        assert_eq!(s.len(), 0);
        assert_eq!(s.get("a", t), None);
    }
}
