package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/job"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/web"
	"github.com/allot-dev/allot/internal/workflow"
)

func init() { register(newServeCmd) }

// serverOptions shape a server process (allot serve and allot demo).
type serverOptions struct {
	addr            string
	tlsCert, tlsKey string
	// secureCookies marks cookies Secure without serving TLS here, for
	// deployments behind a TLS-terminating proxy.
	secureCookies bool
	syncInterval  time.Duration
	// licenseRefresh is how often syncs read every license state
	// (inventory.Options.LicenseRefresh).
	licenseRefresh time.Duration
	fulfillment    fulfillment.Config
	// smtpAddr, when set, delivers the pipeline's notifications (approval
	// requests, "done" mails); otherwise they stay queued in the warehouse.
	smtpAddr, smtpFrom string
	// metricsPublic serves /metrics without authentication.
	metricsPublic bool
	// trustedProxies are the proxies whose X-Forwarded-For names the client
	// when failed sign-ins are counted per address.
	trustedProxies []string
	// listening is called with the base URL once the port is open.
	listening func(url string)
}

func newServeCmd(c *cli) *cobra.Command {
	var opt serverOptions
	cmd := &cobra.Command{
		Use:   "serve [--addr A]",
		Short: "Serve the API and console, and run the scheduler and workers",
		Long: `serve runs allot: the JSON API under /api/v1, the web console, /metrics,
/healthz and /readyz, plus the background workers (inventory syncs on a
schedule). On the first start it creates the administrator account "admin"
and prints its one-time password once.

/metrics needs a bearer token of an account allowed to read metrics on every
tenant (an administrator or an auditor), unless --metrics-public is set.
Failed sign-ins are rate limited per account and per client address; behind
a reverse proxy, name it with --trusted-proxy so its X-Forwarded-For counts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (opt.tlsCert == "") != (opt.tlsKey == "") {
				return fmt.Errorf("--tls-cert and --tls-key go together")
			}
			ctx := cmd.Context()
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := c.bootstrapAdmin(ctx, s, ""); err != nil {
				return err
			}
			opt.listening = func(url string) { fmt.Fprintf(c.stdout, "allot is serving on %s\n", url) }
			return c.runServer(ctx, s, opt)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.addr, "addr", "127.0.0.1:8080", "listen address")
	f.StringVar(&opt.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	f.StringVar(&opt.tlsKey, "tls-key", "", "private key of --tls-cert (PEM)")
	f.BoolVar(&opt.secureCookies, "secure-cookies", false, "mark cookies Secure (set when a proxy terminates TLS)")
	f.DurationVar(&opt.syncInterval, "sync-interval", time.Hour, "sync every tenant this often (0 disables the schedule)")
	f.DurationVar(&opt.licenseRefresh, "license-refresh", inventory.DefaultLicenseRefresh,
		"read every license state when the last full read is this old (delta syncs read only changed users'; negative: only on request)")
	f.StringVar(&opt.smtpAddr, "smtp", os.Getenv("ALLOT_SMTP"), "SMTP relay host:port for notifications (env ALLOT_SMTP; empty keeps them queued)")
	f.StringVar(&opt.smtpFrom, "smtp-from", "allot@localhost", "sender address of notifications")
	f.BoolVar(&opt.metricsPublic, "metrics-public", false,
		"serve /metrics without a token (only where the network keeps strangers out)")
	f.StringSliceVar(&opt.trustedProxies, "trusted-proxy", nil,
		"a proxy (address or CIDR, repeatable) whose X-Forwarded-For names the client for sign-in rate limits")
	return cmd
}

// parseProxies reads --trusted-proxy values: CIDRs or single addresses.
func parseProxies(vals []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy %q: want an address or a CIDR such as 10.0.0.0/8", v)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// bootstrapAdmin creates the first administrator on an empty installation
// and prints its one-time password, once.
func (c *cli) bootstrapAdmin(ctx context.Context, s warehouse.Store, url string) error {
	name, pw, err := (&access.Service{Store: s}).Bootstrap(ctx)
	if err != nil || pw == "" {
		return err
	}
	fmt.Fprintf(c.stdout, "\nFirst start: created the administrator account.\n  name:     %s\n  password: %s   (one-time: you choose a new one at first sign-in)\n", name, pw)
	if url != "" {
		fmt.Fprintf(c.stdout, "  sign in:  %s/login\n", url)
	}
	fmt.Fprintln(c.stdout)
	return nil
}

// graphClients builds Graph clients that report to the server's metrics.
func graphClients(m graph.Metrics) func(directory.Tenant) (*graph.Client, error) {
	return func(t directory.Tenant) (*graph.Client, error) {
		secret, err := inventory.ResolveSecret(t.SecretRef)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		return graph.New(graph.Config{TenantID: t.ID, ClientID: t.ClientID, ClientSecret: secret,
			GraphURL: t.GraphURL, AuthorityHost: t.AuthorityURL, CAFile: t.CAFile, Metrics: m})
	}
}

// runServer runs workers and the HTTP server until ctx ends, then shuts
// both down gracefully.
func (c *cli) runServer(ctx context.Context, s warehouse.Store, opt serverOptions) error {
	proxies, err := parseProxies(opt.trustedProxies)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	metrics := web.NewMetrics(s)
	syncer := &inventory.Syncer{Store: s, Logger: logger, Client: graphClients(metrics)}

	acc := &access.Service{Store: s, Logger: logger}
	pipeline := &workflow.Pipeline{Store: s, Access: access.Pipeline{S: acc}, Logger: logger}
	reg := job.NewRegistry()
	if err := inventory.Register(reg, syncer, inventory.Schedule{Every: opt.syncInterval, LicenseRefresh: opt.licenseRefresh}); err != nil {
		return err
	}
	var mailer *workflow.Mailer
	if opt.smtpAddr != "" {
		mailer = &workflow.Mailer{SMTPAddr: opt.smtpAddr, From: opt.smtpFrom}
	}
	if err := workflow.Register(reg, workflow.Options{Pipeline: pipeline, Mailer: mailer}); err != nil {
		return err
	}
	ff := fulfillment.New(s, func(t directory.Tenant, m graph.Metrics) (*graph.Client, error) {
		return fulfillment.TenantClient(t, teeMetrics{m, metrics})
	}, opt.fulfillment, logger)
	if err := fulfillment.Register(reg, ff, fulfillment.Options{}); err != nil {
		return err
	}
	host, _ := os.Hostname()
	// River reports every poll at info level; warnings are what matter here.
	riverLog := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	jobs, err := job.New(s, reg, job.Config{Work: true, ID: fmt.Sprintf("%s-%d", host, os.Getpid()),
		PollInterval: time.Second, Logger: riverLog})
	if err != nil {
		return err
	}
	srv, err := web.New(web.Config{
		Store: s, Access: acc, Pipeline: pipeline, Metrics: metrics, Logger: logger,
		Secure:         opt.secureCookies || opt.tlsCert != "",
		MetricsPublic:  opt.metricsPublic,
		TrustedProxies: proxies,
		Sync: func(ctx context.Context, tenantID string) error {
			_, err := jobs.Insert(ctx, inventory.SyncArgs{TenantID: tenantID}, nil)
			return err
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opt.addr)
	if err != nil {
		return err
	}
	if err := jobs.Start(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("start workers: %w", err)
	}
	events, stopEvents := jobs.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	go observeSyncs(ctx, s, metrics, events)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	if opt.tlsCert != "" {
		scheme = "https"
	}
	if opt.listening != nil {
		opt.listening(scheme + "://" + ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() {
		if opt.tlsCert != "" {
			served <- hs.ServeTLS(ln, opt.tlsCert, opt.tlsKey)
		} else {
			served <- hs.Serve(ln)
		}
	}()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	stopEvents()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdown)
	_ = jobs.Stop(shutdown)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil // interrupted: a clean shutdown
}

// observeSyncs turns finished inventory jobs into the sync-duration metric,
// whichever way the sync was started (schedule, button, API).
func observeSyncs(ctx context.Context, s warehouse.Reader, m *web.Metrics, events <-chan *river.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Job == nil || ev.Job.Kind != (inventory.SyncArgs{}).Kind() || ev.JobStats == nil {
				continue
			}
			var args inventory.SyncArgs
			if json.Unmarshal(ev.Job.EncodedArgs, &args) != nil {
				continue
			}
			name := args.TenantID
			if t, err := s.GetTenant(ctx, args.TenantID); err == nil {
				name = t.Name
			}
			var err error
			if ev.Kind == river.EventKindJobFailed {
				err = errors.New("failed")
			}
			m.ObserveSync(name, args.Full, ev.JobStats.RunDuration, err)
		}
	}
}

// teeMetrics reports Graph calls both to the fulfiller's governor and to
// Prometheus.
type teeMetrics [2]graph.Metrics

func (t teeMetrics) Request(op string, status int, latency time.Duration) {
	t[0].Request(op, status, latency)
	t[1].Request(op, status, latency)
}

func (t teeMetrics) Throttled(op string, retryAfter time.Duration) {
	t[0].Throttled(op, retryAfter)
	t[1].Throttled(op, retryAfter)
}

func (t teeMetrics) Retried(op, reason string) {
	t[0].Retried(op, reason)
	t[1].Retried(op, reason)
}
