//! The report: reads the JSON lines `bench/run` wrote (one per load run, memory sample or
//! criterion estimate, after one line of metadata), merges the rounds of each cell into one
//! histogram per target, subtracts the direct baseline, checks the budgets, and writes the
//! Markdown table and the JSON artifact. It must not measure anything itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::load::{histogram, summary, Summary};

const TARGETS: [&str; 3] = ["direct", "nginx", "switchyard"];

#[derive(Debug, Deserialize)]
struct Run {
    scenario: String,
    target: String,
    concurrency: usize,
    /// Proxy CPU seconds (user + system) during the run; none for direct.
    cpu_s: Option<f64>,
    result: RunResult,
}

#[derive(Debug, Deserialize)]
struct RunResult {
    rate: f64,
    count: u64,
    errors: u64,
    elapsed_s: f64,
    max_in_flight: usize,
    latency_hist: Vec<[u64; 2]>,
    ttfb_hist: Vec<[u64; 2]>,
    /// Absent from runs recorded before the load generator measured time to first token.
    #[serde(default)]
    ttft_hist: Vec<[u64; 2]>,
}

/// Every round of one (scenario, concurrency, target), merged.
#[derive(Debug)]
struct Merged {
    rate: f64,
    count: u64,
    errors: u64,
    elapsed_s: f64,
    cpu_s: Option<f64>,
    max_in_flight: usize,
    latency: Summary,
    ttfb: Summary,
    /// None when a round with requests has no time-to-first-token histogram (recorded by an
    /// older load generator): a partial merge would not be the same requests.
    ttft: Option<Summary>,
}

impl Merged {
    fn cpu_ms_per_req(&self) -> Option<f64> {
        let cpu = self.cpu_s?;
        (self.count > 0).then(|| cpu * 1000.0 / self.count as f64)
    }
}

type Key = (String, usize);

pub fn write(input: &Path, json_out: &Path, md_out: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let mut meta = Value::Null;
    let mut runs: BTreeMap<Key, BTreeMap<String, Vec<Run>>> = BTreeMap::new();
    let mut rss: Vec<Value> = Vec::new();
    let mut criterion: Vec<Value> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).with_context(|| format!("line {} is not JSON", n + 1))?;
        match v["kind"].as_str() {
            Some("meta") => meta = v,
            Some("rss") => rss.push(v),
            Some("criterion") => criterion.push(v),
            Some("load") => {
                let run: Run = serde_json::from_value(v)
                    .with_context(|| format!("line {} is not a load run", n + 1))?;
                runs.entry((run.scenario.clone(), run.concurrency))
                    .or_default()
                    .entry(run.target.clone())
                    .or_default()
                    .push(run);
            }
            _ => anyhow::bail!("line {} has no known kind", n + 1),
        }
    }
    let mut cells: BTreeMap<Key, BTreeMap<String, Merged>> = BTreeMap::new();
    for (key, by_target) in &runs {
        for (target, rounds) in by_target {
            cells
                .entry(key.clone())
                .or_default()
                .insert(target.clone(), merge(rounds)?);
        }
    }
    let budgets = budgets(&cells, &rss);
    let md = markdown(&meta, &cells, &rss, &criterion, &budgets);
    let artifact = json!({
        "meta": meta,
        "cells": cells.iter().map(|((scenario, conc), t)| cell_json(scenario, *conc, t)).collect::<Vec<_>>(),
        "rss": rss,
        "criterion": criterion,
        "budgets": budgets.iter().map(|b| json!({
            "budget": b.name, "measured": b.measured, "met": b.met,
        })).collect::<Vec<_>>(),
    });
    std::fs::write(json_out, serde_json::to_string_pretty(&artifact)? + "\n")
        .with_context(|| format!("writing {}", json_out.display()))?;
    std::fs::write(md_out, &md).with_context(|| format!("writing {}", md_out.display()))?;
    Ok(md)
}

