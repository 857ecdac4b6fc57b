//! A well-formed IR event stream → Gemini SSE chunks for a Gemini client.
//!
//! One chunk per text or thinking delta (a text part, with `thought: true` for thinking); a
//! signature delta on a text or thinking block becomes its own empty-text part carrying the
//! `thoughtSignature`; a tool call's argument fragments are buffered and sent as ONE
//! `functionCall` part when its block stops (Gemini never splits a call). The stop reason and
//! final usage go in a last chunk with `finishReason`. `responseId` and `modelVersion` are on
//! every chunk; usage is on the first chunk (what was known at the start) and the last.
//! Events Gemini has no form for (redacted thinking, server-tool calls, citations, stop
//! sequences) write nothing.
//!
//! The chunks a stream repeats, its text and thinking deltas, are written straight into the
//! output as the bytes `chunk` writes for them, without building a `wire::Response` per event;
//! the rare ones (signatures, function calls, the usage-only and finish chunks, errors) still go
//! through the wire types. The tests compare the two ways byte for byte.

use crate::gemini::error::to_envelope;
use crate::gemini::response::{encode_stop_reason, encode_usage, mint_response_call_id};
use crate::gemini::wire;
use crate::ir::{BlockStart, Delta, Signature, StopReason, StreamEvent, ToolCallKind, Usage};
use crate::{json, signature, sse, Dialect, EncodeOptions};

#[derive(Debug)]
enum Open {
    Text,
    Thinking,
    /// A block Gemini has no form for; its deltas are ignored.
    Skip,
    Tool {
        id: String,
        name: String,
        kind: ToolCallKind,
        signature: Option<Signature>,
        args: String,
    },
}

