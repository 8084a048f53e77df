package workflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/workflow"
)

// users returns n live users of the warehouse with a mail address, not in
// group (so adding them is a real change).
func (e *env) users(t *testing.T, n int, notIn string) []directory.User {
	t.Helper()
	var out []directory.User
	require.NoError(t, e.store.ScanUsers(context.Background(), e.tenant.ID, func(u directory.User) error {
		if len(out) < n && !u.Deleted && u.Mail != "" && u.AccountEnabled && !e.sim.IsMember(notIn, u.ID) {
			out = append(out, u)
		}
		return nil
	}))
	require.Len(t, out, n)
	return out
}

func (e *env) setOwners(t *testing.T, groupID string, owners ...string) {
	t.Helper()
	ctx := context.Background()
	g, err := e.store.GetGroup(ctx, e.tenant.ID, groupID)
	require.NoError(t, err)
	g.OwnerIDs = owners
	require.NoError(t, e.store.UpsertGroups(ctx, e.tenant.ID, []directory.Group{g}))
}

func (e *env) request(t *testing.T, id string) warehouse.Request {
	t.Helper()
	r, err := e.store.GetRequest(context.Background(), id)
	require.NoError(t, err)
	return r
}

func (e *env) pendingApproval(t *testing.T, requestID string) warehouse.Approval {
	t.Helper()
	as, err := e.store.ListApprovals(context.Background(), warehouse.ApprovalFilter{RequestID: requestID, Status: "pending"})
	require.NoError(t, err)
	require.Len(t, as, 1)
	return as[0]
}

// The built-in group-owner workflow: a request to add a user to a group is
// denied when the group has no owner, else waits for the owner, and the
// requester is told once it is done.
func TestGroupOwnerApproval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, graphsim.Config{Users: 80, Groups: 80, Seed: 3})
	owned := groupByName(t, e, "All Managers")
	orphan := groupByName(t, e, "Data Analysts")
	us := e.users(t, 4, owned)
	owner, joiner, other, rejected := us[0], us[1], us[2], us[3]
	e.setOwners(t, owned, owner.ID)
	requester := workflow.Principal{ID: "rita", Email: "rita@example.com"}
	e.access.Grant(workflow.Delegation{Principal: requester, Actions: []string{workflow.ActionRequest}})

	b, err := e.p.Submit(ctx, e.tenant.ID, []workflow.Request{
		{Initiator: requester, Origin: workflow.FromShop, Operation: workflow.AddGroupMember, UserID: joiner.ID, GroupID: owned, Reason: "needs it"},
		{Initiator: requester, Origin: workflow.FromShop, Operation: workflow.AddGroupMember, UserID: joiner.ID, GroupID: orphan},
		{Initiator: requester, Origin: workflow.FromShop, Operation: workflow.AddGroupMember, UserID: rejected.ID, GroupID: owned},
	})
	require.NoError(t, err)
	require.Equal(t, warehouse.RequestAwaitingApproval, e.request(t, b.RequestIDs[0]).Status)
	denied := e.request(t, b.RequestIDs[1])
	require.Equal(t, warehouse.RequestDenied, denied.Status)
	require.Contains(t, denied.Detail, "no owner")

	// The owner is asked by mail.
	e.tick(t)
	require.Len(t, e.mail.to(owner.Mail), 2)

	a := e.pendingApproval(t, b.RequestIDs[0])
	require.Equal(t, workflow.ApproverOwner, a.Source)
	require.ErrorIs(t, e.p.Decide(ctx, a.ID, workflow.Principal{ID: other.ID}, true, "me too"), workflow.ErrDenied,
		"only an owner decides")
	require.NoError(t, e.p.Decide(ctx, a.ID, workflow.Principal{ID: owner.ID}, true, "ok"))
	require.ErrorIs(t, e.p.Decide(ctx, a.ID, workflow.Principal{ID: owner.ID}, false, "changed my mind"), workflow.ErrDecided)
	require.Equal(t, warehouse.RequestQueued, e.request(t, b.RequestIDs[0]).Status)
	r := e.pendingApproval(t, b.RequestIDs[2])
	require.NoError(t, e.p.Decide(ctx, r.ID, workflow.Principal{ID: owner.ID}, false, "not this one"))
	rej := e.request(t, b.RequestIDs[2])
	require.Equal(t, warehouse.RequestRejected, rej.Status)
	require.Equal(t, "not this one", rej.Detail)

	e.drain(t)
	require.True(t, e.sim.IsMember(owned, joiner.ID))
	require.False(t, e.sim.IsMember(owned, rejected.ID), "a rejected request never reaches Graph")
	require.False(t, e.sim.IsMember(orphan, joiner.ID))
	e.tick(t)
	require.Equal(t, warehouse.RequestCompleted, e.request(t, b.RequestIDs[0]).Status)
	done := e.mail.to("rita@example.com")
	require.Len(t, done, 1, "the requester hears once, about the applied request")
	require.Contains(t, done[0].Data, "has been applied")

	decisions, err := e.store.ListAudit(ctx, warehouse.AuditFilter{TenantID: e.tenant.ID, RequestID: b.RequestIDs[2]})
	require.NoError(t, err)
	require.Len(t, decisions, 1)
	require.Equal(t, "approval.rejected", decisions[0].Action)
	require.Equal(t, owner.ID, decisions[0].Actor)
}