fn merge(rounds: &[Run]) -> anyhow::Result<Merged> {
    let mut latency = histogram()?;
    let mut ttfb = histogram()?;
    let mut ttft = histogram()?;
    let mut ttft_missing = false;
    let (mut count, mut errors, mut elapsed, mut max_in_flight) = (0, 0, 0.0, 0);
    let mut cpu: Option<f64> = None;
    for r in rounds {
        for [v, n] in &r.result.latency_hist {
            latency.record_n(*v, *n).context("merging histograms")?;
        }
        for [v, n] in &r.result.ttfb_hist {
            ttfb.record_n(*v, *n).context("merging histograms")?;
        }
        for [v, n] in &r.result.ttft_hist {
            ttft.record_n(*v, *n).context("merging histograms")?;
        }
        ttft_missing |= r.result.ttft_hist.is_empty() && !r.result.latency_hist.is_empty();
        count += r.result.count;
        errors += r.result.errors;
        elapsed += r.result.elapsed_s;
        max_in_flight = max_in_flight.max(r.result.max_in_flight);
        if let Some(c) = r.cpu_s {
            cpu = Some(cpu.unwrap_or(0.0) + c);
        }
    }
    Ok(Merged {
        rate: rounds.first().map_or(0.0, |r| r.result.rate),
        count,
        errors,
        elapsed_s: elapsed,
        cpu_s: cpu,
        max_in_flight,
        latency: summary(&latency),
        ttfb: summary(&ttfb),
        ttft: (!ttft_missing).then(|| summary(&ttft)),
    })
}

/// `proxy − direct` per percentile, in milliseconds.
fn added(proxy: &Summary, direct: &Summary) -> [f64; 3] {
    [
        (proxy.p50_us - direct.p50_us) / 1000.0,
        (proxy.p99_us - direct.p99_us) / 1000.0,
        (proxy.p999_us - direct.p999_us) / 1000.0,
    ]
}

fn summary_json(s: &Summary) -> Value {
    json!({"p50_ms": s.p50_us / 1000.0, "p99_ms": s.p99_us / 1000.0,
           "p999_ms": s.p999_us / 1000.0, "max_ms": s.max_us / 1000.0, "mean_ms": s.mean_us / 1000.0})
}

fn cell_json(scenario: &str, conc: usize, t: &BTreeMap<String, Merged>) -> Value {
    let mut targets = serde_json::Map::new();
    for (name, m) in t {
        targets.insert(
            name.clone(),
            json!({
                "count": m.count, "errors": m.errors, "elapsed_s": m.elapsed_s,
                "achieved_rate": m.count as f64 / m.elapsed_s.max(1e-9),
                "max_in_flight": m.max_in_flight,
                "cpu_s": m.cpu_s, "cpu_s_per_1000": m.cpu_ms_per_req(),
                "latency": summary_json(&m.latency), "ttfb": summary_json(&m.ttfb),
                "ttft": m.ttft.as_ref().map(summary_json),
            }),
        );
    }
    let mut added_json = serde_json::Map::new();
    if let Some(d) = t.get("direct") {
        for proxy in ["nginx", "switchyard"] {
            if let Some(p) = t.get(proxy) {
                let [a, b, c] = added(&p.latency, &d.latency);
                let [x, y, z] = added(&p.ttfb, &d.ttfb);
                let ttft = match (&p.ttft, &d.ttft) {
                    (Some(p), Some(d)) => {
                        let [u, v, w] = added(p, d);
                        json!({"p50": u, "p99": v, "p999": w})
                    }
                    _ => Value::Null,
                };
                added_json.insert(
                    proxy.into(),
                    json!({"latency_ms": {"p50": a, "p99": b, "p999": c},
                           "ttfb_ms": {"p50": x, "p99": y, "p999": z},
                           "ttft_ms": ttft}),
                );
            }
        }
    }
    json!({
        "scenario": scenario, "concurrency": conc,
        "rate": t.values().next().map_or(0.0, |m| m.rate),
        "targets": targets, "added_over_direct": added_json,
    })
}

#[derive(Debug)]
struct Budget {
    name: String,
    measured: String,
    met: Option<bool>,
}

fn get<'a>(
    cells: &'a BTreeMap<Key, BTreeMap<String, Merged>>,
    scenario: &str,
    conc: usize,
    target: &str,
) -> Option<&'a Merged> {
    cells.get(&(scenario.to_owned(), conc))?.get(target)
}

fn rss_kb(rss: &[Value], target: &str, phase: &str, field: &str) -> Option<f64> {
    rss.iter()
        .find(|v| v["target"] == target && v["phase"] == phase)
        .and_then(|v| v[field].as_f64())
}

