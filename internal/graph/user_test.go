package graph_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

func TestListUsersPagesEveryUser(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 2300})
	want := map[string]bool{}
	for _, u := range sim.Users() {
		want[u.ID] = true
	}
	got := map[string]bool{}
	var pages []*graph.Page
	err := c.ListUsers(context.Background(), graph.UserListOptions{Select: simUserSelect}, func(p *graph.Page, users []graph.User) error {
		pages = append(pages, p)
		require.Equal(t, len(users), p.Items)
		for _, u := range users {
			require.False(t, got[u.ID], "user %s delivered twice", u.ID)
			got[u.ID] = true
			require.NotEmpty(t, u.UserPrincipalName)
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Len(t, pages, 3, "999 per page")
	for i, p := range pages {
		require.Equal(t, i+1, p.Number)
		require.Contains(t, string(p.Body), `"value"`, "raw page JSON is handed over")
	}
	require.Empty(t, pages[2].NextLink)
}
