//! Serde types for the Anthropic Messages wire format (`POST /v1/messages`): request,
//! response, content blocks, stream events and error bodies. It owns shapes only; what they
//! mean in the IR is `content.rs`, `request.rs`, `response.rs` and `stream/`.
//!
//! Every object keeps its unknown fields in `extra`, declared FIRST: encoders serialize through
//! [`to_bytes`], which builds a `serde_json::Value` where a later key replaces an earlier one,
//! so a typed field that is set wins over a same-named field left in `extra`, and one that is
//! unset lets the `extra` value through (that is how explicit defaults such as
//! `"is_error": false` or `"tools": []` survive a round trip).

use std::borrow::Cow;
use std::cell::Cell;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ir::RawJson;
use crate::json;

/// Serializes a wire value to JSON bytes, resolving `extra` / typed-field collisions in
/// favour of the typed field (see the module doc).
///
/// Written directly first: only a collision makes the two differ (it is written as a repeated
/// key, where the `Value` keeps one, at the first one's place), and the detour through a
/// `Value` cost most of encoding a message. So the direct bytes are kept when no object in them
/// repeats a key, and the `Value` path resolves the rest.
pub fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    EXTRA_WRITTEN.with(|w| w.set(false));
    match serde_json::to_vec(value) {
        // Only a field from an `extra` can repeat a typed field's key: with none written (every
        // request translated from another dialect) there is nothing to look for.
        Ok(direct)
            if !EXTRA_WRITTEN.with(Cell::get)
                || std::str::from_utf8(&direct).is_ok_and(crate::scan::keys_unique) =>
        {
            direct
        }
        // A schema a `Value` cannot hold (see `RawJson`) fails the detour: the direct bytes,
        // repeated key and all, still say everything.
        Ok(direct) => via_value(value).unwrap_or(direct),
        Err(_) => via_value(value).unwrap_or_default(),
    }
}

thread_local! {
    /// Whether the serialization [`to_bytes`] runs wrote a field from an `extra` (per thread:
    /// serde gives a `Serialize` no context from its caller, and a serialization is synchronous).
    static EXTRA_WRITTEN: Cell<bool> = const { Cell::new(false) };
}

/// How every `extra` is written: as itself, noting for [`to_bytes`] when it has a field.
fn write_extra<S: serde::Serializer>(extra: &Map<String, Value>, s: S) -> Result<S::Ok, S::Error> {
    if !extra.is_empty() {
        EXTRA_WRITTEN.with(|w| w.set(true));
    }
    extra.serialize(s)
}

fn via_value<T: Serialize>(value: &T) -> Option<Vec<u8>> {
    serde_json::to_value(value)
        .and_then(|v| serde_json::to_vec(&v))
        .ok()
}

/// `POST /v1/messages` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Request<'a> {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub model: String,
    /// Required by the API; decoded leniently (the encoder always sends one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<OneOrMany<SystemBlock>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool<'a>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    /// Not in the API, but sent by some clients (Claude Code-like) inside `messages`.
    System,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub role: Role,
    pub content: OneOrMany<Block>,
}

