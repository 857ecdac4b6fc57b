//! Gemini SSE chunks → a well-formed IR event stream.
//!
//! Text parts extend the open text block (a new block starts only when the open one is of
//! another kind); thought parts do the same for thinking; a `functionCall` arrives whole in one
//! part and becomes a complete tool-use block at once. An empty text part carrying only a
//! `thoughtSignature` signs the open block. Usage is cumulative on every chunk; the chunk
//! with a `finishReason` ends the message. Parts the IR stream has no form for (inline media,
//! code execution) are skipped.

use serde_json::{json, Value};

use crate::gemini::error::{detail_of, from_detail};
use crate::gemini::response::{
    decode_stop_reason, decode_usage, mint_response_call_id, prompt_blocked,
};
use crate::gemini::wire;
use crate::ir::{
    BlockStart, Delta, ErrorBody, ErrorKind, StopReason, StreamEvent, ToolCallKind, Usage,
};
use crate::scan::{Reader, Seen};
use crate::{signature, sse, Dialect, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
}

/// Decodes one upstream Gemini stream.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    /// The message ended (finish reason, error): later frames are ignored.
    done: bool,
    id: String,
    open: Option<(usize, Open)>,
    next_index: usize,
    /// Function calls seen so far (a `STOP` after one is a tool-use stop).
    calls: usize,
    usage: Usage,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn decode(&mut self, frame: &sse::Frame, out: &mut Vec<StreamEvent>) -> Result<(), Error> {
        let data = frame.data.trim();
        if self.done || data.is_empty() || data == "[DONE]" {
            return Ok(());
        }
        // A chunk of text or thinking parts, nearly every chunk of a stream, is read by hand
        // (see `read_chunk`); the rest through a `Value`.
        let chunk = match read_chunk(data) {
            Some(chunk) => chunk,
            None => {
                let value: Value = serde_json::from_str(data)
                    .map_err(|e| Error::Stream(format!("invalid JSON in Gemini chunk: {e}")))?;
                if value.get("error").is_some() {
                    if let Some(detail) = detail_of(value.clone()) {
                        self.done = true;
                        out.push(StreamEvent::Error(from_detail(detail, None)));
                        return Ok(());
                    }
                }
                serde_json::from_value(value)
                    .map_err(|e| Error::Stream(format!("unexpected Gemini chunk: {e}")))?
            }
        };
        let chunk_usage = chunk.usage_metadata.as_ref().map(decode_usage);
        if !self.started {
            self.started = true;
            self.id = chunk.response_id.clone().unwrap_or_default();
            out.push(StreamEvent::MessageStart {
                id: self.id.clone(),
                model: chunk.model_version.clone().unwrap_or_default(),
                usage: chunk_usage.unwrap_or_default(),
            });
        }
        if let Some(u) = &chunk_usage {
            self.usage.merge(u);
        }
        let Some(candidate) = chunk.candidates.into_iter().next() else {
            if prompt_blocked(&chunk.extra) {
                self.end(StopReason::ContentFilter, out);
            }
            return Ok(());
        };
        if let Some(content) = candidate.content {
            for part in content.parts {
                self.part(part, out);
            }
        }
        if let Some(reason) = candidate.finish_reason {
            self.end(decode_stop_reason(&reason, self.calls > 0), out);
        }
        Ok(())
    }

    /// The upstream closed the connection: nothing more if the message ended, else close what
    /// is open and report the truncation.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.done = true;
        self.close(out);
        out.push(StreamEvent::Error(ErrorBody::new(
            ErrorKind::Api,
            "upstream stream ended before completion",
        )));
    }

    fn end(&mut self, stop: StopReason, out: &mut Vec<StreamEvent>) {
        self.close(out);
        out.push(StreamEvent::MessageDelta {
            stop_reason: Some(stop),
            stop_sequence: None,
            usage: self.usage,
        });
        out.push(StreamEvent::MessageStop);
        self.done = true;
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, _)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn start(&mut self, kind: Open, out: &mut Vec<StreamEvent>) -> usize {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((index, kind));
        let block = match kind {
            Open::Text => BlockStart::Text,
            Open::Thinking => BlockStart::Thinking,
        };
        out.push(StreamEvent::BlockStart { index, block });
        index
    }

    fn part(&mut self, part: wire::Part, out: &mut Vec<StreamEvent>) {
        let sig = part
            .thought_signature
            .as_deref()
            .map(|s| signature::from_wire(s, Dialect::Gemini.family()));
        if let Some(fc) = part.function_call {
            self.close(out);
            let args = fc.args.unwrap_or_else(|| json!({}));
            let id = fc
                .id
                .unwrap_or_else(|| mint_response_call_id(&self.id, self.calls, &fc.name, &args));
            self.calls += 1;
            let index = self.next_index;
            self.next_index += 1;
            out.push(StreamEvent::BlockStart {
                index,
                block: BlockStart::ToolUse {
                    id,
                    name: fc.name,
                    kind: ToolCallKind::Function,
                    signature: sig,
                },
            });
            out.push(StreamEvent::BlockDelta {
                index,
                delta: Delta::ToolInput(args.to_string()),
            });
            out.push(StreamEvent::BlockStop { index });
            return;
        }
        let Some(text) = part.text else {
            return;
        };
        let kind = if part.thought == Some(true) {
            Open::Thinking
        } else {
            Open::Text
        };
        if text.is_empty() {
            // A bare signature (Gemini sends one at the end of a thinking turn): it signs the
            // open block, or opens one to carry it.
            if let Some(sig) = sig {
                let index = match self.open {
                    Some((i, _)) => i,
                    None => self.start(kind, out),
                };
                out.push(StreamEvent::BlockDelta {
                    index,
                    delta: Delta::Signature(sig),
                });
            }
            return;
        }
        let index = match self.open {
            Some((i, k)) if k == kind => i,
            _ => self.start(kind, out),
        };
        let delta = match kind {
            Open::Text => Delta::Text(text),
            Open::Thinking => Delta::Thinking(text),
        };
        out.push(StreamEvent::BlockDelta { index, delta });
        if let Some(sig) = sig {
            out.push(StreamEvent::BlockDelta {
                index,
                delta: Delta::Signature(sig),
            });
        }
    }
}

