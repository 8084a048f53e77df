package warehouse_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

func TestConformanceSQLite(t *testing.T) {
	t.Parallel()
	warehousetest.Run(t, warehousetest.Harness{
		Open: func(t *testing.T) warehouse.Store {
			s, err := warehouse.Open(context.Background(), warehousetest.SQLitePath(t))
			require.NoError(t, err)
			return s
		},
		Exec: func(ctx context.Context, s warehouse.Store, sql string) error {
			_, err := s.(*warehouse.SQLiteStore).DB().ExecContext(ctx, sql)
			return err
		},
	})
}

func TestConformancePostgres(t *testing.T) {
	t.Parallel()
	warehousetest.PostgresDSN(t) // skips loudly (or fails under CI=true) when unconfigured
	warehousetest.Run(t, warehousetest.Harness{
		Open: func(t *testing.T) warehouse.Store {
			s, err := warehouse.Open(context.Background(), warehousetest.PostgresDSN(t))
			require.NoError(t, err)
			return s
		},
		Exec: func(ctx context.Context, s warehouse.Store, sql string) error {
			_, err := s.(*warehouse.PostgresStore).Pool().Exec(ctx, sql)
			return err
		},
	})
}

// The writer never checkpoints (commits stay cheap); the background
// checkpointer must still move a big sync out of the WAL into the database
// file while the store is open, or the WAL would grow without bound.
func TestSQLiteCheckpointsInBackground(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := warehousetest.SQLitePath(t)
	s, err := warehouse.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.UpsertUsers(ctx, "t", benchUsers(100_000)))
	require.Eventually(t, func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Size() > 20<<20
	}, 20*time.Second, 100*time.Millisecond, "the database file never received the WAL's pages")
}
