//! (stub)
use crate::ir::{ErrorBody, ErrorKind};

pub fn decode_error(status: u16, _body: &[u8]) -> ErrorBody {
    ErrorBody::new(ErrorKind::from_status(status), "")
}

pub fn encode_error(err: &ErrorBody) -> (u16, Vec<u8>) {
    (err.status(), Vec::new())
}