/// A chunk whose parts are text or thinking (with their signatures), read with
/// [`crate::scan`] into the `wire::Response` serde would build: through a `Value` and the wire
/// types it cost an allocation per key and value. `None` for anything else (an error, another
/// kind of part, a snake_case key, a repeated key) or anything the reader is unsure of; the
/// general path then reads it, so this must build only what that path builds (the tests
/// compare the two).
fn read_chunk(data: &str) -> Option<wire::Response> {
    let mut r = Reader::new(data);
    r.ws();
    let mut seen = Seen::default();
    let mut chunk = wire::Response::default();
    r.object(|r, key| {
        match key {
            "candidates" => chunk.candidates = seen.once(0, r)?.array(read_candidate)?,
            "usageMetadata" => chunk.usage_metadata = seen.once(1, r)?.by_serde()?,
            "modelVersion" => chunk.model_version = seen.once(2, r)?.text_owned()?,
            "responseId" => chunk.response_id = seen.once(3, r)?.text_owned()?,
            "error" | "usage_metadata" | "model_version" | "response_id" => return None,
            _ => r.unknown(key, &mut chunk.extra)?,
        }
        Some(())
    })?;
    r.end()?;
    Some(chunk)
}

fn read_candidate(r: &mut Reader<'_>) -> Option<wire::Candidate> {
    let mut seen = Seen::default();
    let mut candidate = wire::Candidate::default();
    r.object(|r, key| {
        match key {
            "content" => candidate.content = seen.once(0, r)?.nullable(read_content)?,
            "finishReason" => candidate.finish_reason = seen.once(1, r)?.text_owned()?,
            "finish_reason" => return None,
            _ => r.unknown(key, &mut candidate.extra)?,
        }
        Some(())
    })?;
    Some(candidate)
}

