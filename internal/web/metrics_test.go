package web_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/web"
)

// /metrics answers a Prometheus that presents a token allowed to read
// metrics, and nobody else, unless the operator made it public; health
// checks stay public either way.
func TestMetricsNeedATokenUnlessPublic(t *testing.T) {
	t.Parallel()
	scrape := func(base, token string) (int, http.Header, string) {
		req, err := http.NewRequest("GET", base+"/metrics", nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, string(b)
	}
	th := newThrottled(t, web.Config{})
	ctx := context.Background()
	status, h, body := scrape(th.url, "")
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, `Bearer realm="allot"`, h.Get("WWW-Authenticate"))
	require.Contains(t, body, `"unauthenticated"`)
	require.NotContains(t, body, "go_goroutines")

	// The prometheus account of the README: an auditor over every tenant
	// with a read-only token.
	_, _, err := th.access.CreatePrincipal(ctx, "test", access.NewPrincipal{Name: "prometheus", Kind: access.KindService})
	require.NoError(t, err)
	_, err = th.access.Grant(ctx, "test", "prometheus", access.Auditor, access.Scope{})
	require.NoError(t, err)
	read, _, err := th.access.CreateToken(ctx, "test", access.NewToken{Principal: "prometheus", Scopes: []string{"read"}})
	require.NoError(t, err)
	status, _, body = scrape(th.url, read)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "go_goroutines")

	auditOnly, _, err := th.access.CreateToken(ctx, "test", access.NewToken{Principal: "prometheus", Scopes: []string{string(access.ReadAudit)}})
	require.NoError(t, err)
	status, _, body = scrape(th.url, auditOnly)
	require.Equal(t, http.StatusForbidden, status, "a token scoped to other actions cannot scrape")
	require.Contains(t, body, "metrics.read")

	// Someone allowed to read them can look at them in the browser too.
	e := &env{t: t, url: th.url}
	c := e.signIn("alice", testPassword)
	require.Contains(t, c.get(t, "/metrics", http.StatusOK), "go_goroutines")
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(th.url + path)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		resp.Body.Close()
	}

	public := newThrottled(t, web.Config{MetricsPublic: true})
	status, _, body = scrape(public.url, "")
	require.Equal(t, http.StatusOK, status, "--metrics-public serves anyone")
	require.Contains(t, body, "go_goroutines")
}
