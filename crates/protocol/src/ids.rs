//! Tool-call ids across dialects.
//!
//! Clients resend the whole history on every turn, so every mapping here is deterministic: the
//! same id in gives the same id out, on every request. Ids are made valid for the target
//! (Anthropic accepts `^[a-zA-Z0-9_-]+$`; Responses `call_id` is at most 64 characters), and a
//! Gemini call without an id gets one minted from its position in the conversation.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// Short stable hex digest of `parts`, for ids that must not collide.
pub fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(16);
    for b in &digest[..8] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn is_anthropic_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// An id Anthropic accepts. Valid ids pass unchanged; others have invalid characters replaced
/// and a hash of the original appended, so two ids that differ only in those characters stay
/// distinct.
pub fn anthropic_tool_id(id: &str) -> Cow<'_, str> {
    if !id.is_empty() && id.chars().all(is_anthropic_char) {
        return Cow::Borrowed(id);
    }
    let cleaned: String = id
        .chars()
        .map(|c| if is_anthropic_char(c) { c } else { '_' })
        .take(40)
        .collect();
    Cow::Owned(format!("{cleaned}_{}", short_hash(&[id])))
}

/// Responses `call_id` limit.
pub const RESPONSES_CALL_ID_MAX: usize = 64;

/// An id the Responses API accepts as `call_id`: at most 64 characters; longer ids are cut
/// and given a hash of the whole.
pub fn responses_call_id(id: &str) -> Cow<'_, str> {
    if !id.is_empty() && id.len() <= RESPONSES_CALL_ID_MAX {
        return Cow::Borrowed(id);
    }
    let hash = short_hash(&[id]);
    let keep = RESPONSES_CALL_ID_MAX - hash.len() - 1;
    let mut cut = keep.min(id.len());
    while !id.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(format!("{}_{hash}", &id[..cut]))
}

/// A deterministic id for a Gemini function call that has none: derived from the call's
/// position in the conversation (message index, part index) and its name, so the same history
/// always mints the same ids, and results can be paired with their calls.
pub fn mint_gemini_call_id(message_index: usize, part_index: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if is_anthropic_char(c) { c } else { '_' })
        .take(32)
        .collect();
    format!("call_{message_index}_{part_index}_{clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_ids_valid_and_stable() {
        assert_eq!(anthropic_tool_id("toolu_01AbC-x"), "toolu_01AbC-x");
        let a = anthropic_tool_id("call:abc.def");
        assert!(a.chars().all(is_anthropic_char));
        assert_eq!(a, anthropic_tool_id("call:abc.def"));
        assert_ne!(a, anthropic_tool_id("call.abc:def"));
        assert!(anthropic_tool_id("").chars().all(is_anthropic_char));
    }

    #[test]
    fn responses_ids_bounded_and_stable() {
        let long = "x".repeat(100);
        let id = responses_call_id(&long);
        assert!(id.len() <= RESPONSES_CALL_ID_MAX);
        assert_eq!(id, responses_call_id(&long));
        assert_ne!(id, responses_call_id(&"x".repeat(101)));
        assert_eq!(responses_call_id("call_1"), "call_1");
        let multibyte = "é".repeat(60);
        assert!(responses_call_id(&multibyte).len() <= RESPONSES_CALL_ID_MAX);
    }

    #[test]
    fn minted_gemini_ids_are_deterministic_and_anthropic_valid() {
        let id = mint_gemini_call_id(3, 1, "get.weather");
        assert_eq!(id, mint_gemini_call_id(3, 1, "get.weather"));
        assert_eq!(anthropic_tool_id(&id), id);
    }
}
