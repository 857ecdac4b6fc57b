//! Cutting untrusted text into pieces the BPE tokenizers handle in bounded time.
//!
//! tiktoken first splits text with a regex into pre-tokens, then merges bytes inside each
//! pre-token; both steps are superlinear in the length of a run of one character class (a
//! megabyte of `a` or of spaces takes seconds, and very long runs can make its regex engine
//! fail, which `tiktoken-rs` turns into a panic). Counting pieces separately and adding the
//! counts is exact when the cut falls where the regex would split anyway, and costs at most one
//! token per forced cut otherwise. This file only finds cut points; it never counts.

/// A piece at least this long (bytes) is cut at the next exact boundary.
const TARGET_BYTES: usize = 4096;

/// A piece at least this long is cut at the next change of character class even when that is
/// not an exact boundary, so text with no spaces at all still comes in bounded pieces.
const HARD_BYTES: usize = 16 * 1024;

/// Characters of one class in a row before a forced cut. A multiple of three, so a long
/// digit string is cut where tiktoken's three-digit grouping cuts it anyway.
const RUN_CAP: usize = 96;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Number,
    Space,
    Other,
}

fn class(c: char) -> Class {
    if c.is_whitespace() {
        Class::Space
    } else if c.is_alphabetic() {
        Class::Letter
    } else if c.is_numeric() {
        Class::Number
    } else {
        Class::Other
    }
}

/// The pieces of `text`, in order; concatenated, they are `text`.
///
/// The exact boundary is just before a space that follows a non-space character: in both
/// `o200k_base` and `cl100k_base` a space there always starts a new pre-token (it is a word's
/// leading space or the start of a whitespace run), and no pre-token ends with a space.
pub(super) fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut run_class: Option<Class> = None;
    let mut run_len = 0usize;
    let mut prev_is_space = true;
    for (i, c) in text.char_indices() {
        let class = class(c);
        let len = i - start;
        let same_run = run_class == Some(class);
        let exact = c == ' ' && !prev_is_space;
        let cut = (exact && len >= TARGET_BYTES)
            || (same_run && run_len >= RUN_CAP)
            || (!same_run && len >= HARD_BYTES);
        if cut && i > start {
            out.push(&text[start..i]);
            start = i;
        }
        if !same_run || cut {
            run_class = Some(class);
            run_len = 0;
        }
        run_len += 1;
        prev_is_space = class == Class::Space;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(pieces("hello world"), vec!["hello world"]);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn pieces_concatenate_to_the_text() {
        let text = format!(
            "{} {} {}",
            "word ".repeat(3000),
            "a".repeat(1000),
            "7".repeat(500)
        );
        let cut = pieces(&text);
        assert!(cut.len() > 3);
        assert_eq!(cut.concat(), text);
    }

    #[test]
    fn long_runs_are_capped() {
        let text = " ".repeat(1000) + &"x".repeat(1000) + &"é".repeat(300);
        // A piece is at most the tail of one run plus a capped stretch of the next.
        for piece in pieces(&text) {
            assert!(piece.chars().count() <= 2 * RUN_CAP, "{}", piece.len());
        }
    }

    #[test]
    fn prose_is_cut_only_before_a_space() {
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(400);
        let cut = pieces(&text);
        assert!(cut.len() >= 4);
        for piece in &cut[1..] {
            assert!(piece.starts_with(' '));
        }
    }
}