// Several matching workflows: all pre-run activities run in priority order
// (lower first, ties by name, default 500) before execution; post-run after.
func TestWorkflowOrdering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, graphsim.Config{Users: 60, Groups: 80, Seed: 5})
	group := groupByName(t, e, "All Managers")
	boss := workflow.Principal{ID: "boss", Email: "boss@example.com"}
	e.access.Grant(workflow.Delegation{Principal: boss, Actions: []string{workflow.ActionApprove}})
	approve := []workflow.Activity{{Kind: workflow.KindApproval}}
	for _, d := range []workflow.Definition{
		{Name: "b-second", Enabled: true, Priority: 200, Activities: approve},
		{Name: "a-first", Enabled: true, Priority: 200, Activities: approve},
		{Name: "default", Enabled: true, Activities: append(approve, workflow.Activity{Kind: workflow.KindNotify,
			Phase: workflow.PostRun, To: []string{"ops@example.com"}, Subject: "applied {{.Request.ID}}", Body: "done"})},
		{Name: "early", Enabled: true, Priority: 100, Activities: approve},
		{Name: "disabled", Enabled: false, Priority: 1, Activities: approve},
		{Name: "other-op", Enabled: true, Priority: 1, When: workflow.Conditions{Operations: []workflow.Operation{workflow.RemoveLicense}}, Activities: approve},
		{Name: "other-origin", Enabled: true, Priority: 1, When: workflow.Conditions{Origins: []workflow.Origin{workflow.FromSCIM}}, Activities: approve},
		// The built-in group-owner workflow would ask the owner; turn it off.
		{Name: workflow.BuiltinGroupOwner, Enabled: false},
	} {
		require.NoError(t, workflow.SaveDefinition(ctx, e.store, e.tenant.ID, d))
	}
	u := e.users(t, 1, group)[0]
	b, err := e.p.Submit(ctx, e.tenant.ID, []workflow.Request{{Initiator: e.admin, Origin: workflow.FromAPI,
		Operation: workflow.AddGroupMember, UserID: u.ID, GroupID: group}})
	require.NoError(t, err)
	id := b.RequestIDs[0]
	var order []string
	for e.request(t, id).Status == warehouse.RequestAwaitingApproval {
		a := e.pendingApproval(t, id)
		order = append(order, a.Workflow)
		require.NoError(t, e.p.Decide(ctx, a.ID, boss, true, ""))
	}
	require.Equal(t, []string{"early", "a-first", "b-second", "default"}, order)
	require.Equal(t, warehouse.RequestQueued, e.request(t, id).Status)
	e.tick(t)
	require.Len(t, e.mail.to("boss@example.com"), 4, "one approval request per workflow")
	require.Empty(t, e.mail.to("ops@example.com"), "post-run waits for the change to be applied")
	e.drain(t)
	e.tick(t)
	require.Len(t, e.mail.to("ops@example.com"), 1)
}

