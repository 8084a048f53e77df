package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/spf13/cobra"
)

func init() { register(newSimCmd) }

func newSimCmd(c *cli) *cobra.Command {
	var cfg graphsim.Config
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve a simulated Entra tenant (Graph, token and Exchange endpoints) over HTTPS",
		Long: `sim generates a realistic tenant from --seed and serves Microsoft Graph v1.0, the
Entra token endpoint and Exchange's InvokeCommand on one loopback address with a
self-signed CA (written to --ca-out). When ready it prints one JSON line:
{"graph_url","authority_url","tenant_id","client_id","client_secret","ca_file"}.
Graph's throttling budgets apply (--time-scale speeds them up); faults can be
injected with flags or POST /_sim/faults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Users < 1 || cfg.Users > 5_000_000 {
				return fmt.Errorf("--users %d: must be between 1 and 5000000", cfg.Users)
			}
			if cfg.Groups < 0 {
				return fmt.Errorf("--groups %d: must not be negative", cfg.Groups)
			}
			if cfg.TimeScale <= 0 {
				return fmt.Errorf("--time-scale %g: must be positive", cfg.TimeScale)
			}
			for name, r := range map[string]float64{"--fault-429": cfg.Faults.Rate429, "--fault-503": cfg.Faults.Rate503,
				"--fault-timeout": cfg.Faults.RateTimeout, "--fault-batch": cfg.Faults.BatchFailRate} {
				if r < 0 || r > 1 {
					return fmt.Errorf("%s %g: must be a rate between 0 and 1", name, r)
				}
			}
			srv, err := graphsim.Start(cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			if err := json.NewEncoder(c.stdout).Encode(srv.Info()); err != nil {
				return err
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:0", "listen address (port 0 picks a free one)")
	f.IntVar(&cfg.Users, "users", 1000, "number of users to generate")
	f.IntVar(&cfg.Groups, "groups", 0, "number of groups (default users/10)")
	f.Int64Var(&cfg.Seed, "seed", 1, "generator seed; the same seed gives the same tenant")
	f.StringVar(&cfg.CAOut, "ca-out", "", "where to write the CA certificate (default: a temporary file)")
	f.Float64Var(&cfg.TimeScale, "time-scale", 1, "run throttling windows and async processing this many times faster")
	f.Float64Var(&cfg.Faults.Rate429, "fault-429", 0, "rate (0-1) of requests answered 429 TooManyRequests")
	f.Float64Var(&cfg.Faults.Rate503, "fault-503", 0, "rate (0-1) of requests answered 503 ServiceUnavailable")
	f.Float64Var(&cfg.Faults.RateTimeout, "fault-timeout", 0, "rate (0-1) of requests processed but never answered")
	f.DurationVar(&cfg.Faults.TimeoutAfter, "fault-timeout-after", 5*time.Second, "how long a timed-out request hangs before the connection drops")
	f.DurationVar(&cfg.Faults.Latency, "latency", 0, "latency added to every Graph request")
	f.BoolVar(&cfg.Faults.ExpireDeltaTokens, "expire-delta-tokens", false, "answer every delta token with 410 Gone")
	f.Float64Var(&cfg.Faults.BatchFailRate, "fault-batch", 0, "rate (0-1) of $batch inner requests that fail (503)")
	return cmd
}
