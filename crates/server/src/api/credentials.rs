//! Providers and their credentials: list with live status, add and remove stored ones, verify,
//! activate, quarantine, export and import. Credentials from the config file are listed and
//! managed live (verify, activate, quarantine) but added and removed by editing the file.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_core::config::{ProviderConfig, ProviderKind, Secret};
use switchyard_core::credential::StoredCredential;
use switchyard_store::Engine;

use super::{audit, store, Actor, Body, Failure, Params};
use crate::pipeline::{now, unix_ms};
use crate::reload;
use crate::state::{AppState, Snapshot};

/// `GET /api/providers`
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let snap = state.snapshot.load();
    let at = now();
    let providers: Vec<Value> = snap
        .config
        .providers
        .iter()
        .zip(&snap.pools)
        .map(|(p, pool)| {
            let in_file = snap
                .base()
                .providers
                .iter()
                .find(|b| b.name == p.name)
                .map(|b| &b.credentials);
            let credentials: Vec<Value> = pool
                .status(at)
                .into_iter()
                .zip(&p.credentials)
                .map(|(m, c)| {
                    let from_file = in_file.is_some_and(|list| list.iter().any(|f| f.name == c.name));
                    let state = if m.held {
                        "quarantined"
                    } else if m.invalid.is_some() {
                        "invalid"
                    } else if m.cooldown_until.is_some() {
                        "cooling_down"
                    } else if m.breaker.state != switchyard_core::resilience::BreakerState::Closed {
                        "ejected"
                    } else {
                        "usable"
                    };
                    json!({
                        "name": c.name,
                        "origin": if from_file { "config" } else { "store" },
                        "state": state,
                        "weight": c.weight,
                        "labels": c.labels,
                        "max_concurrency": c.max_concurrency,
                        "in_flight": m.in_flight,
                        "cooldown_ms": m.cooldown_until.map(|u| u.saturating_duration_since(at).as_millis() as u64),
                        "invalid_reason": m.invalid,
                        "quota": m.quota,
                        "last_error": m.last_error.map(|e| json!({
                            "class": e.class,
                            "message": e.message,
                            "age_ms": at.saturating_duration_since(e.at).as_millis() as u64,
                        })),
                    })
                })
                .collect();
            json!({
                "name": p.name,
                "kind": kind_name(p.kind),
                "base_url": p.base_url,
                "credentials": credentials,
            })
        })
        .collect();
    Json(json!({ "providers": providers }))
}

fn kind_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenAi => "openai",
        ProviderKind::Anthropic => "anthropic",
        ProviderKind::Gemini => "gemini",
        ProviderKind::OpenAiResponses => "openai-responses",
        ProviderKind::Mock => "mock",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    name: String,
    secret: String,
    #[serde(default = "super::default_weight", deserialize_with = "super::weight")]
    weight: u32,
    #[serde(default)]
    labels: Vec<String>,
}

/// `POST /api/providers/{provider}/credentials`
pub async fn add(
    State(state): State<AppState>,
    actor: Actor,
    Path(provider): Path<String>,
    Body(body): Body<NewCredential>,
) -> Result<Response, Failure> {
    let store = store(&state)?;
    let credential = checked(&state.snapshot.load(), &provider, body)?;
    store
        .insert_credential(&credential)
        .await
        .map_err(Failure::store)?;
    reload::refresh_from_store(&state, store)
        .await
        .map_err(Failure::store)?;
    let target = format!("{provider}/{}", credential.name);
    let after = json!({"name": credential.name, "weight": credential.weight, "labels": credential.labels, "secret": "***"});
    audit(
        &state,
        &actor,
        "credential.add",
        &target,
        None,
        Some(after.clone()),
    )
    .await;
    Ok((StatusCode::CREATED, Json(after)).into_response())
}

/// Refuses what the gateway could never use, before anything is written.
fn checked(
    snap: &Snapshot,
    provider: &str,
    body: NewCredential,
) -> Result<StoredCredential, Failure> {
    let p = find_provider(snap, provider)?;
    if p.kind == ProviderKind::Mock {
        return Err(Failure::bad_request(format!(
            "provider {provider:?} is a mock and takes no credentials"
        )));
    }
    if body.name.trim().is_empty() {
        return Err(Failure::bad_request("name: must not be empty"));
    }
    if body.secret.is_empty() {
        return Err(Failure::bad_request("secret: must not be empty"));
    }
    if body.weight == 0 {
        return Err(Failure::bad_request("weight: must be at least 1"));
    }
    if p.credentials.iter().any(|c| c.name == body.name) {
        return Err(Failure::conflict(format!(
            "{provider}/{} already exists",
            body.name
        )));
    }
    Ok(StoredCredential {
        provider: provider.to_string(),
        name: body.name,
        secret: Secret::new(body.secret),
        weight: body.weight,
        labels: body.labels,
        created_at_ms: unix_ms(),
    })
}

