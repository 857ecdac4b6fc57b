//! Reading only what a gateway records from an answer it forwards untouched (same dialect on
//! both sides): the served model and the token usage. The body is scanned by serde without
//! building the IR (an OpenAI Chat answer, the commonest, by hand with [`crate::scan`] first),
//! so a passthrough answer costs a fraction of a full decode. What the
//! fields mean is each dialect's own usage decoder's business; this module only picks them
//! out. It must not grow into a second decoder.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::ir::Usage;
use crate::scan::{Reader, Seen};
use crate::{anthropic, gemini, openai, responses, Dialect};

// Each shape requires the field that makes a body an answer of its dialect (`content`,
// `choices`, `output`, Gemini's `candidates` or `promptFeedback`), skipped without being
// built, so an error or a stray object is not taken for an answer.
//
// Gemini's keys are also accepted in snake_case (proto-JSON field names, as some
// Gemini-compatible servers write them), by the aliases `gemini::wire` has.

#[derive(Deserialize)]
struct Anthropic {
    #[serde(default)]
    model: String,
    usage: Option<anthropic::wire::Usage>,
    #[allow(dead_code)] // reason: required to be present, never read
    content: IgnoredAny,
}

#[derive(Deserialize)]
struct OpenAiChat {
    #[serde(default)]
    model: String,
    usage: Option<openai::wire::Usage>,
    #[allow(dead_code)] // reason: required to be present, never read
    choices: IgnoredAny,
}

