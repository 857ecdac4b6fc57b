//! A request to generate, in dialect-neutral form.

use serde_json::Value;

use super::{CacheControl, Extras, Message, RawJson};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// The model name as the client sent it (Gemini carries it in the URL; its decoder leaves
    /// this empty and the caller fills it in).
    pub model: String,
    /// The top-level system prompt, as blocks. A plain string is one block.
    pub system: Vec<SystemBlock>,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    /// `Some(false)` forbids parallel tool calls (OpenAI `parallel_tool_calls: false`,
    /// Anthropic `disable_parallel_tool_use: true`).
    pub parallel_tool_calls: Option<bool>,
    pub sampling: Sampling,
    pub response_format: Option<ResponseFormat>,
    pub reasoning: Option<Reasoning>,
    pub metadata: Metadata,
    /// Whether the client asked for a stream (Gemini carries this in the URL).
    pub stream: bool,
    /// Whether the client asked for usage in the stream (OpenAI `stream_options.include_usage`).
    /// Dialects that always report usage decode this as `true`.
    pub include_usage: bool,
    /// Whether the provider may store the response (Responses `store`).
    pub store: Option<bool>,
    /// Responses `previous_response_id`; resolved by the server, refused where it cannot be.
    pub previous_response_id: Option<String>,
    pub extras: Extras,
}

/// One block of the system prompt.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SystemBlock {
    pub text: String,
    pub cache_control: Option<CacheControl>,
    pub extras: Extras,
}

impl SystemBlock {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sampling {
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u64>,
    pub stop: Vec<String>,
    pub seed: Option<i64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    /// Number of choices (OpenAI `n`, Gemini `candidateCount`); only 1 crosses dialects.
    pub n: Option<u64>,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    pub kind: ToolKind,
    pub cache_control: Option<CacheControl>,
    pub extras: Extras,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolKind {
    /// A function with a JSON Schema for its arguments, as the client wrote it (`null` for a
    /// Responses function declared without one).
    Function {
        parameters: RawJson,
        /// OpenAI `strict`.
        strict: Option<bool>,
    },
    /// An OpenAI `custom` tool taking free-form text, optionally constrained by a grammar
    /// (the `format` object, kept verbatim).
    Custom { format: Option<Value> },
    /// A provider-side tool (web search, code execution, computer use, an OpenAI
    /// `namespace`, ...): its whole wire object, meaningful only to the dialect in `extras`.
    Provider { kind: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    /// The model must call some tool (Anthropic `any`, OpenAI `required`, Gemini `ANY`).
    Any,
    None,
    Tool(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: Option<String>,
        /// As the client wrote it, like a tool's schema.
        schema: RawJson,
        strict: Option<bool>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    Minimal,
    Low,
    Medium,
    High,
    /// Anthropic `max` / OpenAI `xhigh`.
    Max,
}

impl Effort {
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Minimal => "minimal",
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::Max => "max",
        }
    }

    /// Parses the names the dialects use (`none` is not an effort: it disables reasoning).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "minimal" => Effort::Minimal,
            "low" => Effort::Low,
            "medium" => Effort::Medium,
            "high" => Effort::High,
            "max" | "xhigh" => Effort::Max,
            _ => return None,
        })
    }

    /// A thinking budget for dialects that take tokens instead of an effort level.
    pub fn budget_tokens(self) -> u64 {
        match self {
            Effort::Minimal => 1024,
            Effort::Low => 2048,
            Effort::Medium => 8192,
            Effort::High => 16384,
            Effort::Max => 32768,
        }
    }

    /// The effort level nearest to a token budget.
    pub fn from_budget(budget: u64) -> Self {
        match budget {
            0..=1024 => Effort::Minimal,
            1025..=4096 => Effort::Low,
            4097..=12288 => Effort::Medium,
            12289..=24576 => Effort::High,
            _ => Effort::Max,
        }
    }
}

/// Whether and how much the model reasons before answering.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reasoning {
    pub mode: ReasoningMode,
    pub effort: Option<Effort>,
    /// Anthropic `budget_tokens`, Gemini `thinkingBudget`.
    pub budget_tokens: Option<u64>,
    /// Whether reasoning text (or summaries) should be returned: Gemini `includeThoughts`,
    /// Responses `reasoning.summary`.
    pub include_thoughts: Option<bool>,
    /// Responses `reasoning.summary` value (`auto`, `concise`, `detailed`).
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReasoningMode {
    /// Reasoning on with an effort level or budget.
    #[default]
    Enabled,
    /// The model decides (Anthropic `adaptive`, Gemini dynamic budget `-1`).
    Adaptive,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    /// Anthropic `metadata.user_id` (may itself be a JSON string), OpenAI `user`.
    pub user_id: Option<String>,
    /// A session id when the client names one.
    pub session_id: Option<String>,
}
