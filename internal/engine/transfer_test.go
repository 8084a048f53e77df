package engine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/engine"
)

// A mover between two direct pools of the same SKU keeps the license: the
// old pool hands it over instead of removing it and the new pool adding it.
func TestTransferBetweenDirectPools(t *testing.T) {
	t.Parallel()
	fx := fixture{
		Users:    []fxUser{{ID: "u1", UsageLocation: "US", Department: "Ops"}},
		Skus:     []fxSku{{ID: "sku-e3", Part: "ENTERPRISEPACK", Prepaid: 1, Consumed: 1, Price: "23.00"}},
		Licenses: []fxLicense{{User: "u1", Sku: "sku-e3"}},
		Grants:   []fxGrant{{Pool: "sales", User: "u1", Sku: "sku-e3", Since: day(1)}},
	}
	p, _ := plan(t, fx, mustPolicy(t, `
pools:
  - {name: sales, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {rules: ['user.department -eq "Sales"']}}
  - {name: ops, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {rules: ['user.department -eq "Ops"']}}
`))
	sales, ops := p.Pool("sales"), p.Pool("ops")
	require.Empty(t, sales.Removals)
	require.Len(t, sales.Transfers, 1)
	require.Equal(t, engine.OpTransfer, sales.Transfers[0].Op)
	require.Empty(t, ops.Adds)
	require.Equal(t, 1, ops.Unchanged)
	require.Zero(t, p.MonthlyDelta)
}
