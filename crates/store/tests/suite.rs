//! The store suite: every behaviour is one generic `async fn` over [`Engine`], run once per
//! engine by the `suite!` macro at the bottom (`sqlite::...` and `postgres::...`). SQLite runs
//! in a temp folder; PostgreSQL in a database created for the test and dropped after it. A
//! PostgreSQL that cannot be reached fails the test with a message to run `./scripts/test`.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use switchyard_core::audit::{AuditEntry, AuditFilter};
use switchyard_core::config::Secret;
use switchyard_core::credential::StoredCredential;
use switchyard_core::keys::ApiKey;
use switchyard_core::stats::{Bucket, StatsAccumulator, StatsGroup, StatsQuery, TokenTotals};
use switchyard_core::usage::{UsageCursor, UsageFilter, UsageGroup, UsageRecord, UsageSummary};
use switchyard_store::{Engine, PostgresStore, SqliteStore, Store, StoreError};

/// Text that breaks naive quoting and encodings.
const NASTY: &str =
    "O'Brien \"quoted\" `tick` \\ back; DROP TABLE usage; -- ünïcödé 日本語 🚀 \n\t";

// ---------------------------------------------------------------- fixtures

/// A deterministic record: values cycle with different periods so every group differs.
fn record(i: usize) -> UsageRecord {
    let models = ["claude-sonnet", "gpt-4o", "gemini-pro", "llama"];
    let n = i as u64;
    UsageRecord {
        request_id: format!("req-{i}"),
        started_at_ms: 1_700_000_000_000 + i as i64,
        key_id: ["key-a", "key-b", "key-c"][i % 3].to_string(),
        route: "*".to_string(),
        requested_model: "any".to_string(),
        served_model: models[i % 4].to_string(),
        provider: ["anthropic", "openai"][i % 2].to_string(),
        credential: format!("cred-{}", i % 5),
        client_dialect: "anthropic".to_string(),
        upstream_dialect: "openai".to_string(),
        stream: i.is_multiple_of(2),
        status: if i.is_multiple_of(10) { 429 } else { 200 },
        latency_ms: 100 + n,
        ttfb_ms: (!i.is_multiple_of(3)).then_some(20 + n),
        overhead_us: 50,
        input_tokens: (n % 100) * 10,
        output_tokens: n % 7,
        cache_read_tokens: n % 11,
        cache_write_tokens: n % 13,
        reasoning_tokens: n % 3,
        cost_micros: (i % 50) as i64 * 3 + 1,
        retries: (i % 4) as u32,
        error_class: i.is_multiple_of(10).then(|| "rate_limited".to_string()),
        session_id: i.is_multiple_of(2).then(|| format!("sess-{}", i % 8)),
        run_id: None,
    }
}

/// The summary computed in Rust: the oracle the SQL must agree with.
fn expected_summary(
    records: &[UsageRecord],
    since_ms: i64,
    group: UsageGroup,
) -> Vec<UsageSummary> {
    let mut groups: BTreeMap<String, UsageSummary> = BTreeMap::new();
    if group == UsageGroup::All {
        groups.insert("all".into(), summary_named("all"));
    }
    for r in records.iter().filter(|r| r.started_at_ms >= since_ms) {
        let name = match group {
            UsageGroup::All => "all",
            UsageGroup::Key => &r.key_id,
            UsageGroup::Model => &r.served_model,
            UsageGroup::Credential => &r.credential,
            UsageGroup::Provider => &r.provider,
        };
        let s = groups
            .entry(name.to_string())
            .or_insert_with(|| summary_named(name));
        s.requests += 1;
        s.errors += u64::from(r.error_class.is_some());
        s.input_tokens += r.input_tokens;
        s.output_tokens += r.output_tokens;
        s.cache_read_tokens += r.cache_read_tokens;
        s.cache_write_tokens += r.cache_write_tokens;
        s.cost_micros += r.cost_micros;
    }
    let mut out: Vec<UsageSummary> = groups.into_values().collect();
    // BTreeMap gave bytewise group order; a stable sort keeps it as the tie-break.
    out.sort_by_key(|s| std::cmp::Reverse((s.cost_micros, s.requests)));
    out
}

fn summary_named(name: &str) -> UsageSummary {
    UsageSummary {
        group: name.to_string(),
        ..UsageSummary::default()
    }
}

fn key(id: &str, created_at_ms: i64) -> ApiKey {
    ApiKey {
        id: id.to_string(),
        name: format!("{id} key"),
        secret_hash: switchyard_core::keys::hash_secret(id),
        models: vec![],
        created_at_ms,
        expires_at_ms: None,
        revoked_at_ms: None,
    }
}

fn credential(provider: &str, name: &str) -> StoredCredential {
    StoredCredential {
        provider: provider.to_string(),
        name: name.to_string(),
        secret: Secret::new(format!("sk-{provider}-{name}")),
        weight: 1,
        labels: vec![],
        created_at_ms: 1_000,
    }
}

const GROUPS: [UsageGroup; 5] = [
    UsageGroup::All,
    UsageGroup::Key,
    UsageGroup::Model,
    UsageGroup::Credential,
    UsageGroup::Provider,
];

// ---------------------------------------------------------------- usage

async fn usage_empty_batch_is_a_no_op<E: Engine>(store: &E) {
    store.insert_usage(&[]).await.expect("empty batch");
    assert_eq!(store.usage_count().await.expect("count"), 0);
    assert!(store.recent_usage(10).await.expect("recent").is_empty());
    let all = store.usage_summary(0, UsageGroup::All).await.expect("all");
    assert_eq!(
        all,
        vec![summary_named("all")],
        "All has its row even when empty"
    );
    for group in &GROUPS[1..] {
        let rows = store.usage_summary(0, *group).await.expect("summary");
        assert!(rows.is_empty(), "{group:?}: {rows:?}");
    }
}

