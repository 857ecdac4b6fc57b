//! The assistant message, in requests (history) and in responses (`choices[0].message`):
//! `reasoning_content` (or `reasoning`), `content`, `refusal`, `tool_calls` and the legacy
//! `function_call`, to and from IR blocks.
//!
//! Chat Completions has no thinking input, so in requests a thinking block is re-emitted as
//! `reasoning_content` only when it came from this dialect (DeepSeek, vLLM and OpenRouter
//! histories carry it); any other thinking is dropped, with its signature, which chat cannot
//! carry anywhere. Responses always show thinking as `reasoning_content`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::form;
use super::messages::{kind_name, note_form};
use super::parts::{self, apply_form};
use super::wire::{self, CustomCall, FunctionCall, Part, ToolCall};
use crate::ir::{Block, Extras, Text, Thinking, ToolCallKind, ToolUse};
use crate::json::{arguments_text, parse_arguments};
use crate::{Dialect, Error};

const TARGET: Dialect = Dialect::OpenAiChat;

/// Tool calls seen so far in a conversation: names by id (results do not carry one) and
/// legacy `function_call`s awaiting their `function` result.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    names: HashMap<String, String>,
    legacy: Vec<(String, String)>,
}

impl Calls {
    pub(crate) fn name_of(&self, id: &str) -> Option<String> {
        self.names.get(id).cloned()
    }

    /// Legacy calls have no id; one is derived from the message's position so the same
    /// history always gives the same id.
    fn mint_legacy(&mut self, index: usize, name: &str) -> String {
        let id = format!("call_legacy_{index}");
        self.legacy.push((id.clone(), name.to_string()));
        self.names.insert(id.clone(), name.to_string());
        id
    }

    pub(crate) fn legacy_result_id(&mut self, name: &str, index: usize) -> String {
        match self.legacy.iter().rposition(|(_, n)| n == name) {
            Some(pos) => self.legacy.remove(pos).0,
            None => format!("call_legacy_{index}"),
        }
    }
}

/// Decodes an assistant message into blocks (thinking, content, refusal, tool calls) and the
/// message's remaining fields with their form notes.
pub(crate) fn decode(
    m: &wire::Message,
    path: &str,
    index: usize,
    calls: &mut Calls,
) -> Result<(Vec<Block>, wire::Extra), Error> {
    let mut fields = m.extra.clone();
    let mut blocks = Vec::new();
    for key in ["reasoning_content", "reasoning"] {
        if let Some(Value::String(s)) = fields.get(key) {
            if s.is_empty() {
                continue;
            }
            let text = s.clone();
            fields.remove(key);
            let mut notes = Map::new();
            form::set(&mut notes, "field", key.into());
            blocks.push(Block::Thinking(Thinking {
                text,
                signature: None,
                extras: form::extras(notes),
            }));
            break;
        }
    }
    blocks.extend(parts::decode_content(&m.content, false, path)?);
    let mut null_ok = false;
    if let Some(Value::String(s)) = fields.get("refusal") {
        let text = s.clone();
        fields.remove("refusal");
        let mut notes = Map::new();
        form::set(&mut notes, "field", "refusal".into());
        blocks.push(Block::Text(Text {
            text,
            extras: form::extras(notes),
            ..Text::default()
        }));
        null_ok = true;
    }
    if let Some(tcs) = &m.tool_calls {
        if tcs.is_empty() {
            form::set(&mut fields, "tool_calls", "empty".into());
        }
        for (j, tc) in tcs.iter().enumerate() {
            let call = decode_call(tc, &format!("{path}.tool_calls[{j}]"))?;
            calls.names.insert(call.id.clone(), call.name.clone());
            blocks.push(Block::ToolUse(call));
            null_ok = true;
        }
    }
    if let Some(Value::Object(fc)) = fields.get("function_call") {
        let name = fc
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let raw = fc
            .get("arguments")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut call_fields = fc.clone();
        call_fields.remove("name");
        call_fields.remove("arguments");
        form::set(&mut call_fields, "legacy", true.into());
        let input = parse_arguments(&raw, ToolCallKind::Function);
        note_arguments(&mut call_fields, &raw, &input, ToolCallKind::Function);
        fields.remove("function_call");
        blocks.push(Block::ToolUse(ToolUse {
            id: calls.mint_legacy(index, &name),
            name,
            input,
            kind: ToolCallKind::Function,
            signature: None,
            cache_control: None,
            extras: form::extras(call_fields),
        }));
        null_ok = true;
    }
    note_form(&mut fields, m, null_ok);
    Ok((blocks, fields))
}

fn decode_call(tc: &ToolCall, path: &str) -> Result<ToolUse, Error> {
    let mut fields = tc.extra.clone();
    let (name, raw, kind) = match tc.kind.as_str() {
        "custom" => {
            let c = tc.custom.as_ref().ok_or_else(|| Error::Decode {
                path: format!("{path}.custom"),
                message: "missing field `custom`".into(),
            })?;
            if !c.extra.is_empty() {
                form::set(&mut fields, "custom", Value::Object(c.extra.clone()));
            }
            (c.name.clone(), c.input.clone(), ToolCallKind::Custom)
        }
        _ => {
            let f = tc.function.as_ref().ok_or_else(|| Error::Decode {
                path: format!("{path}.function"),
                message: "missing field `function`".into(),
            })?;
            if tc.kind != "function" {
                form::set(&mut fields, "type", tc.kind.clone().into());
            }
            if !f.extra.is_empty() {
                form::set(&mut fields, "function", Value::Object(f.extra.clone()));
            }
            (f.name.clone(), f.arguments.clone(), ToolCallKind::Function)
        }
    };
    let input = parse_arguments(&raw, kind);
    note_arguments(&mut fields, &raw, &input, kind);
    Ok(ToolUse {
        id: tc.id.clone(),
        name,
        input,
        kind,
        signature: None,
        cache_control: None,
        extras: form::extras(fields),
    })
}

