//! A well-formed IR stream into Responses events, in the order the official SDKs'
//! `responses.stream()` accumulator expects: `response.created` and `response.in_progress`
//! (status `in_progress`, empty output), then per block its output item (`output_item.added`,
//! parts, deltas, `.done` events, `output_item.done` with the whole item), then
//! `response.completed` / `response.incomplete` / `response.failed` with the whole response.
//! `sequence_number` rises by one from 0 across every event.
//!
//! Each text block is its own message item. Blocks with no Responses form (redacted thinking,
//! server-tool calls) are skipped whole, so output indices stay contiguous. A tool call with a
//! foreign signature (Gemini's) is preceded by a reasoning item carrying it, as in buffered
//! responses. A mid-stream
//! `Error` becomes one `error` event (the SDK raises it), and nothing follows it.
//!
//! The events a stream repeats, its deltas (`response.output_text.delta`,
//! `response.reasoning_summary_text.delta`, `response.function_call_arguments.delta` and
//! `response.custom_tool_call_input.delta`), are written straight into the output as the bytes
//! `emit` writes for them, without building a `serde_json::Value` per event; every other event,
//! once per item or per response, still goes through `emit`. The tests compare the two ways
//! byte for byte.

use serde_json::{json, Map, Value};

use crate::ir::{
    BlockStart, Citation, Delta, ErrorBody, Signature, StopReason, StreamEvent, ToolCallKind, Usage,
};
use crate::responses::items::encode_citation;
use crate::responses::response::{add_sdk_defaults, stop_reason_to_wire, usage_to_wire};
use crate::{ids, json, signature, sse, Dialect, EncodeOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Function,
    Custom,
}

/// The output item being streamed.
#[derive(Debug)]
struct Current {
    kind: Kind,
    item_id: String,
    output_index: usize,
    /// The text, summary, arguments or input so far.
    text: String,
    annotations: Vec<Value>,
    summary_open: bool,
    signature: Option<Signature>,
    call_id: String,
    name: String,
}

#[derive(Debug)]
pub struct StreamEncoder {
    seq: u64,
    id: String,
    model: String,
    started: bool,
    /// A terminal event was written; everything after is ignored.
    finished: bool,
    /// Completed output items, for the final response object.
    output: Vec<Value>,
    current: Option<Current>,
    /// Inside a block that has no Responses form.
    skipping: bool,
    stop_reason: Option<StopReason>,
    usage: Usage,
}

impl StreamEncoder {
    pub fn new(_opts: &EncodeOptions) -> Self {
        Self {
            seq: 0,
            id: String::new(),
            model: String::new(),
            started: false,
            finished: false,
            output: Vec::new(),
            current: None,
            skipping: false,
            stop_reason: None,
            usage: Usage::default(),
        }
    }

