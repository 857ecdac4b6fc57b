//! Streams: peek-then-commit, then a forwarding task.
//!
//! Before anything reaches the client, upstream bytes are read until the first meaningful
//! event (heartbeats and pings skipped); a failure or an error event before that is retried
//! elsewhere like any other. Once committed, one task owned by the state's tracker forwards
//! each upstream chunk as soon as it arrives: unchanged for the same dialect (a decoder reads
//! usage beside it), re-framed without the usage chunk when the gateway asked for usage the
//! client did not, or translated event by event. Long silences get a ping in the client's
//! dialect; a silence past the idle timeout, a dropped upstream, or a truncated stream ends
//! with the dialect's error event. The usage record is sent when the stream ends.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use switchyard_core::config::ProviderConfig;
use switchyard_core::pool::{Lease, Outcome, Pool};
use switchyard_protocol::ir::{Collector, ErrorBody, ErrorKind, StreamEvent};
use switchyard_protocol::sniff::StreamSniffer;
use switchyard_protocol::{sse, Dialect, EncodeOptions, StreamDecoder, StreamEncoder};

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::attempt::stream_error;
use super::history::Save;
use super::record::Recorder;
use super::{now_std, Attempt, Call};
use crate::state::AppState;

pub(crate) struct Start<'a> {
    pub state: &'a AppState,
    pub call: &'a Call,
    pub provider: &'a ProviderConfig,
    pub pool: &'a Pool,
    pub lease: Lease,
    pub resp: reqwest::Response,
    pub sent: Instant,
    pub rec: &'a mut Recorder,
    pub upstream: Dialect,
    pub passthrough: bool,
    pub strip_usage: bool,
    pub include_usage: bool,
    /// Responses state to save when the stream completes.
    pub save: Option<Save>,
}

/// How upstream bytes become client bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Passthrough,
    StripUsage,
    Translate,
}

pub(crate) async fn commit(start: Start<'_>) -> Attempt {
    let Start {
        state,
        call,
        provider,
        pool,
        mut lease,
        resp,
        sent,
        rec,
        upstream,
        passthrough,
        strip_usage,
        include_usage,
        save,
    } = start;
    let mode = match (passthrough, strip_usage) {
        (true, false) => Mode::Passthrough,
        (true, true) => Mode::StripUsage,
        (false, _) => Mode::Translate,
    };
    let mut f = Forward::new(upstream, call.dialect, mode, include_usage, save.is_some());
    let mut body = resp.bytes_stream();
    let deadline = sent + provider.timeouts.first_byte;
    let mut first = BytesMut::new();
    loop {
        let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
            Err(_) => {
                return retry(
                    pool,
                    lease,
                    sent,
                    Outcome::Timeout,
                    ErrorKind::Timeout,
                    "the upstream sent no event in time",
                )
            }
            Ok(None) => {
                return retry(
                    pool,
                    lease,
                    sent,
                    Outcome::ServerError { status: 502 },
                    ErrorKind::Api,
                    "the upstream closed the stream before its first event",
                )
            }
            Ok(Some(Err(_))) => {
                return retry(
                    pool,
                    lease,
                    sent,
                    Outcome::ConnectFailed,
                    ErrorKind::Api,
                    "the upstream stream broke before its first event",
                )
            }
            Ok(Some(Ok(c))) => c,
        };
        let out = f.process(&chunk);
        if let Some(e) = f.early_error.take() {
            // Failed before anything meaningful: as good as an error status.
            let outcome = match e.kind {
                ErrorKind::RateLimited => Outcome::RateLimited {
                    retry_after: e.retry_after.map(Duration::from_secs),
                },
                ErrorKind::InvalidRequest | ErrorKind::NotFound | ErrorKind::RequestTooLarge => {
                    Outcome::ClientError { status: e.status() }
                }
                _ => Outcome::ServerError { status: e.status() },
            };
            let retry = outcome.retry_elsewhere();
            pool.report(&mut lease, &outcome, sent.elapsed(), now_std());
            rec.waited(sent.elapsed());
            let err = crate::render::ApiError::from(e);
            return if retry {
                Attempt::Retry(err)
            } else {
                Attempt::Fail(err)
            };
        }
        first.extend_from_slice(&out);
        if f.meaningful {
            break;
        }
    }
    rec.waited(sent.elapsed());
    pool.report(&mut lease, &Outcome::Success, sent.elapsed(), now_std());

    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(32);
    let first = first.freeze();
    let mut resp = event_stream(body_after(first, rx));
    rec.stamp(&mut resp);
    let task = Task {
        state: state.clone(),
        rec: rec.clone(),
        lease,
        idle: provider.timeouts.idle,
        ping_every: state.limits.ping_interval,
        tx,
        save,
    };
    state.tasks.spawn(Box::new(task).run(Box::new(f), body));
    Attempt::Done(resp)
}

