//! Non-streamed `chat.completion` responses to and from the IR, the stop-reason column of the
//! README table, and usage normalisation (shared with the stream codecs).
//!
//! Only `choices[0]` is mapped; further choices (`n > 1`) ride in extras for this dialect.
//! `prompt_tokens` includes cached tokens, the IR's `input_tokens` does not.

use serde_json::{json, Map, Value};

use super::wire::{self, CompletionTokensDetails, PromptTokensDetails};
use super::{assistant, form};
use crate::ir::{self, StopReason, Usage};
use crate::{json, EncodeOptions, Error};

pub fn decode_response(body: &[u8]) -> Result<ir::Response, Error> {
    let w: wire::Response = json::decode(body)?;
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
