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
        let value: Value = serde_json::from_str(data)
            .map_err(|e| Error::Stream(format!("invalid JSON in Gemini chunk: {e}")))?;
        if value.get("error").is_some() {
            if let Some(detail) = detail_of(value.clone()) {
                self.done = true;
                out.push(StreamEvent::Error(from_detail(detail, None)));
                return Ok(());
            }
        }
        let chunk: wire::Response = serde_json::from_value(value)
            .map_err(|e| Error::Stream(format!("unexpected Gemini chunk: {e}")))?;
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
