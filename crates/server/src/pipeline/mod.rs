//! The request pipeline: from a decoded client request to the response the client receives.
//!
//! Routing picks the targets for the client's model; the attempt loop (`failover`) tries
//! credentials and targets in order until one upstream answers, with one bound on attempts and
//! the route's retry budget, then the route's fallback models, then the wait queue. Nothing reaches
//! the client before the upstream's first meaningful byte (or its whole JSON body), so every
//! failure before that is retried invisibly; after it, a failure ends the stream with an error
//! event in the client's dialect. The one exception is a stream that waits long in the queue:
//! its head goes out early and pings keep it alive (`early`). Same-dialect bodies go through
//! as bytes with the model rewritten; others are translated through the IR.
//!
//! Files: `failover` (the attempt loop), `wait` (parking in a pool's wait queue), `early`
//! (a stream's head sent while it waits, and pings until its answer), `attempt`
//! (one upstream call and its classification), `stream` (peek-then-commit and the body
//! that relays a committed stream), `upstream` (URLs and headers), `passthrough`
//! (byte-level body edits), `mock` (the built-in provider), `record` (usage records),
//! `history` (Responses API state: `previous_response_id` and `store`).

mod attempt;
mod count;
mod early;
pub mod embeddings;
mod failover;
pub mod history;
mod mock;
pub mod passthrough;
mod record;
mod request;
mod stream;
pub mod upstream;
mod wait;

use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use switchyard_core::config::Strategy;
use switchyard_core::glob::Glob;
use switchyard_core::pool::{affinity_key, session_key};
use switchyard_protocol::ir::ErrorKind;
use switchyard_protocol::{Dialect, EncodeOptions};
use tokio::time::Instant;

use crate::render::ApiError;
use crate::state::AppState;
pub use count::count_tokens;
pub use record::unix_ms;
use record::Recorder;
use request::Request;

/// One client request as ingress hands it over.
#[derive(Debug)]
pub struct Call {
    pub dialect: Dialect,
    pub body: Bytes,
    pub headers: HeaderMap,
    /// Gemini carries the model and the stream flag in the URL.
    pub url_model: Option<String>,
    pub url_stream: bool,
    pub accepted: Instant,
    pub started_at_ms: i64,
    pub request_id: String,
    /// Public id of the client key, empty without keys.
    pub key_id: String,
    /// Model globs the key may use; empty: all.
    pub key_models: Vec<String>,
}

/// What one attempt came to.
pub(crate) enum Attempt {
    /// The client has its answer (or its stream has started).
    Done(Response),
    /// This credential failed before anything reached the client: try another.
    Retry(ApiError),
    /// The failure is the client's (or final): answer it.
    Fail(ApiError),
}

/// Serves one call end to end. Every path records usage exactly once.
pub async fn handle(state: AppState, call: Call) -> Response {
    let mut rec = Recorder::new(&call, &state);
    let mut req = match Request::read(
        call.dialect,
        call.body.clone(),
        call.url_model.as_deref(),
        call.url_stream,
    ) {
        Ok(r) => r,
        Err(err) => return rec.fail(&state, err).await,
    };
    if req.model.is_empty() {
        return rec
            .fail(&state, ApiError::invalid("model: is required"))
            .await;
    }
    rec.requested(&req);
    let memory = match history::prepare(&state, call.dialect, &mut req).await {
        Ok(m) => m,
        Err(err) => return rec.fail(&state, err).await,
    };
    if !call.key_models.is_empty()
        && !call
            .key_models
            .iter()
            .any(|g| Glob::new(g.as_str()).matches(&req.model))
    {
        let err = ApiError::new(
            ErrorKind::PermissionDenied,
            format!("this key may not use model {:?}", req.model),
        );
        return rec.fail(&state, err).await;
    }
    let snap = state.snapshot.load_full();
    let Some(route_index) = snap.config.route_index(&req.model) else {
        let err = ApiError::new(
            ErrorKind::NotFound,
            format!("model {:?} is not served here", req.model),
        );
        return rec.fail(&state, err).await;
    };
    rec.route(snap.config.routes[route_index].pattern.as_str());
    let session = call
        .headers
        .get("x-session-id")
        .and_then(|v| v.to_str().ok());
    // Reading the conversation for a key costs a decode: only where a pool schedules by it.
    let affinity = if schedules_by_session(&snap, route_index) {
        match req.ir() {
            Ok(ir) => affinity_key(session, ir),
            Err(err) => return rec.fail(&state, err).await,
        }
    } else {
        session_key(session)
    };
    rec.session(affinity.clone());
    let plan = Plan {
        req,
        memory,
        snap,
        route_index,
        affinity,
    };
    if plan.req.stream && early::possible(&plan.snap) {
        return early::race(state, call, plan, rec).await;
    }
    serve(&state, &call, &plan, rec, None).await
}

