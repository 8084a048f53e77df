package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Approval kinds.
const (
	ApprovalRequest  = "request"
	ApprovalRemovals = "removals"
)

// ErrDecided means the approval was decided already (or expired).
var ErrDecided = errors.New("approval already decided")

// approvers lists who can decide an approval activity of req.
func (p *Pipeline) approvers(ctx context.Context, f *facts, tenantID string, req *Request, source string) ([]Principal, error) {
	if source != ApproverOwner {
		return p.Access.Approvers(ctx, tenantID, req.scope())
	}
	g, err := f.group(ctx, req.GroupID)
	if err != nil || g == nil {
		return nil, err
	}
	return p.owners(ctx, f, g)
}

// owners are a group's owners as principals: a directory user acts as the
// principal with its object id.
func (p *Pipeline) owners(ctx context.Context, f *facts, g *directory.Group) ([]Principal, error) {
	var out []Principal
	for _, id := range g.OwnerIDs {
		pr := Principal{ID: id}
		u, err := f.user(ctx, id)
		if err != nil {
			return nil, err
		}
		if u != nil {
			if u.Deleted {
				continue
			}
			pr.Name, pr.Email = u.DisplayName, u.Mail
		}
		out = append(out, pr)
	}
	return out, nil
}

// askApproval creates the approval for an activity and tells the approvers.
// It reports whether the request now waits.
func (p *Pipeline) askApproval(ctx context.Context, f *facts, rec *warehouse.Request, req *Request, s step, fx *effects) (bool, error) {
	source := s.Activity.Approvers
	if source == "" {
		source = ApproverDelegation
	}
	who, err := p.approvers(ctx, f, rec.TenantID, req, source)
	if err != nil {
		return false, fmt.Errorf("approvers of request %s: %w", rec.ID, err)
	}
	if len(who) == 0 && s.Activity.DenyIfNone {
		reason := "nobody can approve it"
		if source == ApproverOwner {
			reason = "the group has no owner to approve it"
		}
		p.deny(rec, fx, "workflow:"+s.Workflow, reason)
		return false, nil
	}
	a := warehouse.Approval{ID: newID(), TenantID: rec.TenantID, Kind: ApprovalRequest, RequestID: rec.ID,
		Workflow: s.Workflow, Pool: req.Pool, GroupID: req.GroupID, Source: source, Approvers: mustJSON(who),
		Status: "pending", CreatedAt: p.now()}
	fx.approvals = append(fx.approvals, a)
	rec.Status = warehouse.RequestAwaitingApproval
	ask := Activity{Kind: KindNotify, To: []string{"approvers"},
		Subject: "Approval needed: {{.Request.Operation}} for {{.User.DisplayName}}",
		Body: "{{.Request.Initiator}} asks to {{.Request.Operation}} for {{.User.DisplayName}}" +
			"{{if .Group.DisplayName}} ({{.Group.DisplayName}}){{end}}.\nReason: {{.Request.Reason}}\n" +
			"Approval id: {{.ApprovalID}}\n"}
	return true, p.notify(ctx, f, rec, req, &ask, noteExtra{approvers: who, approvalID: a.ID}, fx)
}

// mayDecide checks that by can still decide a: an approver who lost the
// delegation, or an owner no longer owning the group, cannot.
func (p *Pipeline) mayDecide(ctx context.Context, f *facts, a *warehouse.Approval, by Principal) error {
	if a.Source == ApproverOwner {
		g, err := f.group(ctx, a.GroupID)
		if err != nil {
			return err
		}
		if g == nil || !slices.Contains(g.OwnerIDs, by.ID) {
			return fmt.Errorf("%w: %s is not an owner of group %s", ErrDenied, by.ID, a.GroupID)
		}
		return nil
	}
	return p.Access.Check(ctx, by.ID, ActionApprove, a.TenantID, Scope{Pool: a.Pool, GroupID: a.GroupID})
}

