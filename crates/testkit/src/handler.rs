//! One request, from head to response: read the body, record the call, pick the scripted reply
//! for the credential presented (then the `x-fake-*` header overrides, then the capacity
//! check), hang or wait as
//! scripted, render the answer in the endpoint's dialect and apply the faults to it (heartbeat,
//! malformed frame, drop). It must not own the connection or outlive shutdown: a hung call
//! ends when the fake shuts down.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;

use crate::body::{first_half, malformed, ScriptedBody, HEARTBEAT};
use crate::dialect::{self, Payload, Rendered};
use crate::record::{credential_of, Call};
use crate::script::Reply;
use crate::server::Shared;

/// Answers one request as the current script says.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: http::Request<Incoming>,
) -> Result<Response<ScriptedBody>, io::Error> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
    let credential = credential_of(&parts);
    let credential_key = credential.as_ref().map(|c| c.value.clone());
    let (mut reply, script) = shared.select(credential.as_ref().map(|c| c.value.as_str()));
    override_from_headers(&mut reply, &parts.headers);

    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    let call = Call {
        seq: 0,
        method: parts.method.as_str().to_owned(),
        path: path.clone(),
        query: query.clone(),
        credential,
        headers,
        body: body.clone(),
        started,
        ended: None,
    };
    let guard = shared.recorder.begin(call, script.record_calls);
    // Taken at arrival and held until the body ends, as an upstream counts concurrency.
    let mut seat = None;
    if let Some(capacity) = reply.capacity {
        seat = shared.take_seat(credential_key.as_deref(), capacity);
        if seat.is_none() {
            reply = Reply::rate_limited(0);
        }
    }

    if reply.hang {
        shared.shutdown.cancelled().await;
        // Failing the service makes hyper close the connection: the client never gets a byte.
        return Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "the fake upstream shut down while hanging as scripted",
        ));
    }
    if !reply.first_byte.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(reply.first_byte) => {}
            // Shutting down skips scripted waits so the drain is quick.
            () = shared.shutdown.cancelled() => {}
        }
    }

    let endpoint = dialect::route(&parts.method, &path, &parts.headers, &query);
    let request = dialect::Request {
        endpoint: &endpoint,
        path: &path,
        query: &query,
        body: &body,
        seq: guard.seq,
        models: script.models.as_deref(),
    };
    let rendered = dialect::render(&request, &reply);
    let family = endpoint.family();

    let mut headers = vec![("content-type", rendered.content_type.to_owned())];
    headers.extend(dialect::request_id_header(family, guard.seq));
    if let Some(seconds) = reply.retry_after {
        headers.push(("retry-after", seconds.to_string()));
    }
    if let Some(limit) = &reply.rate_limit {
        headers.extend(dialect::rate_limit_headers(family, limit));
    }
    let status = rendered.status;
    let (frames, content_length, abort) = apply_faults(rendered, &reply);
    if let Some(length) = content_length {
        headers.push(("content-length", length.to_string()));
    } else {
        headers.push(("cache-control", "no-cache".to_owned()));
    }

    let body =
        ScriptedBody::new(frames, reply.chunk_delay, abort, &shared.shutdown, guard).holding(seat);
    let mut response = Response::new(body);
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(name, value);
        }
    }
    Ok(response)
}

/// `x-fake-status`, `x-fake-delay-ms` and `x-fake-chunks` override the scripted reply for one
/// request. A gateway strips client-only headers, so these work when a test talks to the fake
/// directly or through a gateway configured to forward them; per-credential scripts are the
/// main mechanism.
fn override_from_headers(reply: &mut Reply, headers: &HeaderMap) {
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    if let Some(status) = number("x-fake-status").and_then(|s| u16::try_from(s).ok()) {
        reply.status = status;
    }
    if let Some(ms) = number("x-fake-delay-ms") {
        reply.first_byte = Duration::from_millis(ms);
    }
    if let Some(chunks) = number("x-fake-chunks").and_then(|c| usize::try_from(c).ok()) {
        reply.chunks = chunks.max(1);
    }
}

/// The frames to send, the `content-length` of a JSON body, and whether to abort at the end.
/// A drop cuts the answer's own frames first, then a malformed frame is inserted, then a
/// heartbeat goes in front: "after N frames" always counts the answer's frames.
fn apply_faults(rendered: Rendered, reply: &Reply) -> (Vec<Bytes>, Option<usize>, bool) {
    match rendered.payload {
        Payload::Json(body) => {
            if reply.drop_after.is_some() {
                // Announce the whole length, send half: the client sees a truncated body.
                (vec![first_half(&body)], Some(body.len()), true)
            } else if reply.malformed_after.is_some() {
                let half = first_half(&body);
                let length = half.len();
                (vec![half], Some(length), false)
            } else {
                let length = body.len();
                (vec![body], Some(length), false)
            }
        }
        Payload::Frames(mut frames) => {
            let whole = frames.clone();
            let abort = match reply.drop_after {
                Some(after) if after < frames.len() => {
                    frames.truncate(after);
                    true
                }
                Some(_) => true,
                None => false,
            };
            if let Some(after) = reply.malformed_after {
                if after <= frames.len() {
                    let model = whole.get(after).or(whole.last());
                    if let Some(model) = model {
                        frames.insert(after, malformed(model));
                    }
                }
            }
            if reply.heartbeat {
                frames.insert(0, Bytes::from_static(HEARTBEAT));
            }
            (frames, None, abort)
        }
    }
}