    pub fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        if self.finished {
            return;
        }
        match ev {
            StreamEvent::Ping => sse::write_comment(out, "ping"),
            StreamEvent::MessageStart { id, model, usage } => {
                if !self.started {
                    self.id = id.clone();
                    self.model = model.clone();
                    self.usage.merge(usage);
                    self.begin(out);
                }
            }
            StreamEvent::BlockStart { block, .. } => {
                self.begin(out);
                self.block_start(block, out);
            }
            StreamEvent::BlockDelta { delta, .. } => self.block_delta(delta, out),
            StreamEvent::BlockStop { .. } => {
                self.skipping = false;
                self.block_stop(out);
            }
            StreamEvent::MessageDelta {
                stop_reason, usage, ..
            } => {
                if stop_reason.is_some() {
                    self.stop_reason = stop_reason.clone();
                }
                self.usage.merge(usage);
            }
            StreamEvent::MessageStop => {
                self.begin(out);
                self.complete(out);
            }
            StreamEvent::Error(err) => self.error(err, out),
        }
    }

    /// Responses streams end with their terminal event; there is no `[DONE]`.
    pub fn finish(&mut self, _out: &mut Vec<u8>) {}

    fn emit(&mut self, out: &mut Vec<u8>, ty: &str, fields: Value) {
        let mut obj = Map::new();
        obj.insert("type".into(), json!(ty));
        obj.insert("sequence_number".into(), json!(self.seq));
        if let Value::Object(m) = fields {
            obj.extend(m);
        }
        self.seq += 1;
        let data = serde_json::to_string(&Value::Object(obj)).unwrap_or_default();
        sse::write_frame(out, Some(ty), &data);
    }

    /// The delta event carrying `text` for the item `cur`, written directly (see `write_delta`).
    fn emit_delta(&mut self, out: &mut Vec<u8>, cur: &Current, text: &str) {
        write_delta(
            out,
            cur.kind,
            self.seq,
            &cur.item_id,
            cur.output_index,
            text,
        );
        self.seq += 1;
    }

    fn response_object(&self, status: &str, reason: Option<String>, final_usage: bool) -> Value {
        let mut obj = Map::new();
        obj.insert("id".into(), json!(self.id));
        obj.insert("object".into(), json!("response"));
        // The IR stream carries no clock; see the dialect's loss table.
        obj.insert("created_at".into(), json!(0));
        obj.insert("status".into(), json!(status));
        let error = if status == "failed" {
            json!({"code": "server_error", "message": "The model failed to generate a response."})
        } else {
            Value::Null
        };
        obj.insert("error".into(), error);
        obj.insert(
            "incomplete_details".into(),
            reason.map_or(Value::Null, |r| json!({ "reason": r })),
        );
        obj.insert("model".into(), json!(self.model));
        obj.insert("output".into(), Value::Array(self.output.clone()));
        let usage = if final_usage || !self.usage.is_zero() {
            usage_to_wire(&self.usage)
        } else {
            Value::Null
        };
        obj.insert("usage".into(), usage);
        add_sdk_defaults(&mut obj);
        Value::Object(obj)
    }

    fn begin(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let response = self.response_object("in_progress", None, false);
        self.emit(out, "response.created", json!({ "response": response }));
        self.emit(out, "response.in_progress", json!({ "response": response }));
    }

    fn item_id(&self, prefix: &str) -> String {
        let suffix = self.id.strip_prefix("resp_").unwrap_or(&self.id);
        format!("{prefix}_{suffix}_{}", self.output.len())
    }

    fn block_start(&mut self, block: &BlockStart, out: &mut Vec<u8>) {
        if let BlockStart::ToolUse {
            kind: ToolCallKind::Function | ToolCallKind::Custom,
            signature: Some(sig),
            ..
        } = block
        {
            self.signature_carrier(sig, out);
        }
        let output_index = self.output.len();
        let (kind, item_id, call_id, name) = match block {
            BlockStart::Text => (
                Kind::Text,
                self.item_id("msg"),
                String::new(),
                String::new(),
            ),
            BlockStart::Thinking => (
                Kind::Thinking,
                self.item_id("rs"),
                String::new(),
                String::new(),
            ),
            BlockStart::ToolUse { id, name, kind, .. } => {
                let (k, prefix) = match kind {
                    ToolCallKind::Function => (Kind::Function, "fc"),
                    ToolCallKind::Custom => (Kind::Custom, "ctc"),
                    ToolCallKind::Server => {
                        self.skipping = true;
                        return;
                    }
                };
                let call_id = ids::responses_call_id(id).into_owned();
                (k, self.item_id(prefix), call_id, name.clone())
            }
            BlockStart::RedactedThinking { .. } => {
                self.skipping = true;
                return;
            }
        };
        let cur = Current {
            kind,
            item_id,
            output_index,
            text: String::new(),
            annotations: Vec::new(),
            summary_open: false,
            signature: None,
            call_id,
            name,
        };
        let item = item_json(&cur, "in_progress");
        self.emit(
            out,
            "response.output_item.added",
            json!({"output_index": output_index, "item": item}),
        );
        if kind == Kind::Text {
            self.emit(
                out,
                "response.content_part.added",
                json!({
                    "item_id": cur.item_id, "output_index": output_index, "content_index": 0,
                    "part": {"type": "output_text", "annotations": [], "text": ""},
                }),
            );
        }
        self.current = Some(cur);
    }

    /// A foreign signature on a tool call, as a whole reasoning item with an empty summary
    /// right before the call (what the buffered encoder writes). It takes the next output
    /// index; the call follows it.
    fn signature_carrier(&mut self, sig: &Signature, out: &mut Vec<u8>) {
        if sig.family == Dialect::Responses.family() {
            return;
        }
        let output_index = self.output.len();
        let cur = Current {
            kind: Kind::Thinking,
            item_id: self.item_id("rs"),
            output_index,
            text: String::new(),
            annotations: Vec::new(),
            summary_open: false,
            signature: Some(sig.clone()),
            call_id: String::new(),
            name: String::new(),
        };
        let added = item_json(&cur, "in_progress");
        self.emit(
            out,
            "response.output_item.added",
            json!({"output_index": output_index, "item": added}),
        );
        let item = item_json(&cur, "completed");
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        );
        self.output.push(item);
    }

    fn block_delta(&mut self, delta: &Delta, out: &mut Vec<u8>) {
        if self.skipping {
            return;
        }
        let Some(mut cur) = self.current.take() else {
            return;
        };
        match (cur.kind, delta) {
            (Kind::Text, Delta::Text(s)) => {
                cur.text.push_str(s);
                self.emit_delta(out, &cur, s);
            }
            (Kind::Text, Delta::Citation(c)) => self.annotation(&mut cur, c, out),
            (Kind::Thinking, Delta::Thinking(s)) => {
                if !cur.summary_open {
                    cur.summary_open = true;
                    let part =
                        json!({"summary_index": 0, "part": {"type": "summary_text", "text": ""}});
                    self.emit(
                        out,
                        "response.reasoning_summary_part.added",
                        with(at(&cur), part),
                    );
                }
                cur.text.push_str(s);
                self.emit_delta(out, &cur, s);
            }
            (Kind::Thinking, Delta::Signature(sig)) => cur.signature = Some(sig.clone()),
            (Kind::Function | Kind::Custom, Delta::ToolInput(s)) => {
                cur.text.push_str(s);
                self.emit_delta(out, &cur, s);
            }
            // A signature on text (Gemini) has no Responses field, nor one that arrives after
            // a tool call started; one given with the call's start went out before it.
            _ => {}
        }
        self.current = Some(cur);
    }

    fn annotation(&mut self, cur: &mut Current, c: &Citation, out: &mut Vec<u8>) {
        let Some(annotation) = encode_citation(c) else {
            return;
        };
        let fields = with(
            at(cur),
            json!({"content_index": 0, "annotation_index": cur.annotations.len(), "annotation": annotation}),
        );
        cur.annotations.push(annotation);
        self.emit(out, "response.output_text.annotation.added", fields);
    }

    fn block_stop(&mut self, out: &mut Vec<u8>) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let at = at(&cur);
        match cur.kind {
            Kind::Text => {
                let done = json!({"content_index": 0, "text": cur.text, "logprobs": []});
                self.emit(out, "response.output_text.done", with(at.clone(), done));
                let part = json!({"content_index": 0, "part": text_part(&cur)});
                self.emit(out, "response.content_part.done", with(at, part));
            }
            Kind::Thinking if cur.summary_open => {
                let done = json!({"summary_index": 0, "text": cur.text});
                self.emit(
                    out,
                    "response.reasoning_summary_text.done",
                    with(at.clone(), done),
                );
                let part =
                    json!({"summary_index": 0, "part": {"type": "summary_text", "text": cur.text}});
                self.emit(out, "response.reasoning_summary_part.done", with(at, part));
            }
            Kind::Thinking => {}
            Kind::Function => {
                let done = json!({"name": cur.name, "arguments": cur.text});
                self.emit(out, "response.function_call_arguments.done", with(at, done));
            }
            Kind::Custom => {
                let done = json!({ "input": cur.text });
                self.emit(out, "response.custom_tool_call_input.done", with(at, done));
            }
        }
        let item = item_json(&cur, "completed");
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": cur.output_index, "item": item}),
        );
        self.output.push(item);
    }

    fn complete(&mut self, out: &mut Vec<u8>) {
        let (status, reason) = match &self.stop_reason {
            Some(r) => stop_reason_to_wire(r),
            None => ("completed".to_string(), None),
        };
        let ty = match status.as_str() {
            "completed" => "response.completed",
            "failed" => "response.failed",
            _ => "response.incomplete",
        };
        let response = self.response_object(&status, reason, true);
        self.emit(out, ty, json!({ "response": response }));
        self.finished = true;
    }

    fn error(&mut self, err: &ErrorBody, out: &mut Vec<u8>) {
        let code = err.code.clone().unwrap_or_else(|| {
            match err.kind {
                crate::ir::ErrorKind::RateLimited => "rate_limit_exceeded",
                crate::ir::ErrorKind::Overloaded => "server_is_overloaded",
                crate::ir::ErrorKind::InvalidRequest => "invalid_request_error",
                _ => "server_error",
            }
            .to_string()
        });
        let fields = json!({"code": code, "message": err.message, "param": null});
        self.emit(out, "error", fields);
        self.finished = true;
    }
}

