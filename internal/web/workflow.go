package web

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/workflow"
)

// The server never writes requests or changes itself: plans and decisions go
// through the pipeline, which runs the access check (access.Pipeline, the
// same Check the routes use), approvals, and hands changes to fulfilment.

var errNoPipeline = errNotImplemented("this server runs without the request pipeline: " +
	"plans cannot be applied and approvals cannot be decided")

func (s *Server) pipeline() (*workflow.Pipeline, error) {
	if s.cfg.Pipeline == nil {
		return nil, errNoPipeline
	}
	return s.cfg.Pipeline, nil
}

// initiator is how the signed-in principal appears in requests, approvals
// and the audit log: by login name, which access.Pipeline resolves.
func (r *request) initiator() workflow.Principal {
	return workflow.Principal{ID: r.me.Name, Name: r.me.DisplayName}
}

// Submitted reports what a plan submission created.
type Submitted struct {
	BatchID  string         `json:"batch_id"`
	Requests int            `json:"requests"`
	Statuses map[string]int `json:"statuses"`
	Changes  int            `json:"changes"`
	// PendingApproval counts queued changes that wait for an approver.
	PendingApproval int64 `json:"pending_approval"`
}

func containsFold(xs []string, x string) bool {
	for _, v := range xs {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

// submitPlan checks ApplyPlan on every named pool (every pool the principal
// may apply when none are named), recomputes the plan and submits it.
func (s *Server) submitPlan(r *request, names []string) (Submitted, error) {
	p, err := s.pipeline()
	if err != nil {
		return Submitted{}, err
	}
	pools, err := s.pools(r.Context(), r.tenant.ID)
	if err != nil {
		return Submitted{}, err
	}
	if len(names) == 0 {
		for _, pool := range pools {
			if s.check(r, access.ApplyPlan, pool.Name, pool.Target.Group) == nil {
				names = append(names, pool.Name)
			}
		}
	}
	for _, n := range names {
		if _, err := s.findPool(r, access.ApplyPlan, n); err != nil {
			return Submitted{}, err
		}
	}
	if len(names) == 0 {
		return Submitted{}, errorf(http.StatusUnprocessableEntity, "invalid", "no pools to apply")
	}
	plan, _, err := s.plan(r.Context(), r.tenant.ID)
	if err != nil {
		return Submitted{}, err
	}
	chosen := *plan
	chosen.Pools = nil
	for _, pp := range plan.Pools {
		if pp.Error == "" && containsFold(names, pp.Pool) {
			chosen.Pools = append(chosen.Pools, pp)
		}
	}
	reqs := workflow.FromPlan(&chosen, r.initiator(), "applied from the console or API by "+r.me.Name)
	if len(reqs) == 0 {
		return Submitted{Statuses: map[string]int{}}, nil
	}
	b, err := p.Submit(r.Context(), r.tenant.ID, reqs)
	if err != nil {
		return Submitted{}, pipelineError(err)
	}
	res := Submitted{BatchID: b.ID, Requests: len(b.RequestIDs), Statuses: b.Statuses, Changes: b.Changes}
	counts, err := s.cfg.Store.CountChanges(r.Context(), warehouse.ChangeFilter{TenantID: r.tenant.ID, BatchID: b.ID})
	if err != nil {
		return res, err
	}
	res.PendingApproval = counts[warehouse.ChangePendingApproval]
	return res, nil
}

// ListFilter narrows request and change lists.
type ListFilter struct {
	Status    string
	RequestID string
	Limit     int
}

func listFilter(r *request) ListFilter {
	q := r.URL.Query()
	f := ListFilter{Status: q.Get("status"), RequestID: q.Get("request"), Limit: 500}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		f.Limit = min(n, 10000)
	}
	return f
}

// visibleChanges lists a tenant's changes, newest first, keeping those whose
// pool or group the principal may do action on.
func (s *Server) visibleChanges(r *request, action access.Action, f ListFilter) ([]warehouse.Change, error) {
	cs, err := s.cfg.Store.ListChanges(r.Context(), warehouse.ChangeFilter{TenantID: r.tenant.ID, Status: f.Status,
		RequestID: f.RequestID, Limit: 10000})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].UpdatedAt.After(cs[j].UpdatedAt) })
	out := []warehouse.Change{}
	for _, c := range cs {
		if len(out) == f.Limit {
			break
		}
		if s.check(r, action, c.Pool, c.GroupID) == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// visibleRequests lists a tenant's requests, newest first, in the
// principal's scope.
func (s *Server) visibleRequests(r *request, f ListFilter) ([]warehouse.Request, error) {
	rs, err := s.cfg.Store.ListRequests(r.Context(), warehouse.RequestFilter{TenantID: r.tenant.ID, Status: f.Status, Limit: 10000})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].CreatedAt.After(rs[j].CreatedAt) })
	out := []warehouse.Request{}
	for _, q := range rs {
		if len(out) == f.Limit {
			break
		}
		group := ""
		if q.TargetType == "group" {
			group = q.TargetID
		}
		if s.check(r, access.ReadRequests, q.Pool, group) == nil {
			out = append(out, q)
		}
	}
	return out, nil
}

