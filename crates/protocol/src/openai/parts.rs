//! Content parts (`text`, `refusal`, `image_url`, `file`, anything else) to and from IR blocks,
//! and the choice between string, parts, `null` and absent `content`.
//!
//! Owns one part or one `content` field at a time; which role may hold which block, tool
//! messages and tool calls belong to `messages.rs`.

use serde_json::{Map, Value};

use super::form;
use super::wire::{Content, FileRef, ImageUrl, Part};
use crate::ir::{Block, Document, Image, MediaSource, Other, Text};
use crate::{Dialect, Error};

const TARGET: Dialect = Dialect::OpenAiChat;

fn missing(path: &str, field: &str) -> Error {
    Error::Decode {
        path: format!("{path}.{field}"),
        message: format!("missing field `{field}`"),
    }
}

/// One wire part as an IR block. Unknown part types become `Block::Other`, verbatim.
pub(crate) fn decode_part(p: &Part, path: &str) -> Result<Block, Error> {
    let mut fields = p.extra.clone();
    match p.kind.as_str() {
        "text" => {
            let text = p.text.clone().ok_or_else(|| missing(path, "text"))?;
            Ok(Block::Text(Text {
                text,
                extras: form::extras(fields),
                ..Text::default()
            }))
        }
        "refusal" => {
            let text = p.refusal.clone().ok_or_else(|| missing(path, "refusal"))?;
            form::set(&mut fields, "part", "refusal".into());
            Ok(Block::Text(Text {
                text,
                extras: form::extras(fields),
                ..Text::default()
            }))
        }
        "image_url" => {
            let iu = p
                .image_url
                .as_ref()
                .ok_or_else(|| missing(path, "image_url"))?;
            let source = match form::parse_data_url(&iu.url) {
                Some((media_type, data)) => MediaSource::Base64 { media_type, data },
                None => MediaSource::Url {
                    url: iu.url.clone(),
                    media_type: None,
                },
            };
            if !iu.extra.is_empty() {
                form::set(&mut fields, "image_url", Value::Object(iu.extra.clone()));
            }
            Ok(Block::Image(Image {
                source,
                detail: iu.detail.clone(),
                cache_control: None,
                extras: form::extras(fields),
            }))
        }
        "file" => {
            let f = p.file.as_ref().ok_or_else(|| missing(path, "file"))?;
            let source = if let Some(data) = &f.file_data {
                match form::parse_data_url(data) {
                    Some((media_type, data)) => MediaSource::Base64 { media_type, data },
                    None => {
                        // Some clients send bare base64; keep it bare for this dialect.
                        form::set(&mut fields, "file_data", "raw".into());
                        MediaSource::Base64 {
                            media_type: "application/pdf".into(),
                            data: data.clone(),
                        }
                    }
                }
            } else if let Some(id) = &f.file_id {
                MediaSource::File {
                    file_id: id.clone(),
                    media_type: None,
                }
            } else {
                return Err(missing(&format!("{path}.file"), "file_data"));
            };
            if !f.extra.is_empty() {
                form::set(&mut fields, "file", Value::Object(f.extra.clone()));
            }
            Ok(Block::Document(Document {
                source,
                title: None,
                context: None,
                filename: f.filename.clone(),
                citations_enabled: None,
                cache_control: None,
                extras: form::extras(fields),
            }))
        }
        _ => {
            let whole = serde_json::to_value(p).unwrap_or(Value::Null);
            let map = match whole {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            Ok(Block::Other(Other {
                kind: p.kind.clone(),
                extras: form::extras(map),
            }))
        }
    }
}

/// One IR block as a wire part (user and system content; assistant text and refusals).
pub(crate) fn encode_part(block: &Block) -> Result<Part, Error> {
    match block {
        Block::Text(t) => Ok(text_part(t)),
        Block::Image(img) => {
            let url = match &img.source {
                MediaSource::Base64 { media_type, data } => form::data_url(media_type, data),
                MediaSource::Url { url, .. } => url.clone(),
                MediaSource::File { .. } => {
                    return Err(Error::unsupported("image given as a file id", TARGET))
                }
                MediaSource::Text { .. } => {
                    return Err(Error::unsupported("image given as text", TARGET))
                }
            };
            let mut part = Part::new("image_url");
            part.image_url = Some(ImageUrl {
                url,
                detail: img.detail.clone(),
                extra: note_map(&img.extras, "image_url"),
            });
            part.extra = form::fields(&img.extras);
            Ok(part)
        }
        Block::Document(doc) => encode_document(doc),
        Block::Other(o) => encode_other(o),
        Block::ToolUse(_) => Err(Error::invalid(
            "messages",
            "tool call outside an assistant message",
        )),
        Block::ToolResult(_) => Err(Error::invalid(
            "messages",
            "tool result outside a user message",
        )),
        Block::Thinking(_) | Block::RedactedThinking(_) => Err(Error::invalid(
            "messages",
            "thinking outside an assistant message",
        )),
    }
}

pub(crate) fn text_part(t: &Text) -> Part {
    let mut part = if form::get_str(&t.extras, "part") == Some("refusal") {
        let mut p = Part::new("refusal");
        p.refusal = Some(t.text.clone());
        p
    } else {
        let mut p = Part::new("text");
        p.text = Some(t.text.clone());
        p
    };
    part.extra = form::fields(&t.extras);
    part
}

fn encode_document(doc: &Document) -> Result<Part, Error> {
    let filename = doc.filename.clone().or_else(|| doc.title.clone());
    let mut file = FileRef {
        file_data: None,
        file_id: None,
        filename,
        extra: note_map(&doc.extras, "file"),
    };
    match &doc.source {
        MediaSource::Base64 { media_type, data } => {
            file.file_data = Some(if form::get_str(&doc.extras, "file_data") == Some("raw") {
                data.clone()
            } else {
                form::data_url(media_type, data)
            });
        }
        MediaSource::File { file_id, .. } => file.file_id = Some(file_id.clone()),
        MediaSource::Text { data, .. } => {
            let mut p = Part::new("text");
            p.text = Some(data.clone());
            return Ok(p);
        }
        MediaSource::Url { .. } => return Err(Error::unsupported("document given by URL", TARGET)),
    }
    let mut part = Part::new("file");
    part.file = Some(file);
    part.extra = form::fields(&doc.extras);
    Ok(part)
}

/// A verbatim part of this dialect; another dialect's is refused.
pub(crate) fn encode_other(o: &Other) -> Result<Part, Error> {
    let Some(fields) = o.extras.for_dialect(TARGET) else {
        return Err(Error::unsupported(format!("{} content", o.kind), TARGET));
    };
    serde_json::from_value(Value::Object(fields.clone()))
        .map_err(|e| Error::invalid("messages", format!("{} content: {e}", o.kind)))
}

/// A form note that is itself a map of wire fields (nested objects' unknown fields).
pub(crate) fn note_map(extras: &crate::ir::Extras, name: &str) -> Map<String, Value> {
    match form::get(extras, name) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    }
}

