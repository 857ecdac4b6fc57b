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
            query: vec![(
                "limit",
                json!({"type": "integer", "minimum": 1, "maximum": 1000}),
            )],
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
        parameters.extend(op.query.iter().map(|(name, schema)| {
            json!({"name": name, "in": "query", "required": false, "schema": schema})
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