fn read_content(r: &mut Reader<'_>) -> Option<wire::Content> {
    let mut seen = Seen::default();
    let mut content = wire::Content::default();
    r.object(|r, key| {
        match key {
            "role" => content.role = seen.once(0, r)?.text_owned()?,
            "parts" => content.parts = seen.once(1, r)?.array(read_part)?,
            _ => r.unknown(key, &mut content.extra)?,
        }
        Some(())
    })?;
    Some(content)
}

/// A text or thinking part; any other field (another kind of part) declines the chunk.
fn read_part(r: &mut Reader<'_>) -> Option<wire::Part> {
    let mut seen = Seen::default();
    let mut part = wire::Part::default();
    r.object(|r, key| {
        match key {
            "text" => part.text = seen.once(0, r)?.text_owned()?,
            "thought" => part.thought = seen.once(1, r)?.nullable(Reader::bool)?,
            "thoughtSignature" => part.thought_signature = seen.once(2, r)?.text_owned()?,
            _ => return None,
        }
        Some(())
    })?;
    Some(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNKS: [&str; 3] = [
        r#"{"candidates":[{"content":{"parts":[{"text":"**Plan** \"a\"\n\u00e9","thought":true}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,"totalTokenCount":21,"thoughtsTokenCount":12},"modelVersion":"gemini-2.5-pro","responseId":"r1"}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":"done"},{"text":"","thoughtSignature":"c2ln"}],"role":"model"},"finishReason":"STOP","index":0,"safetyRatings":[{"category":"HARM_CATEGORY_X","probability":"NEGLIGIBLE","blocked":false,"score":1.5e-3}]}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":2,"totalTokenCount":23},"modelVersion":"gemini-2.5-pro","responseId":"r1","createTime":"2026-01-01T00:00:00Z"}"#,
        r#" {"candidates":[{"content":null}],"usageMetadata":null,"modelVersion":null} "#,
    ];

    /// What the general path builds from `data`, as the decoder reads it.
    fn general(data: &str) -> Option<wire::Response> {
        serde_json::from_value(serde_json::from_str::<Value>(data).ok()?).ok()
    }

    /// A chunk read by hand is one the general path builds the same. Says whether it was.
    fn check(data: &str) -> bool {
        let Some(chunk) = read_chunk(data) else {
            return false;
        };
        let whole = general(data).unwrap_or_else(|| panic!("read by hand, refused: {data}"));
        assert_eq!(format!("{chunk:?}"), format!("{whole:?}"), "{data}");
        true
    }

    #[test]
    fn text_and_thinking_chunks_are_read_by_hand_as_the_general_path_reads_them() {
        for data in CHUNKS.into_iter().chain([
            r#"{"candidates":[{"content":{"parts":[{"text":"a","thought":false,"thoughtSignature":null}]}}]}"#,
        ]) {
            assert!(check(data), "not read by hand: {data}");
        }
        // Every text chunk of the stream fixtures, as upstreams send them.
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gemini/streams");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures").flatten() {
            let mut items = Vec::new();
            let mut parser = sse::Parser::new();
            parser.feed(&std::fs::read(entry.path()).expect("fixture"), &mut items);
            parser.finish(&mut items);
            for item in items {
                if let sse::Item::Frame(f) = item {
                    read += usize::from(check(f.data.trim()));
                }
            }
        }
        assert!(read >= 8, "only {read} fixture chunks read by hand");
        // Errors, other parts, snake_case, repeated keys: the general path.
        for data in [
            r#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usage_metadata":{}}"#,
            r#"{"candidates":[{"finish_reason":"STOP"}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a","text":"b"}]}}]}"#,
            r#"{"candidates":[{"index":0,"index":1}]}"#,
            r#"{"candidates":[{"content":{"parts":null}}]}"#,
        ] {
            assert!(!check(data), "read by hand: {data}");
        }
    }

    #[test]
    fn the_two_paths_agree_on_every_cut_and_corruption() {
        for data in crate::scan::cuts_and_corruptions(&CHUNKS) {
            check(&data);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_by_hand(text in crate::json::any_text()) {
            let data = serde_json::json!({
                "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}}],
            });
            proptest::prop_assert!(check(&data.to_string()));
        }
    }
}
