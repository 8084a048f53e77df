-- +goose Up
-- Memberships read by a full groups round, appended as pages arrive and
-- published into memberships in one sorted statement when the round ends
-- (Store.PublishStagedMemberships).
CREATE TABLE membership_stage (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_type TEXT NOT NULL,
    removed     BOOLEAN NOT NULL DEFAULT FALSE
);

-- +goose Down
DROP TABLE membership_stage;
