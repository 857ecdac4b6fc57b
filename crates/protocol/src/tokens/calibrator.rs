//! Learning how far off the estimates are for one model, from the usage upstreams report.
//!
//! The factor is a running average of `ln(actual / estimate)`, so over- and under-estimates
//! weigh the same and the factor is a geometric mean of the observed ratios. Each observation
//! moves it with weight [`ALPHA`] (exponential forgetting, so a model's tokenizer change is
//! learned within a few dozen requests); the first observations are averaged plainly instead,
//! so a fresh calibrator does not need dozens of requests to leave 1.0. Robustness: pairs
//! with tiny estimates (where framing constants dominate) or absurd ratios (a failed request,
//! a usage report for a different body) are ignored, a single ratio can pull the factor at
//! most by a factor of two, and the factor stays within [`MIN_FACTOR`, `MAX_FACTOR`]. Everything
//! is deterministic arithmetic: no clocks, no randomness. Which model a calibrator belongs to
//! is the caller's business; [`CalibratorSet`] is a bounded map for that.

use std::collections::HashMap;

/// Weight of each new observation once warmed up: about the last 20 observations matter.
pub const ALPHA: f64 = 0.1;
pub const MIN_FACTOR: f64 = 0.25;
pub const MAX_FACTOR: f64 = 4.0;
/// Estimates below this many tokens teach nothing: fixed overheads dominate them.
pub const MIN_ESTIMATE: u64 = 16;
/// Ratios beyond this (either way) are not estimation error but a mismatched pair.
pub const MAX_RATIO: f64 = 10.0;
/// One observation moves the factor at most this far (as a ratio), so a lone outlier within
/// [`MAX_RATIO`] cannot swing it.
const MAX_STEP_RATIO: f64 = 2.0;

/// A correction factor for one model's estimates. `Default` is the identity (factor 1.0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calibrator {
    /// The running mean of `ln(actual / estimate)`.
    log_factor: f64,
    /// Observations accepted so far.
    observations: u64,
}

impl Calibrator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Learns from one request: `estimate` is what we predicted, `actual` what the upstream
    /// reported (total input, cached tokens included).
    pub fn observe(&mut self, estimate: u64, actual: u64) {
        if estimate < MIN_ESTIMATE || actual == 0 {
            return;
        }
        let ratio = actual as f64 / estimate as f64;
        if !(1.0 / MAX_RATIO..=MAX_RATIO).contains(&ratio) {
            return;
        }
        let max_step = MAX_STEP_RATIO.ln();
        let delta = (ratio.ln() - self.log_factor).clamp(-max_step, max_step);
        self.observations += 1;
        // A plain mean while there are fewer than 1 / ALPHA observations, then the EWMA.
        let weight = (1.0 / self.observations as f64).max(ALPHA);
        self.log_factor =
            (self.log_factor + weight * delta).clamp(MIN_FACTOR.ln(), MAX_FACTOR.ln());
    }

    /// The estimate corrected by the learnt factor, rounded to the nearest token.
    pub fn correct(&self, estimate: u64) -> u64 {
        (estimate as f64 * self.factor()).round() as u64
    }

    /// The learnt ratio of actual to estimated tokens.
    pub fn factor(&self) -> f64 {
        self.log_factor.exp().clamp(MIN_FACTOR, MAX_FACTOR)
    }

    /// How many observations were accepted (ignored pairs do not count).
    pub fn observations(&self) -> u64 {
        self.observations
    }
}

/// Calibrators keyed by a caller-chosen string (usually the model name), at most `capacity`
/// of them. When full, a new key evicts the key observed least recently, counted in
/// observations rather than time, so the set stays deterministic.
#[derive(Debug, Clone)]
pub struct CalibratorSet {
    capacity: usize,
    /// Bumped on every `observe`; each entry remembers the tick of its last observation.
    tick: u64,
    entries: HashMap<String, (Calibrator, u64)>,
}

