package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

const e5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"

// seedTenant registers a tenant and writes a small directory straight into
// the warehouse (what a sync would have stored).
func seedTenant(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	db := warehousetest.SQLitePath(t)
	code, _, errOut := runCLI(t, "--db", db, "tenant", "add", "--name", "contoso", "--tenant-id", "tid",
		"--client-id", "app", "--secret", "env:X")
	require.Equal(t, 0, code, errOut)
	s, err := warehouse.Open(ctx, db)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.UpsertUsers(ctx, "tid", []directory.User{
		{ID: "u1", UserPrincipalName: "ann@contoso.com", Department: "Sales", UsageLocation: "US", AccountEnabled: true},
		{ID: "u2", UserPrincipalName: "bob@contoso.com", Department: "Sales", UsageLocation: "US", AccountEnabled: true},
		{ID: "u3", UserPrincipalName: "cid@contoso.com", Department: "Finance", UsageLocation: "US", AccountEnabled: true},
	}))
	require.NoError(t, s.UpsertGroups(ctx, "tid", []directory.Group{{ID: "g-e5", DisplayName: "E5 licensed", SecurityEnabled: true,
		AssignedLicenses: []directory.AssignedLicense{{SkuID: e5, DisabledPlans: []string{}}}}}))
	require.NoError(t, s.UpsertSkus(ctx, "tid", []directory.Sku{{SkuID: e5, SkuPartNumber: "SPE_E5", CapabilityStatus: "Enabled",
		PrepaidEnabled: 10, ConsumedUnits: 0, MonthlyPriceCents: 5700, Currency: "USD"}}))
	return db
}

func writePools(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "pools.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestApplyAndPlan(t *testing.T) {
	t.Parallel()
	db := seedTenant(t)
	pools := writePools(t, `pools:
  - name: e5-sales
    bundle:
      - sku: SPE_E5
    target:
      group: E5 licensed
    assignments:
      rules:
        - user.department -eq "Sales"
`)
	code, out, errOut := runCLI(t, "--db", db, "apply", "-f", pools)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "e5-sales")
	require.Contains(t, out, "created")

	code, out, errOut = runCLI(t, "--db", db, "plan", "--json")
	require.Equal(t, 0, code, errOut)
	var plan struct {
		Pools []struct {
			Pool string `json:"pool"`
			Adds []struct {
				UserID string `json:"userId"`
			} `json:"adds"`
		} `json:"pools"`
		Totals struct {
			Adds int `json:"adds"`
		} `json:"totals"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &plan))
	require.Len(t, plan.Pools, 1)
	var adds []string
	for _, a := range plan.Pools[0].Adds {
		adds = append(adds, a.UserID)
	}
	require.ElementsMatch(t, []string{"u1", "u2"}, adds, "the Sales rule selects Ann and Bob, not Cid")

	// Applying the same file again changes nothing; the text plan shows the cost.
	code, out, _ = runCLI(t, "--db", db, "apply", "-f", pools)
	require.Equal(t, 0, code)
	require.Contains(t, out, "unchanged")
	code, _, errOut = runCLI(t, "--db", db, "plan", "--pool", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no pool "nope"`)
}

// A bad pools file names the file, line and field, and stores nothing.
func TestApplyRejectsBadPolicy(t *testing.T) {
	t.Parallel()
	db := seedTenant(t)
	pools := writePools(t, `pools:
  - name: broken
    bundle:
      - sku: SPE_E5
    target:
      group: E5 licensed
    assignments:
      rules:
        - user.department -eq "Sales" -and
`)
	code, _, errOut := runCLI(t, "--db", db, "apply", "-f", pools)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "pools.yaml:")
	require.Contains(t, errOut, "rules[0]")

	code, out, _ := runCLI(t, "--db", db, "status", "--json")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"pools": 0`)
}
