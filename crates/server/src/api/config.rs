//! Routes, models (output limits and prices) and settings through the API. Changes go into the
//! overlay kept in the store (see `switchyard_core::config::overlay`): each one is validated
//! together with the file, persisted, and applied live before the call returns; other
//! instances on the same store follow within a second. The file's own entries are shown but
//! only the overlay's can be deleted here.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_core::config::overlay::RawOverlay;
use switchyard_core::config::raw::{RawModel, RawRoute};
use switchyard_core::config::Strategy;
use switchyard_store::Engine;

use super::{audit, store, Actor, Body, Failure, Params};
use crate::reload::{self, OVERLAY_SETTING};
use crate::state::AppState;

fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::CacheFirst => "cache-first",
        Strategy::Balance => "balance",
        Strategy::RoundRobin => "round-robin",
        Strategy::Weighted => "weighted",
        Strategy::Fixed => "fixed",
    }
}

/// `GET /api/routes`: the routes in the order they are matched.
pub async fn routes(State(state): State<AppState>) -> Json<Value> {
    let snap = state.snapshot.load();
    let overlay = state.overlay.load();
    let routes: Vec<Value> = snap
        .config
        .routes
        .iter()
        .map(|r| {
            let targets: Vec<Value> = r
                .targets
                .iter()
                .map(|t| json!({"provider": snap.config.providers[t.provider].name, "model": t.model}))
                .collect();
            let from_overlay = overlay.routes.iter().any(|o| o.model == r.pattern.as_str());
            json!({
                "model": r.pattern.as_str(),
                "strategy": strategy_name(r.strategy),
                "targets": targets,
                "origin": if from_overlay { "api" } else { "config" },
            })
        })
        .collect();
    Json(json!({ "routes": routes }))
}

/// `GET /api/models`: what is known about upstream models, most specific first.
pub async fn models(State(state): State<AppState>) -> Json<Value> {
    let snap = state.snapshot.load();
    let overlay = state.overlay.load();
    let models: Vec<Value> = snap
        .config
        .models
        .iter()
        .map(|m| {
            let provider = m.provider.map(|p| snap.config.providers[p].name.clone());
            let from_overlay = overlay
                .models
                .iter()
                .any(|o| o.name == m.pattern.as_str() && o.provider == provider);
            json!({
                "name": m.pattern.as_str(),
                "provider": provider,
                "max_output_tokens": m.max_output_tokens,
                "price": m.price.map(|p| json!({
                    "input": p.input, "output": p.output,
                    "cache_read": p.cache_read, "cache_write": p.cache_write,
                })),
                "origin": if from_overlay { "api" } else { "config" },
            })
        })
        .collect();
    Json(json!({ "models": models }))
}

/// Applies `edit` to a copy of the overlay, validates the result with the file, persists it
/// and swaps it in. Edits are serialised so none is lost.
async fn edit_overlay<T>(
    state: &AppState,
    edit: impl FnOnce(&mut RawOverlay) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let store = store(state)?;
    let source = state.config_source.get().ok_or_else(|| {
        Failure::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "this gateway was started without a config source to edit",
        )
    })?;
    let _edits = state.config_edits.lock().await;
    let mut overlay = (**state.overlay.load()).clone();
    let answer = edit(&mut overlay)?;
    // Well-formed but not valid with the rest of the config (a route defined twice, a
    // provider that does not exist): the change conflicts with what is there.
    let config = source
        .load(&overlay)
        .map_err(|e| Failure::conflict(format!("{e:#}")))?;
    let text = serde_json::to_string(&overlay)
        .map_err(|e| Failure::bad_request(format!("the overlay cannot be written: {e}")))?;
    store
        .put_setting(OVERLAY_SETTING, &text)
        .await
        .map_err(Failure::store)?;
    state.overlay.store(std::sync::Arc::new(overlay));
    reload::apply(state, config);
    Ok(answer)
}

