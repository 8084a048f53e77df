-- +goose Up
-- The inbox moves to a file of its own beside the database (see
-- warehouse.Inbox): fetchers stored pages through the warehouse's single
-- writer and stood still while pages were applied. Pages left here belong to
-- an interrupted sync, which the next one would have purged anyway.
DROP TABLE inbox;
-- No query reads license states by SKU (seat counts come from subscribedSkus),
-- and every synced state paid for an entry here.
DROP INDEX license_states_sku;

-- +goose Down
CREATE INDEX license_states_sku ON license_states (tenant_id, sku_id);
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    resource    TEXT NOT NULL,
    round       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    claimed_by  TEXT NOT NULL DEFAULT '',
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX inbox_claim ON inbox (tenant_id, id);
