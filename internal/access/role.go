package access

import (
	"fmt"
	"slices"
	"strings"
)

// Role is a named bundle of actions, granted to principals by delegation.
type Role string

// The roles. Their actions are fixed in code so that what a role means
// cannot drift between installations.
const (
	// Administrator may do everything, including managing tenants and access.
	Administrator Role = "administrator"
	// LicenseManager edits pools, applies plans and changes licenses.
	LicenseManager Role = "license-manager"
	// Approver decides pending changes (removals needing approval).
	Approver Role = "approver"
	// Helpdesk looks people up and requests license and group changes for them.
	Helpdesk Role = "helpdesk"
	// Requester submits requests and follows them, nothing else.
	Requester Role = "requester"
	// Auditor reads everything, including the audit log, and changes nothing.
	Auditor Role = "auditor"
)

// Roles lists every role in the order the console shows them.
var Roles = []Role{Administrator, LicenseManager, Approver, Helpdesk, Requester, Auditor}

// Action is one thing a principal may be allowed to do.
type Action string

// The actions every route and the workflow pipeline check.
const (
	// ReadDirectory: tenants' dashboards, users, groups, SKUs.
	ReadDirectory Action = "directory.read"
	// ReadPolicy: pools and plans.
	ReadPolicy Action = "policy.read"
	// WritePolicy: create, change and delete pools.
	WritePolicy Action = "policy.write"
	// ApplyPlan: turn a plan into requests.
	ApplyPlan Action = "plan.apply"
	// SubmitRequest: request a license or group change for a user.
	SubmitRequest Action = "request.submit"
	// ReadRequests: requests and the change queue.
	ReadRequests Action = "request.read"
	// DecideApproval: approve or reject pending changes.
	DecideApproval Action = "approval.decide"
	// ReadAudit: the audit log.
	ReadAudit Action = "audit.read"
	// ManageTenants: register tenants and sync them on demand.
	ManageTenants Action = "tenant.manage"
	// ManageAccess: principals, delegations and tokens of others.
	ManageAccess Action = "access.manage"
	// ReadMetrics: the Prometheus metrics at /metrics. They name every
	// tenant, so only a delegation over all tenants covers them.
	ReadMetrics Action = "metrics.read"
)

// Actions lists every action.
var Actions = []Action{ReadDirectory, ReadPolicy, WritePolicy, ApplyPlan, SubmitRequest, ReadRequests,
	DecideApproval, ReadAudit, ManageTenants, ManageAccess, ReadMetrics}

var roleActions = map[Role][]Action{
	Administrator:  Actions,
	LicenseManager: {ReadDirectory, ReadPolicy, WritePolicy, ApplyPlan, SubmitRequest, ReadRequests, ReadAudit},
	Approver:       {ReadDirectory, ReadPolicy, ReadRequests, DecideApproval},
	Helpdesk:       {ReadDirectory, ReadPolicy, SubmitRequest, ReadRequests},
	Requester:      {SubmitRequest, ReadRequests},
	Auditor:        {ReadDirectory, ReadPolicy, ReadRequests, ReadAudit, ReadMetrics},
}

// Allows reports whether the role includes the action.
func (r Role) Allows(a Action) bool { return slices.Contains(roleActions[r], a) }

// ParseRole accepts a role name in any case, with - or _ or a space.
func ParseRole(s string) (Role, error) {
	norm := strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(strings.TrimSpace(s)))
	for _, r := range Roles {
		if string(r) == norm {
			return r, nil
		}
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("%w role %q: want one of %s", ErrInvalid, s, strings.Join(names, ", "))
}

// Scope is where an action happens: a tenant, and within it optionally a
// pool or a group. The zero Scope means "allot itself" (tenant registry,
// access management): only delegations over every tenant cover it.
type Scope struct {
	TenantID string `json:"tenant_id,omitempty"`
	Pool     string `json:"pool,omitempty"`
	GroupID  string `json:"group_id,omitempty"`
}

func (s Scope) String() string {
	switch {
	case s.TenantID == "":
		return "all tenants"
	case s.Pool != "":
		return "pool " + s.Pool + " of tenant " + s.TenantID
	case s.GroupID != "":
		return "group " + s.GroupID + " of tenant " + s.TenantID
	}
	return "tenant " + s.TenantID
}

// covers reports whether a delegation scope d includes the target scope t.
// A pool- or group-scoped delegation covers targets naming that pool or
// group; a target naming both (a pool's change to its license group) is
// covered by either.
func (d Scope) covers(t Scope) bool {
	switch {
	case d.TenantID == "":
		return true
	case d.TenantID != t.TenantID:
		return false
	case d.Pool == "" && d.GroupID == "":
		return true
	}
	return (d.Pool != "" && strings.EqualFold(d.Pool, t.Pool)) ||
		(d.GroupID != "" && strings.EqualFold(d.GroupID, t.GroupID))
}
