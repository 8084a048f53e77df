package inventory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// mutate plays HR and IT against the simulated tenant: joiners, leavers,
// movers, membership moves and license changes.
func mutate(t *testing.T, sim *graphsim.Server, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	users := sim.Users()
	groups := sim.Groups()
	for i := range 5 {
		_, err := sim.CreateUser(directory.User{UserPrincipalName: fmt.Sprintf("joiner%d-%d@%s", seed, i, sim.Domain()),
			DisplayName: fmt.Sprintf("Joiner %d", i), Department: "Sales", UsageLocation: "US", AccountEnabled: true})
		require.NoError(t, err)
	}
	for _, u := range users[:4] {
		require.NoError(t, sim.DeleteUser(u.ID))
	}
	for _, u := range users[10:20] {
		require.NoError(t, sim.SetDepartment(u.ID, fmt.Sprintf("Moved %d", rng.IntN(3))))
	}
	require.NoError(t, sim.DisableUser(users[25].ID))
	moved := 0
	for _, g := range groups {
		if g.IsDynamic() || moved >= 6 {
			continue
		}
		ms, err := sim.Members(g.ID)
		require.NoError(t, err)
		if len(ms) == 0 {
			continue
		}
		m := ms[rng.IntN(len(ms))]
		if m.MemberType != directory.MemberUser {
			continue
		}
		joiner := users[30+moved+rng.IntN(50)]
		if sim.IsMember(g.ID, joiner.ID) {
			continue
		}
		require.NoError(t, sim.RemoveMember(g.ID, m.MemberID))
		require.NoError(t, sim.AddMember(g.ID, joiner.ID))
		moved++
	}
	require.Positive(t, moved)
	// License changes: give some users Visio directly. Only users without
	// it: on top of a group's Visio a direct one changes no property that
	// users/delta tracks, and waits for the periodic license refresh
	// (TestUntrackedLicenseChanges).
	visio, err := sim.SkuID("VISIOCLIENT")
	require.NoError(t, err)
	for _, k := range sim.Skus() {
		if k.SkuID == visio && k.Available() < 3 {
			require.NoError(t, sim.SetSeats(k.SkuPartNumber, k.ConsumedUnits+3)) // the tenant bought a few
		}
	}
	licensed := 0
	for _, u := range users[40:] {
		if u.UsageLocation == "" || !u.AccountEnabled || holds(t, sim, u.ID, visio) {
			continue
		}
		if err := sim.AssignLicense(u.ID, []graphsim.LicenseChange{{SkuID: visio}}, nil); err == nil {
			licensed++
		}
		if licensed == 3 {
			break
		}
	}
	require.Positive(t, licensed, "some seat was free")
	sim.WaitLicenseProcessing()
}

// holds reports whether a user holds a SKU in any way, in error or not.
func holds(t *testing.T, sim *graphsim.Server, userID, skuID string) bool {
	t.Helper()
	states, err := sim.LicenseStates(userID)
	require.NoError(t, err)
	for _, s := range states {
		if s.SkuID == skuID {
			return true
		}
	}
	return false
}

func TestDeltaSyncAfterMutations(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, dsn string) {
		sim, s, syncer, tn := setupOn(t, graphsim.Config{Users: 400, Seed: 11}, dsn)
		ctx := context.Background()
		_, err := syncer.Sync(ctx, tn.Name, inventory.Options{})
		require.NoError(t, err)
		requireEqualTenant(t, sim, s, tn.ID)

		mutate(t, sim, 1)
		res, err := syncer.Sync(ctx, tn.Name, inventory.Options{})
		require.NoError(t, err)
		require.False(t, res.Full)
		require.False(t, res.AllLicenses)
		require.Less(t, res.Users, int64(100), "a delta round carries only what changed")
		require.EqualValues(t, 4, res.Deleted, "the four leavers")
		requireEqualTenant(t, sim, s, tn.ID)

		deleted, err := s.GetUser(ctx, tn.ID, sim.Users()[0].ID) // still live
		require.NoError(t, err)
		require.False(t, deleted.Deleted)

		// Nothing changed: a second delta round applies no users.
		res, err = syncer.Sync(ctx, tn.Name, inventory.Options{})
		require.NoError(t, err)
		require.Zero(t, res.Users)
		requireEqualTenant(t, sim, s, tn.ID)

		// A full sync of a tenant already stored (compares, sweeps) ends equal too.
		mutate(t, sim, 2)
		res, err = syncer.Sync(ctx, tn.Name, inventory.Options{Full: true})
		require.NoError(t, err)
		require.True(t, res.Full)
		requireEqualTenant(t, sim, s, tn.ID)
	})
}

