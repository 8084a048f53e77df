package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/rule"
)

func fullUser(id string) directory.User {
	t := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	on := true
	u := directory.User{
		ID: id, UserPrincipalName: id + "@contoso.com", DisplayName: "Ana " + id, GivenName: "Ana", Surname: "Silva",
		Mail: id + "@contoso.com", MailNickname: id, OtherMails: []string{"ana@example.org"},
		ProxyAddresses: []string{"SMTP:" + id + "@contoso.com", "smtp:ana@contoso.onmicrosoft.com"},
		JobTitle:       "Senior Engineer", Department: "Engineering", CompanyName: "Contoso Ltd", EmployeeID: "E-" + id,
		EmployeeType: "Employee", EmployeeHireDate: &t, EmployeeLeaveDateTime: &t, ManagerID: "mgr-1",
		OfficeLocation: "Berlin 2", StreetAddress: "Main St 1", City: "Berlin", State: "BE", PostalCode: "10115",
		Country: "DE", UsageLocation: "DE", PreferredLanguage: "de-DE", TelephoneNumber: "+49 30 1", MobilePhone: "+49 170 1",
		FaxNumber: "+49 30 2", UserType: "Member", AccountEnabled: true, OnPremisesSyncEnabled: &on,
		OnPremisesDistinguishedName: "CN=Ana", OnPremisesSecurityIdentifier: "S-1-5-21-1", OnPremisesImmutableID: "imm",
		PasswordPolicies: "DisablePasswordExpiration", SipProxyAddress: "sip:" + id, CreatedDateTime: &t,
		LastSignIn: &t, LastNonInteractiveSignIn: &t, LastSuccessfulSignIn: &t,
		Extensions:    map[string]string{"extension_abc_costCenter": "42"},
		AssignedPlans: []directory.AssignedPlan{{ServicePlanID: "p1", Service: "exchange", CapabilityStatus: "Enabled", AssignedDateTime: &t}},
		Categories:    5,
	}
	for n := range u.ExtensionAttributes {
		u.ExtensionAttributes[n] = fmt.Sprintf("ext%d", n+1)
	}
	return u
}

// The snapshot stores users column by column; User must give back exactly
// what went in, or rules would see a different user than Graph has.
func TestSnapshotUserRoundTrip(t *testing.T) {
	t.Parallel()
	b := engine.NewBuilder()
	want := []directory.User{fullUser("b-2"), {ID: "a-1", UserPrincipalName: "x@contoso.com"}, fullUser("c-3")}
	want[2].Department = "Sales"
	for i := range want {
		b.AddUser(&want[i])
	}
	b.AddUser(&directory.User{ID: "gone", Deleted: true})
	s := b.Build(time.Time{})
	require.Equal(t, 3, s.Len())
	// Dense indexes follow user-id order whatever the arrival order.
	require.Equal(t, "a-1", s.UserID(0))
	require.Equal(t, want[1], *s.User(0))
	require.Equal(t, want[0], *s.User(1))
	require.Equal(t, want[2], *s.User(2))
}

// scanIndex is the simplest possible rule.Index: no value indexes, every
// rule answered by visiting the users. The snapshot must agree with it.
type scanIndex struct {
	users   []directory.User
	members map[string]*roaring.Bitmap
}

func (x *scanIndex) Universe() *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, uint64(len(x.users)))
	return bm
}
func (x *scanIndex) User(i uint32) *directory.User                { return &x.users[i] }
func (x *scanIndex) Equal(string, string) (*roaring.Bitmap, bool) { return nil, false }
func (x *scanIndex) Now() time.Time                               { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }
func (x *scanIndex) Members(id string) *roaring.Bitmap {
	if bm, ok := x.members[id]; ok {
		return bm
	}
	return roaring.New()
}

func TestSnapshotAnswersRulesLikeAScan(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	pickOf := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	ref := &scanIndex{members: map[string]*roaring.Bitmap{"g1": roaring.New()}}
	b := engine.NewBuilder()
	for i := range 400 {
		u := directory.User{
			ID:                fmt.Sprintf("%08d-0000-0000-0000-000000000000", i),
			UserPrincipalName: fmt.Sprintf("User%d@Contoso.com", i),
			Mail:              pickOf("", fmt.Sprintf("user%d@contoso.com", i)),
			Department:        pickOf("Sales", "sales", "SALES", "Engineering", "", "Ops"),
			JobTitle:          pickOf("Senior Engineer", "Engineer", "senior analyst", ""),
			Country:           pickOf("US", "DE", "us", ""),
			UserType:          pickOf("Member", "Guest", "member"),
			AccountEnabled:    r.IntN(4) > 0,
			ManagerID:         pickOf("", "m1", "M1"),
		}
		u.ExtensionAttributes[2] = pickOf("", "A", "a", "B")
		if r.IntN(3) == 0 {
			on := r.IntN(2) == 0
			u.OnPremisesSyncEnabled = &on
		}
		ref.users = append(ref.users, u)
		b.AddUser(&u)
	}
	b.AddGroup(&directory.Group{ID: "g1"})
	for i := range ref.users {
		if r.IntN(3) == 0 {
			ref.members["g1"].Add(uint32(i))
			b.AddMembership(directory.Membership{GroupID: "g1", MemberID: ref.users[i].ID, MemberType: directory.MemberUser})
		}
	}
	snap := b.Build(ref.Now())
	for _, src := range []string{
		`user.department -eq "sales"`,
		`user.department -ne "Sales"`,
		`user.department -in ["Engineering", "OPS"]`,
		`user.department -eq null`,
		`user.department -startsWith "s" -and user.accountEnabled -eq true`,
		`user.jobTitle -contains "senior"`,
		`user.jobTitle -match "^sen.*eer$"`,
		`user.country -eq "US" -or user.userType -eq "guest"`,
		`user.accountEnabled -eq false`,
		`user.dirSyncEnabled -eq true`,
		`user.dirSyncEnabled -eq false`,
		`user.extensionAttribute3 -eq "a"`,
		`user.mail -endsWith "@contoso.com"`,
		`user.userPrincipalName -eq "user7@contoso.com"`,
		`user.objectId -eq "00000042-0000-0000-0000-000000000000"`,
		`user.memberOf -any (group.objectId -in ["g1"])`,
		`Direct Reports for "m1"`,
		`not (user.department -in ["Sales", "Ops"])`,
	} {
		parsed, err := rule.Parse(src)
		require.NoError(t, err, src)
		prog, err := rule.Compile(parsed)
		require.NoError(t, err, src)
		got, want := prog.Eval(snap), prog.Eval(ref)
		require.True(t, want.Equals(got), "%s: snapshot %v, scan %v", src, got.ToArray(), want.ToArray())
		for i := range uint32(len(ref.users)) {
			require.Equal(t, want.Contains(i), prog.Match(snap, i), "%s user %d", src, i)
		}
	}
}
