//! Gemini `Part`s ↔ IR content blocks, shared by the request, response and stream codecs, and
//! the private markers this dialect keeps in `Extras`.
//!
//! Decoding never mints ids (the request and response decoders mint them differently) and
//! encoding never decides about signatures or ids (requests and responses treat them
//! differently); this file does the parts that are the same everywhere. Extras keys that
//! start with [`MARK`] are notes from this dialect's decoders to its own encoders (what the
//! wire looked like, so a same-dialect round trip is exact); they are never emitted.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::wire::{self, Extra};
use crate::ir::{Block, Document, Extras, Image, MediaSource, Other, Text, Thinking, ToolCallKind};
use crate::ir::{ToolResult, ToolUse};
use crate::{signature, Dialect, Error};

/// Prefix of extras keys that are private notes, never emitted.
pub(crate) const MARK: &str = "sy:";
/// The call or response carried an `id` on the wire (so it goes back with one).
pub(crate) const WIRE_ID: &str = "sy:wireId";
/// `thought` as it was on the wire (`true` on thinking parts, `false` when sent explicitly).
pub(crate) const THOUGHT: &str = "sy:thought";
/// The media came as `fileData` (so it goes back as `fileData`, whatever the options).
pub(crate) const FILE_DATA: &str = "sy:fileData";
/// Unknown fields of a nested `inlineData` / `fileData` / `functionCall` /
/// `functionResponse` object.
pub(crate) const NESTED: &str = "sy:nested";
/// The `functionResponse.response` object verbatim.
pub(crate) const RESPONSE: &str = "sy:response";
/// The function response carried `parts` (multimodal function response).
pub(crate) const RESPONSE_PARTS: &str = "sy:responseParts";

/// Gemini extras from wire fields plus markers.
pub(crate) fn extras(fields: Extra) -> Extras {
    Extras::new(Dialect::Gemini, fields)
}

/// A private marker, if these extras came from Gemini.
pub(crate) fn mark<'a>(extras: &'a Extras, key: &str) -> Option<&'a Value> {
    extras.for_dialect(Dialect::Gemini)?.get(key)
}

/// The wire fields to re-emit: Gemini's own extras without the private markers.
pub(crate) fn wire_fields(extras: &Extras) -> Extra {
    let mut out = Map::new();
    if let Some(fields) = extras.for_dialect(Dialect::Gemini) {
        for (k, v) in fields {
            if !k.starts_with(MARK) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn nested(extras: &Extras) -> Extra {
    match mark(extras, NESTED) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    }
}

fn put_nested(fields: &mut Extra, inner: Extra) {
    if !inner.is_empty() {
        fields.insert(NESTED.into(), Value::Object(inner));
    }
}

/// What kind of IR block a media type becomes.
enum MediaKind {
    Image,
    Document,
    /// Audio, video and the rest: kept as a verbatim `Other` part.
    Other,
}

fn media_kind(mime: &str) -> MediaKind {
    if mime.starts_with("image/") {
        MediaKind::Image
    } else if mime == "application/pdf" || mime.starts_with("text/") {
        MediaKind::Document
    } else {
        MediaKind::Other
    }
}

/// A media type from a URL's file extension, for `fileData` that needs one.
pub(crate) fn guess_mime(uri: &str) -> Option<&'static str> {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "mp3" => "audio/mp3",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        _ => return None,
    })
}

fn is_http(uri: &str) -> bool {
    uri.starts_with("https://") || uri.starts_with("http://")
}

/// The part as a verbatim `Other` block.
fn other(part: &wire::Part) -> Block {
    let whole = match serde_json::to_value(part) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let kind = part
        .extra
        .keys()
        .next()
        .cloned()
        .unwrap_or_else(|| "unknown".to_string());
    Block::Other(Other {
        kind,
        extras: extras(whole),
    })
}

fn media_block(kind: MediaKind, source: MediaSource, fields: Extra) -> Block {
    match kind {
        MediaKind::Image => Block::Image(Image {
            source,
            detail: None,
            cache_control: None,
            extras: extras(fields),
        }),
        _ => Block::Document(Document {
            source,
            title: None,
            context: None,
            filename: None,
            citations_enabled: None,
            cache_control: None,
            extras: extras(fields),
        }),
    }
}

