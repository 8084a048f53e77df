package graph_test

import (
	"context"
	"errors"
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

func TestListUsersByLicenseResendsAdvancedQueryOnEveryPage(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 600})
	ctx := context.Background()
	var skus []graph.SubscribedSku
	require.NoError(t, c.ListSubscribedSkus(ctx, graph.Collect(&skus)))
	require.NotEmpty(t, skus)
	// The SKU with most holders, so the listing spans several pages.
	sku := skus[0]
	for _, s := range skus {
		if s.ConsumedUnits > sku.ConsumedUnits {
			sku = s
		}
	}
	want := map[string]bool{}
	for _, ls := range sim.AllLicenseStates() {
		if ls.SkuID == sku.SkuID {
			want[ls.UserID] = true
		}
	}
	require.Greater(t, len(want), 100)

	got := map[string]bool{}
	pages := 0
	err := c.ListUsersByLicense(ctx, sku.SkuID, graph.UserListOptions{Select: []string{"id", "assignedLicenses", "licenseAssignmentStates"}, Top: 50},
		func(p *graph.Page, users []graph.User) error {
			pages++
			if p.Number == 1 {
				require.EqualValues(t, len(want), p.Count, "@odata.count on the first page")
			} else {
				require.EqualValues(t, -1, p.Count)
			}
			for _, u := range users {
				got[u.ID] = true
				require.True(t, holds(u, sku.SkuID), "user %s listed without the SKU", u.ID)
			}
			return nil
		})
	require.NoError(t, err)
	require.Greater(t, pages, 2)
	require.Equal(t, want, got)

	err = c.ListUsersByLicense(ctx, "E5) or (true", graph.UserListOptions{}, Discard[graph.User])
	require.ErrorIs(t, err, graph.ErrInvalidInput, "a non-GUID never reaches $filter")
}

func holds(u graph.User, skuID string) bool {
	for _, l := range u.AssignedLicenses {
		if l.SkuID == skuID {
			return true
		}
	}
	return false
}

// Discard is a PageFunc that ignores pages.
func Discard[T any](*graph.Page, []T) error { return nil }

func TestSignInActivityNeedsAuditLogPermission(t *testing.T) {
	t.Parallel()
	sim, _ := setup(t, graphsim.Config{Users: 50, Apps: []graphsim.App{
		{ClientID: "11111111-1111-1111-1111-111111111111", ClientSecret: "no-audit", Roles: []string{"User.Read.All"}},
	}})
	ctx := context.Background()
	full := newClient(t, sim)
	var with []graph.User
	withSel := false
	require.NoError(t, full.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}, SignInActivity: true},
		func(p *graph.Page, users []graph.User) error {
			withSel = p.Selected("signInActivity")
			with = append(with, users...)
			return nil
		}))
	require.True(t, withSel)
	signedIn := 0
	for _, u := range with {
		if u.SignInActivity != nil && u.SignInActivity.LastSignInDateTime != nil {
			signedIn++
		}
	}
	require.Positive(t, signedIn)

	// Without AuditLog.Read.All Graph answers 403; the listing carries on
	// without sign-in data and says so.
	limited := newClient(t, sim, func(c *graph.Config) {
		c.ClientID, c.ClientSecret = "11111111-1111-1111-1111-111111111111", "no-audit"
	})
	var without []graph.User
	withoutSel := true
	require.NoError(t, limited.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}, SignInActivity: true},
		func(p *graph.Page, users []graph.User) error {
			withoutSel = p.Selected("signInActivity")
			without = append(without, users...)
			return nil
		}))
	require.False(t, withoutSel)
	require.Len(t, without, len(with))
	for _, u := range without {
		require.Nil(t, u.SignInActivity)
	}
}

