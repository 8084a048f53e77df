package graph_test

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

func TestListGroupsAndMembers(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 400})
	ctx := context.Background()
	var groups []graph.Group
	require.NoError(t, c.ListGroups(ctx, graph.GroupListOptions{}, graph.Collect(&groups)))
	require.Len(t, groups, len(sim.Groups()))

	// Every group's direct members match the simulator's, user and group
	// members told apart by @odata.type.
	total := 0
	for _, g := range groups {
		var got []string
		require.NoError(t, c.ListMembers(ctx, g.ID, func(_ *graph.Page, ms []graph.DirectoryObject) error {
			for _, m := range ms {
				require.Contains(t, []string{graph.TypeUser, graph.TypeGroup, graph.TypeDevice, graph.TypeServicePrincipal, graph.TypeOrgContact}, m.ODataType)
				got = append(got, m.ID)
			}
			return nil
		}))
		want, err := sim.Members(g.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, memberIDs(want), got, "group %s", g.DisplayName)
		total += len(got)
	}
	require.Equal(t, sim.MembershipCount(), total)

	// transitiveMembers of a group with a nested group include the nested
	// group's members.
	for _, g := range groups {
		want, err := sim.Members(g.ID)
		require.NoError(t, err)
		var nested string
		for _, m := range want {
			if m.MemberType == directory.MemberGroup {
				nested = m.MemberID
			}
		}
		if nested == "" {
			continue
		}
		var trans []graph.DirectoryObject
		require.NoError(t, c.ListTransitiveMembers(ctx, g.ID, graph.Collect(&trans)))
		inner, err := sim.Members(nested)
		require.NoError(t, err)
		ids := map[string]bool{}
		for _, m := range trans {
			ids[m.ID] = true
		}
		for _, m := range inner {
			require.True(t, ids[m.MemberID], "nested member %s missing from transitiveMembers", m.MemberID)
		}
		return
	}
	t.Fatal("the generated tenant has no nested group")
}

func memberIDs(ms []directory.Membership) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.MemberID
	}
	sort.Strings(out)
	return out
}

// assignedGroup returns a non-dynamic group (members can be set by hand).
func assignedGroup(t *testing.T, sim *graphsim.Server) directory.Group {
	t.Helper()
	for _, g := range sim.Groups() {
		if !g.IsDynamic() && g.SecurityEnabled && !g.IsLicenseGroup() {
			return g
		}
	}
	t.Fatal("no assigned security group")
	return directory.Group{}
}

func TestMembershipWritesAreIdempotentForCallers(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 600})
	ctx := context.Background()
	g := assignedGroup(t, sim)
	var outsiders []string
	for _, u := range sim.Users() {
		if !sim.IsMember(g.ID, u.ID) {
			outsiders = append(outsiders, u.ID)
		}
	}
	require.Greater(t, len(outsiders), 50)
	u := outsiders[0]

	require.NoError(t, c.AddMember(ctx, g.ID, u))
	require.True(t, sim.IsMember(g.ID, u))
	err := c.AddMember(ctx, g.ID, u)
	require.True(t, graph.IsAlreadyMember(err), "%v", err)

	require.NoError(t, c.RemoveMember(ctx, g.ID, u))
	require.False(t, sim.IsMember(g.ID, u))
	err = c.RemoveMember(ctx, g.ID, u)
	require.True(t, graph.IsNotMember(err), "%v", err)

	err = c.AddMember(ctx, g.ID, "00000000-0000-0000-0000-000000000000")
	require.True(t, graph.IsNotFound(err), "%v", err)
	require.False(t, graph.IsAlreadyMember(err))

	// 45 ids (one already a member, one repeated) need three PATCHes; the
	// chunk holding the existing member falls back to one-by-one adds.
	require.NoError(t, c.AddMember(ctx, g.ID, outsiders[10]))
	sim.ResetWriteLog()
	ids := append(append([]string{}, outsiders[1:46]...), outsiders[1])
	n, err := c.AddMembers(ctx, g.ID, ids)
	require.NoError(t, err)
	require.Equal(t, 45, n)
	for _, id := range outsiders[1:46] {
		require.True(t, sim.IsMember(g.ID, id), id)
	}
	require.Equal(t, 44, sim.WriteCounts().Applied, "each new member added exactly once")

	_, err = c.AddMembers(ctx, g.ID, []string{outsiders[47], ""})
	require.ErrorIs(t, err, graph.ErrInvalidInput)
	require.False(t, sim.IsMember(g.ID, outsiders[47]), "bad input changes nothing")
}

func TestAssignGroupLicense(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 600})
	ctx := context.Background()
	g := assignedGroup(t, sim)
	var sku string
	for _, s := range sim.Skus() {
		if s.AppliesTo == "User" && s.Available() > 200 {
			sku = s.SkuID
			break
		}
	}
	require.NotEmpty(t, sku)
	require.NoError(t, c.AssignGroupLicense(ctx, g.ID, []graph.AssignedLicense{{SkuID: sku}}, nil))
	sim.WaitLicenseProcessing()
	members, err := sim.Members(g.ID)
	require.NoError(t, err)
	require.NotEmpty(t, members)
	for _, m := range members {
		if m.MemberType != directory.MemberUser {
			continue
		}
		states, err := sim.LicenseStates(m.MemberID)
		require.NoError(t, err)
		found := false
		for _, s := range states {
			found = found || (s.SkuID == sku && s.AssignedByGroup == g.ID)
		}
		require.True(t, found, "member %s did not inherit the license", m.MemberID)
	}
}
