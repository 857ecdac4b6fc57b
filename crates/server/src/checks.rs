//! The health loop: every `resilience.health.interval`, each credential of each upstream is
//! verified with the cheapest call its provider offers (listing models: `GET {base}/models` for
//! OpenAI-style APIs, `GET {base}/v1/models` for Anthropic, `GET {base}/v1beta/models` for
//! Gemini). A credential refused with 401/402/403 is marked invalid with the reason; one that
//! is accepted again returns to service, unless an operator quarantined it. Other answers
//! (429, 5xx, timeouts) say nothing about the credential itself and change nothing: the
//! cooldown and the breaker judge those on real traffic. It owns the schedule and the calls;
//! the pool owns the marks.

use switchyard_core::config::{ProviderConfig, ProviderKind};
use switchyard_core::pool::Pool;
use tokio_util::sync::CancellationToken;

use crate::oauth::RefreshError;
use crate::pipeline::{now, upstream};
use crate::state::AppState;

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
        for member in 0..provider.credentials.len() {
            check_one(state, provider, pool, member).await;
        }
    }
}

/// Checks one credential and acts on the answer: refused (401/402/403) marks it invalid with
/// the reason, accepted returns it to service unless an operator holds it, anything else only
/// notes the check. The admin API's verify calls this too.
pub async fn check_one(
    state: &AppState,
    provider: &ProviderConfig,
    pool: &Pool,
    member: usize,
) -> upstream::Verdict {
    let Some(credential) = provider.credentials.get(member) else {
        return upstream::Verdict {
            ok: false,
            status: None,
            message: "no such credential".into(),
        };
    };
    let verdict = match state.tokens.auth(&state.http, provider, credential).await {
        Ok(auth) => upstream::verify(&state.egress, provider, &auth).await,
        Err(RefreshError::Refused(reason)) => upstream::Verdict {
            ok: false,
            // Reported as the refusal it is, so the credential is marked below.
            status: Some(401),
            message: reason,
        },
        Err(RefreshError::Unavailable(reason)) => upstream::Verdict {
            ok: false,
            status: None,
            message: reason,
        },
    };
    let at = now();
    let name = &credential.name;
    match verdict.status {
        Some(200..=299) => {
            pool.note_check(member, "ok", at);
            if pool.recover(member) {
                tracing::info!(provider = %provider.name, credential = %name, "health check passed: credential back in service");
            }
        }
        Some(status @ 401..=403) => {
            let reason = format!("health check: refused with {status}");
            pool.note_check(member, reason.clone(), at);
            if pool.invalidate(member, reason) {
                tracing::warn!(provider = %provider.name, credential = %name, status, "health check failed: credential marked invalid");
            }
        }
        _ => {
            pool.note_check(member, verdict.message.clone(), at);
        }
    }
    verdict
}
