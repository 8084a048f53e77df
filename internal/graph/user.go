package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// UserSelect is every user property allot's licensing decisions and rules
// read. Graph returns most of them only when selected (reference/graph.md §1).
var UserSelect = []string{
	"id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "mailNickname",
	"otherMails", "proxyAddresses", "jobTitle", "department", "companyName", "employeeId",
	"employeeType", "employeeHireDate", "employeeLeaveDateTime", "officeLocation", "streetAddress",
	"city", "state", "postalCode", "country", "usageLocation", "preferredLanguage", "businessPhones",
	"mobilePhone", "faxNumber", "userType", "accountEnabled", "onPremisesSyncEnabled",
	"onPremisesDistinguishedName", "onPremisesSecurityIdentifier", "onPremisesImmutableId",
	"onPremisesExtensionAttributes", "passwordPolicies", "createdDateTime",
	"assignedLicenses", "assignedPlans", "licenseAssignmentStates", "provisionedPlans",
}

// UserSelectCompact is UserSelect without assignedPlans and
// provisionedPlans. Those two are about 95 % of a user's bytes (one entry per
// service plan of every SKU: ~10 kB per licensed user against ~0.5 kB for
// everything else) and follow from assignedLicenses (with disabledPlans) and
// the SKUs' servicePlans, so a bulk sync that needs speed selects this and
// derives plans, fetching the full set only where capability status matters.
var UserSelectCompact = slices.DeleteFunc(slices.Clone(UserSelect), func(p string) bool {
	return p == "assignedPlans" || p == "provisionedPlans"
})

// Page size limits of /users (reference/graph.md §1).
const (
	maxUsersTop       = 999
	maxSignInUsersTop = 500
)

// Call names, used in errors, logs and metrics.
const (
	opListUsers          = "ListUsers"
	opListUsersByLicense = "ListUsersByLicense"
	opCreateUser         = "CreateUser"
	opUpdateUser         = "UpdateUser"
	opAssignLicense      = "AssignLicense"
	opLicenseDetails     = "ListLicenseDetails"
)

// Application permissions named in 403 errors (least privileged first).
const (
	permUserRead      = "User.Read.All"
	permSignIn        = "User.Read.All and AuditLog.Read.All (signInActivity also needs Entra ID P1)"
	permUserWrite     = "User.ReadWrite.All"
	permLicenseAssign = "LicenseAssignment.ReadWrite.All"
)

// UserListOptions shape a users listing. The zero value lists every user
// with UserSelect, 999 per page.
type UserListOptions struct {
	// Select replaces UserSelect.
	Select []string
	// Filter is an OData $filter, passed as is.
	Filter string
	// Eventual turns on advanced queries (ConsistencyLevel: eventual and
	// $count=true on every page), needed by ne/not/endsWith filters.
	Eventual bool
	// SignInActivity adds signInActivity, which lowers the page size to
	// 500. On a tenant without Entra ID P1 (or without AuditLog.Read.All)
	// Graph answers 403; the listing is then restarted without it and the
	// pages report Selected("signInActivity") == false.
	SignInActivity bool
	// Top overrides the page size (capped at Graph's maximum).
	Top int
}

// ListUsers streams users page by page.
func (c *Client) ListUsers(ctx context.Context, opt UserListOptions, fn PageFunc[User]) error {
	return c.listUsers(ctx, opListUsers, opt, fn)
}

// ListUsersByLicense streams the users holding skuID (directly or through a
// group). It exists because user delta does not track
// licenseAssignmentStates, so license states are refreshed by this filter.
// Graph expires the page tokens of this filter unless every page carries
// the advanced-query parameters, so they are always sent.
func (c *Client) ListUsersByLicense(ctx context.Context, skuID string, opt UserListOptions, fn PageFunc[User]) error {
	if !isGUID(skuID) {
		return fmt.Errorf("graph: %s: %w: sku id %q is not a GUID", opListUsersByLicense, ErrInvalidInput, skuID)
	}
	f := "assignedLicenses/any(x:x/skuId eq " + strings.ToLower(skuID) + ")"
	if opt.Filter != "" {
		f = "(" + opt.Filter + ") and " + f
	}
	opt.Filter, opt.Eventual = f, true
	return c.listUsers(ctx, opListUsersByLicense, opt, fn)
}

func (c *Client) listUsers(ctx context.Context, op string, opt UserListOptions, fn PageFunc[User]) error {
	q := Query{Op: op, Path: "/users", Eventual: opt.Eventual, Permission: permUserRead, Params: url.Values{}}
	sel := opt.Select
	if sel == nil {
		sel = UserSelect
	}
	top := maxUsersTop
	if opt.SignInActivity {
		sel = append(slices.Clip(sel), "signInActivity")
		top = maxSignInUsersTop
		q.Permission = permSignIn
	}
	if opt.Top > 0 && opt.Top < top {
		top = opt.Top
	}
	q.Params.Set("$select", strings.Join(sel, ","))
	q.Params.Set("$top", strconv.Itoa(top))
	if opt.Filter != "" {
		q.Params.Set("$filter", opt.Filter)
	}
	delivered := false
	_, err := forEachPage(ctx, c, q, func(p *Page, items []User) error {
		delivered = true
		return fn(p, items)
	})
	var ge *Error
	if opt.SignInActivity && !delivered && errors.As(err, &ge) && ge.Status == http.StatusForbidden {
		// signInActivity is the only premium part of the query; retry
		// without it rather than fail the whole inventory.
		c.log.WarnContext(ctx, "signInActivity unavailable; listing users without it",
			"op", op, "code", ge.Code, "request_id", ge.RequestID)
		opt.SignInActivity = false
		return c.listUsers(ctx, op, opt, fn)
	}
	return err
}

