//! The borrowed view of one `chat.completion.chunk` that the stream decoder reads.
//!
//! [`wire::Chunk`] keeps every field it does not name (`object`, `created`,
//! `system_fingerprint`, `service_tier`, `logprobs`, a delta's `role`, ...) as an owned
//! `serde_json::Value` in a SipHash `IndexMap`, and owns every string. The decoder reads none
//! of the unknown fields and copies the strings it keeps, so per frame that was a dozen
//! allocations, hash inserts and frees for nothing. This view names the same fields with the
//! same types, borrows strings from the frame where it can, and checks unknown fields exactly
//! as `wire::Chunk` does (each value read as a `Value` would be, through `deserialize_any`)
//! before dropping them, so it accepts exactly the frames `wire::Chunk` accepts. A frame it
//! refuses is decoded again as a `wire::Chunk` by the decoder, so error messages are unchanged
//! too.
//!
//! The view types are read by hand rather than derived: a derived struct that checks unknown
//! fields needs a flattened field, for which serde buffers every unknown key and value before
//! checking it; read by hand, each value is checked as it goes and nothing is kept. They read
//! what the derive read: a map only, a duplicate known field an error, a missing one its
//! default.

use std::borrow::Cow;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::openai::wire;

/// [`wire::Chunk`]'s fields, as the decoder reads them.
#[derive(Debug, Default)]
pub(super) struct Chunk<'a> {
    pub id: Cow<'a, str>,
    pub model: Cow<'a, str>,
    pub choices: Vec<Choice<'a>>,
    pub usage: Option<wire::Usage>,
    /// Only whether it is there (and not `null`) matters.
    pub error: Option<Checked>,
}

/// [`wire::ChunkChoice`].
#[derive(Debug, Default)]
pub(super) struct Choice<'a> {
    pub index: u64,
    pub delta: ChunkDelta<'a>,
    pub finish_reason: Option<Cow<'a, str>>,
}

/// [`wire::ChunkDelta`].
#[derive(Debug, Default)]
pub(super) struct ChunkDelta<'a> {
    pub content: Option<Cow<'a, str>>,
    pub reasoning_content: Option<Cow<'a, str>>,
    pub reasoning: Option<Cow<'a, str>>,
    pub refusal: Option<Cow<'a, str>>,
    pub tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

/// [`wire::ToolCallDelta`].
#[derive(Debug, Default)]
pub(super) struct ToolCallDelta<'a> {
    pub index: u64,
    pub id: Option<Cow<'a, str>>,
    /// `type`.
    pub kind: Option<Cow<'a, str>>,
    pub function: Option<FunctionDelta<'a>>,
    pub custom: Option<CustomDelta<'a>>,
}

/// [`wire::FunctionDelta`]: a function call's name and argument text.
#[derive(Debug, Default)]
pub(super) struct FunctionDelta<'a> {
    pub name: Option<Cow<'a, str>>,
    pub arguments: Option<Cow<'a, str>>,
}

/// [`wire::CustomDelta`]: a custom tool call's name and input text.
#[derive(Debug, Default)]
pub(super) struct CustomDelta<'a> {
    pub name: Option<Cow<'a, str>>,
    pub input: Option<Cow<'a, str>>,
}

// Each type names its fields; `Fields` reads the map around them. A field's bit in `Seen` is
// its place in the list.

