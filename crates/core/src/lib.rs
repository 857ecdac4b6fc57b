//! Domain logic of the gateway: validated config, routes, the credential pool and its
//! scheduling, breakers / AIMD / retry budget / wait queue, the attempt loop, usage records and
//! the batching writer, and the gateway `Error` (kind, side at fault, retryable).
//!
//! It must not name axum, SQL or Redis: HTTP lives in `server`, persistence in `store`, shared
//! live state in `cluster`. The clock, randomness and shared state are passed in so every
//! decision here is tested deterministically.
//!
//! Codemap (growing with the data plane):
//! - [`audit`]: the audit log's entries and filter, and masking secrets in their JSON.
//! - [`config`]: the config file's raw shape, secrets, and `validate` into a `Config` with
//!   every problem reported at once by path.
//! - [`credential`]: upstream credentials added at run time, as the store keeps them.
//! - [`glob`]: model-name patterns and their specificity order, which routes match with.
//! - [`mock`]: what the built-in mock provider answers, as IR stream events.
//! - [`keys`]: client API keys (`sy-<id>-<secret>`), hashed at rest.
//! - [`pool`]: one provider's credentials, their live state, and which one serves the next
//!   attempt under each strategy (cache-first, balance, round-robin, weighted, fixed).
//! - [`resilience`]: per-credential breaker and AIMD limit, per-route retry budget, quota read
//!   from rate-limit headers, the wait queue's policy (decisions only; the pool holds them).
//! - [`stats`]: usage statistics over a window (per group and hour / day bucket, with
//!   latency percentiles from bounded histograms), folded one record at a time.
//! - [`usage`]: the usage record of one request, summaries over many, the request log's
//!   filter and paging cursor.
//! - [`writer`]: the batching usage writer behind a bounded channel.

pub mod audit;
pub mod config;
pub mod credential;
pub mod glob;
pub mod keys;
pub mod mock;
pub mod pool;
pub mod resilience;
pub mod stats;
pub mod usage;
pub mod writer;
