//! One load run: N HTTP/1.1 keep-alive connections opened before the clock starts, each
//! sending one request at a time, and the latency of every request recorded in HDR
//! histograms (nanoseconds, 3 significant digits). It owns the timetable and the recording;
//! it must not interpret results (that is `report`'s job).
//!
//! Three instants per request, all measured from its due time: the first body byte (TTFB),
//! the first body chunk that carries content (TTFT, time to first token: for an SSE body the
//! first chunk with a non-empty text or tool delta, see [`FirstToken`]; for any other body
//! the first byte) and the last body byte (latency). TTFB and TTFT differ when the first
//! bytes are content-free opening events, such as OpenAI's role-only first chunk.
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
    /// From the due time to the first body chunk with content (streams; else the first byte).
    pub ttft: Summary,
    /// The histograms as `[value_ns, count]` pairs, so rounds can be merged exactly.
    pub latency_hist: Vec<[u64; 2]>,
    pub ttfb_hist: Vec<[u64; 2]>,
    pub ttft_hist: Vec<[u64; 2]>,
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
    /// One lock per request is cheap next to a request, and one set of histograms keeps
    /// memory flat at thousands of connections.
    hists: Mutex<Hists>,
}

#[derive(Debug)]
struct Hists {
    /// Due time to the last body byte.
    latency: Histogram<u64>,
    /// Due time to the first body byte.
    ttfb: Histogram<u64>,
    /// Due time to the first body chunk with content.
    ttft: Histogram<u64>,
}

/// The instants one request is measured by.
#[derive(Debug, Clone, Copy)]
struct Instants {
    first_byte: Instant,
    first_token: Instant,
    last_byte: Instant,
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
        hists: Mutex::new(Hists {
            latency: histogram()?,
            ttfb: histogram()?,
            ttft: histogram()?,
        }),
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
    let Hists {
        latency,
        ttfb,
        ttft,
    } = &*hists;
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
        ttft: summary(ttft),
        latency_hist: dump(latency),
        ttfb_hist: dump(ttfb),
        ttft_hist: dump(ttft),
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
            Ok(at) => {
                let ns = |t: Instant| {
                    (t.saturating_duration_since(due).as_nanos() as u64).clamp(1, HIGHEST_NS)
                };
                let mut hists = shared.hists.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = hists.latency.record(ns(at.last_byte));
                let _ = hists.ttfb.record(ns(at.first_byte));
                let _ = hists.ttft.record(ns(at.first_token));
            }
            Err(_) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                conn = None;
            }
        }
    }
}

/// Sends one request and reads its whole body: the instants of the first body byte, of the
/// first chunk with content (an SSE body; any other body's first byte) and of the last byte.
async fn one_request(
    shared: &Shared,
    sender: &mut SendRequest<Full<Bytes>>,
) -> anyhow::Result<Instants> {
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
    let sse = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let mut body = resp.into_body();
    let mut first = None;
    // Only an SSE body is scanned; any other body's first token is its first byte.
    let mut scan = sse.then(FirstToken::default);
    let mut token = None;
    let mut tail: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        if token.is_none() {
            // When this chunk arrived (taken before it is scanned).
            let now = Instant::now();
            first.get_or_insert(now);
            if scan.as_mut().is_none_or(|s| s.feed(data)) {
                token = Some(now);
            }
        }
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
    Ok(Instants {
        first_byte: first.unwrap_or(last),
        // A stream in which no content marker was ever seen: its content, if any, arrived
        // by the last byte at the latest.
        first_token: token.unwrap_or(last),
        last_byte: last,
    })
}

