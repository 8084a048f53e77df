package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// ErrConflict means a row was not in the state the caller expected, e.g. an
// approval already decided or a change no longer claimed by the caller.
var ErrConflict = errors.New("conflict")

// Change statuses (DESIGN.md §4 Change queue).
const (
	ChangePendingApproval = "pending_approval"
	ChangeOpen            = "open"
	ChangeClaimed         = "claimed"
	ChangeDone            = "done"
	ChangeFailed          = "failed"
	ChangeRejected        = "rejected"
	ChangeSuperseded      = "superseded"
)

// Change kinds and operations.
const (
	KindGroupMember   = "group_member"
	KindDirectLicense = "direct_license"
	KindUser          = "user"    // create | update | disable a user; Payload holds the properties
	KindMailbox       = "mailbox" // convert; Payload holds {"type": "Shared"|"Regular"}
	OpAdd             = "add"
	OpRemove          = "remove"
)

// Request statuses. The pipeline (internal/workflow) moves a request through
// them; the warehouse itself settles a queued request once none of its
// changes can move any more, because that happens in the same transaction
// as the change that finished it.
const (
	RequestPending          = "pending"           // pre-run activities under way
	RequestAwaitingApproval = "awaiting_approval" // an approval activity waits for a decision
	RequestDenied           = "denied"            // access check, policy or workflow said no
	RequestRejected         = "rejected"          // an approver said no
	RequestQueued           = "queued"            // execution: changes are in the queue
	RequestApplied          = "applied"           // every change landed; post-run phase next
	RequestFailed           = "failed"            // a change failed for good
	RequestSuperseded       = "superseded"        // a newer request made it moot
	RequestCompleted        = "completed"         // post-run phase done
)

// WorkflowReader reads requests, workflow definitions, approvals, the change
// queue and notifications.
type WorkflowReader interface {
	GetRequest(ctx context.Context, id string) (Request, error)
	ListRequests(ctx context.Context, f RequestFilter) ([]Request, error)
	ListWorkflows(ctx context.Context, tenantID string) ([]WorkflowRecord, error)
	GetApproval(ctx context.Context, id string) (Approval, error)
	ListApprovals(ctx context.Context, f ApprovalFilter) ([]Approval, error)
	ListChanges(ctx context.Context, f ChangeFilter) ([]Change, error)
	// CountChanges counts changes by status.
	CountChanges(ctx context.Context, f ChangeFilter) (map[string]int64, error)
	// PendingApprovalPools lists pools with pending removals not yet routed
	// to an approver batch.
	PendingApprovalPools(ctx context.Context, tenantID string) ([]string, error)
	// UserGroupIDs lists the groups a user is a direct member of, for rules
	// using memberOf.
	UserGroupIDs(ctx context.Context, tenantID, userID string) ([]string, error)
	ListNotifications(ctx context.Context, f NotificationFilter) ([]Notification, error)
}

// WorkflowWriter writes them.
type WorkflowWriter interface {
	// PutRequests inserts new requests (ErrAlreadyExists on a known id).
	PutRequests(ctx context.Context, rs []Request) error
	// UpdateRequest stores a request's status, detail and state.
	UpdateRequest(ctx context.Context, r Request) error
	// ClaimRequests leases up to limit requests in status to owner, oldest
	// first, so one worker runs the phase that follows.
	ClaimRequests(ctx context.Context, tenantID, status, owner string, limit int, lease time.Duration) ([]Request, error)

	PutWorkflow(ctx context.Context, w WorkflowRecord) (WorkflowRecord, error)
	DeleteWorkflow(ctx context.Context, tenantID, name string) error

	PutApproval(ctx context.Context, a Approval) error
	// DecideApproval records a decision on a pending approval; ErrConflict
	// when it was already decided.
	DecideApproval(ctx context.Context, id, status, by, comment string, at time.Time) (Approval, error)

	// EnqueueChanges adds changes to the queue. A newer change supersedes an
	// older opposite one still pending or open on the same user and target;
	// a change identical to one already queued is recorded as superseded at
	// once, so a plan submitted twice is applied once.
	EnqueueChanges(ctx context.Context, cs []Change) error
	// ClaimChanges leases due changes to a worker.
	ClaimChanges(ctx context.Context, c ChangeClaim) ([]Change, error)
	// ExtendLease pushes the lease of changes the owner still holds.
	ExtendLease(ctx context.Context, owner string, ids []string, until time.Time) error
	// FinishChanges records outcomes of changes claimed by owner and returns
	// those that moved (a change whose lease another worker took over is
	// left alone). Requests with no movable change left are settled.
	FinishChanges(ctx context.Context, owner string, outs []ChangeOutcome) ([]Change, error)
	// RouteRemovals assigns up to limit unrouted pending removals of a pool
	// to approval batch approvalID and returns them.
	RouteRemovals(ctx context.Context, tenantID, pool, approvalID string, limit int) ([]Change, error)
	// DecideRemovals opens the approved changes of a batch at effectiveAt,
	// rejects the rejected ones and returns the rest to the pending pool,
	// to be routed again.
	DecideRemovals(ctx context.Context, approvalID string, approve, reject []string, effectiveAt time.Time) error

	PutNotifications(ctx context.Context, ns []Notification) error
	ClaimNotifications(ctx context.Context, owner string, limit int, lease time.Duration) ([]Notification, error)
	// FinishNotification marks a notification sent, or failed (status
	// "failed"), or schedules another attempt (status "pending").
	FinishNotification(ctx context.Context, n Notification) error

	// TakeWriteBudget reserves n writes from the tenant's shared token
	// bucket (capacity tokens, refilled at perSec) and returns how long the
	// caller must wait before sending them. A negative n returns tokens.
	TakeWriteBudget(ctx context.Context, tenantID string, n, capacity, perSec float64) (time.Duration, error)
	// PauseWriteBudget empties the bucket so that every process waits d
	// before its next write, as Graph asked with Retry-After.
	PauseWriteBudget(ctx context.Context, tenantID string, d time.Duration, perSec float64) error

	// PutLicenseStates and DeleteLicenseStates change single license rows
	// (user, SKU, assigning group) as fulfilment lands them, without
	// replacing the user's other licenses.
	PutLicenseStates(ctx context.Context, tenantID string, ls []directory.LicenseState) error
	DeleteLicenseStates(ctx context.Context, tenantID string, ls []directory.LicenseState) error
}

