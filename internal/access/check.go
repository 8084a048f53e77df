package access

import (
	"context"
	"slices"

	"github.com/allot-dev/allot/internal/warehouse"
)

// Check is the one authorisation decision in allot. It allows the action
// when some delegation of the principal has a role including the action and
// a scope covering the target, and, for a token, when the token's scopes
// include the action. An account that must change its password may do
// nothing until it has.
func (s *Service) Check(_ context.Context, p *Principal, a Action, target Scope) error {
	if p == nil {
		return ErrUnauthenticated
	}
	if p.MustChangePassword {
		return ErrPasswordChangeRequired
	}
	if allowed(p, a, func(d Scope) bool { return d.covers(target) }) {
		return nil
	}
	return &DeniedError{Principal: p.Name, Action: a, Scope: target}
}

// CheckPrincipal loads a principal by id or name and checks it: the form the
// workflow pipeline uses, where the initiator is stored by id.
func (s *Service) CheckPrincipal(ctx context.Context, principal string, a Action, target Scope) error {
	p, err := s.loadActive(ctx, principal)
	if err != nil {
		return err
	}
	return s.Check(ctx, p, a, target)
}

// Anywhere reports whether the principal may do the action on at least part
// of a tenant (any tenant when tenantID is ""). The console uses it to decide
// which pages and tenants to show; routes still call Check per target.
func Anywhere(p *Principal, a Action, tenantID string) bool {
	return p != nil && !p.MustChangePassword && allowed(p, a, func(d Scope) bool {
		return tenantID == "" || d.TenantID == "" || d.TenantID == tenantID
	})
}

func allowed(p *Principal, a Action, covers func(Scope) bool) bool {
	if p.Token != nil && !tokenAllows(p.Token.Scopes, a) {
		return false
	}
	for _, d := range p.Delegations {
		if Role(d.Role).Allows(a) && covers(scopeOf(d)) {
			return true
		}
	}
	return false
}

func scopeOf(d warehouse.Delegation) Scope {
	return Scope{TenantID: d.TenantID, Pool: d.Pool, GroupID: d.GroupID}
}

// Approvers lists the active principals who may decide changes in target:
// those holding a delegation with DecideApproval covering it. The approval
// job routes pending removals to them.
func (s *Service) Approvers(ctx context.Context, target Scope) ([]warehouse.Principal, error) {
	ds, err := s.Store.ListDelegations(ctx, "")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, d := range ds {
		if Role(d.Role).Allows(DecideApproval) && scopeOf(d).covers(target) && !slices.Contains(ids, d.PrincipalID) {
			ids = append(ids, d.PrincipalID)
		}
	}
	var out []warehouse.Principal
	for _, id := range ids {
		p, err := s.Store.GetPrincipal(ctx, id)
		if err != nil {
			return nil, err
		}
		if !p.Disabled {
			out = append(out, p)
		}
	}
	return out, nil
}
