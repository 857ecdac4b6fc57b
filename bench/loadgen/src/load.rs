//! One load run: N HTTP/1.1 keep-alive connections opened before the clock starts, each
//! sending one request at a time, and the latency of every request recorded in HDR
//! histograms (nanoseconds, 3 significant digits). It owns the timetable and the recording;
//! it must not interpret results (that is `report`'s job).
//!
//! Open loop (`--rate R`): request i is due at `t0 + i / R` whatever happened before, and its
//! latency is measured from that due time, not from when a connection was free to send it.
//! A stalled server therefore shows up as latency instead of silently lowering the load
//! (coordinated omission). The connection count caps how many requests are in flight.
//! Closed loop (`--rate 0`): every connection sends its next request as soon as the last one
//! ended, until the duration is over: the maximum throughput at that concurrency.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `http://host:port/path` (plain HTTP/1.1 only).
    #[arg(long)]
    url: String,
    /// The request body, sent as `application/json`.
    #[arg(long)]
    body_file: PathBuf,
    /// Extra request header, `name: value`; repeatable.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Connections, which is also the cap on requests in flight.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Requests per second on a fixed timetable; 0 runs closed loop (as fast as it goes).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Seconds of load (open loop: rate × duration requests are scheduled).
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Closed loop only: start the connections one by one over this many seconds instead of
    /// all at once, so thousands of long streams do not arrive as one burst.
    #[arg(long, default_value_t = 0.0)]
    ramp: f64,
    /// Text every response body must end with (within its last 256 bytes), e.g. `[DONE]`;
    /// a body without it counts as an error.
    #[arg(long)]
    expect: Option<String>,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

/// What `run` prints.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub mode: &'static str,
    pub connections: usize,
    pub rate: f64,
    pub count: u64,
    pub errors: u64,
    pub elapsed_s: f64,
    pub achieved_rate: f64,
    /// Most requests in flight at once (for stream runs: open streams).
    pub max_in_flight: usize,
    /// From the due time to the last body byte.
    pub latency: Summary,
    /// From the due time to the first body byte.
    pub ttfb: Summary,
    /// The histograms as `[value_ns, count]` pairs, so rounds can be merged exactly.
    pub latency_hist: Vec<[u64; 2]>,
    pub ttfb_hist: Vec<[u64; 2]>,
}

/// Largest value recorded: 100 s in nanoseconds.
const HIGHEST_NS: u64 = 100_000_000_000;

pub fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, HIGHEST_NS, 3).context("histogram bounds")
}

/// What every connection task shares.
struct Shared {
    target: Target,
    body: Bytes,
    expect: Option<Vec<u8>>,
    schedule: Schedule,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    errors: AtomicU64,
    /// (total latency, time to first byte). One lock per request is cheap next to a request,
    /// and one pair of histograms keeps memory flat at thousands of connections.
    hists: Mutex<(Histogram<u64>, Histogram<u64>)>,
}

