//! Responses request bodies to and from the IR: top-level fields, text format and reasoning;
//! the items of `input` go through [`super::items`], tools through [`super::tools`]. Fields with no IR
//! home stay in the request's extras and come back only to Responses. Refuses (rather than
//! drops) what changes the output and has no Responses form: stop sequences, `n > 1`.

use serde_json::{json, Map, Value};

use super::items::{self, compact_layout, decode_item, field, flag, ItemWriter, Side, Target};
use super::tools::{decode_tool_choice, decode_tools, encode_tool_choice, encode_tools};
use super::wire::{self, from_value};
use crate::ir::{
    self, Block, Effort, Message, Reasoning, ReasoningMode, ResponseFormat, Role, SystemBlock,
};
use crate::{json, Dialect, EncodeOptions, Error};

const DIALECT: Dialect = Dialect::Responses;

pub fn decode_request(body: &[u8]) -> Result<ir::Request, Error> {
    // Items are decoded from buffered values, plainly first (see `json::plain_first`).
    json::plain_first(|| decode_request_pass(body))
}

fn decode_request_pass(body: &[u8]) -> Result<ir::Request, Error> {
    let w: wire::Request = json::decode(body)?;
    let mut notes = w.extra;
    let messages = match w.input {
        None => Vec::new(),
        Some(wire::Input::Text(s)) => {
            notes.insert("$input_string".into(), Value::Bool(true));
            vec![Message::new(Role::User, vec![Block::text(s)])]
        }
        Some(wire::Input::Items(list)) => decode_messages(list)?,
    };
    let tools = match w.tools {
        Some(list) => decode_tools(list)?,
        None => Vec::new(),
    };
    let tool_choice = w
        .tool_choice
        .and_then(|v| decode_tool_choice(v, &mut notes));
    let response_format = match w.text {
        Some(text) => decode_text(text, &mut notes)?,
        None => None,
    };
    let reasoning = w.reasoning.map(|r| decode_reasoning(r, &mut notes));
    if w.stream == Some(false) {
        notes.insert("$stream_false".into(), Value::Bool(true));
    }
    Ok(ir::Request {
        model: w.model.unwrap_or_default(),
        system: w
            .instructions
            .map(|s| vec![SystemBlock::new(s)])
            .unwrap_or_default(),
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: w.parallel_tool_calls,
        sampling: ir::Sampling {
            max_tokens: w.max_output_tokens,
            temperature: w.temperature,
            top_p: w.top_p,
            ..ir::Sampling::default()
        },
        response_format,
        reasoning,
        metadata: ir::Metadata {
            user_id: w.user,
            session_id: w.prompt_cache_key,
        },
        stream: w.stream.unwrap_or(false),
        // The Responses API always reports usage, streamed or not.
        include_usage: true,
        store: w.store,
        previous_response_id: w.previous_response_id,
        extras: items::extras(notes),
    })
}

/// Items into IR messages: consecutive assistant-side items (message, reasoning, calls) form
/// one assistant message; consecutive tool outputs form one user message, and a user message
/// right after them joins it; system and developer messages stay in place.
fn decode_messages(list: Vec<Value>) -> Result<Vec<Message>, Error> {
    let mut messages: Vec<Message> = Vec::new();
    let mut layouts: Vec<Vec<Value>> = Vec::new();
    let mut roles: Vec<Option<String>> = Vec::new();
    let mut last: Option<Side> = None;
    for (i, value) in list.into_iter().enumerate() {
        let d = decode_item(value, &format!("input[{i}]"))?;
        let merge = matches!(
            (last, d.side),
            (Some(Side::Assistant), Side::Assistant)
                | (Some(Side::ToolOutput), Side::ToolOutput)
                | (Some(Side::ToolOutput), Side::User)
        );
        last = Some(d.side);
        match (merge, messages.last_mut(), layouts.last_mut()) {
            (true, Some(m), Some(l)) => {
                m.content.extend(d.blocks);
                l.push(d.layout);
            }
            _ => {
                let role = match d.side {
                    Side::System => Role::System,
                    Side::User | Side::ToolOutput => Role::User,
                    Side::Assistant => Role::Assistant,
                };
                messages.push(Message::new(role, d.blocks));
                layouts.push(vec![d.layout]);
                roles.push(d.role);
            }
        }
    }
    forget_known_custom_outputs(&mut messages);
    for ((m, layout), role) in messages.iter_mut().zip(layouts).zip(roles) {
        let mut notes = Map::new();
        if let Some(layout) = compact_layout(layout) {
            notes.insert("layout".into(), layout);
        }
        if role.as_deref() == Some("system") {
            notes.insert("role".into(), json!("system"));
        }
        m.extras = items::extras(notes);
    }
    Ok(messages)
}