// Pending is one approval waiting for the principal, with the changes it
// covers (a batch of removals) or the request it holds back.
type Pending struct {
	Approval warehouse.Approval `json:"approval"`
	Changes  []warehouse.Change `json:"changes,omitempty"`
	Request  *warehouse.Request `json:"request,omitempty"`
}

// inbox lists the pending approvals the principal may decide. Removals not
// yet routed into a batch are counted apart: the pipeline's next tick
// routes them.
func (s *Server) inbox(r *request) ([]Pending, int, error) {
	as, err := s.cfg.Store.ListApprovals(r.Context(), warehouse.ApprovalFilter{TenantID: r.tenant.ID, Status: "pending"})
	if err != nil {
		return nil, 0, err
	}
	out := []Pending{}
	for _, a := range as {
		if s.check(r, access.DecideApproval, a.Pool, a.GroupID) != nil {
			continue
		}
		p := Pending{Approval: a}
		if a.Kind == workflow.ApprovalRemovals {
			if p.Changes, err = s.cfg.Store.ListChanges(r.Context(), warehouse.ChangeFilter{ApprovalID: a.ID,
				Status: warehouse.ChangePendingApproval}); err != nil {
				return nil, 0, err
			}
			if len(p.Changes) == 0 {
				continue
			}
		} else if a.RequestID != "" {
			q, err := s.cfg.Store.GetRequest(r.Context(), a.RequestID)
			if err != nil {
				return nil, 0, err
			}
			p.Request = &q
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Approval.CreatedAt.Before(out[j].Approval.CreatedAt) })
	unrouted := 0
	pending, err := s.cfg.Store.ListChanges(r.Context(), warehouse.ChangeFilter{TenantID: r.tenant.ID,
		Status: warehouse.ChangePendingApproval, Limit: 10000})
	if err != nil {
		return nil, 0, err
	}
	for _, c := range pending {
		if c.ApprovalID == "" && s.check(r, access.DecideApproval, c.Pool, c.GroupID) == nil {
			unrouted++
		}
	}
	return out, unrouted, nil
}

// Decision is an approver's choice. Changes lists change ids of removal
// batches; Approvals lists request approvals. Unselected removals stay
// pending and are routed again.
type Decision struct {
	Approve   bool      `json:"approve"`
	Changes   []string  `json:"changes,omitempty"`
	Approvals []string  `json:"approvals,omitempty"`
	Effective time.Time `json:"effective,omitzero"`
	Comment   string    `json:"comment,omitempty"`
}

// decide applies a decision: the chosen removals of each batch (the rest of
// the batch returns to the pending pool) and the chosen request approvals.
// The pipeline checks the approver's delegation again.
func (s *Server) decide(r *request, d Decision) (int, error) {
	p, err := s.pipeline()
	if err != nil {
		return 0, err
	}
	if len(d.Changes)+len(d.Approvals) == 0 {
		return 0, errorf(http.StatusUnprocessableEntity, "invalid", "choose at least one change or approval")
	}
	if d.Effective.IsZero() || d.Effective.Before(s.now()) {
		d.Effective = s.now()
	}
	inbox, _, err := s.inbox(r)
	if err != nil {
		return 0, err
	}
	byChange := map[string]string{}
	requestApprovals := map[string]bool{}
	for _, pnd := range inbox {
		for _, c := range pnd.Changes {
			byChange[c.ID] = pnd.Approval.ID
		}
		if pnd.Request != nil {
			requestApprovals[pnd.Approval.ID] = true
		}
	}
	batches := map[string][]string{}
	for _, id := range d.Changes {
		a, ok := byChange[id]
		if !ok {
			return 0, errorf(http.StatusConflict, "conflict", fmt.Sprintf("change %s is not waiting for your decision (decided already, or not in your scope)", id))
		}
		batches[a] = append(batches[a], id)
	}
	for _, id := range d.Approvals {
		if !requestApprovals[id] {
			return 0, errorf(http.StatusConflict, "conflict", fmt.Sprintf("approval %s is not waiting for your decision", id))
		}
	}
	n := 0
	for a, ids := range batches {
		rd := workflow.RemovalDecision{EffectiveAt: d.Effective, Comment: d.Comment}
		if d.Approve {
			rd.Approve = ids
		} else {
			rd.Reject = ids
		}
		if err := p.DecideRemovals(r.Context(), a, r.initiator(), rd); err != nil {
			return n, pipelineError(err)
		}
		n += len(ids)
	}
	for _, a := range d.Approvals {
		if err := p.Decide(r.Context(), a, r.initiator(), d.Approve, d.Comment); err != nil {
			return n, pipelineError(err)
		}
		n++
	}
	return n, nil
}

// pipelineError maps the pipeline's refusals to HTTP errors.
func pipelineError(err error) error {
	switch {
	case errors.Is(err, workflow.ErrDenied):
		return errorf(http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, workflow.ErrDecided):
		return errorf(http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, workflow.ErrInvalidRequest):
		return errorf(http.StatusUnprocessableEntity, "invalid", err.Error())
	}
	return err
}
