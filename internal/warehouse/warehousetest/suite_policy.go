package warehousetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

func testPolicySettings(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	_, err := s.GetPolicySettings(ctx(t), tid)
	require.ErrorIs(t, err, warehouse.ErrNotFound)
	p, err := s.PutPolicySettings(ctx(t), warehouse.PolicySettings{TenantID: tid, Spec: json.RawMessage(`{"currency":"USD"}`)})
	require.NoError(t, err)
	require.EqualValues(t, 1, p.Version)
	p, err = s.PutPolicySettings(ctx(t), warehouse.PolicySettings{TenantID: tid, Spec: json.RawMessage(`{"currency":"EUR"}`)})
	require.NoError(t, err)
	require.EqualValues(t, 2, p.Version)
	got, err := s.GetPolicySettings(ctx(t), tid)
	require.NoError(t, err)
	require.JSONEq(t, `{"currency":"EUR"}`, string(got.Spec))
	_, err = s.PutPolicySettings(ctx(t), warehouse.PolicySettings{TenantID: tid, Spec: json.RawMessage(`nope`)})
	require.ErrorIs(t, err, directory.ErrInvalid)
}

func testGrants(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	early := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	gs := []warehouse.Grant{
		{Pool: "e5", UserID: "u2", GroupID: "g-e5", Since: early},
		{Pool: "e5", UserID: "u1", GroupID: "g-e5", Since: early},
		{Pool: "visio", UserID: "u1", SkuID: "sku-visio", Since: early},
	}
	require.NoError(t, s.PutGrants(ctx(t), tid, gs))
	// Re-recording a grant keeps when it was first granted (seat seniority).
	require.NoError(t, s.PutGrants(ctx(t), tid, []warehouse.Grant{{Pool: "e5", UserID: "u1", GroupID: "g-e5", Since: time.Now()}}))
	// A grant must name exactly one of group or SKU.
	require.ErrorIs(t, s.PutGrants(ctx(t), tid, []warehouse.Grant{{Pool: "e5", UserID: "u3", GroupID: "g", SkuID: "s"}}), directory.ErrInvalid)
	require.ErrorIs(t, s.PutGrants(ctx(t), tid, []warehouse.Grant{{Pool: "e5", UserID: "u3"}}), directory.ErrInvalid)

	var got []warehouse.Grant
	scan := func() {
		got = nil
		require.NoError(t, s.ScanGrants(ctx(t), tid, func(g warehouse.Grant) error { got = append(got, g); return nil }))
	}
	scan()
	require.Len(t, got, 3)
	require.Equal(t, "u1", got[0].UserID, "ordered by pool then user")
	require.True(t, got[0].Since.Equal(early))

	require.NoError(t, s.DeleteGrants(ctx(t), tid, []warehouse.Grant{{Pool: "e5", UserID: "u1", GroupID: "g-e5"}}))
	scan()
	require.Len(t, got, 2)
}
