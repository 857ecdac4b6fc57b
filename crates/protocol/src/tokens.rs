//! (stub) Token estimation.
