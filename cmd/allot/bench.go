package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// benchResult is the one JSON object `allot bench SCENARIO --json` prints
// (DESIGN.md §8). Metric names are a contract: add freely, never rename.
type benchResult struct {
	Scenario string         `json:"scenario"`
	Params   map[string]any `json:"params"`
	Metrics  map[string]any `json:"metrics"`
}

// benchScenario is one standard benchmark. flags lets the scenario add its own
// flags (--users, --pools, …); run does the work and returns the result.
type benchScenario struct {
	short string
	flags func(cmd *cobra.Command)
	run   func(cmd *cobra.Command, c *cli) (benchResult, error)
}

var benchScenarios = map[string]benchScenario{}

// registerBench adds a scenario; called from init in each bench_*.go file.
func registerBench(name string, s benchScenario) { benchScenarios[name] = s }

func init() { register(newBenchCmd) }

func newBenchCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench SCENARIO",
		Short: "Run a standard benchmark (DESIGN.md §8) and print its metrics",
	}
	names := make([]string, 0, len(benchScenarios))
	for n := range benchScenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		s := benchScenarios[name]
		var asJSON bool
		sub := &cobra.Command{
			Use:   name,
			Short: s.short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if path, _ := cmd.Flags().GetString("cpuprofile"); path != "" && cmd.Flags().Lookup("cpuprofile").Annotations["generic"] != nil {
					f, err := os.Create(path)
					if err != nil {
						return err
					}
					if err := pprof.StartCPUProfile(f); err != nil {
						return err
					}
					defer func() { pprof.StopCPUProfile(); f.Close() }()
				}
				res, err := s.run(cmd, c)
				if err != nil {
					return fmt.Errorf("bench %s: %w", name, err)
				}
				if asJSON {
					return json.NewEncoder(c.stdout).Encode(res)
				}
				keys := make([]string, 0, len(res.Metrics))
				for k := range res.Metrics {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				fmt.Fprintf(c.stdout, "%s\n", res.Scenario)
				for _, k := range keys {
					fmt.Fprintf(c.stdout, "  %-22s %v\n", k, res.Metrics[k])
				}
				return nil
			},
		}
		sub.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
		if s.flags != nil {
			s.flags(sub)
		}
		// Scenarios may profile just their measured part; the rest get a
		// profile of the whole run.
		if sub.Flags().Lookup("cpuprofile") == nil {
			sub.Flags().String("cpuprofile", "", "write a CPU profile of the run to this file")
			_ = sub.Flags().SetAnnotation("cpuprofile", "generic", []string{"true"})
		}
		cmd.AddCommand(sub)
	}
	cmd.Long = "Scenarios: " + strings.Join(names, ", ")
	return cmd
}

// peakRSSMB is this process's peak resident set (VmHWM), in MiB.
func peakRSSMB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb / 1024
		}
	}
	return -1
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
