package graph

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// offlineClient builds a client whose endpoints are never contacted; it
// exercises URL handling only.
func offlineClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{TenantID: "t", ClientID: "c", ClientSecret: "s", GraphURL: "https://graph.example/v1.0",
		AuthorityHost: "https://login.example/"})
	require.NoError(t, err)
	return c
}

func TestNextURL(t *testing.T) {
	t.Parallel()
	c := offlineClient(t)
	tests := []struct {
		name     string
		eventual bool
		link     string
		want     string
		err      string
	}{
		{"followed verbatim", false, "https://graph.example/v1.0/users?$top=999&$skiptoken=X%2BY",
			"https://graph.example/v1.0/users?$top=999&$skiptoken=X%2BY", ""},
		{"host compared case-insensitively", false, "https://GRAPH.example/v1.0/users?$skiptoken=a",
			"https://GRAPH.example/v1.0/users?$skiptoken=a", ""},
		{"eventual adds $count", true, "https://graph.example/v1.0/users?$skiptoken=a",
			"https://graph.example/v1.0/users?$skiptoken=a&$count=true", ""},
		{"eventual keeps existing $count", true, "https://graph.example/v1.0/users?%24count=true&$skiptoken=a",
			"https://graph.example/v1.0/users?%24count=true&$skiptoken=a", ""},
		{"other host refused", false, "https://evil.example/v1.0/users?$skiptoken=a", "", "evil.example"},
		{"downgrade refused", false, "http://graph.example/v1.0/users", "", "link points to http://"},
		{"garbage refused", false, "https://graph.example/%zz", "", "unparsable link"},
	}
	for _, tt := range tests {
		got, err := c.nextURL(Query{Op: "ListUsers", Eventual: tt.eventual}, tt.link)
		if tt.err != "" {
			require.ErrorIs(t, err, ErrMalformed, tt.name)
			require.ErrorContains(t, err, tt.err, tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, got, tt.name)
	}
}

func TestFirstURL(t *testing.T) {
	t.Parallel()
	c := offlineClient(t)
	got, err := c.firstURL(Query{Path: "/users", Eventual: true, Params: url.Values{
		"$select": {"id,displayName"}, "$filter": {"assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)"}}})
	require.NoError(t, err)
	require.Equal(t, "https://graph.example/v1.0/users?$count=true&$filter=assignedLicenses%2Fany%28x%3Ax%2FskuId%20eq%206fd2c87f-b296-42f0-b197-1e91e994b900%29&$select=id%2CdisplayName", got)

	_, err = c.firstURL(Query{Path: "users"})
	require.ErrorIs(t, err, ErrInvalidInput)
}

func TestPageSelected(t *testing.T) {
	t.Parallel()
	p := &Page{Params: url.Values{"$select": {"id, signInActivity"}}}
	require.True(t, p.Selected("signInActivity"))
	require.True(t, p.Selected("ID"))
	require.False(t, p.Selected("department"))
	require.False(t, (&Page{}).Selected("id"))
}
