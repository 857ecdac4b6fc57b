//! JSON helpers shared by the dialects: decoding with the failing field's path in the error,
//! and tool-argument parsing that never loses what the model produced.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ir::ToolCallKind;
use crate::Error;

/// Deserializes `body`, naming the failing field's path on error (`messages[1].role`).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Error::Decode {
            path,
            message: inner.to_string(),
        }
    })?;
    Ok(value)
}

/// Deserializes one already-parsed value (used for stream frames), naming the path on error.
pub fn decode_str<T: DeserializeOwned>(s: &str) -> Result<T, Error> {
    decode(s.as_bytes())
}

/// Serializes a wire value. Serialization of our own types cannot fail (string keys only).
pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Tool arguments arrive as a JSON string (OpenAI, Responses) or as fragments in a stream.
/// Valid JSON becomes the value; anything else is kept as a JSON string, never dropped.
/// Custom tools take free text, so their input is always a string.
pub fn parse_arguments(raw: &str, kind: ToolCallKind) -> Value {
    if kind == ToolCallKind::Custom {
        return Value::String(raw.to_string());
    }
    if raw.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// The inverse of [`parse_arguments`]: the argument text to send to a dialect that wants a
/// string.
pub fn arguments_text(input: &Value, kind: ToolCallKind) -> String {
    match (input, kind) {
        (Value::String(s), _) => s.clone(),
        (Value::Null, ToolCallKind::Function) => "{}".to_string(),
        (v, _) => v.to_string(),
    }
}

/// Tool input as a JSON object for dialects that require one (Anthropic `input`, Gemini
/// `args`). Non-object input (a string that did not parse) is wrapped so it still arrives.
pub fn arguments_object(input: &Value) -> Value {
    match input {
        Value::Object(_) => input.clone(),
        Value::Null => Value::Object(Default::default()),
        other => {
            let mut m = serde_json::Map::new();
            m.insert("input".into(), other.clone());
            Value::Object(m)
        }
    }
}
