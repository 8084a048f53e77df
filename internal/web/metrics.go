package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Metrics is allot's Prometheus registry. It implements graph.Metrics, so a
// Graph client built with it reports calls, throttles and retries; sync
// durations are observed by whoever runs syncs (ObserveSync); queue depth
// and fulfilment progress are read from the warehouse at scrape time, so
// they are right whichever process did the work. The Go runtime and the
// process are reported too.
type Metrics struct {
	reg            registry
	syncDuration   *histogramVec
	graphRequests  *counterVec
	graphLatency   *histogramVec
	graphThrottled *counterVec
	graphRetries   *counterVec
}

var _ graph.Metrics = (*Metrics)(nil)

// changeCount is the number of changes of a tenant in one status.
type changeCount struct {
	TenantID string
	Status   string
	Count    int64
}

// NewMetrics builds the registry; queue depth is read from store at scrape
// time. A nil store leaves the change queue out.
func NewMetrics(store warehouse.Reader) *Metrics {
	m := &Metrics{
		syncDuration: newHistogramVec("allot_sync_duration_seconds",
			"Duration of inventory syncs by tenant, kind (full or delta) and result.",
			exponentialBuckets(0.25, 2, 12), "tenant", "kind", "result"),
		graphRequests: newCounterVec("allot_graph_requests_total",
			"Microsoft Graph HTTP attempts by operation and status (0 = no response).", "op", "status"),
		graphLatency: newHistogramVec("allot_graph_request_duration_seconds",
			"Microsoft Graph request latency by operation.", exponentialBuckets(0.01, 2, 12), "op"),
		graphThrottled: newCounterVec("allot_graph_throttled_total",
			"Graph 429 responses (top-level or inside $batch) by operation.", "op"),
		graphRetries: newCounterVec("allot_graph_retries_total",
			"Graph retries by operation and reason.", "op", "reason"),
	}
	m.reg.collectors = []collector{m.syncDuration, m.graphRequests, m.graphLatency, m.graphThrottled, m.graphRetries,
		collectFunc(goRuntimeFamilies), collectFunc(processFamilies)}
	if store != nil {
		m.reg.collectors = append(m.reg.collectors, &changeCollector{counts: func(ctx context.Context) ([]changeCount, error) {
			ts, err := store.ListTenants(ctx)
			if err != nil {
				return nil, err
			}
			var out []changeCount
			for _, t := range ts {
				byStatus, err := store.CountChanges(ctx, warehouse.ChangeFilter{TenantID: t.ID})
				if err != nil {
					return nil, err
				}
				for _, st := range changeStatuses {
					out = append(out, changeCount{TenantID: t.Name, Status: st, Count: byStatus[st]})
				}
			}
			return out, nil
		}})
	}
	return m
}

// Handler serves the registry in the Prometheus text exposition format
// (version 0.0.4). If the change queue cannot be read it answers 500 with
// the reason, so that Prometheus marks the scrape failed instead of
// recording a queue that looks empty.
func (m *Metrics) Handler() http.Handler { return m.reg.handler() }

// ObserveSync records one sync's duration.
func (m *Metrics) ObserveSync(tenant string, full bool, d time.Duration, err error) {
	kind, result := "delta", "ok"
	if full {
		kind = "full"
	}
	if err != nil {
		result = "error"
	}
	m.syncDuration.observe(d.Seconds(), tenant, kind, result)
}

// Request implements graph.Metrics.
func (m *Metrics) Request(op string, status int, latency time.Duration) {
	m.graphRequests.inc(op, statusLabel(status))
	if latency > 0 {
		m.graphLatency.observe(latency.Seconds(), op)
	}
}

// Throttled implements graph.Metrics.
func (m *Metrics) Throttled(op string, _ time.Duration) { m.graphThrottled.inc(op) }

// Retried implements graph.Metrics.
func (m *Metrics) Retried(op, reason string) { m.graphRetries.inc(op, reason) }

// statusLabels holds the text of every HTTP status code, so that counting a
// Graph request does not format (and allocate) the same few strings each
// time.
var statusLabels = func() (ls [600]string) {
	for i := range ls {
		ls[i] = strconv.Itoa(i)
	}
	return ls
}()

func statusLabel(status int) string {
	if status >= 0 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

// changeCollector reports the change queue at scrape time: depth (changes
// waiting: pending approval, open, claimed) as gauges and finished changes
// (done, failed, rejected, superseded) as counters, whose rate is the
// fulfilment rate.
type changeCollector struct {
	counts func(ctx context.Context) ([]changeCount, error)
}

func (c *changeCollector) collect(ctx context.Context) ([]metricFamily, error) {
	// Give up on a busy database well within Prometheus's default scrape
	// timeout (10 s), so the scrape fails with this reason, not a timeout.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the change queue for allot_change_queue_depth and allot_changes_finished_total: %w", err)
	}
	labels := []string{"tenant", "status"}
	depth := metricFamily{name: "allot_change_queue_depth", typ: gaugeType, labels: labels,
		help: "Changes waiting in the change queue by tenant and status."}
	finished := metricFamily{name: "allot_changes_finished_total", typ: counterType, labels: labels,
		help: "Changes that reached a final status, by tenant and status; rate(…{status=\"done\"}) is the fulfilment rate."}
	for _, cc := range counts {
		s := metricSeries{values: []string{cc.TenantID, cc.Status}, value: float64(cc.Count)}
		switch cc.Status {
		case warehouse.ChangeDone, warehouse.ChangeFailed, warehouse.ChangeRejected, warehouse.ChangeSuperseded:
			finished.series = append(finished.series, s)
		default:
			depth.series = append(depth.series, s)
		}
	}
	return []metricFamily{depth, finished}, nil
}
