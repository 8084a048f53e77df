package rule_test

import (
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/rule"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// people is a small directory exercising every property type: ids are
// alice=0, bob=1, carol=2, dave=3.
func people() []*directory.User {
	alice := &directory.User{
		ID: "u0", DisplayName: "Alice", Department: "Sales", JobTitle: "SDE II", City: "Lagos", Country: "NG",
		AccountEnabled: true, UserType: "Member", Mail: "alice@contoso.com", EmployeeID: "E1", ManagerID: "m1",
		ProxyAddresses: []string{"SMTP:alice@contoso.com", "smtp:a@fabrikam.com"}, OtherMails: []string{"alice@gmail.com"},
		EmployeeHireDate: ptr(time.Date(2020, 6, 10, 18, 13, 20, 0, time.UTC)), OnPremisesSyncEnabled: ptr(true),
		AssignedPlans:  []directory.AssignedPlan{{ServicePlanID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Service: "exchange", CapabilityStatus: "Enabled"}},
		Extensions:     map[string]string{"extension_C272A57B722D4EB29BFE327874AE79CB_officeNumber": "123"},
		OfficeLocation: "Building 7",
	}
	bob := &directory.User{
		ID: "u1", DisplayName: "Da", Department: "sales", JobTitle: "Manager", City: "Ibadan", Country: "NG",
		UserType: "Guest", ManagerID: "M1", EmployeeHireDate: ptr(now.AddDate(0, 0, -10)), OnPremisesSyncEnabled: ptr(false),
		AssignedPlans: []directory.AssignedPlan{{ServicePlanID: "p2", Service: "SCO", CapabilityStatus: "Suspended"}},
	}
	carol := &directory.User{
		ID: "u2", DisplayName: "aDa", AccountEnabled: true, UserType: "Member", Mail: "carol@outlook.com", EmployeeID: "null",
		OtherMails: []string{"carol@contoso.com", "c@x.org"}, ProxyAddresses: []string{"smtp:carol@outlook.com"},
	}
	dave := &directory.User{
		ID: "u3", DisplayName: "David", Department: "Marketing", Country: "US", AccountEnabled: true, UserType: "Member",
		EmployeeHireDate: ptr(now.AddDate(0, 0, 5)),
		AssignedPlans: []directory.AssignedPlan{
			{ServicePlanID: "efb87545-963c-4e0d-99df-69c6916d9eb0", CapabilityStatus: "Enabled"},
			{ServicePlanID: "p3", CapabilityStatus: "Deleted"},
		},
	}
	dave.ExtensionAttributes[14] = "Marketing"
	return []*directory.User{alice, bob, carol, dave}
}

// indexes returns the same directory twice: with no equality indexes (every
// leaf scans) and with every indexable property indexed (leaves become
// bitmap operations). Both must give the same answers.
func indexes(t *testing.T) map[string]*memIndex {
	t.Helper()
	users := people()
	indexed := append(rule.IndexableProperties(), "manager")
	out := map[string]*memIndex{"scan": newIndex(users), "indexed": newIndex(users, indexed...)}
	for _, ix := range out {
		ix.now = now
		ix.groups["g1"] = roaring.BitmapOf(0)
		ix.groups["g2"] = roaring.BitmapOf(3)
	}
	return out
}

func TestEval(t *testing.T) {
	t.Parallel()
	const (
		alice = "u0"
		bob   = "u1"
		carol = "u2"
		dave  = "u3"
	)
	all := []string{alice, bob, carol, dave}
	cases := []struct {
		rule string
		want []string
	}{
		// Strings: every operator, case-insensitive values.
		{`user.department -eq "Sales"`, []string{alice, bob}},
		{`user.department -ne "Sales"`, []string{carol, dave}},
		{`user.jobTitle -startsWith "sde"`, []string{alice}},
		{`user.jobTitle -notStartsWith "sde"`, []string{bob, carol, dave}},
		{`user.mail -endsWith "@CONTOSO.com"`, []string{alice}},
		{`user.mail -notEndsWith "@contoso.com"`, []string{bob, carol, dave}},
		{`user.mail -contains "OUTLOOK"`, []string{carol}},
		{`user.mail -notContains "outlook"`, []string{alice, bob, dave}},
		{`user.displayName -match "^Da.*"`, []string{bob, dave}}, // the docs: Da and David match, aDa doesn't
		{`user.displayName -match ".*vid"`, []string{dave}},
		{`user.displayName -notMatch "^da"`, []string{alice, carol}},
		{`user.displayName -match "(?-i)^Da"`, []string{bob, dave}},
		{`user.displayName -match "(?-i)^da"`, nil},
		{`user.jobTitle -startsWith "zzz"`, nil},
		{`user.jobTitle -match "^$"`, []string{carol, dave}},
		{`user.city -in ["lagos", "Ibadan"]`, []string{alice, bob}},
		{`user.city -notIn ["lagos", "Ibadan"]`, []string{carol, dave}},
		{`user.employeeId -in [1, "e1"]`, []string{alice}},
		{`user.physicalDeliveryOfficeName -eq "building 7"`, []string{alice}},
		{`user.extensionAttribute15 -eq "marketing"`, []string{dave}},
		{`user.extension_c272a57b722d4eb29bfe327874ae79cb_OfficeNumber -eq "123"`, []string{alice}},
		{`user.objectId -eq "U2"`, []string{carol}},
		{`user.department -eq ""`, []string{carol}},
		// null versus "null".
		{`user.department -eq null`, []string{carol}},
		{`user.department -ne null`, []string{alice, bob, dave}},
		{`user.employeeId -eq "null"`, []string{carol}},
		{`user.employeeId -eq null`, []string{bob, dave}},
		{`user.employeeId -ne "null"`, []string{alice, bob, dave}},
		{`user.objectId -ne null`, all},
		{`user.objectId -eq null`, nil},
		{`user.mail -eq $null`, []string{bob, dave}},
		// Booleans; an unset dirSyncEnabled (cloud-only user) is false, and null.
		{`user.accountEnabled -eq true`, []string{alice, carol, dave}},
		{`user.accountEnabled -eq false`, []string{bob}},
		{`user.accountEnabled -ne true`, []string{bob}},
		{`user.accountEnabled -eq "TRUE"`, []string{alice, carol, dave}},
		{`user.dirSyncEnabled -eq true`, []string{alice}},
		{`user.dirSyncEnabled -eq false`, []string{bob, carol, dave}},
		{`user.dirSyncEnabled -eq null`, []string{carol, dave}},
		// Dates, fixed and relative to system.now.
		{`user.employeeHireDate -le 2020-06-10T18:13:20Z`, []string{alice}},
		{`user.employeeHireDate -eq "2020-06-10T18:13:20Z"`, []string{alice}},
		{`user.employeeHireDate -ne "2020-06-10T18:13:20Z"`, []string{bob, carol, dave}},
		{`user.employeeHireDate -ge "2021-01-01"`, []string{bob, dave}},
		{`user.employeehiredate -ge system.now -plus p1d`, []string{dave}},
		{`user.employeeHireDate -ge system.now -minus P30D`, []string{bob, dave}},
		{`user.employeeHireDate -ge system.now -plus -p30d`, []string{bob, dave}},
		{`user.employeeHireDate -le system.now`, []string{alice, bob}},
		{`user.employeeHireDate -eq null`, []string{carol}},
		// String collections: a comparison holds when any element matches;
		// a negated one when none does.
		{`user.proxyAddresses -startsWith "smtp:"`, []string{alice, carol}},
		{`user.proxyAddresses -notEndsWith "@outlook.com"`, []string{alice, bob, dave}},
		{`user.otherMails -endsWith "@contoso.com"`, []string{carol}},
		{`user.otherMails -eq "C@X.ORG"`, []string{carol}},
		{`user.proxyAddresses -eq null`, []string{bob, dave}},
		{`user.proxyAddresses -ne null`, []string{alice, carol}},
		{`user.proxyAddresses -any (_ -startsWith "smtp:a")`, []string{alice}},
		{`user.proxyAddresses -any _ -contains "fabrikam" -or _ -contains "outlook"`, []string{alice, carol}},
		{`user.proxyAddresses -all (_ -startsWith "smtp")`, all}, // -all holds for an empty collection
		{`user.otherMails -all (-not (_ -endsWith ".org"))`, []string{alice, bob, dave}},
		// assignedPlans.
		{`user.assignedPlans -any (assignedPlan.servicePlanId -eq "efb87545-963c-4e0d-99df-69c6916d9eb0" -and assignedPlan.capabilityStatus -eq "Enabled")`, []string{alice, dave}},
		{`user.assignedPlans -any (assignedPlan.service -eq "SCO" -and assignedPlan.capabilityStatus -eq "Enabled")`, nil},
		{`user.assignedPlans -any (assignedPlan.service -eq "SCO")`, []string{bob}},
		{`user.assignedPlans -all (assignedPlan.servicePlanId -eq null)`, []string{carol}}, // the docs: users with no assigned plan
		{`user.assignedPlans -all (assignedPlan.capabilityStatus -eq "Enabled")`, []string{alice, carol}},
		// memberOf and direct reports.
		{`user.memberOf -any (group.objectId -in ['g1', 'g2', 'missing'])`, []string{alice, dave}},
		{`user.memberof -any (group.objectId -eq 'g2')`, []string{dave}},
		{`Direct Reports for "m1"`, []string{alice, bob}},
		// Precedence: -and binds tighter than -or; -not tighter than -and.
		{`user.department -eq "Sales" -or user.department -eq "Marketing" -and user.country -eq "NG"`, []string{alice, bob}},
		{`(user.department -eq "Sales" -or user.department -eq "Marketing") -and user.country -eq "NG"`, []string{alice, bob}},
		{`(user.department -eq "Sales" -or user.department -eq "Marketing") -and user.country -eq "US"`, []string{dave}},
		{`-not user.department -eq "Sales" -and user.country -eq "NG"`, nil},
		{`-not (user.department -eq "Sales" -and user.city -eq "Ibadan")`, []string{alice, carol, dave}},
		{`-not -not user.city -eq "Lagos"`, []string{alice}},
		{`user.country -eq "NG" -and -not (user.jobTitle -startsWith "SDE")`, []string{bob}},
		// Operator spellings: no hyphen, EN DASH, any case.
		{`user.city eq "Lagos" or user.city startswith "Iba"`, []string{alice, bob}},
		{`user.city –eq "Lagos" –or user.city –eq "Ibadan"`, []string{alice, bob}},
		{`user.CITY -EQ "lagos" -AND user.country -Eq "ng"`, []string{alice}},
		{`USER.userType -notin ['guest']`, []string{alice, carol, dave}},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			p := rule.MustCompile(tc.rule)
			for name, ix := range indexes(t) {
				var got []string
				for _, i := range p.Eval(ix).ToArray() {
					got = append(got, ix.users[i].ID)
				}
				require.Equal(t, tc.want, got, "Eval, %s", name)
				for i, u := range ix.users {
					require.Equal(t, slices.Contains(tc.want, u.ID), p.Match(ix, uint32(i)), "Match(%s), %s", u.ID, name)
				}
			}
		})
	}
}

