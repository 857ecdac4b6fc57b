//! Content blocks between the Anthropic wire and the IR, shared by requests and responses:
//! text with citations, images and documents, tool calls and results, thinking, and the
//! verbatim `Other` blocks. It also owns the markers this dialect leaves in IR extras to
//! remember wire forms the IR does not model (a string `content`, say). It must not decide
//! message order or roles: that is `request.rs`.

use serde_json::{Map, Value};

use super::wire::{self, Block as WireBlock, KnownBlock, OneOrMany};
use crate::ir::{self, Block, Extras, MediaSource};
use crate::{ids, json, signature, Dialect, Error};

const D: Dialect = Dialect::Anthropic;

/// Extras keys starting with this are markers for this dialect's encoders, never wire fields.
pub(crate) const MARK: &str = "switchyard.";
/// Marker on a message or tool result whose `content` was a plain string.
pub(crate) const STRING_FORM: &str = "switchyard.string";

/// Whether a block is going to an upstream (a request) or to a client (a response). Requests
/// are stricter: no empty text, only Anthropic signatures, no foreign citations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Request,
    Response,
}

pub(crate) fn extras(fields: Map<String, Value>) -> Extras {
    Extras::new(D, fields)
}

/// The wire fields to re-emit from `e`: this dialect's fields, without markers.
pub(crate) fn wire_extra(e: &Extras) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(fields) = e.for_dialect(D) {
        for (k, v) in fields {
            if !k.starts_with(MARK) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// A marker's value in `e`, when `e` is this dialect's.
pub(crate) fn marker<'a>(e: &'a Extras, key: &str) -> Option<&'a Value> {
    e.for_dialect(D).and_then(|f| f.get(key))
}

/// A marker holding an object of unknown fields of a nested wire object.
pub(crate) fn marker_map(e: &Extras, key: &str) -> Map<String, Value> {
    match marker(e, key) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    }
}

pub(crate) fn cache_from_wire(c: Option<wire::CacheControl>) -> Option<ir::CacheControl> {
    c.map(|c| ir::CacheControl {
        kind: c.kind,
        ttl: c.ttl,
    })
}

pub(crate) fn cache_to_wire(c: &Option<ir::CacheControl>) -> Option<wire::CacheControl> {
    c.as_ref().map(|c| wire::CacheControl {
        extra: Map::new(),
        kind: c.kind.clone(),
        ttl: c.ttl.clone(),
    })
}

/// Decodes `content` (string or blocks); the flag says it was a string.
pub(crate) fn decode_content(content: OneOrMany<WireBlock>) -> (Vec<Block>, bool) {
    match content {
        OneOrMany::Text(s) => (vec![Block::text(s)], true),
        OneOrMany::Blocks(blocks) => (blocks.into_iter().map(decode_block).collect(), false),
    }
}

pub(crate) fn decode_block(block: WireBlock) -> Block {
    let known = match block {
        WireBlock::Known(k) => k,
        WireBlock::Other(map) => return other(map),
    };
    match known {
        KnownBlock::Text(t) => Block::Text(decode_text(t)),
        KnownBlock::Image(i) => match source_from_wire(&i.source, false) {
            Some(source) => Block::Image(ir::Image {
                source,
                detail: None,
                cache_control: cache_from_wire(i.cache_control),
                extras: extras(i.extra),
            }),
            None => verbatim(KnownBlock::Image(i)),
        },
        KnownBlock::Document(d) => decode_document(d),
        KnownBlock::ToolUse(t) => Block::ToolUse(ir::ToolUse {
            id: t.id,
            name: t.name,
            input: t.input,
            kind: ir::ToolCallKind::Function,
            signature: None,
            cache_control: cache_from_wire(t.cache_control),
            extras: extras(t.extra),
        }),
        KnownBlock::ToolResult(r) => Block::ToolResult(decode_tool_result(r)),
        KnownBlock::Thinking(t) => {
            let mut extra = t.extra;
            let signature = match t.signature {
                Some(s) if !s.is_empty() => Some(signature::from_wire(&s, D.family())),
                // An empty signature is no signature; kept so the same form goes back.
                Some(s) => {
                    extra.insert("signature".into(), Value::String(s));
                    None
                }
                None => None,
            };
            Block::Thinking(ir::Thinking {
                text: t.thinking,
                signature,
                extras: extras(extra),
            })
        }
        KnownBlock::RedactedThinking(r) if r.extra.is_empty() => {
            Block::RedactedThinking(ir::RedactedThinking { data: r.data })
        }
        k @ KnownBlock::RedactedThinking(_) => verbatim(k),
    }
}

