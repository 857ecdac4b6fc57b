//! One attempt: send the request to one credential of one provider, and decide from the
//! answer whether the client gets it, another credential is tried, or the client gets an
//! error. Streams are handed to `stream` once the upstream says yes.

use std::time::Duration;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use futures_util::StreamExt;
use switchyard_core::config::ProviderConfig;
use switchyard_core::pool::{classify, Lease, Outcome, Pool};
use switchyard_core::resilience::{read_quota, QuotaReading};
use switchyard_protocol::ir::{ErrorBody, ErrorKind};
use switchyard_protocol::{sniff, Dialect, EncodeOptions};
use tokio::time::Instant;

use super::history::Memory;
use super::record::Recorder;
use super::{
    now_std, passthrough, stream, unix_ms, upstream, Attempt, Call, Request, UpstreamModel,
};
use crate::egress::{self, SendError};
use crate::oauth::RefreshError;
use crate::render::ApiError;
use crate::state::AppState;

/// Largest error body read from an upstream (the rest is not worth waiting for).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

#[allow(clippy::too_many_arguments)] // reason: the attempt's inputs are distinct and few callers
pub(crate) async fn run(
    state: &AppState,
    call: &Call,
    req: &Request,
    provider: &ProviderConfig,
    pool: &Pool,
    mut lease: Lease,
    target: &UpstreamModel<'_>,
    memory: &Memory,
    rec: &mut Recorder,
) -> Attempt {
    let Some(up) = provider.kind.dialect() else {
        return Attempt::Fail(ApiError::new(
            ErrorKind::Api,
            "mock provider reached the attempt loop",
        ));
    };
    let member = lease.index();
    let model = target.name;
    // A body over the model's output limit is re-encoded with the limit: rare enough that
    // rewriting bytes in four dialects' shapes is not worth it.
    let passthrough = up == call.dialect
        && !memory.rebuilt
        && !target.clamps(req)
        && !carries_foreign_signatures(&call.body);
    // A client that streams without asking for usage still has its usage recorded: ask the
    // upstream for it and strip it from what the client receives.
    let strip_usage = passthrough && up == Dialect::OpenAiChat && req.stream && !req.include_usage;
    let body = if passthrough {
        let b = if up == Dialect::Gemini {
            call.body.clone()
        } else {
            passthrough::rewrite_model(call.body.clone(), model)
        };
        if strip_usage {
            passthrough::request_stream_usage(b)
        } else {
            b
        }
    } else {
        let ir = match req.ir() {
            Ok(ir) => ir,
            Err(err) => return Attempt::Fail(err),
        };
        match up.encode_request(ir, &target.encode_options()) {
            Ok(b) => Bytes::from(b),
            Err(e) => return Attempt::Fail(ApiError::invalid(e.to_string())),
        }
    };
    let credential = &provider.credentials[member];
    let auth = match state.tokens.auth(&state.http, provider, credential).await {
        Ok(auth) => auth,
        Err(e) => {
            tracing::warn!(provider = %provider.name, credential = %credential.name, error = %e, "oauth refresh failed");
            match e {
                // The refresh token is refused: this credential cannot serve until it is
                // fixed (the health loop or an operator brings it back).
                RefreshError::Refused(reason) => {
                    pool.invalidate(member, reason);
                }
                RefreshError::Unavailable(_) => {
                    pool.report(
                        &mut lease,
                        &Outcome::ConnectFailed,
                        Duration::ZERO,
                        now_std(),
                    );
                }
            }
            return Attempt::Retry(ApiError::new(
                ErrorKind::Overloaded,
                "the gateway could not obtain an access token for its credential; no other credential could serve",
            ));
        }
    };
    let url = upstream::url(provider, model, req.stream);
    let headers = upstream::headers(provider, &auth, &call.headers);
    let sent = Instant::now();
    let send = state.egress.send(Method::POST, &url, headers, body);
    let resp = match tokio::time::timeout(provider.timeouts.first_byte, send).await {
        Err(_) => {
            rec.waited(sent.elapsed());
            pool.report(&mut lease, &Outcome::Timeout, sent.elapsed(), now_std());
            return Attempt::Retry(ApiError::new(
                ErrorKind::Timeout,
                "the upstream did not answer in time",
            ));
        }
        // A model name that cannot be part of a URL (Gemini's go in the path).
        Ok(Err(e @ SendError::Url(_))) => return Attempt::Fail(ApiError::invalid(e.to_string())),
        Ok(Err(e)) => {
            rec.waited(sent.elapsed());
            let outcome = if e.is_connect() {
                Outcome::ConnectFailed
            } else {
                Outcome::Timeout
            };
            pool.report(&mut lease, &outcome, sent.elapsed(), now_std());
            tracing::debug!(provider = %provider.name, error = %e, "upstream request failed");
            return Attempt::Retry(ApiError::new(
                ErrorKind::Overloaded,
                format!("upstream {} is unreachable", provider.name),
            ));
        }
        Ok(Ok(r)) => r,
    };
    // The breaker's latency is the time to the first byte, for JSON answers too.
    let ttfb = sent.elapsed();
    let status = resp.status().as_u16();
    // Every answer's rate-limit headers say how much of the credential's quota is left.
    let quota = read_headers(resp.headers());
    pool.note_quota(member, model, quota, now_std());
    if !(200..300).contains(&status) {
        let retry_after = quota.retry_after;
        let raw = read_limited(resp, ERROR_BODY_LIMIT, provider.timeouts.idle).await;
        rec.waited(sent.elapsed());
        let mut err = up.decode_error(status, &raw);
        err.status = Some(status);
        if err.retry_after.is_none() {
            err.retry_after = retry_after.map(|d| d.as_secs_f64().ceil() as u64);
        }
        let outcome = classify(status, retry_after);
        pool.report(&mut lease, &outcome, ttfb, now_std());
        if let Outcome::Unauthorized { .. } = outcome {
            // The gateway's credential was refused, not the client's: a 401 would tell the
            // client its own key is wrong. The upstream's words stay out (some echo part of
            // the key); the operator sees them in the credential's status.
            return Attempt::Retry(ApiError::new(
                ErrorKind::Overloaded,
                format!("the upstream refused the gateway's credential ({status}); no other credential could serve"),
            ));
        }
        if outcome.retry_elsewhere() {
            return Attempt::Retry(err.into());
        }
        if passthrough {
            // The client's own dialect: hand over the upstream's exact words.
            let mut resp = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                raw,
            )
                .into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            rec.stamp(&mut resp);
            rec.record.error_class = Some(outcome.class().to_string());
            rec.clone().send(state).await;
            return Attempt::Done(resp);
        }
        return Attempt::Fail(err.into());
    }
    if req.stream {
        return stream::commit(stream::Start {
            state,
            call,
            provider,
            pool,
            lease,
            resp,
            sent,
            rec,
            upstream: up,
            passthrough,
            strip_usage,
            include_usage: req.include_usage,
            save: memory.save.clone(),
        })
        .await;
    }
    let remaining = provider.timeouts.total.saturating_sub(sent.elapsed());
    let bytes = match tokio::time::timeout(remaining, egress::read_all(resp.into_body())).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) | Err(_) => {
            rec.waited(sent.elapsed());
            pool.report(&mut lease, &Outcome::Timeout, ttfb, now_std());
            return Attempt::Retry(ApiError::new(
                ErrorKind::Timeout,
                "the upstream did not finish its answer in time",
            ));
        }
    };
    rec.waited(sent.elapsed());
    // A forwarded answer is only read for its model and usage, unless it is to be kept as
    // Responses state; a translated one is decoded whole.
    if passthrough && memory.save.is_none() {
        if let Some((model, usage)) = sniff::response_usage(up, &bytes) {
            pool.report(&mut lease, &Outcome::Success, ttfb, now_std());
            rec.usage(&usage);
            rec.served_model(&model);
            return done(state, rec, lease, bytes).await;
        }
        // Not an answer in the upstream's dialect: the full decoder says what is wrong.
    }
    let decoded = up.decode_response(&bytes);
    let body = match (&decoded, passthrough) {
        (Ok(_), true) => bytes,
        (Ok(ir), false) => match call.dialect.encode_response(ir, &EncodeOptions::default()) {
            Ok(b) => Bytes::from(b),
            Err(e) => return Attempt::Fail(ApiError::new(ErrorKind::Api, e.to_string())),
        },
        (Err(e), _) => {
            pool.report(
                &mut lease,
                &Outcome::ServerError { status: 502 },
                ttfb,
                now_std(),
            );
            return Attempt::Retry(ApiError::new(
                ErrorKind::Api,
                format!("the upstream's answer could not be read: {e}"),
            ));
        }
    };
    pool.report(&mut lease, &Outcome::Success, ttfb, now_std());
    if let Ok(ir) = &decoded {
        rec.usage(&ir.usage);
        rec.served_model(&ir.model);
    }
    if let (Some(save), Ok(ir)) = (&memory.save, decoded) {
        // Under the id the client saw: the upstream's own in passthrough, ours translated.
        save.clone().spawn_for_body(state, body.clone(), ir);
    }
    done(state, rec, lease, body).await
}

