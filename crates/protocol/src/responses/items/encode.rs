//! IR blocks into Responses items and content parts, for request `input` and response
//! `output` alike. Refuses what the Responses API cannot carry (another dialect's verbatim
//! blocks, server-tool calls, images in assistant turns); drops only what the module doc of
//! `responses` lists (redacted thinking, thinking the upstream cannot verify).

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::{data_url, field, flag, is_part_kind, merge_wire_fields, own, DIALECT};
use crate::ir::{
    Block, Citation, Document, Family, Image, MediaSource, Other, Role, Text, Thinking,
    ToolCallKind, ToolResult, ToolUse,
};
use crate::{ids, json, signature, Error};

/// What the items are for: a request to an upstream, or a response to a client (which must
/// carry item ids and statuses, minted when the IR has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Request,
    Response,
}

/// Writes IR messages (or a response's blocks) as a list of items.
#[derive(Debug)]
pub(crate) struct ItemWriter<'a> {
    target: Target,
    /// The response id, from which minted item ids are derived.
    resp_id: &'a str,
    /// Ids of custom tool calls, so their results go out as `custom_tool_call_output`.
    custom_calls: HashSet<String>,
    pub items: Vec<Value>,
}

/// One message item of a layout, or (without `env`) one non-message item.
struct Entry<'v> {
    n: usize,
    env: Option<&'v Map<String, Value>>,
    string: bool,
}

fn is_part(block: &Block) -> bool {
    match block {
        Block::Text(_) | Block::Image(_) | Block::Document(_) => true,
        Block::Other(o) => is_part_kind(&o.kind),
        _ => false,
    }
}

/// The layout recorded by the decoder, if it still matches `blocks`.
fn parse_layout<'v>(layout: &'v Value, blocks: &[Block]) -> Option<Vec<Entry<'v>>> {
    let mut entries = Vec::new();
    let mut pos = 0usize;
    for e in layout.as_array()? {
        let n = usize::try_from(e.get("n")?.as_u64()?).ok()?;
        let env = match e.get("env") {
            None => None,
            Some(v) => Some(v.as_object()?),
        };
        let slice = blocks.get(pos..pos.checked_add(n)?)?;
        let fits = match env {
            Some(_) => slice.iter().all(is_part),
            None => n == 1 && !is_part(&slice[0]),
        };
        if !fits {
            return None;
        }
        let string = e.get("str").and_then(Value::as_bool).unwrap_or(false);
        entries.push(Entry { n, env, string });
        pos += n;
    }
    (pos == blocks.len()).then_some(entries)
}

impl<'a> ItemWriter<'a> {
    pub(crate) fn new(target: Target, resp_id: &'a str) -> Self {
        Self {
            target,
            resp_id,
            custom_calls: HashSet::new(),
            items: Vec::new(),
        }
    }

    /// Notes the custom tool calls among `blocks` (call before writing their results).
    pub(crate) fn note_custom_calls(&mut self, blocks: &[Block]) {
        for b in blocks {
            if let Block::ToolUse(t) = b {
                if t.kind == ToolCallKind::Custom {
                    self.custom_calls.insert(t.id.clone());
                }
            }
        }
    }

    /// Writes one IR message's blocks (or a response's) as items, following `layout` when it
    /// still fits the blocks, else one message item per run of content parts.
    pub(crate) fn write(
        &mut self,
        role: Role,
        role_name: &str,
        layout: Option<&Value>,
        blocks: &[Block],
    ) -> Result<(), Error> {
        if let Some(entries) = layout.and_then(|l| parse_layout(l, blocks)) {
            let mut pos = 0;
            for e in entries {
                let slice = &blocks[pos..pos + e.n];
                pos += e.n;
                match e.env {
                    Some(env) => self.message(role, role_name, Some(env), e.string, slice)?,
                    None => self.item(&slice[0])?,
                }
            }
            return Ok(());
        }
        let mut run_start = None;
        for (i, b) in blocks.iter().enumerate() {
            if is_part(b) {
                run_start.get_or_insert(i);
                continue;
            }
            if let Some(start) = run_start.take() {
                self.message(role, role_name, None, false, &blocks[start..i])?;
            }
            self.item(b)?;
        }
        if let Some(start) = run_start {
            self.message(role, role_name, None, false, &blocks[start..])?;
        }
        Ok(())
    }

