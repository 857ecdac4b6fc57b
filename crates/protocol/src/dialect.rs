//! The four dialects as one enum, and dispatch from it to each dialect's module.
//!
//! Every dialect module exposes the same verbs (`decode_request`, `encode_request`,
//! `decode_response`, `encode_response`, `StreamDecoder`, `StreamEncoder`, `decode_error`,
//! `encode_error`); this file is the one place that lists them all, so a new dialect is a new
//! folder plus one arm in each match here.

use std::fmt;
use std::str::FromStr;

use crate::ir::{self, ErrorBody, Family, StreamEvent};
use crate::{anthropic, gemini, openai, responses, sse, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Anthropic Messages (`/v1/messages`).
    Anthropic,
    /// OpenAI Chat Completions (`/v1/chat/completions`).
    OpenAiChat,
    /// OpenAI Responses (`/v1/responses`).
    Responses,
    /// Gemini `generateContent` / `streamGenerateContent?alt=sse`.
    Gemini,
}

impl Dialect {
    pub const ALL: [Dialect; 4] = [
        Dialect::Anthropic,
        Dialect::OpenAiChat,
        Dialect::Responses,
        Dialect::Gemini,
    ];

    /// The name used in config, on the command line and in fixture paths.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Anthropic => "anthropic",
            Dialect::OpenAiChat => "openai",
            Dialect::Responses => "responses",
            Dialect::Gemini => "gemini",
        }
    }

    /// The provider family whose signatures this dialect's upstreams mint and accept.
    pub fn family(self) -> Family {
        match self {
            Dialect::Anthropic => Family::Anthropic,
            Dialect::OpenAiChat | Dialect::Responses => Family::OpenAi,
            Dialect::Gemini => Family::Gemini,
        }
    }

    pub fn decode_request(self, body: &[u8]) -> Result<ir::Request, Error> {
        match self {
            Dialect::Anthropic => anthropic::decode_request(body),
            Dialect::OpenAiChat => openai::decode_request(body),
            Dialect::Responses => responses::decode_request(body),
            Dialect::Gemini => gemini::decode_request(body),
        }
    }

    pub fn encode_request(self, req: &ir::Request, opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
        match self {
            Dialect::Anthropic => anthropic::encode_request(req, opts),
            Dialect::OpenAiChat => openai::encode_request(req, opts),
            Dialect::Responses => responses::encode_request(req, opts),
            Dialect::Gemini => gemini::encode_request(req, opts),
        }
    }

    pub fn decode_response(self, body: &[u8]) -> Result<ir::Response, Error> {
        match self {
            Dialect::Anthropic => anthropic::decode_response(body),
            Dialect::OpenAiChat => openai::decode_response(body),
            Dialect::Responses => responses::decode_response(body),
            Dialect::Gemini => gemini::decode_response(body),
        }
    }

    pub fn encode_response(
        self,
        resp: &ir::Response,
        opts: &EncodeOptions,
    ) -> Result<Vec<u8>, Error> {
        match self {
            Dialect::Anthropic => anthropic::encode_response(resp, opts),
            Dialect::OpenAiChat => openai::encode_response(resp, opts),
            Dialect::Responses => responses::encode_response(resp, opts),
            Dialect::Gemini => gemini::encode_response(resp, opts),
        }
    }

    pub fn decode_error(self, status: u16, body: &[u8]) -> ErrorBody {
        match self {
            Dialect::Anthropic => anthropic::decode_error(status, body),
            Dialect::OpenAiChat => openai::decode_error(status, body),
            Dialect::Responses => responses::decode_error(status, body),
            Dialect::Gemini => gemini::decode_error(status, body),
        }
    }

    /// The status and JSON body of `err` in this dialect.
    pub fn encode_error(self, err: &ErrorBody) -> (u16, Vec<u8>) {
        match self {
            Dialect::Anthropic => anthropic::encode_error(err),
            Dialect::OpenAiChat => openai::encode_error(err),
            Dialect::Responses => responses::encode_error(err),
            Dialect::Gemini => gemini::encode_error(err),
        }
    }

    pub fn stream_decoder(self) -> StreamDecoder {
        match self {
            Dialect::Anthropic => StreamDecoder::Anthropic(anthropic::StreamDecoder::new()),
            Dialect::OpenAiChat => StreamDecoder::OpenAiChat(openai::StreamDecoder::new()),
            Dialect::Responses => StreamDecoder::Responses(responses::StreamDecoder::new()),
            Dialect::Gemini => StreamDecoder::Gemini(gemini::StreamDecoder::new()),
        }
    }

    pub fn stream_encoder(self, opts: &EncodeOptions) -> StreamEncoder {
        match self {
            Dialect::Anthropic => StreamEncoder::Anthropic(anthropic::StreamEncoder::new(opts)),
            Dialect::OpenAiChat => StreamEncoder::OpenAiChat(openai::StreamEncoder::new(opts)),
            Dialect::Responses => StreamEncoder::Responses(responses::StreamEncoder::new(opts)),
            Dialect::Gemini => StreamEncoder::Gemini(gemini::StreamEncoder::new(opts)),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Anthropic => "Anthropic Messages",
            Dialect::OpenAiChat => "OpenAI Chat Completions",
            Dialect::Responses => "OpenAI Responses",
            Dialect::Gemini => "Gemini",
        })
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "anthropic" | "messages" => Dialect::Anthropic,
            "openai" | "chat" | "openai-chat" => Dialect::OpenAiChat,
            "responses" | "openai-responses" => Dialect::Responses,
            "gemini" => Dialect::Gemini,
            other => {
                return Err(format!(
                    "unknown dialect {other:?} (expected anthropic, openai, responses or gemini)"
                ))
            }
        })
    }
}

