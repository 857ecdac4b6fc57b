//! The built-in `mock` provider: answers from inside the gateway in the client's own dialect,
//! with the configured latency and chunking, so clients can be tried with no upstream.

use std::convert::Infallible;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use switchyard_core::config::ProviderConfig;
use switchyard_core::mock;
use switchyard_protocol::ir;
use switchyard_protocol::EncodeOptions;
use tokio::sync::mpsc;

use super::history::Save;
use super::record::Recorder;
use super::{stream, Call};
use crate::render::ApiError;
use crate::state::AppState;

pub(crate) async fn serve(
    state: &AppState,
    call: &Call,
    req: &ir::Request,
    provider: &ProviderConfig,
    model: &str,
    mut rec: Recorder,
    save: Option<Save>,
) -> Response {
    let settings = provider.mock.clone();
    let mut req = req.clone();
    req.model = model.to_string();
    let id = format!("mock_{}", call.request_id);
    tokio::time::sleep(settings.first_byte).await;
    if !req.stream {
        let resp = mock::respond_buffered(&req, &settings.mode, &id);
        let body = match call
            .dialect
            .encode_response(&resp, &EncodeOptions::default())
        {
            Ok(b) => b,
            Err(e) => return rec.fail(state, ApiError::invalid(e.to_string())).await,
        };
        rec.usage(&resp.usage);
        if let Some(save) = save {
            save.spawn(state, resp.id.clone(), resp.clone());
        }
        let mut http = (StatusCode::OK, body).into_response();
        http.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        rec.stamp(&mut http);
        rec.send(state).await;
        return http;
    }
    let events = mock::respond(&req, &settings.mode, settings.chunks, &id);
    let mut encoder = call.dialect.stream_encoder(&EncodeOptions {
        include_usage: req.include_usage,
        ..EncodeOptions::default()
    });
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(16);
    let mut http = stream::event_stream(stream::body_from(rx));
    rec.stamp(&mut http);
    let state2 = state.clone();
    state.tasks.spawn(async move {
        let mut usage = ir::Usage::default();
        let mut client_gone = false;
        for ev in &events {
            if let ir::StreamEvent::BlockDelta { .. } = ev {
                tokio::time::sleep(settings.chunk_delay).await;
            }
            if let ir::StreamEvent::MessageDelta { usage: u, .. } = ev {
                usage.merge(u);
            }
            let mut out = Vec::new();
            encoder.encode(ev, &mut out);
            if !out.is_empty() && tx.send(Ok(Bytes::from(out))).await.is_err() {
                client_gone = true;
                break;
            }
        }
        if !client_gone {
            let mut out = Vec::new();
            encoder.finish(&mut out);
            if !out.is_empty() {
                let _ = tx.send(Ok(Bytes::from(out))).await;
            }
            if let Some(save) = save {
                let mut c = ir::Collector::new();
                events.iter().for_each(|e| c.push(e));
                let answer = c.finish();
                save.spawn(&state2, answer.id.clone(), answer);
            }
        } else {
            rec.record.error_class = Some("client_closed".into());
        }
        drop(tx);
        rec.usage(&usage);
        rec.send(&state2).await;
    });
    http
}
