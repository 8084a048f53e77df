package inventory_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// setup starts a simulated tenant and a fresh SQLite warehouse with the
// tenant registered the way an operator would (secret by file reference).
func setup(t *testing.T, cfg graphsim.Config) (*graphsim.Server, warehouse.Store, *inventory.Syncer, directory.Tenant) {
	t.Helper()
	return setupOn(t, cfg, warehousetest.SQLitePath(t))
}

// setupOn is setup with the warehouse at dsn (a SQLite path or a
// PostgreSQL DSN).
func setupOn(t *testing.T, cfg graphsim.Config, dsn string) (*graphsim.Server, warehouse.Store, *inventory.Syncer, directory.Tenant) {
	t.Helper()
	sim, err := graphsim.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()

	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte(info.ClientSecret+"\n"), 0o600))
	s, err := warehouse.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	tn := directory.Tenant{ID: info.TenantID, Name: "sim", GraphURL: info.GraphURL, AuthorityURL: info.AuthorityURL,
		ClientID: info.ClientID, SecretRef: "file:" + secret, CAFile: info.CAFile}
	require.NoError(t, s.CreateTenant(context.Background(), tn))
	return sim, s, &inventory.Syncer{Store: s}, tn
}
