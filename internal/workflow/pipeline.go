package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/warehouse"
)

// Pipeline runs requests through the phases. It holds no state of its own:
// every step is stored in the warehouse, so any process can continue a
// request another one started.
type Pipeline struct {
	Store  warehouse.Store
	Access Access
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Batch reports what a submission did.
type Batch struct {
	ID string `json:"batch_id"`
	// RequestIDs are in the order of the submitted requests.
	RequestIDs []string `json:"request_ids"`
	// Statuses counts requests by status right after submission.
	Statuses map[string]int `json:"statuses"`
	// Changes counts the changes queued.
	Changes int `json:"changes"`
}

// step is a pre- or post-run activity of a matched workflow, remembered with
// the workflow it came from so stop can end just that workflow.
type step struct {
	Workflow string   `json:"workflow"`
	Activity Activity `json:"activity"`
}

// state is a request's progress through the pipeline, stored with it.
type state struct {
	Pre  []step `json:"pre,omitempty"`
	Post []step `json:"post,omitempty"`
	// Bulk sends the changes to the queue pending approval.
	Bulk bool `json:"bulk,omitempty"`
}

// effects are the rows one pipeline step writes, committed together.
type effects struct {
	approvals []warehouse.Approval
	changes   []warehouse.Change
	notes     []warehouse.Notification
	audit     []warehouse.AuditRecord
}

func (fx *effects) commit(ctx context.Context, tx warehouse.Tx) error {
	for _, a := range fx.approvals {
		if err := tx.PutApproval(ctx, a); err != nil {
			return err
		}
	}
	if err := tx.EnqueueChanges(ctx, fx.changes); err != nil {
		return err
	}
	if len(fx.notes) > 0 {
		if err := tx.PutNotifications(ctx, fx.notes); err != nil {
			return err
		}
	}
	if len(fx.audit) > 0 {
		return tx.AppendAudit(ctx, fx.audit)
	}
	return nil
}

// submitChunk bounds how many requests one transaction stores.
const submitChunk = 5000

// Submit validates a batch of requests and runs each through the access
// check, the pre-run activities of the workflows it matches and the pre-run
// policies; those that pass are executed (their changes queued). Requests
// needing approval wait. Invalid input is refused as a whole, naming the
// request and field, and stores nothing.
func (p *Pipeline) Submit(ctx context.Context, tenantID string, reqs []Request) (Batch, error) {
	for i := range reqs {
		if err := reqs[i].validate(i); err != nil {
			return Batch{}, err
		}
	}
	defs, err := Definitions(ctx, p.Store, tenantID)
	if err != nil {
		return Batch{}, err
	}
	b := Batch{ID: newID(), Statuses: map[string]int{}}
	for start := 0; start < len(reqs); start += submitChunk {
		part := reqs[start:min(start+submitChunk, len(reqs))]
		if err := p.submitChunk(ctx, tenantID, defs, part, &b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (p *Pipeline) submitChunk(ctx context.Context, tenantID string, defs []Definition, reqs []Request, b *Batch) error {
	now := p.now()
	f := newFacts(p.Store, tenantID, now)
	var userIDs, groupIDs []string
	for i := range reqs {
		userIDs = append(userIDs, reqs[i].UserID)
		groupIDs = append(groupIDs, reqs[i].GroupID)
	}
	if err := f.prefetch(ctx, uniq(userIDs), uniq(groupIDs)); err != nil {
		return err
	}
	// Rows are stored grouped by operation and target, with time-ordered
	// ids, so the changes fulfilment claims together (one group's adds) sit
	// together on disk and each claim rewrites few pages.
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ra, rb := &reqs[a], &reqs[b]
		return cmp.Or(cmp.Compare(ra.Operation, rb.Operation), cmp.Compare(ra.GroupID, rb.GroupID), cmp.Compare(ra.UserID, rb.UserID))
	})
	ids := make([]string, len(reqs))
	recs := make([]warehouse.Request, 0, len(reqs))
	var fx effects
	for _, i := range order {
		req := &reqs[i]
		spec, err := json.Marshal(req)
		if err != nil {
			return err
		}
		tt, tid := req.Target()
		rec := warehouse.Request{ID: newID(), TenantID: tenantID, BatchID: b.ID, Initiator: req.Initiator.ID,
			Origin: string(req.Origin), Operation: string(req.Operation), TargetType: string(tt), TargetID: tid,
			UserID: req.UserID, Pool: req.Pool, Reason: req.Reason, Status: warehouse.RequestPending, Spec: spec,
			CreatedAt: now}
		var st state
		switch err := p.Access.Check(ctx, req.Initiator.ID, ActionRequest, tenantID, req.scope()); {
		case errors.Is(err, ErrDenied):
			p.deny(&rec, &fx, req.Initiator.ID, "access check: "+err.Error())
		case err != nil:
			return fmt.Errorf("access check of request %d: %w", i+1, err)
		default:
			if st, err = p.match(ctx, f, defs, req); err != nil {
				return err
			}
			if err := p.advance(ctx, f, &rec, req, &st, &fx); err != nil {
				return err
			}
		}
		if rec.State, err = json.Marshal(st); err != nil {
			return err
		}
		recs = append(recs, rec)
		ids[i] = rec.ID
	}
	b.RequestIDs = append(b.RequestIDs, ids...)
	err := p.Store.InTx(ctx, func(tx warehouse.Tx) error {
		if err := tx.PutRequests(ctx, recs); err != nil {
			return err
		}
		return fx.commit(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	for _, r := range recs {
		b.Statuses[r.Status]++
	}
	b.Changes += len(fx.changes)
	return nil
}

// match selects the enabled workflows whose start conditions hold, in run
// order, and lays out their activities: every pre-run activity (in priority
// order) before execution, every post-run activity after.
func (p *Pipeline) match(ctx context.Context, f *facts, defs []Definition, req *Request) (state, error) {
	var st state
	tt, _ := req.Target()
	for _, d := range defs {
		w := d.When
		if !d.Enabled || len(w.Operations) > 0 && !slices.Contains(w.Operations, req.Operation) ||
			len(w.Origins) > 0 && !slices.Contains(w.Origins, req.Origin) ||
			len(w.TargetTypes) > 0 && !slices.Contains(w.TargetTypes, tt) ||
			w.RemovalApproval && !req.RemovalApproval {
			continue
		}
		if w.Filter != "" {
			ok, err := f.matches(ctx, w.Filter, req.UserID)
			if err != nil {
				return st, fmt.Errorf("workflow %q filter: %w", d.Name, err)
			}
			if !ok {
				continue
			}
		}
		for _, a := range d.Activities {
			if a.phase() == PostRun {
				st.Post = append(st.Post, step{d.Name, a})
			} else {
				st.Pre = append(st.Pre, step{d.Name, a})
			}
		}
	}
	return st, nil
}

// advance runs pre-run activities until one waits for a person or none is
// left, then the pre-run policies and execution.
func (p *Pipeline) advance(ctx context.Context, f *facts, rec *warehouse.Request, req *Request, st *state, fx *effects) error {
	for len(st.Pre) > 0 {
		s := st.Pre[0]
		st.Pre = st.Pre[1:]
		a := &s.Activity
		switch a.Kind {
		case KindApproval:
			if a.Bulk && req.Operation.Removal() {
				st.Bulk = true
				continue
			}
			waiting, err := p.askApproval(ctx, f, rec, req, s, fx)
			if err != nil || waiting || rec.Status == warehouse.RequestDenied {
				return err
			}
		case KindNotify:
			if err := p.notify(ctx, f, rec, req, a, noteExtra{}, fx); err != nil {
				return err
			}
		case KindIf:
			ok, err := f.matches(ctx, a.Rule, req.UserID)
			if err != nil {
				return fmt.Errorf("workflow %q if: %w", s.Workflow, err)
			}
			branch := a.Else
			if ok {
				branch = a.Then
			}
			next := make([]step, 0, len(branch)+len(st.Pre))
			for _, b := range branch {
				next = append(next, step{s.Workflow, b})
			}
			st.Pre = append(next, st.Pre...)
		case KindStop:
			st.Pre = slices.DeleteFunc(st.Pre, func(o step) bool { return o.Workflow == s.Workflow })
			st.Post = slices.DeleteFunc(st.Post, func(o step) bool { return o.Workflow == s.Workflow })
			if a.Deny {
				reason := a.Reason
				if reason == "" {
					reason = "stopped by workflow " + s.Workflow
				}
				p.deny(rec, fx, "workflow:"+s.Workflow, reason)
				return nil
			}
		}
	}
	if reason, err := p.prePolicies(ctx, f, req); err != nil || reason != "" {
		if reason != "" {
			p.deny(rec, fx, "policy", reason)
		}
		return err
	}
	p.execute(rec, req, st, fx)
	return nil
}

// prePolicies validates a request against what the directory says (DESIGN.md
// §4 Direct assignment); a non-empty reason denies it.
func (p *Pipeline) prePolicies(ctx context.Context, f *facts, req *Request) (string, error) {
	if req.Operation != AddGroupMember && req.Operation != RemoveGroupMember {
		return "", nil
	}
	g, err := f.group(ctx, req.GroupID)
	if err != nil || g == nil {
		return "", err
	}
	if g.MembershipRule != "" || slices.Contains(g.GroupTypes, "DynamicMembership") {
		return fmt.Sprintf("group %s is dynamic: its rule decides its members", g.DisplayName), nil
	}
	if req.Operation == AddGroupMember && g.ITShopOnly && req.Origin != FromShop {
		return fmt.Sprintf("group %s is obtained only through an IT shop request", g.DisplayName), nil
	}
	return "", nil
}

// execute queues the request's changes; the request waits in the queue
// until they are applied.
func (p *Pipeline) execute(rec *warehouse.Request, req *Request, st *state, fx *effects) {
	status := warehouse.ChangeOpen
	if st.Bulk {
		status = warehouse.ChangePendingApproval
	}
	base := warehouse.Change{TenantID: rec.TenantID, RequestID: rec.ID, UserID: req.UserID, Pool: req.Pool,
		Status: status, Initiator: req.Initiator.ID, Origin: string(req.Origin), Reason: req.Reason}
	add := func(c warehouse.Change) {
		c.ID = newID()
		fx.changes = append(fx.changes, c)
	}
	switch req.Operation {
	case AddGroupMember, RemoveGroupMember:
		c := base
		c.Kind, c.GroupID, c.Op = warehouse.KindGroupMember, req.GroupID, opOf(req.Operation)
		add(c)
	case AddLicense, RemoveLicense:
		for _, l := range req.Licenses {
			c := base
			c.Kind, c.SkuID, c.DisabledPlans, c.Op = warehouse.KindDirectLicense, l.SkuID, l.DisabledPlans, opOf(req.Operation)
			add(c)
		}
	case CreateUser, UpdateUser, DisableUser:
		c := base
		c.Kind = warehouse.KindUser
		c.Op = map[Operation]string{CreateUser: "create", UpdateUser: "update", DisableUser: "disable"}[req.Operation]
		if c.UserID == "" {
			c.UserID, _ = req.Properties["userPrincipalName"].(string)
		}
		c.Payload, _ = json.Marshal(req.Properties)
		add(c)
	case ConvertMailbox:
		c := base
		c.Kind, c.Op = warehouse.KindMailbox, "convert"
		c.Payload, _ = json.Marshal(map[string]string{"type": req.MailboxType})
		add(c)
	}
	rec.Status = warehouse.RequestQueued
}

func opOf(o Operation) string {
	if o.Removal() {
		return warehouse.OpRemove
	}
	return warehouse.OpAdd
}

// deny ends a request before execution and records the decision.
func (p *Pipeline) deny(rec *warehouse.Request, fx *effects, actor, reason string) {
	rec.Status, rec.Detail = warehouse.RequestDenied, reason
	fx.audit = append(fx.audit, warehouse.AuditRecord{At: p.now(), TenantID: rec.TenantID, Actor: actor,
		Action: "request.denied", TargetType: rec.TargetType, TargetID: rec.TargetID, RequestID: rec.ID, Reason: reason,
		Detail: mustJSON(map[string]string{"operation": rec.Operation, "user": rec.UserID, "initiator": rec.Initiator})})
}

// newID returns a time-ordered (version 7) UUID: rows inserted together get
// neighbouring keys, which keeps index pages of a busy queue few and warm.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings reach here
	}
	return b
}

func uniq(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// decode reads the submitted request and its progress back from a row.
func decode(rec *warehouse.Request) (*Request, *state, error) {
	var req Request
	var st state
	if err := json.Unmarshal(rec.Spec, &req); err != nil {
		return nil, nil, fmt.Errorf("request %s: stored spec is corrupt: %w", rec.ID, err)
	}
	if len(rec.State) > 0 {
		if err := json.Unmarshal(rec.State, &st); err != nil {
			return nil, nil, fmt.Errorf("request %s: stored state is corrupt: %w", rec.ID, err)
		}
	}
	return &req, &st, nil
}

// PostRun runs the post-run phase of up to limit requests the warehouse has
// settled as applied, and marks them completed. It returns how many it ran.
func (p *Pipeline) PostRun(ctx context.Context, tenantID, owner string, limit int) (int, error) {
	recs, err := p.Store.ClaimRequests(ctx, tenantID, warehouse.RequestApplied, owner, limit, 5*time.Minute)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	f := newFacts(p.Store, tenantID, p.now())
	var fx effects
	for i := range recs {
		rec := &recs[i]
		req, st, err := decode(rec)
		if err != nil {
			return 0, err
		}
		for _, s := range st.Post {
			if err := p.notify(ctx, f, rec, req, &s.Activity, noteExtra{}, &fx); err != nil {
				return 0, err
			}
		}
		rec.Status = warehouse.RequestCompleted
	}
	err = p.Store.InTx(ctx, func(tx warehouse.Tx) error {
		for _, rec := range recs {
			if err := tx.UpdateRequest(ctx, rec); err != nil {
				return err
			}
		}
		return fx.commit(ctx, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("post-run: %w", err)
	}
	return len(recs), nil
}