func TestUserWritesAndLicenses(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 60})
	ctx := context.Background()
	u, err := c.CreateUser(ctx, graph.NewUser{AccountEnabled: true, DisplayName: "Ada Joiner", MailNickname: "ada.joiner",
		UserPrincipalName: "ada.joiner@" + sim.Domain(), UsageLocation: "DE", Department: "Research",
		PasswordProfile: &graph.PasswordProfile{Password: "S3cret-initial!", ForceChangePasswordNextSignIn: true}})
	require.NoError(t, err)
	require.NotEmpty(t, u.ID)
	got, err := sim.User(u.ID)
	require.NoError(t, err)
	require.Equal(t, "Research", got.Department)

	require.NoError(t, c.UpdateUser(ctx, u.ID, map[string]any{"department": "Finance", "jobTitle": nil}))
	got, err = sim.User(u.ID)
	require.NoError(t, err)
	require.Equal(t, "Finance", got.Department)

	_, err = c.CreateUser(ctx, graph.NewUser{DisplayName: "No UPN", MailNickname: "x"})
	require.ErrorIs(t, err, graph.ErrInvalidInput)
	require.ErrorContains(t, err, "userPrincipalName is required")

	// Direct license with a free seat, then a SKU with none left.
	skus := sim.Skus()
	var free, full string
	for _, s := range skus {
		if s.AppliesTo != "User" {
			continue
		}
		if s.Available() > 0 && free == "" {
			free = s.SkuID
		}
		if full == "" && s.SkuID != free {
			full = s.SkuID
			require.NoError(t, sim.SetSeats(s.SkuPartNumber, s.ConsumedUnits))
		}
	}
	require.NotEmpty(t, free)
	after, err := c.AssignLicense(ctx, u.ID, []graph.AssignedLicense{{SkuID: free}}, nil)
	require.NoError(t, err)
	require.Equal(t, u.ID, after.ID, "the updated user comes back")
	states, err := sim.LicenseStates(u.ID)
	require.NoError(t, err)
	require.Len(t, states, 1)
	require.Equal(t, free, states[0].SkuID)
	var details []graph.LicenseDetails
	require.NoError(t, c.ListLicenseDetails(ctx, u.ID, graph.Collect(&details)))
	require.Len(t, details, 1)
	require.Equal(t, free, details[0].SkuID)

	_, err = c.AssignLicense(ctx, u.ID, []graph.AssignedLicense{{SkuID: full}}, nil)
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	require.Equal(t, 400, ge.Status)
	require.Equal(t, "AssignLicense", ge.Op)
	require.Contains(t, ge.Message, "does not have any available licenses")
	require.NotEmpty(t, ge.RequestID)

	_, err = c.AssignLicense(ctx, u.ID, nil, []string{free})
	require.NoError(t, err)
	_, err = c.AssignLicense(ctx, "00000000-0000-0000-0000-000000000000", []graph.AssignedLicense{{SkuID: free}}, nil)
	require.True(t, graph.IsNotFound(err), "%v", err)
}

// A listing that failed mid-way resumes from the last page's NextLink, and
// stored raw pages decode back into users.
func TestResumeFromNextLinkAndDecodeStoredPages(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 500})
	ctx := context.Background()
	var stored [][]byte
	var next string
	stop := errors.New("crash")
	err := c.ListUsers(ctx, graph.UserListOptions{Select: []string{"id", "department"}, Top: 100}, func(p *graph.Page, _ []graph.User) error {
		stored = append(stored, p.Body)
		next = p.NextLink
		if p.Number == 2 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.NotEmpty(t, next)

	_, err = c.Pages(ctx, graph.Query{Op: "ListUsers", Path: next}, func(p *graph.Page) error {
		require.Nil(t, p.Params, "a resumed listing does not know its original options")
		stored = append(stored, p.Body)
		return nil
	})
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, body := range stored {
		users, err := graph.DecodeItems[graph.User](body)
		require.NoError(t, err)
		for _, u := range users {
			require.False(t, seen[u.ID])
			seen[u.ID] = true
		}
	}
	require.Len(t, seen, len(sim.Users()))

	_, err = graph.DecodeItems[graph.User]([]byte(`{"error":{}}`))
	require.ErrorIs(t, err, graph.ErrMalformed)
	_, err = c.Pages(ctx, graph.Query{Op: "ListUsers", Path: "https://elsewhere.example/v1.0/users"}, func(*graph.Page) error { return nil })
	require.ErrorIs(t, err, graph.ErrMalformed, "a link to another host is never followed with our token")
}
