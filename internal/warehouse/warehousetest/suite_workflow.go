package warehousetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

func queuedRequest(id string) warehouse.Request {
	return warehouse.Request{ID: id, TenantID: tid, BatchID: "b1", Initiator: "alice", Origin: "pool",
		Operation: "add_group_member", TargetType: "group", TargetID: "g1", UserID: "u1", Status: warehouse.RequestQueued}
}

func addChange(id, req, op, user, group string) warehouse.Change {
	return warehouse.Change{ID: id, TenantID: tid, RequestID: req, Op: op, Kind: warehouse.KindGroupMember,
		UserID: user, GroupID: group, Status: warehouse.ChangeOpen, Initiator: "alice", Origin: "pool"}
}

func testRequests(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	r := queuedRequest("r1")
	r.Spec = json.RawMessage(`{"licenses":[]}`)
	require.NoError(t, s.PutRequests(ctx(t), []warehouse.Request{r, queuedRequest("r2")}))
	require.ErrorIs(t, s.PutRequests(ctx(t), []warehouse.Request{queuedRequest("r1")}), warehouse.ErrAlreadyExists)
	bad := queuedRequest("r3")
	bad.Initiator = ""
	require.ErrorIs(t, s.PutRequests(ctx(t), []warehouse.Request{bad}), directory.ErrInvalid)

	got, err := s.GetRequest(ctx(t), "r1")
	require.NoError(t, err)
	require.Equal(t, "alice", got.Initiator)
	require.JSONEq(t, `{"licenses":[]}`, string(got.Spec))
	_, err = s.GetRequest(ctx(t), "nope")
	require.ErrorIs(t, err, warehouse.ErrNotFound)

	got.Status, got.Detail, got.State = warehouse.RequestDenied, "no delegation", json.RawMessage(`{"pc":3}`)
	require.NoError(t, s.UpdateRequest(ctx(t), got))
	list, err := s.ListRequests(ctx(t), warehouse.RequestFilter{TenantID: tid, Status: warehouse.RequestDenied})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "no delegation", list[0].Detail)
	require.JSONEq(t, `{"pc":3}`, string(list[0].State))

	// A claimed request is not handed to a second worker until its lease ends.
	c1, err := s.ClaimRequests(ctx(t), tid, warehouse.RequestQueued, "w1", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, c1, 1)
	c2, err := s.ClaimRequests(ctx(t), tid, warehouse.RequestQueued, "w2", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, c2)
}

func testWorkflows(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	for _, w := range []warehouse.WorkflowRecord{
		{TenantID: tid, Name: "zeta", Enabled: true, Priority: 100, Spec: json.RawMessage(`{}`)},
		{TenantID: tid, Name: "beta", Enabled: false, Priority: 500, Spec: json.RawMessage(`{}`)},
		{TenantID: tid, Name: "alpha", Enabled: true, Priority: 500, Spec: json.RawMessage(`{}`)},
	} {
		got, err := s.PutWorkflow(ctx(t), w)
		require.NoError(t, err)
		require.EqualValues(t, 1, got.Version)
	}
	again, err := s.PutWorkflow(ctx(t), warehouse.WorkflowRecord{TenantID: tid, Name: "alpha", Enabled: true, Priority: 500, Spec: json.RawMessage(`{"x":1}`)})
	require.NoError(t, err)
	require.EqualValues(t, 2, again.Version)
	_, err = s.PutWorkflow(ctx(t), warehouse.WorkflowRecord{TenantID: tid, Name: "bad", Spec: json.RawMessage(`{`)})
	require.ErrorIs(t, err, directory.ErrInvalid)

	list, err := s.ListWorkflows(ctx(t), tid)
	require.NoError(t, err)
	var names []string
	for _, w := range list {
		names = append(names, w.Name)
	}
	require.Equal(t, []string{"zeta", "alpha", "beta"}, names, "priority ascending, ties by name")
	require.False(t, list[2].Enabled)
	require.NoError(t, s.DeleteWorkflow(ctx(t), tid, "beta"))
	require.ErrorIs(t, s.DeleteWorkflow(ctx(t), tid, "beta"), warehouse.ErrNotFound)
}

