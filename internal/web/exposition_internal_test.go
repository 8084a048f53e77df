package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func scrapeRegistry(t *testing.T, r *registry) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Code, rec.Header(), rec.Body.String()
}

// The whole page for a small registry, byte for byte: sorted families and
// series, escaping, cumulative buckets with boundaries inclusive, summaries
// and special float values.
func TestExpositionText(t *testing.T) {
	t.Parallel()
	reqs := newCounterVec("t_requests_total", "Requests by path\\code and status.\nSecond line.", "path", "code")
	reqs.inc("/x", "500")
	reqs.inc("a\\b\"c\nd", "200")
	reqs.inc("a\\b\"c\nd", "200")
	lat := newHistogramVec("t_latency_seconds", "Latency.", []float64{0.5, 1, 2}, "op")
	for _, v := range []float64{0.5, 1, 3, 0.25} { // 0.5 and 1 are on boundaries: le is ≤
		lat.observe(v, "read")
	}
	lat.observe(2, "list")
	unused := newCounterVec("t_unused_total", "Never incremented, so not listed.", "op")
	gauges := collectFunc(func(context.Context) ([]metricFamily, error) {
		return []metricFamily{
			singleValue("t_a_gauge", "Negative infinity.", gaugeType, math.Inf(-1)),
			{name: "t_pause_seconds", help: "A summary.", typ: summaryType,
				series: []metricSeries{{quantiles: []quantileValue{{0, 0.001}, {0.5, 0.25}, {1, math.NaN()}}, sum: 1.5, count: 3}}},
		}, nil
	})
	r := &registry{collectors: []collector{reqs, lat, unused, gauges}}

	status, h, body := scrapeRegistry(t, r)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", h.Get("Content-Type"))
	require.Equal(t, `# HELP t_a_gauge Negative infinity.
# TYPE t_a_gauge gauge
t_a_gauge -Inf
# HELP t_latency_seconds Latency.
# TYPE t_latency_seconds histogram
t_latency_seconds_bucket{op="list",le="0.5"} 0
t_latency_seconds_bucket{op="list",le="1"} 0
t_latency_seconds_bucket{op="list",le="2"} 1
t_latency_seconds_bucket{op="list",le="+Inf"} 1
t_latency_seconds_sum{op="list"} 2
t_latency_seconds_count{op="list"} 1
t_latency_seconds_bucket{op="read",le="0.5"} 2
t_latency_seconds_bucket{op="read",le="1"} 3
t_latency_seconds_bucket{op="read",le="2"} 3
t_latency_seconds_bucket{op="read",le="+Inf"} 4
t_latency_seconds_sum{op="read"} 4.75
t_latency_seconds_count{op="read"} 4
# HELP t_pause_seconds A summary.
# TYPE t_pause_seconds summary
t_pause_seconds{quantile="0"} 0.001
t_pause_seconds{quantile="0.5"} 0.25
t_pause_seconds{quantile="1"} NaN
t_pause_seconds_sum 1.5
t_pause_seconds_count 3
# HELP t_requests_total Requests by path\\code and status.\nSecond line.
# TYPE t_requests_total counter
t_requests_total{path="/x",code="500"} 1
t_requests_total{path="a\\b\"c\nd",code="200"} 2
`, body)
}

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{-0.5, "-0.5"},
		{0.1, "0.1"},
		{1.0 / 3, "0.3333333333333333"},
		{123456789, "1.23456789e+08"},
		{1e21, "1e+21"},
		{5e-324, "5e-324"},
		{math.Inf(1), "+Inf"},
		{math.Inf(-1), "-Inf"},
		{math.NaN(), "NaN"},
	} {
		require.Equal(t, c.want, string(appendFloat(nil, c.v)), "%v", c.v)
	}
}