    /// A deterministic item id for a response whose IR has none: `msg_<resp>_<output index>`.
    fn mint(&self, prefix: &str) -> Value {
        let suffix = self.resp_id.strip_prefix("resp_").unwrap_or(self.resp_id);
        Value::String(format!("{prefix}_{suffix}_{}", self.items.len()))
    }

    /// Sets `id` (from the IR's extras, or minted for a response) as the first field after
    /// `type`.
    fn put_id(&self, obj: &mut Map<String, Value>, extras: &crate::ir::Extras, prefix: &str) {
        if let Some(id) = field(extras, "id") {
            obj.insert("id".into(), id.clone());
        } else if self.target == Target::Response {
            obj.insert("id".into(), self.mint(prefix));
        }
    }

    fn message(
        &mut self,
        role: Role,
        role_name: &str,
        env: Option<&Map<String, Value>>,
        string: bool,
        blocks: &[Block],
    ) -> Result<(), Error> {
        let assistant = role == Role::Assistant;
        let mut obj = match env {
            Some(env) => env.clone(),
            None => {
                let mut m = Map::new();
                m.insert("type".into(), json!("message"));
                m
            }
        };
        if self.target == Target::Response {
            if !obj.contains_key("id") {
                obj.insert("id".into(), self.mint("msg"));
            }
            obj.entry("status").or_insert_with(|| json!("completed"));
        }
        obj.insert("role".into(), Value::String(role_name.to_string()));
        let content = match blocks {
            [Block::Text(t)] if string => Value::String(t.text.clone()),
            _ => {
                let mut parts = Vec::with_capacity(blocks.len());
                for b in blocks {
                    parts.push(encode_part(b, assistant)?);
                }
                Value::Array(parts)
            }
        };
        obj.insert("content".into(), content);
        self.items.push(Value::Object(obj));
        Ok(())
    }

    fn item(&mut self, block: &Block) -> Result<(), Error> {
        let value = match block {
            Block::ToolUse(t) => {
                self.signature_carrier(t);
                self.tool_call(t)?
            }
            Block::ToolResult(r) => self.tool_output(r)?,
            Block::Thinking(t) => match self.reasoning(t) {
                Some(v) => v,
                None => return Ok(()),
            },
            // Only Anthropic can read redacted thinking; no Responses form exists.
            Block::RedactedThinking(_) => return Ok(()),
            Block::Other(o) => verbatim(o)?,
            Block::Text(_) | Block::Image(_) | Block::Document(_) => {
                return self.message(Role::User, "user", None, false, std::slice::from_ref(block))
            }
        };
        self.items.push(value);
        Ok(())
    }

    /// For a client, a tool call's foreign signature as a reasoning item of its own right
    /// before the call (empty summary, the signature wrapped in `encrypted_content`): a
    /// `function_call` has no signature field, and a Gemini call's `thoughtSignature` must go
    /// back with the call (Gemini 3 rejects the turn without it). The client returns the item
    /// in its history and the Gemini encoder moves the signature onto the call that follows.
    fn signature_carrier(&mut self, t: &ToolUse) {
        let Some(sig) = &t.signature else {
            return;
        };
        if self.target != Target::Response || sig.family == DIALECT.family() {
            return;
        }
        let carrier = Thinking {
            signature: Some(sig.clone()),
            ..Thinking::default()
        };
        if let Some(item) = self.reasoning(&carrier) {
            self.items.push(item);
        }
    }

    fn tool_call(&self, t: &ToolUse) -> Result<Value, Error> {
        let (kind, prefix) = match t.kind {
            ToolCallKind::Function => ("function_call", "fc"),
            ToolCallKind::Custom => ("custom_tool_call", "ctc"),
            ToolCallKind::Server => return Err(Error::unsupported("server tool call", DIALECT)),
        };
        let mut obj = Map::new();
        obj.insert("type".into(), json!(kind));
        self.put_id(&mut obj, &t.extras, prefix);
        if self.target == Target::Response {
            obj.insert(
                "status".into(),
                field(&t.extras, "status")
                    .cloned()
                    .unwrap_or(json!("completed")),
            );
        }
        obj.insert("call_id".into(), json!(ids::responses_call_id(&t.id)));
        obj.insert("name".into(), json!(t.name));
        if t.kind == ToolCallKind::Custom {
            let input = json::arguments_text(&t.input, ToolCallKind::Custom);
            obj.insert("input".into(), Value::String(input));
        } else {
            obj.insert("arguments".into(), Value::String(arguments(t)));
        }
        merge_wire_fields(&t.extras, &mut obj, &[]);
        Ok(Value::Object(obj))
    }

