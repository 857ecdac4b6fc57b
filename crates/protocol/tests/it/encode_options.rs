//! The options that send a request upstream (`EncodeOptions::model`, `max_tokens_limit`,
//! `ask_usage`) must encode exactly what writing the same into the IR encodes, in every
//! dialect: the gateway uses them instead of copying every request it sends.

use crate::support;

use support::fixtures;
use switchyard_protocol::ir;
use switchyard_protocol::{Dialect, EncodeOptions};

/// The old way: the IR copied and changed, encoded with options that only say the default.
fn through_ir(req: &ir::Request, to: Dialect, opts: &EncodeOptions) -> Result<Vec<u8>, String> {
    let mut changed = req.clone();
    if let Some(model) = &opts.model {
        changed.model.clone_from(model);
    }
    if let (Some(asked), Some(limit)) = (changed.sampling.max_tokens, opts.max_tokens_limit) {
        changed.sampling.max_tokens = Some(asked.min(limit));
    }
    changed.include_usage |= opts.ask_usage;
    let plain = EncodeOptions {
        model: None,
        max_tokens_limit: None,
        ask_usage: false,
        ..opts.clone()
    };
    to.encode_request(&changed, &plain)
        .map_err(|e| e.to_string())
}

#[test]
fn upstream_options_encode_as_the_changed_request_would() {
    // Model names each encoder treats specially: OpenAI reasoning models take
    // `max_completion_tokens`, Gemini 3 validates call signatures; limits below, between and
    // above what fixtures ask for; an empty model (Responses omits it).
    let upstreams = [
        (Some("gpt-5-mini"), Some(100), true),
        (Some("o3"), Some(1), false),
        (Some("gemini-3-pro-preview"), None, true),
        (Some("claude-sonnet-4-5"), Some(1_000_000), true),
        (Some(""), Some(4096), false),
        (None, Some(50), true),
    ];
    let mut compared = 0;
    for from in Dialect::ALL {
        for (name, path) in fixtures(from, "requests") {
            let body = std::fs::read(&path).expect("fixture");
            let Ok(mut req) = from.decode_request(&body) else {
                continue;
            };
            if req.model.is_empty() {
                req.model = "gemini-2.5-pro".into();
            }
            for stream in [false, true] {
                req.stream = stream;
                for (model, limit, ask_usage) in upstreams {
                    let opts = EncodeOptions {
                        default_max_tokens: 2048,
                        model: model.map(str::to_owned),
                        max_tokens_limit: limit,
                        ask_usage,
                        ..EncodeOptions::default()
                    };
                    for to in Dialect::ALL {
                        let direct = to.encode_request(&req, &opts).map_err(|e| e.to_string());
                        assert_eq!(
                            direct.as_ref().map(|b| String::from_utf8_lossy(b)),
                            through_ir(&req, to, &opts)
                                .as_ref()
                                .map(|b| String::from_utf8_lossy(b)),
                            "{}/{name} -> {} (stream {stream}, {model:?}, {limit:?}, {ask_usage})",
                            from.name(),
                            to.name()
                        );
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared > 1000, "only {compared} encodings compared");
}
