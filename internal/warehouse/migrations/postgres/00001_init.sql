-- +goose Up
CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    graph_url     TEXT NOT NULL,
    authority_url TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    secret_ref    TEXT NOT NULL,
    ca_file       TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    tenant_id              TEXT NOT NULL,
    id                     TEXT NOT NULL,
    user_principal_name    TEXT NOT NULL DEFAULT '',
    display_name           TEXT NOT NULL DEFAULT '',
    mail                   TEXT NOT NULL DEFAULT '',
    job_title              TEXT NOT NULL DEFAULT '',
    department             TEXT NOT NULL DEFAULT '',
    company_name           TEXT NOT NULL DEFAULT '',
    employee_id            TEXT NOT NULL DEFAULT '',
    manager_id             TEXT NOT NULL DEFAULT '',
    country                TEXT NOT NULL DEFAULT '',
    usage_location         TEXT NOT NULL DEFAULT '',
    user_type              TEXT NOT NULL DEFAULT '',
    account_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at             TIMESTAMPTZ,
    last_sign_in           TIMESTAMPTZ,
    last_successful_sign_in TIMESTAMPTZ,
    categories             BIGINT NOT NULL DEFAULT 0,
    deleted                BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at             TIMESTAMPTZ,
    attrs                  TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX users_upn ON users (tenant_id, lower(user_principal_name));

CREATE TABLE groups (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    display_name      TEXT NOT NULL DEFAULT '',
    mail_enabled      BOOLEAN NOT NULL DEFAULT FALSE,
    security_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    membership_rule   TEXT NOT NULL DEFAULT '',
    is_license_group  BOOLEAN NOT NULL DEFAULT FALSE,
    categories        BIGINT NOT NULL DEFAULT 0,
    it_shop_only      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        TIMESTAMPTZ,
    deleted           BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at        TIMESTAMPTZ,
    attrs             TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE memberships (
    tenant_id   TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_type TEXT NOT NULL,
    PRIMARY KEY (tenant_id, group_id, member_id)
);
CREATE INDEX memberships_member ON memberships (tenant_id, member_id);

CREATE TABLE skus (
    tenant_id          TEXT NOT NULL,
    sku_id             TEXT NOT NULL,
    sku_part_number    TEXT NOT NULL DEFAULT '',
    display_name       TEXT NOT NULL DEFAULT '',
    capability_status  TEXT NOT NULL DEFAULT '',
    applies_to         TEXT NOT NULL DEFAULT '',
    consumed_units     BIGINT NOT NULL DEFAULT 0,
    prepaid_enabled    BIGINT NOT NULL DEFAULT 0,
    prepaid_suspended  BIGINT NOT NULL DEFAULT 0,
    prepaid_warning    BIGINT NOT NULL DEFAULT 0,
    prepaid_locked_out BIGINT NOT NULL DEFAULT 0,
    service_plans      TEXT NOT NULL DEFAULT '[]',
    monthly_price_cents BIGINT NOT NULL DEFAULT 0,
    currency           TEXT NOT NULL DEFAULT '',
    categories         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, sku_id)
);

CREATE TABLE license_states (
    tenant_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    sku_id            TEXT NOT NULL,
    assigned_by_group TEXT NOT NULL DEFAULT '',
    disabled_plans    TEXT NOT NULL DEFAULT '[]',
    state             TEXT NOT NULL DEFAULT '',
    error             TEXT NOT NULL DEFAULT '',
    last_updated      TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, user_id, sku_id, assigned_by_group)
);
CREATE INDEX license_states_sku ON license_states (tenant_id, sku_id);

CREATE TABLE mailboxes (
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    primary_smtp TEXT NOT NULL DEFAULT '',
    type         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE inbox (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    resource    TEXT NOT NULL,
    round       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    claimed_by  TEXT NOT NULL DEFAULT '',
    lease_until TIMESTAMPTZ,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX inbox_claim ON inbox (tenant_id, id);

CREATE TABLE sync_state (
    tenant_id     TEXT NOT NULL,
    resource      TEXT NOT NULL,
    delta_link    TEXT NOT NULL DEFAULT '',
    last_full_at  TIMESTAMPTZ,
    last_delta_at TIMESTAMPTZ,
    last_error    TEXT NOT NULL DEFAULT '',
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, resource)
);

CREATE TABLE pools (
    tenant_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- The change queue (license inbox): one durable row per requested change.
CREATE TABLE changes (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    request_id     TEXT NOT NULL DEFAULT '',
    op             TEXT NOT NULL,   -- add | remove
    kind           TEXT NOT NULL,   -- group_member | direct_license
    user_id        TEXT NOT NULL,
    group_id       TEXT NOT NULL DEFAULT '',
    sku_id         TEXT NOT NULL DEFAULT '',
    disabled_plans TEXT NOT NULL DEFAULT '[]',
    pool           TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,   -- pending_approval | open | claimed | done | failed | rejected | superseded
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    effective_at   TIMESTAMPTZ,
    claimed_by     TEXT NOT NULL DEFAULT '',
    lease_until    TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX changes_status ON changes (tenant_id, status);

CREATE TABLE audit (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    tenant_id   TEXT NOT NULL DEFAULT '',
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_tenant ON audit (tenant_id, id);
CREATE INDEX audit_request ON audit (request_id);

-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit history is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

-- +goose Down
DROP TABLE audit;
DROP FUNCTION audit_append_only();
DROP TABLE changes;
DROP TABLE pools;
DROP TABLE sync_state;
DROP TABLE inbox;
DROP TABLE mailboxes;
DROP TABLE license_states;
DROP TABLE skus;
DROP TABLE memberships;
DROP TABLE groups;
DROP TABLE users;
DROP TABLE tenants;
