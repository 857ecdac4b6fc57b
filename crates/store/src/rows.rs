//! How domain types become rows and back, shared by both engines: the row structs (decoded by
//! column name), the conversions at the edge (unsigned counts to BIGINT, arrays to JSON text),
//! the usage `VALUES` list and the summary query, whose SQL differs between engines only in
//! [`Flavor`].
//!
//! It must not open connections or run queries; the engines do, each in its own file.

use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Row, Type};
use switchyard_core::audit::AuditEntry;
use switchyard_core::config::Secret;
use switchyard_core::credential::StoredCredential;
use switchyard_core::keys::ApiKey;
use switchyard_core::stats::{StatsAccumulator, StatsSample};
use switchyard_core::usage::{UsageCursor, UsageGroup, UsagePage, UsageRecord, UsageSummary};

use crate::error::{Result, StoreError};

/// Most rows per multi-row `INSERT`. 25 binds a row keeps a chunk at 12,800 parameters, under
/// both SQLite's (32,766) and PostgreSQL's (65,535) limits. Measured with the suite's ignored
/// throughput test: 500 and 1,000 rows insert alike (~300k records/s on SQLite), 100 rows at
/// about half that.
pub(crate) const USAGE_CHUNK_ROWS: usize = 512;

/// A batch cut into chunks whose sizes are powers of two (512, 256, ... 1): a statement's text
/// depends on its row count, so this keeps the distinct statements to ten, all of which stay
/// in the connection's prepared-statement cache, instead of one per batch size (the usage
/// writer's batches are of every size, and re-preparing cost more than inserting).
pub(crate) fn usage_chunks(batch: &[UsageRecord]) -> impl Iterator<Item = &[UsageRecord]> {
    let mut rest = batch;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = rest.len().min(USAGE_CHUNK_ROWS);
        let size = 1 << (usize::BITS - 1 - size.leading_zeros());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// The usage columns in insert order; `bind_usage` binds them in the same order.
pub(crate) const USAGE_COLUMNS: &str = "request_id, started_at_ms, key_id, route, \
    requested_model, served_model, provider, credential, client_dialect, upstream_dialect, \
    stream, status, latency_ms, ttfb_ms, overhead_us, input_tokens, output_tokens, \
    cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros, retries, \
    error_class, session_id, run_id";

/// Values per usage row: one per column.
const USAGE_BINDS: usize = 25;

/// `INSERT INTO usage (...) VALUES (...), (...)` for `rows` rows, with the engine's
/// placeholders. Written out here rather than with `QueryBuilder`, which formats every
/// placeholder through `fmt`: that was half of building a batch's insert, work done on the
/// runtime that serves requests, where a 64-row chunk held a request back ~0.25 ms.
pub(crate) fn insert_usage_sql(rows: usize, flavor: Flavor) -> String {
    let mut sql = String::with_capacity(USAGE_COLUMNS.len() + 32 + rows * USAGE_BINDS * 6);
    sql.push_str("INSERT INTO usage (");
    sql.push_str(USAGE_COLUMNS);
    sql.push_str(") VALUES ");
    let mut param = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..USAGE_BINDS {
            if column > 0 {
                sql.push_str(", ");
            }
            param += 1;
            match flavor {
                Flavor::Sqlite => sql.push('?'),
                Flavor::Postgres => {
                    sql.push('$');
                    push_decimal(&mut sql, param);
                }
            }
        }
        sql.push(')');
    }
    sql
}