func testApprovals(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	a := warehouse.Approval{ID: "a1", TenantID: tid, Kind: "request", RequestID: "r1", Source: "owner",
		Approvers: json.RawMessage(`[{"id":"bob"}]`), Status: "pending"}
	require.NoError(t, s.PutApproval(ctx(t), a))
	got, err := s.DecideApproval(ctx(t), "a1", "approved", "bob", "fine", time.Now())
	require.NoError(t, err)
	require.Equal(t, "bob", got.DecidedBy)
	require.NotNil(t, got.DecidedAt)
	// A decision is final: a second one (a double click, a second approver) conflicts.
	_, err = s.DecideApproval(ctx(t), "a1", "rejected", "carol", "no", time.Now())
	require.ErrorIs(t, err, warehouse.ErrConflict)
	list, err := s.ListApprovals(ctx(t), warehouse.ApprovalFilter{TenantID: tid, RequestID: "r1"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "approved", list[0].Status)
}

func testChangeQueue(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	require.NoError(t, s.PutRequests(ctx(t), []warehouse.Request{queuedRequest("r1"), queuedRequest("r2"), queuedRequest("r3")}))
	future := time.Now().Add(time.Hour)
	later := addChange("c4", "r3", warehouse.OpAdd, "u4", "g1")
	later.EffectiveAt = &future
	require.NoError(t, s.EnqueueChanges(ctx(t), []warehouse.Change{
		addChange("c1", "r1", warehouse.OpAdd, "u1", "g2"),
		addChange("c2", "r1", warehouse.OpAdd, "u2", "g1"),
		addChange("c3", "r2", warehouse.OpRemove, "u3", "g1"),
		later,
	}))
	bad := addChange("c9", "r1", warehouse.OpAdd, "u9", "")
	require.ErrorIs(t, s.EnqueueChanges(ctx(t), []warehouse.Change{bad}), directory.ErrInvalid)

	// Adds come grouped by group so they pack into PATCHes; the change due
	// in an hour is not claimed.
	got, err := s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "w1", Lease: time.Minute, GroupAdds: 10, Others: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"c1", "c2", "c3"}, ids(got))
	for _, c := range got {
		require.Equal(t, warehouse.ChangeClaimed, c.Status)
		require.Equal(t, 1, c.Attempts)
	}
	again, err := s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "w2", Lease: time.Minute, GroupAdds: 10, Others: 10})
	require.NoError(t, err)
	require.Empty(t, again)

	// Only the owner may finish; the moved rows come back.
	moved, err := s.FinishChanges(ctx(t), "w2", []warehouse.ChangeOutcome{{ID: "c1", Status: warehouse.ChangeDone}})
	require.NoError(t, err)
	require.Empty(t, moved)
	retry := time.Now().Add(time.Hour)
	moved, err = s.FinishChanges(ctx(t), "w1", []warehouse.ChangeOutcome{
		{ID: "c1", Status: warehouse.ChangeDone, Result: "applied"},
		{ID: "c2", Status: warehouse.ChangeOpen, LastError: "503 serviceNotAvailable", AttemptAfter: &retry},
		{ID: "c3", Status: warehouse.ChangeFailed, LastError: "404 Request_ResourceNotFound"},
	})
	require.NoError(t, err)
	require.Len(t, moved, 3)
	r2, err := s.GetRequest(ctx(t), "r2")
	require.NoError(t, err)
	require.Equal(t, warehouse.RequestFailed, r2.Status, "a request whose only change failed has failed")
	r1, err := s.GetRequest(ctx(t), "r1")
	require.NoError(t, err)
	require.Equal(t, warehouse.RequestQueued, r1.Status, "c2 is still to be retried")

	// A retry waits for its backoff.
	again, err = s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "w2", Lease: time.Minute, GroupAdds: 10, Others: 10})
	require.NoError(t, err)
	require.Empty(t, again)
	list, err := s.ListChanges(ctx(t), warehouse.ChangeFilter{RequestID: "r1"})
	require.NoError(t, err)
	require.Equal(t, "503 serviceNotAvailable", list[1].LastError)
	counts, err := s.CountChanges(ctx(t), warehouse.ChangeFilter{BatchID: "b1"})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"done": 1, "open": 2, "failed": 1}, counts)
}

