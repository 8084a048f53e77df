package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/job"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
	"github.com/allot-dev/allot/internal/web"
	"github.com/allot-dev/allot/internal/workflow"
)

// env is a running allot server over a synced simulated tenant.
type env struct {
	t       *testing.T
	sim     *graphsim.Server
	store   warehouse.Store
	access  *access.Service
	tenant  directory.Tenant
	url     string
	adminPW string // the one-time password of "admin"
}

// setup starts the simulator, syncs it into a fresh SQLite warehouse over
// HTTP, bootstraps the administrator and serves allot on loopback. With
// workers, the request pipeline and fulfilment run on River as in
// `allot serve`, with the simulator's clock sped up.
func setup(t *testing.T, users int, workers bool) *env {
	t.Helper()
	ctx := context.Background()
	sim, err := graphsim.Start(graphsim.Config{Users: users, Seed: 7, TimeScale: 50})
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte(info.ClientSecret), 0o600))

	s, err := warehouse.Open(ctx, warehousetest.SQLitePath(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	tn := directory.Tenant{ID: info.TenantID, Name: "contoso", GraphURL: info.GraphURL, AuthorityURL: info.AuthorityURL,
		ClientID: info.ClientID, SecretRef: "file:" + secret, CAFile: info.CAFile}
	require.NoError(t, s.CreateTenant(ctx, tn))
	_, err = (&inventory.Syncer{Store: s}).Sync(ctx, tn.ID, inventory.Options{})
	require.NoError(t, err)
	tn, err = s.GetTenant(ctx, tn.ID)
	require.NoError(t, err)

	acc := &access.Service{Store: s}
	_, pw, err := acc.Bootstrap(ctx)
	require.NoError(t, err)
	cfg := web.Config{Store: s, Access: acc}
	if workers {
		cfg.Pipeline = startWorkers(t, s, acc)
	}
	srv, err := web.New(cfg)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, sim: sim, store: s, access: acc, tenant: tn, url: ts.URL, adminPW: pw}
}

const testPassword = "correct horse battery"

// account creates a principal with a known password and the given roles.
func (e *env) account(name string, grants ...grant) {
	e.t.Helper()
	ctx := context.Background()
	_, _, err := e.access.CreatePrincipal(ctx, "test", access.NewPrincipal{Name: name, Password: testPassword})
	require.NoError(e.t, err)
	for _, g := range grants {
		_, err := e.access.Grant(ctx, "test", name, g.role, g.scope)
		require.NoError(e.t, err)
	}
}

type grant struct {
	role  access.Role
	scope access.Scope
}

// token issues an all-scope API token for an account.
func (e *env) token(name string) string {
	e.t.Helper()
	secret, _, err := e.access.CreateToken(context.Background(), "test", access.NewToken{Principal: name, Scopes: []string{"*"}})
	require.NoError(e.t, err)
	return secret
}

// client is an HTTP client signed in to the console as name.
type client struct {
	*http.Client
	base string
	csrf string
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) signIn(name, password string) *client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{Client: &http.Client{Jar: jar}, base: e.url}
	body := c.get(e.t, "/login", http.StatusOK)
	m := csrfRe.FindStringSubmatch(body)
	require.NotNil(e.t, m, "the sign-in form carries a CSRF token")
	resp, err := c.PostForm(e.url+"/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {password}, "next": {"/"}})
	require.NoError(e.t, err)
	page := readAll(e.t, resp)
	m = csrfRe.FindStringSubmatch(page)
	require.NotNil(e.t, m, "signed in as %s: the page has the session's CSRF token (status %d)", name, resp.StatusCode)
	c.csrf = m[1]
	return c
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func (c *client) get(t *testing.T, path string, want int) string {
	t.Helper()
	resp, err := c.Get(c.base + path)
	require.NoError(t, err)
	body := readAll(t, resp)
	require.Equal(t, want, resp.StatusCode, "GET %s: %s", path, snippet(body))
	return body
}

// post submits a console form, with the session's CSRF token unless
// withoutCSRF says otherwise.
func (c *client) post(t *testing.T, path string, form url.Values, withCSRF bool) *http.Response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if withCSRF {
		form.Set("csrf", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Do not follow redirects: the status says what happened.
	cl := *c.Client
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cl.Do(req)
	require.NoError(t, err)
	return resp
}

// api calls the JSON API with a bearer token and decodes the answer into out.
func (e *env) api(method, path, token string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, e.url+path, r)
	require.NoError(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	if out != nil && len(b) > 0 {
		require.NoError(e.t, json.Unmarshal(b, out), string(b))
	}
	return resp.StatusCode
}

func snippet(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

// startWorkers runs the pipeline's and fulfilment's River workers.
func startWorkers(t *testing.T, s warehouse.Store, acc *access.Service) *workflow.Pipeline {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, job.Migrate(ctx, s))
	p := &workflow.Pipeline{Store: s, Access: access.Pipeline{S: acc}}
	reg := job.NewRegistry()
	require.NoError(t, workflow.Register(reg, workflow.Options{Pipeline: p, Interval: time.Second}))
	f := fulfillment.New(s, nil, fulfillment.Config{Budget: fulfillment.Budget{Writes: 3000, Window: 3 * time.Second},
		Backoff: 200 * time.Millisecond}, nil)
	require.NoError(t, fulfillment.Register(reg, f, fulfillment.Options{Interval: time.Second}))
	jobs, err := job.New(s, reg, job.Config{Work: true, PollInterval: 500 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	require.NoError(t, err)
	require.NoError(t, jobs.Start(ctx))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(stop)
	})
	return p
}