fn other(map: Map<String, Value>) -> Block {
    let kind = map
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Block::Other(ir::Other {
        kind,
        extras: extras(map),
    })
}

/// A known block the IR cannot hold exactly (an unknown source type, say): kept whole.
fn verbatim(block: KnownBlock) -> Block {
    match serde_json::to_value(&block) {
        Ok(Value::Object(map)) => other(map),
        _ => other(Map::new()),
    }
}

fn decode_text(t: wire::TextBlock) -> ir::Text {
    let mut extra = t.extra;
    let citations = match t.citations {
        Some(list) if list.is_empty() => {
            extra.insert("citations".into(), Value::Array(Vec::new()));
            Vec::new()
        }
        Some(list) => list.into_iter().map(decode_citation).collect(),
        None => Vec::new(),
    };
    ir::Text {
        text: t.text,
        citations,
        cache_control: cache_from_wire(t.cache_control),
        signature: None,
        extras: extras(extra),
    }
}

/// Maps the common citation fields; the whole object rides in extras for this dialect.
pub(crate) fn decode_citation(c: Map<String, Value>) -> ir::Citation {
    let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |keys: &[&str]| keys.iter().find_map(|k| c.get(*k).and_then(Value::as_u64));
    ir::Citation {
        url: s("url"),
        title: s("title").or_else(|| s("document_title")),
        cited_text: s("cited_text"),
        start: n(&["start_char_index", "start_page_number", "start_block_index"]),
        end: n(&["end_char_index", "end_page_number", "end_block_index"]),
        extras: extras(c),
    }
}

/// A citation for this dialect: its own object verbatim; a foreign one only to clients (as
/// the closest location type), since upstreams reject citations they did not mint.
pub(crate) fn encode_citation(c: &ir::Citation, target: Target) -> Option<Map<String, Value>> {
    if let Some(fields) = c.extras.for_dialect(D) {
        return Some(fields.clone());
    }
    if target == Target::Request {
        return None;
    }
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    };
    if let Some(url) = &c.url {
        put("type", Some("web_search_result_location".into()));
        put("url", Some(url.clone().into()));
        put("title", c.title.clone().map(Value::from));
        put("cited_text", c.cited_text.clone().map(Value::from));
    } else {
        put("type", Some("char_location".into()));
        put("cited_text", c.cited_text.clone().map(Value::from));
        put("document_title", c.title.clone().map(Value::from));
        put("start_char_index", c.start.map(Value::from));
        put("end_char_index", c.end.map(Value::from));
    }
    Some(m)
}

fn decode_document(d: wire::DocumentBlock) -> Block {
    let Some(source) = source_from_wire(&d.source, true) else {
        return verbatim(KnownBlock::Document(d));
    };
    let mut extra = d.extra;
    let citations_enabled = match d.citations {
        Some(c) if c.extra.is_empty() && c.enabled.is_some() => c.enabled,
        // An unusual citations object goes back as it came.
        Some(c) => {
            if let Ok(v) = serde_json::to_value(&c) {
                extra.insert("citations".into(), v);
            }
            None
        }
        None => None,
    };
    Block::Document(ir::Document {
        source,
        title: d.title,
        context: d.context,
        filename: None,
        citations_enabled,
        cache_control: cache_from_wire(d.cache_control),
        extras: extras(extra),
    })
}

fn decode_tool_result(r: wire::ToolResultBlock) -> ir::ToolResult {
    let mut extra = r.extra;
    let content = match r.content {
        Some(OneOrMany::Blocks(b)) if b.is_empty() => {
            extra.insert("content".into(), Value::Array(Vec::new()));
            Vec::new()
        }
        Some(c) => {
            let (blocks, string_form) = decode_content(c);
            if string_form {
                extra.insert(STRING_FORM.into(), Value::Bool(true));
            }
            blocks
        }
        None => Vec::new(),
    };
    if r.is_error == Some(false) {
        extra.insert("is_error".into(), Value::Bool(false));
    }
    ir::ToolResult {
        tool_use_id: r.tool_use_id,
        name: None,
        content,
        is_error: r.is_error.unwrap_or(false),
        cache_control: cache_from_wire(r.cache_control),
        extras: extras(extra),
    }
}