// Decide records an approver's decision on a request approval. Approval
// lets the request continue (further activities, then execution);
// rejection ends it before execution.
func (p *Pipeline) Decide(ctx context.Context, approvalID string, by Principal, approve bool, comment string) error {
	a, err := p.Store.GetApproval(ctx, approvalID)
	if err != nil {
		return err
	}
	if a.Kind != ApprovalRequest {
		return fmt.Errorf("approval %s routes removals: decide it with DecideRemovals", approvalID)
	}
	if a.Status != "pending" {
		return fmt.Errorf("approval %s: %w (%s)", approvalID, ErrDecided, a.Status)
	}
	rec, err := p.Store.GetRequest(ctx, a.RequestID)
	if err != nil {
		return err
	}
	f := newFacts(p.Store, a.TenantID, p.now())
	if err := p.mayDecide(ctx, f, &a, by); err != nil {
		return err
	}
	req, st, err := decode(&rec)
	if err != nil {
		return err
	}
	verdict := "rejected"
	if approve {
		verdict = "approved"
	}
	var fx effects
	fx.audit = append(fx.audit, warehouse.AuditRecord{At: p.now(), TenantID: a.TenantID, Actor: by.ID,
		Action: "approval." + verdict, TargetType: rec.TargetType, TargetID: rec.TargetID, RequestID: rec.ID, Reason: comment,
		Detail: mustJSON(map[string]string{"approval": a.ID, "workflow": a.Workflow, "operation": rec.Operation, "user": rec.UserID})})
	if approve {
		rec.Status = warehouse.RequestPending
		if err := p.advance(ctx, f, &rec, req, st, &fx); err != nil {
			return err
		}
	} else {
		rec.Status, rec.Detail = warehouse.RequestRejected, comment
	}
	if rec.State, err = json.Marshal(st); err != nil {
		return err
	}
	return p.Store.InTx(ctx, func(tx warehouse.Tx) error {
		if _, err := tx.DecideApproval(ctx, a.ID, verdict, by.ID, comment, p.now()); err != nil {
			if errors.Is(err, warehouse.ErrConflict) {
				return fmt.Errorf("approval %s: %w", approvalID, ErrDecided)
			}
			return err
		}
		if err := tx.UpdateRequest(ctx, rec); err != nil {
			return err
		}
		return fx.commit(ctx, tx)
	})
}

// RemovalBatchSize is how many pending removals one approver batch holds.
const RemovalBatchSize = 100

