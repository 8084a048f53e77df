package fulfillment

import (
	"fmt"
	"sync"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/inventory"
)

// TenantClient builds the Graph client fulfilment uses for a registered
// tenant. Metrics lets the Fulfiller see Graph's throttling, so one 429
// pauses every process sharing the tenant's write budget.
func TenantClient(t directory.Tenant, m graph.Metrics) (*graph.Client, error) {
	secret, err := inventory.ResolveSecret(t.SecretRef)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	c, err := graph.New(graph.Config{TenantID: t.ID, ClientID: t.ClientID, ClientSecret: secret,
		GraphURL: t.GraphURL, AuthorityHost: t.AuthorityURL, CAFile: t.CAFile, Metrics: m})
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	return c, nil
}

// throttles records Graph's Retry-After answers until the governor passes
// them on to the shared budget, and counts them for reports.
type throttles struct {
	mu    sync.Mutex
	pause time.Duration
	count int64
}

func (t *throttles) Throttled(_ string, retryAfter time.Duration) {
	t.mu.Lock()
	t.pause = max(t.pause, retryAfter)
	t.count++
	t.mu.Unlock()
}

func (t *throttles) Request(string, int, time.Duration) {}
func (t *throttles) Retried(string, string)             {}

func (f *Fulfiller) takePause() time.Duration {
	f.thr.mu.Lock()
	defer f.thr.mu.Unlock()
	d := f.thr.pause
	f.thr.pause = 0
	return d
}

// Throttles is how many 429s Graph answered this Fulfiller.
func (f *Fulfiller) Throttles() int64 {
	f.thr.mu.Lock()
	defer f.thr.mu.Unlock()
	return f.thr.count
}