/// The IR source of a wire source, when the IR can hold it exactly.
fn source_from_wire(s: &wire::Source, document: bool) -> Option<MediaSource> {
    if !s.extra.is_empty() {
        return None;
    }
    match (s.kind.as_str(), &s.media_type, &s.data, &s.url, &s.file_id) {
        ("base64", Some(m), Some(d), None, None) => Some(MediaSource::Base64 {
            media_type: m.clone(),
            data: d.clone(),
        }),
        ("url", None, None, Some(u), None) => Some(MediaSource::Url {
            url: u.clone(),
            media_type: None,
        }),
        ("file", None, None, None, Some(f)) => Some(MediaSource::File {
            file_id: f.clone(),
            media_type: None,
        }),
        ("text", Some(m), Some(d), None, None) if document => Some(MediaSource::Text {
            media_type: m.clone(),
            data: d.clone(),
        }),
        _ => None,
    }
}

/// The wire source of an IR source. A URL's or file's media type has no field here and
/// is dropped (the API sniffs it).
fn source_to_wire(s: &MediaSource, document: bool) -> Result<wire::Source, Error> {
    let mut w = wire::Source::default();
    match s {
        MediaSource::Base64 { media_type, data } => {
            w.kind = "base64".into();
            w.media_type = Some(media_type.clone());
            w.data = Some(data.clone());
        }
        MediaSource::Url { url, .. } => {
            w.kind = "url".into();
            w.url = Some(url.clone());
        }
        MediaSource::File { file_id, .. } => {
            w.kind = "file".into();
            w.file_id = Some(file_id.clone());
        }
        MediaSource::Text { media_type, data } if document => {
            w.kind = "text".into();
            w.media_type = Some(media_type.clone());
            w.data = Some(data.clone());
        }
        MediaSource::Text { .. } => return Err(Error::unsupported("text image source", D)),
    }
    Ok(w)
}

/// Whether an IR text block is nothing but text (a string `content` can stand for it).
pub(crate) fn is_plain(t: &ir::Text) -> bool {
    t.citations.is_empty()
        && t.cache_control.is_none()
        && t.signature.is_none()
        && t.extras.is_empty()
}

/// Whether a wire block is a plain text block that a string `content` can stand for.
pub(crate) fn plain_text(b: &WireBlock) -> Option<&str> {
    match b {
        WireBlock::Known(KnownBlock::Text(t))
            if t.citations.is_none() && t.cache_control.is_none() && t.extra.is_empty() =>
        {
            Some(&t.text)
        }
        _ => None,
    }
}

/// Encodes blocks, leaving out those a request must not carry (`None` from
/// [`encode_block`]). For a client, a tool call carrying another family's signature is
/// preceded by the thinking block that carries it ([`signature_carrier`]).
pub(crate) fn encode_blocks(blocks: &[Block], target: Target) -> Result<Vec<WireBlock>, Error> {
    let mut out = Vec::with_capacity(blocks.len());
    for b in blocks {
        if let (Target::Response, Block::ToolUse(t)) = (target, b) {
            out.extend(t.signature.as_ref().and_then(signature_carrier));
        }
        if let Some(w) = encode_block(b, target)? {
            out.push(w);
        }
    }
    Ok(out)
}

/// The thinking block that carries a foreign signature of a tool call to a client: empty
/// `thinking`, the signature wrapped. `tool_use` has no signature field, and a Gemini call's
/// `thoughtSignature` must go back with the call (Gemini 3 rejects the turn without it); the
/// client returns the block in its history, the decoder reads the wrapper, and the Gemini
/// encoder moves the signature onto the call that follows. `None` for an Anthropic
/// signature, which no Anthropic tool call carries.
pub(crate) fn signature_carrier(sig: &ir::Signature) -> Option<WireBlock> {
    (sig.family != D.family()).then(|| {
        WireBlock::Known(KnownBlock::Thinking(wire::ThinkingBlock {
            extra: Map::new(),
            thinking: String::new(),
            signature: Some(signature::to_wire(sig, D.family())),
        }))
    })
}