fn retry(
    pool: &Pool,
    mut lease: Lease,
    sent: Instant,
    outcome: Outcome,
    kind: ErrorKind,
    message: &str,
) -> Attempt {
    pool.report(&mut lease, &outcome, sent.elapsed(), now_std());
    Attempt::Retry(stream_error(kind, message))
}

/// A `200` event stream's response around `body`: the head every stream answer has.
pub(super) fn event_stream(body: Body) -> Response {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// `err` as the closing error event of a stream in `dialect`, for a stream whose own encoder
/// has not carried it.
pub(super) fn error_event(dialect: Dialect, err: ErrorBody) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = dialect.stream_encoder(&EncodeOptions::default());
    enc.encode(&StreamEvent::Error(err), &mut out);
    enc.finish(&mut out);
    out
}

/// A receiver as a response body, without pulling in another crate for it.
pub(super) fn body_from(rx: mpsc::Receiver<Result<Bytes, Infallible>>) -> Body {
    body_after(Bytes::new(), rx)
}

/// `first`, then what the receiver brings, as a response body. The bytes a stream committed
/// with are there when the head is written, so both leave in one write instead of the head
/// first and the bytes after a hop through the forwarding task.
fn body_after(first: Bytes, rx: mpsc::Receiver<Result<Bytes, Infallible>>) -> Body {
    let first = (!first.is_empty()).then_some(Ok(first));
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(futures_util::stream::iter(first).chain(rest))
}

/// Turns upstream bytes into client bytes, reading usage on the way.
struct Forward {
    parser: sse::Parser,
    decoder: StreamDecoder,
    encoder: StreamEncoder,
    mode: Mode,
    client: Dialect,
    items: Vec<sse::Item>,
    /// Events decoded from the upstream, kept only until processed (and, before commit,
    /// inspected for an early error).
    events: Vec<StreamEvent>,
    usage: switchyard_protocol::ir::Usage,
    model: String,
    failed: Option<String>,
    /// Whether content (a block or the final delta) has arrived: the commit point.
    meaningful: bool,
    /// An error the upstream sent before anything meaningful.
    early_error: Option<ErrorBody>,
    /// The whole answer, assembled only when it is to be saved as Responses state.
    collector: Option<Collector>,
    /// After commit, a forwarded stream is only sniffed (usage, failure, proper end), not
    /// decoded: see [`Forward::sniff_from_now`].
    sniffer: Option<StreamSniffer>,
    upstream: Dialect,
    /// The decoder saw the message end (before the sniffer took over, the whole answer may
    /// have come in the first chunks).
    stopped: bool,
}

impl Forward {
    fn new(
        upstream: Dialect,
        client: Dialect,
        mode: Mode,
        include_usage: bool,
        keep: bool,
    ) -> Self {
        Forward {
            parser: sse::Parser::new(),
            decoder: upstream.stream_decoder(),
            encoder: client.stream_encoder(&EncodeOptions {
                include_usage,
                ..EncodeOptions::default()
            }),
            mode,
            client,
            items: Vec::new(),
            events: Vec::new(),
            usage: Default::default(),
            model: String::new(),
            failed: None,
            meaningful: false,
            early_error: None,
            collector: keep.then(Collector::new),
            sniffer: None,
            upstream,
            stopped: false,
        }
    }

