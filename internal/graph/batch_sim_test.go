package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

// counters is a Metrics that counts, for asserting retries happened.
type counters struct{ requests, throttled, retried atomic.Int64 }

func (m *counters) funcs() graph.MetricsFuncs {
	return graph.MetricsFuncs{
		OnRequest:   func(string, int, time.Duration) { m.requests.Add(1) },
		OnThrottled: func(string, time.Duration) { m.throttled.Add(1) },
		OnRetried:   func(string, string) { m.retried.Add(1) },
	}
}

func TestBatchRetriesInnerFailures(t *testing.T) {
	t.Parallel()
	for _, throttle := range []bool{true, false} {
		t.Run(fmt.Sprintf("throttle=%v", throttle), func(t *testing.T) {
			t.Parallel()
			var m counters
			sim, c := setup(t, graphsim.Config{Users: 120, Faults: graphsim.Faults{BatchFailRate: 0.3, BatchThrottle: throttle}},
				func(cfg *graph.Config) { cfg.Metrics = m.funcs() })
			users := sim.Users()[:45]
			var reqs []graph.BatchRequest
			for i, u := range users {
				reqs = append(reqs, graph.BatchRequest{ID: fmt.Sprint("get-", i), Method: "GET", URL: "/users/" + u.ID + "?$select=id,displayName"})
			}
			// A write that depends on a read: both travel in one batch.
			g := assignedGroupByMembers(t, sim, users[0].ID)
			reqs = append(reqs, graph.BatchRequest{ID: "add", Method: "POST", URL: "/groups/" + g + "/members/$ref",
				Body:      map[string]string{"@odata.id": c.GraphURL() + "/directoryObjects/" + users[0].ID},
				DependsOn: []string{"get-0"}, Op: "AddMember"})

			got, err := c.Batch(context.Background(), reqs)
			require.NoError(t, err)
			require.Len(t, got, len(reqs))
			for i, r := range got {
				require.Equal(t, reqs[i].ID, r.ID, "responses come back in request order")
				require.NoError(t, r.Err())
			}
			for i, u := range users {
				var body struct{ ID string }
				require.NoError(t, json.Unmarshal(got[i].Body, &body))
				require.Equal(t, u.ID, body.ID)
			}
			require.Equal(t, 204, got[len(got)-1].Status)
			require.True(t, sim.IsMember(g, users[0].ID))
			require.Positive(t, m.retried.Load(), "inner failures were retried")
			if throttle {
				require.Positive(t, m.throttled.Load())
			}
		})
	}
}

// assignedGroupByMembers returns a non-dynamic group userID is not in.
func assignedGroupByMembers(t *testing.T, sim *graphsim.Server, userID string) string {
	t.Helper()
	for _, g := range sim.Groups() {
		if !g.IsDynamic() && !sim.IsMember(g.ID, userID) {
			return g.ID
		}
	}
	t.Fatal("no group to add to")
	return ""
}

func TestBatchInnerErrorsAreTyped(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 60})
	g := sim.Groups()[0].ID
	got, err := c.Batch(context.Background(), []graph.BatchRequest{
		{ID: "1", Method: "GET", URL: "/users/00000000-0000-0000-0000-000000000000"},
		{ID: "2", Method: "DELETE", URL: "/groups/" + g + "/members/00000000-0000-0000-0000-000000000000/$ref", DependsOn: []string{"1"}},
	})
	require.NoError(t, err)
	require.True(t, graph.IsNotFound(got[0].Err()))
	require.Equal(t, 424, got[1].Status, "a failed dependency is reported, not retried")

	_, err = c.Batch(context.Background(), []graph.BatchRequest{{ID: "x", Method: "GET", URL: "/users"}, {ID: "x", Method: "GET", URL: "/groups"}})
	require.ErrorIs(t, err, graph.ErrInvalidInput)
}