fn push_decimal(out: &mut String, n: usize) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Binds `chunk`'s values to an insert from [`insert_usage_sql`], row by row, in column order.
pub(crate) fn bind_usage<'a, DB>(
    mut query: Query<'a, DB, <DB as Database>::Arguments<'a>>,
    chunk: &'a [UsageRecord],
) -> Query<'a, DB, <DB as Database>::Arguments<'a>>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    bool: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<i64>: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
{
    for r in chunk {
        query = query
            .bind(r.request_id.as_str())
            .bind(r.started_at_ms)
            .bind(r.key_id.as_str())
            .bind(r.route.as_str())
            .bind(r.requested_model.as_str())
            .bind(r.served_model.as_str())
            .bind(r.provider.as_str())
            .bind(r.credential.as_str())
            .bind(r.client_dialect.as_str())
            .bind(r.upstream_dialect.as_str())
            .bind(r.stream)
            .bind(i64::from(r.status))
            .bind(to_i64(r.latency_ms))
            .bind(r.ttfb_ms.map(to_i64))
            .bind(to_i64(r.overhead_us))
            .bind(to_i64(r.input_tokens))
            .bind(to_i64(r.output_tokens))
            .bind(to_i64(r.cache_read_tokens))
            .bind(to_i64(r.cache_write_tokens))
            .bind(to_i64(r.reasoning_tokens))
            .bind(r.cost_micros)
            .bind(i64::from(r.retries))
            .bind(r.error_class.as_deref())
            .bind(r.session_id.as_deref())
            .bind(r.run_id.as_deref());
    }
    query
}

/// Where the two engines' SQL differs in the queries shared here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Sqlite,
    Postgres,
}

impl Flavor {
    /// The first bind parameter.
    fn first_param(self) -> &'static str {
        match self {
            Flavor::Sqlite => "?",
            Flavor::Postgres => "$1",
        }
    }

    /// Byte-order collation, so both engines sort text alike (PostgreSQL's default follows the
    /// locale; SQLite's default is already bytewise).
    pub(crate) fn bytewise(self) -> &'static str {
        match self {
            Flavor::Sqlite => "",
            Flavor::Postgres => " COLLATE \"C\"",
        }
    }
}

/// Totals per group since the first parameter, biggest spender first, ties by group name.
/// Sums are cast to BIGINT because PostgreSQL widens `SUM(bigint)` to NUMERIC; `All` has no
/// `GROUP BY`, so it yields its one row even when no record matches.
pub(crate) fn summary_sql(group: UsageGroup, flavor: Flavor) -> String {
    let column = match group {
        UsageGroup::All => None,
        UsageGroup::Key => Some("key_id"),
        UsageGroup::Model => Some("served_model"),
        UsageGroup::Credential => Some("credential"),
        UsageGroup::Provider => Some("provider"),
    };
    let sum = |c: &str| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}");
    let (grp, group_by, tie_break) = match column {
        None => ("'all'".to_string(), String::new(), String::new()),
        Some(c) => (
            c.to_string(),
            format!("GROUP BY {c}"),
            format!(", {c}{}", flavor.bytewise()),
        ),
    };
    format!(
        "SELECT {grp} AS grp, COUNT(*) AS requests, \
         CAST(COALESCE(SUM(CASE WHEN error_class IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) \
         AS errors, {}, {}, {}, {}, {} \
         FROM usage WHERE started_at_ms >= {} {group_by} \
         ORDER BY cost_micros DESC, requests DESC{tie_break}",
        sum("input_tokens"),
        sum("output_tokens"),
        sum("cache_read_tokens"),
        sum("cache_write_tokens"),
        sum("cost_micros"),
        flavor.first_param(),
    )
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UsageRow {
    request_id: String,
    started_at_ms: i64,
    key_id: String,
    route: String,
    requested_model: String,
    served_model: String,
    provider: String,
    credential: String,
    client_dialect: String,
    upstream_dialect: String,
    stream: bool,
    status: i64,
    latency_ms: i64,
    ttfb_ms: Option<i64>,
    overhead_us: i64,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    reasoning_tokens: i64,
    cost_micros: i64,
    retries: i64,
    error_class: Option<String>,
    session_id: Option<String>,
    run_id: Option<String>,
}