#[derive(Deserialize)]
struct Responses {
    #[serde(default)]
    model: String,
    usage: Option<responses::wire::Usage>,
    #[allow(dead_code)] // reason: required to be present, never read
    output: IgnoredAny,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Gemini {
    #[serde(default, alias = "model_version")]
    model_version: Option<String>,
    #[serde(alias = "usage_metadata")]
    usage_metadata: Option<gemini::wire::UsageMetadata>,
    /// An answer has candidates, or says why it has none (a blocked prompt).
    candidates: Option<IgnoredAny>,
    // `gemini::wire` has no field for it (it is kept as an unknown one), so no alias there,
    // but the decoder takes a `prompt_feedback` answer with its usage all the same.
    #[serde(alias = "prompt_feedback")]
    prompt_feedback: Option<IgnoredAny>,
}

fn openai_chat(body: &[u8]) -> Option<(String, Usage)> {
    let w: OpenAiChat = serde_json::from_slice(body).ok()?;
    let usage = w.usage.as_ref().map(openai::response::decode_usage);
    Some((w.model, usage.unwrap_or_default()))
}

/// An OpenAI Chat answer's model and usage, read with [`crate::scan`]: through serde this was
/// the largest part of a passthrough JSON request (`wire::Usage` buffers every field for its
/// flattened `extra`). `None` for anything the reader is unsure of, which the serde shape
/// then reads (so this must read only what that shape reads, and the same: the tests compare
/// the two). The usage is the decoder's own: read by `openai::response::read_usage`, mapped
/// by `decode_usage`.
fn openai_chat_by_hand(body: &[u8]) -> Option<(String, Usage)> {
    let mut r = Reader::new(std::str::from_utf8(body).ok()?);
    r.ws();
    let mut seen = Seen::default();
    let (mut model, mut usage) = (Cow::Borrowed(""), None);
    r.object(|r, key| {
        match key {
            "model" => model = seen.once(0, r)?.string()?,
            // Only the counts matter here: the fields `wire::Usage` keeps in `extra` are skipped.
            "usage" => {
                usage = seen
                    .once(1, r)?
                    .nullable(|r| openai::response::read_usage_with(r, |r, _, _| r.skip()))?
            }
            "choices" => seen.once(2, r)?.skip()?,
            _ => r.skip()?,
        }
        Some(())
    })?;
    r.end()?;
    // `choices` is what makes the body an answer.
    seen.has(2).then_some(())?;
    let usage = usage.as_ref().map(openai::response::decode_usage);
    Some((model.into_owned(), usage.unwrap_or_default()))
}

/// The model and usage of a whole (non-streamed) answer in `dialect`, or `None` when the body
/// is not such an answer. An answer without usage gives zero usage.
pub fn response_usage(dialect: Dialect, body: &[u8]) -> Option<(String, Usage)> {
    Some(match dialect {
        Dialect::Anthropic => {
            let w: Anthropic = serde_json::from_slice(body).ok()?;
            let usage = w.usage.as_ref().map(anthropic::response::usage_from_wire);
            (w.model, usage.unwrap_or_default())
        }
        Dialect::OpenAiChat => openai_chat_by_hand(body).or_else(|| openai_chat(body))?,
        Dialect::Responses => {
            let w: Responses = serde_json::from_slice(body).ok()?;
            let usage = w.usage.as_ref().map(responses::response::usage_from_wire);
            (w.model, usage.unwrap_or_default())
        }
        Dialect::Gemini => {
            let w: Gemini = serde_json::from_slice(body).ok()?;
            if w.candidates.is_none() && w.prompt_feedback.is_none() {
                return None;
            }
            let usage = w
                .usage_metadata
                .as_ref()
                .map(gemini::response::decode_usage);
            (
                w.model_version.unwrap_or_default(),
                usage.unwrap_or_default(),
            )
        }
    })
}

/// Reads a forwarded stream for what a gateway records (usage), whether it failed, and
/// whether it ended properly, frame by frame, without decoding content: frames that cannot
/// carry any of that are recognised by a byte search and skipped. It agrees with the full
/// stream decoders on usage, on failure and on truncation (tested on every fixture).
#[derive(Debug, Clone)]
pub struct StreamSniffer {
    dialect: Dialect,
    usage: Usage,
    error: Option<String>,
    ended: bool,
}

#[derive(Deserialize)]
struct ErrorMessage {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct ErrorFrame {
    error: Option<ErrorMessage>,
}

#[derive(Deserialize)]
struct AnthropicStart {
    message: AnthropicMessage,
}

#[derive(Deserialize)]
struct AnthropicMessage {
    usage: Option<anthropic::wire::Usage>,
}

#[derive(Deserialize)]
struct AnthropicDelta {
    usage: Option<anthropic::wire::Usage>,
}

#[derive(Deserialize)]
struct AnthropicType {
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct OpenAiChunk {
    usage: Option<openai::wire::Usage>,
    #[serde(default)]
    choices: Vec<OpenAiChoice>,
}

#[derive(Deserialize)]
struct OpenAiChoice {
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ResponsesDone {
    response: ResponsesBody,
}

#[derive(Deserialize)]
struct ResponsesBody {
    usage: Option<responses::wire::Usage>,
    error: Option<ErrorMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiChunk {
    #[serde(alias = "usage_metadata")]
    usage_metadata: Option<gemini::wire::UsageMetadata>,
    #[serde(default)]
    candidates: Vec<GeminiCandidate>,
    error: Option<ErrorMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiCandidate {
    #[serde(alias = "finish_reason")]
    finish_reason: Option<String>,
}

/// A frame's event type: its `event:` field (every frame of the Anthropic and Responses APIs
/// has one, so this is borrowed), else the `type` in its data.
fn event_kind<'a>(event: Option<&'a str>, data: &str) -> Option<Cow<'a, str>> {
    match event {
        Some(e) => Some(Cow::Borrowed(e)),
        None => serde_json::from_str::<AnthropicType>(data)
            .ok()
            .map(|t| Cow::Owned(t.kind)),
    }
}

/// A substring searcher built once: `memmem::find` builds one per call, which costs more than
/// searching a frame (the profile had it at a fifth of a forwarded stream's instructions).
type Needle = LazyLock<Finder<'static>>;

macro_rules! needle {
    ($name:ident, $text:expr) => {
        static $name: Needle = LazyLock::new(|| Finder::new($text));
    };
}

needle!(ERROR, "\"error\"");
needle!(USAGE, "\"usage\"");
needle!(FINISH_REASON, "\"finish_reason\"");
// Gemini's keys come in camelCase or snake_case (`usageMetadata`, `usage_metadata`), as the
// decoder takes both: each is found by the quoted start the two spellings share, so one
// search per key covers both. Another key or a string value that starts so only costs a parse.
needle!(GEMINI_USAGE, "\"usage");
needle!(GEMINI_FINISH, "\"finish");

fn has(data: &str, needle: &Needle) -> bool {
    needle.find(data.as_bytes()).is_some()
}

/// Whether `key` (quoted, such as `"usage"`) is a key with a value other than `null`
/// anywhere in `data`: one search for the key, each occurrence checked by what follows it.
/// An occurrence not followed by a colon is a string value (JSON puts `,`, `}` or `]` after a
/// value, never `:`), and a key followed by nothing is a truncated frame, which the parse
/// would reject anyway. A `null` value does not end the search, as another occurrence of the
/// key may have a value.
fn has_value(data: &str, key: &Needle) -> bool {
    let len = key.needle().len();
    let mut rest = data.as_bytes();
    // Starting a search costs over half as much as running one over a whole chunk (callgrind:
    // ~150 instructions on a 16-byte rest, ~270 on a chunk), so after a `null` it resumes past
    // the value, and not at all when what is left cannot hold the key (`"usage":null}` ends
    // most chunks).
    while rest.len() >= len {
        let Some(at) = key.find(rest) else {
            return false;
        };
        rest = skip_whitespace(&rest[at + len..]);
        let Some((b':', value)) = rest.split_first() else {
            continue;
        };
        let value = skip_whitespace(value);
        match value.strip_prefix(b"null") {
            Some(after) => rest = after,
            None => return !value.is_empty(),
        }
    }
    false
}

/// `bytes` without its leading JSON whitespace.
fn skip_whitespace(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

impl StreamSniffer {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            usage: Usage::default(),
            error: None,
            ended: false,
        }
    }

