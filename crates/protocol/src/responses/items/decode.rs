//! Responses items and content parts into IR blocks. Owns the item-level mapping only; how
//! blocks are merged into messages is the request decoder's business.

use serde_json::{json, Map, Value};

use super::{extras, parse_data_url, DIALECT};
use crate::ir::{
    Block, Citation, Document, Image, MediaSource, Other, Text, Thinking, ToolCallKind, ToolResult,
    ToolUse,
};
use crate::responses::wire::{self, from_value};
use crate::{json, signature, Error};

/// Which side of the conversation an item belongs to, for merging into IR messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// A `system` or `developer` message.
    System,
    /// A user message.
    User,
    /// A tool output (`function_call_output`, `*_call_output`, ...): goes in a user message.
    ToolOutput,
    /// An assistant message, reasoning, a tool call, a hosted tool call.
    Assistant,
}

/// One decoded item.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub side: Side,
    /// The wire role of a system-side message (`system` or `developer`).
    pub role: Option<String>,
    pub blocks: Vec<Block>,
    /// The layout entry: `{"n": blocks}` plus, for message items, `"env"` (the item's fields
    /// other than `role` and `content`) and `"str": true` when content was a plain string.
    pub layout: Value,
}

fn kind_of(value: &Value, path: &str) -> Result<Option<String>, Error> {
    match value.get("type") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::Decode {
            path: format!("{path}.type"),
            message: "expected a string".into(),
        }),
    }
}

/// Decodes one input or output item found at `path`.
pub(crate) fn decode_item(value: Value, path: &str) -> Result<Decoded, Error> {
    if !value.is_object() {
        return Err(Error::Decode {
            path: path.to_string(),
            message: "expected an item object".into(),
        });
    }
    let kind = kind_of(&value, path)?;
    let single = |side: Side, block: Block| Decoded {
        side,
        role: None,
        blocks: vec![block],
        layout: json!({"n": 1}),
    };
    Ok(match kind.as_deref() {
        None | Some("message") => decode_message(value, path)?,
        Some("function_call") => {
            let call: wire::FunctionCall = from_value(value, path)?;
            let input = json::parse_arguments(&call.arguments, ToolCallKind::Function);
            let mut fields = call.extra;
            if json::arguments_text(&input, ToolCallKind::Function) != call.arguments {
                fields.insert("$arguments".into(), Value::String(call.arguments));
            }
            single(
                Side::Assistant,
                Block::ToolUse(ToolUse {
                    id: call.call_id,
                    name: call.name,
                    input,
                    kind: ToolCallKind::Function,
                    signature: None,
                    cache_control: None,
                    extras: extras(fields),
                }),
            )
        }
        Some("custom_tool_call") => {
            let call: wire::CustomToolCall = from_value(value, path)?;
            single(
                Side::Assistant,
                Block::ToolUse(ToolUse {
                    id: call.call_id,
                    name: call.name,
                    input: Value::String(call.input),
                    kind: ToolCallKind::Custom,
                    signature: None,
                    cache_control: None,
                    extras: extras(call.extra),
                }),
            )
        }
        Some(k @ ("function_call_output" | "custom_tool_call_output")) => {
            let custom = k == "custom_tool_call_output";
            let out: wire::CallOutput = from_value(value, path)?;
            let mut fields = out.extra;
            if custom {
                fields.insert("$custom".into(), Value::Bool(true));
            }
            let content = match out.output {
                wire::Content::Text(s) if s.is_empty() => Vec::new(),
                wire::Content::Text(s) => vec![Block::text(s)],
                wire::Content::Parts(parts) => {
                    let blocks = decode_parts(parts, &format!("{path}.output"), false)?;
                    // A list holding anything but text is a list anyway; only a text-only list
                    // needs a note to stay a list.
                    if blocks.iter().all(|b| matches!(b, Block::Text(_))) {
                        fields.insert("$parts".into(), Value::Bool(true));
                    }
                    blocks
                }
            };
            single(
                Side::ToolOutput,
                Block::ToolResult(ToolResult {
                    tool_use_id: out.call_id,
                    name: None,
                    content,
                    is_error: false,
                    cache_control: None,
                    extras: extras(fields),
                }),
            )
        }
        Some("reasoning") => single(
            Side::Assistant,
            Block::Thinking(decode_reasoning(value, path)?),
        ),
        Some(other) => {
            let side = if other.ends_with("_output") || other.ends_with("_response") {
                Side::ToolOutput
            } else {
                Side::Assistant
            };
            single(side, other_block(other, value))
        }
    })
}

