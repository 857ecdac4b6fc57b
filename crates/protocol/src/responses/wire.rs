//! (stub) Wire types.
