//! Responses error bodies. They have exactly the shape and statuses of Chat Completions
//! errors (`{"error": {"message", "type", "param", "code"}}`), so this module delegates to
//! [`crate::openai`]'s codec and only re-tags the kept extras with its own dialect.

use crate::ir::{ErrorBody, Extras};
use crate::{openai, Dialect};

pub(crate) use crate::openai::{kind_from_code, retry_after as retry_after_in};

pub fn decode_error(status: u16, body: &[u8]) -> ErrorBody {
    let mut err = openai::decode_error(status, body);
    err.extras = retag(&err.extras, Dialect::OpenAiChat, Dialect::Responses);
    err
}

pub fn encode_error(err: &ErrorBody) -> (u16, Vec<u8>) {
    let mut err = err.clone();
    err.extras = retag(&err.extras, Dialect::Responses, Dialect::OpenAiChat);
    openai::encode_error(&err)
}

fn retag(extras: &Extras, from: Dialect, to: Dialect) -> Extras {
    match extras.for_dialect(from) {
        Some(fields) => Extras::new(to, fields.clone()),
        None => Extras::default(),
    }
}
