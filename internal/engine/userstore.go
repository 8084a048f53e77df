package engine

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// A directory.User is ~900 bytes; a million of them would alone exceed the
// engine's 1 GB budget. The snapshot therefore stores users column by column:
// low-cardinality properties (department, country, extension attributes…) are
// dictionary-encoded as uint32, near-unique ones (id, UPN, mail) as plain
// strings, and a column is only allocated once some user has a value in it.
// User(i) rebuilds a *directory.User on demand for the rare reader that needs
// the whole record (rule predicates that no index answers).

// field describes one string property of a user as rules name it.
type field struct {
	name     string // canonical rule property name
	interned bool   // dictionary-encode (few distinct values)
	get      func(*directory.User) string
	set      func(*directory.User, string)
}

// fields lists every string property the snapshot keeps. Order is stable so
// column numbers never change within a process.
var fields = func() []field {
	fs := []field{
		{"userPrincipalName", false, func(u *directory.User) string { return u.UserPrincipalName }, func(u *directory.User, v string) { u.UserPrincipalName = v }},
		{"tenantId", true, func(u *directory.User) string { return u.TenantID }, func(u *directory.User, v string) { u.TenantID = v }},
		{"displayName", false, func(u *directory.User) string { return u.DisplayName }, func(u *directory.User, v string) { u.DisplayName = v }},
		{"givenName", true, func(u *directory.User) string { return u.GivenName }, func(u *directory.User, v string) { u.GivenName = v }},
		{"surname", true, func(u *directory.User) string { return u.Surname }, func(u *directory.User, v string) { u.Surname = v }},
		{"mail", false, func(u *directory.User) string { return u.Mail }, func(u *directory.User, v string) { u.Mail = v }},
		{"mailNickname", false, func(u *directory.User) string { return u.MailNickname }, func(u *directory.User, v string) { u.MailNickname = v }},
		{"jobTitle", true, func(u *directory.User) string { return u.JobTitle }, func(u *directory.User, v string) { u.JobTitle = v }},
		{"department", true, func(u *directory.User) string { return u.Department }, func(u *directory.User, v string) { u.Department = v }},
		{"companyName", true, func(u *directory.User) string { return u.CompanyName }, func(u *directory.User, v string) { u.CompanyName = v }},
		{"employeeId", false, func(u *directory.User) string { return u.EmployeeID }, func(u *directory.User, v string) { u.EmployeeID = v }},
		{"employeeType", true, func(u *directory.User) string { return u.EmployeeType }, func(u *directory.User, v string) { u.EmployeeType = v }},
		{"manager", true, func(u *directory.User) string { return u.ManagerID }, func(u *directory.User, v string) { u.ManagerID = v }},
		{"physicalDeliveryOfficeName", true, func(u *directory.User) string { return u.OfficeLocation }, func(u *directory.User, v string) { u.OfficeLocation = v }},
		{"streetAddress", true, func(u *directory.User) string { return u.StreetAddress }, func(u *directory.User, v string) { u.StreetAddress = v }},
		{"city", true, func(u *directory.User) string { return u.City }, func(u *directory.User, v string) { u.City = v }},
		{"state", true, func(u *directory.User) string { return u.State }, func(u *directory.User, v string) { u.State = v }},
		{"postalCode", true, func(u *directory.User) string { return u.PostalCode }, func(u *directory.User, v string) { u.PostalCode = v }},
		{"country", true, func(u *directory.User) string { return u.Country }, func(u *directory.User, v string) { u.Country = v }},
		{"usageLocation", true, func(u *directory.User) string { return u.UsageLocation }, func(u *directory.User, v string) { u.UsageLocation = v }},
		{"preferredLanguage", true, func(u *directory.User) string { return u.PreferredLanguage }, func(u *directory.User, v string) { u.PreferredLanguage = v }},
		{"telephoneNumber", false, func(u *directory.User) string { return u.TelephoneNumber }, func(u *directory.User, v string) { u.TelephoneNumber = v }},
		{"mobile", false, func(u *directory.User) string { return u.MobilePhone }, func(u *directory.User, v string) { u.MobilePhone = v }},
		{"facsimileTelephoneNumber", false, func(u *directory.User) string { return u.FaxNumber }, func(u *directory.User, v string) { u.FaxNumber = v }},
		{"userType", true, func(u *directory.User) string { return u.UserType }, func(u *directory.User, v string) { u.UserType = v }},
		{"onPremisesDistinguishedName", false, func(u *directory.User) string { return u.OnPremisesDistinguishedName }, func(u *directory.User, v string) { u.OnPremisesDistinguishedName = v }},
		{"onPremisesSecurityIdentifier", false, func(u *directory.User) string { return u.OnPremisesSecurityIdentifier }, func(u *directory.User, v string) { u.OnPremisesSecurityIdentifier = v }},
		{"onPremisesImmutableId", false, func(u *directory.User) string { return u.OnPremisesImmutableID }, func(u *directory.User, v string) { u.OnPremisesImmutableID = v }},
		{"passwordPolicies", true, func(u *directory.User) string { return u.PasswordPolicies }, func(u *directory.User, v string) { u.PasswordPolicies = v }},
		{"sipProxyAddress", false, func(u *directory.User) string { return u.SipProxyAddress }, func(u *directory.User, v string) { u.SipProxyAddress = v }},
	}
	for n := 1; n <= 15; n++ {
		i := n - 1
		fs = append(fs, field{"extensionAttribute" + strconv.Itoa(n), true,
			func(u *directory.User) string { return u.ExtensionAttributes[i] },
			func(u *directory.User, v string) { u.ExtensionAttributes[i] = v }})
	}
	return fs
}()

