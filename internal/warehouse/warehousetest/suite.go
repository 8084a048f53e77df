package warehousetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Harness adapts one backend to the suite.
type Harness struct {
	// Open returns a fresh, migrated, empty store that the test may close.
	Open func(t *testing.T) warehouse.Store
	// Exec runs raw SQL against the store's database, bypassing the Store
	// API, to prove guarantees the database itself enforces.
	Exec func(ctx context.Context, s warehouse.Store, sql string) error
}

// Run runs the conformance suite against a backend. Every backend must pass
// exactly the same tests: behaviour may not depend on the storage engine.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness, s warehouse.Store)
	}{
		{"FreshStoreIsEmpty", testFreshStoreIsEmpty},
		{"Tenants", testTenants},
		{"UsersRoundTrip", testUsersRoundTrip},
		{"UsersUpsertSemantics", testUsersUpsertSemantics},
		{"Groups", testGroups},
		{"Memberships", testMemberships},
		{"ReplaceMemberships", testReplaceMemberships},
		{"MarkDeleted", testMarkDeleted},
		{"LicenseStates", testLicenseStates},
		{"Skus", testSkus},
		{"Mailboxes", testMailboxes},
		{"Inbox", testInbox},
		{"InboxBesideOpenTransaction", testInboxBesideOpenTransaction},
		{"InboxConcurrentClaims", testInboxConcurrentClaims},
		{"InboxPurgeBesidePuts", testInboxPurgeBesidePuts},
		{"SyncState", testSyncState},
		{"Pools", testPools},
		{"Audit", testAudit},
		{"Transactions", testTransactions},
		{"BulkUpsert", testBulkUpsert},
		{"PolicySettings", testPolicySettings},
		{"Grants", testGrants},
		{"Principals", testPrincipals}, {"Delegations", testDelegations}, {"APITokens", testAPITokens}, {"Sessions", testSessions},
		{"Requests", testRequests},
		{"Workflows", testWorkflows},
		{"Approvals", testApprovals},
		{"ChangeQueue", testChangeQueue},
		{"ChangeSupersede", testChangeSupersede},
		{"ChangeLeaseExpiry", testChangeLeaseExpiry},
		{"ChangeConcurrentClaims", testChangeConcurrentClaims},
		{"RemovalRouting", testRemovalRouting},
		{"Notifications", testNotifications},
		{"WriteBudget", testWriteBudget},
		{"LicenseRows", testLicenseRows},
		{"ConsoleUsersPaging", testConsoleUsersPaging},
		{"ConsoleGroupsPaging", testConsoleGroupsPaging},
		{"ConsoleDetails", testConsoleDetails},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := h.Open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, h, s)
		})
	}
}

const tid = "11111111-2222-3333-4444-555555555555"

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func ts(s string) *time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &v
}

func addTenant(t *testing.T, s warehouse.Store) directory.Tenant {
	t.Helper()
	tn := directory.Tenant{ID: tid, Name: "contoso", GraphURL: "https://graph.microsoft.com/v1.0",
		AuthorityURL: "https://login.microsoftonline.com/", ClientID: "app-1", SecretRef: "env:CONTOSO_SECRET"}
	require.NoError(t, s.CreateTenant(ctx(t), tn))
	return tn
}

func testFreshStoreIsEmpty(t *testing.T, _ Harness, s warehouse.Store) {
	c, err := s.Counts(ctx(t), "")
	require.NoError(t, err)
	require.Equal(t, warehouse.Counts{}, c)
	v, err := s.SchemaVersion(ctx(t))
	require.NoError(t, err)
	require.Equal(t, warehouse.LatestSchemaVersion(s.Backend()), v)
	ts, err := s.ListTenants(ctx(t))
	require.NoError(t, err)
	require.Empty(t, ts)
}

func testTenants(t *testing.T, _ Harness, s warehouse.Store) {
	tn := addTenant(t, s)

	byName, err := s.GetTenant(ctx(t), "contoso")
	require.NoError(t, err)
	byID, err := s.GetTenant(ctx(t), tid)
	require.NoError(t, err)
	require.Equal(t, byName, byID)
	require.Equal(t, tn.SecretRef, byName.SecretRef)
	require.False(t, byName.CreatedAt.IsZero())

	// Same name or same id again: refused, nothing changed.
	dup := tn
	dup.ID = "other"
	require.ErrorIs(t, s.CreateTenant(ctx(t), dup), warehouse.ErrAlreadyExists)
	dup = tn
	dup.Name = "other"
	require.ErrorIs(t, s.CreateTenant(ctx(t), dup), warehouse.ErrAlreadyExists)

	// A pasted secret instead of a reference is refused before any write.
	bad := tn
	bad.ID, bad.Name, bad.SecretRef = "t2", "fabrikam", "s3cr3t-value"
	require.ErrorIs(t, s.CreateTenant(ctx(t), bad), directory.ErrInvalid)

	list, err := s.ListTenants(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, 1)

	_, err = s.GetTenant(ctx(t), "nope")
	require.ErrorIs(t, err, warehouse.ErrNotFound)
}

