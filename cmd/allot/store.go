package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/job"
	"github.com/allot-dev/allot/internal/warehouse"
)

// openStore opens the --db warehouse and brings both schemas (the warehouse's
// and River's) up to date, so every command sees a usable database.
func (c *cli) openStore(ctx context.Context) (warehouse.Store, error) {
	s, err := warehouse.Open(ctx, c.db)
	if err != nil {
		return nil, err
	}
	if err := job.Migrate(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// tenantOf resolves --tenant; with none given it picks the only tenant, and
// asks for a choice when there are several.
func tenantOf(ctx context.Context, s warehouse.Reader, nameOrID string) (directory.Tenant, error) {
	if nameOrID != "" {
		return s.GetTenant(ctx, nameOrID)
	}
	ts, err := s.ListTenants(ctx)
	if err != nil {
		return directory.Tenant{}, err
	}
	switch len(ts) {
	case 0:
		return directory.Tenant{}, fmt.Errorf("no tenant registered (allot tenant add …)")
	case 1:
		return ts[0], nil
	}
	return directory.Tenant{}, fmt.Errorf("%d tenants registered: choose one with --tenant", len(ts))
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
