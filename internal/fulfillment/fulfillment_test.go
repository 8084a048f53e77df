package fulfillment_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// Adds go 20 members per PATCH, twenty PATCHes per $batch, and each lands
// once, in the warehouse too.
func TestBatchedAdds(t *testing.T) {
	t.Parallel()
	e := setup(t, graphsim.Config{Users: 200, Groups: 60, Seed: 1}, "")
	cs := e.adds(t, 400, 4)
	f := e.fulfiller(fulfillment.Config{})
	st, err := f.Drain(context.Background(), e.tenant.ID)
	require.NoError(t, err)
	require.EqualValues(t, 400, st.Done)
	require.LessOrEqual(t, st.Writes, int64(400/20+4), "20 members per write, at most one partial PATCH per group")
	e.appliedOnce(t, cs)
	var members int
	require.NoError(t, e.store.ScanMemberships(context.Background(), e.tenant.ID, func(directory.Membership) error {
		members++
		return nil
	}))
	require.Equal(t, 400, members, "the warehouse records each membership as it lands")
	audit, err := e.store.ListAudit(context.Background(), warehouse.AuditFilter{TenantID: e.tenant.ID, Action: "change.applied", Limit: 1000})
	require.NoError(t, err)
	require.Len(t, audit, 400)
}

// A replay after a crash (members already added) and a user deleted in the
// meantime: Graph refuses the whole PATCH, so the adds are split; existing
// members count as done, the deleted user's add fails with Graph's error,
// and the deleted user's removal is done (not a member any more).
func TestAlreadyMemberAndDeletedUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, graphsim.Config{Users: 100, Groups: 60, Seed: 2}, "")
	cs := e.adds(t, 40, 2)
	require.NoError(t, e.sim.AddMember(cs[3].GroupID, cs[3].UserID)) // already there
	require.NoError(t, e.sim.DeleteUser(cs[7].UserID))
	var gone string
	for _, u := range e.sim.Users() {
		if !slices.ContainsFunc(cs, func(c warehouse.Change) bool { return c.UserID == u.ID }) && !e.sim.IsMember(cs[0].GroupID, u.ID) {
			gone = u.ID
		}
	}
	require.NoError(t, e.sim.AddMember(cs[0].GroupID, gone))
	require.NoError(t, e.sim.DeleteUser(gone))
	rm := warehouse.Change{ID: uuid.NewString(), TenantID: e.tenant.ID, Op: warehouse.OpRemove, Kind: warehouse.KindGroupMember,
		UserID: gone, GroupID: cs[0].GroupID, Status: warehouse.ChangeOpen}
	require.NoError(t, e.store.EnqueueChanges(ctx, []warehouse.Change{rm}))

	st, err := e.fulfiller(fulfillment.Config{}).Drain(ctx, e.tenant.ID)
	require.NoError(t, err)
	// The deleted user's adds (one per group) fail; everything else is done.
	var doomed []string
	for _, c := range cs {
		if c.UserID == cs[7].UserID {
			doomed = append(doomed, c.ID)
		}
	}
	require.EqualValues(t, len(doomed), st.Failed)
	require.EqualValues(t, 41-len(doomed), st.Done)
	failed, err := e.store.ListChanges(ctx, warehouse.ChangeFilter{TenantID: e.tenant.ID, Status: warehouse.ChangeFailed})
	require.NoError(t, err)
	require.ElementsMatch(t, doomed, ids(failed))
	require.Contains(t, failed[0].LastError, "404 Request_ResourceNotFound")
	require.Equal(t, 1, failed[0].Attempts, "a missing user is not retried")
	done, err := e.store.ListChanges(ctx, warehouse.ChangeFilter{TenantID: e.tenant.ID, Status: warehouse.ChangeDone})
	require.NoError(t, err)
	how := map[string]string{}
	for _, c := range done {
		how[c.ID] = c.Result
	}
	require.Equal(t, "already", how[cs[3].ID])
	require.Equal(t, "already", how[rm.ID])
	require.Equal(t, "applied", how[cs[0].ID])
	e.appliedOnce(t, slices.DeleteFunc(slices.Clone(cs), func(c warehouse.Change) bool {
		return c.UserID == cs[7].UserID || c.ID == cs[3].ID
	}))
}

