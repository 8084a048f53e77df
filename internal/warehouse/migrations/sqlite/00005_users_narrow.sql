-- +goose Up
-- Users keep only what SQL filters or sorts on as columns; every other Graph
-- property moves into attrs. Binding a text value costs modernc's SQLite an
-- allocation and a copy, and a 200,000-user sync bound 21 per user; the
-- UPN index, which no query used, cost a random B-tree insert per user.
CREATE TABLE users_narrow (
    tenant_id           TEXT NOT NULL,
    id                  TEXT NOT NULL,
    user_principal_name TEXT NOT NULL DEFAULT '',
    display_name        TEXT NOT NULL DEFAULT '',
    account_enabled     INTEGER NOT NULL DEFAULT 0,
    categories          INTEGER NOT NULL DEFAULT 0,
    deleted             INTEGER NOT NULL DEFAULT 0,
    deleted_at          INTEGER,
    attrs               TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO users_narrow
SELECT tenant_id, id, user_principal_name, display_name, account_enabled, categories, deleted, deleted_at,
       json_patch(attrs, json_object(
           'mail', nullif(mail, ''),
           'jobTitle', nullif(job_title, ''),
           'department', nullif(department, ''),
           'companyName', nullif(company_name, ''),
           'employeeId', nullif(employee_id, ''),
           'managerId', nullif(manager_id, ''),
           'country', nullif(country, ''),
           'usageLocation', nullif(usage_location, ''),
           'userType', nullif(user_type, ''),
           'createdDateTime', strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'),
           'lastSignInDateTime', strftime('%Y-%m-%dT%H:%M:%fZ', last_sign_in / 1000.0, 'unixepoch'),
           'lastSuccessfulSignInDateTime', strftime('%Y-%m-%dT%H:%M:%fZ', last_successful_sign_in / 1000.0, 'unixepoch')))
FROM users;
DROP TABLE users;
ALTER TABLE users_narrow RENAME TO users;

-- +goose Down
CREATE TABLE users_wide (
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
    account_enabled        INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER,
    last_sign_in           INTEGER,
    last_successful_sign_in INTEGER,
    categories             INTEGER NOT NULL DEFAULT 0,
    deleted                INTEGER NOT NULL DEFAULT 0,
    deleted_at             INTEGER,
    attrs                  TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO users_wide
SELECT tenant_id, id, user_principal_name, display_name,
       coalesce(attrs ->> 'mail', ''), coalesce(attrs ->> 'jobTitle', ''), coalesce(attrs ->> 'department', ''),
       coalesce(attrs ->> 'companyName', ''), coalesce(attrs ->> 'employeeId', ''), coalesce(attrs ->> 'managerId', ''),
       coalesce(attrs ->> 'country', ''), coalesce(attrs ->> 'usageLocation', ''), coalesce(attrs ->> 'userType', ''),
       account_enabled,
       CAST(round((julianday(attrs ->> 'createdDateTime') - 2440587.5) * 86400000) AS INTEGER),
       CAST(round((julianday(attrs ->> 'lastSignInDateTime') - 2440587.5) * 86400000) AS INTEGER),
       CAST(round((julianday(attrs ->> 'lastSuccessfulSignInDateTime') - 2440587.5) * 86400000) AS INTEGER),
       categories, deleted, deleted_at,
       json_remove(attrs, '$.mail', '$.jobTitle', '$.department', '$.companyName', '$.employeeId', '$.managerId',
           '$.country', '$.usageLocation', '$.userType', '$.createdDateTime', '$.lastSignInDateTime',
           '$.lastSuccessfulSignInDateTime')
FROM users;
DROP TABLE users;
ALTER TABLE users_wide RENAME TO users;
CREATE INDEX users_upn ON users (tenant_id, user_principal_name COLLATE NOCASE);
