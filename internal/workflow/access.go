package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrDenied is wrapped by every refusal of the access check, so callers can
// tell "not allowed" from a failure to decide.
var ErrDenied = errors.New("access denied")

// Actions the pipeline asks Access about.
const (
	// ActionRequest: submit a request whose scope is the given one.
	ActionRequest = "request"
	// ActionApprove: decide approvals (and pending removals) in the scope.
	ActionApprove = "approve"
)

// Principal is someone who acts in allot: an operator, an approver, a
// requester. A directory user acts as the principal whose ID is the user's
// object id (so a group's owners can decide without a separate account).
type Principal struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Scope is what a request or an approval touches. Empty fields are not
// part of the scope; a delegation covers a scope when it covers every
// non-empty field.
type Scope struct {
	Pool    string `json:"pool,omitempty"`
	GroupID string `json:"group_id,omitempty"`
	UserID  string `json:"user_id,omitempty"`
}

// Access decides who may do what. internal/access implements it over
// principals, roles and delegations; the pipeline depends only on this.
type Access interface {
	// Check returns nil when principal may perform action on scope in the
	// tenant, and an error wrapping ErrDenied when it may not. Any other
	// error means the decision could not be made (and nothing is done).
	Check(ctx context.Context, principal, action, tenantID string, scope Scope) error
	// Approvers lists the principals holding an approver delegation that
	// covers scope, with the email address notifications go to.
	Approvers(ctx context.Context, tenantID string, scope Scope) ([]Principal, error)
}

// Delegation grants a principal actions on a scope. Empty scope fields match
// anything, so a Delegation with a zero Scope covers the whole tenant.
type Delegation struct {
	Principal Principal
	TenantID  string // "" = every tenant
	Actions   []string
	Scope     Scope
}

func (d Delegation) covers(action, tenantID string, s Scope) bool {
	return (d.TenantID == "" || d.TenantID == tenantID) && slices.Contains(d.Actions, action) &&
		(d.Scope.Pool == "" || d.Scope.Pool == s.Pool) &&
		(d.Scope.GroupID == "" || d.Scope.GroupID == s.GroupID) &&
		(d.Scope.UserID == "" || d.Scope.UserID == s.UserID)
}

// StaticAccess is an Access over an in-memory list of delegations, for
// tests (which grant and revoke delegations as a scenario needs) and
// benchmarks. Servers, workers and the CLI decide with internal/access.
type StaticAccess struct {
	mu          sync.RWMutex
	delegations []Delegation
}

// NewStaticAccess returns an Access over ds.
func NewStaticAccess(ds ...Delegation) *StaticAccess {
	return &StaticAccess{delegations: slices.Clone(ds)}
}

// Grant adds a delegation.
func (a *StaticAccess) Grant(d Delegation) {
	a.mu.Lock()
	a.delegations = append(a.delegations, d)
	a.mu.Unlock()
}

// Revoke removes every delegation of a principal.
func (a *StaticAccess) Revoke(principalID string) {
	a.mu.Lock()
	a.delegations = slices.DeleteFunc(a.delegations, func(d Delegation) bool { return d.Principal.ID == principalID })
	a.mu.Unlock()
}

// Check implements Access.
func (a *StaticAccess) Check(_ context.Context, principal, action, tenantID string, s Scope) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, d := range a.delegations {
		if d.Principal.ID == principal && d.covers(action, tenantID, s) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s may not %s in %+v", ErrDenied, principal, action, s)
}

// Approvers implements Access.
func (a *StaticAccess) Approvers(_ context.Context, tenantID string, s Scope) ([]Principal, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []Principal
	for _, d := range a.delegations {
		if d.covers(ActionApprove, tenantID, s) && !slices.ContainsFunc(out, func(p Principal) bool { return p.ID == d.Principal.ID }) {
			out = append(out, d.Principal)
		}
	}
	return out, nil
}
