//! Gemini `generateContent` responses ↔ IR responses, plus the pieces the stream codec shares:
//! usage normalisation, the stop-reason mapping (this dialect's column of the README table)
//! and the ids minted for function calls that arrive without one.
//!
//! Only the first candidate maps to the IR; further candidates (`candidateCount` > 1) ride
//! verbatim in a private note and come back only to a Gemini client.

use serde_json::{Map, Value};

use super::parts::{self, mark, wire_fields};
use super::wire;
use crate::ir::{self, Block, StopReason, Usage};
use crate::{ids, json, signature, Dialect, EncodeOptions, Error};

/// Response notes: the candidate's other fields, the other candidates, the usage object and
/// the finish reason as received, and "there were no candidates" (blocked prompt).
const CANDIDATE: &str = "sy:candidate";
const MORE_CANDIDATES: &str = "sy:candidates";
const USAGE: &str = "sy:usage";
const FINISH: &str = "sy:finishReason";
const NO_CANDIDATES: &str = "sy:noCandidates";
const CONTENT_EXTRA: &str = "sy:content";

/// Gemini finish reason → IR. `STOP` after a function call means the model is waiting for
/// the results, which every other dialect calls a tool-use stop.
pub(crate) fn decode_stop_reason(reason: &str, has_call: bool) -> StopReason {
    match reason {
        "STOP" if has_call => StopReason::ToolUse,
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            StopReason::ContentFilter
        }
        "MALFORMED_FUNCTION_CALL" => StopReason::Error,
        other => StopReason::Other(other.to_string()),
    }
}

/// IR → Gemini finish reason. Gemini has one value for every natural stop; `Error` becomes
/// `MALFORMED_FUNCTION_CALL`, the only Gemini reason that means "generation failed".
pub(crate) fn encode_stop_reason(stop: &StopReason) -> String {
    match stop {
        StopReason::EndTurn
        | StopReason::StopSequence
        | StopReason::ToolUse
        | StopReason::PauseTurn => "STOP",
        StopReason::MaxTokens | StopReason::ContextWindowExceeded => "MAX_TOKENS",
        StopReason::ContentFilter | StopReason::Refusal => "SAFETY",
        StopReason::Error => "MALFORMED_FUNCTION_CALL",
        StopReason::Other(v) => v,
    }
    .to_string()
}

/// `usageMetadata` → IR usage: input excludes the cached part of the prompt and includes the
/// tool-use prompt; output includes thoughts.
pub(crate) fn decode_usage(u: &wire::UsageMetadata) -> Usage {
    let cached = u.cached_content_token_count.unwrap_or(0);
    let thoughts = u.thoughts_token_count.unwrap_or(0);
    Usage {
        input_tokens: u.prompt_token_count.unwrap_or(0).saturating_sub(cached)
            + u.tool_use_prompt_token_count.unwrap_or(0),
        output_tokens: u.candidates_token_count.unwrap_or(0) + thoughts,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        reasoning_tokens: thoughts,
    }
}

/// IR usage → `usageMetadata` (zero counts omitted, as Gemini does). Cache writes have no
/// Gemini field and count as prompt tokens.
pub(crate) fn encode_usage(u: &Usage, tool_use_prompt: u64) -> wire::UsageMetadata {
    let cached = u.cache_read_tokens;
    let prompt = (u.input_tokens + cached + u.cache_write_tokens).saturating_sub(tool_use_prompt);
    let thoughts = u.reasoning_tokens.min(u.output_tokens);
    let candidates = u.output_tokens - thoughts;
    let nonzero = |n: u64| (n > 0).then_some(n);
    wire::UsageMetadata {
        prompt_token_count: Some(prompt),
        candidates_token_count: nonzero(candidates),
        total_token_count: Some(prompt + tool_use_prompt + candidates + thoughts),
        cached_content_token_count: nonzero(cached),
        thoughts_token_count: nonzero(thoughts),
        tool_use_prompt_token_count: nonzero(tool_use_prompt),
        extra: Map::new(),
    }
}

/// The id of a function call that came without one, in a response or stream: stable for the
/// same response, and the same whether the response was streamed or not (`ordinal` counts
/// the candidate's function calls, not its parts, because streams split text differently).
pub(crate) fn mint_response_call_id(
    response_id: &str,
    ordinal: usize,
    name: &str,
    args: &Value,
) -> String {
    let args_json = args.to_string();
    format!(
        "call_{}",
        ids::short_hash(&[response_id, &ordinal.to_string(), name, &args_json])
    )
}

/// Whether an answer's unknown fields say its prompt was blocked: `promptFeedback.blockReason`,
/// or the proto-JSON spelling `prompt_feedback.block_reason` that the wire types also accept.
pub(crate) fn prompt_blocked(extra: &wire::Extra) -> bool {
    extra
        .get("promptFeedback")
        .or_else(|| extra.get("prompt_feedback"))
        .and_then(|f| f.get("blockReason").or_else(|| f.get("block_reason")))
        .is_some()
}

