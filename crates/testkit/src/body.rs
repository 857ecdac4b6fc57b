//! The response body: a queue of frames written one per poll, with the scripted wait between
//! them, and an optional abort at the end that makes hyper cut the connection mid-response. It
//! owns timing and cutting only; what the frames say is decided before they are queued. On
//! shutdown it stops waiting and writes what is left, so a graceful shutdown never stalls on a
//! slow script.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame};
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::record::CallGuard;
use crate::server::Seat;

/// A response body of queued frames.
#[derive(Debug)]
pub(crate) struct ScriptedBody {
    frames: VecDeque<Bytes>,
    /// The wait before every frame but the first, and before the abort.
    delay: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    /// After the last frame, fail instead of ending, so the client sees a cut connection.
    abort: bool,
    /// Whether hyper has been given a chance to flush before the abort.
    flushed: bool,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    shutting_down: bool,
    /// Marks the call ended when the body is dropped.
    _call: CallGuard,
    /// The call's place under its credential's capacity, freed with the body.
    _seat: Option<Seat>,
}

impl ScriptedBody {
    pub(crate) fn new(
        frames: Vec<Bytes>,
        delay: Duration,
        abort: bool,
        shutdown: &CancellationToken,
        call: CallGuard,
    ) -> ScriptedBody {
        ScriptedBody {
            frames: frames.into(),
            delay,
            sleep: None,
            abort,
            flushed: false,
            shutdown: Box::pin(shutdown.clone().cancelled_owned()),
            shutting_down: shutdown.is_cancelled(),
            _call: call,
            _seat: None,
        }
    }

    /// Holds `seat` until the body is dropped.
    pub(crate) fn holding(mut self, seat: Option<Seat>) -> ScriptedBody {
        self._seat = seat;
        self
    }
}

impl Body for ScriptedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if !this.shutting_down && this.shutdown.as_mut().poll(cx).is_ready() {
            this.shutting_down = true;
        }
        if let Some(sleep) = this.sleep.as_mut() {
            if !this.shutting_down && sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
        let Some(frame) = this.frames.pop_front() else {
            if this.abort && !this.flushed {
                // hyper flushes its write buffer when the body is pending and drops it when the
                // body fails: pause once so what was written reaches the client before the cut.
                this.flushed = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if this.abort {
                // Ending with an error (rather than `None`) is how hyper is told to close the
                // connection without finishing the body: no final chunk, no `[DONE]`.
                this.abort = false;
                return Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "scripted drop",
                ))));
            }
            return Poll::Ready(None);
        };
        let more_to_come = !this.frames.is_empty() || this.abort;
        if !this.delay.is_zero() && more_to_come {
            this.sleep = Some(Box::pin(tokio::time::sleep(this.delay)));
        }
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }
}

/// An SSE event with a name, as Anthropic and the Responses API send them.
pub(crate) fn named_event(name: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// An SSE event with data only, as OpenAI Chat Completions sends them.
pub(crate) fn data_event(data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// An SSE event with data only and CRLF line ends, as the Gemini API sends them.
pub(crate) fn data_event_crlf(data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {data}\r\n\r\n"))
}

/// One frame per stream piece (a text or arguments fragment). The frames differ only in that
/// string, so the frame is rendered once around a marker and each piece is written into the
/// copy: building and printing a JSON value per frame made the fake's own time to first byte
/// (it renders a whole answer before sending) a large, dialect-dependent part of what the
/// benchmark measures. `frame` must write its argument as a JSON string; when the marker is
/// not found exactly once (another field carries it), every frame is rendered whole.
pub(crate) fn piece_frames(pieces: &[String], frame: impl Fn(&str) -> Bytes) -> Vec<Bytes> {
    const MARKER: &str = "\u{1}piece\u{1}";
    let whole = frame(MARKER);
    let quoted = serde_json::to_string(MARKER).expect("a string serializes");
    let split = std::str::from_utf8(&whole)
        .ok()
        .and_then(|whole| whole.split_once(&quoted))
        .filter(|(_, tail)| !tail.contains(&quoted));
    let Some((head, tail)) = split else {
        return pieces.iter().map(|piece| frame(piece)).collect();
    };
    pieces
        .iter()
        .map(|piece| {
            let mut out = Vec::with_capacity(head.len() + piece.len() + 2 + tail.len());
            out.extend_from_slice(head.as_bytes());
            serde_json::to_writer(&mut out, piece).expect("writing to a Vec cannot fail");
            out.extend_from_slice(tail.as_bytes());
            Bytes::from(out)
        })
        .collect()
}

/// The SSE comment sent as a heartbeat.
pub(crate) const HEARTBEAT: &[u8] = b": keep-alive\n\n";

/// A malformed copy of `frame`: cut halfway through (on a character boundary), then closed with
/// the frame's own terminator, so it parses as an SSE event whose JSON is broken.
pub(crate) fn malformed(frame: &[u8]) -> Bytes {
    let text = String::from_utf8_lossy(frame);
    let terminator = if text.ends_with("\r\n\r\n") {
        "\r\n\r\n"
    } else {
        "\n\n"
    };
    let body = text.trim_end_matches(['\r', '\n']);
    let mut cut = body.len() / 2;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    Bytes::from(format!("{}{terminator}", &body[..cut]))
}

/// The first half of a JSON body, for malformed and dropped JSON answers.
pub(crate) fn first_half(body: &[u8]) -> Bytes {
    Bytes::copy_from_slice(&body[..body.len() / 2])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pieces(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn piece_frames_are_the_frames_rendered_whole() {
        let texts = pieces(&[
            "",
            "plain",
            "a \"quote\" and \\",
            "line\nbreak\t",
            "\u{1}",
            "é ✓ 🚀",
        ]);
        let frame = |piece: &str| {
            named_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 0, "delta": {"text": piece}}),
            )
        };
        let whole: Vec<Bytes> = texts.iter().map(|t| frame(t)).collect();
        assert_eq!(piece_frames(&texts, frame), whole);
    }

    #[test]
    fn a_field_that_carries_the_marker_renders_each_frame_whole() {
        let texts = pieces(&["one", "two \"2\""]);
        for model in ["\u{1}piece\u{1}", "x\u{1}piece\u{1}"] {
            let frame = |piece: &str| data_event(&json!({"model": model, "content": piece}));
            let whole: Vec<Bytes> = texts.iter().map(|t| frame(t)).collect();
            assert_eq!(piece_frames(&texts, frame), whole, "model {model:?}");
        }
    }
}
