//! The `messages` array to and from the IR's system prompt and messages.
//!
//! Decoding: leading `system` / `developer` messages become `Request::system`; later ones stay
//! in place as `Role::System`; `tool` (and legacy `function`) messages become `ToolResult`
//! blocks of one IR user message, which also takes a user message that directly follows
//! them; a result's function name is looked up from the assistant call with its id.
//! Encoding reverses that: results first as `tool` messages, then the rest as a user message.
//! Parts and `content` forms are in `parts.rs`; the assistant message itself in `assistant.rs`.

use serde_json::Value;

use super::assistant;
use super::form;
use super::parts::{self, actual_form, apply_form, decode_content, default_form};
use super::wire::{self, Part};
use crate::ir::{Block, Message, Role, SystemBlock, ToolResult};
use crate::{Dialect, Error};

const TARGET: Dialect = Dialect::OpenAiChat;

/// Decodes the whole `messages` array.
pub(crate) fn decode(msgs: &[wire::Message]) -> Result<(Vec<SystemBlock>, Vec<Message>), Error> {
    let mut system: Vec<SystemBlock> = Vec::new();
    let mut leading: Vec<(usize, Value)> = Vec::new();
    let mut out: Vec<Message> = Vec::new();
    let mut calls = assistant::Calls::default();
    // Whether the last IR message holds tool results that later tool messages (and one
    // user message) join.
    let mut results_open = false;
    let mut conversation = false;
    for (i, m) in msgs.iter().enumerate() {
        let path = format!("messages[{i}]");
        match m.role.as_str() {
            "system" | "developer" if !conversation => {
                let start = system.len();
                let blocks = decode_text_only(m, &path)?;
                system.extend(blocks.into_iter().map(|t| SystemBlock {
                    text: t.text,
                    cache_control: None,
                    extras: t.extras,
                }));
                let form_used = actual_form(&m.content, system.len() > start);
                let note = serde_json::json!({
                    "role": m.role,
                    "content": form_used,
                    "fields": m.extra,
                });
                leading.push((start, note));
            }
            "system" | "developer" => {
                results_open = false;
                let blocks = decode_text_only(m, &path)?;
                let mut fields = m.extra.clone();
                if m.role == "developer" {
                    form::set(&mut fields, "role", "developer".into());
                }
                let content = blocks.into_iter().map(Block::Text).collect();
                note_form(&mut fields, m, false);
                out.push(message(Role::System, content, fields));
            }
            "user" => {
                conversation = true;
                let content = decode_content(&m.content, false, &path)?;
                let mut fields = m.extra.clone();
                note_form(&mut fields, m, false);
                match out.last_mut() {
                    Some(last) if results_open => {
                        last.content.extend(content);
                        last.extras = form::extras(fields);
                    }
                    _ => out.push(message(Role::User, content, fields)),
                }
                results_open = false;
            }
            "assistant" => {
                conversation = true;
                results_open = false;
                let (content, fields) = assistant::decode(m, &path, i, &mut calls)?;
                out.push(message(Role::Assistant, content, fields));
            }
            "tool" | "function" => {
                conversation = true;
                let result = decode_result(m, &path, i, &mut calls)?;
                match out.last_mut() {
                    Some(last) if results_open => last.content.push(Block::ToolResult(result)),
                    _ => out.push(Message::new(Role::User, vec![Block::ToolResult(result)])),
                }
                results_open = true;
            }
            other => {
                return Err(Error::Decode {
                    path: format!("{path}.role"),
                    message: format!("unknown role `{other}`"),
                })
            }
        }
    }
    note_system_structure(&mut system, leading);
    Ok((system, out))
}

fn message(role: Role, content: Vec<Block>, fields: wire::Extra) -> Message {
    Message {
        role,
        content,
        extras: form::extras(fields),
    }
}

/// Notes the `content` form of a message when the default encoding would not reproduce it.
pub(crate) fn note_form(fields: &mut wire::Extra, m: &wire::Message, null_ok: bool) {
    // The parts `decode_content` reads: a non-empty string is one plain text part, whose
    // default form is a string.
    let (produced, default) = match &m.content {
        Some(Some(wire::Content::Parts(parts))) => {
            (!parts.is_empty(), default_form(parts, null_ok))
        }
        Some(Some(wire::Content::Text(s))) if !s.is_empty() => (true, "string"),
        _ => (false, default_form(&[], null_ok)),
    };
    let used = actual_form(&m.content, produced);
    if used != default {
        form::set(fields, "content", used.into());
    }
}

