package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

func TestUserCommands(t *testing.T) {
	t.Parallel()
	db := warehousetest.SQLitePath(t)
	code, out, errOut := runCLI(t, "user", "add", "alice", "--db", db, "--display-name", "Alice Ng", "--role", "auditor")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "created user alice")
	require.Contains(t, out, "role auditor over all tenants")
	require.Regexp(t, `one-time password .*: [A-Z2-7]{26}\n`, out)

	code, _, errOut = runCLI(t, "user", "add", "ALICE", "--db", db)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already exists")
	code, _, errOut = runCLI(t, "user", "add", "bob", "--db", db, "--role", "superuser")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "license-manager", "the error lists the roles")
	code, _, errOut = runCLI(t, "user", "add", "bob", "--db", db, "--role", "approver", "--tenant", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `tenant "nope"`)
	code, _, errOut = runCLI(t, "user", "add", "ci", "--db", db, "--service", "--role", "license-manager")
	require.Equal(t, 0, code, errOut)

	code, out, _ = runCLI(t, "user", "list", "--db", db)
	require.Equal(t, 0, code)
	require.Regexp(t, `alice\s+user\s+password change pending\s+auditor over all tenants`, out)
	require.Regexp(t, `ci\s+service\s+active\s+license-manager over all tenants`, out)
	require.NotContains(t, out, "bob", "failed adds created nothing")

	code, _, errOut = runCLI(t, "user", "disable", "alice", "--db", db)
	require.Equal(t, 0, code, errOut)
	code, out, _ = runCLI(t, "user", "list", "--db", db, "--json")
	require.Equal(t, 0, code)
	var list []struct {
		Name     string `json:"name"`
		Disabled bool   `json:"disabled"`
		Hash     string `json:"password_hash"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list, 2)
	require.True(t, list[0].Disabled)
	require.NotContains(t, out, "argon2id", "hashes never leave the warehouse")

	code, out, errOut = runCLI(t, "user", "grant", "ci", "--db", db, "--role", "approver")
	require.Equal(t, 0, code, errOut)
	id := regexp.MustCompile(`delegation #(\d+)`).FindStringSubmatch(out)
	require.NotNil(t, id, out)
	code, _, errOut = runCLI(t, "user", "revoke", "--db", db, "--delegation", id[1])
	require.Equal(t, 0, code, errOut)
	code, _, _ = runCLI(t, "user", "revoke", "--db", db, "--delegation", id[1])
	require.Equal(t, 1, code, "revoking twice reports the missing delegation")
}

func TestTokenCommands(t *testing.T) {
	t.Parallel()
	db := warehousetest.SQLitePath(t)
	code, _, errOut := runCLI(t, "user", "add", "ci", "--db", db, "--service", "--role", "auditor")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCLI(t, "token", "create", "--db", db, "--user", "ci", "--scope", "everything")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `scope "everything"`)

	code, out, errOut := runCLI(t, "token", "create", "--db", db, "--user", "ci", "--name", "dash", "--expires", "24h")
	require.Equal(t, 0, code, errOut)
	secret := regexp.MustCompile(`allot_[A-Z2-7]{52}`).FindString(out)
	require.NotEmpty(t, secret, out)
	tokID := regexp.MustCompile(`token (tok-\S+) for ci, scopes read, expires`).FindStringSubmatch(out)
	require.NotNil(t, tokID, out)

	code, out, _ = runCLI(t, "token", "list", "--db", db)
	require.Equal(t, 0, code)
	require.Contains(t, out, tokID[1])
	require.NotContains(t, out, secret, "a token is shown once")
	code, _, errOut = runCLI(t, "token", "revoke", tokID[1], "--db", db)
	require.Equal(t, 0, code, errOut)
	code, out, _ = runCLI(t, "token", "list", "--db", db, "--user", "ci")
	require.Equal(t, 0, code)
	require.Contains(t, out, "revoked")
}

// syncBuffer lets the test read what a running command printed so far.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve runs `allot serve` until the test ends and returns its base URL and
// what it printed once it was listening.
func serve(t *testing.T, db string, flags ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	args := append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, flags...)
	go func() { done <- run(ctx, args, &out, io.Discard) }()
	var url string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`serving on (http://\S+)`).FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 30*time.Second, 50*time.Millisecond)
	t.Cleanup(func() {
		cancel()
		require.Equal(t, 0, <-done, "a stopped server exits cleanly")
	})
	return url, out.String()
}

func TestServeBootstrapsOnceAndAnswersHealth(t *testing.T) {
	t.Parallel()
	db := warehousetest.SQLitePath(t)
	url, out := serve(t, db)
	require.Regexp(t, `name:\s+admin\n\s+password: [A-Z2-7]{26}`, out)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(url + path)
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode, path)
		resp.Body.Close()
	}
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "/metrics wants a token by default")

	// A second server on the same database prints no password; with
	// --metrics-public it serves /metrics to anyone.
	url, out = serve(t, db, "--metrics-public")
	require.False(t, strings.Contains(out, "password:"), out)
	resp, err = http.Get(url + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), "go_goroutines")
}
