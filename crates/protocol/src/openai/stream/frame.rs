//! The view of one `chat.completion.chunk` that the stream decoder reads, read by hand.
//!
//! [`wire::Chunk`] keeps every field it does not name (`object`, `created`,
//! `system_fingerprint`, `logprobs`, a delta's `role`, ...) as an owned `serde_json::Value`
//! and owns every string; through serde, even a borrowed view of the same fields cost about
//! 6,000 instructions per 280-byte chunk (the largest part of forwarding a translated chunk).
//! This reader walks the frame once: strings are borrowed where they have no escapes, and
//! unknown values are checked and skipped in place.
//!
//! It reads only what it is sure of. A frame is read here only when [`wire::Chunk`] would
//! accept it and read the same fields; anything unusual (a malformed or cut frame, a known
//! field twice or of the wrong type, a key with escapes, a lone surrogate, a number that might
//! be out of range, deep nesting) is declined, and the decoder decodes it as a whole
//! [`wire::Chunk`], whose result or error is then the answer. So this is never the only judge
//! of a frame, and must never accept one that [`wire::Chunk`] refuses or read a field
//! differently: the tests hold it to that on every cut and corruption of a frame.

use std::borrow::Cow;

use crate::openai::wire;

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
    /// [`wire::Chunk`]. Like `json::decode`, bytes after the value are not looked at.
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
                "usage" => c.usage = seen.once(3, r)?.nullable(Reader::by_serde)?,
                "error" => c.error = seen.once(4, r)?.nullable(Reader::skip)?.is_some(),
                _ => r.skip()?,
            }
            Some(())
        })?;
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

/// The known fields of one object read so far, one bit each: a second one is declined
/// (`wire::Chunk` refuses it as a duplicate field).
#[derive(Default)]
struct Seen(u8);

impl Seen {
    fn once<'r, 'a>(&mut self, bit: u8, r: &'r mut Reader<'a>) -> Option<&'r mut Reader<'a>> {
        if self.0 & (1 << bit) != 0 {
            return None;
        }
        self.0 |= 1 << bit;
        Some(r)
    }
}

/// Unknown values nested deeper than this are declined: serde_json refuses past 128 levels,
/// and no chunk nests anywhere near either.
const MAX_DEPTH: u32 = 64;

/// A number with more characters than this is declined: a long enough one is out of `f64`'s
/// range, which serde_json refuses; real ones are far shorter.
const MAX_NUMBER: usize = 100;