/// A `custom_tool_call_output` is noted `$custom` so it goes back as one even when its call is
/// not in the input (`previous_response_id`); when the call is there, the note is redundant.
fn forget_known_custom_outputs(messages: &mut [Message]) {
    let mut custom_calls = std::collections::HashSet::new();
    for m in messages.iter() {
        for b in &m.content {
            if let Block::ToolUse(t) = b {
                if t.kind == ir::ToolCallKind::Custom {
                    custom_calls.insert(t.id.clone());
                }
            }
        }
    }
    for m in messages.iter_mut() {
        for b in &mut m.content {
            if let Block::ToolResult(r) = b {
                if custom_calls.contains(&r.tool_use_id) && r.extras.dialect.is_some() {
                    r.extras.fields.remove("$custom");
                    if r.extras.fields.is_empty() {
                        r.extras = ir::Extras::default();
                    }
                }
            }
        }
    }
}

fn decode_text(
    text: wire::TextConfig,
    notes: &mut Map<String, Value>,
) -> Result<Option<ResponseFormat>, Error> {
    let Some(format) = text.format else {
        notes.insert("$text".into(), Value::Object(text.extra));
        return Ok(None);
    };
    if !text.extra.is_empty() {
        notes.insert("$text".into(), Value::Object(text.extra));
    }
    let mut rest = match format {
        Value::Object(m) => m,
        other => {
            notes.insert("$format".into(), other);
            return Ok(None);
        }
    };
    let kind = rest.get("type").and_then(Value::as_str).map(str::to_string);
    let rf = match kind.as_deref() {
        Some("text") => ResponseFormat::Text,
        Some("json_object") => ResponseFormat::JsonObject,
        Some("json_schema") => {
            let f: wire::JsonSchemaFormat = from_value(Value::Object(rest), "text.format")?;
            rest = f.extra;
            ResponseFormat::JsonSchema {
                name: f.name,
                schema: f.schema.into(),
                strict: f.strict,
            }
        }
        _ => {
            notes.insert("$format".into(), Value::Object(rest));
            return Ok(None);
        }
    };
    rest.remove("type");
    if !rest.is_empty() {
        notes.insert("$format_extra".into(), Value::Object(rest));
    }
    Ok(Some(rf))
}

/// `effort: "none"` turns reasoning off; unknown effort names stay verbatim in the notes.
/// `generate_summary` (the legacy spelling) counts as `summary` and is re-emitted as given.
fn decode_reasoning(r: wire::ReasoningConfig, notes: &mut Map<String, Value>) -> Reasoning {
    let mut rest = r.extra;
    let (mode, effort) = match r.effort.as_deref() {
        None => (ReasoningMode::Enabled, None),
        Some("none") => (ReasoningMode::Disabled, None),
        Some(s) => match Effort::parse(s) {
            Some(e) => (ReasoningMode::Enabled, Some(e)),
            None => {
                rest.insert("effort".into(), json!(s));
                (ReasoningMode::Enabled, None)
            }
        },
    };
    let legacy = rest.get("generate_summary").and_then(Value::as_str);
    let summary = r.summary.or_else(|| legacy.map(str::to_string));
    let include_thoughts = summary.is_some().then_some(true);
    if !rest.is_empty() {
        notes.insert("$reasoning".into(), Value::Object(rest));
    }
    Reasoning {
        mode,
        effort,
        budget_tokens: None,
        include_thoughts,
        summary,
    }
}

