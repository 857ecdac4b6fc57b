//! Responses stream events into a well-formed IR stream.
//!
//! Each `output_text` (or `refusal`) part of a message item is a text block; a `function_call`
//! or `custom_tool_call` item is a tool-use block; a `reasoning` item is a thinking block whose
//! summary parts are joined with a blank line, and whose `encrypted_content` (known only at
//! `response.output_item.done`) arrives as a signature delta just before the block stops.
//! Hosted tool calls (`web_search_call`, ...) have no IR stream form and are skipped. Must not
//! emit anything that breaks `ir::check_well_formed`.

use std::borrow::Cow;

use serde_json::Value;

use crate::ir::{BlockStart, Delta, ErrorBody, ErrorKind, StreamEvent, ToolCallKind};
use crate::responses::error::{kind_from_code, retry_after_in};
use crate::responses::items::decode_annotation;
use crate::responses::response::{stop_reason_from_wire, usage_from_wire};
use crate::responses::wire;
use crate::scan::{Reader, Seen};
use crate::{signature, sse, Dialect, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Tool,
}

/// The block being streamed.
#[derive(Debug)]
struct Open {
    index: usize,
    kind: Kind,
    /// Text or argument text received so far, to catch up from `.done` events that carry
    /// more than the deltas did.
    text: String,
    /// Reasoning summary parts started so far.
    parts: usize,
}

#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    /// A terminal event (completion, failure, error) was seen; nothing more is emitted.
    done: bool,
    next_index: usize,
    open: Option<Open>,
    saw_tool_use: bool,
}

