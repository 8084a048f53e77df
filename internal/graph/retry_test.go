package graph

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10", 10 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"0.25", 250 * time.Millisecond, true},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Sat, 01 Mar 2025 11:59:00 GMT", 0, true}, // in the past: retry now
		{"", 0, false},
		{"-5", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"1e300", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		require.Equal(t, tt.ok, ok, "%q", tt.in)
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	for attempt, full := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 30: time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := p.backoff(attempt)
			require.GreaterOrEqual(t, d, full/2, "attempt %d", attempt)
			require.LessOrEqual(t, d, full, "attempt %d", attempt)
			seen[d] = true
		}
		require.Greater(t, len(seen), 10, "attempt %d: backoff must be jittered", attempt)
	}
}

func TestWaitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxRetryAfter: time.Minute}.withDefaults()
	d, ok := p.wait(1, 10*time.Second, true)
	require.True(t, ok)
	require.GreaterOrEqual(t, d, 10*time.Second)
	require.LessOrEqual(t, d, 11*time.Second)

	_, ok = p.wait(1, 2*time.Minute, true)
	require.False(t, ok, "a Retry-After beyond MaxRetryAfter gives up instead of stalling")

	d, ok = p.wait(1, 0, false)
	require.True(t, ok)
	require.LessOrEqual(t, d, p.BaseDelay)
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{429: true, 503: true, 504: true, 500: false, 502: false, 400: false, 404: false, 200: false} {
		require.Equal(t, want, retryable(status), "%d", status)
	}
}

func TestRetryAfterPrefersMilliseconds(t *testing.T) {
	t.Parallel()
	h := http.Header{"Retry-After": {"2"}, "X-Ms-Retry-After-Ms": {"20"}}
	d, ok := retryAfter(h.Get, time.Now())
	require.True(t, ok)
	require.Equal(t, 20*time.Millisecond, d)
	h.Del("X-Ms-Retry-After-Ms")
	d, ok = retryAfter(h.Get, time.Now())
	require.True(t, ok)
	require.Equal(t, 2*time.Second, d)
	h.Set("retry-after-ms", "garbage")
	d, _ = retryAfter(h.Get, time.Now())
	require.Equal(t, 2*time.Second, d, "an unreadable ms header falls back to Retry-After")
}
