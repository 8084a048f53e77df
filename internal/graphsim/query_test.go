package graphsim

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/stretchr/testify/require"
)

// Paging $top=999 across 100,000 users returns every user exactly once by
// following @odata.nextLink verbatim; the last page has no nextLink.
func TestPagingAcross100kUsers(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 100_000, Groups: 100})
	start := time.Now()
	seen := make(map[string]bool, 100_000)
	next := "/users?$top=999&$select=id,userPrincipalName,assignedLicenses"
	pages := 0
	for next != "" {
		r := h.call("GET", next, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.raw))
		vals := r.values()
		require.LessOrEqual(t, len(vals), 999)
		for _, v := range vals {
			id := v["id"].(string)
			require.False(t, seen[id], "user %s returned twice", id)
			seen[id] = true
		}
		pages++
		next, _ = r.body["@odata.nextLink"].(string)
	}
	require.Len(t, seen, 100_000)
	require.Equal(t, 101, pages)
	t.Logf("100k users in %d pages: %s", pages, time.Since(start))
}

func TestQueryOptions(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 1500})
	srv := h.srv
	e3 := h.skuID("SPE_E3")
	users := srv.Users()
	countWhere := func(pred func(i int) bool) int {
		n := 0
		for i := range users {
			if pred(i) {
				n++
			}
		}
		return n
	}
	holds := func(i int, sku string) bool {
		states, _ := srv.LicenseStates(users[i].ID)
		for _, s := range states {
			if s.SkuID == sku && s.State != "Error" {
				return true
			}
		}
		return false
	}
	// collect follows every page and returns the items.
	collect := func(path string, hdr ...string) (int, []map[string]any, *resp) {
		var all []map[string]any
		first := h.call("GET", path, nil, hdr...)
		r := first
		for {
			require.Equal(t, 200, r.status, "%s: %s", path, r.raw)
			all = append(all, r.values()...)
			next, ok := r.body["@odata.nextLink"].(string)
			if !ok {
				break
			}
			_, hasCount := r.body["@odata.count"]
			require.True(t, r == first || !hasCount, "@odata.count only on the first page")
			r = h.call("GET", next, nil, hdr...)
		}
		return len(all), all, first
	}
	eventual := []string{"ConsistencyLevel", "eventual"}

	t.Run("filter by SKU", func(t *testing.T) {
		n, _, first := collect("/users?$filter=assignedLicenses/any(x:x/skuId eq "+e3+")&$count=true&$select=id,assignedLicenses&$top=100", eventual...)
		want := countWhere(func(i int) bool { return holds(i, e3) })
		require.Equal(t, want, n)
		require.Equal(t, float64(want), first.body["@odata.count"])
	})
	t.Run("license filter paging without advanced params fails on page two", func(t *testing.T) {
		r := h.call("GET", "/users?$filter=assignedLicenses/any(x:x/skuId eq "+e3+")&$top=10", nil)
		require.Equal(t, 200, r.status)
		r = h.call("GET", r.body["@odata.nextLink"].(string), nil)
		require.Equal(t, 400, r.status)
		require.Equal(t, "Directory_ExpiredPageToken", r.errCode())
	})
	for _, tc := range []struct {
		name, filter string
		advanced     bool
		pred         func(i int) bool
	}{
		{"accountEnabled", "accountEnabled eq false", false, func(i int) bool { return !users[i].AccountEnabled }},
		{"userType", "userType eq 'Guest'", false, func(i int) bool { return users[i].UserType == "Guest" }},
		{"department", "department eq 'sales'", false, func(i int) bool { return users[i].Department == "Sales" }},
		{"startsWith", "startsWith(displayName,'ma')", false, func(i int) bool { return hasPrefixFold(users[i].DisplayName, "ma") }},
		{"upn startswith", "startswith(userPrincipalName,'j')", false, func(i int) bool { return hasPrefixFold(users[i].UserPrincipalName, "j") }},
		{"id in", "id in ('" + users[3].ID + "','" + users[9].ID + "')", false, func(i int) bool { return i == 3 || i == 9 }},
		{"id eq or", "id eq '" + users[5].ID + "' or id eq '" + users[7].ID + "'", false, func(i int) bool { return i == 5 || i == 7 }},
		{"unlicensed", "assignedLicenses/$count eq 0", true, func(i int) bool { st, _ := srv.LicenseStates(users[i].ID); return !hasSeat(st) }},
		{"licensed", "assignedLicenses/$count ne 0", true, func(i int) bool { st, _ := srv.LicenseStates(users[i].ID); return hasSeat(st) }},
		{"ne", "userType ne 'Member'", true, func(i int) bool { return users[i].UserType != "Member" }},
		{"not", "not(accountEnabled eq true)", true, func(i int) bool { return !users[i].AccountEnabled }},
		{"usage location null", "usageLocation eq null", false, func(i int) bool { return users[i].UsageLocation == "" }},
		{"and", "accountEnabled eq true and userType eq 'Member'", false, func(i int) bool { return users[i].AccountEnabled && users[i].UserType == "Member" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := countWhere(tc.pred)
			require.Positive(t, want, "the generated tenant should exercise %s", tc.name)
			path := "/users?$top=999&$select=id&$filter=" + tc.filter
			if tc.advanced {
				r := h.call("GET", path, nil)
				require.Equal(t, 400, r.status, "advanced query without ConsistencyLevel")
				require.Equal(t, "Request_UnsupportedQuery", r.errCode())
				require.Contains(t, r.errMessage(), "Try adding $count=true query parameter and ConsistencyLevel:eventual header")
				path += "&$count=true"
			}
			n, _, _ := collect(path, eventual...)
			require.Equal(t, want, n)
		})
	}
	t.Run("$count needs ConsistencyLevel", func(t *testing.T) {
		r := h.call("GET", "/users?$count=true", nil)
		require.Equal(t, 400, r.status)
		require.Equal(t, "$count is not currently supported.", r.errMessage())
		r = h.call("GET", "/users/$count", nil, eventual...)
		require.Equal(t, 200, r.status)
		require.Equal(t, strconv.Itoa(len(users)), string(r.raw))
		require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/plain"))
	})
	t.Run("$top limits", func(t *testing.T) {
		for _, top := range []string{"0", "1000", "x"} {
			r := h.call("GET", "/users?$top="+top, nil)
			require.Equal(t, 400, r.status, top)
			require.Equal(t, "Request_BadRequest", r.errCode())
		}
		require.Equal(t, 400, h.call("GET", "/users?$top=501&$select=id,signInActivity", nil).status)
		r := h.call("GET", "/users?$top=500&$select=id,signInActivity", nil)
		require.Equal(t, 200, r.status)
		require.Len(t, r.values(), 500)
		require.Len(t, h.call("GET", "/users", nil).values(), 100, "default page size")
		require.Equal(t, 400, h.call("GET", "/users?$skip=10", nil).status)
	})
	t.Run("$select gates licensing properties", func(t *testing.T) {
		r := h.call("GET", "/users?$top=5", nil)
		for _, v := range r.values() {
			require.NotContains(t, v, "assignedLicenses")
			require.NotContains(t, v, "accountEnabled")
			require.Contains(t, v, "userPrincipalName")
		}
		r = h.call("GET", "/users?$top=5&$select=id,assignedLicenses,licenseAssignmentStates,usageLocation", nil)
		for _, v := range r.values() {
			require.Len(t, v, 4)
		}
		r = h.call("GET", "/users?$select=nope", nil)
		require.Equal(t, 400, r.status)
		require.Equal(t, "Could not find a property named 'nope' on type 'microsoft.graph.user'.", r.errMessage())
		require.Equal(t, 501, h.call("GET", "/users?$select=mailboxSettings", nil).status)
	})
	t.Run("subscribedSkus $select", func(t *testing.T) {
		r := h.call("GET", "/subscribedSkus?$select=skuId,skuPartNumber,consumedUnits,prepaidUnits", nil)
		require.Equal(t, 200, r.status, string(r.raw))
		for _, v := range r.values() {
			require.Len(t, v, 4)
			require.Contains(t, v, "prepaidUnits")
		}
		require.Equal(t, 400, h.call("GET", "/subscribedSkus?$select=nope", nil).status)
		require.Equal(t, 400, h.call("GET", "/subscribedSkus?$filter=skuPartNumber eq 'SPE_E3'", nil).status)
	})
	t.Run("$search and $orderby", func(t *testing.T) {
		r := h.call("GET", `/users?$search="displayName:ma"`, nil)
		require.Equal(t, 400, r.status)
		n, all, _ := collect(`/users?$search="displayName:ma"&$orderby=displayName&$count=true&$select=displayName`, eventual...)
		require.Positive(t, n)
		for i := 1; i < len(all); i++ {
			require.LessOrEqual(t, strings.ToLower(all[i-1]["displayName"].(string)), strings.ToLower(all[i]["displayName"].(string)))
		}
	})
	t.Run("client-request-id and request-id", func(t *testing.T) {
		r := h.call("GET", "/users?$top=1", nil, "client-request-id", "abc-123")
		require.Equal(t, "abc-123", r.header.Get("client-request-id"))
		require.NotEmpty(t, r.header.Get("request-id"))
		require.Equal(t, "1", r.header.Get("x-ms-resource-unit"), "GET users (2) with $top<20 (-1)")
	})
}

