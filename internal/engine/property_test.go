package engine_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
)

var depts = []string{"Sales", "Ops", "Engineering"}

// randomCase builds a random tenant and policy. Direct pools use distinct
// SKUs so every plan is exactly "resultant − holders" and "owned − resultant".
// plenty gives every SKU enough seats and no pool a cap.
func randomCase(r *rand.Rand, plenty bool) (fixture, *engine.Policy) {
	var fx fixture
	n := 10 + r.IntN(40)
	for i := range n {
		u := fxUser{ID: fmt.Sprintf("u%03d", i), Department: depts[r.IntN(len(depts))]}
		if r.IntN(10) > 0 {
			u.UsageLocation = "US"
		}
		if r.IntN(3) == 0 {
			u.Categories = []int{1 + r.IntN(3)}
		}
		fx.Users = append(fx.Users, u)
	}
	pick := func(p int) []string {
		var out []string
		for _, u := range fx.Users {
			if r.IntN(100) < p {
				out = append(out, u.ID)
			}
		}
		return out
	}
	for i := range 4 {
		fx.Groups = append(fx.Groups, fxGroup{ID: fmt.Sprintf("src%d", i), Members: pick(30)})
	}
	fx.Groups[0].Groups = []string{"src1"} // nested
	seats := func() int {
		if plenty {
			return 1000
		}
		return r.IntN(n)
	}
	for i, part := range []string{"SKU_A", "SKU_B", "SKU_G", "SKU_H"} {
		fx.Skus = append(fx.Skus, fxSku{ID: fmt.Sprintf("sku-%d", i), Part: part, Prepaid: seats(), Price: "10.00",
			Plans: []string{fmt.Sprintf("plan-%d P%d", i, i)}})
	}
	for i := range 2 {
		fx.Groups = append(fx.Groups, fxGroup{ID: fmt.Sprintf("tgt%d", i), Members: pick(25),
			Licenses: []fxAssigned{{Sku: fmt.Sprintf("sku-%d", 2+i)}}})
	}
	fx.Groups = append(fx.Groups, fxGroup{ID: "tgt-free", Members: pick(20)}) // no licenses
	for _, g := range fx.Groups {
		for _, l := range g.Licenses {
			for _, m := range g.Members {
				fx.Licenses = append(fx.Licenses, fxLicense{User: m, Sku: l.Sku, Group: g.ID})
			}
		}
	}
	for i := range 2 {
		for _, u := range pick(30) {
			fx.Licenses = append(fx.Licenses, fxLicense{User: u, Sku: fmt.Sprintf("sku-%d", i)})
		}
	}
	pol := &engine.Policy{}
	targets := []string{"tgt0", "tgt1", "tgt-free"}
	selector := func() engine.Selector {
		var s engine.Selector
		switch r.IntN(5) {
		case 0:
			s.Everyone = true
		case 1:
			s.Rules = []string{fmt.Sprintf(`user.department -eq "%s"`, depts[r.IntN(len(depts))])}
		case 2:
			s.Categories = []int{1 + r.IntN(3)}
		default:
			s.Groups = []string{fmt.Sprintf("src%d", r.IntN(4))}
		}
		if r.IntN(3) == 0 {
			s.TransitiveGroups = []string{"src0"}
		}
		if r.IntN(3) == 0 {
			s.Users = pick(10)
		}
		return s
	}
	exclusion := func() engine.Selector {
		var s engine.Selector
		if r.IntN(2) == 0 {
			s.Groups = []string{fmt.Sprintf("src%d", r.IntN(4))}
		}
		if r.IntN(3) == 0 {
			s.Users = pick(10)
		}
		return s
	}
	mk := func(name string, target engine.Target, bundle []engine.BundleItem) engine.Pool {
		p := engine.Pool{Name: name, Target: target, Bundle: bundle, Assignments: selector(), Exclusions: exclusion(),
			Priority: r.IntN(3), RemovalApproval: r.IntN(4) == 0}
		if r.IntN(3) == 0 {
			p.Categories = []int{1 + r.IntN(3)}
		}
		if !plenty && r.IntN(3) == 0 {
			p.SeatCap = r.IntN(n)
		}
		return p
	}
	for i, tg := range targets {
		pol.Pools = append(pol.Pools, mk(fmt.Sprintf("grp-%d", i), engine.Target{Group: tg}, nil))
	}
	for i := range 2 {
		pol.Pools = append(pol.Pools, mk(fmt.Sprintf("dir-%d", i), engine.Target{Direct: true},
			[]engine.BundleItem{{Sku: fmt.Sprintf("SKU_%c", 'A'+i)}}))
	}
	// Random exclusions among targets and sources, never a pair.
	for range r.IntN(4) {
		g, x := targets[r.IntN(3)], targets[r.IntN(3)]
		if r.IntN(2) == 0 {
			g = fmt.Sprintf("src%d", r.IntN(4))
		}
		dup := slices.ContainsFunc(pol.MutuallyExclusive, func(m engine.MutualExclusion) bool {
			return (m.Group == g && m.Excludes == x) || (m.Group == x && m.Excludes == g)
		})
		if g != x && !dup {
			pol.MutuallyExclusive = append(pol.MutuallyExclusive, engine.MutualExclusion{Group: g, Excludes: x})
		}
	}
	// Ownership: some of the current holders were granted by the pools,
	// plus stale grants for users who no longer hold anything.
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range pol.Pools {
		if p.Target.Direct {
			sku := fmt.Sprintf("sku-%d", p.Bundle[0].Sku[4]-'A')
			for _, l := range fx.Licenses {
				if l.Sku == sku && l.Group == "" && r.IntN(3) > 0 {
					fx.Grants = append(fx.Grants, fxGrant{Pool: p.Name, User: l.User, Sku: sku, Since: since.AddDate(0, 0, r.IntN(300))})
				}
			}
			continue
		}
		for _, g := range fx.Groups {
			if g.ID == p.Target.Group {
				for _, m := range g.Members {
					if r.IntN(3) > 0 {
						fx.Grants = append(fx.Grants, fxGrant{Pool: p.Name, User: m, Group: g.ID, Since: since.AddDate(0, 0, r.IntN(300))})
					}
				}
			}
		}
		for _, u := range pick(5) {
			fx.Grants = append(fx.Grants, fxGrant{Pool: p.Name, User: u, Group: p.Target.Group, Since: since})
		}
	}
	return fx, pol
}