// RouteRemovals is the removal-approval job's step: for each pool with
// unrouted pending removals and at least one approver, it claims up to 100
// of them into a new approval batch and tells the approvers. Batches left
// undecided for longer than ttl (0 = never) are released to be routed
// again. It returns the batches created.
func (p *Pipeline) RouteRemovals(ctx context.Context, tenantID string, ttl time.Duration) ([]warehouse.Approval, error) {
	if ttl > 0 {
		if err := p.expireBatches(ctx, tenantID, ttl); err != nil {
			return nil, err
		}
	}
	pools, err := p.Store.PendingApprovalPools(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []warehouse.Approval
	for _, pool := range pools {
		who, err := p.Access.Approvers(ctx, tenantID, Scope{Pool: pool})
		if err != nil {
			return out, err
		}
		if len(who) == 0 {
			// They wait for someone to be delegated; the tick runs every
			// few seconds, so this is not worth a warning each time.
			p.logger().Debug("pending removals have no approver", "tenant", tenantID, "pool", pool)
			continue
		}
		a := warehouse.Approval{ID: newID(), TenantID: tenantID, Kind: ApprovalRemovals, Pool: pool,
			Source: ApproverDelegation, Approvers: mustJSON(who), Status: "pending", CreatedAt: p.now()}
		// The approval row is written first so a batch never points at a
		// missing approval; an empty batch is closed at once.
		if err := p.Store.PutApproval(ctx, a); err != nil {
			return out, err
		}
		cs, err := p.Store.RouteRemovals(ctx, tenantID, pool, a.ID, RemovalBatchSize)
		if err != nil {
			return out, err
		}
		if len(cs) == 0 {
			_, err := p.Store.DecideApproval(ctx, a.ID, "empty", "allot", "", p.now())
			if err != nil && !errors.Is(err, warehouse.ErrConflict) {
				return out, err
			}
			continue
		}
		var fx effects
		note := Activity{Kind: KindNotify, To: []string{"approvers"},
			Subject: "{{.Count}} license removals of pool {{.Pool}} await your decision",
			Body:    "{{.Count}} removals proposed by pool {{.Pool}} wait for approval.\nApproval id: {{.ApprovalID}}\n"}
		rec := warehouse.Request{TenantID: tenantID, Pool: pool}
		if err := p.notify(ctx, newFacts(p.Store, tenantID, p.now()), &rec, &Request{Pool: pool}, &note,
			noteExtra{approvers: who, approvalID: a.ID, count: len(cs)}, &fx); err != nil {
			return out, err
		}
		if err := p.Store.InTx(ctx, func(tx warehouse.Tx) error { return fx.commit(ctx, tx) }); err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (p *Pipeline) expireBatches(ctx context.Context, tenantID string, ttl time.Duration) error {
	pending, err := p.Store.ListApprovals(ctx, warehouse.ApprovalFilter{TenantID: tenantID, Status: "pending"})
	if err != nil {
		return err
	}
	for _, a := range pending {
		if a.Kind != ApprovalRemovals || p.now().Sub(a.CreatedAt) < ttl {
			continue
		}
		err := p.Store.InTx(ctx, func(tx warehouse.Tx) error {
			if _, err := tx.DecideApproval(ctx, a.ID, "expired", "allot", "not decided in time", p.now()); err != nil {
				return err
			}
			return tx.DecideRemovals(ctx, a.ID, nil, nil, time.Time{})
		})
		if err != nil && !errors.Is(err, warehouse.ErrConflict) {
			return err
		}
	}
	return nil
}

// RemovalDecision is an approver's answer to a batch of pending removals.
type RemovalDecision struct {
	Approve []string // change ids to approve
	Reject  []string // change ids to reject
	// EffectiveAt is when approved removals take effect (zero = now).
	EffectiveAt time.Time
	Comment     string
}

// DecideRemovals applies an approver's choice to a batch: approved changes
// become open and are fulfilled when due, rejected ones end their requests,
// and the rest stay pending to be routed again. The approver must still hold
// an approver delegation for the pool.
func (p *Pipeline) DecideRemovals(ctx context.Context, approvalID string, by Principal, d RemovalDecision) error {
	a, err := p.Store.GetApproval(ctx, approvalID)
	if err != nil {
		return err
	}
	if a.Kind != ApprovalRemovals {
		return fmt.Errorf("approval %s is for one request: decide it with Decide", approvalID)
	}
	if err := p.mayDecide(ctx, nil, &a, by); err != nil {
		return err
	}
	if d.EffectiveAt.IsZero() {
		d.EffectiveAt = p.now()
	}
	cs, err := p.Store.ListChanges(ctx, warehouse.ChangeFilter{ApprovalID: a.ID, Status: warehouse.ChangePendingApproval, Limit: RemovalBatchSize})
	if err != nil {
		return err
	}
	inBatch := map[string]warehouse.Change{}
	for _, c := range cs {
		inBatch[c.ID] = c
	}
	var audit []warehouse.AuditRecord
	for verdict, ids := range map[string][]string{"approved": d.Approve, "rejected": d.Reject} {
		for _, id := range ids {
			c, ok := inBatch[id]
			if !ok {
				return fmt.Errorf("%w: change %s is not pending in approval %s", ErrInvalidRequest, id, approvalID)
			}
			audit = append(audit, warehouse.AuditRecord{At: p.now(), TenantID: a.TenantID, Actor: by.ID,
				Action: "removal." + verdict, TargetType: "user", TargetID: c.UserID, RequestID: c.RequestID, Reason: d.Comment,
				Detail: mustJSON(map[string]string{"approval": a.ID, "change": c.ID, "pool": c.Pool, "group": c.GroupID,
					"sku": c.SkuID, "effective_at": d.EffectiveAt.Format(time.RFC3339)})})
		}
	}
	return p.Store.InTx(ctx, func(tx warehouse.Tx) error {
		if _, err := tx.DecideApproval(ctx, a.ID, "decided", by.ID, d.Comment, p.now()); err != nil {
			if errors.Is(err, warehouse.ErrConflict) {
				return fmt.Errorf("approval %s: %w", approvalID, ErrDecided)
			}
			return err
		}
		if err := tx.DecideRemovals(ctx, a.ID, d.Approve, d.Reject, d.EffectiveAt); err != nil {
			return err
		}
		if len(audit) == 0 {
			return nil
		}
		return tx.AppendAudit(ctx, audit)
	})
}
