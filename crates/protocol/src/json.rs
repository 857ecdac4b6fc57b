//! JSON helpers shared by the dialects: decoding with the failing field's path in the error,
//! tool-argument parsing that never loses what the model produced, and the pieces the stream
//! encoders use to write their common events straight into the output.

use std::cell::Cell;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ir::{self, RawJson, ToolCallKind};
use crate::Error;

/// Deserializes `body`, naming the failing field's path on error (`messages[1].role`).
///
/// Path tracking wraps every field of every value, so it is paid only when it is needed: the
/// body is decoded plainly first, and only a body that fails is decoded again with
/// `serde_path_to_error` to name the path. The plain pass may take shortcuts that decline
/// what they are unsure of (see [`paths_wanted`]); any failure of it, a decline included,
/// leaves the result to the tracked pass, so results and errors are those of a tracked
/// decode. Anything but whitespace after the value is an error, as it is for any JSON parser
/// an upstream runs.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if PASS.with(Cell::get) == Pass::Tracked {
        // Inside the tracked retry of `plain_first`: a plain try would only be thrown away.
        return decode_with_path(body);
    }
    let plain = {
        let _pass = InPass::enter(Pass::Plain);
        let mut de = serde_json::Deserializer::from_slice(body);
        T::deserialize(&mut de).and_then(|value| de.end().map(|()| value))
    };
    match plain {
        Ok(value) => Ok(value),
        Err(_) => decode_with_path(body),
    }
}

/// The tracked decode of [`decode`]'s failing bodies.
#[cold]
fn decode_with_path<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let _pass = InPass::enter(Pass::Tracked);
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Error::Decode {
            path,
            message: inner.to_string(),
        }
    })?;
    de.end().map_err(|e| Error::Decode {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(value)
}

/// Which pass of a two-pass decode runs on this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// None: a decoder called on its own, which must name paths.
    Outside,
    /// The plain first pass, whose failure is always decoded again tracked.
    Plain,
    /// The tracked pass, which gives the result and the error.
    Tracked,
}

thread_local! {
    /// Per thread because serde gives a `Deserialize` no way to be told anything by its caller;
    /// a decode is synchronous, so no other decode can see the pass it set.
    static PASS: Cell<Pass> = const { Cell::new(Pass::Outside) };
}

/// Whether a failure here must name its path. Deserializers that buffer a value and decode
/// it in a second step (which plain serde cannot do with a path) ask this: during a plain
/// first pass of [`decode`] or [`plain_first`] they decode without tracking, or decline (fail)
/// whatever their shortcut is unsure of, because any failure of that pass sends the whole
/// input through a tracked pass, which gives the result and the error that counts. Outside
/// such a pass it is always true, so a caller that forgot the retry still gets paths.
pub(crate) fn paths_wanted() -> bool {
    PASS.with(Cell::get) != Pass::Plain
}

/// Runs `decode` as a plain first pass and, if it fails, again as a tracked pass (every
/// [`decode`] inside it tracked too): for decoders that decode buffered values after serde is
/// done (the Responses items), whose errors then name their paths as if nothing were plain.
pub(crate) fn plain_first<T>(decode: impl Fn() -> Result<T, Error>) -> Result<T, Error> {
    let plain = {
        let _pass = InPass::enter(Pass::Plain);
        decode()
    };
    plain.or_else(|_| {
        let _pass = InPass::enter(Pass::Tracked);
        decode()
    })
}

/// Runs `f` as a plain or a tracked pass, for tests of the plain shortcuts.
#[cfg(test)]
pub(crate) fn in_pass<T>(tracked: bool, f: impl FnOnce() -> T) -> T {
    let _pass = InPass::enter(if tracked { Pass::Tracked } else { Pass::Plain });
    f()
}

/// Sets the pass for a scope and restores the outer one after, on unwinding too.
struct InPass(Pass);

impl InPass {
    fn enter(pass: Pass) -> Self {
        InPass(PASS.with(|p| p.replace(pass)))
    }
}

impl Drop for InPass {
    fn drop(&mut self) {
        PASS.with(|p| p.set(self.0));
    }
}

/// Deserializes one already-parsed value (used for stream frames), naming the path on error.
pub fn decode_str<T: DeserializeOwned>(s: &str) -> Result<T, Error> {
    decode(s.as_bytes())
}

/// Serializes a wire value. Serialization of our own types cannot fail (string keys only).
pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// A schema, parsed for a dialect that builds it into values. The only failure is text a value
/// cannot hold (see [`RawJson`]): an invalid request, naming where the schema was (`path`).
pub(crate) fn schema_value(
    schema: &RawJson,
    path: impl FnOnce() -> String,
) -> Result<Value, Error> {
    schema
        .parse()
        .map_err(|e| Error::invalid(path(), e.to_string()))
}

