//! Gemini request bodies ↔ IR requests: the conversation (`contents`, `systemInstruction`),
//! tool-call ids and thought signatures. Tools and generation settings are in `config.rs`.
//!
//! The model and the stream flag are in the URL: `decode_request` leaves `model` empty and
//! `stream` false for the caller to fill, and `encode_request` emits neither.
//!
//! Ids: Gemini calls may have no id. Decoding, a call without one gets
//! `ids::mint_gemini_call_id(content index, part index, name)`, and a response without one takes
//! the id of the first unanswered call of the same name in the preceding model turn (the k-th
//! response named N answers the k-th call named N). Encoding, ids go out only when the client
//! sent them (Gemini pairs calls and responses by order and name).
//!
//! Thinking: thought text from another dialect is not sent (Gemini ignores thoughts in
//! history); its Gemini signature moves to the next part of the turn (or an empty text part
//! when nothing follows). That is also how a call's signature comes home from Anthropic and
//! Responses clients, who received it as a thinking block or reasoning item just before the
//! call. Thought parts a Gemini client sent are sent back as they were. For Gemini 3, the
//! first call of a model turn that still has no signature (history from OpenAI Chat, which
//! has no place for one, or from another model) gets [`SKIP_SIGNATURE`], the value Google
//! documents for exactly that case; Gemini 3 rejects the turn otherwise.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::config;
use super::parts::{self, mark, wire_fields, THOUGHT, WIRE_ID};
use super::wire::{self, Extra};
use crate::ir::{self, Block, Message, Role, Signature, SystemBlock};
use crate::{ids, json, Dialect, EncodeOptions, Error};

/// Message note: the `role` as the client wrote it when it was not `user` / `model` (`null`
/// for an absent role, `"function"` for the legacy role).
const ROLE: &str = "sy:role";
/// Request note: `systemInstruction.role` and its other fields.
const SYSTEM_ROLE: &str = "sy:systemRole";
const SYSTEM_EXTRA: &str = "sy:systemExtra";
/// The user turn put before a conversation that would otherwise start with a model turn
/// calling functions (Gemini requires such a turn to follow a user turn).
pub const CONTINUED: &str = "(continued)";

pub fn decode_request(body: &[u8]) -> Result<ir::Request, Error> {
    let w: wire::Request = json::decode(body)?;
    let mut notes = Map::new();
    let mut req = ir::Request {
        include_usage: true,
        ..Default::default()
    };
    if let Some(si) = w.system_instruction {
        req.system = decode_system(si, &mut notes)?;
    }
    req.messages = decode_contents(w.contents)?;
    req.tools = config::decode_tools(w.tools);
    if let Some(tc) = w.tool_config {
        req.tool_choice = config::decode_tool_config(tc, &mut notes);
    }
    if let Some(gc) = w.generation_config {
        config::decode_generation_config(gc, &mut req, &mut notes);
    }
    let mut fields = w.extra;
    fields.extend(notes);
    req.extras = parts::extras(fields);
    Ok(req)
}

fn decode_system(si: wire::Content, notes: &mut Extra) -> Result<Vec<SystemBlock>, Error> {
    if let Some(role) = si.role {
        notes.insert(SYSTEM_ROLE.into(), Value::String(role));
    }
    if !si.extra.is_empty() {
        notes.insert(SYSTEM_EXTRA.into(), Value::Object(si.extra));
    }
    let mut out = Vec::new();
    for (k, part) in si.parts.into_iter().enumerate() {
        let (Some(text), None) = (part.text, part.thought) else {
            return Err(Error::invalid(
                format!("systemInstruction.parts[{k}]"),
                "only text parts are supported in a system instruction",
            ));
        };
        out.push(SystemBlock {
            text,
            cache_control: None,
            extras: parts::extras(part.extra),
        });
    }
    Ok(out)
}

/// A function call of the current model turn, for pairing responses that carry no id.
struct OpenCall {
    name: String,
    id: String,
    answered: bool,
}