    /// Once the stream is committed, a forwarded one (same dialect, nothing to keep) needs
    /// no more decoding: the client gets the upstream's bytes, and the sniffer reads usage,
    /// failure and the proper end at a fraction of the cost.
    fn sniff_from_now(&mut self) {
        if self.mode != Mode::Translate && self.collector.is_none() {
            self.sniffer = Some(StreamSniffer::new(self.upstream));
        }
    }

    /// Client bytes for one upstream chunk.
    fn process(&mut self, chunk: &Bytes) -> Bytes {
        self.items.clear();
        self.parser.feed(chunk, &mut self.items);
        if let Some(sniffer) = &mut self.sniffer {
            let mut out = Vec::new();
            for item in &self.items {
                if let sse::Item::Frame(frame) = item {
                    sniffer.frame(frame);
                    if self.mode == Mode::StripUsage {
                        strip_usage_frame(frame, &mut out);
                    }
                }
            }
            return match self.mode {
                Mode::StripUsage => Bytes::from(out),
                _ => chunk.clone(),
            };
        }
        let mut out = Vec::new();
        let items = std::mem::take(&mut self.items);
        for item in &items {
            let sse::Item::Frame(frame) = item else {
                continue;
            };
            let start = self.events.len();
            if let Err(e) = self.decoder.decode(frame, &mut self.events) {
                self.events.push(StreamEvent::Error(ErrorBody::new(
                    ErrorKind::Api,
                    format!("the upstream sent a malformed event: {e}"),
                )));
            }
            match self.mode {
                Mode::Passthrough => {}
                Mode::StripUsage => strip_usage_frame(frame, &mut out),
                Mode::Translate => {
                    for ev in &self.events[start..] {
                        self.encoder.encode(ev, &mut out);
                    }
                }
            }
        }
        self.items = items;
        self.observe();
        match self.mode {
            Mode::Passthrough => chunk.clone(),
            _ => Bytes::from(out),
        }
    }

    /// Reads usage, model and failure from decoded events, then forgets them.
    fn observe(&mut self) {
        for ev in self.events.drain(..) {
            if let Some(c) = &mut self.collector {
                c.push(&ev);
            }
            match ev {
                StreamEvent::Ping => continue,
                StreamEvent::Error(e) => {
                    self.failed = Some(e.message.clone());
                    if !self.meaningful {
                        self.early_error = Some(e);
                    }
                    continue;
                }
                // A message start carries no content yet: an upstream that fails right
                // after it can still be retried invisibly.
                StreamEvent::MessageStart { model, usage, .. } => {
                    self.model = model;
                    self.usage.merge(&usage);
                    continue;
                }
                StreamEvent::MessageDelta { usage, .. } => self.usage.merge(&usage),
                StreamEvent::MessageStop => self.stopped = true,
                _ => {}
            }
            self.meaningful = true;
        }
    }

    /// Whether the decoder, which read the frames before the sniffer took over, calls the
    /// stream unfinished (OpenAI's end may have come as a finish reason in those frames).
    fn decoder_saw_no_end(&mut self) -> bool {
        let mut tail = Vec::new();
        self.decoder.finish(&mut tail);
        tail.iter().any(|e| matches!(e, StreamEvent::Error(_)))
    }

