//! A cursor over JSON text for the stream hot paths, where serde's general machinery costs
//! more than the work: it reads the few shapes a decoder needs, borrows strings without
//! escapes, checks and skips everything else in place.
//!
//! It reads only what it is sure of: every method returns `None` for anything serde_json
//! might read differently or refuse (malformed or cut text, a key with escapes, a lone
//! surrogate, a number that might be out of range, deep nesting), and `Seen` declines a
//! field given twice. A caller that gets `None` must decode the text with its serde types,
//! which then give the result or the error; so this is never the only judge of a text, and
//! must never accept one serde refuses or read it differently.

use std::borrow::Cow;

/// The known fields of one object read so far, one bit each: a second one is declined (a
/// derived serde struct refuses it as a duplicate, a `serde_json::Value` keeps the last; the
/// caller's general path says which).
#[derive(Default)]
pub(crate) struct Seen(u8);

impl Seen {
    pub(crate) fn once<'r, 'a>(
        &mut self,
        bit: u8,
        r: &'r mut Reader<'a>,
    ) -> Option<&'r mut Reader<'a>> {
        if self.0 & (1 << bit) != 0 {
            return None;
        }
        self.0 |= 1 << bit;
        Some(r)
    }

    /// Whether field `bit` was read.
    pub(crate) fn has(&self, bit: u8) -> bool {
        self.0 & (1 << bit) != 0
    }
}

/// Unknown values nested deeper than this are declined: serde_json refuses past 128 levels,
/// and no chunk nests anywhere near either.
const MAX_DEPTH: u32 = 64;

/// A number with more characters than this is declined: a long enough one is out of `f64`'s
/// range, which serde_json refuses; real ones are far shorter.
const MAX_NUMBER: usize = 100;

/// Whether JSON `text` (as serde_json writes it) has no object with a key twice: `false` also
/// for anything the reader is unsure of, so `true` is certain.
pub(crate) fn keys_unique(text: &str) -> bool {
    let mut r = Reader::new(text);
    r.unique_keys(&mut Vec::new()).is_some() && r.end().is_some()
}

