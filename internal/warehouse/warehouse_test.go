package warehouse_test

import (
	"context"
	"testing"

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