// Request is one requested change as the pipeline stores it.
type Request struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant_id"`
	BatchID    string `json:"batch_id,omitempty"`
	Initiator  string `json:"initiator"`
	Origin     string `json:"origin"`
	Operation  string `json:"operation"`
	TargetType string `json:"target_type"`
	TargetID   string `json:"target_id"`
	UserID     string `json:"user_id,omitempty"`
	Pool       string `json:"pool,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Status     string `json:"status"`
	// Detail says why a request ended as it did (denial, rejection comment,
	// Graph's error).
	Detail string `json:"detail,omitempty"`
	// Spec holds the operation's parameters and State the pipeline's
	// progress; both are JSON owned by internal/workflow.
	Spec       json.RawMessage `json:"spec,omitempty"`
	State      json.RawMessage `json:"state,omitempty"`
	ClaimedBy  string          `json:"claimed_by,omitempty"`
	LeaseUntil *time.Time      `json:"lease_until,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// RequestFilter narrows ListRequests; zero fields do not filter.
type RequestFilter struct {
	TenantID string
	BatchID  string
	Status   string
	AfterID  string // pages forwards by id
	Limit    int    // default 1000, max 10000
}

// WorkflowRecord stores a workflow definition; Spec is JSON owned by
// internal/workflow.
type WorkflowRecord struct {
	TenantID  string          `json:"tenant_id"`
	Name      string          `json:"name"`
	Enabled   bool            `json:"enabled"`
	Priority  int             `json:"priority"`
	Spec      json.RawMessage `json:"spec"`
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Approval is a decision someone must take.
type Approval struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	// Kind is "request" (one request waits) or "removals" (a batch of
	// pending removals of Pool).
	Kind      string `json:"kind"`
	RequestID string `json:"request_id,omitempty"`
	Workflow  string `json:"workflow,omitempty"`
	Pool      string `json:"pool,omitempty"`
	GroupID   string `json:"group_id,omitempty"`
	// Source says who may decide: "delegation" (principals with an approver
	// delegation for the scope) or "owner" (the target group's owners).
	Source string `json:"source"`
	// Approvers are the principals asked, as JSON owned by internal/workflow.
	Approvers json.RawMessage `json:"approvers,omitempty"`
	Status    string          `json:"status"` // pending, approved, rejected, decided
	DecidedBy string          `json:"decided_by,omitempty"`
	Comment   string          `json:"comment,omitempty"`
	DecidedAt *time.Time      `json:"decided_at,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// ApprovalFilter narrows ListApprovals.
type ApprovalFilter struct {
	TenantID  string
	Status    string
	RequestID string
	Limit     int // default 1000
}

// Change is one row of the change queue.
type Change struct {
	ID            string          `json:"id"`
	TenantID      string          `json:"tenant_id"`
	RequestID     string          `json:"request_id,omitempty"`
	Op            string          `json:"op"`
	Kind          string          `json:"kind"`
	UserID        string          `json:"user_id"`
	GroupID       string          `json:"group_id,omitempty"`
	SkuID         string          `json:"sku_id,omitempty"`
	DisabledPlans []string        `json:"disabled_plans,omitempty"`
	Pool          string          `json:"pool,omitempty"`
	Status        string          `json:"status"`
	Attempts      int             `json:"attempts"`
	LastError     string          `json:"last_error,omitempty"`
	EffectiveAt   *time.Time      `json:"effective_at,omitempty"`
	ClaimedBy     string          `json:"claimed_by,omitempty"`
	LeaseUntil    *time.Time      `json:"lease_until,omitempty"`
	Initiator     string          `json:"initiator,omitempty"`
	Origin        string          `json:"origin,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	Payload       json.RawMessage `json:"payload,omitempty"`
	ApprovalID    string          `json:"approval_id,omitempty"`
	AttemptAfter  *time.Time      `json:"attempt_after,omitempty"`
	// Result says how a done change landed: "applied", or "already" when
	// Graph reported the desired state already held.
	Result    string     `json:"result,omitempty"`
	DoneAt    *time.Time `json:"done_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// key identifies what a change acts on; two changes with one key compete.
func (c *Change) key() [4]string { return [4]string{c.UserID, c.GroupID, c.SkuID, c.Kind} }

// ChangeFilter narrows ListChanges and CountChanges.
type ChangeFilter struct {
	TenantID   string
	RequestID  string
	BatchID    string // changes of the requests of one submission
	ApprovalID string
	Status     string
	AfterID    string
	Limit      int // ListChanges: default 1000, max 10000
}

// ChangeClaim asks for due changes. Group-member adds are claimed apart,
// ordered by group, so they pack into 20-member PATCHes.
type ChangeClaim struct {
	TenantID  string
	Owner     string
	Lease     time.Duration
	GroupAdds int // how many group-member adds at most
	Others    int // how many other changes at most
}

// ChangeOutcome is what a worker learned about one claimed change. Status
// is ChangeDone, ChangeFailed, or ChangeOpen to retry after AttemptAfter.
type ChangeOutcome struct {
	ID           string
	Status       string
	Result       string
	LastError    string
	AttemptAfter *time.Time
}

// Notification is an email or webhook call waiting to be delivered.
type Notification struct {
	ID        string `json:"id"`
	TenantID  string `json:"tenant_id"`
	RequestID string `json:"request_id,omitempty"`
	Channel   string `json:"channel"`   // email | webhook
	Recipient string `json:"recipient"` // address or URL
	Subject   string `json:"subject,omitempty"`
	Body      string `json:"body"`
	// Status is pending, sent or failed.
	Status       string     `json:"status"`
	Attempts     int        `json:"attempts"`
	LastError    string     `json:"last_error,omitempty"`
	AttemptAfter *time.Time `json:"attempt_after,omitempty"`
	ClaimedBy    string     `json:"claimed_by,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// NotificationFilter narrows ListNotifications.
type NotificationFilter struct {
	TenantID  string
	RequestID string
	Status    string
}

// ---- requests ----

const requestColumns = "id, tenant_id, batch_id, initiator, origin, operation, target_type, target_id, user_id, pool, " +
	"reason, status, detail, spec, state, claimed_by, lease_until, created_at, updated_at"

func scanRequest(r rowScanner) (Request, error) {
	var q Request
	var spec, state string
	var created, updated *time.Time
	err := r.Scan(&q.ID, &q.TenantID, &q.BatchID, &q.Initiator, &q.Origin, &q.Operation, &q.TargetType, &q.TargetID,
		&q.UserID, &q.Pool, &q.Reason, &q.Status, &q.Detail, &spec, &state, &q.ClaimedBy, scanTime{&q.LeaseUntil},
		scanTime{&created}, scanTime{&updated})
	q.Spec, q.State = json.RawMessage(spec), json.RawMessage(state)
	if created != nil {
		q.CreatedAt = *created
	}
	if updated != nil {
		q.UpdatedAt = *updated
	}
	return q, err
}

func jsonOr(raw json.RawMessage, def string) string {
	if len(raw) == 0 {
		return def
	}
	return string(raw)
}

func (q *queries) PutRequests(ctx context.Context, rs []Request) error {
	for _, r := range rs {
		if r.ID == "" || r.TenantID == "" || r.Initiator == "" || r.Operation == "" || r.Status == "" {
			return fmt.Errorf("%w request %q: id, tenant, initiator, operation and status are required", directory.ErrInvalid, r.ID)
		}
		if len(r.Spec) > 0 && !json.Valid(r.Spec) || len(r.State) > 0 && !json.Valid(r.State) {
			return fmt.Errorf("%w request %q: spec and state must be JSON", directory.ErrInvalid, r.ID)
		}
	}
	now := time.Now().UTC()
	return q.write(ctx, func(c conn) error {
		for _, r := range rs {
			if r.CreatedAt.IsZero() {
				r.CreatedAt = now
			}
			n, err := c.exec(ctx, "INSERT INTO requests ("+requestColumns+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "+
				"ON CONFLICT DO NOTHING", r.ID, r.TenantID, r.BatchID, r.Initiator, r.Origin, r.Operation, r.TargetType,
				r.TargetID, r.UserID, r.Pool, r.Reason, r.Status, r.Detail, jsonOr(r.Spec, "{}"), jsonOr(r.State, "{}"),
				"", nil, c.time(&r.CreatedAt), c.time(&now))
			if err != nil {
				return fmt.Errorf("put request: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("request %s: %w", r.ID, ErrAlreadyExists)
			}
		}
		return nil
	})
}

func (q *queries) UpdateRequest(ctx context.Context, r Request) error {
	if len(r.State) > 0 && !json.Valid(r.State) {
		return fmt.Errorf("%w request %q: state must be JSON", directory.ErrInvalid, r.ID)
	}
	now := time.Now().UTC()
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "UPDATE requests SET status = ?, detail = ?, state = ?, claimed_by = '', lease_until = NULL, "+
			"updated_at = ? WHERE id = ?", r.Status, r.Detail, jsonOr(r.State, "{}"), c.time(&now), r.ID)
		if err == nil && n == 0 {
			err = fmt.Errorf("request %s: %w", r.ID, ErrNotFound)
		}
		return err
	})
}