async fn usage_one_record_round_trips<E: Engine>(store: &E) {
    let mut r = record(1);
    r.request_id = format!("req-{NASTY}");
    r.route = NASTY.to_string();
    r.served_model = "mödel 'x'".to_string();
    r.error_class = Some("upstream_5xx".to_string());
    r.session_id = Some(NASTY.to_string());
    r.run_id = Some("run-1".to_string());
    r.ttfb_ms = None;
    r.input_tokens = u64::from(u32::MAX) + 7; // beyond 32 bits: BIGINT all the way
    r.cost_micros = -5; // refunds are negative, and must stay so
    store
        .insert_usage(std::slice::from_ref(&r))
        .await
        .expect("insert");
    assert_eq!(store.usage_count().await.expect("count"), 1);
    assert_eq!(
        store.recent_usage(10).await.expect("recent"),
        vec![r.clone()]
    );
    let by_model = store
        .usage_summary(0, UsageGroup::Model)
        .await
        .expect("summary");
    assert_eq!(
        by_model,
        vec![UsageSummary {
            group: "mödel 'x'".to_string(),
            requests: 1,
            errors: 1,
            input_tokens: 4_294_967_302,
            output_tokens: 1,
            cache_read_tokens: 1,
            cache_write_tokens: 1,
            cost_micros: -5,
        }]
    );
}

/// A summary as `(group, requests, errors, input, output, cache_read, cost)`.
type Row<'a> = (&'a str, u64, u64, u64, u64, u64, i64);

fn rows(summary: &[UsageSummary]) -> Vec<Row<'_>> {
    summary
        .iter()
        .map(|s| {
            let t = (s.input_tokens, s.output_tokens, s.cache_read_tokens);
            (
                s.group.as_str(),
                s.requests,
                s.errors,
                t.0,
                t.1,
                t.2,
                s.cost_micros,
            )
        })
        .collect()
}

/// Exact numbers for a small hand-made set: ties on cost broken by requests, then by group
/// name in byte order (`Zeta` before `aaa`, whatever the database's locale).
async fn usage_summary_exact_numbers<E: Engine>(store: &E) {
    let mk = |model: &str, key: &str, input: u64, cost: i64, error: bool| UsageRecord {
        served_model: model.to_string(),
        key_id: key.to_string(),
        provider: "p".to_string(),
        input_tokens: input,
        output_tokens: input / 10,
        cache_read_tokens: 1,
        cost_micros: cost,
        error_class: error.then(|| "timeout".to_string()),
        started_at_ms: 10,
        ..UsageRecord::default()
    };
    let batch = [
        mk("opus", "k1", 1000, 300, false),
        mk("sonnet", "k1", 500, 100, true),
        mk("sonnet", "k2", 700, 250, false),
        mk("haiku", "k2", 10, 150, false),
        mk("haiku", "k3", 10, 150, false),
        mk("aaa", "k3", 1, 300, true),
        mk("Zeta", "k3", 2, 300, false),
    ];
    store.insert_usage(&batch).await.expect("insert");
    let by_model = store
        .usage_summary(0, UsageGroup::Model)
        .await
        .expect("model");
    assert_eq!(
        rows(&by_model),
        vec![
            ("sonnet", 2, 1, 1200, 120, 2, 350),
            ("haiku", 2, 0, 20, 2, 2, 300),
            ("Zeta", 1, 0, 2, 0, 1, 300),
            ("aaa", 1, 1, 1, 0, 1, 300),
            ("opus", 1, 0, 1000, 100, 1, 300),
        ]
    );
    let by_key = store.usage_summary(0, UsageGroup::Key).await.expect("key");
    assert_eq!(
        rows(&by_key),
        vec![
            ("k3", 3, 1, 13, 1, 3, 750),
            ("k1", 2, 1, 1500, 150, 2, 400),
            ("k2", 2, 0, 710, 71, 2, 400),
        ]
    );
    let all = store.usage_summary(0, UsageGroup::All).await.expect("all");
    assert_eq!(rows(&all), vec![("all", 7, 2, 2223, 222, 7, 1550)]);
    let by_provider = store
        .usage_summary(0, UsageGroup::Provider)
        .await
        .expect("p");
    assert_eq!(rows(&by_provider), vec![("p", 7, 2, 2223, 222, 7, 1550)]);
    let later = store
        .usage_summary(11, UsageGroup::All)
        .await
        .expect("later");
    assert_eq!(
        rows(&later),
        vec![("all", 0, 0, 0, 0, 0, 0)],
        "nothing started at or after 11"
    );
}

/// 2,500 records cross several insert chunks; every grouping agrees with the Rust oracle.
async fn usage_large_batch_and_summaries<E: Engine>(store: &E) {
    let records: Vec<UsageRecord> = (0..2_500).map(record).collect();
    store.insert_usage(&records).await.expect("insert 2500");
    assert_eq!(store.usage_count().await.expect("count"), 2_500);

    let all = store.usage_summary(0, UsageGroup::All).await.expect("all");
    assert_eq!(
        all,
        vec![UsageSummary {
            group: "all".to_string(),
            requests: 2_500,
            errors: 250,
            input_tokens: 1_237_500,
            output_tokens: expected_summary(&records, 0, UsageGroup::All)[0].output_tokens,
            cache_read_tokens: expected_summary(&records, 0, UsageGroup::All)[0].cache_read_tokens,
            cache_write_tokens: expected_summary(&records, 0, UsageGroup::All)[0]
                .cache_write_tokens,
            cost_micros: 186_250,
        }]
    );
    let since = records[2_000].started_at_ms;
    for group in GROUPS {
        for since_ms in [0, since] {
            let got = store.usage_summary(since_ms, group).await.expect("summary");
            assert_eq!(
                got,
                expected_summary(&records, since_ms, group),
                "{group:?} since {since_ms}"
            );
        }
    }
    let by_key = store.usage_summary(0, UsageGroup::Key).await.expect("key");
    assert_eq!(
        by_key.iter().map(|s| s.requests).collect::<Vec<_>>(),
        vec![834, 833, 833]
    );

    let recent = store.recent_usage(3).await.expect("recent");
    assert_eq!(
        recent,
        vec![
            records[2_499].clone(),
            records[2_498].clone(),
            records[2_497].clone()
        ]
    );

    // A second batch adds, it does not replace.
    store.insert_usage(&records[..2]).await.expect("insert 2");
    assert_eq!(store.usage_count().await.expect("count"), 2_502);
}