// fieldIndex maps a lower-cased property name to its column.
var fieldIndex = func() map[string]int {
	m := make(map[string]int, len(fields))
	for i, f := range fields {
		m[strings.ToLower(f.name)] = i
	}
	return m
}()

// Columns the engine itself reads on hot paths.
var (
	colUPN   = fieldIndex["userprincipalname"]
	colUsage = fieldIndex["usagelocation"]
)

// column holds one property for every user. Exactly one of raw or ids is
// used, chosen by field.interned; both stay nil while every value is "".
type column struct {
	raw    *arena
	ids    []uint32          // index into dict; 0 is ""
	dict   []string          // dict[0] == ""
	lookup map[string]uint32 // exact value → dict index
}

func (c *column) get(i uint32) string {
	switch {
	case c.raw != nil:
		return c.raw.get(int(i))
	case c.ids != nil:
		return c.dict[c.ids[i]]
	}
	return ""
}

// set stores v for user i; n is the number of users so a column allocated
// late can be sized for all of them.
func (c *column) set(interned bool, i uint32, n int, v string) {
	if !interned {
		if c.raw == nil {
			if v == "" {
				return
			}
			c.raw = &arena{}
			c.raw.grow(n)
		}
		c.raw.put(int(i), v)
		return
	}
	if c.ids == nil {
		if v == "" {
			return
		}
		c.ids = make([]uint32, n, max(n, 1024))
		c.dict = []string{""}
		c.lookup = map[string]uint32{"": 0}
	}
	id, ok := c.lookup[v]
	if !ok {
		id = uint32(len(c.dict))
		c.dict = append(c.dict, strings.Clone(v))
		c.lookup[c.dict[id]] = id
	}
	for len(c.ids) <= int(i) {
		c.ids = append(c.ids, 0)
	}
	c.ids[i] = id
}

// grow pads an allocated column to n users.
func (c *column) grow(n int) {
	if c.raw != nil {
		c.raw.grow(n)
	}
	for c.ids != nil && len(c.ids) < n {
		c.ids = append(c.ids, 0)
	}
}

