package inventory_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// onBackends runs a test against a fresh SQLite file and a fresh PostgreSQL
// database (skipped, loudly, without ALLOT_TEST_POSTGRES).
func onBackends(t *testing.T, test func(t *testing.T, dsn string)) {
	for name, dsn := range map[string]func(testing.TB) string{
		"sqlite": warehousetest.SQLitePath, "postgres": warehousetest.PostgresDSN,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, dsn(t))
		})
	}
}

// statesOf returns a user's license states in the warehouse.
func statesOf(t *testing.T, s warehouse.Store, tenantID, userID string) []directory.LicenseState {
	t.Helper()
	ls, err := s.LicenseStatesOf(context.Background(), tenantID, []string{userID})
	require.NoError(t, err)
	return ls
}

// freeSeat makes sure a SKU has a seat to assign, as a tenant that bought one.
func freeSeat(t *testing.T, sim *graphsim.Server, skuID string) {
	t.Helper()
	for _, k := range sim.Skus() {
		if k.SkuID == skuID && k.Available() < 1 {
			require.NoError(t, sim.SetSeats(k.SkuPartNumber, k.ConsumedUnits+1))
		}
	}
}

// unlicensed finds a live user who holds no license and can be given one.
func unlicensed(t *testing.T, sim *graphsim.Server, skip ...string) directory.User {
	t.Helper()
	for _, u := range sim.Users() {
		st, err := sim.LicenseStates(u.ID)
		require.NoError(t, err)
		if len(st) == 0 && u.UsageLocation != "" && u.AccountEnabled && !slices.Contains(skip, u.ID) {
			return u
		}
	}
	t.Fatal("no unlicensed user")
	return directory.User{}
}

// licenseGroup finds the smallest assigned (not dynamic) group that
// licenses more than one member.
func licenseGroup(t *testing.T, sim *graphsim.Server, not ...string) directory.Group {
	t.Helper()
	var best directory.Group
	size := 0
	for _, g := range sim.Groups() {
		if g.IsLicenseGroup() && !g.IsDynamic() && !slices.Contains(not, g.ID) {
			ms, err := sim.Members(g.ID)
			require.NoError(t, err)
			if len(ms) > 1 && (size == 0 || len(ms) < size) {
				best, size = g, len(ms)
			}
		}
	}
	require.NotZero(t, size, "no assigned license group")
	return best
}

// userMembers lists the users among group g's direct members.
func userMembers(t *testing.T, sim *graphsim.Server, g string) []string {
	t.Helper()
	ms, err := sim.Members(g)
	require.NoError(t, err)
	var out []string
	for _, m := range ms {
		if m.MemberType == directory.MemberUser {
			out = append(out, m.MemberID)
		}
	}
	return out
}

// onlyFrom finds a member whose every license state comes from group g.
func onlyFrom(t *testing.T, sim *graphsim.Server, g string) string {
	t.Helper()
	for _, m := range userMembers(t, sim, g) {
		st, err := sim.LicenseStates(m)
		require.NoError(t, err)
		if len(st) > 0 && !slices.ContainsFunc(st, func(l directory.LicenseState) bool { return l.AssignedByGroup != g }) {
			return m
		}
	}
	t.Fatalf("no member licensed by group %s only", g)
	return ""
}

func graphClient(t *testing.T, tn directory.Tenant) *graph.Client {
	t.Helper()
	c, err := inventory.NewClient(tn)
	require.NoError(t, err)
	return c
}