/// Encodes one response stream for a Gemini client.
#[derive(Debug, Default)]
pub struct StreamEncoder {
    id: String,
    model: String,
    start_usage: Usage,
    usage: Usage,
    stop: Option<StopReason>,
    open: Option<Open>,
    /// Whether any chunk was written (the first one carries the start usage).
    wrote: bool,
    calls: usize,
    done: bool,
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
                self.id = id.clone();
                self.model = model.clone();
                self.start_usage = *usage;
                self.usage = *usage;
            }
            StreamEvent::BlockStart { block, .. } => {
                self.open = Some(match block {
                    BlockStart::Text => Open::Text,
                    BlockStart::Thinking => Open::Thinking,
                    BlockStart::RedactedThinking { .. } => Open::Skip,
                    BlockStart::ToolUse {
                        kind: ToolCallKind::Server,
                        ..
                    } => Open::Skip,
                    BlockStart::ToolUse {
                        id,
                        name,
                        kind,
                        signature,
                    } => Open::Tool {
                        id: id.clone(),
                        name: name.clone(),
                        kind: *kind,
                        signature: signature.clone(),
                        args: String::new(),
                    },
                });
            }
            StreamEvent::BlockDelta { delta, .. } => self.delta(delta, out),
            StreamEvent::BlockStop { .. } => {
                if let Some(Open::Tool {
                    id,
                    name,
                    kind,
                    signature,
                    args,
                }) = self.open.take()
                {
                    let args = json::arguments_object(&json::parse_arguments(&args, kind));
                    let minted = mint_response_call_id(&self.id, self.calls, &name, &args);
                    self.calls += 1;
                    let part = wire::Part {
                        function_call: Some(wire::FunctionCall {
                            id: (id != minted).then_some(id),
                            name,
                            args: Some(args),
                            extra: Default::default(),
                        }),
                        thought_signature: signature.as_ref().map(to_wire),
                        ..Default::default()
                    };
                    self.chunk(Some(part), None, out);
                }
            }
            StreamEvent::MessageDelta {
                stop_reason, usage, ..
            } => {
                if stop_reason.is_some() {
                    self.stop = stop_reason.clone();
                }
                self.usage.merge(usage);
            }
            StreamEvent::MessageStop => {
                if !self.wrote && !self.start_usage.is_zero() && self.start_usage != self.usage {
                    // No content was sent: a usage-only chunk keeps the start usage.
                    self.chunk(None, None, out);
                }
                let finish = self
                    .stop
                    .as_ref()
                    .map_or_else(|| "STOP".to_string(), encode_stop_reason);
                self.chunk(None, Some(finish), out);
                self.done = true;
            }
            // The Gemini API never sends SSE comments, and google-genai parses every line that
            // is not `data: ` as JSON: a keep-alive would break the client, so none is sent.
            StreamEvent::Ping => {}
            StreamEvent::Error(err) => {
                let (_, body) = to_envelope(err);
                sse::write_frame(out, None, &body.to_string());
                self.done = true;
            }
        }
    }

    /// Gemini streams end with the finish-reason chunk; nothing follows it.
    pub fn finish(&mut self, _out: &mut Vec<u8>) {}

    fn delta(&mut self, delta: &Delta, out: &mut Vec<u8>) {
        let part = match (&mut self.open, delta) {
            (Some(Open::Text), Delta::Text(s)) => return self.text_chunk(s, false, out),
            (Some(Open::Thinking), Delta::Thinking(s)) => return self.text_chunk(s, true, out),
            (Some(Open::Text), Delta::Signature(sig)) => text("", false, Some(sig)),
            (Some(Open::Thinking), Delta::Signature(sig)) => text("", true, Some(sig)),
            (Some(Open::Tool { args, .. }), Delta::ToolInput(s)) => {
                args.push_str(s);
                return;
            }
            (Some(Open::Tool { signature, .. }), Delta::Signature(sig)) => {
                *signature = Some(sig.clone());
                return;
            }
            _ => return,
        };
        self.chunk(Some(part), None, out);
    }

    /// A text or thinking delta's chunk: the bytes `chunk` writes for `text(s, thought, None)`.
    fn text_chunk(&mut self, s: &str, thought: bool, out: &mut Vec<u8>) {
        let usage = self.chunk_usage(false);
        write_text_chunk(out, s, thought, usage.as_ref(), &self.model, &self.id);
        self.wrote = true;
    }

    fn chunk(&mut self, part: Option<wire::Part>, finish: Option<String>, out: &mut Vec<u8>) {
        let usage = self.chunk_usage(finish.is_some());
        let candidates = if part.is_none() && finish.is_none() {
            Vec::new()
        } else {
            vec![wire::Candidate {
                content: part.map(|p| wire::Content {
                    role: Some("model".into()),
                    parts: vec![p],
                    extra: Default::default(),
                }),
                finish_reason: finish,
                extra: Default::default(),
            }]
        };
        let chunk = wire::Response {
            candidates,
            usage_metadata: usage,
            model_version: (!self.model.is_empty()).then(|| self.model.clone()),
            response_id: (!self.id.is_empty()).then(|| self.id.clone()),
            extra: Default::default(),
        };
        let data = String::from_utf8(json::encode(&chunk)).unwrap_or_default();
        sse::write_frame(out, None, &data);
        self.wrote = true;
    }

    /// The usage a chunk carries: the final usage on the finish chunk, the start usage on the
    /// first chunk, none on the others or when it is all zero.
    fn chunk_usage(&self, finish: bool) -> Option<wire::UsageMetadata> {
        let usage = if finish {
            self.usage
        } else if !self.wrote {
            self.start_usage
        } else {
            return None;
        };
        (!usage.is_zero()).then(|| encode_usage(&usage, 0))
    }
}