/// A text, refusal, reasoning or tool-input `*.delta` event, read with [`crate::scan`]: through
/// a `Value` each cost an allocation per key and value. `None` for any other event, or
/// anything the reader is unsure of; the general path then reads it, so this must read only
/// what that path reads, and the same (the tests compare the two).
fn text_delta(data: &str) -> Option<(Kind, Cow<'_, str>)> {
    let mut r = Reader::new(data);
    let mut seen = Seen::default();
    let (mut kind, mut delta) = (None, None);
    r.object(|r, key| {
        match key {
            "type" => {
                kind = Some(match seen.once(0, r)?.string()?.as_ref() {
                    "response.output_text.delta" | "response.refusal.delta" => Kind::Text,
                    "response.function_call_arguments.delta"
                    | "response.custom_tool_call_input.delta" => Kind::Tool,
                    "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                        Kind::Thinking
                    }
                    _ => return None,
                })
            }
            "delta" => delta = Some(seen.once(1, r)?.string()?),
            _ => r.skip()?,
        }
        Some(())
    })?;
    r.end()?;
    Some((kind?, delta?))
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
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
        // Nearly every event of a stream is a text, reasoning or tool-input delta: read by hand
        // (see `text_delta`).
        if let Some((kind, text)) = text_delta(data) {
            self.delta(kind, &text, out);
            return Ok(());
        }
        self.decode_general(frame, data, out)
    }

    /// Any event, through a `Value`.
    fn decode_general(
        &mut self,
        frame: &sse::Frame,
        data: &str,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), Error> {
        let v: Value = serde_json::from_str(data)
            .map_err(|e| Error::Stream(format!("responses event is not JSON: {e}")))?;
        let ty = match v.get("type").and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None => frame
                .event
                .clone()
                .ok_or_else(|| Error::Stream("responses event without a type".into()))?,
        };
        match ty.as_str() {
            "response.created" | "response.in_progress" | "response.queued" => {
                self.start(v.get("response"), out)
            }
            "response.output_item.added" => {
                let item = v.get("item").unwrap_or(&Value::Null);
                self.item_added(item, out);
            }
            "response.content_part.added" => {
                let part = v.get("part").unwrap_or(&Value::Null);
                if matches!(str_at(part, "type"), "output_text" | "refusal") {
                    self.open_block(Kind::Text, BlockStart::Text, out);
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                self.delta(Kind::Text, str_at(&v, "delta"), out)
            }
            "response.output_text.annotation.added" => {
                if let (Some(open), Some(a)) = (&self.open, v.get("annotation")) {
                    if open.kind == Kind::Text {
                        let delta = Delta::Citation(decode_annotation(a.clone()));
                        out.push(StreamEvent::BlockDelta {
                            index: open.index,
                            delta,
                        });
                    }
                }
            }
            "response.output_text.done" => self.catch_up(Kind::Text, str_at(&v, "text"), out),
            "response.refusal.done" => self.catch_up(Kind::Text, str_at(&v, "refusal"), out),
            "response.content_part.done"
                if self.open.as_ref().is_some_and(|o| o.kind == Kind::Text) =>
            {
                self.close(out)
            }
            "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
                self.delta(Kind::Tool, str_at(&v, "delta"), out)
            }
            "response.function_call_arguments.done" => {
                self.catch_up(Kind::Tool, str_at(&v, "arguments"), out)
            }
            "response.custom_tool_call_input.done" => {
                self.catch_up(Kind::Tool, str_at(&v, "input"), out)
            }
            "response.reasoning_summary_part.added" => {
                let later_part = match self.open.as_mut().filter(|o| o.kind == Kind::Thinking) {
                    Some(open) => {
                        open.parts += 1;
                        open.parts > 1
                    }
                    None => false,
                };
                if later_part {
                    self.delta(Kind::Thinking, "\n\n", out);
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                self.delta(Kind::Thinking, str_at(&v, "delta"), out)
            }
            "response.output_item.done" => {
                let item = v.get("item").unwrap_or(&Value::Null);
                self.item_done(item, out);
            }
            "response.completed" | "response.incomplete" => self.complete(v.get("response"), out),
            "response.failed" => {
                let error = v.get("response").and_then(|r| r.get("error"));
                let body = error_body(error.unwrap_or(&Value::Null), "the response failed");
                self.fail(body, out);
            }
            "error" => {
                let inner = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
                let body = error_body(inner, "upstream stream error");
                self.fail(body, out);
            }
            _ => {}
        }
        Ok(())
    }

    /// The upstream closed the connection. Nothing is added after a terminal event; otherwise
    /// the open block is closed and the truncation reported as an error.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.close(out);
        let body = ErrorBody::new(ErrorKind::Api, "upstream stream ended before completion");
        self.fail(body, out);
    }

    fn start(&mut self, response: Option<&Value>, out: &mut Vec<StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        let response = response.unwrap_or(&Value::Null);
        let usage = response
            .get("usage")
            .filter(|u| u.is_object())
            .and_then(|u| serde_json::from_value::<wire::Usage>(u.clone()).ok())
            .map(|u| usage_from_wire(&u))
            .unwrap_or_default();
        out.push(StreamEvent::MessageStart {
            id: str_at(response, "id").to_string(),
            model: str_at(response, "model").to_string(),
            usage,
        });
    }

    fn item_added(&mut self, item: &Value, out: &mut Vec<StreamEvent>) {
        let (kind, initial) = match str_at(item, "type") {
            "function_call" => (ToolCallKind::Function, str_at(item, "arguments")),
            "custom_tool_call" => (ToolCallKind::Custom, str_at(item, "input")),
            "reasoning" => {
                self.open_block(Kind::Thinking, BlockStart::Thinking, out);
                return;
            }
            _ => return,
        };
        self.saw_tool_use = true;
        let start = BlockStart::ToolUse {
            id: str_at(item, "call_id").to_string(),
            name: str_at(item, "name").to_string(),
            kind,
            signature: None,
        };
        self.open_block(Kind::Tool, start, out);
        if !initial.is_empty() {
            self.delta(Kind::Tool, initial, out);
        }
    }

    fn item_done(&mut self, item: &Value, out: &mut Vec<StreamEvent>) {
        let Some((kind, index)) = self.open.as_ref().map(|o| (o.kind, o.index)) else {
            return;
        };
        match (kind, str_at(item, "type")) {
            (Kind::Tool, "function_call") => {
                self.catch_up(Kind::Tool, str_at(item, "arguments"), out)
            }
            (Kind::Tool, "custom_tool_call") => {
                self.catch_up(Kind::Tool, str_at(item, "input"), out)
            }
            (Kind::Thinking, "reasoning") => {
                if let Some(enc) = item.get("encrypted_content").and_then(Value::as_str) {
                    let sig = signature::from_wire(enc, Dialect::Responses.family());
                    out.push(StreamEvent::BlockDelta {
                        index,
                        delta: Delta::Signature(sig),
                    });
                }
            }
            _ => {}
        }
        self.close(out);
    }

    fn complete(&mut self, response: Option<&Value>, out: &mut Vec<StreamEvent>) {
        self.start(response, out);
        self.close(out);
        let response = response.cloned().unwrap_or(Value::Null);
        let w: wire::Response = serde_json::from_value(response).unwrap_or_default();
        let has_tool_use = self.saw_tool_use
            || w.output.iter().any(|i| {
                matches!(
                    i.get("type").and_then(Value::as_str),
                    Some("function_call" | "custom_tool_call")
                )
            });
        let reason = w
            .incomplete_details
            .as_ref()
            .and_then(|d| d.reason.as_deref());
        let stop_reason = stop_reason_from_wire(w.status.as_deref(), reason, has_tool_use);
        out.push(StreamEvent::MessageDelta {
            stop_reason,
            stop_sequence: None,
            usage: w.usage.as_ref().map(usage_from_wire).unwrap_or_default(),
        });
        out.push(StreamEvent::MessageStop);
        self.done = true;
    }

    fn fail(&mut self, body: ErrorBody, out: &mut Vec<StreamEvent>) {
        out.push(StreamEvent::Error(body));
        self.done = true;
    }

    fn open_block(&mut self, kind: Kind, start: BlockStart, out: &mut Vec<StreamEvent>) {
        self.start(None, out);
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        out.push(StreamEvent::BlockStart {
            index,
            block: start,
        });
        self.open = Some(Open {
            index,
            kind,
            text: String::new(),
            parts: 0,
        });
    }

    fn delta(&mut self, kind: Kind, text: &str, out: &mut Vec<StreamEvent>) {
        let Some(open) = self.open.as_mut().filter(|o| o.kind == kind) else {
            return;
        };
        open.text.push_str(text);
        let delta = match kind {
            Kind::Text => Delta::Text(text.to_string()),
            Kind::Thinking => Delta::Thinking(text.to_string()),
            Kind::Tool => Delta::ToolInput(text.to_string()),
        };
        out.push(StreamEvent::BlockDelta {
            index: open.index,
            delta,
        });
    }

    /// A `.done` event repeats the whole text: emit what the deltas did not deliver.
    fn catch_up(&mut self, kind: Kind, full: &str, out: &mut Vec<StreamEvent>) {
        let Some(open) = self.open.as_ref().filter(|o| o.kind == kind) else {
            return;
        };
        if full.len() > open.text.len() && full.starts_with(open.text.as_str()) {
            let rest = full[open.text.len()..].to_string();
            self.delta(kind, &rest, out);
        }
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(open) = self.open.take() {
            out.push(StreamEvent::BlockStop { index: open.index });
        }
    }
}