impl UsageRow {
    pub(crate) fn into_record(self) -> Result<UsageRecord> {
        Ok(UsageRecord {
            request_id: self.request_id,
            started_at_ms: self.started_at_ms,
            key_id: self.key_id,
            route: self.route,
            requested_model: self.requested_model,
            served_model: self.served_model,
            provider: self.provider,
            credential: self.credential,
            client_dialect: self.client_dialect,
            upstream_dialect: self.upstream_dialect,
            stream: self.stream,
            status: narrow("status", self.status)?,
            latency_ms: narrow("latency_ms", self.latency_ms)?,
            ttfb_ms: self.ttfb_ms.map(|v| narrow("ttfb_ms", v)).transpose()?,
            overhead_us: narrow("overhead_us", self.overhead_us)?,
            input_tokens: narrow("input_tokens", self.input_tokens)?,
            output_tokens: narrow("output_tokens", self.output_tokens)?,
            cache_read_tokens: narrow("cache_read_tokens", self.cache_read_tokens)?,
            cache_write_tokens: narrow("cache_write_tokens", self.cache_write_tokens)?,
            reasoning_tokens: narrow("reasoning_tokens", self.reasoning_tokens)?,
            cost_micros: self.cost_micros,
            retries: narrow("retries", self.retries)?,
            error_class: self.error_class,
            session_id: self.session_id,
            run_id: self.run_id,
        })
    }
}

/// A request-log row: the usage columns and the row id that orders and pages them.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LoggedRow {
    id: i64,
    #[sqlx(flatten)]
    usage: UsageRow,
}

/// A page from the rows of `query::usage_log` run with a limit of `page_size + 1`: the extra
/// row, when present, only says that another page follows.
pub(crate) fn into_page(mut found: Vec<LoggedRow>, page_size: usize) -> Result<UsagePage> {
    let more = found.len() > page_size;
    found.truncate(page_size);
    let next = match found.last() {
        Some(last) if more => Some(UsageCursor {
            started_at_ms: last.usage.started_at_ms,
            id: last.id,
        }),
        _ => None,
    };
    let records = found
        .into_iter()
        .map(|row| row.usage.into_record())
        .collect::<Result<_>>()?;
    Ok(UsagePage { records, next })
}