// fullUser sets every field so a round trip proves nothing is dropped.
func fullUser(id string) directory.User {
	sync := true
	u := directory.User{
		ID: id, UserPrincipalName: id + "@contoso.com", DisplayName: "Adele Vance", GivenName: "Adele",
		Surname: "Vance", Mail: id + "@contoso.com", MailNickname: id, OtherMails: []string{"a@x.com"},
		ProxyAddresses: []string{"SMTP:" + id + "@contoso.com", "smtp:alias@contoso.com"},
		JobTitle:       "Retail Manager", Department: "Retail", CompanyName: "Contoso", EmployeeID: "E123",
		EmployeeType: "Employee", EmployeeHireDate: ts("2020-01-02T00:00:00Z"),
		EmployeeLeaveDateTime: ts("2030-01-02T00:00:00Z"), ManagerID: "mgr-1", OfficeLocation: "18/2111",
		StreetAddress: "1 Main St", City: "Seattle", State: "WA", PostalCode: "98052", Country: "United States",
		UsageLocation: "US", PreferredLanguage: "en-US", TelephoneNumber: "+1 425 555 0109", MobilePhone: "+1 425 555 0110",
		FaxNumber: "+1 425 555 0111", UserType: "Member", AccountEnabled: true, OnPremisesSyncEnabled: &sync,
		OnPremisesDistinguishedName: "CN=Adele,OU=Users", OnPremisesSecurityIdentifier: "S-1-5-21-1",
		OnPremisesImmutableID: "imm", PasswordPolicies: "DisablePasswordExpiration", SipProxyAddress: "sip:a@x",
		CreatedDateTime: ts("2019-05-06T07:08:09Z"), LastSignIn: ts("2026-11-01T10:00:00Z"),
		LastNonInteractiveSignIn: ts("2026-11-02T10:00:00Z"), LastSuccessfulSignIn: ts("2026-11-01T09:00:00Z"),
		Extensions: map[string]string{"extension_abc_costCenter": "CC-42"},
		AssignedPlans: []directory.AssignedPlan{{ServicePlanID: "efb87545-963c-4e0d-99df-69c6916d9eb0",
			Service: "exchange", CapabilityStatus: "Enabled", AssignedDateTime: ts("2021-01-01T00:00:00Z")}},
		Categories: 0b101,
	}
	u.ExtensionAttributes[0] = "ea1"
	u.ExtensionAttributes[14] = "ea15"
	return u
}

func testUsersRoundTrip(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	want := fullUser("u1")
	require.NoError(t, s.UpsertUsers(ctx(t), tid, []directory.User{want}))
	got, err := s.GetUser(ctx(t), tid, "u1")
	require.NoError(t, err)
	want.TenantID = tid
	require.Equal(t, want, got)

	var scanned []directory.User
	require.NoError(t, s.ScanUsers(ctx(t), tid, func(u directory.User) error { scanned = append(scanned, u); return nil }))
	require.Equal(t, []directory.User{want}, scanned)

	many, err := s.GetUsers(ctx(t), tid, []string{"missing", "u1"})
	require.NoError(t, err)
	require.Equal(t, []directory.User{want}, many)

	_, err = s.GetUser(ctx(t), tid, "missing")
	require.ErrorIs(t, err, warehouse.ErrNotFound)
	_, err = s.GetUser(ctx(t), "other-tenant", "u1")
	require.ErrorIs(t, err, warehouse.ErrNotFound, "users are scoped to their tenant")
}

func testUsersUpsertSemantics(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	u := fullUser("u1")
	require.NoError(t, s.UpsertUsers(ctx(t), tid, []directory.User{u}))

	// Graph does not know allot's categories: a later sync must not erase them.
	u2 := u
	u2.Department, u2.Categories = "Finance", 0
	// The same object twice in one batch: the last one wins.
	u3 := u2
	u3.JobTitle = "Controller"
	require.NoError(t, s.UpsertUsers(ctx(t), tid, []directory.User{u2, u3}))
	got, err := s.GetUser(ctx(t), tid, "u1")
	require.NoError(t, err)
	require.Equal(t, "Finance", got.Department)
	require.Equal(t, "Controller", got.JobTitle)
	require.Equal(t, directory.Categories(0b101), got.Categories)

	// A deleted user that comes back (restored in Entra) is live again.
	require.NoError(t, s.MarkUsersDeleted(ctx(t), tid, []string{"u1"}, time.Now()))
	got, _ = s.GetUser(ctx(t), tid, "u1")
	require.True(t, got.Deleted)
	require.NotNil(t, got.DeletedAt)
	require.NoError(t, s.UpsertUsers(ctx(t), tid, []directory.User{u}))
	got, _ = s.GetUser(ctx(t), tid, "u1")
	require.False(t, got.Deleted)
	require.Nil(t, got.DeletedAt)
}