fn budgets(cells: &BTreeMap<Key, BTreeMap<String, Merged>>, rss: &[Value]) -> Vec<Budget> {
    let mut out = Vec::new();
    let mut push = |name: &str, measured: String, met: Option<bool>| {
        out.push(Budget {
            name: name.to_owned(),
            measured,
            met,
        })
    };
    let triple = |scenario: &str, conc: usize| {
        Some((
            get(cells, scenario, conc, "direct")?,
            get(cells, scenario, conc, "nginx")?,
            get(cells, scenario, conc, "switchyard")?,
        ))
    };
    match triple("passthrough-json", 1) {
        Some((d, n, s)) => {
            let sa = added(&s.latency, &d.latency);
            let na = added(&n.latency, &d.latency);
            for (i, p) in [(0, "p50"), (1, "p99")] {
                push(
                    &format!("passthrough JSON, c=1: added {p} ≤ 1.5× nginx's"),
                    format!(
                        "{:.3} ms vs nginx {:.3} ms (limit {:.3})",
                        sa[i],
                        na[i],
                        1.5 * na[i]
                    ),
                    Some(sa[i] <= 1.5 * na[i]),
                );
            }
        }
        None => push("passthrough JSON, c=1 latency", "not measured".into(), None),
    }
    for (scenario, limit) in [("passthrough-json", 3.0), ("cross-json", 5.0)] {
        let cpu = |t| get(cells, scenario, 64, t).and_then(Merged::cpu_ms_per_req);
        let name = format!("{scenario}, c=64: proxy CPU per request ≤ {limit}× nginx's");
        match (cpu("switchyard"), cpu("nginx")) {
            (Some(s), Some(n)) if n > 0.0 => push(
                &name,
                format!(
                    "{:.1} µs vs nginx {:.1} µs ({:.2}×)",
                    s * 1000.0,
                    n * 1000.0,
                    s / n
                ),
                Some(s <= limit * n),
            ),
            _ => push(&name, "not measured".into(), None),
        }
    }
    // Two views of the maximum: what the closed loop reached, and what the proxy's CPU per
    // request says one core could carry. The first is capped by CPU 0 (load generator and
    // mock) when the proxy is not saturated, so the budget is judged on the second.
    let tp = |t| get(cells, "throughput-json", 64, t);
    match (tp("switchyard"), tp("nginx")) {
        (Some(s), Some(n)) => {
            let reached = |m: &Merged| m.count as f64 / m.elapsed_s;
            let (rs, rn) = (reached(s), reached(n));
            let (cs, cn) = (capacity(s), capacity(n));
            let measured = format!(
                "reached {rs:.0} vs nginx {rn:.0} req/s ({:.0}%); one-core capacity from CPU/request {} vs nginx {} req/s ({})",
                100.0 * rs / rn,
                cs.map_or("–".into(), |c| format!("{c:.0}")),
                cn.map_or("–".into(), |c| format!("{c:.0}")),
                match (cs, cn) {
                    (Some(a), Some(b)) => format!("{:.0}%", 100.0 * a / b),
                    _ => "–".into(),
                }
            );
            let met = match (cs, cn) {
                (Some(a), Some(b)) => Some(a >= 0.4 * b),
                _ => Some(rs >= 0.4 * rn),
            };
            push(
                "max throughput (passthrough JSON, proxy on one core) ≥ 40% of nginx's",
                measured,
                met,
            );
        }
        _ => push("max throughput", "not measured".into(), None),
    }
    for scenario in ["passthrough-stream", "cross-stream"] {
        let name = format!("{scenario}, c=1: added TTFB p50 ≤ 0.2 ms");
        match triple(scenario, 1) {
            Some((d, _, s)) => {
                let a = added(&s.ttfb, &d.ttfb)[0];
                push(&name, format!("{a:.3} ms"), Some(a <= 0.2));
            }
            None => push(&name, "not measured".into(), None),
        }
    }
    let paced = cells
        .keys()
        .find(|(s, _)| s == "paced-stream")
        .map(|(_, c)| *c);
    match paced.and_then(|c| triple("paced-stream", c)) {
        Some((d, _, s)) => {
            let ratio = s.latency.p50_us / d.latency.p50_us;
            push(
                "paced stream (chunks 5 ms apart) p50 finishes ≤ direct + 1%",
                format!(
                    "{:.2} ms vs direct {:.2} ms (+{:.2}%)",
                    s.latency.p50_us / 1000.0,
                    d.latency.p50_us / 1000.0,
                    (ratio - 1.0) * 100.0
                ),
                Some(ratio <= 1.01),
            );
        }
        None => push("paced stream", "not measured".into(), None),
    }
    let mb = |kb: f64| kb / 1024.0;
    match rss_kb(rss, "switchyard", "idle", "vm_hwm_kb") {
        Some(kb) => push(
            "RSS idle ≤ 20 MB (VmHWM after start)",
            format!("{:.1} MB", mb(kb)),
            Some(mb(kb) <= 20.0),
        ),
        None => push("RSS idle", "not measured".into(), None),
    }
    match rss_kb(rss, "switchyard", "c256", "vm_hwm_kb") {
        Some(kb) => push(
            "RSS at concurrency 256 ≤ 40 MB (VmHWM)",
            format!("{:.1} MB", mb(kb)),
            Some(mb(kb) <= 40.0),
        ),
        None => push("RSS at 256", "not measured".into(), None),
    }
    let streams = rss
        .iter()
        .find(|v| v["target"] == "switchyard" && v["phase"] == "streams");
    match streams {
        Some(v) => {
            let before = v["before_kb"].as_f64().unwrap_or(0.0);
            let peak = v["peak_kb"].as_f64().unwrap_or(0.0);
            let open = v["open_streams"].as_f64().unwrap_or(0.0).max(1.0);
            let per = (peak - before) / open;
            push(
                "RSS per open stream ≤ 60 KB",
                format!(
                    "{per:.1} KB ({:.1} MB → {:.1} MB with {open:.0} streams open)",
                    mb(before),
                    mb(peak)
                ),
                Some(per <= 60.0),
            );
        }
        None => push("RSS per open stream", "not measured".into(), None),
    }
    push(
        "no chunk held back",
        "proved by crates/server/tests/it/no_buffering.rs (gated upstream, not a timing)".into(),
        None,
    );
    out
}

