-- +goose Up
-- Tenant-wide policy settings (mutual exclusions, prices, constraints) as one
-- JSON document owned by the engine; pools are stored per pool in "pools".
CREATE TABLE policy_settings (
    tenant_id  TEXT PRIMARY KEY,
    spec       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Ownership: what each pool granted, so a pool only ever removes its own.
CREATE TABLE grants (
    tenant_id TEXT NOT NULL,
    pool      TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    group_id  TEXT NOT NULL DEFAULT '',
    sku_id    TEXT NOT NULL DEFAULT '',
    since     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, pool, user_id, group_id, sku_id)
);
CREATE INDEX grants_user ON grants (tenant_id, user_id);

-- +goose Down
DROP TABLE grants;
DROP TABLE policy_settings;