/// A cursor over one text's JSON. Every method reads one JSON thing at the cursor (no
/// leading whitespace) or returns `None`, which declines the whole text.
pub(crate) struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
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

    pub(crate) fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// Only whitespace is left: what serde's `from_str` requires after the value.
    pub(crate) fn end(&mut self) -> Option<()> {
        self.ws();
        (self.at == self.bytes.len()).then_some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// An object, each key (without escapes) handed to `field` with the cursor at its value.
    pub(crate) fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
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

    pub(crate) fn array<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
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
    pub(crate) fn nullable<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        read(self).map(Some)
    }

    pub(crate) fn bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            _ => self.literal(b"false").map(|()| false),
        }
    }

    /// An optional string.
    pub(crate) fn text(&mut self) -> Option<Option<Cow<'a, str>>> {
        self.nullable(Self::string)
    }

    /// An optional string, owned.
    pub(crate) fn text_owned(&mut self) -> Option<Option<String>> {
        Some(self.text()?.map(Cow::into_owned))
    }

    /// An object of two optional strings (a function's or custom tool's delta).
    pub(crate) fn pair(
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

    /// An unknown field's value into `extra`, as the `Value` a flattened serde map keeps (a
    /// repeated key declines).
    pub(crate) fn unknown(
        &mut self,
        key: &str,
        extra: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Option<()> {
        if extra.contains_key(key) {
            return None;
        }
        let value = match self.peek()? {
            b'n' => self.literal(b"null").map(|()| serde_json::Value::Null)?,
            b't' | b'f' => serde_json::Value::Bool(self.bool()?),
            b'"' => serde_json::Value::String(self.string()?.into_owned()),
            // A count (plain digits) is serde's `u64` number; other numbers, arrays and objects
            // are read by serde itself, for its number forms.
            b'0'..=b'9' if !matches!(self.after_digits(), Some(b'.' | b'e' | b'E')) => {
                serde_json::Value::from(self.u64()?)
            }
            _ => self.by_serde()?,
        };
        extra.insert(key.to_string(), value);
        Some(())
    }

    /// A value read by serde from its own text: for what is rare and intricate (usage).
    pub(crate) fn by_serde<T: serde::de::DeserializeOwned>(&mut self) -> Option<T> {
        let start = self.at;
        self.skip()?;
        serde_json::from_str(&self.text[start..self.at]).ok()
    }

    /// A `u64` written as plain digits (anything else is declined, though serde reads `-0`).
    pub(crate) fn u64(&mut self) -> Option<u64> {
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
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
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

    /// A string checked as [`Reader::string`] checks it, without building it: skipped strings
    /// are most of a long request's bytes, and their escapes need no copy.
    fn skip_string(&mut self) -> Option<()> {
        (self.next()? == b'"').then_some(())?;
        loop {
            self.plain();
            match self.next()? {
                b'"' => return Some(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        self.unicode()?;
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    /// Any value, checked as strictly as serde_json reads a `Value` (or declined), and skipped.
    pub(crate) fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
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

    /// Any value, as [`Reader::skip`], declined where an object repeats a key. `keys` holds
    /// the keys of the objects open around the cursor, each object's after its parent's (one
    /// buffer for the whole text rather than one per object).
    fn unique_keys(&mut self, keys: &mut Vec<&'a str>) -> Option<()> {
        match self.peek()? {
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                if self.peek()? == b'{' {
                    let start = keys.len();
                    self.object(|r, key| {
                        if keys[start..].contains(&key) {
                            return None;
                        }
                        keys.push(key);
                        r.unique_keys(keys)
                    })?;
                    keys.truncate(start);
                } else {
                    self.array(|r| r.unique_keys(keys))?;
                }
                self.depth -= 1;
                Some(())
            }
            _ => self.skip(),
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

    /// The byte after the run of digits at the cursor.
    fn after_digits(&self) -> Option<u8> {
        let digits = self.bytes[self.at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        self.bytes.get(self.at + digits).copied()
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

/// Every cut of each of `texts` and every corruption of one of its bytes into a
/// JSON-significant one (those that are still UTF-8): what a hand-read path and its general
/// path must agree on.
#[cfg(test)]
pub(crate) fn cuts_and_corruptions(texts: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for bytes in texts.iter().map(|t| t.as_bytes()) {
        for at in 0..bytes.len() {
            out.extend(std::str::from_utf8(&bytes[..at]).ok().map(str::to_string));
            for with in [
                b'"', b'1', b'{', b'[', b'n', b',', b'}', b'\\', b'-', b'e', 0,
            ] {
                let mut changed = bytes.to_vec();
                changed[at] = with;
                out.extend(String::from_utf8(changed).ok());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_only_when_no_object_repeats_one_and_the_reader_is_sure() {
        assert!(keys_unique(
            r#"{"a":1,"b":{"a":[{"a":2},{"a":3}]},"c":"a"}"#
        ));
        assert!(keys_unique(r#"[{"a":1},{"a":1}]"#));
        assert!(keys_unique("[]"));
        // A closed object's keys are not its parent's.
        assert!(keys_unique(r#"{"b":{"a":1},"a":2}"#));
        assert!(keys_unique(r#"{"x":{"y":{"z":1},"z":2},"z":3}"#));
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"b":{"a":1,"c":2,"a":3}}"#,
            r#"{"a":{"b":1},"b":2,"a":3}"#,
            r#"[{"x":[{"k":1,"k":1}]}]"#,
            // Not sure: an escaped key could spell another.
            r#"{"a":1,"a":2}"#,
            r#"{"a":1} x"#,
            r#"{"a":"#,
        ] {
            assert!(!keys_unique(text), "{text}");
        }
    }

    /// Skipping a string accepts and refuses what reading it does, and ends where it ends.
    fn same_as_read(text: &str) {
        let (mut read, mut skipped) = (Reader::new(text), Reader::new(text));
        let read_ok = read.string().is_some();
        assert_eq!(read_ok, skipped.skip_string().is_some(), "{text:?}");
        if read_ok {
            assert_eq!(read.at, skipped.at, "{text:?}");
        }
    }

    #[test]
    fn a_skipped_string_is_checked_as_a_read_one() {
        let sample =
            r#""plain \"quoted\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 a long enough run" ,"#;
        for text in cuts_and_corruptions(&[sample]) {
            same_as_read(&text);
        }
        for text in [
            r#""\ud800""#,
            r#""\ud800\u0041""#,
            r#""\udc00""#,
            "\"a\u{1}\"",
            r#""\x""#,
        ] {
            same_as_read(text);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_skipped_as_it_is_read(text in r#""([a-z "\\/\t]|\\u[0-9a-fA-F]{4}|\\[a-z"\\/]){0,30}"?"#) {
            same_as_read(&text);
        }
    }
}
