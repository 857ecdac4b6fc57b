//! The view of one `chat.completion.chunk` that the stream decoder reads, read by hand.
//!
//! [`wire::Chunk`] keeps every field it does not name (`object`, `created`,
//! `system_fingerprint`, `logprobs`, a delta's `role`, ...) as an owned `serde_json::Value`
//! and owns every string; through serde, even a borrowed view of the same fields cost about
//! 6,000 instructions per 280-byte chunk (the largest part of forwarding a translated chunk).
//! Read with [`crate::scan::Reader`], the frame is walked once: strings are borrowed where they
//! have no escapes, and unknown values are checked and skipped in place.
//!
//! A frame is read here only when [`wire::Chunk`] would accept it and read the same fields;
//! anything the reader is unsure of is declined, and the decoder decodes it as a whole
//! [`wire::Chunk`], whose result or error is then the answer. The tests hold the view to that
//! on every cut and corruption of a frame.

use std::borrow::Cow;

use crate::openai::{self, wire};
use crate::scan::{Reader, Seen};

/// [`wire::Chunk`]'s fields, as the decoder reads them.
#[derive(Debug, Default)]
pub(super) struct Chunk<'a> {
    pub id: Cow<'a, str>,
    pub model: Cow<'a, str>,
    pub choices: Vec<Choice<'a>>,
    /// Boxed: it is in one chunk of a stream (`null` or absent in the others), and inline it
    /// would make every chunk's view several times larger to move.
    pub usage: Option<Box<wire::Usage>>,
    /// Only whether it is there (and not `null`) matters.
    pub error: bool,
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

impl<'a> Chunk<'a> {
    /// Reads one frame's data, or declines it (`None`): then it must be decoded as a
    /// [`wire::Chunk`].
    pub fn parse(data: &'a str) -> Option<Self> {
        let mut r = Reader::new(data);
        r.ws();
        let mut c = Chunk::default();
        let mut seen = Seen::default();
        r.object(|r, key| {
            match key {
                "id" => c.id = seen.once(0, r)?.string()?,
                "model" => c.model = seen.once(1, r)?.string()?,
                "choices" => c.choices = seen.once(2, r)?.array(Choice::read)?,
                "usage" => {
                    c.usage = seen
                        .once(3, r)?
                        .nullable(|r| openai::response::read_usage(r).map(Box::new))?
                }
                "error" => c.error = seen.once(4, r)?.nullable(Reader::skip)?.is_some(),
                _ => r.skip()?,
            }
            Some(())
        })?;
        r.end()?;
        Some(c)
    }

    /// The view of a chunk that was decoded whole.
    pub fn from_wire(c: &'a wire::Chunk) -> Self {
        Chunk {
            id: Cow::Borrowed(&c.id),
            model: Cow::Borrowed(&c.model),
            choices: c.choices.iter().map(Choice::from_wire).collect(),
            usage: c.usage.clone().map(Box::new),
            error: c.error.is_some(),
        }
    }
}