/// Records sharing a start time come back newest-inserted first.
async fn usage_recent_orders_ties_by_insertion<E: Engine>(store: &E) {
    let mut a = record(1);
    let mut b = record(2);
    b.started_at_ms = a.started_at_ms;
    a.request_id = "first".into();
    b.request_id = "second".into();
    store
        .insert_usage(std::slice::from_ref(&a))
        .await
        .expect("a");
    store
        .insert_usage(std::slice::from_ref(&b))
        .await
        .expect("b");
    let ids: Vec<String> = store
        .recent_usage(10)
        .await
        .expect("recent")
        .into_iter()
        .map(|r| r.request_id)
        .collect();
    assert_eq!(ids, ["second", "first"]);
    assert_eq!(store.recent_usage(0).await.expect("none").len(), 0);
}

/// Several writers at once: each batch lands whole (SQLite waits on its busy timeout).
async fn usage_concurrent_writers<E: Engine>(store: &E) {
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..10 {
                let batch: Vec<UsageRecord> =
                    (0..50).map(|i| record(w * 1_000 + b * 50 + i)).collect();
                store.insert_usage(&batch).await.expect("concurrent insert");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer task");
    }
    assert_eq!(store.usage_count().await.expect("count"), 2_000);
}

// ---------------------------------------------------------------- keys

