//! The `switchyard` binary: command-line entry point.

fn main() {}
