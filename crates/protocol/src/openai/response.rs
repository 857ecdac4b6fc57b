//! (stub)
use crate::{ir, EncodeOptions, Error};

pub fn decode_response(_body: &[u8]) -> Result<ir::Response, Error> {
    Err(Error::Stream("unimplemented".into()))
}

pub fn encode_response(_resp: &ir::Response, _opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    Err(Error::Stream("unimplemented".into()))
}