    /// Usage reported so far (running totals merged as the decoders merge them).
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The upstream's error message, when it sent one.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Whether the stream reached its proper end (or failed explicitly); a stream that stops
    /// before is truncated.
    pub fn ended(&self) -> bool {
        self.ended || self.error.is_some()
    }

    pub fn frame(&mut self, frame: &crate::sse::Frame) {
        let data = frame.data.as_str();
        match self.dialect {
            Dialect::Anthropic => self.anthropic(frame.event.as_deref(), data),
            Dialect::OpenAiChat => self.openai(data),
            Dialect::Responses => self.responses(frame.event.as_deref(), data),
            Dialect::Gemini => self.gemini(data),
        }
    }

    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(if message.is_empty() {
                "the upstream reported an error".into()
            } else {
                message
            });
        }
    }

    fn anthropic(&mut self, event: Option<&str>, data: &str) {
        // Content events are most of a stream and carry nothing recorded.
        let Some(kind) = event_kind(event, data) else {
            return;
        };
        match kind.as_ref() {
            "message_start" => {
                if let Ok(s) = serde_json::from_str::<AnthropicStart>(data) {
                    if let Some(u) = &s.message.usage {
                        self.usage.merge(&anthropic::response::usage_from_wire(u));
                    }
                }
            }
            "message_delta" => {
                if let Ok(d) = serde_json::from_str::<AnthropicDelta>(data) {
                    if let Some(u) = &d.usage {
                        self.usage.merge(&anthropic::response::usage_from_wire(u));
                    }
                }
            }
            "message_stop" => self.ended = true,
            "error" => {
                let message = serde_json::from_str::<ErrorFrame>(data)
                    .ok()
                    .and_then(|e| e.error)
                    .map(|e| e.message)
                    .unwrap_or_default();
                self.fail(message);
            }
            _ => {}
        }
    }

    fn openai(&mut self, data: &str) {
        if data.trim() == "[DONE]" {
            self.ended = true;
            return;
        }
        // A search of its own: one pass for all three keys (over every colon, or with a
        // multi-pattern searcher) cost more than the three passes when measured.
        if has(data, &ERROR) {
            if let Ok(ErrorFrame { error: Some(e) }) = serde_json::from_str(data) {
                self.fail(e.message);
                return;
            }
        }
        // Every chunk names both fields; only non-null ones are worth a parse.
        if !has_value(data, &USAGE) && !has_value(data, &FINISH_REASON) {
            return;
        }
        if let Ok(chunk) = serde_json::from_str::<OpenAiChunk>(data) {
            if let Some(u) = &chunk.usage {
                self.usage.merge(&openai::response::decode_usage(u));
            }
            if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
                self.ended = true;
            }
        }
    }

    fn responses(&mut self, event: Option<&str>, data: &str) {
        let Some(kind) = event_kind(event, data) else {
            return;
        };
        match kind.as_ref() {
            "response.completed" | "response.incomplete" | "response.failed" => {
                if let Ok(done) = serde_json::from_str::<ResponsesDone>(data) {
                    if let Some(u) = &done.response.usage {
                        self.usage.merge(&responses::response::usage_from_wire(u));
                    }
                    if kind == "response.failed" {
                        let message = done.response.error.map(|e| e.message).unwrap_or_default();
                        self.fail(message);
                    }
                }
                self.ended = true;
            }
            "error" => {
                let message = serde_json::from_str::<ErrorMessage>(data)
                    .map(|e| e.message)
                    .unwrap_or_default();
                self.fail(message);
            }
            _ => {}
        }
    }