// permute reorders the column so that new position j holds old position perm[j].
func (c *column) permute(perm []uint32) {
	if c.raw != nil {
		c.raw.permute(perm)
	}
	if c.ids != nil {
		out := make([]uint32, len(perm))
		for j, old := range perm {
			out[j] = c.ids[old]
		}
		c.ids = out
	}
}

// Bit flags kept per user.
const (
	flagEnabled     uint8 = 1 << iota // accountEnabled
	flagSyncSet                       // onPremisesSyncEnabled != nil
	flagSyncEnabled                   // *onPremisesSyncEnabled
)

// userExtra holds the multi-valued parts of a user; nil for users without.
type userExtra struct {
	otherMails     []string
	proxyAddresses []string
	extensions     map[string]string
	assignedPlans  []directory.AssignedPlan
}

// noTime marks an unset time in a time column.
const noTime = math.MinInt64

// The time properties, each kept as a column of UnixNano values (UTC).
var timeFields = []struct {
	get func(*directory.User) *time.Time
	set func(*directory.User, *time.Time)
}{
	{func(u *directory.User) *time.Time { return u.EmployeeHireDate }, func(u *directory.User, t *time.Time) { u.EmployeeHireDate = t }},
	{func(u *directory.User) *time.Time { return u.EmployeeLeaveDateTime }, func(u *directory.User, t *time.Time) { u.EmployeeLeaveDateTime = t }},
	{func(u *directory.User) *time.Time { return u.CreatedDateTime }, func(u *directory.User, t *time.Time) { u.CreatedDateTime = t }},
	{func(u *directory.User) *time.Time { return u.LastSignIn }, func(u *directory.User, t *time.Time) { u.LastSignIn = t }},
	{func(u *directory.User) *time.Time { return u.LastNonInteractiveSignIn }, func(u *directory.User, t *time.Time) { u.LastNonInteractiveSignIn = t }},
	{func(u *directory.User) *time.Time { return u.LastSuccessfulSignIn }, func(u *directory.User, t *time.Time) { u.LastSuccessfulSignIn = t }},
}

// userStore is the columnar user table. Index i is the dense user index.
type userStore struct {
	ids   arena // sorted once built
	cols  []column
	times [][]int64 // per timeFields entry; nil until some user has that time
	flags []uint8
	cats  []directory.Categories
	extra []*userExtra
}

func newUserStore() *userStore {
	return &userStore{cols: make([]column, len(fields)), times: make([][]int64, len(timeFields))}
}

func (s *userStore) len() int { return s.ids.len() }

func (s *userStore) id(i uint32) string { return s.ids.get(int(i)) }

// put writes u at index i (i == len appends).
func (s *userStore) put(i uint32, u *directory.User) {
	n := s.ids.len()
	if int(i) == n {
		s.ids.put(n, u.ID)
		s.flags = append(s.flags, 0)
		s.cats = append(s.cats, 0)
		s.extra = append(s.extra, nil)
		n++
	}
	for c := range fields {
		s.cols[c].set(fields[c].interned, i, n, fields[c].get(u))
	}
	var fl uint8
	if u.AccountEnabled {
		fl |= flagEnabled
	}
	if u.OnPremisesSyncEnabled != nil {
		fl |= flagSyncSet
		if *u.OnPremisesSyncEnabled {
			fl |= flagSyncEnabled
		}
	}
	s.flags[i] = fl
	s.cats[i] = u.Categories
	s.extra[i] = nil
	if len(u.OtherMails) > 0 || len(u.ProxyAddresses) > 0 || len(u.Extensions) > 0 || len(u.AssignedPlans) > 0 {
		s.extra[i] = &userExtra{otherMails: u.OtherMails, proxyAddresses: u.ProxyAddresses,
			extensions: u.Extensions, assignedPlans: u.AssignedPlans}
	}
	for k, tf := range timeFields {
		t := tf.get(u)
		if s.times[k] == nil && t == nil {
			continue
		}
		for len(s.times[k]) < n {
			s.times[k] = append(s.times[k], noTime)
		}
		s.times[k][i] = noTime
		if t != nil {
			s.times[k][i] = t.UnixNano()
		}
	}
}

