package graph_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

// setup starts a simulated tenant and a client for it, both torn down with
// the test. The client trusts the simulator's CA through CAFile, the same
// path a deployment behind a private CA uses.
func setup(t testing.TB, simCfg graphsim.Config, adjust ...func(*graph.Config)) (*graphsim.Server, *graph.Client) {
	t.Helper()
	if simCfg.Seed == 0 {
		simCfg.Seed = 42
	}
	if simCfg.TimeScale == 0 {
		simCfg.TimeScale = 100
	}
	sim, err := graphsim.Start(simCfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	return sim, newClient(t, sim, adjust...)
}

// newClient builds a client for sim; adjust edits its config first (e.g. to
// act as another registered app).
func newClient(t testing.TB, sim *graphsim.Server, adjust ...func(*graph.Config)) *graph.Client {
	t.Helper()
	info := sim.Info()
	cfg := graph.Config{
		TenantID:      info.TenantID,
		ClientID:      info.ClientID,
		ClientSecret:  info.ClientSecret,
		GraphURL:      info.GraphURL,
		AuthorityHost: info.AuthorityURL,
		CAFile:        info.CAFile,
		// Keep computed backoff short: the simulator's clock runs faster.
		Retry: graph.RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 200 * time.Millisecond},
	}
	for _, f := range adjust {
		f(&cfg)
	}
	c, err := graph.New(cfg)
	require.NoError(t, err)
	return c
}

// simUserSelect and simUserSelectCompact are what the tests list users with.
var simUserSelect, simUserSelectCompact = graph.UserSelect, graph.UserSelectCompact