fn decode_contents(contents: Vec<wire::Content>) -> Result<Vec<Message>, Error> {
    let mut messages: Vec<Message> = Vec::new();
    let mut calls: Vec<OpenCall> = Vec::new();
    let mut previous_was_model = false;
    for (i, content) in contents.into_iter().enumerate() {
        let mut fields = content.extra;
        let role = match content.role.as_deref() {
            Some("user") => Role::User,
            Some("model") => Role::Assistant,
            None | Some("function") => {
                fields.insert(
                    ROLE.into(),
                    content.role.clone().map_or(Value::Null, Value::String),
                );
                Role::User
            }
            Some(other) => {
                return Err(Error::invalid(
                    format!("contents[{i}].role"),
                    format!("unknown role {other:?} (expected user or model)"),
                ))
            }
        };
        let is_model = role == Role::Assistant;
        if is_model && !previous_was_model {
            calls.clear();
        }
        previous_was_model = is_model;
        let mut blocks = Vec::with_capacity(content.parts.len());
        for (j, part) in content.parts.into_iter().enumerate() {
            let mut block = parts::decode_part(part)?;
            match &mut block {
                Block::ToolUse(t) => {
                    if t.id.is_empty() {
                        t.id = ids::mint_gemini_call_id(i, j, &t.name);
                    }
                    if is_model {
                        calls.push(OpenCall {
                            name: t.name.clone(),
                            id: t.id.clone(),
                            answered: false,
                        });
                    }
                }
                Block::ToolResult(r) => {
                    let name = r.name.clone().unwrap_or_default();
                    if r.tool_use_id.is_empty() {
                        let call = calls.iter_mut().find(|c| !c.answered && c.name == name);
                        r.tool_use_id = match call {
                            Some(c) => {
                                c.answered = true;
                                c.id.clone()
                            }
                            None => ids::mint_gemini_call_id(i, j, &name),
                        };
                    } else if let Some(c) = calls.iter_mut().find(|c| c.id == r.tool_use_id) {
                        c.answered = true;
                    }
                }
                _ => {}
            }
            blocks.push(block);
        }
        let msg = Message {
            role,
            content: blocks,
            extras: parts::extras(fields),
        };
        push_merging_results(&mut messages, msg);
    }
    Ok(messages)
}

fn only_results(m: &Message) -> bool {
    m.role == Role::User
        && !m.content.is_empty()
        && m.content.iter().all(|b| matches!(b, Block::ToolResult(_)))
}

/// IR convention: all results of one model turn are in one user message.
fn push_merging_results(messages: &mut Vec<Message>, msg: Message) {
    if let Some(last) = messages.last_mut() {
        if only_results(last) && only_results(&msg) {
            last.content.extend(msg.content);
            return;
        }
    }
    messages.push(msg);
}

pub fn encode_request(req: &ir::Request, opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    // The server resolves stored conversations before encoding; one that reaches here cannot
    // be honoured by an upstream without response state.
    if req.previous_response_id.is_some() {
        return Err(Error::unsupported("previous_response_id", Dialect::Gemini));
    }
    let mut contents = encode_contents(req, opts)?;
    if validates_call_signatures(opts.model(req)) {
        skip_missing_call_signatures(&mut contents);
    }
    let w = wire::Request {
        contents,
        system_instruction: encode_system(req)?,
        tools: config::encode_tools(&req.tools)?,
        tool_config: config::encode_tool_config(req),
        generation_config: config::encode_generation_config(req, opts)?,
        extra: wire_fields(&req.extras),
    };
    Ok(json::encode(&w))
}

/// `systemInstruction`: the system prompt, then every `Role::System` message hoisted, in order.
fn encode_system(req: &ir::Request) -> Result<Option<wire::Content>, Error> {
    let mut out = Vec::new();
    for b in &req.system {
        out.push(wire::Part {
            text: Some(b.text.clone()),
            extra: wire_fields(&b.extras),
            ..Default::default()
        });
    }
    for (i, m) in req.messages.iter().enumerate() {
        if m.role != Role::System {
            continue;
        }
        for block in &m.content {
            match block {
                Block::Text(t) => out.push(parts::text_part(t)),
                other => {
                    return Err(Error::unsupported(
                        format!("{} in a system message (messages[{i}])", block_kind(other)),
                        Dialect::Gemini,
                    ))
                }
            }
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(wire::Content {
        role: mark(&req.extras, SYSTEM_ROLE)
            .and_then(Value::as_str)
            .map(str::to_string),
        parts: out,
        extra: match mark(&req.extras, SYSTEM_EXTRA) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        },
    }))
}

