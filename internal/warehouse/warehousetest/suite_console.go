package warehousetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// foldASCII is the case folding the console's lists and searches promise on
// both backends: ASCII letters only.
func foldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}, s)
}

// guid makes the i-th of a set of object ids shaped like Entra's: random
// looking, so they arrive out of order.
func guid(i int) string {
	h := uint64(i+1) * 0x9e3779b97f4a7c15
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), h&0xfff, (h>>12)&0xfff, h*31&0xffffffffffff)
}

// pageUsers walks a user list from the first page to the last and back,
// checking the pages agree both ways, and returns the ids in list order.
func pageUsers(t *testing.T, s warehouse.Store, prefix string, limit int) []string {
	t.Helper()
	var pages []warehouse.Page[directory.User]
	q := warehouse.PageQuery{Prefix: prefix, Limit: limit}
	for {
		p, err := s.UsersPage(ctx(t), tid, q)
		require.NoError(t, err)
		for _, u := range p.Items {
			require.False(t, u.Deleted, "deleted users are not listed")
			require.Equal(t, tid, u.TenantID)
		}
		require.LessOrEqual(t, len(p.Items), limit)
		require.Equal(t, len(pages) == 0, p.Prev == "", "only the first page has no way back (page %d)", len(pages))
		pages = append(pages, p)
		if p.Next == "" {
			break
		}
		require.Len(t, p.Items, limit, "every page but the last is full")
		q.After = p.Next
		require.Less(t, len(pages), 100_000, "the list never ends")
	}
	// Back from the last page, through Prev, page by page.
	q = warehouse.PageQuery{Prefix: prefix, Limit: limit, Before: pages[len(pages)-1].Prev}
	for i := len(pages) - 2; i >= 0; i-- {
		p, err := s.UsersPage(ctx(t), tid, q)
		require.NoError(t, err)
		require.Equal(t, userIDs(pages[i].Items), userIDs(p.Items), "page %d read backwards", i)
		require.Equal(t, i > 0, p.Prev != "", "page %d read backwards has a way back unless it is the first", i)
		require.NotEmpty(t, p.Next)
		q.Before = p.Prev
	}
	var all []string
	for _, p := range pages {
		all = append(all, userIDs(p.Items)...)
	}
	return all
}

