package rule

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// propKind is a property's type in the rule language.
type propKind int

const (
	kindString   propKind = iota + 1
	kindBool              // true/false; -eq and -ne only
	kindDate              // employeeHireDate: -eq, -ne, -le, -ge against dates or system.now
	kindStrings           // string collections: comparisons hold if any element matches; -any/-all with _
	kindPlans             // assignedPlans: -any/-all with assignedPlan.x only
	kindMemberOf          // memberOf: -any (group.objectId -in [...]) only, alone in its rule
)

// propSpec describes one property and, for user properties, how to read it
// from a directory.User.
type propSpec struct {
	name string // canonical spelling
	kind propKind
	str  func(*directory.User) string
	bool func(*directory.User) (value, set bool)
	date func(*directory.User) *time.Time
	strs func(*directory.User) []string
}

func str(name string, get func(*directory.User) string) *propSpec {
	return &propSpec{name: name, kind: kindString, str: get}
}

// userProperties are the user properties of reference/dynamic-rules.md §2,
// mapped onto directory.User. Where the docs and Graph disagree on a name
// (physicalDeliveryOfficeName, facsimileTelephoneNumber, mobile,
// dirSyncEnabled) the rule language's name is canonical.
var userProperties = func() map[string]*propSpec {
	list := []*propSpec{
		{name: "accountEnabled", kind: kindBool, bool: func(u *directory.User) (bool, bool) { return u.AccountEnabled, true }},
		{name: "dirSyncEnabled", kind: kindBool, bool: func(u *directory.User) (bool, bool) {
			if u.OnPremisesSyncEnabled == nil {
				return false, false
			}
			return *u.OnPremisesSyncEnabled, true
		}},
		{name: "employeeHireDate", kind: kindDate, date: func(u *directory.User) *time.Time { return u.EmployeeHireDate }},
		str("city", func(u *directory.User) string { return u.City }),
		str("country", func(u *directory.User) string { return u.Country }),
		str("companyName", func(u *directory.User) string { return u.CompanyName }),
		str("department", func(u *directory.User) string { return u.Department }),
		str("displayName", func(u *directory.User) string { return u.DisplayName }),
		str("employeeId", func(u *directory.User) string { return u.EmployeeID }),
		str("facsimileTelephoneNumber", func(u *directory.User) string { return u.FaxNumber }),
		str("givenName", func(u *directory.User) string { return u.GivenName }),
		str("jobTitle", func(u *directory.User) string { return u.JobTitle }),
		str("mail", func(u *directory.User) string { return u.Mail }),
		str("mailNickname", func(u *directory.User) string { return u.MailNickname }),
		{name: "memberOf", kind: kindMemberOf},
		str("mobile", func(u *directory.User) string { return u.MobilePhone }),
		str("objectId", func(u *directory.User) string { return u.ID }),
		str("onPremisesDistinguishedName", func(u *directory.User) string { return u.OnPremisesDistinguishedName }),
		str("onPremisesSecurityIdentifier", func(u *directory.User) string { return u.OnPremisesSecurityIdentifier }),
		str("passwordPolicies", func(u *directory.User) string { return u.PasswordPolicies }),
		str("physicalDeliveryOfficeName", func(u *directory.User) string { return u.OfficeLocation }),
		str("postalCode", func(u *directory.User) string { return u.PostalCode }),
		str("preferredLanguage", func(u *directory.User) string { return u.PreferredLanguage }),
		str("sipProxyAddress", func(u *directory.User) string { return u.SipProxyAddress }),
		str("state", func(u *directory.User) string { return u.State }),
		str("streetAddress", func(u *directory.User) string { return u.StreetAddress }),
		str("surname", func(u *directory.User) string { return u.Surname }),
		str("telephoneNumber", func(u *directory.User) string { return u.TelephoneNumber }),
		str("usageLocation", func(u *directory.User) string { return u.UsageLocation }),
		str("userPrincipalName", func(u *directory.User) string { return u.UserPrincipalName }),
		str("userType", func(u *directory.User) string { return u.UserType }),
		{name: "otherMails", kind: kindStrings, strs: func(u *directory.User) []string { return u.OtherMails }},
		{name: "proxyAddresses", kind: kindStrings, strs: func(u *directory.User) []string { return u.ProxyAddresses }},
		{name: "assignedPlans", kind: kindPlans},
	}
	for n := 1; n <= len(directory.User{}.ExtensionAttributes); n++ {
		list = append(list, str("extensionAttribute"+strconv.Itoa(n), func(u *directory.User) string { return u.ExtensionAttributes[n-1] }))
	}
	return byLowerName(list)
}()

