-- +goose Up
-- Memberships read by a full groups round, appended as pages arrive and
-- published into memberships in one sorted statement when the round ends
-- (Store.PublishStagedMemberships). Appending to a table without a key costs
-- little; inserting ~10 memberships per user into two indexes keyed by
-- random GUIDs, a batch at a time, rewrote most of both indexes per batch.
CREATE TABLE membership_stage (
    seq         INTEGER PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_type TEXT NOT NULL,
    removed     INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE membership_stage;
