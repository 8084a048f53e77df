package graphsim

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func assignBodyOf(add []LicenseChange, remove []string) map[string]any {
	if add == nil {
		add = []LicenseChange{}
	}
	if remove == nil {
		remove = []string{}
	}
	return map[string]any{"addLicenses": add, "removeLicenses": remove}
}

// Each documented assignLicense failure (graph.md §3.2) with its exact
// status, code and message; a failed request changes nothing.
func TestAssignLicenseErrors(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300, Groups: 60})
	srv := h.srv
	e3, e5, visio, teams := h.skuID("SPE_E3"), h.skuID("SPE_E5"), h.skuID("VISIOCLIENT"), h.skuID("TEAMS_EXPLORATORY")
	exStd := h.skuID("EXCHANGESTANDARD")
	unlicensed := func(u *user) bool {
		return u.userType == "Member" && u.usageLocation != "" && len(u.licenses) == 0 && len(u.memberOf) > 0
	}
	plain := h.firstUser(unlicensed)
	noLoc := h.firstUser(func(u *user) bool { return u.usageLocation == "" && u.userType == "Member" })
	withE3Direct := h.firstUser(func(u *user) bool {
		return slices.ContainsFunc(u.licenses, func(l lic) bool { return l.group < 0 && srv.t.skus[l.sku].p.skuID == e3 })
	})
	withE3Group := h.firstUser(func(u *user) bool {
		return u.usageLocation != "" && slices.ContainsFunc(u.licenses, func(l lic) bool {
			return l.group >= 0 && l.holdsSeat() && srv.t.skus[l.sku].p.skuID == e3
		}) && !slices.ContainsFunc(u.licenses, func(l lic) bool { return l.group < 0 })
	})
	require.NoError(t, srv.SetSeats("VISIOCLIENT", 0)) // exhausted
	myAnalytics := "33c4f319-9bdd-48d6-9c4d-410b750a4a5a"
	exchangeP2 := "efb87545-963c-4e0d-99df-69c6916d9eb0"

	for _, tc := range []struct {
		name   string
		user   string
		body   any
		status int
		code   string
		msg    string
	}{
		{"no free seats", plain.id, assignBodyOf([]LicenseChange{{SkuID: visio}}, nil), 400, "Request_BadRequest",
			"Subscription with SKU " + visio + " does not have any available licenses."},
		{"usage location missing", noLoc.id, assignBodyOf([]LicenseChange{{SkuID: e5}}, nil), 400, "Request_BadRequest",
			"License assignment cannot be done for user with invalid usage location."},
		{"mutually exclusive plans", withE3Direct.id, assignBodyOf([]LicenseChange{{SkuID: teams}}, nil), 400, "Request_BadRequest",
			"License assignment failed because service plans " + exchangeP2 + ", 9aaf7827-d63c-4b61-89c3-182f06f82e5c are mutually exclusive."},
		{"missing dependency", plain.id, assignBodyOf([]LicenseChange{{SkuID: e5, DisabledPlans: []string{exchangeP2}}}, nil), 400, "Request_BadRequest",
			"License assignment failed because service plan " + myAnalytics + " depends on the service plan(s) " + exchangeP2 + ", 9aaf7827-d63c-4b61-89c3-182f06f82e5c"},
		{"remove group-inherited SKU", withE3Group.id, assignBodyOf(nil, []string{e3}), 400, "Request_BadRequest",
			"User license is inherited from a group membership and it cannot be removed directly from the user."},
		{"remove SKU the user lacks", plain.id, assignBodyOf(nil, []string{exStd}), 400, "Request_BadRequest",
			"User does not have a corresponding license."},
		{"skuId not a GUID", plain.id, assignBodyOf([]LicenseChange{{SkuID: "E5"}}, nil), 400, "Request_BadRequest",
			"Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details"},
		{"SKU not subscribed", plain.id, assignBodyOf([]LicenseChange{{SkuID: "c7df2760-2c81-4ef7-b578-5b5392b571df"}}, nil), 400, "Request_BadRequest",
			"License c7df2760-2c81-4ef7-b578-5b5392b571df does not correspond to a valid company License."},
		{"missing removeLicenses", plain.id, map[string]any{"addLicenses": []any{}}, 400, "Request_BadRequest",
			"One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: removeLicenses."},
		{"unknown user", "00000000-0000-4000-8000-000000000000", assignBodyOf(nil, nil), 404, "Request_ResourceNotFound",
			"Resource '00000000-0000-4000-8000-000000000000' does not exist or one of its queried reference-property objects are not present."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := srv.LicenseStates(tc.user)
			r := h.call("POST", "/users/"+tc.user+"/assignLicense", tc.body)
			require.Equal(t, tc.status, r.status, string(r.raw))
			require.Equal(t, tc.code, r.errCode())
			require.Equal(t, tc.msg, r.errMessage())
			after, _ := srv.LicenseStates(tc.user)
			require.Equal(t, before, after, "a failed assignLicense changes nothing")
		})
	}
}