// deviceProperties are the device attributes of reference/dynamic-rules.md
// §3. Device rules parse and validate (so `allot rule check` can vet them)
// but don't compile: allot licenses users.
var deviceProperties = func() map[string]*propSpec {
	list := []*propSpec{
		{name: "accountEnabled", kind: kindBool},
		{name: "isRooted", kind: kindBool},
		{name: "devicePhysicalIds", kind: kindStrings},
		{name: "memberOf", kind: kindMemberOf},
	}
	for _, n := range []string{"deviceCategory", "deviceId", "deviceManagementAppId", "deviceManufacturer", "deviceModel",
		"displayName", "deviceOSType", "deviceOSVersion", "deviceOwnership", "deviceTrustType", "enrollmentProfileName",
		"managementType", "objectId", "profileType", "systemLabels"} {
		list = append(list, &propSpec{name: n, kind: kindString})
	}
	for n := 1; n <= 15; n++ {
		list = append(list, &propSpec{name: "extensionAttribute" + strconv.Itoa(n), kind: kindString})
	}
	return byLowerName(list)
}()

// elementProperties are what a quantifier body may say about the element.
var elementProperties = map[string]map[string]*propSpec{
	elemPlan: byLowerName([]*propSpec{
		{name: "capabilityStatus", kind: kindString},
		{name: "service", kind: kindString},
		{name: "servicePlanId", kind: kindString},
	}),
	elemGroup: byLowerName([]*propSpec{{name: "objectId", kind: kindString}}),
}

// Property names are matched without regard to case: the docs call them
// case sensitive but themselves write user.employeehiredate, user.memberof
// and device.devicePhysicalIDs.
func byLowerName(list []*propSpec) map[string]*propSpec {
	m := make(map[string]*propSpec, len(list))
	for _, p := range list {
		m[strings.ToLower(p.name)] = p
	}
	return m
}

// extensionRE is a directory extension property: extension_<appId without
// dashes>_<name>.
var extensionRE = regexp.MustCompile(`^(?i:extension)_([0-9A-Za-z]+)_([0-9A-Za-z_]+)$`)

// lookupProperty resolves name for object ("user" or "device").
func lookupProperty(object, name string) (*propSpec, bool) {
	if object == "device" {
		p, ok := deviceProperties[strings.ToLower(name)]
		return p, ok
	}
	if p, ok := userProperties[strings.ToLower(name)]; ok {
		return p, true
	}
	if m := extensionRE.FindStringSubmatch(name); m != nil {
		canonical := "extension_" + m[1] + "_" + m[2]
		return str(canonical, func(u *directory.User) string { return extensionValue(u, canonical) }), true
	}
	return nil, false
}

// extensionValue reads a directory extension, tolerating a difference in
// case between the rule and the stored key.
func extensionValue(u *directory.User, name string) string {
	if v, ok := u.Extensions[name]; ok {
		return v
	}
	for k, v := range u.Extensions {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// propertyNames lists the canonical names of an object's properties, for
// "expected" hints.
func propertyNames(m map[string]*propSpec) []string {
	out := make([]string, 0, len(m))
	for _, p := range m {
		out = append(out, p.name)
	}
	sort.Strings(out)
	return out
}
