//! Anthropic Messages requests ↔ IR requests. Decoding keeps every field and wire form a
//! same-dialect round trip needs (in extras, via the markers of `content.rs`); encoding
//! produces a body the API accepts: system messages hoisted into `system`, consecutive
//! same-role messages merged, empty text and unsigned thinking left out, `max_tokens`
//! always set, and an `Error::Unsupported` for anything it cannot carry. It does not touch
//! content blocks one by one (that is `content.rs`).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::content::{self, marker, marker_map, Target, STRING_FORM};
use super::wire::{self, OneOrMany};
use crate::ir::{self, Block, Effort, ReasoningMode, ResponseFormat, Role, ToolChoice, ToolKind};
use crate::{json, Dialect, EncodeOptions, Error};

const D: Dialect = Dialect::Anthropic;

/// Markers in `Request::extras` (see `content::MARK`).
const SYSTEM_STRING: &str = "switchyard.system_string";
/// `output_config.effort` was given, so it goes back as given.
const EFFORT_GIVEN: &str = "switchyard.effort";
/// Effort was given without `thinking`: no `thinking` goes back.
const NO_THINKING: &str = "switchyard.no_thinking";
/// Unknown fields of the nested objects, by object.
const THINKING_EXTRA: &str = "switchyard.thinking";
const TOOL_CHOICE_EXTRA: &str = "switchyard.tool_choice";
const METADATA_EXTRA: &str = "switchyard.metadata";
const OUTPUT_CONFIG_EXTRA: &str = "switchyard.output_config";
const FORMAT_EXTRA: &str = "switchyard.output_format";

fn keep_nested(extra: &mut Map<String, Value>, key: &str, nested: Map<String, Value>) {
    if !nested.is_empty() {
        extra.insert(key.into(), Value::Object(nested));
    }
}