/// Keeps the exact argument text when re-serializing the parsed value would not give it back
/// (spaces, key order of duplicates, number spelling).
fn note_arguments(fields: &mut wire::Extra, raw: &str, input: &Value, kind: ToolCallKind) {
    if arguments_text(input, kind) != raw {
        form::set(fields, "arguments", raw.into());
    }
}

/// The argument text for a call: the noted original when it still means the same input.
pub(crate) fn call_arguments(u: &ToolUse) -> String {
    if let Some(raw) = form::get_str(&u.extras, "arguments") {
        if parse_arguments(raw, u.kind) == u.input {
            return raw.to_string();
        }
    }
    arguments_text(&u.input, u.kind)
}

/// Encodes assistant blocks. `response`: for `choices[].message`, where content is a string
/// and every thinking block is shown as `reasoning_content`.
pub(crate) fn encode(
    blocks: &[Block],
    extras: &Extras,
    response: bool,
) -> Result<wire::Message, Error> {
    let mut content: Vec<Part> = Vec::new();
    let mut reasoning: Option<(String, String)> = None;
    let mut refusal: Option<String> = None;
    let mut tool_calls = Vec::new();
    let mut legacy: Option<Value> = None;
    for b in blocks {
        match b {
            Block::Text(t) if form::get_str(&t.extras, "field") == Some("refusal") => {
                refusal.get_or_insert_with(String::new).push_str(&t.text);
            }
            Block::Text(t) => content.push(parts::text_part(t)),
            Block::Thinking(t) => {
                let field = form::get_str(&t.extras, "field");
                if response || field.is_some() {
                    let field = field.unwrap_or("reasoning_content").to_string();
                    let entry = reasoning.get_or_insert_with(|| (field, String::new()));
                    entry.1.push_str(&t.text);
                }
            }
            Block::RedactedThinking(_) => {}
            Block::ToolUse(u) => match u.kind {
                ToolCallKind::Server => {
                    return Err(Error::unsupported(
                        format!("server tool call `{}`", u.name),
                        TARGET,
                    ))
                }
                _ if form::get(&u.extras, "legacy").is_some() => {
                    let mut fc = form::fields(&u.extras);
                    fc.insert("name".into(), u.name.clone().into());
                    fc.insert("arguments".into(), call_arguments(u).into());
                    legacy = Some(Value::Object(fc));
                }
                _ => tool_calls.push(encode_call(u)),
            },
            Block::Other(o) => content.push(parts::encode_other(o)?),
            Block::Image(_) | Block::Document(_) => {
                return Err(Error::unsupported(
                    format!("{} content in an assistant message", kind_name(b)),
                    TARGET,
                ))
            }
            Block::ToolResult(_) => {
                return Err(Error::invalid(
                    "messages",
                    "tool result in an assistant message",
                ))
            }
        }
    }
    if response
        && content.len() > 1
        && content
            .iter()
            .all(|p| p.kind == "text" && p.extra.is_empty())
    {
        let joined: String = content.iter().filter_map(|p| p.text.as_deref()).collect();
        let mut p = Part::new("text");
        p.text = Some(joined);
        content = vec![p];
    }
    let null_ok = !tool_calls.is_empty() || refusal.is_some() || legacy.is_some();
    let mut extra = form::fields(extras);
    if let Some((field, text)) = reasoning {
        extra.insert(field, text.into());
    }
    if let Some(r) = refusal {
        extra.insert("refusal".into(), r.into());
    }
    if let Some(fc) = legacy {
        extra.insert("function_call".into(), fc);
    }
    let tool_calls = if tool_calls.is_empty() {
        (form::get_str(extras, "tool_calls") == Some("empty")).then(Vec::new)
    } else {
        Some(tool_calls)
    };
    Ok(wire::Message {
        role: "assistant".into(),
        content: apply_form(content, form::get_str(extras, "content"), null_ok),
        tool_calls,
        tool_call_id: None,
        extra,
    })
}

fn encode_call(u: &ToolUse) -> ToolCall {
    let arguments = call_arguments(u);
    let mut call = ToolCall {
        id: u.id.clone(),
        kind: "function".into(),
        function: None,
        custom: None,
        extra: form::fields(&u.extras),
    };
    if u.kind == ToolCallKind::Custom {
        call.kind = "custom".into();
        call.custom = Some(CustomCall {
            name: u.name.clone(),
            input: arguments,
            extra: parts::note_map(&u.extras, "custom"),
        });
    } else {
        if let Some(kind) = form::get_str(&u.extras, "type") {
            call.kind = kind.to_string();
        }
        call.function = Some(FunctionCall {
            name: u.name.clone(),
            arguments,
            extra: parts::note_map(&u.extras, "function"),
        });
    }
    call
}
