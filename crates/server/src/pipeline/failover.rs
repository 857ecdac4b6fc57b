//! The attempt loop: the route's targets in order, the credentials of each as the pool offers
//! them, then — only when every credential of the route was rate limited, ejected, invalid, busy
//! or already failed this request — the route's fallback chain, each fallback model routed as
//! if the client had asked for it; and when still nothing could serve, a wait in the queue of
//! the first pool that was only busy or cooling down (when the queue is on). Every retry asks
//! the route's retry budget first; the first attempt never does. It owns the order of attempts
//! and their bounds; one attempt's work is `attempt`'s, and what a pool offers is the pool's.

use std::sync::{Mutex, PoisonError};

use axum::response::Response;
use switchyard_core::config::{ProviderKind, RouteConfig, TargetConfig};
use switchyard_core::pool::{Ask, Lease, Pool, Selection};
use switchyard_core::resilience::{QueueConfig, RetryBudget};
use switchyard_protocol::ir::ErrorKind;
use tokio::time::Instant;

use super::early::Signal;
use super::history::Memory;
use super::record::Recorder;
use super::wait::{self, Waited};
use super::{attempt, mock, now_std, Attempt, Call, Request, UpstreamModel};
use crate::render::ApiError;
use crate::state::{AppState, Snapshot};

/// How a pass over a route ended.
enum Step {
    /// The client has its answer (success or a final error).
    Done(Response),
    /// No credential of the route could serve: the fallback chain, or the queue, may.
    Exhausted,
    /// The attempt cap or the retry budget ended the request's retries.
    Stop,
}

/// Where to wait when nothing could serve: the first target found only busy or cooling down.
#[derive(Clone, Copy)]
struct Parked<'a> {
    route: &'a RouteConfig,
    target: &'a TargetConfig,
    /// The upstream refused an attempt as too many at once (rather than the pool finding no
    /// room): wait for a request to finish before trying again.
    refused: bool,
}

pub(crate) struct Loop<'a> {
    pub state: &'a AppState,
    pub call: &'a Call,
    pub req: &'a Request,
    pub snap: &'a Snapshot,
    pub affinity: Option<&'a str>,
    pub memory: &'a Memory,
    pub budget: &'a Mutex<RetryBudget>,
    attempts: usize,
    last: Option<ApiError>,
    parked: Option<Parked<'a>>,
    /// For a stream: how to send the response head early when a wait runs long.
    early: Option<Signal>,
}

impl<'a> Loop<'a> {
    #[allow(clippy::too_many_arguments)] // reason: the request's context, each distinct
    pub fn new(
        state: &'a AppState,
        call: &'a Call,
        req: &'a Request,
        snap: &'a Snapshot,
        affinity: Option<&'a str>,
        memory: &'a Memory,
        budget: &'a Mutex<RetryBudget>,
        early: Option<Signal>,
    ) -> Self {
        Self {
            state,
            call,
            req,
            snap,
            affinity,
            memory,
            budget,
            attempts: 0,
            last: None,
            parked: None,
            early,
        }
    }

