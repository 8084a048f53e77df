package warehouse

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// timeCodec is how a backend stores instants: SQLite keeps Unix milliseconds,
// PostgreSQL keeps TIMESTAMPTZ.
type timeCodec func(t *time.Time) any

func sqliteTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func postgresTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// scanTime reads either encoding back into a *time.Time (nil for NULL).
type scanTime struct{ dst **time.Time }

func (s scanTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.dst = nil
	case int64:
		t := time.UnixMilli(v).UTC()
		*s.dst = &t
	case time.Time:
		t := v.UTC()
		*s.dst = &t
	default:
		return fmt.Errorf("warehouse: cannot scan %T into a time", src)
	}
	return nil
}

// scanJSON decodes a TEXT column holding JSON into dst.
type scanJSON struct{ dst any }

func (s scanJSON) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("warehouse: cannot scan %T as JSON", src)
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, s.dst)
}

// scanCategories reads a BIGINT into directory.Categories.
type scanCategories struct{ dst *directory.Categories }

func (s scanCategories) Scan(src any) error {
	v, ok := src.(int64)
	if !ok && src != nil {
		return fmt.Errorf("warehouse: cannot scan %T as categories", src)
	}
	*s.dst = directory.Categories(v)
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain structs, slices and maps of strings reach here.
		panic(fmt.Sprintf("warehouse: marshal %T: %v", v, err))
	}
	return string(b)
}

func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	return mustJSON(v)
}

// userAttrs holds the Graph properties no query filters or sorts on. Keeping
// them in one JSON column keeps the users table narrow: modernc's SQLite pays
// an allocation and a copy per bound text value, and binding twenty columns
// per user was most of a 200,000-user bulk upsert.
type userAttrs struct {
	Mail                  string                   `json:"mail,omitempty"`
	JobTitle              string                   `json:"jobTitle,omitempty"`
	Department            string                   `json:"department,omitempty"`
	CompanyName           string                   `json:"companyName,omitempty"`
	EmployeeID            string                   `json:"employeeId,omitempty"`
	ManagerID             string                   `json:"managerId,omitempty"`
	Country               string                   `json:"country,omitempty"`
	UsageLocation         string                   `json:"usageLocation,omitempty"`
	UserType              string                   `json:"userType,omitempty"`
	CreatedDateTime       *time.Time               `json:"createdDateTime,omitempty"`
	LastSignIn            *time.Time               `json:"lastSignInDateTime,omitempty"`
	LastSuccessfulSignIn  *time.Time               `json:"lastSuccessfulSignInDateTime,omitempty"`
	GivenName             string                   `json:"givenName,omitempty"`
	Surname               string                   `json:"surname,omitempty"`
	MailNickname          string                   `json:"mailNickname,omitempty"`
	OtherMails            []string                 `json:"otherMails,omitempty"`
	ProxyAddresses        []string                 `json:"proxyAddresses,omitempty"`
	EmployeeType          string                   `json:"employeeType,omitempty"`
	EmployeeHireDate      *time.Time               `json:"employeeHireDate,omitempty"`
	EmployeeLeaveDateTime *time.Time               `json:"employeeLeaveDateTime,omitempty"`
	OfficeLocation        string                   `json:"officeLocation,omitempty"`
	StreetAddress         string                   `json:"streetAddress,omitempty"`
	City                  string                   `json:"city,omitempty"`
	State                 string                   `json:"state,omitempty"`
	PostalCode            string                   `json:"postalCode,omitempty"`
	PreferredLanguage     string                   `json:"preferredLanguage,omitempty"`
	TelephoneNumber       string                   `json:"telephoneNumber,omitempty"`
	MobilePhone           string                   `json:"mobilePhone,omitempty"`
	FaxNumber             string                   `json:"faxNumber,omitempty"`
	OnPremSyncEnabled     *bool                    `json:"onPremisesSyncEnabled,omitempty"`
	OnPremDN              string                   `json:"onPremisesDistinguishedName,omitempty"`
	OnPremSID             string                   `json:"onPremisesSecurityIdentifier,omitempty"`
	OnPremImmutableID     string                   `json:"onPremisesImmutableId,omitempty"`
	PasswordPolicies      string                   `json:"passwordPolicies,omitempty"`
	SipProxyAddress       string                   `json:"sipProxyAddress,omitempty"`
	LastNonInteractive    *time.Time               `json:"lastNonInteractiveSignInDateTime,omitempty"`
	ExtensionAttributes   map[int]string           `json:"extensionAttributes,omitempty"`
	Extensions            map[string]string        `json:"extensions,omitempty"`
	AssignedPlans         []directory.AssignedPlan `json:"assignedPlans,omitempty"`
}