// The le labels of allot's histograms are the strings client_golang wrote,
// so recorded series continue across the switch.
func TestExponentialBucketLabels(t *testing.T) {
	t.Parallel()
	label := func(bs []float64) string {
		var parts []string
		for _, b := range bs {
			parts = append(parts, string(appendFloat(nil, b)))
		}
		return strings.Join(parts, " ")
	}
	require.Equal(t, "0.25 0.5 1 2 4 8 16 32 64 128 256 512", label(exponentialBuckets(0.25, 2, 12)))
	require.Equal(t, "0.01 0.02 0.04 0.08 0.16 0.32 0.64 1.28 2.56 5.12 10.24 20.48", label(exponentialBuckets(0.01, 2, 12)))
}

// NaN and values beyond the last bound land in +Inf only; a value on a bound
// counts in that bound's bucket.
func TestHistogramBuckets(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v    float64
		want []uint64 // cumulative, le = 1, 2, +Inf
	}{
		{-5, []uint64{1, 1, 1}},
		{1, []uint64{1, 1, 1}},
		{math.Nextafter(1, 2), []uint64{0, 1, 1}},
		{2, []uint64{0, 1, 1}},
		{2.5, []uint64{0, 0, 1}},
		{math.Inf(1), []uint64{0, 0, 1}},
		{math.NaN(), []uint64{0, 0, 1}},
	} {
		h := newHistogramVec("t_h", "h", []float64{1, 2})
		h.observe(c.v)
		fams, err := h.collect(context.Background())
		require.NoError(t, err)
		var got []uint64
		for _, b := range fams[0].series[0].buckets {
			got = append(got, b.count)
		}
		require.Equal(t, c.want, got, "%v", c.v)
		require.Equal(t, uint64(1), fams[0].series[0].count)
	}
}

// Series created in any order are written in the same, sorted order on
// every scrape.
func TestExpositionOrderIsStable(t *testing.T) {
	t.Parallel()
	build := func(seed uint64) string {
		c := newCounterVec("t_total", "t", "a", "b")
		h := newHistogramVec("t_seconds", "t", []float64{1}, "a")
		rnd := rand.New(rand.NewPCG(seed, seed))
		for _, i := range rnd.Perm(50) {
			c.inc(fmt.Sprint(i%7), fmt.Sprint(i))
			h.observe(float64(i), fmt.Sprint(i))
		}
		_, _, body := scrapeRegistry(t, &registry{collectors: []collector{h, c}})
		return body
	}
	first := build(1)
	require.Equal(t, first, build(1), "the same registry scraped again")
	require.Equal(t, first, build(2), "the same series created in another order")
	i0 := strings.Index(first, `t_total{a="0",b="0"} 1`)
	i1 := strings.Index(first, `t_total{a="0",b="14"} 1`)
	i2 := strings.Index(first, `t_total{a="1",b="1"} 1`)
	require.True(t, 0 < i0 && i0 < i1 && i1 < i2, "series sorted by label values, as strings")
	require.Less(t, strings.Index(first, "# TYPE t_seconds"), strings.Index(first, "# TYPE t_total"))
}

// Concurrent increments and observations lose nothing; run with -race.
func TestConcurrentObservations(t *testing.T) {
	t.Parallel()
	c := newCounterVec("t_total", "t", "op")
	h := newHistogramVec("t_seconds", "t", []float64{1, 2}, "op")
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			op := fmt.Sprint("op", w%2)
			for i := range each {
				c.inc(op)
				h.observe(float64(i%3), op)
			}
		})
	}
	// Scrapes while writers run must be consistent snapshots.
	for range 20 {
		fams, err := h.collect(context.Background())
		require.NoError(t, err)
		for _, s := range fams[0].series {
			require.Equal(t, s.count, s.buckets[len(s.buckets)-1].count, "+Inf equals the count")
		}
	}
	wg.Wait()
	_, _, body := scrapeRegistry(t, &registry{collectors: []collector{c, h}})
	per, le1 := workers/2*each, 0
	for i := range each {
		if i%3 <= 1 {
			le1 += workers / 2
		}
	}
	for _, op := range []string{"op0", "op1"} {
		require.Contains(t, body, fmt.Sprintf("t_total{op=%q} %d\n", op, per))
		require.Contains(t, body, fmt.Sprintf("t_seconds_bucket{op=%q,le=\"1\"} %d\n", op, le1))
		require.Contains(t, body, fmt.Sprintf("t_seconds_bucket{op=%q,le=\"+Inf\"} %d\n", op, per))
		require.Contains(t, body, fmt.Sprintf("t_seconds_count{op=%q} %d\n", op, per))
	}
}

