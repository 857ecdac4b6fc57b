//! Streams: peek-then-commit, then the client's body reads the upstream itself.
//!
//! Before anything reaches the client, upstream bytes are read until the first meaningful
//! event (heartbeats and pings skipped); a failure or an error event before that is retried
//! elsewhere like any other. Once committed, the response body ([`Relay`]) is polled by the
//! client connection's own task and forwards what the upstream has delivered as soon as it
//! arrives, a burst in one write: unchanged for the same dialect (a sniffer reads usage beside
//! it), re-framed without the usage chunk when the gateway asked for usage the client did
//! not, or translated event by event. Long silences get a ping in the client's dialect; a
//! silence past the idle timeout, a dropped upstream, or a truncated stream ends with the
//! dialect's error event. The credential is released and the usage record sent when the
//! stream ends or the client goes away. It must not hold a chunk back waiting for time.

use std::convert::Infallible;
use std::future::Future;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
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
    pub resp: crate::egress::Response,
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
    // Boxed: it is over a kilobyte and would otherwise sit in every request's future (and be
    // moved twice more on its way into the response body).
    let mut f = Box::new(Forward::new(
        upstream,
        call.dialect,
        mode,
        include_usage,
        save.is_some(),
    ));
    let mut body = crate::egress::data(resp.into_body());
    let deadline = sent + provider.timeouts.first_byte;
    let mut first = Vec::new();
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
        f.process(&chunk, &mut first);
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
        if f.meaningful {
            break;
        }
    }
    rec.waited(sent.elapsed());
    pool.report(&mut lease, &Outcome::Success, sent.elapsed(), now_std());

    let mut resp = event_stream(Body::empty());
    rec.stamp(&mut resp);
    f.sniff_from_now();
    let now = Instant::now();
    let idle = provider.timeouts.idle;
    let wait = state.limits.ping_interval.min(idle);
    let relay = Relay {
        first: Some(Bytes::from(first)).filter(|b| !b.is_empty()),
        gather: Gather::new(f, Box::pin(body), now),
        tick: Box::pin(tokio::time::sleep_until(now + wait)),
        last_event: now,
        idle,
        wait,
        end: Some(End {
            state: state.clone(),
            rec: rec.clone(),
            lease,
            save,
        }),
    };
    *resp.body_mut() = Body::new(relay);
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
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
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

    /// Appends the client bytes for one upstream chunk to `out`: written there directly, since
    /// a buffer of their own per chunk cost an allocation (and its growth) and a copy.
    fn process(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        // Passthrough sends the chunk as it came; reading it only observes.
        if self.mode == Mode::Passthrough {
            out.extend_from_slice(chunk);
        }
        self.parser.recycle(&mut self.items);
        self.parser.feed(chunk, &mut self.items);
        if let Some(sniffer) = &mut self.sniffer {
            for item in &self.items {
                if let sse::Item::Frame(frame) = item {
                    sniffer.frame(frame);
                    if self.mode == Mode::StripUsage {
                        strip_usage_frame(frame, out);
                    }
                }
            }
            return;
        }
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
                Mode::StripUsage => strip_usage_frame(frame, out),
                Mode::Translate => {
                    for ev in &self.events[start..] {
                        self.encoder.encode(ev, out);
                    }
                }
            }
        }
        self.items = items;
        self.observe();
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

/// A chunk that follows the previous batch by less than this is taken as part of a burst;
/// after a longer quiet it is taken as a lone chunk (a paced upstream, a token at a time).
const BURST_GAP: Duration = Duration::from_millis(1);

/// A boxed upstream body: chunks as the upstream connection decodes them.
type Upstream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, hyper::Error>> + Send>>;

/// How a batch of client bytes came to an end.
#[derive(Debug, PartialEq, Eq)]
enum Batch {
    /// More may follow.
    Open(Bytes),
    /// The upstream is done (ended, or failed and the bytes say so): the last bytes.
    Last(Bytes),
}

