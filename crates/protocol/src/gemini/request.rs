//! (stub)
use crate::{ir, EncodeOptions, Error};

pub fn decode_request(_body: &[u8]) -> Result<ir::Request, Error> {
    Err(Error::Stream("unimplemented".into()))
}

pub fn encode_request(_req: &ir::Request, _opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    Err(Error::Stream("unimplemented".into()))
}
