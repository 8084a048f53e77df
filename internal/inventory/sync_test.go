package inventory_test

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// requireEqualTenant compares the warehouse with the simulator object by object.
func requireEqualTenant(t *testing.T, sim *graphsim.Server, s warehouse.Store, tenantID string) {
	t.Helper()
	ctx := context.Background()

	want := map[string]directory.User{}
	for _, u := range sim.Users() {
		want[u.ID] = comparableUser(u)
	}
	got := map[string]directory.User{}
	require.NoError(t, s.ScanUsers(ctx, tenantID, func(u directory.User) error {
		if !u.Deleted {
			got[u.ID] = comparableUser(u)
		}
		return nil
	}))
	require.Equal(t, len(want), len(got), "live users")
	for id, w := range want {
		require.Equal(t, w, got[id], "user %s", id)
	}

	wantGroups := map[string]directory.Group{}
	for _, g := range sim.Groups() {
		wantGroups[g.ID] = comparableGroup(g)
	}
	gotGroups := map[string]directory.Group{}
	require.NoError(t, s.ScanGroups(ctx, tenantID, func(g directory.Group) error {
		if !g.Deleted {
			gotGroups[g.ID] = comparableGroup(g)
		}
		return nil
	}))
	require.Equal(t, wantGroups, gotGroups)

	var wantMs, gotMs []string
	for _, m := range sim.Memberships() {
		wantMs = append(wantMs, m.GroupID+">"+m.MemberID+":"+string(m.MemberType))
	}
	require.NoError(t, s.ScanMemberships(ctx, tenantID, func(m directory.Membership) error {
		gotMs = append(gotMs, m.GroupID+">"+m.MemberID+":"+string(m.MemberType))
		return nil
	}))
	sort.Strings(wantMs)
	sort.Strings(gotMs)
	require.Equal(t, wantMs, gotMs, "memberships")

	var wantLS, gotLS []directory.LicenseState
	for _, l := range sim.AllLicenseStates() {
		l.TenantID, l.LastUpdated = "", nil
		wantLS = append(wantLS, l)
	}
	require.NoError(t, s.ScanLicenseStates(ctx, tenantID, func(l directory.LicenseState) error {
		l.TenantID, l.LastUpdated = "", nil
		gotLS = append(gotLS, l)
		return nil
	}))
	sortStates(wantLS)
	sortStates(gotLS)
	require.Equal(t, wantLS, gotLS, "license states")

	skus, err := s.ListSkus(ctx, tenantID)
	require.NoError(t, err)
	simSkus := sim.Skus()
	require.Len(t, skus, len(simSkus))
	byID := map[string]directory.Sku{}
	for _, k := range skus {
		byID[k.SkuID] = k
	}
	for _, k := range simSkus {
		g := byID[k.SkuID]
		require.Equal(t, k.SkuPartNumber, g.SkuPartNumber)
		require.Equal(t, k.ConsumedUnits, g.ConsumedUnits, k.SkuPartNumber)
		require.Equal(t, k.PrepaidEnabled, g.PrepaidEnabled, k.SkuPartNumber)
		require.Len(t, g.ServicePlans, len(k.ServicePlans))
	}
}

func sortStates(ls []directory.LicenseState) {
	sort.Slice(ls, func(i, j int) bool {
		a, b := ls[i], ls[j]
		if a.UserID != b.UserID {
			return a.UserID < b.UserID
		}
		if a.SkuID != b.SkuID {
			return a.SkuID < b.SkuID
		}
		return a.AssignedByGroup < b.AssignedByGroup
	})
}

// comparableUser drops what a default sync does not read: allot's own
// categories, sign-in activity (a separate, throttled refresh), assigned
// plans (derived from license states when a snapshot is loaded) and bookkeeping.
func comparableUser(u directory.User) directory.User {
	u.TenantID, u.Categories, u.Deleted, u.DeletedAt, u.AssignedPlans = "", 0, false, nil, nil
	u.LastSignIn, u.LastNonInteractiveSignIn, u.LastSuccessfulSignIn = nil, nil, nil
	return u
}

func comparableGroup(g directory.Group) directory.Group {
	g.TenantID, g.Categories, g.ITShopOnly, g.OwnerIDs, g.Deleted, g.DeletedAt = "", 0, false, nil, false, nil
	if len(g.GroupTypes) == 0 {
		g.GroupTypes = nil
	}
	if len(g.AssignedLicenses) == 0 {
		g.AssignedLicenses = nil
	}
	for i := range g.AssignedLicenses {
		if len(g.AssignedLicenses[i].DisabledPlans) == 0 {
			g.AssignedLicenses[i].DisabledPlans = nil
		}
	}
	return g
}

func TestFullSyncMatchesSimulator(t *testing.T) {
	t.Parallel()
	sim, s, syncer, tn := setup(t, graphsim.Config{Users: 400, Seed: 7})
	res, err := syncer.Sync(context.Background(), tn.Name, inventory.Options{Mailboxes: true})
	require.NoError(t, err)
	require.EqualValues(t, 400, res.Users)
	require.True(t, res.Full, "a first sync reads everything")
	requireEqualTenant(t, sim, s, tn.ID)

	// SKUs start with Microsoft's list price; an operator's price survives syncs.
	e5, err := sim.SkuID("SPE_E5")
	require.NoError(t, err)
	skus, err := s.ListSkus(context.Background(), tn.ID)
	require.NoError(t, err)
	for _, k := range skus {
		if k.SkuID == e5 {
			require.EqualValues(t, 5700, k.MonthlyPriceCents)
		}
	}
	require.NoError(t, s.SetSkuPrice(context.Background(), tn.ID, e5, 4990, "EUR"))
	_, err = syncer.Sync(context.Background(), tn.Name, inventory.Options{Full: true})
	require.NoError(t, err)
	skus, _ = s.ListSkus(context.Background(), tn.ID)
	for _, k := range skus {
		if k.SkuID == e5 {
			require.EqualValues(t, 4990, k.MonthlyPriceCents)
			require.Equal(t, "EUR", k.Currency)
		}
	}
}