/// Folds one row of `query::stats_scan` into `acc`, borrowing its text instead of copying it
/// (a week of records is millions of rows).
pub(crate) fn add_stats_row<'r, R>(acc: &mut StatsAccumulator, row: &'r R) -> Result<()>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
    Option<&'r str>: Decode<'r, R::Database> + Type<R::Database>,
{
    let count = |index: usize, column: &'static str| -> Result<u64> {
        narrow(column, row.try_get::<i64, _>(index)?)
    };
    let ttfb: Option<i64> = row.try_get(10)?;
    acc.add_sample(&StatsSample {
        started_at_ms: row.try_get(0)?,
        group: row.try_get(1)?,
        error_class: row.try_get(2)?,
        input_tokens: count(3, "input_tokens")?,
        output_tokens: count(4, "output_tokens")?,
        cache_read_tokens: count(5, "cache_read_tokens")?,
        cache_write_tokens: count(6, "cache_write_tokens")?,
        reasoning_tokens: count(7, "reasoning_tokens")?,
        cost_micros: row.try_get(8)?,
        latency_ms: count(9, "latency_ms")?,
        ttfb_ms: ttfb.map(|v| narrow("ttfb_ms", v)).transpose()?,
        overhead_us: count(11, "overhead_us")?,
    });
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at_ms: i64,
    actor: String,
    action: String,
    target: String,
    address: String,
    before_json: Option<String>,
    after_json: Option<String>,
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> AuditEntry {
        AuditEntry {
            id: self.id,
            at_ms: self.at_ms,
            actor: self.actor,
            action: self.action,
            target: self.target,
            address: self.address,
            before: self.before_json,
            after: self.after_json,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SummaryRow {
    grp: String,
    requests: i64,
    errors: i64,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    cost_micros: i64,
}

impl SummaryRow {
    pub(crate) fn into_summary(self) -> Result<UsageSummary> {
        Ok(UsageSummary {
            group: self.grp,
            requests: narrow("requests", self.requests)?,
            errors: narrow("errors", self.errors)?,
            input_tokens: narrow("input_tokens", self.input_tokens)?,
            output_tokens: narrow("output_tokens", self.output_tokens)?,
            cache_read_tokens: narrow("cache_read_tokens", self.cache_read_tokens)?,
            cache_write_tokens: narrow("cache_write_tokens", self.cache_write_tokens)?,
            cost_micros: self.cost_micros,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct KeyRow {
    id: String,
    name: String,
    secret_hash: String,
    models: String,
    created_at_ms: i64,
    expires_at_ms: Option<i64>,
    revoked_at_ms: Option<i64>,
}

impl KeyRow {
    pub(crate) fn into_key(self) -> Result<ApiKey> {
        Ok(ApiKey {
            id: self.id,
            name: self.name,
            secret_hash: self.secret_hash,
            models: from_json("models", &self.models)?,
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
            revoked_at_ms: self.revoked_at_ms,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CredentialRow {
    provider: String,
    name: String,
    secret: String,
    weight: i64,
    labels: String,
    created_at_ms: i64,
}

impl CredentialRow {
    pub(crate) fn into_credential(self) -> Result<StoredCredential> {
        Ok(StoredCredential {
            provider: self.provider,
            name: self.name,
            secret: Secret::new(self.secret),
            weight: narrow("weight", self.weight)?,
            labels: from_json("labels", &self.labels)?,
            created_at_ms: self.created_at_ms,
        })
    }
}

/// `models` / `labels` as JSON text: both engines store them the same way and nothing queries
/// inside them.
pub(crate) fn to_json(items: &[String]) -> String {
    // Serialising a list of strings cannot fail; the fallback only keeps `unwrap` out.
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string())
}

fn from_json(column: &'static str, text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|source| StoreError::Json { column, source })
}

/// Unsigned counts go to BIGINT. Saturating, because no count of tokens, microseconds or
/// requests reaches 2^63; an error type for it would be dead code on every path.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A BIGINT back to the domain's unsigned type; out of range means the row was not ours.
fn narrow<T: TryFrom<i64>>(column: &'static str, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| StoreError::OutOfRange { column, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_has_one_placeholder_per_column_per_row_in_the_engines_form() {
        assert_eq!(USAGE_COLUMNS.split(',').count(), USAGE_BINDS);
        let values = |sql: &str| sql.split_once(" VALUES ").unwrap().1.to_string();
        let one = format!("({})", vec!["?"; USAGE_BINDS].join(", "));
        assert_eq!(
            values(&insert_usage_sql(2, Flavor::Sqlite)),
            format!("{one}, {one}")
        );
        let numbered = |from: usize| {
            let params: Vec<String> = (from..from + USAGE_BINDS)
                .map(|n| format!("${n}"))
                .collect();
            format!("({})", params.join(", "))
        };
        assert_eq!(
            values(&insert_usage_sql(2, Flavor::Postgres)),
            format!("{}, {}", numbered(1), numbered(USAGE_BINDS + 1))
        );
        assert!(insert_usage_sql(1, Flavor::Sqlite)
            .starts_with(&format!("INSERT INTO usage ({USAGE_COLUMNS}) VALUES (")));
    }

    #[test]
    fn chunks_are_powers_of_two_covering_the_batch_in_order() {
        for n in [0usize, 1, 2, 3, 7, 100, 511, 512, 513, 1500] {
            let batch: Vec<UsageRecord> = (0..n)
                .map(|i| UsageRecord {
                    request_id: i.to_string(),
                    ..UsageRecord::default()
                })
                .collect();
            let chunks: Vec<&[UsageRecord]> = usage_chunks(&batch).collect();
            assert!(chunks
                .iter()
                .all(|c| c.len().is_power_of_two() && c.len() <= USAGE_CHUNK_ROWS));
            let ids: Vec<&str> = chunks
                .iter()
                .flat_map(|c| c.iter().map(|r| r.request_id.as_str()))
                .collect();
            let want: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            assert_eq!(ids, want.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}
