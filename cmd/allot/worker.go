package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/job"
	"github.com/allot-dev/allot/internal/workflow"
)

func init() { register(newWorkerCmd) }

func newWorkerCmd(c *cli) *cobra.Command {
	var (
		fcfg      fulfillment.Config
		smtpAddr  string
		smtpFrom  string
		interval  time.Duration
		slots     int
		batchTTL  time.Duration
		writes    int
		window    time.Duration
		pollEvery time.Duration
		refresh   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run background workers only: fulfilment, the request pipeline, syncs",
		Long: `worker runs the background jobs without the HTTP server: applying queued
changes to Graph, the post-run phase of requests, routing pending removals to
approvers, delivering notifications, and syncs started elsewhere. Start
several on one PostgreSQL to share the work; they claim changes with leases
and share the tenant's Graph write budget, so none is applied twice and
together they stay under Graph's throttling. On PostgreSQL give each process
enough connections (postgres://…?pool_max_conns=16).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			fcfg.Budget = fulfillment.Budget{Writes: writes, Window: window}
			ff := fulfillment.New(s, nil, fcfg, logger)
			pipeline := &workflow.Pipeline{Store: s, Access: access.Pipeline{S: &access.Service{Store: s, Logger: logger}}, Logger: logger}
			var mailer *workflow.Mailer
			if smtpAddr != "" {
				mailer = &workflow.Mailer{SMTPAddr: smtpAddr, From: smtpFrom}
			}
			reg := job.NewRegistry()
			if err := inventory.Register(reg, &inventory.Syncer{Store: s, Logger: logger}, inventory.Schedule{LicenseRefresh: refresh}); err != nil {
				return err
			}
			if err := workflow.Register(reg, workflow.Options{Pipeline: pipeline, Mailer: mailer, Interval: interval,
				RemovalBatchTTL: batchTTL}); err != nil {
				return err
			}
			if err := fulfillment.Register(reg, ff, fulfillment.Options{Interval: interval, Slots: slots}); err != nil {
				return err
			}
			host, _ := os.Hostname()
			riverLog := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			jobs, err := job.New(s, reg, job.Config{Work: true, ID: fmt.Sprintf("%s-%d", host, os.Getpid()),
				PollInterval: pollEvery, Logger: riverLog})
			if err != nil {
				return err
			}
			if err := jobs.Start(ctx); err != nil {
				return fmt.Errorf("start workers: %w", err)
			}
			fmt.Fprintf(c.stdout, "allot worker %s is running (%s); Ctrl-C stops it\n", ff.Owner(), s.Backend())
			<-ctx.Done()
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return jobs.Stop(stop)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&fcfg.Lease, "lease", 2*time.Minute, "how long a claimed change is held before another worker may take it over")
	f.IntVar(&fcfg.MaxAttempts, "max-attempts", 6, "attempts before a change is marked failed")
	f.IntVar(&writes, "write-budget", fulfillment.DefaultBudget.Writes, "Graph writes allowed per --write-window (per app and tenant)")
	f.DurationVar(&window, "write-window", fulfillment.DefaultBudget.Window, "Graph's write window (divide by the time scale of a simulator)")
	f.DurationVar(&interval, "interval", 2*time.Second, "how often queues are looked at")
	f.IntVar(&slots, "slots", 2, "concurrent fulfilment drains per tenant in this process")
	f.DurationVar(&batchTTL, "removal-batch-ttl", 7*24*time.Hour, "release approver batches left undecided this long")
	f.DurationVar(&pollEvery, "poll", time.Second, "how often River looks for jobs (SQLite has no LISTEN/NOTIFY)")
	f.DurationVar(&refresh, "license-refresh", inventory.DefaultLicenseRefresh,
		"in the syncs this worker runs, read every license state when the last full read is this old (as allot serve)")
	f.StringVar(&smtpAddr, "smtp", os.Getenv("ALLOT_SMTP"), "SMTP relay host:port for notifications (env ALLOT_SMTP; empty keeps them queued)")
	f.StringVar(&smtpFrom, "smtp-from", "allot@localhost", "sender address of notifications")
	return cmd
}
