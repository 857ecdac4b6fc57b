//! Serde wire types of the OpenAI Responses API (`POST /v1/responses`).
//!
//! These types mirror the JSON and nothing more: every object keeps the fields it does not
//! name in `extra`, so a same-dialect round trip loses nothing. Input and output items, and the
//! content parts inside messages, are polymorphic on `type` and the API keeps adding kinds; they
//! are held as raw JSON values here and decoded one by one with [`from_value`] once their
//! `type` is known, so an unknown kind never fails the whole body. No IR mapping lives here.

use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ir::RawJson;
use crate::{json, Error};

/// Unmapped fields of a wire object, kept verbatim.
pub type Fields = Map<String, Value>;

/// Decodes one already-parsed value found at `path` (`input[2]`), naming the failing field's
/// full path on error (`input[2].call_id`).
///
/// In a plain pass (see [`json::paths_wanted`]) the path inside the value is not tracked: that
/// cost a third of decoding a request's items, and a failure is decoded again tracked.
pub fn from_value<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, Error> {
    if !json::paths_wanted() {
        return T::deserialize(value).map_err(|e| Error::Decode {
            path: path.to_string(),
            message: e.to_string(),
        });
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner.is_empty() || inner == "." {
            path.to_string()
        } else if path.is_empty() {
            inner
        } else {
            format!("{path}.{inner}")
        };
        Error::Decode {
            path,
            message: e.into_inner().to_string(),
        }
    })
}

/// Serializes a wire struct to a JSON value (our own types always serialize).
pub fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A request body. Fields the gateway does not map (`include`, `metadata`, `truncation`,
/// `service_tier`, `prompt`, `conversation`, ...) stay in `extra`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Request {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolDef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A tool of a request, read whole as a value except its `parameters`, which stay text (see
/// [`RawJson`]): a function's schema is the largest value a request holds, and the other
/// dialects only pass it on. In `fields` a `null` holds its place, so writing the tool back
/// puts it where it was.
#[derive(Debug, Clone, Default)]
pub struct ToolDef {
    pub fields: Fields,
    pub parameters: Option<RawJson>,
}

impl ToolDef {
    /// The tool as one value, its `parameters` parsed back into place: for the tools whose
    /// object is kept whole. Fails only on a schema a value cannot hold.
    pub fn into_value(self) -> Result<Value, serde_json::Error> {
        let mut fields = self.fields;
        if let Some(raw) = &self.parameters {
            fields.insert(PARAMETERS.into(), raw.parse()?);
        }
        Ok(Value::Object(fields))
    }
}

const PARAMETERS: &str = "parameters";

impl From<Value> for ToolDef {
    fn from(value: Value) -> Self {
        match value {
            Value::Object(fields) => ToolDef {
                fields,
                parameters: None,
            },
            // `encode_tools` hands over objects only (our wire types serialize to objects).
            _ => ToolDef::default(),
        }
    }
}

impl<'de> Deserialize<'de> for ToolDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ToolDef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a tool object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<ToolDef, A::Error> {
                let mut tool = ToolDef::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == PARAMETERS {
                        // A repeated key: the last one counts, as in a map.
                        tool.parameters = Some(map.next_value()?);
                        tool.fields.insert(key, Value::Null);
                    } else {
                        tool.fields.insert(key, map.next_value()?);
                    }
                }
                Ok(tool)
            }
        }
        d.deserialize_map(V)
    }
}

impl Serialize for ToolDef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            match (&self.parameters, k.as_str()) {
                (Some(raw), PARAMETERS) => map.serialize_entry(k, raw)?,
                _ => map.serialize_entry(k, v)?,
            }
        }
        map.end()
    }
}

/// `input`: a plain string (one user message) or a list of items.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Items(Vec<Value>),
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match text_or_list::<_, untagged::Input>(d)? {
            TextOr::Text(s) => Input::Text(s),
            TextOr::List(v) => Input::Items(v),
        })
    }
}

/// A text-or-list field: read by [`TextOrList`] in a plain pass, else by its derived untagged
/// form `U`, whose errors (naming the enum) are the ones a failing body gets.
fn text_or_list<'de, D, U>(d: D) -> Result<TextOr, D::Error>
where
    D: Deserializer<'de>,
    U: Deserialize<'de> + Into<TextOr>,
{
    if json::paths_wanted() {
        return U::deserialize(d).map(Into::into);
    }
    d.deserialize_any(TextOrList)
}