/// `PUT /api/routes`: adds or replaces the route with this `model` pattern.
pub async fn put_route(
    State(state): State<AppState>,
    actor: Actor,
    Body(route): Body<RawRoute>,
) -> Result<Json<Value>, Failure> {
    for t in &route.targets {
        known_provider(&state, &t.provider)?;
    }
    let after = serde_json::to_value(&route).unwrap_or_default();
    let pattern = route.model.clone();
    let before = edit_overlay(&state, |o| Ok(o.upsert_route(route))).await?;
    let before = before.map(|b| serde_json::to_value(b).unwrap_or_default());
    audit(
        &state,
        &actor,
        "route.put",
        &pattern,
        before,
        Some(after.clone()),
    )
    .await;
    Ok(Json(after))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteParams {
    model: String,
}

/// `DELETE /api/routes?model=PATTERN`: removes a route set through the API.
pub async fn delete_route(
    State(state): State<AppState>,
    actor: Actor,
    Params(p): Params<RouteParams>,
) -> Result<Json<Value>, Failure> {
    let in_file = {
        let snap = state.snapshot.load();
        snap.base()
            .routes
            .iter()
            .any(|r| r.pattern.as_str() == p.model)
    };
    let removed = edit_overlay(&state, |o| {
        o.remove_route(&p.model).ok_or_else(|| {
            if in_file {
                Failure::conflict(format!(
                    "route {:?} is defined in the config file; change it there",
                    p.model
                ))
            } else {
                Failure::not_found(format!("no route {:?} set through the API", p.model))
            }
        })
    })
    .await?;
    let before = serde_json::to_value(removed).unwrap_or_default();
    audit(
        &state,
        &actor,
        "route.delete",
        &p.model,
        Some(before.clone()),
        None,
    )
    .await;
    Ok(Json(json!({ "removed": before })))
}

/// `PUT /api/models`: adds or replaces the entry with this name and provider.
pub async fn put_model(
    State(state): State<AppState>,
    actor: Actor,
    Body(model): Body<RawModel>,
) -> Result<Json<Value>, Failure> {
    if let Some(p) = &model.provider {
        known_provider(&state, p)?;
    }
    let after = serde_json::to_value(&model).unwrap_or_default();
    let target = model_target(&model.name, model.provider.as_deref());
    let before = edit_overlay(&state, |o| Ok(o.upsert_model(model))).await?;
    let before = before.map(|b| serde_json::to_value(b).unwrap_or_default());
    audit(
        &state,
        &actor,
        "model.put",
        &target,
        before,
        Some(after.clone()),
    )
    .await;
    Ok(Json(after))
}

/// A 404 when the provider a route or model names does not exist.
fn known_provider(state: &AppState, name: &str) -> Result<(), Failure> {
    let snap = state.snapshot.load();
    if snap.config.providers.iter().any(|p| p.name == name) {
        Ok(())
    } else {
        Err(Failure::not_found(format!("no provider {name:?}")))
    }
}

fn model_target(name: &str, provider: Option<&str>) -> String {
    match provider {
        Some(p) => format!("{p}/{name}"),
        None => name.to_string(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelParams {
    name: String,
    provider: Option<String>,
}

/// `DELETE /api/models?name=GLOB[&provider=NAME]`: removes an entry set through the API.
pub async fn delete_model(
    State(state): State<AppState>,
    actor: Actor,
    Params(p): Params<ModelParams>,
) -> Result<Json<Value>, Failure> {
    let removed = edit_overlay(&state, |o| {
        o.remove_model(&p.name, p.provider.as_deref())
            .ok_or_else(|| {
                Failure::not_found(format!("no model entry {:?} set through the API", p.name))
            })
    })
    .await?;
    let before = serde_json::to_value(removed).unwrap_or_default();
    let target = model_target(&p.name, p.provider.as_deref());
    audit(
        &state,
        &actor,
        "model.delete",
        &target,
        Some(before.clone()),
        None,
    )
    .await;
    Ok(Json(json!({ "removed": before })))
}

/// `GET /api/settings`: the effective config (secrets masked), the overlay the API keeps, and
/// what the last reloads did.
pub async fn settings(State(state): State<AppState>) -> Json<Value> {
    let snap = state.snapshot.load();
    Json(json!({
        "effective": crate::cli::effective_config(&snap.config),
        "overlay": serde_json::to_value(&**state.overlay.load()).unwrap_or_default(),
        "reload": state.reload.status(),
    }))
}

/// `PATCH /api/settings`: a JSON merge patch (RFC 7386) of the overlay document
/// (`{"routes": [...], "models": [...]}`), validated with the file and applied live.
pub async fn patch_settings(
    State(state): State<AppState>,
    actor: Actor,
    Body(patch): Body<Value>,
) -> Result<Json<Value>, Failure> {
    let Some(fields) = patch.as_object() else {
        return Err(Failure::bad_request("the patch must be a JSON object"));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !["routes", "models"].contains(&k.as_str()))
    {
        return Err(Failure::bad_request(format!(
            "{unknown:?}: the overlay has only routes and models"
        )));
    }
    let (before, after) = edit_overlay(&state, |o| {
        let before = serde_json::to_value(&*o).unwrap_or_default();
        let mut doc = before.clone();
        merge_patch(&mut doc, &patch);
        *o = serde_json::from_value(doc)
            .map_err(|e| Failure::bad_request(format!("the patched overlay is not valid: {e}")))?;
        Ok((before, serde_json::to_value(&*o).unwrap_or_default()))
    })
    .await?;
    audit(
        &state,
        &actor,
        "settings.patch",
        "overlay",
        Some(before),
        Some(after.clone()),
    )
    .await;
    Ok(Json(
        json!({ "overlay": after, "reload": state.reload.status() }),
    ))
}

/// RFC 7386: objects merge key by key, `null` deletes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(fields) = target {
        for (k, v) in patch {
            if v.is_null() {
                fields.remove(k);
            } else {
                merge_patch(fields.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "routes": [1]});
        merge_patch(
            &mut doc,
            &json!({"a": "z", "c": {"f": null}, "routes": [2, 3]}),
        );
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "routes": [2, 3]}));
    }
}