/// What a routed request is served from: owned, so that a stream committed early can go on
/// in a task of its own.
pub(crate) struct Plan {
    req: Request,
    memory: history::Memory,
    snap: std::sync::Arc<crate::state::Snapshot>,
    route_index: usize,
    affinity: Option<String>,
}

/// Runs the attempt loop for a routed request.
async fn serve(
    state: &AppState,
    call: &Call,
    plan: &Plan,
    rec: Recorder,
    early: Option<early::Signal>,
) -> Response {
    let route = &plan.snap.config.routes[plan.route_index];
    failover::Loop::new(
        state,
        call,
        &plan.req,
        &plan.snap,
        plan.affinity.as_deref(),
        &plan.memory,
        &plan.snap.budgets[plan.route_index],
        early,
    )
    .run(route, rec)
    .await
}

/// Whether the route, or a route of its fallback chain, picks credentials by session in a
/// pool with a choice to make.
fn schedules_by_session(snap: &crate::state::Snapshot, route_index: usize) -> bool {
    let config = &snap.config;
    let route = &config.routes[route_index];
    let chain = std::iter::once(route).chain(
        config
            .fallbacks(route)
            .iter()
            .filter_map(|m| config.route(m)),
    );
    chain
        .filter(|r| r.strategy == Strategy::CacheFirst)
        .flat_map(|r| &r.targets)
        .any(|t| snap.pools.get(t.provider).is_some_and(|p| p.len() > 1))
}

/// The instant the pool's decisions are made at. The pool takes `std` instants; tokio's
/// clock is the one tests can pause, so it is the source.
pub fn now() -> std::time::Instant {
    now_std()
}

fn now_std() -> std::time::Instant {
    Instant::now().into_std()
}

/// The model an attempt asks the upstream for, and what the config says about it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UpstreamModel<'a> {
    pub name: &'a str,
    /// The model's output limit: larger requests are clamped to it.
    pub max_output_tokens: Option<u64>,
}

impl UpstreamModel<'_> {
    /// Whether the client asked for more output than the model's configured limit.
    fn clamps(&self, req: &Request) -> bool {
        matches!((req.max_tokens, self.max_output_tokens), (Some(asked), Some(limit)) if asked > limit)
    }

    /// How a request is encoded for this upstream model: under its name, within its limit,
    /// and asking for usage, which is always read from upstreams whatever the client asked
    /// for itself. The `max_tokens` an encoder fills in when the client gave none and the
    /// upstream needs one (Anthropic) is the usual default, within the limit.
    fn encode_options(&self) -> EncodeOptions {
        let usual = EncodeOptions::default().default_max_tokens;
        EncodeOptions {
            default_max_tokens: self
                .max_output_tokens
                .map_or(usual, |limit| usual.min(limit)),
            model: Some(self.name.to_owned()),
            max_tokens_limit: self.max_output_tokens,
            ask_usage: true,
            ..EncodeOptions::default()
        }
    }
}
