//! The answer before it takes a dialect's shape: the model echoed back, the text or tool call,
//! the pieces a stream carries, deterministic usage and ids. It owns the rules every dialect
//! shares (echo, chunking, token counts); it must not write any dialect's JSON.

use serde_json::Value;

use crate::script::Reply;

/// A tool call in the answer.
#[derive(Clone, Debug)]
pub(crate) struct ToolCall {
    pub(crate) name: String,
    /// The arguments as JSON text, sent verbatim where a dialect carries text.
    pub(crate) arguments: String,
}

impl ToolCall {
    /// The arguments as a JSON value, for dialects that carry an object (Anthropic `input`,
    /// Gemini `args`). Text that is not JSON goes out as a string, as a broken upstream would.
    pub(crate) fn arguments_value(&self) -> Value {
        serde_json::from_str(&self.arguments)
            .unwrap_or_else(|_| Value::String(self.arguments.clone()))
    }
}

/// What every dialect renders.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    /// The `model` the request named, echoed back.
    pub(crate) model: String,
    /// The call's number, used in every id so answers are deterministic.
    pub(crate) seq: u64,
    /// The whole text (empty for a tool call).
    pub(crate) text: String,
    /// The tool call, when the script asks for one and the request offers tools.
    pub(crate) tool: Option<ToolCall>,
    /// The text, or the tool arguments, cut into stream pieces.
    pub(crate) pieces: Vec<String>,
    /// Request body bytes / 4.
    pub(crate) input_tokens: u64,
    /// The number of pieces, so a buffered answer and its stream report the same usage.
    pub(crate) output_tokens: u64,
}

impl Answer {
    /// Builds the answer to a request body: `user_text` is the dialect's last user text.
    pub(crate) fn new(
        reply: &Reply,
        model: &str,
        seq: u64,
        body: &[u8],
        user_text: Option<String>,
        offers_tools: bool,
    ) -> Answer {
        let tool = match &reply.tool_call {
            Some((name, arguments)) if offers_tools => Some(ToolCall {
                name: name.clone(),
                arguments: arguments.clone(),
            }),
            _ => None,
        };
        let text = match (&tool, &reply.text) {
            (Some(_), _) => String::new(),
            (None, Some(text)) => text.clone(),
            (None, None) => user_text
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "ok".to_owned()),
        };
        let pieces = match &tool {
            Some(tool) => split(&tool.arguments, reply.chunks),
            None => split(&text, reply.chunks),
        };
        Answer {
            model: model.to_owned(),
            seq,
            text,
            tool,
            output_tokens: pieces.len() as u64,
            pieces,
            input_tokens: input_tokens(body),
        }
    }

    /// A deterministic id: `prefix` then `fake` and the call number.
    pub(crate) fn id(&self, prefix: &str) -> String {
        format!("{prefix}fake{:06}", self.seq)
    }
}

/// The fake's token estimate for a request: its body bytes / 4.
pub(crate) fn input_tokens(body: &[u8]) -> u64 {
    body.len() as u64 / 4
}

/// Cuts `text` into `chunks` pieces of nearly equal length in characters; fewer when the text
/// has fewer characters, and one empty piece for empty text.
pub(crate) fn split(text: &str, chunks: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let count = chunks.clamp(1, chars.len().max(1));
    let (base, extra) = (chars.len() / count, chars.len() % count);
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    for i in 0..count {
        let len = base + usize::from(i < extra);
        pieces.push(chars[start..start + len].iter().collect());
        start += len;
    }
    pieces
}

/// Joins the text of content parts: a string as is, or the `text` of every part whose `type`
/// is one of `types` (any part with a `text` when `types` is empty, as Gemini parts have none).
pub(crate) fn text_of(content: &Value, types: &[&str]) -> Option<String> {
    if let Some(text) = content.as_str() {
        return Some(text.to_owned());
    }
    let texts: Vec<&str> = content
        .as_array()?
        .iter()
        .filter(|part| {
            types.is_empty()
                || part
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| types.contains(&t))
        })
        .filter_map(|part| part.get("text").and_then(Value::as_str))
        .collect();
    (!texts.is_empty()).then(|| texts.concat())
}

/// The last message of `role` in `messages` (any role field name), if any.
pub(crate) fn last_with_role<'v>(messages: &'v Value, role: &str) -> Option<&'v Value> {
    messages
        .as_array()?
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some(role))
}

/// Whether the request offers tools (`tools`, or the legacy OpenAI `functions`).
pub(crate) fn offers_tools(body: &Value) -> bool {
    let non_empty = |key: &str| {
        body.get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    non_empty("tools") || non_empty("functions")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_every_character_in_order() {
        assert_eq!(split("abcdefghijk", 5), ["abc", "de", "fg", "hi", "jk"]);
        assert_eq!(split("ok", 5), ["o", "k"]);
        assert_eq!(split("", 5), [""]);
        assert_eq!(split("héllo wörld", 2).concat(), "héllo wörld");
    }
}
