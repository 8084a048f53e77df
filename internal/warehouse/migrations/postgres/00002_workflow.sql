-- +goose Up
-- The request pipeline (internal/workflow) and the change queue's extra
-- columns (internal/fulfillment). Times are TIMESTAMPTZ.

-- One requested change (DESIGN.md §4 Request). State carries the activities
-- still to run, copied from the matched workflow definitions at submission so
-- that editing a definition never changes a request already under way.
CREATE TABLE requests (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    batch_id    TEXT NOT NULL DEFAULT '',
    initiator   TEXT NOT NULL,
    origin      TEXT NOT NULL,
    operation   TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL DEFAULT '',
    pool        TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    spec        TEXT NOT NULL DEFAULT '{}',
    state       TEXT NOT NULL DEFAULT '{}',
    claimed_by  TEXT NOT NULL DEFAULT '',
    lease_until TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX requests_status ON requests (tenant_id, status, id);
CREATE INDEX requests_batch ON requests (batch_id);

-- Workflow definitions (DESIGN.md §4 Workflow definition); spec is JSON
-- owned by internal/workflow.
CREATE TABLE workflows (
    tenant_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    priority   INTEGER NOT NULL DEFAULT 500,
    spec       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Approvals: one per approval activity reached by a request (kind
-- "request"), or one per batch of up to 100 pending removals routed to a
-- pool's approvers (kind "removals").
CREATE TABLE approvals (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    request_id  TEXT NOT NULL DEFAULT '',
    workflow    TEXT NOT NULL DEFAULT '',
    pool        TEXT NOT NULL DEFAULT '',
    group_id    TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL,
    approvers   TEXT NOT NULL DEFAULT '[]',
    status      TEXT NOT NULL,
    decided_by  TEXT NOT NULL DEFAULT '',
    comment     TEXT NOT NULL DEFAULT '',
    decided_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX approvals_status ON approvals (tenant_id, status, created_at);
CREATE INDEX approvals_request ON approvals (request_id);

-- Outgoing notifications (email, webhook), delivered and retried apart from
-- the changes they announce so a refusing mail server never blocks one.
CREATE TABLE notifications (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    request_id    TEXT NOT NULL DEFAULT '',
    channel       TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    attempt_after TIMESTAMPTZ,
    claimed_by    TEXT NOT NULL DEFAULT '',
    lease_until   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_status ON notifications (status, attempt_after);

-- The shared Graph write budget of a tenant, as a token bucket every worker
-- process draws from, so several processes together fill it without
-- tripping Graph's throttling.
CREATE TABLE write_budget (
    tenant_id  TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_ms BIGINT NOT NULL
);

ALTER TABLE changes ADD COLUMN initiator TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN payload TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN approval_id TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN attempt_after TIMESTAMPTZ;
ALTER TABLE changes ADD COLUMN result TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN done_at TIMESTAMPTZ;
CREATE INDEX changes_claim ON changes (tenant_id, status, kind, op, group_id, id);
CREATE INDEX changes_key ON changes (tenant_id, user_id, group_id, sku_id, kind);
CREATE INDEX changes_request ON changes (request_id);
-- Partial, so the index is not rewritten as changes move through open,
-- claimed and done; and changes_claim's prefix serves what changes_status did.
CREATE INDEX changes_approval ON changes (tenant_id, pool, approval_id) WHERE status = 'pending_approval';
DROP INDEX changes_status;

-- +goose Down
CREATE INDEX changes_status ON changes (tenant_id, status);
DROP INDEX changes_approval;
DROP INDEX changes_request;
DROP INDEX changes_key;
DROP INDEX changes_claim;
ALTER TABLE changes DROP COLUMN done_at;
ALTER TABLE changes DROP COLUMN result;
ALTER TABLE changes DROP COLUMN attempt_after;
ALTER TABLE changes DROP COLUMN approval_id;
ALTER TABLE changes DROP COLUMN payload;
ALTER TABLE changes DROP COLUMN reason;
ALTER TABLE changes DROP COLUMN origin;
ALTER TABLE changes DROP COLUMN initiator;
DROP TABLE write_budget;
DROP TABLE notifications;
DROP TABLE approvals;
DROP TABLE workflows;
DROP TABLE requests;
