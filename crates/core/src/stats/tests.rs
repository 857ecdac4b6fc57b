use super::*;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// 2024-03-10T00:00:00Z, a UTC midnight.
const MIDNIGHT: i64 = 1_710_028_800_000;

fn rec(at_ms: i64, model: &str, cost: i64, latency_ms: u64) -> UsageRecord {
    UsageRecord {
        started_at_ms: at_ms,
        served_model: model.to_string(),
        key_id: "k1".to_string(),
        provider: "openai".to_string(),
        credential: "main".to_string(),
        route: "gpt-*".to_string(),
        client_dialect: "openai".to_string(),
        cost_micros: cost,
        latency_ms,
        ttfb_ms: Some(latency_ms / 2),
        overhead_us: 100,
        input_tokens: 10,
        output_tokens: 5,
        cache_read_tokens: 3,
        cache_write_tokens: 2,
        reasoning_tokens: 1,
        ..UsageRecord::default()
    }
}

fn query(group: StatsGroup, bucket: Option<Bucket>) -> StatsQuery {
    StatsQuery {
        since_ms: i64::MIN,
        until_ms: i64::MAX,
        group,
        bucket,
    }
}

fn run(q: StatsQuery, records: &[UsageRecord]) -> Vec<StatsRow> {
    let mut acc = StatsAccumulator::new(q);
    records.iter().for_each(|r| acc.add(r));
    acc.finish()
}

#[test]
fn empty_input_gives_no_rows() {
    for group in StatsGroup::ALL {
        assert!(run(query(group, None), &[]).is_empty());
        assert!(run(query(group, Some(Bucket::Day)), &[]).is_empty());
    }
}

#[test]
fn exact_counts_for_one_group() {
    let mut a = rec(MIDNIGHT, "gpt-4o", 300, 1_000);
    a.error_class = Some("timeout".into());
    a.ttfb_ms = None;
    let mut b = rec(MIDNIGHT + 1, "gpt-4o", 200, 3_000);
    b.error_class = Some("rate_limited".into());
    let mut c = rec(MIDNIGHT + 2, "gpt-4o", -50, 2_000);
    c.error_class = Some("timeout".into());
    let d = rec(MIDNIGHT + 3, "gpt-4o", 50, 4_000);
    let rows = run(query(StatsGroup::None, None), &[a, b, c, d]);
    assert_eq!(
        rows,
        vec![StatsRow {
            group: "all".into(),
            bucket_start_ms: None,
            requests: 4,
            errors: 3,
            errors_by_class: BTreeMap::from([("rate_limited".into(), 1), ("timeout".into(), 2)]),
            tokens: TokenTotals {
                input: 40,
                output: 20,
                cache_read: 12,
                cache_write: 8,
                reasoning: 4
            },
            cost_micros: 500,
            latency_ms: Percentiles {
                p50: 2_000,
                p90: 4_000,
                p99: 4_000,
                max: 4_000
            },
            ttfb_ms: Some(Percentiles {
                p50: 1_500,
                p90: 2_000,
                p99: 2_000,
                max: 2_000
            }),
            overhead_us: Percentiles {
                p50: 100,
                p90: 100,
                p99: 100,
                max: 100
            },
        }]
    );
}

#[test]
fn no_ttfb_anywhere_is_none() {
    let mut a = rec(MIDNIGHT, "m", 1, 10);
    a.ttfb_ms = None;
    let rows = run(query(StatsGroup::Model, None), &[a]);
    assert_eq!(rows[0].ttfb_ms, None);
    assert_eq!(rows[0].latency_ms.p50, 10);
}

#[test]
fn every_grouping_reads_its_field() {
    let mut r = rec(MIDNIGHT, "served", 1, 10);
    r.requested_model = "requested".into();
    r.key_id = "key".into();
    r.credential = "cred".into();
    r.provider = "prov".into();
    r.route = "route-*".into();
    r.client_dialect = "gemini".into();
    r.upstream_dialect = "anthropic".into();
    let expected = [
        (StatsGroup::None, "all"),
        (StatsGroup::Key, "key"),
        (StatsGroup::Model, "served"),
        (StatsGroup::Credential, "cred"),
        (StatsGroup::Provider, "prov"),
        (StatsGroup::Route, "route-*"),
        (StatsGroup::Dialect, "gemini"),
    ];
    for (group, name) in expected {
        let rows = run(query(group, None), std::slice::from_ref(&r));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].group, name, "{group:?}");
        assert_eq!(StatsGroup::parse(group.as_str()), Some(group));
    }
    assert_eq!(StatsGroup::parse("nope"), None);
}