/// Finds the first chunk of an SSE body that carries content, fed the chunks as they arrive.
///
/// Content is a data line with a non-empty text or tool delta: in an OpenAI chat stream a
/// `"content":"` followed by anything but `"` (so the role-only first chunk's
/// `"content":""` is not content) or `"tool_calls"`; in an Anthropic stream a `"text_delta"`,
/// `"input_json_delta"` or `"thinking_delta"` (so `message_start`, `content_block_start` and
/// `ping` are not). The markers include their quotes, and JSON escapes a quote inside a
/// string, so no string value can contain one; the only string-valued `content` key in a
/// chat completion chunk is `choices[].delta.content` (`logprobs.content` is an array). The
/// markers assume compact JSON (no space after the colon), as every upstream and proxy in the
/// kit writes it.
///
/// Each chunk is searched with memmem; a marker split across chunks is found in the seam
/// between the previous chunk's last bytes (kept in `tail`) and this chunk's first bytes.
/// Nothing is allocated.
#[derive(Debug, Default)]
struct FirstToken {
    /// The stream's last bytes so far, up to [`SEAM`] of them, in `tail[..kept]`.
    tail: [u8; SEAM],
    kept: usize,
}

/// A content marker, and whether the byte after it must be something other than `"`.
struct Marker {
    finder: memchr::memmem::Finder<'static>,
    nonempty: bool,
}