fn block_kind(b: &Block) -> &'static str {
    match b {
        Block::Text(_) => "text",
        Block::Image(_) => "image",
        Block::Document(_) => "document",
        Block::ToolUse(_) => "tool call",
        Block::ToolResult(_) => "tool result",
        Block::Thinking(_) => "thinking",
        Block::RedactedThinking(_) => "redacted thinking",
        Block::Other(_) => "other content",
    }
}

/// The signature to send to Gemini: only Gemini's own.
fn own(sig: &Option<Signature>) -> Option<String> {
    sig.as_ref()
        .filter(|s| s.family == Dialect::Gemini.family())
        .map(|s| s.value.clone())
}

fn wire_role(m: &Message) -> Option<String> {
    match mark(&m.extras, ROLE) {
        Some(Value::Null) => None,
        Some(Value::String(r)) => Some(r.clone()),
        _ => Some(
            if m.role == Role::Assistant {
                "model"
            } else {
                "user"
            }
            .into(),
        ),
    }
}

fn effective_role(c: &wire::Content) -> &str {
    match c.role.as_deref() {
        Some("model") => "model",
        _ => "user",
    }
}

fn encode_contents(req: &ir::Request, opts: &EncodeOptions) -> Result<Vec<wire::Content>, Error> {
    let mut names: HashMap<&str, &str> = HashMap::new();
    for m in &req.messages {
        for b in &m.content {
            if let Block::ToolUse(t) = b {
                names.insert(&t.id, &t.name);
            }
        }
    }
    let mut contents: Vec<wire::Content> = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        if m.role == Role::System {
            continue;
        }
        let c = wire::Content {
            role: wire_role(m),
            parts: encode_blocks(m, i, &names, opts)?,
            extra: wire_fields(&m.extras),
        };
        // Gemini rejects empty turns, and wants one turn per role change.
        if c.parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some(last) if effective_role(last) == effective_role(&c) => last.parts.extend(c.parts),
            _ => contents.push(c),
        }
    }
    let starts_with_call = contents.first().is_some_and(|c| {
        effective_role(c) == "model" && c.parts.iter().any(|p| p.function_call.is_some())
    });
    if starts_with_call {
        contents.insert(
            0,
            wire::Content {
                role: Some("user".into()),
                parts: vec![wire::Part {
                    text: Some(CONTINUED.into()),
                    ..Default::default()
                }],
                extra: Map::new(),
            },
        );
    }
    Ok(contents)
}

