//! The canonical internal representation (IR) every dialect decodes into and encodes from.
//!
//! It is designed against all four dialects at once: it carries what only one of them has
//! (thinking signatures, cache control, citations, provider extras) instead of dropping it, so
//! translation is linear (one decoder and one encoder per dialect) rather than pairwise. The IR
//! is plain data: no I/O, no clocks, no knowledge of credentials or servers.
//!
//! Codemap: `content` (messages and content blocks), `request`, `response`, `stream` (stream
//! events and the well-formedness checker), `usage`, `error` (error bodies shared by dialects),
//! `extras` (the escape hatch for provider fields that only the same dialect gets back), `raw`
//! (JSON carried as text: schemas).

mod content;
mod error;
mod extras;
mod raw;
mod request;
mod response;
mod stream;
mod usage;

pub use content::*;
pub use error::*;
pub use extras::*;
pub use raw::*;
pub use request::*;
pub use response::*;
pub use stream::*;
pub use usage::*;
