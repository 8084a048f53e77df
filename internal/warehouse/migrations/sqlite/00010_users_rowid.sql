-- +goose Up
-- Users move from a WITHOUT ROWID table keyed by (tenant_id, id) to a rowid
-- table with a unique index on that key. A sync writes users a Graph page at
-- a time, and Entra ids are random: in the keyed table every user landed on
-- a random page of a table far larger than the page cache, so each
-- transaction rewrote most of the table. Now rows append to the end and only
-- the index, a tenth of the size, takes random inserts.
CREATE TABLE users_heap (
    tenant_id           TEXT NOT NULL,
    id                  TEXT NOT NULL,
    user_principal_name TEXT NOT NULL DEFAULT '',
    display_name        TEXT NOT NULL DEFAULT '',
    account_enabled     INTEGER NOT NULL DEFAULT 0,
    categories          INTEGER NOT NULL DEFAULT 0,
    deleted             INTEGER NOT NULL DEFAULT 0,
    deleted_at          INTEGER,
    attrs               TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO users_heap SELECT * FROM users ORDER BY tenant_id, id;
DROP TABLE users;
ALTER TABLE users_heap RENAME TO users;
CREATE UNIQUE INDEX users_key ON users (tenant_id, id);

-- +goose Down
CREATE TABLE users_keyed (
    tenant_id           TEXT NOT NULL,
    id                  TEXT NOT NULL,
    user_principal_name TEXT NOT NULL DEFAULT '',
    display_name        TEXT NOT NULL DEFAULT '',
    account_enabled     INTEGER NOT NULL DEFAULT 0,
    categories          INTEGER NOT NULL DEFAULT 0,
    deleted             INTEGER NOT NULL DEFAULT 0,
    deleted_at          INTEGER,
    attrs               TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO users_keyed SELECT * FROM users;
DROP TABLE users;
ALTER TABLE users_keyed RENAME TO users;
