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
            (Some(Open::Text), Delta::Text(s)) => text(s, false, None),
            (Some(Open::Thinking), Delta::Thinking(s)) => text(s, true, None),
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

    fn chunk(&mut self, part: Option<wire::Part>, finish: Option<String>, out: &mut Vec<u8>) {
        let usage = if finish.is_some() {
            Some(self.usage)
        } else if !self.wrote {
            Some(self.start_usage)
        } else {
            None
        };
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
            usage_metadata: usage.filter(|u| !u.is_zero()).map(|u| encode_usage(&u, 0)),
            model_version: (!self.model.is_empty()).then(|| self.model.clone()),
            response_id: (!self.id.is_empty()).then(|| self.id.clone()),
            extra: Default::default(),
        };
        let data = String::from_utf8(json::encode(&chunk)).unwrap_or_default();
        sse::write_frame(out, None, &data);
        self.wrote = true;
    }
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