async fn keys_round_trip<E: Engine>(store: &E) {
    let mut scoped = key("bbbbbbbbbbbb", 2_000);
    scoped.name = NASTY.to_string();
    scoped.models = vec!["claude-*".into(), "gpt-4o".into(), "mödel \"x\"".into()];
    scoped.expires_at_ms = Some(9_000);
    let plain = key("aaaaaaaaaaaa", 1_000);
    let same_time = key("cccccccccccc", 2_000);
    for k in [&scoped, &plain, &same_time] {
        store.insert_key(k).await.expect("insert key");
    }
    assert_eq!(
        store.list_keys().await.expect("list"),
        vec![plain.clone(), scoped.clone(), same_time.clone()],
        "oldest first, then by id"
    );
    assert_eq!(
        store.find_key("bbbbbbbbbbbb").await.expect("find"),
        Some(scoped.clone())
    );
    assert_eq!(store.find_key("nope").await.expect("find"), None);

    assert!(store
        .revoke_key("bbbbbbbbbbbb", 5_000)
        .await
        .expect("revoke"));
    assert!(
        !store
            .revoke_key("bbbbbbbbbbbb", 6_000)
            .await
            .expect("again"),
        "already revoked"
    );
    assert!(!store.revoke_key("nope", 6_000).await.expect("unknown"));
    let revoked = store
        .find_key("bbbbbbbbbbbb")
        .await
        .expect("find")
        .expect("still there");
    assert_eq!(
        revoked.revoked_at_ms,
        Some(5_000),
        "the first revocation time stays"
    );
    assert_eq!(revoked.expires_at_ms, Some(9_000));
    assert!(!revoked.is_active(1));
    assert_eq!(
        store.list_keys().await.expect("list").len(),
        3,
        "revoked keys are listed"
    );

    let mut dup = key("aaaaaaaaaaaa", 7_000);
    dup.name = "other".into();
    match store.insert_key(&dup).await {
        Err(StoreError::Conflict { what }) => assert_eq!(what, "key aaaaaaaaaaaa"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.find_key("aaaaaaaaaaaa").await.expect("find"),
        Some(plain)
    );
}

// ---------------------------------------------------------------- credentials

async fn credentials_round_trip<E: Engine>(store: &E) {
    let mut main = credential("openai", "main");
    main.secret = Secret::new(format!("sk-{NASTY}"));
    main.weight = u32::MAX;
    main.labels = vec!["team:ml".into(), "ünï'code".into()];
    let backup = credential("openai", "backup");
    let claude = credential("anthropic", "Zed");
    let lower = credential("anthropic", "abe");
    for c in [&main, &backup, &claude, &lower] {
        store.insert_credential(c).await.expect("insert credential");
    }
    assert_eq!(
        store.list_credentials().await.expect("list"),
        vec![claude.clone(), lower.clone(), backup.clone(), main.clone()],
        "by provider then name, bytewise"
    );

    let mut dup = credential("openai", "main");
    dup.weight = 5;
    match store.insert_credential(&dup).await {
        Err(StoreError::Conflict { what }) => assert_eq!(what, "credential openai/main"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let listed = store.list_credentials().await.expect("list");
    assert_eq!(listed[3], main, "a conflict changes nothing");
    assert_eq!(listed[3].secret.expose(), format!("sk-{NASTY}"));

    // Same name under another provider is a different credential.
    store
        .insert_credential(&credential("gemini", "main"))
        .await
        .expect("other provider");

    assert!(store
        .remove_credential("openai", "main")
        .await
        .expect("remove"));
    assert!(!store
        .remove_credential("openai", "main")
        .await
        .expect("again"));
    assert!(!store
        .remove_credential("nope", "main")
        .await
        .expect("unknown"));
    let names: Vec<(String, String)> = store
        .list_credentials()
        .await
        .expect("list")
        .into_iter()
        .map(|c| (c.provider, c.name))
        .collect();
    assert_eq!(
        names,
        [
            ("anthropic", "Zed"),
            ("anthropic", "abe"),
            ("gemini", "main"),
            ("openai", "backup")
        ]
        .map(|(p, n)| (p.to_string(), n.to_string()))
    );
}

// ---------------------------------------------------------------- change detection

async fn change_version_moves_on_every_key_and_credential_write<E: Engine>(store: &E) {
    let mut last = store.change_version().await.expect("version");
    assert_eq!(last, 0, "a fresh store starts at 0");
    let mut expect_moved = |now: i64, what: &str| {
        assert!(now > last, "{what}: {now} should be above {last}");
        last = now;
    };
    store.insert_key(&key("k1", 1)).await.expect("key");
    expect_moved(store.change_version().await.expect("v"), "insert_key");
    store.revoke_key("k1", 2).await.expect("revoke");
    expect_moved(store.change_version().await.expect("v"), "revoke_key");
    store
        .insert_credential(&credential("openai", "a"))
        .await
        .expect("cred");
    expect_moved(
        store.change_version().await.expect("v"),
        "insert_credential",
    );
    store
        .remove_credential("openai", "a")
        .await
        .expect("remove");
    expect_moved(
        store.change_version().await.expect("v"),
        "remove_credential",
    );
    store.put_setting("s", "1").await.expect("put");
    expect_moved(store.change_version().await.expect("v"), "put_setting");
    store.put_setting("s", "2").await.expect("replace");
    expect_moved(
        store.change_version().await.expect("v"),
        "put_setting replacing",
    );
    store.delete_setting("s").await.expect("delete");
    expect_moved(store.change_version().await.expect("v"), "delete_setting");
    store.put_setting("kept", "v").await.expect("put");
    expect_moved(store.change_version().await.expect("v"), "put_setting");

    let still = store.change_version().await.expect("v");
    store
        .insert_usage(&[record(1), record(2)])
        .await
        .expect("usage");
    store
        .put_response("resp_1", "{}", 0, 10)
        .await
        .expect("response");
    store.revoke_key("k1", 3).await.expect("no-op revoke");
    store
        .remove_credential("openai", "a")
        .await
        .expect("no-op remove");
    assert!(
        store.insert_key(&key("k1", 1)).await.is_err(),
        "duplicate key"
    );
    store.put_setting("kept", "v").await.expect("same value");
    store.delete_setting("s").await.expect("no-op delete");
    store
        .insert_audit(&audit(1, "key.revoke", "k1"))
        .await
        .expect("audit");
    assert_eq!(
        store.change_version().await.expect("v"),
        still,
        "usage, responses, audit, no-op writes and conflicts leave it be"
    );
}

// ---------------------------------------------------------------- responses

async fn responses_put_get_expire_prune<E: Engine>(store: &E) {
    let body = format!(
        r#"{{"id":"resp_1","output":[{{"text":"{}"}}]}}"#,
        "héllo 'w' 🚀"
    );
    store
        .put_response("resp_1", &body, 100, 200)
        .await
        .expect("put");
    store
        .put_response("resp_2", "{\"n\":2}", 100, 300)
        .await
        .expect("put");
    store
        .put_response("resp_3", "{}", 100, 400)
        .await
        .expect("put");

    assert_eq!(
        store.get_response("resp_1", 199).await.expect("get"),
        Some(body.clone())
    );
    assert_eq!(
        store.get_response("resp_1", 200).await.expect("get"),
        None,
        "expired at expiry"
    );
    assert_eq!(store.get_response("nope", 0).await.expect("get"), None);

    // Upsert: a second put replaces the body and the expiry.
    store
        .put_response("resp_1", "{\"v\":2}", 150, 1_000)
        .await
        .expect("upsert");
    assert_eq!(
        store.get_response("resp_1", 500).await.expect("get"),
        Some("{\"v\":2}".to_string())
    );

    assert_eq!(
        store.prune_responses(300).await.expect("prune"),
        1,
        "resp_2 expired at 300"
    );
    assert_eq!(store.prune_responses(300).await.expect("prune"), 0);
    assert_eq!(
        store.get_response("resp_3", 300).await.expect("get"),
        Some("{}".to_string())
    );
    assert_eq!(store.prune_responses(i64::MAX).await.expect("prune"), 2);
    assert_eq!(store.get_response("resp_1", 0).await.expect("get"), None);
}

// ---------------------------------------------------------------- request log

/// The request log computed in Rust: records (in insertion order) that `filter` matches,
/// newest first by start time then insertion order.
fn expected_log(inserted: &[UsageRecord], filter: &UsageFilter) -> Vec<UsageRecord> {
    let mut matching: Vec<(usize, &UsageRecord)> = inserted
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            filter.key_id.as_ref().is_none_or(|k| &r.key_id == k)
                && filter
                    .model
                    .as_ref()
                    .is_none_or(|m| &r.requested_model == m || &r.served_model == m)
                && filter.status.is_none_or(|s| r.status == s)
                && filter
                    .credential
                    .as_ref()
                    .is_none_or(|c| &r.credential == c)
                && filter.provider.as_ref().is_none_or(|p| &r.provider == p)
                && filter.since_ms.is_none_or(|s| r.started_at_ms >= s)
                && filter.until_ms.is_none_or(|u| r.started_at_ms < u)
        })
        .collect();
    matching.sort_by_key(|(seq, r)| std::cmp::Reverse((r.started_at_ms, *seq)));
    matching.into_iter().map(|(_, r)| r.clone()).collect()
}

/// Records for the log: several share a start time and are inserted in separate batches, so
/// the order (and the cursor) must fall back on insertion order.
async fn insert_log_records<E: Engine>(store: &E) -> Vec<UsageRecord> {
    let mut first: Vec<UsageRecord> = (0..300).map(record).collect();
    for (i, r) in first.iter_mut().enumerate() {
        r.requested_model = ["claude-*", "gpt-4o", "any"][i % 3].to_string();
        r.started_at_ms = 1_700_000_000_000 + (i as i64 / 4) * 1_000;
    }
    store.insert_usage(&first).await.expect("first batch");
    let mut second: Vec<UsageRecord> = (300..340).map(record).collect();
    for (i, r) in second.iter_mut().enumerate() {
        r.started_at_ms = first[i * 7].started_at_ms; // ties with earlier rows
    }
    store.insert_usage(&second).await.expect("second batch");
    first.extend(second);
    first
}

async fn usage_log_filters<E: Engine>(store: &E) {
    let inserted = insert_log_records(store).await;
    let mid = inserted[150].started_at_ms;
    let filters = [
        UsageFilter::default(),
        UsageFilter {
            key_id: Some("key-b".into()),
            ..UsageFilter::default()
        },
        UsageFilter {
            model: Some("gpt-4o".into()), // requested by some, served to others
            ..UsageFilter::default()
        },
        UsageFilter {
            model: Some("claude-*".into()),
            status: Some(200),
            ..UsageFilter::default()
        },
        UsageFilter {
            status: Some(429),
            limit: 1_000,
            ..UsageFilter::default()
        },
        UsageFilter {
            credential: Some("cred-3".into()),
            provider: Some("openai".into()),
            limit: 1_000,
            ..UsageFilter::default()
        },
        UsageFilter {
            since_ms: Some(mid),
            until_ms: Some(mid + 10_000),
            ..UsageFilter::default()
        },
        UsageFilter {
            provider: Some("nope".into()),
            ..UsageFilter::default()
        },
        UsageFilter {
            key_id: Some(NASTY.into()),
            ..UsageFilter::default()
        },
    ];
    for filter in &filters {
        let page = store.query_usage(filter).await.expect("query");
        let mut expected = expected_log(&inserted, filter);
        let more = expected.len() > filter.page_size() as usize;
        expected.truncate(filter.page_size() as usize);
        assert_eq!(page.records, expected, "{filter:?}");
        assert_eq!(page.next.is_some(), more, "{filter:?}");
    }
    let model = UsageFilter {
        model: Some("gpt-4o".into()),
        limit: 1_000,
        ..UsageFilter::default()
    };
    let page = store.query_usage(&model).await.expect("model");
    assert!(page.records.iter().any(|r| r.served_model != "gpt-4o"));
    assert!(page.records.iter().any(|r| r.requested_model != "gpt-4o"));
    let none = UsageFilter {
        limit: 0,
        ..UsageFilter::default()
    };
    let empty = store.query_usage(&none).await.expect("limit 0");
    assert!(empty.records.is_empty());
}

/// Walking every page with the cursor yields each matching record once, in order, across
/// ties in start time.
async fn usage_log_pages_with_the_cursor<E: Engine>(store: &E) {
    let inserted = insert_log_records(store).await;
    for base in [
        UsageFilter::default(),
        UsageFilter {
            provider: Some("anthropic".into()),
            ..UsageFilter::default()
        },
    ] {
        let mut filter = UsageFilter { limit: 7, ..base };
        let mut walked = Vec::new();
        let mut pages = 0;
        loop {
            let page = store.query_usage(&filter).await.expect("page");
            assert!(page.records.len() <= 7);
            walked.extend(page.records);
            pages += 1;
            match page.next {
                Some(next) => {
                    // The cursor survives its text form, as it will in a URL.
                    let text = next.to_string();
                    filter.before = Some(UsageCursor::parse(&text).expect("cursor"));
                }
                None => break,
            }
        }
        let expected = expected_log(&inserted, &filter_without_cursor(&filter));
        assert_eq!(walked.len(), expected.len());
        assert_eq!(walked, expected);
        assert_eq!(pages, expected.len().div_ceil(7));
    }
}

fn filter_without_cursor(filter: &UsageFilter) -> UsageFilter {
    UsageFilter {
        before: None,
        ..filter.clone()
    }
}

/// Pages are capped at 1,000 records, whatever the filter asks; `recent_usage` is not.
async fn usage_log_caps_the_page<E: Engine>(store: &E) {
    let records: Vec<UsageRecord> = (0..1_205).map(record).collect();
    store.insert_usage(&records).await.expect("insert");
    let huge = UsageFilter {
        limit: u32::MAX,
        ..UsageFilter::default()
    };
    let page = store.query_usage(&huge).await.expect("query");
    assert_eq!(page.records.len(), 1_000);
    assert_eq!(page.records[0], records[1_204]);
    let next = page.next.expect("more");
    assert_eq!(next.started_at_ms, records[205].started_at_ms);
    let rest = store
        .query_usage(&UsageFilter {
            before: Some(next),
            ..huge
        })
        .await
        .expect("rest");
    assert_eq!(rest.records.len(), 205);
    assert_eq!(rest.next, None);
    assert_eq!(
        store.recent_usage(1_100).await.expect("recent").len(),
        1_100
    );
}

// ---------------------------------------------------------------- stats

/// Records over twelve days, with every grouping field varying.
fn stats_records() -> Vec<UsageRecord> {
    (0..2_500)
        .map(|i| {
            let mut r = record(i);
            r.started_at_ms = 1_710_028_800_000 - 3 * 3_600_000 + i as i64 * 7 * 60_000;
            r.route = ["claude-*", "gpt-*", "*"][i % 3].to_string();
            r.client_dialect = ["anthropic", "openai", "responses", "gemini"][i % 4].to_string();
            r.error_class = match i % 10 {
                0 => Some("rate_limited".to_string()),
                3 => Some("timeout".to_string()),
                _ => None,
            };
            r.latency_ms = 100 + (i as u64 * 7_919) % 30_000;
            r.overhead_us = 20 + (i as u64 * 31) % 4_000;
            r
        })
        .collect()
}

/// The store's statistics equal the accumulator fed the same records in Rust, for every
/// grouping, bucket and a few windows.
async fn usage_stats_agree_with_the_accumulator<E: Engine>(store: &E) {
    let records = stats_records();
    store.insert_usage(&records).await.expect("insert");
    let first = records[0].started_at_ms;
    let last = records[records.len() - 1].started_at_ms;
    let windows = [
        (i64::MIN, i64::MAX),
        (first, last), // the last record is outside: until is exclusive
        (first + 1, first + 5 * 3_600_000),
        (last + 1, i64::MAX),
    ];
    for group in StatsGroup::ALL {
        for bucket in [None, Some(Bucket::Hour), Some(Bucket::Day)] {
            for (since_ms, until_ms) in windows {
                let q = StatsQuery {
                    since_ms,
                    until_ms,
                    group,
                    bucket,
                };
                let mut acc = StatsAccumulator::new(q);
                records.iter().for_each(|r| acc.add(r));
                let got = store.usage_stats(&q).await.expect("stats");
                assert_eq!(got, acc.finish(), "{q:?}");
            }
        }
    }
}

async fn usage_stats_exact_numbers<E: Engine>(store: &E) {
    let day = 1_710_028_800_000; // a UTC midnight
    let mk = |at: i64, model: &str, cost: i64, latency: u64, error: Option<&str>| UsageRecord {
        started_at_ms: at,
        served_model: model.to_string(),
        cost_micros: cost,
        latency_ms: latency,
        ttfb_ms: error.is_none().then_some(latency / 4),
        overhead_us: 300,
        input_tokens: 100,
        output_tokens: 10,
        cache_read_tokens: 7,
        cache_write_tokens: 3,
        reasoning_tokens: 2,
        error_class: error.map(str::to_string),
        ..UsageRecord::default()
    };
    let batch = [
        mk(day - 1, "opus", 900, 50, None),
        mk(day, "opus", 500, 1_000, None),
        mk(day + 1, "opus", 500, 3_000, Some("timeout")),
        mk(day + 3_599_999, "haiku", 10, 200, None),
        mk(day + 3_600_000, "haiku", 10, 400, Some("upstream_5xx")),
        mk(day + 3_600_001, "sonnet", 0, 800, Some("upstream_5xx")),
    ];
    store.insert_usage(&batch).await.expect("insert");
    let q = StatsQuery {
        since_ms: day,
        until_ms: day + 86_400_000,
        group: StatsGroup::Model,
        bucket: Some(Bucket::Hour),
    };
    let got = store.usage_stats(&q).await.expect("stats");
    let summary: Vec<(Option<i64>, &str, u64, u64, i64)> = got
        .iter()
        .map(|r| {
            let at = r.bucket_start_ms;
            (at, r.group.as_str(), r.requests, r.errors, r.cost_micros)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some(day), "opus", 2, 1, 1_000),
            (Some(day), "haiku", 1, 0, 10),
            (Some(day + 3_600_000), "haiku", 1, 1, 10),
            (Some(day + 3_600_000), "sonnet", 1, 1, 0),
        ]
    );
    let opus = &got[0];
    assert_eq!(
        opus.errors_by_class,
        BTreeMap::from([("timeout".to_string(), 1)])
    );
    assert_eq!(
        opus.tokens,
        TokenTotals {
            input: 200,
            output: 20,
            cache_read: 14,
            cache_write: 6,
            reasoning: 4
        }
    );
    assert_eq!(
        (
            opus.latency_ms.p50,
            opus.latency_ms.p99,
            opus.latency_ms.max
        ),
        (1_000, 3_000, 3_000)
    );
    assert_eq!(
        opus.ttfb_ms.map(|t| t.max),
        Some(250),
        "the failed one had none"
    );
    assert_eq!(got[3].ttfb_ms, None);
    assert_eq!(opus.overhead_us.p99, 300);
    let empty = StatsQuery {
        until_ms: day,
        since_ms: day,
        ..q
    };
    assert!(store.usage_stats(&empty).await.expect("empty").is_empty());
}