/// Reads what the upstream has delivered and turns it into client bytes, a burst at a time.
///
/// hyper's client hands over one decoded chunk per turn of its connection's task, so after a
/// chunk is taken the upstream connection gets one turn of the scheduler (this task wakes
/// itself and returns `Pending`) to decode the next from what it has already read; a burst
/// then goes to the client in one write instead of one write per chunk (a write is the most
/// expensive thing a forwarded chunk costs). A turn that brings nothing ends the batch, so a
/// chunk waits a turn at most, never for time; a batch stops at [`MAX_WRITE`] bytes.
///
/// A chunk that comes after a quiet of [`BURST_GAP`] or more (a paced upstream) does not get
/// the turn: it goes out with whatever is ready at once, since the turn would almost surely
/// bring nothing and costs the client connection's task two more polls per chunk. The first
/// chunk of a burst that follows a quiet thus goes out alone and the rest are gathered.
struct Gather {
    f: Box<Forward>,
    upstream: Upstream,
    batch: Vec<u8>,
    /// Polls in a row that found nothing new while bytes wait in `batch`.
    empty_polls: u8,
    /// When the last batch was handed out (or the stream committed).
    last_data: Instant,
}

impl Gather {
    fn new(f: Box<Forward>, upstream: Upstream, now: Instant) -> Self {
        Self {
            f,
            upstream,
            batch: Vec::new(),
            empty_polls: 0,
            last_data: now,
        }
    }

    fn poll_batch(&mut self, cx: &mut Context<'_>) -> Poll<Batch> {
        let mut took = false;
        // Whether this batch began after a quiet. Such a batch goes out in this poll, so a batch
        // still gathering from an earlier poll never is one.
        let mut lone = false;
        loop {
            match self.upstream.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if self.batch.is_empty() {
                        if !took {
                            lone = self.last_data.elapsed() >= BURST_GAP;
                        }
                        // Room for the chunk as translated (an event in another dialect is up
                        // to about twice its size), or growing from empty reallocates ~6 times.
                        self.batch.reserve(2 * chunk.len());
                    }
                    took = true;
                    self.f.process(&chunk, &mut self.batch);
                    if self.batch.len() >= MAX_WRITE {
                        break;
                    }
                }
                Poll::Ready(Some(Err(_))) => {
                    let out = self.f.abort("the upstream connection was lost mid-stream");
                    return Poll::Ready(self.last(&out));
                }
                Poll::Ready(None) => {
                    let out = self.f.finish();
                    return Poll::Ready(self.last(&out));
                }
                Poll::Pending => break,
            }
        }
        if self.batch.is_empty() {
            return Poll::Pending;
        }
        if took {
            self.empty_polls = 0;
        } else {
            self.empty_polls += 1;
        }
        // hyper's server polls a pending body once more before its task yields (an empty
        // write buffer flushes "ready"), so one empty poll is not yet the turn the upstream
        // connection needed: a batch ends at the second.
        if !lone && self.empty_polls < 2 && self.batch.len() < MAX_WRITE {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.empty_polls = 0;
        self.last_data = Instant::now();
        Poll::Ready(Batch::Open(Bytes::from(std::mem::take(&mut self.batch))))
    }

    /// What is gathered plus `tail`, as the last batch; the upstream is let go.
    fn last(&mut self, tail: &[u8]) -> Batch {
        self.upstream = Box::pin(futures_util::stream::empty());
        self.batch.extend_from_slice(tail);
        Batch::Last(Bytes::from(std::mem::take(&mut self.batch)))
    }
}

/// A committed stream's response body. It is polled by the client connection's own task:
/// upstream bytes go to the client as the connection asks for them, with no task or channel
/// in between. Long silences get a ping in the client's dialect, a silence past the idle
/// timeout ends the stream with an error event. When the stream ends, or the client goes
/// away (the body is dropped), the credential is released and the usage recorded.
struct Relay {
    first: Option<Bytes>,
    gather: Gather,
    /// Fires at the next ping, or the idle limit; moved forward lazily, not per chunk.
    tick: std::pin::Pin<Box<tokio::time::Sleep>>,
    last_event: Instant,
    idle: Duration,
    wait: Duration,
    /// Until the stream is settled: `None` once it has ended (or the client left).
    end: Option<End>,
}

