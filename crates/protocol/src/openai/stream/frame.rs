//! The borrowed view of one `chat.completion.chunk` that the stream decoder reads.
//!
//! [`wire::Chunk`] keeps every field it does not name (`object`, `created`,
//! `system_fingerprint`, `service_tier`, `logprobs`, a delta's `role`, ...) as an owned
//! `serde_json::Value` in a SipHash `IndexMap`, and owns every string. The decoder reads none
//! of the unknown fields and copies the strings it keeps, so per frame that was a dozen
//! allocations, hash inserts and frees for nothing. This view names the same fields with the
//! same types, borrows strings from the frame where it can, and checks unknown fields exactly
//! as `wire::Chunk` does (serde's flatten buffering, through `deserialize_any`) before
//! dropping them, so it accepts exactly the frames `wire::Chunk` accepts. A frame it refuses
//! is decoded again as a `wire::Chunk` by the decoder, so error messages are unchanged too.

use std::borrow::Cow;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::openai::wire;

/// [`wire::Chunk`]'s fields, as the decoder reads them.
#[derive(Debug, Deserialize)]
pub(super) struct Chunk<'a> {
    #[serde(default, borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub model: Cow<'a, str>,
    #[serde(default, borrow)]
    pub choices: Vec<Choice<'a>>,
    #[serde(default)]
    pub usage: Option<wire::Usage>,
    /// Only whether it is there (and not `null`) matters.
    #[serde(default)]
    pub error: Option<Checked>,
    /// The unknown fields, buffered and checked by serde as for `wire::Chunk::extra` (this
    /// keeps the derive in flatten mode, which reads a map only, as `wire::Chunk` does), then
    /// dropped.
    #[serde(flatten)]
    _rest: IgnoredAny,
}

/// [`wire::ChunkChoice`].
#[derive(Debug, Deserialize)]
pub(super) struct Choice<'a> {
    #[serde(default)]
    pub index: u64,
    #[serde(default, borrow)]
    pub delta: ChunkDelta<'a>,
    #[serde(default, borrow)]
    pub finish_reason: Option<Cow<'a, str>>,
    #[serde(flatten)]
    _rest: IgnoredAny,
}

/// [`wire::ChunkDelta`].
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChunkDelta<'a> {
    #[serde(default, borrow)]
    pub content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub reasoning: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub tool_calls: Option<Vec<ToolCallDelta<'a>>>,
    #[serde(flatten)]
    _rest: IgnoredAny,
}

/// [`wire::ToolCallDelta`].
#[derive(Debug, Deserialize)]
pub(super) struct ToolCallDelta<'a> {
    #[serde(default)]
    pub index: u64,
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(rename = "type", default, borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub function: Option<FunctionDelta<'a>>,
    #[serde(default, borrow)]
    pub custom: Option<CustomDelta<'a>>,
    #[serde(flatten)]
    _rest: IgnoredAny,
}

/// [`wire::FunctionDelta`]: a function call's name and argument text.
#[derive(Debug, Deserialize)]
pub(super) struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub arguments: Option<Cow<'a, str>>,
    #[serde(flatten)]
    _rest: IgnoredAny,
}

/// [`wire::CustomDelta`]: a custom tool call's name and input text.
#[derive(Debug, Deserialize)]
pub(super) struct CustomDelta<'a> {
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub input: Option<Cow<'a, str>>,
    #[serde(flatten)]
    _rest: IgnoredAny,
}

impl<'a> Chunk<'a> {
    /// Reads one frame's data. An error means only that the frame must be decoded as a
    /// [`wire::Chunk`] for its error message; its own text is not shown to anyone.
    pub fn parse(data: &'a str) -> Result<Self, serde_json::Error> {
        // Like `json::decode`: no check for bytes after the value.
        Chunk::deserialize(&mut serde_json::Deserializer::from_str(data))
    }

    /// The view of a chunk that was decoded whole. The decoder never needs this, as the view
    /// accepts every frame `wire::Chunk` accepts; it keeps the decoder exact if a serde
    /// release ever made the two disagree.
    pub fn from_wire(c: &'a wire::Chunk) -> Self {
        Chunk {
            id: Cow::Borrowed(&c.id),
            model: Cow::Borrowed(&c.model),
            choices: c.choices.iter().map(Choice::from_wire).collect(),
            usage: c.usage.clone(),
            error: c.error.as_ref().map(|_| Checked),
            _rest: IgnoredAny,
        }
    }
}

