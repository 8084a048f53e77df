package graph

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryable reports whether a status is worth retrying: Graph's throttle and
// its two transient gateway failures. Everything else is the caller's problem.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// parseRetryAfter reads a Retry-After value: delay-seconds (Graph's form;
// fractions are accepted for time-scaled simulators) or an HTTP-date. ok is
// false when the header is absent or unreadable, so the caller falls back to
// its own backoff rather than retrying at once.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs >= 0 && secs <= 1e6) { // also rejects NaN and Inf, which ParseFloat accepts
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d = t.Sub(now); d < 0 {
		d = 0
	}
	return d, true
}

// retryAfter reads the server's requested wait from response headers. The
// millisecond headers of Azure front ends (x-ms-retry-after-ms,
// retry-after-ms), when present, are more precise than Retry-After's whole
// seconds and win, as in the Azure SDKs.
func retryAfter(get func(string) string, now time.Time) (time.Duration, bool) {
	for _, h := range []string{"x-ms-retry-after-ms", "retry-after-ms"} {
		if ms, err := strconv.ParseInt(strings.TrimSpace(get(h)), 10, 64); err == nil && ms >= 0 && ms <= 1e9 {
			return time.Duration(ms) * time.Millisecond, true
		}
	}
	return parseRetryAfter(get("Retry-After"), now)
}

// backoff is the wait before retry number attempt (1 = first retry) when the
// server gave no Retry-After: exponential from BaseDelay, capped at MaxDelay,
// with "equal jitter" (half fixed, half random) so that many clients
// throttled together do not come back together, yet none retries at once.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// wait is the delay before retry number attempt given the server's
// Retry-After (if any). A Retry-After is honoured exactly plus up to 10 %
// jitter; one beyond MaxRetryAfter means "give up" (ok false).
func (p RetryPolicy) wait(attempt int, retryAfter time.Duration, hasRetryAfter bool) (time.Duration, bool) {
	if !hasRetryAfter {
		return p.backoff(attempt), true
	}
	if retryAfter > p.MaxRetryAfter {
		return 0, false
	}
	return retryAfter + rand.N(retryAfter/10+1), true
}