// Rules see only live users, and Eval's result belongs to the caller.
func TestEvalUniverse(t *testing.T) {
	t.Parallel()
	ix := indexes(t)["indexed"]
	ix.universe.Remove(1) // bob left
	for _, src := range []string{`user.objectId -ne null`, `user.department -eq "Sales"`, `user.department -ne "x"`, `user.city -startsWith "I"`} {
		p := rule.MustCompile(src)
		got := p.Eval(ix)
		require.False(t, got.Contains(1), src)
		got.Add(1000)
		require.False(t, ix.universe.Contains(1000), "%s: Eval returned the Index's own bitmap", src)
	}
}

func TestProperties(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rule    string
		props   []string
		usesNow bool
	}{
		{`user.department -eq "Sales" -and -not (user.JOBTITLE -startsWith "x")`, []string{"department", "jobTitle"}, false},
		{`user.proxyAddresses -any (_ -eq "a") -or user.assignedPlans -any (assignedPlan.service -eq "SCO")`, []string{"assignedPlans", "proxyAddresses"}, false},
		{`user.memberOf -any (group.objectId -in ['g'])`, []string{"memberOf"}, false},
		{`Direct Reports for "m"`, []string{"manager"}, false},
		{`user.employeeHireDate -ge system.now -plus p1d`, []string{"employeeHireDate"}, true},
		{`user.extension_abc_Name -eq "1"`, []string{"extension_abc_Name"}, false},
	}
	for _, tc := range cases {
		p := rule.MustCompile(tc.rule)
		require.Equal(t, tc.props, p.Properties(), tc.rule)
		require.Equal(t, tc.usesNow, p.UsesNow(), tc.rule)
	}
}

func TestCompileRejectsDeviceRules(t *testing.T) {
	t.Parallel()
	r, err := rule.Parse(`device.deviceOSType -eq "iOS"`)
	require.NoError(t, err)
	require.Equal(t, "device", r.Object)
	_, err = rule.Compile(r)
	require.ErrorIs(t, err, rule.ErrInvalid)
	_, err = rule.Compile(&rule.Rule{})
	require.ErrorIs(t, err, rule.ErrInvalid)
}