/// An error event's body (`{"code", "message", "param"}`), or a failed response's `error`.
fn error_body(v: &Value, fallback: &str) -> ErrorBody {
    let code = match v.get("code") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let message = match str_at(v, "message") {
        "" => fallback,
        m => m,
    };
    let kind = code
        .as_deref()
        .and_then(kind_from_code)
        .unwrap_or(ErrorKind::Api);
    let mut body = ErrorBody::new(kind, message);
    body.retry_after = retry_after_in(message);
    body.code = code;
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELTAS: [&str; 4] = [
        r#"{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi \"there\"\n\u00e9\ud83e\udd80","logprobs":[],"obfuscation":"Xq1"}"#,
        r#"{"type":"response.refusal.delta","item_id":"msg_1","delta":"no"}"#,
        r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"{\"a\":"}"#,
        r#"{"delta":"hmm","type":"response.reasoning_summary_text.delta","summary_index":0,"n":[1,-2.5e3,{"a":null,"b":true}]}"#,
    ];

    /// A decoder inside an open text block, as the deltas of a message find it.
    fn started() -> StreamDecoder {
        let mut d = StreamDecoder::new();
        let mut out = Vec::new();
        for data in [
            r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"gpt-4.1","output":[],"usage":null}}"#,
            r#"{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","content":[],"role":"assistant"}}"#,
            r#"{"type":"response.content_part.added","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}}"#,
        ] {
            d.decode(&sse::Frame::new(None, data), &mut out).unwrap();
        }
        assert!(!out.is_empty());
        d
    }

    /// Decodes `data` both ways; they must agree. Says whether the hand-read path read it.
    fn check(data: &str) -> bool {
        let data = data.trim();
        if data.is_empty() || data == "[DONE]" {
            return false; // `decode` skips it before either path
        }
        let frame = sse::Frame::new(Some("response.output_text.delta"), data);
        let (mut fast, mut general) = (started(), started());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let ra = fast.decode(&frame, &mut a).map(|()| a);
        let rb = general.decode_general(&frame, data, &mut b).map(|()| b);
        assert_eq!(format!("{ra:?}"), format!("{rb:?}"), "{data}");
        text_delta(data).is_some()
    }

    #[test]
    fn text_reasoning_and_tool_input_deltas_are_read_by_hand_as_the_general_path_reads_them() {
        for data in DELTAS {
            assert!(check(data), "not read by hand: {data}");
        }
        for data in [
            r#"{"type":"response.output_text.done","text":"x"}"#,
            r#"{"type":"response.output_text.delta","d\u0065lta":"x"}"#,
            r#"{"type":"response.output_text.delta","delta":"x","delta":"y"}"#,
            r#"{"type":"response.output_text.delta","delta":"x"} x"#,
            r#"{"type":"response.output_text.delta","delta":null}"#,
            r#"{"delta":"x"}"#,
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
            let data = serde_json::json!({"type": "response.output_text.delta", "delta": text});
            proptest::prop_assert!(check(&data.to_string()));
        }
    }
}
