//! Reading only what a gateway records from an answer it forwards untouched (same dialect on
//! both sides): the served model and the token usage. The body is scanned by serde without
//! building the IR, so a passthrough answer costs a fraction of a full decode. What the
//! fields mean is each dialect's own usage decoder's business; this module only picks them
//! out. It must not grow into a second decoder.

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::ir::Usage;
use crate::{anthropic, gemini, openai, responses, Dialect};

// Each shape requires the field that makes a body an answer of its dialect (`content`,
// `choices`, `output`, Gemini's `candidates` or `promptFeedback`), skipped without being
// built, so an error or a stray object is not taken for an answer.

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
    #[serde(default)]
    model_version: Option<String>,
    usage_metadata: Option<gemini::wire::UsageMetadata>,
    /// An answer has candidates, or says why it has none (a blocked prompt).
    candidates: Option<IgnoredAny>,
    prompt_feedback: Option<IgnoredAny>,
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
        Dialect::OpenAiChat => {
            let w: OpenAiChat = serde_json::from_slice(body).ok()?;
            let usage = w.usage.as_ref().map(openai::response::decode_usage);
            (w.model, usage.unwrap_or_default())
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every response fixture: the sniffed model and usage equal the full decode's.
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
