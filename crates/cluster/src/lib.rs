//! Shared live state: a `SharedState` trait for what instances must agree on (cooldowns,
//! breaker state, sticky sessions, rate-limit counters, budgets, change notifications, live
//! events), with `local` and `redis` engines.
//!
//! It must not speak HTTP or SQL; it is the only crate that names Redis. (Filled by the
//! scale-out work; empty for now.)