    fn tool_output(&self, r: &ToolResult) -> Result<Value, Error> {
        let custom = self.custom_calls.contains(&r.tool_use_id) || flag(&r.extras, "$custom");
        let kind = if custom {
            "custom_tool_call_output"
        } else {
            "function_call_output"
        };
        let as_parts =
            flag(&r.extras, "$parts") || r.content.iter().any(|b| !matches!(b, Block::Text(_)));
        let output = if as_parts {
            let mut parts = Vec::with_capacity(r.content.len());
            for b in &r.content {
                parts.push(encode_part(b, false)?);
            }
            Value::Array(parts)
        } else {
            Value::String(r.text())
        };
        let mut obj = Map::new();
        obj.insert("type".into(), json!(kind));
        obj.insert(
            "call_id".into(),
            json!(ids::responses_call_id(&r.tool_use_id)),
        );
        obj.insert("output".into(), output);
        merge_wire_fields(&r.extras, &mut obj, &[]);
        Ok(Value::Object(obj))
    }

    /// A reasoning item, or `None` when a request cannot carry it: the upstream verifies
    /// `encrypted_content`, so only OpenAI-minted signatures go up; a block without one goes
    /// only when it is a reasoning item a Responses client sent by id (stored upstream).
    fn reasoning(&self, t: &Thinking) -> Option<Value> {
        let encrypted = match self.target {
            Target::Request => match &t.signature {
                Some(sig) if sig.family == Family::OpenAi => Some(sig.value.clone()),
                Some(_) => return None,
                None if field(&t.extras, "id").is_some() => None,
                None => return None,
            },
            Target::Response => t
                .signature
                .as_ref()
                .map(|s| signature::to_wire(s, DIALECT.family())),
        };
        let mut obj = Map::new();
        obj.insert("type".into(), json!("reasoning"));
        self.put_id(&mut obj, &t.extras, "rs");
        obj.insert("summary".into(), summary(t));
        if let Some(e) = encrypted {
            obj.insert("encrypted_content".into(), Value::String(e));
        }
        merge_wire_fields(&t.extras, &mut obj, &["summary"]);
        Some(Value::Object(obj))
    }
}

/// The argument text: the original when it still says the same thing (whitespace and key
/// order survive a same-dialect round trip), else the IR input serialized.
fn arguments(t: &ToolUse) -> String {
    if let Some(raw) = field(&t.extras, "$arguments").and_then(Value::as_str) {
        if json::parse_arguments(raw, t.kind) == t.input {
            return raw.to_string();
        }
    }
    json::arguments_text(&t.input, t.kind)
}

/// The summary parts: the originals when their text is still the block's, else one part.
fn summary(t: &Thinking) -> Value {
    if let Some(Value::Array(orig)) = field(&t.extras, "summary") {
        let texts: Vec<&str> = orig
            .iter()
            .map(|p| p.get("text").and_then(Value::as_str).unwrap_or_default())
            .collect();
        if texts.join("\n\n") == t.text {
            return Value::Array(orig.clone());
        }
    }
    if t.text.is_empty() {
        return json!([]);
    }
    json!([{"type": "summary_text", "text": t.text}])
}

fn verbatim(o: &Other) -> Result<Value, Error> {
    match own(&o.extras) {
        Some(fields) => Ok(Value::Object(fields.clone())),
        None => Err(Error::unsupported(format!("{} content", o.kind), DIALECT)),
    }
}

/// One content part of a message or a tool output.
pub(crate) fn encode_part(block: &Block, assistant: bool) -> Result<Value, Error> {
    match block {
        Block::Text(t) => Ok(text_part(t, assistant)),
        Block::Image(i) => image_part(i, assistant),
        Block::Document(d) => file_part(d, assistant),
        Block::Other(o) => verbatim(o),
        Block::ToolUse(_) => Err(Error::unsupported("tool call inside content", DIALECT)),
        Block::ToolResult(_) => Err(Error::unsupported("tool result inside content", DIALECT)),
        Block::Thinking(_) | Block::RedactedThinking(_) => {
            Err(Error::unsupported("thinking inside content", DIALECT))
        }
    }
}