// Storms of 429 and 503, top level and inside $batch: everything still
// lands, once.
func TestThrottleAndOutageStorms(t *testing.T) {
	t.Parallel()
	e := setup(t, graphsim.Config{Users: 200, Groups: 60, Seed: 3, TimeScale: 20,
		Faults: graphsim.Faults{Rate429: 0.3, Rate503: 0.2, BatchFailRate: 0.3}}, "")
	cs := e.adds(t, 600, 5)
	f := e.fulfiller(fulfillment.Config{MaxAttempts: 50})
	require.Eventually(t, func() bool {
		_, err := f.Drain(context.Background(), e.tenant.ID)
		require.NoError(t, err)
		return e.counts(t)[warehouse.ChangeDone] == 600
	}, 60*time.Second, 100*time.Millisecond)
	e.appliedOnce(t, cs)
	require.Zero(t, e.sim.WriteCounts().Repeated)
}

// The governor spends the write budget without tripping it: 120 writes
// against a budget of 60 per 3 s go through with no 429 and in about the
// time the budget needs to refill.
func TestGovernorFillsBudgetWithoutThrottling(t *testing.T) {
	t.Parallel()
	budget := graphsim.Budget{Writes: 60, WriteWindow: 3 * time.Second}
	e := setup(t, graphsim.Config{Users: 400, Groups: 60, Seed: 4, Budget: &budget}, "")
	cs := e.adds(t, 2400, 10) // 120 PATCHes
	f := e.fulfiller(fulfillment.Config{Budget: fulfillment.Budget{Writes: 60, Window: 3 * time.Second}})
	start := time.Now()
	st, err := f.Drain(context.Background(), e.tenant.ID)
	require.NoError(t, err)
	took := time.Since(start)
	require.EqualValues(t, 2400, st.Done)
	require.Zero(t, f.Throttles(), "the governor never lets Graph throttle")
	// 60 at once, the other 60 at 20/s (less the 2 % headroom): ≥ 3 s.
	require.Greater(t, took, 2800*time.Millisecond)
	require.Less(t, took, 6*time.Second)
	e.appliedOnce(t, cs)
}

// kill -9 a worker process in the middle of 10,000 changes and start
// another: every change is applied exactly once, per the simulator's log.
func TestCrashedWorker(t *testing.T) {
	t.Parallel()
	e := setup(t, graphsim.Config{Users: 2000, Groups: 60, Seed: 5, Faults: graphsim.Faults{Latency: 20 * time.Millisecond}}, "")
	cs := e.adds(t, 10000, 8)
	first := e.startWorker(t, 5*time.Second)
	require.Eventually(t, func() bool { return e.counts(t)[warehouse.ChangeDone] >= 2000 }, 60*time.Second, 20*time.Millisecond)
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	mid := e.counts(t)
	require.Less(t, mid[warehouse.ChangeDone], int64(10000), "the worker died mid-run")
	t.Logf("killed with %v", mid)

	second := e.startWorker(t, 5*time.Second)
	require.NoError(t, second.Wait())
	require.Equal(t, map[string]int64{warehouse.ChangeDone: 10000}, e.counts(t))
	e.appliedOnce(t, cs)
}

// Two worker processes on one PostgreSQL share 10,000 changes; none is
// applied twice.
func TestTwoWorkersOnPostgres(t *testing.T) {
	t.Parallel()
	// River and four drains per process need more than pgxpool's default
	// of four connections on a two-core machine.
	dsn := warehousetest.PostgresDSN(t) + "&pool_max_conns=16"
	e := setup(t, graphsim.Config{Users: 2000, Groups: 60, Seed: 6, Faults: graphsim.Faults{Latency: 5 * time.Millisecond}}, dsn)
	cs := e.adds(t, 10000, 8)
	a, b := e.startWorker(t, 30*time.Second), e.startWorker(t, 30*time.Second)
	require.NoError(t, a.Wait())
	require.NoError(t, b.Wait())
	require.Equal(t, map[string]int64{warehouse.ChangeDone: 10000}, e.counts(t))
	e.appliedOnce(t, cs)
	require.Zero(t, e.sim.WriteCounts().Repeated)
}

func ids(cs []warehouse.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func (e *env) startWorker(t *testing.T, lease time.Duration) *exec.Cmd {
	t.Helper()
	// Claims of 500 keep a claim's round trip well inside the short leases
	// these tests use to make a dead worker's claims expire quickly.
	spec, err := json.Marshal(workerSpec{DSN: e.dsn, TenantID: e.tenant.ID, Lease: lease, Budget: 3000,
		Window: 150 * time.Second, Claim: 500})
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd
}