    /// Serves the request from `route` and, when its credentials are exhausted, its fallbacks.
    pub async fn run(mut self, route: &'a RouteConfig, mut rec: Recorder) -> Response {
        lock(self.budget).on_request(now_std());
        let config = &self.snap.config;
        let mut chain: Vec<(&RouteConfig, &str)> = vec![(route, self.req.model.as_str())];
        for model in config.fallbacks(route) {
            if let Some(r) = config.route(model) {
                chain.push((r, model.as_str()));
            }
        }
        'passes: loop {
            for &(r, model) in &chain {
                match self.route(&mut rec, r, model).await {
                    Step::Done(resp) => return resp,
                    Step::Exhausted => {}
                    Step::Stop => break 'passes,
                }
            }
            let Some(parked) = self.parked.take() else {
                break;
            };
            // Boxed: only a request that found nothing free waits, and inline this rare path
            // was the largest part of every request's future.
            match Box::pin(self.wait_and_attempt(&mut rec, parked)).await {
                Step::Done(resp) => return resp,
                Step::Exhausted => {}
                Step::Stop => break,
            }
        }
        let err = self.last.unwrap_or_else(|| {
            ApiError::new(ErrorKind::Overloaded, "no upstream could serve the request")
        });
        rec.fail(self.state, err).await
    }

    /// One pass over a route's targets, for the client-facing `model`.
    async fn route(&mut self, rec: &mut Recorder, route: &'a RouteConfig, model: &str) -> Step {
        for target in &route.targets {
            let provider = &self.snap.config.providers[target.provider];
            let upstream_model = target.model.clone().unwrap_or_else(|| model.to_string());
            if provider.kind == ProviderKind::Mock {
                let price = self
                    .snap
                    .config
                    .model(target.provider, &upstream_model)
                    .and_then(|m| m.price);
                rec.target(provider, "mock", &upstream_model, price);
                let ir = match self.req.ir() {
                    Ok(ir) => ir,
                    Err(err) => return Step::Done(rec.clone().fail(self.state, err).await),
                };
                // Boxed, as a path no real upstream takes: inline, it set the size of every
                // request's future.
                let resp = Box::pin(mock::serve(
                    self.state,
                    self.call,
                    ir,
                    provider,
                    &upstream_model,
                    rec.clone(),
                    self.memory.save.clone(),
                ))
                .await;
                return Step::Done(resp);
            }
            let pool = &self.snap.pools[target.provider];
            let mut exclude = Vec::new();
            loop {
                if self.attempts >= self.state.limits.max_attempts {
                    return Step::Stop;
                }
                let ask = Ask {
                    strategy: route.strategy,
                    preferred: route.credential.as_deref(),
                    affinity: self.affinity,
                    model: Some(&upstream_model),
                    exclude: &exclude,
                };
                let waiting = pool.waiters().config() != QueueConfig::Off;
                let selection = if waiting && pool.waiters().depth() > 0 {
                    // Others are waiting already: a newcomer joins the back of the queue
                    // rather than take a slot freed for the head.
                    Selection::AllBusy
                } else {
                    pool.select_for(&ask, now_std())
                };
                let lease = match selection {
                    Selection::Chosen(lease) => lease,
                    other => {
                        self.note_unavailable(other, route, target);
                        break;
                    }
                };
                let member = lease.index();
                match self
                    .attempt(rec, target, pool, lease, &upstream_model)
                    .await
                {
                    Some(Attempt::Done(resp)) => return Step::Done(resp),
                    Some(Attempt::Fail(err)) => {
                        return Step::Done(rec.clone().fail(self.state, err).await)
                    }
                    Some(Attempt::Retry(err)) => {
                        exclude.push(member);
                        // Too many at once, or come back later: a wait may see it through.
                        if err.body.kind == ErrorKind::RateLimited && self.parked.is_none() {
                            self.parked = Some(Parked {
                                route,
                                target,
                                refused: true,
                            });
                        }
                        self.last = Some(err);
                    }
                    None => return Step::Stop,
                }
            }
        }
        Step::Exhausted
    }

    /// Records why a target had no credential to offer, and whether waiting could help.
    fn note_unavailable(
        &mut self,
        selection: Selection,
        route: &'a RouteConfig,
        target: &'a TargetConfig,
    ) {
        let model = &self.req.model;
        let (err, parkable) = match selection {
            Selection::AllCoolingDown { until } => {
                let wait = until
                    .saturating_duration_since(now_std())
                    .as_secs_f64()
                    .ceil() as u64;
                let err = ApiError::new(
                    ErrorKind::RateLimited,
                    format!("every credential for {model:?} is rate limited or ejected"),
                )
                .with_retry_after(wait.max(1));
                (err, true)
            }
            Selection::AllBusy => {
                let err = ApiError::new(
                    ErrorKind::RateLimited,
                    format!("every credential for {model:?} is at its concurrency limit"),
                )
                .with_retry_after(1);
                (err, true)
            }
            Selection::NoneUsable | Selection::Chosen(_) => (
                ApiError::new(
                    ErrorKind::Overloaded,
                    format!("no usable credential for {model:?}"),
                ),
                false,
            ),
        };
        self.last.get_or_insert(err);
        if parkable && self.parked.is_none() {
            self.parked = Some(Parked {
                route,
                target,
                refused: false,
            });
        }
    }

    /// Waits in the parked target's queue, then attempts on the credential it yields.
    async fn wait_and_attempt(&mut self, rec: &mut Recorder, parked: Parked<'a>) -> Step {
        let pool = &self.snap.pools[parked.target.provider];
        let QueueConfig::Wait { max_wait, .. } = pool.waiters().config() else {
            return Step::Stop;
        };
        if self.attempts >= self.state.limits.max_attempts {
            return Step::Stop;
        }
        let provider = &self.snap.config.providers[parked.target.provider];
        let model = parked
            .target
            .model
            .clone()
            .unwrap_or_else(|| self.req.model.clone());
        let ask = Ask {
            strategy: parked.route.strategy,
            preferred: parked.route.credential.as_deref(),
            affinity: self.affinity,
            model: Some(&model),
            // A credential that failed earlier may serve once it has cooled down.
            exclude: &[],
        };
        let patience = max_wait.unwrap_or(provider.timeouts.total);
        let deadline = Instant::now() + patience;
        let waiting = wait::for_credential(pool, &ask, deadline, parked.refused);
        let waited = match self.early.take() {
            None => waiting.await,
            Some(signal) => {
                // A client that hears nothing for long may give up: once the wait has lasted
                // a ping interval, the stream's head goes out and pings keep it alive.
                tokio::pin!(waiting);
                tokio::select! {
                    waited = &mut waiting => {
                        self.early = Some(signal);
                        waited
                    }
                    () = tokio::time::sleep(self.state.limits.ping_interval) => {
                        signal.commit(rec);
                        waiting.await
                    }
                }
            }
        };
        let lease = match waited {
            Waited::Lease(lease) => lease,
            Waited::TimedOut(waited) => {
                let err = ApiError::new(
                    ErrorKind::RateLimited,
                    format!(
                        "no credential for {:?} freed up within {} ms of waiting",
                        self.req.model,
                        waited.as_millis()
                    ),
                )
                .with_retry_after(1);
                // The earlier error may name a better retry-after (a cooldown's end).
                if self
                    .last
                    .as_ref()
                    .is_none_or(|e| e.body.retry_after.is_none())
                {
                    self.last = Some(err);
                }
                return Step::Stop;
            }
            Waited::Refused | Waited::Hopeless => return Step::Stop,
        };
        match self.attempt(rec, parked.target, pool, lease, &model).await {
            Some(Attempt::Done(resp)) => Step::Done(resp),
            Some(Attempt::Fail(err)) => Step::Done(rec.clone().fail(self.state, err).await),
            Some(Attempt::Retry(err)) => {
                self.last = Some(err);
                // Another pass: the chain again, then perhaps another wait.
                self.parked = None;
                Step::Exhausted
            }
            None => Step::Stop,
        }
    }

    /// One attempt on `lease`, after the retry budget allows it (`None`: it did not).
    async fn attempt(
        &mut self,
        rec: &mut Recorder,
        target: &TargetConfig,
        pool: &Pool,
        lease: Lease,
        upstream_model: &str,
    ) -> Option<Attempt> {
        if self.attempts > 0 && !lock(self.budget).try_retry(now_std()) {
            tracing::info!(request_id = %self.call.request_id, "retry refused by the route's retry budget");
            self.last.get_or_insert_with(|| {
                ApiError::new(ErrorKind::Overloaded, "the route's retry budget is spent")
            });
            return None;
        }
        self.attempts += 1;
        let provider = &self.snap.config.providers[target.provider];
        let facts = self.snap.config.model(target.provider, upstream_model);
        let credential = &provider.credentials[lease.index()];
        rec.target(
            provider,
            &credential.name,
            upstream_model,
            facts.and_then(|m| m.price),
        );
        rec.attempt();
        let target = UpstreamModel {
            name: upstream_model,
            max_output_tokens: facts.and_then(|m| m.max_output_tokens),
        };
        Some(
            attempt::run(
                self.state,
                self.call,
                self.req,
                provider,
                pool,
                lease,
                &target,
                self.memory,
                rec,
            )
            .await,
        )
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
