//! `GET /api/resilience/{health,circuits,aimd,queue,quota}`: what each resilience mechanism
//! sees right now, per provider and per credential (and per route for the retry budget), as
//! JSON read from the pools' status. Times are relative (`*_in_ms`, `*_ago_ms`) because the
//! pool's instants are monotonic. Read-only.

use std::sync::PoisonError;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use switchyard_core::config::ProviderConfig;
use switchyard_core::pool::{MemberStatus, Pool};
use switchyard_core::resilience::{BreakerState, QueueConfig};

use super::{ms_since, ms_until};
use crate::pipeline::now;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/resilience/health", get(health))
        .route("/resilience/circuits", get(circuits))
        .route("/resilience/aimd", get(aimd))
        .route("/resilience/queue", get(queue))
        .route("/resilience/quota", get(quota))
}

/// Each upstream provider (the mock has no credentials) with its pool and its members' status.
fn each_pool(state: &AppState, mut f: impl FnMut(&ProviderConfig, &Pool, Vec<MemberStatus>)) {
    let snap = state.snapshot.load();
    let at = now();
    for (provider, pool) in snap.config.providers.iter().zip(&snap.pools) {
        f(provider, pool, pool.status(at));
    }
}

/// One word for where a credential stands, in the order selection checks it.
fn standing(m: &MemberStatus) -> &'static str {
    if m.invalid.is_some() {
        if m.held {
            "quarantined"
        } else {
            "invalid"
        }
    } else if m.cooldown_until.is_some() {
        "cooling_down"
    } else {
        match m.breaker.state {
            BreakerState::Open { .. } => "ejected",
            BreakerState::HalfOpen { .. } => "half_open",
            BreakerState::Closed => "ok",
        }
    }
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let at = now();
    let mut providers = Vec::new();
    each_pool(&state, |provider, _, members| {
        let count = |word: &str| members.iter().filter(|m| standing(m) == word).count();
        let credentials: Vec<Value> = members
            .iter()
            .map(|m| {
                json!({
                    "credential": m.name,
                    "status": standing(m),
                    "reason": m.invalid,
                    "cooldown_in_ms": m.cooldown_until.map(|u| ms_until(u, at)),
                    "last_error": m.last_error.as_ref().map(|e| json!({
                        "class": e.class,
                        "message": e.message,
                        "ago_ms": ms_since(e.at, at),
                    })),
                    "last_check": m.last_check.as_ref().map(|c| json!({
                        "result": c.result,
                        "ago_ms": ms_since(c.at, at),
                    })),
                })
            })
            .collect();
        providers.push(json!({
            "provider": provider.name,
            "kind": format!("{:?}", provider.kind).to_lowercase(),
            "credentials": members.len(),
            "usable": count("ok"),
            "cooling_down": count("cooling_down"),
            "ejected": count("ejected"),
            "half_open": count("half_open"),
            "invalid": count("invalid") + count("quarantined"),
            "held_by_cap": members.iter().filter(|m| m.breaker.held_by_cap).count(),
            "members": credentials,
        }));
    });
    Json(json!({ "providers": providers }))
}

async fn circuits(State(state): State<AppState>) -> Json<Value> {
    let at = now();
    let mut out = Vec::new();
    each_pool(&state, |provider, _, members| {
        for m in members {
            let b = &m.breaker;
            let (state, open_in, probes) = match b.state {
                BreakerState::Closed => ("closed", None, None),
                BreakerState::Open { until } => ("open", Some(ms_until(until, at)), None),
                BreakerState::HalfOpen { probes_in_flight } => {
                    ("half_open", None, Some(probes_in_flight))
                }
            };
            out.push(json!({
                "provider": provider.name,
                "credential": m.name,
                "state": state,
                "open_for_ms": open_in,
                "probes_in_flight": probes,
                "consecutive_failures": b.consecutive_failures,
                "calls": b.calls,
                "failures": b.failures,
                "slow": b.slow,
                "ejections": b.ejections,
                "next_ejection_ms": u64::try_from(b.next_ejection.as_millis()).unwrap_or(u64::MAX),
                "held_by_cap": b.held_by_cap,
            }));
        }
    });
    Json(json!({ "circuits": out }))
}

async fn aimd(State(state): State<AppState>) -> Json<Value> {
    let at = now();
    let mut out = Vec::new();
    each_pool(&state, |provider, pool, members| {
        for m in members {
            let cap = provider
                .credentials
                .get(m.index)
                .and_then(|c| c.max_concurrency);
            out.push(json!({
                "provider": provider.name,
                "credential": m.name,
                "enabled": pool.resilience().aimd.enabled,
                "limit": m.aimd.limit,
                "in_flight": m.in_flight,
                "max_concurrency": cap,
                "successes_toward_increase": m.aimd.successes,
                "last_decrease_ago_ms": m.aimd.last_decrease.map(|d| ms_since(d, at)),
            }));
        }
    });
    Json(json!({ "aimd": out }))
}

async fn queue(State(state): State<AppState>) -> Json<Value> {
    let at = now();
    let mut pools = Vec::new();
    each_pool(&state, |provider, pool, _| {
        let v = pool.waiters().view(at);
        let (mode, max_wait, max_depth) = match v.queue.config {
            QueueConfig::Off => ("off", None, None),
            QueueConfig::Wait {
                max_wait,
                max_depth,
            } => (
                "wait",
                max_wait.map(|w| u64::try_from(w.as_millis()).unwrap_or(u64::MAX)),
                Some(max_depth),
            ),
        };
        pools.push(json!({
            "provider": provider.name,
            "mode": mode,
            "max_wait_ms": max_wait,
            "max_depth": max_depth,
            "depth": v.queue.depth,
            "oldest_wait_ms": v.queue.oldest_wait.map(|w| u64::try_from(w.as_millis()).unwrap_or(u64::MAX)),
            "served_after_wait": v.served,
            "refused_after_wait": v.refused,
            "longest_wait_ms": u64::try_from(v.longest_wait.as_millis()).unwrap_or(u64::MAX),
        }));
    });
    let snap = state.snapshot.load();
    let routes: Vec<Value> = snap
        .config
        .routes
        .iter()
        .zip(snap.budgets.iter())
        .map(|(route, budget)| {
            let v = budget
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .view(at);
            json!({
                "route": route.pattern.as_str(),
                "requests": v.requests,
                "retries": v.retries,
                "allowance": v.allowance,
                "remaining": v.remaining,
                "fallback": snap.config.fallbacks(route),
            })
        })
        .collect();
    Json(json!({ "pools": pools, "routes": routes }))
}

async fn quota(State(state): State<AppState>) -> Json<Value> {
    let at = now();
    let mut out = Vec::new();
    each_pool(&state, |provider, pool, members| {
        let threshold = pool.resilience().quota.protect_below;
        for m in members {
            let models: Vec<Value> = m
                .quotas
                .iter()
                .map(|q| {
                    json!({
                        "model": q.model,
                        "remaining": q.fraction,
                        "resets_in_ms": q.reset_at.map(|r| ms_until(r, at)),
                        "protected": q.protected,
                    })
                })
                .collect();
            out.push(json!({
                "provider": provider.name,
                "credential": m.name,
                "group": m.group,
                "remaining": m.quota,
                "protect_below": threshold,
                "cooldown_in_ms": m.cooldown_until.map(|u| ms_until(u, at)),
                "last_retry_after_ms": m.last_retry_after.map(|(d, _)| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                "models": models,
            }));
        }
    });
    Json(json!({ "quota": out }))
}
