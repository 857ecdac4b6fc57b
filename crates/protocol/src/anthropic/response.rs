//! Non-streamed Anthropic Messages responses ↔ IR responses, and this dialect's column of the
//! stop-reason table and usage mapping (shared with the stream codec). Content blocks are
//! `content.rs`'s job.

use serde_json::{Map, Value};

use super::content::{self, marker_map, Target};
use super::wire;
use crate::ir::{self, StopReason, Usage};
use crate::{json, EncodeOptions, Error};

/// Marker in `Response::extras`: `usage` fields the IR does not model (`cache_creation`,
/// `server_tool_use`, `service_tier`).
const USAGE_EXTRA: &str = "switchyard.usage";

pub fn decode_response(body: &[u8]) -> Result<ir::Response, Error> {
    let w: wire::Response = json::decode(body)?;
    let mut extra = w.extra;
    if !w.usage.extra.is_empty() {
        extra.insert(USAGE_EXTRA.into(), Value::Object(w.usage.extra.clone()));
    }
    Ok(ir::Response {
        id: w.id,
        model: w.model,
        content: w.content.into_iter().map(content::decode_block).collect(),
        stop_reason: w.stop_reason.as_deref().map(stop_reason_from_wire),
        stop_sequence: w.stop_sequence,
        usage: usage_from_wire(&w.usage),
        created: None,
        extras: content::extras(extra),
    })
}

pub fn encode_response(resp: &ir::Response, _opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let w = wire::Response {
        extra: content::wire_extra(&resp.extras),
        id: resp.id.clone(),
        kind: "message".into(),
        role: "assistant".into(),
        model: resp.model.clone(),
        content: content::encode_blocks(&resp.content, Target::Response)?,
        stop_reason: resp.stop_reason.as_ref().map(stop_reason_to_wire),
        stop_sequence: resp.stop_sequence.clone(),
        usage: usage_to_wire(&resp.usage, marker_map(&resp.extras, USAGE_EXTRA)),
    };
    Ok(wire::to_bytes(&w))
}

/// IR usage from wire usage. The two count alike (input excludes cache reads and writes;
/// there is no separate reasoning count: thinking is inside `output_tokens`).
pub(crate) fn usage_from_wire(u: &wire::Usage) -> Usage {
    Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_read_tokens: u.cache_read_input_tokens,
        cache_write_tokens: u.cache_creation_input_tokens,
        reasoning_tokens: 0,
    }
}

pub(crate) fn usage_to_wire(u: &Usage, extra: Map<String, Value>) -> wire::Usage {
    wire::Usage {
        extra,
        input_tokens: u.input_tokens,
        cache_creation_input_tokens: u.cache_write_tokens,
        cache_read_input_tokens: u.cache_read_tokens,
        output_tokens: u.output_tokens,
    }
}

/// Wire `stop_reason` → IR. Unknown values are kept verbatim.
pub(crate) fn stop_reason_from_wire(s: &str) -> StopReason {
    match s {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "tool_use" => StopReason::ToolUse,
        "pause_turn" => StopReason::PauseTurn,
        "refusal" => StopReason::Refusal,
        "model_context_window_exceeded" => StopReason::ContextWindowExceeded,
        other => StopReason::Other(other.to_string()),
    }
}

/// IR → wire `stop_reason`. A content filter is closest to `refusal` (the model declined to
/// go on); a failed generation has no Anthropic value and ends the turn.
pub(crate) fn stop_reason_to_wire(r: &StopReason) -> String {
    match r {
        StopReason::EndTurn | StopReason::Error => "end_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::StopSequence => "stop_sequence",
        StopReason::ToolUse => "tool_use",
        StopReason::PauseTurn => "pause_turn",
        StopReason::Refusal | StopReason::ContentFilter => "refusal",
        StopReason::ContextWindowExceeded => "model_context_window_exceeded",
        StopReason::Other(s) => s,
    }
    .to_string()
}
