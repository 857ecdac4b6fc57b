//! The head of a client's request: the few top-level fields a gateway routes and forwards by
//! (model, stream flag, output limit in each dialect's spelling, an OpenAI chat client's wish
//! for stream usage), read in one pass that checks the body's JSON and builds nothing else. A
//! forwarded request is never decoded further, so for the commonest request (a long agent
//! conversation passed through to its own dialect) this pass is most of the gateway's work on
//! the body.
//!
//! The body is read by hand with [`crate::scan`] first, which skips strings eight bytes at a
//! time; whatever the reader is unsure of goes to the serde derive below, which decides the
//! result and the error. What the fields mean per dialect is the caller's business.

use serde::Deserialize;

use crate::scan::{Reader, Seen};
use crate::{json, Error};

/// The head's fields, in every dialect's spelling.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct Head {
    pub model: Option<String>,
    pub stream: Option<bool>,
    /// Anthropic, and OpenAI chat's older spelling.
    pub max_tokens: Option<u64>,
    /// OpenAI chat's newer spelling.
    pub max_completion_tokens: Option<u64>,
    /// OpenAI Responses.
    pub max_output_tokens: Option<u64>,
    pub stream_options: Option<StreamOptions>,
    /// Gemini.
    #[serde(rename = "generationConfig", alias = "generation_config")]
    pub generation_config: Option<GenerationConfig>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct StreamOptions {
    pub include_usage: Option<bool>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct GenerationConfig {
    #[serde(rename = "maxOutputTokens", alias = "max_output_tokens")]
    pub max_output_tokens: Option<u64>,
}

/// Reads the head of a request body (text: the caller has checked it is UTF-8). Any JSON
/// object is a head; anything else, or a known field of the wrong type or given twice, is a
/// decode error.
pub fn read(text: &str) -> Result<Head, Error> {
    match by_hand(text) {
        Some(head) => Ok(head),
        None => json::decode(text.as_bytes()),
    }
}

/// The head as the serde derive reads it, or `None` where unsure (then serde must decide).
fn by_hand(text: &str) -> Option<Head> {
    let mut r = Reader::new(text);
    let mut head = Head::default();
    let mut seen = Seen::default();
    r.ws();
    r.object(|r, key| {
        match key {
            "model" => head.model = seen.once(0, r)?.text_owned()?,
            "stream" => head.stream = seen.once(1, r)?.nullable(Reader::bool)?,
            "max_tokens" => head.max_tokens = seen.once(2, r)?.nullable(Reader::u64)?,
            "max_completion_tokens" => {
                head.max_completion_tokens = seen.once(3, r)?.nullable(Reader::u64)?;
            }
            "max_output_tokens" => {
                head.max_output_tokens = seen.once(4, r)?.nullable(Reader::u64)?;
            }
            "stream_options" => {
                head.stream_options = seen.once(5, r)?.nullable(|r| {
                    let include_usage = one_field(r, &["include_usage"], Reader::bool)?;
                    Some(StreamOptions { include_usage })
                })?;
            }
            // Either spelling is the one field: both at once is serde's duplicate.
            "generationConfig" | "generation_config" => {
                head.generation_config = seen.once(6, r)?.nullable(|r| {
                    let max_output_tokens =
                        one_field(r, &["maxOutputTokens", "max_output_tokens"], Reader::u64)?;
                    Some(GenerationConfig { max_output_tokens })
                })?;
            }
            _ => r.skip()?,
        }
        Some(())
    })?;
    r.end()?;
    Some(head)
}

/// An object of which one optional field (under any of its `names`) is read by `value` and
/// the rest skipped; the field given twice declines, as for serde it is a duplicate.
fn one_field<'a, T>(
    r: &mut Reader<'a>,
    names: &[&str],
    value: impl Fn(&mut Reader<'a>) -> Option<T>,
) -> Option<Option<T>> {
    let mut field = None;
    let mut seen = Seen::default();
    r.object(|r, key| {
        if names.contains(&key) {
            field = seen.once(0, r)?.nullable(&value)?;
            Some(())
        } else {
            r.skip()
        }
    })?;
    Some(field)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::scan::cuts_and_corruptions;

    fn by_serde(text: &str) -> Result<Head, String> {
        json::decode::<Head>(text.as_bytes()).map_err(|e| e.to_string())
    }

    /// The hand reader either declines or reads what serde reads; and the public reader's
    /// result, value or error, is serde's.
    fn check(text: &str) {
        let serde = by_serde(text);
        if let Some(head) = by_hand(text) {
            assert_eq!(Ok(&head), serde.as_ref(), "{text}");
        }
        assert_eq!(read(text).map_err(|e| e.to_string()), serde, "{text}");
    }

    const SAMPLES: &[&str] = &[
        r#"{"model":"claude-sonnet-4-5","max_tokens":4096,"stream":true,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"a \"quoted\" line\nand é, \ud83d\ude00"}]}],"tools":[{"name":"t","input_schema":{"type":"object","properties":{}}}]}"#,
        r#"{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true,"other":1},"max_tokens":5,"max_completion_tokens":7,"temperature":0.5e1}"#,
        r#"{"model":"o3","input":[{"type":"message","role":"user","content":"hi"}],"max_output_tokens":3,"stream":null,"store":false,"metadata":null}"#,
        r#" { "contents" : [ { "parts" : [ { "text" : "x" } ] } ] , "generationConfig" : { "maxOutputTokens" : 4 , "temperature" : -1.5 } } "#,
        r#"{"generation_config":{"max_output_tokens":8},"contents":[]}"#,
    ];

    #[test]
    fn reads_every_field_in_every_spelling() {
        let head = read(SAMPLES[1]).expect("head");
        assert_eq!(head.model.as_deref(), Some("gpt-4.1"));
        assert_eq!(head.stream, Some(true));
        assert_eq!(
            (head.max_tokens, head.max_completion_tokens),
            (Some(5), Some(7))
        );
        assert_eq!(
            head.stream_options,
            Some(StreamOptions {
                include_usage: Some(true)
            })
        );
        let gemini = |text| read(text).expect("head").generation_config;
        assert_eq!(
            gemini(SAMPLES[3]).and_then(|g| g.max_output_tokens),
            Some(4)
        );
        assert_eq!(
            gemini(SAMPLES[4]).and_then(|g| g.max_output_tokens),
            Some(8)
        );
        assert_eq!(read(SAMPLES[2]).expect("head").max_output_tokens, Some(3));
        // Each sample is read by hand, not left to serde.
        for text in SAMPLES {
            assert!(by_hand(text).is_some(), "{text}");
            check(text);
        }
    }

    #[test]
    fn every_request_fixture_is_read_by_hand() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut read = 0;
        for dialect in ["anthropic", "openai", "responses", "gemini"] {
            let dir = root.join(dialect).join("requests");
            for entry in std::fs::read_dir(&dir).expect("fixtures") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("fixture");
                assert!(by_hand(&text).is_some(), "declined: {}", path.display());
                check(&text);
                read += 1;
            }
        }
        assert!(read > 40, "{read} fixtures");
    }

    #[test]
    fn odd_heads_read_as_serde_reads_them() {
        for text in [
            "{}",
            r#"{"model":null,"max_tokens":null,"stream_options":null,"generationConfig":null}"#,
            r#"{"stream_options":{"include_usage":null},"generationConfig":{"maxOutputTokens":null}}"#,
            // Repeated fields: known ones (and the two spellings of one) are refused, unknown
            // ones are not.
            r#"{"model":"a","model":"b"}"#,
            r#"{"generationConfig":{},"generation_config":{}}"#,
            r#"{"generationConfig":{"maxOutputTokens":1,"max_output_tokens":2}}"#,
            r#"{"stream_options":{"include_usage":true,"include_usage":false}}"#,
            r#"{"x":1,"x":2,"model":"m"}"#,
            // Escaped keys can spell a known field.
            r#"{"mod\u0065l":"m"}"#,
            r#"{"model":"m\u00e9"}"#,
            // Wrong types and number forms.
            r#"{"model":5}"#,
            r#"{"stream":"yes"}"#,
            r#"{"stream":1}"#,
            r#"{"max_tokens":-0}"#,
            r#"{"max_tokens":-1}"#,
            r#"{"max_tokens":1.0}"#,
            r#"{"max_tokens":1e3}"#,
            r#"{"max_tokens":012}"#,
            r#"{"max_tokens":18446744073709551615}"#,
            r#"{"max_tokens":18446744073709551616}"#,
            r#"{"stream_options":[]}"#,
            r#"{"generationConfig":{"maxOutputTokens":"4"}}"#,
            // Not an object, or more after it.
            "[]",
            "null",
            r#""model""#,
            r#"{"model":"m"} {}"#,
            r#"{"model":"m"}x"#,
            // Skipped values are still checked, as serde checks them.
            r#"{"messages":[1,]}"#,
            r#"{"messages":"\x"}"#,
            r#"{"messages":"\ud800"}"#,
            r#"{"messages":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
            "{\"messages\":\"tab\there\"}",
        ] {
            check(text);
        }
    }

    #[test]
    fn every_cut_and_corruption_reads_as_serde_reads_it() {
        for text in cuts_and_corruptions(SAMPLES) {
            check(&text);
        }
    }

    proptest! {
        #[test]
        fn any_text_reads_as_serde_reads_it(text in r#"[ {}\[\]":,0-9a-z_\\.-]{0,40}"#) {
            check(&text);
        }

        #[test]
        fn any_head_like_text_reads_as_serde_reads_it(
            fields in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("model"), Just("stream"), Just("max_tokens"),
                        Just("max_completion_tokens"), Just("max_output_tokens"),
                        Just("stream_options"), Just("generationConfig"),
                        Just("generation_config"), Just("include_usage"),
                        Just("maxOutputTokens"), Just("messages"),
                    ],
                    prop_oneof![
                        Just("null"), Just("true"), Just("false"), Just("0"), Just("12"),
                        Just("-3"), Just("2.5"), Just("\"m\""), Just("[]"), Just("{}"),
                        Just(r#"{"include_usage":true}"#), Just(r#"{"maxOutputTokens":9}"#),
                    ],
                ),
                0..6,
            )
        ) {
            let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            check(&format!("{{{}}}", body.join(",")));
        }
    }
}
