//! Server-sent events framing: an incremental parser and a writer.
//!
//! The parser accepts bytes split at any boundary (a frame split at any byte parses the same),
//! LF, CR and CRLF line endings, multi-line `data`, `event:`, `id:` and `retry:` fields, and
//! comment lines (heartbeats), which it reports so that callers can skip them while deciding
//! whether a stream has produced a meaningful byte. It owns framing only: what a frame means
//! belongs to each dialect's stream decoder.

use std::borrow::Cow;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// The `event:` field, when given.
    pub event: Option<String>,
    /// All `data:` lines joined with `\n`.
    pub data: String,
    pub id: Option<String>,
    pub retry: Option<u64>,
}

impl Frame {
    pub fn new(event: Option<&str>, data: impl Into<String>) -> Self {
        Self {
            event: event.map(str::to_string),
            data: data.into(),
            id: None,
            retry: None,
        }
    }
}

/// What the parser yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Frame(Frame),
    /// A comment line (`: ping`), without the leading colon.
    Comment(String),
}

/// Incremental SSE parser. Feed it bytes as they arrive; it yields complete items.
///
/// A caller that hands each batch of items back with [`Parser::recycle`] instead of dropping
/// them lends their strings to the frames that follow: a long stream then allocates only when
/// a frame outgrows every spare buffer, rather than twice per frame (its event name and data).
#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of the current, incomplete line.
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` starting the next one belongs to it.
    after_cr: bool,
    /// The frame being assembled.
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
    /// Whether the first line of the stream has been seen (a UTF-8 BOM is skipped there).
    started: bool,
    /// Empty strings with capacity, from recycled items.
    spare: Vec<String>,
}

/// How many spare buffers a parser keeps: enough for the strings of a read's worth of frames
/// at an upstream's usual pace, few enough that thousands of open streams hold little.
const SPARE_BUFFERS: usize = 8;

/// A buffer larger than this is freed rather than kept, so that one long frame does not stay
/// resident for the rest of its stream.
const SPARE_CAPACITY: usize = 4096;

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `chunk`, appending every item it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Item>) {
        let mut rest = chunk;
        if chunk.is_empty() {
            // An empty read must not forget a pending CR: its LF may still come.
            return;
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(b'\n') = rest.first() {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) {
            let (whole, after) = (&rest[..pos], &rest[pos + 1..]);
            let was_cr = rest[pos] == b'\r';
            rest = after;
            if was_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            if self.line.is_empty() {
                // The whole line is in this chunk (the common case): read it where it is
                // rather than copying it into `line` first.
                self.process_line(whole, out);
            } else {
                self.line.extend_from_slice(whole);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, out);
                self.line = line;
                self.line.clear();
            }
        }
        self.line.extend_from_slice(rest);
    }

    /// Takes back the items of an earlier [`Parser::feed`] (leaving `items` empty) to reuse
    /// their strings.
    pub fn recycle(&mut self, items: &mut Vec<Item>) {
        for item in items.drain(..) {
            match item {
                Item::Frame(frame) => {
                    self.keep(frame.data);
                    if let Some(event) = frame.event {
                        self.keep(event);
                    }
                }
                Item::Comment(text) => self.keep(text),
            }
        }
    }

    fn keep(&mut self, mut buffer: String) {
        if self.spare.len() < SPARE_BUFFERS && (1..=SPARE_CAPACITY).contains(&buffer.capacity()) {
            buffer.clear();
            self.spare.push(buffer);
        }
    }

    /// `text` in a spare buffer when there is one.
    fn owned(&mut self, text: &str) -> String {
        match self.spare.pop() {
            Some(mut buffer) => {
                buffer.push_str(text);
                buffer
            }
            None => text.to_string(),
        }
    }

    /// Ends the stream: a final frame without its blank line is still dispatched (servers that
    /// close right after the last `data:` line are common).
    pub fn finish(&mut self, out: &mut Vec<Item>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.dispatch(out);
    }

    fn process_line(&mut self, mut line: &[u8], out: &mut Vec<Item>) {
        if !self.started {
            self.started = true;
            if let Some(stripped) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = stripped;
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        // The field is split off as bytes (a colon is never part of a longer UTF-8 sequence,
        // so the split is where it would be in the decoded line), and only a value that is kept
        // is decoded.
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"" => {
                let comment = self.owned(&text(value));
                out.push(Item::Comment(comment));
            }
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&text(value));
                self.has_data = true;
            }
            b"event" => self.event = Some(self.owned(&text(value))),
            b"id" if !value.contains(&0) => self.id = Some(text(value).into_owned()),
            b"retry" => {
                if let Some(ms) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Item>) {
        if !self.has_data && self.event.is_none() {
            self.retry = None;
            return;
        }
        let next = self.spare.pop().unwrap_or_default();
        out.push(Item::Frame(Frame {
            event: self.event.take(),
            data: std::mem::replace(&mut self.data, next),
            id: self.id.take(),
            retry: self.retry.take(),
        }));
        self.has_data = false;
    }
}

/// A field's value as text. Valid UTF-8 is the rule; checking it is much cheaper than the
/// lossy conversion, which is kept for the rare value that needs replacement characters.
fn text(value: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(value) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(value),
    }
}

/// Appends one frame to `out`: `event:` when given, one `data:` line per line of `data`.
pub fn write_frame(out: &mut Vec<u8>, event: Option<&str>, data: &str) {
    if let Some(event) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(event.as_bytes());
        out.push(b'\n');
    }
    for line in data.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// Appends a comment line, used as a heartbeat by dialects without a ping event.
pub fn write_comment(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b": ");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\n\n");
}

/// Parses a whole SSE body at once (tests, the CLI, fixtures).
pub fn parse_all(body: &[u8]) -> Vec<Item> {
    let mut p = Parser::new();
    let mut out = Vec::new();
    p.feed(body, &mut out);
    p.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(items: Vec<Item>) -> Vec<Frame> {
        items
            .into_iter()
            .filter_map(|i| match i {
                Item::Frame(f) => Some(f),
                Item::Comment(_) => None,
            })
            .collect()
    }

    #[test]
    fn parses_events_data_and_comments() {
        let body =
            b": ping\n\nevent: message_start\ndata: {\"a\":1}\n\ndata: x\ndata: y\nid: 7\n\n";
        let items = parse_all(body);
        assert_eq!(items[0], Item::Comment("ping".into()));
        let f = frames(items);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].event.as_deref(), Some("message_start"));
        assert_eq!(f[0].data, "{\"a\":1}");
        assert_eq!(f[1].data, "x\ny");
        assert_eq!(f[1].id.as_deref(), Some("7"));
    }

    #[test]
    fn odd_lines() {
        let body = b":\n:  two spaces\ndata\ndata:no space\ndata:  two\nid: a\0b\nretry: 5x\n\
            unknown: x\nda\xffta: y\n\nevent\nretry: 30\nid: 9\n\n";
        let first = Frame::new(None, "\nno space\n two");
        let mut second = Frame::new(Some(""), "");
        second.retry = Some(30);
        second.id = Some("9".into());
        assert_eq!(
            parse_all(body),
            vec![
                Item::Comment(String::new()),
                Item::Comment(" two spaces".into()),
                Item::Frame(first),
                Item::Frame(second),
            ]
        );
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        let lf = frames(parse_all(b"event: a\ndata: 1\n\ndata: 2\n\n"));
        let crlf = frames(parse_all(b"event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n"));
        let cr = frames(parse_all(b"event: a\rdata: 1\r\rdata: 2\r\r"));
        assert_eq!(lf, crlf);
        assert_eq!(lf, cr);
    }

    #[test]
    fn every_split_point_parses_the_same() {
        let body: &[u8] =
            b"\xEF\xBB\xBFevent: e\r\ndata: {\"k\": \"v\xc3\xa9\"}\r\n\r\n: hb\r\ndata: a\rdata:b\r\n\r\n";
        let whole = parse_all(body);
        for i in 0..=body.len() {
            for j in i..=body.len() {
                let mut p = Parser::new();
                let mut out = Vec::new();
                p.feed(&body[..i], &mut out);
                p.feed(&[], &mut out);
                p.feed(&body[i..j], &mut out);
                p.feed(&body[j..], &mut out);
                p.finish(&mut out);
                assert_eq!(out, whole, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters_at_any_split() {
        let body: &[u8] = b"event: e\xff\ndata: a\xc3\ndata: \xe2\x82b\n\n: c\xa9\n";
        let expected = vec![
            Item::Frame(Frame::new(Some("e\u{fffd}"), "a\u{fffd}\n\u{fffd}b")),
            Item::Comment("c\u{fffd}".into()),
        ];
        assert_eq!(parse_all(body), expected);
        for i in 0..=body.len() {
            let mut p = Parser::new();
            let mut out = Vec::new();
            p.feed(&body[..i], &mut out);
            p.feed(&body[i..], &mut out);
            p.finish(&mut out);
            assert_eq!(out, expected, "split at {i}");
        }
    }

    #[test]
    fn recycled_items_parse_the_same_at_every_split() {
        let body: &[u8] = b": hb\nevent: a\ndata: 1\n\nevent: bb\ndata: two\ndata: lines\n\n\
            data: no event\n\n: another\nevent: only an event\n\nevent: c\r\ndata: 3\r\n\r\n";
        let whole = parse_all(body);
        for i in 0..=body.len() {
            for j in i..=body.len() {
                let mut p = Parser::new();
                let (mut items, mut seen) = (Vec::new(), Vec::new());
                for part in [&body[..i], &body[i..j], &body[j..]] {
                    p.feed(part, &mut items);
                    seen.extend(items.iter().cloned());
                    p.recycle(&mut items);
                }
                p.finish(&mut items);
                seen.append(&mut items);
                assert_eq!(seen, whole, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn recycled_strings_carry_the_next_frames() {
        let mut p = Parser::new();
        let mut items = Vec::new();
        p.feed(b"event: first\ndata: one\n\n", &mut items);
        let Item::Frame(first) = &items[0] else {
            panic!("a frame")
        };
        let lent = [first.data.as_ptr(), first.event.as_ref().unwrap().as_ptr()];
        p.recycle(&mut items);
        assert!(items.is_empty());
        p.feed(b"event: next\ndata: two\n\n", &mut items);
        let Item::Frame(next) = &items[0] else {
            panic!("a frame")
        };
        assert_eq!(*next, Frame::new(Some("next"), "two"));
        assert!(lent.contains(&next.event.as_ref().unwrap().as_ptr()));
    }

    #[test]
    fn few_and_small_buffers_are_kept() {
        let mut p = Parser::new();
        let mut items = Vec::new();
        let long = "x".repeat(SPARE_CAPACITY + 1);
        let mut body = format!("event: e\ndata: {long}\n\n");
        for n in 0..2 * SPARE_BUFFERS {
            body.push_str(&format!("event: e{n}\ndata: {n}\n\n"));
        }
        p.feed(body.as_bytes(), &mut items);
        p.recycle(&mut items);
        assert_eq!(p.spare.len(), SPARE_BUFFERS);
        assert!(p
            .spare
            .iter()
            .all(|b| b.is_empty() && b.capacity() <= SPARE_CAPACITY));
    }

    #[test]
    fn final_frame_without_blank_line_is_dispatched() {
        let f = frames(parse_all(b"data: [DONE]"));
        assert_eq!(f, vec![Frame::new(None, "[DONE]")]);
    }

    #[test]
    fn writer_round_trips() {
        let mut out = Vec::new();
        write_frame(&mut out, Some("delta"), "line1\nline2");
        write_comment(&mut out, "ping");
        let items = parse_all(&out);
        assert_eq!(
            items,
            vec![
                Item::Frame(Frame::new(Some("delta"), "line1\nline2")),
                Item::Comment("ping".into())
            ]
        );
    }
}