/// The derived forms of [`Input`] and [`Content`], for the tracked pass: serde's untagged
/// enums buffer the whole value and copy each list item out of the buffer, which cost a
/// quarter of decoding a request, so a plain pass reads them with [`TextOrList`]; their
/// errors (which name the enum) are the ones a failing body gets.
mod untagged {
    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Deserialize)]
    #[serde(untagged)]
    pub(super) enum Input {
        Text(String),
        Items(Vec<Value>),
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    pub(super) enum Content {
        Text(String),
        Parts(Vec<Value>),
    }

    impl From<Input> for super::TextOr {
        fn from(i: Input) -> Self {
            match i {
                Input::Text(s) => Self::Text(s),
                Input::Items(v) => Self::List(v),
            }
        }
    }

    impl From<Content> for super::TextOr {
        fn from(c: Content) -> Self {
            match c {
                Content::Text(s) => Self::Text(s),
                Content::Parts(v) => Self::List(v),
            }
        }
    }
}

/// A string or a list of values, read without buffering (anything else fails).
struct TextOrList;

enum TextOr {
    Text(String),
    List(Vec<Value>),
}

impl<'de> Visitor<'de> for TextOrList {
    type Value = TextOr;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string or a list")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(TextOr::Text(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(TextOr::Text(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(TextOr::List(items))
    }
}

/// `text`: output format and verbosity.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TextConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// `text.format` of type `json_schema`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct JsonSchemaFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// `reasoning`: effort and summary (`generate_summary` is the legacy name of `summary`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReasoningConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A `function` tool: flat, not nested under `function` as in Chat Completions.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FunctionTool {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub parameters: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A `custom` tool taking free-form text, optionally constrained by a grammar `format`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CustomTool {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A message item (`type: "message"` may be omitted in input). `id` and `status` stay in
/// `extra`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MessageItem {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub role: String,
    pub content: Content,
    #[serde(flatten)]
    pub extra: Fields,
}

/// Message content or tool output: a string or a list of parts.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Value>),
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match text_or_list::<_, untagged::Content>(d)? {
            TextOr::Text(s) => Content::Text(s),
            TextOr::List(v) => Content::Parts(v),
        })
    }
}

/// `input_text`, `output_text` (with `annotations`) and `summary_text` parts.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TextPart {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A `refusal` part of an assistant message.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RefusalPart {
    #[serde(rename = "type")]
    pub kind: String,
    pub refusal: String,
    #[serde(flatten)]
    pub extra: Fields,
}

/// An `input_image` part: a URL (or data URL) or an uploaded file id.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ImagePart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// An `input_file` part: inline data URL, uploaded file id or URL.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FilePart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A `function_call` item. `id` (`fc_...`) and `status` stay in `extra`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FunctionCall {
    #[serde(rename = "type")]
    pub kind: String,
    pub call_id: String,
    pub name: String,
    #[serde(default)]
    pub arguments: String,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A `custom_tool_call` item: free-form `input` text.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CustomToolCall {
    #[serde(rename = "type")]
    pub kind: String,
    pub call_id: String,
    pub name: String,
    #[serde(default)]
    pub input: String,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A `function_call_output` or `custom_tool_call_output` item.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CallOutput {
    #[serde(rename = "type")]
    pub kind: String,
    pub call_id: String,
    pub output: Content,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A `reasoning` item. `id`, `status` and raw `content` stay in `extra`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Reasoning {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub summary: Vec<TextPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// A response object (non-streamed body, and inside `response.*` stream events). Echoed
/// request fields (`instructions`, `tools`, `temperature`, ...) stay in `extra`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Response {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_details: Option<IncompleteDetails>,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub output: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(flatten)]
    pub extra: Fields,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct IncompleteDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(flatten)]
    pub extra: Fields,
}

/// `usage`: `input_tokens` includes `cached_tokens`; `output_tokens` includes reasoning.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_details: Option<InputDetails>,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_details: Option<OutputDetails>,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(flatten)]
    pub extra: Fields,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InputDetails {
    #[serde(default)]
    pub cached_tokens: u64,
    #[serde(flatten)]
    pub extra: Fields,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OutputDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
    #[serde(flatten)]
    pub extra: Fields,
}
