//! The character heuristic used for every model whose tokenizer we do not have.
//!
//! Modern BPE tokenizers (Claude's, Gemini's SentencePiece, Llama 3's and Qwen's tiktoken-style
//! vocabularies) agree closely enough on the shape of the answer for an estimate: a common
//! English word with its leading space is one token, rarer and longer words split into pieces
//! of about four letters, digits come in small groups, punctuation is roughly a token per run
//! of marks, and scripts the vocabulary saw less of cost more per character.
//! The text is scanned once in runs of one character class, each run priced as below, in
//! thousandths of a token so rounding happens once at the end:
//!
//! - Latin words (ASCII letters and accented Latin letters, split at camelCase humps, so
//!   identifiers count like the words they are made of): one token up to 7 letters (common
//!   words are single tokens in every modern vocabulary), then one more per 4 letters beyond;
//!   an accented letter counts as 2, being rarer in vocabularies. English prose comes out at
//!   about 5 characters per token, spaces included, as with `o200k_base`; the often-quoted "4
//!   characters per token" describes older vocabularies.
//! - Digits: one token per 2 digits, between tiktoken's groups of three and the single digits
//!   of SentencePiece vocabularies (Gemini, Llama 2).
//! - Whitespace: a lone space is free (it belongs to the next word); a line break run is one
//!   token, and indentation or other runs of spaces one more per 16 columns.
//! - ASCII punctuation: a run of marks costs one token plus 0.3 per further mark, since the
//!   frequent runs of code and JSON (`();`, `":"`, `"],`) are single tokens; line breaks right
//!   after it are free (`;\n` is one token); a run directly before a word costs 0.8 less, as its
//!   last mark usually merges into the word's token (`.get`, `_id`, `(self`).
//! - CJK ideographs, kana and hangul: one token per character. `o200k_base`, Gemini and Qwen
//!   spend a little less, Claude's tokenizer a little more; one per character sits between and
//!   the per-model [`super::Calibrator`] absorbs the rest.
//! - Other scripts (Cyrillic, Greek, Arabic, Hebrew, Indic, Thai, ...): one token per 2.5
//!   characters, at least one per word.
//! - Emoji, symbols, CJK punctuation and control characters: one token each.
//!
//! Tuned on English prose and Rust, Python and JSON samples, it stays within a few percent of
//! `o200k_base` on them and on held-out Markdown, logs and Go (see `tests.rs`). It prices text
//! only; message framing and media live in `request.rs`.

/// Thousandths of a token: the unit every price below is given in.
const UNIT: u64 = 1000;

/// Letters a Latin word has before it costs more than one token.
const WORD_FREE_LETTERS: u64 = 7;
/// Letters per extra token beyond [`WORD_FREE_LETTERS`].
const LETTERS_PER_TOKEN: u64 = 4;
/// Weight of an ASCII letter; accented letters weigh two.
const ASCII_LETTER: u64 = 1;
const ACCENTED_LETTER: u64 = 2;

const DIGITS_PER_TOKEN: u64 = 2;

/// Columns of horizontal whitespace per token.
const SPACES_PER_TOKEN: u64 = 16;

/// The first mark of a run of punctuation costs a token, each further mark this much: common
/// runs (`();`, `":"`, `"],`) are single tokens.
const PUNCT_EXTRA: u64 = 300;
/// Saved when a run ends directly before a word, whose token usually absorbs the last mark.
const PUNCT_MERGED: u64 = 800;

const CJK: u64 = UNIT;
/// Other-script letters cost 1 / 2.5 of a token each, at least one token per word.
const OTHER_SCRIPT_LETTER: u64 = 400;
const SYMBOL: u64 = UNIT;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Latin,
    Digit,
    Space,
    Cjk,
    OtherScript,
    Punct,
    Symbol,
}

fn kind(c: char) -> Kind {
    let cp = u32::from(c);
    if c.is_ascii_alphabetic() {
        return Kind::Latin;
    }
    if c.is_ascii_punctuation() {
        return Kind::Punct;
    }
    if c.is_whitespace() {
        return Kind::Space;
    }
    if c.is_numeric() {
        return Kind::Digit;
    }
    if is_cjk(cp) {
        return Kind::Cjk;
    }
    if c.is_alphabetic() && is_latin(cp) {
        return Kind::Latin;
    }
    // Combining marks and the letters of the alphabetic scripts between Latin and CJK; the
    // marks are not `is_alphabetic` but belong to the word they modify.
    if c.is_alphabetic() || (0x0300..=0x1FFF).contains(&cp) {
        return Kind::OtherScript;
    }
    Kind::Symbol
}

