//! Token usage, normalised across dialects.
//!
//! The dialects count differently: Anthropic's `input_tokens` excludes cache reads and writes,
//! OpenAI's `prompt_tokens` includes cached tokens, Gemini's `promptTokenCount` includes
//! `cachedContentTokenCount` and counts thoughts apart from candidates. The IR uses one rule:
//! `input_tokens` is the uncached input, so total input = input + cache_read + cache_write;
//! `output_tokens` includes reasoning tokens, which are also reported apart.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Input tokens neither read from nor written to a cache.
    pub input_tokens: u64,
    /// All generated tokens, reasoning included.
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// The part of `output_tokens` spent reasoning.
    pub reasoning_tokens: u64,
}

impl Usage {
    /// All input tokens, cached or not.
    pub fn total_input(&self) -> u64 {
        self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
    }

    /// Folds a later stream report into this one. Every dialect reports running totals, so
    /// the larger value of each field is the latest; a field a report leaves at zero keeps
    /// what an earlier report said (Anthropic splits usage across `message_start` and
    /// `message_delta`).
    pub fn merge(&mut self, later: &Usage) {
        self.input_tokens = self.input_tokens.max(later.input_tokens);
        self.output_tokens = self.output_tokens.max(later.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.max(later.cache_read_tokens);
        self.cache_write_tokens = self.cache_write_tokens.max(later.cache_write_tokens);
        self.reasoning_tokens = self.reasoning_tokens.max(later.reasoning_tokens);
    }

    pub fn is_zero(&self) -> bool {
        *self == Usage::default()
    }
}
