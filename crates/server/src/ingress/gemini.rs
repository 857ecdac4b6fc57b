//! Gemini paths: `/{v1beta|v1|}/models/{model}:{method}`, where the method says whether to
//! stream (`streamGenerateContent`), generate, or count tokens. A stream asked for without
//! `alt=sse` is answered the way Gemini does: one JSON array whose elements arrive as they are
//! produced; the pipeline always streams SSE, and this module only re-frames it.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use switchyard_protocol::ir::ErrorKind;
use switchyard_protocol::sse;
use switchyard_protocol::Dialect;

use super::{accept, tokens, UrlModel};
use crate::render::ApiError;
use crate::state::AppState;

pub async fn handle(
    State(state): State<AppState>,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some((model, method)) = rest.rsplit_once(':') else {
        return ApiError::new(
            ErrorKind::NotFound,
            format!("no such method: models/{rest}"),
        )
        .render(Dialect::Gemini);
    };
    let model = model.to_string();
    match method {
        "generateContent" => {
            let url = UrlModel {
                model,
                stream: false,
            };
            accept(state, Dialect::Gemini, headers, query, body, Some(url)).await
        }
        "streamGenerateContent" => {
            let url = UrlModel {
                model,
                stream: true,
            };
            let sse = wants_sse(query.as_deref());
            let resp = accept(state, Dialect::Gemini, headers, query, body, Some(url)).await;
            if sse {
                resp
            } else {
                as_json_array(resp)
            }
        }
        "countTokens" => tokens::gemini(state, headers, query, body, model).await,
        other => ApiError::new(
            ErrorKind::NotFound,
            format!("method {other:?} is not served here"),
        )
        .render(Dialect::Gemini),
    }
}

/// Whether the query asks for server-sent events (`alt=sse`); Gemini's default is a JSON array.
fn wants_sse(query: Option<&str>) -> bool {
    query
        .unwrap_or_default()
        .split('&')
        .any(|pair| pair.eq_ignore_ascii_case("alt=sse"))
}

/// Re-frames an SSE answer as a streamed JSON array (`[`, elements separated by `,\r\n`, `]`),
/// writing each element as soon as its event is complete. Anything but a successful event
/// stream (an error answered before the stream began is already one JSON body) passes as is.
fn as_json_array(resp: Response) -> Response {
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !resp.status().is_success() || !is_sse {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    struct Reframe {
        upstream: axum::body::BodyDataStream,
        parser: sse::Parser,
        opened: bool,
        closed: bool,
    }
    let start = Reframe {
        upstream: body.into_data_stream(),
        parser: sse::Parser::new(),
        opened: false,
        closed: false,
    };
    let stream = futures_util::stream::unfold(start, |mut st| async move {
        if st.closed {
            return None;
        }
        let mut items = Vec::new();
        let mut out = Vec::new();
        match st.upstream.next().await {
            Some(Ok(chunk)) => st.parser.feed(&chunk, &mut items),
            Some(Err(e)) => return Some((Err(e), st)),
            None => {
                st.parser.finish(&mut items);
                st.closed = true;
            }
        }
        for item in items {
            if let sse::Item::Frame(frame) = item {
                out.extend_from_slice(if st.opened { b",\r\n" } else { b"[" });
                st.opened = true;
                out.extend_from_slice(frame.data.as_bytes());
            }
        }
        if st.closed {
            out.extend_from_slice(if st.opened { b"]" } else { b"[]" });
        }
        Some((Ok(Bytes::from(out)), st))
    });
    Response::from_parts(parts, Body::from_stream(stream))
}
