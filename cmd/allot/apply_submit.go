package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"time"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/workflow"
)

// submission is what `allot apply --yes` reports.
type submission struct {
	BatchID  string         `json:"batch_id"`
	Requests int            `json:"requests"`
	Statuses map[string]int `json:"statuses"`
	// Changes counts the batch's changes by status: after --wait, what
	// landed (done), failed, and still waits for an approver.
	Changes map[string]int64 `json:"changes"`
	Waited  bool             `json:"waited"`
}

// cliAccess lets the operator running the CLI submit anything (holding the
// database already means holding every right), while approvers are still
// the principals with approver delegations in the access service.
type cliAccess struct {
	operator string
	access.Pipeline
}

func (a cliAccess) Check(ctx context.Context, principal, action, tenantID string, s workflow.Scope) error {
	if principal == a.operator && action == workflow.ActionRequest {
		return nil
	}
	return a.Pipeline.Check(ctx, principal, action, tenantID, s)
}

// cliOperator names whoever runs the CLI, for requests and the audit log.
func cliOperator() workflow.Principal {
	name := "operator"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return workflow.Principal{ID: "cli:" + name, Name: name}
}

// submitPlan sends a plan's changes through the request pipeline. With
// wait, it also works the queue in this process — fulfilment and the
// post-run phase — until no change of the batch can move without an
// approver, showing progress on stderr.
func submitPlan(ctx context.Context, c *cli, s warehouse.Store, t directory.Tenant, plan *engine.Plan, wait bool) (*submission, error) {
	op := cliOperator()
	p := &workflow.Pipeline{Store: s, Access: cliAccess{operator: op.ID, Pipeline: access.Pipeline{S: &access.Service{Store: s}}}}
	reqs := workflow.FromPlan(plan, op, "allot apply")
	out := &submission{Statuses: map[string]int{}, Changes: map[string]int64{}, Requests: len(reqs)}
	if len(reqs) == 0 {
		return out, nil
	}
	b, err := p.Submit(ctx, t.ID, reqs)
	if err != nil {
		return nil, err
	}
	out.BatchID, out.Statuses = b.ID, b.Statuses
	if !wait {
		out.Changes, err = s.CountChanges(ctx, warehouse.ChangeFilter{BatchID: b.ID})
		return out, err
	}
	out.Waited = true
	f := fulfillment.New(s, nil, fulfillment.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for {
		if _, err := f.Drain(ctx, t.ID); err != nil {
			return nil, err
		}
		if err := p.Tick(ctx, t.ID, f.Owner(), nil, 0); err != nil {
			return nil, err
		}
		if out.Changes, err = s.CountChanges(ctx, warehouse.ChangeFilter{BatchID: b.ID}); err != nil {
			return nil, err
		}
		n := out.Changes
		fmt.Fprintf(c.stderr, "\rapply: %d done, %d failed, %d queued, %d waiting for approval ",
			n[warehouse.ChangeDone], n[warehouse.ChangeFailed], n[warehouse.ChangeOpen]+n[warehouse.ChangeClaimed],
			n[warehouse.ChangePendingApproval])
		if n[warehouse.ChangeOpen]+n[warehouse.ChangeClaimed] == 0 {
			fmt.Fprintln(c.stderr)
			return out, nil
		}
		// What is left waits for a retry or a lease to run out.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// printSubmission is the text form of a submission.
func printSubmission(w io.Writer, sub *submission) {
	if sub.Requests == 0 {
		fmt.Fprintln(w, "nothing to apply: the tenant already matches the plan")
		return
	}
	fmt.Fprintf(w, "submitted %d requests (batch %s):", sub.Requests, sub.BatchID)
	for _, st := range []string{warehouse.RequestQueued, warehouse.RequestAwaitingApproval, warehouse.RequestDenied,
		warehouse.RequestApplied, warehouse.RequestCompleted} {
		if n := sub.Statuses[st]; n > 0 {
			fmt.Fprintf(w, " %d %s", n, st)
		}
	}
	fmt.Fprintln(w)
	n := sub.Changes
	fmt.Fprintf(w, "changes: %d done, %d failed, %d queued, %d waiting for approval, %d superseded\n",
		n[warehouse.ChangeDone], n[warehouse.ChangeFailed], n[warehouse.ChangeOpen]+n[warehouse.ChangeClaimed],
		n[warehouse.ChangePendingApproval], n[warehouse.ChangeSuperseded])
	if !sub.Waited && n[warehouse.ChangeOpen] > 0 {
		fmt.Fprintln(w, "the changes are applied by `allot serve` or `allot worker` (or run apply with --wait)")
	}
	if n[warehouse.ChangeFailed] > 0 {
		fmt.Fprintln(w, "some changes failed: see the audit log (action change.failed) for Graph's errors")
	}
}
