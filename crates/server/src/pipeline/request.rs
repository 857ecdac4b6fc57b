//! The client's request as the pipeline holds it: what routing and passthrough need (model,
//! stream flag, output limit, whether an OpenAI client asked for usage), read at the door in one
//! pass that checks the body is UTF-8 JSON without building anything else; and the IR, decoded only
//! the first time a path needs it (translation, the mock provider, session affinity, Responses
//! state). A request forwarded as bytes to an upstream of its own dialect is never decoded,
//! which is most of a passthrough request's cost at the door. It must not decide anything.

use std::sync::OnceLock;

use bytes::Bytes;
use switchyard_protocol::{head, ir, Dialect};

use crate::render::ApiError;

/// A client request: its head read, its IR decoded on demand.
#[derive(Debug)]
pub(crate) struct Request {
    pub model: String,
    pub stream: bool,
    /// The output limit the client asked for.
    pub max_tokens: Option<u64>,
    /// Whether the client wants usage in its stream (only OpenAI chat clients can say no).
    pub include_usage: bool,
    dialect: Dialect,
    body: Bytes,
    ir: OnceLock<Result<ir::Request, String>>,
}

impl Request {
    /// Reads the head of `body`; Gemini's model and stream flag come from the URL
    /// (`url_model`, `url_stream`). An error names what is wrong with the body.
    pub fn read(
        dialect: Dialect,
        body: Bytes,
        url_model: Option<&str>,
        url_stream: bool,
    ) -> Result<Self, ApiError> {
        // A forwarded body must be text, and the head is read from text (this check runs at
        // memory speed).
        let text = std::str::from_utf8(&body).map_err(|bad| {
            ApiError::invalid(format!(
                "the request body is not valid UTF-8 (byte {})",
                bad.valid_up_to()
            ))
        })?;
        let head = head::read(text).map_err(|e| ApiError::invalid(e.to_string()))?;
        let (model, stream) = match url_model {
            Some(m) => (m.to_string(), url_stream),
            None => (head.model.unwrap_or_default(), head.stream.unwrap_or(false)),
        };
        let max_tokens = match dialect {
            // The newer spelling wins when both are given.
            Dialect::OpenAiChat => head.max_completion_tokens.or(head.max_tokens),
            Dialect::Anthropic => head.max_tokens,
            Dialect::Responses => head.max_output_tokens,
            Dialect::Gemini => head.generation_config.and_then(|g| g.max_output_tokens),
        };
        let include_usage = dialect != Dialect::OpenAiChat
            || head.stream_options.and_then(|o| o.include_usage) == Some(true);
        Ok(Self {
            model,
            stream,
            max_tokens,
            include_usage,
            dialect,
            body,
            ir: OnceLock::new(),
        })
    }

    /// The IR of the request, decoded the first time it is asked for.
    pub fn ir(&self) -> Result<&ir::Request, ApiError> {
        self.ir
            .get_or_init(|| {
                let mut req = self
                    .dialect
                    .decode_request(&self.body)
                    .map_err(|e| e.to_string())?;
                // The head is what routing went by (and holds Gemini's URL model).
                req.model.clone_from(&self.model);
                req.stream = self.stream;
                Ok(req)
            })
            .as_ref()
            .map_err(|message| ApiError::invalid(message.clone()))
    }

    /// The IR to change before anything else reads it (Responses state rebuilding the
    /// conversation); decoded now if it was not yet.
    pub fn ir_mut(&mut self) -> Result<&mut ir::Request, ApiError> {
        self.ir()?;
        match self.ir.get_mut() {
            Some(Ok(req)) => Ok(req),
            // `ir()` just succeeded, so the cell holds a request.
            _ => Err(ApiError::invalid("the request could not be read")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dialect: Dialect, body: &str) -> Request {
        Request::read(dialect, Bytes::from(body.to_string()), None, false).expect("a head")
    }

    #[test]
    fn reads_each_dialects_spelling_of_the_output_limit() {
        let r = read(
            Dialect::OpenAiChat,
            r#"{"model":"m","max_tokens":5,"max_completion_tokens":7,"messages":[]}"#,
        );
        assert_eq!((r.model.as_str(), r.max_tokens), ("m", Some(7)));
        let r = read(Dialect::Anthropic, r#"{"model":"c","max_tokens":9}"#);
        assert_eq!(r.max_tokens, Some(9));
        let r = read(Dialect::Responses, r#"{"model":"r","max_output_tokens":3}"#);
        assert_eq!(r.max_tokens, Some(3));
        let r = Request::read(
            Dialect::Gemini,
            Bytes::from_static(br#"{"generationConfig":{"maxOutputTokens":4}}"#),
            Some("gemini-x"),
            true,
        )
        .expect("a head");
        assert_eq!(
            (r.model.as_str(), r.stream, r.max_tokens),
            ("gemini-x", true, Some(4))
        );
    }

    #[test]
    fn only_openai_chat_clients_can_go_without_usage() {
        let no = read(Dialect::OpenAiChat, r#"{"model":"m","stream":true}"#);
        assert!(no.stream && !no.include_usage);
        let yes = read(
            Dialect::OpenAiChat,
            r#"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#,
        );
        assert!(yes.include_usage);
        assert!(read(Dialect::Anthropic, r#"{"model":"m","stream":true}"#).include_usage);
    }

    #[test]
    fn the_ir_agrees_with_the_head_and_is_decoded_once() {
        let r = read(
            Dialect::OpenAiChat,
            r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        );
        let ir = r.ir().expect("decodes");
        assert_eq!((ir.model.as_str(), ir.stream), ("m", true));
        assert!(std::ptr::eq(ir, r.ir().expect("decodes")));
    }

    #[test]
    fn bad_bodies_are_refused_at_the_door() {
        for body in [&b"{"[..], b"[1]", b"{\"model\": 5}", b"\xff\xfe"] {
            let err = Request::read(Dialect::Anthropic, Bytes::from_static(body), None, false)
                .expect_err("refused");
            assert_eq!(err.status(), 400, "{body:?}");
        }
        // Also inside a string the JSON pass only skips.
        let err = Request::read(
            Dialect::Anthropic,
            Bytes::from_static(b"{\"model\": \"m\", \"messages\": [\"\xff\"]}"),
            None,
            false,
        )
        .expect_err("refused");
        assert!(err.body.message.contains("UTF-8"), "{}", err.body.message);
    }

    #[test]
    fn a_body_that_only_the_full_decoder_refuses_fails_when_decoded() {
        let r = read(
            Dialect::Anthropic,
            r#"{"model":"m","messages":"not a list"}"#,
        );
        assert_eq!(r.ir().expect_err("refused").status(), 400);
    }
}
