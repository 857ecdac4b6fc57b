-- switchyard store, SQLite engine: the initial schema.
-- Times are unix milliseconds, money is micro-dollars, arrays are JSON text.
-- Keep in step with ../postgres/0001_initial.sql: the same tables, columns and meaning.

-- One-row counters. `change_version` is bumped in the same transaction as every key or
-- credential write, so a running gateway polls one row to know whether to reload.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('change_version', 0);

-- One row per request (core::usage::UsageRecord). `id` only orders rows inserted in the
-- same millisecond.
CREATE TABLE usage (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id         TEXT NOT NULL,
    started_at_ms      INTEGER NOT NULL,
    key_id             TEXT NOT NULL,
    route              TEXT NOT NULL,
    requested_model    TEXT NOT NULL,
    served_model       TEXT NOT NULL,
    provider           TEXT NOT NULL,
    credential         TEXT NOT NULL,
    client_dialect     TEXT NOT NULL,
    upstream_dialect   TEXT NOT NULL,
    stream             BOOLEAN NOT NULL,
    status             INTEGER NOT NULL,
    latency_ms         INTEGER NOT NULL,
    ttfb_ms            INTEGER,
    overhead_us        INTEGER NOT NULL,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    cache_read_tokens  INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    reasoning_tokens   INTEGER NOT NULL,
    cost_micros        INTEGER NOT NULL,
    retries            INTEGER NOT NULL,
    error_class        TEXT,
    session_id         TEXT,
    run_id             TEXT
);
CREATE INDEX usage_started_at ON usage (started_at_ms);

-- Client API keys (core::keys::ApiKey): the hash of the secret, never the secret.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    models        TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER,
    revoked_at_ms INTEGER
);

-- Upstream credentials added at run time (core::credential::StoredCredential).
-- The secret is stored as given until encryption at rest lands.
CREATE TABLE credentials (
    provider      TEXT NOT NULL,
    name          TEXT NOT NULL,
    secret        TEXT NOT NULL,
    weight        INTEGER NOT NULL,
    labels        TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (provider, name)
);

-- OpenAI Responses API state for `previous_response_id`: the body is JSON kept as text,
-- byte for byte as given.
CREATE TABLE responses (
    id            TEXT PRIMARY KEY NOT NULL,
    body          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX responses_expires_at ON responses (expires_at_ms);