/// Where an item's events point: `{"item_id": …, "output_index": …}`.
fn at(cur: &Current) -> Value {
    json!({"item_id": cur.item_id, "output_index": cur.output_index})
}

/// `base` with `more`'s fields appended.
fn with(base: Value, more: Value) -> Value {
    let (Value::Object(mut a), Value::Object(b)) = (base, more) else {
        return Value::Null;
    };
    a.extend(b);
    Value::Object(a)
}

fn text_part(cur: &Current) -> Value {
    json!({"type": "output_text", "annotations": cur.annotations, "text": cur.text})
}

/// The output item as it stands (`in_progress` when added, whole when done).
fn item_json(cur: &Current, status: &str) -> Value {
    let done = status == "completed";
    match cur.kind {
        Kind::Text => {
            let content = if done {
                vec![text_part(cur)]
            } else {
                Vec::new()
            };
            json!({"id": cur.item_id, "type": "message", "status": status, "role": "assistant", "content": content})
        }
        Kind::Thinking => {
            let mut item = json!({"id": cur.item_id, "type": "reasoning", "summary": []});
            if done && cur.summary_open {
                item["summary"] = json!([{"type": "summary_text", "text": cur.text}]);
            }
            if let (true, Some(sig)) = (done, &cur.signature) {
                let wire = signature::to_wire(sig, Dialect::Responses.family());
                item["encrypted_content"] = json!(wire);
            }
            item
        }
        Kind::Function => json!({
            "id": cur.item_id, "type": "function_call", "status": status,
            "arguments": cur.text, "call_id": cur.call_id, "name": cur.name,
        }),
        Kind::Custom => json!({
            "id": cur.item_id, "type": "custom_tool_call", "status": status,
            "call_id": cur.call_id, "input": cur.text, "name": cur.name,
        }),
    }
}

