-- +goose Up
-- License states stay a heap table on PostgreSQL; this keeps the versions of both backends
-- aligned (see sqlite/00011).
SELECT 1;

-- +goose Down
SELECT 1;