/// Answers a whole JSON body and records the request.
async fn done(state: &AppState, rec: &mut Recorder, lease: Lease, body: Bytes) -> Attempt {
    drop(lease);
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    rec.stamp(&mut resp);
    rec.clone().send(state).await;
    Attempt::Done(resp)
}

/// The quota an upstream answer's headers announce: rate-limit headers, and `retry-after-ms`
/// or `retry-after` (seconds or an HTTP date). Garbage (`inf`, `1e30`, negative) reads as
/// absent rather than as a panic or a century.
pub(crate) fn read_headers(headers: &axum::http::HeaderMap) -> QuotaReading {
    let pairs = headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            n.starts_with("retry-after") || n.contains("ratelimit")
        })
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
    read_quota(pairs, now_std(), unix_ms())
}

async fn read_limited(resp: egress::Response, limit: usize, within: Duration) -> Bytes {
    let mut out = Vec::new();
    let mut body = egress::data(resp.into_body());
    let read = async {
        while let Some(Ok(chunk)) = body.next().await {
            let room = limit.saturating_sub(out.len());
            out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if out.len() >= limit {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(within, read).await;
    Bytes::from(out)
}

/// An error body for a stream that failed before its first event.
pub(crate) fn stream_error(kind: ErrorKind, message: &str) -> ApiError {
    ErrorBody::new(kind, message).into()
}

/// Whether a history carries thinking signatures another provider family minted (wrapped by
/// the protocol crate as `sy1.` text, or its base64 for Gemini clients). Such a body cannot go
/// to an upstream byte for byte: it would reject signatures it cannot verify. Through the IR,
/// they are dropped or sent home.
fn carries_foreign_signatures(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"\"sy1.").is_some()
        || memchr::memmem::find(body, b"\"c3kxL").is_some()
}
