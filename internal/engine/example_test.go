package engine_test

import (
	"fmt"
	"os"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
)

// Stream the tenant into a Builder, load the pools (policy as code) and
// print the plan: who gets the license, who loses it, and what it costs.
func Example() {
	b := engine.NewBuilder()
	for _, u := range []directory.User{
		{ID: "u1", UserPrincipalName: "ana@contoso.com", Department: "Sales", UsageLocation: "US", AccountEnabled: true},
		{ID: "u2", UserPrincipalName: "ben@contoso.com", Department: "Sales", AccountEnabled: true},
		{ID: "u3", UserPrincipalName: "cho@contoso.com", Department: "Engineering", UsageLocation: "DE", AccountEnabled: true},
	} {
		b.AddUser(&u)
	}
	b.AddSku(&directory.Sku{SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", SkuPartNumber: "ENTERPRISEPACK",
		PrepaidEnabled: 10, ConsumedUnits: 1, MonthlyPriceCents: 2300, Currency: "USD"})
	// cho got E3 from the pool last year and has since moved to Engineering.
	b.AddLicenseState(&directory.LicenseState{UserID: "u3", SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", State: "Active"})
	b.AddGrant(engine.Grant{Pool: "e3-sales", UserID: "u3", SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900",
		Since: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	snap := b.Build(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))

	policy, err := engine.ParsePolicy("pools.yaml", []byte(`
pools:
  - name: e3-sales
    target: {direct: true}
    bundle: [{sku: ENTERPRISEPACK}]
    assignments:
      rules: ['user.department -eq "Sales"']
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := engine.Evaluate(snap, policy)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = plan.WriteText(os.Stdout, engine.RenderOptions{})
	// Output:
	// Plan: 1 pools · 1 adds · 1 removals · 0 updates · 1 blocked · 0 unchanged · monthly cost 0.00 USD
	//
	// Pool e3-sales (target direct, priority 0)
	//   resultant 1 · unchanged 0 · adds 1 · removals 1 · updates 0 · blocked 1 · transfers 0 · other holders 0
	//   ACTION   USER             DETAIL
	//   add      ana@contoso.com  ENTERPRISEPACK
	//   remove   cho@contoso.com  ENTERPRISEPACK
	//   blocked  ben@contoso.com  usage-location-missing: usage location is not set; Entra refuses direct assignment without one
	//
	// Seats and cost (monthly, USD)
	//   SKU             AVAILABLE  CONSUMED  FREED  UNIT PRICE  DELTA
	//   ENTERPRISEPACK  9          1         1      23.00       0.00
	//   TOTAL                      1         1                  0.00
}

// A mover is re-planned on its own, against the last full plan, in
// microseconds instead of re-evaluating the tenant.
func ExampleEngine_ReplanUser() {
	b := engine.NewBuilder()
	b.AddUser(&directory.User{ID: "u1", UserPrincipalName: "ana@contoso.com", Department: "Sales", UsageLocation: "US"})
	b.AddGroup(&directory.Group{ID: "g-e3", DisplayName: "LIC E3",
		AssignedLicenses: []directory.AssignedLicense{{SkuID: "sku-e3", DisabledPlans: []string{}}}})
	b.AddSku(&directory.Sku{SkuID: "sku-e3", SkuPartNumber: "ENTERPRISEPACK", PrepaidEnabled: 5})
	snap := b.Build(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	e, err := engine.New(snap, &engine.Policy{Pools: []engine.Pool{{
		Name: "e3-engineering", Target: engine.Target{Group: "LIC E3"},
		Assignments: engine.Selector{Rules: []string{`user.department -eq "Engineering"`}},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("adds before:", e.Plan().Totals.Adds)
	up, err := e.ReplanUser(&directory.User{ID: "u1", UserPrincipalName: "ana@contoso.com", Department: "Engineering", UsageLocation: "US"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range up.Adds {
		fmt.Println(c.Op, c.UPN, "to group", c.GroupID, "for pool", c.Pool)
	}
	// Output:
	// adds before: 0
	// add ana@contoso.com to group g-e3 for pool e3-engineering
}
