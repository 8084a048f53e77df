package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// runCLI runs allot in-process and returns exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestStatusOnFreshDatabaseIsAllZero(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{warehousetest.SQLitePath(t), "sqlite://" + warehousetest.SQLitePath(t)} {
		code, out, errOut := runCLI(t, "status", "--json", "--db", dsn)
		require.Equal(t, 0, code, errOut)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		for _, k := range []string{"users", "groups", "memberships", "skus", "license_states", "pools", "open_changes"} {
			require.Contains(t, got, k)
			require.EqualValues(t, 0, got[k], k)
		}
		require.Equal(t, "sqlite", got["backend"])
	}
}

func TestStatusOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := warehousetest.PostgresDSN(t)
	code, out, errOut := runCLI(t, "status", "--json", "--db", dsn)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"backend": "postgres"`)
	require.Contains(t, out, `"open_changes": 0`)
}

func TestDBFromEnvironment(t *testing.T) {
	path := warehousetest.SQLitePath(t)
	t.Setenv("ALLOT_DB", path)
	code, _, errOut := runCLI(t, "migrate")
	require.Equal(t, 0, code, errOut)
	require.FileExists(t, path, "ALLOT_DB chose the database")
}

func TestTenantAddAndList(t *testing.T) {
	t.Parallel()
	db := warehousetest.SQLitePath(t)
	code, out, errOut := runCLI(t, "--db", db, "tenant", "add", "--name", "contoso", "--tenant-id", "contoso.onmicrosoft.com",
		"--client-id", "app-1", "--secret", "env:CONTOSO_SECRET", "--json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"secret_ref": "env:CONTOSO_SECRET"`)

	code, _, errOut = runCLI(t, "--db", db, "tenant", "add", "--name", "contoso", "--tenant-id", "x", "--client-id", "a", "--secret", "env:X")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already exists")

	code, out, _ = runCLI(t, "--db", db, "tenant", "list")
	require.Equal(t, 0, code)
	require.Contains(t, out, "contoso")
	require.Contains(t, out, "env:CONTOSO_SECRET")

	code, out, _ = runCLI(t, "--db", db, "status", "--tenant", "contoso", "--json")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"tenant": "contoso"`)
	code, _, errOut = runCLI(t, "--db", db, "status", "--tenant", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `tenant "nope": not found`)
}

// A secret pasted where its reference belongs must never reach the database.
func TestTenantAddRefusesRawSecret(t *testing.T) {
	t.Parallel()
	db := warehousetest.SQLitePath(t)
	code, _, errOut := runCLI(t, "--db", db, "tenant", "add", "--name", "c", "--tenant-id", "t", "--client-id", "a",
		"--secret", "Zx8Q~super-secret-value")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "env:NAME or file:/path")
	require.NotContains(t, errOut, "super-secret", "the secret is not echoed back")
	require.NoFileExists(t, db, "bad input writes nothing, not even an empty database")
}

func TestBadDatabaseErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name string
		dsn  string
		want string
	}{
		{"unknown scheme", "mysql://root@localhost/allot", `unsupported scheme "mysql"`},
		{"malformed postgres", "postgres://u:hunter2@[::1", "invalid --db"},
		{"unreachable postgres", "postgres://postgres@127.0.0.1:1/allot?connect_timeout=2", "connect to postgres 127.0.0.1:1/allot"},
		{"missing directory", filepath.Join(dir, "nope", "allot.db"), "does not exist"},
		{"read-only location", "/proc/allot-test.db", "not writable"},
		{"path is a directory", dir, "is a directory"},
		{"not a database", writeFile(t, "junk.db", "this is not sqlite, just text that is long enough to be a header....."), "not a SQLite database"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "status", "--db", tc.dsn)
			require.Equal(t, 1, code)
			require.Empty(t, out)
			require.Contains(t, errOut, tc.want)
			require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			require.NotContains(t, errOut, "hunter2", "passwords never appear in errors")
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "failed opens leave no files behind")
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// A database migrated by a newer allot is refused and left untouched.
func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	db := warehousetest.SQLitePath(t)
	code, _, errOut := runCLI(t, "migrate", "--db", db)
	require.Equal(t, 0, code, errOut)

	raw, err := sql.Open("sqlite", db)
	require.NoError(t, err)
	_, err = raw.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)")
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	before, err := os.ReadFile(db)
	require.NoError(t, err)

	code, _, errOut = runCLI(t, "status", "--db", db)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "schema version 999")
	require.Contains(t, errOut, "upgrade allot")
	require.Equal(t, 1, strings.Count(errOut, "\n"))
	after, err := os.ReadFile(db)
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused database is not written to")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "version", "--json")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"version"`)
}