#[derive(Debug, Clone)]
struct Target {
    addr: String,
    host: String,
    path: String,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

#[derive(Debug)]
enum Schedule {
    /// Due times released by the pacer thread at their instant; closed when all are out.
    Open(tokio::sync::Mutex<mpsc::UnboundedReceiver<Instant>>),
    Closed {
        until: Instant,
    },
}

impl Shared {
    /// Waits until the next request is due and returns its due time, or `None` when the run
    /// is over.
    async fn next_due(&self) -> Option<Instant> {
        match &self.schedule {
            Schedule::Open(due) => due.lock().await.recv().await,
            Schedule::Closed { until } => {
                let now = Instant::now();
                (now < *until).then_some(now)
            }
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<Outcome> {
    let target = parse_target(&args.url, &args.headers)?;
    let body = Bytes::from(
        std::fs::read(&args.body_file)
            .with_context(|| format!("reading {}", args.body_file.display()))?,
    );
    if args.connections == 0 || args.duration <= 0.0 || args.rate < 0.0 {
        bail!("--connections and --duration must be positive, --rate not negative");
    }
    // Every connection is open before the clock starts: connecting is not what is measured.
    let mut conns = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        conns.push(connect(&target.addr).await?);
    }
    let t0 = Instant::now() + Duration::from_millis(20);
    let duration = Duration::from_secs_f64(args.duration);
    let schedule = if args.rate > 0.0 {
        let total = (args.rate * args.duration).round().max(1.0) as u64;
        let interval = Duration::from_secs_f64(1.0 / args.rate);
        Schedule::Open(tokio::sync::Mutex::new(pacer(t0, interval, total)))
    } else {
        Schedule::Closed {
            until: t0 + duration,
        }
    };
    let shared = Arc::new(Shared {
        target,
        body,
        expect: args.expect.map(String::into_bytes),
        schedule,
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
        errors: AtomicU64::new(0),
        hists: Mutex::new((histogram()?, histogram()?)),
    });
    tokio::time::sleep_until(t0).await;
    let n = conns.len() as f64;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            let not_before = t0 + Duration::from_secs_f64(args.ramp.max(0.0) * i as f64 / n);
            tokio::spawn(worker(shared.clone(), Some(conn), not_before))
        })
        .collect();
    for task in tasks {
        task.await.context("a connection task panicked")?;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let hists = shared.hists.lock().unwrap_or_else(PoisonError::into_inner);
    let (latency, ttfb) = &*hists;
    let count = latency.len();
    Ok(Outcome {
        mode: if args.rate > 0.0 { "open" } else { "closed" },
        connections: args.connections,
        rate: args.rate,
        count,
        errors: shared.errors.load(Ordering::Relaxed),
        elapsed_s: elapsed,
        achieved_rate: count as f64 / elapsed,
        max_in_flight: shared.max_in_flight.load(Ordering::Relaxed),
        latency: summary(latency),
        ttfb: summary(ttfb),
        latency_hist: dump(latency),
        ttfb_hist: dump(ttfb),
    })
}

pub fn summary(h: &Histogram<u64>) -> Summary {
    let us = |ns: u64| ns as f64 / 1000.0;
    Summary {
        p50_us: us(h.value_at_quantile(0.50)),
        p99_us: us(h.value_at_quantile(0.99)),
        p999_us: us(h.value_at_quantile(0.999)),
        max_us: us(h.max()),
        mean_us: h.mean() / 1000.0,
    }
}

fn dump(h: &Histogram<u64>) -> Vec<[u64; 2]> {
    h.iter_recorded()
        .map(|v| [v.value_iterated_to(), v.count_at_value()])
        .collect()
}

fn parse_target(url: &str, headers: &[String]) -> anyhow::Result<Target> {
    let uri: http::Uri = url.parse().with_context(|| format!("bad --url {url}"))?;
    if uri.scheme_str() != Some("http") {
        bail!("only http:// URLs are supported, got {url}");
    }
    let authority = uri.authority().context("the URL has no host")?;
    let port = authority.port_u16().unwrap_or(80);
    let path = uri
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    let mut parsed = Vec::new();
    for h in headers {
        let (name, value) = h
            .split_once(':')
            .with_context(|| format!("a header is `name: value`, got {h:?}"))?;
        parsed.push((
            http::HeaderName::from_bytes(name.trim().as_bytes())?,
            http::HeaderValue::from_str(value.trim())?,
        ));
    }
    Ok(Target {
        addr: format!("{}:{port}", authority.host()),
        host: authority.as_str().to_owned(),
        path,
        headers: parsed,
    })
}

async fn connect(addr: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let tcp = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    // Small requests and answers: Nagle would add tens of milliseconds.
    tcp.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(async move {
        // The connection ends when its sender is dropped or the server closes it; either way
        // the worker notices on its next request.
        let _ = conn.await;
    });
    Ok(sender)
}

/// Releases due times on a thread of its own. tokio's timer rounds every sleep up to the next
/// millisecond, which would add up to 1 ms of the generator's own lateness to every request;
/// a plain thread sleep wakes within tens of microseconds of the due time.
fn pacer(t0: Instant, interval: Duration, total: u64) -> mpsc::UnboundedReceiver<Instant> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for i in 0..total {
            let due = t0 + interval.mul_f64(i as f64);
            let wait = due.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                #[allow(clippy::disallowed_methods)]
                // reason: the pacer's thread exists to sleep precisely
                std::thread::sleep(wait);
            }
            if tx.send(due).is_err() {
                return;
            }
        }
    });
    rx
}

async fn worker(
    shared: Arc<Shared>,
    mut conn: Option<SendRequest<Full<Bytes>>>,
    not_before: Instant,
) {
    if not_before > Instant::now() {
        tokio::time::sleep_until(not_before).await;
    }
    while let Some(due) = shared.next_due().await {
        if conn.as_ref().is_none_or(|c| c.is_closed()) {
            conn = connect(&shared.target.addr).await.ok();
        }
        let Some(sender) = conn.as_mut() else {
            shared.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let now = shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::Relaxed);
        let result = one_request(&shared, sender).await;
        shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        match result {
            Ok((first, last)) => {
                let ns = |t: Instant| t.saturating_duration_since(due).as_nanos() as u64;
                let mut hists = shared.hists.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = hists.0.record(ns(last).clamp(1, HIGHEST_NS));
                let _ = hists.1.record(ns(first).clamp(1, HIGHEST_NS));
            }
            Err(_) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                conn = None;
            }
        }
    }
}

/// Sends one request and reads its whole body: the instants of the first and last body byte.
async fn one_request(
    shared: &Shared,
    sender: &mut SendRequest<Full<Bytes>>,
) -> anyhow::Result<(Instant, Instant)> {
    let t = &shared.target;
    let mut req = http::Request::post(t.path.as_str())
        .header(http::header::HOST, t.host.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(shared.body.clone()))?;
    for (name, value) in &t.headers {
        req.headers_mut().insert(name.clone(), value.clone());
    }
    sender.ready().await?;
    let resp = sender.send_request(req).await?;
    let ok = resp.status() == http::StatusCode::OK;
    let mut body = resp.into_body();
    let mut first = None;
    let mut tail: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        first.get_or_insert_with(Instant::now);
        if shared.expect.is_some() {
            tail.extend_from_slice(data);
            let keep = tail.len().saturating_sub(256);
            tail.drain(..keep);
        }
    }
    let last = Instant::now();
    if !ok {
        bail!("status was not 200");
    }
    if let Some(expect) = &shared.expect {
        if !tail.windows(expect.len()).any(|w| w == expect.as_slice()) {
            bail!("the body did not end with the expected text");
        }
    }
    Ok((first.unwrap_or(last), last))
}