impl CalibratorSet {
    /// A set holding at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
        }
    }

    pub fn observe(&mut self, key: &str, estimate: u64, actual: u64) {
        self.tick += 1;
        if let Some((calibrator, last)) = self.entries.get_mut(key) {
            calibrator.observe(estimate, actual);
            *last = self.tick;
            return;
        }
        let mut calibrator = Calibrator::new();
        calibrator.observe(estimate, actual);
        if calibrator.observations() == 0 {
            // An ignored pair must not evict a calibrator that has learnt something.
            return;
        }
        if self.entries.len() >= self.capacity {
            self.evict_oldest();
        }
        self.entries
            .insert(key.to_string(), (calibrator, self.tick));
    }

    /// `estimate` corrected for `key`; unchanged for a key never observed.
    pub fn correct(&self, key: &str, estimate: u64) -> u64 {
        self.get(key).map_or(estimate, |c| c.correct(estimate))
    }

    /// The factor for `key`; 1.0 for a key never observed.
    pub fn factor(&self, key: &str) -> f64 {
        self.get(key).map_or(1.0, Calibrator::factor)
    }

    pub fn get(&self, key: &str) -> Option<&Calibrator> {
        self.entries.get(key).map(|(c, _)| c)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn evict_oldest(&mut self) {
        // Ticks are unique, so the minimum is one key whatever the map's iteration order.
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, (_, last))| *last)
            .map(|(key, _)| key.clone());
        if let Some(key) = oldest {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn starts_at_identity() {
        let c = Calibrator::default();
        assert_eq!(c.factor(), 1.0);
        assert_eq!(c.correct(1234), 1234);
    }

    #[test]
    fn converges_to_a_constant_ratio() {
        let mut c = Calibrator::new();
        for i in 0..200u64 {
            // Multiples of ten, so every actual is exactly 1.3 times its estimate.
            let estimate = 1000 + i * 370 % 50_000;
            c.observe(estimate, (estimate as f64 * 1.3).round() as u64);
        }
        assert!(close(c.factor(), 1.3, 0.01), "{}", c.factor());
        assert_eq!(c.correct(1000), 1300);
    }

    #[test]
    fn first_observations_are_learnt_quickly() {
        let mut c = Calibrator::new();
        c.observe(1000, 800);
        assert!(close(c.factor(), 0.8, 1e-9), "{}", c.factor());
        c.observe(1000, 800);
        c.observe(1000, 800);
        assert!(close(c.factor(), 0.8, 1e-9));
    }

    #[test]
    fn ignores_tiny_estimates_zero_actuals_and_absurd_ratios() {
        let mut c = Calibrator::new();
        c.observe(10, 100);
        c.observe(1000, 0);
        c.observe(1000, 50_000);
        c.observe(1000, 20);
        assert_eq!(c.observations(), 0);
        assert_eq!(c.factor(), 1.0);
    }

    #[test]
    fn outliers_do_not_swing_the_factor() {
        let mut c = Calibrator::new();
        for i in 0..300u64 {
            // Every tenth pair is a 6x outlier (within MAX_RATIO, so not ignored). An
            // unclamped mean of ratios would sit near 1.77.
            let ratio = if i % 10 == 9 { 6.0 } else { 1.3 };
            c.observe(2000, (2000.0 * ratio) as u64);
            assert!(c.factor() < 1.3 * 1.15, "at {i}: {}", c.factor());
        }
        // Once the outliers stop, their trace fades.
        for _ in 0..50 {
            c.observe(2000, 2600);
        }
        assert!(close(c.factor(), 1.3, 0.01), "{}", c.factor());
    }

    #[test]
    fn factor_is_clamped() {
        let mut c = Calibrator::new();
        for _ in 0..100 {
            c.observe(1000, 9000);
        }
        assert!(c.factor() <= MAX_FACTOR);
        assert!(close(c.factor(), MAX_FACTOR, 1e-9));
        let mut c = Calibrator::new();
        for _ in 0..100 {
            c.observe(9000, 1000);
        }
        assert!(close(c.factor(), MIN_FACTOR, 1e-9));
    }

    #[test]
    fn is_deterministic() {
        let feed = |c: &mut Calibrator| {
            for i in 1..500u64 {
                c.observe(i * 13 % 4000 + 16, i * 17 % 5000 + 20);
            }
        };
        let (mut a, mut b) = (Calibrator::new(), Calibrator::new());
        feed(&mut a);
        feed(&mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn set_is_keyed_and_bounded() {
        let mut set = CalibratorSet::new(2);
        set.observe("claude", 1000, 1200);
        set.observe("gemini", 1000, 900);
        assert!(close(set.factor("claude"), 1.2, 1e-9));
        assert!(close(set.factor("gemini"), 0.9, 1e-9));
        assert_eq!(set.correct("unknown", 500), 500);
        // `claude` is observed again, so `gemini` is the least recent and goes.
        set.observe("claude", 1000, 1200);
        set.observe("llama", 1000, 1100);
        assert_eq!(set.len(), 2);
        assert!(set.get("gemini").is_none());
        assert!(set.get("claude").is_some());
        // An ignored pair for a new key evicts nothing.
        set.observe("qwen", 1, 1);
        assert_eq!(set.len(), 2);
        assert!(set.get("qwen").is_none());
    }
}
