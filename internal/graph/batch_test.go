package graph

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func ids(batches [][]BatchRequest) [][]string {
	out := make([][]string, len(batches))
	for i, b := range batches {
		for _, r := range b {
			out[i] = append(out[i], r.ID)
		}
	}
	return out
}

func reqs(n int) []BatchRequest {
	out := make([]BatchRequest, n)
	for i := range out {
		out[i] = BatchRequest{ID: fmt.Sprint(i + 1), Method: "GET", URL: "/users"}
	}
	return out
}

func TestPlanBatchesChunksByTwenty(t *testing.T) {
	t.Parallel()
	for n, sizes := range map[int][]int{0: nil, 1: {1}, 20: {20}, 21: {20, 1}, 45: {20, 20, 5}} {
		got, err := planBatches(reqs(n))
		require.NoError(t, err)
		var gotSizes []int
		for _, b := range got {
			gotSizes = append(gotSizes, len(b))
		}
		require.Equal(t, sizes, gotSizes, "n=%d", n)
	}
}

func TestPlanBatchesKeepsDependencyChainsApart(t *testing.T) {
	t.Parallel()
	rs := reqs(25)
	// A chain 20 -> 21 -> 22 among independent requests: Graph wants each
	// batch fully sequential or fully parallel.
	rs[20].DependsOn = []string{"20"}
	rs[21].DependsOn = []string{"21"}
	got, err := planBatches(rs)
	require.NoError(t, err)
	require.Equal(t, [][]string{
		{"20", "21", "22"},
		{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "23"},
		{"24", "25"},
	}, ids(got))
}

func TestPlanBatchesRejectsBadInput(t *testing.T) {
	t.Parallel()
	dup := reqs(3)
	dup[2].ID = "1"
	unknown := reqs(2)
	unknown[1].DependsOn = []string{"nope"}
	noID := reqs(2)
	noID[0].ID = ""
	badURL := reqs(1)
	badURL[0].URL = "https://graph.microsoft.com/v1.0/users"
	long := reqs(21)
	for i := 1; i < len(long); i++ {
		long[i].DependsOn = []string{long[i-1].ID}
	}
	for name, tc := range map[string]struct {
		in   []BatchRequest
		want string
	}{
		"duplicate id": {dup, `duplicate request id "1"`},
		"unknown dep":  {unknown, `depends on "nope", which is not an earlier request`},
		"no id":        {noID, "request 0 has no id"},
		"absolute url": {badURL, "URL starting with /"},
		"chain > 20":   {long, "21 requests linked by dependsOn"},
	} {
		_, err := planBatches(tc.in)
		require.ErrorIs(t, err, ErrInvalidInput, name)
		require.ErrorContains(t, err, tc.want, name)
	}
}

func TestNextRoundHoldsDependentsAndSettlesFailedOnes(t *testing.T) {
	t.Parallel()
	c := offlineClient(t)
	b := BatchRequest{ID: "B", Method: "GET", URL: "/b", DependsOn: []string{"A"}}
	cr := BatchRequest{ID: "C", Method: "GET", URL: "/c", DependsOn: []string{"A"}}
	d := BatchRequest{ID: "D", Method: "GET", URL: "/d", DependsOn: []string{"B", "C"}}
	final := map[string]BatchResponse{"A": {ID: "A", Status: 200}}
	send, hold := c.nextRound([]BatchRequest{b, cr, d}, final)
	require.Equal(t, [][]string{{"B", "C"}, {"D"}}, ids([][]BatchRequest{send, hold}),
		"B and C lost their only dependency; D must wait rather than mix a batch")
	require.Empty(t, send[0].DependsOn)
	require.Equal(t, []string{"A"}, b.DependsOn, "the caller's request is not modified")

	final["B"] = BatchResponse{ID: "B", Status: 200}
	final["C"] = BatchResponse{ID: "C", Status: 404}
	send, hold = c.nextRound([]BatchRequest{d}, final)
	require.Empty(t, send)
	require.Empty(t, hold)
	require.Equal(t, 424, final["D"].Status, "a dependent of a failed request is settled, not sent")
	require.ErrorContains(t, final["D"].Err(), "depends on request C")
}
