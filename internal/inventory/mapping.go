package inventory

import (
	"slices"
	"strconv"
	"strings"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
)

// always is the "every property present" test used for complete objects.
func always(string) bool { return true }

// applyUser copies the properties of g that has reports as present onto dst.
// Full rounds return complete objects; incremental delta rounds may return
// only the changed properties, and an absent property must keep its value.
func applyUser(dst *directory.User, g *graph.User, has func(string) bool) {
	dst.ID = g.ID
	set := func(name string, field *string, v string) {
		if has(name) {
			*field = v
		}
	}
	set("userPrincipalName", &dst.UserPrincipalName, g.UserPrincipalName)
	set("displayName", &dst.DisplayName, g.DisplayName)
	set("givenName", &dst.GivenName, g.GivenName)
	set("surname", &dst.Surname, g.Surname)
	set("mail", &dst.Mail, g.Mail)
	set("mailNickname", &dst.MailNickname, g.MailNickname)
	set("jobTitle", &dst.JobTitle, g.JobTitle)
	set("department", &dst.Department, g.Department)
	set("companyName", &dst.CompanyName, g.CompanyName)
	set("employeeId", &dst.EmployeeID, g.EmployeeID)
	set("employeeType", &dst.EmployeeType, g.EmployeeType)
	set("officeLocation", &dst.OfficeLocation, g.OfficeLocation)
	set("streetAddress", &dst.StreetAddress, g.StreetAddress)
	set("city", &dst.City, g.City)
	set("state", &dst.State, g.State)
	set("postalCode", &dst.PostalCode, g.PostalCode)
	set("country", &dst.Country, g.Country)
	set("usageLocation", &dst.UsageLocation, g.UsageLocation)
	set("preferredLanguage", &dst.PreferredLanguage, g.PreferredLanguage)
	set("mobilePhone", &dst.MobilePhone, g.MobilePhone)
	set("faxNumber", &dst.FaxNumber, g.FaxNumber)
	set("userType", &dst.UserType, g.UserType)
	set("onPremisesDistinguishedName", &dst.OnPremisesDistinguishedName, g.OnPremisesDistinguishedName)
	set("onPremisesSecurityIdentifier", &dst.OnPremisesSecurityIdentifier, g.OnPremisesSecurityIdentifier)
	set("onPremisesImmutableId", &dst.OnPremisesImmutableID, g.OnPremisesImmutableID)
	set("passwordPolicies", &dst.PasswordPolicies, g.PasswordPolicies)
	if has("otherMails") {
		dst.OtherMails = g.OtherMails
	}
	if has("proxyAddresses") {
		dst.ProxyAddresses = g.ProxyAddresses
		dst.SipProxyAddress = ""
		for _, p := range g.ProxyAddresses {
			if strings.HasPrefix(strings.ToLower(p), "sip:") {
				dst.SipProxyAddress = p
				break
			}
		}
	}
	if has("businessPhones") {
		dst.TelephoneNumber = ""
		if len(g.BusinessPhones) > 0 {
			dst.TelephoneNumber = g.BusinessPhones[0]
		}
	}
	if has("employeeHireDate") {
		dst.EmployeeHireDate = g.EmployeeHireDate
	}
	if has("employeeLeaveDateTime") {
		dst.EmployeeLeaveDateTime = g.EmployeeLeaveDateTime
	}
	if has("createdDateTime") {
		dst.CreatedDateTime = g.CreatedDateTime
	}
	if has("accountEnabled") {
		dst.AccountEnabled = g.AccountEnabled != nil && *g.AccountEnabled
	}
	if has("onPremisesSyncEnabled") {
		dst.OnPremisesSyncEnabled = g.OnPremisesSyncEnabled
	}
	if has("onPremisesExtensionAttributes") {
		dst.ExtensionAttributes = [15]string{}
		if e := g.OnPremisesExtensionAttributes; e != nil {
			dst.ExtensionAttributes = extensionArray(e)
		}
	}
	if has("assignedPlans") && g.AssignedPlans != nil {
		dst.AssignedPlans = nil
		for _, p := range g.AssignedPlans {
			dst.AssignedPlans = append(dst.AssignedPlans, directory.AssignedPlan{ServicePlanID: strings.ToLower(p.ServicePlanID),
				Service: p.Service, CapabilityStatus: p.CapabilityStatus, AssignedDateTime: p.AssignedDateTime})
		}
	}
	if has("signInActivity") && g.SignInActivity != nil {
		dst.LastSignIn = g.SignInActivity.LastSignInDateTime
		dst.LastNonInteractiveSignIn = g.SignInActivity.LastNonInteractiveSignInDateTime
		dst.LastSuccessfulSignIn = g.SignInActivity.LastSuccessfulSignInDateTime
	}
	dst.Deleted, dst.DeletedAt = false, nil
}