/// A field that is either a plain string or an array of blocks (`content`, `system`,
/// `tool_result.content`). Decoded by hand so a bad block reports its own path.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    Text(String),
    Blocks(Vec<T>),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(OneOrMany::Text(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(OneOrMany::Text(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<T>()? {
                    out.push(item);
                }
                Ok(OneOrMany::Blocks(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// One block of the top-level `system` array (always `type: "text"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemBlock {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheControl {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// A content block: one of the types the IR models, or any other type kept verbatim.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Block {
    Known(KnownBlock),
    Other(Map<String, Value>),
}

/// The block types the IR models. Anything else (`server_tool_use`, `search_result`,
/// `web_search_tool_result`, `container_upload`, ...) is [`Block::Other`].
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KnownBlock {
    Text(TextBlock),
    Image(ImageBlock),
    Document(DocumentBlock),
    ToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
    Thinking(ThinkingBlock),
    RedactedThinking(RedactedThinkingBlock),
}

impl<'de> Deserialize<'de> for Block {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if json::paths_wanted() {
            from_map(Map::deserialize(d)?)
        } else {
            d.deserialize_map(PlainBlock)
        }
    }
}

/// A block read whole into a map, then into its type's struct: the tracked way, and the plain
/// pass's way when `type` is not the first key.
fn from_map<E: de::Error>(mut map: Map<String, Value>) -> Result<Block, E> {
    let kind = match map.get("type") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(de::Error::custom("type: expected a string")),
        None => return Err(de::Error::missing_field("type")),
    };
    // Each known type is parsed straight into its struct (not through serde's buffering
    // internally tagged enum) so a bad field keeps its path.
    // `shift_remove` keeps the other keys in their order (`remove` would move the last into
    // the first place), as the plain pass reads them.
    let known = |map: &mut Map<String, Value>| {
        map.shift_remove("type");
        Value::Object(std::mem::take(map))
    };
    Ok(Block::Known(match kind.as_str() {
        "text" => KnownBlock::Text(from_value_with_path(known(&mut map))?),
        "image" => KnownBlock::Image(from_value_with_path(known(&mut map))?),
        "document" => KnownBlock::Document(from_value_with_path(known(&mut map))?),
        "tool_use" => KnownBlock::ToolUse(from_value_with_path(known(&mut map))?),
        "tool_result" => KnownBlock::ToolResult(from_value_with_path(known(&mut map))?),
        "thinking" => KnownBlock::Thinking(from_value_with_path(known(&mut map))?),
        "redacted_thinking" => KnownBlock::RedactedThinking(from_value_with_path(known(&mut map))?),
        _ => return Ok(Block::Other(map)),
    }))
}

/// Deserializes a buffered value, putting the path inside it into the error message (the
/// outer path is added by the caller's `serde_path_to_error`). In a plain pass the path is
/// not needed (see [`json::paths_wanted`]), and tracking it cost a third of reading a block.
fn from_value_with_path<T: DeserializeOwned, E: de::Error>(v: Value) -> Result<T, E> {
    if !json::paths_wanted() {
        return T::deserialize(v).map_err(E::custom);
    }
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            E::custom(e.into_inner())
        } else {
            E::custom(format!("{path}: {}", e.into_inner()))
        }
    })
}

/// A block in a plain pass: when `type` comes first (as every client and the API write it),
/// the rest of the object is read straight into the type's struct, without the map and the
/// `Value` in between. Anything else goes through [`from_map`]. A second `type` key further on
/// is declined (it would end up in `extra`, where the map keeps only the last one).
struct PlainBlock;

impl<'de> Visitor<'de> for PlainBlock {
    type Value = Block;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a content block")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Block, A::Error> {
        let Some(first) = map.next_key::<Text<'de>>()? else {
            return from_map(Map::new());
        };
        if first.0 != "type" {
            let value = map.next_value()?;
            return from_map(rest_of(map, first.0.into_owned(), value)?);
        }
        let kind = map.next_value::<Text<'de>>()?;
        Ok(Block::Known(match kind.0.as_ref() {
            "text" => KnownBlock::Text(rest_into(map, |b: &TextBlock| &b.extra)?),
            "image" => KnownBlock::Image(rest_into(map, |b: &ImageBlock| &b.extra)?),
            "document" => KnownBlock::Document(rest_into(map, |b: &DocumentBlock| &b.extra)?),
            "tool_use" => KnownBlock::ToolUse(rest_into(map, |b: &ToolUseBlock| &b.extra)?),
            "tool_result" => {
                KnownBlock::ToolResult(rest_into(map, |b: &ToolResultBlock| &b.extra)?)
            }
            "thinking" => KnownBlock::Thinking(rest_into(map, |b: &ThinkingBlock| &b.extra)?),
            "redacted_thinking" => {
                KnownBlock::RedactedThinking(rest_into(map, |b: &RedactedThinkingBlock| &b.extra)?)
            }
            _ => {
                let kind = Value::String(kind.0.into_owned());
                return from_map(rest_of(map, "type".to_string(), kind)?);
            }
        }))
    }
}

/// The rest of a block's object read into `T`, declining a repeated `type`.
fn rest_into<'de, T, A>(map: A, extra: impl Fn(&T) -> &Map<String, Value>) -> Result<T, A::Error>
where
    T: Deserialize<'de>,
    A: MapAccess<'de>,
{
    let block = T::deserialize(MapAccessDeserializer::new(map))?;
    if extra(&block).contains_key("type") {
        return Err(de::Error::custom("a repeated type key"));
    }
    Ok(block)
}

