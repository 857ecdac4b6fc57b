//! Input-token estimate of a whole request: the text the model will read (system prompt,
//! messages, tool calls and results, thinking, tool definitions, response schema), the framing
//! around it, and flat prices for media whose size we cannot see without decoding it.
//!
//! Framing costs are small constants taken from what providers document (OpenAI's cookbook
//! counts 3 tokens per message plus 3 to prime the reply; Anthropic documents the system prompt
//! it adds when tools are present). They do not need to be exact: the caller corrects the total
//! per model with a [`super::Calibrator`]. This file never decodes images or documents.

use crate::ir::{self, Block, Family, MediaSource, ResponseFormat, ToolKind};

use super::{estimate_text, tokenizer_for, Tokenizer};

/// Role markers and separators around each message (and around the system prompt).
const MESSAGE_OVERHEAD: u64 = 4;
/// Priming of the reply (`<|start|>assistant<|message|>` and the like), once per request.
const REPLY_PRIMING: u64 = 3;
/// Wrapping of one tool definition (its name, type and parameter framing).
const TOOL_OVERHEAD: u64 = 8;
/// Framing of one tool call or tool result block.
const TOOL_BLOCK_OVERHEAD: u64 = 4;
/// The tool-use system prompt Anthropic adds when a request has tools (346 tokens for recent
/// Claude models with `auto` or `none` tool choice, 313 with `any` or a named tool).
const TOOLS_PREAMBLE_ANTHROPIC: u64 = 346;
/// The namespace wrapper other providers put around tool definitions.
const TOOLS_PREAMBLE_OTHER: u64 = 12;

/// One image for Claude: Anthropic prices an image at about `width * height / 750` tokens
/// and resizes anything above ~1.15 megapixels, so a large image costs about 1,600. Without
/// decoding the image we assume that ceiling. Also used for models of unknown family, because
/// it is the largest of the flat prices and an estimate should not under-count.
pub const IMAGE_TOKENS_ANTHROPIC: u64 = 1600;
/// One image for OpenAI at `high` or `auto` detail: 85 base tokens plus 170 per 512-pixel tile,
/// 765 for a 1024x1024 image after OpenAI's resizing.
pub const IMAGE_TOKENS_OPENAI_HIGH: u64 = 765;
/// One image for OpenAI at `low` detail: a flat 85.
pub const IMAGE_TOKENS_OPENAI_LOW: u64 = 85;
/// One image for Gemini: 258 tokens per image up to 384 pixels a side (larger images are
/// tiled into 768x768 crops of 258 each; we assume one).
pub const IMAGE_TOKENS_GEMINI: u64 = 258;
/// One binary document (a PDF) whose pages we cannot count without parsing it: providers
/// charge roughly 1,500 to 3,000 tokens per page (text plus a page image); we assume two pages
/// of 1,500. Text documents are counted as text instead.
pub const DOCUMENT_TOKENS: u64 = 3000;

/// The estimated number of input tokens `req` costs, with the tokenizer and media prices
/// chosen from `req.model` (see [`tokenizer_for`]). An empty model name, as Gemini's decoder
/// leaves it, gets the heuristic and the most conservative media prices.
pub fn estimate_request(req: &ir::Request) -> u64 {
    let tokenizer = tokenizer_for(&req.model);
    let est = Estimator {
        tokenizer,
        family: family_for(&req.model, tokenizer),
    };
    let mut total = REPLY_PRIMING;
    if !req.system.is_empty() {
        total += MESSAGE_OVERHEAD;
        for block in &req.system {
            total += est.text(&block.text);
        }
    }
    for message in &req.messages {
        total += MESSAGE_OVERHEAD;
        for block in &message.content {
            total += est.block(block);
        }
    }
    if !req.tools.is_empty() {
        total += match est.family {
            Some(Family::Anthropic) => TOOLS_PREAMBLE_ANTHROPIC,
            _ => TOOLS_PREAMBLE_OTHER,
        };
    }
    for tool in &req.tools {
        total += TOOL_OVERHEAD + est.text(&tool.name);
        if let Some(description) = &tool.description {
            total += est.text(description);
        }
        total += match &tool.kind {
            ToolKind::Function { parameters, .. } => est.raw(parameters),
            ToolKind::Custom { format } => format.as_ref().map_or(0, |f| est.json(f)),
            // The provider's own tool: its wire object is all we know of it.
            ToolKind::Provider { kind } => est.text(kind) + est.extras(&tool.extras),
        };
    }
    if let Some(ResponseFormat::JsonSchema { name, schema, .. }) = &req.response_format {
        total += MESSAGE_OVERHEAD + est.raw(schema);
        total += name.as_deref().map_or(0, |n| est.text(n));
    }
    total
}

