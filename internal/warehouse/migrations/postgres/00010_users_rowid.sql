-- +goose Up
-- Users stay a heap table on PostgreSQL; this keeps the versions of both backends aligned (see sqlite/00010).
SELECT 1;

-- +goose Down
SELECT 1;
