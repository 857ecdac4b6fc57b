//! Gemini paths: `/{v1beta|v1|}/models/{model}:{method}`, where the method says whether to
//! stream (`streamGenerateContent`), generate, or count tokens.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use switchyard_protocol::ir::ErrorKind;
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
            accept(state, Dialect::Gemini, headers, query, body, Some(url)).await
        }
        "countTokens" => tokens::gemini(state, headers, query, body, model).await,
        other => ApiError::new(
            ErrorKind::NotFound,
            format!("method {other:?} is not served here"),
        )
        .render(Dialect::Gemini),
    }
}
