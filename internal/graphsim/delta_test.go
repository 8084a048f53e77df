package graphsim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// deltaRound follows a delta round to its deltaLink and returns the items
// and the deltaLink.
func deltaRound(t *testing.T, h *harness, url string, hdr ...string) ([]map[string]any, string) {
	t.Helper()
	var items []map[string]any
	for {
		r := h.call("GET", url, nil, hdr...)
		require.Equal(t, http.StatusOK, r.status, string(r.raw))
		_, hasNext := r.body["@odata.nextLink"]
		_, hasDelta := r.body["@odata.deltaLink"]
		require.True(t, hasNext != hasDelta, "a page carries exactly one of nextLink and deltaLink")
		items = append(items, r.values()...)
		if hasDelta {
			return items, r.body["@odata.deltaLink"].(string)
		}
		url = r.body["@odata.nextLink"].(string)
	}
}

func byID(items []map[string]any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, it := range items {
		m[it["id"].(string)] = it
	}
	return m
}

// Delta rounds after HR mutations return exactly what changed: a mover's new
// department, a leaver's disabled account, a deleted user as @removed, and
// the dynamic-group membership changes those caused as members@delta.
func TestDeltaRoundsAfterMutations(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 500})
	srv := h.srv
	maxPage := []string{"Prefer", "odata.maxpagesize=999"}

	users, userLink := deltaRound(t, h, "/users/delta?$select=displayName,department,accountEnabled", maxPage...)
	require.Len(t, byID(users), len(srv.Users()))
	groups, groupLink := deltaRound(t, h, "/groups/delta?$select=displayName,members", maxPage...)
	require.Len(t, byID(groups), len(srv.Groups()))

	// Nothing changed: empty rounds.
	again, userLink := deltaRound(t, h, userLink)
	require.Empty(t, again)

	all := srv.Users()
	var mover, leaver, gone string
	for _, u := range all {
		switch {
		case mover == "" && u.UserType == "Member" && u.Department == "Sales" && u.AccountEnabled:
			mover = u.ID
		case leaver == "" && u.UserType == "Member" && u.AccountEnabled && u.Department != "Sales":
			leaver = u.ID
		case gone == "" && u.UserType == "Member" && u.AccountEnabled && u.Department != "Sales":
			gone = u.ID
		}
	}
	require.NoError(t, srv.SetDepartment(mover, "Finance"))
	require.NoError(t, srv.DisableUser(leaver))
	require.NoError(t, srv.DeleteUser(gone))

	changed, userLink := deltaRound(t, h, userLink)
	got := byID(changed)
	require.Len(t, got, 3)
	require.Equal(t, "Finance", got[mover]["department"])
	require.Equal(t, false, got[leaver]["accountEnabled"])
	require.Equal(t, map[string]any{"reason": "changed"}, got[gone]["@removed"])

	gchanged, _ := deltaRound(t, h, groupLink)
	gg := byID(gchanged)
	delta := func(group, member string) string {
		for _, m := range gg[h.groupNamed(group)]["members@delta"].([]any) {
			mm := m.(map[string]any)
			if mm["id"] == member {
				if _, removed := mm["@removed"]; removed {
					return "removed"
				}
				return "added"
			}
		}
		return ""
	}
	require.Equal(t, "removed", delta("Dept - Sales", mover))
	require.Equal(t, "added", delta("Dept - Finance", mover))
	require.Equal(t, "removed", delta("All Employees", leaver))
	require.Equal(t, "removed", delta("All Employees", gone))

	empty, _ := deltaRound(t, h, userLink)
	require.Empty(t, empty)
}

