package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
)

// authzEnv is one server with a principal per role and scope, and two
// pools, shared by the authorization tests (they only read, or write
// pools that they restore).
func authzEnv(t *testing.T) *env {
	e := setup(t, 150, false)
	ctx := context.Background()
	require.NoError(t, e.store.CreateTenant(ctx, directory.Tenant{ID: "fabrikam-id", Name: "fabrikam",
		GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "https://login.microsoftonline.com/", ClientID: "c", SecretRef: "env:X"}))
	contoso := access.Scope{TenantID: e.tenant.ID}
	e.account("root", grant{access.Administrator, access.Scope{}})
	e.account("lm", grant{access.LicenseManager, contoso})
	e.account("lm-e5", grant{access.LicenseManager, access.Scope{TenantID: e.tenant.ID, Pool: "E5 IT"}})
	e.account("approver", grant{access.Approver, contoso})
	e.account("helpdesk", grant{access.Helpdesk, contoso})
	e.account("requester", grant{access.Requester, contoso})
	e.account("auditor", grant{access.Auditor, contoso})
	e.account("auditor-all", grant{access.Auditor, access.Scope{}})
	e.account("fab-lm", grant{access.LicenseManager, access.Scope{TenantID: "fabrikam-id"}})
	root := e.token("root")
	for _, p := range []engine.Pool{e5Pool(), visioPool()} {
		require.Equal(t, http.StatusCreated, e.api("POST", "/api/v1/tenants/contoso/pools", root, p, nil))
	}
	return e
}

func e5Pool() engine.Pool {
	return engine.Pool{Name: "E5 IT", Target: engine.Target{Group: "LIC - Microsoft 365 E5"},
		Assignments: engine.Selector{Rules: []string{`user.department -eq "IT"`}}, RemovalApproval: true}
}

func visioPool() engine.Pool {
	return engine.Pool{Name: "Visio eng", Target: engine.Target{Group: "LIC - Visio Plan 2"},
		Assignments: engine.Selector{Rules: []string{`user.department -eq "Engineering"`}}}
}

var accounts = []string{"root", "lm", "lm-e5", "approver", "helpdesk", "requester", "auditor", "auditor-all", "fab-lm"}

