//! IR events → Anthropic stream. It owns the client-facing sequence: exactly one
//! `message_start`, blocks numbered contiguously, every started block stopped, one
//! `message_delta` (IR deltas are merged, since the SDKs overwrite `stop_reason` with each
//! one) carrying the cumulative usage, then `message_stop`. Events with no Anthropic form
//! (a Gemini text signature, say) write nothing. Foreign signatures travel wrapped; one on a
//! tool call travels in a thinking block of its own, streamed whole just before the call.
//!
//! The events a stream repeats (text, thinking, signature and `input_json` deltas, block
//! starts of text, thinking and tool-use blocks, block stops, `ping`, the closing
//! `message_delta` and `message_stop`) and `message_start` (once per stream, but on the path
//! to the client's first byte) are written straight into the output as the bytes the wire
//! types serialize to, without building a `serde_json::Value` per event; the rare ones
//! (citations, redacted-thinking and server-tool blocks, `error`) still go through the wire
//! types. The tests compare the two ways byte for byte.

use serde_json::{json, Map, Value};

use super::super::content::{encode_citation, Target};
use super::super::error::to_detail;
use super::super::response::{stop_reason_to_wire, usage_to_wire};
use super::super::wire::{self, Block as WireBlock, KnownBlock};
use crate::ir::{BlockStart, Delta, Signature, StopReason, StreamEvent, ToolCallKind, Usage};
use crate::{ids, json, signature, sse, Dialect, EncodeOptions};

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
                write_message_start(out, id, model, usage);
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
                let index = self.next_index;
                self.next_index += 1;
                let kind = write_block_start(out, index, block);
                self.open = Some((index, kind));
            }
            StreamEvent::BlockDelta { delta, .. } => {
                let Some((index, kind)) = &mut self.open else {
                    return;
                };
                if let (Open::CustomTool(buf), Delta::ToolInput(s)) = (&mut *kind, delta) {
                    buf.push_str(s);
                    return;
                }
                write_block_delta(out, *index, kind, delta);
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
                let stop_reason = self.stop_reason.as_ref().map(stop_reason_to_wire);
                let stop_sequence = self.stop_sequence.as_deref();
                write_message_delta(out, stop_reason.as_deref(), stop_sequence, &self.usage);
                out.extend_from_slice(MESSAGE_STOP);
                self.done = true;
            }
            StreamEvent::Ping => out.extend_from_slice(PING),
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
        let kind = write_block_start(out, index, &BlockStart::Thinking);
        write_block_delta(out, index, &kind, &Delta::Signature(sig.clone()));
        write_block_stop(out, index);
    }

    /// Nothing follows `message_stop` in this dialect.
    pub fn finish(&mut self, _out: &mut Vec<u8>) {}

    fn close_open(&mut self, out: &mut Vec<u8>) {
        if let Some((index, kind)) = self.open.take() {
            if let Open::CustomTool(text) = kind {
                let partial_json = json!({"input": text}).to_string();
                write_delta(
                    out,
                    index,
                    "input_json_delta",
                    "partial_json",
                    &partial_json,
                );
            }
            write_block_stop(out, index);
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

/// The `content_block_start` of `block` at `index`; returns the kind of the block now open.
fn write_block_start(out: &mut Vec<u8>, index: usize, block: &BlockStart) -> Open {
    let (kind, content_block) = match block {
        BlockStart::Text => {
            write_block_start_raw(out, index, |out| {
                out.extend_from_slice(br#"{"type":"text","text":""}"#)
            });
            return Open::Text;
        }
        BlockStart::Thinking => {
            write_block_start_raw(out, index, |out| {
                out.extend_from_slice(br#"{"type":"thinking","thinking":"","signature":""}"#)
            });
            return Open::Thinking;
        }
        // A Gemini signature on a call has no field here: `signature_carrier` wrote it.
        BlockStart::ToolUse { id, name, kind, .. } if *kind != ToolCallKind::Server => {
            write_block_start_raw(out, index, |out| {
                out.extend_from_slice(br#"{"type":"tool_use","id":"#);
                json::write_str(out, &ids::anthropic_tool_id(id));
                out.extend_from_slice(br#","name":"#);
                json::write_str(out, name);
                out.extend_from_slice(br#","input":{}}"#);
            });
            return match kind {
                ToolCallKind::Custom => Open::CustomTool(String::new()),
                _ => Open::ToolUse,
            };
        }
        BlockStart::RedactedThinking { data } => (
            Open::RedactedThinking,
            WireBlock::Known(KnownBlock::RedactedThinking(wire::RedactedThinkingBlock {
                extra: Map::new(),
                data: data.clone(),
            })),
        ),
        BlockStart::ToolUse { id, name, .. } => {
            let mut m = Map::new();
            m.insert("type".into(), "server_tool_use".into());
            m.insert("id".into(), ids::anthropic_tool_id(id).into_owned().into());
            m.insert("name".into(), name.clone().into());
            m.insert("input".into(), json!({}));
            (Open::ToolUse, WireBlock::Other(m))
        }
    };
    write(
        out,
        &wire::StreamEvent::ContentBlockStart {
            index,
            content_block,
        },
    );
    kind
}

/// The `content_block_delta` for an IR delta in a block of `kind`, if this dialect has one.
fn write_block_delta(out: &mut Vec<u8>, index: usize, kind: &Open, delta: &Delta) {
    match (kind, delta) {
        (Open::Text, Delta::Text(t)) => write_delta(out, index, "text_delta", "text", t),
        (Open::Text, Delta::Citation(c)) => {
            let Some(citation) = encode_citation(c, Target::Response) else {
                return;
            };
            let mut delta = Map::new();
            delta.insert("type".into(), "citations_delta".into());
            delta.insert("citation".into(), Value::Object(citation));
            write(out, &wire::StreamEvent::ContentBlockDelta { index, delta });
        }
        (Open::Thinking, Delta::Thinking(t)) => {
            write_delta(out, index, "thinking_delta", "thinking", t)
        }
        (Open::Thinking, Delta::Signature(s)) => {
            let signature = signature::to_wire(s, Dialect::Anthropic.family());
            write_delta(out, index, "signature_delta", "signature", &signature)
        }
        (Open::ToolUse, Delta::ToolInput(s)) => {
            write_delta(out, index, "input_json_delta", "partial_json", s)
        }
        _ => {}
    }
}

// Direct writers. Each writes the bytes `write` produces for the same wire event: serde_json's
// compact output, keys in the order the wire types declare them (`type` first), strings
// escaped by serde_json itself. That output never holds a raw newline, so the event is one
// `data:` line.

const PING: &[u8] = b"event: ping\ndata: {\"type\":\"ping\"}\n\n";
const MESSAGE_STOP: &[u8] = b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/// `{"type":"content_block_delta","index":I,"delta":{"type":KIND,FIELD:VALUE}}`; `kind` and
/// `field` are constants that need no escaping.
fn write_delta(out: &mut Vec<u8>, index: usize, kind: &str, field: &str, value: &str) {
    out.extend_from_slice(b"event: content_block_delta\ndata: ");
    out.extend_from_slice(br#"{"type":"content_block_delta","index":"#);
    json::write_uint(out, index as u64);
    out.extend_from_slice(br#","delta":{"type":""#);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(br#"",""#);
    out.extend_from_slice(field.as_bytes());
    out.extend_from_slice(br#"":"#);
    json::write_str(out, value);
    out.extend_from_slice(b"}}\n\n");
}

/// `{"type":"content_block_start","index":I,"content_block":BLOCK}`, BLOCK written by `block`.
fn write_block_start_raw(out: &mut Vec<u8>, index: usize, block: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(b"event: content_block_start\ndata: ");
    out.extend_from_slice(br#"{"type":"content_block_start","index":"#);
    json::write_uint(out, index as u64);
    out.extend_from_slice(br#","content_block":"#);
    block(out);
    out.extend_from_slice(b"}\n\n");
}

fn write_block_stop(out: &mut Vec<u8>, index: usize) {
    out.extend_from_slice(b"event: content_block_stop\ndata: ");
    out.extend_from_slice(br#"{"type":"content_block_stop","index":"#);
    json::write_uint(out, index as u64);
    out.extend_from_slice(b"}\n\n");
}

/// `message_start`: the `message` of `wire::Response` as it serializes for a stream's start:
/// no content yet, both stop fields null (the API always sends them), and the usage known so
/// far.
fn write_message_start(out: &mut Vec<u8>, id: &str, model: &str, usage: &Usage) {
    out.extend_from_slice(b"event: message_start\ndata: ");
    out.extend_from_slice(br#"{"type":"message_start","message":{"id":"#);
    json::write_str(out, id);
    out.extend_from_slice(br#","type":"message","role":"assistant","model":"#);
    json::write_str(out, model);
    out.extend_from_slice(br#","content":[],"stop_reason":null,"stop_sequence":null,"usage":"#);
    write_usage(out, usage);
    out.extend_from_slice(b"}}\n\n");
}

/// The closing `message_delta`: both `delta` fields always written (null when unset) and the
/// usage, as `wire::MessageDeltaBody` and `wire::Usage` serialize.
fn write_message_delta(
    out: &mut Vec<u8>,
    stop_reason: Option<&str>,
    stop_sequence: Option<&str>,
    usage: &Usage,
) {
    out.extend_from_slice(b"event: message_delta\ndata: ");
    out.extend_from_slice(br#"{"type":"message_delta","delta":{"stop_reason":"#);
    json::write_opt_str(out, stop_reason);
    out.extend_from_slice(br#","stop_sequence":"#);
    json::write_opt_str(out, stop_sequence);
    out.extend_from_slice(br#"},"usage":"#);
    write_usage(out, usage);
    out.extend_from_slice(b"}\n\n");
}

/// `wire::Usage` as `usage_to_wire` fills it (empty `extra`): always the four counts, in the
/// order the struct declares them. Going through `usage_to_wire` keeps the IR → wire mapping
/// of the counts in one place; an empty `Map` does not allocate.
fn write_usage(out: &mut Vec<u8>, usage: &Usage) {
    let usage = usage_to_wire(usage, Map::new());
    out.extend_from_slice(br#"{"input_tokens":"#);
    json::write_uint(out, usage.input_tokens);
    out.extend_from_slice(br#","cache_creation_input_tokens":"#);
    json::write_uint(out, usage.cache_creation_input_tokens);
    out.extend_from_slice(br#","cache_read_input_tokens":"#);
    json::write_uint(out, usage.cache_read_input_tokens);
    out.extend_from_slice(br#","output_tokens":"#);
    json::write_uint(out, usage.output_tokens);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use crate::json::{any_text as text, AWKWARD_TEXT};
    use proptest::prelude::*;

    use super::*;

    /// `ev` through the wire types and `wire::to_bytes`: how every event was written before the
    /// direct writers, and how the rare ones still are.
    fn via_wire(ev: &wire::StreamEvent) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out, ev);
        out
    }

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("an object")
    }

    fn direct(write_fn: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        write_fn(&mut out);
        out
    }

    proptest! {
        #[test]
        fn deltas_are_the_bytes_of_the_wire_event(index in any::<usize>(), s in text()) {
            for (kind, field) in [
                ("text_delta", "text"),
                ("thinking_delta", "thinking"),
                ("signature_delta", "signature"),
                ("input_json_delta", "partial_json"),
            ] {
                // As the encoder built them: `json!({"type": "text_delta", "text": t})`.
                let delta = object(json!({"type": kind, field: s}));
                let expected = via_wire(&wire::StreamEvent::ContentBlockDelta { index, delta });
                let actual = direct(|out| write_delta(out, index, kind, field, &s));
                prop_assert_eq!(String::from_utf8(actual), String::from_utf8(expected));
            }
        }

        #[test]
        fn block_starts_and_stops_are_the_bytes_of_the_wire_event(
            index in any::<usize>(),
            id in text(),
            name in text(),
            custom in any::<bool>(),
        ) {
            let kind = if custom { ToolCallKind::Custom } else { ToolCallKind::Function };
            let tool_use = KnownBlock::ToolUse(wire::ToolUseBlock {
                extra: Map::new(),
                id: ids::anthropic_tool_id(&id).into_owned(),
                name: name.clone(),
                input: json!({}),
                cache_control: None,
            });
            let text_block = KnownBlock::Text(wire::TextBlock {
                extra: Map::new(),
                text: String::new(),
                citations: None,
                cache_control: None,
            });
            let thinking = KnownBlock::Thinking(wire::ThinkingBlock {
                extra: Map::new(),
                thinking: String::new(),
                signature: Some(String::new()),
            });
            let cases = [
                (BlockStart::Text, text_block),
                (BlockStart::Thinking, thinking),
                (BlockStart::ToolUse { id, name, kind, signature: None }, tool_use),
            ];
            for (block, known) in cases {
                let expected = via_wire(&wire::StreamEvent::ContentBlockStart {
                    index,
                    content_block: WireBlock::Known(known),
                });
                let actual = direct(|out| {
                    write_block_start(out, index, &block);
                });
                prop_assert_eq!(String::from_utf8(actual), String::from_utf8(expected));
            }
            let expected = via_wire(&wire::StreamEvent::ContentBlockStop { index });
            let actual = direct(|out| write_block_stop(out, index));
            prop_assert_eq!(String::from_utf8(actual), String::from_utf8(expected));
        }

        #[test]
        fn message_delta_is_the_bytes_of_the_wire_event(
            stop_reason in proptest::option::of(text()),
            stop_sequence in proptest::option::of(text()),
            counts in any::<[u64; 4]>(),
        ) {
            let usage = Usage {
                input_tokens: counts[0],
                output_tokens: counts[1],
                cache_read_tokens: counts[2],
                cache_write_tokens: counts[3],
                ..Usage::default()
            };
            let expected = via_wire(&wire::StreamEvent::MessageDelta {
                delta: wire::MessageDeltaBody {
                    extra: Map::new(),
                    stop_reason: stop_reason.clone(),
                    stop_sequence: stop_sequence.clone(),
                },
                usage: usage_to_wire(&usage, Map::new()),
            });
            let actual = direct(|out| {
                write_message_delta(out, stop_reason.as_deref(), stop_sequence.as_deref(), &usage)
            });
            prop_assert_eq!(String::from_utf8(actual), String::from_utf8(expected));
        }
    }

    /// A token count: zero (a start that knows nothing yet), the largest, or any.
    fn count() -> impl Strategy<Value = u64> {
        prop_oneof![Just(0), Just(u64::MAX), any::<u64>()]
    }

    /// `message_start` as the encoder built it before writing it directly.
    fn message_start_via_wire(id: &str, model: &str, usage: &Usage) -> Vec<u8> {
        let message = wire::Response {
            extra: Map::new(),
            id: id.into(),
            kind: "message".into(),
            role: "assistant".into(),
            model: model.into(),
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: usage_to_wire(usage, Map::new()),
        };
        via_wire(&wire::StreamEvent::MessageStart { message })
    }

    proptest! {
        #[test]
        fn message_start_is_the_bytes_of_the_wire_event(
            id in text(),
            model in text(),
            counts in [count(), count(), count(), count(), count()],
        ) {
            let usage = Usage {
                input_tokens: counts[0],
                output_tokens: counts[1],
                cache_read_tokens: counts[2],
                cache_write_tokens: counts[3],
                // Not an Anthropic field: neither way writes it.
                reasoning_tokens: counts[4],
            };
            let expected = message_start_via_wire(&id, &model, &usage);
            // Through the encoder, so the event it writes is the one compared.
            let actual = direct(|out| {
                let ev = StreamEvent::MessageStart { id, model, usage };
                StreamEncoder::default().encode(&ev, out);
            });
            prop_assert_eq!(String::from_utf8(actual), String::from_utf8(expected));
        }
    }

    #[test]
    fn message_start_of_awkward_text_is_the_bytes_of_the_wire_event() {
        for id in AWKWARD_TEXT {
            for model in AWKWARD_TEXT {
                let expected = message_start_via_wire(id, model, &Usage::default());
                let actual = direct(|out| write_message_start(out, id, model, &Usage::default()));
                assert_eq!(String::from_utf8(actual), String::from_utf8(expected));
            }
        }
    }

    #[test]
    fn constant_events_are_the_bytes_of_the_wire_event() {
        assert_eq!(PING, via_wire(&wire::StreamEvent::Ping));
        assert_eq!(MESSAGE_STOP, via_wire(&wire::StreamEvent::MessageStop));
    }
}