pub fn decode_response(body: &[u8]) -> Result<ir::Response, Error> {
    let w: wire::Response = json::decode(body)?;
    let id = w.response_id.unwrap_or_default();
    let mut notes = w.extra;
    let usage = match &w.usage_metadata {
        Some(u) => {
            if let Ok(v) = serde_json::to_value(u) {
                notes.insert(USAGE.into(), v);
            }
            decode_usage(u)
        }
        None => Usage::default(),
    };
    let mut candidates = w.candidates.into_iter();
    let mut content = Vec::new();
    let mut stop_reason = None;
    match candidates.next() {
        None => {
            notes.insert(NO_CANDIDATES.into(), Value::Bool(true));
            if prompt_blocked(&notes) {
                stop_reason = Some(StopReason::ContentFilter);
            }
        }
        Some(c) => {
            let mut ordinal = 0;
            if let Some(body) = c.content {
                let mut extra = body.extra;
                if let Some(role) = body.role {
                    extra.insert("role".into(), Value::String(role));
                }
                notes.insert(CONTENT_EXTRA.into(), Value::Object(extra));
                for part in body.parts {
                    let mut block = parts::decode_part(part)?;
                    if let Block::ToolUse(t) = &mut block {
                        if t.id.is_empty() {
                            t.id = mint_response_call_id(&id, ordinal, &t.name, &t.input);
                        }
                        ordinal += 1;
                    }
                    content.push(block);
                }
            }
            if let Some(reason) = &c.finish_reason {
                stop_reason = Some(decode_stop_reason(reason, ordinal > 0));
                notes.insert(FINISH.into(), Value::String(reason.clone()));
            }
            if !c.extra.is_empty() {
                notes.insert(CANDIDATE.into(), Value::Object(c.extra));
            }
        }
    }
    let rest: Vec<Value> = candidates
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect();
    if !rest.is_empty() {
        notes.insert(MORE_CANDIDATES.into(), Value::Array(rest));
    }
    Ok(ir::Response {
        id,
        model: w.model_version.unwrap_or_default(),
        content,
        stop_reason,
        stop_sequence: None,
        usage,
        created: None,
        extras: parts::extras(notes),
    })
}

/// Encodes response content as parts for a Gemini client: signatures of other families
/// travel wrapped, and call ids go out unless they are the ones the decoder minted.
pub(crate) fn encode_parts(resp_id: &str, content: &[Block]) -> Result<Vec<wire::Part>, Error> {
    let family = Dialect::Gemini.family();
    let sig = |s: &Option<ir::Signature>| s.as_ref().map(|s| signature::to_wire(s, family));
    let mut out = Vec::new();
    let mut ordinal = 0;
    for block in content {
        let part = match block {
            Block::Text(t) => wire::Part {
                thought_signature: sig(&t.signature),
                ..parts::text_part(t)
            },
            Block::Thinking(t) => wire::Part {
                thought_signature: sig(&t.signature),
                ..parts::thought_part(t)
            },
            // Only Anthropic can read redacted thinking; a Gemini client has no use for it.
            Block::RedactedThinking(_) => continue,
            Block::ToolUse(t) => {
                let args = json::arguments_object(&t.input);
                let minted = mint_response_call_id(resp_id, ordinal, &t.name, &args);
                ordinal += 1;
                let id = (t.id != minted).then(|| t.id.clone());
                wire::Part {
                    thought_signature: sig(&t.signature),
                    ..parts::call_part(t, id)
                }
            }
            Block::Image(img) => parts::media_part(&img.source, &img.extras, "image", true)?,
            Block::Document(d) => parts::media_part(&d.source, &d.extras, "document", true)?,
            Block::ToolResult(_) => {
                return Err(Error::unsupported(
                    "tool result in a response",
                    Dialect::Gemini,
                ))
            }
            Block::Other(o) => parts::other_part(o)?,
        };
        out.push(part);
    }
    Ok(out)
}

fn note_map(resp: &ir::Response, key: &str) -> Map<String, Value> {
    match mark(&resp.extras, key) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    }
}

pub fn encode_response(resp: &ir::Response, _opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let parts = encode_parts(&resp.id, &resp.content)?;
    let has_call = resp.has_tool_use();
    let mut candidates = Vec::new();
    let blocked = mark(&resp.extras, NO_CANDIDATES).is_some() && parts.is_empty();
    if !blocked {
        let mut extra = note_map(resp, CONTENT_EXTRA);
        let role = match extra.remove("role") {
            Some(Value::String(r)) => Some(r),
            _ if mark(&resp.extras, CONTENT_EXTRA).is_some() => None,
            _ => Some("model".to_string()),
        };
        let finish = resp.stop_reason.as_ref().map(|stop| {
            match mark(&resp.extras, FINISH).and_then(Value::as_str) {
                Some(raw) if &decode_stop_reason(raw, has_call) == stop => raw.to_string(),
                _ => encode_stop_reason(stop),
            }
        });
        candidates.push(wire::Candidate {
            content: Some(wire::Content { role, parts, extra }),
            finish_reason: finish,
            extra: note_map(resp, CANDIDATE),
        });
        if let Some(Value::Array(rest)) = mark(&resp.extras, MORE_CANDIDATES) {
            candidates.extend(
                rest.iter()
                    .filter_map(|c| serde_json::from_value(c.clone()).ok()),
            );
        }
    }
    let raw_usage: Option<wire::UsageMetadata> =
        mark(&resp.extras, USAGE).and_then(|v| serde_json::from_value(v.clone()).ok());
    let usage = match raw_usage {
        Some(raw) if decode_usage(&raw) == resp.usage => raw,
        Some(raw) => {
            let tool = raw.tool_use_prompt_token_count.unwrap_or(0);
            encode_usage(&resp.usage, tool.min(resp.usage.input_tokens))
        }
        None if resp.usage.is_zero() => wire::UsageMetadata::default(),
        None => encode_usage(&resp.usage, 0),
    };
    let usage = (usage != wire::UsageMetadata::default()).then_some(usage);
    let w = wire::Response {
        candidates,
        usage_metadata: usage,
        model_version: (!resp.model.is_empty()).then(|| resp.model.clone()),
        response_id: (!resp.id.is_empty()).then(|| resp.id.clone()),
        extra: wire_fields(&resp.extras),
    };
    Ok(json::encode(&w))
}
