package graphsim

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/stretchr/testify/require"
)

func odataRef(id string) map[string]any {
	return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
}

func bind(ids ...string) map[string]any {
	var refs []string
	for _, id := range ids {
		refs = append(refs, "https://graph.microsoft.com/v1.0/directoryObjects/"+id)
	}
	return map[string]any{"members@odata.bind": refs}
}

// Membership writes with Graph's statuses and bodies (graph.md §2), each
// effect recorded once in the write log.
func TestMembershipWrites(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300, Groups: 60})
	srv := h.srv
	g := h.groupNamed("Data Analysts")
	var outsiders []string
	for _, u := range srv.Users() {
		if u.UserType == "Member" && !srv.IsMember(g, u.ID) {
			outsiders = append(outsiders, u.ID)
		}
	}
	require.Greater(t, len(outsiders), 30)
	a := outsiders[0]

	r := h.call("POST", "/groups/"+g+"/members/$ref", odataRef(a), "client-request-id", "add-a")
	require.Equal(t, http.StatusNoContent, r.status, string(r.raw))
	require.True(t, srv.IsMember(g, a))

	r = h.call("POST", "/groups/"+g+"/members/$ref", odataRef(a), "client-request-id", "add-a-again")
	require.Equal(t, 400, r.status)
	require.Equal(t, "Request_BadRequest", r.errCode())
	require.Equal(t, "One or more added object references already exist for the following modified properties: 'members'.", r.errMessage())

	r = h.call("POST", "/groups/"+g+"/members/$ref", odataRef("00000000-0000-4000-8000-000000000001"))
	require.Equal(t, 404, r.status)
	require.Equal(t, "Request_ResourceNotFound", r.errCode())

	r = h.call("DELETE", "/groups/"+g+"/members/"+a+"/$ref", nil)
	require.Equal(t, 204, r.status)
	require.False(t, srv.IsMember(g, a))
	r = h.call("DELETE", "/groups/"+g+"/members/"+a+"/$ref", nil)
	require.Equal(t, 404, r.status)

	// PATCH binds up to 20 at once, all or nothing.
	r = h.call("PATCH", "/groups/"+g, bind(outsiders[1:22]...))
	require.Equal(t, 400, r.status)
	require.Equal(t, "A resource cannot contain more than 20 link changes.", r.errMessage())
	r = h.call("PATCH", "/groups/"+g, bind(outsiders[1:21]...), "client-request-id", "bind-20")
	require.Equal(t, 204, r.status, string(r.raw))
	for _, id := range outsiders[1:21] {
		require.True(t, srv.IsMember(g, id))
	}
	r = h.call("PATCH", "/groups/"+g, bind(outsiders[21], outsiders[1]))
	require.Equal(t, 400, r.status)
	require.Equal(t, "One or more added object references already exist for the following modified properties: 'members'.", r.errMessage())
	require.False(t, srv.IsMember(g, outsiders[21]), "a failed PATCH adds nobody")

	// Dynamic groups refuse manual changes.
	dyn := h.groupNamed("All Employees")
	r = h.call("POST", "/groups/"+dyn+"/members/$ref", odataRef(outsiders[25]))
	require.Equal(t, 400, r.status)
	require.True(t, errors.Is(srv.AddMember(dyn, outsiders[25]), ErrDynamicGroup))

	c := srv.WriteCounts()
	require.Equal(t, 21, c.ByOp["addMember"])
	require.Equal(t, 1, c.ByOp["removeMember"])
	require.Equal(t, 3, c.Duplicate, "add-a-again, the second delete, outsiders[1] in the failed PATCH")
	require.Equal(t, 0, c.Repeated)
	var bind20 int
	for _, w := range srv.WriteLog() {
		if w.ClientRequestID == "bind-20" {
			bind20++
			require.Equal(t, "PATCH", w.Method)
			require.Equal(t, OutcomeApplied, w.Outcome)
		}
	}
	require.Equal(t, 20, bind20, "one record per member effect")

	// Members listing with casts and transitive expansion.
	lic := h.groupNamed("LIC - Power BI Pro")
	direct := h.call("GET", "/groups/"+lic+"/members?$top=999", nil)
	require.Equal(t, 200, direct.status)
	types := map[string]int{}
	for _, v := range direct.values() {
		types[v["@odata.type"].(string)]++
	}
	require.Positive(t, types["#microsoft.graph.group"], "Data Analysts is nested in the Power BI license group")
	users := h.call("GET", "/groups/"+lic+"/members/microsoft.graph.user?$top=999", nil)
	require.Len(t, users.values(), types["#microsoft.graph.user"])
	trans := h.call("GET", "/groups/"+lic+"/transitiveMembers?$top=999", nil)
	require.Greater(t, len(trans.values()), len(direct.values()))
	require.Equal(t, "3", direct.header.Get("x-ms-resource-unit"))
	require.Equal(t, "5", trans.header.Get("x-ms-resource-unit"))
}

// Nested groups do not pass group-based licenses on: only direct user
// members of a license group hold its SKU.
func TestNestedGroupsDoNotInheritLicenses(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 600, Groups: 80})
	srv := h.srv
	lic, analysts := h.groupNamed("LIC - Power BI Pro"), h.groupNamed("Data Analysts")
	pbi := h.skuID("POWER_BI_PRO")
	for _, m := range mustMembers(t, srv, analysts) {
		if srv.IsMember(lic, m.MemberID) {
			continue
		}
		states, err := srv.LicenseStates(m.MemberID)
		require.NoError(t, err)
		require.False(t, slices.ContainsFunc(states, func(s directory.LicenseState) bool { return s.AssignedByGroup == lic }), "nested member got %s", pbi)
	}
}

// An injected timeout applies the write and drops the response: the write
// log marks it, so a client that retries shows up as a duplicate, not a
// second effect.
func TestTimeoutFaultAppliesWrite(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300, Groups: 60})
	srv := h.srv
	g := h.groupNamed("Data Analysts")
	var a string
	for _, u := range srv.Users() {
		if u.UserType == "Member" && !srv.IsMember(g, u.ID) {
			a = u.ID
			break
		}
	}
	srv.SetFaults(Faults{RateTimeout: 1, TimeoutAfter: 50 * time.Millisecond})
	req, err := http.NewRequestWithContext(context.Background(), "POST", h.info.GraphURL+"/groups/"+g+"/members/$ref",
		strings.NewReader(`{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/`+a+`"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("client-request-id", "lost-response")
	res, err := h.client.Do(req)
	if err == nil {
		res.Body.Close()
	}
	require.Error(t, err, "the connection is dropped without a response")
	srv.SetFaults(Faults{})
	require.True(t, srv.IsMember(g, a), "the write happened")

	r := h.call("POST", "/groups/"+g+"/members/$ref", odataRef(a), "client-request-id", "lost-response")
	require.Equal(t, 400, r.status)
	var log []Write
	for _, w := range srv.WriteLog() {
		if w.ClientRequestID == "lost-response" {
			log = append(log, w)
		}
	}
	require.Len(t, log, 2)
	require.True(t, log[0].TimedOut)
	require.Equal(t, OutcomeApplied, log[0].Outcome)
	require.Equal(t, OutcomeDuplicate, log[1].Outcome)

	srv.SetFaults(Faults{Rate503: 1})
	r = h.call("GET", "/users?$top=1", nil)
	require.Equal(t, 503, r.status)
	srv.SetFaults(Faults{Latency: 100 * time.Millisecond})
	start := time.Now()
	require.Equal(t, 200, h.call("GET", "/users?$top=1", nil).status)
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	srv.SetFaults(Faults{})
}