/// Text for a `functionResponse.response` object: the `result` / `output` / `error` member
/// when it is the only one (strings unquoted), else the whole object as JSON.
fn response_text(response: &Value) -> (String, bool) {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Value::Object(m) = response {
        if m.len() == 1 {
            for (key, is_error) in [("result", false), ("output", false), ("error", true)] {
                if let Some(v) = m.get(key) {
                    return (text(v), is_error);
                }
            }
        }
    }
    (text(response), false)
}

/// Decodes one part. Tool-call ids are left empty when the wire has none; callers mint them.
pub(crate) fn decode_part(part: wire::Part) -> Result<Block, Error> {
    let sig = part
        .thought_signature
        .as_deref()
        .map(|s| signature::from_wire(s, Dialect::Gemini.family()));
    let mut fields = part.extra.clone();
    if let Some(fc) = part.function_call {
        if fc.id.is_some() {
            fields.insert(WIRE_ID.into(), Value::Bool(true));
        }
        put_nested(&mut fields, fc.extra);
        return Ok(Block::ToolUse(ToolUse {
            id: fc.id.unwrap_or_default(),
            name: fc.name,
            input: fc.args.unwrap_or_else(|| json!({})),
            kind: ToolCallKind::Function,
            signature: sig,
            cache_control: None,
            extras: extras(fields),
        }));
    }
    if let Some(fr) = part.function_response {
        if fr.id.is_some() {
            fields.insert(WIRE_ID.into(), Value::Bool(true));
        }
        if let Some(s) = part.thought_signature {
            fields.insert("thoughtSignature".into(), Value::String(s));
        }
        let (text, is_error) = response_text(&fr.response);
        let mut content = vec![Block::text(text)];
        if let Some(parts) = fr.parts {
            fields.insert(RESPONSE_PARTS.into(), Value::Bool(true));
            for p in parts {
                content.push(decode_part(p)?);
            }
        }
        fields.insert(RESPONSE.into(), fr.response);
        put_nested(&mut fields, fr.extra);
        return Ok(Block::ToolResult(ToolResult {
            tool_use_id: fr.id.unwrap_or_default(),
            name: Some(fr.name),
            content,
            is_error,
            cache_control: None,
            extras: extras(fields),
        }));
    }
    if let Some(blob) = &part.inline_data {
        let kind = media_kind(&blob.mime_type);
        if let MediaKind::Other = kind {
            return Ok(other(&part));
        }
        put_nested(&mut fields, blob.extra.clone());
        let source = MediaSource::Base64 {
            media_type: blob.mime_type.clone(),
            data: blob.data.clone(),
        };
        return Ok(media_block(kind, source, fields));
    }
    if let Some(fd) = &part.file_data {
        let mime = fd.mime_type.as_deref().or_else(|| guess_mime(&fd.file_uri));
        let kind = mime.map(media_kind).unwrap_or(MediaKind::Other);
        if let MediaKind::Other = kind {
            return Ok(other(&part));
        }
        fields.insert(FILE_DATA.into(), Value::Bool(true));
        put_nested(&mut fields, fd.extra.clone());
        let source = if is_http(&fd.file_uri) {
            MediaSource::Url {
                url: fd.file_uri.clone(),
                media_type: fd.mime_type.clone(),
            }
        } else {
            MediaSource::File {
                file_id: fd.file_uri.clone(),
                media_type: fd.mime_type.clone(),
            }
        };
        return Ok(media_block(kind, source, fields));
    }
    if let Some(text) = part.text {
        if let Some(t) = part.thought {
            fields.insert(THOUGHT.into(), Value::Bool(t));
        }
        if part.thought == Some(true) {
            return Ok(Block::Thinking(Thinking {
                text,
                signature: sig,
                extras: extras(fields),
            }));
        }
        return Ok(Block::Text(Text {
            text,
            citations: Vec::new(),
            cache_control: None,
            signature: sig,
            extras: extras(fields),
        }));
    }
    Ok(other(&part))
}

/// A text part (no signature: the caller decides).
pub(crate) fn text_part(t: &Text) -> wire::Part {
    wire::Part {
        text: Some(t.text.clone()),
        thought: mark(&t.extras, THOUGHT).and_then(Value::as_bool),
        extra: wire_fields(&t.extras),
        ..Default::default()
    }
}