// A delta sync reads the license states of the users its rounds touched,
// and only theirs: after direct assignments and removals, membership
// changes in license groups and a change of a group's licenses, the
// warehouse holds the simulator's states again, and users who lost their
// last license have none left.
func TestDeltaSyncRefreshesTouchedLicenseStates(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, dsn string) {
		sim, s, syncer, tn := setupOn(t, graphsim.Config{Users: 400, Seed: 13, TimeScale: 50}, dsn)
		ctx := context.Background()
		first, err := syncer.Sync(ctx, tn.Name, inventory.Options{})
		require.NoError(t, err)
		requireEqualTenant(t, sim, s, tn.ID)
		all := first.LicenseStates
		require.Positive(t, all)
		sync := func() inventory.Result {
			t.Helper()
			res, err := syncer.Sync(ctx, tn.Name, inventory.Options{})
			require.NoError(t, err)
			require.False(t, res.Full)
			require.Less(t, res.LicenseStates, all/4, "only the touched users' states are read")
			requireEqualTenant(t, sim, s, tn.ID)
			return res
		}

		// (1) A direct assignment, then its removal: the user's last license.
		visio, err := sim.SkuID("VISIOCLIENT")
		require.NoError(t, err)
		freeSeat(t, sim, visio)
		u := unlicensed(t, sim)
		require.NoError(t, sim.AssignLicense(u.ID, []graphsim.LicenseChange{{SkuID: visio}}, nil))
		sync()
		require.Len(t, statesOf(t, s, tn.ID, u.ID), 1)
		require.NoError(t, sim.AssignLicense(u.ID, nil, []string{visio}))
		sync()
		require.Empty(t, statesOf(t, s, tn.ID, u.ID), "states cleared")

		// (2) Joining and leaving a license group.
		g := licenseGroup(t, sim)
		for _, l := range g.AssignedLicenses {
			freeSeat(t, sim, l.SkuID)
		}
		joiner := unlicensed(t, sim)
		leaver := onlyFrom(t, sim, g.ID)
		require.NoError(t, sim.AddMember(g.ID, joiner.ID))
		require.NoError(t, sim.RemoveMember(g.ID, leaver))
		sync()
		require.NotEmpty(t, statesOf(t, s, tn.ID, joiner.ID))
		require.Empty(t, statesOf(t, s, tn.ID, leaver), "states cleared")
		// With no seat left the next joiner gets only errors, which take no
		// seat and change nothing users/delta tracks: the membership change
		// alone says that the joiner's states changed.
		for _, k := range sim.Skus() {
			if slices.ContainsFunc(g.AssignedLicenses, func(l directory.AssignedLicense) bool { return l.SkuID == k.SkuID }) {
				require.NoError(t, sim.SetSeats(k.SkuPartNumber, k.ConsumedUnits))
			}
		}
		late := unlicensed(t, sim, joiner.ID)
		require.NoError(t, sim.AddMember(g.ID, late.ID))
		sync()
		ls := statesOf(t, s, tn.ID, late.ID)
		require.NotEmpty(t, ls)
		require.Equal(t, directory.ErrCountViolation, ls[0].Error)

		// (3) A group's licenses change: every member's states follow.
		c := graphClient(t, tn)
		g2 := licenseGroup(t, sim, g.ID)
		members := userMembers(t, sim, g2.ID)
		fromG2 := func() (n int) {
			ls, err := s.LicenseStatesOf(ctx, tn.ID, members)
			require.NoError(t, err)
			for _, l := range ls {
				if l.AssignedByGroup == g2.ID {
					n++
				}
			}
			return n
		}
		require.Positive(t, fromG2())
		var skus []string
		for _, l := range g2.AssignedLicenses {
			skus = append(skus, l.SkuID)
		}
		require.NoError(t, c.AssignGroupLicense(ctx, g2.ID, nil, skus))
		sim.WaitLicenseProcessing()
		sync()
		require.Zero(t, fromG2())
		var back []graph.AssignedLicense
		for _, l := range g2.AssignedLicenses {
			back = append(back, graph.AssignedLicense{SkuID: l.SkuID, DisabledPlans: l.DisabledPlans})
		}
		require.NoError(t, c.AssignGroupLicense(ctx, g2.ID, back, nil))
		sim.WaitLicenseProcessing()
		sync()
		require.Positive(t, fromG2())

		// Nothing changed: no license state is read.
		require.Zero(t, sync().LicenseStates)
	})
}

