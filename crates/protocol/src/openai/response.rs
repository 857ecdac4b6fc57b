//! Non-streamed `chat.completion` responses to and from the IR, the stop-reason column of the
//! README table, and usage normalisation (shared with the stream codecs).
//!
//! Only `choices[0]` is mapped; further choices (`n > 1`) ride in extras for this dialect.
//! `prompt_tokens` includes cached tokens, the IR's `input_tokens` does not.

use serde_json::{json, Map, Value};

use super::wire::{self, CompletionTokensDetails, PromptTokensDetails};
use super::{assistant, form};
use crate::ir::{self, StopReason, Usage};
use crate::scan::{Reader, Seen};
use crate::{json, EncodeOptions, Error};

/// A `chat.completion` read with [`crate::scan`] into the `wire::Response` serde would build:
/// through serde each wire type with a flattened `extra` buffered every field first, most of
/// the cost of translating an answer. Text content only: content parts, anything else unusual,
/// or anything the reader is unsure of gives `None`, and serde reads the answer (so this must
/// build only what serde builds; the tests compare the two).
fn read_response(body: &[u8]) -> Option<wire::Response> {
    let mut r = Reader::new(std::str::from_utf8(body).ok()?);
    r.ws();
    let mut seen = Seen::default();
    let (mut id, mut object, mut created, mut model) = (None, None, None, None);
    let (mut choices, mut usage, mut extra) = (None, None, wire::Extra::new());
    r.object(|r, key| {
        match key {
            "id" => id = Some(seen.once(0, r)?.string()?.into_owned()),
            "object" => object = Some(seen.once(1, r)?.string()?.into_owned()),
            "created" => created = seen.once(2, r)?.nullable(Reader::u64)?,
            "model" => model = Some(seen.once(3, r)?.string()?.into_owned()),
            "choices" => choices = Some(seen.once(4, r)?.array(read_choice)?),
            "usage" => usage = seen.once(5, r)?.nullable(read_usage)?,
            _ => r.unknown(key, &mut extra)?,
        }
        Some(())
    })?;
    r.end()?;
    Some(wire::Response {
        id: id?,
        object: object?,
        created,
        model: model?,
        choices: choices?,
        usage,
        extra,
    })
}

/// `wire::Usage`, and its details objects, as serde builds them.
pub(crate) fn read_usage(r: &mut Reader<'_>) -> Option<wire::Usage> {
    read_usage_with(r, |r, key, extra| r.unknown(key, extra))
}

