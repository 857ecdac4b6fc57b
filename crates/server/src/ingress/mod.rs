//! Ingress: the paths each client dialect uses, how a caller proves who it is in that
//! dialect, and the hand-over of a well-formed `Call` to the pipeline. Everything refused here
//! (body too large, bad key) is answered in the caller's dialect.
//!
//! Files: `auth` (keys in `Authorization`, `x-api-key`, `x-goog-api-key` or `?key=`),
//! `gemini` (model and method from the path), `models` (`/v1/models` in each dialect),
//! `tokens` (count-tokens endpoints).

mod auth;
mod gemini;
mod models;
mod tokens;

use axum::body::{to_bytes, Body};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use switchyard_protocol::ir::ErrorKind;
use switchyard_protocol::Dialect;
use tokio::time::Instant;

use crate::pipeline::{self, unix_ms, Call};
use crate::render::ApiError;
use crate::state::AppState;
pub use auth::Caller;

/// The client-facing API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", post(anthropic))
        .route("/v1/messages/count_tokens", post(tokens::anthropic))
        .route("/v1/chat/completions", post(openai_chat))
        .route("/v1/responses", post(responses))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models::list))
        .route("/v1beta/models", get(models::gemini_list))
        .route("/v1beta/models/{*rest}", post(gemini::handle))
        .route("/v1/models/{*rest}", post(gemini::handle))
        .route("/models/{*rest}", post(gemini::handle))
}

async fn anthropic(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    accept(state, Dialect::Anthropic, headers, query, body, None).await
}

async fn openai_chat(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    accept(state, Dialect::OpenAiChat, headers, query, body, None).await
}

async fn responses(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    accept(state, Dialect::Responses, headers, query, body, None).await
}

async fn embeddings(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match admit(&state, Dialect::OpenAiChat, headers, query, body, None).await {
        Ok(call) => pipeline::embeddings::handle(state, call).await,
        Err(refused) => refused,
    }
}

/// Model and stream flag a Gemini path carries.
#[derive(Debug, Clone)]
pub(crate) struct UrlModel {
    pub model: String,
    pub stream: bool,
}

/// Reads the body within the limit, authenticates, and runs the pipeline.
pub(crate) async fn accept(
    state: AppState,
    dialect: Dialect,
    headers: HeaderMap,
    query: Option<String>,
    body: Body,
    url: Option<UrlModel>,
) -> Response {
    match admit(&state, dialect, headers, query, body, url).await {
        Ok(call) => pipeline::handle(state, call).await,
        Err(refused) => refused,
    }
}

/// Authenticates and reads the body within the limit: the `Call` the pipeline serves, or the
/// answer to a caller refused at the door.
async fn admit(
    state: &AppState,
    dialect: Dialect,
    headers: HeaderMap,
    query: Option<String>,
    body: Body,
    url: Option<UrlModel>,
) -> Result<Call, Response> {
    let accepted = Instant::now();
    let started_at_ms = unix_ms();
    let request_id = state.request_id();
    let caller = auth::authenticate(state, &headers, query.as_deref(), started_at_ms)
        .map_err(|e| early(e, dialect, &request_id))?;
    let body = read_body(body, state.limits.max_body_bytes)
        .await
        .map_err(|e| early(e, dialect, &request_id))?;
    Ok(Call {
        dialect,
        body,
        headers,
        url_model: url.as_ref().map(|u| u.model.clone()),
        url_stream: url.is_some_and(|u| u.stream),
        accepted,
        started_at_ms,
        request_id,
        key_id: caller.key_id,
        key_models: caller.models,
    })
}

/// Answers a request refused before the pipeline (no usage record: nothing was attempted on
/// anyone's behalf).
fn early(err: ApiError, dialect: Dialect, request_id: &str) -> Response {
    let mut resp = err.render(dialect);
    if let Ok(v) = request_id.parse() {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            ErrorKind::RequestTooLarge,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    })
}

/// `HEAD /` and `GET /`: clients probe reachability here.
pub async fn root() -> impl IntoResponse {
    (StatusCode::OK, "switchyard\n")
}

/// Unknown paths: a 404 in the dialect the path suggests.
pub async fn not_found(Path(path): Path<String>) -> Response {
    let dialect = if path.contains("v1beta") {
        Dialect::Gemini
    } else {
        Dialect::OpenAiChat
    };
    ApiError::new(ErrorKind::NotFound, format!("no such endpoint: /{path}")).render(dialect)
}