// finish pads columns allocated part-way through to every user.
func (s *userStore) finish() {
	for c := range s.cols {
		s.cols[c].grow(s.len())
	}
	for k := range s.times {
		for s.times[k] != nil && len(s.times[k]) < s.len() {
			s.times[k] = append(s.times[k], noTime)
		}
	}
}

// permute reorders every column by perm (new j = old perm[j]).
func (s *userStore) permute(perm []uint32) {
	s.ids.permute(perm)
	flags := make([]uint8, len(perm))
	cats := make([]directory.Categories, len(perm))
	extra := make([]*userExtra, len(perm))
	for j, old := range perm {
		flags[j], cats[j], extra[j] = s.flags[old], s.cats[old], s.extra[old]
	}
	s.flags, s.cats, s.extra = flags, cats, extra
	for c := range s.cols {
		s.cols[c].permute(perm)
	}
	for k, col := range s.times {
		if col != nil {
			out := make([]int64, len(perm))
			for j, old := range perm {
				out[j] = col[old]
			}
			s.times[k] = out
		}
	}
}

// user rebuilds the full record of user i.
func (s *userStore) user(i uint32) *directory.User {
	u := &directory.User{ID: s.id(i)}
	for c := range fields {
		if v := s.cols[c].get(i); v != "" {
			fields[c].set(u, v)
		}
	}
	fl := s.flags[i]
	u.AccountEnabled = fl&flagEnabled != 0
	if fl&flagSyncSet != 0 {
		v := fl&flagSyncEnabled != 0
		u.OnPremisesSyncEnabled = &v
	}
	u.Categories = s.cats[i]
	if x := s.extra[i]; x != nil {
		u.OtherMails, u.ProxyAddresses, u.AssignedPlans = x.otherMails, x.proxyAddresses, x.assignedPlans
		u.Extensions = x.extensions
	}
	for k, tf := range timeFields {
		if col := s.times[k]; col != nil && col[i] != noTime {
			t := time.Unix(0, col[i]).UTC()
			tf.set(u, &t)
		}
	}
	return u
}

// valueBitmaps builds, in one pass, the bitmap of users for every dictionary
// entry of an interned column, merged case-insensitively (rules compare
// values without regard to case).
func (s *userStore) valueBitmaps(c int) map[string]*roaring.Bitmap {
	col := &s.cols[c]
	out := map[string]*roaring.Bitmap{}
	if col.ids == nil {
		all := roaring.New()
		all.AddRange(0, uint64(s.len()))
		out[""] = all
		return out
	}
	// Users ascend, so each Add appends to the last container.
	byID := make([]*roaring.Bitmap, len(col.dict))
	for i, id := range col.ids {
		if byID[id] == nil {
			byID[id] = roaring.New()
		}
		byID[id].Add(uint32(i))
	}
	for id, bm := range byID {
		if bm == nil {
			continue
		}
		key := strings.ToLower(col.dict[id])
		if prev, ok := out[key]; ok {
			prev.Or(bm)
		} else {
			out[key] = bm
		}
	}
	return out
}

// scanEqual answers Equal for a raw (near-unique) column by scanning it.
func (s *userStore) scanEqual(c int, value string) *roaring.Bitmap {
	out := roaring.New()
	col := &s.cols[c]
	if col.raw == nil {
		if value == "" {
			out.AddRange(0, uint64(s.len()))
		}
		return out
	}
	for i := range col.raw.len() {
		if v := col.raw.get(i); len(v) == len(value) && strings.EqualFold(v, value) {
			out.Add(uint32(i))
		}
	}
	return out
}
