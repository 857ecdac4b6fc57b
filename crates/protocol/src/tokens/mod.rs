//! Token estimation: how many input tokens a request will cost before any upstream says so,
//! and a calibrator that learns from what upstreams report afterwards.
//!
//! OpenAI models are counted exactly (modulo message framing) with their own BPE
//! (`o200k_base` or `cl100k_base`, embedded in the binary by `tiktoken-rs`: nothing is ever
//! downloaded). Every other model (Claude, Gemini, Llama, Qwen, ...) gets a script-aware
//! character heuristic, described in the `heuristic` module, because their tokenizers are either not
//! public or not worth shipping; [`Calibrator`] then corrects its systematic error per model
//! from the usage each response reports. This module only estimates: it never refuses a
//! request, never talks to a provider, and knows nothing of context windows or budgets.

mod calibrator;
mod heuristic;
mod request;
mod segment;

#[cfg(test)]
mod tests;

pub use calibrator::{Calibrator, CalibratorSet};
pub use request::{estimate_request, IMAGE_TOKENS_ANTHROPIC, IMAGE_TOKENS_GEMINI};
pub use request::{DOCUMENT_TOKENS, IMAGE_TOKENS_OPENAI_HIGH, IMAGE_TOKENS_OPENAI_LOW};

/// Which counting method a model's text is estimated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tokenizer {
    /// OpenAI `o200k_base`: GPT-4o, GPT-4.1, GPT-4.5, GPT-5, o-series, ChatGPT models.
    O200k,
    /// OpenAI `cl100k_base`: GPT-4, GPT-3.5 Turbo, the text-embedding models.
    Cl100k,
    /// The character heuristic of the `heuristic` module, for every model whose tokenizer we lack.
    Heuristic,
}

/// The tokenizer for a model name as a client sends it. A routing prefix (`openai/gpt-4o`,
/// `azure/gpt-4`) is ignored and case does not matter; unknown names get the heuristic, which
/// is never badly wrong, rather than an OpenAI BPE, which can be for non-Latin text.
pub fn tokenizer_for(model: &str) -> Tokenizer {
    let name = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    let name = name.as_str();
    // The o200k prefixes are checked first because `gpt-4o` and `gpt-4.1` also start with
    // `gpt-4`, which on its own means cl100k.
    let o200k = [
        "gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-", "gpt-oss", "codex-",
    ];
    if o200k.iter().any(|p| name.starts_with(p)) || is_o_series(name) {
        return Tokenizer::O200k;
    }
    let cl100k = ["gpt-4", "gpt-3.5", "gpt-35-", "text-embedding-"];
    if cl100k.iter().any(|p| name.starts_with(p)) {
        return Tokenizer::Cl100k;
    }
    Tokenizer::Heuristic
}

/// `o1`, `o3-mini`, `o4-mini-2025-04-16`: the letter `o`, digits, then the end or a dash. A
/// plain prefix test on `o1` would also catch unrelated names such as `o1x-chat`.
fn is_o_series(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('o') else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && (rest.len() == digits || rest[digits..].starts_with('-'))
}

/// The number of tokens `text` costs on its own, without any message framing.
pub fn estimate_text(text: &str, tokenizer: Tokenizer) -> u64 {
    let bpe = match tokenizer {
        Tokenizer::Heuristic => return heuristic::estimate(text),
        Tokenizer::O200k => tiktoken_rs::o200k_base_singleton(),
        Tokenizer::Cl100k => tiktoken_rs::cl100k_base_singleton(),
    };
    // Client text goes to the BPE in bounded segments: tiktoken's regex and merge loop are
    // superlinear on long runs of one character class and can panic on huge ones, and this
    // runs on untrusted input. `segment` cuts where the BPE would cut anyway when it can.
    let mut total = 0u64;
    for piece in segment::pieces(text) {
        total += bpe.encode_ordinary(piece).len() as u64;
    }
    total
}