func (q *queries) GetRequest(ctx context.Context, id string) (Request, error) {
	var out Request
	found := false
	err := scanAll(ctx, q.reader(), "SELECT "+requestColumns+" FROM requests WHERE id = ?", []any{id},
		func(r rows) (err error) { out, err = scanRequest(r); found = true; return err })
	if err == nil && !found {
		err = fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	return out, err
}

func (q *queries) ListRequests(ctx context.Context, f RequestFilter) ([]Request, error) {
	var w where
	w.add(f.TenantID != "", "tenant_id = ?", f.TenantID)
	w.add(f.BatchID != "", "batch_id = ?", f.BatchID)
	w.add(f.Status != "", "status = ?", f.Status)
	w.add(f.AfterID != "", "id > ?", f.AfterID)
	var out []Request
	err := scanAll(ctx, q.reader(), "SELECT "+requestColumns+" FROM requests"+w.sql()+" ORDER BY id LIMIT ?",
		append(w.args, limitOf(f.Limit)), func(r rows) error {
			req, err := scanRequest(r)
			out = append(out, req)
			return err
		})
	return out, err
}

func (q *queries) ClaimRequests(ctx context.Context, tenantID, status, owner string, limit int, lease time.Duration) ([]Request, error) {
	var out []Request
	err := q.write(ctx, func(c conn) error {
		now := time.Now().UTC()
		until := now.Add(lease)
		return scanAll(ctx, c, "UPDATE requests SET claimed_by = ?, lease_until = ? WHERE id IN (SELECT id FROM requests "+
			"WHERE tenant_id = ? AND status = ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?"+c.skipLocked()+
			") RETURNING "+requestColumns, []any{owner, c.time(&until), tenantID, status, c.time(&now), max(limit, 1)},
			func(r rows) error {
				req, err := scanRequest(r)
				out = append(out, req)
				return err
			})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// ---- workflow definitions ----

func (q *queries) PutWorkflow(ctx context.Context, w WorkflowRecord) (WorkflowRecord, error) {
	if strings.TrimSpace(w.Name) == "" {
		return w, fmt.Errorf("%w workflow: name is required", directory.ErrInvalid)
	}
	if !json.Valid(w.Spec) {
		return w, fmt.Errorf("%w workflow %q: spec is not valid JSON", directory.ErrInvalid, w.Name)
	}
	w.UpdatedAt = time.Now().UTC()
	err := q.write(ctx, func(c conn) error {
		return scanAll(ctx, c, "INSERT INTO workflows (tenant_id, name, enabled, priority, spec, version, updated_at) "+
			"VALUES (?,?,?,?,?,1,?) ON CONFLICT (tenant_id, name) DO UPDATE SET enabled = excluded.enabled, "+
			"priority = excluded.priority, spec = excluded.spec, version = workflows.version + 1, updated_at = excluded.updated_at "+
			"RETURNING version", []any{w.TenantID, w.Name, w.Enabled, w.Priority, string(w.Spec), c.time(&w.UpdatedAt)},
			func(r rows) error { return r.Scan(&w.Version) })
	})
	return w, err
}

func (q *queries) DeleteWorkflow(ctx context.Context, tenantID, name string) error {
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "DELETE FROM workflows WHERE tenant_id = ? AND name = ?", tenantID, name)
		if err == nil && n == 0 {
			err = fmt.Errorf("workflow %q: %w", name, ErrNotFound)
		}
		return err
	})
}

func (q *queries) ListWorkflows(ctx context.Context, tenantID string) ([]WorkflowRecord, error) {
	var out []WorkflowRecord
	err := scanAll(ctx, q.reader(), "SELECT tenant_id, name, enabled, priority, spec, version, updated_at FROM workflows "+
		"WHERE tenant_id = ? ORDER BY priority, name", []any{tenantID}, func(r rows) error {
		var w WorkflowRecord
		var spec string
		var updated *time.Time
		var prio int64
		if err := r.Scan(&w.TenantID, &w.Name, &w.Enabled, &prio, &spec, &w.Version, scanTime{&updated}); err != nil {
			return err
		}
		w.Priority, w.Spec = int(prio), json.RawMessage(spec)
		if updated != nil {
			w.UpdatedAt = *updated
		}
		out = append(out, w)
		return nil
	})
	return out, err
}

// ---- approvals ----

const approvalColumns = "id, tenant_id, kind, request_id, workflow, pool, group_id, source, approvers, status, " +
	"decided_by, comment, decided_at, created_at"

func scanApproval(r rowScanner) (Approval, error) {
	var a Approval
	var approvers string
	var created *time.Time
	err := r.Scan(&a.ID, &a.TenantID, &a.Kind, &a.RequestID, &a.Workflow, &a.Pool, &a.GroupID, &a.Source, &approvers,
		&a.Status, &a.DecidedBy, &a.Comment, scanTime{&a.DecidedAt}, scanTime{&created})
	a.Approvers = json.RawMessage(approvers)
	if created != nil {
		a.CreatedAt = *created
	}
	return a, err
}

func (q *queries) PutApproval(ctx context.Context, a Approval) error {
	if a.ID == "" || a.TenantID == "" || a.Kind == "" || a.Source == "" || a.Status == "" {
		return fmt.Errorf("%w approval: id, tenant, kind, source and status are required", directory.ErrInvalid)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now().UTC()
	}
	return q.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, "INSERT INTO approvals ("+approvalColumns+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			a.ID, a.TenantID, a.Kind, a.RequestID, a.Workflow, a.Pool, a.GroupID, a.Source, jsonOr(a.Approvers, "[]"),
			a.Status, a.DecidedBy, a.Comment, c.time(a.DecidedAt), c.time(&a.CreatedAt))
		if err != nil {
			return fmt.Errorf("put approval: %w", err)
		}
		return nil
	})
}

