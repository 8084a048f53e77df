package graph

import (
	"context"
	"strings"
	"sync"
	"time"
)

// bucket is a token bucket with reservation semantics: a caller takes its
// tokens at once (possibly going into debt) and sleeps for the debt, so
// waiting callers are served in arrival order and a request needing more
// tokens than the burst (a full $batch) still proceeds.
type bucket struct {
	rate  float64 // tokens per second; 0 = unlimited
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int) *bucket {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if b < 1 {
		b = max(1, rate) // one second's worth by default
	}
	return &bucket{rate: rate, burst: b, tokens: b, last: time.Now()}
}

// take reserves n tokens and returns how long the caller must wait.
func (b *bucket) take(n float64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= n
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// refund returns tokens whose request never went out (cancelled while waiting).
func (b *bucket) refund(n float64) {
	b.mu.Lock()
	b.tokens = min(b.burst, b.tokens+n)
	b.mu.Unlock()
}

// wait blocks until n tokens are available or ctx ends.
func (b *bucket) wait(ctx context.Context, n int) error {
	if b == nil || n <= 0 {
		return nil
	}
	d := b.take(float64(n))
	if err := sleep(ctx, d); err != nil {
		b.refund(float64(n))
		return err
	}
	return nil
}

// limiter is the per-Client (so per-tenant) gate every HTTP attempt passes:
// a concurrency cap, the read and write buckets, and a shared pause set when
// Graph throttles, so one 429 slows every worker instead of each finding out
// on its own.
type limiter struct {
	sem    chan struct{}
	all    *bucket
	writes *bucket

	mu          sync.Mutex
	readsUntil  time.Time
	writesUntil time.Time
}

func newLimiter(l Limits) *limiter {
	return &limiter{
		sem:    make(chan struct{}, l.Concurrency),
		all:    newBucket(l.RequestsPerSecond, l.Burst),
		writes: newBucket(l.WritesPerSecond, l.WriteBurst),
	}
}

// cost is what one HTTP attempt consumes from the limiter.
type cost struct {
	requests int // inner requests for $batch, else 1
	writes   int
}

// acquire waits for the pause, the buckets and a concurrency slot, in that
// order so a request holds no slot while it sleeps. release must follow.
func (l *limiter) acquire(ctx context.Context, c cost) error {
	if err := sleep(ctx, l.pauseLeft(c.writes > 0, c.requests > c.writes)); err != nil {
		return err
	}
	if err := l.all.wait(ctx, c.requests); err != nil {
		return err
	}
	if err := l.writes.wait(ctx, c.writes); err != nil {
		return err
	}
	select {
	case l.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *limiter) release() { <-l.sem }

func (l *limiter) pauseLeft(writes, reads bool) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var until time.Time
	if writes && l.writesUntil.After(until) {
		until = l.writesUntil
	}
	if reads && l.readsUntil.After(until) {
		until = l.readsUntil
	}
	return time.Until(until)
}

// pause holds back new requests after a throttle. Graph's
// x-ms-throttle-scope ("Tenant_Application/Write/…") says which budget ran
// out; only that kind of request is paused, so reads continue while the
// write budget refills.
func (l *limiter) pause(d time.Duration, scope string) {
	until := time.Now().Add(d)
	reads, writes := true, true
	switch parts := strings.Split(scope, "/"); {
	case len(parts) > 1 && strings.EqualFold(parts[1], "Read"):
		writes = false
	case len(parts) > 1 && strings.EqualFold(parts[1], "Write"):
		reads = false
	}
	l.mu.Lock()
	if reads && until.After(l.readsUntil) {
		l.readsUntil = until
	}
	if writes && until.After(l.writesUntil) {
		l.writesUntil = until
	}
	l.mu.Unlock()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
