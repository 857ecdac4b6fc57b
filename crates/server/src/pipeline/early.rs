//! A stream committed early: when a streaming request has waited in a pool's queue for a
//! ping interval, its response head (200, `text/event-stream`) goes out at once and pings in
//! the client's dialect follow until the answer is ready, so that clients and proxies with
//! idle timeouts do not give up on a request that is only queued. The attempt loop goes on in
//! a tracked task; its answer is then relayed as it is, or, when it failed, turned into the
//! dialect's error event (the status line has left already). Only the wait commits early:
//! everywhere else peek-then-commit holds the head back, so that failures stay invisible and
//! errors keep their status. It owns the hand-over, not the waiting nor the attempts.

use std::convert::Infallible;
use std::future::Future;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use switchyard_core::resilience::QueueConfig;
use switchyard_protocol::ir::{ErrorBody, ErrorKind};
use switchyard_protocol::{Dialect, EncodeOptions};
use tokio::sync::{mpsc, oneshot};

use super::record::Recorder;
use super::stream::{body_from, error_event, event_stream};
use super::{serve, Call, Plan};
use crate::state::{AppState, Snapshot};

/// Whether any pool has a wait queue: only then can a stream wait long enough to commit early.
pub(super) fn possible(snap: &Snapshot) -> bool {
    snap.pools
        .iter()
        .any(|p| p.waiters().config() != QueueConfig::Off)
}

/// The attempt loop's side of the hand-over: sends the response head, once.
#[derive(Debug)]
pub(crate) struct Signal(oneshot::Sender<Response>);

impl Signal {
    /// Sends the stream's head now; what follows comes from [`race`]'s relay.
    pub(super) fn commit(self, rec: &mut Recorder) {
        let mut head = event_stream(Body::empty());
        rec.stamp(&mut head);
        // The receiver is gone only when the client is: nothing to tell then.
        let _ = self.0.send(head);
    }
}

/// Serves a streaming request that may wait: its answer when it comes before an early
/// commit, else the early head with a body fed by a relay task.
pub(super) async fn race(state: AppState, call: Call, plan: Plan, rec: Recorder) -> Response {
    let (signal, committed) = oneshot::channel();
    let dialect = call.dialect;
    let tasks = state.tasks.clone();
    let ping_every = state.limits.ping_interval;
    let mut served =
        Box::pin(async move { serve(&state, &call, &plan, rec, Some(Signal(signal))).await });
    tokio::select! {
        resp = &mut served => resp,
        Ok(head) = committed => {
            let (tx, rx) = mpsc::channel(32);
            tasks.spawn(relay(served, tx, dialect, ping_every));
            let (parts, _) = head.into_parts();
            Response::from_parts(parts, body_from(rx))
        }
    }
}

/// Pings until the loop answers, then relays its stream or its error as an event.
async fn relay(
    mut served: impl Future<Output = Response> + Unpin,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
    dialect: Dialect,
    ping_every: std::time::Duration,
) {
    let mut ping = Vec::new();
    dialect
        .stream_encoder(&EncodeOptions::default())
        .ping(&mut ping);
    let ping = Bytes::from(ping);
    let resp = loop {
        // Gemini clients get no pings (their parser rejects comments): the head alone.
        if !ping.is_empty() && tx.send(Ok(ping.clone())).await.is_err() {
            return;
        }
        tokio::select! {
            resp = &mut served => break resp,
            // Dropping the loop leaves the queue, and frees the place for the next in line.
            () = tx.closed() => return,
            () = tokio::time::sleep(ping_every) => {}
        }
    };
    if resp.status().is_success() {
        let mut body = resp.into_body().into_data_stream();
        while let Some(Ok(chunk)) = body.next().await {
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
        return;
    }
    let err = resp
        .extensions()
        .get::<ErrorBody>()
        .cloned()
        .unwrap_or_else(|| {
            ErrorBody::new(
                ErrorKind::Api,
                format!("the request failed with status {}", resp.status()),
            )
        });
    let _ = tx.send(Ok(Bytes::from(error_event(dialect, err)))).await;
}
