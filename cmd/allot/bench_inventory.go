package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/warehouse"
)

func init() {
	registerBench("inventory", benchScenario{
		short: "full sync of a simulated tenant over HTTP into a fresh SQLite warehouse",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().Int("users", 100_000, "users in the simulated tenant")
			cmd.Flags().Int("groups", 0, "groups (default users/10)")
			cmd.Flags().Int64("seed", 1, "simulator seed")
			cmd.Flags().Bool("log", false, "print the sync's debug log (fetch and apply timings) on stderr")
		},
		run: benchInventory,
	})
	registerBench("delta", benchScenario{
		short: "delta sync after a share of the users changed",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().Int("users", 1_000_000, "users in the simulated tenant")
			cmd.Flags().Int("groups", 0, "groups (default users/10)")
			cmd.Flags().String("changed", "1%", "users to change, as a count or a percentage")
			cmd.Flags().Int64("seed", 1, "simulator seed")
			cmd.Flags().Bool("log", false, "print the syncs' debug log (fetch and apply timings) on stderr")
		},
		run: benchDelta,
	})
}

// simProcess is `allot sim` running as a child process, so that the
// benchmark's own memory (peak RSS) is the sync's and not the tenant's.
type simProcess struct {
	info graphsim.Info
	cmd  *exec.Cmd
	dir  string
}

func startSimProcess(ctx context.Context, users, groups int, seed int64) (*simProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "allot-bench-")
	if err != nil {
		return nil, err
	}
	args := []string{"sim", "--users", strconv.Itoa(users), "--seed", strconv.FormatInt(seed, 10),
		"--ca-out", filepath.Join(dir, "ca.pem")}
	if groups > 0 {
		args = append(args, "--groups", strconv.Itoa(groups))
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	p := &simProcess{cmd: cmd, dir: dir}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("allot sim did not start: %v: %s", err, stderr.String())
	}
	if err := json.Unmarshal(line, &p.info); err != nil {
		p.stop()
		return nil, fmt.Errorf("allot sim ready line %q: %w", line, err)
	}
	return p, nil
}

// cpuMeter returns a function that reports the CPU this process and the
// simulator used since the previous call (or since cpuMeter).
func (p *simProcess) cpuMeter() func() (own, sim time.Duration) {
	lastOwn, lastSim := cpuTime(), processCPU(p.cmd.Process.Pid)
	return func() (own, sim time.Duration) {
		o, s := cpuTime(), processCPU(p.cmd.Process.Pid)
		own, sim, lastOwn, lastSim = o-lastOwn, s-lastSim, o, s
		return own, sim
	}
}

func (p *simProcess) stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
	_ = os.RemoveAll(p.dir)
}

// tenant registers the simulated tenant in a store, its secret referenced by file.
func (p *simProcess) tenant(ctx context.Context, s warehouse.Store) (directory.Tenant, error) {
	secret := filepath.Join(p.dir, "secret")
	if err := os.WriteFile(secret, []byte(p.info.ClientSecret), 0o600); err != nil {
		return directory.Tenant{}, err
	}
	t := directory.Tenant{ID: p.info.TenantID, Name: "bench", GraphURL: p.info.GraphURL, AuthorityURL: p.info.AuthorityURL,
		ClientID: p.info.ClientID, SecretRef: "file:" + secret, CAFile: p.info.CAFile}
	return t, s.CreateTenant(ctx, t)
}

// control calls the simulator's /_sim API.
func (p *simProcess) control(ctx context.Context, method, path string, body any) error {
	pem, err := os.ReadFile(p.info.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 16}}
	base := strings.TrimSuffix(p.info.GraphURL, "/v1.0")
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return nil
}

func flagInt(cmd *cobra.Command, name string) int {
	v, _ := cmd.Flags().GetInt(name)
	return v
}

