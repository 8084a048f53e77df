package warehouse

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
)

// A writer that commits back to back never leaves a passive checkpoint time
// to finish, so SQLite would never start the WAL over; the checkpointer must
// force a restart and keep the WAL bounded. (Not parallel: it lowers the
// package's thresholds.)
func TestCheckpointerKeepsTheWALBounded(t *testing.T) {
	oldAt, oldRestart := checkpointAt, restartAt
	checkpointAt, restartAt = 1<<20, 4<<20
	defer func() { checkpointAt, restartAt = oldAt, oldRestart }()

	ctx := context.Background()
	s, err := openSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	require.NoError(t, err)
	defer s.Close()
	// About 100 MB of commits, 2,000 users at a time.
	users := make([]directory.User, 2000)
	for round := range 100 {
		for i := range users {
			users[i] = directory.User{ID: fmt.Sprintf("%04d-%06d", round, i), DisplayName: fmt.Sprintf("%0500d", i)}
		}
		require.NoError(t, s.UpsertUsers(ctx, "t", users))
	}
	var busy, logFrames, done int64
	require.NoError(t, s.writer.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done))
	require.Less(t, logFrames*sqlitePageSize, int64(40<<20), "the WAL kept growing: %d frames", logFrames)
}
