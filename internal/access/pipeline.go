package access

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/allot-dev/allot/internal/workflow"
)

// Pipeline adapts the service to the request pipeline's access check, so
// the pipeline decides with the same Check as every API route. Principals
// are named by login name (or id) in requests and approvals.
type Pipeline struct{ S *Service }

var _ workflow.Access = Pipeline{}

// pipelineActions maps the pipeline's verbs to actions.
var pipelineActions = map[string]Action{
	workflow.ActionRequest: SubmitRequest,
	workflow.ActionApprove: DecideApproval,
}

// Check implements workflow.Access. Refusals, unknown and disabled
// principals wrap workflow.ErrDenied; other errors mean no decision.
func (p Pipeline) Check(ctx context.Context, principal, action, tenantID string, s workflow.Scope) error {
	a, ok := pipelineActions[action]
	if !ok {
		a = Action(action)
	}
	err := p.S.CheckPrincipal(ctx, principal, a, Scope{TenantID: tenantID, Pool: s.Pool, GroupID: s.GroupID})
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrPasswordChangeRequired) {
		return fmt.Errorf("%w: %w", workflow.ErrDenied, err)
	}
	return err
}

// Approvers implements workflow.Access: the active principals whose
// delegations let them decide approvals in the scope. A login name that is
// an address doubles as the notification address.
func (p Pipeline) Approvers(ctx context.Context, tenantID string, s workflow.Scope) ([]workflow.Principal, error) {
	ps, err := p.S.Approvers(ctx, Scope{TenantID: tenantID, Pool: s.Pool, GroupID: s.GroupID})
	if err != nil {
		return nil, err
	}
	out := make([]workflow.Principal, 0, len(ps))
	for _, wp := range ps {
		wfp := workflow.Principal{ID: wp.Name, Name: wp.DisplayName}
		if strings.Contains(wp.Name, "@") {
			wfp.Email = wp.Name
		}
		out = append(out, wfp)
	}
	return out, nil
}
