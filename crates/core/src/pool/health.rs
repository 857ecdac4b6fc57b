//! One member's health as a small state machine: usable, cooling down after a 429 (until an
//! instant), or invalid after a 401/403 or a quarantine (until activated). Outcomes move it
//! between those states; it never reads a clock and never decides selection order.

use std::time::{Duration, Instant};

use super::outcome::Outcome;

/// The longest `retry-after` honoured. A day covers a daily quota running out, and bounding
/// the value keeps a garbage header from parking a credential for years (or overflowing
/// `Instant`).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The cooldown after the first 429 that named no `retry-after`; it doubles with each
/// consecutive 429 up to [`MAX_DEFAULT_COOLDOWN`].
pub const FIRST_DEFAULT_COOLDOWN: Duration = Duration::from_secs(1);

/// Cap of the exponential default: a minute is longer than the per-minute windows most
/// providers count in, so a member that keeps answering 429 is retried at most once a minute.
pub const MAX_DEFAULT_COOLDOWN: Duration = Duration::from_secs(60);

/// The last failure a member saw, for status displays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    /// [`Outcome::class`]: `rate_limited`, `unauthorized`, `upstream_5xx`, ...
    pub class: &'static str,
    pub message: String,
    pub at: Instant,
}

/// What the latest health check of a member found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheck {
    /// `ok`, or why the check failed (`refused with 401`, `upstream answered 503`, ...).
    pub result: String,
    pub at: Instant,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Health {
    pub(super) cooldown_until: Option<Instant>,
    /// Consecutive 429s since the last success; sets the default cooldown's length.
    pub(super) rate_limit_streak: u32,
    /// Why the member is invalid; it is skipped until activated.
    pub(super) invalid: Option<String>,
    /// Quarantined by an operator: only an operator brings it back, never a health check.
    pub(super) held: bool,
    /// The latest health check's verdict, for status.
    pub(super) last_check: Option<LastCheck>,
    /// Remaining quota as a fraction of the limit, set from rate-limit headers elsewhere.
    pub(super) quota: Option<f64>,
    pub(super) last_error: Option<LastError>,
}

impl Health {
    /// The end of the cooldown if it is still running at `now`.
    pub(super) fn cooling_until(&self, now: Instant) -> Option<Instant> {
        self.cooldown_until.filter(|&until| until > now)
    }

    pub(super) fn record(&mut self, outcome: &Outcome, now: Instant) {
        match outcome {
            Outcome::Success => {
                // The last error stays for display; its `at` tells how old it is.
                self.rate_limit_streak = 0;
                return;
            }
            Outcome::RateLimited { retry_after } => {
                self.rate_limit_streak = self.rate_limit_streak.saturating_add(1);
                let wait = match retry_after {
                    Some(given) => (*given).min(MAX_RETRY_AFTER),
                    None => default_cooldown(self.rate_limit_streak),
                };
                // Waits are bounded, so the fallback is unreachable; it avoids a panic path.
                let until = now.checked_add(wait).unwrap_or(now);
                // Requests in flight report their 429s out of order; the longer wait wins so
                // a late, short answer cannot cut a cooldown the upstream asked for.
                self.cooldown_until = Some(match self.cooldown_until {
                    Some(current) if current > until => current,
                    _ => until,
                });
            }
            Outcome::Unauthorized { .. } => self.invalid = Some(outcome.describe()),
            Outcome::ServerError { .. }
            | Outcome::Timeout
            | Outcome::ConnectFailed
            | Outcome::ClientError { .. } => {}
        }
        self.last_error = Some(LastError {
            class: outcome.class(),
            message: outcome.describe(),
            at: now,
        });
    }

    /// Back in rotation with a clean slate; the quota and the last error stay (the first is
    /// still true, the second is history for the operator).
    pub(super) fn activate(&mut self) {
        self.invalid = None;
        self.held = false;
        self.cooldown_until = None;
        self.rate_limit_streak = 0;
    }
}

/// 1 s, 2 s, 4 s, ... by position in the streak of 429s, capped at a minute.
pub(super) fn default_cooldown(streak: u32) -> Duration {
    let doublings = streak.saturating_sub(1).min(16);
    FIRST_DEFAULT_COOLDOWN
        .saturating_mul(1 << doublings)
        .min(MAX_DEFAULT_COOLDOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cooldown_doubles_and_caps() {
        let secs: Vec<u64> = (1..=9).map(|n| default_cooldown(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(default_cooldown(u32::MAX), MAX_DEFAULT_COOLDOWN);
        // A streak of 0 cannot happen (record increments first) but must not underflow.
        assert_eq!(default_cooldown(0), FIRST_DEFAULT_COOLDOWN);
    }
}
