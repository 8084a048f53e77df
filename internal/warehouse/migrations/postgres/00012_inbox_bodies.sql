-- +goose Up
-- Page bodies move to a table of their own, so that claiming a page (which
-- updates its lease) does not rewrite the page. On SQLite, migration 12 moves
-- the whole inbox to a file of its own instead (see warehouse.Inbox);
-- PostgreSQL keeps it here, where writers do not exclude each other.
CREATE TABLE inbox_body (
    id   BIGINT PRIMARY KEY,
    body TEXT NOT NULL
);
INSERT INTO inbox_body (id, body) SELECT id, body FROM inbox;
ALTER TABLE inbox DROP COLUMN body;
-- Both backends drop license_states_sku: no query reads license states by
-- SKU (seat counts come from subscribedSkus), and every synced state paid for
-- an entry in it.
DROP INDEX license_states_sku;

-- +goose Down
CREATE INDEX license_states_sku ON license_states (tenant_id, sku_id);
ALTER TABLE inbox ADD COLUMN body TEXT NOT NULL DEFAULT '';
UPDATE inbox SET body = b.body FROM inbox_body b WHERE b.id = inbox.id;
ALTER TABLE inbox ALTER COLUMN body DROP DEFAULT;
DROP TABLE inbox_body;
