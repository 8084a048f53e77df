package fulfillment

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Budget is a tenant's Graph write budget (graph.md §6: 3,000 writes per
// 150 s per app and tenant). Against `allot sim --time-scale N`, divide
// Window by N.
type Budget struct {
	Writes int
	Window time.Duration
}

// DefaultBudget is Graph's identity write budget.
var DefaultBudget = Budget{Writes: 3000, Window: 150 * time.Second}

// Config tunes a Fulfiller; zero values take the defaults.
type Config struct {
	// Owner names this process in claims (default host-pid-random).
	Owner string
	// Lease is how long a claim is held before another worker may take it
	// over (default 2 min). A worker extends it while it waits for budget.
	Lease time.Duration
	// MaxAttempts before a change is failed (default 6).
	MaxAttempts int
	// Backoff is the first retry delay, doubled per attempt (default 10 s).
	Backoff time.Duration
	// Budget is the write budget shared by every process (default Graph's).
	Budget Budget
	// Utilisation is the share of the budget the governor spends (default
	// 0.98): close to all of it, with room for clock jitter.
	Utilisation float64
	// Concurrency is how many claims one Drain works at once (default 4).
	Concurrency int
	// GroupAdds and Others size one claim (defaults 2,000 and 100): 2,000
	// adds pack into as few as 100 PATCHes, five $batch calls; fewer, larger
	// claims mean fewer commits, which is what limits the warehouse side.
	GroupAdds, Others int
}

func (c *Config) defaults() {
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8])
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
	if c.Backoff <= 0 {
		c.Backoff = 10 * time.Second
	}
	if c.Budget.Writes <= 0 || c.Budget.Window <= 0 {
		c.Budget = DefaultBudget
	}
	if c.Utilisation <= 0 || c.Utilisation > 1 {
		c.Utilisation = 0.98
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.GroupAdds <= 0 {
		c.GroupAdds = 2000
	}
	if c.Others <= 0 {
		c.Others = 100
	}
}

// ClientFunc returns a Graph client for a tenant reporting to m (see
// TenantClient); the Fulfiller builds one per tenant and shares it.
type ClientFunc func(t directory.Tenant, m graph.Metrics) (*graph.Client, error)

// Fulfiller applies queued changes. It is safe for concurrent use.
type Fulfiller struct {
	store   warehouse.Store
	clients ClientFunc
	cfg     Config
	log     *slog.Logger

	mu    sync.Mutex
	cache map[string]*graph.Client
	thr   throttles
}

// New returns a Fulfiller over store, reaching Graph through clients
// (nil means TenantClient).
func New(store warehouse.Store, clients ClientFunc, cfg Config, log *slog.Logger) *Fulfiller {
	cfg.defaults()
	if clients == nil {
		clients = TenantClient
	}
	if log == nil {
		log = slog.Default()
	}
	return &Fulfiller{store: store, clients: clients, cfg: cfg, log: log, cache: map[string]*graph.Client{}}
}

// Owner is the name this Fulfiller claims changes under.
func (f *Fulfiller) Owner() string { return f.cfg.Owner }

func (f *Fulfiller) client(t directory.Tenant) (*graph.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.cache[t.ID]; ok {
		return c, nil
	}
	c, err := f.clients(t, &f.thr)
	if err != nil {
		return nil, err
	}
	f.cache[t.ID] = c
	return c, nil
}

// Stats counts what a Drain did.
type Stats struct {
	Claimed int64 `json:"claimed"`
	Done    int64 `json:"done"`
	Failed  int64 `json:"failed"`
	Retried int64 `json:"retried"`
	Writes  int64 `json:"writes"`
}

func (s *Stats) add(o Stats) {
	atomic.AddInt64(&s.Claimed, o.Claimed)
	atomic.AddInt64(&s.Done, o.Done)
	atomic.AddInt64(&s.Failed, o.Failed)
	atomic.AddInt64(&s.Retried, o.Retried)
	atomic.AddInt64(&s.Writes, o.Writes)
}

// Drain applies due changes of a tenant until none is left to claim.
// Changes waiting for approval, an effective date or a retry stay queued.
func (f *Fulfiller) Drain(ctx context.Context, tenantID string) (Stats, error) {
	var total Stats
	t, err := f.store.GetTenant(ctx, tenantID)
	if err != nil {
		return total, err
	}
	c, err := f.client(t)
	if err != nil {
		return total, err
	}
	g, gctx := errgroup.WithContext(ctx)
	for range f.cfg.Concurrency {
		g.Go(func() error {
			for {
				st, err := f.runOnce(gctx, t.ID, c)
				total.add(st)
				if err != nil || st.Claimed == 0 {
					return err
				}
			}
		})
	}
	return total, g.Wait()
}

// runOnce claims one batch of changes, applies it and records the outcomes.
func (f *Fulfiller) runOnce(ctx context.Context, tenantID string, c *graph.Client) (Stats, error) {
	claimed, err := f.store.ClaimChanges(ctx, warehouse.ChangeClaim{TenantID: tenantID, Owner: f.cfg.Owner,
		Lease: f.cfg.Lease, GroupAdds: f.cfg.GroupAdds, Others: f.cfg.Others})
	if err != nil || len(claimed) == 0 {
		return Stats{}, err
	}
	st := Stats{Claimed: int64(len(claimed))}
	a := &attempt{f: f, tenantID: tenantID, c: c, results: map[string]result{}}
	a.apply(ctx, claimed)
	st.Writes = a.writes
	outs := make([]warehouse.ChangeOutcome, 0, len(claimed))
	for _, ch := range claimed {
		out := f.outcome(&ch, a.results[ch.ID])
		switch out.Status {
		case warehouse.ChangeDone:
			st.Done++
		case warehouse.ChangeFailed:
			st.Failed++
		default:
			st.Retried++
		}
		outs = append(outs, out)
	}
	if ctx.Err() != nil {
		// Shutting down: leave the claims to expire rather than record
		// outcomes of calls that may have been cut short.
		return st, ctx.Err()
	}
	return st, f.land(context.WithoutCancel(ctx), tenantID, claimed, outs)
}

// outcome turns what Graph said into the change's next status.
func (f *Fulfiller) outcome(ch *warehouse.Change, r result) warehouse.ChangeOutcome {
	out := warehouse.ChangeOutcome{ID: ch.ID}
	switch {
	case r.err == nil && r.how != "":
		out.Status, out.Result = warehouse.ChangeDone, r.how
	case r.permanent || ch.Attempts >= f.cfg.MaxAttempts:
		out.Status, out.LastError = warehouse.ChangeFailed, errText(r.err)
	default:
		out.Status, out.LastError = warehouse.ChangeOpen, errText(r.err)
		next := time.Now().Add(min(f.cfg.Backoff<<min(ch.Attempts-1, 16), 30*time.Minute))
		out.AttemptAfter = &next
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return "no response"
	}
	return err.Error()
}
