//! Usage statistics over a time window: what a [`StatsQuery`] asks for, and the
//! [`StatsAccumulator`] that folds usage records one at a time into [`StatsRow`]s (per group
//! value and, optionally, per hour or day bucket): request and error counts, errors by class,
//! tokens by type, cost, and latency / TTFB / overhead percentiles from bounded-memory
//! [`histogram`]s. Folding one record at a time lets the store stream millions of rows
//! through it without holding them; memory grows with the number of (group, bucket) pairs,
//! never with the number of records.
//!
//! It is pure: no I/O, no clock. The store decides which rows to scan; windows such as "the
//! last 5 hours" are the caller's `since_ms = now - 5h`.

pub mod histogram;

use std::collections::{BTreeMap, HashMap};

pub use histogram::{Histogram, Percentiles};

use crate::usage::UsageRecord;

/// What to aggregate: records with `since_ms <= started_at_ms < until_ms`, grouped by
/// `group`, and split into UTC hour or day buckets when `bucket` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatsQuery {
    /// Unix milliseconds, inclusive.
    pub since_ms: i64,
    /// Unix milliseconds, exclusive.
    pub until_ms: i64,
    pub group: StatsGroup,
    pub bucket: Option<Bucket>,
}

/// Which record field names a row's group. Serialised in snake case (`"credential"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatsGroup {
    /// One group, named `all`.
    None,
    /// The client key id (empty when the gateway runs without keys).
    Key,
    /// The served model (what the upstream answered with), not the requested one.
    Model,
    /// The credential name.
    Credential,
    Provider,
    /// The route pattern that matched (`claude-*`).
    Route,
    /// The client's dialect (`anthropic`, `openai`, `responses`, `gemini`).
    Dialect,
}

impl StatsGroup {
    pub const ALL: [StatsGroup; 7] = [
        StatsGroup::None,
        StatsGroup::Key,
        StatsGroup::Model,
        StatsGroup::Credential,
        StatsGroup::Provider,
        StatsGroup::Route,
        StatsGroup::Dialect,
    ];

    /// The name used in URLs and JSON: `none`, `key`, `model`, `credential`, `provider`,
    /// `route`, `dialect`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatsGroup::None => "none",
            StatsGroup::Key => "key",
            StatsGroup::Model => "model",
            StatsGroup::Credential => "credential",
            StatsGroup::Provider => "provider",
            StatsGroup::Route => "route",
            StatsGroup::Dialect => "dialect",
        }
    }

    /// The inverse of [`StatsGroup::as_str`]; `None` for an unknown name.
    pub fn parse(name: &str) -> Option<StatsGroup> {
        StatsGroup::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// The group value of `record`: `all` for [`StatsGroup::None`].
    pub fn value_of(self, record: &UsageRecord) -> &str {
        match self {
            StatsGroup::None => ALL_GROUP,
            StatsGroup::Key => &record.key_id,
            StatsGroup::Model => &record.served_model,
            StatsGroup::Credential => &record.credential,
            StatsGroup::Provider => &record.provider,
            StatsGroup::Route => &record.route,
            StatsGroup::Dialect => &record.client_dialect,
        }
    }
}

/// The group value of every row when grouping by [`StatsGroup::None`].
pub const ALL_GROUP: &str = "all";

/// A time bucket, aligned to UTC (unix time has no leap seconds, so every hour and day is a
/// fixed number of milliseconds from the epoch, which began at a UTC midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    pub fn width_ms(self) -> i64 {
        match self {
            Bucket::Hour => 3_600_000,
            Bucket::Day => 86_400_000,
        }
    }

    /// The start of the bucket holding `at_ms` (also before 1970: rounds toward the past).
    pub fn start_of(self, at_ms: i64) -> i64 {
        at_ms - at_ms.rem_euclid(self.width_ms())
    }

    /// `hour` or `day`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        }
    }

    pub fn parse(name: &str) -> Option<Bucket> {
        [Bucket::Hour, Bucket::Day]
            .into_iter()
            .find(|b| b.as_str() == name)
    }
}

impl StatsQuery {
    /// Whether a record started at `at_ms` falls in the window.
    pub fn contains(&self, at_ms: i64) -> bool {
        self.since_ms <= at_ms && at_ms < self.until_ms
    }

    /// Every bucket start that overlaps the window, oldest first (empty when not bucketed or
    /// the window is empty), for charts that must show empty buckets as zeros: the
    /// accumulator only emits rows for buckets that saw a record.
    pub fn bucket_starts(&self) -> Vec<i64> {
        let Some(bucket) = self.bucket else {
            return Vec::new();
        };
        if self.until_ms <= self.since_ms {
            return Vec::new();
        }
        let mut starts = Vec::new();
        let mut at = bucket.start_of(self.since_ms);
        while at < self.until_ms {
            starts.push(at);
            at += bucket.width_ms();
        }
        starts
    }
}

/// Token totals by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TokenTotals {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

/// The aggregate of one (group value, bucket) pair.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatsRow {
    /// The group's value (a key id, a served model, ...), or `all` for [`StatsGroup::None`].
    pub group: String,
    /// Unix milliseconds at the bucket's start (UTC-aligned); `None` when not bucketed.
    pub bucket_start_ms: Option<i64>,
    pub requests: u64,
    /// Records with an error class (a stream that failed after a 200 counts).
    pub errors: u64,
    /// Error class (`rate_limited`, `timeout`, ...) → records; sums to `errors`.
    pub errors_by_class: BTreeMap<String, u64>,
    pub tokens: TokenTotals,
    /// Micro-dollars; negative when refunds outweigh charges.
    pub cost_micros: i64,
    /// Accept to last byte, milliseconds.
    pub latency_ms: Percentiles,
    /// Accept to first byte, milliseconds, over the records that have one; `None` when none
    /// has (every request failed before a byte was sent).
    pub ttfb_ms: Option<Percentiles>,
    /// The gateway's own time, microseconds.
    pub overhead_us: Percentiles,
}

