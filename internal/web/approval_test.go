package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/warehouse"
)

type inbox struct {
	Pending []struct {
		Approval warehouse.Approval `json:"approval"`
		Changes  []warehouse.Change `json:"changes"`
	} `json:"pending"`
}

func (in inbox) changeIDs() (pools []string, ids []string) {
	for _, p := range in.Pending {
		pools = append(pools, p.Approval.Pool)
		for _, c := range p.Changes {
			ids = append(ids, c.ID)
		}
	}
	return pools, ids
}

// An approver scoped to one pool sees and decides that pool's removals
// only; another pool's removals are neither shown nor decidable.
func TestApproverScope(t *testing.T) {
	t.Parallel()
	e := setup(t, 150, true)
	e.account("root", grant{access.Administrator, access.Scope{}})
	e.account("appr-teams", grant{access.Approver, access.Scope{TenantID: e.tenant.ID, Pool: "Teams"}})
	e.account("appr-e5", grant{access.Approver, access.Scope{TenantID: e.tenant.ID, Pool: "E5"}})
	root, teams, e5 := e.token("root"), e.token("appr-teams"), e.token("appr-e5")
	const T = "/api/v1/tenants/contoso"
	pools := []engine.Pool{
		{Name: "Teams", Target: engine.Target{Group: "LIC - Teams Exploratory"}, RemovalApproval: true,
			Assignments: engine.Selector{Rules: []string{`user.department -in ["Sales", "Marketing"]`}}},
		{Name: "E5", Target: engine.Target{Group: "LIC - Microsoft 365 E5"}, RemovalApproval: true,
			Assignments: engine.Selector{Rules: []string{`user.department -in ["IT", "Finance", "Legal"]`}}},
	}
	for _, p := range pools {
		require.Equal(t, http.StatusCreated, e.api("POST", T+"/pools", root, p, nil))
	}
	var sub struct{ Changes int }
	require.Equal(t, http.StatusAccepted, e.api("POST", T+"/plan/apply", root, map[string]any{}, &sub))
	require.Positive(t, sub.Changes)
	require.Eventually(t, func() bool {
		var done []warehouse.Change
		e.api("GET", T+"/changes?status=done", root, nil, &done)
		return len(done) == sub.Changes
	}, 30*time.Second, 200*time.Millisecond, "the adds land")

	// Exclude everyone who is enabled: each pool now proposes to remove
	// what it granted, and removals need approval.
	for _, p := range pools {
		p.Exclusions.Rules = []string{`user.accountEnabled -eq true`}
		require.Equal(t, http.StatusOK, e.api("PUT", T+"/pools/"+p.Name, root, p, nil))
	}
	require.Equal(t, http.StatusAccepted, e.api("POST", T+"/plan/apply", root, map[string]any{}, nil))
	var mine, theirs inbox
	require.Eventually(t, func() bool {
		mine, theirs = inbox{}, inbox{}
		e.api("GET", T+"/approvals", teams, nil, &mine)
		e.api("GET", T+"/approvals", e5, nil, &theirs)
		return len(mine.Pending) > 0 && len(theirs.Pending) > 0
	}, 30*time.Second, 200*time.Millisecond, "removals are routed to both pools' approvers")
	minePools, mineIDs := mine.changeIDs()
	theirPools, theirIDs := theirs.changeIDs()
	require.Equal(t, []string{"Teams"}, minePools)
	require.Equal(t, []string{"E5"}, theirPools)

	require.Equal(t, http.StatusConflict, e.api("POST", T+"/approvals/decide", teams,
		map[string]any{"approve": true, "changes": theirIDs[:1]}, nil), "another pool's removal cannot be decided")
	var decided map[string]int
	require.Equal(t, http.StatusOK, e.api("POST", T+"/approvals/decide", teams,
		map[string]any{"approve": false, "changes": mineIDs, "comment": "keep them"}, &decided))
	require.Equal(t, len(mineIDs), decided["decided"])
	var rejected []warehouse.Change
	require.Equal(t, 200, e.api("GET", T+"/changes?status=rejected", root, nil, &rejected))
	require.Len(t, rejected, len(mineIDs))
	require.Equal(t, http.StatusOK, e.api("GET", T+"/approvals", e5, nil, &theirs))
	_, stillTheirs := theirs.changeIDs()
	require.ElementsMatch(t, theirIDs, stillTheirs, "E5's removals still wait for their approver")
}