// AssignLicense adds and removes a user's direct licenses in one call and
// returns the updated user. Re-sending a held SKU with new DisabledPlans
// changes its plans. Failures (no free seats, missing usage location,
// conflicting plans) come back as *Error with Graph's message.
func (c *Client) AssignLicense(ctx context.Context, userID string, add []AssignedLicense, remove []string) (*User, error) {
	if err := needID(opAssignLicense, "user id", userID); err != nil {
		return nil, err
	}
	var u User
	err := c.post(ctx, opAssignLicense, permLicenseAssign, "/users/"+url.PathEscape(userID)+"/assignLicense",
		assignLicenseBody(add, remove), &u)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

type assignLicenseRequest struct {
	AddLicenses    []AssignedLicense `json:"addLicenses"`
	RemoveLicenses []string          `json:"removeLicenses"`
}

// assignLicenseBody normalises nil slices to [] because Graph rejects a
// missing or null array in assignLicense.
func assignLicenseBody(add []AssignedLicense, remove []string) assignLicenseRequest {
	b := assignLicenseRequest{AddLicenses: make([]AssignedLicense, len(add)), RemoveLicenses: remove}
	for i, l := range add {
		if l.DisabledPlans == nil {
			l.DisabledPlans = []string{}
		}
		b.AddLicenses[i] = l
	}
	if b.RemoveLicenses == nil {
		b.RemoveLicenses = []string{}
	}
	return b
}

// NewUser is the body of a user creation; Graph requires AccountEnabled,
// DisplayName, MailNickname, UserPrincipalName and PasswordProfile.
type NewUser struct {
	AccountEnabled    bool             `json:"accountEnabled"`
	DisplayName       string           `json:"displayName"`
	MailNickname      string           `json:"mailNickname"`
	UserPrincipalName string           `json:"userPrincipalName"`
	PasswordProfile   *PasswordProfile `json:"passwordProfile,omitempty"`
	GivenName         string           `json:"givenName,omitempty"`
	Surname           string           `json:"surname,omitempty"`
	JobTitle          string           `json:"jobTitle,omitempty"`
	Department        string           `json:"department,omitempty"`
	CompanyName       string           `json:"companyName,omitempty"`
	EmployeeID        string           `json:"employeeId,omitempty"`
	EmployeeType      string           `json:"employeeType,omitempty"`
	OfficeLocation    string           `json:"officeLocation,omitempty"`
	City              string           `json:"city,omitempty"`
	Country           string           `json:"country,omitempty"`
	UsageLocation     string           `json:"usageLocation,omitempty"`
	UserType          string           `json:"userType,omitempty"`
}

// PasswordProfile is the initial password of a new user. It is sent to
// Graph and nowhere else: the client never logs bodies.
type PasswordProfile struct {
	Password                      string `json:"password"`
	ForceChangePasswordNextSignIn bool   `json:"forceChangePasswordNextSignIn"`
}

// CreateUser creates a user and returns it as Graph stored it (with its id).
func (c *Client) CreateUser(ctx context.Context, u NewUser) (*User, error) {
	for field, v := range map[string]string{"displayName": u.DisplayName, "mailNickname": u.MailNickname, "userPrincipalName": u.UserPrincipalName} {
		if strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("graph: %s: %w: %s is required", opCreateUser, ErrInvalidInput, field)
		}
	}
	var out User
	if err := c.post(ctx, opCreateUser, permUserWrite, "/users", u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateUser PATCHes user properties. A map rather than a struct because
// PATCH must distinguish "leave alone" (absent) from "clear" (nil value).
func (c *Client) UpdateUser(ctx context.Context, userID string, patch map[string]any) error {
	if err := needID(opUpdateUser, "user id", userID); err != nil {
		return err
	}
	if len(patch) == 0 {
		return fmt.Errorf("graph: %s: %w: empty patch", opUpdateUser, ErrInvalidInput)
	}
	cl, err := c.newCall(opUpdateUser, permUserWrite, http.MethodPatch, "/users/"+url.PathEscape(userID), nil, patch)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, cl)
	return err
}

// ListLicenseDetails streams the SKUs a user holds with their plans.
func (c *Client) ListLicenseDetails(ctx context.Context, userID string, fn PageFunc[LicenseDetails]) error {
	if err := needID(opLicenseDetails, "user id", userID); err != nil {
		return err
	}
	_, err := forEachPage(ctx, c, Query{Op: opLicenseDetails, Path: "/users/" + url.PathEscape(userID) + "/licenseDetails",
		Permission: permUserRead}, fn)
	return err
}

// post sends a JSON POST and decodes a JSON answer into out (when non-nil
// and the body is not empty).
func (c *Client) post(ctx context.Context, op, perm, path string, body, out any) error {
	cl, err := c.newCall(op, perm, http.MethodPost, path, nil, body)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if out == nil || len(resp.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("graph: %s: %w: %v", op, ErrMalformed, err)
	}
	return nil
}

func needID(op, what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("graph: %s: %w: %s is empty", op, ErrInvalidInput, what)
	}
	return nil
}

// isGUID reports whether s is a GUID in the 8-4-4-4-12 form Graph uses; ids
// that end up inside $filter expressions must be, or they could change the
// expression.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
