package graphsim

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefaultBudgetByTenantSize(t *testing.T) {
	t.Parallel()
	for users, ru := range map[int]int{10: 3500, 49: 3500, 50: 5000, 500: 5000, 501: 8000, 1_000_000: 8000} {
		b := DefaultBudget(users)
		require.Equal(t, ru, b.ResourceUnits, "users=%d", users)
		require.Equal(t, 10*time.Second, b.ResourceWindow)
		require.Equal(t, 3000, b.Writes)
		require.Equal(t, 150*time.Second, b.WriteWindow)
	}
}

// A client that ignores Retry-After is throttled; one that honours it gets
// every request through.
func TestThrottling(t *testing.T) {
	t.Parallel()
	// 10 RU per second in simulated time, run 5× faster.
	h := setup(t, Config{Users: 60, TimeScale: 5, Budget: &Budget{ResourceUnits: 10, ResourceWindow: time.Second, Writes: 3, WriteWindow: time.Minute}})
	const n = 60

	ignored := 0
	for i := 0; i < n; i++ {
		r := h.call("GET", "/users?$top=1", nil)
		if r.status == 429 {
			ignored++
			require.Equal(t, "TooManyRequests", r.errCode())
			require.NotEmpty(t, r.header.Get("Retry-After"))
			_, err := strconv.Atoi(r.header.Get("Retry-After"))
			require.NoError(t, err, "Retry-After is whole seconds")
			require.NotEmpty(t, r.header.Get("x-ms-retry-after-ms"))
			require.Equal(t, "ResourceUnitLimitExceeded", r.header.Get("x-ms-throttle-information"))
			require.Contains(t, r.header.Get("x-ms-throttle-scope"), "Tenant_Application/Read/"+h.info.ClientID)
			inner := r.body["error"].(map[string]any)["innerError"].(map[string]any)
			require.Equal(t, "429", inner["code"])
		} else {
			require.Equal(t, 200, r.status)
		}
	}
	require.Greater(t, ignored, n/2, "hammering past the budget is throttled")

	time.Sleep(300 * time.Millisecond) // let the bucket refill
	start := time.Now()
	for i := 0; i < n; i++ {
		r := h.call("GET", "/users?$top=1", nil)
		if r.status == 429 {
			ms, err := strconv.Atoi(r.header.Get("x-ms-retry-after-ms"))
			require.NoError(t, err)
			time.Sleep(time.Duration(ms) * time.Millisecond)
			r = h.call("GET", "/users?$top=1", nil)
			require.Equal(t, 200, r.status, "waiting as told is enough")
		}
		require.Equal(t, 200, r.status)
	}
	require.Less(t, time.Since(start), 5*time.Second)

	// Writes have their own budget.
	u := h.srv.Users()[1].ID
	time.Sleep(300 * time.Millisecond)
	applied, writeLimited := 0, 0
	for i := 0; i < 6; i++ {
		r := h.call("PATCH", "/users/"+u, map[string]any{"jobTitle": "Tester " + strconv.Itoa(i)})
		switch {
		case r.status == 204:
			applied++
		case r.status == 429 && r.header.Get("x-ms-throttle-information") == "WriteLimitExceeded":
			writeLimited++
		}
		time.Sleep(40 * time.Millisecond) // stay within the RU budget
	}
	require.Equal(t, 3, applied, "3 writes per window")
	require.Equal(t, 3, writeLimited)
}

func TestResourceUnitCosts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base  int
		query string
		want  int
	}{
		{2, "", 2}, {2, "$select=id", 1}, {2, "$select=id&$top=5", 1}, {3, "$expand=manager", 4},
		{5, "$top=999", 5}, {1, "$select=id", 1},
	} {
		q, err := url.ParseQuery(tc.query)
		require.NoError(t, err)
		require.Equal(t, tc.want, requestCost(tc.base, q), tc.query)
	}
}