fn text_part(t: &Text, assistant: bool) -> Value {
    let mut obj = Map::new();
    if flag(&t.extras, "$refusal") {
        obj.insert("type".into(), json!("refusal"));
        obj.insert("refusal".into(), json!(t.text));
    } else {
        let default = if assistant {
            "output_text"
        } else {
            "input_text"
        };
        let kind = field(&t.extras, "$part")
            .and_then(Value::as_str)
            .unwrap_or(default);
        obj.insert("type".into(), json!(kind));
        obj.insert("text".into(), json!(t.text));
        if kind == "output_text" && !flag(&t.extras, "$no_annotations") {
            let annotations: Vec<Value> = t.citations.iter().filter_map(encode_citation).collect();
            obj.insert("annotations".into(), Value::Array(annotations));
        }
    }
    merge_wire_fields(&t.extras, &mut obj, &[]);
    Value::Object(obj)
}

/// An annotation for a citation. A `url_citation` needs a URL (citations of documents from
/// another dialect have none and are dropped); missing indices and title become 0 and "" as
/// the SDK's model requires them.
pub(crate) fn encode_citation(c: &Citation) -> Option<Value> {
    if let Some(raw) = field(&c.extras, "$raw") {
        return Some(raw.clone());
    }
    let kind = field(&c.extras, "type")
        .and_then(Value::as_str)
        .unwrap_or("url_citation");
    let mut obj = Map::new();
    obj.insert("type".into(), json!(kind));
    if kind == "url_citation" {
        let url = c.url.as_ref()?;
        obj.insert("start_index".into(), json!(c.start.unwrap_or(0)));
        obj.insert("end_index".into(), json!(c.end.unwrap_or(0)));
        obj.insert("url".into(), json!(url));
        obj.insert("title".into(), json!(c.title.clone().unwrap_or_default()));
    } else {
        for (key, value) in [("url", &c.url), ("title", &c.title)] {
            if let Some(v) = value {
                obj.insert(key.into(), json!(v));
            }
        }
        for (key, value) in [("start_index", c.start), ("end_index", c.end)] {
            if let Some(v) = value {
                obj.insert(key.into(), json!(v));
            }
        }
    }
    merge_wire_fields(&c.extras, &mut obj, &[]);
    Some(Value::Object(obj))
}

fn image_part(i: &Image, assistant: bool) -> Result<Value, Error> {
    if assistant {
        return Err(Error::unsupported("image in an assistant message", DIALECT));
    }
    let mut obj = Map::new();
    obj.insert("type".into(), json!("input_image"));
    match &i.source {
        MediaSource::Base64 { media_type, data } => {
            obj.insert("image_url".into(), json!(data_url(media_type, data)));
        }
        MediaSource::Url { url, .. } => {
            obj.insert("image_url".into(), json!(url));
        }
        MediaSource::File { file_id, .. } => {
            obj.insert("file_id".into(), json!(file_id));
        }
        MediaSource::Text { .. } => {
            return Err(Error::unsupported("plain-text image source", DIALECT))
        }
    }
    if let Some(detail) = &i.detail {
        obj.insert("detail".into(), json!(detail));
    }
    merge_wire_fields(&i.extras, &mut obj, &[]);
    Ok(Value::Object(obj))
}

fn file_part(d: &Document, assistant: bool) -> Result<Value, Error> {
    if assistant {
        return Err(Error::unsupported(
            "document in an assistant message",
            DIALECT,
        ));
    }
    let mut obj = Map::new();
    obj.insert("type".into(), json!("input_file"));
    match &d.source {
        MediaSource::Base64 { media_type, data } => {
            let value = if flag(&d.extras, "$raw_data") {
                data.clone()
            } else {
                data_url(media_type, data)
            };
            obj.insert("file_data".into(), json!(value));
        }
        MediaSource::Url { url, .. } => {
            obj.insert("file_url".into(), json!(url));
        }
        MediaSource::File { file_id, .. } => {
            obj.insert("file_id".into(), json!(file_id));
        }
        MediaSource::Text { .. } => return Err(Error::unsupported("plain-text document", DIALECT)),
    }
    if let Some(name) = d.filename.as_ref().or(d.title.as_ref()) {
        obj.insert("filename".into(), json!(name));
    }
    merge_wire_fields(&d.extras, &mut obj, &[]);
    Ok(Value::Object(obj))
}