func testGroups(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	g := directory.Group{ID: "g1", DisplayName: "E5 users", Description: "license group", MailNickname: "e5",
		SecurityEnabled: true, GroupTypes: []string{"DynamicMembership"},
		MembershipRule: `user.department -eq "Sales"`, MembershipRuleProcessingState: "On",
		AssignedLicenses:       []directory.AssignedLicense{{SkuID: "sku-e5", DisabledPlans: []string{"p1"}}},
		LicenseProcessingState: "ProcessingComplete", OwnerIDs: []string{"u1"}, Categories: 4, ITShopOnly: true,
		CreatedDateTime: ts("2022-02-02T02:02:02Z")}
	m365 := directory.Group{ID: "g2", DisplayName: "Team", MailEnabled: true, GroupTypes: []string{"Unified"}, Mail: "team@x"}
	require.NoError(t, s.UpsertGroups(ctx(t), tid, []directory.Group{g, m365}))

	got, err := s.GetGroup(ctx(t), tid, "g1")
	require.NoError(t, err)
	g.TenantID = tid
	require.Equal(t, g, got)
	require.True(t, got.IsLicenseGroup())
	require.True(t, got.IsDynamic())
	require.Equal(t, directory.GroupSecurity, got.Kind())

	// allot-owned flags survive a Graph re-sync that does not carry them.
	resync := g
	resync.Categories, resync.ITShopOnly, resync.DisplayName = 0, false, "E5 users (renamed)"
	require.NoError(t, s.UpsertGroups(ctx(t), tid, []directory.Group{resync}))
	got, _ = s.GetGroup(ctx(t), tid, "g1")
	require.Equal(t, "E5 users (renamed)", got.DisplayName)
	require.True(t, got.ITShopOnly)
	require.Equal(t, directory.Categories(4), got.Categories)

	var ids []string
	require.NoError(t, s.ScanGroups(ctx(t), tid, func(g directory.Group) error { ids = append(ids, g.ID); return nil }))
	require.Equal(t, []string{"g1", "g2"}, ids)
	gg, _ := s.GetGroup(ctx(t), tid, "g2")
	require.Equal(t, directory.GroupMicrosoft365, gg.Kind())
}

func memberships(t *testing.T, s warehouse.Store) []string {
	var out []string
	require.NoError(t, s.ScanMemberships(ctx(t), tid, func(m directory.Membership) error {
		out = append(out, fmt.Sprintf("%s>%s:%s", m.GroupID, m.MemberID, m.MemberType))
		return nil
	}))
	return out
}

func testMemberships(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	const guid = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	ms := []directory.Membership{
		{GroupID: "g1", MemberID: "u1", MemberType: directory.MemberUser},
		{GroupID: "g1", MemberID: "u2", MemberType: directory.MemberUser},
		{GroupID: "g1", MemberID: "g2", MemberType: directory.MemberGroup},
		{GroupID: "g2", MemberID: "u3", MemberType: directory.MemberUser},
		{GroupID: "g2", MemberID: "u3", MemberType: directory.MemberUser}, // duplicate in batch
		{GroupID: "g2", MemberID: guid, MemberType: directory.MemberDevice},
		{GroupID: "g2", MemberID: "Upper-Case-Id", MemberType: "#microsoft.graph.somethingNew"},
	}
	require.NoError(t, s.UpsertMemberships(ctx(t), tid, ms))
	require.Equal(t, []string{"g1>g2:group", "g1>u1:user", "g1>u2:user", "g2>" + guid + ":device",
		"g2>Upper-Case-Id:#microsoft.graph.somethingNew", "g2>u3:user"}, memberships(t, s),
		"ids and types of every kind come back as stored, in group and member order")

	// Adding to a group that has members merges; adding again changes nothing.
	require.NoError(t, s.UpsertMemberships(ctx(t), tid, []directory.Membership{
		{GroupID: "g1", MemberID: "u0", MemberType: directory.MemberUser},
		{GroupID: "g1", MemberID: "u2", MemberType: directory.MemberUser}}))
	require.NoError(t, s.DeleteMemberships(ctx(t), tid, []directory.Membership{{GroupID: "g1", MemberID: "u1"}, {GroupID: "g9", MemberID: "x"}}))
	require.Equal(t, []string{"g1>g2:group", "g1>u0:user", "g1>u2:user", "g2>" + guid + ":device",
		"g2>Upper-Case-Id:#microsoft.graph.somethingNew", "g2>u3:user"}, memberships(t, s))

	// The other direction: a member's groups.
	for member, want := range map[string][]string{"u2": {"g1"}, "g2": {"g1"}, "u3": {"g2"}, "u1": {}, "nobody": {}} {
		got, err := s.UserGroupIDs(ctx(t), tid, member)
		require.NoError(t, err)
		require.ElementsMatch(t, want, got, member)
	}
	g1, err := s.GroupMembers(ctx(t), tid, "g1")
	require.NoError(t, err)
	require.Equal(t, []directory.Membership{{TenantID: tid, GroupID: "g1", MemberID: "g2", MemberType: directory.MemberGroup},
		{TenantID: tid, GroupID: "g1", MemberID: "u0", MemberType: directory.MemberUser},
		{TenantID: tid, GroupID: "g1", MemberID: "u2", MemberType: directory.MemberUser}}, g1)
	none, err := s.GroupMembers(ctx(t), tid, "g9")
	require.NoError(t, err)
	require.Empty(t, none)
	counts, err := s.CountMembers(ctx(t), tid, []string{"g1", "g2", "g9"}, 0)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"g1": 3, "g2": 3, "g9": 0}, counts)

	// Removing a group's last member leaves no trace of it.
	require.NoError(t, s.DeleteMemberships(ctx(t), tid, []directory.Membership{{GroupID: "g1", MemberID: "u0"},
		{GroupID: "g1", MemberID: "u2"}, {GroupID: "g1", MemberID: "g2"}}))
	require.Equal(t, []string{"g2>" + guid + ":device", "g2>Upper-Case-Id:#microsoft.graph.somethingNew", "g2>u3:user"},
		memberships(t, s))
	got, err := s.UserGroupIDs(ctx(t), tid, "u2")
	require.NoError(t, err)
	require.Empty(t, got)

	c, err := s.Counts(ctx(t), tid)
	require.NoError(t, err)
	require.EqualValues(t, 3, c.Memberships)
	require.Error(t, s.UpsertMemberships(ctx(t), tid, []directory.Membership{{GroupID: "g1"}}), "a membership needs a member")
}

