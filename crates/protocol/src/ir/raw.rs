//! JSON the gateway carries without reading it: a tool's parameter schema and a structured
//! output's schema, which Anthropic and OpenAI chat pass on as they came. It owns the text and
//! its few views (as text, as a parsed value); it must not be parsed on a path that only
//! forwards it.
//!
//! Kept as text, a schema costs one allocation to decode and a copy to encode, where a
//! `serde_json::Value` built a tree of maps and strings and serialized it back. It also keeps
//! what a value would change: numbers as written (`1e2`, integers past `u64`) and escapes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// One JSON value as its text; always valid JSON syntax (it is only made by a JSON parser or
/// a serializer). A parser that reads it as text checks less than one that builds a value: it
/// has no depth limit and lets a lone surrogate escape (`"\ud800"`) through, so
/// [`RawJson::parse`] can fail where decoding it did not; such text is the upstream's to judge
/// when it is only passed on.
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The JSON text, as it came (no whitespace around it).
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value, parsed: for a dialect that rewrites it, and for comparisons. Fails only on
    /// what a value cannot hold (see the type's doc).
    pub fn parse(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(self.as_str())
    }

    /// The schema of a function that takes no arguments, as the dialects that require one
    /// write it.
    pub fn no_arguments() -> Self {
        let text = r#"{"type":"object","properties":{}}"#;
        RawJson(RawValue::from_string(text.to_string()).expect("valid JSON"))
    }

    /// Whether this is JSON `null`.
    pub fn is_null(&self) -> bool {
        self.as_str() == "null"
    }
}

impl From<&Value> for RawJson {
    fn from(value: &Value) -> Self {
        // A `Value` always serializes (string keys), and `to_raw_value` trusts its own text
        // where `RawValue::from_string` would parse it again.
        RawJson(serde_json::value::to_raw_value(value).expect("a value serializes"))
    }
}

impl From<Value> for RawJson {
    fn from(value: Value) -> Self {
        RawJson::from(&value)
    }
}

/// Equal when they mean the same value: the same text, or texts that parse to equal values
/// (whitespace, key spacing or escapes may differ between a client's body and a re-encoding).
impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
            || matches!((self.parse(), other.parse()), (Ok(a), Ok(b)) if a == b)
    }
}

impl PartialEq<Value> for RawJson {
    fn eq(&self, other: &Value) -> bool {
        self.parse().is_ok_and(|v| v == *other)
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(RawJson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_kept_as_written_and_written_back_verbatim() {
        let body =
            r#"{"schema": {"maximum": 1e2, "big": 123456789012345678901234, "s": "\u00e9"}}"#;
        #[derive(Deserialize, Serialize)]
        struct Holder {
            schema: RawJson,
        }
        let h: Holder = serde_json::from_str(body).unwrap();
        assert_eq!(
            h.schema.as_str(),
            r#"{"maximum": 1e2, "big": 123456789012345678901234, "s": "\u00e9"}"#
        );
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"schema":{"maximum": 1e2, "big": 123456789012345678901234, "s": "\u00e9"}}"#
        );
    }

    #[test]
    fn equal_by_meaning_not_by_spelling() {
        let spaced: RawJson = serde_json::from_str(r#"{ "a" : [1, 2], "b": "\u00e9" }"#).unwrap();
        let value = json!({"a": [1, 2], "b": "é"});
        assert_eq!(spaced.parse().unwrap(), value);
        assert_eq!(spaced, RawJson::from(&value));
        assert_eq!(spaced, value);
        assert_ne!(spaced, RawJson::from(json!({"a": [2, 1], "b": "é"})));
        assert!(RawJson::from(Value::Null).is_null());
        assert!(!spaced.is_null());
    }

    #[test]
    fn what_a_value_cannot_hold_fails_to_parse_but_is_kept() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let lone = r#"{"a":"\ud800"}"#;
        for text in [deep.as_str(), lone] {
            let raw: RawJson = serde_json::from_str(text).unwrap();
            assert!(raw.parse().is_err(), "{text}");
            assert_eq!(raw.as_str(), text);
            assert_eq!(raw, raw.clone(), "the same text is the same value");
            assert_ne!(raw, Value::Null);
        }
    }

    #[test]
    fn read_from_a_parsed_value_too() {
        // Responses tools are buffered as values before they are read into their structs.
        let raw: RawJson = serde_json::from_value(json!({"type": "object"})).unwrap();
        assert_eq!(raw.as_str(), r#"{"type":"object"}"#);
    }
}