// With 5 % 429s and 1 % 503s the client retries its way through and the
// warehouse still ends equal to the tenant, for a full and a delta round.
func TestSyncUnderThrottlingFaults(t *testing.T) {
	t.Parallel()
	sim, s, syncer, tn := setup(t, graphsim.Config{Users: 1500, Seed: 3,
		Faults: graphsim.Faults{Rate429: 0.05, Rate503: 0.01}, TimeScale: 50})
	ctx := context.Background()
	_, err := syncer.Sync(ctx, tn.Name, inventory.Options{Mailboxes: true})
	require.NoError(t, err)
	requireEqualTenant(t, sim, s, tn.ID)

	mutate(t, sim, 2)
	_, err = syncer.Sync(ctx, tn.Name, inventory.Options{})
	require.NoError(t, err)
	requireEqualTenant(t, sim, s, tn.ID)
}

// An expired delta link (410) falls back to a full round by itself, and the
// full round sweeps what disappeared in the meantime.
func TestExpiredDeltaLinkResyncs(t *testing.T) {
	t.Parallel()
	sim, s, syncer, tn := setup(t, graphsim.Config{Users: 300, Seed: 5})
	ctx := context.Background()
	_, err := syncer.Sync(ctx, tn.Name, inventory.Options{})
	require.NoError(t, err)
	mutate(t, sim, 3)
	sim.ExpireDeltaTokens()
	res, err := syncer.Sync(ctx, tn.Name, inventory.Options{})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{inventory.ResUsers, inventory.ResGroups}, res.Resynced)
	require.True(t, res.AllLicenses, "a round from scratch touched every user")
	require.EqualValues(t, 4, res.Deleted, "the full round's sweep found the leavers")
	requireEqualTenant(t, sim, s, tn.ID)
}

// A sync cut off half way leaves no half-applied page and no delta link for
// the unfinished round; the next sync starts over and ends equal.
func TestInterruptedSyncRestartsCleanly(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, dsn string) {
		sim, s, syncer, tn := setupOn(t, graphsim.Config{Users: 3000, Seed: 9}, dsn)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := syncer.Sync(ctx, tn.Name, inventory.Options{Progress: func(p inventory.Progress) {
			if p.PagesApplied >= 2 {
				cancel()
			}
		}})
		require.Error(t, err)
		_, err = s.GetSyncState(context.Background(), tn.ID, inventory.ResUsers)
		require.ErrorIs(t, err, warehouse.ErrNotFound, "no delta link for an unfinished round")

		res, err := syncer.Sync(context.Background(), tn.Name, inventory.Options{})
		require.NoError(t, err)
		require.True(t, res.Full, "with no delta link stored, the rounds start over")
		left, err := s.PurgeInbox(context.Background(), tn.ID)
		require.NoError(t, err)
		require.Zero(t, left, "every page the sync fetched left the inbox once applied")
		if s.Backend() == warehouse.SQLite {
			bodies, err := os.ReadDir(dsn + "-pages")
			require.NoError(t, err)
			require.Empty(t, bodies, "and so did their bodies' files")
		}
		requireEqualTenant(t, sim, s, tn.ID)
	})
}

func TestSyncErrorsNameTenantAndCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("wrong secret", func(t *testing.T) {
		t.Parallel()
		_, s, syncer, tn := setup(t, graphsim.Config{Users: 50, Seed: 1})
		// The referenced secret was rotated in Entra but not in the file.
		require.NoError(t, os.WriteFile(strings.TrimPrefix(tn.SecretRef, "file:"), []byte("stale-secret-value"), 0o600))
		_, err := syncer.Sync(ctx, tn.Name, inventory.Options{})
		require.ErrorContains(t, err, "tenant sim")
		require.ErrorContains(t, err, "AADSTS")
		require.NotContains(t, err.Error(), "stale-secret-value", "secrets never appear in errors")
		c, err := s.Counts(ctx, tn.ID)
		require.NoError(t, err)
		require.Zero(t, c.Users, "nothing written")
	})

	t.Run("missing permission", func(t *testing.T) {
		t.Parallel()
		_, s, _, tn := setup(t, graphsim.Config{Users: 50, Seed: 1, Apps: []graphsim.App{{ClientID: "reader",
			ClientSecret: "reader-secret", Roles: []string{"User.Read.All"}}}})
		sec := filepath.Join(t.TempDir(), "s")
		require.NoError(t, os.WriteFile(sec, []byte("reader-secret"), 0o600))
		limited := tn
		limited.ClientID, limited.SecretRef = "reader", "file:"+sec
		syncer := &inventory.Syncer{Store: s, Client: func(directory.Tenant) (*graph.Client, error) { return inventory.NewClient(limited) }}
		_, err := syncer.Sync(ctx, tn.Name, inventory.Options{})
		require.ErrorContains(t, err, "tenant sim")
		require.ErrorContains(t, err, "403")
		require.Regexp(t, `GroupMember\.Read\.All|Organization\.Read\.All`, err.Error(), "the missing permission is named")
	})
}
