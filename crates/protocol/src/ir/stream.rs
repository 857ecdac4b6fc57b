//! Stream events and the well-formedness rules every stream decoder's output obeys.
//!
//! A well-formed IR stream is: exactly one `MessageStart`; then content blocks, each opened by
//! `BlockStart`, given zero or more `BlockDelta`s and closed by `BlockStop`, with indices
//! contiguous from 0 and at most one block open at a time; then one or more `MessageDelta`s;
//! then `MessageStop`. `Ping` may appear anywhere; `Error` ends the stream wherever it occurs.
//! Decoders produce only such streams (closing what the upstream left open), so encoders can
//! rely on it. [`check_well_formed`] states the rules as code.

use super::{Citation, ErrorBody, Signature, StopReason, ToolCallKind, Usage};

#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    MessageStart {
        id: String,
        model: String,
        /// What is known at the start (Anthropic reports input tokens here).
        usage: Usage,
    },
    BlockStart {
        index: usize,
        block: BlockStart,
    },
    BlockDelta {
        index: usize,
        delta: Delta,
    },
    BlockStop {
        index: usize,
    },
    /// Stop reason and usage so far (running totals; see [`Usage::merge`]).
    MessageDelta {
        stop_reason: Option<StopReason>,
        stop_sequence: Option<String>,
        usage: Usage,
    },
    MessageStop,
    /// A keep-alive with no content.
    Ping,
    /// The stream failed; nothing follows.
    Error(ErrorBody),
}

/// The opening of a content block.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockStart {
    Text,
    Thinking,
    RedactedThinking {
        data: String,
    },
    ToolUse {
        id: String,
        name: String,
        kind: ToolCallKind,
        /// Gemini sends a `thoughtSignature` with the whole `functionCall`.
        signature: Option<Signature>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    Text(String),
    Thinking(String),
    /// The thinking block's signature (Anthropic `signature_delta`, Gemini `thoughtSignature`,
    /// Responses `encrypted_content`).
    Signature(Signature),
    /// A fragment of the tool call's JSON arguments; fragments concatenate to the whole.
    ToolInput(String),
    Citation(Citation),
}

/// Why a stream is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {position}: {problem}")]
pub struct StreamShapeError {
    pub position: usize,
    pub problem: String,
}

/// Checks the rules in the module doc. Used by tests and fuzzers on every decoder's output.
pub fn check_well_formed(events: &[StreamEvent]) -> Result<(), StreamShapeError> {
    let fail = |position: usize, problem: &str| {
        Err(StreamShapeError {
            position,
            problem: problem.to_string(),
        })
    };
    let mut started = false;
    let mut open: Option<usize> = None;
    let mut next_index = 0usize;
    let mut delta_seen = false;
    let mut stopped = false;
    for (pos, ev) in events.iter().enumerate() {
        if stopped {
            return fail(pos, "event after message stop");
        }
        match ev {
            StreamEvent::Ping => {}
            StreamEvent::Error(_) => {
                if pos + 1 != events.len() {
                    return fail(pos, "event after error");
                }
                return Ok(());
            }
            StreamEvent::MessageStart { .. } => {
                if started {
                    return fail(pos, "second message start");
                }
                started = true;
            }
            _ if !started => return fail(pos, "event before message start"),
            StreamEvent::BlockStart { index, .. } => {
                if delta_seen {
                    return fail(pos, "block after message delta");
                }
                if open.is_some() {
                    return fail(pos, "block started while another is open");
                }
                if *index != next_index {
                    return fail(pos, "block index not contiguous");
                }
                open = Some(*index);
                next_index += 1;
            }
            StreamEvent::BlockDelta { index, .. } => {
                if open != Some(*index) {
                    return fail(pos, "delta for a block that is not open");
                }
            }
            StreamEvent::BlockStop { index } => {
                if open != Some(*index) {
                    return fail(pos, "stop for a block that is not open");
                }
                open = None;
            }
            StreamEvent::MessageDelta { .. } => {
                if open.is_some() {
                    return fail(pos, "message delta while a block is open");
                }
                delta_seen = true;
            }
            StreamEvent::MessageStop => {
                if !delta_seen {
                    return fail(pos, "message stop without message delta");
                }
                stopped = true;
            }
        }
    }
    if !stopped {
        return fail(events.len(), "stream ended without message stop");
    }
    Ok(())
}