pub fn decode_request(body: &[u8]) -> Result<ir::Request, Error> {
    let w: wire::Request = json::decode(body)?;
    let mut extra = w.extra;
    // Explicit empty or default values the IR cannot tell from absent ones go back as given
    // (see `wire.rs` on how `extra` yields to typed fields).
    for (key, empty) in [
        ("tools", w.tools.as_ref().is_some_and(Vec::is_empty)),
        (
            "stop_sequences",
            w.stop_sequences.as_ref().is_some_and(Vec::is_empty),
        ),
        (
            "system",
            matches!(&w.system, Some(OneOrMany::Blocks(b)) if b.is_empty()),
        ),
    ] {
        if empty {
            extra.insert(key.into(), Value::Array(Vec::new()));
        }
    }
    if w.stream == Some(false) {
        extra.insert("stream".into(), Value::Bool(false));
    }
    let mut req = ir::Request {
        model: w.model,
        stream: w.stream.unwrap_or(false),
        // Anthropic always reports usage in streams.
        include_usage: true,
        sampling: ir::Sampling {
            max_tokens: w.max_tokens,
            temperature: w.temperature,
            top_p: w.top_p,
            top_k: w.top_k,
            stop: w.stop_sequences.unwrap_or_default(),
            ..ir::Sampling::default()
        },
        ..ir::Request::default()
    };

    match w.system {
        None => {}
        Some(OneOrMany::Text(s)) => {
            extra.insert(SYSTEM_STRING.into(), Value::Bool(true));
            req.system.push(ir::SystemBlock::new(s));
        }
        Some(OneOrMany::Blocks(blocks)) => {
            for (i, b) in blocks.into_iter().enumerate() {
                if b.kind != "text" {
                    return Err(Error::invalid(
                        format!("system[{i}].type"),
                        "expected \"text\"",
                    ));
                }
                req.system.push(ir::SystemBlock {
                    text: b.text,
                    cache_control: content::cache_from_wire(b.cache_control),
                    extras: content::extras(b.extra),
                });
            }
        }
    }

    for m in w.messages {
        let (blocks, string_form) = content::decode_content(m.content);
        let mut fields = m.extra;
        if string_form {
            fields.insert(STRING_FORM.into(), Value::Bool(true));
        }
        let role = match m.role {
            wire::Role::User => Role::User,
            wire::Role::Assistant => Role::Assistant,
            wire::Role::System => Role::System,
        };
        req.messages.push(ir::Message {
            role,
            content: blocks,
            extras: content::extras(fields),
        });
    }

    for (i, t) in w.tools.unwrap_or_default().into_iter().enumerate() {
        req.tools.push(decode_tool(i, t)?);
    }

    if let Some(tc) = w.tool_choice {
        req.tool_choice = Some(match tc.kind.as_str() {
            "auto" => ToolChoice::Auto,
            "any" => ToolChoice::Any,
            "none" => ToolChoice::None,
            "tool" => ToolChoice::Tool(tc.name.ok_or_else(|| Error::Decode {
                path: "tool_choice.name".into(),
                message: "missing field `name`".into(),
            })?),
            other => {
                return Err(Error::invalid(
                    "tool_choice.type",
                    format!("unknown tool choice {other:?}"),
                ))
            }
        });
        req.parallel_tool_calls = tc.disable_parallel_tool_use.map(|d| !d);
        keep_nested(&mut extra, TOOL_CHOICE_EXTRA, tc.extra);
    }

    if let Some(meta) = w.metadata {
        req.metadata.user_id = meta.user_id;
        keep_nested(&mut extra, METADATA_EXTRA, meta.extra);
    }

    let mut effort = None;
    if let Some(oc) = w.output_config {
        let mut oc_extra = oc.extra;
        match oc.effort.map(|s| (Effort::parse(&s), s)) {
            Some((Some(e), _)) => effort = Some(e),
            // An effort name we do not know goes back verbatim.
            Some((None, s)) => {
                oc_extra.insert("effort".into(), s.into());
            }
            None => {}
        }
        match oc.format {
            Some(wire::OutputFormat {
                extra: f_extra,
                kind,
                schema: Some(schema),
            }) if kind == "json_schema" => {
                req.response_format = Some(ResponseFormat::JsonSchema {
                    name: None,
                    schema,
                    strict: None,
                });
                keep_nested(&mut extra, FORMAT_EXTRA, f_extra);
            }
            Some(f) => {
                if let Ok(v) = serde_json::to_value(&f) {
                    oc_extra.insert("format".into(), v);
                }
            }
            None => {}
        }
        keep_nested(&mut extra, OUTPUT_CONFIG_EXTRA, oc_extra);
    }

    let mut thinking = None;
    if let Some(t) = w.thinking {
        let mode = match t.kind.as_str() {
            "enabled" => Some(ReasoningMode::Enabled),
            "disabled" => Some(ReasoningMode::Disabled),
            "adaptive" => Some(ReasoningMode::Adaptive),
            _ => None,
        };
        match mode {
            Some(mode) => {
                thinking = Some((mode, t.budget_tokens));
                keep_nested(&mut extra, THINKING_EXTRA, t.extra);
            }
            // A thinking type we do not know goes back verbatim, outside the IR.
            None => {
                if let Ok(v) = serde_json::to_value(&t) {
                    extra.insert("thinking".into(), v);
                }
            }
        }
    }
    // Adaptive thinking always sends its effort back; other modes only when it was given.
    let adaptive = matches!(thinking, Some((ReasoningMode::Adaptive, _)));
    if effort.is_some() && !adaptive {
        extra.insert(EFFORT_GIVEN.into(), Value::Bool(true));
        if thinking.is_none() {
            extra.insert(NO_THINKING.into(), Value::Bool(true));
        }
    }
    if thinking.is_some() || effort.is_some() {
        let (mode, budget_tokens) = thinking.unwrap_or((ReasoningMode::Enabled, None));
        req.reasoning = Some(ir::Reasoning {
            mode,
            effort,
            budget_tokens,
            ..ir::Reasoning::default()
        });
    }

    req.extras = content::extras(extra);
    Ok(req)
}

/// A custom tool becomes a function; a server tool (a versioned `type`) is kept whole as a
/// provider tool only this dialect can send.
fn decode_tool(i: usize, t: wire::Tool) -> Result<ir::Tool, Error> {
    let server_type = match t.extra.get("type") {
        Some(Value::String(s)) if s != "custom" => Some(s.clone()),
        _ => None,
    };
    if let Some(kind) = server_type {
        let whole = json::whole_object(&t, &format!("tools[{i}]"))?;
        return Ok(ir::Tool {
            name: t.name.into_owned(),
            description: None,
            kind: ToolKind::Provider { kind },
            cache_control: None,
            extras: content::extras(whole),
        });
    }
    let Some(parameters) = t.input_schema.map(Cow::into_owned) else {
        return Err(Error::Decode {
            path: format!("tools[{i}].input_schema"),
            message: "missing field `input_schema`".into(),
        });
    };
    Ok(ir::Tool {
        name: t.name.into_owned(),
        description: t.description.map(Cow::into_owned),
        kind: ToolKind::Function {
            parameters,
            strict: t.strict,
        },
        cache_control: content::cache_from_wire(t.cache_control),
        extras: content::extras(t.extra),
    })
}

