//! A bounded-memory histogram of non-negative integers (milliseconds, microseconds) that
//! answers nearest-rank percentiles. It owns the bucketing scheme and its error bound; it
//! must not know what the numbers measure.
//!
//! Scheme: the first [`EXACT_SAMPLES`] values are kept as they are, so small groups get exact
//! percentiles. Beyond that, values go to log-linear buckets: every value below 128 has a
//! bucket of its own, and each power of two above is cut into 64 equal buckets. A bucket
//! `[low, high]` with `high - low + 1 = 2^s` has `low >= 64 * 2^s`, so answering its midpoint
//! is off by at most `2^(s-1) / (64 * 2^s) = 1/128`: **within 0.8% of the true value** of the
//! requested rank, and answers are clamped to the observed minimum and maximum. There are at
//! most 3,776 buckets for the whole `u64` range, stored sparsely, so one histogram stays
//! under a few tens of kilobytes however many millions of values it has seen (in practice a
//! few hundred buckets: latencies span a few powers of two).

use std::collections::BTreeMap;

/// Values kept exactly before switching to buckets: small groups (a rarely used key, one
/// hour of a quiet model) report exact percentiles at 512 bytes each.
pub const EXACT_SAMPLES: usize = 64;

/// log2 of the buckets per power of two: 64 buckets bound the error at 1/128.
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

/// Nearest-rank percentiles and the maximum of a set of values, in the values' unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    /// Exact, never estimated.
    pub max: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Histogram {
    count: u64,
    min: u64,
    max: u64,
    /// The values themselves while `count <= EXACT_SAMPLES`; emptied into `buckets` after.
    samples: Vec<u64>,
    /// Bucket index → how many values fell in it.
    buckets: BTreeMap<u16, u64>,
}

