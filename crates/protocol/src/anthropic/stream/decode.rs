//! Anthropic stream → IR events. It owns the upstream's block indices: blocks the IR stream
//! cannot express (`server_tool_use`, `web_search_tool_result`, any unknown type) are skipped
//! with their deltas, and the rest are renumbered so IR indices stay contiguous from 0. Usage
//! arrives split across `message_start` and `message_delta`; every IR report is the merged
//! running total. It must not emit anything after `message_stop` or `error`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::super::content::decode_citation;
use super::super::error::from_detail;
use super::super::response::{stop_reason_from_wire, usage_from_wire};
use super::super::wire::{self, Block as WireBlock, KnownBlock};
use crate::ir::{
    BlockStart, Citation, Delta, ErrorBody, ErrorKind, StreamEvent, ToolCallKind, Usage,
};
use crate::scan::{Reader, Seen};
use crate::{signature, sse, Dialect, Error};

const EVENTS: [&str; 8] = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
];

#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    /// `message_stop` or `error` was seen: the stream is over.
    done: bool,
    /// The open block: (upstream index, IR index).
    open: Option<(usize, usize)>,
    next_index: usize,
    /// Upstream indices of blocks left out of the IR stream.
    skipped: Vec<usize>,
    usage: Usage,
    delta_seen: bool,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn decode(&mut self, frame: &sse::Frame, out: &mut Vec<StreamEvent>) -> Result<(), Error> {
        if self.done || frame.data.trim().is_empty() {
            return Ok(());
        }
        // Nearly every event of a stream is a text, thinking or tool-input delta: read by hand
        // (see `content_delta`). Before `message_start` the general path gives the error.
        if self.started {
            if let Some((index, delta)) = content_delta(&frame.data) {
                return self.block_delta(index, Some(delta), out);
            }
        }
        self.decode_general(frame, out)
    }

    /// Any event, through a `Value` and the wire enum.
    fn decode_general(
        &mut self,
        frame: &sse::Frame,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), Error> {
        let mut value: Value = serde_json::from_str(&frame.data)
            .map_err(|e| Error::Stream(format!("invalid JSON in stream event: {e}")))?;
        // The data's own `type` names the event; the SSE `event:` field is the fallback.
        let name = match (value.get("type").and_then(Value::as_str), &frame.event) {
            (Some(t), _) => t.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => return Ok(()),
        };
        if !EVENTS.contains(&name.as_str()) {
            return Ok(());
        }
        if let Value::Object(m) = &mut value {
            m.insert("type".into(), Value::String(name.clone()));
        }
        let ev: wire::StreamEvent =
            serde_json::from_value(value).map_err(|e| Error::Stream(format!("{name}: {e}")))?;
        if !self.started
            && !matches!(
                ev,
                wire::StreamEvent::MessageStart { .. }
                    | wire::StreamEvent::Ping
                    | wire::StreamEvent::Error { .. }
            )
        {
            return Err(Error::Stream(format!("{name} before message_start")));
        }
        match ev {
            wire::StreamEvent::MessageStart { message } => {
                if self.started {
                    return Err(Error::Stream("second message_start".into()));
                }
                self.started = true;
                self.usage = usage_from_wire(&message.usage);
                out.push(StreamEvent::MessageStart {
                    id: message.id,
                    model: message.model,
                    usage: self.usage,
                });
            }
            wire::StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, out)?,
            wire::StreamEvent::ContentBlockDelta { index, delta } => {
                self.block_delta(index, decode_delta(&delta), out)?
            }
            wire::StreamEvent::ContentBlockStop { index } => {
                if self.skipped.contains(&index) {
                    return Ok(());
                }
                let ir_index = self.open_index(index, "content_block_stop")?;
                out.push(StreamEvent::BlockStop { index: ir_index });
                self.open = None;
            }
            wire::StreamEvent::MessageDelta { delta, usage } => {
                self.close_open(out);
                self.usage.merge(&usage_from_wire(&usage));
                self.delta_seen = true;
                out.push(StreamEvent::MessageDelta {
                    stop_reason: delta.stop_reason.as_deref().map(stop_reason_from_wire),
                    stop_sequence: delta.stop_sequence,
                    usage: self.usage,
                });
            }
            wire::StreamEvent::MessageStop => {
                self.close_open(out);
                if !self.delta_seen {
                    out.push(StreamEvent::MessageDelta {
                        stop_reason: None,
                        stop_sequence: None,
                        usage: self.usage,
                    });
                }
                out.push(StreamEvent::MessageStop);
                self.done = true;
            }
            wire::StreamEvent::Ping => out.push(StreamEvent::Ping),
            wire::StreamEvent::Error { error } => {
                out.push(StreamEvent::Error(from_detail(&error, None)));
                self.done = true;
            }
        }
        Ok(())
    }

    /// The upstream closed the stream. A stream that ended without `message_stop` or `error`
    /// is reported as truncated.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.done = true;
        self.close_open(out);
        out.push(StreamEvent::Error(ErrorBody::new(
            ErrorKind::Api,
            "upstream stream ended before completion",
        )));
    }

    /// A `content_block_delta` for upstream block `index`; `None` is a delta the IR has no
    /// form for (skipped, as its block may not be).
    fn block_delta(
        &mut self,
        index: usize,
        delta: Option<Delta>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), Error> {
        if self.skipped.contains(&index) {
            return Ok(());
        }
        let ir_index = self.open_index(index, "content_block_delta")?;
        if let Some(delta) = delta {
            out.push(StreamEvent::BlockDelta {
                index: ir_index,
                delta,
            });
        }
        Ok(())
    }

    fn open_index(&self, upstream: usize, event: &str) -> Result<usize, Error> {
        match self.open {
            Some((u, i)) if u == upstream => Ok(i),
            _ => Err(Error::Stream(format!(
                "{event} for block {upstream}, which is not open"
            ))),
        }
    }

    /// Closes a block the upstream left open (it started another, or ended the message).
    fn close_open(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((_, index)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn block_start(
        &mut self,
        upstream: usize,
        block: WireBlock,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), Error> {
        if self.delta_seen {
            return Err(Error::Stream(
                "content_block_start after message_delta".into(),
            ));
        }
        self.close_open(out);
        let mut deltas = Vec::new();
        let start = match block {
            WireBlock::Known(KnownBlock::Text(t)) => {
                if !t.text.is_empty() {
                    deltas.push(Delta::Text(t.text));
                }
                for c in t.citations.unwrap_or_default() {
                    deltas.push(Delta::Citation(decode_citation(c)));
                }
                BlockStart::Text
            }
            WireBlock::Known(KnownBlock::Thinking(t)) => {
                if !t.thinking.is_empty() {
                    deltas.push(Delta::Thinking(t.thinking));
                }
                if let Some(s) = t.signature.filter(|s| !s.is_empty()) {
                    deltas.push(Delta::Signature(signature::from_wire(
                        &s,
                        Dialect::Anthropic.family(),
                    )));
                }
                BlockStart::Thinking
            }
            WireBlock::Known(KnownBlock::RedactedThinking(r)) => {
                BlockStart::RedactedThinking { data: r.data }
            }
            WireBlock::Known(KnownBlock::ToolUse(t)) => {
                // The start carries `input: {}`; the arguments come in `input_json_delta`s.
                if t.input.as_object().is_some_and(|o| !o.is_empty()) {
                    deltas.push(Delta::ToolInput(t.input.to_string()));
                }
                BlockStart::ToolUse {
                    id: t.id,
                    name: t.name,
                    kind: ToolCallKind::Function,
                    signature: None,
                }
            }
            // Server tool calls and results, documents, unknown types: no IR stream form.
            _ => {
                self.skipped.push(upstream);
                return Ok(());
            }
        };
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((upstream, index));
        out.push(StreamEvent::BlockStart {
            index,
            block: start,
        });
        for delta in deltas {
            out.push(StreamEvent::BlockDelta { index, delta });
        }
        Ok(())
    }
}

/// One wire delta as an IR delta; unknown delta types are skipped.
/// A `content_block_delta` of text, thinking or tool input, read with [`crate::scan`]:
/// through a `Value` and the wire enum each cost an allocation per key and value. `None` for
/// any other event, or anything the reader is unsure of; the general path then reads it, so
/// this must read only what that path reads, and the same (the tests compare the two).
fn content_delta(data: &str) -> Option<(usize, Delta)> {
    let mut r = Reader::new(data);
    r.ws();
    let mut seen = Seen::default();
    let (mut is_delta, mut index, mut delta) = (false, None, None);
    r.object(|r, key| {
        match key {
            "type" => is_delta = seen.once(0, r)?.string()? == "content_block_delta",
            "index" => index = Some(seen.once(1, r)?.u64()?),
            "delta" => delta = Some(text_delta(seen.once(2, r)?)?),
            _ => r.skip()?,
        }
        Some(())
    })?;
    r.end()?;
    is_delta.then_some(())?;
    Some((usize::try_from(index?).ok()?, delta?))
}

/// The `delta` of a `content_block_delta`, when it is text, thinking or tool input.
fn text_delta(r: &mut Reader<'_>) -> Option<Delta> {
    let mut seen = Seen::default();
    let mut kind = None;
    // `text`, `partial_json`, `thinking`: the payload of each kind.
    let mut payload: [Option<Cow<str>>; 3] = Default::default();
    r.object(|r, key| {
        match key {
            "type" => kind = Some(seen.once(0, r)?.string()?),
            "text" => payload[0] = Some(seen.once(1, r)?.string()?),
            "partial_json" => payload[1] = Some(seen.once(2, r)?.string()?),
            "thinking" => payload[2] = Some(seen.once(3, r)?.string()?),
            _ => r.skip()?,
        }
        Some(())
    })?;
    let (slot, make): (usize, fn(String) -> Delta) = match kind?.as_ref() {
        "text_delta" => (0, Delta::Text),
        "input_json_delta" => (1, Delta::ToolInput),
        "thinking_delta" => (2, Delta::Thinking),
        _ => return None,
    };
    Some(make(payload[slot].take()?.into_owned()))
}

fn decode_delta(delta: &Map<String, Value>) -> Option<Delta> {
    let s = |k: &str| delta.get(k).and_then(Value::as_str).map(str::to_string);
    Some(match delta.get("type").and_then(Value::as_str)? {
        "text_delta" => Delta::Text(s("text")?),
        "input_json_delta" => Delta::ToolInput(s("partial_json")?),
        "thinking_delta" => Delta::Thinking(s("thinking")?),
        "signature_delta" => Delta::Signature(signature::from_wire(
            &s("signature")?,
            Dialect::Anthropic.family(),
        )),
        "citations_delta" => match delta.get("citation") {
            Some(Value::Object(c)) => Delta::Citation(decode_citation(c.clone())),
            _ => Delta::Citation(Citation::default()),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELTAS: [&str; 4] = [
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"there\"\n\u00e9\ud83e\udd80"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
        r#" {"index":0,"delta":{"text":"x","type":"text_delta","more":[1,-2.5e3,{"a":null}]},"type":"content_block_delta","n":true} "#,
    ];

    /// A decoder inside an open text block, as every delta finds it.
    fn started() -> StreamDecoder {
        let mut d = StreamDecoder::new();
        let mut out = Vec::new();
        for data in [
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ] {
            d.decode(&sse::Frame::new(None, data), &mut out).unwrap();
        }
        d
    }

    /// Decodes `data` both ways; they must agree. Says whether the hand-read path read it.
    fn check(data: &str) -> bool {
        if data.trim().is_empty() {
            return false; // `decode` skips it before either path
        }
        let frame = sse::Frame::new(Some("content_block_delta"), data);
        let (mut fast, mut general) = (started(), started());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let ra = fast.decode(&frame, &mut a).map(|()| a);
        let rb = general.decode_general(&frame, &mut b).map(|()| b);
        assert_eq!(format!("{ra:?}"), format!("{rb:?}"), "{data}");
        content_delta(data).is_some()
    }

    #[test]
    fn text_thinking_and_tool_input_deltas_are_read_by_hand_as_the_general_path_reads_them() {
        for data in DELTAS {
            assert!(check(data), "not read by hand: {data}");
        }
        // Other deltas and events, escaped keys, duplicates, trailing bytes: the general path.
        for data in [
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s"}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","t\u0065xt":"x"}}"#,
            r#"{"type":"content_block_delta","index":0,"index":0,"delta":{"type":"text_delta","text":"x"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}} x"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":null}}"#,
        ] {
            assert!(!check(data), "read by hand: {data}");
        }
    }

    #[test]
    fn the_two_paths_agree_on_every_cut_and_corruption() {
        for data in crate::scan::cuts_and_corruptions(&DELTAS) {
            check(&data);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_by_hand(text in crate::json::any_text()) {
            let data = serde_json::json!({
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            });
            proptest::prop_assert!(check(&data.to_string()));
        }
    }
}
