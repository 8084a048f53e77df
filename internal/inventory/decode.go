package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Pages of users, groups and license states are decoded in one pass by
// hand-written decoders (shapes, below) on graph.JSONReader. encoding/json
// took a validation pass and a decoding pass, and for incremental rounds
// decoded each entry twice more, once to learn which properties it carried;
// at 100,000 users that was about 4 s of CPU, now about 1.4 s. The shapes
// decode what encoding/json would, property by property: the fuzz tests
// hold them to it.

// decode parses a page without touching the warehouse, so that it can run
// beside the transaction that applies earlier pages. The strings it decodes
// for users, groups and license states point into body (see shape.page),
// which must not change afterwards.
func decode(pg *warehouse.InboxPage, body []byte) decodedPage {
	d := decodedPage{pg: pg, full: strings.HasSuffix(pg.Round, "/full")}
	switch pg.Resource {
	case ResUsers:
		d.items, d.has, d.err = decodeItems[userItem](body, d.full)
		if d.err != nil {
			d.err = fmt.Errorf("malformed user: %w", d.err)
		}
	case ResGroups:
		d.items, d.has, d.err = decodeItems[graph.Group](body, d.full)
		if d.err != nil {
			d.err = fmt.Errorf("malformed group: %w", d.err)
		}
	case ResLicenses:
		d.items, d.err = page[licenseItem](body)
	case ResSignIns:
		d.items, d.err = page[graph.User](body)
	case ResSkus:
		d.items, d.err = page[graph.SubscribedSku](body)
	case ResMailboxes:
		d.items, d.err = page[graph.Mailbox](body)
	default:
		d.err = fmt.Errorf("unknown resource %q", pg.Resource)
	}
	return d
}