func TestAssignLicenseSuccessAndSeats(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300, Groups: 60})
	srv := h.srv
	u := h.firstUser(func(u *user) bool { return u.userType == "Member" && u.usageLocation != "" && len(u.licenses) == 0 })
	e5 := h.skuID("SPE_E5")
	seats := func() (int, int) {
		for _, s := range srv.Skus() {
			if s.SkuID == e5 {
				return s.ConsumedUnits, s.PrepaidEnabled
			}
		}
		return -1, -1
	}
	consumed, _ := seats()
	require.NoError(t, srv.SetSeats("SPE_E5", consumed+1))

	r := h.call("POST", "/users/"+u.id+"/assignLicense", assignBodyOf([]LicenseChange{{SkuID: e5, DisabledPlans: []string{}}}, nil), "client-request-id", "req-1")
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	require.Equal(t, u.id, r.body["id"])
	require.Equal(t, "req-1", r.header.Get("client-request-id"))
	require.NotEmpty(t, r.header.Get("request-id"))
	lics := r.body["assignedLicenses"].([]any)
	require.Len(t, lics, 1)
	c2, _ := seats()
	require.Equal(t, consumed+1, c2)

	// The last seat is gone: the next user is refused.
	other := h.firstUser(func(x *user) bool {
		return x.userType == "Member" && x.usageLocation != "" && len(x.licenses) == 0 && x.id != u.id
	})
	r = h.call("POST", "/users/"+other.id+"/assignLicense", assignBodyOf([]LicenseChange{{SkuID: e5}}, nil))
	require.Equal(t, 400, r.status)

	// Re-sending the same SKU is a no-op (duplicate), a new disabledPlans
	// list an update; neither consumes a seat.
	r = h.call("POST", "/users/"+u.id+"/assignLicense", assignBodyOf([]LicenseChange{{SkuID: e5}}, nil))
	require.Equal(t, 200, r.status)
	plan := firstPlan(srv, e5)
	r = h.call("POST", "/users/"+u.id+"/assignLicense", assignBodyOf([]LicenseChange{{SkuID: e5, DisabledPlans: []string{plan}}}, nil))
	require.Equal(t, 200, r.status, string(r.raw))
	states, err := srv.LicenseStates(u.id)
	require.NoError(t, err)
	require.Equal(t, []string{plan}, states[0].DisabledPlans)
	c3, _ := seats()
	require.Equal(t, consumed+1, c3)

	// Removal frees the seat.
	r = h.call("POST", "/users/"+u.id+"/assignLicense", assignBodyOf(nil, []string{e5}))
	require.Equal(t, 200, r.status)
	c4, _ := seats()
	require.Equal(t, consumed, c4)

	counts := srv.WriteCounts()
	require.Equal(t, 1, counts.ByOp["addLicense"])
	require.Equal(t, 1, counts.ByOp["updateLicense"])
	require.Equal(t, 1, counts.ByOp["removeLicense"])
	require.Equal(t, 1, counts.Duplicate)
	var found bool
	for _, w := range srv.WriteLog() {
		if w.ClientRequestID == "req-1" {
			found = true
			require.Equal(t, "addLicense", w.Op)
			require.Equal(t, u.id, w.Target)
			require.Equal(t, e5, w.Object)
			require.Equal(t, OutcomeApplied, w.Outcome)
			require.Equal(t, 200, w.Status)
		}
	}
	require.True(t, found)
}

