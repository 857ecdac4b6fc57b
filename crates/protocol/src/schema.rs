//! (stub) JSON Schema rewriting for Gemini.