/// Requests per second one core could carry, from the proxy's CPU seconds per request.
fn capacity(m: &Merged) -> Option<f64> {
    let cpu = m.cpu_s?;
    (cpu > 0.0).then(|| m.count as f64 / cpu)
}

fn ms(us: f64) -> String {
    format!("{:.3}", us / 1000.0)
}

fn signed(v: f64) -> String {
    format!("{v:+.3}")
}

fn ratio(s: f64, n: f64) -> String {
    if n > 0.0 && s > 0.0 {
        format!("{:.2}", s / n)
    } else {
        "–".into()
    }
}

/// One row per stream cell: direct's `metric` and what each proxy adds to it; "–" where a
/// cell has no such figure (runs recorded before it was measured).
fn stream_table(
    s: &mut String,
    cells: &BTreeMap<Key, BTreeMap<String, Merged>>,
    metric: &str,
    pick: impl Fn(&Merged) -> Option<&Summary>,
    open_streams: bool,
) {
    let _ = write!(
        s,
        "| scenario | conc | direct {metric} p50 / p99 | switchyard + p50 / p99 / p99.9 | nginx + p50 / p99 / p99.9 |"
    );
    if open_streams {
        let _ = writeln!(
            s,
            " open streams (max in flight, sy) |\n|---|---|---|---|---|---|"
        );
    } else {
        let _ = writeln!(s, "\n|---|---|---|---|---|");
    }
    for ((scenario, conc), t) in cells {
        if !scenario.contains("stream") {
            continue;
        }
        let (Some(d), Some(n), Some(y)) = (t.get("direct"), t.get("nginx"), t.get("switchyard"))
        else {
            continue;
        };
        let added_three = |p: &Merged| match (pick(p), pick(d)) {
            (Some(p), Some(d)) => added(p, d).map(signed).join(" / "),
            _ => "– / – / –".to_owned(),
        };
        let direct = pick(d).map_or("– / –".to_owned(), |d| {
            format!("{} / {}", ms(d.p50_us), ms(d.p99_us))
        });
        let _ = write!(
            s,
            "| {scenario} | {conc} | {direct} | {} | {} |",
            added_three(y),
            added_three(n),
        );
        if open_streams {
            let _ = write!(s, " {} |", y.max_in_flight);
        }
        let _ = writeln!(s);
    }
}

