package graphsim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// bucket is a token bucket refilled continuously: capacity tokens per
// window. Graph describes its identity limits this way (graph.md §6).
type bucket struct {
	capacity float64
	perSec   float64 // real-time refill rate (already time-scaled)
	tokens   float64
	last     time.Time
}

func newBucket(capacity int, window time.Duration, scale float64) *bucket {
	if capacity <= 0 || window <= 0 {
		return nil
	}
	return &bucket{
		capacity: float64(capacity),
		perSec:   float64(capacity) / window.Seconds() * scale,
		tokens:   float64(capacity),
	}
}

func (b *bucket) refill(now time.Time) {
	if !b.last.IsZero() {
		b.tokens = math.Min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.perSec)
	}
	b.last = now
}

// wait is how long until n tokens are available (0 when they are now).
func (b *bucket) wait(n float64) time.Duration {
	if b.tokens >= n {
		return 0
	}
	return time.Duration((n - b.tokens) / b.perSec * float64(time.Second))
}

// usage is the share of the budget in use, for x-ms-throttle-limit-percentage.
func (b *bucket) usage() float64 { return 1 - b.tokens/b.capacity }

// throttler holds the per-app (app + tenant) buckets.
type throttler struct {
	mu     sync.Mutex
	budget Budget
	scale  float64
	apps   map[string]*appBuckets
}

type appBuckets struct{ ru, writes *bucket }

func newThrottler(b Budget, scale float64) *throttler {
	return &throttler{budget: b, scale: scale, apps: map[string]*appBuckets{}}
}

// throttleVerdict is the outcome of charging a request.
type throttleVerdict struct {
	ok         bool
	retryAfter time.Duration // real time
	info       string        // x-ms-throttle-information
	scope      string        // Read, Write or ReadWrite
	usage      float64
}

// charge takes ru resource units (and one write when write is set) from
// the app's buckets, or reports how long to wait. A rejected request takes
// nothing: Graph counts what it serves.
func (th *throttler) charge(app string, ru int, write bool, now time.Time) throttleVerdict {
	th.mu.Lock()
	defer th.mu.Unlock()
	ab := th.apps[app]
	if ab == nil {
		ab = &appBuckets{
			ru:     newBucket(th.budget.ResourceUnits, th.budget.ResourceWindow, th.scale),
			writes: newBucket(th.budget.Writes, th.budget.WriteWindow, th.scale),
		}
		th.apps[app] = ab
	}
	v := throttleVerdict{ok: true}
	if ab.ru != nil {
		ab.ru.refill(now)
		if d := ab.ru.wait(float64(ru)); d > 0 {
			v = throttleVerdict{retryAfter: d, info: "ResourceUnitLimitExceeded", scope: "Read"}
		}
	}
	if write && ab.writes != nil {
		ab.writes.refill(now)
		if d := ab.writes.wait(1); d > 0 && d > v.retryAfter {
			v = throttleVerdict{retryAfter: d, info: "WriteLimitExceeded", scope: "Write"}
		}
	}
	if v.retryAfter > 0 {
		if write && v.scope == "Read" {
			v.scope = "ReadWrite"
		}
		return v
	}
	if ab.ru != nil {
		ab.ru.tokens -= float64(ru)
		v.usage = ab.ru.usage()
	}
	if write && ab.writes != nil {
		ab.writes.tokens--
		v.usage = math.Max(v.usage, ab.writes.usage())
	}
	return v
}

// setThrottled writes the headers of a throttled response. Retry-After is in
// whole seconds as Graph sends it; x-ms-retry-after-ms carries the exact
// (time-scaled) wait, which Azure SDK retry policies prefer when present.
func setThrottled(h http.Header, v throttleVerdict, appID, tenantID string) {
	secs := int(math.Ceil(v.retryAfter.Seconds()))
	h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
	ms := (v.retryAfter + time.Millisecond - 1) / time.Millisecond
	h.Set("x-ms-retry-after-ms", strconv.FormatInt(max(int64(ms), 1), 10))
	h.Set("x-ms-throttle-scope", "Tenant_Application/"+v.scope+"/"+appID+"/"+tenantID)
	h.Set("x-ms-throttle-information", v.info)
}

// requestCost is the resource-unit cost of a request per graph.md §6: a base
// cost by endpoint, −1 for $select, +1 for $expand, −1 for $top below 20,
// never below 1.
func requestCost(base int, q map[string][]string) int {
	c := base
	if len(q["$select"]) > 0 {
		c--
	}
	if len(q["$expand"]) > 0 {
		c++
	}
	if t := q["$top"]; len(t) > 0 {
		if n, err := strconv.Atoi(t[0]); err == nil && n < 20 {
			c--
		}
	}
	return max(c, 1)
}