func userIDs(us []directory.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// The console's user list at scale: 20,000 users, some deleted, some in
// another tenant. Paging forward lists every live user of the tenant
// exactly once in id order, paging back gives the same pages, and a search
// finds exactly the users whose UPN, display name or id starts with it,
// ignoring ASCII case.
func testConsoleUsersPaging(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	const n = 20_000
	first := []string{"Adele", "alex", "ALLAN", "Ben", "Bianca", "Émile", "émile", "Zoë", "o_neil", "o%brien"}
	users := make([]directory.User, n)
	for i := range users {
		name := first[i%len(first)]
		users[i] = directory.User{ID: guid(i), DisplayName: fmt.Sprintf("%s %05d", name, i),
			UserPrincipalName: fmt.Sprintf("%s.%05d@Contoso.com", strings.ToLower(name), i), AccountEnabled: true,
			Department: "Dept " + name}
	}
	// Same display name twice: order must still be total.
	users[1].DisplayName = users[0].DisplayName
	require.NoError(t, s.UpsertUsers(ctx(t), tid, users))
	var deleted []string
	for i := 0; i < n; i += 97 {
		deleted = append(deleted, users[i].ID)
	}
	require.NoError(t, s.MarkUsersDeleted(ctx(t), tid, deleted, time.Now()))
	require.NoError(t, s.UpsertUsers(ctx(t), "another-tenant", users[:500]))

	var live []string
	for _, u := range users {
		if !slices.Contains(deleted, u.ID) {
			live = append(live, u.ID)
		}
	}
	slices.Sort(live)
	require.Equal(t, live, pageUsers(t, s, "", 50), "every live user once, in id order")
	require.Equal(t, live, pageUsers(t, s, "", 1000), "a bigger page lists the same")

	for _, prefix := range []string{"ALEX", "bi", "adele 0000", "allan.19", "émile", "É", "O_", "o%", guid(7)[:6], "zz", " ben "} {
		p := foldASCII(strings.TrimSpace(prefix))
		var want []string
		for _, u := range users {
			if !slices.Contains(deleted, u.ID) && (strings.HasPrefix(foldASCII(u.UserPrincipalName), p) ||
				strings.HasPrefix(foldASCII(u.DisplayName), p) || strings.HasPrefix(u.ID, p)) {
				want = append(want, u.ID)
			}
		}
		slices.Sort(want)
		got := pageUsers(t, s, prefix, 50)
		if want == nil {
			require.Empty(t, got, "search %q", prefix)
			continue
		}
		require.Equal(t, want, got, "search %q", prefix)
	}

	// The first page reads like the list a person sees.
	p, err := s.UsersPage(ctx(t), tid, warehouse.PageQuery{Prefix: "bianca 00004"})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	require.Equal(t, "Bianca 00004", p.Items[0].DisplayName)
	require.Equal(t, "Dept Bianca", p.Items[0].Department, "listed users carry their attributes")
	require.Empty(t, p.Next)
	require.Empty(t, p.Prev)

	// Cursors are checked, not trusted.
	for _, q := range []warehouse.PageQuery{{After: "%%%"}, {Before: "YQBi"}, {After: p.Next + "x", Before: "y"},
		{Limit: warehouse.MaxPageSize + 1}} {
		_, err := s.UsersPage(ctx(t), tid, q)
		require.ErrorIs(t, err, directory.ErrInvalid, "%+v", q)
	}
	dc, err := s.DirectoryCounts(ctx(t), tid)
	require.NoError(t, err)
	require.EqualValues(t, len(live), dc.Users)
}

// Groups are listed by display name, ignoring ASCII case, with ties broken
// by id, and searched by name prefix; members are paged in id order.
func testConsoleGroupsPaging(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	names := []string{"Sales", "sales EMEA", "SALES APAC", "Finance", "finance", "Éclair", "éclair", "LIC - E5", "Lic - E3", "_hidden", "zeta"}
	var groups []directory.Group
	for i := 0; i < 300; i++ {
		g := directory.Group{ID: fmt.Sprintf("g-%s", guid(i)), DisplayName: fmt.Sprintf("%s %d", names[i%len(names)], i/len(names)%3)}
		if strings.HasPrefix(g.DisplayName, "LIC") || strings.HasPrefix(g.DisplayName, "Lic") {
			g.AssignedLicenses = []directory.AssignedLicense{{SkuID: "sku-e5"}}
		}
		groups = append(groups, g)
	}
	groups = append(groups, directory.Group{ID: "g-gone", DisplayName: "Sales gone"})
	require.NoError(t, s.UpsertGroups(ctx(t), tid, groups))
	require.NoError(t, s.MarkGroupsDeleted(ctx(t), tid, []string{"g-gone"}, time.Now()))
	groups = groups[:len(groups)-1]

	sorted := slices.Clone(groups)
	slices.SortFunc(sorted, func(a, b directory.Group) int {
		if c := strings.Compare(foldASCII(a.DisplayName), foldASCII(b.DisplayName)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	walk := func(prefix string, limit int) []string {
		var got []string
		var pages []warehouse.Page[directory.Group]
		q := warehouse.PageQuery{Prefix: prefix, Limit: limit}
		for {
			p, err := s.GroupsPage(ctx(t), tid, q)
			require.NoError(t, err)
			pages = append(pages, p)
			for _, g := range p.Items {
				got = append(got, g.ID)
			}
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
		// And back again.
		q = warehouse.PageQuery{Prefix: prefix, Limit: limit, Before: pages[len(pages)-1].Prev}
		for i := len(pages) - 2; i >= 0 && q.Before != ""; i-- {
			p, err := s.GroupsPage(ctx(t), tid, q)
			require.NoError(t, err)
			require.Equal(t, pages[i].Items, p.Items, "page %d backwards", i)
			q.Before = p.Prev
		}
		return got
	}
	for _, prefix := range []string{"", "sales", "SALES A", "fin", "é", "É", "lic - e", "_", "nothing"} {
		var want []string
		for _, g := range sorted {
			if strings.HasPrefix(foldASCII(g.DisplayName), foldASCII(prefix)) {
				want = append(want, g.ID)
			}
		}
		got := walk(prefix, 7)
		if want == nil {
			require.Empty(t, got, "prefix %q", prefix)
			continue
		}
		require.Equal(t, want, got, "prefix %q: every group once, by name then id", prefix)
	}

	lic, err := s.LicenseGroups(ctx(t), tid)
	require.NoError(t, err)
	require.NotEmpty(t, lic)
	for i, g := range lic {
		require.True(t, g.IsLicenseGroup(), g.DisplayName)
		if i > 0 {
			require.LessOrEqual(t, foldASCII(lic[i-1].DisplayName), foldASCII(g.DisplayName))
		}
	}

	// Members: 130 users and a nested group, 50 at a time, in member-id order.
	big := groups[0].ID
	var ms []directory.Membership
	var want []string
	for i := 0; i < 130; i++ {
		ms = append(ms, directory.Membership{GroupID: big, MemberID: guid(i), MemberType: directory.MemberUser})
		want = append(want, guid(i))
	}
	ms = append(ms, directory.Membership{GroupID: big, MemberID: groups[1].ID, MemberType: directory.MemberGroup},
		directory.Membership{GroupID: groups[1].ID, MemberID: guid(0), MemberType: directory.MemberUser})
	want = append(want, groups[1].ID)
	slices.Sort(want)
	require.NoError(t, s.UpsertMemberships(ctx(t), tid, ms))
	var got []string
	q := warehouse.PageQuery{}
	for pages := 0; ; pages++ {
		p, err := s.GroupMembersPage(ctx(t), tid, big, q)
		require.NoError(t, err)
		for _, m := range p.Items {
			require.Equal(t, big, m.GroupID)
			got = append(got, m.MemberID)
		}
		if p.Next == "" {
			require.Equal(t, 2, pages, "131 members are three pages of 50")
			break
		}
		q.After = p.Next
	}
	require.Equal(t, want, got)
	// And back again from the last page.
	last, err := s.GroupMembersPage(ctx(t), tid, big, q)
	require.NoError(t, err)
	back := []string{}
	for p := last; ; {
		var ids []string
		for _, m := range p.Items {
			ids = append(ids, m.MemberID)
		}
		back = append(ids, back...)
		if p.Prev == "" {
			break
		}
		p, err = s.GroupMembersPage(ctx(t), tid, big, warehouse.PageQuery{Before: p.Prev})
		require.NoError(t, err)
	}
	require.Equal(t, want, back, "paging back visits every member once, in order")
	counts, err := s.CountMembers(ctx(t), tid, []string{big, groups[1].ID, "g-none"}, 0)
	require.NoError(t, err)
	require.Equal(t, map[string]int{big: 131, groups[1].ID: 1, "g-none": 0}, counts)
	counts, err = s.CountMembers(ctx(t), tid, []string{big}, 100)
	require.NoError(t, err)
	require.Equal(t, 100, counts[big], "counting stops at the limit")
}

// The dashboard's and the user page's aggregates and lookups.
func testConsoleDetails(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	require.NoError(t, s.UpsertUsers(ctx(t), tid, []directory.User{fullUser("u1"), fullUser("u2"), fullUser("u3")}))
	require.NoError(t, s.MarkUsersDeleted(ctx(t), tid, []string{"u3"}, time.Now()))
	require.NoError(t, s.UpsertGroups(ctx(t), tid, []directory.Group{{ID: "g1", DisplayName: "LIC"}}))
	require.NoError(t, s.ReplaceLicenseStates(ctx(t), tid, []string{"u1", "u2"}, []directory.LicenseState{
		{UserID: "u1", SkuID: "s1", State: directory.StateActive},
		{UserID: "u1", SkuID: "s2", AssignedByGroup: "g1", State: directory.StateError, Error: "CountViolation"},
		{UserID: "u2", SkuID: "s1", State: directory.StateActiveWithError},
		{UserID: "u2", SkuID: "s3", State: directory.StateActive, Error: "MutuallyExclusiveViolation"},
	}))
	n, errs, err := s.LicenseErrors(ctx(t), tid, 2)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	require.Len(t, errs, 2)
	require.Equal(t, [2]string{"u1", "s2"}, [2]string{errs[0].UserID, errs[0].SkuID})
	require.Equal(t, [2]string{"u2", "s1"}, [2]string{errs[1].UserID, errs[1].SkuID})
	n, _, err = s.LicenseErrors(ctx(t), "another-tenant", 10)
	require.NoError(t, err)
	require.Zero(t, n)

	ls, err := s.LicenseStatesOf(ctx(t), tid, []string{"u2", "nobody"})
	require.NoError(t, err)
	require.Len(t, ls, 2)
	require.Equal(t, "u2", ls[0].UserID)

	require.NoError(t, s.PutGrants(ctx(t), tid, []warehouse.Grant{{Pool: "E5", UserID: "u1", GroupID: "g1", Since: time.Now()},
		{Pool: "Visio", UserID: "u2", SkuID: "s3", Since: time.Now()}}))
	gs, err := s.GrantsOf(ctx(t), tid, "u1")
	require.NoError(t, err)
	require.Len(t, gs, 1)
	require.Equal(t, "E5", gs[0].Pool)

	dc, err := s.DirectoryCounts(ctx(t), tid)
	require.NoError(t, err)
	require.Equal(t, warehouse.DirectoryCounts{Users: 2, Groups: 1, LicenseStates: 4}, dc)
}