impl<'de: 'a, 'a> ReadField<'de> for Chunk<'a> {
    const NAME: &'static str = "struct Chunk";

    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        f: &mut Field<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "id" => self.id = f.value::<Str>(0, "id")?.0,
            "model" => self.model = f.value::<Str>(1, "model")?.0,
            "choices" => self.choices = f.value(2, "choices")?,
            "usage" => self.usage = f.value(3, "usage")?,
            "error" => self.error = f.value(4, "error")?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de: 'a, 'a> ReadField<'de> for Choice<'a> {
    const NAME: &'static str = "struct ChunkChoice";

    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        f: &mut Field<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "index" => self.index = f.value(0, "index")?,
            "delta" => self.delta = f.value(1, "delta")?,
            "finish_reason" => self.finish_reason = f.text(2, "finish_reason")?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de: 'a, 'a> ReadField<'de> for ChunkDelta<'a> {
    const NAME: &'static str = "struct ChunkDelta";

    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        f: &mut Field<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "content" => self.content = f.text(0, "content")?,
            "reasoning_content" => self.reasoning_content = f.text(1, "reasoning_content")?,
            "reasoning" => self.reasoning = f.text(2, "reasoning")?,
            "refusal" => self.refusal = f.text(3, "refusal")?,
            "tool_calls" => self.tool_calls = f.value(4, "tool_calls")?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de: 'a, 'a> ReadField<'de> for ToolCallDelta<'a> {
    const NAME: &'static str = "struct ToolCallDelta";

    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        f: &mut Field<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "index" => self.index = f.value(0, "index")?,
            "id" => self.id = f.text(1, "id")?,
            "type" => self.kind = f.text(2, "type")?,
            "function" => self.function = f.value(3, "function")?,
            "custom" => self.custom = f.value(4, "custom")?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de: 'a, 'a> ReadField<'de> for FunctionDelta<'a> {
    const NAME: &'static str = "struct FunctionDelta";

    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        f: &mut Field<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "name" => self.name = f.text(0, "name")?,
            "arguments" => self.arguments = f.text(1, "arguments")?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de: 'a, 'a> ReadField<'de> for CustomDelta<'a> {
    const NAME: &'static str = "struct CustomDelta";

    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        f: &mut Field<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "name" => self.name = f.text(0, "name")?,
            "input" => self.input = f.text(1, "input")?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

macro_rules! deserialize_by_fields {
    ($($t:ident),*) => {$(
        impl<'de: 'a, 'a> Deserialize<'de> for $t<'a> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_map(Fields(std::marker::PhantomData))
            }
        }
    )*};
}
deserialize_by_fields!(
    Chunk,
    Choice,
    ChunkDelta,
    ToolCallDelta,
    FunctionDelta,
    CustomDelta
);

/// A view type read from a map, its known fields by name.
trait ReadField<'de>: Default {
    /// What serde's derive calls the type in its messages.
    const NAME: &'static str;

    /// Reads the value of `key` if it is one of the type's fields, and says whether it was.
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        f: &mut Field<'_, A>,
    ) -> Result<bool, A::Error>;
}

/// Reads a `T` from a map and nothing else (a derived struct with a flattened field reads
/// only maps too). The value of a key `T` does not name is checked as a `Value` would be and
/// dropped, as it was when serde buffered it for a flattened ignored field.
struct Fields<T>(std::marker::PhantomData<T>);

impl<'de, T: ReadField<'de>> Visitor<'de> for Fields<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::default();
        let mut seen = 0u8;
        while let Some(key) = map.next_key::<Str>()? {
            let mut f = Field {
                map: &mut map,
                seen: &mut seen,
            };
            if !value.field(&key.0, &mut f)? {
                map.next_value::<Checked>()?;
            }
        }
        Ok(value)
    }
}

/// The value of a known field, read once: a second one is an error, as derived.
struct Field<'m, A> {
    map: &'m mut A,
    /// The fields read so far, one bit each.
    seen: &'m mut u8,
}

impl<'de, A: MapAccess<'de>> Field<'_, A> {
    fn value<V: Deserialize<'de>>(&mut self, bit: u8, name: &'static str) -> Result<V, A::Error> {
        if *self.seen & (1 << bit) != 0 {
            return Err(de::Error::duplicate_field(name));
        }
        *self.seen |= 1 << bit;
        self.map.next_value()
    }

    /// An optional string, borrowed from the frame when it has no escapes.
    fn text(&mut self, bit: u8, name: &'static str) -> Result<Option<Cow<'de, str>>, A::Error> {
        Ok(self.value::<Option<Str>>(bit, name)?.map(|s| s.0))
    }
}

/// A string borrowed from the frame when it has no escapes, owned when it has.
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_owned())))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
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
                }),
                custom: t.custom.as_ref().map(|c| CustomDelta {
                    name: borrow(&c.name),
                    input: borrow(&c.input),
                }),
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
            },
            finish_reason: borrow(&c.finish_reason),
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
        // Keys and strings with escapes, which cannot be borrowed from the frame.
        check(
            r#"{"i\u0064":"a\"b","choices":[{"delta":{"cont\u0065nt":"\u00e9","refusal":null}}]}"#,
        );
        check(
            r#"{"choices":[{"delta":{"tool_calls":[{"type":"function","function":{"n\u0061me":"f"}}]}}]}"#,
        );
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
            r#"{"id":"a","i\u0064":"b"}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","id":"b"}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"custom":{"input":"a","input":"b"}}]}}]}"#,
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