func benchInventory(cmd *cobra.Command, _ *cli) (benchResult, error) {
	ctx := cmd.Context()
	users, groups := flagInt(cmd, "users"), flagInt(cmd, "groups")
	seed, _ := cmd.Flags().GetInt64("seed")
	sim, err := startSimProcess(ctx, users, groups, seed)
	if err != nil {
		return benchResult{}, err
	}
	defer sim.stop()

	s, err := warehouse.Open(ctx, filepath.Join(sim.dir, "bench.db"))
	if err != nil {
		return benchResult{}, err
	}
	defer s.Close()
	t, err := sim.tenant(ctx, s)
	if err != nil {
		return benchResult{}, err
	}
	client, err := inventory.NewClient(t)
	if err != nil {
		return benchResult{}, err
	}
	// The phase labels let a --cpuprofile tell the download's CPU from the
	// sync's (go tool pprof -tagfocus phase=sync).
	var dl inventory.DownloadStats
	cpu := sim.cpuMeter()
	start := time.Now()
	pprof.Do(ctx, pprof.Labels("phase", "download"), func(ctx context.Context) {
		dl, err = inventory.Download(ctx, client, inventory.Options{})
	})
	if err != nil {
		return benchResult{}, fmt.Errorf("download: %w", err)
	}
	download := time.Since(start).Seconds()
	downloadCPU, downloadSimCPU := cpu()

	var res inventory.Result
	pprof.Do(ctx, pprof.Labels("phase", "sync"), func(ctx context.Context) {
		res, err = benchSyncer(cmd, s).Sync(ctx, t.Name, inventory.Options{Full: true})
	})
	if err != nil {
		return benchResult{}, err
	}
	syncCPU, syncSimCPU := cpu()
	return benchResult{
		Scenario: "inventory",
		Params:   map[string]any{"users": users, "groups": groupsOr(groups, users), "seed": seed, "backend": "sqlite"},
		Metrics: map[string]any{
			"download_seconds":   round3(download),
			"sync_seconds":       round3(res.Seconds),
			"ratio":              round3(res.Seconds / download),
			"objects_per_second": int64(float64(res.Objects()) / res.Seconds),
			"peak_rss_mb":        peakRSSMB(),
			// Both phases share the cores with the simulator: CPU says
			// where a phase's time went when wall time cannot.
			"download_cpu_seconds":     round3(downloadCPU.Seconds()),
			"download_sim_cpu_seconds": round3(downloadSimCPU.Seconds()),
			"sync_cpu_seconds":         round3(syncCPU.Seconds()),
			"sync_sim_cpu_seconds":     round3(syncSimCPU.Seconds()),
			"objects":                  res.Objects(),
			"users":                    res.Users,
			"groups":                   res.Groups,
			"memberships":              res.Memberships,
			"license_states":           res.LicenseStates,
			"pages":                    dl.Pages,
			"download_mb":              round3(float64(dl.Bytes) / (1 << 20)),
		},
	}, nil
}

// benchSyncer is the syncer a benchmark measures, logging at debug level to
// stderr with --log.
func benchSyncer(cmd *cobra.Command, s warehouse.Store) *inventory.Syncer {
	syncer := &inventory.Syncer{Store: s}
	if on, _ := cmd.Flags().GetBool("log"); on {
		syncer.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return syncer
}

func groupsOr(groups, users int) int {
	if groups > 0 {
		return groups
	}
	return max(users/10, 20)
}

func benchDelta(cmd *cobra.Command, _ *cli) (benchResult, error) {
	ctx := cmd.Context()
	users, groups := flagInt(cmd, "users"), flagInt(cmd, "groups")
	seed, _ := cmd.Flags().GetInt64("seed")
	changedFlag, _ := cmd.Flags().GetString("changed")
	changed, err := countOf(changedFlag, users)
	if err != nil {
		return benchResult{}, err
	}
	sim, err := startSimProcess(ctx, users, groups, seed)
	if err != nil {
		return benchResult{}, err
	}
	defer sim.stop()
	s, err := warehouse.Open(ctx, filepath.Join(sim.dir, "bench.db"))
	if err != nil {
		return benchResult{}, err
	}
	defer s.Close()
	t, err := sim.tenant(ctx, s)
	if err != nil {
		return benchResult{}, err
	}
	syncer := benchSyncer(cmd, s)
	full, err := syncer.Sync(ctx, t.Name, inventory.Options{})
	if err != nil {
		return benchResult{}, err
	}
	ids, err := s.LiveIDs(ctx, t.ID, warehouse.LiveUsers)
	if err != nil {
		return benchResult{}, err
	}
	// Change every (len/changed)-th user's department, eight at a time.
	step := max(len(ids)/max(changed, 1), 1)
	work := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if err := sim.control(ctx, http.MethodPatch, "/_sim/users/"+id, map[string]string{"department": "Delta Bench"}); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	n := 0
	for i := 0; i < len(ids) && n < changed; i += step {
		work <- ids[i]
		n++
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return benchResult{}, fmt.Errorf("mutate: %w", firstErr)
	}
	res, err := syncer.Sync(ctx, t.Name, inventory.Options{})
	if err != nil {
		return benchResult{}, err
	}
	return benchResult{
		Scenario: "delta",
		Params:   map[string]any{"users": users, "groups": groupsOr(groups, users), "changed": changedFlag, "seed": seed, "backend": "sqlite"},
		Metrics: map[string]any{
			"delta_seconds":     round3(res.Seconds),
			"changed":           n,
			"users_applied":     res.Users,
			"license_states":    res.LicenseStates,
			"all_licenses":      res.AllLicenses,
			"full_sync_seconds": round3(full.Seconds),
			"peak_rss_mb":       peakRSSMB(),
		},
	}, nil
}

// countOf reads "1%" of total, or a plain count.
func countOf(s string, total int) (int, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 0 || f > 100 {
			return 0, fmt.Errorf("--changed %q: want a count or a percentage 0–100%%", s)
		}
		return int(float64(total) * f / 100), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--changed %q: want a count or a percentage", s)
	}
	return n, nil
}
