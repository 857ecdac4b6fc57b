//! IR stream events to chat chunks.
//!
//! Every chunk carries the id and model from `MessageStart`, `object: chat.completion.chunk`
//! and `created: 0` (the IR carries no time and this crate reads no clock). The first chunk
//! has `delta: {role: "assistant", content: ""}`; text goes out as `content`, thinking as
//! `reasoning_content`, each tool call under its own `tool_calls[].index` counted from 0 among
//! the tool calls (not the IR block index). The finish reason and usage go out at
//! `MessageStop`, usage in a final chunk with empty `choices` when the client asked for it;
//! `finish` writes `data: [DONE]` once. Signatures, citations, redacted thinking and server
//! tool calls have no chunk form and are written as nothing.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::ir::{BlockStart, Delta, StopReason, StreamEvent, ToolCallKind, Usage};
use crate::openai::error::error_value;
use crate::openai::response::{encode_stop, encode_usage};
use crate::{sse, EncodeOptions};

#[derive(Debug)]
pub struct StreamEncoder {
    include_usage: bool,
    id: String,
    model: String,
    /// IR block index → (tool-call index on the wire, kind).
    tools: HashMap<usize, (u64, ToolCallKind)>,
    next_tool: u64,
    stop_reason: Option<StopReason>,
    usage: Usage,
    /// `[DONE]` was written.
    done: bool,
}

impl StreamEncoder {
    pub fn new(opts: &EncodeOptions) -> Self {
        Self {
            include_usage: opts.include_usage,
            id: String::new(),
            model: String::new(),
            tools: HashMap::new(),
            next_tool: 0,
            stop_reason: None,
            usage: Usage::default(),
            done: false,
        }
    }

    pub fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        match ev {
            StreamEvent::MessageStart { id, model, usage } => {
                self.id = id.clone();
                self.model = model.clone();
                self.usage.merge(usage);
                self.chunk(
                    out,
                    json!({"role": "assistant", "content": ""}),
                    Value::Null,
                );
            }
            StreamEvent::BlockStart {
                index,
                block: BlockStart::ToolUse { id, name, kind, .. },
            } if *kind != ToolCallKind::Server => {
                let k = self.next_tool;
                self.next_tool += 1;
                self.tools.insert(*index, (k, *kind));
                let call = if *kind == ToolCallKind::Custom {
                    json!({"index": k, "id": id, "type": "custom",
                           "custom": {"name": name, "input": ""}})
                } else {
                    json!({"index": k, "id": id, "type": "function",
                           "function": {"name": name, "arguments": ""}})
                };
                self.chunk(out, json!({"tool_calls": [call]}), Value::Null);
            }
            StreamEvent::BlockDelta { index, delta } => match delta {
                Delta::Text(s) => self.chunk(out, json!({"content": s}), Value::Null),
                Delta::Thinking(s) => self.chunk(out, json!({"reasoning_content": s}), Value::Null),
                Delta::ToolInput(s) => {
                    if let Some(&(k, kind)) = self.tools.get(index) {
                        let call = if kind == ToolCallKind::Custom {
                            json!({"index": k, "custom": {"input": s}})
                        } else {
                            json!({"index": k, "function": {"arguments": s}})
                        };
                        self.chunk(out, json!({"tool_calls": [call]}), Value::Null);
                    }
                }
                Delta::Signature(_) | Delta::Citation(_) => {}
            },
            StreamEvent::MessageDelta {
                stop_reason, usage, ..
            } => {
                if stop_reason.is_some() {
                    self.stop_reason = stop_reason.clone();
                }
                self.usage.merge(usage);
            }
            StreamEvent::MessageStop => {
                let reason = encode_stop(self.stop_reason.as_ref().unwrap_or(&StopReason::EndTurn));
                self.chunk(out, json!({}), Value::String(reason.to_string()));
                if self.include_usage {
                    let chunk = json!({
                        "id": self.id,
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": self.model,
                        "choices": [],
                        "usage": encode_usage(&self.usage),
                    });
                    sse::write_frame(out, None, &chunk.to_string());
                }
            }
            StreamEvent::Ping => sse::write_comment(out, "ping"),
            StreamEvent::Error(err) => {
                sse::write_frame(out, None, &error_value(err).to_string());
            }
            StreamEvent::BlockStart { .. } | StreamEvent::BlockStop { .. } => {}
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.done {
            self.done = true;
            sse::write_frame(out, None, "[DONE]");
        }
    }

    fn chunk(&self, out: &mut Vec<u8>, delta: Value, finish_reason: Value) {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [{
                "index": 0,
                "delta": delta,
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
        });
        sse::write_frame(out, None, &chunk.to_string());
    }
}