func testChangeSupersede(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	require.NoError(t, s.PutRequests(ctx(t), []warehouse.Request{queuedRequest("r1"), queuedRequest("r2"), queuedRequest("r3")}))
	require.NoError(t, s.EnqueueChanges(ctx(t), []warehouse.Change{addChange("c1", "r1", warehouse.OpAdd, "u1", "g1")}))
	// The same change again (a plan submitted twice) is not queued twice.
	require.NoError(t, s.EnqueueChanges(ctx(t), []warehouse.Change{addChange("c2", "r2", warehouse.OpAdd, "u1", "g1")}))
	// A newer opposite change supersedes the pending one.
	require.NoError(t, s.EnqueueChanges(ctx(t), []warehouse.Change{addChange("c3", "r3", warehouse.OpRemove, "u1", "g1")}))
	list, err := s.ListChanges(ctx(t), warehouse.ChangeFilter{TenantID: tid})
	require.NoError(t, err)
	require.Equal(t, []string{warehouse.ChangeSuperseded, warehouse.ChangeSuperseded, warehouse.ChangeOpen},
		[]string{list[0].Status, list[1].Status, list[2].Status})
	for _, id := range []string{"r1", "r2"} {
		r, err := s.GetRequest(ctx(t), id)
		require.NoError(t, err)
		require.Equal(t, warehouse.RequestSuperseded, r.Status)
	}

	// While a change is in flight, a competing one on the same user and
	// group waits: they could otherwise land in either order.
	claimed, err := s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "w1", Lease: time.Minute, GroupAdds: 10, Others: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"c3"}, ids(claimed))
	require.NoError(t, s.EnqueueChanges(ctx(t), []warehouse.Change{addChange("c4", "r3", warehouse.OpAdd, "u1", "g1")}))
	none, err := s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "w2", Lease: time.Minute, GroupAdds: 10, Others: 10})
	require.NoError(t, err)
	require.Empty(t, none)
	_, err = s.FinishChanges(ctx(t), "w1", []warehouse.ChangeOutcome{{ID: "c3", Status: warehouse.ChangeDone}})
	require.NoError(t, err)
	next, err := s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "w2", Lease: time.Minute, GroupAdds: 10, Others: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"c4"}, ids(next))
}

func testChangeLeaseExpiry(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	require.NoError(t, s.EnqueueChanges(ctx(t), []warehouse.Change{addChange("c1", "", warehouse.OpAdd, "u1", "g1")}))
	got, err := s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "dead", Lease: time.Millisecond, GroupAdds: 10})
	require.NoError(t, err)
	require.Len(t, got, 1)
	time.Sleep(20 * time.Millisecond)
	// The worker died (kill -9): its lease ran out and another takes over.
	got, err = s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "alive", Lease: time.Minute, GroupAdds: 10})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, 2, got[0].Attempts)
	moved, err := s.FinishChanges(ctx(t), "dead", []warehouse.ChangeOutcome{{ID: "c1", Status: warehouse.ChangeDone}})
	require.NoError(t, err)
	require.Empty(t, moved, "the dead worker's late outcome must not overwrite the new owner's claim")
	require.NoError(t, s.ExtendLease(ctx(t), "alive", []string{"c1"}, time.Now().Add(time.Hour)))
}

func testChangeConcurrentClaims(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	var cs []warehouse.Change
	for i := range 600 {
		op := warehouse.OpAdd
		if i%3 == 0 {
			op = warehouse.OpRemove
		}
		cs = append(cs, addChange(fmt.Sprintf("c%04d", i), "", op, fmt.Sprintf("u%04d", i), fmt.Sprintf("g%d", i%7)))
	}
	require.NoError(t, s.EnqueueChanges(ctx(t), cs))
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			owner := fmt.Sprintf("w%d", w)
			for {
				got, err := s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: owner, Lease: time.Minute, GroupAdds: 40, Others: 5})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, c := range got {
					if prev, dup := seen[c.ID]; dup {
						t.Errorf("change %s claimed by %s and %s", c.ID, prev, owner)
					}
					seen[c.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, 600)
}

func testRemovalRouting(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	var cs []warehouse.Change
	var reqs []warehouse.Request
	for i := range 150 {
		c := addChange(fmt.Sprintf("c%03d", i), fmt.Sprintf("r%03d", i), warehouse.OpRemove, fmt.Sprintf("u%03d", i), "g1")
		c.Status, c.Pool = warehouse.ChangePendingApproval, "e5"
		cs = append(cs, c)
		reqs = append(reqs, queuedRequest(c.RequestID))
	}
	require.NoError(t, s.PutRequests(ctx(t), reqs))
	require.NoError(t, s.EnqueueChanges(ctx(t), cs))
	pools, err := s.PendingApprovalPools(ctx(t), tid)
	require.NoError(t, err)
	require.Equal(t, []string{"e5"}, pools)

	batch, err := s.RouteRemovals(ctx(t), tid, "e5", "a1", 100)
	require.NoError(t, err)
	require.Len(t, batch, 100)
	rest, err := s.RouteRemovals(ctx(t), tid, "e5", "a2", 100)
	require.NoError(t, err)
	require.Len(t, rest, 50, "a change belongs to one batch at a time")

	effective := time.Now().Add(48 * time.Hour).Truncate(time.Millisecond)
	require.NoError(t, s.DecideRemovals(ctx(t), "a1", ids(batch[:30]), ids(batch[30:40]), effective))
	open, err := s.ListChanges(ctx(t), warehouse.ChangeFilter{TenantID: tid, Status: warehouse.ChangeOpen})
	require.NoError(t, err)
	require.Len(t, open, 30)
	require.True(t, open[0].EffectiveAt.Equal(effective))
	rejected, err := s.GetRequest(ctx(t), batch[35].RequestID)
	require.NoError(t, err)
	require.Equal(t, warehouse.RequestRejected, rejected.Status)

	// Unselected removals stay pending and are routed again later.
	again, err := s.RouteRemovals(ctx(t), tid, "e5", "a3", 100)
	require.NoError(t, err)
	require.Equal(t, ids(batch[40:]), ids(again))
	// Approved removals wait for their effective date.
	due, err := s.ClaimChanges(ctx(t), warehouse.ChangeClaim{TenantID: tid, Owner: "w", Lease: time.Minute, Others: 100})
	require.NoError(t, err)
	require.Empty(t, due)
}

