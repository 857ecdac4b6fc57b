#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_protocol::Dialect;

fuzz_target!(|data: &[u8]| switchyard_protocol_fuzz::decode_request(Dialect::Responses, data));
