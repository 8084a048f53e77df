-- +goose Up
-- On SQLite this migration moves the inbox to a file of its own; PostgreSQL
-- keeps it in the warehouse, where writers do not exclude each other. Both
-- drop license_states_sku: no query reads license states by SKU (seat counts
-- come from subscribedSkus), and every synced state paid for an entry here.
DROP INDEX license_states_sku;

-- +goose Down
CREATE INDEX license_states_sku ON license_states (tenant_id, sku_id);