fn markdown(
    meta: &Value,
    cells: &BTreeMap<Key, BTreeMap<String, Merged>>,
    rss: &[Value],
    criterion: &[Value],
    budgets: &[Budget],
) -> String {
    let mut s = String::new();
    let m = |k: &str| meta[k].as_str().unwrap_or("?").to_owned();
    let _ = writeln!(
        s,
        "# switchyard benchmark — {} @ {}\n",
        m("date"),
        m("revision")
    );
    // Artifacts before concurrency 1 had rounds of its own lack the two fields.
    let c1 = if meta["rounds_c1"].is_null() {
        String::new()
    } else {
        format!(
            " ({} round(s) of {} s at concurrency 1)",
            meta["rounds_c1"], meta["seconds_c1"]
        )
    };
    let _ = writeln!(
        s,
        "Machine: {}. Mode: {}. Load generator and mock pinned to CPU 0, the proxy under \
         test (nginx or switchyard) to CPU 1. Every cell ran direct / nginx / switchyard \
         interleaved, {} round(s) of {} s each{c1}; percentiles are of the merged rounds. \
         Added latency = proxy percentile − direct percentile (ms; negative is noise).\n",
        m("machine"),
        m("mode"),
        meta["rounds"],
        meta["seconds"],
    );
    let _ = writeln!(s, "## Added latency over direct (ms)\n");
    let _ = writeln!(
        s,
        "| scenario | conc | rate/s | direct p50 / p99 / p99.9 | switchyard + p50 / p99 / p99.9 | nginx + p50 / p99 / p99.9 | sy/nginx p50 / p99 | errors d/n/s |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for ((scenario, conc), t) in cells {
        if scenario == "throughput-json" {
            continue;
        }
        let (Some(d), Some(n), Some(y)) = (t.get("direct"), t.get("nginx"), t.get("switchyard"))
        else {
            continue;
        };
        let sa = added(&y.latency, &d.latency);
        let na = added(&n.latency, &d.latency);
        let _ = writeln!(
            s,
            "| {scenario} | {conc} | {:.0} | {} / {} / {} | {} / {} / {} | {} / {} / {} | {} / {} | {}/{}/{} |",
            d.rate,
            ms(d.latency.p50_us),
            ms(d.latency.p99_us),
            ms(d.latency.p999_us),
            signed(sa[0]),
            signed(sa[1]),
            signed(sa[2]),
            signed(na[0]),
            signed(na[1]),
            signed(na[2]),
            ratio(sa[0], na[0]),
            ratio(sa[1], na[1]),
            d.errors,
            n.errors,
            y.errors,
        );
    }
    let _ = writeln!(
        s,
        "\n## Streams: added time to first byte over direct (ms)\n"
    );
    stream_table(&mut s, cells, "TTFB", |m| Some(&m.ttfb), true);
    let _ = writeln!(
        s,
        "\n## Streams: added time to first token over direct (ms)\n"
    );
    let _ = writeln!(
        s,
        "TTFB is due → first body byte and TTFT due → first body chunk with content (a \
         non-empty text or tool delta); they differ because switchyard holds an upstream's \
         content-free opening events (OpenAI's role-only chunk, Anthropic's `message_start`) \
         until the first content arrives, so that a failure before it can still be retried \
         invisibly, which with a paced upstream delays its first byte by about one chunk \
         interval but not its first token, the moment the client actually waits for. In \
         realistic-stream direct and nginx read the mock's Anthropic endpoint, which paces \
         `message_start`, `content_block_start` and `ping` one interval each before the first \
         text, so a negative switchyard figure there is the mock's two dialects differing, not \
         the proxy.\n"
    );
    stream_table(&mut s, cells, "TTFT", |m| m.ttft.as_ref(), false);
    let _ = writeln!(s, "\n## Proxy CPU seconds per 1,000 requests\n");
    let _ = writeln!(s, "| scenario | conc | switchyard | nginx | sy/nginx |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for ((scenario, conc), t) in cells {
        let cpu = |name: &str| t.get(name).and_then(Merged::cpu_ms_per_req);
        let (Some(y), Some(n)) = (cpu("switchyard"), cpu("nginx")) else {
            continue;
        };
        let _ = writeln!(
            s,
            "| {scenario} | {conc} | {y:.3} | {n:.3} | {} |",
            ratio(y, n)
        );
    }
    let _ = writeln!(
        s,
        "\n## Max throughput (passthrough JSON, closed loop, 64 connections)\n"
    );
    let _ = writeln!(
        s,
        "| target | req/s reached | p50 ms | p99 ms | proxy core busy | one-core capacity (req/s = 1 / CPU per request) | errors |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for target in TARGETS {
        if let Some(r) = get(cells, "throughput-json", 64, target) {
            let busy = r.cpu_s.map_or("–".to_owned(), |c| {
                format!("{:.0}%", 100.0 * c / r.elapsed_s)
            });
            let cap = capacity(r).map_or("–".to_owned(), |c| format!("{c:.0}"));
            let _ = writeln!(
                s,
                "| {target} | {:.0} | {} | {} | {busy} | {cap} | {} |",
                r.count as f64 / r.elapsed_s,
                ms(r.latency.p50_us),
                ms(r.latency.p99_us),
                r.errors
            );
        }
    }
    let _ = writeln!(s, "\n## Memory (proxy RSS)\n");
    let _ = writeln!(s, "| target | idle VmHWM | after c=256 VmHWM | before streams VmRSS | peak with streams open | per open stream | threads idle / c=256 / streams |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for target in ["nginx", "switchyard"] {
        let f = |phase: &str, field: &str| {
            rss_kb(rss, target, phase, field)
                .map_or("–".to_owned(), |kb| format!("{:.1} MB", kb / 1024.0))
        };
        let per = rss
            .iter()
            .find(|v| v["target"] == target && v["phase"] == "streams")
            .map_or("–".to_owned(), |v| {
                let open = v["open_streams"].as_f64().unwrap_or(0.0).max(1.0);
                let d =
                    v["peak_kb"].as_f64().unwrap_or(0.0) - v["before_kb"].as_f64().unwrap_or(0.0);
                format!("{:.1} KB ({open:.0} streams)", d / open)
            });
        let threads = |phase: &str| {
            rss_kb(rss, target, phase, "threads").map_or("–".to_owned(), |n| format!("{n:.0}"))
        };
        let _ = writeln!(
            s,
            "| {target} | {} | {} | {} | {} | {per} | {} / {} / {} |",
            f("idle", "vm_hwm_kb"),
            f("c256", "vm_hwm_kb"),
            f("streams", "before_kb"),
            f("streams", "peak_kb"),
            threads("idle"),
            threads("c256"),
            threads("streams"),
        );
    }
    if !criterion.is_empty() {
        let _ = writeln!(s, "\n## Protocol crate (criterion, mean per iteration)\n");
        let _ = writeln!(s, "| benchmark | mean |");
        let _ = writeln!(s, "|---|---|");
        for c in criterion {
            let ns = c["mean_ns"].as_f64().unwrap_or(0.0);
            let shown = if ns >= 1e6 {
                format!("{:.2} ms", ns / 1e6)
            } else {
                format!("{:.1} µs", ns / 1e3)
            };
            let _ = writeln!(s, "| {} | {shown} |", c["id"].as_str().unwrap_or("?"));
        }
    }
    let _ = writeln!(s, "\n## Budgets\n");
    let _ = writeln!(s, "| budget | measured | met |");
    let _ = writeln!(s, "|---|---|---|");
    for b in budgets {
        let met = match b.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        let _ = writeln!(s, "| {} | {} | {met} |", b.name, b.measured);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A load line as `bench/run` writes it; `ttft` is left out for a run recorded before
    /// the load generator measured time to first token.
    fn run(target: &str, ttfb_us: u64, ttft_us: Option<u64>) -> Run {
        let mut result = json!({
            "mode": "open", "connections": 1, "rate": 100.0, "count": 10, "errors": 0,
            "elapsed_s": 0.1, "achieved_rate": 100.0, "max_in_flight": 1,
            "latency": {}, "ttfb": {},
            "latency_hist": [[ttfb_us * 1000 + 9_000_000, 10]],
            "ttfb_hist": [[ttfb_us * 1000, 10]],
        });
        if let Some(us) = ttft_us {
            result["ttft_hist"] = json!([[us * 1000, 10]]);
        }
        serde_json::from_value(json!({
            "kind": "load", "scenario": "paced-stream", "target": target, "concurrency": 16,
            "round": 1, "cpu_s": null, "result": result,
        }))
        .unwrap()
    }

    fn cells(runs: [Run; 3]) -> BTreeMap<Key, BTreeMap<String, Merged>> {
        let mut by_target = BTreeMap::new();
        for r in runs {
            by_target.insert(r.target.clone(), merge(&[r]).unwrap());
        }
        BTreeMap::from([(("paced-stream".to_owned(), 16), by_target)])
    }

    #[test]
    fn ttft_is_merged_and_added_over_direct() {
        let cells = cells([
            run("direct", 300, Some(5_300)),
            run("nginx", 500, Some(5_500)),
            run("switchyard", 5_400, Some(5_400)),
        ]);
        // HDR keeps 3 significant digits (a bucket is 4,096 ns wide between 4 and 8 ms), so
        // the figures are a few µs off the round values recorded.
        let mut md = String::new();
        stream_table(&mut md, &cells, "TTFT", |m| m.ttft.as_ref(), false);
        assert!(md.contains("| direct TTFT p50 / p99 |"), "{md}");
        assert!(
            md.contains("| paced-stream | 16 | 5.300 / 5.300 | +0.102 / +0.102 / +0.102 | +0.201 / +0.201 / +0.201 |"),
            "{md}"
        );
        let mut md = String::new();
        stream_table(&mut md, &cells, "TTFB", |m| Some(&m.ttfb), true);
        assert!(
            md.contains("| paced-stream | 16 | 0.300 / 0.300 | +5.103 / +5.103 / +5.103 | +0.200 / +0.200 / +0.200 | 1 |"),
            "{md}"
        );
        let cell = cell_json("paced-stream", 16, &cells[&("paced-stream".to_owned(), 16)]);
        let close = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 0.005;
        assert!(
            close(&cell["targets"]["direct"]["ttft"]["p50_ms"], 5.3),
            "{cell}"
        );
        assert!(
            close(
                &cell["added_over_direct"]["switchyard"]["ttft_ms"]["p50"],
                0.1
            ),
            "{cell}"
        );
        assert!(
            close(
                &cell["added_over_direct"]["switchyard"]["ttfb_ms"]["p50"],
                5.1
            ),
            "{cell}"
        );
    }

    #[test]
    fn runs_recorded_without_ttft_still_read_and_show_none() {
        let cells = cells([
            run("direct", 300, None),
            run("nginx", 500, None),
            run("switchyard", 5_400, None),
        ]);
        let merged = &cells[&("paced-stream".to_owned(), 16)];
        assert!(merged.values().all(|m| m.ttft.is_none()));
        let mut md = String::new();
        stream_table(&mut md, &cells, "TTFT", |m| m.ttft.as_ref(), false);
        assert!(
            md.contains("| paced-stream | 16 | – / – | – / – / – | – / – / – |"),
            "{md}"
        );
        let cell = cell_json("paced-stream", 16, merged);
        assert!(cell["targets"]["direct"]["ttft"].is_null());
        assert!(cell["added_over_direct"]["switchyard"]["ttft_ms"].is_null());
    }

    #[test]
    fn a_round_without_ttft_leaves_the_cell_without_it() {
        let rounds = [run("direct", 300, Some(5_300)), run("direct", 300, None)];
        assert!(merge(&rounds).unwrap().ttft.is_none());
    }

    #[test]
    fn the_header_names_the_rounds_of_concurrency_1_when_recorded() {
        let meta = json!({"kind": "meta", "date": "2026-12-08", "revision": "abc",
            "machine": "m", "mode": "full", "rounds": 3, "seconds": 2,
            "rounds_c1": 12, "seconds_c1": 1});
        let md = markdown(&meta, &BTreeMap::new(), &[], &[], &[]);
        assert!(
            md.contains("3 round(s) of 2 s each (12 round(s) of 1 s at concurrency 1);"),
            "{md}"
        );
        let older = json!({"kind": "meta", "date": "2026-12-07", "revision": "abc",
            "machine": "m", "mode": "full", "rounds": 3, "seconds": 2});
        let md = markdown(&older, &BTreeMap::new(), &[], &[], &[]);
        assert!(md.contains("3 round(s) of 2 s each;"), "{md}");
    }
}