pub fn encode_request(req: &ir::Request, opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    if req.sampling.n.is_some_and(|n| n > 1) {
        return Err(Error::unsupported("n > 1 (several choices)", DIALECT));
    }
    if !req.sampling.stop.is_empty() {
        return Err(Error::unsupported("stop sequences", DIALECT));
    }
    // top_k, seed, presence/frequency penalties: the Responses API has no such fields; they
    // are sampling hints and are dropped (listed in the README's loss table).
    let mut w = wire::Request {
        model: Some(opts.model(req))
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        instructions: encode_system(&req.system),
        input: encode_input(req)?,
        tools: encode_tools(&req.tools)?,
        tool_choice: encode_tool_choice(req),
        parallel_tool_calls: req.parallel_tool_calls,
        max_output_tokens: opts.max_tokens(req),
        temperature: req.sampling.temperature,
        top_p: req.sampling.top_p,
        text: encode_text(req)?,
        reasoning: req
            .reasoning
            .as_ref()
            .map(|r| encode_reasoning(r, &req.extras)),
        user: req.metadata.user_id.clone(),
        prompt_cache_key: req.metadata.session_id.clone(),
        store: req.store,
        previous_response_id: req.previous_response_id.clone(),
        stream: if req.stream {
            Some(true)
        } else if flag(&req.extras, "$stream_false") {
            Some(false)
        } else {
            None
        },
        extra: Map::new(),
    };
    let named = wire::to_value(&w);
    let mut extra = Map::new();
    items::merge_wire_fields(&req.extras, &mut extra, &[]);
    extra.retain(|k, _| named.get(k).is_none());
    w.extra = extra;
    Ok(json::encode(&w))
}

/// System blocks joined with blank lines; cache markers have no Responses form and are
/// dropped.
fn encode_system(system: &[SystemBlock]) -> Option<String> {
    if system.is_empty() {
        return None;
    }
    let texts: Vec<&str> = system.iter().map(|b| b.text.as_str()).collect();
    Some(texts.join("\n\n"))
}