pub fn encode_request(req: &ir::Request, opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    if req.sampling.n.is_some_and(|n| n > 1) {
        return Err(Error::unsupported("multiple choices (n > 1)", D));
    }
    if req.previous_response_id.is_some() {
        return Err(Error::unsupported("previous_response_id", D));
    }
    let e = &req.extras;
    let mut tools = Vec::with_capacity(req.tools.len());
    for t in &req.tools {
        tools.push(encode_tool(t)?);
    }
    let messages = encode_messages(&req.messages)?;
    let tool_choice = encode_tool_choice(req);
    let refused = thinking_refused(tool_choice.as_ref(), &messages);
    let max_tokens = encode_max_tokens(req, opts, refused);
    let (mut thinking, effort) = encode_reasoning(req, max_tokens);
    if refused {
        thinking = thinking.filter(|t| t.kind == "disabled");
    }
    let format = match &req.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => {
            return Err(Error::unsupported("json_object response format", D))
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => Some(wire::OutputFormat {
            extra: marker_map(e, FORMAT_EXTRA),
            kind: "json_schema".into(),
            schema: Some(schema.clone()),
        }),
    };
    let oc_extra = marker_map(e, OUTPUT_CONFIG_EXTRA);
    let output_config = (effort.is_some() || format.is_some() || !oc_extra.is_empty()).then(|| {
        wire::OutputConfig {
            extra: oc_extra,
            effort,
            format,
        }
    });
    let meta_extra = marker_map(e, METADATA_EXTRA);
    let metadata =
        (req.metadata.user_id.is_some() || !meta_extra.is_empty()).then(|| wire::Metadata {
            extra: meta_extra,
            user_id: req.metadata.user_id.clone(),
        });
    let w = wire::Request {
        extra: content::wire_extra(e),
        model: opts.model(req).to_owned(),
        max_tokens: Some(max_tokens),
        messages,
        system: encode_system(req)?,
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        temperature: req.sampling.temperature,
        top_p: req.sampling.top_p,
        top_k: req.sampling.top_k,
        stop_sequences: (!req.sampling.stop.is_empty()).then(|| req.sampling.stop.clone()),
        stream: req.stream.then_some(true),
        metadata,
        thinking,
        output_config,
    };
    Ok(wire::to_bytes(&w))
}

fn block_kind(b: &Block) -> &str {
    match b {
        Block::Text(_) => "text",
        Block::Image(_) => "image",
        Block::Document(_) => "document",
        Block::ToolUse(_) => "tool_use",
        Block::ToolResult(_) => "tool_result",
        Block::Thinking(_) => "thinking",
        Block::RedactedThinking(_) => "redacted_thinking",
        Block::Other(o) => &o.kind,
    }
}

/// The top-level system prompt, followed by the text of every `Role::System` message in
/// order: the API has no system role inside `messages`, so they are hoisted (an emulation:
/// their position in the conversation is lost). Empty text is left out.
fn encode_system(req: &ir::Request) -> Result<Option<OneOrMany<wire::SystemBlock>>, Error> {
    let mut blocks = Vec::new();
    for b in &req.system {
        if !b.text.is_empty() {
            blocks.push(wire::SystemBlock {
                extra: content::wire_extra(&b.extras),
                kind: "text".into(),
                text: b.text.clone(),
                cache_control: content::cache_to_wire(&b.cache_control),
            });
        }
    }
    let top_level = blocks.len();
    for m in req.messages.iter().filter(|m| m.role == Role::System) {
        for b in &m.content {
            let Block::Text(t) = b else {
                let kind = block_kind(b);
                return Err(Error::unsupported(
                    format!("{kind} content in a system message"),
                    D,
                ));
            };
            if !t.text.is_empty() {
                blocks.push(wire::SystemBlock {
                    extra: content::wire_extra(&t.extras),
                    kind: "text".into(),
                    text: t.text.clone(),
                    cache_control: content::cache_to_wire(&t.cache_control),
                });
            }
        }
    }
    if blocks.is_empty() {
        return Ok(None);
    }
    let string_form = marker(&req.extras, SYSTEM_STRING).is_some();
    if string_form && top_level == 1 && blocks.len() == 1 {
        let b = &blocks[0];
        if b.cache_control.is_none() && b.extra.is_empty() {
            return Ok(Some(OneOrMany::Text(b.text.clone())));
        }
    }
    Ok(Some(OneOrMany::Blocks(blocks)))
}

