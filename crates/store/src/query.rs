//! The filtered SELECTs both engines share: the request log (`UsageFilter`), the statistics
//! scan (`StatsQuery`) and the audit log (`AuditFilter`), built with sqlx's `QueryBuilder`,
//! which writes each engine's placeholders (`?` or `$n`), so one function serves both. Every
//! value is bound, never spliced into the SQL text; only column names chosen here are.
//!
//! It must not run queries or decode rows: the engines run them, `rows` decodes.

use sqlx::{Database, Encode, QueryBuilder, Type};
use switchyard_core::audit::AuditFilter;
use switchyard_core::stats::{StatsGroup, StatsQuery};
use switchyard_core::usage::UsageFilter;

use crate::rows::USAGE_COLUMNS;

/// Appends `WHERE` before the first condition and `AND` before the others.
struct Conditions<'q, 'a, DB: Database> {
    qb: &'q mut QueryBuilder<'a, DB>,
    any: bool,
}

impl<'q, 'a, DB: Database> Conditions<'q, 'a, DB> {
    fn new(qb: &'q mut QueryBuilder<'a, DB>) -> Self {
        Self { qb, any: false }
    }

    /// Starts the next condition; push its SQL and binds on the builder returned.
    fn and(&mut self) -> &mut QueryBuilder<'a, DB> {
        self.qb.push(if self.any { " AND " } else { " WHERE " });
        self.any = true;
        self.qb
    }
}

/// The request log: `id` plus every usage column, the rows `filter` matches, newest first
/// (start time, then insertion order), at most `limit` rows. Decoded by `rows::LoggedRow`.
pub(crate) fn usage_log<'a, DB>(filter: &'a UsageFilter, limit: i64) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(format!("SELECT id, {USAGE_COLUMNS} FROM usage"));
    let mut w = Conditions::new(&mut qb);
    if let Some(key) = &filter.key_id {
        w.and().push("key_id = ").push_bind(key.as_str());
    }
    if let Some(model) = &filter.model {
        w.and()
            .push("(requested_model = ")
            .push_bind(model.as_str())
            .push(" OR served_model = ")
            .push_bind(model.as_str())
            .push(")");
    }
    if let Some(status) = filter.status {
        w.and().push("status = ").push_bind(i64::from(status));
    }
    if let Some(credential) = &filter.credential {
        w.and().push("credential = ").push_bind(credential.as_str());
    }
    if let Some(provider) = &filter.provider {
        w.and().push("provider = ").push_bind(provider.as_str());
    }
    if let Some(since) = filter.since_ms {
        w.and().push("started_at_ms >= ").push_bind(since);
    }
    if let Some(until) = filter.until_ms {
        w.and().push("started_at_ms < ").push_bind(until);
    }
    if let Some(cursor) = filter.before {
        // Strictly after the cursor in (started_at_ms DESC, id DESC) order.
        w.and()
            .push("(started_at_ms < ")
            .push_bind(cursor.started_at_ms)
            .push(" OR (started_at_ms = ")
            .push_bind(cursor.started_at_ms)
            .push(" AND id < ")
            .push_bind(cursor.id)
            .push("))");
    }
    qb.push(" ORDER BY started_at_ms DESC, id DESC LIMIT ")
        .push_bind(limit);
    qb
}

/// The statistics scan: only the columns `StatsSample` reads, in the order
/// `rows::add_stats_row` decodes them, for records in the window. The group column comes
/// second (an empty text for `StatsGroup::None`, which needs none). Served by the
/// `usage_started_at` index.
pub(crate) fn stats_scan<'a, DB>(q: &StatsQuery) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    let group = match q.group {
        StatsGroup::None => "CAST('' AS TEXT)",
        StatsGroup::Key => "key_id",
        StatsGroup::Model => "served_model",
        StatsGroup::Credential => "credential",
        StatsGroup::Provider => "provider",
        StatsGroup::Route => "route",
        StatsGroup::Dialect => "client_dialect",
    };
    let mut qb = QueryBuilder::new(format!(
        "SELECT started_at_ms, {group}, error_class, input_tokens, output_tokens, \
         cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros, latency_ms, \
         ttfb_ms, overhead_us FROM usage WHERE started_at_ms >= "
    ));
    qb.push_bind(q.since_ms)
        .push(" AND started_at_ms < ")
        .push_bind(q.until_ms);
    qb
}

/// The audit log: the entries `filter` matches, highest id first, at most its page size.
/// Decoded by `rows::AuditRow`.
pub(crate) fn audit_log<'a, DB>(filter: &'a AuditFilter) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i32: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "SELECT id, at_ms, actor, action, target, address, before_json, after_json FROM audit",
    );
    let mut w = Conditions::new(&mut qb);
    if let Some(prefix) = &filter.action_prefix {
        // `substr` counts characters in both engines, and unlike LIKE it has no wildcards to
        // escape and is case-sensitive in SQLite too. The length is an INTEGER because
        // PostgreSQL has no `substr(text, int, bigint)`.
        let chars = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
        w.and()
            .push("substr(action, 1, ")
            .push_bind(chars)
            .push(") = ")
            .push_bind(prefix.as_str());
    }
    if let Some(target) = &filter.target {
        w.and().push("target = ").push_bind(target.as_str());
    }
    if let Some(since) = filter.since_ms {
        w.and().push("at_ms >= ").push_bind(since);
    }
    if let Some(until) = filter.until_ms {
        w.and().push("at_ms < ").push_bind(until);
    }
    if let Some(before) = filter.before_id {
        w.and().push("id < ").push_bind(before);
    }
    qb.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(filter.page_size()));
    qb
}