fn find_provider<'a>(snap: &'a Snapshot, provider: &str) -> Result<&'a ProviderConfig, Failure> {
    snap.config
        .providers
        .iter()
        .find(|p| p.name == provider)
        .ok_or_else(|| Failure::not_found(format!("no provider {provider:?}")))
}

/// `DELETE /api/providers/{provider}/credentials/{name}`
pub async fn remove(
    State(state): State<AppState>,
    actor: Actor,
    Path((provider, name)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    let store = store(&state)?;
    if !store
        .remove_credential(&provider, &name)
        .await
        .map_err(Failure::store)?
    {
        let snap = state.snapshot.load();
        let in_file = snap
            .base()
            .providers
            .iter()
            .any(|p| p.name == provider && p.credentials.iter().any(|c| c.name == name));
        return Err(if in_file {
            Failure::conflict(format!(
                "{provider}/{name} is defined in the config file; remove it there"
            ))
        } else {
            Failure::not_found(format!("no stored credential {provider}/{name}"))
        });
    }
    reload::refresh_from_store(&state, store)
        .await
        .map_err(Failure::store)?;
    let target = format!("{provider}/{name}");
    audit(
        &state,
        &actor,
        "credential.remove",
        &target,
        Some(json!({"name": name})),
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Finds a credential's provider and pool index in the current snapshot.
fn locate(snap: &Snapshot, provider: &str, name: &str) -> Result<(usize, usize), Failure> {
    let p = snap
        .config
        .providers
        .iter()
        .position(|p| p.name == provider)
        .ok_or_else(|| Failure::not_found(format!("no provider {provider:?}")))?;
    let member = snap.config.providers[p]
        .credentials
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| Failure::not_found(format!("no credential {provider}/{name}")))?;
    Ok((p, member))
}

/// Checks one credential as the health loop does, and says what it found.
async fn check(state: &AppState, snap: &Snapshot, p: usize, member: usize) -> Value {
    let provider = &snap.config.providers[p];
    let verdict = crate::checks::check_one(state, provider, &snap.pools[p], member).await;
    json!({
        "provider": provider.name,
        "name": provider.credentials[member].name,
        "ok": verdict.ok,
        "status": verdict.status,
        "message": verdict.message,
    })
}

/// `POST /api/providers/{provider}/credentials/{name}/verify`
pub async fn verify_one(
    State(state): State<AppState>,
    actor: Actor,
    Path((provider, name)): Path<(String, String)>,
) -> Result<Json<Value>, Failure> {
    let snap = state.snapshot.load_full();
    let (p, member) = locate(&snap, &provider, &name)?;
    let result = check(&state, &snap, p, member).await;
    audit(
        &state,
        &actor,
        "credential.verify",
        &format!("{provider}/{name}"),
        None,
        Some(result.clone()),
    )
    .await;
    Ok(Json(result))
}

#[derive(Debug, Deserialize)]
pub struct VerifyAll {
    /// Only this provider's credentials.
    provider: Option<String>,
}

/// `POST /api/credentials/verify[?provider=NAME]`: every credential, a few at a time.
pub async fn verify_all(
    State(state): State<AppState>,
    actor: Actor,
    Params(q): Params<VerifyAll>,
) -> Result<Json<Value>, Failure> {
    use futures_util::StreamExt;
    let snap = state.snapshot.load_full();
    if let Some(name) = &q.provider {
        find_provider(&snap, name)?;
    }
    let targets: Vec<(usize, usize)> = snap
        .config
        .providers
        .iter()
        .enumerate()
        .filter(|(_, p)| q.provider.as_ref().is_none_or(|n| *n == p.name))
        .flat_map(|(i, p)| (0..p.credentials.len()).map(move |m| (i, m)))
        .collect();
    let results: Vec<Value> = futures_util::stream::iter(targets)
        .map(|(p, m)| check(&state, &snap, p, m))
        .buffered(8)
        .collect()
        .await;
    let ok = results.iter().filter(|r| r["ok"] == true).count();
    audit(
        &state,
        &actor,
        "credential.verify_all",
        q.provider.as_deref().unwrap_or("*"),
        None,
        Some(json!({"checked": results.len(), "ok": ok})),
    )
    .await;
    Ok(Json(json!({ "results": results })))
}

/// `POST /api/providers/{provider}/credentials/{name}/activate`
pub async fn activate(
    State(state): State<AppState>,
    actor: Actor,
    Path((provider, name)): Path<(String, String)>,
) -> Result<Json<Value>, Failure> {
    let snap = state.snapshot.load_full();
    let (p, member) = locate(&snap, &provider, &name)?;
    snap.pools[p].activate(member);
    audit(
        &state,
        &actor,
        "credential.activate",
        &format!("{provider}/{name}"),
        None,
        None,
    )
    .await;
    Ok(Json(
        json!({"provider": provider, "name": name, "state": "usable"}),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineBody {
    reason: Option<String>,
}

/// `POST /api/providers/{provider}/credentials/{name}/quarantine`
pub async fn quarantine(
    State(state): State<AppState>,
    actor: Actor,
    Path((provider, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, Failure> {
    let snap = state.snapshot.load_full();
    let (p, member) = locate(&snap, &provider, &name)?;
    // The body is optional: no body (or `{}`) quarantines with a generic reason.
    let given: QuarantineBody = if body.is_empty() {
        QuarantineBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Failure::bad_request(format!("body: {e}")))?
    };
    let reason = given
        .reason
        .unwrap_or_else(|| "quarantined by an operator".into());
    snap.pools[p].quarantine(member, reason.clone());
    audit(
        &state,
        &actor,
        "credential.quarantine",
        &format!("{provider}/{name}"),
        None,
        Some(json!({"reason": reason})),
    )
    .await;
    Ok(Json(
        json!({"provider": provider, "name": name, "state": "quarantined", "reason": reason}),
    ))
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    /// Include the secrets (for moving credentials to another gateway).
    #[serde(default)]
    secrets: bool,
}

/// `GET /api/credentials/export[?secrets=true]`: the stored credentials, in the shape
/// `import` takes.
pub async fn export(
    State(state): State<AppState>,
    actor: Actor,
    Params(q): Params<ExportQuery>,
) -> Result<Json<Value>, Failure> {
    let store = store(&state)?;
    let stored = store.list_credentials().await.map_err(Failure::store)?;
    let items: Vec<Value> = stored
        .iter()
        .map(|c| {
            json!({
                "provider": c.provider,
                "name": c.name,
                "secret": if q.secrets { c.secret.expose() } else { "***" },
                "weight": c.weight,
                "labels": c.labels,
            })
        })
        .collect();
    if q.secrets {
        audit(
            &state,
            &actor,
            "credential.export",
            "*",
            None,
            Some(json!({"count": items.len(), "secrets": true})),
        )
        .await;
    }
    Ok(Json(json!({ "credentials": items })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportItem {
    provider: String,
    name: String,
    secret: String,
    #[serde(default = "super::default_weight", deserialize_with = "super::weight")]
    weight: u32,
    #[serde(default)]
    labels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    credentials: Vec<ImportItem>,
}

/// `POST /api/credentials/import`: adds each credential; one that cannot be added is reported
/// and the rest still go in.
pub async fn import(
    State(state): State<AppState>,
    actor: Actor,
    Body(body): Body<ImportBody>,
) -> Result<Json<Value>, Failure> {
    let store = store(&state)?;
    let mut results = Vec::new();
    let mut added = 0;
    for item in body.credentials {
        let (provider, name) = (item.provider.clone(), item.name.clone());
        let new = NewCredential {
            name: item.name,
            secret: item.secret,
            weight: item.weight,
            labels: item.labels,
        };
        let outcome = match checked(&state.snapshot.load(), &provider, new) {
            Ok(c) => store.insert_credential(&c).await.map_err(Failure::store),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                added += 1;
                results.push(json!({"provider": provider, "name": name, "ok": true}));
            }
            Err(e) => results
                .push(json!({"provider": provider, "name": name, "ok": false, "error": e.message})),
        }
    }
    reload::refresh_from_store(&state, store)
        .await
        .map_err(Failure::store)?;
    audit(
        &state,
        &actor,
        "credential.import",
        "*",
        None,
        Some(json!({"added": added, "of": results.len()})),
    )
    .await;
    Ok(Json(json!({ "added": added, "results": results })))
}