/// The conversation without system messages (see [`encode_system`]), with consecutive
/// messages of one role merged (the API wants alternation) and messages left empty by the
/// block rules dropped.
fn encode_messages(messages: &[ir::Message]) -> Result<Vec<wire::Message>, Error> {
    let mut out: Vec<wire::Message> = Vec::with_capacity(messages.len());
    for m in messages {
        let role = match m.role {
            Role::System => continue,
            Role::User => wire::Role::User,
            Role::Assistant => wire::Role::Assistant,
        };
        let blocks = content::encode_blocks(&m.content, Target::Request)?;
        if blocks.is_empty() {
            continue;
        }
        if let Some(last) = out.last_mut().filter(|l| l.role == role) {
            let mut merged =
                match std::mem::replace(&mut last.content, OneOrMany::Blocks(Vec::new())) {
                    OneOrMany::Blocks(b) => b,
                    OneOrMany::Text(s) => vec![text_block(s)],
                };
            merged.extend(blocks);
            last.content = OneOrMany::Blocks(merged);
            continue;
        }
        let string_form = marker(&m.extras, STRING_FORM).is_some();
        let content = match blocks.as_slice() {
            [only] if string_form => match content::plain_text(only) {
                Some(text) => OneOrMany::Text(text.to_string()),
                None => OneOrMany::Blocks(blocks),
            },
            _ => OneOrMany::Blocks(blocks),
        };
        out.push(wire::Message {
            extra: content::wire_extra(&m.extras),
            role,
            content,
        });
    }
    Ok(out)
}

fn text_block(text: String) -> wire::Block {
    wire::Block::Known(wire::KnownBlock::Text(wire::TextBlock {
        extra: Map::new(),
        text,
        citations: None,
        cache_control: None,
    }))
}

fn encode_tool(t: &ir::Tool) -> Result<wire::Tool<'_>, Error> {
    match &t.kind {
        ToolKind::Function { parameters, strict } => Ok(wire::Tool {
            extra: content::wire_extra(&t.extras),
            name: Cow::Borrowed(&t.name),
            description: t.description.as_deref().map(Cow::Borrowed),
            // The API requires a schema; "no parameters" is an empty object schema.
            input_schema: Some(if parameters.is_null() {
                Cow::Owned(ir::RawJson::no_arguments())
            } else {
                Cow::Borrowed(parameters)
            }),
            strict: *strict,
            cache_control: content::cache_to_wire(&t.cache_control),
        }),
        ToolKind::Custom { .. } => Err(Error::unsupported("custom (free-form) tool", D)),
        ToolKind::Provider { kind } => match t.extras.for_dialect(D) {
            Some(fields) => serde_json::from_value(Value::Object(fields.clone()))
                .map_err(|err| Error::invalid(format!("tools.{}", t.name), err.to_string())),
            None => Err(Error::unsupported(format!("{kind} provider tool"), D)),
        },
    }
}

fn encode_tool_choice(req: &ir::Request) -> Option<wire::ToolChoice> {
    let disable = req.parallel_tool_calls.map(|p| !p);
    let (kind, name) = match &req.tool_choice {
        // Forbidding parallel calls needs a tool_choice object to say it in.
        None if disable == Some(true) => ("auto", None),
        None => return None,
        Some(ToolChoice::Auto) => ("auto", None),
        Some(ToolChoice::Any) => ("any", None),
        Some(ToolChoice::None) => ("none", None),
        Some(ToolChoice::Tool(n)) => ("tool", Some(n.clone())),
    };
    Some(wire::ToolChoice {
        extra: marker_map(&req.extras, TOOL_CHOICE_EXTRA),
        kind: kind.into(),
        name,
        disable_parallel_tool_use: disable,
    })
}

