//! Chat chunks to IR stream events.
//!
//! One IR block is open at a time. Text (`content`, `refusal`) and thinking
//! (`reasoning_content`, or `reasoning` from OpenRouter / Ollama) stream live. The first tool
//! call streams live too; a tool call that starts while another is open is buffered, because
//! servers may interleave the argument deltas of parallel calls, and buffered calls are emitted
//! whole, in index order, when the choice finishes. The stop reason is held until `[DONE]`, as
//! usage may arrive after it (in a chunk with empty `choices`, or on the finishing chunk).
//! Only choice 0 is read.

use super::frame::{Chunk, ToolCallDelta};
use crate::ir::{BlockStart, Delta, ErrorBody, ErrorKind, StreamEvent, ToolCallKind, Usage};
use crate::openai::response::{decode_stop, decode_usage};
use crate::openai::wire;
use crate::{json, sse, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    /// The wire index of the tool call being streamed live.
    Tool(u64),
}

#[derive(Debug)]
struct ToolCall {
    index: u64,
    id: String,
    name: String,
    kind: ToolCallKind,
    args: String,
    /// Its block was started (live) already.
    emitted: bool,
}

#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    /// `MessageStop` or `Error` was emitted: nothing follows.
    done: bool,
    next_index: usize,
    /// The open block and its IR index.
    open: Option<(Open, usize)>,
    tools: Vec<ToolCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn decode(&mut self, frame: &sse::Frame, out: &mut Vec<StreamEvent>) -> Result<(), Error> {
        let data = frame.data.trim();
        if self.done || data.is_empty() {
            return Ok(());
        }
        if data == "[DONE]" {
            self.complete(out);
            return Ok(());
        }
        // The view reads the frame without building what the decoder never reads (see
        // `frame`). A frame it declines is decoded as a whole `wire::Chunk`, whose result, or
        // error (with the failing field's path), is the answer.
        let whole: wire::Chunk;
        let chunk = match Chunk::parse(data) {
            Some(chunk) => chunk,
            None => {
                whole = json::decode_str(data).map_err(|e| Error::Stream(e.to_string()))?;
                Chunk::from_wire(&whole)
            }
        };
        if chunk.error {
            // Close what is open so the events before the error are whole blocks.
            self.close(out);
            out.push(StreamEvent::Error(crate::openai::decode_error(
                0,
                data.as_bytes(),
            )));
            self.done = true;
            return Ok(());
        }
        if chunk.choices.is_empty() && chunk.usage.is_none() {
            return Ok(());
        }
        if !self.started {
            self.start(&chunk.id, &chunk.model, out);
        }
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            let d = &choice.delta;
            let thinking = d.reasoning_content.as_deref().or(d.reasoning.as_deref());
            if let Some(s) = thinking.filter(|s| !s.is_empty()) {
                self.text(Open::Thinking, s, out);
            }
            for s in [&d.content, &d.refusal].into_iter().flatten() {
                if !s.is_empty() {
                    self.text(Open::Text, s, out);
                }
            }
            for tc in d.tool_calls.iter().flatten() {
                self.tool(tc, out);
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish_reason = Some(reason.to_string());
                self.flush(out);
            }
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(decode_usage(u));
        }
        Ok(())
    }

    /// The upstream closed the connection.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        if self.finish_reason.is_some() {
            self.complete(out);
            return;
        }
        self.close(out);
        self.done = true;
        out.push(StreamEvent::Error(ErrorBody::new(
            ErrorKind::Api,
            "upstream stream ended before completion",
        )));
    }

    fn start(&mut self, id: &str, model: &str, out: &mut Vec<StreamEvent>) {
        self.started = true;
        out.push(StreamEvent::MessageStart {
            id: id.to_string(),
            model: model.to_string(),
            usage: Usage::default(),
        });
    }

    fn open_block(&mut self, kind: Open, block: BlockStart, out: &mut Vec<StreamEvent>) -> usize {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((kind, index));
        out.push(StreamEvent::BlockStart { index, block });
        index
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((_, index)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn text(&mut self, kind: Open, s: &str, out: &mut Vec<StreamEvent>) {
        let index = match self.open {
            Some((k, i)) if k == kind => i,
            _ => {
                let block = if kind == Open::Text {
                    BlockStart::Text
                } else {
                    BlockStart::Thinking
                };
                self.open_block(kind, block, out)
            }
        };
        let delta = if kind == Open::Text {
            Delta::Text(s.to_string())
        } else {
            Delta::Thinking(s.to_string())
        };
        out.push(StreamEvent::BlockDelta { index, delta });
    }

    fn tool(&mut self, d: &ToolCallDelta, out: &mut Vec<StreamEvent>) {
        let pos = match self.tools.iter().position(|t| t.index == d.index) {
            Some(p) => p,
            None => {
                self.tools.push(ToolCall {
                    index: d.index,
                    id: String::new(),
                    name: String::new(),
                    kind: ToolCallKind::Function,
                    args: String::new(),
                    emitted: false,
                });
                self.tools.len() - 1
            }
        };
        let fragment = {
            let t = &mut self.tools[pos];
            if d.kind.as_deref() == Some("custom") || d.custom.is_some() {
                t.kind = ToolCallKind::Custom;
            }
            if let Some(id) = d.id.as_ref().filter(|_| t.id.is_empty()) {
                t.id = id.to_string();
            }
            let name = d.function.as_ref().and_then(|f| f.name.as_ref());
            let name = name.or(d.custom.as_ref().and_then(|c| c.name.as_ref()));
            if let Some(name) = name.filter(|_| t.name.is_empty()) {
                t.name = name.to_string();
            }
            let args = d.function.as_ref().and_then(|f| f.arguments.as_deref());
            args.or(d.custom.as_ref().and_then(|c| c.input.as_deref()))
                .unwrap_or("")
        };
        match self.open {
            Some((Open::Tool(live), index)) if live == d.index => {
                if !fragment.is_empty() {
                    out.push(StreamEvent::BlockDelta {
                        index,
                        delta: Delta::ToolInput(fragment.to_string()),
                    });
                }
            }
            // A fragment for a call whose block was closed by later text cannot be placed;
            // servers do not do this (see the module doc).
            _ if self.tools[pos].emitted => {}
            Some((Open::Tool(_), _)) => self.tools[pos].args.push_str(fragment),
            _ if self.tools.iter().any(|t| !t.emitted && t.index != d.index) => {
                self.tools[pos].args.push_str(fragment)
            }
            _ => {
                self.tools[pos].args.push_str(fragment);
                self.emit_tool(pos, out);
            }
        }
    }

    /// Starts the block of tool call `pos` with the arguments gathered so far; it stays open.
    fn emit_tool(&mut self, pos: usize, out: &mut Vec<StreamEvent>) {
        let t = &mut self.tools[pos];
        t.emitted = true;
        let (wire_index, args) = (t.index, std::mem::take(&mut t.args));
        let block = BlockStart::ToolUse {
            id: t.id.clone(),
            name: t.name.clone(),
            kind: t.kind,
            signature: None,
        };
        let index = self.open_block(Open::Tool(wire_index), block, out);
        if !args.is_empty() {
            out.push(StreamEvent::BlockDelta {
                index,
                delta: Delta::ToolInput(args),
            });
        }
    }

    /// Closes the open block and emits the buffered tool calls in index order.
    fn flush(&mut self, out: &mut Vec<StreamEvent>) {
        self.close(out);
        let mut pending: Vec<usize> = (0..self.tools.len())
            .filter(|&i| !self.tools[i].emitted)
            .collect();
        pending.sort_by_key(|&i| self.tools[i].index);
        for pos in pending {
            self.emit_tool(pos, out);
            self.close(out);
        }
    }

    fn complete(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.start("", "", out);
        }
        self.flush(out);
        let has_tools = !self.tools.is_empty();
        out.push(StreamEvent::MessageDelta {
            stop_reason: self
                .finish_reason
                .as_deref()
                .map(|r| decode_stop(r, has_tools)),
            stop_sequence: None,
            usage: self.usage.unwrap_or_default(),
        });
        out.push(StreamEvent::MessageStop);
        self.done = true;
    }
}
