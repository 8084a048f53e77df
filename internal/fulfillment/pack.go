package fulfillment

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/warehouse"
)

// result is what Graph said about one change. how is "applied" or
// "already" on success.
type result struct {
	how       string
	err       error
	permanent bool
}

// opNames name batch requests the way the graph package names the same
// calls, so its error helpers (IsNotMember keys on RemoveMember) apply.
var opNames = map[string]string{"bind": "AddMembers", "add": "AddMember", "remove": "RemoveMember",
	"license": "AssignLicense", "user": "UpdateUser"}

// op is one Graph write carrying one or more changes.
type op struct {
	kind    string // bind, add, remove, license, user
	method  string
	path    string
	body    any
	changes []*warehouse.Change
}

// attempt applies one claim.
type attempt struct {
	f        *Fulfiller
	tenantID string
	c        *graph.Client
	results  map[string]result
	writes   int64
}

func (a *attempt) set(chs []*warehouse.Change, r result) {
	for _, ch := range chs {
		a.results[ch.ID] = r
	}
}

// apply packs the claimed changes into writes and sends them; writes that
// Graph refuses as a whole because of one member (already there, or gone)
// are split and re-sent one by one, so the rest still land.
func (a *attempt) apply(ctx context.Context, claimed []warehouse.Change) {
	ops := a.pack(claimed)
	for round := 0; len(ops) > 0 && round < 3; round++ {
		ops = a.send(ctx, ops)
	}
	for _, o := range ops {
		a.set(o.changes, result{err: fmt.Errorf("%s %s: still refused after splitting", o.method, o.path)})
	}
}

func (a *attempt) ref(id string) string {
	return a.c.GraphURL() + "/directoryObjects/" + url.PathEscape(id)
}

func (a *attempt) pack(claimed []warehouse.Change) []op {
	var ops []op
	adds := map[string][]*warehouse.Change{}
	licenses := map[string][]*warehouse.Change{}
	for i := range claimed {
		ch := &claimed[i]
		switch {
		case ch.Kind == warehouse.KindGroupMember && ch.Op == warehouse.OpAdd:
			adds[ch.GroupID] = append(adds[ch.GroupID], ch)
		case ch.Kind == warehouse.KindGroupMember:
			ops = append(ops, op{kind: "remove", method: http.MethodDelete,
				path:    "/groups/" + url.PathEscape(ch.GroupID) + "/members/" + url.PathEscape(ch.UserID) + "/$ref",
				changes: []*warehouse.Change{ch}})
		case ch.Kind == warehouse.KindDirectLicense:
			licenses[ch.UserID] = append(licenses[ch.UserID], ch)
		case ch.Kind == warehouse.KindUser:
			ops = append(ops, userOp(ch))
		case ch.Kind == warehouse.KindMailbox:
			// Exchange, not Graph: converted one by one outside $batch.
			ops = append(ops, op{kind: "mailbox", changes: []*warehouse.Change{ch}})
		default:
			a.set([]*warehouse.Change{ch}, result{err: fmt.Errorf("unknown change kind %q", ch.Kind), permanent: true})
		}
	}
	for _, g := range sortedKeys(adds) {
		for chunk := range slices.Chunk(adds[g], graph.MaxBindPerPatch) {
			ops = append(ops, a.bindOp(g, chunk))
		}
	}
	for _, u := range sortedKeys(licenses) {
		ops = append(ops, licenseOp(u, licenses[u]))
	}
	return ops
}

func (a *attempt) bindOp(groupID string, chs []*warehouse.Change) op {
	refs := make([]string, len(chs))
	for i, ch := range chs {
		refs[i] = a.ref(ch.UserID)
	}
	return op{kind: "bind", method: http.MethodPatch, path: "/groups/" + url.PathEscape(groupID),
		body: map[string][]string{"members@odata.bind": refs}, changes: chs}
}

func (a *attempt) addOne(ch *warehouse.Change) op {
	return op{kind: "add", method: http.MethodPost, path: "/groups/" + url.PathEscape(ch.GroupID) + "/members/$ref",
		body: map[string]string{"@odata.id": a.ref(ch.UserID)}, changes: []*warehouse.Change{ch}}
}

func licenseOp(userID string, chs []*warehouse.Change) op {
	add := []graph.AssignedLicense{}
	remove := []string{}
	for _, ch := range chs {
		if ch.Op == warehouse.OpRemove {
			remove = append(remove, ch.SkuID)
			continue
		}
		plans := ch.DisabledPlans
		if plans == nil {
			plans = []string{}
		}
		add = append(add, graph.AssignedLicense{SkuID: ch.SkuID, DisabledPlans: plans})
	}
	return op{kind: "license", method: http.MethodPost, path: "/users/" + url.PathEscape(userID) + "/assignLicense",
		body: map[string]any{"addLicenses": add, "removeLicenses": remove}, changes: chs}
}

func userOp(ch *warehouse.Change) op {
	o := op{kind: "user", changes: []*warehouse.Change{ch}}
	switch ch.Op {
	case "create":
		o.method, o.path, o.body = http.MethodPost, "/users", json.RawMessage(ch.Payload)
	case "disable":
		o.method, o.path, o.body = http.MethodPatch, "/users/"+url.PathEscape(ch.UserID), map[string]bool{"accountEnabled": false}
	default:
		o.method, o.path, o.body = http.MethodPatch, "/users/"+url.PathEscape(ch.UserID), json.RawMessage(ch.Payload)
	}
	return o
}