fn markers() -> &'static [Marker] {
    static MARKERS: std::sync::LazyLock<Vec<Marker>> = std::sync::LazyLock::new(|| {
        [
            (&br#""content":""#[..], true),
            (br#""tool_calls""#, false),
            (br#""text_delta""#, false),
            (br#""input_json_delta""#, false),
            (br#""thinking_delta""#, false),
        ]
        .into_iter()
        .map(|(needle, nonempty)| Marker {
            finder: memchr::memmem::Finder::new(needle),
            nonempty,
        })
        .collect()
    });
    &MARKERS
}

/// Bytes a match can reach on either side of a chunk boundary: the longest match less one.
/// The longest is `"input_json_delta"` (`"content":"` with the byte after it is shorter).
const SEAM: usize = br#""input_json_delta""#.len() - 1;

impl FirstToken {
    /// Feeds the next chunk; true when this chunk completes the stream's first content
    /// marker (or an earlier one it had not yet decided, like a `"content":"` that ended
    /// the previous chunk).
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let head = &chunk[..chunk.len().min(SEAM)];
        let mut joined = [0u8; 2 * SEAM];
        joined[..self.kept].copy_from_slice(&self.tail[..self.kept]);
        joined[self.kept..self.kept + head.len()].copy_from_slice(head);
        let seam = &joined[..self.kept + head.len()];
        if has_content(seam) || has_content(chunk) {
            return true;
        }
        // The last bytes of the stream so far: all in `seam` unless the chunk is longer.
        let last = if chunk.len() > SEAM { chunk } else { seam };
        let keep = &last[last.len().saturating_sub(SEAM)..];
        self.tail[..keep.len()].copy_from_slice(keep);
        self.kept = keep.len();
        false
    }
}

/// Whether `buf` holds a whole content marker. A `"content":"` at the very end is not yet
/// decided (the next byte may close an empty string); the seam decides it with the next chunk.
fn has_content(buf: &[u8]) -> bool {
    markers().iter().any(|m| {
        let len = m.finder.needle().len();
        m.finder
            .find_iter(buf)
            .any(|at| !m.nonempty || buf.get(at + len).is_some_and(|b| *b != b'"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAI_ROLE: &str = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    const OPENAI_TEXT: &str = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    const OPENAI_TOOL: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"\"}}]}}]}\n\n";
    const OPENAI_END: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":50}}\n\ndata: [DONE]\n\n";
    const ANTHROPIC_START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\",\"stop_reason\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    const ANTHROPIC_PING: &str = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
    const ANTHROPIC_END: &str = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":50}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    fn anthropic_delta(delta: &str) -> String {
        format!("event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{delta}}}\n\n")
    }

    /// A stream's content-free opening events, its first content event, and the text whose
    /// last byte decides that this event carries content.
    struct Stream {
        opening: String,
        content: String,
        decisive: &'static str,
    }

    impl Stream {
        fn whole(&self) -> String {
            format!("{}{}", self.opening, self.content)
        }
    }

    fn streams() -> Vec<Stream> {
        let openai = |content: &str, decisive| Stream {
            opening: OPENAI_ROLE.to_owned(),
            content: content.to_owned(),
            decisive,
        };
        let anthropic = |delta: &str, decisive| Stream {
            opening: format!("{ANTHROPIC_START}{ANTHROPIC_PING}"),
            content: anthropic_delta(delta),
            decisive,
        };
        vec![
            openai(OPENAI_TEXT, r#""content":"T"#),
            openai(OPENAI_TOOL, r#""tool_calls""#),
            anthropic(r#"{"type":"text_delta","text":"The"}"#, r#""text_delta""#),
            anthropic(
                r#"{"type":"input_json_delta","partial_json":"{\""}"#,
                r#""input_json_delta""#,
            ),
            anthropic(
                r#"{"type":"thinking_delta","thinking":"Let"}"#,
                r#""thinking_delta""#,
            ),
        ]
    }

    /// The index of the first chunk `FirstToken` reports, feeding them in order.
    fn first_token(chunks: &[&[u8]]) -> Option<usize> {
        let mut scan = FirstToken::default();
        chunks.iter().position(|c| scan.feed(c))
    }

    #[test]
    fn content_free_opening_events_are_not_content() {
        for opening in [
            OPENAI_ROLE.to_owned(),
            format!("{OPENAI_ROLE}{OPENAI_END}"),
            format!("{ANTHROPIC_START}{ANTHROPIC_PING}"),
            format!("{ANTHROPIC_START}{ANTHROPIC_PING}{ANTHROPIC_END}"),
        ] {
            assert_eq!(first_token(&[opening.as_bytes()]), None, "{opening}");
        }
    }

    #[test]
    fn the_first_content_event_is_found_in_its_own_chunk() {
        for s in streams() {
            // The opening events, then the first content event (how direct and nginx deliver
            // them when the upstream paces its chunks).
            let chunks = [s.opening.as_bytes(), s.content.as_bytes()];
            assert_eq!(first_token(&chunks), Some(1), "{}", s.decisive);
            // All at once (how a proxy that held the opening events sends them).
            assert_eq!(
                first_token(&[s.whole().as_bytes()]),
                Some(0),
                "{}",
                s.decisive
            );
        }
    }

    #[test]
    fn markers_split_across_two_chunks() {
        for s in streams() {
            let (stream, decisive) = (s.whole(), s.decisive);
            let end = stream.find(decisive).unwrap() + decisive.len();
            let b = stream.as_bytes();
            for cut in 1..b.len() {
                // The chunk holding the decisive byte is the one reported.
                let want = if end <= cut { 0 } else { 1 };
                assert_eq!(
                    first_token(&[&b[..cut], &b[cut..]]),
                    Some(want),
                    "cut at {cut}: {:?} | {:?}",
                    &stream[..cut],
                    &stream[cut..]
                );
            }
        }
    }

    #[test]
    fn markers_spread_over_many_tiny_chunks() {
        for s in streams() {
            let (stream, decisive) = (s.whole(), s.decisive);
            let end = stream.find(decisive).unwrap() + decisive.len();
            for size in 1..=5 {
                let chunks: Vec<&[u8]> = stream.as_bytes().chunks(size).collect();
                assert_eq!(
                    first_token(&chunks),
                    Some((end - 1) / size),
                    "{decisive}, size {size}"
                );
            }
        }
    }

    #[test]
    fn an_empty_content_at_a_chunk_end_waits_for_the_next_byte() {
        // `"content":"` ends the first chunk: the next byte says whether the string is empty.
        let marker = r#""content":""#;
        for (event, want) in [(OPENAI_ROLE, None), (OPENAI_TEXT, Some(1))] {
            let cut = event.find(marker).unwrap() + marker.len();
            let b = event.as_bytes();
            assert_eq!(first_token(&[&b[..cut], &b[cut..]]), want, "{event}");
        }
    }

    #[test]
    fn a_marker_escaped_inside_a_string_is_not_content() {
        let event = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}],"note":"{\"content\":\"x\",\"type\":\"text_delta\"}"}"#;
        assert_eq!(first_token(&[event.as_bytes()]), None);
    }
}
