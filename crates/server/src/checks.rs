//! The health loop: every `resilience.health.interval`, each credential of each upstream is
//! verified with the cheapest call its provider offers (listing models: `GET {base}/models` for
//! OpenAI-style APIs, `GET {base}/v1/models` for Anthropic, `GET {base}/v1beta/models` for
//! Gemini). A credential refused with 401/402/403 is marked invalid with the reason; one that
//! is accepted again returns to service, unless an operator quarantined it. Other answers
//! (429, 5xx, timeouts) say nothing about the credential itself and change nothing: the
//! cooldown and the breaker judge those on real traffic. It owns the schedule and the calls;
//! the pool owns the marks.

use std::time::Duration;

use axum::http::HeaderMap;
use switchyard_core::config::{ProviderConfig, ProviderKind, Secret};
use switchyard_core::pool::Pool;
use tokio_util::sync::CancellationToken;

use crate::pipeline::{now, upstream};
use crate::state::AppState;

/// A check that has not answered in this long is a failed check (of the network, not of the
/// credential).
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Checks every credential once per interval until `stop`; returns at once when the checks are
/// off. The first round runs one interval after start, so a restart loop cannot hammer an
/// upstream's listing endpoint.
pub async fn run(state: AppState, stop: CancellationToken) {
    loop {
        let Some(interval) = state.snapshot.load().config.health_interval else {
            return;
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        check_all(&state).await;
    }
}

/// One round over every credential of every upstream provider.
pub async fn check_all(state: &AppState) {
    let snap = state.snapshot.load_full();
    for (provider, pool) in snap.config.providers.iter().zip(&snap.pools) {
        if provider.kind == ProviderKind::Mock {
            continue;
        }
        for (member, credential) in provider.credentials.iter().enumerate() {
            let verdict = check(state, provider, &credential.secret).await;
            apply(pool, provider, member, &credential.name, verdict);
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Accepted,
    Refused(u16),
    /// Any other answer, or none: unknown.
    Inconclusive(String),
}

async fn check(state: &AppState, provider: &ProviderConfig, secret: &Secret) -> Verdict {
    let url = match provider.kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiResponses => {
            format!("{}/models", provider.base_url)
        }
        ProviderKind::Anthropic => format!("{}/v1/models", provider.base_url),
        ProviderKind::Gemini => format!("{}/v1beta/models", provider.base_url),
        ProviderKind::Mock => return Verdict::Accepted,
    };
    let headers = upstream::headers(provider, secret, &HeaderMap::new());
    let send = state.http.get(&url).headers(headers).send();
    match tokio::time::timeout(CHECK_TIMEOUT, send).await {
        Ok(Ok(resp)) => match resp.status().as_u16() {
            200..=299 => Verdict::Accepted,
            status @ 401..=403 => Verdict::Refused(status),
            status => Verdict::Inconclusive(format!("upstream answered {status}")),
        },
        Ok(Err(e)) if e.is_connect() => {
            Verdict::Inconclusive("could not connect to the upstream".into())
        }
        Ok(Err(_)) | Err(_) => Verdict::Inconclusive("the upstream did not answer".into()),
    }
}

fn apply(pool: &Pool, provider: &ProviderConfig, member: usize, name: &str, verdict: Verdict) {
    let at = now();
    match verdict {
        Verdict::Accepted => {
            pool.note_check(member, "ok", at);
            if pool.recover(member) {
                tracing::info!(provider = %provider.name, credential = %name, "health check passed: credential back in service");
            }
        }
        Verdict::Refused(status) => {
            let reason = format!("health check: refused with {status}");
            pool.note_check(member, reason.clone(), at);
            if pool.invalidate(member, reason) {
                tracing::warn!(provider = %provider.name, credential = %name, status, "health check failed: credential quarantined");
            }
        }
        Verdict::Inconclusive(why) => {
            pool.note_check(member, why, at);
        }
    }
}