// encodeUser encodes u as a users row. scratch is reused from call to call
// so that the attrs JSON costs one allocation of its exact size.
func encodeUser(tenantID string, u *directory.User, scratch *[]byte) []any {
	*scratch = appendUserAttrs((*scratch)[:0], u)
	return []any{tenantID, u.ID, u.UserPrincipalName, u.DisplayName, u.AccountEnabled, int64(u.Categories), false, nil,
		string(*scratch)}
}

const userColumns = "tenant_id, id, user_principal_name, display_name, account_enabled, categories, deleted, deleted_at, attrs"

func scanUser(r rowScanner) (directory.User, error) {
	var u directory.User
	var a userAttrs
	err := r.Scan(&u.TenantID, &u.ID, &u.UserPrincipalName, &u.DisplayName, &u.AccountEnabled,
		scanCategories{&u.Categories}, &u.Deleted, scanTime{&u.DeletedAt}, scanJSON{&a})
	if err != nil {
		return u, err
	}
	u.Mail, u.JobTitle, u.Department, u.CompanyName = a.Mail, a.JobTitle, a.Department, a.CompanyName
	u.EmployeeID, u.ManagerID, u.Country, u.UsageLocation = a.EmployeeID, a.ManagerID, a.Country, a.UsageLocation
	u.UserType, u.CreatedDateTime = a.UserType, a.CreatedDateTime
	u.LastSignIn, u.LastSuccessfulSignIn = a.LastSignIn, a.LastSuccessfulSignIn
	u.GivenName, u.Surname, u.MailNickname = a.GivenName, a.Surname, a.MailNickname
	u.OtherMails, u.ProxyAddresses, u.EmployeeType = a.OtherMails, a.ProxyAddresses, a.EmployeeType
	u.EmployeeHireDate, u.EmployeeLeaveDateTime = a.EmployeeHireDate, a.EmployeeLeaveDateTime
	u.OfficeLocation, u.StreetAddress, u.City, u.State = a.OfficeLocation, a.StreetAddress, a.City, a.State
	u.PostalCode, u.PreferredLanguage, u.TelephoneNumber = a.PostalCode, a.PreferredLanguage, a.TelephoneNumber
	u.MobilePhone, u.FaxNumber, u.OnPremisesSyncEnabled = a.MobilePhone, a.FaxNumber, a.OnPremSyncEnabled
	u.OnPremisesDistinguishedName, u.OnPremisesSecurityIdentifier = a.OnPremDN, a.OnPremSID
	u.OnPremisesImmutableID, u.PasswordPolicies, u.SipProxyAddress = a.OnPremImmutableID, a.PasswordPolicies, a.SipProxyAddress
	u.LastNonInteractiveSignIn, u.Extensions, u.AssignedPlans = a.LastNonInteractive, a.Extensions, a.AssignedPlans
	for n, v := range a.ExtensionAttributes {
		if n >= 1 && n <= len(u.ExtensionAttributes) {
			u.ExtensionAttributes[n-1] = v
		}
	}
	return u, nil
}

type groupAttrs struct {
	Description            string                      `json:"description,omitempty"`
	Mail                   string                      `json:"mail,omitempty"`
	MailNickname           string                      `json:"mailNickname,omitempty"`
	GroupTypes             []string                    `json:"groupTypes,omitempty"`
	RuleProcessingState    string                      `json:"membershipRuleProcessingState,omitempty"`
	AssignedLicenses       []directory.AssignedLicense `json:"assignedLicenses,omitempty"`
	LicenseProcessingState string                      `json:"licenseProcessingState,omitempty"`
	OwnerIDs               []string                    `json:"ownerIds,omitempty"`
}