// page decodes a collection page; a body without "value" is malformed, not
// empty. SKUs and mailboxes are a few small pages per sync and keep
// encoding/json.
func page[T any](body []byte) ([]T, error) {
	if s := shapeOf[T](); s != nil {
		items, _, err := s.page(body)
		return items, err
	}
	var env struct {
		Value *[]T `json:"value"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("malformed page: %w", err)
	}
	if env.Value == nil {
		return nil, fmt.Errorf("malformed page: no \"value\"")
	}
	return *env.Value, nil
}

// decodeItems decodes a page's entries. Full rounds carry complete objects;
// incremental rounds may carry only the changed properties, so each entry
// also reports which properties it has (of those its type decodes).
func decodeItems[T any](body []byte, full bool) ([]T, []func(string) bool, error) {
	s := shapeOf[T]()
	if s == nil {
		return nil, nil, fmt.Errorf("no decoder for %T", *new(T))
	}
	items, seen, err := s.page(body)
	if err != nil {
		return nil, nil, err
	}
	has := make([]func(string) bool, len(items))
	for i := range has {
		if full {
			has[i] = always
		} else {
			has[i] = s.has(seen[i])
		}
	}
	return items, has, nil
}

// shapeOf returns the decoder for T, or nil when T has none.
func shapeOf[T any]() *shape[T] {
	var s any
	switch any((*T)(nil)).(type) {
	case *userItem:
		s = userItemShape
	case *graph.User:
		s = userShape
	case *graph.Group:
		s = groupShape
	case *licenseItem:
		s = licenseItemShape
	default:
		return nil
	}
	return s.(*shape[T])
}

// A shape decodes JSON objects into a T: a reader per property, and a bit
// per property to record which ones an object carried.
type shape[T any] struct {
	props map[string]prop[T]
	names [][]byte // for keys that match a property only ignoring case
	// slots finds a key's property without hashing it: the properties
	// whose names fall in a key's slot (keySlot), by index into list and
	// names. Looking keys up in props was a sixth of decoding a page.
	slots [keySlots][]uint8
	list  []prop[T]
	// lastLen is how many entries the last page had: the next is sized for
	// as many, since pages of a listing are alike. Growing a page's slice
	// of kilobyte users entry by entry copied each page twice over.
	lastLen atomic.Int64
}

type prop[T any] struct {
	name string
	bit  uint64
	read func(r *graph.JSONReader, v *T)
}

func newShape[T any](props ...prop[T]) *shape[T] {
	if len(props) > 64 {
		panic(fmt.Sprintf("shape of %T: %d properties do not fit a uint64", *new(T), len(props)))
	}
	s := &shape[T]{props: make(map[string]prop[T], len(props))}
	for i, p := range props {
		p.bit = 1 << i
		s.props[p.name] = p
		s.list = append(s.list, p)
		s.names = append(s.names, []byte(p.name))
		k := keySlot([]byte(p.name))
		s.slots[k] = append(s.slots[k], uint8(i))
	}
	return s
}

const keySlots = 128

// keySlot spreads property names over slots by length and first and last
// byte, which tells apart all but a few of a shape's names.
func keySlot(key []byte) int {
	n := len(key)
	if n == 0 {
		return 0
	}
	return (n*31 + int(key[0])*7 + int(key[n-1])*3) % keySlots
}

// lookup finds the property named exactly key.
func (s *shape[T]) lookup(key []byte) (prop[T], bool) {
	for _, i := range s.slots[keySlot(key)] {
		if string(key) == string(s.names[i]) {
			return s.list[i], true
		}
	}
	return prop[T]{}, false
}

// read decodes an object into v and returns the bits of the properties it
// carried. Like encoding/json it fills in what the object has and leaves
// the rest of v alone, matches a key that differs from every property name
// in case alone to that property, ignores unknown keys, and takes null for
// an empty object. A key matched ignoring case does not count as carried,
// as it did not when properties were looked up in a map of the keys.
func (s *shape[T]) read(r *graph.JSONReader, v *T) uint64 {
	if r.Null() {
		return 0
	}
	var seen uint64
	for key := range r.Object() {
		p, ok := s.lookup(key)
		if ok {
			seen |= p.bit
		} else if p, ok = s.fold(key); !ok {
			continue
		}
		p.read(r, v)
	}
	return seen
}

func (s *shape[T]) fold(key []byte) (prop[T], bool) {
	for _, name := range s.names {
		if bytes.EqualFold(key, name) {
			return s.props[string(name)], true
		}
	}
	return prop[T]{}, false
}

// has answers which properties an object carried, from the bits read
// returned.
func (s *shape[T]) has(seen uint64) func(string) bool {
	return func(name string) bool {
		p, ok := s.props[name]
		return ok && seen&p.bit != 0
	}
}

// page decodes the "value" entries of a collection page, with the bits of
// the properties each carried. A second "value" replaces the first, as it
// did when entries were decoded from json.RawMessage.
//
// Strings point into body (graph.NewSharedJSONReader) instead of being
// copies: a page of users made some forty thousand small strings, and a
// page of groups two for each of its members, which cost about a tenth of a
// sync's CPU in allocation and collection. Decoded entries live until their
// page is applied; what is kept longer (the ids a round saw, the users to
// refresh, membership ids) is cloned where it is kept.
func (s *shape[T]) page(body []byte) ([]T, []uint64, error) {
	var items []T
	var seen []uint64
	found := false
	r := graph.NewSharedJSONReader(body)
	if !r.Null() {
		for key := range r.Object() {
			if string(key) != "value" && !bytes.EqualFold(key, []byte("value")) {
				continue
			}
			items, seen = nil, nil
			if found = !r.Null(); !found {
				continue
			}
			n := s.lastLen.Load()
			items, seen = make([]T, 0, n), make([]uint64, 0, n)
			for range r.Array() {
				var v T
				items = append(items, v)
				seen = append(seen, s.read(r, &items[len(items)-1]))
			}
		}
	}
	if err := r.Finish(); err != nil {
		return nil, nil, fmt.Errorf("malformed page: %w", err)
	}
	if !found {
		return nil, nil, fmt.Errorf("malformed page: no \"value\"")
	}
	s.lastLen.Store(int64(len(items)))
	return items, seen, nil
}

// Property readers. Each takes the address of its field in v, and reads the
// way encoding/json reads into that field's type.

func str[T any](name string, field func(*T) *string) prop[T] {
	return prop[T]{name: name, read: func(r *graph.JSONReader, v *T) { readString(r, field(v)) }}
}

// readString leaves the field alone for null, as encoding/json does.
func readString(r *graph.JSONReader, s *string) {
	if !r.Null() {
		*s = r.Text()
	}
}

func strs[T any](name string, field func(*T) *[]string) prop[T] {
	return prop[T]{name: name, read: func(r *graph.JSONReader, v *T) { readList(r, field(v), readString) }}
}

func boolPtr[T any](name string, field func(*T) **bool) prop[T] {
	return prop[T]{name: name, read: func(r *graph.JSONReader, v *T) {
		p := field(v)
		if r.Null() {
			*p = nil
			return
		}
		b := r.Bool()
		*p = &b
	}}
}

func timePtr[T any](name string, field func(*T) **time.Time) prop[T] {
	return prop[T]{name: name, read: func(r *graph.JSONReader, v *T) {
		p := field(v)
		if r.Null() {
			*p = nil
			return
		}
		// time.Time reads its JSON itself, from the raw value: the same call
		// encoding/json makes, so the same times parse and the same fail.
		t := new(time.Time)
		if err := t.UnmarshalJSON(r.Raw()); err != nil {
			r.Fail(err)
		}
		*p = t
	}}
}

// object reads a pointer to a nested object; null clears it.
func object[T, E any](name string, s *shape[E], field func(*T) **E) prop[T] {
	return prop[T]{name: name, read: func(r *graph.JSONReader, v *T) {
		p := field(v)
		if r.Null() {
			*p = nil
			return
		}
		if *p == nil {
			*p = new(E)
		}
		s.read(r, *p)
	}}
}

func list[T, E any](name string, s *shape[E], field func(*T) *[]E) prop[T] {
	return prop[T]{name: name, read: func(r *graph.JSONReader, v *T) {
		readList(r, field(v), func(r *graph.JSONReader, e *E) { s.read(r, e) })
	}}
}

// readList reads an array into a slice: null makes it nil, [] empty. Like
// encoding/json it decodes into the slice's existing elements before
// growing it, which only shows when a key repeats.
func readList[E any](r *graph.JSONReader, p *[]E, elem func(*graph.JSONReader, *E)) {
	if r.Null() {
		*p = nil
		return
	}
	s, n := *p, 0
	for range r.Array() {
		if n < cap(s) {
			s = s[:n+1]
		} else {
			var zero E
			s = append(s, zero)
		}
		elem(r, &s[n])
		n++
	}
	if n == 0 {
		s = []E{}
	}
	*p = s[:n]
}

// lift makes the properties of an embedded struct properties of the outer one.
func lift[T, E any](s *shape[E], field func(*T) *E) []prop[T] {
	out := make([]prop[T], 0, len(s.names))
	for _, name := range s.names {
		p := s.props[string(name)]
		out = append(out, prop[T]{name: p.name, read: func(r *graph.JSONReader, v *T) { p.read(r, field(v)) }})
	}
	return out
}

// The shapes of the Graph types the inventory decodes. A test checks that
// each names every JSON property of its type.

var removedShape = newShape(str("reason", func(v *graph.Removed) *string { return &v.Reason }))

var directoryObjectShape = newShape(
	str("@odata.type", func(v *graph.DirectoryObject) *string { return &v.ODataType }),
	str("id", func(v *graph.DirectoryObject) *string { return &v.ID }),
	str("displayName", func(v *graph.DirectoryObject) *string { return &v.DisplayName }),
	str("userPrincipalName", func(v *graph.DirectoryObject) *string { return &v.UserPrincipalName }),
	object("@removed", removedShape, func(v *graph.DirectoryObject) **graph.Removed { return &v.Removed }),
)

var assignedLicenseShape = newShape(
	str("skuId", func(v *graph.AssignedLicense) *string { return &v.SkuID }),
	strs("disabledPlans", func(v *graph.AssignedLicense) *[]string { return &v.DisabledPlans }),
)

var assignedPlanShape = newShape(
	timePtr("assignedDateTime", func(v *graph.AssignedPlan) **time.Time { return &v.AssignedDateTime }),
	str("capabilityStatus", func(v *graph.AssignedPlan) *string { return &v.CapabilityStatus }),
	str("service", func(v *graph.AssignedPlan) *string { return &v.Service }),
	str("servicePlanId", func(v *graph.AssignedPlan) *string { return &v.ServicePlanID }),
)

var provisionedPlanShape = newShape(
	str("capabilityStatus", func(v *graph.ProvisionedPlan) *string { return &v.CapabilityStatus }),
	str("provisioningStatus", func(v *graph.ProvisionedPlan) *string { return &v.ProvisioningStatus }),
	str("service", func(v *graph.ProvisionedPlan) *string { return &v.Service }),
)

var licenseStateShape = newShape(
	str("skuId", func(v *graph.LicenseAssignmentState) *string { return &v.SkuID }),
	str("assignedByGroup", func(v *graph.LicenseAssignmentState) *string { return &v.AssignedByGroup }),
	strs("disabledPlans", func(v *graph.LicenseAssignmentState) *[]string { return &v.DisabledPlans }),
	str("state", func(v *graph.LicenseAssignmentState) *string { return &v.State }),
	str("error", func(v *graph.LicenseAssignmentState) *string { return &v.Error }),
	timePtr("lastUpdatedDateTime", func(v *graph.LicenseAssignmentState) **time.Time { return &v.LastUpdatedDateTime }),
)

var signInShape = newShape(
	timePtr("lastSignInDateTime", func(v *graph.SignInActivity) **time.Time { return &v.LastSignInDateTime }),
	timePtr("lastNonInteractiveSignInDateTime", func(v *graph.SignInActivity) **time.Time {
		return &v.LastNonInteractiveSignInDateTime
	}),
	timePtr("lastSuccessfulSignInDateTime", func(v *graph.SignInActivity) **time.Time { return &v.LastSuccessfulSignInDateTime }),
)

var extensionAttributesShape = func() *shape[graph.OnPremisesExtensionAttributes] {
	type ext = graph.OnPremisesExtensionAttributes
	fields := []func(*ext) *string{
		func(e *ext) *string { return &e.ExtensionAttribute1 }, func(e *ext) *string { return &e.ExtensionAttribute2 },
		func(e *ext) *string { return &e.ExtensionAttribute3 }, func(e *ext) *string { return &e.ExtensionAttribute4 },
		func(e *ext) *string { return &e.ExtensionAttribute5 }, func(e *ext) *string { return &e.ExtensionAttribute6 },
		func(e *ext) *string { return &e.ExtensionAttribute7 }, func(e *ext) *string { return &e.ExtensionAttribute8 },
		func(e *ext) *string { return &e.ExtensionAttribute9 }, func(e *ext) *string { return &e.ExtensionAttribute10 },
		func(e *ext) *string { return &e.ExtensionAttribute11 }, func(e *ext) *string { return &e.ExtensionAttribute12 },
		func(e *ext) *string { return &e.ExtensionAttribute13 }, func(e *ext) *string { return &e.ExtensionAttribute14 },
		func(e *ext) *string { return &e.ExtensionAttribute15 },
	}
	props := make([]prop[ext], len(fields))
	for i, f := range fields {
		props[i] = str(fmt.Sprintf("extensionAttribute%d", i+1), f)
	}
	return newShape(props...)
}()

var userShape = newShape(
	str("id", func(u *graph.User) *string { return &u.ID }),
	str("userPrincipalName", func(u *graph.User) *string { return &u.UserPrincipalName }),
	str("displayName", func(u *graph.User) *string { return &u.DisplayName }),
	str("givenName", func(u *graph.User) *string { return &u.GivenName }),
	str("surname", func(u *graph.User) *string { return &u.Surname }),
	str("mail", func(u *graph.User) *string { return &u.Mail }),
	str("mailNickname", func(u *graph.User) *string { return &u.MailNickname }),
	strs("otherMails", func(u *graph.User) *[]string { return &u.OtherMails }),
	strs("proxyAddresses", func(u *graph.User) *[]string { return &u.ProxyAddresses }),
	str("jobTitle", func(u *graph.User) *string { return &u.JobTitle }),
	str("department", func(u *graph.User) *string { return &u.Department }),
	str("companyName", func(u *graph.User) *string { return &u.CompanyName }),
	str("employeeId", func(u *graph.User) *string { return &u.EmployeeID }),
	str("employeeType", func(u *graph.User) *string { return &u.EmployeeType }),
	timePtr("employeeHireDate", func(u *graph.User) **time.Time { return &u.EmployeeHireDate }),
	timePtr("employeeLeaveDateTime", func(u *graph.User) **time.Time { return &u.EmployeeLeaveDateTime }),
	str("officeLocation", func(u *graph.User) *string { return &u.OfficeLocation }),
	str("streetAddress", func(u *graph.User) *string { return &u.StreetAddress }),
	str("city", func(u *graph.User) *string { return &u.City }),
	str("state", func(u *graph.User) *string { return &u.State }),
	str("postalCode", func(u *graph.User) *string { return &u.PostalCode }),
	str("country", func(u *graph.User) *string { return &u.Country }),
	str("usageLocation", func(u *graph.User) *string { return &u.UsageLocation }),
	str("preferredLanguage", func(u *graph.User) *string { return &u.PreferredLanguage }),
	strs("businessPhones", func(u *graph.User) *[]string { return &u.BusinessPhones }),
	str("mobilePhone", func(u *graph.User) *string { return &u.MobilePhone }),
	str("faxNumber", func(u *graph.User) *string { return &u.FaxNumber }),
	str("userType", func(u *graph.User) *string { return &u.UserType }),
	boolPtr("accountEnabled", func(u *graph.User) **bool { return &u.AccountEnabled }),
	boolPtr("onPremisesSyncEnabled", func(u *graph.User) **bool { return &u.OnPremisesSyncEnabled }),
	str("onPremisesDistinguishedName", func(u *graph.User) *string { return &u.OnPremisesDistinguishedName }),
	str("onPremisesSecurityIdentifier", func(u *graph.User) *string { return &u.OnPremisesSecurityIdentifier }),
	str("onPremisesImmutableId", func(u *graph.User) *string { return &u.OnPremisesImmutableID }),
	object("onPremisesExtensionAttributes", extensionAttributesShape,
		func(u *graph.User) **graph.OnPremisesExtensionAttributes { return &u.OnPremisesExtensionAttributes }),
	str("passwordPolicies", func(u *graph.User) *string { return &u.PasswordPolicies }),
	timePtr("createdDateTime", func(u *graph.User) **time.Time { return &u.CreatedDateTime }),
	list("assignedLicenses", assignedLicenseShape, func(u *graph.User) *[]graph.AssignedLicense { return &u.AssignedLicenses }),
	list("assignedPlans", assignedPlanShape, func(u *graph.User) *[]graph.AssignedPlan { return &u.AssignedPlans }),
	list("licenseAssignmentStates", licenseStateShape,
		func(u *graph.User) *[]graph.LicenseAssignmentState { return &u.LicenseAssignmentStates }),
	list("provisionedPlans", provisionedPlanShape, func(u *graph.User) *[]graph.ProvisionedPlan { return &u.ProvisionedPlans }),
	object("signInActivity", signInShape, func(u *graph.User) **graph.SignInActivity { return &u.SignInActivity }),
	object("@removed", removedShape, func(u *graph.User) **graph.Removed { return &u.Removed }),
)

// licenseItem is an entry of a page of license states, which selects only
// these two properties: decoded into a graph.User, each entry was a
// kilobyte to zero and for the collector to scan, for two fields.
type licenseItem struct {
	ID                      string                         `json:"id"`
	LicenseAssignmentStates []graph.LicenseAssignmentState `json:"licenseAssignmentStates"`
}

var licenseItemShape = newShape(
	str("id", func(v *licenseItem) *string { return &v.ID }),
	list("licenseAssignmentStates", licenseStateShape,
		func(v *licenseItem) *[]graph.LicenseAssignmentState { return &v.LicenseAssignmentStates }),
)

var userItemShape = newShape(append(lift(userShape, func(it *userItem) *graph.User { return &it.User }),
	list("manager@delta", directoryObjectShape, func(it *userItem) *[]graph.DirectoryObject { return &it.ManagerDelta }),
)...)

var licenseProcessingShape = newShape(str("state", func(v *graph.LicenseProcessingState) *string { return &v.State }))

var groupShape = newShape(
	str("id", func(g *graph.Group) *string { return &g.ID }),
	str("displayName", func(g *graph.Group) *string { return &g.DisplayName }),
	str("description", func(g *graph.Group) *string { return &g.Description }),
	str("mail", func(g *graph.Group) *string { return &g.Mail }),
	str("mailNickname", func(g *graph.Group) *string { return &g.MailNickname }),
	boolPtr("mailEnabled", func(g *graph.Group) **bool { return &g.MailEnabled }),
	boolPtr("securityEnabled", func(g *graph.Group) **bool { return &g.SecurityEnabled }),
	strs("groupTypes", func(g *graph.Group) *[]string { return &g.GroupTypes }),
	str("membershipRule", func(g *graph.Group) *string { return &g.MembershipRule }),
	str("membershipRuleProcessingState", func(g *graph.Group) *string { return &g.MembershipRuleProcessingState }),
	boolPtr("onPremisesSyncEnabled", func(g *graph.Group) **bool { return &g.OnPremisesSyncEnabled }),
	list("assignedLicenses", assignedLicenseShape, func(g *graph.Group) *[]graph.AssignedLicense { return &g.AssignedLicenses }),
	object("licenseProcessingState", licenseProcessingShape,
		func(g *graph.Group) **graph.LicenseProcessingState { return &g.LicenseProcessingState }),
	timePtr("createdDateTime", func(g *graph.Group) **time.Time { return &g.CreatedDateTime }),
	list("members@delta", directoryObjectShape, func(g *graph.Group) *[]graph.DirectoryObject { return &g.MembersDelta }),
	object("@removed", removedShape, func(g *graph.Group) **graph.Removed { return &g.Removed }),
)