impl<'a> Choice<'a> {
    fn read(r: &mut Reader<'a>) -> Option<Self> {
        let mut c = Choice::default();
        let mut seen = Seen::default();
        r.object(|r, key| {
            match key {
                "index" => c.index = seen.once(0, r)?.u64()?,
                "delta" => c.delta = ChunkDelta::read(seen.once(1, r)?)?,
                "finish_reason" => c.finish_reason = seen.once(2, r)?.text()?,
                _ => r.skip()?,
            }
            Some(())
        })?;
        Some(c)
    }

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

impl<'a> ChunkDelta<'a> {
    fn read(r: &mut Reader<'a>) -> Option<Self> {
        let mut d = ChunkDelta::default();
        let mut seen = Seen::default();
        r.object(|r, key| {
            match key {
                "content" => d.content = seen.once(0, r)?.text()?,
                "reasoning_content" => d.reasoning_content = seen.once(1, r)?.text()?,
                "reasoning" => d.reasoning = seen.once(2, r)?.text()?,
                "refusal" => d.refusal = seen.once(3, r)?.text()?,
                "tool_calls" => {
                    d.tool_calls = seen
                        .once(4, r)?
                        .nullable(|r| r.array(ToolCallDelta::read))?
                }
                _ => r.skip()?,
            }
            Some(())
        })?;
        Some(d)
    }
}

impl<'a> ToolCallDelta<'a> {
    fn read(r: &mut Reader<'a>) -> Option<Self> {
        let mut t = ToolCallDelta::default();
        let mut seen = Seen::default();
        r.object(|r, key| {
            match key {
                "index" => t.index = seen.once(0, r)?.u64()?,
                "id" => t.id = seen.once(1, r)?.text()?,
                "type" => t.kind = seen.once(2, r)?.text()?,
                "function" => {
                    t.function = seen.once(3, r)?.nullable(|r| {
                        let mut f = FunctionDelta::default();
                        r.pair(("name", &mut f.name), ("arguments", &mut f.arguments))?;
                        Some(f)
                    })?
                }
                "custom" => {
                    t.custom = seen.once(4, r)?.nullable(|r| {
                        let mut c = CustomDelta::default();
                        r.pair(("name", &mut c.name), ("input", &mut c.input))?;
                        Some(c)
                    })?
                }
                _ => r.skip()?,
            }
            Some(())
        })?;
        Some(t)
    }
}

fn borrow(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the decoder reads from a chunk, from either type.
    fn read(c: &Chunk) -> String {
        format!("{c:?}")
    }

    /// A frame the view reads is one `wire::Chunk` accepts, read the same; one it declines is
    /// left to `wire::Chunk` (so declining is always safe, only slower). Says whether it read.
    fn check(data: &str) -> bool {
        let view = Chunk::parse(data);
        let whole: Result<wire::Chunk, _> = crate::json::decode_str(data);
        match (&view, &whole) {
            (Some(view), Ok(whole)) => {
                assert_eq!(read(view), read(&Chunk::from_wire(whole)), "{data}");
                true
            }
            (Some(view), Err(e)) => panic!("the view read {data} as {view:?}; wire::Chunk: {e}"),
            (None, _) => false,
        }
    }

    /// A frame as real upstreams send it must be read here, not left to the slow path.
    fn reads_here(data: &str) {
        assert!(check(data), "declined: {data}");
    }

    const FRAME: &str = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,
        "model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant",
        "content":"a\"b\u00e9","reasoning_content":null,"tool_calls":[{"index":1,"id":"call_1",
        "type":"function","function":{"name":"f","arguments":"{\"x\":"}},{"index":2,
        "custom":{"name":"c","input":"text"},"extra":[1,{"k":2}]}]},"logprobs":null,
        "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4,
        "total_tokens":7,"prompt_tokens_details":{"cached_tokens":1}}}"#;

    /// What `switchyard-mock` sends first (a role-only delta, and the unknown fields of a real
    /// upstream's chunk).
    const MOCK_FRAME: &str = r#"{"id":"chatcmpl-fake000001","object":"chat.completion.chunk","created":1735689600,"model":"m","service_tier":"default","system_fingerprint":"fp_fake0001","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#;

    /// Unknown values of every kind: nested objects and arrays, fractions, exponents, signs,
    /// literals.
    const LOGPROBS_FRAME: &str = r#"{"choices":[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-0.0123,"bytes":[120],"top_logprobs":[{"token":"y","logprob":-4.5e-3,"bytes":[]}]}]},"finish_reason":"stop"}],"created":-1,"n":0.5E+10,"t":true,"f":false}"#;

    #[test]
    fn reads_what_wire_chunk_reads() {
        reads_here(FRAME);
        reads_here(r#"{"error":{"message":"overloaded","type":"server_error"}}"#);
        reads_here(r#"{"error":null,"choices":[]}"#);
        reads_here(r#"{}"#);
        reads_here(r#" { "choices" : [ { "delta" : { } } ] , "usage" : null } "#);
        reads_here(MOCK_FRAME);
        reads_here(LOGPROBS_FRAME);
        // Every escape, a surrogate pair, and a string that cannot be borrowed from the frame.
        reads_here(
            r#"{"choices":[{"delta":{"content":"\"\\\/\b\f\n\r\t\u00e9\u00E9\ud83e\udd80 end","reasoning":"\u0000"}}]}"#,
        );
        // Keys with escapes could spell a known field: left to `wire::Chunk`.
        assert!(!check(
            r#"{"i\u0064":"a\"b","choices":[{"delta":{"cont\u0065nt":"\u00e9","refusal":null}}]}"#,
        ));
        assert!(!check(
            r#"{"choices":[{"delta":{"tool_calls":[{"type":"function","function":{"n\u0061me":"f"}}]}}]}"#,
        ));
        // Valid, but rare enough to leave to `wire::Chunk`.
        assert!(!check(r#"{"created":1e100}"#));
        assert!(!check(r#"{"choices":[{"index":-0}]}"#));
    }

    proptest::proptest! {
        /// Text of any kind, as serde writes it, is read here and read the same.
        #[test]
        fn any_text_is_read_here(text in crate::json::any_text(), id in crate::json::any_text()) {
            let chunk = wire::Chunk {
                id,
                choices: vec![wire::ChunkChoice {
                    delta: wire::ChunkDelta {
                        content: Some(text.clone()),
                        tool_calls: Some(vec![wire::ToolCallDelta {
                            function: Some(wire::FunctionDelta {
                                name: Some("f".into()),
                                arguments: Some(text),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    },
                    ..Default::default()
                }],
                ..Default::default()
            };
            reads_here(&serde_json::to_string(&chunk).unwrap());
        }
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
            assert!(!check(data), "{data}");
            assert!(
                crate::json::decode_str::<wire::Chunk>(data).is_err(),
                "{data}"
            );
        }
    }

    #[test]
    fn agrees_with_wire_chunk_on_every_cut_and_corruption() {
        for data in crate::scan::cuts_and_corruptions(&[FRAME, MOCK_FRAME, LOGPROBS_FRAME]) {
            check(&data);
        }
    }
}