// ---------------------------------------------------------------- settings

async fn settings_round_trip<E: Engine>(store: &E) {
    assert_eq!(
        store.get_setting("admin.token_hash").await.expect("get"),
        None
    );
    assert!(store.list_settings().await.expect("list").is_empty());
    let overlay = format!(
        "[[routes]]\nmodel = \"claude-*\"\n# {NASTY}\n{}",
        "x".repeat(100_000)
    );
    store
        .put_setting("config.overlay", &overlay)
        .await
        .expect("put overlay");
    store
        .put_setting("admin.token_hash", "abc123")
        .await
        .expect("put hash");
    store.put_setting("Zeta", "").await.expect("empty value");
    store.put_setting(NASTY, NASTY).await.expect("nasty");
    assert_eq!(
        store.get_setting("config.overlay").await.expect("get"),
        Some(overlay.clone())
    );
    assert_eq!(
        store.get_setting("Zeta").await.expect("get"),
        Some(String::new())
    );
    assert_eq!(
        store.get_setting(NASTY).await.expect("get"),
        Some(NASTY.to_string())
    );

    store
        .put_setting("admin.token_hash", "def456")
        .await
        .expect("replace");
    assert_eq!(
        store.get_setting("admin.token_hash").await.expect("get"),
        Some("def456".to_string())
    );
    let keys: Vec<String> = store
        .list_settings()
        .await
        .expect("list")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        [NASTY, "Zeta", "admin.token_hash", "config.overlay"],
        "bytewise"
    );

    assert!(store.delete_setting("Zeta").await.expect("delete"));
    assert!(!store.delete_setting("Zeta").await.expect("again"));
    assert!(!store.delete_setting("nope").await.expect("unknown"));
    assert_eq!(store.get_setting("Zeta").await.expect("get"), None);
    assert_eq!(store.list_settings().await.expect("list").len(), 3);
}