func applyGroup(dst *directory.Group, g *graph.Group, has func(string) bool) {
	dst.ID = g.ID
	set := func(name string, field *string, v string) {
		if has(name) {
			*field = v
		}
	}
	set("displayName", &dst.DisplayName, g.DisplayName)
	set("description", &dst.Description, g.Description)
	set("mail", &dst.Mail, g.Mail)
	set("mailNickname", &dst.MailNickname, g.MailNickname)
	set("membershipRule", &dst.MembershipRule, g.MembershipRule)
	set("membershipRuleProcessingState", &dst.MembershipRuleProcessingState, g.MembershipRuleProcessingState)
	if has("mailEnabled") {
		dst.MailEnabled = g.MailEnabled != nil && *g.MailEnabled
	}
	if has("securityEnabled") {
		dst.SecurityEnabled = g.SecurityEnabled != nil && *g.SecurityEnabled
	}
	if has("groupTypes") {
		dst.GroupTypes = g.GroupTypes
	}
	if has("assignedLicenses") {
		dst.AssignedLicenses = licenses(g.AssignedLicenses)
	}
	if has("licenseProcessingState") {
		dst.LicenseProcessingState = ""
		if g.LicenseProcessingState != nil {
			dst.LicenseProcessingState = g.LicenseProcessingState.State
		}
	}
	if has("createdDateTime") {
		dst.CreatedDateTime = g.CreatedDateTime
	}
	dst.Deleted, dst.DeletedAt = false, nil
}

func licenses(in []graph.AssignedLicense) []directory.AssignedLicense {
	var out []directory.AssignedLicense
	for _, l := range in {
		dp := make([]string, len(l.DisabledPlans))
		for i, p := range l.DisabledPlans {
			dp[i] = strings.ToLower(p)
		}
		out = append(out, directory.AssignedLicense{SkuID: strings.ToLower(l.SkuID), DisabledPlans: dp})
	}
	return out
}

func licenseStates(userID string, in []graph.LicenseAssignmentState) []directory.LicenseState {
	out := make([]directory.LicenseState, 0, len(in))
	for _, l := range in {
		dp := make([]string, len(l.DisabledPlans))
		for i, p := range l.DisabledPlans {
			dp[i] = strings.ToLower(p)
		}
		out = append(out, directory.LicenseState{UserID: userID, SkuID: strings.ToLower(l.SkuID), DisabledPlans: dp,
			AssignedByGroup: strings.ToLower(l.AssignedByGroup), State: l.State, Error: l.Error, LastUpdated: l.LastUpdatedDateTime})
	}
	return out
}

// sameLicenseStates reports whether two sets of one user's license states
// say the same, whatever their order and the order of disabled plans.
func sameLicenseStates(a, b []directory.LicenseState) bool {
	if len(a) != len(b) {
		return false
	}
	keys := func(ls []directory.LicenseState) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			dp := slices.Clone(l.DisabledPlans)
			slices.Sort(dp)
			at := "-"
			if l.LastUpdated != nil {
				at = strconv.FormatInt(l.LastUpdated.UnixMilli(), 10)
			}
			out[i] = strings.Join([]string{l.SkuID, l.AssignedByGroup, l.State, l.Error, at, strings.Join(dp, ",")}, "\x00")
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(keys(a), keys(b))
}

func sku(s *graph.SubscribedSku) directory.Sku {
	out := directory.Sku{SkuID: strings.ToLower(s.SkuID), SkuPartNumber: s.SkuPartNumber, CapabilityStatus: s.CapabilityStatus,
		AppliesTo: s.AppliesTo, ConsumedUnits: s.ConsumedUnits, PrepaidEnabled: s.PrepaidUnits.Enabled,
		PrepaidSuspended: s.PrepaidUnits.Suspended, PrepaidWarning: s.PrepaidUnits.Warning, PrepaidLockedOut: s.PrepaidUnits.LockedOut}
	if cents, ok := listPrices[s.SkuPartNumber]; ok {
		out.MonthlyPriceCents, out.Currency = cents, "USD"
	}
	for _, p := range s.ServicePlans {
		out.ServicePlans = append(out.ServicePlans, directory.ServicePlan{ServicePlanID: strings.ToLower(p.ServicePlanID),
			ServicePlanName: p.ServicePlanName, ProvisioningStatus: p.ProvisioningStatus, AppliesTo: p.AppliesTo})
	}
	return out
}

func mailboxType(recipientTypeDetails string) directory.MailboxType {
	switch recipientTypeDetails {
	case "SharedMailbox":
		return directory.MailboxShared
	case "RoomMailbox":
		return directory.MailboxRoom
	case "EquipmentMailbox":
		return directory.MailboxEquip
	}
	return directory.MailboxUser
}

func extensionArray(e *graph.OnPremisesExtensionAttributes) [15]string {
	return [15]string{e.ExtensionAttribute1, e.ExtensionAttribute2, e.ExtensionAttribute3, e.ExtensionAttribute4,
		e.ExtensionAttribute5, e.ExtensionAttribute6, e.ExtensionAttribute7, e.ExtensionAttribute8,
		e.ExtensionAttribute9, e.ExtensionAttribute10, e.ExtensionAttribute11, e.ExtensionAttribute12,
		e.ExtensionAttribute13, e.ExtensionAttribute14, e.ExtensionAttribute15}
}
