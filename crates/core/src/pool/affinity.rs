//! Session affinity keys: a short stable string naming the conversation a request belongs to,
//! so `CacheFirst` can keep every turn of it on the credential whose prompt cache holds it.
//! This module only derives keys; it never binds them (the pool does) and never reads headers
//! itself (the server passes the one it found).
//!
//! Keys, by what the client gives, in order:
//! - `s:<value>` — the `x-session-id` header, else `metadata.session_id` (Responses
//!   `prompt_cache_key`);
//! - `u:<value>` — `metadata.user_id` (Anthropic; Claude Code puts its session id inside it,
//!   so the whole string is one session);
//! - `h:<16 hex>` — SHA-256 of the conversation's opening (system prompt and the first user
//!   message's text). The opening is the same on every turn, which all replay it, and differs
//!   between conversations; the model is left out so a fallback to another model keeps the key.
//!
//! Keys are at most 128 characters. A longer value keeps a readable prefix and ends in a hash
//! of the whole, so two long ids that share a prefix (Claude Code's user id is ~150
//! characters, its session part last) still give different keys.

use sha2::{Digest, Sha256};
use switchyard_protocol::ir::{Request, Role};

/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 128;

/// The affinity key of a request, given the `x-session-id` header's value if the client sent
/// one. `None` when nothing identifies a conversation (no ids and no user message).
pub fn affinity_key(header: Option<&str>, req: &Request) -> Option<String> {
    if let Some(id) = given(header).or_else(|| given(req.metadata.session_id.as_deref())) {
        return Some(bounded("s:", id));
    }
    if let Some(user) = given(req.metadata.user_id.as_deref()) {
        return Some(bounded("u:", user));
    }
    opening_hash(req).map(|h| format!("h:{h}"))
}

/// The key the `x-session-id` header alone gives: all a request needs when nothing on its
/// route schedules by session, so its conversation is not read for one.
pub fn session_key(header: Option<&str>) -> Option<String> {
    given(header).map(|id| bounded("s:", id))
}

/// A value the client actually gave: trimmed, and not blank.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// `prefix` + `value`, or, when that is too long, a prefix of it joined to 16 hex characters
/// of the value's hash.
fn bounded(prefix: &str, value: &str) -> String {
    if prefix.chars().count() + value.chars().count() <= MAX_KEY_CHARS {
        return format!("{prefix}{value}");
    }
    let hash = hex16(&Sha256::digest(value.as_bytes()));
    let keep = MAX_KEY_CHARS - prefix.chars().count() - 1 - hash.len();
    let head: String = value.chars().take(keep).collect();
    format!("{prefix}{head}~{hash}")
}

/// 16 hex characters of SHA-256 over the system prompt and the first user message's text, or
/// `None` when the conversation has no user message or its opening has no text at all (an
/// empty opening would put every such conversation under one key).
fn opening_hash(req: &Request) -> Option<String> {
    let first_user = req.messages.iter().position(|m| m.role == Role::User)?;
    let mut h = Sha256::new();
    let mut any_text = false;
    // Length-prefixed parts, so moving text between parts changes the hash.
    let mut part = |tag: u8, text: &str| {
        any_text |= !text.is_empty();
        h.update([tag]);
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    };
    for block in &req.system {
        part(b's', &block.text);
    }
    // Dialects that keep instructions inside the conversation put them before the first user
    // message; they belong to the opening the same way.
    for m in &req.messages[..first_user] {
        if m.role == Role::System {
            part(b's', &m.text());
        }
    }
    part(b'u', &req.messages[first_user].text());
    if !any_text {
        return None;
    }
    Some(hex16(&h.finalize()))
}