// Each role can do exactly what it should, on exactly its scope, via the API.
func TestAPIAuthorization(t *testing.T) {
	t.Parallel()
	e := authzEnv(t)
	tokens := map[string]string{}
	for _, a := range accounts {
		tokens[a] = e.token(a)
	}
	readers := []string{"root", "lm", "approver", "helpdesk", "auditor", "auditor-all"}
	const T = "/api/v1/tenants/contoso"
	e5, visio := e5Pool(), visioPool()
	cases := []struct {
		method, path string
		body         any
		allowed      []string
	}{
		{"GET", T, nil, readers},
		{"GET", T + "/users", nil, readers},
		{"GET", T + "/groups", nil, readers},
		{"GET", T + "/skus", nil, readers},
		{"GET", T + "/pools", nil, append([]string{"lm-e5"}, readers...)},
		{"GET", T + "/pools/E5%20IT", nil, append([]string{"lm-e5"}, readers...)},
		{"GET", T + "/pools/Visio%20eng", nil, readers},
		{"PUT", T + "/pools/E5%20IT", e5, []string{"root", "lm", "lm-e5"}},
		{"PUT", T + "/pools/Visio%20eng", visio, []string{"root", "lm"}},
		{"POST", T + "/pools/preview", visio, readers},
		{"GET", T + "/plan", nil, append([]string{"lm-e5"}, readers...)},
		{"GET", T + "/audit", nil, []string{"root", "lm", "auditor", "auditor-all"}},
		{"GET", "/api/v1/audit", nil, []string{"root", "auditor-all"}},
		{"POST", T + "/sync", nil, []string{"root"}},
		{"GET", "/api/v1/tenants/fabrikam", nil, []string{"root", "auditor-all", "fab-lm"}},
		{"GET", "/api/v1/tenants/fabrikam/pools", nil, []string{"root", "auditor-all", "fab-lm"}},
		// Metrics name every tenant: only a delegation over all of them
		// reads them, and only roles that read everything.
		{"GET", "/metrics", nil, []string{"root", "auditor-all"}},
		// The pipeline is not wired into this server: allowed callers get
		// 501, everyone else is refused before that.
		{"GET", T + "/approvals", nil, []string{"root", "approver"}},
		{"GET", T + "/requests", nil, []string{"root", "lm", "lm-e5", "approver", "helpdesk", "requester", "auditor", "auditor-all"}},
		{"POST", T + "/plan/apply", map[string]any{"pools": []string{"E5 IT"}}, []string{"root", "lm", "lm-e5"}},
		{"POST", T + "/requests", map[string]any{"operation": "add_group_member", "user_id": "u", "group_id": "g"},
			[]string{"root", "lm", "helpdesk", "requester"}},
	}
	for _, tc := range cases {
		for _, who := range accounts {
			status := e.api(tc.method, tc.path, tokens[who], tc.body, nil)
			allowed := contains(tc.allowed, who)
			if allowed {
				require.NotContains(t, []int{401, 403}, status, "%s %s as %s", tc.method, tc.path, who)
			} else {
				require.Equal(t, http.StatusForbidden, status, "%s %s as %s", tc.method, tc.path, who)
			}
		}
	}

	// A pool-scoped license manager sees only its pool.
	var pools []engine.Pool
	require.Equal(t, 200, e.api("GET", T+"/pools", tokens["lm-e5"], nil, &pools))
	require.Len(t, pools, 1)
	require.Equal(t, "E5 IT", pools[0].Name)
	var plan engine.Plan
	require.Equal(t, 200, e.api("GET", T+"/plan", tokens["lm-e5"], nil, &plan))
	require.Len(t, plan.Pools, 1)
	// …and cannot move its pool onto a license group it does not manage.
	moved := e5Pool()
	moved.Target.Group = "LIC - Visio Plan 2"
	moved.Name = "Visio eng"
	require.Equal(t, 403, e.api("PUT", T+"/pools/E5%20IT", tokens["lm-e5"], moved, nil))

	// Unauthenticated calls get 401 with the JSON error shape.
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.Equal(t, 401, e.api("GET", T, "", nil, &body))
	require.Equal(t, "unauthenticated", body.Error.Code)
	require.Equal(t, 401, e.api("GET", T, "allot_not-a-token", nil, &body))
	require.Equal(t, 404, e.api("GET", "/api/v1/nope", tokens["root"], nil, &body))
	require.Equal(t, "not_found", body.Error.Code)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// The console enforces the same rules as the API: the same pages are
// refused to the same people.
func TestConsoleAuthorization(t *testing.T) {
	t.Parallel()
	e := authzEnv(t)
	pages := []struct {
		path    string
		allowed []string
	}{
		{"/t/contoso/", []string{"root", "lm", "approver", "helpdesk", "auditor", "auditor-all"}},
		{"/t/contoso/users", []string{"root", "lm", "approver", "helpdesk", "auditor", "auditor-all"}},
		{"/t/contoso/pools", []string{"root", "lm", "lm-e5", "approver", "helpdesk", "auditor", "auditor-all"}},
		{"/t/contoso/pools/new", []string{"root", "lm", "lm-e5"}},
		{"/t/contoso/pools/Visio%20eng", []string{"root", "lm", "approver", "helpdesk", "auditor", "auditor-all"}},
		{"/t/contoso/plan", []string{"root", "lm", "lm-e5", "approver", "helpdesk", "auditor", "auditor-all"}},
		{"/t/contoso/audit", []string{"root", "lm", "auditor", "auditor-all"}},
		{"/t/fabrikam/", []string{"root", "auditor-all", "fab-lm"}},
		{"/t/fabrikam/audit", []string{"root", "auditor-all", "fab-lm"}},
		{"/metrics", []string{"root", "auditor-all"}},
	}
	for _, who := range accounts {
		c := e.signIn(who, testPassword)
		for _, p := range pages {
			want := http.StatusForbidden
			if contains(p.allowed, who) {
				want = http.StatusOK
			}
			c.get(t, p.path, want)
		}
		// Saving a pool through the form needs WritePolicy on that pool.
		form := url.Values{"name": {"Visio eng"}, "original": {"Visio eng"}, "target": {"group"},
			"target_group": {"LIC - Visio Plan 2"}, "assign_rule": {`user.department -eq "Engineering"`}}
		resp := c.post(t, "/t/contoso/pools", form, true)
		body := readAll(t, resp)
		if contains([]string{"root", "lm"}, who) {
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, "%s saves the pool: %s", who, snippet(body))
		} else {
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s may not save the pool", who)
		}
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := authzEnv(t)
	c := e.signIn("lm", testPassword)
	form := url.Values{"name": {"Sneaky"}, "target": {"group"}, "target_group": {"LIC - Power BI Pro"},
		"assign_rule": {`user.department -eq "Sales"`}}

	resp := c.post(t, "/t/contoso/pools", form, false)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a form post without the CSRF token is refused")
	require.Contains(t, readAll(t, resp), "CSRF")
	form.Set("csrf", "wrong"+c.csrf)
	resp = c.post(t, "/t/contoso/pools", form, false)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a wrong CSRF token is refused")
	resp.Body.Close()
	_, err := e.store.GetPool(context.Background(), e.tenant.ID, "Sneaky")
	require.Error(t, err, "nothing was saved")

	// JSON calls riding on the session cookie need the header too.
	req, err := http.NewRequest("DELETE", e.url+"/api/v1/tenants/contoso/pools/Visio%20eng", nil)
	require.NoError(t, err)
	resp, err = c.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp.Body.Close()
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err = c.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "with the header the same call works")
	resp.Body.Close()

	// Signing out is a form post as well.
	resp = c.post(t, "/logout", nil, false)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp.Body.Close()

	// The sign-in form has its own token, tied to a cookie.
	resp, err = http.PostForm(e.url+"/login", url.Values{"name": {"lm"}, "password": {testPassword}})
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "sign-in without the form's token is refused")
	resp.Body.Close()
}

func TestRevokedTokenStopsAtOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, 50, false)
	e.account("bot", grant{access.Auditor, access.Scope{}})
	secret, tok, err := e.access.CreateToken(context.Background(), "test", access.NewToken{Principal: "bot", Scopes: []string{"read"}})
	require.NoError(t, err)
	require.Equal(t, 200, e.api("GET", "/api/v1/tenants/contoso/audit", secret, nil, nil))
	require.NoError(t, e.access.RevokeToken(context.Background(), "test", tok.ID))
	require.Equal(t, 401, e.api("GET", "/api/v1/tenants/contoso/audit", secret, nil, nil), "the very next call is refused")

	// Disabling an account stops its other tokens and its sessions too.
	other, _, err := e.access.CreateToken(context.Background(), "test", access.NewToken{Principal: "bot", Scopes: []string{"read"}})
	require.NoError(t, err)
	e.account("carol", grant{access.Auditor, access.Scope{}})
	c := e.signIn("carol", testPassword)
	c.get(t, "/t/contoso/audit", 200)
	require.NoError(t, e.access.SetDisabled(context.Background(), "test", "bot", true))
	require.NoError(t, e.access.SetDisabled(context.Background(), "test", "carol", true))
	require.Equal(t, 401, e.api("GET", "/api/v1/tenants/contoso", other, nil, nil))
	resp, err := c.Get(e.url + "/t/contoso/audit")
	require.NoError(t, err)
	body := readAll(t, resp)
	require.True(t, strings.Contains(resp.Request.URL.Path, "/login"), "a disabled account is sent to sign in: %s", snippet(body))
}
