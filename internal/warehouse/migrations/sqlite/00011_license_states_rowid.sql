-- +goose Up
-- License states become a rowid table with a unique index on their key, for
-- the reason users did in migration 10: a sync writes them a page of random
-- users at a time, and in the keyed table each landed on a random page of a
-- table far larger than the page cache, and so did its entry in
-- license_states_sku. Rows now append, license_states_sku entries append
-- within their SKU, and only the key index takes random inserts.
CREATE TABLE license_states_heap (
    tenant_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    sku_id            TEXT NOT NULL,
    assigned_by_group TEXT NOT NULL DEFAULT '',
    disabled_plans    TEXT NOT NULL DEFAULT '[]',
    state             TEXT NOT NULL DEFAULT '',
    error             TEXT NOT NULL DEFAULT '',
    last_updated      INTEGER
);
INSERT INTO license_states_heap SELECT * FROM license_states ORDER BY tenant_id, user_id, sku_id, assigned_by_group;
DROP TABLE license_states;
ALTER TABLE license_states_heap RENAME TO license_states;
CREATE UNIQUE INDEX license_states_key ON license_states (tenant_id, user_id, sku_id, assigned_by_group);
CREATE INDEX license_states_sku ON license_states (tenant_id, sku_id);
CREATE INDEX license_states_errors ON license_states (tenant_id, user_id, sku_id, assigned_by_group, state, error)
    WHERE (error <> '' OR state IN ('Error', 'ActiveWithError'));

-- +goose Down
CREATE TABLE license_states_keyed (
    tenant_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    sku_id            TEXT NOT NULL,
    assigned_by_group TEXT NOT NULL DEFAULT '',
    disabled_plans    TEXT NOT NULL DEFAULT '[]',
    state             TEXT NOT NULL DEFAULT '',
    error             TEXT NOT NULL DEFAULT '',
    last_updated      INTEGER,
    PRIMARY KEY (tenant_id, user_id, sku_id, assigned_by_group)
) WITHOUT ROWID;
INSERT INTO license_states_keyed SELECT * FROM license_states;
DROP TABLE license_states;
ALTER TABLE license_states_keyed RENAME TO license_states;
CREATE INDEX license_states_sku ON license_states (tenant_id, sku_id);
CREATE INDEX license_states_errors ON license_states (tenant_id, user_id, sku_id, assigned_by_group, state, error)
    WHERE (error <> '' OR state IN ('Error', 'ActiveWithError'));
