//! A sliding window of counts kept in fixed time buckets, shared by the breaker (calls,
//! failures, slow calls) and the retry budget (requests, retries). It owns bucketing only:
//! what the counts mean and what to decide from them belongs to its users. Memory is fixed
//! (one entry per bucket) whatever the traffic, and a bucket is recycled lazily when time
//! reaches it again, so nothing needs a timer.

use std::ops::AddAssign;
use std::time::{Duration, Instant};

/// The narrowest bucket accepted; narrower configs are widened so bucket numbers stay small.
const MIN_BUCKET: Duration = Duration::from_millis(1);

#[derive(Debug, Clone)]
pub(super) struct Window<C> {
    width: Duration,
    /// `(bucket number, counts)`; bucket number `n` covers `origin + n·width ..` one width long.
    slots: Vec<(u64, C)>,
    /// The first instant recorded: bucket numbers count from here. Set lazily so a window can
    /// be built where no clock is at hand (a pool built from config).
    origin: Option<Instant>,
}

impl<C: Copy + Default + AddAssign> Window<C> {
    /// A window of `buckets` buckets covering `span` in total. Zero buckets are read as one.
    pub(super) fn new(span: Duration, buckets: u32) -> Self {
        let buckets = buckets.max(1);
        let width = (span / buckets).max(MIN_BUCKET);
        Self {
            width,
            slots: vec![(0, C::default()); buckets as usize],
            origin: None,
        }
    }

    /// Adds `counts` to the bucket of `now`. An instant earlier than the newest bucket (a
    /// report computed just before another thread's) lands in the bucket it belongs to if that
    /// bucket is still held, and is dropped if the window has moved past it.
    pub(super) fn add(&mut self, now: Instant, counts: C) {
        let origin = *self.origin.get_or_insert(now);
        let bucket = self.bucket_of(origin, now);
        let len = self.slots.len() as u64;
        let slot = &mut self.slots[(bucket % len) as usize];
        if slot.0 == bucket {
            slot.1 += counts;
        } else if slot.0 < bucket {
            *slot = (bucket, counts);
        }
        // Otherwise the slot already holds a newer bucket: the report is older than the
        // window and is dropped rather than wiping newer counts.
    }

    /// The sum over the buckets that still fall inside the window at `now`.
    pub(super) fn total(&self, now: Instant) -> C {
        let mut sum = C::default();
        let Some(origin) = self.origin else {
            return sum;
        };
        let newest = self.bucket_of(origin, now);
        let len = self.slots.len() as u64;
        for &(bucket, counts) in &self.slots {
            if bucket <= newest && newest - bucket < len {
                sum += counts;
            }
        }
        sum
    }

    /// Forgets every count (the breaker starts afresh after each change of state).
    pub(super) fn clear(&mut self) {
        for slot in &mut self.slots {
            *slot = (0, C::default());
        }
        self.origin = None;
    }

    fn bucket_of(&self, origin: Instant, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(origin);
        // u64 nanoseconds cover 584 years of uptime; saturating keeps the arithmetic total.
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let width = u64::try_from(self.width.as_nanos()).unwrap_or(u64::MAX);
        nanos / width.max(1)
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
    fn counts_stay_for_the_span_then_leave_bucket_by_bucket() {
        let t = t0();
        let mut w: Window<u32> = Window::new(Duration::from_secs(10), 10);
        assert_eq!(w.total(t), 0, "empty before the first report");
        w.add(t, 1);
        w.add(t + ms(500), 2);
        w.add(t + ms(1500), 4);
        assert_eq!(w.total(t + ms(1500)), 7);
        // Bucket 0 (t .. t+1s) is held until bucket 10 starts.
        assert_eq!(w.total(t + ms(9999)), 7);
        assert_eq!(w.total(t + ms(10_000)), 4);
        assert_eq!(w.total(t + ms(11_000)), 0);
    }

    #[test]
    fn a_recycled_slot_forgets_its_old_bucket() {
        let t = t0();
        let mut w: Window<u32> = Window::new(Duration::from_secs(10), 10);
        w.add(t, 5);
        // Same slot (bucket 10 % 10 == 0), ten seconds later: the old 5 must not survive.
        w.add(t + ms(10_200), 1);
        assert_eq!(w.total(t + ms(10_200)), 1);
    }

    #[test]
    fn late_reports_land_in_their_bucket_or_are_dropped() {
        let t = t0();
        let mut w: Window<u32> = Window::new(Duration::from_secs(10), 10);
        w.add(t, 1);
        w.add(t + ms(5000), 1);
        // A report computed 3 s earlier still belongs to the window.
        w.add(t + ms(2000), 1);
        assert_eq!(w.total(t + ms(5000)), 3);
        // Far later, a report from before the window must not wipe the newer bucket in its slot
        // (bucket 12 took slot 2 from bucket 2).
        w.add(t + ms(12_500), 1);
        w.add(t + ms(2500), 100);
        assert_eq!(w.total(t + ms(12_500)), 2);
        // An instant before the origin counts in the first bucket instead of panicking.
        let mut w: Window<u32> = Window::new(Duration::from_secs(1), 4);
        w.add(t + ms(100), 1);
        w.add(t, 1);
        assert_eq!(w.total(t + ms(100)), 2);
    }

    #[test]
    fn clear_and_degenerate_shapes() {
        let t = t0();
        let mut w: Window<u32> = Window::new(Duration::from_secs(1), 0);
        w.add(t, 3);
        assert_eq!(w.total(t + ms(999)), 3);
        assert_eq!(w.total(t + ms(1000)), 0);
        w.clear();
        assert_eq!(w.total(t), 0);
        // A zero span still makes a working (1 ms) window.
        let mut w: Window<u32> = Window::new(Duration::ZERO, 3);
        w.add(t, 1);
        assert_eq!(w.total(t), 1);
        assert_eq!(w.total(t + ms(3)), 0);
    }
}