    /// Bytes to end the stream after the upstream closed it.
    fn finish(&mut self) -> Bytes {
        let mut out = Vec::new();
        if let Some(sniffer) = self.sniffer.take() {
            let mut tail = Vec::new();
            self.parser.finish(&mut tail);
            let mut sniffer = sniffer;
            for item in &tail {
                if let sse::Item::Frame(frame) = item {
                    sniffer.frame(frame);
                    if self.mode == Mode::StripUsage {
                        strip_usage_frame(frame, &mut out);
                    } else {
                        sse::write_frame(&mut out, frame.event.as_deref(), &frame.data);
                    }
                }
            }
            self.usage.merge(&sniffer.usage());
            if let Some(message) = sniffer.error() {
                self.failed = Some(message.to_string());
            } else if !sniffer.ended() && !self.stopped && self.decoder_saw_no_end() {
                // Truncated: the client's SDK must see an error, not a quiet end.
                let message = "upstream stream ended before completion";
                let ev = StreamEvent::Error(ErrorBody::new(ErrorKind::Api, message));
                let mut enc = self.client.stream_encoder(&EncodeOptions::default());
                enc.encode(&ev, &mut out);
                self.failed = Some(message.to_string());
            }
            return Bytes::from(out);
        }
        let mut tail = Vec::new();
        self.decoder.finish(&mut tail);
        match self.mode {
            Mode::Translate => {
                for ev in &tail {
                    self.encoder.encode(ev, &mut out);
                }
                self.encoder.finish(&mut out);
            }
            // The upstream's own closing bytes went through; only a truncation needs words.
            Mode::Passthrough | Mode::StripUsage => {
                if let Some(err) = tail.iter().find(|e| matches!(e, StreamEvent::Error(_))) {
                    let mut enc = self.client.stream_encoder(&EncodeOptions::default());
                    enc.encode(err, &mut out);
                }
            }
        }
        self.events = tail;
        self.observe();
        Bytes::from(out)
    }

    /// Ends the stream with an error event in the client's dialect.
    fn abort(&mut self, message: &str) -> Bytes {
        if let Some(sniffer) = self.sniffer.take() {
            self.usage.merge(&sniffer.usage());
        }
        let err = ErrorBody::new(ErrorKind::Api, message);
        let out = match self.mode {
            Mode::Translate => {
                let mut out = Vec::new();
                self.encoder.encode(&StreamEvent::Error(err), &mut out);
                self.encoder.finish(&mut out);
                out
            }
            _ => error_event(self.client, err),
        };
        self.failed = Some(message.to_string());
        Bytes::from(out)
    }

    fn ping(&mut self) -> Bytes {
        let mut out = Vec::new();
        self.encoder.ping(&mut out);
        Bytes::from(out)
    }
}

/// An OpenAI chat frame re-framed for a client that did not ask for usage: the usage-only
/// chunk dropped, usage removed from a chunk that also carries choices.
fn strip_usage_frame(frame: &sse::Frame, out: &mut Vec<u8>) {
    if frame.data.contains("\"usage\"") {
        if let Ok(serde_json::Value::Object(mut chunk)) = serde_json::from_str(&frame.data) {
            let usage_only = chunk
                .get("choices")
                .and_then(|c| c.as_array())
                .is_some_and(|c| c.is_empty());
            if usage_only {
                return;
            }
            chunk.remove("usage");
            let data = serde_json::Value::Object(chunk).to_string();
            sse::write_frame(out, frame.event.as_deref(), &data);
            return;
        }
    }
    sse::write_frame(out, frame.event.as_deref(), &frame.data);
}

/// Bytes one client write carries at most when the upstream bursts.
const MAX_WRITE: usize = 64 * 1024;

