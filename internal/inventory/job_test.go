package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/job"
)

// The periodic schedule enqueues one sync per tenant and a River worker runs it.
func TestPeriodicSyncJob(t *testing.T) {
	t.Parallel()
	sim, s, syncer, tn := setup(t, graphsim.Config{Users: 200, Seed: 4})
	ctx := context.Background()
	require.NoError(t, job.Migrate(ctx, s))
	reg := job.NewRegistry()
	require.NoError(t, inventory.Register(reg, syncer, inventory.Schedule{Every: time.Hour}))
	c, err := job.New(s, reg, job.Config{Work: true, PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, c.Start(ctx))
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = c.Stop(stop)
	}()

	require.Eventually(t, func() bool {
		st, err := s.GetSyncState(ctx, tn.ID, inventory.ResUsers)
		return err == nil && st.DeltaLink != ""
	}, 60*time.Second, 100*time.Millisecond, "the scheduled sync ran")
	requireEqualTenant(t, sim, s, tn.ID)

	// While a sync of a tenant is queued, another is not added.
	res, err := c.Insert(ctx, inventory.SyncArgs{TenantID: "other"}, nil)
	require.NoError(t, err)
	require.False(t, res.UniqueSkippedAsDuplicate)
	res, err = c.Insert(ctx, inventory.SyncArgs{TenantID: "other"}, nil)
	require.NoError(t, err)
	require.True(t, res.UniqueSkippedAsDuplicate)
}
