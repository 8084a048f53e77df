package workflow_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/planning"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/workflow"
)

func policy(t *testing.T, visioDept, pbiDept string) *engine.Policy {
	t.Helper()
	p, err := engine.ParsePolicy("pools.yaml", []byte(fmt.Sprintf(`pools:
  - name: visio
    bundle: [{sku: VISIOCLIENT}]
    target: {group: "LIC - Visio Plan 2"}
    removalApproval: true
    assignments:
      rules: ['user.department -eq "%s"']
  - name: powerbi
    bundle: [{sku: POWER_BI_PRO}]
    target: {direct: true}
    assignments:
      rules: ['user.department -eq "%s" -and user.usageLocation -ne null']
`, visioDept, pbiDept)))
	require.NoError(t, err)
	return p
}

// applyPolicy stores a policy, plans it and submits the plan, as
// `allot apply -f pools.yaml --yes` does.
func (e *env) applyPolicy(t *testing.T, p *engine.Policy) (*engine.Plan, workflow.Batch) {
	t.Helper()
	ctx := context.Background()
	_, err := planning.SavePolicy(ctx, e.store, e.tenant.ID, p, planning.SaveOptions{})
	require.NoError(t, err)
	plan, err := planning.Plan(ctx, e.store, e.tenant.ID, time.Now())
	require.NoError(t, err)
	b, err := e.p.Submit(ctx, e.tenant.ID, workflow.FromPlan(plan, e.admin, "pools.yaml"))
	require.NoError(t, err)
	return plan, b
}

func applied(e *env, op, target, object string) int {
	n := 0
	for _, w := range e.sim.WriteLog() {
		if w.Op == op && w.Target == target && w.Object == strings.ToLower(object) && w.Outcome == graphsim.OutcomeApplied {
			n++
		}
	}
	return n
}

