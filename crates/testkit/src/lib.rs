//! Test support, never shipped in the release binary: a scripted fake upstream for all four
//! dialects, a gateway harness on `127.0.0.1:0`, fixture loaders and the `switchyard-mock`
//! binary for benchmarks. (Filled by the data-plane work; empty for now.)