/// A map of the entry already read and the rest of the object, as `Map::deserialize` builds
/// it (a repeated key keeps its first place and its last value).
fn rest_of<'de, A: MapAccess<'de>>(
    mut map: A,
    key: String,
    value: Value,
) -> Result<Map<String, Value>, A::Error> {
    let mut all = Map::new();
    all.insert(key, value);
    while let Some((k, v)) = map.next_entry::<String, Value>()? {
        all.insert(k, v);
    }
    Ok(all)
}

/// A string borrowed from the input where it has no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextBlock {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<Vec<Map<String, Value>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageBlock {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

/// Where an image's or document's bytes are: `base64`, `url`, `file` or (documents) `text`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Source {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentBlock {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<CitationsConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

/// A document's `citations: {"enabled": true}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CitationsConfig {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolUseBlock {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub id: String,
    pub name: String,
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolResultBlock {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub tool_use_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<OneOrMany<Block>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThinkingBlock {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub thinking: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RedactedThinkingBlock {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub data: String,
}

/// A tool definition. A custom tool has `input_schema` (and an optional `"type": "custom"`,
/// kept in `extra`); a server tool (`web_search_20250305`, `bash_20250124`, ...) has a
/// versioned `type` and no schema.
///
/// It borrows its text and schema from the IR when a request is encoded (`'a`) and owns them
/// when one is decoded: copying a schema only to write it out was a third of encoding an
/// agent's request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool<'a> {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    pub name: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Cow<'a, RawJson>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolChoice {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `{"type":"enabled","budget_tokens":N}`, `{"type":"disabled"}` or `{"type":"adaptive"}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Thinking {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutputConfig {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<OutputFormat>,
}

/// `{"type":"json_schema","schema":{...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputFormat {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<RawJson>,
}

/// A non-streamed response; also the `message` of `message_start` (content empty there).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(default)]
    pub id: String,
    #[serde(rename = "type", default = "message_type")]
    pub kind: String,
    #[serde(default = "assistant_role")]
    pub role: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub content: Vec<Block>,
    /// Always present (null while streaming), as the API sends it.
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    #[serde(default)]
    pub usage: Usage,
}

fn message_type() -> String {
    "message".into()
}

fn assistant_role() -> String {
    "assistant".into()
}

/// Token usage. `input_tokens` excludes cache reads and writes, as the IR's does.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Usage {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    #[serde(default)]
    pub cache_read_input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

/// `{"type":"error","error":{"type":...,"message":...},"request_id":...}`, the body of an
/// error response and the data of a stream `error` event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(rename = "type", default = "error_type")]
    pub kind: String,
    pub error: ErrorDetail,
}

fn error_type() -> String {
    "error".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

/// The data of one stream event, by its `type`. Unknown event types are skipped by the
/// decoder before this is parsed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    MessageStart {
        message: Response,
    },
    ContentBlockStart {
        index: usize,
        content_block: Block,
    },
    ContentBlockDelta {
        index: usize,
        delta: Map<String, Value>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Usage,
    },
    MessageStop,
    Ping,
    Error {
        error: ErrorDetail,
    },
}

