package graphsim

import (
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/stretchr/testify/require"
)

var fixedNow = func() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }

// The same seed and sizes give the same tenant, down to ids and licenses;
// another seed gives another tenant.
func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	a, err := generate(Config{Users: 3000, Groups: 300, Seed: 42, Now: fixedNow})
	require.NoError(t, err)
	b, err := generate(Config{Users: 3000, Groups: 300, Seed: 42, Now: fixedNow})
	require.NoError(t, err)
	c, err := generate(Config{Users: 3000, Groups: 300, Seed: 43, Now: fixedNow})
	require.NoError(t, err)
	require.Equal(t, a.id, b.id)
	require.Equal(t, a.users, b.users)
	require.Equal(t, len(a.groups), len(b.groups))
	for i := range a.groups {
		require.Equal(t, a.groups[i].id, b.groups[i].id)
		require.Equal(t, a.groups[i].members, b.groups[i].members)
	}
	require.NotEqual(t, a.id, c.id)
	require.NotEqual(t, a.users[0].id, c.users[0].id)
}

// The generated organisation has what license policies meet in real
// tenants (issue 3's list).
func TestGeneratedOrganisationIsRealistic(t *testing.T) {
	t.Parallel()
	const n = 20_000
	tn, err := generate(Config{Users: n, Groups: n / 10, Seed: 1, Now: fixedNow})
	require.NoError(t, err)
	now := fixedNow().Unix()
	var guests, disabled, noLocation, neverSignedIn, inactive, withManager, sharedBoxes, userBoxes int
	depts, countries, titles := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range tn.users {
		u := &tn.users[i]
		if u.userType == "Guest" {
			guests++
		}
		if !u.accountEnabled {
			disabled++
		}
		if u.usageLocation == "" {
			noLocation++
		}
		if u.lastSignIn == 0 {
			neverSignedIn++
		} else if now-u.lastSignIn > 90*24*3600 {
			inactive++
		}
		if u.manager >= 0 {
			withManager++
		}
		switch u.mailbox {
		case mbShared:
			sharedBoxes++
		case mbUser:
			userBoxes++
		}
		depts[u.department] = true
		countries[u.country] = true
		titles[u.jobTitle] = true
	}
	for name, v := range map[string]int{"guests": guests, "disabled": disabled, "no usageLocation": noLocation,
		"never signed in": neverSignedIn, "inactive 90+ days": inactive, "shared mailboxes": sharedBoxes} {
		require.Greater(t, v, n/200, name)
		require.Less(t, v, n/4, name)
	}
	require.Greater(t, withManager, n/2)
	require.Greater(t, userBoxes, n/2)
	require.GreaterOrEqual(t, len(depts), 10)
	require.GreaterOrEqual(t, len(countries), 10)
	require.GreaterOrEqual(t, len(titles), 40)

	var kinds = map[string]int{}
	memberships := 0
	nested := 0
	for i := range tn.groups {
		g := &tn.groups[i]
		memberships += len(g.members)
		switch {
		case len(g.licenses) > 0:
			kinds["license"]++
		case g.isDynamic():
			kinds["dynamic"]++
			require.True(t, strings.HasPrefix(g.membershipRule, "(user.") || strings.HasPrefix(g.membershipRule, "user."), g.membershipRule)
		case strings.Contains(strings.Join(g.groupTypes, ","), "Unified"):
			kinds["m365"]++
		default:
			kinds["security"]++
		}
		for _, m := range g.members {
			if m < 0 {
				nested++
			}
		}
	}
	for _, k := range []string{"license", "dynamic", "m365", "security"} {
		require.Positive(t, kinds[k], k)
	}
	require.Positive(t, nested)
	avg := float64(memberships) / n
	require.InDelta(t, 10, avg, 2, "about ten direct memberships per user")
	var parts []string
	for _, s := range tn.skus {
		parts = append(parts, s.p.partNumber)
	}
	for _, want := range []string{"SPE_E3", "SPE_E5", "ENTERPRISEPACK", "O365_BUSINESS_PREMIUM", "EXCHANGESTANDARD",
		"POWER_BI_PRO", "VISIOCLIENT", "PROJECTPROFESSIONAL", "TEAMS_EXPLORATORY"} {
		require.Contains(t, parts, want)
	}
}

// Dynamic groups follow their rules when HR changes a user.
func TestDynamicGroupsFollowRules(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300})
	srv := h.srv
	u := h.firstUser(func(u *user) bool { return u.userType == "Member" && u.department == "Sales" && u.accountEnabled })
	sales, legal, all := h.groupNamed("Dept - Sales"), h.groupNamed("Dept - Legal"), h.groupNamed("All Employees")
	require.True(t, srv.IsMember(sales, u.id))
	require.NoError(t, srv.SetDepartment(u.id, "Legal"))
	require.False(t, srv.IsMember(sales, u.id))
	require.True(t, srv.IsMember(legal, u.id))
	require.NoError(t, srv.DisableUser(u.id))
	require.False(t, srv.IsMember(all, u.id))

	nu, err := srv.CreateUser(directoryUser("joiner@"+srv.Domain(), "Sales"))
	require.NoError(t, err)
	require.True(t, srv.IsMember(sales, nu.ID))
	require.True(t, srv.IsMember(all, nu.ID))
}

func directoryUser(upn, department string) directory.User {
	return directory.User{UserPrincipalName: upn, DisplayName: "New Joiner", Department: department,
		AccountEnabled: true, UserType: "Member", UsageLocation: "DE"}
}
