//! The OpenAPI 3.1 document of the admin API, built here by hand from one table of operations
//! so the document and the routes are reviewed side by side. Schemas describe what handlers
//! return; the schemathesis run in `./scripts/test` checks they agree.

use axum::Json;
use serde_json::{json, Map, Value};

/// One operation: method, path, summary, request body schema, success status and schema, and
/// the query parameters it takes.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<Value>,
    ok: u16,
    answer: Option<Value>,
    query: Vec<(&'static str, Value)>,
}

fn string() -> Value {
    json!({"type": "string"})
}

fn non_empty() -> Value {
    json!({"type": "string", "minLength": 1})
}

fn int() -> Value {
    json!({"type": "integer"})
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn object(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "required": required, "properties": props})
}

fn credential_status() -> Value {
    object(
        &["name", "origin", "state", "weight", "labels", "in_flight"],
        json!({
            "name": string(), "origin": {"enum": ["config", "store"]},
            "state": {"enum": ["usable", "cooling_down", "invalid"]},
            "weight": int(), "labels": array(string()), "max_concurrency": nullable("integer"),
            "in_flight": int(), "cooldown_ms": nullable("integer"),
            "invalid_reason": nullable("string"), "quota": nullable("number"),
            "last_error": {"type": ["object", "null"]},
        }),
    )
}

fn key() -> Value {
    object(
        &["id", "name", "models", "status", "created_at_ms"],
        json!({
            "id": string(), "name": string(), "models": array(string()),
            "status": {"enum": ["active", "expired", "revoked"]},
            "created_at_ms": int(), "expires_at_ms": nullable("integer"),
            "revoked_at_ms": nullable("integer"), "key": string(), "replaces": string(),
        }),
    )
}

fn verdict() -> Value {
    object(
        &["provider", "name", "ok", "message"],
        json!({"provider": string(), "name": string(), "ok": {"type": "boolean"},
               "status": nullable("integer"), "message": string()}),
    )
}

fn new_credential() -> Value {
    json!({
        "type": "object", "required": ["name", "secret"], "additionalProperties": false,
        "properties": {"name": {"type": "string", "pattern": "\\S"}, "secret": {"type": "string", "minLength": 1},
                       "weight": {"type": "integer", "minimum": 1, "maximum": 1000000},
                       "labels": array(string())},
    })
}

fn route_body() -> Value {
    json!({
        "type": "object", "required": ["model", "targets"], "additionalProperties": false,
        "properties": {
            "model": non_empty(),
            "strategy": {"enum": ["cache-first", "balance", "round-robin", "weighted", "fixed"]},
            "targets": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["provider"], "additionalProperties": false,
                "properties": {"provider": non_empty(), "model": non_empty()}}},
        },
    })
}

fn model_body() -> Value {
    json!({
        "type": "object", "required": ["name"], "additionalProperties": false,
        "properties": {
            "name": non_empty(), "provider": {"type": ["string", "null"], "minLength": 1},
            "max_output_tokens": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
            "price": {"type": "object", "required": ["input", "output"], "additionalProperties": false,
                "properties": {
                    "input": {"type": "number", "minimum": 0, "maximum": 1_000_000},
                    "output": {"type": "number", "minimum": 0, "maximum": 1_000_000},
                    "cache_read": {"type": "number", "minimum": 0, "maximum": 1_000_000},
                    "cache_write": {"type": "number", "minimum": 0, "maximum": 1_000_000},
                }},
        },
    })
}

