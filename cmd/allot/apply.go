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
	var prune, dryRun, asJSON, yes, wait bool
	cmd := &cobra.Command{
		Use:   "apply [--tenant T] [-f pools.yaml] [--prune] [--dry-run] [--yes [--wait]]",
		Short: "Load license pools from YAML (policy as code), show the plan, and with --yes submit it",
		Long: `apply validates a pools file and stores its pools (errors name the file, line and
field, and nothing is stored), then prints the plan the stored pools produce.
With --prune, stored pools missing from the file are deleted. With --yes the
plan's changes are submitted as requests (removals of pools that require it
wait for approval); --wait also applies them in this process and follows
them until only approvals are left.`,
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
			var sub *submission
			if yes && !dryRun {
				if sub, err = submitPlan(ctx, c, s, t, plan, wait); err != nil {
					return err
				}
			}
			if asJSON {
				return c.printJSON(struct {
					Pools     []planning.Change `json:"pools"`
					Plan      *engine.Plan      `json:"plan"`
					Submitted *submission       `json:"submitted,omitempty"`
				}{changes, plan, sub})
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
			if err := plan.WriteText(c.stdout, engine.RenderOptions{MaxRows: 50}); err != nil || sub == nil {
				return err
			}
			fmt.Fprintln(c.stdout)
			printSubmission(c.stdout, sub)
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant name or id (default: the only one)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "pools file (YAML)")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete stored pools that the file does not define")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and report, store nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&yes, "yes", false, "submit the plan's changes through the request pipeline")
	cmd.Flags().BoolVar(&wait, "wait", false, "with --yes: apply the changes now and follow them to the end")
	return cmd
}
