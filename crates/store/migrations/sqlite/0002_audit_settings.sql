-- switchyard store, SQLite engine: the audit log and settings.
-- Keep in step with ../postgres/0002_audit_settings.sql: the same tables, columns and meaning.

-- One row per operator action (core::audit::AuditEntry). `id` is the listing order (newest
-- first) and the paging cursor; `at_ms` is the caller's clock. `before_json` / `after_json`
-- are JSON text with secrets already masked by the caller (BEFORE is an SQL keyword).
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    address     TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_at ON audit (at_ms);
CREATE INDEX audit_target ON audit (target);

-- Operator settings as key/value text (`admin.token_hash`, `config.overlay`). Writes bump
-- meta.change_version in the same transaction, like key and credential writes.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