fn operations() -> Vec<Op> {
    let cred_path = "/api/providers/{provider}/credentials/{name}";
    vec![
        Op {
            method: "get",
            path: "/api/health",
            summary: "Status, version and components",
            body: None,
            ok: 200,
            answer: Some(object(
                &["status", "version", "components"],
                json!({"status": string(), "version": string(), "components": array(json!({"type": "object"}))}),
            )),
            query: vec![],
        },
        Op {
            method: "get",
            path: "/api/providers",
            summary: "Providers and their credentials with live status",
            body: None,
            ok: 200,
            answer: Some(object(
                &["providers"],
                json!({"providers": array(object(
                    &["name", "kind", "base_url", "credentials"],
                    json!({"name": string(), "kind": string(), "base_url": string(),
                           "credentials": array(credential_status())}),
                ))}),
            )),
            query: vec![],
        },
        Op {
            method: "post",
            path: "/api/providers/{provider}/credentials",
            summary: "Add a credential to a provider (kept in the store, live at once)",
            body: Some(new_credential()),
            ok: 201,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "delete",
            path: cred_path,
            summary: "Remove a stored credential",
            body: None,
            ok: 204,
            answer: None,
            query: vec![],
        },
        Op {
            method: "post",
            path: "/api/providers/{provider}/credentials/{name}/verify",
            summary: "Check a credential with the provider's cheapest call",
            body: None,
            ok: 200,
            answer: Some(verdict()),
            query: vec![],
        },
        Op {
            method: "post",
            path: "/api/providers/{provider}/credentials/{name}/activate",
            summary: "Return a credential to service",
            body: None,
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "post",
            path: "/api/providers/{provider}/credentials/{name}/quarantine",
            summary: "Take a credential out of service until activated",
            body: Some(json!({"type": "object", "additionalProperties": false,
                              "properties": {"reason": nullable("string")}})),
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "post",
            path: "/api/credentials/verify",
            summary: "Check every credential (or one provider's)",
            body: None,
            ok: 200,
            answer: Some(object(&["results"], json!({"results": array(verdict())}))),
            query: vec![("provider", string())],
        },
        Op {
            method: "get",
            path: "/api/credentials/export",
            summary: "The stored credentials, secrets masked unless asked for",
            body: None,
            ok: 200,
            answer: Some(object(
                &["credentials"],
                json!({"credentials": array(json!({"type": "object"}))}),
            )),
            query: vec![("secrets", json!({"type": "boolean"}))],
        },
        Op {
            method: "post",
            path: "/api/credentials/import",
            summary: "Add many credentials; each is reported",
            body: Some(json!({
                "type": "object", "required": ["credentials"], "additionalProperties": false,
                "properties": {"credentials": array(json!({
                    "type": "object", "required": ["provider", "name", "secret"], "additionalProperties": false,
                    "properties": {"provider": string(), "name": string(), "secret": string(),
                                   "weight": {"type": "integer", "minimum": 1, "maximum": 1000000},
                                   "labels": array(string())},
                }))},
            })),
            ok: 200,
            answer: Some(object(
                &["added", "results"],
                json!({"added": int(), "results": array(json!({"type": "object"}))}),
            )),
            query: vec![],
        },
        Op {
            method: "get",
            path: "/api/keys",
            summary: "Client keys (never their secrets)",
            body: None,
            ok: 200,
            answer: Some(object(&["keys"], json!({"keys": array(key())}))),
            query: vec![],
        },
        Op {
            method: "post",
            path: "/api/keys",
            summary: "Create a client key; the key is in this answer only",
            body: Some(json!({
                "type": "object", "required": ["name"], "additionalProperties": false,
                "properties": {"name": {"type": "string", "pattern": "\\S"}, "models": array(string()),
                               "expires": {"type": ["string", "null"], "pattern": "^[0-9]{1,6}[dhms]$"}},
            })),
            ok: 201,
            answer: Some(key()),
            query: vec![],
        },
        Op {
            method: "delete",
            path: "/api/keys/{id}",
            summary: "Revoke a client key",
            body: None,
            ok: 204,
            answer: None,
            query: vec![],
        },
        Op {
            method: "post",
            path: "/api/keys/{id}/rotate",
            summary: "Replace a key with a new one of the same name, models and expiry",
            body: None,
            ok: 201,
            answer: Some(key()),
            query: vec![],
        },
        Op {
            method: "get",
            path: "/api/logs",
            summary: "Recent requests, newest first",
            body: None,
            ok: 200,
            answer: Some(object(
                &["records"],
                json!({"records": array(json!({"type": "object"}))}),
            )),
            query: vec![
                (
                    "limit",
                    json!({"type": "integer", "minimum": 1, "maximum": 1000}),
                ),
                ("key", string()),
                ("model", string()),
                (
                    "status",
                    json!({"type": "integer", "minimum": 100, "maximum": 599}),
                ),
                ("credential", string()),
                ("provider", string()),
                (
                    "since",
                    json!({"type": "integer", "minimum": 0, "maximum": 4_102_444_800_000i64}),
                ),
                (
                    "until",
                    json!({"type": "integer", "minimum": 0, "maximum": 4_102_444_800_000i64}),
                ),
                (
                    "before",
                    json!({"type": "string", "pattern": "^[0-9]{1,15}\\.[0-9]{1,15}$"}),
                ),
            ],
        },
        Op {
            method: "get",
            path: "/api/stats",
            summary: "Usage statistics over a window, grouped and bucketed",
            body: None,
            ok: 200,
            answer: Some(object(
                &["query", "rows"],
                json!({"query": {"type": "object"}, "rows": array(json!({"type": "object"}))}),
            )),
            query: vec![
                (
                    "window",
                    json!({"type": "string", "pattern": "^[1-9][0-9]{0,3}[dhms]$"}),
                ),
                (
                    "since",
                    json!({"type": "integer", "minimum": 0, "maximum": 4_102_444_800_000i64}),
                ),
                (
                    "until",
                    json!({"type": "integer", "minimum": 0, "maximum": 4_102_444_800_000i64}),
                ),
                (
                    "group",
                    json!({"enum": ["none", "key", "model", "credential", "provider", "route", "dialect"]}),
                ),
                ("bucket", json!({"enum": ["hour", "day"]})),
            ],
        },
        Op {
            method: "get",
            path: "/api/audit",
            summary: "Admin actions, newest first",
            body: None,
            ok: 200,
            answer: Some(object(
                &["entries"],
                json!({"entries": array(json!({"type": "object"})), "next": nullable("integer")}),
            )),
            query: vec![
                ("action", string()),
                ("target", string()),
                (
                    "since",
                    json!({"type": "integer", "minimum": 0, "maximum": 4_102_444_800_000i64}),
                ),
                (
                    "until",
                    json!({"type": "integer", "minimum": 0, "maximum": 4_102_444_800_000i64}),
                ),
                (
                    "limit",
                    json!({"type": "integer", "minimum": 1, "maximum": 1000}),
                ),
                (
                    "before",
                    json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
                ),
            ],
        },
        Op {
            method: "get",
            path: "/api/routes",
            summary: "Routes in the order they are matched",
            body: None,
            ok: 200,
            answer: Some(object(
                &["routes"],
                json!({"routes": array(json!({"type": "object"}))}),
            )),
            query: vec![],
        },
        Op {
            method: "put",
            path: "/api/routes",
            summary: "Add or replace a route (kept in the store's overlay, live at once)",
            body: Some(route_body()),
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "delete",
            path: "/api/routes",
            summary: "Remove a route set through the API",
            body: None,
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![("model!", string())],
        },
        Op {
            method: "get",
            path: "/api/models",
            summary: "Output limits and prices of upstream models",
            body: None,
            ok: 200,
            answer: Some(object(
                &["models"],
                json!({"models": array(json!({"type": "object"}))}),
            )),
            query: vec![],
        },
        Op {
            method: "put",
            path: "/api/models",
            summary: "Add or replace a model entry (limit, price per million tokens)",
            body: Some(model_body()),
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "delete",
            path: "/api/models",
            summary: "Remove a model entry set through the API",
            body: None,
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![("name!", string()), ("provider", string())],
        },
        Op {
            method: "get",
            path: "/api/settings",
            summary: "The effective config (secrets masked), the API's overlay, reload status",
            body: None,
            ok: 200,
            answer: Some(object(&["effective", "overlay", "reload"], json!({}))),
            query: vec![],
        },
        Op {
            method: "patch",
            path: "/api/settings",
            summary: "A JSON merge patch of the overlay ({routes, models}), applied live",
            body: Some(json!({"type": "object", "additionalProperties": false,
                "properties": {"routes": {"type": ["array", "null"], "items": route_body()},
                               "models": {"type": ["array", "null"], "items": model_body()}}})),
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "get",
            path: "/api/resilience/health",
            summary: "Each credential's standing, last check and last error",
            body: None,
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "get",
            path: "/api/resilience/circuits",
            summary: "Breaker state per credential",
            body: None,
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "get",
            path: "/api/resilience/aimd",
            summary: "Concurrency limit per credential",
            body: None,
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "get",
            path: "/api/resilience/queue",
            summary: "Wait queue depth and oldest wait per pool",
            body: None,
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "get",
            path: "/api/resilience/quota",
            summary: "Remaining quota and reset per credential",
            body: None,
            ok: 200,
            answer: Some(json!({"type": "object"})),
            query: vec![],
        },
        Op {
            method: "post",
            path: "/api/admin-token/rotate",
            summary: "Replace the admin token; the old one stops working at once",
            body: None,
            ok: 200,
            answer: Some(object(&["token"], json!({"token": string()}))),
            query: vec![],
        },
    ]
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    })
}