/// Appends to `out` every chunk the upstream has already delivered, processed. Returns the
/// bytes and, when the stream ended or failed meanwhile, how: `Some(None)` for its end,
/// `Some(Some(error))` for a failure.
///
/// The upstream connection's task hands over one decoded chunk at a time, so after each
/// chunk taken it gets one turn of the scheduler ([`let_others_run`]) to decode the next from
/// what it has already read. A burst then goes to the client in one write instead of one
/// write per chunk (a write is the most expensive thing a forwarded chunk costs); a lone
/// chunk waits one turn, never for time, and an upstream with nothing more ready ends the
/// batch. A batch stops at [`MAX_WRITE`] bytes.
async fn coalesce(
    f: &mut Forward,
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<Bytes>> + Unpin),
    out: Bytes,
) -> (Bytes, Option<Option<reqwest::Error>>) {
    use futures_util::FutureExt;
    let mut joined: Option<Vec<u8>> = None;
    loop {
        let_others_run().await;
        let mut more = false;
        while let Some(next) = body.next().now_or_never() {
            let after = match next {
                Some(Ok(chunk)) => {
                    let bytes = f.process(&chunk);
                    joined
                        .get_or_insert_with(|| out.to_vec())
                        .extend_from_slice(&bytes);
                    more = true;
                    continue;
                }
                Some(Err(e)) => Some(e),
                None => None,
            };
            return (joined.map_or(out, Bytes::from), Some(after));
        }
        let len = joined.as_ref().map_or(out.len(), Vec::len);
        if !more || len >= MAX_WRITE {
            return (joined.map_or(out, Bytes::from), None);
        }
    }
}

/// One turn of the scheduler for the tasks already woken, such as the upstream connection's
/// with the next chunk in its buffer. `tokio::task::yield_now` would also poll the I/O
/// driver on the way, a syscall per chunk; waking itself puts this task at the back of the
/// queue without one.
async fn let_others_run() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

/// The forwarding task's owned state.
struct Task {
    state: AppState,
    rec: Recorder,
    lease: Lease,
    idle: Duration,
    ping_every: Duration,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
    save: Option<Save>,
}

impl Task {
    /// `self` and `f` come boxed: an `async fn` keeps its arguments twice in its future (as
    /// captured and as moved locals), and this future lives as long as its stream.
    async fn run(
        mut self: Box<Self>,
        mut f: Box<Forward>,
        mut body: impl futures_util::Stream<Item = reqwest::Result<Bytes>> + Unpin,
    ) {
        f.sniff_from_now();
        let mut client_gone = false;
        let mut last_data = Instant::now();
        while !client_gone {
            let wait = self.ping_every.min(self.idle);
            match tokio::time::timeout(wait, body.next()).await {
                Ok(Some(Ok(chunk))) => {
                    last_data = Instant::now();
                    let out = f.process(&chunk);
                    let (out, after) = coalesce(&mut f, &mut body, out).await;
                    client_gone = !self.send(out).await;
                    match after {
                        None => {}
                        Some(None) => {
                            let out = f.finish();
                            self.send(out).await;
                            break;
                        }
                        Some(Some(_)) => {
                            let out = f.abort("the upstream connection was lost mid-stream");
                            self.send(out).await;
                            break;
                        }
                    }
                }
                Ok(None) => {
                    let out = f.finish();
                    self.send(out).await;
                    break;
                }
                Ok(Some(Err(_))) => {
                    let out = f.abort("the upstream connection was lost mid-stream");
                    self.send(out).await;
                    break;
                }
                Err(_) if last_data.elapsed() >= self.idle => {
                    let out = f.abort("the upstream went silent mid-stream");
                    self.send(out).await;
                    break;
                }
                Err(_) => {
                    let out = f.ping();
                    client_gone = !self.send(out).await;
                }
            }
        }
        drop(body);
        drop(self.lease);
        self.rec.usage(&f.usage);
        self.rec.served_model(&f.model);
        // Only a complete answer the client received is worth continuing from.
        if let (Some(save), Some(c), false, None) =
            (self.save.take(), f.collector.take(), client_gone, &f.failed)
        {
            let answer = c.finish();
            save.spawn(&self.state, answer.id.clone(), answer);
        }
        if client_gone {
            self.rec.record.error_class = Some("client_closed".into());
        } else if let Some(message) = f.failed {
            tracing::info!(request_id = %self.rec.record.request_id, %message, "stream ended with an error");
            self.rec.record.error_class = Some("stream_error".into());
        }
        self.rec.send(&self.state).await;
    }

