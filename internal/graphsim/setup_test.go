package graphsim

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// harness is a running simulator plus an HTTPS client that trusts its CA and
// holds a token of the default app: the same path a real client takes.
type harness struct {
	t      testing.TB
	srv    *Server
	info   Info
	client *http.Client
	token  string
}

// setup starts a simulator for one test. Throttling is off unless the test
// sets a Budget, so functional tests are not slowed by it.
func setup(t testing.TB, cfg Config) *harness {
	t.Helper()
	if cfg.Users == 0 {
		cfg.Users = 200
	}
	if cfg.Seed == 0 {
		cfg.Seed = 7
	}
	if cfg.Budget == nil {
		cfg.Budget = &Budget{}
	}
	srv, err := Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	h := &harness{t: t, srv: srv, info: srv.Info(), client: trustingClient(t, srv.Info().CAFile)}
	h.token = h.mustToken(h.info.ClientID, h.info.ClientSecret, "https://graph.microsoft.com/.default")
	return h
}

func trustingClient(t testing.TB, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 8,
	}}
}

// tokenResp posts a client-credentials form to the token endpoint.
func (h *harness) tokenResp(tenant string, form url.Values) (int, map[string]any) {
	h.t.Helper()
	resp, err := h.client.PostForm(h.info.AuthorityURL+tenant+"/oauth2/v2.0/token", form)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(h.t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func (h *harness) mustToken(clientID, secret, scope string) string {
	h.t.Helper()
	st, body := h.tokenResp(h.info.TenantID, url.Values{
		"client_id": {clientID}, "client_secret": {secret}, "grant_type": {"client_credentials"}, "scope": {scope},
	})
	require.Equal(h.t, http.StatusOK, st, "token: %v", body)
	return body["access_token"].(string)
}

// resp is a decoded Graph response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// errCode returns error.code of a Graph error envelope.
func (r *resp) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r *resp) errMessage() string {
	e, _ := r.body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (r *resp) values() []map[string]any {
	arr, _ := r.body["value"].([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, v := range arr {
		out = append(out, v.(map[string]any))
	}
	return out
}

// call sends a Graph request; path is relative to graph_url (or absolute).
// hdr is name, value pairs.
func (h *harness) call(method, path string, body any, hdr ...string) *resp {
	h.t.Helper()
	return h.callAs(h.token, method, path, body, hdr...)
}

func (h *harness) callAs(token, method, path string, body any, hdr ...string) *resp {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			require.NoError(h.t, err)
			rd = bytes.NewReader(raw)
		}
	}
	u := path
	if !strings.HasPrefix(path, "https://") {
		u = h.info.GraphURL + path
	}
	req, err := http.NewRequest(method, strings.ReplaceAll(u, " ", "%20"), rd)
	require.NoError(h.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := h.client.Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	r := &resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		require.NoError(h.t, json.Unmarshal(raw, &r.body), "body: %s", raw)
	}
	return r
}

// firstUser finds a user of the generated tenant matching pred.
func (h *harness) firstUser(pred func(u *user) bool) *user {
	h.t.Helper()
	h.srv.t.mu.RLock()
	defer h.srv.t.mu.RUnlock()
	for i := range h.srv.t.users {
		if u := &h.srv.t.users[i]; !u.deleted && pred(u) {
			c := *u
			return &c
		}
	}
	h.t.Fatal("no user matches")
	return nil
}

func (h *harness) groupNamed(name string) string {
	h.t.Helper()
	for _, g := range h.srv.Groups() {
		if g.DisplayName == name {
			return g.ID
		}
	}
	h.t.Fatalf("no group %q", name)
	return ""
}

func (h *harness) skuID(part string) string {
	h.t.Helper()
	id, err := h.srv.SkuID(part)
	require.NoError(h.t, err)
	return id
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
