package directory

import "time"

// User is an Entra user with every property that licensing decisions or
// membership rules read (Graph v1.0 names; see reference/graph.md §1 and
// reference/dynamic-rules.md §2). Unset Graph strings are "" here: Graph and
// the rule language both treat empty and null alike for these properties.
type User struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`

	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName,omitempty"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"surname,omitempty"`
	Mail              string   `json:"mail,omitempty"`
	MailNickname      string   `json:"mailNickname,omitempty"`
	OtherMails        []string `json:"otherMails,omitempty"`
	ProxyAddresses    []string `json:"proxyAddresses,omitempty"`

	JobTitle              string     `json:"jobTitle,omitempty"`
	Department            string     `json:"department,omitempty"`
	CompanyName           string     `json:"companyName,omitempty"`
	EmployeeID            string     `json:"employeeId,omitempty"`
	EmployeeType          string     `json:"employeeType,omitempty"`
	EmployeeHireDate      *time.Time `json:"employeeHireDate,omitempty"`
	EmployeeLeaveDateTime *time.Time `json:"employeeLeaveDateTime,omitempty"`
	ManagerID             string     `json:"managerId,omitempty"`

	OfficeLocation    string `json:"officeLocation,omitempty"` // physicalDeliveryOfficeName in rules
	StreetAddress     string `json:"streetAddress,omitempty"`
	City              string `json:"city,omitempty"`
	State             string `json:"state,omitempty"`
	PostalCode        string `json:"postalCode,omitempty"`
	Country           string `json:"country,omitempty"`
	UsageLocation     string `json:"usageLocation,omitempty"` // ISO 3166 alpha-2; required for direct license assignment
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
	TelephoneNumber   string `json:"telephoneNumber,omitempty"` // first of businessPhones
	MobilePhone       string `json:"mobilePhone,omitempty"`
	FaxNumber         string `json:"faxNumber,omitempty"`

	UserType                     string `json:"userType,omitempty"` // Member or Guest
	AccountEnabled               bool   `json:"accountEnabled"`
	OnPremisesSyncEnabled        *bool  `json:"onPremisesSyncEnabled,omitempty"` // nil = never synced
	OnPremisesDistinguishedName  string `json:"onPremisesDistinguishedName,omitempty"`
	OnPremisesSecurityIdentifier string `json:"onPremisesSecurityIdentifier,omitempty"`
	OnPremisesImmutableID        string `json:"onPremisesImmutableId,omitempty"`
	PasswordPolicies             string `json:"passwordPolicies,omitempty"`
	SipProxyAddress              string `json:"sipProxyAddress,omitempty"`

	CreatedDateTime *time.Time `json:"createdDateTime,omitempty"`

	// Sign-in activity (signInActivity in Graph; needs Entra ID P1 and
	// AuditLog.Read.All). Nil means "never" or "unknown": Graph does not
	// distinguish, so reclaim policies combine it with CreatedDateTime.
	LastSignIn               *time.Time `json:"lastSignInDateTime,omitempty"`
	LastNonInteractiveSignIn *time.Time `json:"lastNonInteractiveSignInDateTime,omitempty"`
	LastSuccessfulSignIn     *time.Time `json:"lastSuccessfulSignInDateTime,omitempty"`

	// ExtensionAttributes holds onPremisesExtensionAttributes
	// extensionAttribute1–15 at index 0–14.
	ExtensionAttributes [15]string `json:"extensionAttributes"`
	// Extensions holds directory schema extensions keyed by their full name,
	// extension_<appIdWithoutDashes>_<name>.
	Extensions map[string]string `json:"extensions,omitempty"`

	// AssignedPlans are the service plans the user currently has, as Graph
	// reports them; rules can test them (`user.assignedPlans -any (...)`).
	AssignedPlans []AssignedPlan `json:"assignedPlans,omitempty"`

	// Categories is allot's own classification (not a Graph property).
	Categories Categories `json:"categories,omitempty"`

	// Deleted marks a user that delta reported as @removed. The row is kept
	// so history, audit and reclaim reports stay explainable.
	Deleted   bool       `json:"deleted,omitempty"`
	DeletedAt *time.Time `json:"deletedAt,omitempty"`
}

// ExtensionAttribute returns extensionAttribute n (1–15), or "" when n is out of range.
func (u *User) ExtensionAttribute(n int) string {
	if n < 1 || n > len(u.ExtensionAttributes) {
		return ""
	}
	return u.ExtensionAttributes[n-1]
}

// IsGuest reports whether Graph classes the user as a guest.
func (u *User) IsGuest() bool { return u.UserType == "Guest" }

// AssignedPlan is one service plan assignment (Graph assignedPlan).
type AssignedPlan struct {
	ServicePlanID    string     `json:"servicePlanId"`
	Service          string     `json:"service,omitempty"`
	CapabilityStatus string     `json:"capabilityStatus,omitempty"` // Enabled, Warning, Suspended, Deleted, LockedOut
	AssignedDateTime *time.Time `json:"assignedDateTime,omitempty"`
}