/// Text blocks of a system message (string `""` included, so the message is not lost).
fn decode_text_only(m: &wire::Message, path: &str) -> Result<Vec<crate::ir::Text>, Error> {
    let Some(Some(wire::Content::Parts(parts))) = &m.content else {
        // A string is text, or nothing.
        let blocks = decode_content(&m.content, true, path)?;
        return Ok(blocks
            .into_iter()
            .filter_map(|b| match b {
                Block::Text(t) => Some(t),
                _ => None,
            })
            .collect());
    };
    let mut out = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        let part_path = format!("{path}.content[{j}]");
        match parts::decode_part(p, &part_path)? {
            Block::Text(t) => out.push(t),
            _ => {
                return Err(Error::invalid(
                    part_path,
                    format!("{} messages take text parts only", m.role),
                ))
            }
        }
    }
    Ok(out)
}

/// Marks where each leading system message starts, with its role, content form and fields,
/// unless they are exactly what the encoder writes by default (one `system` message).
fn note_system_structure(system: &mut [SystemBlock], leading: Vec<(usize, Value)>) {
    let default = match leading.as_slice() {
        [(_, note)] => {
            let blocks: Vec<Part> = system.iter().map(system_part).collect();
            note["role"] == "system"
                && note["fields"].as_object().is_some_and(|f| f.is_empty())
                && note["content"] == default_form(&blocks, false)
        }
        _ => leading.is_empty(),
    };
    if default {
        return;
    }
    for (start, note) in leading {
        if let Some(block) = system.get_mut(start) {
            let mut fields = block.extras.fields.clone();
            form::set(&mut fields, "message", note);
            block.extras = form::extras(fields);
        }
    }
}

fn system_part(b: &SystemBlock) -> Part {
    let mut p = Part::new("text");
    p.text = Some(b.text.clone());
    p.extra = form::fields(&b.extras);
    p
}

fn decode_result(
    m: &wire::Message,
    path: &str,
    index: usize,
    calls: &mut assistant::Calls,
) -> Result<ToolResult, Error> {
    let mut fields = m.extra.clone();
    let (id, name) = if m.role == "function" {
        let name = match fields.remove("name") {
            Some(Value::String(n)) => n,
            _ => {
                return Err(Error::Decode {
                    path: format!("{path}.name"),
                    message: "missing field `name`".into(),
                })
            }
        };
        form::set(&mut fields, "legacy", true.into());
        (calls.legacy_result_id(&name, index), Some(name))
    } else {
        let id = m.tool_call_id.clone().ok_or_else(|| Error::Decode {
            path: format!("{path}.tool_call_id"),
            message: "missing field `tool_call_id`".into(),
        })?;
        let name = calls.name_of(&id);
        (id, name)
    };
    let content = decode_content(&m.content, false, path)?;
    note_form(&mut fields, m, false);
    Ok(ToolResult {
        tool_use_id: id,
        name,
        content,
        is_error: false,
        cache_control: None,
        extras: form::extras(fields),
    })
}

/// Encodes the system prompt and the messages.
pub(crate) fn encode(
    system: &[SystemBlock],
    msgs: &[Message],
) -> Result<Vec<wire::Message>, Error> {
    let mut out = encode_system(system);
    for m in msgs {
        match m.role {
            Role::System => {
                let mut content = Vec::new();
                for b in &m.content {
                    match b {
                        Block::Text(t) => content.push(parts::text_part(t)),
                        other => {
                            return Err(Error::unsupported(
                                format!("{} content in a system message", kind_name(other)),
                                TARGET,
                            ))
                        }
                    }
                }
                let role = form::get_str(&m.extras, "role").unwrap_or("system");
                out.push(wire::Message {
                    role: role.to_string(),
                    content: apply_form(content, form::get_str(&m.extras, "content"), false),
                    tool_calls: None,
                    tool_call_id: None,
                    extra: form::fields(&m.extras),
                });
            }
            Role::User => encode_user(m, &mut out)?,
            Role::Assistant => out.push(assistant::encode(&m.content, &m.extras, false)?),
        }
    }
    Ok(out)
}