// A full round replaces all of the tenant's memberships at once, and the
// latest entry per membership decides.
func testReplaceMemberships(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	u := func(g, m string) directory.Membership {
		return directory.Membership{GroupID: g, MemberID: m, MemberType: directory.MemberUser}
	}
	require.NoError(t, s.UpsertMemberships(ctx(t), tid, []directory.Membership{u("g1", "old"), u("g9", "gone")}))
	require.NoError(t, s.UpsertMemberships(ctx(t), "other", []directory.Membership{u("g1", "theirs")}))

	var set warehouse.MembershipSet
	set.Add("g2", "u2", directory.MemberUser)
	set.Add("g1", "u1", directory.MemberUser)
	set.Add("g1", "u1", directory.MemberUser)
	set.Add("g1", "g2", directory.MemberGroup)
	n, err := s.ReplaceMemberships(ctx(t), tid, &set)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	require.Equal(t, []string{"g1>g2:group", "g1>u1:user", "g2>u2:user"}, memberships(t, s))
	groups, err := s.UserGroupIDs(ctx(t), tid, "old")
	require.NoError(t, err)
	require.Empty(t, groups, "replaced memberships are gone from both directions")
	groups, err = s.UserGroupIDs(ctx(t), tid, "u1")
	require.NoError(t, err)
	require.Equal(t, []string{"g1"}, groups)

	// A removal reported later in the round wins over the add before it,
	// and an add after a removal wins over it. A set resolved beforehand
	// (off the writer's path) is written the same.
	set = warehouse.MembershipSet{}
	set.Add("g1", "u1", directory.MemberUser)
	set.Add("g1", "u3", directory.MemberUser)
	set.Remove("g1", "u1")
	set.Remove("g1", "u4")
	set.Add("g1", "u4", directory.MemberUser)
	set.Resolve()
	set.Resolve()
	_, err = s.ReplaceMemberships(ctx(t), tid, &set)
	require.NoError(t, err)
	late := warehouse.MembershipSet{}
	late.Add("g1", "u1", directory.MemberUser)
	late.Resolve()
	late.Add("g1", "u9", directory.MemberUser)
	_, err = s.ReplaceMemberships(ctx(t), tid, &late)
	require.ErrorIs(t, err, warehouse.ErrSetResolved, "a member added after Resolve is not silently lost")
	require.Equal(t, []string{"g1>u3:user", "g1>u4:user"}, memberships(t, s))

	// A later round that changes little: an unchanged group, a member
	// whose type changed, a new group; what the round no longer has goes.
	set = warehouse.MembershipSet{}
	set.Add("g1", "u3", directory.MemberUser)
	set.Add("g1", "u4", directory.MemberDevice)
	set.Add("g5", "u3", directory.MemberUser)
	_, err = s.ReplaceMemberships(ctx(t), tid, &set)
	require.NoError(t, err)
	require.Equal(t, []string{"g1>u3:user", "g1>u4:device", "g5>u3:user"}, memberships(t, s))
	groups, err = s.UserGroupIDs(ctx(t), tid, "u3")
	require.NoError(t, err)
	require.Equal(t, []string{"g1", "g5"}, groups)
	groups, err = s.UserGroupIDs(ctx(t), tid, "u1")
	require.NoError(t, err)
	require.Empty(t, groups)

	n, err = s.ReplaceMemberships(ctx(t), tid, &warehouse.MembershipSet{})
	require.NoError(t, err)
	require.Zero(t, n)
	require.Empty(t, memberships(t, s), "a full round that read no members leaves none")
	var theirs []string
	require.NoError(t, s.ScanMemberships(ctx(t), "other", func(m directory.Membership) error {
		theirs = append(theirs, m.GroupID+">"+m.MemberID)
		return nil
	}))
	require.Equal(t, []string{"g1>theirs"}, theirs, "another tenant's memberships are left alone")
}

func testMarkDeleted(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	require.NoError(t, s.UpsertUsers(ctx(t), tid, []directory.User{fullUser("u1"), fullUser("u2")}))
	require.NoError(t, s.UpsertGroups(ctx(t), tid, []directory.Group{{ID: "g1"}, {ID: "g2"}}))
	require.NoError(t, s.UpsertMemberships(ctx(t), tid, []directory.Membership{
		{GroupID: "g1", MemberID: "u1", MemberType: directory.MemberUser},
		{GroupID: "g1", MemberID: "u2", MemberType: directory.MemberUser},
		{GroupID: "g2", MemberID: "g1", MemberType: directory.MemberGroup},
	}))
	require.NoError(t, s.ReplaceLicenseStates(ctx(t), tid, []string{"u1"}, []directory.LicenseState{{UserID: "u1", SkuID: "s1", State: "Active"}}))

	require.NoError(t, s.MarkUsersDeleted(ctx(t), tid, []string{"u1"}, time.Now()))
	require.Equal(t, []string{"g1>u2:user", "g2>g1:group"}, memberships(t, s))
	live, err := s.LiveIDs(ctx(t), tid, warehouse.LiveUsers)
	require.NoError(t, err)
	require.Equal(t, []string{"u2"}, live)
	licensed, err := s.LiveIDs(ctx(t), tid, warehouse.LicensedUser)
	require.NoError(t, err)
	require.Empty(t, licensed, "a deleted user's license states are gone")
	c, err := s.Counts(ctx(t), tid)
	require.NoError(t, err)
	require.EqualValues(t, 1, c.Users, "deleted users are kept but not counted")
	require.EqualValues(t, 0, c.LicenseStates)

	require.NoError(t, s.MarkGroupsDeleted(ctx(t), tid, []string{"g1"}, time.Now()))
	groups, err := s.GetGroups(ctx(t), tid, []string{"g1", "g2"})
	require.NoError(t, err)
	require.Len(t, groups, 2)
	require.True(t, groups[0].Deleted)
	liveGroups, err := s.LiveIDs(ctx(t), tid, warehouse.LiveGroups)
	require.NoError(t, err)
	require.Equal(t, []string{"g2"}, liveGroups)
	require.Empty(t, memberships(t, s), "a deleted group loses its members and its own memberships")
	c, _ = s.Counts(ctx(t), tid)
	require.EqualValues(t, 1, c.Groups)
}

