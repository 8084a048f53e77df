package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/workflow"
)

func init() {
	registerBench("fulfillment", benchScenario{
		short: "apply N group additions under the simulator's (time-scaled) Graph write budget",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().Int("changes", 100_000, "group-member additions to apply")
			cmd.Flags().Int("groups", 40, "groups the additions spread over")
			cmd.Flags().Float64("time-scale", 5, "simulator time scale: the write budget refills this many times faster")
			cmd.Flags().Int64("seed", 1, "simulator seed")
			cmd.Flags().String("cpuprofile", "", "write a CPU profile of the fulfilment phase to this file")
			cmd.Flags().Int("claim", 0, "group additions per claim (default: the fulfiller's)")
			cmd.Flags().Int("concurrency", 0, "claims worked at once (default: the fulfiller's)")
		},
		run: benchFulfillment,
	})
}

// benchFulfillment submits N additions through the pipeline into a fresh
// SQLite warehouse, drains them against the simulator and judges the run
// from the simulator's own write log: writes it was charged, changes
// applied never or twice.
func benchFulfillment(cmd *cobra.Command, c *cli) (benchResult, error) {
	ctx := cmd.Context()
	n, _ := cmd.Flags().GetInt("changes")
	groups, _ := cmd.Flags().GetInt("groups")
	scale, _ := cmd.Flags().GetFloat64("time-scale")
	seed, _ := cmd.Flags().GetInt64("seed")
	res := benchResult{Scenario: "fulfillment", Params: map[string]any{"changes": n, "groups": groups, "time_scale": scale}}
	if n <= 0 || groups <= 0 || scale <= 0 {
		return res, fmt.Errorf("--changes, --groups and --time-scale must be positive")
	}
	dir, err := os.MkdirTemp("", "allot-bench-fulfillment-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	// Enough users that every (user, group) pair is new, whatever the
	// generator put in the groups; spare groups for the dynamic ones.
	users := n/groups + n/groups/2 + 100
	sim, err := graphsim.Start(graphsim.Config{Users: users, Groups: groups + 60, Seed: seed, TimeScale: scale,
		CAOut: filepath.Join(dir, "ca.pem")})
	if err != nil {
		return res, err
	}
	defer sim.Close()
	bc := &cli{db: filepath.Join(dir, "allot.db"), stdout: io.Discard, stderr: c.stderr}
	s, err := bc.openStore(ctx)
	if err != nil {
		return res, err
	}
	defer s.Close()
	t, err := registerSim(ctx, s, sim, dir)
	if err != nil {
		return res, err
	}
	reqs, pairs, err := benchRequests(sim, n, groups)
	if err != nil {
		return res, err
	}
	admin := workflow.Principal{ID: "bench"}
	p := &workflow.Pipeline{Store: s, Access: workflow.NewStaticAccess(workflow.Delegation{Principal: admin,
		Actions: []string{workflow.ActionRequest}})}
	fmt.Fprintf(c.stderr, "bench fulfillment: submitting %d requests…\n", n)
	for i := range reqs {
		reqs[i].Initiator = admin
	}
	if _, err := p.Submit(ctx, t.ID, reqs); err != nil {
		return res, err
	}

	budget := graphsim.DefaultBudget(users)
	window := time.Duration(float64(budget.WriteWindow) / scale)
	claim, _ := cmd.Flags().GetInt("claim")
	conc, _ := cmd.Flags().GetInt("concurrency")
	f := fulfillment.New(s, nil, fulfillment.Config{Budget: fulfillment.Budget{Writes: budget.Writes, Window: window},
		GroupAdds: claim, Concurrency: conc},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	sim.ResetWriteLog()
	fmt.Fprintf(c.stderr, "bench fulfillment: applying under %d writes per %s…\n", budget.Writes, window)
	if prof, _ := cmd.Flags().GetString("cpuprofile"); prof != "" {
		pf, err := os.Create(prof)
		if err != nil {
			return res, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	st, err := f.Drain(ctx, t.ID)
	seconds := time.Since(start).Seconds()
	if err != nil {
		return res, err
	}
	// What the simulator could have accepted over the run: its full bucket
	// at the start plus the refill.
	available := float64(budget.Writes) + seconds*float64(budget.Writes)/window.Seconds()
	charged, lost, dup := judgeWrites(sim.WriteLog(), pairs)
	counts, err := s.CountChanges(ctx, warehouse.ChangeFilter{TenantID: t.ID})
	if err != nil {
		return res, err
	}
	res.Metrics = map[string]any{
		"seconds":              round(seconds, 2),
		"budget_utilisation":   round(float64(charged)/available, 3),
		"writes_per_change":    round(float64(charged)/float64(n), 4),
		"lost":                 lost,
		"duplicated":           dup,
		"writes":               charged,
		"changes_per_second":   round(float64(st.Done)/seconds, 0),
		"throttled":            f.Throttles(),
		"done":                 counts[warehouse.ChangeDone],
		"failed":               counts[warehouse.ChangeFailed],
		"write_budget_per_sec": round(float64(budget.Writes)/window.Seconds(), 1),
	}
	return res, nil
}

// benchRequests picks n (user, group) pairs that are not memberships yet,
// over plain groups (not dynamic, not licensed).
func benchRequests(sim *graphsim.Server, n, groups int) ([]workflow.Request, map[[2]string]bool, error) {
	var gs []string
	for _, g := range sim.Groups() {
		if len(gs) < groups && g.MembershipRule == "" && len(g.AssignedLicenses) == 0 &&
			!slices.Contains(g.GroupTypes, "DynamicMembership") {
			gs = append(gs, g.ID)
		}
	}
	if len(gs) < groups {
		return nil, nil, fmt.Errorf("the simulated tenant has only %d plain groups", len(gs))
	}
	member := map[[2]string]bool{}
	for _, m := range sim.Memberships() {
		member[[2]string{m.GroupID, m.MemberID}] = true
	}
	pairs := make(map[[2]string]bool, n)
	reqs := make([]workflow.Request, 0, n)
	for _, u := range sim.Users() {
		for _, g := range gs {
			k := [2]string{g, u.ID}
			if len(reqs) < n && !member[k] {
				pairs[k] = true
				reqs = append(reqs, workflow.Request{Origin: workflow.FromPool, Operation: workflow.AddGroupMember,
					UserID: u.ID, GroupID: g, Pool: "bench"})
			}
		}
	}
	if len(reqs) < n {
		return nil, nil, fmt.Errorf("only %d new memberships possible", len(reqs))
	}
	return reqs, pairs, nil
}

// judgeWrites counts the write requests the simulator was charged for (one
// per HTTP or $batch-inner request, however many members it bound) and the
// wanted memberships applied never or more than once.
func judgeWrites(log []graphsim.Write, pairs map[[2]string]bool) (charged int, lost, duplicated int) {
	requests := map[string]bool{}
	applied := map[[2]string]int{}
	for _, w := range log {
		requests[w.RequestID] = true
		if w.Op == "addMember" && w.Outcome == graphsim.OutcomeApplied {
			applied[[2]string{w.Target, strings.ToLower(w.Object)}]++
		}
	}
	for k := range pairs {
		switch applied[[2]string{k[0], strings.ToLower(k[1])}] {
		case 0:
			lost++
		case 1:
		default:
			duplicated++
		}
	}
	return len(requests), lost, duplicated
}

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}