fn encode_system(system: &[SystemBlock]) -> Vec<wire::Message> {
    let mut out: Vec<wire::Message> = Vec::new();
    // (note, parts, has cache control) per message
    let mut groups: Vec<(Option<Value>, Vec<Part>, bool)> = Vec::new();
    for b in system {
        let note = form::get(&b.extras, "message").cloned();
        if note.is_some() || groups.is_empty() {
            groups.push((note, Vec::new(), false));
        }
        if let Some(g) = groups.last_mut() {
            g.1.push(system_part(b));
            g.2 |= b.cache_control.is_some();
        }
    }
    for (note, group, cached) in groups {
        let note = note.unwrap_or(Value::Null);
        let role = note["role"].as_str().unwrap_or("system").to_string();
        let form_note = note["content"]
            .as_str()
            .or(if cached { Some("parts") } else { None });
        let extra = note["fields"].as_object().cloned().unwrap_or_default();
        out.push(wire::Message {
            role,
            content: apply_form(group, form_note, false),
            tool_calls: None,
            tool_call_id: None,
            extra,
        });
    }
    out
}

/// A user message: its tool results first, one `tool` message each, then the rest.
fn encode_user(m: &Message, out: &mut Vec<wire::Message>) -> Result<(), Error> {
    let mut carried: Vec<Part> = Vec::new();
    let mut rest: Vec<Part> = Vec::new();
    let mut had_results = false;
    for b in &m.content {
        match b {
            Block::ToolResult(r) => {
                had_results = true;
                out.push(encode_result(r, &mut carried)?);
            }
            // Chat has no thinking input; thinking in a user turn is meaningless anyway.
            Block::Thinking(_) | Block::RedactedThinking(_) => {}
            other => rest.push(parts::encode_part(other)?),
        }
    }
    carried.extend(rest);
    if had_results && carried.is_empty() {
        return Ok(());
    }
    out.push(wire::Message {
        role: "user".into(),
        content: apply_form(carried, form::get_str(&m.extras, "content"), false),
        tool_calls: None,
        tool_call_id: None,
        extra: form::fields(&m.extras),
    });
    Ok(())
}

/// One `tool` message. Its content can only be text, so images and documents in the result
/// are carried into the user message that follows (emulation; see the loss table).
fn encode_result(r: &ToolResult, carried: &mut Vec<Part>) -> Result<wire::Message, Error> {
    let mut text_parts = Vec::new();
    let mut moved = false;
    for b in &r.content {
        match b {
            Block::Text(t) => text_parts.push(parts::text_part(t)),
            Block::Image(_) | Block::Document(_) => {
                carried.push(parts::encode_part(b)?);
                moved = true;
            }
            other => {
                return Err(Error::unsupported(
                    format!("{} content in a tool result", kind_name(other)),
                    TARGET,
                ))
            }
        }
    }
    if moved && text_parts.is_empty() {
        let mut p = Part::new("text");
        p.text = Some("(see image below)".into());
        text_parts.push(p);
    }
    let mut extra = form::fields(&r.extras);
    let legacy = form::get(&r.extras, "legacy").is_some();
    if legacy {
        extra.insert("name".into(), r.name.clone().unwrap_or_default().into());
    }
    let content = apply_form(text_parts, form::get_str(&r.extras, "content"), false);
    Ok(wire::Message {
        role: if legacy { "function" } else { "tool" }.into(),
        content,
        tool_calls: None,
        tool_call_id: (!legacy).then(|| r.tool_use_id.clone()),
        extra,
    })
}

/// The name of a block's kind, for error messages.
pub(crate) fn kind_name(b: &Block) -> String {
    match b {
        Block::Text(_) => "text".into(),
        Block::Image(_) => "image".into(),
        Block::Document(_) => "document".into(),
        Block::ToolUse(_) => "tool call".into(),
        Block::ToolResult(_) => "tool result".into(),
        Block::Thinking(_) => "thinking".into(),
        Block::RedactedThinking(_) => "redacted thinking".into(),
        Block::Other(o) => o.kind.clone(),
    }
}