func (q *queries) DecideApproval(ctx context.Context, id, status, by, comment string, at time.Time) (Approval, error) {
	var out Approval
	err := q.write(ctx, func(c conn) error {
		found := false
		err := scanAll(ctx, c, "UPDATE approvals SET status = ?, decided_by = ?, comment = ?, decided_at = ? "+
			"WHERE id = ? AND status = 'pending' RETURNING "+approvalColumns, []any{status, by, comment, c.time(&at), id},
			func(r rows) (err error) { out, err = scanApproval(r); found = true; return err })
		if err == nil && !found {
			err = fmt.Errorf("approval %s is not pending: %w", id, ErrConflict)
		}
		return err
	})
	return out, err
}

func (q *queries) GetApproval(ctx context.Context, id string) (Approval, error) {
	var out Approval
	found := false
	err := scanAll(ctx, q.reader(), "SELECT "+approvalColumns+" FROM approvals WHERE id = ?", []any{id},
		func(r rows) (err error) { out, err = scanApproval(r); found = true; return err })
	if err == nil && !found {
		err = fmt.Errorf("approval %s: %w", id, ErrNotFound)
	}
	return out, err
}

func (q *queries) ListApprovals(ctx context.Context, f ApprovalFilter) ([]Approval, error) {
	var w where
	w.add(f.TenantID != "", "tenant_id = ?", f.TenantID)
	w.add(f.Status != "", "status = ?", f.Status)
	w.add(f.RequestID != "", "request_id = ?", f.RequestID)
	var out []Approval
	err := scanAll(ctx, q.reader(), "SELECT "+approvalColumns+" FROM approvals"+w.sql()+" ORDER BY created_at, id LIMIT ?",
		append(w.args, limitOf(f.Limit)), func(r rows) error {
			a, err := scanApproval(r)
			out = append(out, a)
			return err
		})
	return out, err
}

// ---- changes ----

const changeColumns = "id, tenant_id, request_id, op, kind, user_id, group_id, sku_id, disabled_plans, pool, status, " +
	"attempts, last_error, effective_at, claimed_by, lease_until, initiator, origin, reason, payload, approval_id, " +
	"attempt_after, result, done_at, created_at, updated_at"

func scanChange(r rowScanner) (Change, error) {
	var ch Change
	var payload string
	var attempts int64
	var created, updated *time.Time
	err := r.Scan(&ch.ID, &ch.TenantID, &ch.RequestID, &ch.Op, &ch.Kind, &ch.UserID, &ch.GroupID, &ch.SkuID,
		scanJSON{&ch.DisabledPlans}, &ch.Pool, &ch.Status, &attempts, &ch.LastError, scanTime{&ch.EffectiveAt},
		&ch.ClaimedBy, scanTime{&ch.LeaseUntil}, &ch.Initiator, &ch.Origin, &ch.Reason, &payload, &ch.ApprovalID,
		scanTime{&ch.AttemptAfter}, &ch.Result, scanTime{&ch.DoneAt}, scanTime{&created}, scanTime{&updated})
	ch.Attempts = int(attempts)
	if payload != "" {
		ch.Payload = json.RawMessage(payload)
	}
	if created != nil {
		ch.CreatedAt = *created
	}
	if updated != nil {
		ch.UpdatedAt = *updated
	}
	return ch, err
}