// send reserves write budget for ops, sends them in $batch and returns the
// ops to send again (split) in the next round.
func (a *attempt) send(ctx context.Context, ops []op) []op {
	var batch []op
	for _, o := range ops {
		if o.kind == "mailbox" {
			a.convertMailbox(ctx, o)
			continue
		}
		batch = append(batch, o)
	}
	if len(batch) == 0 {
		return nil
	}
	// One $batch at a time, each paid for before it is sent: a reservation
	// never exceeds what Graph's bucket can hold, so a large claim cannot
	// burst past the budget.
	var next []op
	for chunk := range slices.Chunk(batch, graph.MaxBatch) {
		next = append(next, a.sendBatch(ctx, chunk)...)
	}
	return next
}

func (a *attempt) sendBatch(ctx context.Context, batch []op) []op {
	if err := a.f.govern(ctx, a.tenantID, len(batch), batch); err != nil {
		for _, o := range batch {
			a.set(o.changes, result{err: err})
		}
		return nil
	}
	reqs := make([]graph.BatchRequest, len(batch))
	for i, o := range batch {
		// The change id travels as client-request-id, so Graph's (and the
		// simulator's) logs name the change that caused each write.
		reqs[i] = graph.BatchRequest{ID: strconv.Itoa(i + 1), Method: o.method, URL: o.path, Body: o.body,
			Header: map[string]string{"client-request-id": o.changes[0].ID}, Op: opNames[o.kind]}
	}
	a.writes += int64(len(reqs))
	resps, err := a.c.Batch(ctx, reqs)
	if err != nil {
		for _, o := range batch {
			a.set(o.changes, result{err: err})
		}
		return nil
	}
	var next []op
	for i, o := range batch {
		next = append(next, a.interpret(o, &resps[i])...)
	}
	return next
}

// interpret records the outcome of one write, or splits it.
func (a *attempt) interpret(o op, r *graph.BatchResponse) []op {
	err := r.Err()
	if err == nil {
		a.set(o.changes, result{how: "applied"})
		return nil
	}
	many := len(o.changes) > 1
	switch o.kind {
	case "bind":
		// Graph refuses the whole PATCH when one member is already there
		// (a replay after a crash) or gone: add them one by one.
		if many && (graph.IsAlreadyMember(err) || graph.IsNotFound(err)) {
			out := make([]op, len(o.changes))
			for i, ch := range o.changes {
				out[i] = a.addOne(ch)
			}
			return out
		}
		fallthrough
	case "add":
		switch {
		case graph.IsAlreadyMember(err):
			a.set(o.changes, result{how: "already"})
			return nil
		case graph.IsNotFound(err):
			a.set(o.changes, result{err: err, permanent: true})
			return nil
		}
	case "remove":
		if graph.IsNotMember(err) {
			a.set(o.changes, result{how: "already"})
			return nil
		}
	case "license":
		if many && r.Status == http.StatusBadRequest {
			out := make([]op, len(o.changes))
			for i, ch := range o.changes {
				out[i] = licenseOp(ch.UserID, o.changes[i:i+1])
			}
			return out
		}
		if o.changes[0].Op == warehouse.OpRemove && strings.Contains(err.Error(), "does not have a corresponding license") {
			a.set(o.changes, result{how: "already"})
			return nil
		}
		if graph.IsNotFound(err) {
			a.set(o.changes, result{err: err, permanent: true})
			return nil
		}
	case "user":
		if o.method == http.MethodPost && strings.Contains(err.Error(), "already exists") {
			a.set(o.changes, result{how: "already"})
			return nil
		}
		if graph.IsNotFound(err) {
			a.set(o.changes, result{err: err, permanent: true})
			return nil
		}
	}
	a.set(o.changes, result{err: err})
	return nil
}

func (a *attempt) convertMailbox(ctx context.Context, o op) {
	var p struct {
		Type string `json:"type"`
	}
	ch := o.changes[0]
	if err := json.Unmarshal(ch.Payload, &p); err != nil {
		a.set(o.changes, result{err: fmt.Errorf("mailbox change payload: %w", err), permanent: true})
		return
	}
	err := a.c.SetMailboxType(ctx, ch.UserID, p.Type)
	switch {
	case err == nil:
		a.set(o.changes, result{how: "applied"})
	case graph.IsNotFound(err):
		a.set(o.changes, result{err: err, permanent: true})
	default:
		a.set(o.changes, result{err: err})
	}
}

// govern waits until the shared write budget allows n more writes,
// keeping the claims of ops alive while it waits.
func (f *Fulfiller) govern(ctx context.Context, tenantID string, n int, ops []op) error {
	b := f.cfg.Budget
	perSec := float64(b.Writes) / b.Window.Seconds() * f.cfg.Utilisation
	capacity := float64(b.Writes) * f.cfg.Utilisation
	if d := f.takePause(); d > 0 {
		if err := f.store.PauseWriteBudget(ctx, tenantID, d, perSec); err != nil {
			return err
		}
	}
	wait, err := f.store.TakeWriteBudget(ctx, tenantID, float64(n), capacity, perSec)
	if err != nil {
		return err
	}
	var ids []string
	for _, o := range ops {
		for _, ch := range o.changes {
			ids = append(ids, ch.ID)
		}
	}
	for wait > 0 {
		step := min(wait, f.cfg.Lease/3)
		if err := sleep(ctx, step); err != nil {
			return err
		}
		wait -= step
		if wait > 0 {
			if err := f.store.ExtendLease(ctx, f.cfg.Owner, ids, time.Now().Add(f.cfg.Lease)); err != nil {
				return err
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	return keys
}
