package graph

import "time"

// Metrics receives the client's counters. The server implements it with
// Prometheus; this package stays free of that dependency. Implementations
// must be safe for concurrent use and fast: they run on the request path.
type Metrics interface {
	// Request is called once per HTTP attempt (a retry is a new attempt)
	// with the call name, the status (0 when no response arrived) and the
	// latency. For $batch, inner responses are reported too, with zero
	// latency, so throttling inside batches is visible.
	Request(op string, status int, latency time.Duration)
	// Throttled is called for every 429 (top-level or inside $batch) with
	// the wait Graph asked for (0 if none).
	Throttled(op string, retryAfter time.Duration)
	// Retried is called before each retry with the reason: the status code
	// as text ("429", "503", "504", "401") or "transport".
	Retried(op string, reason string)
}

type nopMetrics struct{}

func (nopMetrics) Request(string, int, time.Duration) {}
func (nopMetrics) Throttled(string, time.Duration)    {}
func (nopMetrics) Retried(string, string)             {}

// MetricsFuncs adapts plain functions to Metrics; nil fields are skipped.
// It suits tests and small programs that count one thing.
type MetricsFuncs struct {
	OnRequest   func(op string, status int, latency time.Duration)
	OnThrottled func(op string, retryAfter time.Duration)
	OnRetried   func(op string, reason string)
}

// Request implements Metrics.
func (m MetricsFuncs) Request(op string, status int, latency time.Duration) {
	if m.OnRequest != nil {
		m.OnRequest(op, status, latency)
	}
}

// Throttled implements Metrics.
func (m MetricsFuncs) Throttled(op string, retryAfter time.Duration) {
	if m.OnThrottled != nil {
		m.OnThrottled(op, retryAfter)
	}
}

// Retried implements Metrics.
func (m MetricsFuncs) Retried(op string, reason string) {
	if m.OnRetried != nil {
		m.OnRetried(op, reason)
	}
}
