//! Non-streamed Responses bodies (`object: "response"`) to and from the IR, the usage
//! normalisation, and this dialect's column of the stop-reason table. Output items go through
//! [`super::items`]; echoed request fields (`instructions`, `tools`, `temperature`, ...) stay
//! in the response's extras. Must not know about streaming event order.

use serde_json::{json, Map, Value};

use super::items::{self, compact_layout, decode_item, field, ItemWriter, Target};
use super::wire;
use crate::ir::{self, Block, Role, StopReason, Usage};
use crate::{json, EncodeOptions, Error};

pub fn decode_response(body: &[u8]) -> Result<ir::Response, Error> {
    // Items are decoded from buffered values, plainly first (see `json::plain_first`).
    json::plain_first(|| decode_response_pass(body))
}

pub(crate) fn decode_response_pass(body: &[u8]) -> Result<ir::Response, Error> {
    let w: wire::Response = json::decode(body)?;
    let mut blocks = Vec::new();
    let mut layout = Vec::new();
    for (i, value) in w.output.into_iter().enumerate() {
        let d = decode_item(value, &format!("output[{i}]"))?;
        blocks.extend(d.blocks);
        layout.push(d.layout);
    }
    let has_tool_use = blocks.iter().any(|b| matches!(b, Block::ToolUse(_)));
    let reason = w
        .incomplete_details
        .as_ref()
        .and_then(|d| d.reason.as_deref());
    let stop_reason = stop_reason_from_wire(w.status.as_deref(), reason, has_tool_use);
    let mut notes = w.extra;
    if stop_reason.is_none() {
        if let Some(status) = w.status {
            notes.insert("$status".into(), Value::String(status));
        }
    }
    if let Some(layout) = compact_layout(layout) {
        notes.insert("$layout".into(), layout);
    }
    if w.usage.is_none() {
        notes.insert("$no_usage".into(), Value::Bool(true));
    }
    Ok(ir::Response {
        id: w.id,
        model: w.model,
        content: blocks,
        stop_reason,
        stop_sequence: None,
        usage: w.usage.as_ref().map(usage_from_wire).unwrap_or_default(),
        created: w.created_at,
        extras: items::extras(notes),
    })
}

pub fn encode_response(resp: &ir::Response, _opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let mut writer = ItemWriter::new(Target::Response, &resp.id);
    writer.write(
        Role::Assistant,
        "assistant",
        field(&resp.extras, "$layout"),
        &resp.content,
    )?;
    let (status, reason) = match &resp.stop_reason {
        Some(r) => stop_reason_to_wire(r),
        None => (
            field(&resp.extras, "$status")
                .and_then(Value::as_str)
                .unwrap_or("completed")
                .to_string(),
            None,
        ),
    };
    let mut obj = Map::new();
    obj.insert("id".into(), json!(resp.id));
    obj.insert("object".into(), json!("response"));
    // The IR has no clock; a response without a creation time says 0.
    obj.insert("created_at".into(), json!(resp.created.unwrap_or(0)));
    let error = if status == "failed" {
        field(&resp.extras, "error")
            .filter(|e| e.is_object())
            .cloned()
            .unwrap_or_else(|| json!({"code": "server_error", "message": "The model failed to generate a response."}))
    } else {
        Value::Null
    };
    obj.insert("status".into(), json!(status));
    obj.insert("error".into(), error);
    obj.insert(
        "incomplete_details".into(),
        reason.map_or(Value::Null, |r| json!({ "reason": r })),
    );
    obj.insert("model".into(), json!(resp.model));
    obj.insert("output".into(), Value::Array(writer.items));
    let usage = if items::flag(&resp.extras, "$no_usage") {
        Value::Null
    } else {
        usage_to_wire(&resp.usage)
    };
    obj.insert("usage".into(), usage);
    items::merge_wire_fields(&resp.extras, &mut obj, &[]);
    add_sdk_defaults(&mut obj);
    Ok(json::encode(&Value::Object(obj)))
}

/// Fields the official SDKs' `Response` model requires, for responses whose IR came from
/// another dialect (a Responses upstream echoes them all).
pub(crate) fn add_sdk_defaults(obj: &mut Map<String, Value>) {
    let defaults = [
        ("instructions", Value::Null),
        ("metadata", json!({})),
        ("parallel_tool_calls", json!(true)),
        ("temperature", Value::Null),
        ("tool_choice", json!("auto")),
        ("tools", json!([])),
        ("top_p", Value::Null),
    ];
    for (k, v) in defaults {
        obj.entry(k).or_insert(v);
    }
}

/// Responses `usage` counts cached tokens inside `input_tokens`; the IR counts them apart.
pub(crate) fn usage_from_wire(u: &wire::Usage) -> Usage {
    let cached = u
        .input_tokens_details
        .as_ref()
        .map_or(0, |d| d.cached_tokens);
    Usage {
        input_tokens: u.input_tokens.saturating_sub(cached),
        output_tokens: u.output_tokens,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        reasoning_tokens: u
            .output_tokens_details
            .as_ref()
            .map_or(0, |d| d.reasoning_tokens),
    }
}

/// The inverse of [`usage_from_wire`]. Cache writes have no field: they count as plain input.
pub(crate) fn usage_to_wire(u: &Usage) -> Value {
    let input = u.total_input();
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": u.cache_read_tokens},
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": input + u.output_tokens,
    })
}

/// Wire → IR: `completed` is `ToolUse` when the output has a tool call, else `EndTurn`;
/// `incomplete` maps its reason (`max_output_tokens`, `content_filter`, others verbatim);
/// `failed` is `Error`; `cancelled` is kept verbatim; `in_progress` / `queued` have none yet.
pub(crate) fn stop_reason_from_wire(
    status: Option<&str>,
    incomplete_reason: Option<&str>,
    has_tool_use: bool,
) -> Option<StopReason> {
    Some(match status? {
        "completed" if has_tool_use => StopReason::ToolUse,
        "completed" => StopReason::EndTurn,
        "incomplete" => match incomplete_reason {
            None | Some("max_output_tokens") => StopReason::MaxTokens,
            Some("content_filter") => StopReason::ContentFilter,
            Some(other) => StopReason::Other(other.to_string()),
        },
        "failed" => StopReason::Error,
        "cancelled" => StopReason::Other("cancelled".into()),
        _ => return None,
    })
}

/// IR → wire: the status and, for `incomplete`, the reason.
pub(crate) fn stop_reason_to_wire(reason: &StopReason) -> (String, Option<String>) {
    let incomplete = |r: &str| ("incomplete".to_string(), Some(r.to_string()));
    match reason {
        StopReason::EndTurn
        | StopReason::ToolUse
        | StopReason::StopSequence
        | StopReason::PauseTurn => ("completed".into(), None),
        StopReason::MaxTokens | StopReason::ContextWindowExceeded => {
            incomplete("max_output_tokens")
        }
        StopReason::ContentFilter | StopReason::Refusal => incomplete("content_filter"),
        StopReason::Error => ("failed".into(), None),
        StopReason::Other(s) if s == "cancelled" => ("cancelled".into(), None),
        StopReason::Other(s) => incomplete(s),
    }
}
