//! The protocol layer's error: what went wrong decoding a dialect's bytes or encoding the IR
//! into a dialect. The server maps it to a 400 in the caller's dialect (or, for a malformed
//! upstream body, to a 502); this crate never picks statuses for it.

use crate::Dialect;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The body is not valid JSON, or a field is missing or has the wrong type. `path` names
    /// the field (`messages[2].content[0].type`), empty for the document itself.
    #[error("{}{message}", path_prefix(path))]
    Decode { path: String, message: String },
    /// The body parsed but says something impossible (a tool result for no call, ...).
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// The target dialect cannot carry a feature and has no faithful emulation for it.
    #[error("{feature} is not supported by the {target} API")]
    Unsupported { feature: String, target: Dialect },
    /// A stream frame could not be understood.
    #[error("malformed stream event: {0}")]
    Stream(String),
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!("{path}: ")
    }
}

impl Error {
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn unsupported(feature: impl Into<String>, target: Dialect) -> Self {
        Error::Unsupported {
            feature: feature.into(),
            target,
        }
    }
}