/// `message_delta.delta`. Both fields are always written (null when unset), as the API does.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MessageDeltaBody {
    #[serde(flatten, serialize_with = "write_extra")]
    pub extra: Map<String, Value>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(extra: Value) -> Response {
        let Value::Object(extra) = extra else {
            panic!("an object")
        };
        Response {
            extra,
            id: "msg_1".into(),
            kind: "message".into(),
            role: "assistant".into(),
            model: "claude".into(),
            content: Vec::new(),
            stop_reason: Some("end_turn".into()),
            stop_sequence: None,
            usage: Usage::default(),
        }
    }

    /// A request with every known block type, `type` first as clients write it.
    const BLOCKS: &str = r#"{"model":"m","max_tokens":9,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"a\"b","x":1},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA"}},{"type":"document","source":{"type":"text","data":"d"},"title":"t"}]},{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"redacted_thinking","data":"r"},{"type":"tool_use","id":"t1","name":"f","input":{"a":[1,2.5,null]}},{"type":"server_tool_use","id":"s1","name":"web_search","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"ok"}],"is_error":false}]}]}"#;

    fn agree(body: &str) -> bool {
        let (plain, tracked) = json::both_passes::<Request>(body);
        if let Some(plain) = &plain {
            assert_eq!(
                Some(plain),
                tracked.as_ref().ok(),
                "the plain pass read {body} differently"
            );
        }
        plain.is_some()
    }

    #[test]
    fn blocks_read_straight_into_their_structs_are_those_of_the_map_path() {
        assert!(
            agree(BLOCKS),
            "the plain pass declined the block-rich request"
        );
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anthropic");
        for kind in ["requests", "responses"] {
            for entry in std::fs::read_dir(root.join(kind)).expect("fixtures") {
                let body =
                    std::fs::read_to_string(entry.expect("a fixture").path()).expect("utf-8");
                let taken = if kind == "requests" {
                    agree(&body)
                } else {
                    let (plain, tracked) = json::both_passes::<Response>(&body);
                    assert_eq!(plain.as_ref(), tracked.as_ref().ok());
                    plain.is_some()
                };
                assert!(taken, "the plain pass declined a fixture: {body}");
            }
        }
    }

    #[test]
    fn unusual_blocks_are_declined_or_read_as_the_map_path_reads_them() {
        let request = |blocks: &str| {
            format!(r#"{{"model":"m","messages":[{{"role":"user","content":[{blocks}]}}]}}"#)
        };
        for blocks in [
            // `type` not first, unknown, escaped, repeated, not a string, missing.
            r#"{"text":"a","type":"text"}"#,
            r#"{"id":"s","type":"server_tool_use","input":{}}"#,
            r#"{"type":"server_tool_use","id":"s"}"#,
            r#"{"type":"text","text":"a"}"#,
            r#"{"type":"text","text":"a","type":"image"}"#,
            r#"{"type":"redacted_thinking","data":"d","b":1,"a":2}"#,
            r#"{"type":"tool_use","z":0,"id":"t","name":"f","input":{},"y":1,"x":2}"#,
            r#"{"type":"text","text":"a","type":"text"}"#,
            r#"{"type":"mystery","text":"a","type":"text"}"#,
            r#"{"type":"text","type":"mystery"}"#,
            r#"{"type":5,"text":"a"}"#,
            r#"{"type":null}"#,
            r#"{}"#,
            r#"{"type":"text"}"#,
            r#"{"type":"text","text":5}"#,
            r#"{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"x","type":"image"}]}"#,
            r#""a string""#,
            r#"[]"#,
        ] {
            agree(&request(blocks));
        }
        // The common shapes are not declined.
        for blocks in [
            r#"{"type":"type"}"#,
            r#"{"type":"server_tool_use","id":"s"}"#,
        ] {
            assert!(agree(&request(blocks)), "declined {blocks}");
        }
    }

    #[test]
    fn every_cut_and_corruption_of_blocks_is_declined_or_read_as_the_map_path_reads_it() {
        for body in crate::scan::cuts_and_corruptions(&[BLOCKS]) {
            agree(&body);
        }
    }

    #[test]
    fn bytes_are_those_of_the_value_path_with_or_without_a_collision() {
        for extra in [
            serde_json::json!({}),
            serde_json::json!({"container": {"id": "c", "nested": {"a": 1, "b": [1, 2]}}}),
            // Collisions: a typed field that is written wins, at the extra key's place.
            serde_json::json!({"model": "other", "x": 1}),
            serde_json::json!({"stop_reason": "max_tokens"}),
            // `stop_sequence` is written (as null) too, so the typed field wins again.
            serde_json::json!({"stop_sequence": "END"}),
        ] {
            let r = response(extra);
            let bytes = to_bytes(&r);
            assert_eq!(
                bytes,
                via_value(&r).unwrap(),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let collided = to_bytes(&response(serde_json::json!({"model": "other"})));
        let v: Value = serde_json::from_slice(&collided).unwrap();
        assert_eq!(v["model"], "claude");
        assert_eq!(
            String::from_utf8(collided)
                .unwrap()
                .matches("\"model\"")
                .count(),
            1
        );
    }

    #[test]
    fn a_schema_no_value_can_hold_keeps_the_direct_bytes_on_a_collision() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let schema: RawJson = serde_json::from_str(&deep).unwrap();
        let mut extra = Map::new();
        extra.insert("model".into(), Value::from("other"));
        let req = Request {
            extra,
            model: "m".into(),
            tools: Some(vec![Tool {
                extra: Map::new(),
                name: "f".into(),
                description: None,
                input_schema: Some(Cow::Owned(schema)),
                strict: None,
                cache_control: None,
            }]),
            ..Request::default()
        };
        let bytes = String::from_utf8(to_bytes(&req)).unwrap();
        assert!(bytes.contains(&deep), "{bytes}");
    }
}
