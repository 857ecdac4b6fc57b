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

use serde_json::{json, Map, Value};

use crate::ir::{
    BlockStart, Citation, Delta, ErrorBody, Signature, StopReason, StreamEvent, ToolCallKind, Usage,
};
use crate::responses::items::encode_citation;
use crate::responses::response::{add_sdk_defaults, stop_reason_to_wire, usage_to_wire};
use crate::{ids, signature, sse, Dialect, EncodeOptions};

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
        let at = json!({"item_id": cur.item_id, "output_index": cur.output_index});
        match (cur.kind, delta) {
            (Kind::Text, Delta::Text(s)) => {
                cur.text.push_str(s);
                let fields = with(at, json!({"content_index": 0, "delta": s, "logprobs": []}));
                self.emit(out, "response.output_text.delta", fields);
            }
            (Kind::Text, Delta::Citation(c)) => self.annotation(&mut cur, c, at, out),
            (Kind::Thinking, Delta::Thinking(s)) => {
                if !cur.summary_open {
                    cur.summary_open = true;
                    let part =
                        json!({"summary_index": 0, "part": {"type": "summary_text", "text": ""}});
                    self.emit(
                        out,
                        "response.reasoning_summary_part.added",
                        with(at.clone(), part),
                    );
                }
                cur.text.push_str(s);
                let fields = with(at, json!({"summary_index": 0, "delta": s}));
                self.emit(out, "response.reasoning_summary_text.delta", fields);
            }
            (Kind::Thinking, Delta::Signature(sig)) => cur.signature = Some(sig.clone()),
            (Kind::Function, Delta::ToolInput(s)) => {
                cur.text.push_str(s);
                let fields = with(at, json!({ "delta": s }));
                self.emit(out, "response.function_call_arguments.delta", fields);
            }
            (Kind::Custom, Delta::ToolInput(s)) => {
                cur.text.push_str(s);
                let fields = with(at, json!({ "delta": s }));
                self.emit(out, "response.custom_tool_call_input.delta", fields);
            }
            // A signature on text (Gemini) has no Responses field, nor one that arrives after
            // a tool call started; one given with the call's start went out before it.
            _ => {}
        }
        self.current = Some(cur);
    }

    fn annotation(&mut self, cur: &mut Current, c: &Citation, at: Value, out: &mut Vec<u8>) {
        let Some(annotation) = encode_citation(c) else {
            return;
        };
        let fields = with(
            at,
            json!({"content_index": 0, "annotation_index": cur.annotations.len(), "annotation": annotation}),
        );
        cur.annotations.push(annotation);
        self.emit(out, "response.output_text.annotation.added", fields);
    }

    fn block_stop(&mut self, out: &mut Vec<u8>) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let at = json!({"item_id": cur.item_id, "output_index": cur.output_index});
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