/// Choices an encoder cannot make from the IR alone.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeOptions {
    /// `max_tokens` to send when the target requires it (Anthropic) and the request has none.
    pub default_max_tokens: u64,
    /// Whether a stream encoder should report usage to the client (OpenAI chat
    /// `stream_options.include_usage`). Upstream usage is always read either way.
    pub include_usage: bool,
    /// Whether remote image URLs may be passed to Gemini as `fileData` (the operator enabled
    /// it). When false, they are refused: the gateway never fetches an image silently.
    pub gemini_image_urls: bool,
    /// The model name to send instead of the request's (the upstream's name for the model a
    /// client asked for). Given here rather than written into the IR, so sending a request
    /// upstream never copies it.
    pub model: Option<String>,
    /// The most output tokens to ask for: a larger `max_tokens` is sent as this one.
    pub max_tokens_limit: Option<u64>,
    /// Ask a streaming upstream for usage even where the request does not (OpenAI chat
    /// `stream_options.include_usage`): the gateway records every request's usage.
    pub ask_usage: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            default_max_tokens: 8192,
            include_usage: true,
            gemini_image_urls: false,
            model: None,
            max_tokens_limit: None,
            ask_usage: false,
        }
    }
}

/// The request encoders read the request's model, output limit and usage wish through these,
/// never from the IR directly, so the options above apply in every dialect.
impl EncodeOptions {
    pub(crate) fn model<'a>(&'a self, req: &'a ir::Request) -> &'a str {
        self.model.as_deref().unwrap_or(&req.model)
    }

    pub(crate) fn max_tokens(&self, req: &ir::Request) -> Option<u64> {
        match (req.sampling.max_tokens, self.max_tokens_limit) {
            (Some(asked), Some(limit)) => Some(asked.min(limit)),
            (asked, _) => asked,
        }
    }

    pub(crate) fn usage_asked(&self, req: &ir::Request) -> bool {
        req.include_usage || self.ask_usage
    }
}

/// A stateful stream decoder for one upstream response.
#[derive(Debug)]
pub enum StreamDecoder {
    Anthropic(anthropic::StreamDecoder),
    OpenAiChat(openai::StreamDecoder),
    Responses(responses::StreamDecoder),
    Gemini(gemini::StreamDecoder),
}

impl StreamDecoder {
    /// Decodes one SSE frame, appending IR events to `out`.
    pub fn decode(&mut self, frame: &sse::Frame, out: &mut Vec<StreamEvent>) -> Result<(), Error> {
        match self {
            StreamDecoder::Anthropic(d) => d.decode(frame, out),
            StreamDecoder::OpenAiChat(d) => d.decode(frame, out),
            StreamDecoder::Responses(d) => d.decode(frame, out),
            StreamDecoder::Gemini(d) => d.decode(frame, out),
        }
    }

    /// The upstream closed the stream: closes what is open, or reports a truncated stream as
    /// an `Error` event, so the output is always well formed.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        match self {
            StreamDecoder::Anthropic(d) => d.finish(out),
            StreamDecoder::OpenAiChat(d) => d.finish(out),
            StreamDecoder::Responses(d) => d.finish(out),
            StreamDecoder::Gemini(d) => d.finish(out),
        }
    }
}

/// A stateful stream encoder for one client response.
#[derive(Debug)]
pub enum StreamEncoder {
    Anthropic(anthropic::StreamEncoder),
    OpenAiChat(openai::StreamEncoder),
    Responses(responses::StreamEncoder),
    Gemini(gemini::StreamEncoder),
}

impl StreamEncoder {
    /// Encodes one IR event as zero or more SSE frames appended to `out`.
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        match self {
            StreamEncoder::Anthropic(e) => e.encode(ev, out),
            StreamEncoder::OpenAiChat(e) => e.encode(ev, out),
            StreamEncoder::Responses(e) => e.encode(ev, out),
            StreamEncoder::Gemini(e) => e.encode(ev, out),
        }
    }

    /// Writes what the dialect sends after the last event (OpenAI's `data: [DONE]`).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self {
            StreamEncoder::Anthropic(e) => e.finish(out),
            StreamEncoder::OpenAiChat(e) => e.finish(out),
            StreamEncoder::Responses(e) => e.finish(out),
            StreamEncoder::Gemini(e) => e.finish(out),
        }
    }

    /// Appends a keep-alive in the dialect's own form (Anthropic `ping`, an SSE comment
    /// elsewhere).
    pub fn ping(&mut self, out: &mut Vec<u8>) {
        self.encode(&StreamEvent::Ping, out)
    }
}
