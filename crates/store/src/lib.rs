//! Persistence: a `Store` trait with `sqlite` and `postgres` engines, migrations per engine and
//! one test suite run against both.
//!
//! It must not speak HTTP or Redis; it is the only crate that names SQL. (Filled by the
//! data-plane work; empty for now.)