fn hex16(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::ir::{Block, Message, SystemBlock};

    fn msg(role: Role, text: &str) -> Message {
        Message::new(role, vec![Block::text(text)])
    }

    fn conversation(system: &str, turns: &[(Role, &str)]) -> Request {
        Request {
            model: "claude-sonnet-4-5".into(),
            system: vec![SystemBlock::new(system)],
            messages: turns.iter().map(|(r, t)| msg(*r, t)).collect(),
            ..Request::default()
        }
    }

    #[test]
    fn every_turn_of_a_conversation_shares_a_key() {
        let turn1 = conversation("You are terse.", &[(Role::User, "fix the bug")]);
        let mut turn3 = conversation(
            "You are terse.",
            &[
                (Role::User, "fix the bug"),
                (Role::Assistant, "which bug?"),
                (Role::User, "the parser one"),
            ],
        );
        turn3.model = "claude-opus-4-1".into();
        let key = affinity_key(None, &turn1).unwrap();
        assert!(key.starts_with("h:") && key.len() == 18, "{key}");
        assert_eq!(affinity_key(None, &turn3), Some(key));
    }

    #[test]
    fn different_conversations_differ() {
        let base = conversation("You are terse.", &[(Role::User, "fix the bug")]);
        let other_question = conversation("You are terse.", &[(Role::User, "add a test")]);
        let other_system = conversation("You are verbose.", &[(Role::User, "fix the bug")]);
        // Text moved from the system prompt into the message is a different opening.
        let moved = conversation("You are terse.fix", &[(Role::User, " the bug")]);
        let k = |r: &Request| affinity_key(None, r).unwrap();
        assert_ne!(k(&base), k(&other_question));
        assert_ne!(k(&base), k(&other_system));
        assert_ne!(k(&base), k(&moved));
    }

    #[test]
    fn in_conversation_system_messages_count_as_opening() {
        let a = conversation("", &[(Role::System, "rules A"), (Role::User, "hi")]);
        let b = conversation("", &[(Role::System, "rules B"), (Role::User, "hi")]);
        assert_ne!(affinity_key(None, &a), affinity_key(None, &b));
    }

    #[test]
    fn no_user_message_or_no_text_gives_no_key() {
        assert_eq!(affinity_key(None, &Request::default()), None);
        let only_system = conversation("be nice", &[(Role::System, "more rules")]);
        assert_eq!(affinity_key(None, &only_system), None);
        let empty = conversation("", &[(Role::User, "")]);
        assert_eq!(affinity_key(None, &empty), None);
    }

    #[test]
    fn ids_win_over_the_hash_in_order() {
        let mut req = conversation("sys", &[(Role::User, "hi")]);
        req.metadata.user_id = Some("user_abc".into());
        assert_eq!(affinity_key(None, &req).as_deref(), Some("u:user_abc"));
        req.metadata.session_id = Some("sess-1".into());
        assert_eq!(affinity_key(None, &req).as_deref(), Some("s:sess-1"));
        assert_eq!(
            affinity_key(Some(" hdr-9 "), &req).as_deref(),
            Some("s:hdr-9")
        );
        // A blank header is no header.
        assert_eq!(affinity_key(Some("  "), &req).as_deref(), Some("s:sess-1"));
    }

    #[test]
    fn long_ids_are_bounded_and_stay_distinct() {
        // Claude Code's shape: the session id comes last, past 128 characters.
        let prefix = format!(
            "user_{}_account_{}_session_",
            "a".repeat(64),
            "b".repeat(36)
        );
        let mut one = Request::default();
        one.metadata.user_id = Some(format!("{prefix}1111"));
        let mut two = Request::default();
        two.metadata.user_id = Some(format!("{prefix}2222"));
        let (k1, k2) = (
            affinity_key(None, &one).unwrap(),
            affinity_key(None, &two).unwrap(),
        );
        assert_eq!(k1.chars().count(), MAX_KEY_CHARS);
        assert_eq!(k2.chars().count(), MAX_KEY_CHARS);
        assert!(k1.starts_with("u:user_aaaa"));
        assert_ne!(k1, k2);
        // Stable: the same value gives the same key.
        assert_eq!(affinity_key(None, &one).unwrap(), k1);
        // Multi-byte characters are cut on character boundaries.
        let wide = "é".repeat(300);
        let key = affinity_key(Some(&wide), &Request::default()).unwrap();
        assert_eq!(key.chars().count(), MAX_KEY_CHARS);
    }
}
