package graphsim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// This file is the state API: what tests in other packages compare their
// results against, and how they play HR. Reads return copies in allot's
// domain types; mutations go through the same code paths as Graph writes,
// so delta, seat accounting and dynamic groups react to them identically.

func timePtr(unix int64) *time.Time {
	if unix == 0 {
		return nil
	}
	t := time.Unix(unix, 0).UTC()
	return &t
}

func (s *Server) toUser(u *user) directory.User {
	t := s.t
	d := directory.User{
		ID: u.id, TenantID: t.id, UserPrincipalName: u.upn, DisplayName: u.displayName,
		GivenName: u.givenName, Surname: u.surname, Mail: u.mail, MailNickname: u.mailNickname,
		JobTitle: u.jobTitle, Department: u.department, CompanyName: u.companyName,
		EmployeeID: u.employeeID, EmployeeType: u.employeeType, EmployeeHireDate: timePtr(u.hireDate),
		OfficeLocation: u.officeLocation, StreetAddress: u.streetAddress, City: u.city, State: u.state,
		PostalCode: u.postalCode, Country: u.country, UsageLocation: u.usageLocation,
		PreferredLanguage: u.preferredLanguage, TelephoneNumber: u.businessPhone, MobilePhone: u.mobilePhone,
		UserType: u.userType, AccountEnabled: u.accountEnabled, OnPremisesImmutableID: u.onPremImmutableID,
		OnPremisesDistinguishedName: onPremDN(u), OnPremisesSecurityIdentifier: onPremSID(u),
		CreatedDateTime: timePtr(u.created), LastSignIn: timePtr(u.lastSignIn),
		LastNonInteractiveSignIn: timePtr(u.lastNonInteractive),
		LastSuccessfulSignIn:     timePtr(max(u.lastSignIn, u.lastNonInteractive)),
		Deleted:                  u.deleted, DeletedAt: timePtr(u.deletedAt),
	}
	if u.onPremSync {
		v := true
		d.OnPremisesSyncEnabled = &v
	}
	if u.manager >= 0 {
		d.ManagerID = t.users[u.manager].id
	}
	if u.userType == "Guest" {
		d.OtherMails = []string{u.mail}
	}
	if u.mailbox != mbNone && u.mail != "" {
		d.ProxyAddresses = []string{"SMTP:" + u.mail}
	}
	d.ExtensionAttributes[0] = u.extensionAttribute1
	for k := range u.licenses {
		l := &u.licenses[k]
		if !l.holdsSeat() {
			continue
		}
		for _, p := range t.skus[l.sku].p.plans {
			status := "Enabled"
			if slices.Contains(l.disabled, p.id) {
				status = "Deleted"
			}
			d.AssignedPlans = append(d.AssignedPlans, directory.AssignedPlan{
				ServicePlanID: p.id, Service: serviceOf(p.name), CapabilityStatus: status, AssignedDateTime: timePtr(l.updated),
			})
		}
	}
	return d
}

func (s *Server) toGroup(g *group) directory.Group {
	t := s.t
	d := directory.Group{
		ID: g.id, TenantID: t.id, DisplayName: g.displayName, Description: g.description, Mail: g.mail,
		MailNickname: g.mailNickname, MailEnabled: g.mailEnabled, SecurityEnabled: g.securityEnab,
		GroupTypes: slices.Clone(g.groupTypes), MembershipRule: g.membershipRule,
		MembershipRuleProcessingState: g.ruleState, LicenseProcessingState: g.licenseState,
		CreatedDateTime: timePtr(g.created), Deleted: g.deleted, DeletedAt: timePtr(g.deletedAt),
	}
	for _, l := range g.licenses {
		d.AssignedLicenses = append(d.AssignedLicenses, directory.AssignedLicense{
			SkuID: t.skus[l.sku].p.skuID, DisabledPlans: append([]string{}, l.disabled...)})
	}
	return d
}

func (s *Server) toMembership(g *group, m ref) directory.Membership {
	typ := directory.MemberUser
	if m < 0 {
		typ = directory.MemberGroup
	}
	return directory.Membership{TenantID: s.t.id, GroupID: g.id, MemberID: s.t.refID(m), MemberType: typ}
}

// TenantID is the simulated tenant's id (also in Info).
func (s *Server) TenantID() string { return s.t.id }

