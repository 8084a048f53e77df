package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/planning"
)

func init() { register(newPlanCmd) }

func newPlanCmd(c *cli) *cobra.Command {
	var tenant, pool string
	var asJSON bool
	var maxRows int
	cmd := &cobra.Command{
		Use:   "plan [--tenant T] [--pool P]",
		Short: "Show what the license pools would add and remove, and the monthly cost delta",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			t, err := tenantOf(ctx, s, tenant)
			if err != nil {
				return err
			}
			plan, err := planning.Plan(ctx, s, t.ID, time.Now().UTC())
			if err != nil {
				return err
			}
			if pool != "" {
				pp := plan.Pool(pool)
				if pp == nil {
					return fmt.Errorf("tenant %s has no pool %q", t.Name, pool)
				}
				plan.Pools = []engine.PoolPlan{*pp}
			}
			if asJSON {
				return plan.WriteJSON(c.stdout)
			}
			return plan.WriteText(c.stdout, engine.RenderOptions{MaxRows: maxRows})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant name or id (default: the only one)")
	cmd.Flags().StringVar(&pool, "pool", "", "show one pool")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	cmd.Flags().IntVar(&maxRows, "max-rows", 50, "rows listed per pool in text output (0 = all)")
	return cmd
}
