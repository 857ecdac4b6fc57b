//! Test support, never shipped in the release binary: a scripted fake upstream that speaks all
//! four dialects over real HTTP, for the gateway's integration, fault-injection and benchmark
//! tests, and the `switchyard-mock` binary that runs it for benchmarks.
//!
//! Codemap:
//! - [`FakeUpstream`] (`server`): the listener, connection tasks (HTTP/1.1 and HTTP/2,
//!   TCP_NODELAY), the current script, call records and the shutdown path.
//! - [`Script`], [`Plan`], [`Reply`] (`script`): what to answer, per credential, in sequence.
//! - `handler`: one request — record, pick the reply, wait or hang, render, apply faults.
//! - `dialect/`: the four wire formats, written by hand with `serde_json::json!` so the fake is
//!   an independent witness of each format (it never uses `switchyard-protocol`): one file per
//!   dialect with the same verbs, and the routing of paths to endpoints.
//! - `answer`: what every dialect shares (echo, chunking, usage, ids); `body`: the frame
//!   queue with its waits and cuts; `record`: [`Call`] and the credential a request presents.
//!
//! Default answer: the last user message's text echoed (or the scripted text; "ok" if none),
//! cut into [`DEFAULT_CHUNKS`] pieces for streams; the requested `model` echoed back; usage is
//! deterministic: input tokens = request body bytes / 4, output tokens = number of pieces.
//!
//! Scripting: a [`Script`] holds a [`Plan`] (a sequence of [`Reply`]s) per credential — the
//! key a request presents as `Authorization: Bearer`, `x-api-key`, `x-goog-api-key`, `api-key`
//! or `?key=` — and a default plan; [`FakeUpstream::set_script`] swaps it at run time. The
//! request headers `x-fake-status`, `x-fake-delay-ms` (wait before the first byte) and
//! `x-fake-chunks` override the scripted reply for one request; a gateway strips client-only
//! headers, so they work only when a test talks to the fake directly or through a gateway that
//! forwards them. Per-credential scripts are the main mechanism.
//!
//! Assert retries and failover by counting calls at the fake: [`FakeUpstream::calls`],
//! [`FakeUpstream::count`], [`FakeUpstream::count_for`].
//!
//! The fake holds no global state and never reads the wall clock except to format Anthropic's
//! rate-limit reset instants.

mod answer;
mod body;
mod dialect;
mod handler;
mod record;
mod script;
mod server;

pub use record::{Call, Credential, CredentialSource};
pub use script::{Plan, RateLimit, Reply, Script, DEFAULT_CHUNKS};
pub use server::FakeUpstream;
