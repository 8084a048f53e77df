package engine_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Categories (DESIGN.md §4): an indirect assignment reaches a user when the
// user's and the item's categories intersect or either side has none; a
// direct user assignment ignores categories.
func TestCategories(t *testing.T) {
	t.Parallel()
	fx := fixture{
		Users: []fxUser{
			{ID: "u-none", UsageLocation: "DE"},                           // no categories: inherits everything
			{ID: "u-staff", UsageLocation: "DE", Categories: []int{1}},    // intersects the pool
			{ID: "u-both", UsageLocation: "DE", Categories: []int{1, 3}},  // intersects
			{ID: "u-ext", UsageLocation: "DE", Categories: []int{2}},      // disjoint: not inherited
			{ID: "u-ext-vip", UsageLocation: "DE", Categories: []int{2}},  // disjoint, but assigned directly
			{ID: "u-ext-rule", UsageLocation: "DE", Categories: []int{2}}, // disjoint, selected by a rule
		},
		Groups: []fxGroup{{ID: "g-all", Name: "All staff", Members: []string{"u-none", "u-staff", "u-both", "u-ext"}}},
		Skus:   []fxSku{{ID: "sku-e3", Part: "ENTERPRISEPACK", Prepaid: 100, Price: "36.00"}},
	}
	pol := mustPolicy(t, `
pools:
  - name: e3-staff
    target: {direct: true}
    bundle: [{sku: ENTERPRISEPACK}]
    categories: [1]
    assignments:
      groups: [All staff]
      rules: ['user.objectId -eq "u-ext-rule"']
      users: [u-ext-vip]
`)
	p, _ := plan(t, fx, pol)
	require.Equal(t, []string{"u-both", "u-ext-vip", "u-none", "u-staff"}, ids(p.Pool("e3-staff").Adds))

	// A pool without categories reaches every user the assignments select.
	pol.Pools[0].Categories = nil
	p, _ = plan(t, fx, pol)
	require.Equal(t, []string{"u-both", "u-ext", "u-ext-rule", "u-ext-vip", "u-none", "u-staff"}, ids(p.Pool("e3-staff").Adds))

	// SKU categories count as item categories too.
	fx.Skus[0].Categories = []int{3}
	p, _ = plan(t, fx, pol)
	require.Equal(t, []string{"u-both", "u-ext-vip", "u-none"}, ids(p.Pool("e3-staff").Adds))

	// Assigning by category selects the users that carry it.
	fx.Skus[0].Categories = nil
	pol = mustPolicy(t, `
pools:
  - name: e3-cat2
    target: {direct: true}
    bundle: [{sku: ENTERPRISEPACK}]
    assignments: {categories: [2]}
`)
	p, _ = plan(t, fx, pol)
	require.Equal(t, []string{"u-ext", "u-ext-rule", "u-ext-vip"}, ids(p.Pool("e3-cat2").Adds))
}