// Group-based licensing: 202 Accepted, asynchronous processing that writes
// licenseAssignmentStates on members, CountViolation when seats run out.
func TestGroupAssignLicenseAsync(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300, Groups: 60, TimeScale: 20})
	srv := h.srv
	sales := h.groupNamed("All Managers")
	proj := h.skuID("PROJECTPROFESSIONAL")
	members := mustMembers(t, srv, sales)
	require.Greater(t, len(members), 3)
	var consumed int
	for _, s := range srv.Skus() {
		if s.SkuID == proj {
			consumed = s.ConsumedUnits
		}
	}
	free := 2
	require.NoError(t, srv.SetSeats("PROJECTPROFESSIONAL", consumed+free))
	heldBefore := map[string]bool{} // members already holding it need no new seat
	for _, m := range members {
		states, _ := srv.LicenseStates(m.MemberID)
		for _, s := range states {
			if s.SkuID == proj && s.State == "Active" {
				heldBefore[m.MemberID] = true
			}
		}
	}

	r := h.call("POST", "/groups/"+sales+"/assignLicense", assignBodyOf([]LicenseChange{{SkuID: proj}}, nil))
	require.Equal(t, http.StatusAccepted, r.status, string(r.raw))
	require.NotEmpty(t, r.header.Get("Location"))
	st := h.call("GET", "/groups/"+sales+"?$select=licenseProcessingState,assignedLicenses", nil)
	require.NotEqual(t, "ProcessingComplete", st.body["licenseProcessingState"].(map[string]any)["state"])

	deadline := time.Now().Add(5 * time.Second)
	for {
		st = h.call("GET", "/groups/"+sales+"?$select=licenseProcessingState", nil)
		if st.body["licenseProcessingState"].(map[string]any)["state"] == "ProcessingComplete" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, "ProcessingComplete", st.body["licenseProcessingState"].(map[string]any)["state"])

	var active, countViolation int
	for _, m := range members {
		if m.MemberType != "user" {
			continue
		}
		states, err := srv.LicenseStates(m.MemberID)
		require.NoError(t, err)
		for _, s := range states {
			if s.SkuID == proj && s.AssignedByGroup == sales {
				switch {
				case s.State == "Active" && !heldBefore[m.MemberID]:
					active++
				case s.State == "Error" && s.Error == "CountViolation":
					countViolation++
				}
			}
		}
	}
	require.Equal(t, free, active)
	require.Positive(t, countViolation)
	r = h.call("GET", "/groups?$filter=hasMembersWithLicenseErrors eq true&$select=id", nil)
	require.Equal(t, 200, r.status)
	require.True(t, slices.ContainsFunc(r.values(), func(v map[string]any) bool { return v["id"] == sales }))
	r = h.call("GET", "/groups/"+sales+"/membersWithLicenseErrors", nil)
	require.Equal(t, 200, r.status)
	require.Len(t, r.values(), countViolation)
}

// The generated tenant already has the error states admins meet in real
// tenants, and seats that leave some SKUs nearly exhausted.
func TestGeneratedLicenseStates(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 2000})
	errs := map[string]int{}
	direct, inherited := 0, 0
	for _, s := range h.srv.AllLicenseStates() {
		errs[s.Error]++
		if s.Direct() {
			direct++
		} else {
			inherited++
		}
	}
	require.Positive(t, errs["CountViolation"])
	require.Positive(t, errs["MutuallyExclusiveViolation"])
	require.Positive(t, direct)
	require.Positive(t, inherited)
	nearlyFull := 0
	for _, s := range h.srv.Skus() {
		require.LessOrEqual(t, s.ConsumedUnits, s.PrepaidEnabled, s.SkuPartNumber)
		if s.PrepaidEnabled > 0 && s.PrepaidEnabled-s.ConsumedUnits <= max(5, s.PrepaidEnabled/100) {
			nearlyFull++
		}
	}
	require.GreaterOrEqual(t, nearlyFull, 2)
}