func bitmapOf(s *engine.Snapshot, ids []string) *roaring.Bitmap {
	bm := roaring.New()
	for _, id := range ids {
		if i, ok := s.UserIndex(id); ok {
			bm.Add(i)
		}
	}
	return bm
}

func changeBitmap(s *engine.Snapshot, cs []engine.Change) *roaring.Bitmap {
	return bitmapOf(s, ids(cs))
}

// holdersAndOwned derives, straight from the fixture, who holds what a pool
// grants and whom the pool granted it to.
func holdersAndOwned(fx fixture, s *engine.Snapshot, p engine.Pool) (holders, owned *roaring.Bitmap) {
	var hs, os []string
	if p.Target.Direct {
		sku := fmt.Sprintf("sku-%d", p.Bundle[0].Sku[4]-'A')
		for _, l := range fx.Licenses {
			if l.Sku == sku && l.State != directory.StateError {
				hs = append(hs, l.User)
			}
		}
		for _, g := range fx.Grants {
			if g.Pool == p.Name && g.Sku == sku {
				os = append(os, g.User)
			}
		}
		// Removable: owned and held directly.
		direct := []string{}
		for _, l := range fx.Licenses {
			if l.Sku == sku && l.Group == "" {
				direct = append(direct, l.User)
			}
		}
		return bitmapOf(s, hs), roaring.And(bitmapOf(s, os), bitmapOf(s, direct))
	}
	for _, g := range fx.Groups {
		if g.ID == p.Target.Group {
			hs = g.Members
		}
	}
	for _, g := range fx.Grants {
		if g.Pool == p.Name && g.Group == p.Target.Group {
			os = append(os, g.User)
		}
	}
	return bitmapOf(s, hs), roaring.And(bitmapOf(s, os), bitmapOf(s, hs))
}

func render(t testing.TB, p *engine.Plan) []byte {
	var b bytes.Buffer
	require.NoError(t, p.WriteJSON(&b))
	require.NoError(t, p.WriteText(&b, engine.RenderOptions{}))
	return b.Bytes()
}

