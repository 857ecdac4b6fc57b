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
//!
//! The chunks a stream repeats (the role chunk, text, thinking and tool-input deltas, tool-call
//! starts and the finish chunk) are written straight into the output as the bytes
//! `json!(…).to_string()` gives for them, without building a `serde_json::Value` per event; the
//! rare ones (the usage chunk, `error`) still go through a `Value`. The tests compare the two
//! ways byte for byte.

use std::collections::HashMap;

use serde_json::json;

use crate::ir::{BlockStart, Delta, StopReason, StreamEvent, ToolCallKind, Usage};
use crate::openai::error::error_value;
use crate::openai::response::{encode_stop, encode_usage};
use crate::{json, sse, EncodeOptions};

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
                self.chunk(out, |out| out.extend_from_slice(ROLE_DELTA), None);
            }
            StreamEvent::BlockStart {
                index,
                block: BlockStart::ToolUse { id, name, kind, .. },
            } if *kind != ToolCallKind::Server => {
                let k = self.next_tool;
                self.next_tool += 1;
                self.tools.insert(*index, (k, *kind));
                self.chunk(
                    out,
                    |out| write_tool_call_start(out, k, id, name, *kind),
                    None,
                );
            }
            StreamEvent::BlockDelta { index, delta } => match delta {
                Delta::Text(s) => self.chunk(out, |out| write_text_delta(out, "content", s), None),
                Delta::Thinking(s) => self.chunk(
                    out,
                    |out| write_text_delta(out, "reasoning_content", s),
                    None,
                ),
                Delta::ToolInput(s) => {
                    if let Some(&(k, kind)) = self.tools.get(index) {
                        self.chunk(out, |out| write_tool_call_delta(out, k, kind, s), None);
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
                self.chunk(out, |out| out.extend_from_slice(b"{}"), Some(reason));
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

    fn chunk(
        &self,
        out: &mut Vec<u8>,
        delta: impl FnOnce(&mut Vec<u8>),
        finish_reason: Option<&str>,
    ) {
        write_chunk(out, &self.id, &self.model, delta, finish_reason);
    }
}

// Direct writers. Each writes the bytes `json!(…).to_string()` gives for the same chunk: the
// workspace builds serde_json with `preserve_order`, so keys come out in the order they are
// written in the macro (not sorted), and strings are escaped by serde_json itself. That output
// never holds a raw newline, so the chunk is one `data:` line.

const ROLE_DELTA: &[u8] = br#"{"role":"assistant","content":""}"#;

/// `{"id":ID,"object":"chat.completion.chunk","created":0,"model":MODEL,"choices":[{"index":0,
/// "delta":DELTA,"logprobs":null,"finish_reason":REASON}]}` as one frame, DELTA written by
/// `delta`, REASON null when `None`.
fn write_chunk(
    out: &mut Vec<u8>,
    id: &str,
    model: &str,
    delta: impl FnOnce(&mut Vec<u8>),
    finish_reason: Option<&str>,
) {
    out.extend_from_slice(br#"data: {"id":"#);
    json::write_str(out, id);
    out.extend_from_slice(br#","object":"chat.completion.chunk","created":0,"model":"#);
    json::write_str(out, model);
    out.extend_from_slice(br#","choices":[{"index":0,"delta":"#);
    delta(out);
    out.extend_from_slice(br#","logprobs":null,"finish_reason":"#);
    json::write_opt_str(out, finish_reason);
    out.extend_from_slice(b"}]}\n\n");
}

/// `{FIELD:TEXT}`; `field` is a constant that needs no escaping.
fn write_text_delta(out: &mut Vec<u8>, field: &str, text: &str) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(field.as_bytes());
    out.extend_from_slice(b"\":");
    json::write_str(out, text);
    out.push(b'}');
}

/// The first chunk of tool call `k`: its id, name and empty arguments (or input).
fn write_tool_call_start(out: &mut Vec<u8>, k: u64, id: &str, name: &str, kind: ToolCallKind) {
    out.extend_from_slice(br#"{"tool_calls":[{"index":"#);
    json::write_uint(out, k);
    out.extend_from_slice(br#","id":"#);
    json::write_str(out, id);
    if kind == ToolCallKind::Custom {
        out.extend_from_slice(br#","type":"custom","custom":{"name":"#);
        json::write_str(out, name);
        out.extend_from_slice(br#","input":""}}]}"#);
    } else {
        out.extend_from_slice(br#","type":"function","function":{"name":"#);
        json::write_str(out, name);
        out.extend_from_slice(br#","arguments":""}}]}"#);
    }
}

/// A piece of tool call `k`'s arguments (or, for a custom tool, its input).
fn write_tool_call_delta(out: &mut Vec<u8>, k: u64, kind: ToolCallKind, piece: &str) {
    out.extend_from_slice(br#"{"tool_calls":[{"index":"#);
    json::write_uint(out, k);
    if kind == ToolCallKind::Custom {
        out.extend_from_slice(br#","custom":{"input":"#);
    } else {
        out.extend_from_slice(br#","function":{"arguments":"#);
    }
    json::write_str(out, piece);
    out.extend_from_slice(b"}}]}");
}

#[cfg(test)]
mod tests {
    use crate::json::any_text as text;
    use crate::json::AWKWARD_TEXT as AWKWARD;
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    // The reference: how the encoder built every chunk before the direct writers, a `Value`
    // made with `json!` and written with `to_string`.

    fn via_value(id: &str, model: &str, delta: Value, finish_reason: Value) -> String {
        let chunk = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{
                "index": 0,
                "delta": delta,
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
        });
        let mut out = Vec::new();
        sse::write_frame(&mut out, None, &chunk.to_string());
        String::from_utf8(out).expect("UTF-8")
    }

    fn tool_call_start_value(k: u64, id: &str, name: &str, kind: ToolCallKind) -> Value {
        let call = if kind == ToolCallKind::Custom {
            json!({"index": k, "id": id, "type": "custom",
                   "custom": {"name": name, "input": ""}})
        } else {
            json!({"index": k, "id": id, "type": "function",
                   "function": {"name": name, "arguments": ""}})
        };
        json!({"tool_calls": [call]})
    }

    fn tool_call_delta_value(k: u64, kind: ToolCallKind, s: &str) -> Value {
        let call = if kind == ToolCallKind::Custom {
            json!({"index": k, "custom": {"input": s}})
        } else {
            json!({"index": k, "function": {"arguments": s}})
        };
        json!({"tool_calls": [call]})
    }

    fn direct(
        id: &str,
        model: &str,
        delta: impl FnOnce(&mut Vec<u8>),
        finish_reason: Option<&str>,
    ) -> String {
        let mut out = Vec::new();
        write_chunk(&mut out, id, model, delta, finish_reason);
        String::from_utf8(out).expect("UTF-8")
    }

    /// Every direct writer against its reference, with `s` as the text, tool id, tool name,
    /// argument piece and finish reason.
    fn assert_writers_match(id: &str, model: &str, s: &str, k: u64) {
        let null = Value::Null;
        let role = json!({"role": "assistant", "content": ""});
        assert_eq!(
            direct(id, model, |out| out.extend_from_slice(ROLE_DELTA), None),
            via_value(id, model, role, null.clone()),
        );
        for field in ["content", "reasoning_content"] {
            assert_eq!(
                direct(id, model, |out| write_text_delta(out, field, s), None),
                via_value(id, model, json!({field: s}), null.clone()),
            );
        }
        for kind in [ToolCallKind::Function, ToolCallKind::Custom] {
            assert_eq!(
                direct(
                    id,
                    model,
                    |out| write_tool_call_start(out, k, s, s, kind),
                    None
                ),
                via_value(
                    id,
                    model,
                    tool_call_start_value(k, s, s, kind),
                    null.clone()
                ),
            );
            assert_eq!(
                direct(
                    id,
                    model,
                    |out| write_tool_call_delta(out, k, kind, s),
                    None
                ),
                via_value(id, model, tool_call_delta_value(k, kind, s), null.clone()),
            );
        }
        assert_eq!(
            direct(id, model, |out| out.extend_from_slice(b"{}"), Some(s)),
            via_value(id, model, json!({}), Value::String(s.to_string())),
        );
    }

    #[test]
    fn direct_chunks_are_the_bytes_of_the_value_for_awkward_strings() {
        for s in AWKWARD {
            for (id, model) in [("chatcmpl-1", "gpt-4o"), (s, s), ("", "")] {
                for k in [0, 1, u64::MAX] {
                    assert_writers_match(id, model, s, k);
                }
            }
        }
    }

    /// A whole stream through the encoder: each event goes to the writer its reference says.
    #[test]
    fn encoder_writes_the_bytes_of_the_values() {
        let (id, model) = ("msg_\"1\"", "claude\u{2028}");
        let events = [
            StreamEvent::MessageStart {
                id: id.into(),
                model: model.into(),
                usage: Usage::default(),
            },
            StreamEvent::BlockStart {
                index: 0,
                block: BlockStart::Thinking,
            },
            StreamEvent::BlockDelta {
                index: 0,
                delta: Delta::Thinking("hmm \"so\"".into()),
            },
            StreamEvent::BlockDelta {
                index: 1,
                delta: Delta::Text("a\nb".into()),
            },
            StreamEvent::BlockStart {
                index: 2,
                block: BlockStart::ToolUse {
                    id: "call_1".into(),
                    name: "edit".into(),
                    kind: ToolCallKind::Function,
                    signature: None,
                },
            },
            StreamEvent::BlockDelta {
                index: 2,
                delta: Delta::ToolInput(r#"{"a":"\n"}"#.into()),
            },
            StreamEvent::BlockStart {
                index: 3,
                block: BlockStart::ToolUse {
                    id: "call_2".into(),
                    name: "shell".into(),
                    kind: ToolCallKind::Custom,
                    signature: None,
                },
            },
            StreamEvent::BlockDelta {
                index: 3,
                delta: Delta::ToolInput("ls\t-l".into()),
            },
            StreamEvent::MessageStop,
        ];
        let opts = EncodeOptions {
            include_usage: false,
            ..EncodeOptions::default()
        };
        let mut encoder = StreamEncoder::new(&opts);
        let mut out = Vec::new();
        for ev in &events {
            encoder.encode(ev, &mut out);
        }
        let null = Value::Null;
        let expected = [
            via_value(
                id,
                model,
                json!({"role": "assistant", "content": ""}),
                null.clone(),
            ),
            via_value(
                id,
                model,
                json!({"reasoning_content": "hmm \"so\""}),
                null.clone(),
            ),
            via_value(id, model, json!({"content": "a\nb"}), null.clone()),
            via_value(
                id,
                model,
                tool_call_start_value(0, "call_1", "edit", ToolCallKind::Function),
                null.clone(),
            ),
            via_value(
                id,
                model,
                tool_call_delta_value(0, ToolCallKind::Function, r#"{"a":"\n"}"#),
                null.clone(),
            ),
            via_value(
                id,
                model,
                tool_call_start_value(1, "call_2", "shell", ToolCallKind::Custom),
                null.clone(),
            ),
            via_value(
                id,
                model,
                tool_call_delta_value(1, ToolCallKind::Custom, "ls\t-l"),
                null,
            ),
            via_value(id, model, json!({}), json!("stop")),
        ]
        .concat();
        assert_eq!(String::from_utf8(out).expect("UTF-8"), expected);
    }

    proptest! {
        #[test]
        fn direct_chunks_are_the_bytes_of_the_value(
            id in text(),
            model in text(),
            s in text(),
            k in any::<u64>(),
        ) {
            assert_writers_match(&id, &model, &s, k);
        }
    }
}
