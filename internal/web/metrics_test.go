package web_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
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

// A real server's /metrics is a valid exposition with every family allot,
// its dashboards and alerts rely on, under the right type.
func TestMetricsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := warehouse.Open(ctx, warehousetest.SQLitePath(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.CreateTenant(ctx, directory.Tenant{ID: "contoso-id", Name: `contoso"eu\`,
		GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "https://login.microsoftonline.com/", ClientID: "c", SecretRef: "env:X"}))
	m := web.NewMetrics(s)
	handler, err := web.New(web.Config{Store: s, Access: &access.Service{Store: s}, Metrics: m, MetricsPublic: true})
	require.NoError(t, err)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	m.ObserveSync(`contoso"eu\`, true, 3*time.Second, nil)
	m.ObserveSync(`contoso"eu\`, false, 250*time.Millisecond, errors.New("410"))
	m.Request("ListUsers", 200, 40*time.Millisecond)
	m.Request("ListUsers", 429, 10*time.Millisecond)
	m.Request("Batch", 0, 0)
	m.Throttled("ListUsers", time.Second)
	m.Retried("ListUsers", "429")
	runtime.GC()

	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))
	page := parseExposition(t, readAll(t, resp))

	want := map[string]string{
		"allot_sync_duration_seconds":          "histogram",
		"allot_graph_requests_total":           "counter",
		"allot_graph_request_duration_seconds": "histogram",
		"allot_graph_throttled_total":          "counter",
		"allot_graph_retries_total":            "counter",
		"allot_change_queue_depth":             "gauge",
		"allot_changes_finished_total":         "counter",
		"go_goroutines":                        "gauge",
		"go_threads":                           "gauge",
		"go_info":                              "gauge",
		"go_gc_duration_seconds":               "summary",
		"go_memstats_alloc_bytes":              "gauge",
		"go_memstats_heap_inuse_bytes":         "gauge",
		"go_memstats_sys_bytes":                "gauge",
		"go_memstats_heap_objects":             "gauge",
		"go_memstats_next_gc_bytes":            "gauge",
		"go_memstats_mallocs_total":            "counter",
	}
	if runtime.GOOS == "linux" {
		maps.Copy(want, map[string]string{
			"process_cpu_seconds_total":     "counter",
			"process_resident_memory_bytes": "gauge",
			"process_virtual_memory_bytes":  "gauge",
			"process_open_fds":              "gauge",
			"process_max_fds":               "gauge",
			"process_start_time_seconds":    "gauge",
		})
	}
	for name, typ := range want {
		require.Equal(t, typ, page.types[name], name)
	}

	tenant := `tenant="contoso\"eu\\"`
	for series, v := range map[string]float64{
		`allot_sync_duration_seconds_bucket{` + tenant + `,kind="full",result="ok",le="2"}`:        0,
		`allot_sync_duration_seconds_bucket{` + tenant + `,kind="full",result="ok",le="4"}`:        1,
		`allot_sync_duration_seconds_sum{` + tenant + `,kind="full",result="ok"}`:                  3,
		`allot_sync_duration_seconds_bucket{` + tenant + `,kind="delta",result="error",le="0.25"}`: 1,
		`allot_graph_requests_total{op="ListUsers",status="200"}`:                                  1,
		`allot_graph_requests_total{op="ListUsers",status="429"}`:                                  1,
		`allot_graph_requests_total{op="Batch",status="0"}`:                                        1,
		`allot_graph_request_duration_seconds_bucket{op="ListUsers",le="0.01"}`:                    1,
		`allot_graph_request_duration_seconds_bucket{op="ListUsers",le="0.02"}`:                    1,
		`allot_graph_request_duration_seconds_bucket{op="ListUsers",le="0.04"}`:                    2, // 40 ms is on the bound: le means ≤
		`allot_graph_request_duration_seconds_bucket{op="ListUsers",le="20.48"}`:                   2,
		`allot_graph_request_duration_seconds_count{op="ListUsers"}`:                               2,
		`allot_graph_throttled_total{op="ListUsers"}`:                                              1,
		`allot_graph_retries_total{op="ListUsers",reason="429"}`:                                   1,
		`allot_change_queue_depth{` + tenant + `,status="open"}`:                                   0,
		`allot_change_queue_depth{` + tenant + `,status="pending_approval"}`:                       0,
		`allot_changes_finished_total{` + tenant + `,status="done"}`:                               0,
		`go_info{version="` + runtime.Version() + `"}`:                                             1,
	} {
		got, ok := page.samples[series]
		require.True(t, ok, "%s is on the page", series)
		require.Equal(t, v, got, series)
	}
	_, ok := page.samples[`allot_graph_request_duration_seconds_count{op="Batch"}`]
	require.False(t, ok, "inner $batch responses carry no latency")
	_, ok = page.samples[`allot_change_queue_depth{`+tenant+`,status="done"}`]
	require.False(t, ok, "finished changes are counters, not queue depth")

	require.Positive(t, page.samples["go_goroutines"])
	require.Positive(t, page.samples["go_threads"])
	require.GreaterOrEqual(t, page.samples["go_gc_duration_seconds_count"], 1.0, "runtime.GC ran")
	q := []float64{}
	for _, p := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		v, ok := page.samples[`go_gc_duration_seconds{quantile="`+p+`"}`]
		require.True(t, ok, p)
		q = append(q, v)
	}
	require.True(t, slices.IsSorted(q), "quantiles grow: %v", q)
	require.Positive(t, q[4], "the GC paused the world for some time")
	require.Positive(t, page.samples["go_memstats_heap_inuse_bytes"])
}

// If the warehouse cannot be read, a scrape fails with the reason instead of
// reporting an empty queue.
func TestMetricsAnswer500WhenTheStoreFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := warehouse.Open(ctx, warehousetest.SQLitePath(t))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	rec := httptest.NewRecorder()
	web.NewMetrics(s).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Regexp(t, `^metrics are unavailable: reading the change queue for allot_change_queue_depth and allot_changes_finished_total: .*closed`,
		rec.Body.String())
	require.NotContains(t, rec.Body.String(), "go_goroutines")
}

// A Graph client built with the Metrics counts its calls.
func TestGraphCallsAreCounted(t *testing.T) {
	t.Parallel()
	sim, err := graphsim.Start(graphsim.Config{Users: 20, Seed: 7})
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	m := web.NewMetrics(nil)
	c, err := graph.New(graph.Config{TenantID: info.TenantID, ClientID: info.ClientID, ClientSecret: info.ClientSecret,
		GraphURL: info.GraphURL, AuthorityHost: info.AuthorityURL, CAFile: info.CAFile, Metrics: m})
	require.NoError(t, err)
	var skus []graph.SubscribedSku
	require.NoError(t, c.ListSubscribedSkus(context.Background(), graph.Collect(&skus)))
	require.NotEmpty(t, skus)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	page := parseExposition(t, rec.Body.String())
	require.Equal(t, 1.0, page.samples[`allot_graph_requests_total{op="ListSubscribedSkus",status="200"}`], rec.Body.String())
	require.Equal(t, 1.0, page.samples[`allot_graph_request_duration_seconds_count{op="ListSubscribedSkus"}`])
}

// exposition is a /metrics page read back: each family's type and each
// sample's value by its series as written (name and labels).
type exposition struct {
	types   map[string]string
	samples map[string]float64
}

var (
	sampleRe = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelRe  = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)`)
)

// parseExposition reads a page in the text format 0.0.4 and fails the test
// on anything Prometheus would reject or misread: a line that is not HELP,
// TYPE or a sample, HELP and TYPE other than once per family and before its
// samples, families out of order, a sample outside its family or with a bad
// label or value, and histograms whose buckets are not cumulative up to
// le="+Inf" = _count.
func parseExposition(t *testing.T, page string) exposition {
	t.Helper()
	e := exposition{types: map[string]string{}, samples: map[string]float64{}}
	require.True(t, strings.HasSuffix(page, "\n"), "the page ends with a newline")
	var family, typ string
	type histo struct {
		le    float64
		count float64
	}
	buckets := map[string][]histo{} // by the series' labels but le
	for i, line := range strings.Split(strings.TrimSuffix(page, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, _, _ := strings.Cut(rest, " ")
			require.Greater(t, name, family, "line %d: families in order, each once: %s", i+1, line)
			family, typ = name, ""
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, kind, _ := strings.Cut(rest, " ")
			require.Equal(t, family, name, "line %d: TYPE right after its HELP", i+1)
			require.Empty(t, typ, "line %d: one TYPE per family", i+1)
			require.Contains(t, []string{"counter", "gauge", "histogram", "summary", "untyped"}, kind, "line %d", i+1)
			typ = kind
			e.types[name] = kind
			continue
		}
		m := sampleRe.FindStringSubmatch(line)
		require.NotNil(t, m, "line %d is a sample: %q", i+1, line)
		require.NotEmpty(t, typ, "line %d: a sample after its family's TYPE", i+1)
		name, labels, value := m[1], m[2], m[3]
		var le, names, pairs []string // pairs: the labels but le, as written
		for rest := labels; rest != ""; {
			l := labelRe.FindStringSubmatch(rest)
			require.NotNil(t, l, "line %d: bad labels %q", i+1, rest)
			require.NotContains(t, names, l[1], "line %d: label %s twice", i+1, l[1])
			names = append(names, l[1])
			if l[1] == "le" {
				le = append(le, l[2])
			} else {
				pairs = append(pairs, strings.TrimSuffix(l[0], ","))
			}
			rest = rest[len(l[0]):]
			require.False(t, l[3] == "," && rest == "", "line %d: trailing comma", i+1)
		}
		v, err := strconv.ParseFloat(value, 64)
		require.NoError(t, err, "line %d: value", i+1)
		suffix, ok := strings.CutPrefix(name, family)
		require.True(t, ok, "line %d: %s is in family %s", i+1, name, family)
		switch typ {
		case "histogram":
			require.Contains(t, []string{"_bucket", "_sum", "_count"}, suffix, "line %d", i+1)
			require.Equal(t, suffix == "_bucket", len(le) == 1, "line %d: le on buckets only", i+1)
		case "summary":
			require.Contains(t, []string{"", "_sum", "_count"}, suffix, "line %d", i+1)
			require.Equal(t, suffix == "", slices.Contains(names, "quantile"), "line %d: quantile on quantiles only", i+1)
		default:
			require.Empty(t, suffix, "line %d", i+1)
		}
		series := name
		if labels != "" {
			series += "{" + labels + "}"
		}
		require.NotContains(t, e.samples, series, "line %d: series twice", i+1)
		e.samples[series] = v
		if typ == "histogram" {
			key := strings.Join(pairs, ",")
			switch suffix {
			case "_bucket":
				bound, err := strconv.ParseFloat(le[0], 64)
				require.NoError(t, err, "line %d: le", i+1)
				if prev := buckets[key]; len(prev) > 0 {
					require.Greater(t, bound, prev[len(prev)-1].le, "line %d: le ascending", i+1)
					require.GreaterOrEqual(t, v, prev[len(prev)-1].count, "line %d: buckets cumulative", i+1)
				}
				buckets[key] = append(buckets[key], histo{bound, v})
			case "_count":
				b := buckets[key]
				require.NotEmpty(t, b, "line %d: buckets before _count", i+1)
				require.True(t, math.IsInf(b[len(b)-1].le, 1), "line %d: the last bucket is +Inf", i+1)
				require.Equal(t, b[len(b)-1].count, v, "line %d: +Inf bucket equals _count", i+1)
				delete(buckets, key)
			}
		}
	}
	require.Empty(t, buckets, "every histogram series has a _count")
	return e
}
