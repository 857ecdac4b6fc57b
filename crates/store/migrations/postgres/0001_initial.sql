-- switchyard store, PostgreSQL engine: the initial schema.
-- Times are unix milliseconds, money is micro-dollars, arrays are JSON text.
-- Keep in step with ../sqlite/0001_initial.sql: the same tables, columns and meaning.

-- One-row counters. `change_version` is bumped in the same transaction as every key or
-- credential write, so a running gateway polls one row to know whether to reload.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('change_version', 0);

-- One row per request (core::usage::UsageRecord). `id` only orders rows inserted in the
-- same millisecond.
CREATE TABLE usage (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id         TEXT NOT NULL,
    started_at_ms      BIGINT NOT NULL,
    key_id             TEXT NOT NULL,
    route              TEXT NOT NULL,
    requested_model    TEXT NOT NULL,
    served_model       TEXT NOT NULL,
    provider           TEXT NOT NULL,
    credential         TEXT NOT NULL,
    client_dialect     TEXT NOT NULL,
    upstream_dialect   TEXT NOT NULL,
    stream             BOOLEAN NOT NULL,
    status             BIGINT NOT NULL,
    latency_ms         BIGINT NOT NULL,
    ttfb_ms            BIGINT,
    overhead_us        BIGINT NOT NULL,
    input_tokens       BIGINT NOT NULL,
    output_tokens      BIGINT NOT NULL,
    cache_read_tokens  BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    reasoning_tokens   BIGINT NOT NULL,
    cost_micros        BIGINT NOT NULL,
    retries            BIGINT NOT NULL,
    error_class        TEXT,
    session_id         TEXT,
    run_id             TEXT
);
CREATE INDEX usage_started_at ON usage (started_at_ms);

-- Client API keys (core::keys::ApiKey): the hash of the secret, never the secret.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    models        TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT,
    revoked_at_ms BIGINT
);

-- Upstream credentials added at run time (core::credential::StoredCredential).
-- The secret is stored as given until encryption at rest lands.
CREATE TABLE credentials (
    provider      TEXT NOT NULL,
    name          TEXT NOT NULL,
    secret        TEXT NOT NULL,
    weight        BIGINT NOT NULL,
    labels        TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (provider, name)
);

-- OpenAI Responses API state for `previous_response_id`. TEXT rather than JSONB: the body
-- comes back byte for byte as given, and nothing queries inside it.
CREATE TABLE responses (
    id            TEXT PRIMARY KEY,
    body          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX responses_expires_at ON responses (expires_at_ms);