fn encode_input(req: &ir::Request) -> Result<Option<wire::Input>, Error> {
    if flag(&req.extras, "$input_string") {
        if let [m] = req.messages.as_slice() {
            if let (Role::User, [Block::Text(t)]) = (m.role, m.content.as_slice()) {
                return Ok(Some(wire::Input::Text(t.text.clone())));
            }
        }
    }
    if req.messages.is_empty() {
        return Ok(None);
    }
    let mut writer = ItemWriter::new(Target::Request, "");
    for m in &req.messages {
        writer.note_custom_calls(&m.content);
    }
    for m in &req.messages {
        let role_name = match m.role {
            Role::System => match field(&m.extras, "role").and_then(Value::as_str) {
                Some("system") => "system",
                _ => "developer",
            },
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        writer.write(m.role, role_name, field(&m.extras, "layout"), &m.content)?;
    }
    Ok(Some(wire::Input::Items(writer.items)))
}

fn encode_text(req: &ir::Request) -> Result<Option<wire::TextConfig>, Error> {
    let noted = field(&req.extras, "$text").and_then(Value::as_object);
    let format = match &req.response_format {
        Some(rf) => {
            let mut m = Map::new();
            match rf {
                ResponseFormat::Text => {
                    m.insert("type".into(), json!("text"));
                }
                ResponseFormat::JsonObject => {
                    m.insert("type".into(), json!("json_object"));
                }
                ResponseFormat::JsonSchema {
                    name,
                    schema,
                    strict,
                } => {
                    m.insert("type".into(), json!("json_schema"));
                    // `name` is required by the API; schemas from dialects without one get a
                    // fixed name.
                    m.insert("name".into(), json!(name.as_deref().unwrap_or("response")));
                    let schema = json::schema_value(schema, || "text.format.schema".into())?;
                    m.insert("schema".into(), schema);
                    if let Some(strict) = strict {
                        m.insert("strict".into(), json!(strict));
                    }
                }
            }
            if let Some(extra) = field(&req.extras, "$format_extra").and_then(Value::as_object) {
                for (k, v) in extra {
                    m.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            Some(Value::Object(m))
        }
        None => field(&req.extras, "$format").cloned(),
    };
    if format.is_none() && noted.is_none() {
        return Ok(None);
    }
    Ok(Some(wire::TextConfig {
        format,
        extra: noted.cloned().unwrap_or_default(),
    }))
}

/// Effort names: `max` is `xhigh`; a budget without an effort becomes the nearest effort;
/// `Disabled` is `effort: "none"`; `Adaptive` sends no effort (the model's default).
fn encode_reasoning(r: &Reasoning, extras: &ir::Extras) -> wire::ReasoningConfig {
    let mut rest = field(extras, "$reasoning")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let effort = match r.mode {
        ReasoningMode::Disabled => Some("none".to_string()),
        ReasoningMode::Enabled | ReasoningMode::Adaptive => r
            .effort
            .or_else(|| r.budget_tokens.map(Effort::from_budget))
            .map(|e| match e {
                Effort::Max => "xhigh".to_string(),
                e => e.as_str().to_string(),
            }),
    };
    let effort = effort.or_else(|| match rest.remove("effort") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    });
    let summary = if rest.contains_key("generate_summary") {
        None
    } else {
        r.summary
            .clone()
            .or_else(|| (r.include_thoughts == Some(true)).then(|| "auto".to_string()))
    };
    wire::ReasoningConfig {
        effort,
        summary,
        extra: rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responses::response::{self, decode_response_pass};

    /// Decodes `body` with one pass of each kind and through the public decoder: a plain pass
    /// that succeeds gives the tracked result, and the public result is always the tracked one.
    fn agree<T: PartialEq + std::fmt::Debug>(
        body: &[u8],
        pass: impl Fn(&[u8]) -> Result<T, Error>,
        public: impl Fn(&[u8]) -> Result<T, Error>,
    ) -> bool {
        let plain = json::in_pass(false, || pass(body));
        let tracked = json::in_pass(true, || pass(body));
        let text = String::from_utf8_lossy(body);
        if let Ok(plain) = &plain {
            assert_eq!(
                Some(plain),
                tracked.as_ref().ok(),
                "plain pass differs: {text}"
            );
        }
        assert_eq!(public(body), tracked, "public decode differs: {text}");
        plain.is_ok()
    }

    fn fixtures(kind: &str) -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/responses")
            .join(kind);
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            out.push(std::fs::read(entry.expect("a fixture").path()).expect("readable"));
        }
        out
    }

    #[test]
    fn plain_passes_read_every_fixture_as_the_tracked_pass_does() {
        for body in fixtures("requests") {
            assert!(agree(&body, decode_request_pass, decode_request));
        }
        for body in fixtures("responses") {
            assert!(agree(
                &body,
                decode_response_pass,
                response::decode_response
            ));
        }
    }

    #[test]
    fn odd_input_and_content_forms_fail_with_the_tracked_error() {
        for body in [
            r#"{"model":"m","input":5}"#,
            r#"{"model":"m","input":{"a":1}}"#,
            r#"{"model":"m","input":null}"#,
            r#"{"model":"m","input":" hi "}"#,
            r#"{"model":"m","input":[{"type":"message","role":"user","content":7}]}"#,
            r#"{"model":"m","input":[{"type":"message","role":"user","content":" a\n"}]}"#,
            r#"{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":1}]}"#,
        ] {
            agree(body.as_bytes(), decode_request_pass, decode_request);
        }
        let error = decode_request(br#"{"model":"m","input":5}"#).unwrap_err();
        assert!(error.to_string().contains("untagged enum Input"), "{error}");
    }

    #[test]
    fn every_cut_and_corruption_of_a_request_is_read_as_the_tracked_pass_reads_it() {
        // Every input form the plain pass reads differently: a message with parts, a call, its
        // output, reasoning; a tool.
        let text = r#"{"model":"m","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"a"}]},{"type":"reasoning","id":"r","summary":[{"type":"summary_text","text":"s"}]},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"ok"}],"tools":[{"type":"function","name":"f","parameters":{}}]}"#;
        assert!(agree(text.as_bytes(), decode_request_pass, decode_request));
        for variant in crate::scan::cuts_and_corruptions(&[text]) {
            agree(variant.as_bytes(), decode_request_pass, decode_request);
        }
    }
}
