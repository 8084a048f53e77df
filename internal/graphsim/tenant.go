package graphsim

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// tenant is the simulated directory. Everything is indexed by int32 so that a
// million users and ten million memberships fit in a few hundred megabytes;
// ids and names are Go strings shared with the generator's tables wherever
// possible. One RWMutex guards it all: Graph reads are short (one page) and
// writes are tiny, so finer locking would buy nothing measurable.
type tenant struct {
	mu sync.RWMutex

	id, domain, orgName  string
	defaultUsageLocation string // the tenant's country; used by group-based licensing
	created              time.Time

	// seq orders every change; objects carry the seq of their last change
	// (ver) and delta tokens carry the seq they were issued at.
	seq int64

	skus   []sku
	skuIdx map[string]int // lower-case skuId → index

	users     []user
	userByID  *keyIndex
	userByUPN *keyIndex

	groups    []group
	groupByID map[string]int32
	dynamic   []dynamicGroup
}

type sku struct {
	p                                   *product
	enabled, suspended, warning, locked int
	consumed                            int
	capability                          string
	subscriptionID                      string
	appliesTo                           string
}

// License assignment states and errors, stored as small integers.
const (
	stActive uint8 = iota
	stActiveWithError
	stDisabled
	stError
)

var stateNames = [...]string{"Active", "ActiveWithError", "Disabled", "Error"}

const (
	errNone uint8 = iota
	errCount
	errMutex
	errDependency
	errLocation
	errUniqueness
	errOther
)

var errNames = [...]string{"", "CountViolation", "MutuallyExclusiveViolation", "DependencyViolation",
	"ProhibitedInUsageLocationViolation", "UniquenessViolation", "Other"}

// lic is one licenseAssignmentState of a user.
type lic struct {
	sku      int16
	state    uint8
	errc     uint8
	group    int32 // assigning group index, -1 when direct
	disabled []string
	updated  int64 // unix seconds
}

// holdsSeat reports whether the assignment consumes a unit of its SKU.
func (l *lic) holdsSeat() bool { return l.state != stError }

// Mailbox kinds (Exchange RecipientTypeDetails).
const (
	mbNone uint8 = iota
	mbUser
	mbShared
)

// user holds every property the simulator serves. Unset strings are "",
// rendered as null.
type user struct {
	id                                        string
	upn, displayName, givenName, surname      string
	mail, mailNickname                        string
	jobTitle, department, companyName         string
	officeLocation, streetAddress, city       string
	state, postalCode, country, usageLocation string
	preferredLanguage, mobilePhone            string
	businessPhone                             string
	employeeID, employeeType                  string
	userType                                  string // Member or Guest
	creationType, externalUserState           string
	extensionAttribute1                       string // cost centre
	onPremImmutableID                         string
	accountEnabled                            bool
	onPremSync                                bool
	deleted                                   bool
	mailbox                                   uint8
	created, hireDate, deletedAt              int64 // unix seconds; 0 = null
	lastSignIn, lastNonInteractive            int64 // 0 = never
	manager                                   int32 // -1 = none
	licenses                                  []lic
	memberOf                                  []int32 // direct group memberships (group indexes)
	ver                                       int64
}

// ref is a member reference: ≥0 a user index, <0 a group index g as -(g+1).
type ref = int32

func userRef(i int32) ref  { return i }
func groupRef(g int32) ref { return -(g + 1) }
func refGroup(r ref) int32 { return -r - 1 }

type groupLicense struct {
	sku      int16
	disabled []string
}

type memberEvent struct {
	seq     int64
	member  ref
	removed bool
}

type group struct {
	id                        string
	displayName, description  string
	mailNickname, mail        string
	mailEnabled, securityEnab bool
	groupTypes                []string
	visibility                string
	membershipRule            string
	ruleState                 string
	created                   int64
	licenses                  []groupLicense
	licenseState              string // licenseProcessingState.state
	members                   []ref
	memberOf                  []int32 // groups this group is a direct member of
	events                    []memberEvent
	deleted                   bool
	deletedAt                 int64
	ver                       int64
}

func (g *group) isDynamic() bool { return slices.Contains(g.groupTypes, "DynamicMembership") }

// dynamicGroup pairs a dynamic group with the evaluator of its rule, so HR
// changes (a new department) move users in and out as Entra would.
type dynamicGroup struct {
	group int32
	match func(u *user) bool
}

func (t *tenant) bump() int64 { t.seq++; return t.seq }

func (t *tenant) lookupUser(key string) (int32, bool) {
	if i, ok := t.userByID.get(key); ok && !t.users[i].deleted {
		return i, true
	}
	if i, ok := t.userByUPN.get(key); ok && !t.users[i].deleted {
		return i, true
	}
	return 0, false
}

