//! Messages and content blocks.
//!
//! Tool results live inside user messages (as Anthropic and Gemini place them); OpenAI `tool`
//! messages and Responses `function_call_output` items decode into that shape. System and
//! developer messages that appear inside the conversation keep their position as
//! [`Role::System`] messages; encoders whose dialect has only a top-level system prompt hoist
//! them there.

use serde_json::Value;

use super::Extras;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A system or developer instruction inside the conversation (the top-level system prompt
    /// lives in `Request::system`).
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Block>,
    /// OpenAI `name`, Responses item `id`, and the like.
    pub extras: Extras,
}

impl Message {
    pub fn new(role: Role, content: Vec<Block>) -> Self {
        Self {
            role,
            content,
            extras: Extras::default(),
        }
    }

    /// The message's text blocks joined, for dialects and estimators that want plain text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.content {
            if let Block::Text(t) = block {
                out.push_str(&t.text);
            }
        }
        out
    }
}

/// Anthropic-style prompt caching marker (`{"type":"ephemeral","ttl":"1h"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheControl {
    /// `ephemeral` today; kept as a string so new kinds pass through.
    pub kind: String,
    /// `5m` or `1h` when given.
    pub ttl: Option<String>,
}

impl CacheControl {
    pub fn ephemeral() -> Self {
        Self {
            kind: "ephemeral".into(),
            ttl: None,
        }
    }
}

/// The provider family that minted an opaque thinking signature. Signatures are only ever
/// sent back to the family that minted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Anthropic,
    /// OpenAI reasoning items (`encrypted_content`) from the Responses API.
    OpenAi,
    Gemini,
}

/// An opaque signature plus the family that minted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub family: Family,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Text(Text),
    Image(Image),
    Document(Document),
    ToolUse(ToolUse),
    ToolResult(ToolResult),
    Thinking(Thinking),
    RedactedThinking(RedactedThinking),
    /// A content block of a type the decoding dialect has that the IR does not model (audio,
    /// a server-tool result, a type added after this code was written). It goes back out
    /// verbatim to the same dialect; encoders of other dialects refuse it with
    /// `Error::Unsupported` naming `kind`, never drop it.
    Other(Other),
}

/// A verbatim content block of one dialect; see [`Block::Other`].
#[derive(Debug, Clone, PartialEq)]
pub struct Other {
    /// The block's type name in its dialect (`input_audio`, `web_search_tool_result`, ...).
    pub kind: String,
    /// The whole wire object; `extras.dialect` says which dialect it belongs to.
    pub extras: Extras,
}

impl Block {
    pub fn text(text: impl Into<String>) -> Self {
        Block::Text(Text::new(text))
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Text {
    pub text: String,
    pub citations: Vec<Citation>,
    pub cache_control: Option<CacheControl>,
    /// Gemini may attach a `thoughtSignature` to a text part.
    pub signature: Option<Signature>,
    pub extras: Extras,
}

impl Text {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// A citation attached to text. The common fields are mapped; the dialect's full citation
/// object rides in `extras` so it comes back intact to the same dialect.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Citation {
    pub url: Option<String>,
    pub title: Option<String>,
    pub cited_text: Option<String>,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub extras: Extras,
}

/// Where the bytes of an image or document are.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaSource {
    Base64 { media_type: String, data: String },
    Url { url: String, media_type: Option<String> },
    /// A provider-side file id (OpenAI `file_id`, Anthropic Files API, Gemini `fileUri`).
    File { file_id: String, media_type: Option<String> },
    /// Plain text content of a document (Anthropic `{"type":"text"}` document source).
    Text { media_type: String, data: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub source: MediaSource,
    /// OpenAI `detail` (`low` / `high` / `auto`).
    pub detail: Option<String>,
    pub cache_control: Option<CacheControl>,
    pub extras: Extras,
}

/// A document such as a PDF.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub source: MediaSource,
    pub title: Option<String>,
    pub context: Option<String>,
    /// OpenAI `filename`.
    pub filename: Option<String>,
    pub citations_enabled: Option<bool>,
    pub cache_control: Option<CacheControl>,
    pub extras: Extras,
}

/// What kind of tool a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolCallKind {
    /// JSON arguments for a function tool.
    #[default]
    Function,
    /// Free-form text input for an OpenAI `custom` tool; `input` is a JSON string.
    Custom,
    /// A call to a provider-side tool (web search, code execution) run by the provider.
    Server,
}

/// A model's request to call a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    /// The call id. Gemini may have none; its decoder mints a deterministic one.
    pub id: String,
    pub name: String,
    /// The arguments as JSON. Arguments that arrived as a string that is not valid JSON are
    /// kept as a JSON string so they are never lost.
    pub input: Value,
    pub kind: ToolCallKind,
    /// Gemini `thoughtSignature` carried beside a `functionCall`.
    pub signature: Option<Signature>,
    pub cache_control: Option<CacheControl>,
    pub extras: Extras,
}

/// The result of a tool call, sent by the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub tool_use_id: String,
    /// The function's name when the dialect gives it (Gemini requires it; encoders look it up
    /// from the matching `ToolUse` when absent).
    pub name: Option<String>,
    /// Text and image blocks.
    pub content: Vec<Block>,
    pub is_error: bool,
    pub cache_control: Option<CacheControl>,
    pub extras: Extras,
}

impl ToolResult {
    /// The result's text blocks joined with newlines.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        for block in &self.content {
            if let Block::Text(t) = block {
                parts.push(t.text.as_str());
            }
        }
        parts.join("\n")
    }
}

/// Visible reasoning, with the signature that lets the provider verify it on the next turn.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Thinking {
    pub text: String,
    pub signature: Option<Signature>,
    pub extras: Extras,
}

/// Reasoning the provider returned encrypted (Anthropic `redacted_thinking`). Only Anthropic
/// can read it.
#[derive(Debug, Clone, PartialEq)]
pub struct RedactedThinking {
    pub data: String,
}
