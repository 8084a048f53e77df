package fulfillment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/job"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// env is a simulated tenant registered in a fresh warehouse.
type env struct {
	sim    *graphsim.Server
	store  warehouse.Store
	dsn    string
	tenant directory.Tenant
}

// setup starts a simulator and opens a warehouse: SQLite, or PostgreSQL
// when dsn is a postgres:// DSN.
func setup(t *testing.T, cfg graphsim.Config, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	sim, err := graphsim.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte(info.ClientSecret), 0o600))
	if dsn == "" {
		dsn = warehousetest.SQLitePath(t)
	}
	s, err := warehouse.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, job.Migrate(ctx, s))
	tn := directory.Tenant{ID: info.TenantID, Name: "sim", GraphURL: info.GraphURL, AuthorityURL: info.AuthorityURL,
		ClientID: info.ClientID, SecretRef: "file:" + secret, CAFile: info.CAFile}
	require.NoError(t, s.CreateTenant(ctx, tn))
	return &env{sim: sim, store: s, dsn: dsn, tenant: tn}
}

// plainGroups are groups whose members are set by hand (not dynamic, not
// license groups), so adds cost no group-license processing.
func (e *env) plainGroups(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for _, g := range e.sim.Groups() {
		if len(out) < n && g.MembershipRule == "" && len(g.AssignedLicenses) == 0 && !slices.Contains(g.GroupTypes, "DynamicMembership") {
			out = append(out, g.ID)
		}
	}
	require.Equal(t, n, len(out), "too few plain groups")
	return out
}

// adds enqueues n group-member adds for pairs (user, group) not yet members.
func (e *env) adds(t *testing.T, n, groups int) []warehouse.Change {
	t.Helper()
	gs := e.plainGroups(t, groups)
	var cs []warehouse.Change
	for _, u := range e.sim.Users() {
		for _, g := range gs {
			if len(cs) < n && !e.sim.IsMember(g, u.ID) {
				cs = append(cs, warehouse.Change{ID: uuid.NewString(), TenantID: e.tenant.ID, Op: warehouse.OpAdd,
					Kind: warehouse.KindGroupMember, UserID: u.ID, GroupID: g, Status: warehouse.ChangeOpen,
					Initiator: "test", Origin: "api"})
			}
		}
	}
	require.Equal(t, n, len(cs), "the tenant is too small for %d adds", n)
	require.NoError(t, e.store.EnqueueChanges(context.Background(), cs))
	return cs
}

func (e *env) fulfiller(cfg fulfillment.Config) *fulfillment.Fulfiller {
	if cfg.Backoff == 0 {
		cfg.Backoff = 20 * time.Millisecond
	}
	return fulfillment.New(e.store, nil, cfg, nil)
}

func (e *env) counts(t *testing.T) map[string]int64 {
	t.Helper()
	c, err := e.store.CountChanges(context.Background(), warehouse.ChangeFilter{TenantID: e.tenant.ID})
	require.NoError(t, err)
	return c
}

// appliedOnce checks, in the simulator's own write log, that every change
// took effect exactly once.
func (e *env) appliedOnce(t *testing.T, cs []warehouse.Change) {
	t.Helper()
	applied := map[string]int{}
	for _, w := range e.sim.WriteLog() {
		if w.Outcome == graphsim.OutcomeApplied {
			applied[w.Op+"|"+w.Target+"|"+w.Object]++
		}
	}
	lost, twice := 0, 0
	for _, c := range cs {
		op, obj := "addMember", strings.ToLower(c.UserID)
		if c.Op == warehouse.OpRemove {
			op = "removeMember"
		}
		switch applied[op+"|"+c.GroupID+"|"+obj] {
		case 0:
			lost++
		case 1:
		default:
			twice++
		}
	}
	require.Zero(t, lost, "changes never applied")
	require.Zero(t, twice, "changes applied more than once")
}

// The worker subprocess: a real `allot worker`-like process (River client
// with fulfilment registered) that a test can kill -9.
const workerEnv = "FULFILLMENT_TEST_WORKER"

type workerSpec struct {
	DSN      string        `json:"dsn"`
	TenantID string        `json:"tenant_id"`
	Lease    time.Duration `json:"lease"`
	Budget   int           `json:"budget"`
	Window   time.Duration `json:"window"`
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(workerEnv); spec != "" {
		if err := runWorker(spec); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWorker works the queue through River until nothing is left to do.
func runWorker(raw string) error {
	var spec workerSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := warehouse.Open(ctx, spec.DSN)
	if err != nil {
		return err
	}
	defer s.Close()
	f := fulfillment.New(s, nil, fulfillment.Config{Lease: spec.Lease, Backoff: 50 * time.Millisecond,
		Budget: fulfillment.Budget{Writes: spec.Budget, Window: spec.Window}}, nil)
	reg := job.NewRegistry()
	if err := fulfillment.Register(reg, f, fulfillment.Options{Interval: 200 * time.Millisecond}); err != nil {
		return err
	}
	c, err := job.New(s, reg, job.Config{Work: true, PollInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	defer c.Stop(ctx)
	for {
		time.Sleep(200 * time.Millisecond)
		n, err := s.CountChanges(ctx, warehouse.ChangeFilter{TenantID: spec.TenantID})
		if err != nil {
			return err
		}
		if n[warehouse.ChangeOpen]+n[warehouse.ChangeClaimed] == 0 {
			return nil
		}
	}
}