// TestPlanProperties checks, over random tenants and policies, that the plan
// is exactly the difference between resultant and actual holders, never
// removes a holder the pool did not grant, respects seat caps and seats, and
// renders byte-identically whatever order the input arrives in.
func TestPlanProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		fx, pol := randomCase(r, seed%2 == 0)
		p, s := plan(t, fx, pol)
		msg := fmt.Sprintf("seed %d", seed)
		for _, pool := range pol.Pools {
			pp := p.Pool(pool.Name)
			require.Empty(t, pp.Error, msg)
			res := pp.Users()
			holders, owned := holdersAndOwned(fx, s, pool)
			adds, removals, blocked := changeBitmap(s, pp.Adds), changeBitmap(s, pp.Removals), changeBitmap(s, pp.Blocked)

			require.True(t, roaring.AndNot(res, holders).Equals(adds), "%s %s: adds = resultant − holders", msg, pool.Name)
			require.True(t, roaring.AndNot(owned, res).Equals(removals), "%s %s: removals = owned − resultant", msg, pool.Name)
			require.Equal(t, int(roaring.And(res, holders).GetCardinality()), pp.Unchanged, msg)
			require.False(t, blocked.Intersects(res) || blocked.Intersects(holders), msg)
			for _, o := range pp.Others {
				i, _ := s.UserIndex(o.UserID)
				require.False(t, res.Contains(i) || owned.Contains(i), msg)
			}
			if pool.SeatCap > 0 {
				require.LessOrEqual(t, pp.Resultant, pool.SeatCap, msg)
			}
		}
		for _, c := range p.Skus {
			require.LessOrEqual(t, c.Consumed, c.Available+c.Freed, "%s %s seats", msg, c.PartNumber)
		}

		// Same inputs in another order → the same bytes.
		shuffled := fx
		shuffled.Users = slices.Clone(fx.Users)
		r.Shuffle(len(shuffled.Users), func(i, j int) { shuffled.Users[i], shuffled.Users[j] = shuffled.Users[j], shuffled.Users[i] })
		shuffled.Licenses = slices.Clone(fx.Licenses)
		slices.Reverse(shuffled.Licenses)
		again, _ := plan(t, shuffled, pol)
		require.Equal(t, string(render(t, p)), string(render(t, again)), msg)

		// With enough seats, applying the plan converges: nothing left to do.
		if seed%2 == 0 && p.Totals.Blocked == 0 {
			next, _ := plan(t, fx.apply(t, p, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), pol)
			require.Zero(t, next.Totals.Adds+next.Totals.Removals+next.Totals.Updates, "%s converges", msg)
		}
	}
}

// TestReplanUserMatchesFullPlan moves one user at a time and checks that
// re-planning that user alone proposes what a full plan of the changed
// tenant proposes for them.
func TestReplanUserMatchesFullPlan(t *testing.T) {
	t.Parallel()
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 11))
		fx, pol := randomCase(r, true)
		snap := fx.build(t)
		e, err := engine.New(snap, pol)
		require.NoError(t, err)
		e.Plan()
		for range 5 {
			k := r.IntN(len(fx.Users))
			fx.Users = slices.Clone(fx.Users)
			u := &fx.Users[k]
			u.Department = depts[r.IntN(len(depts))]
			u.Categories = []int{1 + r.IntN(3)}
			if r.IntN(4) == 0 {
				u.UsageLocation = ""
			}
			memberOf := []string{} // nil would mean "memberships unchanged"
			fx.Groups = slices.Clone(fx.Groups)
			for gi := range fx.Groups {
				g := &fx.Groups[gi]
				if g.ID[:3] != "src" {
					if slices.Contains(g.Members, u.ID) {
						memberOf = append(memberOf, g.ID)
					}
					continue
				}
				g.Members = slices.DeleteFunc(slices.Clone(g.Members), func(m string) bool { return m == u.ID })
				if r.IntN(3) == 0 {
					g.Members = append(g.Members, u.ID)
					memberOf = append(memberOf, g.ID)
				}
			}
			cats, _ := directory.CategoriesOf(u.Categories...)
			up, err := e.ReplanUser(&directory.User{ID: u.ID, UserPrincipalName: u.ID + "@contoso.test", Department: u.Department,
				UsageLocation: u.UsageLocation, UserType: "Member", AccountEnabled: true, Categories: cats}, memberOf)
			require.NoError(t, err)

			full, _ := plan(t, fx, pol)
			var adds, removals, blocked []string
			for _, pp := range full.Pools {
				for _, c := range pp.Adds {
					if c.UserID == u.ID {
						adds = append(adds, c.Pool)
					}
				}
				for _, c := range pp.Removals {
					if c.UserID == u.ID {
						removals = append(removals, c.Pool)
					}
				}
				for _, c := range pp.Blocked {
					if c.UserID == u.ID {
						blocked = append(blocked, c.Pool+":"+string(c.Reason))
					}
				}
			}
			pools := func(cs []engine.Change, reason bool) []string {
				var out []string
				for _, c := range cs {
					if reason {
						out = append(out, c.Pool+":"+string(c.Reason))
					} else {
						out = append(out, c.Pool)
					}
				}
				slices.Sort(out)
				return out
			}
			msg := fmt.Sprintf("seed %d user %s", seed, u.ID)
			require.Equal(t, adds, pools(up.Adds, false), msg+" adds")
			require.Equal(t, removals, pools(up.Removals, false), msg+" removals")
			require.Equal(t, blocked, pools(up.Blocked, true), msg+" blocked")
		}
	}
}
