package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/planning"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/web"
)

func init() { register(newDemoCmd) }

//go:embed demo_pools.yaml
var demoPools []byte

// demoTenant is the name the simulated tenant is registered under.
const demoTenant = "contoso"

// demoTimeScale runs the simulator's throttling windows faster than real
// time, so changes approved in the demo land in seconds; fulfilment's write
// budget is scaled to match.
const demoTimeScale = 20

func newDemoCmd(c *cli) *cobra.Command {
	var users int
	var seed int64
	var opt serverOptions
	cmd := &cobra.Command{
		Use:   "demo [--users N] [--addr A]",
		Short: "Try allot: a simulated tenant, a warehouse, the server and workers in one process",
		Long: `demo starts a simulated Entra tenant (allot sim) in-process, a fresh SQLite
warehouse in a temporary directory (or --db), registers and syncs the tenant,
loads sample license pools, and serves the console. It prints the URL and a
one-time administrator password. Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if users < 1 || users > 1_000_000 {
				return fmt.Errorf("--users %d: must be between 1 and 1000000", users)
			}
			ctx := cmd.Context()
			start := time.Now()
			dir, err := os.MkdirTemp("", "allot-demo-")
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("db") {
				c.db = filepath.Join(dir, "allot.db")
			}
			fmt.Fprintf(c.stdout, "allot demo: simulating a tenant with %d users…\n", users)
			sim, err := graphsim.Start(graphsim.Config{Users: users, Seed: seed, CAOut: filepath.Join(dir, "sim-ca.pem"),
				TimeScale: demoTimeScale})
			if err != nil {
				return err
			}
			defer sim.Close()
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			t, err := registerSim(ctx, s, sim, dir)
			if err != nil {
				return err
			}
			metrics := web.NewMetrics(s)
			syncStart := time.Now()
			res, err := (&inventory.Syncer{Store: s, Client: graphClients(metrics)}).Sync(ctx, t.ID, inventory.Options{Mailboxes: true})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "synced %d users, %d groups, %d memberships, %d license assignments in %.1f s\n",
				res.Users, res.Groups, res.Memberships, res.LicenseStates, time.Since(syncStart).Seconds())
			if err := loadDemoPools(ctx, s, t.ID); err != nil {
				return err
			}
			opt.listening = func(url string) {
				fmt.Fprintf(c.stdout, "\nallot demo is ready after %.0f s: open %s\n", time.Since(start).Seconds(), url)
				if err := c.bootstrapAdmin(ctx, s, url); err != nil {
					fmt.Fprintln(c.stderr, "allot demo: create the administrator:", err)
				}
				fmt.Fprintf(c.stdout, "warehouse: %s · simulated Graph: %s\nPress Ctrl-C to stop.\n", c.db, sim.Info().GraphURL)
			}
			opt.fulfillment.Budget = fulfillment.Budget{Writes: fulfillment.DefaultBudget.Writes,
				Window: time.Duration(float64(fulfillment.DefaultBudget.Window) / demoTimeScale)}
			return c.runServer(ctx, s, opt)
		},
	}
	f := cmd.Flags()
	f.IntVar(&users, "users", 10_000, "users in the simulated tenant")
	f.Int64Var(&seed, "seed", 1, "generator seed (the same seed gives the same tenant)")
	f.StringVar(&opt.addr, "addr", "127.0.0.1:8080", "listen address")
	f.DurationVar(&opt.syncInterval, "sync-interval", 5*time.Minute, "sync the simulated tenant this often")
	return cmd
}

// registerSim registers the simulated tenant the way an operator registers
// a real one: the secret goes to a file and only its reference is stored.
func registerSim(ctx context.Context, s warehouse.Store, sim *graphsim.Server, dir string) (directory.Tenant, error) {
	info := sim.Info()
	secret := filepath.Join(dir, "sim-secret")
	if err := os.WriteFile(secret, []byte(info.ClientSecret+"\n"), 0o600); err != nil {
		return directory.Tenant{}, err
	}
	t := directory.Tenant{ID: info.TenantID, Name: demoTenant, GraphURL: info.GraphURL, AuthorityURL: info.AuthorityURL,
		ClientID: info.ClientID, SecretRef: "file:" + secret, CAFile: info.CAFile}
	if err := s.CreateTenant(ctx, t); err != nil {
		return directory.Tenant{}, fmt.Errorf("register the simulated tenant (use a fresh --db): %w", err)
	}
	return s.GetTenant(ctx, t.ID)
}

func loadDemoPools(ctx context.Context, s warehouse.Store, tenantID string) error {
	p, err := engine.ParsePolicy("demo_pools.yaml", demoPools)
	if err != nil {
		return err
	}
	_, err = planning.SavePolicy(ctx, s, tenantID, p, planning.SaveOptions{})
	return err
}
