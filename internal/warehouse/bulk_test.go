package warehouse

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
)

func bulkTestUsers(from, n int) []directory.User {
	users := make([]directory.User, n)
	for i := range users {
		users[i] = directory.User{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", from+i), DisplayName: fmt.Sprint(from + i)}
	}
	return users
}

// Bulk writes, whose chunks run on statements the writer prepared when the
// store opened (a profile shows no statement parsed during a sync; nothing
// here can see which statement ran), stay right across transactions,
// rolled back or not, inserting and updating, and when the writer's
// statement is gone.
func TestBulkWritesAcrossTransactions(t *testing.T) {
	t.Parallel()
	require.Equal(t, []int{256, 128, 64, 32, 16, 8, 4, 2, 1}, chunkLens(256))
	require.Equal(t, []int{300, 256, 128, 64, 32, 16, 8, 4, 2, 1}, chunkLens(300))
	for left, want := range map[int]int{1000: 256, 256: 256, 255: 128, 88: 64, 1: 1} {
		require.Equal(t, want, chunkLen(left, 256), left)
	}

	ctx := context.Background()
	s, err := openSQLite(ctx, filepath.Join(t.TempDir(), "a.db"))
	require.NoError(t, err)
	defer s.Close()
	require.Contains(t, s.bulk, bulkKey{usersTable.bulkName(), "insert", 256})
	require.Contains(t, s.bulk, bulkKey{usersTable.bulkName(), "update", 1})
	require.Len(t, s.bulk, len(bulkTables)*2*9, "insert and update of 256, 128, … 1 rows for each table")

	require.NoError(t, s.UpsertUsers(ctx, "t", bulkTestUsers(0, 600)), "two full chunks, then 64, 16 and 8 rows")
	rollback := errors.New("rolled back")
	err = s.InTx(ctx, func(tx Tx) error {
		if err := tx.UpsertUsers(ctx, "t", bulkTestUsers(600, 600)); err != nil {
			return err
		}
		return rollback
	})
	require.ErrorIs(t, err, rollback)
	again := bulkTestUsers(0, 600) // existing rows: the inserts skip them and the updates run
	again[0].DisplayName = "renamed"
	require.NoError(t, s.UpsertUsers(ctx, "t", append(again, bulkTestUsers(1200, 600)...)))
	c, err := s.Counts(ctx, "t")
	require.NoError(t, err)
	require.EqualValues(t, 1200, c.Users, "the rolled-back users are not there")
	got, err := s.GetUsers(ctx, "t", []string{again[0].ID})
	require.NoError(t, err)
	require.Equal(t, "renamed", got[0].DisplayName)

	// database/sql prepares a closed statement again for the transaction.
	require.NoError(t, s.bulk[bulkKey{usersTable.bulkName(), "insert", 256}].Close())
	require.NoError(t, s.UpsertUsers(ctx, "t", bulkTestUsers(3000, 300)))
	c, err = s.Counts(ctx, "t")
	require.NoError(t, err)
	require.EqualValues(t, 1500, c.Users)
}