/// What becomes of a field a wire type does not name: kept in its `extra`
/// ([`Reader::unknown`]), or skipped where only the named fields are read.
pub(crate) type Unknown = fn(&mut Reader<'_>, &str, &mut wire::Extra) -> Option<()>;

/// [`read_usage`], with `unknown` for the fields it does not name.
pub(crate) fn read_usage_with(r: &mut Reader<'_>, unknown: Unknown) -> Option<wire::Usage> {
    let mut seen = Seen::default();
    let mut u = wire::Usage::default();
    r.object(|r, key| {
        match key {
            "prompt_tokens" => u.prompt_tokens = seen.once(0, r)?.u64()?,
            "completion_tokens" => u.completion_tokens = seen.once(1, r)?.u64()?,
            "total_tokens" => u.total_tokens = seen.once(2, r)?.u64()?,
            "prompt_tokens_details" => {
                u.prompt_tokens_details = Some(seen.once(3, r)?.nullable(|r| {
                    let mut d = PromptTokensDetails::default();
                    read_details(
                        r,
                        "cached_tokens",
                        &mut d.cached_tokens,
                        &mut d.extra,
                        unknown,
                    )?;
                    Some(d)
                })?)
            }
            "completion_tokens_details" => {
                u.completion_tokens_details = Some(seen.once(4, r)?.nullable(|r| {
                    let mut d = CompletionTokensDetails::default();
                    read_details(
                        r,
                        "reasoning_tokens",
                        &mut d.reasoning_tokens,
                        &mut d.extra,
                        unknown,
                    )?;
                    Some(d)
                })?)
            }
            "prompt_cache_hit_tokens" => {
                u.prompt_cache_hit_tokens = seen.once(5, r)?.nullable(Reader::u64)?
            }
            "prompt_cache_miss_tokens" => {
                u.prompt_cache_miss_tokens = seen.once(6, r)?.nullable(Reader::u64)?
            }
            _ => unknown(r, key, &mut u.extra)?,
        }
        Some(())
    })?;
    Some(u)
}

/// A usage details object: its one named count, the rest kept as serde keeps them.
fn read_details(
    r: &mut Reader<'_>,
    name: &str,
    count: &mut Option<u64>,
    extra: &mut wire::Extra,
    unknown: Unknown,
) -> Option<()> {
    let mut seen = Seen::default();
    r.object(|r, key| {
        if key == name {
            *count = seen.once(0, r)?.nullable(Reader::u64)?;
            Some(())
        } else {
            unknown(r, key, extra)
        }
    })
}

fn read_choice(r: &mut Reader<'_>) -> Option<wire::Choice> {
    let mut seen = Seen::default();
    let (mut index, mut message, mut finish_reason) = (0, None, None);
    let mut extra = wire::Extra::new();
    r.object(|r, key| {
        match key {
            "index" => index = seen.once(0, r)?.u64()?,
            "message" => message = Some(read_message(seen.once(1, r)?)?),
            "finish_reason" => finish_reason = seen.once(2, r)?.text_owned()?,
            _ => r.unknown(key, &mut extra)?,
        }
        Some(())
    })?;
    Some(wire::Choice {
        index,
        message: message?,
        finish_reason,
        extra,
    })
}

fn read_message(r: &mut Reader<'_>) -> Option<wire::Message> {
    let mut seen = Seen::default();
    let (mut role, mut content, mut tool_calls, mut tool_call_id) = (None, None, None, None);
    let mut extra = wire::Extra::new();
    r.object(|r, key| {
        match key {
            "role" => role = Some(seen.once(0, r)?.string()?.into_owned()),
            // Absent, `null` (`Some(None)`) or text; parts decline.
            "content" => {
                let text = seen.once(1, r)?.text()?;
                content = Some(text.map(|t| wire::Content::Text(t.into_owned())));
            }
            "tool_calls" => tool_calls = seen.once(2, r)?.by_serde()?,
            "tool_call_id" => tool_call_id = seen.once(3, r)?.text_owned()?,
            _ => r.unknown(key, &mut extra)?,
        }
        Some(())
    })?;
    Some(wire::Message {
        role: role?,
        content,
        tool_calls,
        tool_call_id,
        extra,
    })
}

pub fn decode_response(body: &[u8]) -> Result<ir::Response, Error> {
    // The common answer is read by hand (see `read_response`), the rest by serde.
    let w = match read_response(body) {
        Some(w) => w,
        None => json::decode(body)?,
    };
    let mut fields = w.extra.clone();
    if w.object != "chat.completion" {
        form::set(&mut fields, "object", w.object.clone().into());
    }
    let mut choices = w.choices.into_iter();
    let mut resp = ir::Response {
        id: w.id,
        model: w.model,
        created: w.created,
        ..ir::Response::default()
    };
    if let Some(choice) = choices.next() {
        let mut calls = assistant::Calls::default();
        let (content, message_fields) =
            assistant::decode(&choice.message, "choices[0].message", 0, &mut calls)?;
        resp.stop_reason = choice.finish_reason.as_deref().map(|r| {
            decode_stop(
                r,
                content.iter().any(|b| matches!(b, ir::Block::ToolUse(_))),
            )
        });
        if let Some(reason) = &resp.stop_reason {
            if Some(encode_stop(reason)) != choice.finish_reason.as_deref() {
                form::set(
                    &mut fields,
                    "finish_reason",
                    choice.finish_reason.clone().into(),
                );
            }
        } else {
            form::set(&mut fields, "finish_reason", Value::Null);
        }
        // vLLM names the stop string that matched.
        if let Some(Value::String(s)) = choice.extra.get("stop_reason") {
            if resp.stop_reason == Some(StopReason::EndTurn) {
                resp.stop_reason = Some(StopReason::StopSequence);
                resp.stop_sequence = Some(s.clone());
            }
        }
        resp.content = content;
        // In a response every thinking block is shown as `reasoning_content`; only the other
        // spelling needs a note.
        for b in &mut resp.content {
            if let ir::Block::Thinking(t) = b {
                if form::get_str(&t.extras, "field") == Some("reasoning_content") {
                    t.extras = ir::Extras::default();
                }
            }
        }
        if !message_fields.is_empty() {
            form::set(&mut fields, "message", Value::Object(message_fields));
        }
        if choice.extra != default_choice_extra() {
            form::set(&mut fields, "choice", Value::Object(choice.extra));
        }
        if choice.index != 0 {
            form::set(&mut fields, "index", choice.index.into());
        }
    } else {
        form::set(&mut fields, "choices", "empty".into());
    }
    let rest: Vec<Value> = choices
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect();
    if !rest.is_empty() {
        form::set(&mut fields, "more_choices", Value::Array(rest));
    }
    if let Some(u) = &w.usage {
        resp.usage = decode_usage(u);
        let default = encode_usage(&resp.usage);
        if &default != u {
            form::set(
                &mut fields,
                "usage",
                serde_json::to_value(u).unwrap_or(Value::Null),
            );
        }
    } else {
        form::set(&mut fields, "usage", Value::Null);
    }
    resp.extras = form::extras(fields);
    Ok(resp)
}

pub fn encode_response(resp: &ir::Response, _opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let message_extras = match form::get(&resp.extras, "message") {
        Some(Value::Object(m)) => form::extras(m.clone()),
        _ => ir::Extras::default(),
    };
    let message = assistant::encode(&resp.content, &message_extras, true)?;
    let finish_reason = match form::get(&resp.extras, "finish_reason") {
        Some(Value::String(noted))
            if resp.stop_reason.as_ref() == Some(&decode_stop(noted, resp.has_tool_use())) =>
        {
            Some(noted.clone())
        }
        Some(Value::Null) if resp.stop_reason.is_none() => None,
        _ => {
            Some(encode_stop(resp.stop_reason.as_ref().unwrap_or(&StopReason::EndTurn)).to_string())
        }
    };
    let mut choices = Vec::new();
    if form::get_str(&resp.extras, "choices") != Some("empty") || !resp.content.is_empty() {
        let mut extra = match form::get(&resp.extras, "choice") {
            Some(Value::Object(m)) => m.clone(),
            _ => default_choice_extra(),
        };
        if resp.stop_sequence.is_some() && !extra.contains_key("stop_reason") {
            extra.insert("stop_reason".into(), resp.stop_sequence.clone().into());
        }
        choices.push(wire::Choice {
            index: form::get(&resp.extras, "index")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            message,
            finish_reason,
            extra,
        });
    }
    if let Some(Value::Array(rest)) = form::get(&resp.extras, "more_choices") {
        for c in rest {
            if let Ok(c) = serde_json::from_value(c.clone()) {
                choices.push(c);
            }
        }
    }
    let usage = match form::get(&resp.extras, "usage") {
        Some(Value::Null) if resp.usage.is_zero() => None,
        Some(noted) => match serde_json::from_value::<wire::Usage>(noted.clone()) {
            Ok(u) if decode_usage(&u) == resp.usage => Some(u),
            _ => Some(encode_usage(&resp.usage)),
        },
        None => Some(encode_usage(&resp.usage)),
    };
    let w = wire::Response {
        id: resp.id.clone(),
        object: form::get_str(&resp.extras, "object")
            .unwrap_or("chat.completion")
            .to_string(),
        // The IR has no clock; 0 when the upstream gave no time (see the README).
        created: Some(resp.created.unwrap_or(0)),
        model: resp.model.clone(),
        choices,
        usage,
        extra: form::fields(&resp.extras),
    };
    Ok(json::encode(&w))
}

/// OpenAI always sends `logprobs`, null unless asked for.
fn default_choice_extra() -> Map<String, Value> {
    Map::from_iter([("logprobs".to_string(), Value::Null)])
}

/// `finish_reason` to the IR. Some servers say `stop` after tool calls; that is `ToolUse`.
pub(crate) fn decode_stop(reason: &str, has_tool_calls: bool) -> StopReason {
    match reason {
        "stop" if has_tool_calls => StopReason::ToolUse,
        "stop" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_string()),
    }
}

