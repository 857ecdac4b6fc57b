//! Thinking signatures on the wire.
//!
//! A signature is only valid for the provider family that minted it. When a response from one
//! family is shown to a client of another dialect, the signature is wrapped with its family's
//! name so that, when the client sends the history back, the decoder knows where it came from
//! and the encoder can send it home or drop it. Nothing is ever invented: a signature with no
//! wrapper belongs to the client dialect's own family.
//!
//! Gemini's `thoughtSignature` is base64 bytes (its SDKs decode it), so for Gemini clients the
//! wrapper itself is base64; other dialects take the wrapper as text. Anthropic and Responses
//! tool calls have no signature field: their response encoders put a Gemini call's signature
//! in an empty thinking block / reasoning item just before the call, which comes back in the
//! client's history as a thinking block that the Gemini request encoder moves onto the call.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::ir::{Family, Signature};

const PREFIX: &str = "sy1.";

fn tag(family: Family) -> &'static str {
    match family {
        Family::Anthropic => "anthropic",
        Family::OpenAi => "openai",
        Family::Gemini => "gemini",
    }
}

fn from_tag(tag: &str) -> Option<Family> {
    Some(match tag {
        "anthropic" => Family::Anthropic,
        "openai" => Family::OpenAi,
        "gemini" => Family::Gemini,
        _ => return None,
    })
}

/// The signature as a client whose dialect belongs to `native` receives it.
pub fn to_wire(sig: &Signature, native: Family) -> String {
    if sig.family == native {
        return sig.value.clone();
    }
    let wrapped = format!("{PREFIX}{}.{}", tag(sig.family), sig.value);
    if native == Family::Gemini {
        STANDARD.encode(wrapped)
    } else {
        wrapped
    }
}

/// The signature a client of family `native` sent back, with the family that minted it.
pub fn from_wire(value: &str, native: Family) -> Signature {
    let unwrapped = if native == Family::Gemini {
        STANDARD
            .decode(value)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| s.starts_with(PREFIX))
    } else {
        value.starts_with(PREFIX).then(|| value.to_string())
    };
    if let Some(rest) = unwrapped.as_deref().and_then(|s| s.strip_prefix(PREFIX)) {
        if let Some((t, v)) = rest.split_once('.') {
            if let Some(family) = from_tag(t) {
                return Signature {
                    family,
                    value: v.to_string(),
                };
            }
        }
    }
    Signature {
        family: native,
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_signatures_pass_unchanged() {
        let s = Signature {
            family: Family::Anthropic,
            value: "EqQBCkYIARgCIkA".into(),
        };
        assert_eq!(to_wire(&s, Family::Anthropic), "EqQBCkYIARgCIkA");
        assert_eq!(from_wire("EqQBCkYIARgCIkA", Family::Anthropic), s);
    }

    #[test]
    fn foreign_signatures_round_trip_through_every_family() {
        for origin in [Family::Anthropic, Family::OpenAi, Family::Gemini] {
            for client in [Family::Anthropic, Family::OpenAi, Family::Gemini] {
                let s = Signature {
                    family: origin,
                    value: "c2lnbmF0dXJl.x/y+z=".into(),
                };
                let wire = to_wire(&s, client);
                assert_eq!(from_wire(&wire, client), s, "{origin:?} via {client:?}");
            }
        }
    }

    #[test]
    fn gemini_wrapper_is_base64() {
        let s = Signature {
            family: Family::Anthropic,
            value: "abc".into(),
        };
        let wire = to_wire(&s, Family::Gemini);
        assert!(STANDARD.decode(&wire).is_ok());
    }
}