// If-else on a rule and stop: Sales users are denied, others pass.
func TestIfElseAndStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, graphsim.Config{Users: 120, Groups: 80, Seed: 9})
	group := groupByName(t, e, "All Managers")
	require.NoError(t, workflow.SaveDefinition(ctx, e.store, e.tenant.ID, workflow.Definition{
		Name: "sales via shop", Enabled: true,
		When: workflow.Conditions{Operations: []workflow.Operation{workflow.AddGroupMember}, TargetTypes: []workflow.TargetType{workflow.TargetGroup}},
		Activities: []workflow.Activity{{Kind: workflow.KindIf, Rule: `user.department -eq "Sales"`,
			Then: []workflow.Activity{{Kind: workflow.KindStop, Deny: true, Reason: "Sales request this in the shop"}},
			Else: []workflow.Activity{{Kind: workflow.KindStop}}},
			{Kind: workflow.KindApproval, Approvers: workflow.ApproverDelegation, DenyIfNone: true}},
	}))
	var sales, eng directory.User
	require.NoError(t, e.store.ScanUsers(ctx, e.tenant.ID, func(u directory.User) error {
		switch {
		case u.Department == "Sales" && sales.ID == "":
			sales = u
		case u.Department == "Engineering" && eng.ID == "" && !e.sim.IsMember(group, u.ID):
			eng = u
		}
		return nil
	}))
	b, err := e.p.Submit(ctx, e.tenant.ID, []workflow.Request{
		{Initiator: e.admin, Origin: workflow.FromPool, Operation: workflow.AddGroupMember, UserID: sales.ID, GroupID: group},
		{Initiator: e.admin, Origin: workflow.FromPool, Operation: workflow.AddGroupMember, UserID: eng.ID, GroupID: group},
	})
	require.NoError(t, err)
	denied := e.request(t, b.RequestIDs[0])
	require.Equal(t, warehouse.RequestDenied, denied.Status)
	require.Equal(t, "Sales request this in the shop", denied.Detail)
	// Plain stop ends the workflow (skipping its approval) without denying.
	require.Equal(t, warehouse.RequestQueued, e.request(t, b.RequestIDs[1]).Status)
}

// The access check denies initiators without a delegation; bad input is
// refused whole, naming the request and field, and stores nothing.
func TestAccessCheckAndValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, graphsim.Config{Users: 40, Groups: 80, Seed: 2})
	group := groupByName(t, e, "All Managers")
	u := e.users(t, 1, group)[0]
	stranger := workflow.Principal{ID: "mallory"}
	b, err := e.p.Submit(ctx, e.tenant.ID, []workflow.Request{{Initiator: stranger, Origin: workflow.FromAPI,
		Operation: workflow.AddGroupMember, UserID: u.ID, GroupID: group}})
	require.NoError(t, err)
	r := e.request(t, b.RequestIDs[0])
	require.Equal(t, warehouse.RequestDenied, r.Status)
	require.Contains(t, r.Detail, "access check")
	audit, err := e.store.ListAudit(ctx, warehouse.AuditFilter{RequestID: r.ID})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	require.Equal(t, "request.denied", audit[0].Action)

	_, err = e.p.Submit(ctx, e.tenant.ID, []workflow.Request{
		{Initiator: e.admin, Origin: workflow.FromAPI, Operation: workflow.AddGroupMember, UserID: u.ID, GroupID: group},
		{Initiator: e.admin, Origin: workflow.FromAPI, Operation: workflow.AddGroupMember, UserID: u.ID},
	})
	var fe *workflow.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "request 2: groupId: is required for add_group_member", fe.Error())
	all, err := e.store.ListRequests(ctx, warehouse.RequestFilter{TenantID: e.tenant.ID})
	require.NoError(t, err)
	require.Len(t, all, 1, "the invalid batch stored nothing")

	err = workflow.SaveDefinition(ctx, e.store, e.tenant.ID, workflow.Definition{Name: "bad", Enabled: true,
		When: workflow.Conditions{Filter: `user.department -eq`}})
	var de *workflow.DefinitionError
	require.ErrorAs(t, err, &de)
	require.Equal(t, "when.filter", de.Field)
	err = workflow.SaveDefinition(ctx, e.store, e.tenant.ID, workflow.Definition{Name: "bad", Enabled: true,
		Activities: []workflow.Activity{{Kind: workflow.KindApproval, Phase: workflow.PostRun}}})
	require.ErrorAs(t, err, &de)
	require.Equal(t, "activities[0].phase", de.Field)
}