#[test]
fn rows_sort_by_bucket_then_cost_then_requests_then_name() {
    let records = [
        rec(MIDNIGHT + HOUR, "late", 1_000, 1),
        rec(MIDNIGHT, "cheap", 10, 1),
        rec(MIDNIGHT, "cheap", 10, 1),
        rec(MIDNIGHT, "pricey", 100, 1),
        rec(MIDNIGHT, "tie-b", 10, 1),
        rec(MIDNIGHT, "Tie-a", 10, 1),
        rec(MIDNIGHT, "tie-b", 10, 1),
    ];
    let rows = run(query(StatsGroup::Model, Some(Bucket::Hour)), &records);
    let got: Vec<(Option<i64>, &str, i64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.bucket_start_ms,
                r.group.as_str(),
                r.cost_micros,
                r.requests,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (Some(MIDNIGHT), "pricey", 100, 1),
            (Some(MIDNIGHT), "cheap", 20, 2),
            (Some(MIDNIGHT), "tie-b", 20, 2),
            (Some(MIDNIGHT), "Tie-a", 10, 1),
            (Some(MIDNIGHT + HOUR), "late", 1_000, 1),
        ]
    );
}

#[test]
fn hour_and_day_buckets_are_utc_aligned() {
    assert_eq!(Bucket::Hour.start_of(MIDNIGHT), MIDNIGHT);
    assert_eq!(Bucket::Hour.start_of(MIDNIGHT - 1), MIDNIGHT - HOUR);
    assert_eq!(Bucket::Hour.start_of(MIDNIGHT + HOUR - 1), MIDNIGHT);
    assert_eq!(Bucket::Day.start_of(MIDNIGHT + DAY - 1), MIDNIGHT);
    assert_eq!(Bucket::Day.start_of(MIDNIGHT + DAY), MIDNIGHT + DAY);
    assert_eq!(Bucket::Day.start_of(MIDNIGHT - 1), MIDNIGHT - DAY);
    assert_eq!(
        Bucket::Day.start_of(-1),
        -DAY,
        "before 1970 rounds to the past"
    );
    assert_eq!(Bucket::parse("day"), Some(Bucket::Day));
    assert_eq!(Bucket::parse("week"), None);

    let records = [
        rec(MIDNIGHT - 1, "m", 1, 1),
        rec(MIDNIGHT, "m", 1, 1),
        rec(MIDNIGHT + HOUR - 1, "m", 1, 1),
        rec(MIDNIGHT + HOUR, "m", 1, 1),
        rec(MIDNIGHT + DAY - 1, "m", 1, 1),
        rec(MIDNIGHT + DAY, "m", 1, 1),
    ];
    let hours: Vec<(Option<i64>, u64)> = run(query(StatsGroup::None, Some(Bucket::Hour)), &records)
        .iter()
        .map(|r| (r.bucket_start_ms, r.requests))
        .collect();
    assert_eq!(
        hours,
        vec![
            (Some(MIDNIGHT - HOUR), 1),
            (Some(MIDNIGHT), 2),
            (Some(MIDNIGHT + HOUR), 1),
            (Some(MIDNIGHT + DAY - HOUR), 1),
            (Some(MIDNIGHT + DAY), 1),
        ]
    );
    let days: Vec<(Option<i64>, u64)> = run(query(StatsGroup::None, Some(Bucket::Day)), &records)
        .iter()
        .map(|r| (r.bucket_start_ms, r.requests))
        .collect();
    assert_eq!(
        days,
        vec![
            (Some(MIDNIGHT - DAY), 1),
            (Some(MIDNIGHT), 4),
            (Some(MIDNIGHT + DAY), 1)
        ]
    );
}

#[test]
fn window_is_since_inclusive_until_exclusive() {
    let records = [
        rec(MIDNIGHT - 1, "m", 1, 1),
        rec(MIDNIGHT, "m", 2, 1),
        rec(MIDNIGHT + 5 * HOUR - 1, "m", 4, 1),
        rec(MIDNIGHT + 5 * HOUR, "m", 8, 1),
    ];
    let q = StatsQuery {
        since_ms: MIDNIGHT,
        until_ms: MIDNIGHT + 5 * HOUR,
        group: StatsGroup::None,
        bucket: None,
    };
    let rows = run(q, &records);
    assert_eq!((rows[0].requests, rows[0].cost_micros), (2, 6));
    let empty = StatsQuery {
        until_ms: MIDNIGHT,
        ..q
    };
    assert!(run(empty, &records).is_empty());
}

