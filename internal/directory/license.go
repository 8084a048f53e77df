package directory

import "time"

// Sku is a subscribed SKU of a tenant (Graph subscribedSku) plus the monthly
// unit price allot uses for cost figures.
type Sku struct {
	TenantID         string `json:"tenant_id"`
	SkuID            string `json:"skuId"`
	SkuPartNumber    string `json:"skuPartNumber"`
	DisplayName      string `json:"displayName,omitempty"` // product name from Microsoft's catalogue
	CapabilityStatus string `json:"capabilityStatus"`      // Enabled, Warning, Suspended, Deleted, LockedOut
	AppliesTo        string `json:"appliesTo,omitempty"`   // User or Company
	ConsumedUnits    int    `json:"consumedUnits"`
	// Prepaid units as Graph reports them (licenseUnitsDetail).
	PrepaidEnabled   int `json:"prepaidEnabled"`
	PrepaidSuspended int `json:"prepaidSuspended"`
	PrepaidWarning   int `json:"prepaidWarning"`
	PrepaidLockedOut int `json:"prepaidLockedOut"`

	ServicePlans []ServicePlan `json:"servicePlans,omitempty"`

	// MonthlyPriceCents is the price per seat per month in minor units of
	// Currency; integer so that cost sums are exact.
	MonthlyPriceCents int64  `json:"monthlyPriceCents"`
	Currency          string `json:"currency,omitempty"`

	Categories Categories `json:"categories,omitempty"`
}

// Available is the number of seats that can still be assigned:
// prepaidUnits.enabled − consumedUnits, never negative.
func (s *Sku) Available() int {
	if n := s.PrepaidEnabled - s.ConsumedUnits; n > 0 {
		return n
	}
	return 0
}

// ServicePlan is one plan inside a SKU (Graph servicePlanInfo).
type ServicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	DisplayName        string `json:"displayName,omitempty"`
	ProvisioningStatus string `json:"provisioningStatus,omitempty"`
	AppliesTo          string `json:"appliesTo,omitempty"`
}

// AssignedLicense is one SKU with the plans switched off (Graph assignedLicense).
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// License assignment states and errors as Graph reports them
// (licenseAssignmentState.state / .error). Graph emits "Other", not "Others".
const (
	StateActive          = "Active"
	StateActiveWithError = "ActiveWithError"
	StateDisabled        = "Disabled"
	StateError           = "Error"

	ErrCountViolation                     = "CountViolation"
	ErrMutuallyExclusiveViolation         = "MutuallyExclusiveViolation"
	ErrDependencyViolation                = "DependencyViolation"
	ErrProhibitedInUsageLocationViolation = "ProhibitedInUsageLocationViolation"
	ErrUniquenessViolation                = "UniquenessViolation"
	ErrOther                              = "Other"
)

// LicenseState is one (user, SKU) license assignment as Graph reports it in
// licenseAssignmentStates. A user holding a SKU both directly and through a
// group has two rows, told apart by AssignedByGroup.
type LicenseState struct {
	TenantID      string   `json:"tenant_id"`
	UserID        string   `json:"user_id"`
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
	// AssignedByGroup is the group id for group-based licenses; "" when direct.
	AssignedByGroup string     `json:"assignedByGroup,omitempty"`
	State           string     `json:"state"`
	Error           string     `json:"error,omitempty"`
	LastUpdated     *time.Time `json:"lastUpdatedDateTime,omitempty"`
}

// Direct reports whether the license was assigned to the user directly.
func (l *LicenseState) Direct() bool { return l.AssignedByGroup == "" }