/// The document, built from [`operations`].
pub fn build() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for op in operations() {
        let mut parameters: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": string()}))
            .collect();
        // A query parameter named `name!` is required.
        parameters.extend(op.query.iter().map(|(name, schema)| {
            let (name, required) = match name.strip_suffix('!') {
                Some(n) => (n, true),
                None => (*name, false),
            };
            json!({"name": name, "in": "query", "required": required, "schema": schema})
        }));
        let mut responses = Map::new();
        let ok = match &op.answer {
            Some(schema) => {
                json!({"description": "ok", "content": {"application/json": {"schema": schema}}})
            }
            None => json!({"description": "done"}),
        };
        responses.insert(op.ok.to_string(), ok);
        for (status, what) in [
            ("400", "the request is not valid"),
            ("401", "no or wrong admin token"),
            ("404", "no such resource"),
            ("409", "it exists already, or is defined in the config file"),
            ("503", "the gateway runs without a store"),
        ] {
            responses.insert(status.into(), error_response(what));
        }
        let mut operation = json!({
            "summary": op.summary,
            "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}'], "_")),
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(body) = op.body {
            operation["requestBody"] = json!({
                "required": op.method != "post" || !op.path.ends_with("/quarantine"),
                "content": {"application/json": {"schema": body}},
            });
        }
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "switchyard admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Operate a switchyard gateway. Every path but this document needs `Authorization: Bearer <admin token>`.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"admin": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": object(&["error"], json!({"error": object(&["status", "message"], json!({"status": int(), "message": string()}))})),
            },
        },
        "security": [{"admin": []}],
    })
}

/// `GET /api/openapi.json`
pub async fn document() -> Json<Value> {
    Json(build())
}