/// A function tool's schema as [`schema_value`] parses it.
pub(crate) fn tool_schema(tool: &ir::Tool, schema: &RawJson) -> Result<Value, Error> {
    schema_value(schema, || format!("tools.{}.parameters", tool.name))
}

/// A wire object as a map, kept whole for its own dialect (a provider tool). It fails only on
/// a schema a `Value` cannot hold (see [`RawJson`]), which the map could not carry.
pub(crate) fn whole_object<T: serde::Serialize>(
    value: &T,
    path: &str,
) -> Result<serde_json::Map<String, Value>, Error> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Ok(serde_json::Map::new()),
        Err(e) => Err(Error::Decode {
            path: path.to_string(),
            message: e.to_string(),
        }),
    }
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

// Writers of single JSON values for the stream encoders that write an event's bytes directly
// rather than through a `Value`. Each writes what serde_json's compact serializer writes for the
// same value, so a direct event and one serialized from a `Value` are the same bytes.

/// A JSON string, escaped by serde_json itself.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail, and a str always serializes.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A JSON string, or `null`.
pub(crate) fn write_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

pub(crate) fn write_uint(out: &mut Vec<u8>, n: u64) {
    // As for `write_str`: cannot fail.
    let _ = serde_json::to_writer(&mut *out, &n);
}

/// [`decode`]'s two passes, each run alone on `body`, as `Debug` text: a shortcut of the plain
/// pass must give what the tracked pass gives whenever it succeeds (tests of the shortcuts).
#[cfg(test)]
pub(crate) fn both_passes<T: DeserializeOwned + std::fmt::Debug>(
    body: &str,
) -> (Option<String>, Result<String, Error>) {
    let plain = in_pass(false, || {
        let mut de = serde_json::Deserializer::from_str(body);
        T::deserialize(&mut de).ok().filter(|_| de.end().is_ok())
    });
    let tracked = decode_with_path::<T>(body.as_bytes());
    (
        plain.map(|v| format!("{v:?}")),
        tracked.map(|v| format!("{v:?}")),
    )
}

/// Text that is hard to write as JSON, for the encoders' tests: quotes, backslashes, control
/// characters, the line separators, non-ASCII, and text that looks like markup or JSON.
#[cfg(test)]
pub(crate) const AWKWARD_TEXT: [&str; 12] = [
    "",
    "plain text",
    r#"say "hi""#,
    r"back\slash \n not a newline",
    "line\nbreak\r\nand\ttab",
    "\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}",
    "\u{2028}line and paragraph separators\u{2029}",
    "é, 中文, עברית",
    "🦀 emoji 👍🏽",
    "</script><!--",
    r#"{"path": "a\"b"}"#,
    "\u{feff}bom",
];

/// Any text for the encoders' property tests: control characters, quotes, backslashes, the
/// line separators JSON allows raw and JavaScript does not, and non-ASCII.
#[cfg(test)]
pub(crate) fn any_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let chars = prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '"', '\\', '\n', '\r', '\t', '\u{0}', '\u{1f}', '\u{7f}', '\u{2028}', '\u{2029}', 'é',
            '/', '🦀',
        ]),
    ];
    prop::collection::vec(chars, 0..24).prop_map(|v| v.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[allow(dead_code)] // reason: only its decoding is under test
        messages: Vec<Message>,
    }

    #[derive(Debug, serde::Deserialize)]
    struct Message {
        #[allow(dead_code)] // reason: only its decoding is under test
        role: String,
    }

    #[test]
    fn an_error_names_its_path() {
        let err = decode::<Body>(br#"{"messages": [{"role": "user"}, {"role": 7}]}"#)
            .expect_err("a number is not a role");
        assert_eq!(
            err,
            Error::Decode {
                path: "messages[1].role".into(),
                message: "invalid type: integer `7`, expected a string at line 1 column 42".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "messages[1].role: invalid type: integer `7`, expected a string at line 1 column 42"
        );
    }

    #[test]
    fn a_syntax_error_names_where_it_stopped() {
        let err = decode::<Body>(br#"{"messages": [{"role": "user"}, {"role""#)
            .expect_err("the body is cut");
        assert_eq!(
            err.to_string(),
            "messages[1]: EOF while parsing an object at line 1 column 39"
        );
    }

    #[test]
    fn only_whitespace_may_follow_the_value() {
        let body: Body = decode(b" {\"messages\": []} \r\n\t").expect("whitespace is fine");
        assert!(body.messages.is_empty());
        for (text, column) in [
            (&br#"{"messages": []} trailing"#[..], 18),
            (br#"{"messages": []}{}"#, 17),
        ] {
            let err = decode::<Body>(text).expect_err("text after the value");
            assert_eq!(
                err.to_string(),
                format!("trailing characters at line 1 column {column}")
            );
        }
    }
}
