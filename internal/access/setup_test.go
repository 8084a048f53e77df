package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// clock is a settable time source so expiry can be tested without sleeping.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// setup opens a fresh SQLite warehouse with two tenants and returns the
// access service over it.
func setup(t *testing.T) (*access.Service, *clock, context.Context) {
	t.Helper()
	ctx := context.Background()
	s, err := warehouse.Open(ctx, warehousetest.SQLitePath(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	for _, name := range []string{"contoso", "fabrikam"} {
		require.NoError(t, s.CreateTenant(ctx, directory.Tenant{ID: name + "-id", Name: name, GraphURL: "https://graph.microsoft.com/v1.0",
			AuthorityURL: "https://login.microsoftonline.com/", ClientID: "c", SecretRef: "env:X"}))
	}
	c := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	return &access.Service{Store: s, Now: c.now}, c, ctx
}

// principal creates an account with a known password and the given roles.
func principal(t *testing.T, svc *access.Service, name string, grants ...grant) *access.Principal {
	t.Helper()
	ctx := context.Background()
	_, _, err := svc.CreatePrincipal(ctx, "test", access.NewPrincipal{Name: name, Password: "correct horse battery"})
	require.NoError(t, err)
	for _, g := range grants {
		_, err := svc.Grant(ctx, "test", name, g.role, g.scope)
		require.NoError(t, err)
	}
	p, err := svc.Load(ctx, name)
	require.NoError(t, err)
	return p
}

type grant struct {
	role  access.Role
	scope access.Scope
}
