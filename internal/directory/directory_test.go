package directory_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
)

func TestCategories(t *testing.T) {
	t.Parallel()
	c, err := directory.CategoriesOf(1, 5, 63)
	require.NoError(t, err)
	require.Equal(t, []int{1, 5, 63}, c.Positions())
	require.Equal(t, "1,5,63", c.String())
	require.True(t, c.Has(5))
	require.False(t, c.Has(2))
	require.False(t, c.Has(0))
	require.False(t, c.Has(64))
	require.Greater(t, int64(c), int64(0), "position 63 still fits a positive int64 column")

	for _, bad := range []int{0, 64, -1} {
		_, err := directory.CategoriesOf(bad)
		require.ErrorIs(t, err, directory.ErrInvalid)
	}
}

// DESIGN.md §4: an indirect assignment applies when the masks intersect or
// either side has no categories.
func TestInherits(t *testing.T) {
	t.Parallel()
	sales, _ := directory.CategoriesOf(1)
	finance, _ := directory.CategoriesOf(2)
	both, _ := directory.CategoriesOf(1, 2)
	cases := []struct {
		user, item directory.Categories
		want       bool
	}{
		{sales, sales, true},
		{sales, finance, false},
		{both, finance, true},
		{0, finance, true},
		{sales, 0, true},
		{0, 0, true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, directory.Inherits(tc.user, tc.item), "user %s item %s", tc.user, tc.item)
	}
}

func TestParseSecretRef(t *testing.T) {
	t.Parallel()
	r, err := directory.ParseSecretRef("env:CONTOSO_SECRET")
	require.NoError(t, err)
	require.Equal(t, directory.SecretRef{Kind: "env", Value: "CONTOSO_SECRET"}, r)
	require.Equal(t, "env:CONTOSO_SECRET", r.String())
	r, err = directory.ParseSecretRef("file:/run/secrets/a:b")
	require.NoError(t, err)
	require.Equal(t, "/run/secrets/a:b", r.Value)

	for _, bad := range []string{"", "plainsecret", "env:", "vault:x", "env:A=B", "Zx8Q~abc"} {
		_, err := directory.ParseSecretRef(bad)
		require.ErrorIs(t, err, directory.ErrInvalid, bad)
	}
}

func TestTenantValidate(t *testing.T) {
	t.Parallel()
	ok := directory.Tenant{ID: "t", Name: "contoso", GraphURL: "https://graph.microsoft.com/v1.0",
		AuthorityURL: "https://login.microsoftonline.com/", ClientID: "c", SecretRef: "env:X"}
	require.NoError(t, ok.Validate())
	mutate := map[string]func(*directory.Tenant){
		"no name":       func(t *directory.Tenant) { t.Name = "" },
		"space in name": func(t *directory.Tenant) { t.Name = "con toso" },
		"no id":         func(t *directory.Tenant) { t.ID = "" },
		"no client":     func(t *directory.Tenant) { t.ClientID = "" },
		"bad graph url": func(t *directory.Tenant) { t.GraphURL = "graph.microsoft.com" },
		"ftp authority": func(t *directory.Tenant) { t.AuthorityURL = "ftp://x/" },
		"raw secret":    func(t *directory.Tenant) { t.SecretRef = "hunter2" },
	}
	for name, m := range mutate {
		bad := ok
		m(&bad)
		require.ErrorIs(t, bad.Validate(), directory.ErrInvalid, name)
	}
}

func TestGroupKind(t *testing.T) {
	t.Parallel()
	cases := []struct {
		g    directory.Group
		want directory.GroupKind
	}{
		{directory.Group{SecurityEnabled: true}, directory.GroupSecurity},
		{directory.Group{SecurityEnabled: true, MailEnabled: true}, directory.GroupMailEnabledSecurity},
		{directory.Group{MailEnabled: true}, directory.GroupDistribution},
		{directory.Group{MailEnabled: true, SecurityEnabled: true, GroupTypes: []string{"Unified"}}, directory.GroupMicrosoft365},
		{directory.Group{}, directory.GroupUnknown},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, tc.g.Kind())
	}
	require.Equal(t, directory.MemberUser, directory.MemberTypeFromODataType("#microsoft.graph.user"))
	require.Equal(t, directory.MemberGroup, directory.MemberTypeFromODataType("#microsoft.graph.group"))
	s := directory.Sku{PrepaidEnabled: 10, ConsumedUnits: 12}
	require.Equal(t, 0, s.Available(), "over-consumed SKUs have no seats, not negative seats")
}