/// The IR stop reason as a `finish_reason`.
pub(crate) fn encode_stop(reason: &StopReason) -> &str {
    match reason {
        StopReason::EndTurn | StopReason::StopSequence | StopReason::PauseTurn => "stop",
        StopReason::MaxTokens | StopReason::ContextWindowExceeded => "length",
        StopReason::ToolUse => "tool_calls",
        // A refusal is a policy stop; `content_filter` is the value clients test for.
        StopReason::Refusal | StopReason::ContentFilter => "content_filter",
        StopReason::Error => "stop",
        StopReason::Other(s) => s,
    }
}

/// Wire usage to IR usage: cached tokens move out of `prompt_tokens` into `cache_read`.
pub(crate) fn decode_usage(u: &wire::Usage) -> Usage {
    let cached = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.as_ref()?.cached_tokens)
        .or(u.prompt_cache_hit_tokens)
        .unwrap_or(0);
    Usage {
        input_tokens: u.prompt_tokens.saturating_sub(cached),
        output_tokens: u.completion_tokens,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        reasoning_tokens: u
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.as_ref()?.reasoning_tokens)
            .unwrap_or(0),
    }
}

/// IR usage in OpenAI's own shape. Cache writes have no field; they count as prompt tokens.
pub(crate) fn encode_usage(u: &Usage) -> wire::Usage {
    let prompt = u.total_input();
    let details = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    wire::Usage {
        prompt_tokens: prompt,
        completion_tokens: u.output_tokens,
        total_tokens: prompt + u.output_tokens,
        prompt_tokens_details: Some(Some(PromptTokensDetails {
            cached_tokens: Some(u.cache_read_tokens),
            extra: details(json!({"audio_tokens": 0})),
        })),
        completion_tokens_details: Some(Some(CompletionTokensDetails {
            reasoning_tokens: Some(u.reasoning_tokens),
            extra: details(json!({
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0
            })),
        })),
        prompt_cache_hit_tokens: None,
        prompt_cache_miss_tokens: None,
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1735689600,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"a\"\n\u00e9","refusal":null,"annotations":[],"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0}},"service_tier":"default","system_fingerprint":null}"#;

    /// An answer read by hand is one serde builds the same. Says whether it was.
    fn check(body: &str) -> bool {
        let Some(read) = read_response(body.as_bytes()) else {
            return false;
        };
        let whole: wire::Response = json::decode(body.as_bytes())
            .unwrap_or_else(|e| panic!("read by hand, refused: {e}: {body}"));
        assert_eq!(format!("{read:?}"), format!("{whole:?}"), "{body}");
        true
    }

    #[test]
    fn answers_are_read_by_hand_as_serde_reads_them() {
        assert!(check(ANSWER));
        assert!(check(
            r#" {"id":"c","object":"chat.completion","created":null,"model":"m","choices":[{"message":{"role":"assistant","content":null},"finish_reason":null}]} "#
        ));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/openai/responses");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures").flatten() {
            let body = std::fs::read_to_string(entry.path()).expect("fixture");
            read += usize::from(check(&body));
        }
        assert!(read >= 6, "only {read} fixtures read by hand");
        for body in [
            // Content parts, a missing required field, a repeated key, a cut answer.
            r#"{"id":"c","object":"o","model":"m","choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"a"}]}}]}"#,
            r#"{"object":"o","model":"m","choices":[]}"#,
            r#"{"id":"c","id":"d","object":"o","model":"m","choices":[]}"#,
            r#"{"id":"c","object":"o","model":"m","choices":[{"message":{"role":"assistant","x":1,"x":2}}]}"#,
            r#"{"id":"c","object":"o","model":"m","choices":["#,
        ] {
            assert!(!check(body), "read by hand: {body}");
        }
    }

    #[test]
    fn the_two_paths_agree_on_every_cut_and_corruption() {
        for body in crate::scan::cuts_and_corruptions(&[ANSWER]) {
            check(&body);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_by_hand(text in crate::json::any_text()) {
            let body = json!({
                "id": "c", "object": "chat.completion", "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
            });
            proptest::prop_assert!(check(&body.to_string()));
        }
    }
}
