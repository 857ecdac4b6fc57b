//! Glob patterns over client-facing model names (`claude-*`, `*sonnet*`, `a*b*c`), and the
//! order of specificity that decides which of several matching patterns wins.
//!
//! Only `*` is special (any run of characters, possibly empty); everything else matches
//! itself, so model names with dots, slashes or colons need no escaping. Matching is linear
//! in the name's length with the classic greedy backtracking over the last star.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
}

impl Glob {
    pub fn new(pattern: impl Into<String>) -> Self {
        Self {
            pattern: pattern.into(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern has no `*` (it names one model).
    pub fn is_exact(&self) -> bool {
        !self.pattern.contains('*')
    }

    pub fn matches(&self, name: &str) -> bool {
        let (p, s) = (self.pattern.as_bytes(), name.as_bytes());
        let (mut pi, mut si) = (0, 0);
        // Position of the last star seen and of the name when we took it.
        let mut star: Option<(usize, usize)> = None;
        while si < s.len() {
            if pi < p.len() && p[pi] == b'*' {
                star = Some((pi, si));
                pi += 1;
            } else if pi < p.len() && p[pi] == s[si] {
                pi += 1;
                si += 1;
            } else if let Some((sp, ss)) = star {
                // Let the last star swallow one more character and retry.
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == b'*')
    }

    /// Literal (non-star) characters: the more a pattern spells out, the more specific it is.
    fn literal_len(&self) -> usize {
        self.pattern.bytes().filter(|&c| c != b'*').count()
    }

    fn stars(&self) -> usize {
        self.pattern.bytes().filter(|&c| c == b'*').count()
    }

    /// Orders patterns from most to least specific: an exact name first, then more literal
    /// characters, then fewer stars. Equal patterns compare equal (the caller keeps
    /// declaration order for ties).
    pub fn specificity_cmp(&self, other: &Glob) -> Ordering {
        other
            .is_exact()
            .cmp(&self.is_exact())
            .then_with(|| other.literal_len().cmp(&self.literal_len()))
            .then_with(|| self.stars().cmp(&other.stars()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_stars_anywhere() {
        let cases = [
            ("claude-*", "claude-sonnet-4-5", true),
            ("claude-*", "claude-", true),
            ("claude-*", "gpt-4o", false),
            ("*sonnet*", "claude-sonnet-4-5", true),
            ("*sonnet*", "sonnet", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("a*b*c", "abcbc", true),
            ("*", "", true),
            ("gpt-4o", "gpt-4o", true),
            ("gpt-4o", "gpt-4o-mini", false),
            (
                "models/gemini-*:latest",
                "models/gemini-2.5-pro:latest",
                true,
            ),
            ("**x", "abx", true),
        ];
        for (p, s, want) in cases {
            assert_eq!(Glob::new(p).matches(s), want, "{p} vs {s}");
        }
    }

    #[test]
    fn the_most_specific_pattern_sorts_first() {
        let mut globs: Vec<Glob> = [
            "*",
            "claude-*",
            "claude-sonnet-4-5",
            "*sonnet*",
            "claude-*-4-5",
        ]
        .into_iter()
        .map(Glob::new)
        .collect();
        globs.sort_by(|a, b| a.specificity_cmp(b));
        let order: Vec<&str> = globs.iter().map(Glob::as_str).collect();
        assert_eq!(
            order,
            [
                "claude-sonnet-4-5",
                "claude-*-4-5",
                "claude-*",
                "*sonnet*",
                "*"
            ]
        );
    }
}
