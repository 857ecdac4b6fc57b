//! (stub)
use crate::ir::StreamEvent;
use crate::{sse, EncodeOptions, Error};

#[derive(Debug, Default)]
pub struct StreamDecoder {}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn decode(&mut self, _frame: &sse::Frame, _out: &mut Vec<StreamEvent>) -> Result<(), Error> {
        Ok(())
    }

    pub fn finish(&mut self, _out: &mut Vec<StreamEvent>) {}
}

#[derive(Debug, Default)]
pub struct StreamEncoder {}

impl StreamEncoder {
    pub fn new(_opts: &EncodeOptions) -> Self {
        Self::default()
    }

    pub fn encode(&mut self, _ev: &StreamEvent, _out: &mut Vec<u8>) {}

    pub fn finish(&mut self, _out: &mut Vec<u8>) {}
}
