package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Metrics is allot's Prometheus registry. It implements graph.Metrics, so a
// Graph client built with it reports calls, throttles and retries; sync
// durations are observed by whoever runs syncs (ObserveSync); queue depth
// and fulfilment progress are read from the warehouse at scrape time, so
// they are right whichever process did the work.
type Metrics struct {
	reg            *prometheus.Registry
	syncDuration   *prometheus.HistogramVec
	graphRequests  *prometheus.CounterVec
	graphLatency   *prometheus.HistogramVec
	graphThrottled *prometheus.CounterVec
	graphRetries   *prometheus.CounterVec
}

var _ graph.Metrics = (*Metrics)(nil)

// changeCount is the number of changes of a tenant in one status.
type changeCount struct {
	TenantID string
	Status   string
	Count    int64
}

// NewMetrics builds the registry; queue depth is read from store at scrape
// time.
func NewMetrics(store warehouse.Reader) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.syncDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "allot_sync_duration_seconds", Help: "Duration of inventory syncs by tenant, kind (full or delta) and result.",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
	}, []string{"tenant", "kind", "result"})
	m.graphRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allot_graph_requests_total", Help: "Microsoft Graph HTTP attempts by operation and status (0 = no response).",
	}, []string{"op", "status"})
	m.graphLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "allot_graph_request_duration_seconds", Help: "Microsoft Graph request latency by operation.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{"op"})
	m.graphThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allot_graph_throttled_total", Help: "Graph 429 responses (top-level or inside $batch) by operation.",
	}, []string{"op"})
	m.graphRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allot_graph_retries_total", Help: "Graph retries by operation and reason.",
	}, []string{"op", "reason"})
	m.reg.MustRegister(m.syncDuration, m.graphRequests, m.graphLatency, m.graphThrottled, m.graphRetries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if store != nil {
		m.reg.MustRegister(&changeCollector{counts: func(ctx context.Context) ([]changeCount, error) {
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

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveSync records one sync's duration.
func (m *Metrics) ObserveSync(tenant string, full bool, d time.Duration, err error) {
	kind, result := "delta", "ok"
	if full {
		kind = "full"
	}
	if err != nil {
		result = "error"
	}
	m.syncDuration.WithLabelValues(tenant, kind, result).Observe(d.Seconds())
}

// Request implements graph.Metrics.
func (m *Metrics) Request(op string, status int, latency time.Duration) {
	m.graphRequests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	if latency > 0 {
		m.graphLatency.WithLabelValues(op).Observe(latency.Seconds())
	}
}

// Throttled implements graph.Metrics.
func (m *Metrics) Throttled(op string, _ time.Duration) { m.graphThrottled.WithLabelValues(op).Inc() }

// Retried implements graph.Metrics.
func (m *Metrics) Retried(op, reason string) { m.graphRetries.WithLabelValues(op, reason).Inc() }

// changeCollector reports the change queue at scrape time: depth (changes
// waiting: pending approval, open, claimed) and finished changes (done,
// failed, rejected, superseded) as counters, whose rate is the fulfilment
// rate.
type changeCollector struct {
	counts func(ctx context.Context) ([]changeCount, error)
}

var (
	queueDepthDesc = prometheus.NewDesc("allot_change_queue_depth",
		"Changes waiting in the change queue by tenant and status.", []string{"tenant", "status"}, nil)
	changesFinishedDesc = prometheus.NewDesc("allot_changes_finished_total",
		"Changes that reached a final status, by tenant and status; rate(…{status=\"done\"}) is the fulfilment rate.",
		[]string{"tenant", "status"}, nil)
)

func (c *changeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- changesFinishedDesc
}

func (c *changeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
		return
	}
	for _, cc := range counts {
		switch cc.Status {
		case "done", "failed", "rejected", "superseded":
			ch <- prometheus.MustNewConstMetric(changesFinishedDesc, prometheus.CounterValue, float64(cc.Count), cc.TenantID, cc.Status)
		default:
			ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(cc.Count), cc.TenantID, cc.Status)
		}
	}
}