// ---------------------------------------------------------------- audit

fn audit(at_ms: i64, action: &str, target: &str) -> AuditEntry {
    AuditEntry {
        id: 0,
        at_ms,
        actor: "admin-token".to_string(),
        action: action.to_string(),
        target: target.to_string(),
        address: "127.0.0.1".to_string(),
        before: None,
        after: Some(r#"{"name":"main","secret":"***"}"#.to_string()),
    }
}

/// Inserts and returns the entries with the ids the store gave them.
async fn insert_audit_entries<E: Engine>(store: &E) -> Vec<AuditEntry> {
    let mut odd = audit(1_000, "credential.remove", NASTY);
    odd.actor = "cli-offline".to_string();
    odd.address = "local".to_string();
    odd.before = Some(format!(r#"{{"name":"{}"}}"#, "ünï 🚀"));
    odd.after = None;
    let entries = [
        audit(100, "credential.add", "anthropic-main/team-c"),
        audit(200, "key.create", "abcdefabcdef"),
        audit(300, "credentials.import", "openai"),
        audit(300, "credential_add", "x"),
        audit(400, "Credential.add", "x"),
        audit(500, "key.revoke", "abcdefabcdef"),
        audit(600, "setting.put", "config.overlay"),
        audit(700, "ünï.x", "anthropic-main/team-c"),
        audit(50, "credential.add", "late-clock"), // an earlier time, inserted later
        odd,
    ];
    let mut stored = Vec::new();
    let mut last_id = 0;
    for mut e in entries {
        e.id = 12_345; // ignored on insert
        let id = store.insert_audit(&e).await.expect("insert audit");
        assert!(id > last_id, "ids increase: {id} after {last_id}");
        last_id = id;
        e.id = id;
        stored.push(e);
    }
    stored
}

async fn audit_round_trip_and_filters<E: Engine>(store: &E) {
    let stored = insert_audit_entries(store).await;
    let newest_first: Vec<AuditEntry> = stored.iter().rev().cloned().collect();
    assert_eq!(
        store
            .list_audit(&AuditFilter::default())
            .await
            .expect("all"),
        newest_first,
        "by id, not by at_ms"
    );
    let actions = |filter: AuditFilter| async move {
        store
            .list_audit(&filter)
            .await
            .expect("list")
            .into_iter()
            .map(|e| e.action)
            .collect::<Vec<_>>()
    };
    let prefix = |p: &str| AuditFilter {
        action_prefix: Some(p.to_string()),
        ..AuditFilter::default()
    };
    assert_eq!(
        actions(prefix("credential.")).await,
        ["credential.remove", "credential.add", "credential.add"]
    );
    assert_eq!(
        actions(prefix("credential")).await.len(),
        5,
        "credential., credentials., credential_"
    );
    assert_eq!(
        actions(prefix("credential_")).await,
        ["credential_add"],
        "_ is no wildcard"
    );
    assert_eq!(actions(prefix("Credential.")).await, ["Credential.add"]);
    assert_eq!(actions(prefix("credential%")).await, Vec::<String>::new());
    assert_eq!(actions(prefix("ünï.")).await, ["ünï.x"]);
    assert_eq!(actions(prefix("")).await.len(), stored.len());
    assert_eq!(
        actions(AuditFilter {
            target: Some("anthropic-main/team-c".into()),
            ..AuditFilter::default()
        })
        .await,
        ["ünï.x", "credential.add"]
    );
    assert_eq!(
        actions(AuditFilter {
            target: Some(NASTY.into()),
            ..AuditFilter::default()
        })
        .await,
        ["credential.remove"]
    );
    assert_eq!(
        actions(AuditFilter {
            since_ms: Some(300),
            until_ms: Some(600),
            ..AuditFilter::default()
        })
        .await,
        [
            "key.revoke",
            "Credential.add",
            "credential_add",
            "credentials.import"
        ]
    );
    assert_eq!(
        actions(AuditFilter {
            action_prefix: Some("key.".into()),
            target: Some("abcdefabcdef".into()),
            since_ms: Some(201),
            ..AuditFilter::default()
        })
        .await,
        ["key.revoke"]
    );
}

async fn audit_pages_by_id<E: Engine>(store: &E) {
    let stored = insert_audit_entries(store).await;
    let mut filter = AuditFilter {
        limit: 3,
        ..AuditFilter::default()
    };
    let mut walked = Vec::new();
    loop {
        let page = store.list_audit(&filter).await.expect("page");
        let Some(last) = page.last() else { break };
        filter.before_id = Some(last.id);
        walked.extend(page);
    }
    let newest_first: Vec<AuditEntry> = stored.iter().rev().cloned().collect();
    assert_eq!(walked, newest_first);
    let none = AuditFilter {
        limit: 0,
        ..AuditFilter::default()
    };
    assert!(store.list_audit(&none).await.expect("limit 0").is_empty());

    for i in 0..1_005 {
        store
            .insert_audit(&audit(i, "bulk.add", "t"))
            .await
            .expect("bulk");
    }
    let huge = AuditFilter {
        limit: 5_000,
        ..AuditFilter::default()
    };
    assert_eq!(store.list_audit(&huge).await.expect("capped").len(), 1_000);
}

// ---------------------------------------------------------------- opening

/// Opening twice runs the migrations twice without harm, and keeps the data.
async fn reopen_is_idempotent(url: &str, engine: &str) {
    let first = Store::open(url).await.expect("first open");
    assert_eq!(first.engine_name(), engine);
    first.insert_key(&key("k1", 1)).await.expect("key");
    first.insert_usage(&[record(1)]).await.expect("usage");
    first.close().await;
    let second = Store::open(url).await.expect("second open");
    assert_eq!(
        second.find_key("k1").await.expect("find"),
        Some(key("k1", 1))
    );
    assert_eq!(second.usage_count().await.expect("count"), 1);
    assert_eq!(second.change_version().await.expect("version"), 1);
    exercise_store_forwarding(&second).await;
    second.close().await;
}

/// The newer methods through `Store`, which forwards each to its engine.
async fn exercise_store_forwarding(store: &Store) {
    let page = store
        .query_usage(&UsageFilter::default())
        .await
        .expect("log");
    assert_eq!(page.records, vec![record(1)]);
    let q = StatsQuery {
        since_ms: 0,
        until_ms: i64::MAX,
        group: StatsGroup::Provider,
        bucket: None,
    };
    let stats = store.usage_stats(&q).await.expect("stats");
    assert_eq!((stats.len(), stats[0].requests), (1, 1));
    store.put_setting("a", "1").await.expect("put");
    assert_eq!(store.get_setting("a").await.expect("get"), Some("1".into()));
    assert_eq!(store.list_settings().await.expect("list").len(), 1);
    assert!(store.delete_setting("a").await.expect("delete"));
    assert_eq!(store.change_version().await.expect("version"), 3);
    let id = store
        .insert_audit(&audit(1, "setting.delete", "a"))
        .await
        .expect("audit");
    let listed = store
        .list_audit(&AuditFilter::default())
        .await
        .expect("list");
    assert_eq!(listed[0].id, id);
}

#[tokio::test]
async fn sqlite_reopen_is_idempotent() {
    let db = common::SqliteDb::new();
    reopen_is_idempotent(&db.url(), "sqlite").await;
    assert!(db.path().is_file(), "folders and file created");

    // WAL journal: a write leaves its `-wal` file beside the database while connections live.
    let store = Store::open(&db.url()).await.expect("open");
    store.insert_usage(&[record(3)]).await.expect("usage");
    let wal = db.path().with_file_name("switchyard.db-wal");
    assert!(wal.is_file(), "{} missing: not in WAL mode", wal.display());
    store.close().await;
}

#[tokio::test]
async fn postgres_reopen_is_idempotent() {
    let db = common::PostgresDb::new().await;
    reopen_is_idempotent(db.url(), "postgres").await;
}

#[tokio::test]
async fn sqlite_in_memory_opens() {
    let store = Store::open("sqlite::memory:").await.expect("memory");
    store
        .insert_usage(&[record(1), record(2)])
        .await
        .expect("usage");
    assert_eq!(store.usage_count().await.expect("count"), 2);
}

#[tokio::test]
async fn unknown_url_scheme_is_refused() {
    match Store::open("mysql://localhost/x").await {
        Err(StoreError::UnsupportedUrl { scheme }) => assert_eq!(scheme, "mysql"),
        other => panic!("expected UnsupportedUrl, got {other:?}"),
    }
}

// ---------------------------------------------------------------- throughput

/// Not a test: measures the batching writer's sink, 10,000 records in batches of several
/// sizes, best of five rounds (the machine is shared, so the best round is the signal). Run
/// with `cargo test -p switchyard-store --release --test suite -- --ignored --nocapture`.
// A measurement, not a check of logic: wall time is exactly what it reports.
#[allow(clippy::disallowed_methods)]
async fn measure_insert_usage<E: Engine>(engine: &str, store: &E) {
    let records: Vec<UsageRecord> = (0..10_000).map(record).collect();
    for batch_size in [10_000, 1_000, 100] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            for batch in records.chunks(batch_size) {
                store.insert_usage(batch).await.expect("insert");
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "{engine}: 10,000 records in batches of {batch_size}: {:.0} records/s (best {:.1} ms)",
            10_000.0 / best,
            best * 1_000.0
        );
    }
}

#[tokio::test]
#[ignore = "measurement, prints records/s"]
async fn throughput_sqlite_insert_usage() {
    let db = common::SqliteDb::new();
    let store = SqliteStore::open(&db.url()).await.expect("open");
    measure_insert_usage("sqlite", &store).await;
    store.close().await;
}

#[tokio::test]
#[ignore = "measurement, prints records/s"]
async fn throughput_postgres_insert_usage() {
    let db = common::PostgresDb::new().await;
    let store = PostgresStore::connect(db.url()).await.expect("open");
    measure_insert_usage("postgres", &store).await;
    store.close().await;
}

/// A week of records (one every 0.6 s), then the statistics of the whole week by model per
/// hour: how long a scan of that size takes and whether memory stays flat (watch RSS). Run
/// like `measure_insert_usage`.
// A measurement, not a check of logic: wall time is exactly what it reports.
#[allow(clippy::disallowed_methods)]
async fn measure_usage_stats<E: Engine>(engine: &str, store: &E) {
    const N: usize = 1_000_000;
    let week_ms = 7 * 86_400_000;
    let base = 1_710_028_800_000;
    for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
        let batch: Vec<UsageRecord> = chunk
            .iter()
            .map(|&i| {
                let mut r = record(i);
                r.started_at_ms = base + (i as i64 * week_ms) / N as i64;
                r.latency_ms = 50 + (i as u64 * 7_919) % 60_000;
                r
            })
            .collect();
        store.insert_usage(&batch).await.expect("insert");
    }
    for (group, bucket) in [
        (StatsGroup::None, None),
        (StatsGroup::Model, Some(Bucket::Hour)),
        (StatsGroup::Credential, Some(Bucket::Day)),
    ] {
        let q = StatsQuery {
            since_ms: base,
            until_ms: base + week_ms,
            group,
            bucket,
        };
        let start = Instant::now();
        let rows = store.usage_stats(&q).await.expect("stats");
        let secs = start.elapsed().as_secs_f64();
        let requests: u64 = rows.iter().map(|r| r.requests).sum();
        assert_eq!(requests, N as u64);
        println!(
            "{engine}: stats of {N} records by {group:?}/{bucket:?}: {} rows in {:.0} ms \
             ({:.0} records/s)",
            rows.len(),
            secs * 1_000.0,
            N as f64 / secs
        );
    }
}

#[tokio::test]
#[ignore = "measurement, prints records/s"]
async fn throughput_sqlite_usage_stats() {
    let db = common::SqliteDb::new();
    let store = SqliteStore::open(&db.url()).await.expect("open");
    measure_usage_stats("sqlite", &store).await;
    store.close().await;
}

#[tokio::test]
#[ignore = "measurement, prints records/s"]
async fn throughput_postgres_usage_stats() {
    let db = common::PostgresDb::new().await;
    let store = PostgresStore::connect(db.url()).await.expect("open");
    measure_usage_stats("postgres", &store).await;
    store.close().await;
}

// ---------------------------------------------------------------- per engine

/// Runs each behaviour once per engine, each on a fresh database: `sqlite::<name>` and
/// `postgres::<name>`.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::common::SqliteDb::new();
                    let store = switchyard_store::SqliteStore::open(&db.url())
                        .await
                        .expect("open sqlite");
                    crate::$name(&store).await;
                    store.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::common::PostgresDb::new().await;
                    let store = switchyard_store::PostgresStore::connect(db.url())
                        .await
                        .expect("open postgres");
                    crate::$name(&store).await;
                    store.close().await;
                }
            )*
        }
    };
}

suite!(
    usage_empty_batch_is_a_no_op,
    usage_one_record_round_trips,
    usage_summary_exact_numbers,
    usage_large_batch_and_summaries,
    usage_recent_orders_ties_by_insertion,
    usage_concurrent_writers,
    keys_round_trip,
    credentials_round_trip,
    change_version_moves_on_every_key_and_credential_write,
    responses_put_get_expire_prune,
    usage_log_filters,
    usage_log_pages_with_the_cursor,
    usage_log_caps_the_page,
    usage_stats_agree_with_the_accumulator,
    usage_stats_exact_numbers,
    settings_round_trip,
    audit_round_trip_and_filters,
    audit_pages_by_id,
);