/// What a stream settles when it ends.
struct End {
    state: AppState,
    rec: Recorder,
    lease: Lease,
    save: Option<Save>,
}

impl Relay {
    /// A ping, or the end of a stream silent past the idle limit, when the tick is due.
    fn poll_silence(&mut self, cx: &mut Context<'_>) -> Poll<Batch> {
        loop {
            let due = self.last_event + self.wait;
            if Instant::now() < due {
                if self.tick.deadline() != due {
                    self.tick.as_mut().reset(due);
                }
                ready!(self.tick.as_mut().poll(cx));
                continue;
            }
            if self.gather.last_data.elapsed() >= self.idle {
                let out = self.gather.f.abort("the upstream went silent mid-stream");
                return Poll::Ready(self.gather.last(&out));
            }
            self.last_event = Instant::now();
            return Poll::Ready(Batch::Open(self.gather.f.ping()));
        }
    }

    /// Releases the credential and sends the record, once.
    fn settle(&mut self, client_gone: bool) {
        let Some(End {
            state,
            mut rec,
            lease,
            save,
        }) = self.end.take()
        else {
            return;
        };
        drop(lease);
        let f = &mut self.gather.f;
        rec.usage(&f.usage);
        rec.served_model(&f.model);
        // Only a complete answer the client received is worth continuing from.
        if let (Some(save), Some(c), false, None) =
            (save, f.collector.take(), client_gone, &f.failed)
        {
            let answer = c.finish();
            save.spawn(&state, answer.id.clone(), answer);
        }
        if client_gone {
            rec.record.error_class = Some("client_closed".into());
        } else if let Some(message) = &f.failed {
            tracing::info!(request_id = %rec.record.request_id, %message, "stream ended with an error");
            rec.record.error_class = Some("stream_error".into());
        }
        // Dropped outside a runtime (it is shutting down): nothing can be sent any more.
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let tasks = state.tasks.clone();
        tasks.spawn(async move { rec.send(&state).await });
    }
}