func validChange(ch *Change) error {
	bad := func(why string) error { return fmt.Errorf("%w change %q: %s", directory.ErrInvalid, ch.ID, why) }
	switch {
	case ch.ID == "" || ch.TenantID == "" || ch.UserID == "":
		return bad("id, tenant and user are required")
	case ch.Op == "" || ch.Kind == "":
		return bad("op and kind are required")
	case ch.Kind == KindGroupMember && ch.GroupID == "":
		return bad("a group-member change needs a group")
	case ch.Kind == KindDirectLicense && ch.SkuID == "":
		return bad("a direct-license change needs a SKU")
	case len(ch.Payload) > 0 && !json.Valid(ch.Payload):
		return bad("payload is not JSON")
	}
	switch ch.Status {
	case ChangePendingApproval, ChangeOpen:
	default:
		return bad("a new change is pending_approval or open, not " + ch.Status)
	}
	return nil
}

// analyzeAfter is the batch size from which EnqueueChanges refreshes the
// planner's statistics of the change queue.
const analyzeAfter = 1000

var changesTable = table{
	name: "changes",
	cols: strings.Split(changeColumns, ", "),
	key:  []string{"id"},
}

// competitor is a queued change another one on the same key may supersede.
type competitor struct {
	id, op, request, status string
	row                     int // index in the rows being inserted, or -1 when stored
}

