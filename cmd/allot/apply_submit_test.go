package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// allot apply -f pools.yaml --yes --wait turns a plan into changes in the
// (simulated) tenant and reports what landed; a second apply finds nothing
// left to do.
func TestApplyYesWait(t *testing.T) {
	t.Parallel()
	sim, err := graphsim.Start(graphsim.Config{Users: 120, Seed: 21})
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	require.NoError(t, sim.SetSeats("VISIOCLIENT", 1000))
	info := sim.Info()
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte(info.ClientSecret), 0o600))
	db := warehousetest.SQLitePath(t)
	code, _, errOut := runCLI(t, "--db", db, "tenant", "add", "--name", "sim", "--tenant-id", info.TenantID,
		"--client-id", info.ClientID, "--secret", "file:"+secret, "--graph-url", info.GraphURL,
		"--authority-url", info.AuthorityURL, "--ca-file", info.CAFile)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCLI(t, "--db", db, "sync")
	require.Equal(t, 0, code, errOut)
	pools := writePools(t, `pools:
  - name: visio-eng
    bundle: [{sku: VISIOCLIENT}]
    target: {group: "LIC - Visio Plan 2"}
    assignments:
      rules: ['user.department -eq "Engineering"']
`)
	code, out, errOut := runCLI(t, "--db", db, "apply", "-f", pools, "--yes", "--wait", "--json")
	require.Equal(t, 0, code, errOut)
	var res struct {
		Plan struct {
			Totals struct {
				Adds int `json:"adds"`
			} `json:"totals"`
		} `json:"plan"`
		Submitted submission `json:"submitted"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Positive(t, res.Plan.Totals.Adds)
	require.Equal(t, res.Plan.Totals.Adds, res.Submitted.Requests)
	require.EqualValues(t, res.Plan.Totals.Adds, res.Submitted.Changes[warehouse.ChangeDone])
	require.Equal(t, res.Plan.Totals.Adds, sim.WriteCounts().ByOp["addMember"])

	code, out, errOut = runCLI(t, "--db", db, "apply", "--yes")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "nothing to apply")

	s, err := warehouse.Open(context.Background(), db)
	require.NoError(t, err)
	defer s.Close()
	recs, err := s.ListAudit(context.Background(), warehouse.AuditFilter{Action: "change.applied", Limit: 1000})
	require.NoError(t, err)
	require.Len(t, recs, res.Plan.Totals.Adds)
	require.Contains(t, recs[0].Actor, "cli:")
}
