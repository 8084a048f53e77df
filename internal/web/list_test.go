package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
)

func foldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}, s)
}

type userListing struct {
	Query string `json:"query"`
	Order string `json:"order"`
	Limit int    `json:"limit"`
	Total int64  `json:"total"`
	Next  string `json:"next"`
	Prev  string `json:"prev"`
	Items []struct {
		ID       string   `json:"id"`
		UPN      string   `json:"user_principal_name"`
		Name     string   `json:"display_name"`
		Licenses []string `json:"licenses"`
	} `json:"items"`
}

// walkUsers follows next cursors through the API's user list and back
// through prev, and returns the ids in list order.
func walkUsers(t *testing.T, e *env, token, q string, limit string) []string {
	t.Helper()
	base := "/api/v1/tenants/contoso/users?limit=" + limit + "&q=" + url.QueryEscape(q)
	var pages []userListing
	path := base
	for {
		var l userListing
		require.Equal(t, http.StatusOK, e.api("GET", path, token, nil, &l), path)
		pages = append(pages, l)
		if l.Next == "" {
			break
		}
		path = base + "&after=" + url.QueryEscape(l.Next)
		require.Less(t, len(pages), 1000)
	}
	for i := len(pages) - 2; i >= 0; i-- {
		var l userListing
		require.Equal(t, http.StatusOK, e.api("GET", base+"&before="+url.QueryEscape(pages[i+1].Prev), token, nil, &l))
		require.Equal(t, pages[i].Items, l.Items, "page %d again, going back", i)
	}
	var ids []string
	for _, p := range pages {
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

// The users list pages with cursors: every user exactly once, forwards and
// backwards, and a search finds the users whose UPN, display name or object
// id starts with what was typed, whatever its case.
func TestUserListPagesAndSearches(t *testing.T) {
	t.Parallel()
	e := setup(t, 230, false)
	e.account("root", grant{access.Administrator, access.Scope{}})
	tok := e.token("root")
	var all []string
	for _, u := range e.sim.Users() {
		all = append(all, u.ID)
	}
	slices.Sort(all)

	got := walkUsers(t, e, tok, "", "50")
	require.Equal(t, all, got, "every user once, in object-id order")
	var first userListing
	require.Equal(t, 200, e.api("GET", "/api/v1/tenants/contoso/users", tok, nil, &first))
	require.Len(t, first.Items, 50, "50 to a page by default")
	require.EqualValues(t, len(all), first.Total)
	require.Equal(t, "id", first.Order)
	require.Empty(t, first.Prev)

	u := e.sim.Users()[17]
	for _, q := range []string{strings.ToUpper(u.DisplayName[:3]), u.UserPrincipalName[:4], u.ID[:5], "zzzz-nobody"} {
		var want []string
		for _, x := range e.sim.Users() {
			p := foldASCII(q)
			if strings.HasPrefix(foldASCII(x.UserPrincipalName), p) || strings.HasPrefix(foldASCII(x.DisplayName), p) || strings.HasPrefix(x.ID, p) {
				want = append(want, x.ID)
			}
		}
		slices.Sort(want)
		got := walkUsers(t, e, tok, q, "7")
		if want == nil {
			require.Empty(t, got, q)
			continue
		}
		require.Equal(t, want, got, "search %q", q)
		require.Contains(t, got, u.ID, "the user we took the search from is found")
	}

	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.Equal(t, 400, e.api("GET", "/api/v1/tenants/contoso/users?offset=50", tok, nil, &body))
	require.Contains(t, body.Error.Message, "after=")
	require.Equal(t, 400, e.api("GET", "/api/v1/tenants/contoso/users?limit=0", tok, nil, &body))
	require.Equal(t, 422, e.api("GET", "/api/v1/tenants/contoso/users?after=!!", tok, nil, &body))
	require.Equal(t, "invalid", body.Error.Code)

	// The console shows the same pages, with next and previous links.
	c := e.signIn("root", testPassword)
	page := c.get(t, "/t/contoso/users", 200)
	require.Equal(t, 50, strings.Count(page, `<tr`)-1, "50 rows and a header")
	next := regexp.MustCompile(`href="\?q=&amp;after=([^"]+)" rel="next"`).FindStringSubmatch(page)
	require.NotNil(t, next, "a next link")
	require.NotContains(t, page, `rel="prev"`, "the first page has no previous link")
	page2 := c.get(t, "/t/contoso/users?q=&after="+next[1], 200)
	require.Contains(t, page2, `rel="prev"`)
	require.Contains(t, page2, "/t/contoso/users/"+all[50]+`"`, "the second page starts with the 51st user")
	require.NotContains(t, page2, "/t/contoso/users/"+all[49]+`"`)
	found := c.get(t, "/t/contoso/users?q="+url.QueryEscape(strings.ToLower(u.UserPrincipalName)), 200)
	require.Contains(t, found, "/t/contoso/users/"+u.ID)
	require.Contains(t, c.get(t, "/t/contoso/users?q=zzzz-nobody", 200), "starts with “zzzz-nobody”")
}

type groupListing struct {
	Next  string `json:"next"`
	Items []struct {
		ID      string `json:"id"`
		Name    string `json:"display_name"`
		Members int    `json:"members"`
	} `json:"items"`
}

// Groups are listed by name a page at a time with their member counts, and
// a group's members are paged too.
func TestGroupListAndMembersPage(t *testing.T) {
	t.Parallel()
	e := setup(t, 300, false)
	e.account("root", grant{access.Administrator, access.Scope{}})
	tok := e.token("root")

	var names []string
	path := "/api/v1/tenants/contoso/groups?limit=10"
	members := map[string]int{}
	for {
		var l groupListing
		require.Equal(t, 200, e.api("GET", path, tok, nil, &l))
		for _, g := range l.Items {
			names = append(names, g.Name)
			members[g.ID] = g.Members
		}
		if l.Next == "" {
			break
		}
		path = "/api/v1/tenants/contoso/groups?limit=10&after=" + url.QueryEscape(l.Next)
	}
	require.Len(t, names, len(e.sim.Groups()), "every group once")
	require.True(t, slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(foldASCII(a), foldASCII(b)) }),
		"sorted by name, ignoring case: %v", names)

	// The biggest group: its members, fifty at a time, are the simulator's.
	var big string
	for _, g := range e.sim.Groups() {
		ms, err := e.sim.Members(g.ID)
		require.NoError(t, err)
		require.Equal(t, len(ms), members[g.ID], "member count of %s", g.DisplayName)
		if big == "" || len(ms) > members[big] {
			big = g.ID
		}
	}
	require.Greater(t, members[big], 50, "the test needs a group of more than one page")
	var want []string
	ms, _ := e.sim.Members(big)
	for _, m := range ms {
		want = append(want, m.MemberID)
	}
	slices.Sort(want)
	var got []string
	path = "/api/v1/tenants/contoso/groups/" + big
	for {
		var d struct {
			MemberCount int `json:"member_count"`
			Members     struct {
				Next  string `json:"next"`
				Items []struct {
					ID   string `json:"id"`
					Type string `json:"type"`
					Name string `json:"display_name"`
				} `json:"items"`
			} `json:"members"`
		}
		require.Equal(t, 200, e.api("GET", path, tok, nil, &d))
		require.Equal(t, len(want), d.MemberCount)
		for _, m := range d.Members.Items {
			require.NotEmpty(t, m.Name, "members are named")
			got = append(got, m.ID)
		}
		if d.Members.Next == "" {
			break
		}
		path = "/api/v1/tenants/contoso/groups/" + big + "?after=" + url.QueryEscape(d.Members.Next)
	}
	require.Equal(t, want, got)

	c := e.signIn("root", testPassword)
	page := c.get(t, "/t/contoso/groups/"+big, 200)
	require.Contains(t, page, `rel="next"`, "a big group's page links to more members")
}