func testLicenseStates(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	states := []directory.LicenseState{
		{UserID: "u1", SkuID: "e5", State: directory.StateActive, DisabledPlans: []string{"p1", "p2"}, LastUpdated: ts("2026-01-01T00:00:00Z")},
		{UserID: "u1", SkuID: "e5", AssignedByGroup: "g1", State: directory.StateError, Error: directory.ErrCountViolation, DisabledPlans: []string{}},
		{UserID: "u2", SkuID: "e3", State: directory.StateActive, DisabledPlans: []string{}},
	}
	require.NoError(t, s.ReplaceLicenseStates(ctx(t), tid, []string{"u1", "u2"}, states))
	var got []directory.LicenseState
	require.NoError(t, s.ScanLicenseStates(ctx(t), tid, func(l directory.LicenseState) error { got = append(got, l); return nil }))
	for i := range states {
		states[i].TenantID = tid
	}
	require.Equal(t, states, got, "direct and group-inherited rows of one SKU are kept apart")
	require.True(t, got[0].Direct())
	require.False(t, got[1].Direct())

	// Replacing u1 only leaves u2 alone.
	require.NoError(t, s.ReplaceLicenseStates(ctx(t), tid, []string{"u1"}, nil))
	got = nil
	require.NoError(t, s.ScanLicenseStates(ctx(t), tid, func(l directory.LicenseState) error { got = append(got, l); return nil }))
	require.Equal(t, states[2:], got)

	// A state of a user not being replaced is refused, and nothing changes.
	err := s.ReplaceLicenseStates(ctx(t), tid, []string{"u1"}, []directory.LicenseState{{UserID: "u2", SkuID: "e5"}})
	require.ErrorIs(t, err, directory.ErrInvalid)
	got = nil
	require.NoError(t, s.ScanLicenseStates(ctx(t), tid, func(l directory.LicenseState) error { got = append(got, l); return nil }))
	require.Equal(t, states[2:], got)

	// Replacing states with the same ones again is fine.
	require.NoError(t, s.ReplaceLicenseStates(ctx(t), tid, []string{"u2"}, []directory.LicenseState{states[2], states[2]}))

	// Adding states (a first sync) stores them beside the others, repeats
	// in one call included; adding one whose key is stored fails and
	// stores nothing of its call, inside a transaction too.
	require.NoError(t, s.AddLicenseStates(ctx(t), tid, []directory.LicenseState{states[0], states[1], states[0]}))
	scan := func() []directory.LicenseState {
		var out []directory.LicenseState
		require.NoError(t, s.ScanLicenseStates(ctx(t), tid, func(l directory.LicenseState) error { out = append(out, l); return nil }))
		return out
	}
	require.Equal(t, states, scan())
	u3 := directory.LicenseState{TenantID: tid, UserID: "u3", SkuID: "e3", State: directory.StateActive, DisabledPlans: []string{}}
	err = s.AddLicenseStates(ctx(t), tid, []directory.LicenseState{u3, states[2]})
	require.ErrorIs(t, err, warehouse.ErrAlreadyExists)
	require.Equal(t, states, scan(), "u3 was not stored either")
	err = s.InTx(ctx(t), func(tx warehouse.Tx) error {
		return tx.AddLicenseStates(ctx(t), tid, []directory.LicenseState{u3, states[1]})
	})
	require.ErrorIs(t, err, warehouse.ErrAlreadyExists)
	require.Equal(t, states, scan())
	require.NoError(t, s.AddLicenseStates(ctx(t), tid, []directory.LicenseState{u3}))
	require.Equal(t, append(slices.Clone(states), u3), scan())
}

func testSkus(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	sku := directory.Sku{SkuID: "06ebc4ee-1bb5-47dd-8120-11324bc54e06", SkuPartNumber: "SPE_E5", DisplayName: "Microsoft 365 E5",
		CapabilityStatus: "Enabled", AppliesTo: "User", ConsumedUnits: 95, PrepaidEnabled: 100, PrepaidWarning: 5,
		ServicePlans: []directory.ServicePlan{{ServicePlanID: "efb87545-963c-4e0d-99df-69c6916d9eb0",
			ServicePlanName: "EXCHANGE_S_ENTERPRISE", ProvisioningStatus: "Success", AppliesTo: "User"}}}
	require.NoError(t, s.UpsertSkus(ctx(t), tid, []directory.Sku{sku}))
	require.NoError(t, s.SetSkuPrice(ctx(t), tid, sku.SkuID, 5700, "USD"))

	sku.ConsumedUnits = 99
	require.NoError(t, s.UpsertSkus(ctx(t), tid, []directory.Sku{sku}))
	got, err := s.ListSkus(ctx(t), tid)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, 99, got[0].ConsumedUnits)
	require.Equal(t, 1, got[0].Available())
	require.EqualValues(t, 5700, got[0].MonthlyPriceCents, "a re-sync keeps the configured price")
	require.Equal(t, "USD", got[0].Currency)
	require.Equal(t, sku.ServicePlans, got[0].ServicePlans)

	require.ErrorIs(t, s.SetSkuPrice(ctx(t), tid, "nope", 1, "USD"), warehouse.ErrNotFound)
	require.ErrorIs(t, s.SetSkuPrice(ctx(t), tid, sku.SkuID, -1, "USD"), directory.ErrInvalid)
}