// Pools → plan → submit → approvals for removals (some now, some later,
// some left pending) → fulfilment → the simulated tenant holds what the
// plan intended, every change once, with the approver mailed.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := graphsim.Config{Users: 300, Seed: 11, TimeScale: 50}
	e := setup(t, cfg)
	require.NoError(t, e.sim.SetSeats("VISIOCLIENT", 5000))
	require.NoError(t, e.sim.SetSeats("POWER_BI_PRO", 5000))
	// Seats changed in Graph: sync again so the plan sees them.
	e.resync(t)
	carol := workflow.Principal{ID: "carol", Name: "Carol Approver", Email: "carol@example.com"}
	e.access.Grant(workflow.Delegation{Principal: carol, Actions: []string{workflow.ActionApprove}, Scope: workflow.Scope{Pool: "visio"}})
	visio := groupByName(t, e, "LIC - Visio Plan 2")
	pbi, err := e.sim.SkuID("POWER_BI_PRO")
	require.NoError(t, err)
	before, err := e.sim.Members(visio)
	require.NoError(t, err)

	// Round 1: Sales get Visio, Finance get Power BI.
	plan1, b1 := e.applyPolicy(t, policy(t, "Sales", "Finance"))
	adds := plan1.Pool("visio").Adds
	require.NotEmpty(t, adds)
	require.NotEmpty(t, plan1.Pool("powerbi").Adds)
	require.Equal(t, len(adds)+len(plan1.Pool("powerbi").Adds), b1.Statuses[warehouse.RequestQueued])
	st := e.drain(t)
	require.Zero(t, st.Failed)
	require.Greater(t, st.Writes, int64(0))
	require.Less(t, st.Writes, st.Done, "adds are batched 20 members per PATCH")
	for _, c := range adds {
		require.True(t, e.sim.IsMember(visio, c.UserID), c.UserID)
		require.Equal(t, 1, applied(e, "addMember", visio, c.UserID), "added exactly once")
	}
	for _, c := range plan1.Pool("powerbi").Adds {
		require.Equal(t, 1, applied(e, "addLicense", c.UserID, pbi))
	}
	e.tick(t)
	reqs, err := e.store.ListRequests(ctx, warehouse.RequestFilter{BatchID: b1.ID, Limit: 10000})
	require.NoError(t, err)
	for _, r := range reqs {
		require.Equal(t, warehouse.RequestCompleted, r.Status, r.ID)
	}
	// The warehouse saw the changes land: re-planning proposes nothing.
	again, err := planning.Plan(ctx, e.store, e.tenant.ID, time.Now())
	require.NoError(t, err)
	require.Zero(t, again.Totals.Adds+again.Totals.Removals, "nothing left to do after round 1")

	// Round 2: Visio moves to Marketing (Sales removals need approval),
	// Power BI to Research (removals go straight through).
	plan2, b2 := e.applyPolicy(t, policy(t, "Marketing", "Research"))
	removals := plan2.Pool("visio").Removals
	require.Len(t, removals, len(adds), "the pool removes exactly what it granted")
	t.Logf("round 1: %d visio adds, %d powerbi adds, %d writes; round 2: %d removals", len(adds), len(plan1.Pool("powerbi").Adds), st.Writes, len(removals))
	counts, err := e.store.CountChanges(ctx, warehouse.ChangeFilter{BatchID: b2.ID})
	require.NoError(t, err)
	require.EqualValues(t, len(removals), counts[warehouse.ChangePendingApproval])
	e.drain(t)
	for _, c := range removals {
		require.True(t, e.sim.IsMember(visio, c.UserID), "nothing removed before approval")
	}
	for _, c := range plan2.Pool("powerbi").Removals {
		require.Equal(t, 1, applied(e, "removeLicense", c.UserID, pbi))
	}

	// The removal-approval job routes the batch to Carol and mails her.
	e.tick(t)
	approvals, err := e.store.ListApprovals(ctx, warehouse.ApprovalFilter{TenantID: e.tenant.ID, Status: "pending"})
	require.NoError(t, err)
	require.Len(t, approvals, 1)
	require.Equal(t, workflow.ApprovalRemovals, approvals[0].Kind)
	mails := e.mail.to("carol@example.com")
	require.Len(t, mails, 1)
	require.Contains(t, mails[0].Data, fmt.Sprintf("%d removals", len(removals)))

	batch, err := e.store.ListChanges(ctx, warehouse.ChangeFilter{ApprovalID: approvals[0].ID})
	require.NoError(t, err)
	third := len(batch) / 3
	now, later := batch[:third], batch[third:2*third]
	pending := batch[2*third:]
	require.NoError(t, e.p.DecideRemovals(ctx, approvals[0].ID, carol, workflow.RemovalDecision{Approve: ids(now), Comment: "left Sales"}))
	e.drain(t)
	for _, c := range now {
		require.False(t, e.sim.IsMember(visio, c.UserID))
		require.Equal(t, 1, applied(e, "removeMember", visio, c.UserID))
	}
	// Routed again, the rest come back in a new batch; Carol approves some
	// from a date in the future and leaves the others pending.
	e.tick(t)
	approvals, err = e.store.ListApprovals(ctx, warehouse.ApprovalFilter{TenantID: e.tenant.ID, Status: "pending"})
	require.NoError(t, err)
	require.Len(t, approvals, 1)
	rerouted, err := e.store.ListChanges(ctx, warehouse.ChangeFilter{ApprovalID: approvals[0].ID})
	require.NoError(t, err)
	require.ElementsMatch(t, ids(append(slices.Clone(later), pending...)), ids(rerouted), "unselected removals are routed again")
	effective := time.Now().Add(1500 * time.Millisecond)
	require.NoError(t, e.p.DecideRemovals(ctx, approvals[0].ID, carol, workflow.RemovalDecision{Approve: ids(later), EffectiveAt: effective}))
	e.drain(t)
	for _, c := range later {
		require.True(t, e.sim.IsMember(visio, c.UserID), "not before the effective date")
	}
	time.Sleep(time.Until(effective) + 50*time.Millisecond)
	e.drain(t)

	// The tenant now holds the plan's intent: the original members, the
	// Marketing adds, the approved removals gone, the pending ones kept.
	want := map[string]bool{}
	for _, m := range before {
		want[m.MemberID] = true
	}
	for _, c := range append(slices.Clone(adds), plan2.Pool("visio").Adds...) {
		want[c.UserID] = true
	}
	for _, c := range append(slices.Clone(now), later...) {
		delete(want, c.UserID)
	}
	got, err := e.sim.Members(visio)
	require.NoError(t, err)
	have := map[string]bool{}
	for _, m := range got {
		have[m.MemberID] = true
	}
	require.Equal(t, want, have)
	for _, c := range pending {
		require.True(t, have[c.UserID])
	}
	for _, c := range plan2.Pool("powerbi").Adds {
		require.Equal(t, 1, applied(e, "addLicense", c.UserID, pbi))
	}
	require.Zero(t, e.sim.WriteCounts().Repeated, "no effect applied twice")

	// Audit: one record per applied change and per removal decision.
	done, err := e.store.CountChanges(ctx, warehouse.ChangeFilter{TenantID: e.tenant.ID, Status: warehouse.ChangeDone})
	require.NoError(t, err)
	recs, err := e.store.ListAudit(ctx, warehouse.AuditFilter{TenantID: e.tenant.ID, Action: "change.applied", Limit: 1000})
	require.NoError(t, err)
	require.EqualValues(t, done[warehouse.ChangeDone], len(recs))
	decisions, err := e.store.ListAudit(ctx, warehouse.AuditFilter{TenantID: e.tenant.ID, Actor: "carol", Limit: 1000})
	require.NoError(t, err)
	require.Len(t, decisions, len(now)+len(later))
	require.Equal(t, "removal.approved", decisions[0].Action)
	require.NotEmpty(t, decisions[0].RequestID)
}

func groupByName(t *testing.T, e *env, name string) string {
	t.Helper()
	for _, g := range e.sim.Groups() {
		if g.DisplayName == name {
			return g.ID
		}
	}
	t.Fatalf("no group %q in the simulated tenant", name)
	return ""
}

func ids(cs []warehouse.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