func hasSeat(states []directory.LicenseState) bool {
	for _, s := range states {
		if s.State != directory.StateError {
			return true
		}
	}
	return false
}

// Looking users up by id: "in" takes 15 values outside advanced queries,
// as Graph does, and twenty such GETs fit one $batch.
func TestUsersByIDIn(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 400})
	users := h.srv.Users()
	in := func(from, n int) string {
		q := make([]string, n)
		for i := range q {
			q[i] = "'" + users[from+i].ID + "'"
		}
		return "id in (" + strings.Join(q, ",") + ")"
	}
	r := h.call("GET", "/users?$select=id&$filter="+in(0, 15), nil)
	require.Equal(t, 200, r.status, string(r.raw))
	require.Len(t, r.values(), 15)

	r = h.call("GET", "/users?$select=id&$filter="+in(0, 16), nil)
	require.Equal(t, 400, r.status)
	require.Equal(t, "Request_UnsupportedQuery", r.errCode())
	require.Equal(t, "Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.", r.errMessage())
	r = h.call("GET", "/users?$select=id&$count=true&$filter="+in(0, 16), nil, "ConsistencyLevel", "eventual")
	require.Equal(t, 200, r.status, "advanced queries lift the limit: %s", r.raw)
	require.Len(t, r.values(), 16)

	// Deleted users are not found; the others come back with their states.
	require.NoError(t, h.srv.DeleteUser(users[2].ID))
	var reqs []map[string]any
	for k := range 20 {
		reqs = append(reqs, map[string]any{"id": strconv.Itoa(k), "method": "GET",
			"url": "/users?$select=id,licenseAssignmentStates&$filter=" + in(k*15, 15)})
	}
	r = h.call("POST", "/$batch", map[string]any{"requests": reqs})
	require.Equal(t, 200, r.status, string(r.raw))
	seen := 0
	for _, it := range r.body["responses"].([]any) {
		res := it.(map[string]any)
		require.EqualValues(t, 200, res["status"], "%v", res["body"])
		for _, v := range res["body"].(map[string]any)["value"].([]any) {
			u := v.(map[string]any)
			require.Len(t, u, 2)
			want, err := h.srv.LicenseStates(u["id"].(string))
			require.NoError(t, err)
			require.Len(t, u["licenseAssignmentStates"], len(want))
			seen++
		}
	}
	require.Equal(t, 20*15-1, seen)
}