func (t *tenant) lookupGroup(key string) (int32, bool) {
	i, ok := t.groupByID[strings.ToLower(key)]
	if !ok || t.groups[i].deleted {
		return 0, false
	}
	return i, true
}

// lookupObject resolves a directoryObject id to a member reference.
func (t *tenant) lookupObject(id string) (ref, bool) {
	if i, ok := t.lookupUser(id); ok {
		return userRef(i), true
	}
	if g, ok := t.lookupGroup(id); ok {
		return groupRef(g), true
	}
	return 0, false
}

func (t *tenant) refID(r ref) string {
	if r >= 0 {
		return t.users[r].id
	}
	return t.groups[refGroup(r)].id
}

// isMember reports whether r is a direct member of group g, using the
// member's own (short) memberOf list rather than the group's (possibly huge)
// member list.
func (t *tenant) isMember(g int32, r ref) bool {
	if r >= 0 {
		return slices.Contains(t.users[r].memberOf, g)
	}
	return slices.Contains(t.groups[refGroup(r)].memberOf, g)
}

// addMember adds r to g and applies g's group-based licenses to a user
// member. It returns false when r already is a member.
func (t *tenant) addMember(g int32, r ref, now time.Time) bool {
	if t.isMember(g, r) {
		return false
	}
	seq := t.bump()
	gr := &t.groups[g]
	gr.members = append(gr.members, r)
	gr.events = append(gr.events, memberEvent{seq: seq, member: r})
	gr.ver = seq
	if r >= 0 {
		t.users[r].memberOf = append(t.users[r].memberOf, g)
		if len(gr.licenses) > 0 {
			t.applyGroupLicenses(g, r, now)
		}
	} else {
		t.groups[refGroup(r)].memberOf = append(t.groups[refGroup(r)].memberOf, g)
	}
	return true
}

// removeMember removes r from g (and the licenses g gave a user member).
func (t *tenant) removeMember(g int32, r ref, now time.Time) bool {
	if !t.isMember(g, r) {
		return false
	}
	seq := t.bump()
	gr := &t.groups[g]
	if k := slices.Index(gr.members, r); k >= 0 {
		gr.members = slices.Delete(gr.members, k, k+1)
	}
	gr.events = append(gr.events, memberEvent{seq: seq, member: r, removed: true})
	gr.ver = seq
	if r >= 0 {
		u := &t.users[r]
		u.memberOf = slices.DeleteFunc(u.memberOf, func(x int32) bool { return x == g })
		if len(gr.licenses) > 0 {
			t.dropGroupLicenses(g, r, now)
		}
	} else {
		o := &t.groups[refGroup(r)]
		o.memberOf = slices.DeleteFunc(o.memberOf, func(x int32) bool { return x == g })
	}
	return true
}

// setLicenses replaces user i's license states and keeps each SKU's
// consumedUnits and the user's mailbox in step. Every license change goes
// through here so seat accounting cannot drift.
//
// users/delta does not track licenseAssignmentStates (graph.md §4), only
// what follows from them: assignedLicenses (and the plans derived from it).
// So the user counts as changed for delta only when that differs; a state
// that merely moves to an error, or a direct assignment removed while a
// group still assigns the same SKU, goes unreported, as in Entra.
func (t *tenant) setLicenses(i int32, next []lic) {
	u := &t.users[i]
	before := t.effectiveLicenses(u)
	mailbox := u.mailbox
	for k := range u.licenses {
		if s := u.licenses[k].sku; u.licenses[k].holdsSeat() && firstHeld(u.licenses, s) == k && !holdsIn(next, s) {
			t.skus[s].consumed--
		}
	}
	for k := range next {
		if s := next[k].sku; next[k].holdsSeat() && firstHeld(next, s) == k && !holdsIn(u.licenses, s) {
			t.skus[s].consumed++
		}
	}
	u.licenses = next
	if u.mailbox == mbNone && t.hasExchange(next) && u.userType == "Member" {
		u.mailbox = mbUser
	}
	if u.mailbox != mailbox || !sameAssigned(before, t.effectiveLicenses(u)) {
		u.ver = t.bump()
	}
}

// sameAssigned compares two assignedLicenses lists as sets of SKUs with
// their disabled plans.
func sameAssigned(a, b []groupLicense) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		j := slices.IndexFunc(b, func(y groupLicense) bool { return y.sku == x.sku })
		if j < 0 || !sameStrings(x.disabled, b[j].disabled) {
			return false
		}
	}
	return true
}

// sameStrings compares two lists as sets.
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// holdsIn reports whether ls consumes a seat of SKU s.
func holdsIn(ls []lic, s int16) bool { return firstHeld(ls, s) >= 0 }

