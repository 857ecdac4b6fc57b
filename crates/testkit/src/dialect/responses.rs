//! The OpenAI Responses API's wire format, written by hand: the `response` object and the typed
//! SSE events (`response.created` … `response.completed`, each with its `sequence_number`). Its
//! errors are OpenAI's (`openai::error`). This module must not use the protocol crate.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::answer::{last_with_role, text_of, Answer};
use crate::body::named_event;
use crate::dialect::openai::CREATED;

/// The text of the last user input: `input` as a string, or the last `user` item's content.
pub(crate) fn user_text(body: &Value) -> Option<String> {
    let input = body.get("input")?;
    if let Some(text) = input.as_str() {
        return Some(text.to_owned());
    }
    let item = last_with_role(input, "user")?;
    text_of(item.get("content")?, &["input_text", "text"])
}

fn usage(answer: &Answer) -> Value {
    json!({
        "input_tokens": answer.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": answer.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": answer.input_tokens + answer.output_tokens
    })
}

/// The one output item, `in_progress` (empty) or `completed` (whole).
fn output_item(answer: &Answer, completed: bool) -> Value {
    let status = if completed {
        "completed"
    } else {
        "in_progress"
    };
    match &answer.tool {
        Some(tool) => json!({
            "type": "function_call",
            "id": answer.id("fc_"),
            "call_id": answer.id("call_"),
            "name": tool.name,
            "arguments": if completed { tool.arguments.as_str() } else { "" },
            "status": status
        }),
        None => json!({
            "type": "message",
            "id": answer.id("msg_"),
            "status": status,
            "role": "assistant",
            "content": if completed { json!([text_part(&answer.text)]) } else { json!([]) }
        }),
    }
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A `response` object; `output` and `usage` are empty until it is `completed`.
fn response(answer: &Answer, body: &Value, completed: bool) -> Value {
    let echo = |key: &str, default: Value| body.get(key).cloned().unwrap_or(default);
    json!({
        "id": answer.id("resp_"),
        "object": "response",
        "created_at": CREATED,
        "status": if completed { "completed" } else { "in_progress" },
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": echo("instructions", Value::Null),
        "max_output_tokens": echo("max_output_tokens", Value::Null),
        "model": answer.model,
        "output": if completed { json!([output_item(answer, true)]) } else { json!([]) },
        "parallel_tool_calls": echo("parallel_tool_calls", json!(true)),
        "previous_response_id": echo("previous_response_id", Value::Null),
        "reasoning": {"effort": null, "summary": null},
        "service_tier": "default",
        "store": echo("store", json!(true)),
        "temperature": echo("temperature", json!(1.0)),
        "text": {"format": {"type": "text"}},
        "tool_choice": echo("tool_choice", json!("auto")),
        "tools": echo("tools", json!([])),
        "top_p": echo("top_p", json!(1.0)),
        "truncation": "disabled",
        "usage": if completed { usage(answer) } else { Value::Null },
        "user": null,
        "metadata": echo("metadata", json!({}))
    })
}

/// The `response` object of a buffered answer.
pub(crate) fn json(answer: &Answer, body: &Value) -> Value {
    response(answer, body, true)
}

/// The typed events of a streamed answer, ending with `response.completed` (no `[DONE]`).
pub(crate) fn stream(answer: &Answer, body: &Value) -> Vec<Bytes> {
    let mut frames = Vec::with_capacity(answer.pieces.len() + 8);
    let mut push = |kind: &str, mut event: Value| {
        event["type"] = json!(kind);
        event["sequence_number"] = json!(frames.len());
        frames.push(named_event(kind, &event));
    };
    push(
        "response.created",
        json!({"response": response(answer, body, false)}),
    );
    push(
        "response.in_progress",
        json!({"response": response(answer, body, false)}),
    );
    push(
        "response.output_item.added",
        json!({"output_index": 0, "item": output_item(answer, false)}),
    );
    let item_id = match answer.tool {
        Some(_) => answer.id("fc_"),
        None => answer.id("msg_"),
    };
    match &answer.tool {
        Some(tool) => {
            for piece in &answer.pieces {
                push(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": 0, "delta": piece}),
                );
            }
            push(
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": 0, "name": tool.name, "arguments": tool.arguments}),
            );
        }
        None => {
            let at = |extra: Value| {
                let mut event = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
                if let (Some(event), Value::Object(extra)) = (event.as_object_mut(), extra) {
                    event.extend(extra);
                }
                event
            };
            push(
                "response.content_part.added",
                at(json!({"part": text_part("")})),
            );
            for piece in &answer.pieces {
                push(
                    "response.output_text.delta",
                    at(json!({"delta": piece, "logprobs": []})),
                );
            }
            push(
                "response.output_text.done",
                at(json!({"text": answer.text, "logprobs": []})),
            );
            push(
                "response.content_part.done",
                at(json!({"part": text_part(&answer.text)})),
            );
        }
    }
    push(
        "response.output_item.done",
        json!({"output_index": 0, "item": output_item(answer, true)}),
    );
    push(
        "response.completed",
        json!({"response": response(answer, body, true)}),
    );
    frames
}