/// `max_tokens`, which the API requires: the client's limit, else the default. With no client
/// limit and a thinking budget at or above the default (a Gemini `thinkingBudget`, a high
/// effort), the budget is added to the default: Anthropic counts thinking in `max_tokens` and
/// wants `budget_tokens` below it.
fn encode_max_tokens(req: &ir::Request, opts: &EncodeOptions, thinking_refused: bool) -> u64 {
    let default = opts.default_max_tokens;
    if let Some(max) = opts.max_tokens(req) {
        return max;
    }
    let budget = req
        .reasoning
        .as_ref()
        .filter(|r| r.mode == ReasoningMode::Enabled && !thinking_refused)
        .map_or(0, wanted_budget);
    if budget >= default {
        budget.saturating_add(default)
    } else {
        default
    }
}

/// `thinking` and `output_config.effort`. Enabled thinking needs a budget: the IR's, or one
/// derived from the effort level, fitted to what the API accepts (see [`fit_budget`]). The
/// effort level itself is sent only when the client gave it in this dialect or with adaptive
/// thinking (older models reject `effort`; for them the budget carries it).
fn encode_reasoning(
    req: &ir::Request,
    max_tokens: u64,
) -> (Option<wire::Thinking>, Option<String>) {
    let Some(r) = &req.reasoning else {
        return (None, None);
    };
    let e = &req.extras;
    let thinking = if marker(e, NO_THINKING).is_some() {
        None
    } else {
        let mode = match r.mode {
            ReasoningMode::Enabled => {
                fit_budget(wanted_budget(r), max_tokens).map(|b| ("enabled", Some(b)))
            }
            ReasoningMode::Disabled => Some(("disabled", None)),
            ReasoningMode::Adaptive => Some(("adaptive", None)),
        };
        mode.map(|(kind, budget_tokens)| wire::Thinking {
            extra: marker_map(e, THINKING_EXTRA),
            kind: kind.into(),
            budget_tokens,
        })
    };
    let send_effort = marker(e, EFFORT_GIVEN).is_some() || r.mode == ReasoningMode::Adaptive;
    let effort = r.effort.filter(|_| send_effort).map(|eff| {
        match eff {
            // There is no "minimal"; "low" is the nearest level.
            Effort::Minimal | Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::Max => "max",
        }
        .to_string()
    });
    (thinking, effort)
}

/// The thinking budget asked for: the IR's, or the effort level's.
fn wanted_budget(r: &ir::Reasoning) -> u64 {
    r.budget_tokens
        .unwrap_or_else(|| r.effort.unwrap_or(Effort::Medium).budget_tokens())
}

/// Whether the API would reject thinking in this request: it may not be on when `tool_choice`
/// forces a tool, nor when the assistant turn whose tool calls the last user message answers
/// does not start with a thinking block (history from another dialect, whose thinking cannot
/// be sent here). Thinking is then not asked for: it is the hint that gives way.
fn thinking_refused(tool_choice: Option<&wire::ToolChoice>, messages: &[wire::Message]) -> bool {
    if tool_choice.is_some_and(|c| c.kind == "any" || c.kind == "tool") {
        return true;
    }
    fn blocks(m: &wire::Message) -> &[wire::Block] {
        match &m.content {
            OneOrMany::Blocks(b) => b,
            OneOrMany::Text(_) => &[],
        }
    }
    let [.., previous, last] = messages else {
        return false;
    };
    let answers_calls = matches!(last.role, wire::Role::User)
        && blocks(last)
            .iter()
            .any(|b| matches!(b, wire::Block::Known(wire::KnownBlock::ToolResult(_))));
    let starts_with_thinking = matches!(
        blocks(previous).first(),
        Some(wire::Block::Known(
            wire::KnownBlock::Thinking(_) | wire::KnownBlock::RedactedThinking(_)
        ))
    );
    answers_calls && matches!(previous.role, wire::Role::Assistant) && !starts_with_thinking
}

/// The smallest thinking budget the API accepts.
const MIN_BUDGET: u64 = 1024;

/// A thinking budget the API accepts (at least 1024 and below `max_tokens`) nearest to
/// `wanted`; `None` when `max_tokens` leaves no room for one, and thinking is then not asked
/// for (the client's output limit is kept; reasoning is the hint that gives way).
fn fit_budget(wanted: u64, max_tokens: u64) -> Option<u64> {
    (max_tokens > MIN_BUDGET).then(|| wanted.clamp(MIN_BUDGET, max_tokens - 1))
}