    fn gemini(&mut self, data: &str) {
        let usage = has(data, &GEMINI_USAGE);
        let finish = has(data, &GEMINI_FINISH);
        let error = has(data, &ERROR);
        if !usage && !finish && !error {
            return;
        }
        if let Ok(chunk) = serde_json::from_str::<GeminiChunk>(data) {
            if let Some(e) = chunk.error {
                self.fail(e.message);
                return;
            }
            if let Some(u) = &chunk.usage_metadata {
                self.usage.merge(&gemini::response::decode_usage(u));
            }
            if chunk.candidates.iter().any(|c| c.finish_reason.is_some()) {
                self.ended = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every response fixture: the sniffed model and usage equal the full decode's.
    /// The hand-read OpenAI answer agrees with the serde shape wherever it reads one, and
    /// reads every answer upstreams send.
    fn check_openai(body: &str) -> bool {
        let by_hand = openai_chat_by_hand(body.as_bytes());
        if let Some(answer) = &by_hand {
            assert_eq!(
                Some(answer),
                openai_chat(body.as_bytes()).as_ref(),
                "{body}"
            );
        }
        by_hand.is_some()
    }

    const OPENAI_ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1735689600,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello \"you\"\n","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":31,"completion_tokens":9,"total_tokens":40,"prompt_tokens_details":{"cached_tokens":16,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":4,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_1"}"#;

    #[test]
    fn openai_answers_are_read_by_hand_as_serde_reads_them() {
        for body in [
            OPENAI_ANSWER,
            // vLLM: details sent as null; DeepSeek: its own cache fields; no usage at all.
            r#"{"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":null,"completion_tokens_details":null}}"#,
            r#"{"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_cache_hit_tokens":3,"prompt_cache_miss_tokens":2}}"#,
            r#" {"choices":[{"message":{"content":null}}],"usage":null} "#,
            // Both cache counts: the details win.
            r#"{"model":"m","choices":[],"usage":{"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":3},"prompt_cache_hit_tokens":5}}"#,
        ] {
            assert!(check_openai(body), "not read by hand: {body}");
        }
        // Every answer fixture, as upstreams send them.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/openai/responses");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures").flatten() {
            let body = std::fs::read_to_string(entry.path()).expect("fixture");
            if Dialect::OpenAiChat.decode_response(body.as_bytes()).is_ok() {
                assert!(check_openai(&body), "{}", entry.path().display());
                read += 1;
            }
        }
        assert!(read >= 4, "only {read} fixtures");
        let (model, usage) = openai_chat_by_hand(OPENAI_ANSWER.as_bytes()).unwrap();
        assert_eq!(model, "gpt-4o-mini-2024-07-18");
        assert_eq!(
            (
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens
            ),
            (15, 9, 16)
        );
        assert_eq!(usage.reasoning_tokens, 4);
        // Not an answer, or not sure: left to serde, which says.
        for body in [
            r#"{"model":"m"}"#,
            r#"{"model":"m","choices":[],"model":"n"}"#,
            r#"{"model":"m","choices":[],"usage":{"prompt_tokens":-0}}"#,
            r#"{"error":{"message":"no"}}"#,
        ] {
            assert!(!check_openai(body), "read by hand: {body}");
        }
    }

    #[test]
    fn the_hand_read_openai_answer_agrees_with_serde_on_every_cut_and_corruption() {
        for body in crate::scan::cuts_and_corruptions(&[OPENAI_ANSWER]) {
            check_openai(&body);
        }
    }

    #[test]
    fn agrees_with_the_full_decoder_on_every_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut checked = 0;
        for dialect in Dialect::ALL {
            let dir = root.join(dialect.name()).join("responses");
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let body = std::fs::read(entry.path()).expect("fixture");
                let Ok(full) = dialect.decode_response(&body) else {
                    continue;
                };
                let (model, usage) = response_usage(dialect, &body)
                    .unwrap_or_else(|| panic!("{}", entry.path().display()));
                assert_eq!(model, full.model, "{}", entry.path().display());
                assert_eq!(usage, full.usage, "{}", entry.path().display());
                checked += 1;
            }
        }
        assert!(checked >= 16, "only {checked} fixtures found");
    }

