//! One member's resilience state, held by the pool beside its health: the breaker that ejects
//! it when its upstream keeps failing, the AIMD limit on its requests in flight, and the latest
//! quota reading per upstream model. The decisions are the resilience module's; this file only
//! keeps them together under the member's lock and answers the pool's questions about them.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::resilience::{Aimd, Breaker, QuotaReading, ResilienceConfig};

/// Most models a member keeps quota readings for. A credential serves a handful of models in
/// practice; the bound keeps a client cycling through model names from growing memory.
const MAX_MODELS: usize = 32;

#[derive(Debug, Clone)]
pub(super) struct Guards {
    pub(super) breaker: Breaker,
    pub(super) aimd: Aimd,
    /// The latest reading that announced a fraction, per upstream model.
    pub(super) quota: BTreeMap<String, QuotaReading>,
    /// The latest `retry-after` any answer carried, for status.
    pub(super) last_retry_after: Option<(std::time::Duration, Instant)>,
}

impl Guards {
    pub(super) fn new(config: &ResilienceConfig) -> Self {
        Self {
            breaker: Breaker::new(config.breaker.clone()),
            aimd: Aimd::new(config.aimd.clone()),
            quota: BTreeMap::new(),
            last_retry_after: None,
        }
    }

    /// Keeps `reading` as the member's quota for `model` when it says anything.
    pub(super) fn note_quota(&mut self, model: &str, reading: QuotaReading, now: Instant) {
        if let Some(wait) = reading.retry_after {
            self.last_retry_after = Some((wait, now));
        }
        if reading.remaining_fraction.is_none() {
            return;
        }
        if self.quota.len() >= MAX_MODELS && !self.quota.contains_key(model) {
            self.quota.retain(|_, r| r.fraction_at(now).is_some());
            if self.quota.len() >= MAX_MODELS {
                // Still full of live readings: the one that resets first is the least useful.
                let soonest = self
                    .quota
                    .iter()
                    .min_by_key(|(_, r)| r.reset_at)
                    .map(|(m, _)| m.clone());
                if let Some(m) = soonest {
                    self.quota.remove(&m);
                }
            }
        }
        self.quota.insert(model.to_string(), reading);
    }

    /// The remaining fraction for `model` at `now`; with no model, the scarcest over all.
    pub(super) fn fraction(&self, model: Option<&str>, now: Instant) -> Option<f64> {
        match model {
            Some(m) => self.quota.get(m).and_then(|r| r.fraction_at(now)),
            None => self
                .quota
                .values()
                .filter_map(|r| r.fraction_at(now))
                .min_by(f64::total_cmp),
        }
    }
}
