//! IR events → Anthropic stream. It owns the client-facing sequence: exactly one
//! `message_start`, blocks numbered contiguously, every started block stopped, one
//! `message_delta` (IR deltas are merged, since the SDKs overwrite `stop_reason` with each
//! one) carrying the cumulative usage, then `message_stop`. Events with no Anthropic form
//! (a Gemini text signature, say) write nothing. Foreign signatures travel wrapped; one on a
//! tool call travels in a thinking block of its own, streamed whole just before the call.

use serde_json::{json, Map, Value};

use super::super::content::{encode_citation, Target};
use super::super::error::to_detail;
use super::super::response::{stop_reason_to_wire, usage_to_wire};
use super::super::wire::{self, Block as WireBlock, KnownBlock};
use crate::ir::{BlockStart, Delta, Signature, StopReason, StreamEvent, ToolCallKind, Usage};
use crate::{ids, signature, sse, Dialect, EncodeOptions};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    RedactedThinking,
    ToolUse,
    /// A custom (free-text) tool call: its text is buffered and sent at the block's end as
    /// `{"input": text}`, the object the buffered response encoder sends too.
    CustomTool(String),
}

#[derive(Debug, Default)]
pub struct StreamEncoder {
    started: bool,
    /// `message_stop` or `error` was written: nothing more goes out.
    done: bool,
    /// The open block: (wire index, kind).
    open: Option<(usize, Open)>,
    next_index: usize,
    stop_reason: Option<StopReason>,
    stop_sequence: Option<String>,
    usage: Usage,
}

impl StreamEncoder {
    pub fn new(_opts: &EncodeOptions) -> Self {
        Self::default()
    }

    pub fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        match ev {
            StreamEvent::MessageStart { id, model, usage } => {
                if self.started {
                    return;
                }
                self.started = true;
                self.usage = *usage;
                let message = wire::Response {
                    extra: Map::new(),
                    id: id.clone(),
                    kind: "message".into(),
                    role: "assistant".into(),
                    model: model.clone(),
                    content: Vec::new(),
                    stop_reason: None,
                    stop_sequence: None,
                    usage: usage_to_wire(usage, Map::new()),
                };
                write(out, &wire::StreamEvent::MessageStart { message });
            }
            StreamEvent::BlockStart { block, .. } => {
                self.close_open(out);
                if let BlockStart::ToolUse {
                    signature: Some(sig),
                    ..
                } = block
                {
                    self.signature_carrier(sig, out);
                }
                let (kind, content_block) = block_start(block);
                let index = self.next_index;
                self.next_index += 1;
                self.open = Some((index, kind));
                write(
                    out,
                    &wire::StreamEvent::ContentBlockStart {
                        index,
                        content_block,
                    },
                );
            }
            StreamEvent::BlockDelta { delta, .. } => {
                let Some((index, kind)) = &mut self.open else {
                    return;
                };
                if let (Open::CustomTool(buf), Delta::ToolInput(s)) = (&mut *kind, delta) {
                    buf.push_str(s);
                    return;
                }
                if let Some(delta) = wire_delta(kind, delta) {
                    let index = *index;
                    write(out, &wire::StreamEvent::ContentBlockDelta { index, delta });
                }
            }
            StreamEvent::BlockStop { .. } => self.close_open(out),
            StreamEvent::MessageDelta {
                stop_reason,
                stop_sequence,
                usage,
            } => {
                self.close_open(out);
                if stop_reason.is_some() {
                    self.stop_reason = stop_reason.clone();
                }
                if stop_sequence.is_some() {
                    self.stop_sequence = stop_sequence.clone();
                }
                self.usage.merge(usage);
            }
            StreamEvent::MessageStop => {
                self.close_open(out);
                let delta = wire::MessageDeltaBody {
                    extra: Map::new(),
                    stop_reason: self.stop_reason.as_ref().map(stop_reason_to_wire),
                    stop_sequence: self.stop_sequence.clone(),
                };
                let usage = usage_to_wire(&self.usage, Map::new());
                write(out, &wire::StreamEvent::MessageDelta { delta, usage });
                write(out, &wire::StreamEvent::MessageStop);
                self.done = true;
            }
            StreamEvent::Ping => write(out, &wire::StreamEvent::Ping),
            StreamEvent::Error(err) => {
                let error = to_detail(err);
                write(out, &wire::StreamEvent::Error { error });
                self.done = true;
            }
        }
    }

    /// A foreign signature on a tool call, as a whole thinking block with empty text right
    /// before the call (what `content::signature_carrier` is in a buffered response). It takes
    /// the next wire index; later blocks follow it, so indices stay contiguous.
    fn signature_carrier(&mut self, sig: &Signature, out: &mut Vec<u8>) {
        if sig.family == Dialect::Anthropic.family() {
            return;
        }
        let index = self.next_index;
        self.next_index += 1;
        let (kind, content_block) = block_start(&BlockStart::Thinking);
        write(
            out,
            &wire::StreamEvent::ContentBlockStart {
                index,
                content_block,
            },
        );
        if let Some(delta) = wire_delta(&kind, &Delta::Signature(sig.clone())) {
            write(out, &wire::StreamEvent::ContentBlockDelta { index, delta });
        }
        write(out, &wire::StreamEvent::ContentBlockStop { index });
    }

    /// Nothing follows `message_stop` in this dialect.
    pub fn finish(&mut self, _out: &mut Vec<u8>) {}

    fn close_open(&mut self, out: &mut Vec<u8>) {
        if let Some((index, kind)) = self.open.take() {
            if let Open::CustomTool(text) = kind {
                let partial_json = json!({"input": text}).to_string();
                if let Some(delta) = wire_delta(&Open::ToolUse, &Delta::ToolInput(partial_json)) {
                    write(out, &wire::StreamEvent::ContentBlockDelta { index, delta });
                }
            }
            write(out, &wire::StreamEvent::ContentBlockStop { index });
        }
    }
}