/// The fields of one record that statistics read, borrowed, so the store can decode only
/// these columns and never build a whole [`UsageRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSample<'a> {
    pub started_at_ms: i64,
    /// The record's value for the query's group (ignored for [`StatsGroup::None`]).
    pub group: &'a str,
    pub error_class: Option<&'a str>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_micros: i64,
    pub latency_ms: u64,
    pub ttfb_ms: Option<u64>,
    pub overhead_us: u64,
}

impl<'a> StatsSample<'a> {
    /// The sample of `record` for grouping by `group`.
    pub fn of(record: &'a UsageRecord, group: StatsGroup) -> Self {
        StatsSample {
            started_at_ms: record.started_at_ms,
            group: group.value_of(record),
            error_class: record.error_class.as_deref(),
            input_tokens: record.input_tokens,
            output_tokens: record.output_tokens,
            cache_read_tokens: record.cache_read_tokens,
            cache_write_tokens: record.cache_write_tokens,
            reasoning_tokens: record.reasoning_tokens,
            cost_micros: record.cost_micros,
            latency_ms: record.latency_ms,
            ttfb_ms: record.ttfb_ms,
            overhead_us: record.overhead_us,
        }
    }
}

/// Folds records into rows for one query. Records outside the window are skipped, so a
/// caller may feed it a superset.
#[derive(Debug)]
pub struct StatsAccumulator {
    query: StatsQuery,
    /// Bucket start → group value → running totals. Two levels so a lookup borrows the
    /// sample's `&str` and allocates only for a new group.
    groups: BTreeMap<Option<i64>, HashMap<String, Running>>,
}

/// A row being built.
#[derive(Debug, Default)]
struct Running {
    requests: u64,
    errors: u64,
    errors_by_class: BTreeMap<String, u64>,
    tokens: TokenTotals,
    cost_micros: i64,
    latency_ms: Histogram,
    ttfb_ms: Histogram,
    overhead_us: Histogram,
}

impl StatsAccumulator {
    pub fn new(query: StatsQuery) -> Self {
        Self {
            query,
            groups: BTreeMap::new(),
        }
    }

    pub fn query(&self) -> &StatsQuery {
        &self.query
    }

    /// Folds in one record.
    pub fn add(&mut self, record: &UsageRecord) {
        self.add_sample(&StatsSample::of(record, self.query.group));
    }

    /// Folds in one record's statistics fields; skipped when outside the window.
    pub fn add_sample(&mut self, s: &StatsSample<'_>) {
        if !self.query.contains(s.started_at_ms) {
            return;
        }
        let bucket = self.query.bucket.map(|b| b.start_of(s.started_at_ms));
        let group = match self.query.group {
            StatsGroup::None => ALL_GROUP,
            _ => s.group,
        };
        let by_group = self.groups.entry(bucket).or_default();
        let running = match by_group.get_mut(group) {
            Some(running) => running,
            None => by_group.entry(group.to_string()).or_default(),
        };
        running.add(s);
    }

    /// The rows, sorted by bucket (oldest first), then cost and requests (both descending),
    /// then group value in byte order. Only (group, bucket) pairs that saw a record appear:
    /// an empty window gives no rows.
    pub fn finish(self) -> Vec<StatsRow> {
        let mut rows: Vec<StatsRow> = self
            .groups
            .into_iter()
            .flat_map(|(bucket, by_group)| {
                by_group
                    .into_iter()
                    .map(move |(group, running)| running.into_row(group, bucket))
            })
            .collect();
        rows.sort_by(|a, b| {
            a.bucket_start_ms
                .cmp(&b.bucket_start_ms)
                .then(b.cost_micros.cmp(&a.cost_micros))
                .then(b.requests.cmp(&a.requests))
                .then_with(|| a.group.as_bytes().cmp(b.group.as_bytes()))
        });
        rows
    }
}

impl Running {
    fn add(&mut self, s: &StatsSample<'_>) {
        self.requests += 1;
        if let Some(class) = s.error_class {
            self.errors += 1;
            match self.errors_by_class.get_mut(class) {
                Some(n) => *n += 1,
                None => {
                    self.errors_by_class.insert(class.to_string(), 1);
                }
            }
        }
        // Saturating: a sum that large is already meaningless, and must not panic a server.
        let t = &mut self.tokens;
        t.input = t.input.saturating_add(s.input_tokens);
        t.output = t.output.saturating_add(s.output_tokens);
        t.cache_read = t.cache_read.saturating_add(s.cache_read_tokens);
        t.cache_write = t.cache_write.saturating_add(s.cache_write_tokens);
        t.reasoning = t.reasoning.saturating_add(s.reasoning_tokens);
        self.cost_micros = self.cost_micros.saturating_add(s.cost_micros);
        self.latency_ms.record(s.latency_ms);
        if let Some(ttfb) = s.ttfb_ms {
            self.ttfb_ms.record(ttfb);
        }
        self.overhead_us.record(s.overhead_us);
    }

    fn into_row(self, group: String, bucket_start_ms: Option<i64>) -> StatsRow {
        StatsRow {
            group,
            bucket_start_ms,
            requests: self.requests,
            errors: self.errors,
            errors_by_class: self.errors_by_class,
            tokens: self.tokens,
            cost_micros: self.cost_micros,
            // A running row has seen at least one record, so these have values.
            latency_ms: self.latency_ms.percentiles().unwrap_or_default(),
            ttfb_ms: self.ttfb_ms.percentiles(),
            overhead_us: self.overhead_us.percentiles().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests;