    /// Whether the client is still there.
    async fn send(&self, bytes: Bytes) -> bool {
        bytes.is_empty() || self.tx.send(Ok(bytes)).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(i: usize) -> Bytes {
        let chunk = serde_json::json!({
            "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": format!("{i} ")}, "finish_reason": null}],
        });
        Bytes::from(format!("data: {chunk}\n\n"))
    }

    fn forwarding() -> Forward {
        let mut f = Forward::new(
            Dialect::OpenAiChat,
            Dialect::OpenAiChat,
            Mode::Passthrough,
            false,
            false,
        );
        f.sniff_from_now();
        f
    }

    /// An upstream body fed by a producer through a channel of one, as hyper's client hands
    /// over decoded chunks.
    fn upstream(
        rx: mpsc::Receiver<Bytes>,
    ) -> impl futures_util::Stream<Item = reqwest::Result<Bytes>> + Unpin {
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok(b), rx))
        }))
    }

    #[tokio::test]
    async fn a_burst_the_upstream_task_hands_over_one_at_a_time_goes_out_as_one_write() {
        let (tx, rx) = mpsc::channel(1);
        let producer = tokio::spawn(async move {
            for i in 0..20 {
                tx.send(frame(i)).await.unwrap();
            }
            // Holds the stream open: the batch must end without waiting for more.
            std::future::pending::<()>().await;
        });
        let mut body = upstream(rx);
        let mut f = forwarding();
        let first = body.next().await.unwrap().unwrap();
        let out = f.process(&first);
        let (out, after) =
            tokio::time::timeout(Duration::from_secs(5), coalesce(&mut f, &mut body, out))
                .await
                .expect("a batch never waits for the upstream");
        let expected: Vec<u8> = (0..20).flat_map(|i| frame(i).to_vec()).collect();
        assert_eq!(out, Bytes::from(expected), "all twenty chunks in one write");
        assert!(after.is_none());
        producer.abort();
    }

    #[tokio::test]
    async fn a_lone_chunk_goes_out_at_once_and_the_end_is_reported() {
        let (tx, rx) = mpsc::channel(1);
        let mut body = upstream(rx);
        let mut f = forwarding();
        tx.send(frame(0)).await.unwrap();
        let first = body.next().await.unwrap().unwrap();
        let out = f.process(&first);
        let (out, after) =
            tokio::time::timeout(Duration::from_secs(5), coalesce(&mut f, &mut body, out))
                .await
                .expect("a lone chunk never waits");
        assert_eq!(out, frame(0));
        assert!(after.is_none());

        tx.send(frame(1)).await.unwrap();
        drop(tx);
        let next = body.next().await.unwrap().unwrap();
        let out = f.process(&next);
        let (out, after) = coalesce(&mut f, &mut body, out).await;
        assert_eq!(out, frame(1));
        assert!(
            matches!(after, Some(None)),
            "the upstream's end comes with the batch"
        );
    }

    #[tokio::test]
    async fn a_long_burst_is_cut_into_writes_of_bounded_size() {
        let (tx, rx) = mpsc::channel(1);
        let producer = tokio::spawn(async move {
            for i in 0..2_000 {
                tx.send(frame(i)).await.unwrap();
            }
        });
        let mut body = upstream(rx);
        let mut f = forwarding();
        let mut writes = Vec::new();
        while let Some(chunk) = body.next().await {
            let out = f.process(&chunk.unwrap());
            let (out, after) = coalesce(&mut f, &mut body, out).await;
            writes.push(out.len());
            if after.is_some() {
                break;
            }
        }
        producer.await.unwrap();
        let total: usize = (0..2_000).map(|i| frame(i).len()).sum();
        assert_eq!(writes.iter().sum::<usize>(), total, "nothing lost");
        assert!(writes.len() > 1, "{writes:?}");
        let largest = frame(1_999).len();
        assert!(
            writes.iter().all(|&w| w < MAX_WRITE + largest),
            "{writes:?}"
        );
    }
}