/// Writes one event with its `event:` name (the data's `type`).
fn write(out: &mut Vec<u8>, ev: &wire::StreamEvent) {
    let data = wire::to_bytes(ev);
    let data = String::from_utf8_lossy(&data);
    let name = match ev {
        wire::StreamEvent::MessageStart { .. } => "message_start",
        wire::StreamEvent::ContentBlockStart { .. } => "content_block_start",
        wire::StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
        wire::StreamEvent::ContentBlockStop { .. } => "content_block_stop",
        wire::StreamEvent::MessageDelta { .. } => "message_delta",
        wire::StreamEvent::MessageStop => "message_stop",
        wire::StreamEvent::Ping => "ping",
        wire::StreamEvent::Error { .. } => "error",
    };
    sse::write_frame(out, Some(name), &data);
}

fn block_start(block: &BlockStart) -> (Open, WireBlock) {
    let known = match block {
        BlockStart::Text => {
            return (
                Open::Text,
                WireBlock::Known(KnownBlock::Text(wire::TextBlock {
                    extra: Map::new(),
                    text: String::new(),
                    citations: None,
                    cache_control: None,
                })),
            )
        }
        BlockStart::Thinking => (
            Open::Thinking,
            KnownBlock::Thinking(wire::ThinkingBlock {
                extra: Map::new(),
                thinking: String::new(),
                signature: Some(String::new()),
            }),
        ),
        BlockStart::RedactedThinking { data } => (
            Open::RedactedThinking,
            KnownBlock::RedactedThinking(wire::RedactedThinkingBlock {
                extra: Map::new(),
                data: data.clone(),
            }),
        ),
        // A Gemini signature on a call has no field here: `signature_carrier` wrote it.
        BlockStart::ToolUse { id, name, kind, .. } => {
            let id = ids::anthropic_tool_id(id).into_owned();
            if *kind == ToolCallKind::Server {
                let mut m = Map::new();
                m.insert("type".into(), "server_tool_use".into());
                m.insert("id".into(), id.into());
                m.insert("name".into(), name.clone().into());
                m.insert("input".into(), json!({}));
                return (Open::ToolUse, WireBlock::Other(m));
            }
            let open = match kind {
                ToolCallKind::Custom => Open::CustomTool(String::new()),
                _ => Open::ToolUse,
            };
            (
                open,
                KnownBlock::ToolUse(wire::ToolUseBlock {
                    extra: Map::new(),
                    id,
                    name: name.clone(),
                    input: json!({}),
                    cache_control: None,
                }),
            )
        }
    };
    (known.0, WireBlock::Known(known.1))
}

/// The wire delta for an IR delta in a block of `kind`, if this dialect has one.
fn wire_delta(kind: &Open, delta: &Delta) -> Option<Map<String, Value>> {
    let v = match (kind, delta) {
        (Open::Text, Delta::Text(t)) => json!({"type": "text_delta", "text": t}),
        (Open::Text, Delta::Citation(c)) => {
            let citation = encode_citation(c, Target::Response)?;
            json!({"type": "citations_delta", "citation": citation})
        }
        (Open::Thinking, Delta::Thinking(t)) => json!({"type": "thinking_delta", "thinking": t}),
        (Open::Thinking, Delta::Signature(s)) => json!({
            "type": "signature_delta",
            "signature": signature::to_wire(s, Dialect::Anthropic.family()),
        }),
        (Open::ToolUse, Delta::ToolInput(s)) => {
            json!({"type": "input_json_delta", "partial_json": s})
        }
        _ => return None,
    };
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}