// Domain is the tenant's initial domain (name.onmicrosoft.com).
func (s *Server) Domain() string { return s.t.domain }

// Users returns every user that is not deleted, in generation order.
func (s *Server) Users() []directory.User {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	out := make([]directory.User, 0, len(s.t.users))
	for i := range s.t.users {
		if !s.t.users[i].deleted {
			out = append(out, s.toUser(&s.t.users[i]))
		}
	}
	return out
}

// User returns one user by id or userPrincipalName.
func (s *Server) User(id string) (directory.User, error) {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	i, ok := s.t.lookupUser(id)
	if !ok {
		return directory.User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	return s.toUser(&s.t.users[i]), nil
}

// Groups returns every group that is not deleted.
func (s *Server) Groups() []directory.Group {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	out := make([]directory.Group, 0, len(s.t.groups))
	for i := range s.t.groups {
		if !s.t.groups[i].deleted {
			out = append(out, s.toGroup(&s.t.groups[i]))
		}
	}
	return out
}

// Group returns one group by id.
func (s *Server) Group(id string) (directory.Group, error) {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	g, ok := s.t.lookupGroup(id)
	if !ok {
		return directory.Group{}, fmt.Errorf("group %q: %w", id, ErrNotFound)
	}
	return s.toGroup(&s.t.groups[g]), nil
}

// Members returns the direct members of a group.
func (s *Server) Members(groupID string) ([]directory.Membership, error) {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	g, ok := s.t.lookupGroup(groupID)
	if !ok {
		return nil, fmt.Errorf("group %q: %w", groupID, ErrNotFound)
	}
	gr := &s.t.groups[g]
	out := make([]directory.Membership, 0, len(gr.members))
	for _, m := range gr.members {
		out = append(out, s.toMembership(gr, m))
	}
	return out, nil
}

// Memberships returns every direct membership of every group.
func (s *Server) Memberships() []directory.Membership {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	var out []directory.Membership
	for i := range s.t.groups {
		gr := &s.t.groups[i]
		if gr.deleted {
			continue
		}
		for _, m := range gr.members {
			out = append(out, s.toMembership(gr, m))
		}
	}
	return out
}

// MembershipCount is the number of direct memberships, cheaper than
// len(Memberships()) on a big tenant.
func (s *Server) MembershipCount() int {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	n := 0
	for i := range s.t.groups {
		if !s.t.groups[i].deleted {
			n += len(s.t.groups[i].members)
		}
	}
	return n
}

// IsMember reports whether memberID is a direct member of groupID.
func (s *Server) IsMember(groupID, memberID string) bool {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	g, ok := s.t.lookupGroup(groupID)
	if !ok {
		return false
	}
	m, ok := s.t.lookupObject(memberID)
	return ok && s.t.isMember(g, m)
}

// Skus returns the subscribed SKUs with their seat counts.
func (s *Server) Skus() []directory.Sku {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	out := make([]directory.Sku, 0, len(s.t.skus))
	for k := range s.t.skus {
		sk := &s.t.skus[k]
		d := directory.Sku{
			TenantID: s.t.id, SkuID: sk.p.skuID, SkuPartNumber: sk.p.partNumber, DisplayName: sk.p.displayName,
			CapabilityStatus: sk.capability, AppliesTo: sk.appliesTo, ConsumedUnits: sk.consumed,
			PrepaidEnabled: sk.enabled, PrepaidSuspended: sk.suspended, PrepaidWarning: sk.warning, PrepaidLockedOut: sk.locked,
		}
		for _, p := range sk.p.plans {
			d.ServicePlans = append(d.ServicePlans, directory.ServicePlan{
				ServicePlanID: p.id, ServicePlanName: p.name, DisplayName: p.friendly, ProvisioningStatus: "Success", AppliesTo: "User"})
		}
		out = append(out, d)
	}
	return out
}

// SkuID returns the skuId of a part number such as "SPE_E3".
func (s *Server) SkuID(partNumber string) (string, error) {
	for k := range s.t.skus {
		if strings.EqualFold(s.t.skus[k].p.partNumber, partNumber) {
			return s.t.skus[k].p.skuID, nil
		}
	}
	return "", fmt.Errorf("sku %q: %w", partNumber, ErrNotFound)
}

// SetSeats sets a SKU's prepaidUnits.enabled, e.g. to exhaust it in a test.
func (s *Server) SetSeats(partNumber string, enabled int) error {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	for k := range s.t.skus {
		if strings.EqualFold(s.t.skus[k].p.partNumber, partNumber) {
			s.t.skus[k].enabled = enabled
			return nil
		}
	}
	return fmt.Errorf("sku %q: %w", partNumber, ErrNotFound)
}

func (s *Server) licenseStates(u *user) []directory.LicenseState {
	out := make([]directory.LicenseState, 0, len(u.licenses))
	for _, l := range u.licenses {
		d := directory.LicenseState{
			TenantID: s.t.id, UserID: u.id, SkuID: s.t.skus[l.sku].p.skuID,
			DisabledPlans: append([]string{}, l.disabled...), State: stateNames[l.state], Error: errNames[l.errc],
			LastUpdated: timePtr(l.updated),
		}
		if l.group >= 0 {
			d.AssignedByGroup = s.t.groups[l.group].id
		}
		out = append(out, d)
	}
	return out
}

// LicenseStates returns a user's licenseAssignmentStates (direct and
// inherited, including error states).
func (s *Server) LicenseStates(userID string) ([]directory.LicenseState, error) {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	i, ok := s.t.lookupUser(userID)
	if !ok {
		return nil, fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	return s.licenseStates(&s.t.users[i]), nil
}

// AllLicenseStates returns the license states of every user.
func (s *Server) AllLicenseStates() []directory.LicenseState {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	var out []directory.LicenseState
	for i := range s.t.users {
		if !s.t.users[i].deleted {
			out = append(out, s.licenseStates(&s.t.users[i])...)
		}
	}
	return out
}

func (s *Server) toMailbox(u *user) directory.Mailbox {
	typ := directory.MailboxUser
	if u.mailbox == mbShared {
		typ = directory.MailboxShared
	}
	return directory.Mailbox{TenantID: s.t.id, UserID: u.id, PrimarySMTPAddress: u.mail, Type: typ}
}

// Mailboxes returns every Exchange mailbox (user and shared).
func (s *Server) Mailboxes() []directory.Mailbox {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	var out []directory.Mailbox
	for i := range s.t.users {
		if u := &s.t.users[i]; u.mailbox != mbNone && !u.deleted {
			out = append(out, s.toMailbox(u))
		}
	}
	return out
}

// Mailbox returns a user's mailbox.
func (s *Server) Mailbox(userID string) (directory.Mailbox, error) {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	i, ok := s.t.lookupUser(userID)
	if !ok || s.t.users[i].mailbox == mbNone {
		return directory.Mailbox{}, fmt.Errorf("mailbox of %q: %w", userID, ErrNotFound)
	}
	return s.toMailbox(&s.t.users[i]), nil
}

// Counts are the sizes of the tenant, for quick comparisons.
type Counts struct {
	Users         int `json:"users"`
	Groups        int `json:"groups"`
	Memberships   int `json:"memberships"`
	Skus          int `json:"skus"`
	LicenseStates int `json:"license_states"`
	Mailboxes     int `json:"mailboxes"`
}

// Counts returns the current sizes of the tenant.
func (s *Server) Counts() Counts {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	c := Counts{Skus: len(s.t.skus)}
	for i := range s.t.users {
		u := &s.t.users[i]
		if u.deleted {
			continue
		}
		c.Users++
		c.LicenseStates += len(u.licenses)
		if u.mailbox != mbNone {
			c.Mailboxes++
		}
	}
	for i := range s.t.groups {
		if g := &s.t.groups[i]; !g.deleted {
			c.Groups++
			c.Memberships += len(g.members)
		}
	}
	return c
}

// simReq is the request context of a state-API mutation (source "sim").
func (s *Server) simReq(method, path string) *reqInfo {
	return &reqInfo{requestID: newUUID(newRand(time.Now().UnixNano() ^ seqNext())), source: "sim", method: method, path: path, now: time.Now()}
}

// asError turns a GraphError from a shared code path into an error value.
func asError(ge *GraphError) error {
	if ge == nil {
		return nil
	}
	return ge
}

// CreateUser adds a user as HR would (no password needed). ID is generated
// when empty; UserPrincipalName and DisplayName are required.
func (s *Server) CreateUser(u directory.User) (directory.User, error) {
	if u.UserPrincipalName == "" || u.DisplayName == "" {
		return directory.User{}, fmt.Errorf("create user: userPrincipalName and displayName are required: %w",
			badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'."))
	}
	nick := u.MailNickname
	if nick == "" {
		nick = strings.SplitN(u.UserPrincipalName, "@", 2)[0]
	}
	enabled := u.AccountEnabled
	p := &UserUpdate{
		AccountEnabled: &enabled, DisplayName: &u.DisplayName, UserPrincipalName: &u.UserPrincipalName,
		MailNickname: &nick, GivenName: strp(u.GivenName), Surname: strp(u.Surname), Mail: strp(u.Mail),
		JobTitle: strp(u.JobTitle), Department: strp(u.Department), CompanyName: strp(u.CompanyName),
		OfficeLocation: strp(u.OfficeLocation), City: strp(u.City), Country: strp(u.Country),
		UsageLocation: strp(u.UsageLocation), EmployeeID: strp(u.EmployeeID), EmployeeType: strp(u.EmployeeType),
		MobilePhone: strp(u.MobilePhone), PreferredLanguage: strp(u.PreferredLanguage), UserType: strp(u.UserType),
	}
	p.PasswordProfile = &struct {
		Password                      string `json:"password"`
		ForceChangePasswordNextSignIn bool   `json:"forceChangePasswordNextSignIn"`
	}{Password: "sim-generated"}
	if u.ManagerID != "" {
		p.ManagerBind = &u.ManagerID
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	if u.ID != "" {
		if _, taken := s.t.userByID.get(u.ID); taken {
			return directory.User{}, fmt.Errorf("create user %q: id already exists: %w", u.ID, badRequest("Another object with the same value for property id already exists."))
		}
	}
	i, ge := s.createUser(p)
	if ge != nil {
		return directory.User{}, fmt.Errorf("create user %q: %w", u.UserPrincipalName, ge)
	}
	nu := &s.t.users[i]
	if u.ID != "" {
		s.t.userByID.del(nu.id, i)
		nu.id = strings.ToLower(u.ID)
		s.t.userByID.set(nu.id, i)
	}
	if u.CreatedDateTime != nil {
		nu.created = u.CreatedDateTime.Unix()
	}
	if u.LastSignIn != nil {
		nu.lastSignIn = u.LastSignIn.Unix()
	}
	if u.LastNonInteractiveSignIn != nil {
		nu.lastNonInteractive = u.LastNonInteractiveSignIn.Unix()
	}
	nu.extensionAttribute1 = u.ExtensionAttributes[0]
	s.t.reevaluateDynamic(i, s.now())
	ri := s.simReq("POST", "/_sim/users")
	ri.record("createUser", nu.id, "", OutcomeApplied)
	s.flushWrites(ri, 201)
	return s.toUser(nu), nil
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// UpdateUser changes a user's properties as PATCH /users/{id} would;
// dynamic groups are re-evaluated and delta reports the change.
func (s *Server) UpdateUser(id string, u UserUpdate) error {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	i, ok := s.t.lookupUser(id)
	if !ok {
		return fmt.Errorf("update user %q: %w", id, ErrNotFound)
	}
	if ge := s.applyPatch(i, &u, false); ge != nil {
		return fmt.Errorf("update user %q: %w", id, ge)
	}
	ri := s.simReq("PATCH", "/_sim/users/"+id)
	ri.record("updateUser", s.t.users[i].id, "", OutcomeApplied)
	s.flushWrites(ri, 204)
	return nil
}

// SetDepartment moves a user to another department (a mover).
func (s *Server) SetDepartment(id, department string) error {
	return s.UpdateUser(id, UserUpdate{Department: &department})
}

// SetAccountEnabled enables or disables a user (a leaver is disabled).
func (s *Server) SetAccountEnabled(id string, enabled bool) error {
	return s.UpdateUser(id, UserUpdate{AccountEnabled: &enabled})
}

// DisableUser disables a user's account.
func (s *Server) DisableUser(id string) error { return s.SetAccountEnabled(id, false) }

// DeleteUser soft-deletes a user: memberships and licenses are released and
// delta reports the user as @removed.
func (s *Server) DeleteUser(id string) error {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	i, ok := s.t.lookupUser(id)
	if !ok {
		return fmt.Errorf("delete user %q: %w", id, ErrNotFound)
	}
	s.deleteUser(i)
	ri := s.simReq("DELETE", "/_sim/users/"+id)
	ri.record("deleteUser", s.t.users[i].id, "", OutcomeApplied)
	s.flushWrites(ri, 204)
	return nil
}

// AddMember adds a user or group to a group directly (dynamic groups
// refuse). ErrAlreadyMember when it already is one.
func (s *Server) AddMember(groupID, memberID string) error {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	g, ok := s.t.lookupGroup(groupID)
	if !ok {
		return fmt.Errorf("group %q: %w", groupID, ErrNotFound)
	}
	m, ok := s.t.lookupObject(memberID)
	if !ok {
		return fmt.Errorf("member %q: %w", memberID, ErrNotFound)
	}
	if s.t.groups[g].isDynamic() {
		return fmt.Errorf("group %q: %w", groupID, ErrDynamicGroup)
	}
	ri := s.simReq("POST", "/_sim/groups/"+groupID+"/members")
	defer s.flushWrites(ri, 204)
	if !s.t.addMember(g, m, s.now()) {
		ri.record("addMember", s.t.groups[g].id, s.t.refID(m), OutcomeDuplicate)
		return fmt.Errorf("add %q to %q: %w", memberID, groupID, ErrAlreadyMember)
	}
	ri.record("addMember", s.t.groups[g].id, s.t.refID(m), OutcomeApplied)
	return nil
}

// RemoveMember removes a direct member. ErrNotMember when it is not one.
func (s *Server) RemoveMember(groupID, memberID string) error {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	g, ok := s.t.lookupGroup(groupID)
	if !ok {
		return fmt.Errorf("group %q: %w", groupID, ErrNotFound)
	}
	m, ok := s.t.lookupObject(memberID)
	if !ok {
		return fmt.Errorf("member %q: %w", memberID, ErrNotFound)
	}
	if s.t.groups[g].isDynamic() {
		return fmt.Errorf("group %q: %w", groupID, ErrDynamicGroup)
	}
	ri := s.simReq("DELETE", "/_sim/groups/"+groupID+"/members/"+memberID)
	defer s.flushWrites(ri, 204)
	if !s.t.removeMember(g, m, s.now()) {
		ri.record("removeMember", s.t.groups[g].id, s.t.refID(m), OutcomeDuplicate)
		return fmt.Errorf("remove %q from %q: %w", memberID, groupID, ErrNotMember)
	}
	ri.record("removeMember", s.t.groups[g].id, s.t.refID(m), OutcomeApplied)
	return nil
}

// AssignLicense changes a user's direct licenses with assignLicense's
// checks; failures are *GraphError with Graph's status, code and message.
func (s *Server) AssignLicense(userID string, add []LicenseChange, remove []string) error {
	if ge := validateGUIDs(add, remove); ge != nil {
		return ge
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	i, ok := s.t.lookupUser(userID)
	if !ok {
		return fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	ri := s.simReq("POST", "/_sim/users/"+userID+"/assignLicense")
	ge := s.assignLicense(i, add, remove, ri)
	status := 200
	if ge != nil {
		status = ge.Status
	}
	s.flushWrites(ri, status)
	return asError(ge)
}

// SetMailboxType converts a user's mailbox (Shared or User), as
// Set-Mailbox -Type would.
func (s *Server) SetMailboxType(userID string, typ directory.MailboxType) error {
	want := mbUser
	switch typ {
	case directory.MailboxShared:
		want = mbShared
	case directory.MailboxUser:
	default:
		return fmt.Errorf("mailbox type %q: %w", typ, directory.ErrInvalid)
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	i, ok := s.t.lookupUser(userID)
	if !ok {
		return fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	s.t.users[i].mailbox = want
	s.t.users[i].ver = s.t.bump()
	return nil
}

// WaitLicenseProcessing blocks until no group-based license processing is
// pending (POST /groups/{id}/assignLicense work has finished).
func (s *Server) WaitLicenseProcessing() {
	for s.pending.Load() > 0 {
		time.Sleep(5 * time.Millisecond)
	}
}
