package graph

import "time"

// The wire types below mirror Graph v1.0 JSON (reference/graph-schemas).
// Pointers mark properties where Graph distinguishes null from a zero value
// that matters for licensing (accountEnabled, onPremisesSyncEnabled), and
// times are pointers because Graph omits or nulls them freely.

// User is a Graph user with the licensing-relevant properties (UserSelect).
type User struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
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

	OfficeLocation    string   `json:"officeLocation,omitempty"`
	StreetAddress     string   `json:"streetAddress,omitempty"`
	City              string   `json:"city,omitempty"`
	State             string   `json:"state,omitempty"`
	PostalCode        string   `json:"postalCode,omitempty"`
	Country           string   `json:"country,omitempty"`
	UsageLocation     string   `json:"usageLocation,omitempty"`
	PreferredLanguage string   `json:"preferredLanguage,omitempty"`
	BusinessPhones    []string `json:"businessPhones,omitempty"`
	MobilePhone       string   `json:"mobilePhone,omitempty"`
	FaxNumber         string   `json:"faxNumber,omitempty"`

	UserType                      string                         `json:"userType,omitempty"`
	AccountEnabled                *bool                          `json:"accountEnabled,omitempty"`
	OnPremisesSyncEnabled         *bool                          `json:"onPremisesSyncEnabled,omitempty"`
	OnPremisesDistinguishedName   string                         `json:"onPremisesDistinguishedName,omitempty"`
	OnPremisesSecurityIdentifier  string                         `json:"onPremisesSecurityIdentifier,omitempty"`
	OnPremisesImmutableID         string                         `json:"onPremisesImmutableId,omitempty"`
	OnPremisesExtensionAttributes *OnPremisesExtensionAttributes `json:"onPremisesExtensionAttributes,omitempty"`
	PasswordPolicies              string                         `json:"passwordPolicies,omitempty"`
	CreatedDateTime               *time.Time                     `json:"createdDateTime,omitempty"`

	AssignedLicenses        []AssignedLicense        `json:"assignedLicenses,omitempty"`
	AssignedPlans           []AssignedPlan           `json:"assignedPlans,omitempty"`
	LicenseAssignmentStates []LicenseAssignmentState `json:"licenseAssignmentStates,omitempty"`
	ProvisionedPlans        []ProvisionedPlan        `json:"provisionedPlans,omitempty"`
	SignInActivity          *SignInActivity          `json:"signInActivity,omitempty"`

	// Removed is set on delta entries for deleted users.
	Removed *Removed `json:"@removed,omitempty"`
}

// OnPremisesExtensionAttributes are extensionAttribute1–15, synced from AD
// or set in the cloud; rules and categories often key on them.
type OnPremisesExtensionAttributes struct {
	ExtensionAttribute1  string `json:"extensionAttribute1,omitempty"`
	ExtensionAttribute2  string `json:"extensionAttribute2,omitempty"`
	ExtensionAttribute3  string `json:"extensionAttribute3,omitempty"`
	ExtensionAttribute4  string `json:"extensionAttribute4,omitempty"`
	ExtensionAttribute5  string `json:"extensionAttribute5,omitempty"`
	ExtensionAttribute6  string `json:"extensionAttribute6,omitempty"`
	ExtensionAttribute7  string `json:"extensionAttribute7,omitempty"`
	ExtensionAttribute8  string `json:"extensionAttribute8,omitempty"`
	ExtensionAttribute9  string `json:"extensionAttribute9,omitempty"`
	ExtensionAttribute10 string `json:"extensionAttribute10,omitempty"`
	ExtensionAttribute11 string `json:"extensionAttribute11,omitempty"`
	ExtensionAttribute12 string `json:"extensionAttribute12,omitempty"`
	ExtensionAttribute13 string `json:"extensionAttribute13,omitempty"`
	ExtensionAttribute14 string `json:"extensionAttribute14,omitempty"`
	ExtensionAttribute15 string `json:"extensionAttribute15,omitempty"`
}

// AssignedLicense is a SKU with the plans switched off. DisabledPlans is
// never omitted: Graph requires the array in assignLicense bodies.
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// AssignedPlan is a service plan a user holds.
type AssignedPlan struct {
	AssignedDateTime *time.Time `json:"assignedDateTime,omitempty"`
	CapabilityStatus string     `json:"capabilityStatus,omitempty"`
	Service          string     `json:"service,omitempty"`
	ServicePlanID    string     `json:"servicePlanId,omitempty"`
}

// ProvisionedPlan is a plan's provisioning state in its workload.
type ProvisionedPlan struct {
	CapabilityStatus   string `json:"capabilityStatus,omitempty"`
	ProvisioningStatus string `json:"provisioningStatus,omitempty"`
	Service            string `json:"service,omitempty"`
}

