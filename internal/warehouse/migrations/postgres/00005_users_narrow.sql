-- +goose Up
-- Same shape as on SQLite (the SQL layer is shared): only what SQL filters
-- or sorts on stays a column; the other Graph properties move into attrs.
UPDATE users SET attrs = (attrs::jsonb || jsonb_strip_nulls(jsonb_build_object(
    'mail', nullif(mail, ''),
    'jobTitle', nullif(job_title, ''),
    'department', nullif(department, ''),
    'companyName', nullif(company_name, ''),
    'employeeId', nullif(employee_id, ''),
    'managerId', nullif(manager_id, ''),
    'country', nullif(country, ''),
    'usageLocation', nullif(usage_location, ''),
    'userType', nullif(user_type, ''),
    'createdDateTime', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'lastSignInDateTime', to_char(last_sign_in AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'lastSuccessfulSignInDateTime', to_char(last_successful_sign_in AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))))::text;
DROP INDEX users_upn;
ALTER TABLE users
    DROP COLUMN mail, DROP COLUMN job_title, DROP COLUMN department, DROP COLUMN company_name,
    DROP COLUMN employee_id, DROP COLUMN manager_id, DROP COLUMN country, DROP COLUMN usage_location,
    DROP COLUMN user_type, DROP COLUMN created_at, DROP COLUMN last_sign_in, DROP COLUMN last_successful_sign_in;

-- +goose Down
ALTER TABLE users
    ADD COLUMN mail TEXT NOT NULL DEFAULT '', ADD COLUMN job_title TEXT NOT NULL DEFAULT '',
    ADD COLUMN department TEXT NOT NULL DEFAULT '', ADD COLUMN company_name TEXT NOT NULL DEFAULT '',
    ADD COLUMN employee_id TEXT NOT NULL DEFAULT '', ADD COLUMN manager_id TEXT NOT NULL DEFAULT '',
    ADD COLUMN country TEXT NOT NULL DEFAULT '', ADD COLUMN usage_location TEXT NOT NULL DEFAULT '',
    ADD COLUMN user_type TEXT NOT NULL DEFAULT '', ADD COLUMN created_at TIMESTAMPTZ,
    ADD COLUMN last_sign_in TIMESTAMPTZ, ADD COLUMN last_successful_sign_in TIMESTAMPTZ;
UPDATE users SET
    mail = coalesce(attrs::jsonb ->> 'mail', ''), job_title = coalesce(attrs::jsonb ->> 'jobTitle', ''),
    department = coalesce(attrs::jsonb ->> 'department', ''), company_name = coalesce(attrs::jsonb ->> 'companyName', ''),
    employee_id = coalesce(attrs::jsonb ->> 'employeeId', ''), manager_id = coalesce(attrs::jsonb ->> 'managerId', ''),
    country = coalesce(attrs::jsonb ->> 'country', ''), usage_location = coalesce(attrs::jsonb ->> 'usageLocation', ''),
    user_type = coalesce(attrs::jsonb ->> 'userType', ''),
    created_at = (attrs::jsonb ->> 'createdDateTime')::timestamptz,
    last_sign_in = (attrs::jsonb ->> 'lastSignInDateTime')::timestamptz,
    last_successful_sign_in = (attrs::jsonb ->> 'lastSuccessfulSignInDateTime')::timestamptz,
    attrs = (attrs::jsonb - ARRAY['mail', 'jobTitle', 'department', 'companyName', 'employeeId', 'managerId', 'country',
        'usageLocation', 'userType', 'createdDateTime', 'lastSignInDateTime', 'lastSuccessfulSignInDateTime'])::text;
CREATE INDEX users_upn ON users (tenant_id, lower(user_principal_name));