#[test]
fn bucket_starts_cover_the_window() {
    let q = StatsQuery {
        since_ms: MIDNIGHT + 30 * 60_000,
        until_ms: MIDNIGHT + 3 * HOUR,
        group: StatsGroup::None,
        bucket: Some(Bucket::Hour),
    };
    assert_eq!(
        q.bucket_starts(),
        vec![MIDNIGHT, MIDNIGHT + HOUR, MIDNIGHT + 2 * HOUR]
    );
    let week = StatsQuery {
        since_ms: MIDNIGHT,
        until_ms: MIDNIGHT + 7 * DAY,
        bucket: Some(Bucket::Day),
        ..q
    };
    assert_eq!(week.bucket_starts().len(), 7);
    assert!(StatsQuery { bucket: None, ..q }.bucket_starts().is_empty());
    assert!(StatsQuery {
        until_ms: q.since_ms,
        ..q
    }
    .bucket_starts()
    .is_empty());
}

/// Many records in few groups: counts stay exact and percentiles within the histogram's
/// documented bound, compared with the exact answer.
#[test]
fn many_records_exact_totals_and_bounded_percentiles() {
    let models = ["a", "b", "c"];
    let records: Vec<UsageRecord> = (0..30_000u64)
        .map(|i| {
            let mut r = rec(
                MIDNIGHT + (i as i64 % 48) * HOUR,
                models[(i % 3) as usize],
                (i % 7) as i64,
                50 + (i * 7_919) % 20_000,
            );
            r.overhead_us = 20 + (i * 31) % 5_000;
            r.error_class = (i % 11 == 0).then(|| "upstream_5xx".to_string());
            r
        })
        .collect();
    let rows = run(query(StatsGroup::Model, Some(Bucket::Day)), &records);
    assert_eq!(rows.len(), 6, "3 models x 2 days");
    assert_eq!(rows.iter().map(|r| r.requests).sum::<u64>(), 30_000);
    assert_eq!(
        rows.iter().map(|r| r.errors).sum::<u64>(),
        records.iter().filter(|r| r.error_class.is_some()).count() as u64
    );
    for row in &rows {
        let mine: Vec<&UsageRecord> = records
            .iter()
            .filter(|r| {
                r.served_model == row.group
                    && Some(Bucket::Day.start_of(r.started_at_ms)) == row.bucket_start_ms
            })
            .collect();
        assert_eq!(row.requests, mine.len() as u64);
        assert_eq!(
            row.cost_micros,
            mine.iter().map(|r| r.cost_micros).sum::<i64>()
        );
        assert_eq!(row.errors_by_class.values().sum::<u64>(), row.errors);
        let mut latencies: Vec<u64> = mine.iter().map(|r| r.latency_ms).collect();
        latencies.sort_unstable();
        let mut overheads: Vec<u64> = mine.iter().map(|r| r.overhead_us).collect();
        overheads.sort_unstable();
        let nearest = |sorted: &[u64], p: usize| sorted[(p * sorted.len()).div_ceil(100) - 1];
        for (p, got) in [
            (50, row.latency_ms.p50),
            (90, row.latency_ms.p90),
            (99, row.latency_ms.p99),
        ] {
            let truth = nearest(&latencies, p);
            assert!(
                got.abs_diff(truth) as f64 <= truth as f64 / 128.0,
                "{} p{p}: {got} vs {truth}",
                row.group
            );
        }
        let truth = nearest(&overheads, 99);
        assert!(row.overhead_us.p99.abs_diff(truth) as f64 <= truth as f64 / 128.0);
        assert_eq!(row.latency_ms.max, *latencies.last().expect("records"));
    }
}

#[test]
fn stats_types_serialise_in_snake_case() {
    let q = query(StatsGroup::Credential, Some(Bucket::Hour));
    let json = serde_json::to_value(q).expect("json");
    assert_eq!(json["group"], "credential");
    assert_eq!(json["bucket"], "hour");
}