/// Folds a stream back into the response it describes. Used to prove that a streamed
/// response and the same response buffered agree (content and usage).
#[derive(Debug, Default)]
pub struct Collector {
    response: super::Response,
    tool_json: Vec<(usize, String)>,
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, ev: &StreamEvent) {
        use super::{Block, RedactedThinking, Text, Thinking, ToolUse};
        let r = &mut self.response;
        match ev {
            StreamEvent::MessageStart { id, model, usage } => {
                r.id = id.clone();
                r.model = model.clone();
                r.usage.merge(usage);
            }
            StreamEvent::BlockStart { block, .. } => r.content.push(match block {
                BlockStart::Text => Block::Text(Text::default()),
                BlockStart::Thinking => Block::Thinking(Thinking::default()),
                BlockStart::RedactedThinking { data } => {
                    Block::RedactedThinking(RedactedThinking { data: data.clone() })
                }
                BlockStart::ToolUse {
                    id,
                    name,
                    kind,
                    signature,
                } => {
                    self.tool_json.push((r.content.len(), String::new()));
                    Block::ToolUse(ToolUse {
                        id: id.clone(),
                        name: name.clone(),
                        input: serde_json::Value::Null,
                        kind: *kind,
                        signature: signature.clone(),
                        cache_control: None,
                        extras: Default::default(),
                    })
                }
            }),
            StreamEvent::BlockDelta { delta, .. } => {
                let last = r.content.len().saturating_sub(1);
                match (r.content.last_mut(), delta) {
                    (Some(Block::Text(t)), Delta::Text(s)) => t.text.push_str(s),
                    (Some(Block::Text(t)), Delta::Citation(c)) => t.citations.push(c.clone()),
                    (Some(Block::Text(t)), Delta::Signature(s)) => t.signature = Some(s.clone()),
                    (Some(Block::Thinking(t)), Delta::Thinking(s)) => t.text.push_str(s),
                    (Some(Block::Thinking(t)), Delta::Signature(s)) => {
                        t.signature = Some(s.clone())
                    }
                    (Some(Block::ToolUse(t)), Delta::Signature(s)) => {
                        t.signature = Some(s.clone())
                    }
                    (Some(Block::ToolUse(_)), Delta::ToolInput(s)) => {
                        if let Some((_, buf)) = self.tool_json.iter_mut().find(|(i, _)| *i == last)
                        {
                            buf.push_str(s);
                        }
                    }
                    _ => {}
                }
            }
            StreamEvent::BlockStop { .. } => {}
            StreamEvent::MessageDelta {
                stop_reason,
                stop_sequence,
                usage,
            } => {
                if stop_reason.is_some() {
                    r.stop_reason = stop_reason.clone();
                }
                if stop_sequence.is_some() {
                    r.stop_sequence = stop_sequence.clone();
                }
                r.usage.merge(usage);
            }
            StreamEvent::MessageStop | StreamEvent::Ping | StreamEvent::Error(_) => {}
        }
    }

    /// The response, with each tool call's argument fragments parsed (kept as a JSON string
    /// when they do not parse, as the buffered decoders do).
    pub fn finish(mut self) -> super::Response {
        for (i, json) in self.tool_json {
            if let Some(super::Block::ToolUse(t)) = self.response.content.get_mut(i) {
                t.input = crate::json::parse_arguments(&json, t.kind);
            }
        }
        self.response
    }
}
