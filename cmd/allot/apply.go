package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/planning"
)

func init() { register(newApplyCmd) }

func newApplyCmd(c *cli) *cobra.Command {
	var tenant, file string
	var prune, dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "apply [--tenant T] [-f pools.yaml] [--prune] [--dry-run]",
		Short: "Load license pools from YAML (policy as code) and show the resulting plan",
		Long: `apply validates a pools file and stores its pools (errors name the file, line and
field, and nothing is stored), then prints the plan the stored pools produce.
With --prune, stored pools missing from the file are deleted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var policy *engine.Policy
			if file != "" {
				data, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				// Parse before touching the database: bad input changes nothing.
				if policy, err = engine.ParsePolicy(file, data); err != nil {
					return err
				}
			}
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			t, err := tenantOf(ctx, s, tenant)
			if err != nil {
				return err
			}
			var changes []planning.Change
			if policy != nil {
				if changes, err = planning.SavePolicy(ctx, s, t.ID, policy, planning.SaveOptions{Prune: prune, DryRun: dryRun}); err != nil {
					return err
				}
			}
			plan, err := planning.Plan(ctx, s, t.ID, time.Now().UTC())
			if err != nil {
				return err
			}
			if asJSON {
				return c.printJSON(struct {
					Pools []planning.Change `json:"pools"`
					Plan  *engine.Plan      `json:"plan"`
				}{changes, plan})
			}
			if len(changes) > 0 {
				w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				verb := ""
				if dryRun {
					verb = " (dry run: nothing stored)"
				}
				fmt.Fprintf(w, "pools from %s%s:\n", file, verb)
				for _, ch := range changes {
					fmt.Fprintf(w, "  %s\t%s\n", ch.Pool, ch.Action)
				}
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout)
			}
			return plan.WriteText(c.stdout, engine.RenderOptions{MaxRows: 50})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant name or id (default: the only one)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "pools file (YAML)")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete stored pools that the file does not define")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and report, store nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
