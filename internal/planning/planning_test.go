package planning_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/planning"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

const (
	tid      = "t1"
	e5       = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
	exchange = "efb87545-963c-4e0d-99df-69c6916d9eb0"
	teams    = "57ff2da0-773e-42df-b2af-ffb7a2317929"
)

func setup(t *testing.T) warehouse.Store {
	t.Helper()
	ctx := context.Background()
	s, err := warehouse.Open(ctx, warehousetest.SQLitePath(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.UpsertUsers(ctx, tid, []directory.User{
		{ID: "u1", UserPrincipalName: "ann@x", Department: "Sales", UsageLocation: "US", AccountEnabled: true},
		{ID: "u2", UserPrincipalName: "bob@x", Department: "Sales", UsageLocation: "US", AccountEnabled: true},
		{ID: "u3", UserPrincipalName: "cid@x", Department: "Legal", UsageLocation: "US", AccountEnabled: true},
	}))
	require.NoError(t, s.UpsertSkus(ctx, tid, []directory.Sku{{SkuID: e5, SkuPartNumber: "SPE_E5", CapabilityStatus: "Enabled",
		PrepaidEnabled: 10, ConsumedUnits: 2, ServicePlans: []directory.ServicePlan{
			{ServicePlanID: exchange, ServicePlanName: "EXCHANGE_S_ENTERPRISE"}, {ServicePlanID: teams, ServicePlanName: "TEAMS1"}}}}))
	require.NoError(t, s.ReplaceLicenseStates(ctx, tid, []string{"u1", "u2"}, []directory.LicenseState{
		{UserID: "u1", SkuID: e5, State: directory.StateActive, DisabledPlans: []string{teams}},
		{UserID: "u2", SkuID: e5, State: directory.StateError, Error: directory.ErrCountViolation, AssignedByGroup: "g"},
	}))
	return s
}

// Rules over assignedPlans see plans derived from license states: the sync
// does not download them.
func TestAssignedPlansAreDerivedFromLicenseStates(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := context.Background()
	snap, stats, err := planning.LoadSnapshot(ctx, s, tid, time.Now())
	require.NoError(t, err)
	require.Equal(t, 3, stats.Users)
	byUser := map[string]*directory.User{}
	for i := range uint32(snap.Len()) {
		u := snap.User(i)
		byUser[u.ID] = u
	}
	require.ElementsMatch(t, []directory.AssignedPlan{
		{ServicePlanID: exchange, CapabilityStatus: "Enabled"},
		{ServicePlanID: teams, CapabilityStatus: "Disabled"},
	}, byUser["u1"].AssignedPlans)
	require.Empty(t, byUser["u2"].AssignedPlans, "a license in error grants nothing")

	policy, err := engine.ParsePolicy("p.yaml", []byte(`pools:
  - name: teams-fallback
    bundle: [{sku: SPE_E5}]
    target: {direct: true}
    assignments:
      rules:
        - user.assignedPlans -any (assignedPlan.servicePlanId -eq "`+exchange+`" -and assignedPlan.capabilityStatus -eq "Enabled")
`))
	require.NoError(t, err)
	changes, err := planning.SavePolicy(ctx, s, tid, policy, planning.SaveOptions{})
	require.NoError(t, err)
	require.Equal(t, []planning.Change{{Pool: "teams-fallback", Action: "created"}}, changes)
	plan, err := planning.Plan(ctx, s, tid, time.Now())
	require.NoError(t, err)
	pp := plan.Pool("teams-fallback")
	require.NotNil(t, pp)
	require.Equal(t, 1, pp.Resultant, "only Ann has Exchange enabled")
}

func TestSavePolicyPruneAndDryRun(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := context.Background()
	two, err := engine.ParsePolicy("p.yaml", []byte(`pools:
  - name: a
    bundle: [{sku: SPE_E5}]
    target: {direct: true}
    assignments: {rules: ['user.department -eq "Sales"']}
  - name: b
    bundle: [{sku: SPE_E5}]
    target: {direct: true}
    assignments: {rules: ['user.department -eq "Legal"']}
`))
	require.NoError(t, err)
	_, err = planning.SavePolicy(ctx, s, tid, two, planning.SaveOptions{})
	require.NoError(t, err)
	one := &engine.Policy{Pools: two.Pools[:1]}

	changes, err := planning.SavePolicy(ctx, s, tid, one, planning.SaveOptions{Prune: true, DryRun: true})
	require.NoError(t, err)
	require.Equal(t, []planning.Change{{Pool: "a", Action: "unchanged"}, {Pool: "b", Action: "deleted"}}, changes)
	pools, _ := s.ListPools(ctx, tid)
	require.Len(t, pools, 2, "a dry run stores nothing")

	_, err = planning.SavePolicy(ctx, s, tid, one, planning.SaveOptions{Prune: true})
	require.NoError(t, err)
	pools, _ = s.ListPools(ctx, tid)
	require.Len(t, pools, 1)
	loaded, err := planning.LoadPolicy(ctx, s, tid)
	require.NoError(t, err)
	require.Equal(t, "a", loaded.Pools[0].Name)
}