// Direct writer. It writes the bytes `emit` writes for the same fields: `emit`'s object keeps
// its keys in insertion order (the workspace builds serde_json with `preserve_order`) and
// serde_json escapes the strings, so the data is one line.

/// The delta event of an item of `kind`, as `emit` writes it with the fields `{"item_id": …,
/// "output_index": …}` followed by the kind's own: `{"type":TY,"sequence_number":SEQ,
/// "item_id":ID,"output_index":I,BEFORE"delta":TEXT AFTER}` as one frame named TY.
fn write_delta(
    out: &mut Vec<u8>,
    kind: Kind,
    seq: u64,
    item_id: &str,
    output_index: usize,
    text: &str,
) {
    // Constants that need no escaping.
    let (ty, before, after) = match kind {
        Kind::Text => (
            "response.output_text.delta",
            r#""content_index":0,"#,
            r#","logprobs":[]"#,
        ),
        Kind::Thinking => (
            "response.reasoning_summary_text.delta",
            r#""summary_index":0,"#,
            "",
        ),
        Kind::Function => ("response.function_call_arguments.delta", "", ""),
        Kind::Custom => ("response.custom_tool_call_input.delta", "", ""),
    };
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b"\ndata: {\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(br#"","sequence_number":"#);
    json::write_uint(out, seq);
    out.extend_from_slice(br#","item_id":"#);
    json::write_str(out, item_id);
    out.extend_from_slice(br#","output_index":"#);
    json::write_uint(out, output_index as u64);
    out.push(b',');
    out.extend_from_slice(before.as_bytes());
    out.extend_from_slice(br#""delta":"#);
    json::write_str(out, text);
    out.extend_from_slice(after.as_bytes());
    out.extend_from_slice(b"}\n\n");
}

#[cfg(test)]
mod tests {
    use crate::json::any_text as text;
    use crate::json::AWKWARD_TEXT as AWKWARD;
    use proptest::prelude::*;

    use super::*;

    const KINDS: [Kind; 4] = [Kind::Text, Kind::Thinking, Kind::Function, Kind::Custom];

    /// The reference: a delta event through `emit`, with the fields the encoder built for it
    /// before the direct writer.
    fn via_emit(kind: Kind, seq: u64, item_id: &str, output_index: usize, s: &str) -> String {
        let (ty, fields) = match kind {
            Kind::Text => (
                "response.output_text.delta",
                json!({"content_index": 0, "delta": s, "logprobs": []}),
            ),
            Kind::Thinking => (
                "response.reasoning_summary_text.delta",
                json!({"summary_index": 0, "delta": s}),
            ),
            Kind::Function => (
                "response.function_call_arguments.delta",
                json!({ "delta": s }),
            ),
            Kind::Custom => (
                "response.custom_tool_call_input.delta",
                json!({ "delta": s }),
            ),
        };
        let at = json!({"item_id": item_id, "output_index": output_index});
        let mut encoder = StreamEncoder::new(&EncodeOptions::default());
        encoder.seq = seq;
        let mut out = Vec::new();
        encoder.emit(&mut out, ty, with(at, fields));
        String::from_utf8(out).expect("UTF-8")
    }

    fn direct(kind: Kind, seq: u64, item_id: &str, output_index: usize, s: &str) -> String {
        let mut out = Vec::new();
        write_delta(&mut out, kind, seq, item_id, output_index, s);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn deltas_are_the_bytes_of_emit_for_awkward_strings() {
        for s in AWKWARD {
            for item_id in ["msg_1_0", s] {
                // `emit` counts on from `seq`, so the largest is one short of the maximum.
                for (seq, output_index) in [(0, 0), (7, 3), (u64::MAX - 1, usize::MAX)] {
                    for kind in KINDS {
                        assert_eq!(
                            direct(kind, seq, item_id, output_index, s),
                            via_emit(kind, seq, item_id, output_index, s),
                        );
                    }
                }
            }
        }
    }

    /// A whole stream through the encoder: each delta goes out as its item's kind of event,
    /// with the sequence number and item the stream has reached.
    #[test]
    fn encoder_writes_each_delta_as_emit_would() {
        let tool = |index: usize, kind: ToolCallKind| StreamEvent::BlockStart {
            index,
            block: BlockStart::ToolUse {
                id: format!("call_{index}"),
                name: "edit".into(),
                kind,
                signature: None,
            },
        };
        let delta = |index: usize, delta: Delta| StreamEvent::BlockDelta { index, delta };
        let events = [
            StreamEvent::MessageStart {
                id: "resp_1".into(),
                model: "gpt-5".into(),
                usage: Usage::default(),
            },
            StreamEvent::BlockStart {
                index: 0,
                block: BlockStart::Text,
            },
            delta(0, Delta::Text("a \"b\"\n".into())),
            StreamEvent::BlockStop { index: 0 },
            StreamEvent::BlockStart {
                index: 1,
                block: BlockStart::Thinking,
            },
            delta(1, Delta::Thinking("hmm\u{2028}".into())),
            StreamEvent::BlockStop { index: 1 },
            tool(2, ToolCallKind::Function),
            delta(2, Delta::ToolInput(r#"{"a":1}"#.into())),
            StreamEvent::BlockStop { index: 2 },
            tool(3, ToolCallKind::Custom),
            delta(3, Delta::ToolInput("ls\t-l".into())),
            StreamEvent::BlockStop { index: 3 },
            StreamEvent::MessageStop,
        ];
        let mut encoder = StreamEncoder::new(&EncodeOptions::default());
        let mut out = Vec::new();
        for ev in &events {
            encoder.encode(ev, &mut out);
        }
        let out = String::from_utf8(out).expect("UTF-8");
        // Sequence numbers: created 0, in_progress 1; the text item's added 2, part added 3,
        // delta 4, then three done events; the reasoning item's added 8, summary part 9, delta
        // 10, then three done events; each call's added event comes just before its delta.
        let expected = [
            via_emit(Kind::Text, 4, "msg_1_0", 0, "a \"b\"\n"),
            via_emit(Kind::Thinking, 10, "rs_1_1", 1, "hmm\u{2028}"),
            via_emit(Kind::Function, 15, "fc_1_2", 2, r#"{"a":1}"#),
            via_emit(Kind::Custom, 19, "ctc_1_3", 3, "ls\t-l"),
        ];
        for frame in expected {
            assert!(out.contains(&frame), "{frame:?} not in {out}");
        }
    }

    proptest! {
        #[test]
        fn deltas_are_the_bytes_of_emit(
            kind in prop::sample::select(KINDS.to_vec()),
            seq in 0..u64::MAX,
            item_id in text(),
            output_index in any::<usize>(),
            s in text(),
        ) {
            prop_assert_eq!(
                direct(kind, seq, &item_id, output_index, &s),
                via_emit(kind, seq, &item_id, output_index, &s)
            );
        }
    }
}
