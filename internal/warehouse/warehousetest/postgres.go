// Package warehousetest holds the conformance suite every warehouse backend
// must pass, and helpers that give each test a fresh database.
package warehousetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the variable holding a PostgreSQL DSN for tests.
const PostgresEnv = "ALLOT_TEST_POSTGRES"

// PostgresDSN creates a fresh database on the server named by
// ALLOT_TEST_POSTGRES, drops it when the test ends, and returns its DSN. It
// skips the test, loudly, when the variable is unset, and fails it instead
// under CI=true, where a silently skipped backend would be reported as green.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI=true: the PostgreSQL backend would go untested", PostgresEnv)
		}
		t.Skipf("SKIPPING PostgreSQL: set %s=postgres://user@host:5432/postgres to run the PostgreSQL backend tests", PostgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "allot_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// SQLitePath returns a path for a fresh SQLite database in the test's temp dir.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("%s/allot.db", t.TempDir())
}