func testMailboxes(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	require.NoError(t, s.UpsertMailboxes(ctx(t), tid, []directory.Mailbox{
		{UserID: "u2", PrimarySMTPAddress: "b@x", Type: directory.MailboxShared},
		{UserID: "u1", PrimarySMTPAddress: "a@x", Type: directory.MailboxUser},
	}))
	require.NoError(t, s.UpsertMailboxes(ctx(t), tid, []directory.Mailbox{{UserID: "u1", PrimarySMTPAddress: "a@x", Type: directory.MailboxShared}}))
	got, err := s.ListMailboxes(ctx(t), tid)
	require.NoError(t, err)
	require.Equal(t, []directory.Mailbox{
		{TenantID: tid, UserID: "u1", PrimarySMTPAddress: "a@x", Type: directory.MailboxShared},
		{TenantID: tid, UserID: "u2", PrimarySMTPAddress: "b@x", Type: directory.MailboxShared},
	}, got)
}

func testInbox(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	body := json.RawMessage(`{"value":[{"id":"u1"}],"@odata.nextLink":"https://x/?$skiptoken=1"}`)
	ids, err := s.PutInboxPages(ctx(t), []warehouse.InboxPage{
		{TenantID: tid, Resource: "users", Round: "r1", Seq: 0, Body: body},
		{TenantID: tid, Resource: "users", Round: "r1", Seq: 1, Body: json.RawMessage(`{"value":[]}`)},
		{TenantID: "other", Resource: "users", Round: "r9", Seq: 0, Body: json.RawMessage(`{}`)},
	})
	require.NoError(t, err)
	require.Len(t, ids, 3)

	got, err := s.ClaimInboxPages(ctx(t), tid, "worker-a", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 2, "only this tenant's pages")
	require.Equal(t, ids[0], got[0].ID)
	require.Equal(t, "worker-a", got[0].ClaimedBy)
	require.Equal(t, 1, got[0].Attempts)
	require.Nil(t, got[0].Body, "a claim does not read bodies")

	// Bodies are read one at a time, appended to the caller's buffer.
	buf := append(make([]byte, 0, 8), "kept"...)
	read, err := s.InboxPageBody(ctx(t), got[0].ID, buf)
	require.NoError(t, err)
	require.Equal(t, "kept"+string(body), string(read), "exactly the stored bytes, after the caller's")
	read, err = s.InboxPageBody(ctx(t), got[1].ID, read[:0])
	require.NoError(t, err)
	require.Equal(t, `{"value":[]}`, string(read))
	_, err = s.InboxPageBody(ctx(t), ids[2]+1000, nil)
	require.ErrorIs(t, err, warehouse.ErrNotFound)

	// Leased pages are invisible to another worker until the lease runs out.
	again, err := s.ClaimInboxPages(ctx(t), tid, "worker-b", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, again)

	// A released page (failed processing) is claimable again, with its error kept.
	require.NoError(t, s.ReleaseInboxPage(ctx(t), got[1].ID, "decode: unexpected EOF"))
	again, err = s.ClaimInboxPages(ctx(t), tid, "worker-b", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, again, 1)
	require.Equal(t, 2, again[0].Attempts)
	require.Equal(t, "decode: unexpected EOF", again[0].LastError)

	// Expired lease: a crashed worker's page comes back.
	_, err = s.ClaimInboxPages(ctx(t), "other", "w", 1, -time.Second)
	require.NoError(t, err)
	back, err := s.ClaimInboxPages(ctx(t), "other", "w2", 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, back, 1)

	require.NoError(t, s.DeleteInboxPages(ctx(t), []int64{got[0].ID}))
	_, err = s.InboxPageBody(ctx(t), got[0].ID, nil)
	require.ErrorIs(t, err, warehouse.ErrNotFound, "a deleted page's body goes with it")
	require.ErrorIs(t, s.DeleteInboxPages(ctx(t), []int64{got[0].ID, got[1].ID}), warehouse.ErrNotFound,
		"one of the pages is gone")
	require.NoError(t, s.DeleteInboxPages(ctx(t), nil))

	// Purging drops what an interrupted sync left, for that tenant only.
	n, err := s.PurgeInbox(ctx(t), tid)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	_, err = s.InboxPageBody(ctx(t), got[1].ID, nil)
	require.ErrorIs(t, err, warehouse.ErrNotFound)
	read, err = s.InboxPageBody(ctx(t), ids[2], nil)
	require.NoError(t, err, "another tenant's page stays")
	require.Equal(t, "{}", string(read))
	n, err = s.PurgeInbox(ctx(t), "other")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

// One tenant's sync purges the inbox as it starts while another tenant's
// fetchers store pages: every stored page keeps its body. (On SQLite a body
// is a file written before its row commits, and a purge that swept files
// outside the inbox's lock deleted such bodies.)
func testInboxPurgeBesidePuts(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	const pages = 600
	// Large bodies widen the moment between a body's write and its row's
	// commit, where the race was; only SQLite keeps bodies in files.
	pad := strings.Repeat("x", 1<<10)
	if s.Backend() == warehouse.SQLite {
		pad = strings.Repeat("x", 256<<10)
	}
	done := make(chan error, 1)
	go func() {
		for i := range pages {
			body := json.RawMessage(fmt.Sprintf(`{"value":[],"n":%d,"pad":"%s"}`, i, pad))
			if _, err := s.PutInboxPages(ctx(t), []warehouse.InboxPage{{TenantID: tid, Resource: "users", Round: "r",
				Seq: i, Body: body}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	purges := 0
	for running := true; running; purges++ {
		select {
		case err := <-done:
			require.NoError(t, err)
			running = false
		default:
		}
		_, err := s.PurgeInbox(ctx(t), "other")
		require.NoError(t, err)
	}
	got, err := s.ClaimInboxPages(ctx(t), tid, "w", 2*pages, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, pages)
	var buf []byte
	for _, p := range got {
		buf, err = s.InboxPageBody(ctx(t), p.ID, buf[:0])
		require.NoError(t, err, "page %d lost its body to %d purges of another tenant", p.Seq, purges)
		require.Equal(t, fmt.Sprintf(`{"value":[],"n":%d,"pad":"%s"}`, p.Seq, pad), string(buf))
	}
}

// Fetchers store pages while the processor holds a warehouse transaction
// open: the inbox must not wait for it (on SQLite it has a file, and a
// writer, of its own), or fetching stops whenever pages are being applied.
func testInboxBesideOpenTransaction(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	c, cancel := context.WithTimeout(ctx(t), 10*time.Second)
	defer cancel()
	err := s.InTx(c, func(tx warehouse.Tx) error {
		if err := tx.UpsertUsers(c, tid, []directory.User{{ID: "u1", DisplayName: "One"}}); err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.PutInboxPages(c, []warehouse.InboxPage{{TenantID: tid, Resource: "users", Round: "r", Seq: 1,
				Body: json.RawMessage(`{"value":[]}`)}})
			done <- err
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			return errors.New("storing an inbox page waited for the open warehouse transaction")
		}
	})
	require.NoError(t, err)
	pages, err := s.ClaimInboxPages(ctx(t), tid, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, pages, 1)
}

func testInboxConcurrentClaims(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	const n = 60
	pages := make([]warehouse.InboxPage, n)
	for i := range pages {
		pages[i] = warehouse.InboxPage{TenantID: tid, Resource: "users", Round: "r", Seq: i, Body: json.RawMessage(`{}`)}
	}
	_, err := s.PutInboxPages(ctx(t), pages)
	require.NoError(t, err)

	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("w%d", w)
			for {
				got, err := s.ClaimInboxPages(ctx(t), tid, owner, 3, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, p := range got {
					if prev, dup := seen[p.ID]; dup {
						errs <- fmt.Errorf("page %d claimed by %s and %s", p.ID, prev, owner)
					}
					seen[p.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, n)
}

func testSyncState(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	_, err := s.GetSyncState(ctx(t), tid, "users")
	require.ErrorIs(t, err, warehouse.ErrNotFound)
	st := warehouse.SyncState{TenantID: tid, Resource: "users", DeltaLink: "https://graph/v1.0/users/delta?$deltatoken=abc",
		LastFullAt: ts("2026-11-20T00:00:00Z")}
	require.NoError(t, s.PutSyncState(ctx(t), st))
	st.LastDeltaAt, st.DeltaLink = ts("2026-11-21T00:00:00Z"), "https://graph/v1.0/users/delta?$deltatoken=def"
	require.NoError(t, s.PutSyncState(ctx(t), st))
	got, err := s.GetSyncState(ctx(t), tid, "users")
	require.NoError(t, err)
	require.Equal(t, st.DeltaLink, got.DeltaLink)
	require.Equal(t, *st.LastFullAt, *got.LastFullAt)
	require.Equal(t, *st.LastDeltaAt, *got.LastDeltaAt)
	require.False(t, got.UpdatedAt.IsZero())
}

func testPools(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	p, err := s.PutPool(ctx(t), warehouse.PoolRecord{TenantID: tid, Name: "e5-sales", Spec: json.RawMessage(`{"skus":["SPE_E5"]}`)})
	require.NoError(t, err)
	require.EqualValues(t, 1, p.Version)
	p, err = s.PutPool(ctx(t), warehouse.PoolRecord{TenantID: tid, Name: "e5-sales", Spec: json.RawMessage(`{"skus":["SPE_E3"]}`)})
	require.NoError(t, err)
	require.EqualValues(t, 2, p.Version, "every save is a new revision")

	_, err = s.PutPool(ctx(t), warehouse.PoolRecord{TenantID: tid, Name: "broken", Spec: json.RawMessage(`{`)})
	require.ErrorIs(t, err, directory.ErrInvalid)
	_, err = s.PutPool(ctx(t), warehouse.PoolRecord{TenantID: tid, Name: " ", Spec: json.RawMessage(`{}`)})
	require.ErrorIs(t, err, directory.ErrInvalid)

	got, err := s.GetPool(ctx(t), tid, "e5-sales")
	require.NoError(t, err)
	require.JSONEq(t, `{"skus":["SPE_E3"]}`, string(got.Spec))
	list, err := s.ListPools(ctx(t), tid)
	require.NoError(t, err)
	require.Len(t, list, 1)
	c, _ := s.Counts(ctx(t), tid)
	require.EqualValues(t, 1, c.Pools)

	require.NoError(t, s.DeletePool(ctx(t), tid, "e5-sales"))
	require.ErrorIs(t, s.DeletePool(ctx(t), tid, "e5-sales"), warehouse.ErrNotFound)
	_, err = s.GetPool(ctx(t), tid, "e5-sales")
	require.ErrorIs(t, err, warehouse.ErrNotFound)
}

func testAudit(t *testing.T, h Harness, s warehouse.Store) {
	addTenant(t, s)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var recs []warehouse.AuditRecord
	for i := range 5 {
		recs = append(recs, warehouse.AuditRecord{At: base.Add(time.Duration(i) * time.Hour), TenantID: tid,
			Actor: []string{"alice", "bob"}[i%2], Action: "license.add", TargetType: "user", TargetID: fmt.Sprintf("u%d", i),
			RequestID: "req-1", Reason: "pool e5", Detail: json.RawMessage(`{"before":null,"after":"SPE_E5"}`)})
	}
	require.NoError(t, s.AppendAudit(ctx(t), recs))
	require.ErrorIs(t, s.AppendAudit(ctx(t), []warehouse.AuditRecord{{Action: "x"}}), directory.ErrInvalid)

	all, err := s.ListAudit(ctx(t), warehouse.AuditFilter{TenantID: tid})
	require.NoError(t, err)
	require.Len(t, all, 5)
	require.Equal(t, "u4", all[0].TargetID, "newest first")
	require.JSONEq(t, `{"before":null,"after":"SPE_E5"}`, string(all[0].Detail))

	alice, err := s.ListAudit(ctx(t), warehouse.AuditFilter{Actor: "alice", Since: base.Add(time.Hour)})
	require.NoError(t, err)
	require.Len(t, alice, 2)
	page, err := s.ListAudit(ctx(t), warehouse.AuditFilter{TenantID: tid, BeforeID: all[1].ID, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"u2", "u1"}, []string{page[0].TargetID, page[1].TargetID})

	// The database itself refuses to rewrite history, whoever asks.
	require.Error(t, h.Exec(ctx(t), s, "UPDATE audit SET actor = 'mallory'"))
	require.Error(t, h.Exec(ctx(t), s, "DELETE FROM audit"))
	all, _ = s.ListAudit(ctx(t), warehouse.AuditFilter{})
	require.Len(t, all, 5)
	require.NotEqual(t, "mallory", all[0].Actor)
}

func testTransactions(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	boom := errors.New("boom")
	err := s.InTx(ctx(t), func(tx warehouse.Tx) error {
		require.NoError(t, tx.UpsertUsers(ctx(t), tid, []directory.User{fullUser("u1")}))
		// Reads inside the transaction see its own writes.
		_, err := tx.GetUser(ctx(t), tid, "u1")
		require.NoError(t, err)
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = s.GetUser(ctx(t), tid, "u1")
	require.ErrorIs(t, err, warehouse.ErrNotFound, "a rolled-back transaction leaves nothing")

	require.NoError(t, s.InTx(ctx(t), func(tx warehouse.Tx) error {
		if err := tx.UpsertUsers(ctx(t), tid, []directory.User{fullUser("u1")}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx(t), []warehouse.AuditRecord{{Actor: "sync", Action: "user.create", TargetID: "u1"}})
	}))
	_, err = s.GetUser(ctx(t), tid, "u1")
	require.NoError(t, err)
}

func testBulkUpsert(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	const n = 5000
	users := make([]directory.User, n)
	ms := make([]directory.Membership, 0, n*2)
	for i := range users {
		users[i] = directory.User{ID: fmt.Sprintf("u%05d", i), UserPrincipalName: fmt.Sprintf("u%05d@x", i), AccountEnabled: i%7 != 0}
		ms = append(ms, directory.Membership{GroupID: fmt.Sprintf("g%02d", i%50), MemberID: users[i].ID, MemberType: directory.MemberUser})
	}
	// The same user again, chunks later, on a tenant with no rows yet: the
	// last occurrence wins, as within one chunk.
	dup := users[10]
	dup.Department = "Last wins"
	require.NoError(t, s.UpsertUsers(ctx(t), tid, append(users, dup)))
	got, err := s.GetUser(ctx(t), tid, dup.ID)
	require.NoError(t, err)
	require.Equal(t, "Last wins", got.Department)
	require.NoError(t, s.UpsertMemberships(ctx(t), tid, ms))
	require.NoError(t, s.UpsertUsers(ctx(t), tid, users[:n/2]), "re-upserting is idempotent")
	c, err := s.Counts(ctx(t), tid)
	require.NoError(t, err)
	require.EqualValues(t, n, c.Users)
	require.EqualValues(t, n, c.Memberships)
	var last string
	count := 0
	require.NoError(t, s.ScanUsers(ctx(t), tid, func(u directory.User) error {
		if u.ID <= last {
			return fmt.Errorf("scan out of order: %s after %s", u.ID, last)
		}
		last = u.ID
		count++
		return nil
	}))
	require.Equal(t, n, count)
}
