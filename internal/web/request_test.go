package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// A helpdesk member asks through the API for a user's license; the pipeline
// checks the same delegation, queues the change and fulfilment lands it in
// the simulated tenant. A request the workflows refuse is shown as denied.
func TestHelpdeskRequestLands(t *testing.T) {
	t.Parallel()
	e := setup(t, 60, true)
	sku, err := e.sim.SkuID("POWER_BI_STANDARD")
	require.NoError(t, err)
	var user string
	for _, u := range e.sim.Users() {
		states, err := e.sim.LicenseStates(u.ID)
		require.NoError(t, err)
		if u.AccountEnabled && u.UsageLocation != "" && len(states) == 0 {
			user = u.ID
			break
		}
	}
	require.NotEmpty(t, user)
	e.account("hd", grant{access.Helpdesk, access.Scope{TenantID: e.tenant.ID}})
	e.account("hd-other", grant{access.Helpdesk, access.Scope{TenantID: e.tenant.ID, GroupID: "some-group"}})
	tok := e.token("hd")

	body := map[string]any{"operation": "add_license", "user_id": user, "reason": "ticket 4711",
		"licenses": []directory.AssignedLicense{{SkuID: sku}}}
	require.Equal(t, http.StatusForbidden, e.api("POST", "/api/v1/tenants/contoso/requests", e.token("hd-other"), body, nil),
		"a group-scoped helpdesk member cannot license users directly")
	bad := map[string]any{"operation": "delete_tenant", "user_id": user}
	require.Equal(t, http.StatusUnprocessableEntity, e.api("POST", "/api/v1/tenants/contoso/requests", tok, bad, nil))
	require.Equal(t, http.StatusAccepted, e.api("POST", "/api/v1/tenants/contoso/requests", tok, body, nil))

	require.Eventually(t, func() bool {
		states, err := e.sim.LicenseStates(user)
		require.NoError(t, err)
		return len(states) == 1 && states[0].SkuID == sku
	}, 30*time.Second, 200*time.Millisecond, "the license lands in the simulated tenant")
	var changes []warehouse.Change
	require.Eventually(t, func() bool {
		require.Equal(t, 200, e.api("GET", "/api/v1/tenants/contoso/changes?status=done", tok, nil, &changes))
		return len(changes) == 1
	}, 10*time.Second, 200*time.Millisecond)
	require.Equal(t, user, changes[0].UserID)

	// Adding someone to a group without owners is refused by the built-in
	// workflow (owners approve additions); the request says so.
	var group string
	for _, g := range e.sim.Groups() {
		if g.DisplayName == "LIC - Power BI Pro" {
			group = g.ID
		}
	}
	join := map[string]any{"operation": "add_group_member", "user_id": user, "group_id": group}
	require.Equal(t, http.StatusAccepted, e.api("POST", "/api/v1/tenants/contoso/requests", tok, join, nil))
	var reqs []warehouse.Request
	require.Equal(t, 200, e.api("GET", "/api/v1/tenants/contoso/requests?status=denied", tok, nil, &reqs))
	require.Len(t, reqs, 1)
	require.Equal(t, "hd", reqs[0].Initiator)
	require.Contains(t, reqs[0].Detail, "no owner")
}
