package web

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// This file writes the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), by hand.
// allot used prometheus/client_golang for it, which with its modules
// (client_model, common, procfs, perks, protobuf) cost about 11 s of compile
// CPU in a cold build, a sixth of the newcomer's first `go run`; allot needs
// only counters and histograms with labels, plus values read at scrape time.

// expositionContentType is what /metrics answers with; Prometheus and every
// scraper that speaks its protocol accept it.
const expositionContentType = "text/plain; version=0.0.4; charset=utf-8"

// metricType is a family's # TYPE.
type metricType string

const (
	counterType   metricType = "counter"
	gaugeType     metricType = "gauge"
	histogramType metricType = "histogram"
	summaryType   metricType = "summary"
)

// metricFamily is one metric at scrape time: everything its # HELP, # TYPE
// and sample lines say.
type metricFamily struct {
	name   string
	help   string
	typ    metricType
	labels []string // label names, in the order they are written
	series []metricSeries
}

// metricSeries is one combination of label values of a family. Counters and
// gauges use value; histograms use buckets, sum and count; summaries use
// quantiles, sum and count.
type metricSeries struct {
	values    []string
	value     float64
	buckets   []bucketCount // cumulative, the last one is le="+Inf"
	quantiles []quantileValue
	sum       float64
	count     uint64
}

type bucketCount struct {
	le    float64
	count uint64
}

type quantileValue struct {
	q, v float64
}

// singleValue is a family of one series without labels, the shape of most
// runtime and process metrics.
func singleValue(name, help string, typ metricType, v float64) metricFamily {
	return metricFamily{name: name, help: help, typ: typ, series: []metricSeries{{value: v}}}
}

// collector contributes families to each scrape.
type collector interface {
	collect(ctx context.Context) ([]metricFamily, error)
}

// collectFunc makes a function a collector, for families computed at scrape
// time.
type collectFunc func(ctx context.Context) ([]metricFamily, error)

func (f collectFunc) collect(ctx context.Context) ([]metricFamily, error) { return f(ctx) }

// registry is the set of collectors /metrics answers with. Collectors are
// added while the Metrics is built and never after, so reading the slice
// needs no lock.
type registry struct {
	collectors []collector
}

// gather collects every family, drops the empty ones (a labelled counter
// nobody incremented yet has nothing to say, and client_golang left such
// families out too), and sorts families by name and series by label values
// so that two scrapes list things in the same order.
func (r *registry) gather(ctx context.Context) ([]metricFamily, error) {
	var fams []metricFamily
	for _, c := range r.collectors {
		fs, err := c.collect(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if len(f.series) > 0 {
				fams = append(fams, f)
			}
		}
	}
	slices.SortFunc(fams, func(a, b metricFamily) int { return strings.Compare(a.name, b.name) })
	for i := range fams {
		f := &fams[i]
		// A second family or series with the same identity would be an
		// invalid exposition that Prometheus rejects whole; say which.
		if i > 0 && fams[i-1].name == f.name {
			return nil, fmt.Errorf("metric %s is collected twice", f.name)
		}
		slices.SortFunc(f.series, func(a, b metricSeries) int { return slices.Compare(a.values, b.values) })
		for j := 1; j < len(f.series); j++ {
			if slices.Equal(f.series[j-1].values, f.series[j].values) {
				return nil, fmt.Errorf("metric %s has two series with labels %q", f.name, f.series[j].values)
			}
		}
	}
	return fams, nil
}

// handler serves one scrape. The page is built in memory before anything
// is sent, so that a collector's error becomes a 500 with the reason rather
// than a page Prometheus would take for the whole truth.
func (r *registry) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fams, err := r.gather(req.Context())
		if err != nil {
			http.Error(w, "metrics are unavailable: "+err.Error(), http.StatusInternalServerError)
			return
		}
		b := appendExposition(make([]byte, 0, 16<<10), fams)
		w.Header().Set("Content-Type", expositionContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
}

