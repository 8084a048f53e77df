package warehouse_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
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

// The SQLite inbox file carries no migrations: one of another layout (here
// the first, which kept bodies beside the claim state) is emptied and laid
// out anew when the warehouse opens, and so is the directory of bodies; the
// inbox then works.
func TestSQLiteInboxFileOfAnotherLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := warehousetest.SQLitePath(t)
	s, err := warehouse.Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	old, err := sql.Open("sqlite", path+"-inbox")
	require.NoError(t, err)
	stray := filepath.Join(path+"-pages", "7")
	require.NoError(t, os.WriteFile(stray, []byte("left by an interrupted sync"), 0o600))
	for _, stmt := range []string{"DROP TABLE inbox",
		"CREATE TABLE inbox (id INTEGER PRIMARY KEY, tenant_id TEXT, body TEXT)",
		"INSERT INTO inbox VALUES (7, 'tenant', 'left by an interrupted sync')", "PRAGMA user_version = 0"} {
		_, err := old.ExecContext(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, old.Close())

	s, err = warehouse.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	n, err := s.PurgeInbox(ctx, "tenant")
	require.NoError(t, err)
	require.Zero(t, n, "the old file's pages are gone with its layout")
	require.NoFileExists(t, stray)
	ids, err := s.PutInboxPages(ctx, []warehouse.InboxPage{{TenantID: "tenant", Resource: "users", Round: "r", Seq: 1,
		Body: json.RawMessage(`{"value":[]}`)}})
	require.NoError(t, err)
	pages, err := s.ClaimInboxPages(ctx, "tenant", "w", 5, time.Minute)
	require.NoError(t, err)
	require.Len(t, pages, 1)
	require.Equal(t, ids[0], pages[0].ID)
	body, err := s.InboxPageBody(ctx, pages[0].ID, nil)
	require.NoError(t, err)
	require.JSONEq(t, `{"value":[]}`, string(body))
}
