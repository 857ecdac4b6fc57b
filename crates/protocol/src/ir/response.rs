//! A complete (non-streamed) response, and the stop reason shared by all dialects.

use super::{Block, Extras, Usage};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    pub id: String,
    /// The model that served the response.
    pub model: String,
    pub content: Vec<super::Block>,
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that ended generation, when one did.
    pub stop_sequence: Option<String>,
    pub usage: Usage,
    /// Unix seconds when the upstream gave them (OpenAI `created`).
    pub created: Option<u64>,
    pub extras: Extras,
}

impl Response {
    /// Whether the response contains a tool call.
    pub fn has_tool_use(&self) -> bool {
        self.content.iter().any(|b| matches!(b, Block::ToolUse(_)))
    }
}

/// Why generation stopped. The mapping to each dialect is in the crate README's stop-reason
/// table; each dialect's `response.rs` implements its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Natural end of the turn (Anthropic `end_turn`, OpenAI `stop`, Gemini `STOP`,
    /// Responses `completed`).
    EndTurn,
    /// The output token limit was reached.
    MaxTokens,
    /// A client stop sequence matched.
    StopSequence,
    /// The model called one or more tools.
    ToolUse,
    /// Anthropic `pause_turn`: a long server-tool turn paused, to be continued.
    PauseTurn,
    /// The model refused (Anthropic `refusal`).
    Refusal,
    /// A safety or content filter stopped output (OpenAI `content_filter`, Gemini `SAFETY`,
    /// `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`).
    ContentFilter,
    /// Anthropic `model_context_window_exceeded`.
    ContextWindowExceeded,
    /// Generation failed (Gemini `MALFORMED_FUNCTION_CALL`, Responses `failed`).
    Error,
    /// A value no mapping knows, kept verbatim.
    Other(String),
}
