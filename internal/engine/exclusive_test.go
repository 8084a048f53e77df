package engine_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/engine"
)

// The worked example of DESIGN.md §4: B excludes A, C excludes B;
// Marketing→A, Finance→B, Control→C.
func exclusiveExample() (fixture, *engine.Policy) {
	fx := fixture{
		Users: []fxUser{{ID: "ben"}, {ID: "clara"}, {ID: "jan"}, {ID: "jenny"}},
		Groups: []fxGroup{
			{ID: "marketing", Name: "Marketing", Members: []string{"ben", "jan", "clara", "jenny"}},
			{ID: "finance", Name: "Finance", Members: []string{"jan", "clara"}},
			{ID: "control", Name: "Control", Members: []string{"clara", "jenny"}},
			{ID: "g-a", Name: "A"}, {ID: "g-b", Name: "B"}, {ID: "g-c", Name: "C"},
		},
	}
	pol := &engine.Policy{
		Pools: []engine.Pool{
			{Name: "pool-a", Target: engine.Target{Group: "A"}, Assignments: engine.Selector{Groups: []string{"Marketing"}}},
			{Name: "pool-b", Target: engine.Target{Group: "B"}, Assignments: engine.Selector{Groups: []string{"Finance"}}},
			{Name: "pool-c", Target: engine.Target{Group: "C"}, Assignments: engine.Selector{Groups: []string{"Control"}}},
		},
		MutuallyExclusive: []engine.MutualExclusion{{Group: "B", Excludes: "A"}, {Group: "C", Excludes: "B"}},
	}
	return fx, pol
}

// effectiveGroups lists, per user, the target groups the user is in.
func effectiveGroups(fx fixture) map[string][]string {
	out := map[string][]string{}
	for _, g := range fx.Groups {
		if len(g.Name) != 1 {
			continue
		}
		for _, m := range g.Members {
			out[m] = append(out[m], g.Name)
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

func TestMutuallyExclusiveWorkedExample(t *testing.T) {
	t.Parallel()
	fx, pol := exclusiveExample()
	p, _ := plan(t, fx, pol)
	fx = fx.apply(t, p, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	require.Equal(t, map[string][]string{
		"ben":   {"A"},
		"jan":   {"B"},
		"clara": {"C"},
		"jenny": {"A", "C"},
	}, effectiveGroups(fx))

	// Re-planning the applied state proposes nothing: the plan converged.
	again, _ := plan(t, fx, pol)
	require.Zero(t, again.Totals.Adds+again.Totals.Removals)

	// Clara leaves Control: C no longer excludes B, so she gets B; B still
	// excludes A.
	for i := range fx.Groups {
		if fx.Groups[i].ID == "control" {
			fx.Groups[i].Members = []string{"jenny"}
		}
	}
	p, _ = plan(t, fx, pol)
	require.Equal(t, []string{"clara"}, ids(p.Pool("pool-c").Removals))
	require.Equal(t, []string{"clara"}, ids(p.Pool("pool-b").Adds))
	require.Empty(t, p.Pool("pool-a").Adds)
	fx = fx.apply(t, p, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	require.Equal(t, []string{"B"}, effectiveGroups(fx)["clara"])
}

// A manually added member of an excluded group is reported, never removed:
// the pool did not grant it.
func TestMutuallyExclusiveNeverRemovesUnowned(t *testing.T) {
	t.Parallel()
	fx, pol := exclusiveExample()
	fx.Groups[3].Members = []string{"jan"} // jan was put in A by hand
	p, _ := plan(t, fx, pol)
	pa := p.Pool("pool-a")
	require.Empty(t, pa.Removals)
	require.Equal(t, []engine.Holder{{UserID: "jan", UPN: "jan@contoso.test"}}, pa.Others)
}

func TestMutuallyExclusiveRejectsPairs(t *testing.T) {
	t.Parallel()
	for name, decl := range map[string][]engine.MutualExclusion{
		"each other":   {{Group: "A", Excludes: "B"}, {Group: "B", Excludes: "A"}},
		"itself":       {{Group: "A", Excludes: "a"}},
		"missing side": {{Group: "A"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fx, pol := exclusiveExample()
			pol.MutuallyExclusive = decl
			_, err := engine.Evaluate(fx.build(t), pol)
			require.ErrorIs(t, err, engine.ErrInvalidPolicy)
		})
	}
	// Named once by display name and once by id, the pair is only visible
	// against the snapshot.
	fx, pol := exclusiveExample()
	pol.MutuallyExclusive = []engine.MutualExclusion{{Group: "A", Excludes: "B"}, {Group: "g-b", Excludes: "g-a"}}
	_, err := engine.Evaluate(fx.build(t), pol)
	require.ErrorContains(t, err, "would exclude each other")
}

// "Exclusions are not inherited": a declaration involves direct memberships
// of the two named groups only. Membership of H through a nested group is
// not taken out of effect by G, and members of a group nested in G do not
// exclude H.
func TestMutuallyExclusiveNotInherited(t *testing.T) {
	t.Parallel()
	fx := fixture{
		Users: users("direct", "nested", "under-g"),
		Groups: []fxGroup{
			{ID: "g", Members: []string{"direct", "nested"}, Groups: []string{"g-child"}},
			{ID: "g-child", Members: []string{"under-g"}},
			{ID: "h", Members: []string{"direct", "under-g"}, Groups: []string{"h-child"}},
			{ID: "h-child", Members: []string{"nested"}},
			{ID: "target"},
		},
	}
	pol := mustPolicy(t, `
mutuallyExclusive: [{group: g, excludes: h}]
pools:
  - name: via-h
    target: {group: target}
    assignments: {transitiveGroups: [h]}
`)
	p, _ := plan(t, fx, pol)
	// direct: in G and directly in H → H not in effect.
	// nested: in G, in H only through h-child → still in effect.
	// under-g: in H directly, in G only through g-child → not excluded.
	require.Equal(t, []string{"nested", "under-g"}, ids(p.Pool("via-h").Adds))
}
