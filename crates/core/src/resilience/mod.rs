//! Resilience (draft).

pub mod aimd;
pub mod breaker;
pub mod budget;
pub mod queue;
pub mod quota;
mod window;

#[cfg(test)]
mod test_clock {
    use std::time::Instant;

    /// The origin of every test timeline; tests add offsets to it and never read the clock again.
    #[allow(clippy::disallowed_methods)] // reason: tests need one real instant to anchor their fake timeline
    pub(crate) fn t0() -> Instant {
        Instant::now()
    }
}