func encodeGroup(tc timeCodec, tenantID string, g *directory.Group) []any {
	a := groupAttrs{Description: g.Description, Mail: g.Mail, MailNickname: g.MailNickname, GroupTypes: g.GroupTypes,
		RuleProcessingState: g.MembershipRuleProcessingState, AssignedLicenses: g.AssignedLicenses,
		LicenseProcessingState: g.LicenseProcessingState, OwnerIDs: g.OwnerIDs}
	return []any{tenantID, g.ID, g.DisplayName, g.MailEnabled, g.SecurityEnabled, g.MembershipRule,
		g.IsLicenseGroup(), int64(g.Categories), g.ITShopOnly, tc(g.CreatedDateTime), false, nil, mustJSON(a)}
}

const groupColumns = "tenant_id, id, display_name, mail_enabled, security_enabled, membership_rule, " +
	"categories, it_shop_only, created_at, deleted, deleted_at, attrs"

func scanGroup(r rowScanner) (directory.Group, error) {
	var g directory.Group
	var a groupAttrs
	err := r.Scan(&g.TenantID, &g.ID, &g.DisplayName, &g.MailEnabled, &g.SecurityEnabled, &g.MembershipRule,
		scanCategories{&g.Categories}, &g.ITShopOnly, scanTime{&g.CreatedDateTime}, &g.Deleted,
		scanTime{&g.DeletedAt}, scanJSON{&a})
	if err != nil {
		return g, err
	}
	g.Description, g.Mail, g.MailNickname, g.GroupTypes = a.Description, a.Mail, a.MailNickname, a.GroupTypes
	g.MembershipRuleProcessingState, g.AssignedLicenses = a.RuleProcessingState, a.AssignedLicenses
	g.LicenseProcessingState, g.OwnerIDs = a.LicenseProcessingState, a.OwnerIDs
	return g, nil
}

func encodeLicenseState(tc timeCodec, tenantID string, l *directory.LicenseState) []any {
	return []any{tenantID, l.UserID, l.SkuID, l.AssignedByGroup, jsonList(l.DisabledPlans), l.State, l.Error, tc(l.LastUpdated)}
}

// licenseStateKey appends a license state's primary key (see appendSortKey).
func licenseStateKey(b []byte, l *directory.LicenseState) []byte {
	return appendSortKey(b, l.UserID, l.SkuID, l.AssignedByGroup)
}

func scanLicenseState(r rowScanner) (directory.LicenseState, error) {
	var l directory.LicenseState
	err := r.Scan(&l.TenantID, &l.UserID, &l.SkuID, &l.AssignedByGroup, scanJSON{&l.DisabledPlans}, &l.State,
		&l.Error, scanTime{&l.LastUpdated})
	if l.DisabledPlans == nil {
		l.DisabledPlans = []string{}
	}
	return l, err
}

func encodeSku(tenantID string, s *directory.Sku) []any {
	plans := "[]"
	if len(s.ServicePlans) > 0 {
		plans = mustJSON(s.ServicePlans)
	}
	return []any{tenantID, s.SkuID, s.SkuPartNumber, s.DisplayName, s.CapabilityStatus, s.AppliesTo,
		int64(s.ConsumedUnits), int64(s.PrepaidEnabled), int64(s.PrepaidSuspended), int64(s.PrepaidWarning),
		int64(s.PrepaidLockedOut), plans, s.MonthlyPriceCents, s.Currency, int64(s.Categories)}
}

func scanSku(r rowScanner) (directory.Sku, error) {
	var s directory.Sku
	var consumed, enabled, suspended, warning, locked int64
	err := r.Scan(&s.TenantID, &s.SkuID, &s.SkuPartNumber, &s.DisplayName, &s.CapabilityStatus, &s.AppliesTo,
		&consumed, &enabled, &suspended, &warning, &locked, scanJSON{&s.ServicePlans}, &s.MonthlyPriceCents,
		&s.Currency, scanCategories{&s.Categories})
	s.ConsumedUnits, s.PrepaidEnabled, s.PrepaidSuspended = int(consumed), int(enabled), int(suspended)
	s.PrepaidWarning, s.PrepaidLockedOut = int(warning), int(locked)
	return s, err
}

// rowScanner is satisfied by *sql.Rows, *sql.Row and pgx rows.
type rowScanner interface{ Scan(dest ...any) error }