impl http_body::Body for Relay {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(http_body::Frame::data(first))));
        }
        if this.end.is_none() {
            return Poll::Ready(None);
        }
        let batch = match this.gather.poll_batch(cx) {
            Poll::Ready(batch) => {
                this.last_event = this.gather.last_data;
                batch
            }
            // Bytes gathered, waiting one turn for more: not a silence.
            Poll::Pending if !this.gather.batch.is_empty() => return Poll::Pending,
            Poll::Pending => ready!(this.poll_silence(cx)),
        };
        let bytes = match batch {
            Batch::Open(bytes) => bytes,
            Batch::Last(bytes) => {
                this.settle(false);
                if bytes.is_empty() {
                    return Poll::Ready(None);
                }
                bytes
            }
        };
        Poll::Ready(Some(Ok(http_body::Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.end.is_none() && self.first.is_none()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        // Dropped before its end: the client went away.
        self.settle(true);
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

    const DONE: &[u8] = b"data: [DONE]\n\n";

    /// A forwarded OpenAI stream whose upstream is fed by a producer through a channel of
    /// one, as hyper's client hands over decoded chunks.
    fn gather(rx: mpsc::Receiver<Bytes>) -> Gather {
        let mut f = Forward::new(
            Dialect::OpenAiChat,
            Dialect::OpenAiChat,
            Mode::Passthrough,
            false,
            false,
        );
        f.sniff_from_now();
        let upstream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok(b), rx))
        });
        // As if the stream committed a moment from now: whatever comes is part of a burst,
        // however slowly the test machine runs. The tests of lone chunks set it back.
        let bursting = Instant::now() + Duration::from_secs(3600);
        Gather::new(Box::new(f), Box::pin(upstream), bursting)
    }

    async fn next(g: &mut Gather) -> Batch {
        let batch = std::future::poll_fn(|cx| g.poll_batch(cx));
        tokio::time::timeout(Duration::from_secs(5), batch)
            .await
            .expect("a batch never waits for the upstream once it has bytes")
    }

    /// A burst of twenty chunks from an upstream that then stays open: a batch must end
    /// without waiting for more.
    fn burst() -> (Gather, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(1);
        let producer = tokio::spawn(async move {
            for i in 0..20 {
                tx.send(frame(i)).await.unwrap();
            }
            std::future::pending::<()>().await;
        });
        (gather(rx), producer)
    }

    #[tokio::test]
    async fn a_burst_the_upstream_task_hands_over_one_at_a_time_goes_out_as_one_write() {
        let (mut g, producer) = burst();
        let expected: Vec<u8> = (0..20).flat_map(|i| frame(i).to_vec()).collect();
        assert_eq!(next(&mut g).await, Batch::Open(Bytes::from(expected)));
        producer.abort();
    }

    #[tokio::test]
    async fn a_burst_still_goes_out_as_one_write_when_polled_again_at_once_as_hyper_does() {
        let (mut g, producer) = burst();
        // hyper's dispatcher polls a pending body once more before its task yields.
        let batch = std::future::poll_fn(|cx| match g.poll_batch(cx) {
            Poll::Pending => g.poll_batch(cx),
            ready => ready,
        });
        let batch = tokio::time::timeout(Duration::from_secs(5), batch)
            .await
            .expect("a batch never waits for the upstream once it has bytes");
        let expected: Vec<u8> = (0..20).flat_map(|i| frame(i).to_vec()).collect();
        assert_eq!(batch, Batch::Open(Bytes::from(expected)));
        producer.abort();
    }

    #[tokio::test]
    async fn a_chunk_after_a_quiet_goes_out_on_the_first_poll_without_a_turn() {
        let (tx, rx) = mpsc::channel(1);
        let mut g = gather(rx);
        g.last_data = Instant::now();
        tokio::time::sleep(BURST_GAP * 2).await;
        tx.send(frame(0)).await.unwrap();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(g.poll_batch(&mut cx), Poll::Ready(Batch::Open(frame(0))));
    }

    #[tokio::test]
    async fn a_lone_chunk_goes_out_at_once_and_the_end_comes_with_the_last_bytes() {
        let (tx, rx) = mpsc::channel(1);
        let mut g = gather(rx);
        tx.send(frame(0)).await.unwrap();
        assert_eq!(next(&mut g).await, Batch::Open(frame(0)));

        let producer = tokio::spawn(async move {
            tx.send(frame(1)).await.unwrap();
            tx.send(Bytes::from_static(DONE)).await.unwrap();
        });
        let last = [frame(1).as_ref(), DONE].concat();
        assert_eq!(next(&mut g).await, Batch::Last(Bytes::from(last)));
        producer.await.unwrap();
    }

    #[tokio::test]
    async fn a_long_burst_is_cut_into_writes_of_bounded_size() {
        let (tx, rx) = mpsc::channel(1);
        let producer = tokio::spawn(async move {
            for i in 0..2_000 {
                tx.send(frame(i)).await.unwrap();
            }
            tx.send(Bytes::from_static(DONE)).await.unwrap();
        });
        let mut g = gather(rx);
        let mut writes = Vec::new();
        let mut all = Vec::new();
        loop {
            let (bytes, last) = match next(&mut g).await {
                Batch::Open(b) => (b, false),
                Batch::Last(b) => (b, true),
            };
            writes.push(bytes.len());
            all.extend_from_slice(&bytes);
            if last {
                break;
            }
        }
        producer.await.unwrap();
        let mut expected: Vec<u8> = (0..2_000).flat_map(|i| frame(i).to_vec()).collect();
        expected.extend_from_slice(DONE);
        assert!(all == expected, "every byte, in order, once");
        assert!(writes.len() > 1, "{writes:?}");
        let largest = frame(1_999).len();
        assert!(
            writes.iter().all(|&w| w < MAX_WRITE + largest),
            "{writes:?}"
        );
    }
}