/// Latin-1 Supplement, Latin Extended-A/B, IPA and Latin Extended Additional letters.
fn is_latin(cp: u32) -> bool {
    (0x00C0..=0x02AF).contains(&cp) || (0x1E00..=0x1EFF).contains(&cp)
}

/// Ideographs (unified, extensions, compatibility), kana and hangul.
fn is_cjk(cp: u32) -> bool {
    matches!(cp,
        0x1100..=0x11FF        // Hangul Jamo
        | 0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3130..=0x318F      // Hangul Compatibility Jamo
        | 0x31F0..=0x31FF      // Katakana Phonetic Extensions
        | 0x3400..=0x4DBF      // CJK Extension A
        | 0x4E00..=0x9FFF      // CJK Unified Ideographs
        | 0xAC00..=0xD7AF      // Hangul Syllables
        | 0xF900..=0xFAFF      // CJK Compatibility Ideographs
        | 0xFF66..=0xFF9F      // Halfwidth Katakana
        | 0x20000..=0x323AF    // CJK Extensions B to H
    )
}

/// The estimated token count of `text` under the rules in the module doc.
pub(super) fn estimate(text: &str) -> u64 {
    let mut milli = 0u64;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match kind(c) {
            Kind::Latin => {
                let mut weight = letter_weight(c);
                let mut prev_lower = c.is_lowercase();
                while let Some(&next) = chars.peek() {
                    // A lower-to-upper hump starts a new word: `parseJsonValue` is three.
                    if kind(next) != Kind::Latin || (prev_lower && next.is_uppercase()) {
                        break;
                    }
                    weight += letter_weight(next);
                    prev_lower = next.is_lowercase();
                    chars.next();
                }
                let extra = weight.saturating_sub(WORD_FREE_LETTERS);
                milli += UNIT + extra * UNIT / LETTERS_PER_TOKEN;
            }
            Kind::Digit => {
                let mut digits = 1u64;
                while chars.next_if(|&n| kind(n) == Kind::Digit).is_some() {
                    digits += 1;
                }
                milli += digits.div_ceil(DIGITS_PER_TOKEN) * UNIT;
            }
            Kind::Space => {
                let mut has_newline = c == '\n' || c == '\r';
                // Horizontal whitespace since the last line break (or in the whole run).
                let mut columns = u64::from(!has_newline);
                let mut lone_space = c == ' ';
                while let Some(next) = chars.next_if(|&n| kind(n) == Kind::Space) {
                    lone_space = false;
                    if next == '\n' || next == '\r' {
                        has_newline = true;
                        columns = 0;
                    } else {
                        columns += 1;
                    }
                }
                if has_newline {
                    milli += UNIT;
                }
                // The last column usually rides with the next word, like a lone space.
                if !lone_space && columns > 1 {
                    milli += (columns - 1).div_ceil(SPACES_PER_TOKEN) * UNIT;
                } else if !lone_space && columns == 1 && !has_newline {
                    milli += UNIT; // a lone tab or other non-space blank
                }
            }
            Kind::Punct => {
                let mut marks = 1u64;
                while chars.next_if(|&n| kind(n) == Kind::Punct).is_some() {
                    marks += 1;
                }
                // Line breaks right after punctuation share its token (`;\n`, `{\n`).
                while chars.next_if(|&n| n == '\n' || n == '\r').is_some() {}
                let before_word = chars.peek().is_some_and(|&n| kind(n) == Kind::Latin);
                let run = UNIT + (marks - 1) * PUNCT_EXTRA;
                milli += if before_word { run - PUNCT_MERGED } else { run };
            }
            Kind::Cjk => milli += CJK,
            Kind::OtherScript => {
                let mut letters = 1u64;
                while chars.next_if(|&n| kind(n) == Kind::OtherScript).is_some() {
                    letters += 1;
                }
                milli += (letters * OTHER_SCRIPT_LETTER).max(UNIT);
            }
            Kind::Symbol => milli += SYMBOL,
        }
    }
    milli.div_ceil(UNIT)
}

fn letter_weight(c: char) -> u64 {
    if c.is_ascii() {
        ASCII_LETTER
    } else {
        ACCENTED_LETTER
    }
}