// firstHeld is the index of the first seat-holding state of SKU s, or -1.
func firstHeld(ls []lic, s int16) int {
	for k := range ls {
		if ls[k].sku == s && ls[k].holdsSeat() {
			return k
		}
	}
	return -1
}

func (t *tenant) heldSkus(ls []lic) map[int16]bool {
	m := make(map[int16]bool, len(ls))
	for k := range ls {
		if ls[k].holdsSeat() {
			m[ls[k].sku] = true
		}
	}
	return m
}

func (t *tenant) hasExchange(ls []lic) bool {
	for k := range ls {
		if !ls[k].holdsSeat() {
			continue
		}
		for _, p := range t.skus[ls[k].sku].p.plans {
			if exchangePlans[p.id] && !slices.Contains(ls[k].disabled, p.id) {
				return true
			}
		}
	}
	return false
}

// enabledPlans lists the plan ids a set of license states switches on.
func (t *tenant) enabledPlans(ls []lic) map[string]int16 {
	m := map[string]int16{}
	for k := range ls {
		if !ls[k].holdsSeat() {
			continue
		}
		for _, p := range t.skus[ls[k].sku].p.plans {
			if !slices.Contains(ls[k].disabled, p.id) {
				m[p.id] = ls[k].sku
			}
		}
	}
	return m
}

// conflict returns a pair of mutually exclusive plans, one enabled by the
// seat-holding states in base and one enabled by SKU s (minus disabled).
// Only the few plans that take part in an exclusion are compared.
func (t *tenant) conflict(base []lic, s int16, disabled []string) (string, string, bool) {
	for _, p := range t.skus[s].p.exclusive {
		if slices.Contains(disabled, p) {
			continue
		}
		for k := range base {
			l := &base[k]
			if !l.holdsSeat() || l.sku == s {
				continue
			}
			for _, q := range t.skus[l.sku].p.exclusive {
				if !slices.Contains(l.disabled, q) && exclusive(p, q) {
					return q, p, true
				}
			}
		}
	}
	return "", "", false
}

func exclusive(a, b string) bool {
	for _, pair := range mutuallyExclusivePlans {
		if pair[0] == a && pair[1] == b || pair[0] == b && pair[1] == a {
			return true
		}
	}
	return false
}

// applyGroupLicenses (re)computes the license states group g gives user i.
// As in Entra, if any SKU of the group fails for the user, none of the
// group's SKUs is assigned; the failure is recorded on the user's
// licenseAssignmentStates, never returned to a caller.
func (t *tenant) applyGroupLicenses(g int32, i int32, now time.Time) {
	u := &t.users[i]
	gr := &t.groups[g]
	base := make([]lic, 0, len(u.licenses)+len(gr.licenses))
	for _, l := range u.licenses {
		if l.group != g {
			base = append(base, l)
		}
	}
	errc := errNone
	for _, gl := range gr.licenses {
		if _, _, bad := t.conflict(base, gl.sku, gl.disabled); bad {
			errc = errMutex
			break
		}
	}
	if errc == errNone {
		for _, gl := range gr.licenses {
			if holdsIn(base, gl.sku) {
				continue
			}
			// The user's current hold (if any) of this group's SKU is
			// released by base, so count it back as available.
			avail := t.skus[gl.sku].enabled - t.skus[gl.sku].consumed
			if holdsIn(u.licenses, gl.sku) {
				avail++
			}
			if avail < 1 {
				errc = errCount
				break
			}
		}
	}
	for _, gl := range gr.licenses {
		l := lic{sku: gl.sku, group: g, disabled: gl.disabled, updated: now.Unix()}
		if errc != errNone {
			l.state, l.errc = stError, errc
		}
		base = append(base, l)
	}
	t.setLicenses(i, base)
}

func (t *tenant) dropGroupLicenses(g int32, i int32, _ time.Time) {
	u := &t.users[i]
	next := make([]lic, 0, len(u.licenses))
	for _, l := range u.licenses {
		if l.group != g {
			next = append(next, l)
		}
	}
	if len(next) != len(u.licenses) {
		t.setLicenses(i, next)
	}
}

// reevaluateDynamic moves user i in or out of every dynamic group whose
// rule result changed, as Entra's dynamic membership processing does after
// an attribute change.
func (t *tenant) reevaluateDynamic(i int32, now time.Time) {
	for _, d := range t.dynamic {
		if t.groups[d.group].deleted {
			continue
		}
		want := !t.users[i].deleted && d.match(&t.users[i])
		has := t.isMember(d.group, userRef(i))
		switch {
		case want && !has:
			t.addMember(d.group, userRef(i), now)
		case !want && has:
			t.removeMember(d.group, userRef(i), now)
		}
	}
}
