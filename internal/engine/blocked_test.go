package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/engine"
)

// want is the expected plan of one pool.
type want struct {
	adds, removals []string
	blocked        map[string]engine.Reason
}

func blockedOf(pp *engine.PoolPlan) map[string]engine.Reason {
	out := map[string]engine.Reason{}
	for _, c := range pp.Blocked {
		out[c.UserID] = c.Reason
	}
	return out
}

func day(n int) time.Time { return time.Date(2025, 1, n, 0, 0, 0, 0, time.UTC) }

func users(ids ...string) []fxUser {
	out := make([]fxUser, len(ids))
	for i, id := range ids {
		out[i] = fxUser{ID: id, UsageLocation: "US"}
	}
	return out
}

const (
	e3Plans = "p-exo-ent EXCHANGE_S_ENTERPRISE"
	eoPlans = "p-exo-std EXCHANGE_S_STANDARD"
)

func TestBlockedReasonsAndPriorities(t *testing.T) {
	t.Parallel()
	e3 := func(prepaid, consumed int) fxSku {
		return fxSku{ID: "sku-e3", Part: "ENTERPRISEPACK", Prepaid: prepaid, Consumed: consumed, Price: "36.00",
			Plans: []string{e3Plans, "p-teams TEAMS1"}}
	}
	// u1 moved from Ops to Sales; the only E3 seat is the one u1 holds.
	mover := fixture{
		Users:    []fxUser{{ID: "u1", UsageLocation: "US", Department: "Sales"}, {ID: "u2", UsageLocation: "US", Department: "Ops"}},
		Skus:     []fxSku{e3(1, 1)},
		Licenses: []fxLicense{{User: "u1", Sku: "sku-e3"}},
		Grants:   []fxGrant{{Pool: "ops", User: "u1", Sku: "sku-e3", Since: day(1)}},
	}
	cases := []struct {
		name string
		fx   fixture
		pol  string
		want map[string]want
	}{
		{
			name: "no seats: lowest user ids first",
			fx:   fixture{Users: users("u1", "u2", "u3"), Skus: []fxSku{e3(3, 2)}},
			pol:  `{pools: [{name: p, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {everyone: true}}]}`,
			want: map[string]want{"p": {adds: []string{"u1"}, blocked: map[string]engine.Reason{"u2": engine.ReasonNoSeats, "u3": engine.ReasonNoSeats}}},
		},
		{
			name: "a suspended subscription has no seats to give",
			fx:   fixture{Users: users("u1"), Skus: []fxSku{{ID: "sku-e3", Part: "ENTERPRISEPACK", Prepaid: 10, Status: "Suspended"}}},
			pol:  `{pools: [{name: p, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {everyone: true}}]}`,
			want: map[string]want{"p": {blocked: map[string]engine.Reason{"u1": engine.ReasonNoSeats}}},
		},
		{
			name: "higher priority pool gets the seat",
			fx:   fixture{Users: users("u1", "u2"), Skus: []fxSku{e3(1, 0)}},
			pol: `{pools: [
			  {name: low, priority: 1, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {users: [u1]}},
			  {name: high, priority: 9, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {users: [u2]}}]}`,
			want: map[string]want{
				"high": {adds: []string{"u2"}},
				"low":  {blocked: map[string]engine.Reason{"u1": engine.ReasonNoSeats}},
			},
		},
		{
			name: "equal priority: pools by name",
			fx:   fixture{Users: users("u1", "u2"), Skus: []fxSku{e3(1, 0)}},
			pol: `{pools: [
			  {name: zeta, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {users: [u1]}},
			  {name: alpha, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {users: [u2]}}]}`,
			want: map[string]want{
				"alpha": {adds: []string{"u2"}},
				"zeta":  {blocked: map[string]engine.Reason{"u1": engine.ReasonNoSeats}},
			},
		},
		{
			name: "seat cap keeps the longest holders, then user id",
			fx: fixture{
				Users: users("u1", "u2", "u3", "u4"), Skus: []fxSku{e3(10, 3)},
				Licenses: []fxLicense{{User: "u1", Sku: "sku-e3"}, {User: "u2", Sku: "sku-e3"}, {User: "u3", Sku: "sku-e3"}},
				Grants: []fxGrant{{Pool: "p", User: "u1", Sku: "sku-e3", Since: day(9)},
					{Pool: "p", User: "u2", Sku: "sku-e3", Since: day(3)}, {Pool: "p", User: "u3", Sku: "sku-e3", Since: day(5)}},
			},
			pol:  `{pools: [{name: p, seatCap: 2, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {everyone: true}}]}`,
			want: map[string]want{"p": {removals: []string{"u1"}, blocked: map[string]engine.Reason{"u4": engine.ReasonSeatCap}}},
		},
		{
			name: "direct assignment needs a usage location; group licensing does not",
			fx: fixture{
				Users:  []fxUser{{ID: "u1", UsageLocation: "US"}, {ID: "u2"}},
				Groups: []fxGroup{{ID: "g-e3", Name: "E3 users", Licenses: []fxAssigned{{Sku: "sku-e3"}}}},
				Skus:   []fxSku{e3(10, 0)},
			},
			pol: `{pools: [
			  {name: direct, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {everyone: true}},
			  {name: group, target: {group: E3 users}, assignments: {everyone: true}}]}`,
			want: map[string]want{
				"direct": {adds: []string{"u1"}, blocked: map[string]engine.Reason{"u2": engine.ReasonUsageLocation}},
				"group":  {adds: []string{"u1", "u2"}},
			},
		},
		{
			name: "conflicting service plans (Exchange Plan 1 vs Plan 2) unless disabled",
			fx: fixture{
				Users:    users("u1", "u2"),
				Skus:     []fxSku{e3(10, 1), {ID: "sku-eo", Part: "EXCHANGESTANDARD", Prepaid: 5, Consumed: 1, Plans: []string{eoPlans}}},
				Licenses: []fxLicense{{User: "u1", Sku: "sku-eo"}},
			},
			pol: `{pools: [
			  {name: full, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {users: [u1, u2]}}]}`,
			want: map[string]want{"full": {adds: []string{"u2"}, blocked: map[string]engine.Reason{"u1": engine.ReasonConflict}}},
		},
		{
			name: "conflict avoided by disabling the plan",
			fx: fixture{
				Users:    users("u1"),
				Skus:     []fxSku{e3(10, 1), {ID: "sku-eo", Part: "EXCHANGESTANDARD", Prepaid: 5, Consumed: 1, Plans: []string{eoPlans}}},
				Licenses: []fxLicense{{User: "u1", Sku: "sku-eo"}},
			},
			pol:  `{pools: [{name: noexo, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK, disabledPlans: [EXCHANGE_S_ENTERPRISE]}], assignments: {users: [u1]}}]}`,
			want: map[string]want{"noexo": {adds: []string{"u1"}}},
		},
		{
			name: "mutually exclusive SKUs",
			fx: fixture{
				Users:    users("u1", "u2"),
				Skus:     []fxSku{e3(10, 1), {ID: "sku-e5", Part: "ENTERPRISEPREMIUM", Prepaid: 5, Consumed: 1}},
				Licenses: []fxLicense{{User: "u2", Sku: "sku-e5"}},
			},
			pol: `{constraints: {exclusiveSkus: [[ENTERPRISEPACK, ENTERPRISEPREMIUM]]},
			  pools: [{name: p, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {everyone: true}}]}`,
			want: map[string]want{"p": {adds: []string{"u1"}, blocked: map[string]engine.Reason{"u2": engine.ReasonConflict}}},
		},
		{
			name: "dependency not met",
			fx: fixture{
				Users:    users("u1", "u2"),
				Skus:     []fxSku{{ID: "sku-bi", Part: "POWER_BI_PRO", Prepaid: 10, Plans: []string{"p-bipro BI_AZURE_P2"}}, e3(10, 1)},
				Licenses: []fxLicense{{User: "u2", Sku: "sku-e3"}},
			},
			pol: `{constraints: {dependencies: {BI_AZURE_P2: [TEAMS1]}},
			  pools: [{name: bi, target: {direct: true}, bundle: [{sku: POWER_BI_PRO}], assignments: {everyone: true}}]}`,
			want: map[string]want{"bi": {adds: []string{"u2"}, blocked: map[string]engine.Reason{"u1": engine.ReasonDependency}}},
		},
		{
			name: "seats freed by a removal are reused, unless the removal needs approval",
			fx:   mover,
			pol: `{pools: [
			  {name: ops, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {rules: ['user.department -eq "Ops"']}}]}`,
			want: map[string]want{"ops": {adds: []string{"u2"}, removals: []string{"u1"}}},
		},
		{
			name: "approval-gated removal frees nothing yet",
			fx:   mover,
			pol: `{pools: [
			  {name: ops, removalApproval: true, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {rules: ['user.department -eq "Ops"']}}]}`,
			want: map[string]want{"ops": {removals: []string{"u1"}, blocked: map[string]engine.Reason{"u2": engine.ReasonNoSeats}}},
		},
	}
	// u1 holds the only E3 seat; pool "low" granted it; pool "high" wants it for u2.
	contested := fixture{
		Users:    users("u1", "u2"),
		Skus:     []fxSku{e3(1, 1)},
		Licenses: []fxLicense{{User: "u1", Sku: "sku-e3"}},
		Grants:   []fxGrant{{Pool: "low", User: "u1", Sku: "sku-e3", Since: day(1)}},
	}
	twoPools := func(lowPriority int, lowApproval bool) string {
		return fmt.Sprintf(`{pools: [
		  {name: low, priority: %d, removalApproval: %t, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {users: [u1]}},
		  {name: high, priority: 5, target: {direct: true}, bundle: [{sku: ENTERPRISEPACK}], assignments: {users: [u2]}}]}`, lowPriority, lowApproval)
	}
	unowned := contested
	unowned.Grants = nil
	cases = append(cases, []struct {
		name string
		fx   fixture
		pol  string
		want map[string]want
	}{
		{
			name: "a higher-priority pool takes the seat a lower-priority pool granted",
			fx:   contested, pol: twoPools(1, false),
			want: map[string]want{"low": {removals: []string{"u1"}}, "high": {adds: []string{"u2"}}},
		},
		{
			name: "within one priority the holder keeps its seat",
			fx:   contested, pol: twoPools(5, false),
			want: map[string]want{"low": {}, "high": {blocked: map[string]engine.Reason{"u2": engine.ReasonNoSeats}}},
		},
		{
			name: "a holder no pool granted is never evicted",
			fx:   unowned, pol: twoPools(1, false),
			want: map[string]want{"low": {}, "high": {blocked: map[string]engine.Reason{"u2": engine.ReasonNoSeats}}},
		},
		{
			name: "an eviction that needs approval frees the seat only once approved",
			fx:   contested, pol: twoPools(1, true),
			want: map[string]want{"low": {removals: []string{"u1"}}, "high": {blocked: map[string]engine.Reason{"u2": engine.ReasonNoSeats}}},
		},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, _ := plan(t, tc.fx, mustPolicy(t, tc.pol))
			for pool, w := range tc.want {
				pp := p.Pool(pool)
				require.NotNil(t, pp, pool)
				require.Empty(t, pp.Error)
				if w.adds == nil {
					w.adds = []string{}
				}
				if w.removals == nil {
					w.removals = []string{}
				}
				if w.blocked == nil {
					w.blocked = map[string]engine.Reason{}
				}
				require.Equal(t, w.adds, ids(pp.Adds), "%s adds", pool)
				require.Equal(t, w.removals, ids(pp.Removals), "%s removals", pool)
				require.Equal(t, w.blocked, blockedOf(pp), "%s blocked", pool)
			}
		})
	}
}