fn other_block(kind: &str, value: Value) -> Block {
    let fields = match value {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Block::Other(Other {
        kind: kind.to_string(),
        extras: extras(fields),
    })
}

fn decode_reasoning(value: Value, path: &str) -> Result<Thinking, Error> {
    let item: wire::Reasoning = from_value(value, path)?;
    let texts: Vec<&str> = item.summary.iter().map(|p| p.text.as_str()).collect();
    let text = texts.join("\n\n");
    let mut fields = item.extra;
    // The summary parts are kept only when one plain part (or none, for empty text) would not
    // reproduce them.
    let summary = Value::Array(item.summary.iter().map(wire::to_value).collect());
    let default = if text.is_empty() {
        json!([])
    } else {
        json!([{"type": "summary_text", "text": text}])
    };
    if summary != default {
        fields.insert("summary".into(), summary);
    }
    Ok(Thinking {
        text,
        signature: item
            .encrypted_content
            .map(|s| signature::from_wire(&s, DIALECT.family())),
        extras: extras(fields),
    })
}

fn decode_message(value: Value, path: &str) -> Result<Decoded, Error> {
    let item: wire::MessageItem = from_value(value, path)?;
    let (side, assistant) = match item.role.as_str() {
        "user" => (Side::User, false),
        "assistant" => (Side::Assistant, true),
        "system" | "developer" => (Side::System, false),
        other => {
            return Err(Error::invalid(
                format!("{path}.role"),
                format!("unknown role {other:?}"),
            ))
        }
    };
    let mut env = item.extra;
    if let Some(kind) = item.kind {
        env.insert("type".into(), Value::String(kind));
    }
    let (blocks, string) = match item.content {
        wire::Content::Text(s) => (vec![Block::text(s)], true),
        wire::Content::Parts(parts) => (
            decode_parts(parts, &format!("{path}.content"), assistant)?,
            false,
        ),
    };
    let mut layout = json!({"n": blocks.len(), "env": env});
    if string {
        layout["str"] = Value::Bool(true);
    }
    Ok(Decoded {
        side,
        role: (side == Side::System).then_some(item.role),
        blocks,
        layout,
    })
}

/// Decodes content parts at `path` (`input[0].content`). `assistant` says which text part type
/// is the default (`output_text` for assistant messages, `input_text` otherwise).
pub(crate) fn decode_parts(
    parts: Vec<Value>,
    path: &str,
    assistant: bool,
) -> Result<Vec<Block>, Error> {
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        out.push(decode_part(part, &format!("{path}[{i}]"), assistant)?);
    }
    Ok(out)
}

fn decode_part(value: Value, path: &str, assistant: bool) -> Result<Block, Error> {
    let Some(kind) = kind_of(&value, path)? else {
        return Err(Error::Decode {
            path: format!("{path}.type"),
            message: "missing field `type`".into(),
        });
    };
    Ok(match kind.as_str() {
        "input_text" | "output_text" => {
            let part: wire::TextPart = from_value(value, path)?;
            let mut fields = part.extra;
            let default = if assistant {
                "output_text"
            } else {
                "input_text"
            };
            if part.kind != default {
                fields.insert("$part".into(), Value::String(part.kind.clone()));
            }
            let citations = match part.annotations {
                Some(list) => list.into_iter().map(decode_annotation).collect(),
                None => {
                    if part.kind == "output_text" {
                        fields.insert("$no_annotations".into(), Value::Bool(true));
                    }
                    Vec::new()
                }
            };
            Block::Text(Text {
                text: part.text,
                citations,
                extras: extras(fields),
                ..Text::default()
            })
        }
        "refusal" => {
            let part: wire::RefusalPart = from_value(value, path)?;
            let mut fields = part.extra;
            fields.insert("$refusal".into(), Value::Bool(true));
            Block::Text(Text {
                text: part.refusal,
                extras: extras(fields),
                ..Text::default()
            })
        }
        "input_image" => {
            let part: wire::ImagePart = from_value(value, path)?;
            let mut fields = part.extra;
            let source = match (part.image_url, part.file_id) {
                (Some(url), file_id) => {
                    if let Some(id) = file_id {
                        fields.insert("file_id".into(), Value::String(id));
                    }
                    match parse_data_url(&url) {
                        Some((media_type, data)) => MediaSource::Base64 { media_type, data },
                        None => MediaSource::Url {
                            url,
                            media_type: None,
                        },
                    }
                }
                (None, Some(file_id)) => MediaSource::File {
                    file_id,
                    media_type: None,
                },
                (None, None) => {
                    return Err(Error::invalid(
                        path,
                        "input_image needs image_url or file_id",
                    ))
                }
            };
            Block::Image(Image {
                source,
                detail: part.detail,
                cache_control: None,
                extras: extras(fields),
            })
        }
        "input_file" => {
            let part: wire::FilePart = from_value(value, path)?;
            let mut fields = part.extra;
            let source = file_source(part.file_data, part.file_id, part.file_url, &mut fields)
                .ok_or_else(|| {
                    Error::invalid(path, "input_file needs file_data, file_id or file_url")
                })?;
            Block::Document(Document {
                source,
                title: None,
                context: None,
                filename: part.filename,
                citations_enabled: None,
                cache_control: None,
                extras: extras(fields),
            })
        }
        other => other_block(other, value),
    })
}