impl Histogram {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, value: u64) {
        if self.count == 0 {
            self.min = value;
            self.max = value;
        } else {
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        self.count += 1;
        if self.buckets.is_empty() && self.samples.len() < EXACT_SAMPLES {
            self.samples.push(value);
            return;
        }
        for v in std::mem::take(&mut self.samples) {
            *self.buckets.entry(bucket_of(v)).or_default() += 1;
        }
        *self.buckets.entry(bucket_of(value)).or_default() += 1;
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// p50, p90, p99 and max; `None` when nothing was recorded.
    pub fn percentiles(&self) -> Option<Percentiles> {
        if self.count == 0 {
            return None;
        }
        if self.buckets.is_empty() {
            let mut sorted = self.samples.clone();
            sorted.sort_unstable();
            let at = |p: u64| sorted[rank(p, self.count) as usize - 1];
            return Some(Percentiles {
                p50: at(50),
                p90: at(90),
                p99: at(99),
                max: self.max,
            });
        }
        Some(Percentiles {
            p50: self.at_rank(rank(50, self.count)),
            p90: self.at_rank(rank(90, self.count)),
            p99: self.at_rank(rank(99, self.count)),
            max: self.max,
        })
    }

    /// The midpoint of the bucket holding the `rank`-th smallest value (1-based), clamped to
    /// what was observed.
    fn at_rank(&self, rank: u64) -> u64 {
        let mut seen = 0;
        for (&index, &n) in &self.buckets {
            seen += n;
            if seen >= rank {
                let (low, high) = bucket_range(index);
                return (low + (high - low) / 2).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

/// The 1-based nearest rank of percentile `p` among `count` values: `ceil(p/100 * count)`,
/// at least 1.
fn rank(p: u64, count: u64) -> u64 {
    (p * count).div_ceil(100).clamp(1, count)
}

/// Values below `2 * SUB` index themselves; above, the index is the power of two and the next
/// `SUB_BITS` bits below the leading one.
fn bucket_of(value: u64) -> u16 {
    if value < 2 * SUB {
        return value as u16;
    }
    let exponent = 63 - value.leading_zeros(); // >= SUB_BITS + 1
    let shift = exponent - SUB_BITS;
    let mantissa = value >> shift; // in [SUB, 2 * SUB)
    let index = 2 * SUB + u64::from(exponent - SUB_BITS - 1) * SUB + (mantissa - SUB);
    // At most 2*64 + 56*64 + 63 = 3775 for u64::MAX.
    index as u16
}

/// The inclusive range of values bucket `index` holds; the inverse of [`bucket_of`].
fn bucket_range(index: u16) -> (u64, u64) {
    let index = u64::from(index);
    if index < 2 * SUB {
        return (index, index);
    }
    let j = index - 2 * SUB;
    let shift = (j / SUB) as u32 + 1;
    let low = (j % SUB + SUB) << shift;
    (low, low + ((1u64 << shift) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence (64-bit LCG), no extra crate.
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *seed >> 33
    }

    fn exact(values: &[u64], p: u64) -> u64 {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        sorted[rank(p, sorted.len() as u64) as usize - 1]
    }

    #[test]
    fn buckets_round_trip_and_cover_every_value() {
        for v in (0..5_000).chain([u64::MAX, u64::MAX - 1, 1 << 40, (1 << 40) - 1]) {
            let (low, high) = bucket_range(bucket_of(v));
            assert!(low <= v && v <= high, "{v} not in [{low}, {high}]");
        }
        assert_eq!(bucket_of(u64::MAX), 3_775);
        // Buckets are contiguous: each starts one past the previous end.
        for i in 0..3_775u16 {
            assert_eq!(
                bucket_range(i).1 + 1,
                bucket_range(i + 1).0,
                "after bucket {i}"
            );
        }
        for v in 0..128 {
            assert_eq!(bucket_range(bucket_of(v)), (v, v), "{v} is exact");
        }
    }

    #[test]
    fn empty_has_no_percentiles() {
        assert_eq!(Histogram::new().percentiles(), None);
    }

    #[test]
    fn small_sets_are_exact() {
        let mut h = Histogram::new();
        for v in [1_000_003, 7, 250_000, 42, 9_999_999] {
            h.record(v);
        }
        assert_eq!(
            h.percentiles(),
            Some(Percentiles {
                p50: 250_000,
                p90: 9_999_999,
                p99: 9_999_999,
                max: 9_999_999
            })
        );
        let mut one = Histogram::new();
        one.record(123_456_789);
        let p = one.percentiles().expect("one value");
        assert_eq!(
            (p.p50, p.p99, p.max),
            (123_456_789, 123_456_789, 123_456_789)
        );
    }

    #[test]
    fn nearest_rank_on_one_to_hundred() {
        let mut h = Histogram::new();
        for v in (1..=100).rev() {
            h.record(v);
        }
        // Values below 128 have their own buckets: exact even past EXACT_SAMPLES.
        let p = h.percentiles().expect("values");
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50, 90, 99, 100));
        assert_eq!(h.count(), 100);
    }

    #[test]
    fn large_sets_stay_within_the_documented_error() {
        let mut seed = 7;
        for (spread, n) in [
            (1_000u64, 10_000usize),
            (60_000, 100_000),
            (1 << 40, 50_000),
        ] {
            let values: Vec<u64> = (0..n).map(|_| lcg(&mut seed) % spread).collect();
            let mut h = Histogram::new();
            values.iter().for_each(|&v| h.record(v));
            let got = h.percentiles().expect("values");
            for (p, answer) in [(50, got.p50), (90, got.p90), (99, got.p99)] {
                let truth = exact(&values, p);
                let error = answer.abs_diff(truth) as f64 / truth.max(1) as f64;
                assert!(
                    error <= 1.0 / 128.0,
                    "p{p} of {n} values below {spread}: {answer} vs {truth} ({error})"
                );
            }
            assert_eq!(got.max, *values.iter().max().expect("values"));
        }
    }

    #[test]
    fn skewed_latencies_stay_within_the_documented_error() {
        // Mostly fast, a long tail: the shape of real request latencies.
        let mut seed = 99;
        let values: Vec<u64> = (0..200_000)
            .map(|i| {
                let base = 200 + lcg(&mut seed) % 800;
                if i % 97 == 0 {
                    base * 60
                } else {
                    base
                }
            })
            .collect();
        let mut h = Histogram::new();
        values.iter().for_each(|&v| h.record(v));
        let got = h.percentiles().expect("values");
        for (p, answer) in [(50, got.p50), (90, got.p90), (99, got.p99)] {
            let truth = exact(&values, p);
            let error = answer.abs_diff(truth) as f64 / truth as f64;
            assert!(error <= 1.0 / 128.0, "p{p}: {answer} vs {truth}");
        }
        assert!(h.buckets.len() < 600, "sparse: {} buckets", h.buckets.len());
    }

    #[test]
    fn answers_are_clamped_to_what_was_seen() {
        let mut h = Histogram::new();
        for _ in 0..1_000 {
            h.record(1_000_001);
        }
        let p = h.percentiles().expect("values");
        assert_eq!((p.p50, p.p99, p.max), (1_000_001, 1_000_001, 1_000_001));
    }
}
