-- +goose Up
-- Memberships as sorted lists, one row per group and one per member
-- (warehouse/memberlist.go). Migration 9 moves the rows of memberships into
-- them and drops memberships and membership_stage.
CREATE TABLE group_members (
    tenant_id    TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    member_count INTEGER NOT NULL,
    members      BLOB NOT NULL,
    PRIMARY KEY (tenant_id, group_id)
) WITHOUT ROWID;

CREATE TABLE member_groups (
    tenant_id   TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    group_count INTEGER NOT NULL,
    groups      BLOB NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE member_groups;
DROP TABLE group_members;
