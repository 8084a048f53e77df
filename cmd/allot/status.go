package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/warehouse"
)

func init() { register(newStatusCmd) }

// statusReport is `allot status --json`; the count names are a contract.
type statusReport struct {
	Backend       warehouse.Backend `json:"backend"`
	SchemaVersion int64             `json:"schema_version"`
	Tenant        string            `json:"tenant,omitempty"`
	warehouse.Counts
}

func newStatusCmd(c *cli) *cobra.Command {
	var tenant string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--tenant T]",
		Short: "Count what the warehouse holds (all tenants, or one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			rep := statusReport{Backend: s.Backend()}
			if rep.SchemaVersion, err = s.SchemaVersion(ctx); err != nil {
				return err
			}
			tenantID := ""
			if tenant != "" {
				t, err := s.GetTenant(ctx, tenant)
				if err != nil {
					return err
				}
				tenantID, rep.Tenant = t.ID, t.Name
			}
			if rep.Counts, err = s.Counts(ctx, tenantID); err != nil {
				return err
			}
			if asJSON {
				return c.printJSON(rep)
			}
			w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			scope := "all tenants"
			if rep.Tenant != "" {
				scope = "tenant " + rep.Tenant
			}
			fmt.Fprintf(w, "%s warehouse, schema %d, %s\n", rep.Backend, rep.SchemaVersion, scope)
			for _, r := range []struct {
				k string
				v int64
			}{{"tenants", rep.Tenants}, {"users", rep.Users}, {"groups", rep.Groups}, {"memberships", rep.Memberships},
				{"skus", rep.Skus}, {"license states", rep.LicenseStates}, {"pools", rep.Pools}, {"open changes", rep.OpenChanges}} {
				fmt.Fprintf(w, "  %s\t%d\n", r.k, r.v)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant name or id (default: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