impl<'a> Choice<'a> {
    fn from_wire(c: &'a wire::ChunkChoice) -> Self {
        let d = &c.delta;
        let tool_calls = d.tool_calls.as_ref().map(|calls| {
            let call = |t: &'a wire::ToolCallDelta| ToolCallDelta {
                index: t.index,
                id: borrow(&t.id),
                kind: borrow(&t.kind),
                function: t.function.as_ref().map(|f| FunctionDelta {
                    name: borrow(&f.name),
                    arguments: borrow(&f.arguments),
                    _rest: IgnoredAny,
                }),
                custom: t.custom.as_ref().map(|c| CustomDelta {
                    name: borrow(&c.name),
                    input: borrow(&c.input),
                    _rest: IgnoredAny,
                }),
                _rest: IgnoredAny,
            };
            calls.iter().map(call).collect()
        });
        Choice {
            index: c.index,
            delta: ChunkDelta {
                content: borrow(&d.content),
                reasoning_content: borrow(&d.reasoning_content),
                reasoning: borrow(&d.reasoning),
                refusal: borrow(&d.refusal),
                tool_calls,
                _rest: IgnoredAny,
            },
            finish_reason: borrow(&c.finish_reason),
            _rest: IgnoredAny,
        }
    }
}

fn borrow(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

/// Any JSON value, read as strictly as a `serde_json::Value` is (through `deserialize_any`:
/// numbers in range, nesting within serde_json's depth limit), then dropped. serde's
/// `IgnoredAny` is laxer when it reads straight from serde_json (it skips numbers unparsed and
/// nests without limit), so it would accept frames that `wire::Chunk` refuses.
#[derive(Debug)]
pub(super) struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_none<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Checked, D::Error> {
        Checked::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the decoder reads from a chunk, from either type.
    fn read(c: &Chunk) -> String {
        format!("{c:?}")
    }

    fn check(data: &str) {
        let view = Chunk::parse(data);
        // What the decoder used to read every frame with.
        let whole: Result<wire::Chunk, _> = crate::json::decode_str(data);
        match (&view, &whole) {
            (Ok(view), Ok(whole)) => {
                assert_eq!(read(view), read(&Chunk::from_wire(whole)), "{data}");
            }
            (Err(_), Err(_)) => {}
            _ => panic!("the view and wire::Chunk disagree on {data}: {view:?} / {whole:?}"),
        }
    }

    const FRAME: &str = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,
        "model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant",
        "content":"a\"b\u00e9","reasoning_content":null,"tool_calls":[{"index":1,"id":"call_1",
        "type":"function","function":{"name":"f","arguments":"{\"x\":"}},{"index":2,
        "custom":{"name":"c","input":"text"},"extra":[1,{"k":2}]}]},"logprobs":null,
        "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4,
        "total_tokens":7,"prompt_tokens_details":{"cached_tokens":1}}}"#;

    #[test]
    fn reads_what_wire_chunk_reads() {
        check(FRAME);
        check(r#"{"error":{"message":"overloaded","type":"server_error"}}"#);
        check(r#"{"error":null,"choices":[]}"#);
        check(r#"{}"#);
        check(r#"{"choices":[{"delta":{}}],"usage":null}"#);
    }

    #[test]
    fn refuses_what_wire_chunk_refuses() {
        for data in [
            // Unknown fields are checked as a Value would be.
            r#"{"created":1e400}"#,
            r#"{"x":"\ud800"}"#,
            &format!(r#"{{"x":{}0{}}}"#, "[".repeat(200), "]".repeat(200)),
            &format!(r#"{{"error":{}0{}}}"#, "[".repeat(200), "]".repeat(200)),
            // A struct as an array, a duplicate known field, wrong types.
            r#"["id","model",[]]"#,
            r#"{"choices":[["0"]]}"#,
            r#"{"id":"a","id":"b"}"#,
            r#"{"choices":[{"index":0,"index":1}]}"#,
            r#"{"id":7}"#,
            r#"{"choices":[{"delta":{"content":["a"]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":{}}}]}}]}"#,
            r#"{"choices":[{"finish_reason":1}]}"#,
            r#"{"usage":{"prompt_tokens":-1}}"#,
            // Not JSON, or cut.
            r#"{"id":"a""#,
            "",
            "nope",
        ] {
            check(data);
            assert!(Chunk::parse(data).is_err(), "{data}");
        }
    }

    #[test]
    fn agrees_with_wire_chunk_on_every_cut_and_corruption() {
        let frame = FRAME.as_bytes();
        for at in 0..frame.len() {
            if let Ok(cut) = std::str::from_utf8(&frame[..at]) {
                check(cut);
            }
            for with in [b'"', b'1', b'{', b'[', b'n', b',', b'}'] {
                let mut bytes = frame.to_vec();
                bytes[at] = with;
                if let Ok(data) = std::str::from_utf8(&bytes) {
                    check(data);
                }
            }
        }
    }
}