// Counting a Graph request is on the path of every call to Graph: once a
// series exists, it allocates nothing.
func TestObservingAllocatesNothing(t *testing.T) {
	m := NewMetrics(nil)
	m.Request("ListUsers", 200, 30*time.Millisecond)
	m.ObserveSync("contoso", true, time.Second, nil)
	m.Retried("ListUsers", "429")
	allocs := testing.AllocsPerRun(100, func() {
		m.Request("ListUsers", 200, 30*time.Millisecond)
		m.ObserveSync("contoso", true, time.Second, nil)
		m.Retried("ListUsers", "429")
		m.Throttled("ListUsers", 0)
	})
	require.Zero(t, allocs)
}

func TestScrapeErrors(t *testing.T) {
	t.Parallel()
	failing := collectFunc(func(context.Context) ([]metricFamily, error) { return nil, errors.New("disk on fire") })
	twice := collectFunc(func(context.Context) ([]metricFamily, error) {
		return []metricFamily{singleValue("t_a", "a", gaugeType, 1), singleValue("t_a", "a", gaugeType, 2)}, nil
	})
	sameSeries := collectFunc(func(context.Context) ([]metricFamily, error) {
		s := metricSeries{values: []string{"x"}, value: 1}
		return []metricFamily{{name: "t_b", help: "b", typ: gaugeType, labels: []string{"l"}, series: []metricSeries{s, s}}}, nil
	})
	for _, c := range []struct {
		collector collector
		want      string
	}{
		{failing, "metrics are unavailable: disk on fire\n"},
		{twice, "metrics are unavailable: metric t_a is collected twice\n"},
		{sameSeries, "metrics are unavailable: metric t_b has two series with labels [\"x\"]\n"},
	} {
		status, h, body := scrapeRegistry(t, &registry{collectors: []collector{newCounterVec("t_ok_total", "ok"), c.collector}})
		require.Equal(t, http.StatusInternalServerError, status)
		require.Equal(t, "text/plain; charset=utf-8", h.Get("Content-Type"))
		require.Equal(t, c.want, body)
	}
}

func TestBadNamesPanic(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { newCounterVec("t-total", "t") })
	require.Panics(t, func() { newCounterVec("1total", "t") })
	require.Panics(t, func() { newCounterVec("t_total", "t", "op", "op") })
	require.Panics(t, func() { newCounterVec("t_total", "t", "__name") })
	require.Panics(t, func() { newCounterVec("t_total", "t", "a:b") })
	require.Panics(t, func() { newHistogramVec("t_seconds", "t", []float64{1}, "le") })
	require.Panics(t, func() { newHistogramVec("t_seconds", "t", []float64{2, 1}) })
	require.Panics(t, func() { newHistogramVec("t_seconds", "t", []float64{1, 1}) })
	require.Panics(t, func() { newHistogramVec("t_seconds", "t", []float64{1, math.Inf(1)}) })
	require.Panics(t, func() { newHistogramVec("t_seconds", "t", nil) })
	require.Panics(t, func() { newCounterVec("t_total", "t", "op").inc() }, "too few label values")
	require.NotPanics(t, func() { newCounterVec("ns:t_total", "t", "_op", "op2").inc("a", "b") })
}

// Invalid UTF-8 in a label value must not make the page unparsable.
func TestLabelValuesAreValidUTF8(t *testing.T) {
	t.Parallel()
	c := newCounterVec("t_total", "t", "tenant")
	c.inc("bad\xffname")
	_, _, body := scrapeRegistry(t, &registry{collectors: []collector{c}})
	require.Contains(t, body, "t_total{tenant=\"bad\uFFFDname\"} 1\n")
}