/// `{"candidates":[{"content":{"role":"model","parts":[{"text":TEXT,"thought":true}]}}],
/// "usageMetadata":USAGE,"modelVersion":MODEL,"responseId":ID}` as one frame: what serde
/// writes for the wire types, whose fields go out in declaration order and whose `None`s are
/// skipped. `thought` is there only for thinking, and each of the last three only when there
/// is one (an empty model or id is left out). That output never holds a raw newline, so the
/// chunk is one `data:` line.
fn write_text_chunk(
    out: &mut Vec<u8>,
    text: &str,
    thought: bool,
    usage: Option<&wire::UsageMetadata>,
    model: &str,
    id: &str,
) {
    out.extend_from_slice(br#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"#);
    json::write_str(out, text);
    if thought {
        out.extend_from_slice(br#","thought":true"#);
    }
    out.extend_from_slice(b"}]}}]");
    if let Some(usage) = usage {
        out.extend_from_slice(br#","usageMetadata":"#);
        // Usage is on one chunk per stream, so serde writes it, as for the other chunks.
        // Writing into a Vec cannot fail, and the type has string keys only.
        let _ = serde_json::to_writer(&mut *out, usage);
    }
    if !model.is_empty() {
        out.extend_from_slice(br#","modelVersion":"#);
        json::write_str(out, model);
    }
    if !id.is_empty() {
        out.extend_from_slice(br#","responseId":"#);
        json::write_str(out, id);
    }
    out.extend_from_slice(b"}\n\n");
}

fn to_wire(sig: &Signature) -> String {
    signature::to_wire(sig, Dialect::Gemini.family())
}

fn text(s: &str, thought: bool, sig: Option<&Signature>) -> wire::Part {
    wire::Part {
        text: Some(s.to_string()),
        thought: thought.then_some(true),
        thought_signature: sig.map(to_wire),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::json::any_text as text;
    use crate::json::AWKWARD_TEXT as AWKWARD;
    use proptest::prelude::*;

    use super::*;

    fn encoder(id: &str, model: &str, start_usage: Usage, wrote: bool) -> StreamEncoder {
        StreamEncoder {
            id: id.into(),
            model: model.into(),
            start_usage,
            usage: start_usage,
            wrote,
            ..StreamEncoder::default()
        }
    }

    /// The reference: the delta's part through `chunk` and the wire types, as the encoder wrote
    /// every text and thinking chunk before the direct writer.
    fn via_wire(
        id: &str,
        model: &str,
        usage: Usage,
        wrote: bool,
        s: &str,
        thought: bool,
    ) -> String {
        let mut out = Vec::new();
        encoder(id, model, usage, wrote).chunk(Some(super::text(s, thought, None)), None, &mut out);
        String::from_utf8(out).expect("UTF-8")
    }

    fn direct(id: &str, model: &str, usage: Usage, wrote: bool, s: &str, thought: bool) -> String {
        let mut out = Vec::new();
        encoder(id, model, usage, wrote).text_chunk(s, thought, &mut out);
        String::from_utf8(out).expect("UTF-8")
    }

    /// Both ways, for text and thinking, on the first chunk (which carries `usage` when it is
    /// not zero) and on a later one.
    fn assert_writers_match(id: &str, model: &str, usage: Usage, s: &str) {
        for wrote in [false, true] {
            for thought in [false, true] {
                assert_eq!(
                    direct(id, model, usage, wrote, s, thought),
                    via_wire(id, model, usage, wrote, s, thought),
                );
            }
        }
    }

    const USAGES: [Usage; 4] = [
        Usage {
            input_tokens: 0,
            output_tokens: 0,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
        },
        Usage {
            input_tokens: 12,
            output_tokens: 0,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
        },
        Usage {
            input_tokens: 12,
            output_tokens: 7,
            cache_read_tokens: 5,
            cache_write_tokens: 3,
            reasoning_tokens: 4,
        },
        Usage {
            input_tokens: 0,
            output_tokens: 1,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            reasoning_tokens: 9,
        },
    ];

    #[test]
    fn text_chunks_are_the_bytes_of_the_wire_types_for_awkward_strings() {
        for s in AWKWARD {
            for (id, model) in [
                ("resp-1", "gemini-2.5-pro"),
                (s, s),
                ("", ""),
                ("", s),
                (s, ""),
            ] {
                for usage in USAGES {
                    assert_writers_match(id, model, usage, s);
                }
            }
        }
    }

    fn any_usage() -> impl Strategy<Value = Usage> {
        // Bounded so that the sums `encode_usage` makes cannot overflow.
        let n = || 0..1u64 << 40;
        (n(), n(), n(), n(), n()).prop_map(|(input, output, read, write, reasoning)| Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: read,
            cache_write_tokens: write,
            reasoning_tokens: reasoning,
        })
    }

    proptest! {
        #[test]
        fn text_chunks_are_the_bytes_of_the_wire_types(
            id in text(),
            model in text(),
            s in text(),
            usage in prop_oneof![Just(Usage::default()), any_usage()],
        ) {
            assert_writers_match(&id, &model, usage, &s);
        }
    }
}