func TestDeltaTokens(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300})
	srv := h.srv

	r := h.call("GET", "/users/delta?$deltatoken=latest", nil)
	require.Equal(t, 200, r.status)
	require.Empty(t, r.values())
	latest := r.body["@odata.deltaLink"].(string)
	u := srv.Users()[42]
	require.NoError(t, srv.SetDepartment(u.ID, "Legal"))
	items, link := deltaRound(t, h, latest)
	require.Len(t, items, 1)
	require.Equal(t, u.ID, items[0]["id"])

	// Expired tokens: 410 Gone with a Location that starts a full round.
	srv.ExpireDeltaTokens()
	r = h.call("GET", link, nil)
	require.Equal(t, http.StatusGone, r.status)
	loc := r.header.Get("Location")
	require.True(t, strings.HasSuffix(loc, "$deltatoken="), loc)
	full, _ := deltaRound(t, h, loc, "Prefer", "odata.maxpagesize=999")
	require.Len(t, full, len(srv.Users()))

	srv.SetFaults(Faults{ExpireDeltaTokens: true})
	_, link = deltaRound(t, h, "/groups/delta?$select=displayName")
	require.Equal(t, http.StatusGone, h.call("GET", link, nil).status)
	srv.SetFaults(Faults{})

	r = h.call("GET", "/users/delta?$top=5", nil)
	require.Equal(t, 400, r.status, "delta has no $top")
	r = h.call("GET", "/users/delta", nil, "Prefer", "odata.maxpagesize=999")
	require.Len(t, r.values(), 300)
	require.Equal(t, "odata.maxpagesize=999", r.header.Get("Preference-Applied"))
	r = h.call("GET", "/users/delta", nil)
	require.Len(t, r.values(), 100, "default delta page")
}

// A group larger than one page's member budget continues on the next page
// with the same group object, as Graph pages large groups.
func TestGroupDeltaPagesLargeGroups(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 30_000, Groups: 40})
	all := h.groupNamed("All Employees")
	members := mustMembers(t, h.srv, all)
	require.Greater(t, len(members), maxMembersPerPage)
	url := "/groups/delta?$filter=id eq '" + all + "'"
	seen := map[string]bool{}
	pages := 0
	for {
		r := h.call("GET", url, nil)
		require.Equal(t, 200, r.status, string(r.raw))
		for _, v := range r.values() {
			require.Equal(t, all, v["id"])
			for _, m := range v["members@delta"].([]any) {
				seen[m.(map[string]any)["id"].(string)] = true
			}
			pages++
		}
		next, ok := r.body["@odata.nextLink"].(string)
		if !ok {
			break
		}
		url = next
	}
	require.GreaterOrEqual(t, pages, 2)
	require.Len(t, seen, len(members))
}

// users/delta tracks assignedLicenses but not licenseAssignmentStates: an
// error that group-based licensing writes on a member, taking no seat, does
// not make the member appear in the next round; a direct assignment does.
func TestUserDeltaDoesNotTrackLicenseStates(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300, Groups: 60, LicenseProcessingDelay: time.Hour})
	srv := h.srv
	_, link := deltaRound(t, h, "/users/delta?$select=displayName,assignedLicenses", "Prefer", "odata.maxpagesize=999")

	group := h.groupNamed("All Managers")
	members := mustMembers(t, srv, group)
	require.NotEmpty(t, members)
	proj := h.skuID("PROJECTPROFESSIONAL")
	for _, s := range srv.Skus() {
		if s.SkuID == proj {
			require.NoError(t, srv.SetSeats(s.SkuPartNumber, s.ConsumedUnits)) // none left
		}
	}
	r := h.call("POST", "/groups/"+group+"/assignLicense", assignBodyOf([]LicenseChange{{SkuID: proj}}, nil))
	require.Equal(t, http.StatusAccepted, r.status, string(r.raw))
	srv.ProcessLicensesNow() // instead of waiting the hour
	errored := 0
	for _, m := range members {
		states, _ := srv.LicenseStates(m.MemberID)
		for _, s := range states {
			if s.AssignedByGroup == group && s.Error == "CountViolation" {
				errored++
			}
		}
	}
	require.Positive(t, errored)

	direct := h.firstUser(func(u *user) bool { return u.usageLocation != "" && len(u.licenses) == 0 })
	assigned := false
	for _, s := range srv.Skus() {
		if s.AppliesTo == "User" && s.SkuID != proj && s.Available() > 0 {
			if srv.AssignLicense(direct.id, []LicenseChange{{SkuID: s.SkuID}}, nil) == nil {
				assigned = true
				break
			}
		}
	}
	require.True(t, assigned, "some SKU has a free seat")

	changed, _ := deltaRound(t, h, link)
	got := byID(changed)
	require.Contains(t, got, direct.id, "assignedLicenses changed")
	for _, m := range members {
		require.NotContains(t, got, m.MemberID, "only licenseAssignmentStates changed")
	}
}