/// The source of an `input_file`: the first of `file_data`, `file_id`, `file_url`; any other
/// one given is kept in `fields`. `file_data` that is not a data URL is kept as raw base64
/// (noted `$raw_data`) so it goes back exactly as sent.
fn file_source(
    file_data: Option<String>,
    file_id: Option<String>,
    file_url: Option<String>,
    fields: &mut Map<String, Value>,
) -> Option<MediaSource> {
    let mut source = None;
    if let Some(data) = file_data {
        source = Some(match parse_data_url(&data) {
            Some((media_type, data)) => MediaSource::Base64 { media_type, data },
            None => {
                fields.insert("$raw_data".into(), Value::Bool(true));
                MediaSource::Base64 {
                    media_type: "application/pdf".into(),
                    data,
                }
            }
        });
    }
    if let Some(file_id) = file_id {
        if source.is_none() {
            source = Some(MediaSource::File {
                file_id,
                media_type: None,
            });
        } else {
            fields.insert("file_id".into(), Value::String(file_id));
        }
    }
    if let Some(url) = file_url {
        if source.is_none() {
            source = Some(MediaSource::Url {
                url,
                media_type: None,
            });
        } else {
            fields.insert("file_url".into(), Value::String(url));
        }
    }
    source
}

fn take_str(m: &mut Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key) {
        Some(Value::String(_)) => match m.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn take_u64(m: &mut Map<String, Value>, key: &str) -> Option<u64> {
    let n = m.get(key).and_then(Value::as_u64)?;
    m.remove(key);
    Some(n)
}

/// An `output_text` annotation. `url_citation` maps to the IR's fields; other kinds
/// (`file_citation`, `container_file_citation`, ...) keep everything, `type` included, in
/// extras.
pub(crate) fn decode_annotation(value: Value) -> Citation {
    let mut m = match value {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("$raw".into(), other);
            return Citation {
                extras: extras(m),
                ..Citation::default()
            };
        }
    };
    if m.get("type").and_then(Value::as_str) == Some("url_citation") {
        m.remove("type");
    }
    Citation {
        url: take_str(&mut m, "url"),
        title: take_str(&mut m, "title"),
        cited_text: None,
        start: take_u64(&mut m, "start_index"),
        end: take_u64(&mut m, "end_index"),
        extras: extras(m),
    }
}

/// Drops layout information that the default encoding reproduces anyway (every message item
/// plain `{"type": "message"}` with list content, no two message items adjacent), so IR built
/// from typical traffic carries no notes it does not need.
pub(crate) fn compact_layout(entries: Vec<Value>) -> Option<Value> {
    let mut previous_message = false;
    let mut needed = false;
    for entry in &entries {
        match entry.get("env") {
            Some(env) => {
                let plain = env.as_object().is_some_and(|m| {
                    m.len() == 1 && m.get("type").and_then(Value::as_str) == Some("message")
                });
                if !plain || entry.get("str").is_some() || previous_message {
                    needed = true;
                }
                previous_message = true;
            }
            None => previous_message = false,
        }
    }
    needed.then_some(Value::Array(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_kind_heuristic() {
        assert!(super::super::is_part_kind("input_audio"));
        assert!(!super::super::is_part_kind("web_search_call"));
    }

    #[test]
    fn plain_layout_is_dropped() {
        let plain = vec![json!({"n": 2, "env": {"type": "message"}}), json!({"n": 1})];
        assert_eq!(compact_layout(plain), None);
        let adjacent = vec![
            json!({"n": 1, "env": {"type": "message"}}),
            json!({"n": 1, "env": {"type": "message"}}),
        ];
        assert!(compact_layout(adjacent).is_some());
    }
}
