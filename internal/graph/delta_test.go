package graph_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

// simUserDeltaSelect is what the delta tests track.
var simUserDeltaSelect = graph.UserDeltaSelect

func usersDelta(t *testing.T, c *graph.Client, link string) (map[string]graph.User, int, string) {
	t.Helper()
	got := map[string]graph.User{}
	pages := 0
	next, err := c.UsersDelta(context.Background(), graph.DeltaOptions{Link: link, Select: simUserDeltaSelect},
		func(p *graph.Page, users []graph.User) error {
			pages++
			for _, u := range users {
				got[u.ID] = u
			}
			return nil
		})
	require.NoError(t, err)
	require.NotEmpty(t, next)
	return got, pages, next
}

func TestUsersDeltaRounds(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 2100})
	ctx := context.Background()

	first, pages, link := usersDelta(t, c, "")
	require.Len(t, first, len(sim.Users()))
	require.Equal(t, 3, pages, "Prefer: odata.maxpagesize=999")

	// Mutate through Graph (and delete one user as HR would).
	users := sim.Users()
	changed := map[string]bool{}
	for _, u := range users[:3] {
		require.NoError(t, c.UpdateUser(ctx, u.ID, map[string]any{"department": "Delta Dept"}))
		changed[u.ID] = true
	}
	nu, err := c.CreateUser(ctx, graph.NewUser{AccountEnabled: true, DisplayName: "Delta New", MailNickname: "delta.new",
		UserPrincipalName: "delta.new@" + sim.Domain(), PasswordProfile: &graph.PasswordProfile{Password: "Xx-123456789!"}})
	require.NoError(t, err)
	changed[nu.ID] = true
	gone := users[10].ID
	require.NoError(t, sim.DeleteUser(gone))
	changed[gone] = true

	second, _, link2 := usersDelta(t, c, link)
	require.NotEqual(t, link, link2)
	ids := map[string]bool{}
	for id := range second {
		ids[id] = true
	}
	require.Equal(t, changed, ids, "the second round holds exactly the changes")
	require.Equal(t, "Delta Dept", second[users[0].ID].Department)
	require.NotNil(t, second[gone].Removed)
	require.Nil(t, second[nu.ID].Removed)

	third, _, _ := usersDelta(t, c, link2)
	require.Empty(t, third, "nothing changed since the second round")
}

func TestGroupsDeltaTracksMembers(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 600})
	ctx := context.Background()
	round := func(link string) (map[string]graph.Group, string) {
		got := map[string]graph.Group{}
		next, err := c.GroupsDelta(ctx, graph.DeltaOptions{Link: link}, func(_ *graph.Page, gs []graph.Group) error {
			for _, g := range gs {
				prev := got[g.ID]
				g.MembersDelta = append(prev.MembersDelta, g.MembersDelta...) // a group may span pages
				got[g.ID] = g
			}
			return nil
		})
		require.NoError(t, err)
		return got, next
	}
	first, link := round("")
	require.Len(t, first, len(sim.Groups()))
	g := assignedGroup(t, sim)
	members, err := sim.Members(g.ID)
	require.NoError(t, err)
	require.Len(t, first[g.ID].MembersDelta, len(members), "the first round lists current members")

	var newcomer string
	for _, u := range sim.Users() {
		if !sim.IsMember(g.ID, u.ID) {
			newcomer = u.ID
			break
		}
	}
	leaver := members[0].MemberID
	require.NoError(t, c.AddMember(ctx, g.ID, newcomer))
	require.NoError(t, c.RemoveMember(ctx, g.ID, leaver))

	second, _ := round(link)
	require.Contains(t, second, g.ID)
	var added, removed []string
	for _, m := range second[g.ID].MembersDelta {
		if m.Removed != nil {
			removed = append(removed, m.ID)
		} else {
			added = append(added, m.ID)
		}
	}
	require.Equal(t, []string{newcomer}, added)
	require.Equal(t, []string{leaver}, removed)
}

func TestDeltaExpiredTokenAsksForFullResync(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 120})
	_, _, link := usersDelta(t, c, "")
	sim.ExpireDeltaTokens()
	_, err := c.UsersDelta(context.Background(), graph.DeltaOptions{Link: link}, Discard[graph.User])
	require.ErrorIs(t, err, graph.ErrDeltaExpired)
	var ge *graph.Error
	require.True(t, errors.As(err, &ge))
	require.Equal(t, 410, ge.Status)
	require.Equal(t, "UsersDelta", ge.Op)

	// The caller's recovery: a new full round.
	all, _, _ := usersDelta(t, c, "")
	require.Len(t, all, len(sim.Users()))
}
