//! The four dialects as real upstreams serve them: which endpoint a request names (by path
//! suffix, so any base-URL prefix works), and the answer or error body in that endpoint's wire
//! format. One file per dialect, each with the same verbs (`user_text`, `json`, `stream`,
//! `error`, `models`). This module renders; it must not wait, cut or record — the handler and
//! the body apply the script's timing and faults to what it renders.

pub(crate) mod anthropic;
pub(crate) mod gemini;
pub(crate) mod openai;
pub(crate) mod responses;

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;

use crate::answer::{input_tokens, offers_tools, Answer};
use crate::record::query_param;
use crate::script::{RateLimit, Reply};

/// What a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST …/chat/completions`
    ChatCompletions,
    /// `POST …/responses`
    Responses,
    /// `POST …/embeddings`
    Embeddings,
    /// `POST …/messages`
    Messages,
    /// `POST …/messages/count_tokens`
    CountTokens,
    /// `POST …/models/{model}:generateContent`
    GenerateContent(String),
    /// `POST …/models/{model}:streamGenerateContent`
    StreamGenerateContent(String),
    /// `POST …/models/{model}:countTokens`
    GeminiCountTokens(String),
    /// `GET …/models`, in the family the request's headers or path point to.
    Models(Family),
    /// Anything else: a 404 in the family the request's headers or path point to.
    NotFound(Family),
}

/// Whose error bodies and headers an endpoint uses (the Responses API's are OpenAI's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    OpenAi,
    Anthropic,
    Gemini,
}

impl Endpoint {
    pub(crate) fn family(&self) -> Family {
        match self {
            Endpoint::Messages | Endpoint::CountTokens => Family::Anthropic,
            Endpoint::GenerateContent(_)
            | Endpoint::StreamGenerateContent(_)
            | Endpoint::GeminiCountTokens(_) => Family::Gemini,
            Endpoint::Models(family) | Endpoint::NotFound(family) => *family,
            Endpoint::ChatCompletions | Endpoint::Responses | Endpoint::Embeddings => {
                Family::OpenAi
            }
        }
    }
}

/// Names the endpoint by the end of the path, so `/v1/chat/completions`,
/// `/openai/v1/chat/completions` and `/api/v1/chat/completions` are the same endpoint.
pub(crate) fn route(method: &Method, path: &str, headers: &HeaderMap, query: &str) -> Endpoint {
    let path = path.trim_end_matches('/');
    let last = path.rsplit('/').next().unwrap_or_default();
    if *method == Method::POST {
        if let Some((model, action)) = last.split_once(':') {
            if path.contains("/models/") {
                let model = model.to_owned();
                return match action {
                    "generateContent" => Endpoint::GenerateContent(model),
                    "streamGenerateContent" => Endpoint::StreamGenerateContent(model),
                    "countTokens" => Endpoint::GeminiCountTokens(model),
                    _ => Endpoint::NotFound(Family::Gemini),
                };
            }
        }
        let suffixes = [
            ("/chat/completions", Endpoint::ChatCompletions),
            ("/responses", Endpoint::Responses),
            ("/embeddings", Endpoint::Embeddings),
            ("/messages/count_tokens", Endpoint::CountTokens),
            ("/messages", Endpoint::Messages),
        ];
        for (suffix, endpoint) in suffixes {
            if path.ends_with(suffix) {
                return endpoint;
            }
        }
    }
    let family = family_of(path, headers, query);
    if *method == Method::GET && path.ends_with("/models") {
        return Endpoint::Models(family);
    }
    Endpoint::NotFound(family)
}

/// The family a request without a dialect-specific path belongs to, by the headers its
/// clients always send.
fn family_of(path: &str, headers: &HeaderMap, query: &str) -> Family {
    let has = |name: &str| headers.contains_key(name);
    if path.contains("/v1beta/") || has("x-goog-api-key") || query_param(query, "key").is_some() {
        Family::Gemini
    } else if has("anthropic-version") || has("x-api-key") {
        Family::Anthropic
    } else {
        Family::OpenAi
    }
}

/// The request as the renderer needs it.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) endpoint: &'a Endpoint,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) body: &'a [u8],
    pub(crate) seq: u64,
    /// The script's model list, if it has one.
    pub(crate) models: Option<&'a [String]>,
}

/// What to send, before timing and faults are applied.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) payload: Payload,
}