/// A cursor over one frame's JSON. Every method reads one JSON thing at the cursor (no
/// leading whitespace) or returns `None`, which declines the whole frame.
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// An object, each key (without escapes) handed to `field` with the cursor at its value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        (self.next()? == b'{').then_some(())?;
        self.ws();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.key()?;
            self.ws();
            (self.next()? == b':').then_some(())?;
            self.ws();
            field(self, key)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        (self.next()? == b'[').then_some(())?;
        self.ws();
        let mut items = Vec::new();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(items);
        }
        loop {
            items.push(item(self)?);
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(items),
                _ => return None,
            }
        }
    }

    /// `null` as `None`, else what `read` reads.
    fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        read(self).map(Some)
    }

    /// An optional string.
    fn text(&mut self) -> Option<Option<Cow<'a, str>>> {
        self.nullable(Self::string)
    }

    /// An object of two optional strings (a function's or custom tool's delta).
    fn pair(
        &mut self,
        first: (&str, &mut Option<Cow<'a, str>>),
        second: (&str, &mut Option<Cow<'a, str>>),
    ) -> Option<()> {
        let mut seen = Seen::default();
        self.object(|r, key| {
            if key == first.0 {
                *first.1 = seen.once(0, r)?.text()?;
            } else if key == second.0 {
                *second.1 = seen.once(1, r)?.text()?;
            } else {
                r.skip()?;
            }
            Some(())
        })
    }

    /// A value read by serde from its own text: for what is rare and intricate (usage).
    fn by_serde<T: serde::de::DeserializeOwned>(&mut self) -> Option<T> {
        let start = self.at;
        self.skip()?;
        serde_json::from_str(&self.text[start..self.at]).ok()
    }

    /// A `u64` written as plain digits (anything else is declined, though serde reads `-0`).
    fn u64(&mut self) -> Option<u64> {
        let start = self.at;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            if self.at > start && n == 0 {
                return None; // a leading zero
            }
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.at += 1;
        }
        match self.peek() {
            _ if self.at == start => None,
            Some(b'.' | b'e' | b'E') => None,
            _ => Some(n),
        }
    }

    /// A key: a string without escapes (an escaped key could spell a known field).
    fn key(&mut self) -> Option<&'a str> {
        match self.string()? {
            Cow::Borrowed(key) => Some(key),
            Cow::Owned(_) => None,
        }
    }

    /// A string, borrowed from the frame when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        (self.next()? == b'"').then_some(())?;
        let start = self.at;
        self.plain();
        match self.next()? {
            b'"' => Some(Cow::Borrowed(&self.text[start..self.at - 1])),
            b'\\' => {
                self.at -= 1;
                self.escaped(start).map(Cow::Owned)
            }
            _ => None,
        }
    }

    /// Moves the cursor to the next quote, backslash or control character (or the end), eight
    /// bytes at a time: strings are most of a chunk's bytes.
    fn plain(&mut self) {
        const ONES: u64 = u64::from_ne_bytes([1; 8]);
        const HIGH: u64 = ONES << 7;
        const QUOTE: u64 = ONES * b'"' as u64;
        const BACKSLASH: u64 = ONES * b'\\' as u64;
        const SPACE: u64 = ONES * 0x20;
        while let Some(word) = self.bytes.get(self.at..self.at + 8) {
            let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            let (q, b) = (w ^ QUOTE, w ^ BACKSLASH);
            // A byte's high bit is set where it is a quote, a backslash or below 0x20. A borrow
            // can also mark a byte after a marked one, never before it, so the lowest is right.
            let found = (q.wrapping_sub(ONES) & !q
                | b.wrapping_sub(ONES) & !b
                | w.wrapping_sub(SPACE) & !w)
                & HIGH;
            if found != 0 {
                self.at += (found.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += 8;
        }
        while let Some(b) = self.peek() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                return;
            }
            self.at += 1;
        }
    }

    /// The rest of a string from its first escape (at the cursor); `start` is where it began.
    fn escaped(&mut self, start: usize) -> Option<String> {
        let mut out = String::with_capacity(self.at - start + 16);
        out.push_str(&self.text[start..self.at]);
        loop {
            let run = self.at;
            self.plain();
            // The run ends at an ASCII byte or the end, so it is whole UTF-8.
            out.push_str(&self.text[run..self.at]);
            match self.next()? {
                b'"' => return Some(out),
                b'\\' => {}
                _ => return None,
            }
            let c = match self.next()? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.unicode()?,
                _ => return None,
            };
            out.push(c);
        }
    }

    /// The character of a `\u` escape (after the `u`): a surrogate pair is one character, a
    /// lone surrogate is declined.
    fn unicode(&mut self) -> Option<char> {
        let unit = self.hex4()?;
        match unit {
            0xD800..=0xDBFF => {
                self.literal(b"\\u")?;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return None;
                }
                char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            }
            0xDC00..=0xDFFF => None,
            _ => char::from_u32(unit),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.at += 4;
        Some(n)
    }

    /// Any value, checked as strictly as serde_json reads a `Value` (or declined), and skipped.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                if self.peek()? == b'{' {
                    self.object(|r, _| r.skip())?;
                } else {
                    self.array(|r| r.skip())?;
                }
                self.depth -= 1;
                Some(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    /// A number in JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digit()?;
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            let exponent = self.at;
            self.digit()?;
            self.digits();
            // An exponent of three digits or more may be out of range; no real chunk has one.
            if self.at - exponent > 2 {
                return None;
            }
        }
        (self.at - start <= MAX_NUMBER).then_some(())
    }

    fn digit(&mut self) -> Option<()> {
        self.next()?.is_ascii_digit().then_some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }
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
        for frame in [FRAME, MOCK_FRAME, LOGPROBS_FRAME] {
            let frame = frame.as_bytes();
            for at in 0..frame.len() {
                if let Ok(cut) = std::str::from_utf8(&frame[..at]) {
                    check(cut);
                }
                for with in [
                    b'"', b'1', b'{', b'[', b'n', b',', b'}', b'\\', b'-', b'e', 0,
                ] {
                    let mut bytes = frame.to_vec();
                    bytes[at] = with;
                    if let Ok(data) = std::str::from_utf8(&bytes) {
                        check(data);
                    }
                }
            }
        }
    }
}