// An approver who lost the delegation cannot decide; the batch waits for
// someone who can. A mail server refusing mail delays the notice, never the
// change.
func TestLostDelegationAndRefusedMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, graphsim.Config{Users: 60, Groups: 80, Seed: 4})
	group := groupByName(t, e, "All Managers")
	members, err := e.sim.Members(group)
	require.NoError(t, err)
	require.NotEmpty(t, members)
	carol := workflow.Principal{ID: "carol", Email: "carol@example.com"}
	e.access.Grant(workflow.Delegation{Principal: carol, Actions: []string{workflow.ActionApprove}, Scope: workflow.Scope{Pool: "mgr"}})
	b, err := e.p.Submit(ctx, e.tenant.ID, []workflow.Request{{Initiator: e.admin, Origin: workflow.FromPool,
		Operation: workflow.RemoveGroupMember, UserID: members[0].MemberID, GroupID: group, Pool: "mgr", RemovalApproval: true}})
	require.NoError(t, err)
	require.Equal(t, 1, b.Changes)

	e.mail.refuse.Store(true)
	e.tick(t)
	approvals, err := e.store.ListApprovals(ctx, warehouse.ApprovalFilter{TenantID: e.tenant.ID, Status: "pending"})
	require.NoError(t, err)
	require.Len(t, approvals, 1)
	require.Empty(t, e.mail.received())
	notes, err := e.store.ListNotifications(ctx, warehouse.NotificationFilter{TenantID: e.tenant.ID, Status: "pending"})
	require.NoError(t, err)
	require.Len(t, notes, 1)
	require.Contains(t, notes[0].LastError, "relay refused")

	e.access.Revoke("carol")
	changes, err := e.store.ListChanges(ctx, warehouse.ChangeFilter{ApprovalID: approvals[0].ID})
	require.NoError(t, err)
	err = e.p.DecideRemovals(ctx, approvals[0].ID, carol, workflow.RemovalDecision{Approve: ids(changes)})
	require.ErrorIs(t, err, workflow.ErrDenied)
	e.drain(t)
	require.True(t, e.sim.IsMember(group, members[0].MemberID), "an undecided removal is not applied")

	dan := workflow.Principal{ID: "dan", Email: "dan@example.com"}
	e.access.Grant(workflow.Delegation{Principal: dan, Actions: []string{workflow.ActionApprove}, Scope: workflow.Scope{Pool: "mgr"}})
	require.NoError(t, e.p.DecideRemovals(ctx, approvals[0].ID, dan, workflow.RemovalDecision{Approve: ids(changes)}))
	e.drain(t)
	require.False(t, e.sim.IsMember(group, members[0].MemberID), "the change went through while mail was refused")

	// The relay recovers; the notice is retried and arrives.
	e.mail.refuse.Store(false)
	require.Eventually(t, func() bool {
		e.tick(t)
		return len(e.mail.to("carol@example.com")) == 1
	}, 5*time.Second, 50*time.Millisecond)
}