/// A whole JSON body or a stream of frames.
#[derive(Debug)]
pub(crate) enum Payload {
    Json(Bytes),
    Frames(Vec<Bytes>),
}

const JSON: &str = "application/json";
const SSE: &str = "text/event-stream; charset=utf-8";

/// The answer to `request` as scripted by `reply`, or the dialect's error body.
pub(crate) fn render(request: &Request<'_>, reply: &Reply) -> Rendered {
    let family = request.endpoint.family();
    let failure = if (200..300).contains(&reply.status) {
        match answer(request, reply) {
            Ok(rendered) => return rendered,
            Err((status, message)) => (status, Some(message), None),
        }
    } else {
        (reply.status, None, reply.retry_after)
    };
    let (status, message, retry_after) = failure;
    let body = error(family, status, message.as_deref(), retry_after, request.seq);
    Rendered {
        status,
        content_type: JSON,
        payload: Payload::Json(Bytes::from(body.to_string())),
    }
}

fn error(
    family: Family,
    status: u16,
    message: Option<&str>,
    retry_after: Option<u64>,
    seq: u64,
) -> Value {
    match family {
        Family::OpenAi => openai::error(status, message),
        Family::Anthropic => anthropic::error(status, message, &request_id(seq)),
        Family::Gemini => gemini::error(status, message, retry_after),
    }
}

/// The request id a family's answers carry in a header, and the header's name.
pub(crate) fn request_id_header(family: Family, seq: u64) -> Option<(&'static str, String)> {
    match family {
        Family::OpenAi => Some(("x-request-id", request_id(seq))),
        Family::Anthropic => Some(("request-id", request_id(seq))),
        Family::Gemini => None,
    }
}

fn request_id(seq: u64) -> String {
    format!("req_fake{seq:06}")
}

/// The family's rate-limit headers (none for Gemini, which sends none).
pub(crate) fn rate_limit_headers(family: Family, limit: &RateLimit) -> Vec<(&'static str, String)> {
    match family {
        Family::OpenAi => openai::rate_limit_headers(limit),
        Family::Anthropic => anthropic::rate_limit_headers(limit),
        Family::Gemini => Vec::new(),
    }
}

type Refusal = (u16, String);

fn answer(request: &Request<'_>, reply: &Reply) -> Result<Rendered, Refusal> {
    let json = |value: Value| Rendered {
        status: reply.status,
        content_type: JSON,
        payload: Payload::Json(Bytes::from(value.to_string())),
    };
    let frames = |frames: Vec<Bytes>, content_type| Rendered {
        status: reply.status,
        content_type,
        payload: Payload::Frames(frames),
    };
    let models = |defaults: &[&str]| -> Vec<String> {
        match request.models {
            Some(ids) => ids.to_vec(),
            None => defaults.iter().map(|id| (*id).to_owned()).collect(),
        }
    };
    let parse = || -> Result<Value, Refusal> {
        serde_json::from_slice(request.body)
            .map_err(|e| (400, format!("the request body is not valid JSON: {e}")))
    };
    let answer = |body: &Value, model: &str, user_text| {
        Answer::new(
            reply,
            model,
            request.seq,
            request.body,
            user_text,
            offers_tools(body),
        )
    };
    let input = input_tokens(request.body);
    Ok(match request.endpoint {
        Endpoint::NotFound(_) => {
            let message = format!("no such endpoint on the fake upstream: {}", request.path);
            return Err((404, message));
        }
        Endpoint::Models(Family::OpenAi) => json(openai::models(&models(openai::MODELS))),
        Endpoint::Models(Family::Anthropic) => json(anthropic::models(&models(anthropic::MODELS))),
        Endpoint::Models(Family::Gemini) => json(gemini::models(&models(gemini::MODELS))),
        Endpoint::ChatCompletions => {
            let body = parse()?;
            let answer = answer(
                &body,
                openai_model(&body, request.path)?,
                openai::user_text(&body),
            );
            let include_usage = body
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool);
            if streams(&body) {
                frames(
                    openai::chat_stream(&answer, include_usage == Some(true)),
                    SSE,
                )
            } else {
                json(openai::chat_json(&answer))
            }
        }
        Endpoint::Responses => {
            let body = parse()?;
            let answer = answer(
                &body,
                openai_model(&body, request.path)?,
                responses::user_text(&body),
            );
            if streams(&body) {
                frames(responses::stream(&answer, &body), SSE)
            } else {
                json(responses::json(&answer, &body))
            }
        }
        Endpoint::Embeddings => {
            let body = parse()?;
            let model = openai_model(&body, request.path)?;
            json(openai::embeddings(&body, model, input).map_err(|m| (400, m))?)
        }
        Endpoint::Messages => {
            let body = parse()?;
            let model = body.get("model").and_then(Value::as_str);
            let model = model.ok_or((400, "model: Field required".to_owned()))?;
            if body.get("max_tokens").and_then(Value::as_u64).is_none() {
                return Err((400, "max_tokens: Field required".to_owned()));
            }
            let answer = answer(&body, model, anthropic::user_text(&body));
            if streams(&body) {
                frames(anthropic::stream(&answer), SSE)
            } else {
                json(anthropic::json(&answer))
            }
        }
        Endpoint::CountTokens => {
            parse()?;
            json(anthropic::count_tokens(input))
        }
        Endpoint::GenerateContent(model) => {
            let body = parse()?;
            json(gemini::json(&answer(
                &body,
                model,
                gemini::user_text(&body),
            )))
        }
        Endpoint::StreamGenerateContent(model) => {
            let body = parse()?;
            let answer = answer(&body, model, gemini::user_text(&body));
            if query_param(request.query, "alt") == Some("sse") {
                frames(gemini::stream(&answer, true), "text/event-stream")
            } else {
                frames(
                    gemini::stream(&answer, false),
                    "application/json; charset=UTF-8",
                )
            }
        }
        Endpoint::GeminiCountTokens(_) => {
            parse()?;
            json(gemini::count_tokens(input))
        }
    })
}