    /// Every stream fixture: the sniffer finds the usage the full decoder collects, and it
    /// sees a failure or a truncation exactly when the decoder ends with an error.
    #[test]
    fn stream_sniffer_agrees_with_the_full_decoder_on_every_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut checked = 0;
        for dialect in Dialect::ALL {
            let dir = root.join(dialect.name()).join("streams");
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let body = std::fs::read(&path).expect("fixture");
                let mut decoder = dialect.stream_decoder();
                let mut sniffer = StreamSniffer::new(dialect);
                let mut events = Vec::new();
                let mut decode_failed = false;
                for item in crate::sse::parse_all(&body) {
                    if let crate::sse::Item::Frame(frame) = item {
                        sniffer.frame(&frame);
                        decode_failed |= decoder.decode(&frame, &mut events).is_err();
                    }
                }
                decoder.finish(&mut events);
                if decode_failed {
                    continue; // a malformed fixture: the decoder's own business
                }
                let mut usage = Usage::default();
                let mut errored = false;
                for ev in &events {
                    match ev {
                        crate::ir::StreamEvent::MessageStart { usage: u, .. }
                        | crate::ir::StreamEvent::MessageDelta { usage: u, .. } => usage.merge(u),
                        crate::ir::StreamEvent::Error(_) => errored = true,
                        _ => {}
                    }
                }
                let name = path.display();
                assert_eq!(sniffer.usage(), usage, "{name}");
                assert_eq!(
                    sniffer.error().is_some() || !sniffer.ended(),
                    errored,
                    "{name}: error {:?}, ended {}",
                    sniffer.error(),
                    sniffer.ended()
                );
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} fixtures");
    }

    fn usage_has_value(data: &str) -> bool {
        has_value(data, &USAGE)
    }

    #[test]
    fn a_key_counts_with_whitespace_around_its_colon() {
        assert!(usage_has_value(r#"{"usage" : {"total_tokens": 3}}"#));
        assert!(usage_has_value("{\"usage\"\r\n:\t{\"total_tokens\":3}}"));
        assert!(!usage_has_value(r#"{"usage" : null}"#));
        assert!(!usage_has_value("{\"usage\":\n  null}"));
    }

    #[test]
    fn only_a_value_other_than_null_counts() {
        assert!(!usage_has_value(r#"{"usage":null}"#));
        assert!(usage_has_value(r#"{"usage":{}}"#));
        assert!(has_value(r#"{"finish_reason":"stop"}"#, &FINISH_REASON));
        assert!(!has_value(r#"{"finish_reason":null}"#, &FINISH_REASON));
    }

    #[test]
    fn the_key_as_a_string_value_is_not_a_key() {
        assert!(!usage_has_value(r#"{"delta":{"content":"usage"}}"#));
        assert!(!usage_has_value(
            r#"{"delta":{"content":"usage"},"usage":null}"#
        ));
        assert!(!usage_has_value(r#"["usage" , "usage"]"#));
        assert!(!has_value(
            r#"{"content":"finish_reason","finish_reason":null}"#,
            &FINISH_REASON
        ));
    }

    #[test]
    fn a_later_occurrence_with_a_value_counts_after_a_null_one() {
        assert!(usage_has_value(
            r#"{"choices":[{"usage":null}],"usage":{"total_tokens":3}}"#
        ));
        assert!(usage_has_value(
            r#"{"content":"usage","usage" :null,"usage": {"total_tokens":3}}"#
        ));
        assert!(!usage_has_value(r#"{"usage":null,"x":{"usage":null}}"#));
    }

    #[test]
    fn a_key_at_the_very_end_of_a_truncated_frame_has_no_value() {
        assert!(!usage_has_value(r#""usage""#));
        assert!(!usage_has_value(r#"{"usage""#));
        assert!(!usage_has_value(r#"{"usage":"#));
        assert!(!usage_has_value("{\"usage\": \n"));
    }

    #[test]
    fn a_frame_without_the_key_has_no_value() {
        assert!(!usage_has_value(""));
        assert!(!usage_has_value(
            r#"{"choices":[{"finish_reason":"stop"}]}"#
        ));
        assert!(!usage_has_value(
            r#"{"usageMetadata":{"totalTokenCount":3}}"#
        ));
    }

    /// A usage object after a `null` one, and one spaced from its colon, are both read.
    #[test]
    fn the_openai_sniffer_reads_usage_past_a_null_one() {
        let mut sniffer = StreamSniffer::new(Dialect::OpenAiChat);
        sniffer.frame(&crate::sse::Frame::new(
            None,
            r#"{"choices":[{"delta":{},"finish_reason":null,"usage":null}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
        ));
        assert_eq!(
            (sniffer.usage().input_tokens, sniffer.usage().output_tokens),
            (3, 2)
        );
        sniffer.frame(&crate::sse::Frame::new(
            None,
            r#"{"choices":[], "usage" : {"prompt_tokens":0, "completion_tokens":4, "total_tokens":4}}"#,
        ));
        assert_eq!(sniffer.usage().output_tokens, 4, "running totals, merged");
        assert!(!sniffer.ended());
    }

    /// A Gemini-compatible server may write proto-JSON field names (`usage_metadata`,
    /// `finish_reason`), which the full decoder accepts: the sniffer must read the same usage
    /// and end, or a forwarded stream is recorded without usage and reported as cut short.
    #[test]
    fn a_snake_case_gemini_stream_has_its_usage_and_end_read_as_the_decoder_reads_them() {
        // The usage and the end come in different frames, so each is found on its own.
        let frames = [
            crate::sse::Frame::new(
                None,
                r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],"usage_metadata":{"prompt_token_count":12,"cached_content_token_count":4,"candidates_token_count":2,"thoughts_token_count":3,"total_token_count":17},"model_version":"gemini-2.5-flash","response_id":"r1"}"#,
            ),
            crate::sse::Frame::new(
                None,
                r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finish_reason":"STOP"}],"model_version":"gemini-2.5-flash","response_id":"r1"}"#,
            ),
        ];
        let mut sniffer = StreamSniffer::new(Dialect::Gemini);
        let mut decoder = Dialect::Gemini.stream_decoder();
        let mut events = Vec::new();
        for frame in &frames {
            sniffer.frame(frame);
            decoder.decode(frame, &mut events).expect("a valid chunk");
        }
        decoder.finish(&mut events);
        let mut usage = Usage::default();
        for ev in &events {
            match ev {
                crate::ir::StreamEvent::MessageStart { usage: u, .. }
                | crate::ir::StreamEvent::MessageDelta { usage: u, .. } => usage.merge(u),
                crate::ir::StreamEvent::Error(e) => panic!("the decoder saw an error: {e:?}"),
                _ => {}
            }
        }
        let sniffed = sniffer.usage();
        assert_eq!(sniffed, usage);
        assert_eq!(
            (
                sniffed.input_tokens,
                sniffed.output_tokens,
                sniffed.cache_read_tokens
            ),
            (8, 5, 4)
        );
        assert!(sniffer.ended());
        assert!(sniffer.error().is_none());
    }

    #[test]
    fn a_snake_case_gemini_answer_has_its_model_and_usage_read_as_the_decoder_reads_them() {
        let body = br#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"}]},"finish_reason":"STOP"}],"usage_metadata":{"prompt_token_count":12,"candidates_token_count":2,"total_token_count":14},"model_version":"gemini-2.5-flash","response_id":"r1"}"#;
        let full = Dialect::Gemini
            .decode_response(body)
            .expect("a valid answer");
        let (model, usage) = response_usage(Dialect::Gemini, body).expect("an answer");
        assert_eq!((model.as_str(), usage), (full.model.as_str(), full.usage));
        assert_eq!(
            (model.as_str(), usage.input_tokens, usage.output_tokens),
            ("gemini-2.5-flash", 12, 2)
        );
    }

    /// A blocked prompt has no candidates, only the feedback saying why; in proto-JSON that is
    /// `prompt_feedback`, and the answer's usage counts all the same.
    #[test]
    fn a_snake_case_blocked_gemini_answer_is_an_answer() {
        let body = br#"{"prompt_feedback":{"block_reason":"SAFETY"},"usage_metadata":{"prompt_token_count":9,"total_token_count":9},"model_version":"gemini-2.5-flash"}"#;
        let full = Dialect::Gemini
            .decode_response(body)
            .expect("a valid answer");
        let (model, usage) = response_usage(Dialect::Gemini, body).expect("an answer");
        assert_eq!((model.as_str(), usage), (full.model.as_str(), full.usage));
        assert_eq!(usage.input_tokens, 9);
    }

    #[test]
    fn garbage_and_errors_are_not_answers() {
        for dialect in Dialect::ALL {
            assert!(response_usage(dialect, b"not json").is_none());
            assert!(response_usage(dialect, b"[1,2]").is_none());
            assert!(response_usage(dialect, br#"{"error": {"message": "x"}}"#).is_none());
            assert!(response_usage(dialect, br#"{"model": "m"}"#).is_none());
        }
    }
}