fn encode_blocks(
    m: &Message,
    i: usize,
    names: &HashMap<&str, &str>,
    opts: &EncodeOptions,
) -> Result<Vec<wire::Part>, Error> {
    let mut out: Vec<wire::Part> = Vec::new();
    // Images of tool results, sent after the function responses as plain user parts.
    let mut trailing: Vec<wire::Part> = Vec::new();
    // A Gemini signature from a thinking block whose text is not sent: it rides on the next
    // part of the turn.
    let mut pending: Option<String> = None;
    for (j, block) in m.content.iter().enumerate() {
        let mut part = match block {
            Block::Text(t) => {
                let mut p = parts::text_part(t);
                p.thought_signature = own(&t.signature);
                p
            }
            Block::Thinking(t) if mark(&t.extras, THOUGHT).is_some() => {
                let mut p = parts::thought_part(t);
                p.thought_signature = own(&t.signature);
                p
            }
            Block::Thinking(t) => {
                if let Some(sig) = own(&t.signature) {
                    // Two in a row (thought text, then the carrier of a call's signature from
                    // an Anthropic or Responses client): the first keeps a part of its own.
                    if let Some(earlier) = pending.replace(sig) {
                        out.push(signature_part(earlier));
                    }
                }
                continue;
            }
            // Only Anthropic can read redacted thinking.
            Block::RedactedThinking(_) => continue,
            Block::Image(img) => {
                parts::media_part(&img.source, &img.extras, "image", opts.gemini_image_urls)?
            }
            Block::Document(d) => {
                parts::media_part(&d.source, &d.extras, "document", opts.gemini_image_urls)?
            }
            Block::ToolUse(t) => {
                if t.kind == ir::ToolCallKind::Server {
                    return Err(Error::unsupported(
                        format!("server tool call {:?}", t.name),
                        Dialect::Gemini,
                    ));
                }
                let id = mark(&t.extras, WIRE_ID).map(|_| t.id.clone());
                let mut p = parts::call_part(t, id);
                p.thought_signature = own(&t.signature);
                p
            }
            Block::ToolResult(r) => {
                let path = format!("messages[{i}].content[{j}]");
                let name = match (&r.name, names.get(r.tool_use_id.as_str())) {
                    (Some(n), _) => n.clone(),
                    (None, Some(n)) => n.to_string(),
                    (None, None) => {
                        return Err(Error::invalid(
                            path,
                            format!(
                            "tool result for unknown call {:?} (Gemini needs the function name)",
                            r.tool_use_id
                        ),
                        ))
                    }
                };
                let mut media = Vec::new();
                for b in &r.content {
                    match b {
                        Block::Text(_) => {}
                        Block::Image(img) => media.push(parts::media_part(
                            &img.source,
                            &img.extras,
                            "image",
                            opts.gemini_image_urls,
                        )?),
                        Block::Document(d) => media.push(parts::media_part(
                            &d.source,
                            &d.extras,
                            "document",
                            opts.gemini_image_urls,
                        )?),
                        other => {
                            return Err(Error::unsupported(
                                format!("{} in a tool result", block_kind(other)),
                                Dialect::Gemini,
                            ))
                        }
                    }
                }
                let in_response = mark(&r.extras, parts::RESPONSE_PARTS).is_some();
                let response_parts = if in_response {
                    Some(std::mem::take(&mut media))
                } else {
                    None
                };
                trailing.extend(media);
                let id = mark(&r.extras, WIRE_ID).map(|_| r.tool_use_id.clone());
                parts::response_part(r, name, id, response_parts)
            }
            Block::Other(o) => parts::other_part(o)?,
        };
        if part.thought_signature.is_none() && part.function_response.is_none() {
            part.thought_signature = pending.take();
        }
        out.push(part);
    }
    if let Some(sig) = pending {
        out.push(signature_part(sig));
    }
    out.extend(trailing);
    Ok(out)
}

/// An empty text part carrying a signature that no other part can.
fn signature_part(sig: String) -> wire::Part {
    wire::Part {
        text: Some(String::new()),
        thought_signature: Some(sig),
        ..Default::default()
    }
}

/// The `thoughtSignature` Google documents for a function call that has no signature from
/// Gemini (history written by another model, or shown to a client with no place for one,
/// such as OpenAI Chat). It is the provider's own way of saying "none", not an invented
/// signature.
const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// Whether the model validates call signatures: Gemini 3 rejects a model turn whose first
/// `functionCall` has none.
fn validates_call_signatures(model: &str) -> bool {
    model
        .strip_prefix("models/")
        .unwrap_or(model)
        .starts_with("gemini-3")
}

/// Puts [`SKIP_SIGNATURE`] on the first `functionCall` part of each model turn that has no
/// signature. A signature from Gemini is never replaced.
fn skip_missing_call_signatures(contents: &mut [wire::Content]) {
    for c in contents.iter_mut().filter(|c| effective_role(c) == "model") {
        if let Some(call) = c.parts.iter_mut().find(|p| p.function_call.is_some()) {
            call.thought_signature
                .get_or_insert_with(|| SKIP_SIGNATURE.to_string());
        }
    }
}
