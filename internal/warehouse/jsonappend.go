package warehouse

import (
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/directory"
)

// appendUserAttrs writes the same JSON encoding/json would for userAttrs,
// without reflection: it runs once per user on every sync, and the reflective
// encoder was a fifth of a 200,000-user bulk upsert. Reads still use
// encoding/json, so the two must stay field-for-field compatible (tested).
func appendUserAttrs(b []byte, u *directory.User) []byte {
	b = append(b, '{')
	first := true
	str := func(name, v string) {
		if v == "" {
			return
		}
		b = appendKey(b, &first, name)
		b = appendJSONString(b, v)
	}
	list := func(name string, vs []string) {
		if len(vs) == 0 {
			return
		}
		b = appendKey(b, &first, name)
		b = appendStrings(b, vs)
	}
	tm := func(name string, t *time.Time) {
		if t == nil {
			return
		}
		b = appendKey(b, &first, name)
		b = appendTime(b, *t)
	}
	str("mail", u.Mail)
	str("jobTitle", u.JobTitle)
	str("department", u.Department)
	str("companyName", u.CompanyName)
	str("employeeId", u.EmployeeID)
	str("managerId", u.ManagerID)
	str("country", u.Country)
	str("usageLocation", u.UsageLocation)
	str("userType", u.UserType)
	tm("createdDateTime", u.CreatedDateTime)
	tm("lastSignInDateTime", u.LastSignIn)
	tm("lastSuccessfulSignInDateTime", u.LastSuccessfulSignIn)
	str("givenName", u.GivenName)
	str("surname", u.Surname)
	str("mailNickname", u.MailNickname)
	list("otherMails", u.OtherMails)
	list("proxyAddresses", u.ProxyAddresses)
	str("employeeType", u.EmployeeType)
	tm("employeeHireDate", u.EmployeeHireDate)
	tm("employeeLeaveDateTime", u.EmployeeLeaveDateTime)
	str("officeLocation", u.OfficeLocation)
	str("streetAddress", u.StreetAddress)
	str("city", u.City)
	str("state", u.State)
	str("postalCode", u.PostalCode)
	str("preferredLanguage", u.PreferredLanguage)
	str("telephoneNumber", u.TelephoneNumber)
	str("mobilePhone", u.MobilePhone)
	str("faxNumber", u.FaxNumber)
	if u.OnPremisesSyncEnabled != nil {
		b = appendKey(b, &first, "onPremisesSyncEnabled")
		b = strconv.AppendBool(b, *u.OnPremisesSyncEnabled)
	}
	str("onPremisesDistinguishedName", u.OnPremisesDistinguishedName)
	str("onPremisesSecurityIdentifier", u.OnPremisesSecurityIdentifier)
	str("onPremisesImmutableId", u.OnPremisesImmutableID)
	str("passwordPolicies", u.PasswordPolicies)
	str("sipProxyAddress", u.SipProxyAddress)
	tm("lastNonInteractiveSignInDateTime", u.LastNonInteractiveSignIn)
	ext := false
	for i, v := range u.ExtensionAttributes {
		if v == "" {
			continue
		}
		if !ext {
			b = appendKey(b, &first, "extensionAttributes")
			b = append(b, '{')
			ext = true
		} else {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, '"', ':')
		b = appendJSONString(b, v)
	}
	if ext {
		b = append(b, '}')
	}
	if len(u.Extensions) > 0 {
		b = appendKey(b, &first, "extensions")
		keys := make([]string, 0, len(u.Extensions))
		for k := range u.Extensions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, u.Extensions[k])
		}
		b = append(b, '}')
	}
	if len(u.AssignedPlans) > 0 {
		b = appendKey(b, &first, "assignedPlans")
		b = append(b, '[')
		for i, p := range u.AssignedPlans {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"servicePlanId":`...)
			b = appendJSONString(b, p.ServicePlanID)
			if p.Service != "" {
				b = append(b, `,"service":`...)
				b = appendJSONString(b, p.Service)
			}
			if p.CapabilityStatus != "" {
				b = append(b, `,"capabilityStatus":`...)
				b = appendJSONString(b, p.CapabilityStatus)
			}
			if p.AssignedDateTime != nil {
				b = append(b, `,"assignedDateTime":`...)
				b = appendTime(b, *p.AssignedDateTime)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendKey(b []byte, first *bool, name string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func appendStrings(b []byte, vs []string) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as JSON: control characters as \u00XX, invalid
// UTF-8 as U+FFFD (as encoding/json does), everything else verbatim.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
