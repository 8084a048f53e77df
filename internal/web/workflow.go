package web

import (
	"context"
	"time"
)

// Workflow is what the server needs from the request pipeline. The server
// never writes requests or changes itself: it hands them to the pipeline,
// which runs the access check (the same access.Service.Check), approvals
// and fulfilment.
type Workflow interface {
	// SubmitPlan submits the current plan of the named pools (all pools when
	// none are named) as requests initiated by actor.
	SubmitPlan(ctx context.Context, actor, tenantID string, pools []string) (Submitted, error)
	// Requests lists a tenant's requests, newest first.
	Requests(ctx context.Context, tenantID string, f ListFilter) ([]RequestView, error)
	// Changes lists a tenant's change-queue rows, newest first.
	Changes(ctx context.Context, tenantID string, f ListFilter) ([]ChangeView, error)
	// Decide approves or rejects pending changes, effective at the given
	// date, as actor; it returns how many it decided.
	Decide(ctx context.Context, actor, tenantID string, d Decision) (int, error)
}

// ListFilter narrows Requests and Changes; zero fields do not filter.
type ListFilter struct {
	Status    string
	Pool      string
	RequestID string
	Limit     int
}

// Submitted reports what a plan submission created.
type Submitted struct {
	Requests int `json:"requests"`
	Changes  int `json:"changes"`
	// PendingApproval counts changes waiting for an approver.
	PendingApproval int `json:"pending_approval"`
}

// Decision is an approver's choice over some pending changes.
type Decision struct {
	ChangeIDs []string  `json:"change_ids"`
	Approve   bool      `json:"approve"`
	Effective time.Time `json:"effective"`
	Reason    string    `json:"reason,omitempty"`
}

// RequestView is one request as the console and API show it.
type RequestView struct {
	ID        string    `json:"id"`
	Initiator string    `json:"initiator"`
	Origin    string    `json:"origin"`
	Operation string    `json:"operation"`
	Target    string    `json:"target"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ChangeView is one row of the change queue.
type ChangeView struct {
	ID          string     `json:"id"`
	RequestID   string     `json:"request_id,omitempty"`
	Op          string     `json:"op"`
	Kind        string     `json:"kind"`
	UserID      string     `json:"user_id"`
	UPN         string     `json:"user_principal_name,omitempty"`
	GroupID     string     `json:"group_id,omitempty"`
	SkuID       string     `json:"sku_id,omitempty"`
	Pool        string     `json:"pool,omitempty"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	EffectiveAt *time.Time `json:"effective_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// errNoWorkflow is what workflow routes answer until the pipeline is wired.
var errNoWorkflow = errNotImplemented("the request pipeline (internal/workflow) is not wired into this server yet: " +
	"plans cannot be applied and requests, approvals and changes cannot be listed")

func (s *Server) workflow() (Workflow, error) {
	if s.cfg.Workflow == nil {
		return nil, errNoWorkflow
	}
	return s.cfg.Workflow, nil
}