/// A thinking block as a `thought: true` text part (no signature: the caller decides).
pub(crate) fn thought_part(t: &Thinking) -> wire::Part {
    wire::Part {
        text: Some(t.text.clone()),
        thought: Some(true),
        extra: wire_fields(&t.extras),
        ..Default::default()
    }
}

/// A function call part; `id` is emitted as given (the caller decides whether to send one).
pub(crate) fn call_part(t: &ToolUse, id: Option<String>) -> wire::Part {
    wire::Part {
        function_call: Some(wire::FunctionCall {
            id,
            name: t.name.clone(),
            args: Some(crate::json::arguments_object(&t.input)),
            extra: nested(&t.extras),
        }),
        extra: wire_fields(&t.extras),
        ..Default::default()
    }
}

/// `inlineData` or `fileData` for an image or document. `allow_urls` says whether a remote URL
/// may go out as `fileData`; media that came as `fileData` from a Gemini client always may.
pub(crate) fn media_part(
    source: &MediaSource,
    extras: &Extras,
    what: &str,
    allow_urls: bool,
) -> Result<wire::Part, Error> {
    let from_file_data = mark(extras, FILE_DATA).is_some();
    let mut part = wire::Part {
        extra: wire_fields(extras),
        ..Default::default()
    };
    let inner = nested(extras);
    match source {
        MediaSource::Base64 { media_type, data } => {
            part.inline_data = Some(wire::Blob {
                mime_type: media_type.clone(),
                data: data.clone(),
                extra: inner,
            });
        }
        MediaSource::Text { media_type, data } => {
            part.inline_data = Some(wire::Blob {
                mime_type: media_type.clone(),
                data: STANDARD.encode(data),
                extra: inner,
            });
        }
        MediaSource::Url { url, media_type }
        | MediaSource::File {
            file_id: url,
            media_type,
        } => {
            let remote = matches!(source, MediaSource::Url { .. });
            if remote && !from_file_data && !allow_urls {
                return Err(Error::unsupported(
                    format!("remote {what} URL (enable image fetching)"),
                    Dialect::Gemini,
                ));
            }
            let mime = match (media_type, from_file_data) {
                (Some(m), _) => Some(m.clone()),
                // As the client sent it: Gemini infers the type of its own file URIs.
                (None, true) => None,
                (None, false) => Some(
                    guess_mime(url)
                        .filter(|m| what != "image" || m.starts_with("image/"))
                        .unwrap_or(if what == "image" {
                            "image/jpeg"
                        } else {
                            "application/pdf"
                        })
                        .to_string(),
                ),
            };
            part.file_data = Some(wire::FileData {
                mime_type: mime,
                file_uri: url.clone(),
                extra: inner,
            });
        }
    }
    Ok(part)
}

/// The `functionResponse.response` object for a tool result: the client's own object when it
/// came from Gemini, else `{"result": text}` / `{"error": text}`.
pub(crate) fn response_object(r: &ToolResult) -> Value {
    if let Some(v) = mark(&r.extras, RESPONSE) {
        return v.clone();
    }
    let key = if r.is_error { "error" } else { "result" };
    json!({ key: r.text() })
}

/// A function response part (without media; the caller places those).
pub(crate) fn response_part(
    r: &ToolResult,
    name: String,
    id: Option<String>,
    parts: Option<Vec<wire::Part>>,
) -> wire::Part {
    let mut extra = wire_fields(&r.extras);
    let sig = extra
        .remove("thoughtSignature")
        .and_then(|v| v.as_str().map(str::to_string));
    wire::Part {
        function_response: Some(wire::FunctionResponse {
            id,
            name,
            response: response_object(r),
            parts,
            extra: nested(&r.extras),
        }),
        thought_signature: sig,
        extra,
        ..Default::default()
    }
}

/// An `Other` block back as its part, if it is Gemini's own.
pub(crate) fn other_part(o: &Other) -> Result<wire::Part, Error> {
    match o.extras.for_dialect(Dialect::Gemini) {
        Some(fields) => serde_json::from_value(Value::Object(fields.clone()))
            .map_err(|e| Error::invalid("content", format!("bad {} part: {e}", o.kind))),
        None => Err(Error::unsupported(
            format!("{} content", o.kind),
            Dialect::Gemini,
        )),
    }
}