func testNotifications(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	require.NoError(t, s.PutNotifications(ctx(t), []warehouse.Notification{
		{ID: "n1", TenantID: tid, Channel: "email", Recipient: "a@example.com", Subject: "hi", Body: "body"},
		{ID: "n2", TenantID: tid, Channel: "webhook", Recipient: "https://example.com/hook", Body: "{}"},
	}))
	got, err := s.ClaimNotifications(ctx(t), "w1", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 2)
	again, err := s.ClaimNotifications(ctx(t), "w2", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, again)
	later := time.Now().Add(time.Hour)
	got[0].Status, got[0].LastError, got[0].AttemptAfter = "pending", "554 refused", &later
	require.NoError(t, s.FinishNotification(ctx(t), got[0]))
	got[1].Status = "sent"
	require.NoError(t, s.FinishNotification(ctx(t), got[1]))
	again, err = s.ClaimNotifications(ctx(t), "w2", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, again, "a retry waits for its backoff")
	list, err := s.ListNotifications(ctx(t), warehouse.NotificationFilter{TenantID: tid, Status: "pending"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "554 refused", list[0].LastError)
	require.Equal(t, 1, list[0].Attempts)
}

func testWriteBudget(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	// 100 writes per 10 s: the first 100 go at once, the next must wait
	// about as long as the bucket needs to refill them.
	wait, err := s.TakeWriteBudget(ctx(t), tid, 100, 100, 10)
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = s.TakeWriteBudget(ctx(t), tid, 20, 100, 10)
	require.NoError(t, err)
	require.InDelta(t, 2.0, wait.Seconds(), 0.3)
	// Returning tokens shortens the next wait.
	_, err = s.TakeWriteBudget(ctx(t), tid, -20, 100, 10)
	require.NoError(t, err)
	wait, err = s.TakeWriteBudget(ctx(t), tid, 10, 100, 10)
	require.NoError(t, err)
	require.InDelta(t, 1.0, wait.Seconds(), 0.3)
	// Graph's Retry-After pauses every process sharing the bucket.
	require.NoError(t, s.PauseWriteBudget(ctx(t), tid, 5*time.Second, 10))
	wait, err = s.TakeWriteBudget(ctx(t), tid, 0, 100, 10)
	require.NoError(t, err)
	require.InDelta(t, 5.0, wait.Seconds(), 0.3)
}

func testLicenseRows(t *testing.T, _ Harness, s warehouse.Store) {
	addTenant(t, s)
	ls := []directory.LicenseState{
		{UserID: "u1", SkuID: "s1", State: directory.StateActive, DisabledPlans: []string{}},
		{UserID: "u1", SkuID: "s2", State: directory.StateActive, DisabledPlans: []string{"p1"}},
	}
	require.NoError(t, s.ReplaceLicenseStates(ctx(t), tid, []string{"u1"}, ls[:1]))
	require.NoError(t, s.PutLicenseStates(ctx(t), tid, ls[1:]))
	require.NoError(t, s.DeleteLicenseStates(ctx(t), tid, ls[:1]))
	var got []directory.LicenseState
	require.NoError(t, s.ScanLicenseStates(ctx(t), tid, func(l directory.LicenseState) error { got = append(got, l); return nil }))
	require.Len(t, got, 1)
	require.Equal(t, "s2", got[0].SkuID)
	require.Equal(t, []string{"p1"}, got[0].DisabledPlans)
}

func ids(cs []warehouse.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
