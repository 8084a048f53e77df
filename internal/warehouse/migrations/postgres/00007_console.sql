-- +goose Up
-- Same indexes as on SQLite. lower() under the "C" collation folds ASCII
-- letters only and compares bytes, exactly as SQLite's NOCASE does, so both
-- backends list groups in the same order (warehouse.fold).
CREATE INDEX groups_name ON groups (tenant_id, lower(display_name COLLATE "C"), id);
CREATE INDEX license_states_errors ON license_states (tenant_id, user_id, sku_id, assigned_by_group, state, error)
    WHERE (error <> '' OR state IN ('Error', 'ActiveWithError'));

-- +goose Down
DROP INDEX license_states_errors;
DROP INDEX groups_name;
