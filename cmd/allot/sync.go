package main

import (
	"fmt"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/inventory"
)

func init() { register(newSyncCmd) }

func newSyncCmd(c *cli) *cobra.Command {
	var tenant string
	var opt inventory.Options
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "sync [--tenant T] [--full] [--licenses]",
		Short: "Inventory tenants now: Graph → inbox → warehouse",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			var tenants []directory.Tenant
			if tenant != "" {
				t, err := s.GetTenant(ctx, tenant)
				if err != nil {
					return err
				}
				tenants = []directory.Tenant{t}
			} else if tenants, err = s.ListTenants(ctx); err != nil {
				return err
			}
			if len(tenants) == 0 {
				return fmt.Errorf("no tenant registered (allot tenant add …)")
			}
			syncer := &inventory.Syncer{Store: s}
			var results []inventory.Result
			for _, t := range tenants {
				o := opt
				var bar *progressbar.ProgressBar
				if f, ok := c.stderr.(*os.File); ok && !asJSON && term.IsTerminal(int(f.Fd())) {
					bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(f),
						progressbar.OptionSetDescription("sync "+t.Name), progressbar.OptionShowCount(),
						progressbar.OptionSetItsString("objects"), progressbar.OptionShowIts(), progressbar.OptionClearOnFinish())
					o.Progress = func(p inventory.Progress) { _ = bar.Set64(p.Objects) }
				}
				res, err := syncer.Sync(ctx, t.ID, o)
				if bar != nil {
					_ = bar.Finish()
				}
				if err != nil {
					return err
				}
				results = append(results, res)
				if !asJSON {
					kind := "delta"
					switch {
					case res.Full:
						kind = "full"
					case res.AllLicenses:
						kind = "delta (all license states)"
					}
					fmt.Fprintf(c.stdout, "%s: %s sync, %d objects (%d users, %d groups, %d memberships, %d license states, %d SKUs), %d deleted, %.1f s, %.0f objects/s\n",
						res.Tenant, kind, res.Objects(), res.Users, res.Groups, res.Memberships, res.LicenseStates, res.Skus,
						res.Deleted, res.Seconds, float64(res.Objects())/max(res.Seconds, 1e-9))
				}
			}
			if asJSON {
				return c.printJSON(results)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant name or id (default: every tenant)")
	cmd.Flags().BoolVar(&opt.Full, "full", false, "ignore delta links and read everything (implies --licenses)")
	cmd.Flags().BoolVar(&opt.Licenses, "licenses", false, "read every licensed user's license states, not only changed users'")
	cmd.Flags().DurationVar(&opt.LicenseRefresh, "license-refresh", inventory.DefaultLicenseRefresh,
		"read every license state anyway when the last full read is this old (negative: only on request)")
	cmd.Flags().BoolVar(&opt.Mailboxes, "mailboxes", true, "refresh Exchange mailbox types")
	cmd.Flags().BoolVar(&opt.SignIns, "sign-ins", false, "refresh sign-in activity (throttled by Graph to 10 requests/min)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