fn streams(body: &Value) -> bool {
    body.get("stream").and_then(Value::as_bool) == Some(true)
}

/// The `model` of an OpenAI-family body, or the deployment of an Azure-style path
/// (`/openai/deployments/{deployment}/chat/completions`), whose bodies name no model.
fn openai_model<'b>(body: &'b Value, path: &'b str) -> Result<&'b str, Refusal> {
    if let Some(model) = body.get("model").and_then(Value::as_str) {
        return Ok(model);
    }
    path.split_once("/deployments/")
        .and_then(|(_, rest)| rest.split('/').next())
        .ok_or((400, "you must provide a model parameter".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_by_their_suffix_under_any_prefix() {
        let none = HeaderMap::new();
        let post = |path: &str| route(&Method::POST, path, &none, "");
        assert_eq!(post("/v1/chat/completions"), Endpoint::ChatCompletions);
        assert_eq!(
            post("/openai/v1/chat/completions"),
            Endpoint::ChatCompletions
        );
        assert_eq!(post("/api/v1/responses"), Endpoint::Responses);
        assert_eq!(post("/v1/messages/count_tokens"), Endpoint::CountTokens);
        assert_eq!(post("/anthropic/v1/messages"), Endpoint::Messages);
        assert_eq!(
            post("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
            Endpoint::StreamGenerateContent("gemini-2.5-flash".to_owned())
        );
        assert_eq!(
            post("/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:countTokens"),
            Endpoint::GeminiCountTokens("gemini-2.5-pro".to_owned())
        );
        assert_eq!(
            post("/v1/chat/completions/x"),
            Endpoint::NotFound(Family::OpenAi)
        );

        let mut anthropic = HeaderMap::new();
        anthropic.insert(
            "anthropic-version",
            http::HeaderValue::from_static("2023-06-01"),
        );
        let get = |path: &str, headers: &HeaderMap, query: &str| {
            route(&Method::GET, path, headers, query)
        };
        assert_eq!(
            get("/v1/models", &none, ""),
            Endpoint::Models(Family::OpenAi)
        );
        assert_eq!(
            get("/v1/models", &anthropic, ""),
            Endpoint::Models(Family::Anthropic)
        );
        assert_eq!(
            get("/v1beta/models", &none, ""),
            Endpoint::Models(Family::Gemini)
        );
        assert_eq!(
            get("/v1/models", &none, "key=k"),
            Endpoint::Models(Family::Gemini)
        );
        assert_eq!(
            get("/v1/chat/completions", &none, ""),
            Endpoint::NotFound(Family::OpenAi)
        );
    }
}