/// The family whose media prices apply: from the model name where it says, else from the
/// tokenizer (an OpenAI BPE means an OpenAI model).
fn family_for(model: &str, tokenizer: Tokenizer) -> Option<Family> {
    let name = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    if name.starts_with("claude") {
        Some(Family::Anthropic)
    } else if name.starts_with("gemini") || name.starts_with("gemma") {
        Some(Family::Gemini)
    } else if tokenizer != Tokenizer::Heuristic {
        Some(Family::OpenAi)
    } else {
        None
    }
}

struct Estimator {
    tokenizer: Tokenizer,
    family: Option<Family>,
}

impl Estimator {
    fn text(&self, text: &str) -> u64 {
        estimate_text(text, self.tokenizer)
    }

    /// A JSON value as the model sees it: compact JSON text.
    fn json(&self, value: &serde_json::Value) -> u64 {
        self.text(&value.to_string())
    }

    /// Counted as compact JSON, as a provider renders it, whatever the client's spacing.
    fn raw(&self, raw: &ir::RawJson) -> u64 {
        match raw.parse() {
            Ok(value) => self.json(&value),
            Err(_) => self.text(raw.as_str()),
        }
    }

    fn extras(&self, extras: &ir::Extras) -> u64 {
        if extras.is_empty() {
            return 0;
        }
        self.text(&serde_json::Value::Object(extras.fields.clone()).to_string())
    }

    fn block(&self, block: &Block) -> u64 {
        match block {
            Block::Text(t) => self.text(&t.text),
            Block::Image(image) => self.image(image.detail.as_deref()),
            Block::Document(doc) => {
                let titles = [
                    doc.title.as_deref(),
                    doc.context.as_deref(),
                    doc.filename.as_deref(),
                ];
                let mut total: u64 = titles.iter().flatten().map(|t| self.text(t)).sum();
                total += match &doc.source {
                    MediaSource::Text { data, .. } => self.text(data),
                    _ => DOCUMENT_TOKENS,
                };
                total
            }
            Block::ToolUse(call) => {
                TOOL_BLOCK_OVERHEAD
                    + self.text(&call.id)
                    + self.text(&call.name)
                    + self.json(&call.input)
            }
            Block::ToolResult(result) => {
                let mut total = TOOL_BLOCK_OVERHEAD + self.text(&result.tool_use_id);
                total += result.name.as_deref().map_or(0, |n| self.text(n));
                for inner in &result.content {
                    total += self.block(inner);
                }
                total
            }
            Block::Thinking(thinking) => self.text(&thinking.text),
            // Encrypted reasoning: its length says nothing reliable about tokens, and providers
            // drop earlier turns' reasoning from the context.
            Block::RedactedThinking(_) => 0,
            Block::Other(other) => self.text(&other.kind) + self.extras(&other.extras),
        }
    }

    fn image(&self, detail: Option<&str>) -> u64 {
        match self.family {
            Some(Family::OpenAi) if detail == Some("low") => IMAGE_TOKENS_OPENAI_LOW,
            Some(Family::OpenAi) => IMAGE_TOKENS_OPENAI_HIGH,
            Some(Family::Gemini) => IMAGE_TOKENS_GEMINI,
            Some(Family::Anthropic) | None => IMAGE_TOKENS_ANTHROPIC,
        }
    }
}