/// How a `content` field was written: `string`, `parts`, `null`, `absent` or `empty` (`""`
/// that decoded to no block).
pub(crate) fn actual_form(content: &Option<Option<Content>>, produced_block: bool) -> &'static str {
    match content {
        None => "absent",
        Some(None) => "null",
        Some(Some(Content::Text(_))) if produced_block => "string",
        Some(Some(Content::Text(_))) => "empty",
        Some(Some(Content::Parts(_))) => "parts",
    }
}

/// The form an encoder picks with no note: a lone plain text part is a string, no parts is
/// `null` where the role allows it (`null_ok`) and `""` elsewhere, anything else parts.
pub(crate) fn default_form(parts: &[Part], null_ok: bool) -> &'static str {
    match parts {
        [] if null_ok => "null",
        [] => "empty",
        [p] if p.kind == "text" && p.extra.is_empty() => "string",
        _ => "parts",
    }
}

/// Builds `content` from parts in the noted form when it fits them, else the default form.
pub(crate) fn apply_form(
    parts: Vec<Part>,
    note: Option<&str>,
    null_ok: bool,
) -> Option<Option<Content>> {
    let single_text = match parts.as_slice() {
        [p] if p.kind == "text" && p.extra.is_empty() => p.text.as_deref(),
        _ => None,
    };
    let chosen = match note {
        Some("string") if single_text.is_some() => "string",
        Some("null" | "absent" | "empty") if parts.is_empty() => note.unwrap_or("empty"),
        Some("empty") if single_text == Some("") => "string",
        Some("parts") => "parts",
        _ => default_form(&parts, null_ok),
    };
    match chosen {
        // A string is chosen only for a single text part: its text moves out of it.
        "string" => Some(Some(Content::Text(
            parts
                .into_iter()
                .next()
                .and_then(|p| p.text)
                .unwrap_or_default(),
        ))),
        "null" => Some(None),
        "absent" => None,
        "empty" => Some(Some(Content::Text(String::new()))),
        _ => Some(Some(Content::Parts(parts))),
    }
}

/// The blocks of a `content` field: a string is one text part (`""` none, unless
/// `keep_empty`), and each part is one block, so a block's index is its part's.
pub(crate) fn decode_content(
    content: &Option<Option<Content>>,
    keep_empty: bool,
    path: &str,
) -> Result<Vec<Block>, Error> {
    match content {
        Some(Some(Content::Text(s))) if keep_empty || !s.is_empty() => {
            // What `decode_part` makes of a text part with no other field.
            Ok(vec![Block::Text(Text {
                text: s.clone(),
                extras: form::extras(Map::new()),
                ..Text::default()
            })])
        }
        Some(Some(Content::Parts(parts))) => parts
            .iter()
            .enumerate()
            .map(|(j, p)| decode_part(p, &format!("{path}.content[{j}]")))
            .collect(),
        _ => Ok(Vec::new()),
    }
}