/// One IR block on the wire; `None` when it is left out on purpose: empty text in a request
/// (the API rejects it) and thinking without an Anthropic signature in a request (the API
/// rejects it, and a signature is never invented).
pub(crate) fn encode_block(b: &Block, target: Target) -> Result<Option<WireBlock>, Error> {
    let known = match b {
        Block::Text(t) => {
            if target == Target::Request && t.text.is_empty() {
                return Ok(None);
            }
            let mut citations = None;
            if !t.citations.is_empty() {
                let list: Vec<_> = t
                    .citations
                    .iter()
                    .filter_map(|c| encode_citation(c, target))
                    .collect();
                citations = (!list.is_empty()).then_some(list);
            }
            KnownBlock::Text(wire::TextBlock {
                extra: wire_extra(&t.extras),
                text: t.text.clone(),
                citations,
                cache_control: cache_to_wire(&t.cache_control),
            })
        }
        Block::Image(i) => KnownBlock::Image(wire::ImageBlock {
            extra: wire_extra(&i.extras),
            source: source_to_wire(&i.source, false)?,
            cache_control: cache_to_wire(&i.cache_control),
        }),
        Block::Document(d) => KnownBlock::Document(wire::DocumentBlock {
            extra: wire_extra(&d.extras),
            source: source_to_wire(&d.source, true)?,
            title: d.title.clone(),
            context: d.context.clone(),
            citations: d.citations_enabled.map(|enabled| wire::CitationsConfig {
                extra: Map::new(),
                enabled: Some(enabled),
            }),
            cache_control: cache_to_wire(&d.cache_control),
        }),
        Block::ToolUse(t) => return encode_tool_use(t, target).map(Some),
        Block::ToolResult(r) => KnownBlock::ToolResult(encode_tool_result(r, target)?),
        Block::Thinking(t) => {
            let signature = match (&t.signature, target) {
                (Some(s), Target::Request) if s.family == D.family() && !s.value.is_empty() => {
                    Some(s.value.clone())
                }
                (_, Target::Request) => return Ok(None),
                (Some(s), Target::Response) => Some(signature::to_wire(s, D.family())),
                // The API always sends a signature field; an empty one stands for "none".
                (None, Target::Response) => Some(String::new()),
            };
            KnownBlock::Thinking(wire::ThinkingBlock {
                extra: wire_extra(&t.extras),
                thinking: t.text.clone(),
                signature,
            })
        }
        Block::RedactedThinking(r) => KnownBlock::RedactedThinking(wire::RedactedThinkingBlock {
            extra: Map::new(),
            data: r.data.clone(),
        }),
        Block::Other(o) => match o.extras.for_dialect(D) {
            Some(fields) => return Ok(Some(WireBlock::Other(fields.clone()))),
            None => return Err(Error::unsupported(format!("{} content", o.kind), D)),
        },
    };
    Ok(Some(WireBlock::Known(known)))
}

fn encode_tool_use(t: &ir::ToolUse, target: Target) -> Result<WireBlock, Error> {
    let id = ids::anthropic_tool_id(&t.id).into_owned();
    let input = json::arguments_object(&t.input);
    if t.kind == ir::ToolCallKind::Server {
        // A foreign provider-side call: a client can be shown it, an upstream cannot run it.
        if target == Target::Request {
            return Err(Error::unsupported("server tool call", D));
        }
        let mut m = Map::new();
        m.insert("type".into(), "server_tool_use".into());
        m.insert("id".into(), id.into());
        m.insert("name".into(), t.name.clone().into());
        m.insert("input".into(), input);
        return Ok(WireBlock::Other(m));
    }
    Ok(WireBlock::Known(KnownBlock::ToolUse(wire::ToolUseBlock {
        extra: wire_extra(&t.extras),
        id,
        name: t.name.clone(),
        input,
        cache_control: cache_to_wire(&t.cache_control),
    })))
}

fn encode_tool_result(r: &ir::ToolResult, target: Target) -> Result<wire::ToolResultBlock, Error> {
    let string_form = marker(&r.extras, STRING_FORM).is_some();
    // A string content goes back as a string, even an empty one (valid for tool results).
    let content = match (string_form, r.content.as_slice()) {
        (true, [Block::Text(t)]) if is_plain(t) => Some(OneOrMany::Text(t.text.clone())),
        _ => {
            let blocks = encode_blocks(&r.content, target)?;
            (!blocks.is_empty()).then_some(OneOrMany::Blocks(blocks))
        }
    };
    Ok(wire::ToolResultBlock {
        extra: wire_extra(&r.extras),
        tool_use_id: ids::anthropic_tool_id(&r.tool_use_id).into_owned(),
        content,
        is_error: r.is_error.then_some(true),
        cache_control: cache_to_wire(&r.cache_control),
    })
}
