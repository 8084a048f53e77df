-- +goose Up
-- Memberships as sorted lists, one row per group and one per member
-- (warehouse/memberlist.go). Migration 9 moves the rows of memberships into
-- them and drops memberships and membership_stage.
CREATE TABLE group_members (
    tenant_id    TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    member_count INTEGER NOT NULL,
    members      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, group_id)
);

CREATE TABLE member_groups (
    tenant_id   TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    group_count INTEGER NOT NULL,
    groups      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);

-- +goose Down
DROP TABLE member_groups;
DROP TABLE group_members;