func (q *queries) EnqueueChanges(ctx context.Context, cs []Change) error {
	for i := range cs {
		if err := validChange(&cs[i]); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	return q.write(ctx, func(c conn) error {
		var touched []string
		batch := make([][]any, 0, len(cs))
		comps := map[[5]string][]competitor{}
		keyOf := func(tenant string, k [4]string) [5]string { return [5]string{tenant, k[0], k[1], k[2], k[3]} }
		// Load the queued changes of the users concerned, a chunk at a time.
		byTenant := map[string][]string{}
		for i := range cs {
			byTenant[cs[i].TenantID] = append(byTenant[cs[i].TenantID], cs[i].UserID)
		}
		for tenant, users := range byTenant {
			if err := chunked(uniqueNonEmpty(users), maxInList, func(part []string) error {
				return scanAll(ctx, c, "SELECT id, op, request_id, status, user_id, group_id, sku_id, kind FROM changes "+
					"WHERE tenant_id = ? AND status IN ('pending_approval','open','claimed') AND user_id IN ("+
					placeholders(len(part))+")", append([]any{tenant}, anys(part)...), func(r rows) error {
					var cp competitor
					var k [4]string
					if err := r.Scan(&cp.id, &cp.op, &cp.request, &cp.status, &k[0], &k[1], &k[2], &k[3]); err != nil {
						return err
					}
					cp.row = -1
					comps[keyOf(tenant, k)] = append(comps[keyOf(tenant, k)], cp)
					return nil
				})
			}); err != nil {
				return fmt.Errorf("enqueue changes: %w", err)
			}
		}
		statusCol := slices.Index(changesTable.cols, "status")
		resultCol := slices.Index(changesTable.cols, "result")
		for i := range cs {
			ch := &cs[i]
			k := keyOf(ch.TenantID, ch.key())
			status, result := ch.Status, ""
			var keep []competitor
			for _, cp := range comps[k] {
				switch {
				case cp.op == ch.Op:
					// Already queued: this one is a repeat.
					status, result = ChangeSuperseded, "duplicate of "+cp.id
					keep = append(keep, cp)
				case cp.status == ChangeClaimed:
					keep = append(keep, cp) // in flight: it lands first, then this one
				case cp.row >= 0:
					batch[cp.row][statusCol], batch[cp.row][resultCol] = ChangeSuperseded, "superseded by "+ch.ID
					touched = append(touched, cp.request)
				default:
					if _, err := c.exec(ctx, "UPDATE changes SET status = 'superseded', result = ?, updated_at = ? "+
						"WHERE id = ? AND status IN ('pending_approval','open')", "superseded by "+ch.ID, c.time(&now), cp.id); err != nil {
						return fmt.Errorf("supersede change %s: %w", cp.id, err)
					}
					touched = append(touched, cp.request)
				}
			}
			if status == ChangeSuperseded {
				touched = append(touched, ch.RequestID)
			} else {
				keep = append(keep, competitor{id: ch.ID, op: ch.Op, request: ch.RequestID, status: status, row: len(batch)})
			}
			comps[k] = keep
			created := ch.CreatedAt
			if created.IsZero() {
				created = now
			}
			batch = append(batch, []any{ch.ID, ch.TenantID, ch.RequestID, ch.Op, ch.Kind, ch.UserID, ch.GroupID, ch.SkuID,
				jsonList(ch.DisabledPlans), ch.Pool, status, 0, "", c.time(ch.EffectiveAt), "", nil, ch.Initiator, ch.Origin,
				ch.Reason, jsonOr(ch.Payload, ""), ch.ApprovalID, nil, result, nil, c.time(&created), c.time(&now)})
		}
		if err := c.bulkUpsert(ctx, changesTable, batch); err != nil {
			return fmt.Errorf("enqueue changes: %w", err)
		}
		// A large batch changes the table's shape: refresh the planner's
		// statistics now, or PostgreSQL plans claims for an empty table and
		// scans every queued row for each candidate.
		if len(batch) >= analyzeAfter {
			if _, err := c.exec(ctx, "ANALYZE changes"); err != nil {
				return fmt.Errorf("enqueue changes: %w", err)
			}
		}
		return settleRequests(ctx, c, touched)
	})
}

func (q *queries) ClaimChanges(ctx context.Context, cl ChangeClaim) ([]Change, error) {
	var out []Change
	err := q.write(ctx, func(c conn) error {
		now := time.Now().UTC()
		until := now.Add(cl.Lease)
		due := " AND (effective_at IS NULL OR effective_at <= ?) AND (attempt_after IS NULL OR attempt_after <= ?)"
		// Never claim a change while another change on the same user and
		// target is in flight: the two could land in either order.
		free := " AND NOT EXISTS (SELECT 1 FROM changes o WHERE o.tenant_id = changes.tenant_id AND o.user_id = changes.user_id " +
			"AND o.group_id = changes.group_id AND o.sku_id = changes.sku_id AND o.kind = changes.kind " +
			"AND o.status = 'claimed' AND o.id <> changes.id AND o.lease_until >= ?)"
		claim := func(cond string, order string, limit int, args ...any) error {
			if limit <= 0 {
				return nil
			}
			a := append([]any{cl.Owner, c.time(&until), c.time(&now), cl.TenantID}, args...)
			a = append(a, c.time(&now), c.time(&now), c.time(&now), limit)
			return scanAll(ctx, c, "UPDATE changes SET status = 'claimed', claimed_by = ?, lease_until = ?, attempts = attempts + 1, "+
				"updated_at = ? WHERE id IN (SELECT id FROM changes WHERE tenant_id = ? AND "+cond+due+free+
				" ORDER BY "+order+" LIMIT ?"+c.skipLocked()+") RETURNING "+changeColumns, a, func(r rows) error {
				ch, err := scanChange(r)
				out = append(out, ch)
				return err
			})
		}
		// Leases that ran out first: their worker died mid-flight.
		if err := claim("status = 'claimed' AND lease_until < ?", "id", cl.GroupAdds+cl.Others, c.time(&now)); err != nil {
			return err
		}
		if err := claim("status = 'open' AND kind = 'group_member' AND op = 'add'", "group_id, id", cl.GroupAdds-len(out)); err != nil {
			return err
		}
		n := len(out)
		// One kind at a time, ordered as changes_claim is, so the index
		// bounds each scan; a user's license changes, created together,
		// have neighbouring ids.
		for _, kind := range []string{KindGroupMember, KindDirectLicense, KindUser, KindMailbox} {
			cond := "status = 'open' AND kind = ?"
			if kind == KindGroupMember {
				cond += " AND op = 'remove'"
			}
			if err := claim(cond, "op, group_id, id", cl.Others-(len(out)-n), kind); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim changes: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (q *queries) ExtendLease(ctx context.Context, owner string, ids []string, until time.Time) error {
	return q.write(ctx, func(c conn) error {
		return chunked(ids, maxInList, func(part []string) error {
			_, err := c.exec(ctx, "UPDATE changes SET lease_until = ? WHERE status = 'claimed' AND claimed_by = ? AND id IN ("+
				placeholders(len(part))+")", append([]any{c.time(&until), owner}, anys(part)...)...)
			return err
		})
	})
}

func (q *queries) FinishChanges(ctx context.Context, owner string, outs []ChangeOutcome) ([]Change, error) {
	// Most outcomes of a claim are alike ("done, applied"): one UPDATE per
	// distinct outcome keeps a 400-change claim to a few statements.
	type shape struct {
		status, result, lastError string
		after                     time.Time
	}
	groups := map[shape][]string{}
	var order []shape
	for _, o := range outs {
		switch o.Status {
		case ChangeDone, ChangeFailed, ChangeOpen:
		default:
			return nil, fmt.Errorf("%w change outcome %q for %s", directory.ErrInvalid, o.Status, o.ID)
		}
		sh := shape{status: o.Status, result: o.Result, lastError: o.LastError}
		if o.AttemptAfter != nil {
			sh.after = *o.AttemptAfter
		}
		if _, ok := groups[sh]; !ok {
			order = append(order, sh)
		}
		groups[sh] = append(groups[sh], o.ID)
	}
	var moved []Change
	err := q.write(ctx, func(c conn) error {
		now := time.Now().UTC()
		var reqs []string
		for _, sh := range order {
			var done, after *time.Time
			if sh.status != ChangeOpen {
				done = &now
			}
			if !sh.after.IsZero() {
				after = &sh.after
			}
			if err := chunked(groups[sh], maxInList, func(part []string) error {
				return scanAll(ctx, c, "UPDATE changes SET status = ?, result = ?, last_error = ?, attempt_after = ?, done_at = ?, "+
					"claimed_by = '', lease_until = NULL, updated_at = ? WHERE status = 'claimed' AND claimed_by = ? AND id IN ("+
					placeholders(len(part))+") RETURNING "+changeColumns, append([]any{sh.status, sh.result, sh.lastError,
					c.time(after), c.time(done), c.time(&now), owner}, anys(part)...), func(r rows) error {
					ch, err := scanChange(r)
					moved = append(moved, ch)
					reqs = append(reqs, ch.RequestID)
					return err
				})
			}); err != nil {
				return fmt.Errorf("finish changes: %w", err)
			}
		}
		return settleRequests(ctx, c, reqs)
	})
	sort.Slice(moved, func(i, j int) bool { return moved[i].ID < moved[j].ID })
	return moved, err
}

// settleRequests moves queued requests whose changes can no longer move to
// their outcome: failed if any change failed, applied if any landed, else
// rejected or superseded.
func settleRequests(ctx context.Context, c conn, ids []string) error {
	ids = uniqueNonEmpty(ids)
	return chunked(ids, maxInList, func(part []string) error {
		counts := map[string]map[string]int{}
		if err := scanAll(ctx, c, "SELECT request_id, status, count(*) FROM changes WHERE request_id IN ("+
			placeholders(len(part))+") GROUP BY request_id, status", anys(part), func(r rows) error {
			var id, st string
			var n int64
			if err := r.Scan(&id, &st, &n); err != nil {
				return err
			}
			if counts[id] == nil {
				counts[id] = map[string]int{}
			}
			counts[id][st] = int(n)
			return nil
		}); err != nil {
			return fmt.Errorf("settle requests: %w", err)
		}
		now := time.Now().UTC()
		settled := map[string][]string{}
		for _, id := range part {
			n := counts[id]
			if n[ChangePendingApproval]+n[ChangeOpen]+n[ChangeClaimed] > 0 || len(n) == 0 {
				continue
			}
			var status string
			switch {
			case n[ChangeFailed] > 0:
				status = RequestFailed
			case n[ChangeDone] > 0:
				status = RequestApplied
			case n[ChangeRejected] > 0:
				status = RequestRejected
			default:
				status = RequestSuperseded
			}
			settled[status] = append(settled[status], id)
		}
		for status, ids := range settled {
			if _, err := c.exec(ctx, "UPDATE requests SET status = ?, updated_at = ? WHERE status = 'queued' AND id IN ("+
				placeholders(len(ids))+")", append([]any{status, c.time(&now)}, anys(ids)...)...); err != nil {
				return fmt.Errorf("settle requests: %w", err)
			}
		}
		return nil
	})
}

func uniqueNonEmpty(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (q *queries) changeWhere(f ChangeFilter) where {
	var w where
	w.add(f.TenantID != "", "tenant_id = ?", f.TenantID)
	w.add(f.RequestID != "", "request_id = ?", f.RequestID)
	w.add(f.BatchID != "", "request_id IN (SELECT id FROM requests WHERE batch_id = ?)", f.BatchID)
	w.add(f.ApprovalID != "", "approval_id = ?", f.ApprovalID)
	w.add(f.Status != "", "status = ?", f.Status)
	w.add(f.AfterID != "", "id > ?", f.AfterID)
	return w
}

func (q *queries) ListChanges(ctx context.Context, f ChangeFilter) ([]Change, error) {
	w := q.changeWhere(f)
	var out []Change
	err := scanAll(ctx, q.reader(), "SELECT "+changeColumns+" FROM changes"+w.sql()+" ORDER BY id LIMIT ?",
		append(w.args, limitOf(f.Limit)), func(r rows) error {
			ch, err := scanChange(r)
			out = append(out, ch)
			return err
		})
	return out, err
}

func (q *queries) CountChanges(ctx context.Context, f ChangeFilter) (map[string]int64, error) {
	w := q.changeWhere(f)
	out := map[string]int64{}
	err := scanAll(ctx, q.reader(), "SELECT status, count(*) FROM changes"+w.sql()+" GROUP BY status", w.args,
		func(r rows) error {
			var st string
			var n int64
			err := r.Scan(&st, &n)
			out[st] = n
			return err
		})
	return out, err
}

func (q *queries) PendingApprovalPools(ctx context.Context, tenantID string) ([]string, error) {
	var out []string
	err := scanAll(ctx, q.reader(), "SELECT DISTINCT pool FROM changes WHERE tenant_id = ? AND status = 'pending_approval' "+
		"AND approval_id = '' ORDER BY pool", []any{tenantID}, func(r rows) error {
		var p string
		err := r.Scan(&p)
		out = append(out, p)
		return err
	})
	return out, err
}

func (q *queries) RouteRemovals(ctx context.Context, tenantID, pool, approvalID string, limit int) ([]Change, error) {
	var out []Change
	err := q.write(ctx, func(c conn) error {
		now := time.Now().UTC()
		return scanAll(ctx, c, "UPDATE changes SET approval_id = ?, updated_at = ? WHERE id IN (SELECT id FROM changes "+
			"WHERE tenant_id = ? AND status = 'pending_approval' AND pool = ? AND approval_id = '' ORDER BY id LIMIT ?"+
			c.skipLocked()+") RETURNING "+changeColumns, []any{approvalID, c.time(&now), tenantID, pool, max(limit, 1)},
			func(r rows) error {
				ch, err := scanChange(r)
				out = append(out, ch)
				return err
			})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (q *queries) DecideRemovals(ctx context.Context, approvalID string, approve, reject []string, effectiveAt time.Time) error {
	return q.write(ctx, func(c conn) error {
		now := time.Now().UTC()
		var reqs []string
		set := func(ids []string, status string, eff *time.Time) error {
			return chunked(ids, maxInList, func(part []string) error {
				return scanAll(ctx, c, "UPDATE changes SET status = ?, effective_at = ?, updated_at = ? WHERE approval_id = ? "+
					"AND status = 'pending_approval' AND id IN ("+placeholders(len(part))+") RETURNING request_id",
					append([]any{status, c.time(eff), c.time(&now), approvalID}, anys(part)...), func(r rows) error {
						var id string
						err := r.Scan(&id)
						reqs = append(reqs, id)
						return err
					})
			})
		}
		if err := set(approve, ChangeOpen, &effectiveAt); err != nil {
			return fmt.Errorf("approve removals: %w", err)
		}
		if err := set(reject, ChangeRejected, nil); err != nil {
			return fmt.Errorf("reject removals: %w", err)
		}
		// The rest go back to the pending pool, to be routed again.
		if _, err := c.exec(ctx, "UPDATE changes SET approval_id = '', updated_at = ? WHERE approval_id = ? AND status = 'pending_approval'",
			c.time(&now), approvalID); err != nil {
			return fmt.Errorf("release removals: %w", err)
		}
		return settleRequests(ctx, c, reqs)
	})
}

// ---- notifications ----

const notificationColumns = "id, tenant_id, request_id, channel, recipient, subject, body, status, attempts, last_error, " +
	"attempt_after, claimed_by, created_at, updated_at"

func scanNotification(r rowScanner) (Notification, error) {
	var n Notification
	var attempts int64
	var created, updated *time.Time
	err := r.Scan(&n.ID, &n.TenantID, &n.RequestID, &n.Channel, &n.Recipient, &n.Subject, &n.Body, &n.Status, &attempts,
		&n.LastError, scanTime{&n.AttemptAfter}, &n.ClaimedBy, scanTime{&created}, scanTime{&updated})
	n.Attempts = int(attempts)
	if created != nil {
		n.CreatedAt = *created
	}
	if updated != nil {
		n.UpdatedAt = *updated
	}
	return n, err
}

func (q *queries) PutNotifications(ctx context.Context, ns []Notification) error {
	now := time.Now().UTC()
	return q.write(ctx, func(c conn) error {
		for _, n := range ns {
			if n.ID == "" || n.Channel == "" || n.Recipient == "" {
				return fmt.Errorf("%w notification: id, channel and recipient are required", directory.ErrInvalid)
			}
			if _, err := c.exec(ctx, "INSERT INTO notifications ("+notificationColumns+", lease_until) VALUES "+
				"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", n.ID, n.TenantID, n.RequestID, n.Channel, n.Recipient, n.Subject, n.Body,
				"pending", 0, "", nil, "", c.time(&now), c.time(&now), nil); err != nil {
				return fmt.Errorf("put notification: %w", err)
			}
		}
		return nil
	})
}

func (q *queries) ClaimNotifications(ctx context.Context, owner string, limit int, lease time.Duration) ([]Notification, error) {
	var out []Notification
	err := q.write(ctx, func(c conn) error {
		now := time.Now().UTC()
		until := now.Add(lease)
		return scanAll(ctx, c, "UPDATE notifications SET claimed_by = ?, lease_until = ?, attempts = attempts + 1, updated_at = ? "+
			"WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND (attempt_after IS NULL OR attempt_after <= ?) "+
			"AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at, id LIMIT ?"+c.skipLocked()+") RETURNING "+
			notificationColumns, []any{owner, c.time(&until), c.time(&now), c.time(&now), c.time(&now), max(limit, 1)},
			func(r rows) error {
				n, err := scanNotification(r)
				out = append(out, n)
				return err
			})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (q *queries) FinishNotification(ctx context.Context, n Notification) error {
	now := time.Now().UTC()
	return q.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, "UPDATE notifications SET status = ?, last_error = ?, attempt_after = ?, claimed_by = '', "+
			"lease_until = NULL, updated_at = ? WHERE id = ?", n.Status, n.LastError, c.time(n.AttemptAfter), c.time(&now), n.ID)
		return err
	})
}

func (q *queries) ListNotifications(ctx context.Context, f NotificationFilter) ([]Notification, error) {
	var w where
	w.add(f.TenantID != "", "tenant_id = ?", f.TenantID)
	w.add(f.RequestID != "", "request_id = ?", f.RequestID)
	w.add(f.Status != "", "status = ?", f.Status)
	var out []Notification
	err := scanAll(ctx, q.reader(), "SELECT "+notificationColumns+" FROM notifications"+w.sql()+" ORDER BY created_at, id",
		w.args, func(r rows) error {
			n, err := scanNotification(r)
			out = append(out, n)
			return err
		})
	return out, err
}

// ---- write budget ----

// TakeWriteBudget is one UPDATE so that processes on one PostgreSQL (or on
// one SQLite file) serialise on the row and never both spend a token.
func (q *queries) TakeWriteBudget(ctx context.Context, tenantID string, n, capacity, perSec float64) (time.Duration, error) {
	var tokens float64
	err := q.write(ctx, func(c conn) error {
		now := time.Now().UnixMilli()
		if _, err := c.exec(ctx, "INSERT INTO write_budget (tenant_id, tokens, updated_ms) VALUES (?,?,?) ON CONFLICT DO NOTHING",
			tenantID, capacity, now); err != nil {
			return err
		}
		perMs := perSec / 1000
		refilled := "(tokens + CAST(? - updated_ms AS DOUBLE PRECISION) * CAST(? AS DOUBLE PRECISION))"
		return scanAll(ctx, c, "UPDATE write_budget SET tokens = (CASE WHEN "+refilled+" > CAST(? AS DOUBLE PRECISION) "+
			"THEN CAST(? AS DOUBLE PRECISION) ELSE "+refilled+" END) - CAST(? AS DOUBLE PRECISION), updated_ms = ? "+
			"WHERE tenant_id = ? RETURNING tokens", []any{now, perMs, capacity, capacity, now, perMs, n, now, tenantID},
			func(r rows) error { return r.Scan(&tokens) })
	})
	if err != nil {
		return 0, fmt.Errorf("write budget: %w", err)
	}
	if tokens >= 0 || perSec <= 0 {
		return 0, nil
	}
	return time.Duration(-tokens / perSec * float64(time.Second)), nil
}

func (q *queries) PauseWriteBudget(ctx context.Context, tenantID string, d time.Duration, perSec float64) error {
	debt := -d.Seconds() * perSec
	return q.write(ctx, func(c conn) error {
		now := time.Now().UnixMilli()
		_, err := c.exec(ctx, "UPDATE write_budget SET tokens = CAST(? AS DOUBLE PRECISION), updated_ms = ? "+
			"WHERE tenant_id = ? AND tokens + CAST(? - updated_ms AS DOUBLE PRECISION) * CAST(? AS DOUBLE PRECISION) > CAST(? AS DOUBLE PRECISION)",
			debt, now, tenantID, now, perSec/1000, debt)
		return err
	})
}

// ---- license rows ----

func (q *queries) PutLicenseStates(ctx context.Context, tenantID string, ls []directory.LicenseState) error {
	return upsert(ctx, q, licenseStatesTable, ls, licenseStateKey, func(c conn, l *directory.LicenseState) []any {
		return encodeLicenseState(c.time, tenantID, l)
	})
}

func (q *queries) DeleteLicenseStates(ctx context.Context, tenantID string, ls []directory.LicenseState) error {
	return q.write(ctx, func(c conn) error {
		for _, l := range ls {
			if _, err := c.exec(ctx, "DELETE FROM license_states WHERE tenant_id = ? AND user_id = ? AND sku_id = ? AND assigned_by_group = ?",
				tenantID, l.UserID, l.SkuID, l.AssignedByGroup); err != nil {
				return fmt.Errorf("delete license state: %w", err)
			}
		}
		return nil
	})
}

// where builds an AND-ed WHERE clause from optional conditions.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(ok bool, cond string, arg any) {
	if ok {
		w.conds = append(w.conds, cond)
		w.args = append(w.args, arg)
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func limitOf(n int) int {
	if n <= 0 {
		return 1000
	}
	return min(n, 10000)
}
