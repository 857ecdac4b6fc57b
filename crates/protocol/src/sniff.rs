//! Reading only what a gateway records from an answer it forwards untouched (same dialect on
//! both sides): the served model and the token usage. The body is scanned by serde without
//! building the IR, so a passthrough answer costs a fraction of a full decode. What the
//! fields mean is each dialect's own usage decoder's business; this module only picks them
//! out. It must not grow into a second decoder.

use serde::Deserialize;

use crate::ir::Usage;
use crate::{anthropic, gemini, openai, responses, Dialect};

#[derive(Deserialize)]
struct WithUsage<U> {
    #[serde(default)]
    model: String,
    usage: Option<U>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiWithUsage {
    #[serde(default)]
    model_version: Option<String>,
    usage_metadata: Option<gemini::wire::UsageMetadata>,
}

/// The model and usage of a whole (non-streamed) answer in `dialect`, or `None` when the body
/// is not such an answer. An answer without usage gives zero usage.
pub fn response_usage(dialect: Dialect, body: &[u8]) -> Option<(String, Usage)> {
    fn read<U: for<'de> Deserialize<'de>>(
        body: &[u8],
        usage: impl Fn(&U) -> Usage,
    ) -> Option<(String, Usage)> {
        let w: WithUsage<U> = serde_json::from_slice(body).ok()?;
        Some((w.model, w.usage.as_ref().map(usage).unwrap_or_default()))
    }
    match dialect {
        Dialect::Anthropic => read(body, anthropic::response::usage_from_wire),
        Dialect::OpenAiChat => read(body, openai::response::decode_usage),
        Dialect::Responses => read(body, responses::response::usage_from_wire),
        Dialect::Gemini => {
            let w: GeminiWithUsage = serde_json::from_slice(body).ok()?;
            let usage = w
                .usage_metadata
                .as_ref()
                .map(gemini::response::decode_usage)
                .unwrap_or_default();
            Some((w.model_version.unwrap_or_default(), usage))
        }
    }
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
    fn garbage_is_none() {
        for dialect in Dialect::ALL {
            assert!(response_usage(dialect, b"not json").is_none());
            assert!(response_usage(dialect, b"[1,2]").is_none());
        }
    }
}
