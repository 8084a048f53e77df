package graphsim

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func batchOf(reqs ...map[string]any) map[string]any {
	return map[string]any{"requests": reqs}
}

func responsesByID(t *testing.T, r *resp) map[string]map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	out := map[string]map[string]any{}
	for _, x := range r.body["responses"].([]any) {
		m := x.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

func TestBatch(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300, Groups: 60})
	srv := h.srv
	users := srv.Users()
	analysts := h.groupNamed("Data Analysts")

	t.Run("more than 20 requests", func(t *testing.T) {
		var reqs []map[string]any
		for i := 0; i < 21; i++ {
			reqs = append(reqs, map[string]any{"id": strconv.Itoa(i), "method": "GET", "url": "/users?$top=1"})
		}
		r := h.call("POST", "/$batch", batchOf(reqs...))
		require.Equal(t, 400, r.status)
		reqs = reqs[:20]
		require.Len(t, responsesByID(t, h.call("POST", "/$batch", batchOf(reqs...))), 20)
	})
	t.Run("malformed", func(t *testing.T) {
		for name, body := range map[string]any{
			"not json":       "{",
			"duplicate id":   batchOf(map[string]any{"id": "1", "method": "GET", "url": "/users"}, map[string]any{"id": "1", "method": "GET", "url": "/users"}),
			"body w/o ctype": batchOf(map[string]any{"id": "1", "method": "PATCH", "url": "/users/" + users[0].ID, "body": map[string]any{"jobTitle": "x"}}),
			"unknown dep":    batchOf(map[string]any{"id": "1", "method": "GET", "url": "/users", "dependsOn": []string{"9"}}),
			"half sequential": batchOf(map[string]any{"id": "1", "method": "GET", "url": "/users"},
				map[string]any{"id": "2", "method": "GET", "url": "/users", "dependsOn": []string{"1"}},
				map[string]any{"id": "3", "method": "GET", "url": "/users"}),
		} {
			r := h.call("POST", "/$batch", body)
			require.Equal(t, 400, r.status, name)
		}
	})
	t.Run("inner requests and dependsOn 424", func(t *testing.T) {
		var members []string
		for _, u := range users {
			if u.UserType == "Member" && !srv.IsMember(analysts, u.ID) && len(members) < 2 {
				members = append(members, u.ID)
			}
		}
		ref := func(id string) map[string]any {
			return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
		}
		ct := map[string]string{"Content-Type": "application/json"}
		r := h.call("POST", "/$batch", batchOf(
			map[string]any{"id": "1", "method": "POST", "url": "/groups/" + analysts + "/members/$ref", "headers": ct, "body": ref(members[0])},
			map[string]any{"id": "2", "method": "POST", "url": "/groups/" + analysts + "/members/$ref", "headers": ct, "body": ref(members[0]), "dependsOn": []string{"1"}},
			map[string]any{"id": "3", "method": "POST", "url": "/groups/" + analysts + "/members/$ref", "headers": ct, "body": ref(members[1]), "dependsOn": []string{"2"}},
		), "client-request-id", "outer")
		got := responsesByID(t, r)
		require.Equal(t, float64(204), got["1"]["status"])
		require.Equal(t, float64(400), got["2"]["status"], "already a member")
		require.Equal(t, "Request_BadRequest", got["2"]["body"].(map[string]any)["error"].(map[string]any)["code"])
		require.Equal(t, float64(424), got["3"]["status"])
		require.True(t, srv.IsMember(analysts, members[0]))
		require.False(t, srv.IsMember(analysts, members[1]))
		var sources []string
		for _, w := range srv.WriteLog() {
			if w.ClientRequestID == "outer" {
				sources = append(sources, w.Source+":"+w.Outcome)
			}
		}
		require.Equal(t, []string{"batch:applied", "batch:duplicate"}, sources)
	})
	t.Run("partial failure fault", func(t *testing.T) {
		srv.SetFaults(Faults{BatchFailRate: 0.5, BatchThrottle: true})
		defer srv.SetFaults(Faults{})
		var reqs []map[string]any
		for i := 0; i < 20; i++ {
			reqs = append(reqs, map[string]any{"id": strconv.Itoa(i), "method": "GET", "url": "/users/" + users[i].ID})
		}
		got := responsesByID(t, h.call("POST", "/$batch", batchOf(reqs...)))
		var ok, throttled int
		for _, g := range got {
			switch g["status"] {
			case float64(200):
				ok++
			case float64(429):
				throttled++
				require.NotEmpty(t, g["headers"].(map[string]any)["Retry-After"])
			}
		}
		require.Positive(t, ok)
		require.Positive(t, throttled)
	})
}

// Inner requests are throttled one by one: a batch that exceeds the budget
// answers 200 with inner 429s carrying their own Retry-After.
func TestBatchInnerThrottling(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 60, Budget: &Budget{ResourceUnits: 10, ResourceWindow: time.Minute}})
	var reqs []map[string]any
	for i := 0; i < 20; i++ {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/users?$top=1"})
	}
	got := responsesByID(t, h.call("POST", "/$batch", batchOf(reqs...)))
	var throttled int
	for _, g := range got {
		if g["status"] == float64(429) {
			throttled++
			hdr := g["headers"].(map[string]any)
			require.NotEmpty(t, hdr["Retry-After"])
			require.Equal(t, "ResourceUnitLimitExceeded", hdr["x-ms-throttle-information"])
		}
	}
	require.Equal(t, 10, throttled, "10 RU budget, 1 RU per request")
}
