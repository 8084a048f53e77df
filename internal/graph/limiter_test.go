package graph

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBucketPacesToRate(t *testing.T) {
	t.Parallel()
	b := newBucket(200, 10) // 200/s after a burst of 10
	ctx := context.Background()
	start := time.Now()
	for range 50 {
		require.NoError(t, b.wait(ctx, 1))
	}
	// 40 tokens beyond the burst at 200/s take ≥ 200 ms.
	require.GreaterOrEqual(t, time.Since(start), 190*time.Millisecond)
	require.Less(t, time.Since(start), 2*time.Second)
}

func TestBucketOversizeRequestAndCancel(t *testing.T) {
	t.Parallel()
	b := newBucket(10, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A $batch of 20 exceeds the burst; it must wait, not deadlock, and a
	// cancelled wait gives its tokens back.
	require.ErrorIs(t, b.wait(ctx, 20), context.Canceled)
	require.Equal(t, time.Duration(0), b.take(5), "refunded tokens are available again")
	require.Nil(t, newBucket(0, 0), "zero rate means unlimited")
	require.NoError(t, (*bucket)(nil).wait(ctx, 1))
}

func TestPauseScopes(t *testing.T) {
	t.Parallel()
	l := newLimiter(Limits{Concurrency: 1})
	l.pause(time.Minute, "Tenant_Application/Write/app/tenant")
	require.Greater(t, l.pauseLeft(true, false), 50*time.Second, "writes paused")
	require.LessOrEqual(t, l.pauseLeft(false, true), time.Duration(0), "reads continue")
	l.pause(time.Minute, "")
	require.Greater(t, l.pauseLeft(false, true), 50*time.Second, "unscoped throttle pauses reads too")
}