// appendExposition writes families, already gathered, in the text format.
func appendExposition(b []byte, fams []metricFamily) []byte {
	for _, f := range fams {
		b = append(b, "# HELP "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = appendEscaped(b, f.help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, f.typ...)
		b = append(b, '\n')
		for _, s := range f.series {
			switch f.typ {
			case histogramType:
				for _, bk := range s.buckets {
					b = appendSeriesName(b, f.name, "_bucket", f.labels, s.values, "le", bk.le)
					b = appendUint(b, bk.count)
				}
				b = appendSumCount(b, f, s)
			case summaryType:
				for _, q := range s.quantiles {
					b = appendSeriesName(b, f.name, "", f.labels, s.values, "quantile", q.q)
					b = appendValue(b, q.v)
				}
				b = appendSumCount(b, f, s)
			default:
				b = appendSeriesName(b, f.name, "", f.labels, s.values, "", 0)
				b = appendValue(b, s.value)
			}
		}
	}
	return b
}

func appendSumCount(b []byte, f metricFamily, s metricSeries) []byte {
	b = appendSeriesName(b, f.name, "_sum", f.labels, s.values, "", 0)
	b = appendValue(b, s.sum)
	b = appendSeriesName(b, f.name, "_count", f.labels, s.values, "", 0)
	return appendUint(b, s.count)
}

// appendSeriesName writes name+suffix and the labels, then the space before
// the value. extra, when not empty, is a last label with a numeric value: a
// histogram's le or a summary's quantile.
func appendSeriesName(b []byte, name, suffix string, labels, values []string, extra string, extraValue float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if len(labels) > 0 || extra != "" {
		b = append(b, '{')
		for i, l := range labels {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, l...)
			b = append(b, `="`...)
			b = appendEscaped(b, values[i], true)
			b = append(b, '"')
		}
		if extra != "" {
			if len(labels) > 0 {
				b = append(b, ',')
			}
			b = append(b, extra...)
			b = append(b, `="`...)
			b = appendFloat(b, extraValue)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return append(b, ' ')
}

func appendValue(b []byte, v float64) []byte {
	return append(appendFloat(b, v), '\n')
}

func appendUint(b []byte, n uint64) []byte {
	return append(strconv.AppendUint(b, n, 10), '\n')
}

// appendFloat writes a value as Prometheus's parser reads it: the shortest
// representation that round-trips, and +Inf, -Inf, NaN spelled its way.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendEscaped escapes a HELP text (backslash and newline) or, with quote, a
// label value (also the double quote). The format is UTF-8: invalid bytes, which
// a tenant name could in principle carry, become U+FFFD rather than making
// the whole page unparsable.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// checkNames panics on a metric or label name Prometheus would reject:
// names are constants in allot's code, so a bad one is a programming error,
// caught by any test that builds the Metrics.
func checkNames(name string, labels []string, reserved string) {
	if !validName(name, true) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	for i, l := range labels {
		if !validName(l, false) || strings.HasPrefix(l, "__") || l == reserved || slices.Contains(labels[:i], l) {
			panic(fmt.Sprintf("metrics: invalid or repeated label name %q on %s", l, name))
		}
	}
}

// validName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]* (metric
// names) or [a-zA-Z_][a-zA-Z0-9_]* (label names).
func validName(s string, colon bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' || colon && c == ':'
		if !ok {
			return false
		}
	}
	return s != ""
}

// checkValues panics when a caller passes the wrong number of label values,
// as client_golang's WithLabelValues did: the call sites are few and fixed.
func checkValues(name string, labels, values []string) {
	if len(values) != len(labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", name, len(labels), len(values)))
	}
}

// vec is what counter and histogram families share: their series, S
// each, by label values. One mutex guards them all: an update is a map
// lookup and a few adds, far cheaper than the Graph request it counts, so
// contention is not worth sharding for.
type vec[S any] struct {
	name, help string
	labels     []string
	zero       func() S // a new series

	mu     sync.Mutex
	series map[string]*labelled[S]
}

type labelled[S any] struct {
	values []string
	s      S
}

func newVec[S any](name, help string, labels []string, zero func() S) vec[S] {
	return vec[S]{name: name, help: help, labels: labels, zero: zero, series: map[string]*labelled[S]{}}
}

// seriesKey identifies a series within its family by its label values, each
// prefixed with its length so that no value can run into the next whatever
// bytes it holds. Callers pass a stack buffer: looking a []byte key up in a
// map does not allocate, so observing an existing series allocates nothing.
func seriesKey(b []byte, values []string) []byte {
	for _, v := range values {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// lock locks the family and returns the series with these label values,
// created if need be; the caller updates it and unlocks v.mu.
func (v *vec[S]) lock(values []string) *S {
	checkValues(v.name, v.labels, values)
	var buf [128]byte
	key := seriesKey(buf[:0], values)
	v.mu.Lock()
	l := v.series[string(key)]
	if l == nil {
		l = &labelled[S]{values: slices.Clone(values), s: v.zero()}
		v.series[string(key)] = l
	}
	return &l.s
}

// family is the family at this instant, each series turned into its
// exposition by series.
func (v *vec[S]) family(typ metricType, series func(s *S) metricSeries) []metricFamily {
	f := metricFamily{name: v.name, help: v.help, typ: typ, labels: v.labels}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, l := range v.series {
		ms := series(&l.s)
		ms.values = l.values
		f.series = append(f.series, ms)
	}
	return []metricFamily{f}
}

// counterVec is a counter family with labels.
type counterVec struct {
	vec[uint64]
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	checkNames(name, labels, "")
	return &counterVec{newVec(name, help, labels, func() uint64 { return 0 })}
}

// inc adds one to the series with these label values.
func (c *counterVec) inc(values ...string) {
	*c.lock(values)++
	c.mu.Unlock()
}

func (c *counterVec) collect(context.Context) ([]metricFamily, error) {
	return c.family(counterType, func(n *uint64) metricSeries { return metricSeries{value: float64(*n)} }), nil
}

// histogramVec is a histogram family with labels and fixed buckets.
type histogramVec struct {
	vec[histogramSeries]
	bounds []float64 // upper bounds, strictly ascending; +Inf is implied
}

type histogramSeries struct {
	counts []uint64 // per bucket, not cumulative; the last is (bounds[len-1], +Inf)
	sum    float64
	count  uint64
}

func newHistogramVec(name, help string, bounds []float64, labels ...string) *histogramVec {
	checkNames(name, labels, "le")
	ok := len(bounds) > 0 && !math.IsInf(bounds[len(bounds)-1], 1)
	for i := 1; i < len(bounds); i++ {
		ok = ok && bounds[i] > bounds[i-1] // also false for NaN
	}
	if !ok {
		panic(fmt.Sprintf("metrics: %s needs strictly ascending finite bucket bounds, got %v", name, bounds))
	}
	zero := func() histogramSeries { return histogramSeries{counts: make([]uint64, len(bounds)+1)} }
	return &histogramVec{vec: newVec(name, help, labels, zero), bounds: bounds}
}

// exponentialBuckets returns n upper bounds start, start·factor, …, computed
// by repeated multiplication as client_golang did, so le labels are the same
// strings as before.
func exponentialBuckets(start, factor float64, n int) []float64 {
	if start <= 0 || factor <= 1 || n < 1 {
		panic(fmt.Sprintf("metrics: exponentialBuckets(%v, %v, %d)", start, factor, n))
	}
	bs := make([]float64, n)
	for i := range bs {
		bs[i] = start
		start *= factor
	}
	return bs
}

// observe records v in the series with these label values. Bounds are
// inclusive (le means ≤); NaN lands only in +Inf, as in client_golang.
func (h *histogramVec) observe(v float64, values ...string) {
	i := sort.SearchFloat64s(h.bounds, v)
	s := h.lock(values)
	s.counts[i]++
	s.sum += v
	s.count++
	h.mu.Unlock()
}

func (h *histogramVec) collect(context.Context) ([]metricFamily, error) {
	return h.family(histogramType, func(s *histogramSeries) metricSeries {
		bs := make([]bucketCount, len(s.counts))
		var cum uint64
		for i, n := range s.counts {
			cum += n
			bs[i] = bucketCount{le: math.Inf(1), count: cum}
			if i < len(h.bounds) {
				bs[i].le = h.bounds[i]
			}
		}
		return metricSeries{buckets: bs, sum: s.sum, count: s.count}
	}), nil
}