// LicenseAssignmentState tells direct from group-inherited licenses
// (AssignedByGroup empty when direct) and carries group-licensing errors.
type LicenseAssignmentState struct {
	SkuID               string     `json:"skuId"`
	AssignedByGroup     string     `json:"assignedByGroup,omitempty"`
	DisabledPlans       []string   `json:"disabledPlans,omitempty"`
	State               string     `json:"state,omitempty"`
	Error               string     `json:"error,omitempty"`
	LastUpdatedDateTime *time.Time `json:"lastUpdatedDateTime,omitempty"`
}

// SignInActivity needs Entra ID P1 and AuditLog.Read.All.
type SignInActivity struct {
	LastSignInDateTime               *time.Time `json:"lastSignInDateTime,omitempty"`
	LastNonInteractiveSignInDateTime *time.Time `json:"lastNonInteractiveSignInDateTime,omitempty"`
	LastSuccessfulSignInDateTime     *time.Time `json:"lastSuccessfulSignInDateTime,omitempty"`
}

// Removed marks a delta entry for a deleted object: Reason "changed" means
// soft-deleted (restorable for 30 days), "deleted" means gone for good.
type Removed struct {
	Reason string `json:"reason"`
}

// Group is a Graph group with the licensing- and rule-relevant properties.
type Group struct {
	ID                            string                  `json:"id"`
	DisplayName                   string                  `json:"displayName,omitempty"`
	Description                   string                  `json:"description,omitempty"`
	Mail                          string                  `json:"mail,omitempty"`
	MailNickname                  string                  `json:"mailNickname,omitempty"`
	MailEnabled                   *bool                   `json:"mailEnabled,omitempty"`
	SecurityEnabled               *bool                   `json:"securityEnabled,omitempty"`
	GroupTypes                    []string                `json:"groupTypes,omitempty"`
	MembershipRule                string                  `json:"membershipRule,omitempty"`
	MembershipRuleProcessingState string                  `json:"membershipRuleProcessingState,omitempty"`
	OnPremisesSyncEnabled         *bool                   `json:"onPremisesSyncEnabled,omitempty"`
	AssignedLicenses              []AssignedLicense       `json:"assignedLicenses,omitempty"`
	LicenseProcessingState        *LicenseProcessingState `json:"licenseProcessingState,omitempty"`
	CreatedDateTime               *time.Time              `json:"createdDateTime,omitempty"`

	// MembersDelta is set in groups/delta rounds: members added, and
	// (with Removed set) members removed since the last round.
	MembersDelta []DirectoryObject `json:"members@delta,omitempty"`
	Removed      *Removed          `json:"@removed,omitempty"`
}

// LicenseProcessingState is group-based licensing progress:
// QueuedForProcessing, ProcessingInProgress or ProcessingComplete.
type LicenseProcessingState struct {
	State string `json:"state"`
}

// DirectoryObject is a member of a group: user, group, device, service
// principal or org contact, told apart by ODataType.
type DirectoryObject struct {
	ODataType         string   `json:"@odata.type,omitempty"`
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	Removed           *Removed `json:"@removed,omitempty"`
}

// The @odata.type values of group members.
const (
	TypeUser             = "#microsoft.graph.user"
	TypeGroup            = "#microsoft.graph.group"
	TypeDevice           = "#microsoft.graph.device"
	TypeServicePrincipal = "#microsoft.graph.servicePrincipal"
	TypeOrgContact       = "#microsoft.graph.orgContact"
)

// SubscribedSku is a product the tenant has bought.
type SubscribedSku struct {
	ID               string             `json:"id"`
	AccountID        string             `json:"accountId,omitempty"`
	AccountName      string             `json:"accountName,omitempty"`
	AppliesTo        string             `json:"appliesTo,omitempty"`
	CapabilityStatus string             `json:"capabilityStatus,omitempty"`
	ConsumedUnits    int                `json:"consumedUnits"`
	PrepaidUnits     LicenseUnitsDetail `json:"prepaidUnits"`
	ServicePlans     []ServicePlanInfo  `json:"servicePlans,omitempty"`
	SkuID            string             `json:"skuId"`
	SkuPartNumber    string             `json:"skuPartNumber,omitempty"`
	SubscriptionIDs  []string           `json:"subscriptionIds,omitempty"`
}

// LicenseUnitsDetail counts a SKU's seats by subscription state. Free seats
// are Enabled − consumedUnits.
type LicenseUnitsDetail struct {
	Enabled   int `json:"enabled"`
	LockedOut int `json:"lockedOut"`
	Suspended int `json:"suspended"`
	Warning   int `json:"warning"`
}

// ServicePlanInfo is a plan inside a SKU.
type ServicePlanInfo struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName,omitempty"`
	ProvisioningStatus string `json:"provisioningStatus,omitempty"`
	AppliesTo          string `json:"appliesTo,omitempty"`
}

// LicenseDetails is one SKU a user holds (direct or inherited) with its plans.
type LicenseDetails struct {
	ID            string            `json:"id"`
	SkuID         string            `json:"skuId"`
	SkuPartNumber string            `json:"skuPartNumber,omitempty"`
	ServicePlans  []ServicePlanInfo `json:"servicePlans,omitempty"`
}