// Some license changes reach no property that users/delta or groups/delta
// track: an error group-based licensing writes on members when seats run
// out, after the sync that saw the group's new license; a direct
// assignment of a SKU the user already has through a group. Incremental
// syncs miss them; the periodic full read (LicenseRefresh) and an explicit
// one (Options.Licenses) find them.
func TestUntrackedLicenseChanges(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, dsn string) {
		// Group licensing waits for ProcessLicensesNow.
		sim, s, syncer, tn := setupOn(t, graphsim.Config{Users: 400, Seed: 17, LicenseProcessingDelay: time.Hour}, dsn)
		ctx := context.Background()
		clock := time.Now().UTC().Truncate(time.Second) // as precise as both backends store it
		syncer.Now = func() time.Time { return clock }
		sync := func(after time.Duration, opt inventory.Options) {
			t.Helper()
			clock = clock.Add(after)
			_, err := syncer.Sync(ctx, tn.Name, opt)
			require.NoError(t, err)
		}
		groupErrors := func(g string) (want, got int) {
			for _, l := range sim.AllLicenseStates() {
				if l.AssignedByGroup == g && l.State == directory.StateError {
					want++
				}
			}
			require.NoError(t, s.ScanLicenseStates(ctx, tn.ID, func(l directory.LicenseState) error {
				if l.AssignedByGroup == g && l.State == directory.StateError {
					got++
				}
				return nil
			}))
			return want, got
		}
		sync(0, inventory.Options{})
		st, err := s.GetSyncState(ctx, tn.ID, inventory.ResLicenses)
		require.NoError(t, err)
		require.True(t, clock.Equal(*st.LastFullAt), "the first sync read every license state")

		// A group gets a SKU that has no seat left. The next sync sees the
		// group's new license before Entra has processed it.
		var group directory.Group
		for _, g := range sim.Groups() {
			if g.DisplayName == "All Managers" {
				group = g
			}
		}
		require.False(t, group.IsLicenseGroup())
		project, err := sim.SkuID("PROJECTPROFESSIONAL")
		require.NoError(t, err)
		for _, k := range sim.Skus() {
			if k.SkuID == project {
				require.NoError(t, sim.SetSeats(k.SkuPartNumber, k.ConsumedUnits))
			}
		}
		require.NoError(t, graphClient(t, tn).AssignGroupLicense(ctx, group.ID, []graph.AssignedLicense{{SkuID: project, DisabledPlans: []string{}}}, nil))
		sync(time.Hour, inventory.Options{})
		requireEqualTenant(t, sim, s, tn.ID)
		sim.ProcessLicensesNow()
		want, got := groupErrors(group.ID)
		require.Positive(t, want, "CountViolation on the members")

		// A direct Visio on top of the one a group gives.
		visio, err := sim.SkuID("VISIOCLIENT")
		require.NoError(t, err)
		var doubled string
		for _, u := range sim.Users() {
			st, err := sim.LicenseStates(u.ID)
			require.NoError(t, err)
			if u.UsageLocation != "" && slices.ContainsFunc(st, func(l directory.LicenseState) bool {
				return l.SkuID == visio && !l.Direct() && l.State == directory.StateActive && len(l.DisabledPlans) == 0
			}) {
				doubled = u.ID
				break
			}
		}
		require.NotEmpty(t, doubled)
		require.NoError(t, sim.AssignLicense(doubled, []graphsim.LicenseChange{{SkuID: visio}}, nil))
		direct := func() bool {
			return slices.ContainsFunc(statesOf(t, s, tn.ID, doubled), func(l directory.LicenseState) bool { return l.Direct() })
		}

		// Incremental syncs miss both while the last full read is recent.
		for _, after := range []time.Duration{time.Hour, 20 * time.Hour} {
			sync(after, inventory.Options{})
			_, got = groupErrors(group.ID)
			require.Zero(t, got, "no delta reported the errors")
			require.False(t, direct(), "no delta reported the direct assignment")
		}
		// A day after the last full read, a sync reads every state again.
		sync(3*time.Hour, inventory.Options{})
		_, got = groupErrors(group.ID)
		require.Equal(t, want, got)
		require.True(t, direct())
		requireEqualTenant(t, sim, s, tn.ID)
		st, err = s.GetSyncState(ctx, tn.ID, inventory.ResLicenses)
		require.NoError(t, err)
		require.True(t, clock.Equal(*st.LastFullAt))

		// On request, at once.
		require.NoError(t, sim.AssignLicense(doubled, nil, []string{visio}))
		sync(time.Hour, inventory.Options{})
		require.True(t, direct(), "still missed")
		sync(time.Minute, inventory.Options{Licenses: true})
		require.False(t, direct())
		requireEqualTenant(t, sim, s, tn.ID)
	})
}
