-- +goose Up
-- Access control: who may sign in (principals), what they may do where
-- (delegations), API tokens (stored only as SHA-256 hashes) and browser
-- sessions (stored by the hash of their id, so a database dump cannot be
-- replayed as a cookie).
CREATE TABLE principals (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL DEFAULT '',
    kind                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL DEFAULT '',
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE delegations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    principal_id TEXT NOT NULL REFERENCES principals (id),
    role         TEXT NOT NULL,
    tenant_id    TEXT NOT NULL DEFAULT '',
    pool         TEXT NOT NULL DEFAULT '',
    group_id     TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    UNIQUE (principal_id, role, tenant_id, pool, group_id)
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    principal_id TEXT NOT NULL REFERENCES principals (id),
    name         TEXT NOT NULL DEFAULT '',
    hash         TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_principal ON api_tokens (principal_id);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    principal_id TEXT NOT NULL REFERENCES principals (id),
    csrf         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_principal ON sessions (principal_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP TABLE delegations;
DROP TABLE principals;
