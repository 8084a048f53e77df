package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// Evaluate is New followed by Plan, for callers that plan once.
func Evaluate(snap *Snapshot, policy *Policy) (*Plan, error) {
	e, err := New(snap, policy)
	if err != nil {
		return nil, err
	}
	return e.Plan(), nil
}

// Plan computes the full plan. Steps, in order:
//
//  1. candidates of every pool: assignments − exclusions, categories applied;
//  2. mutual exclusion on group targets, using every pool's candidates as the
//     planned assignments;
//  3. per pool: holders stay, the rest need an add; adds Entra would reject
//     (no usage location for direct assignment, conflicting plans, missing
//     dependency) are blocked; the seat cap keeps the longest holders first,
//     then lower user ids;
//  4. removals: what the pool granted, still holds, and no longer wants
//     (kept instead when another direct pool wants the same SKU);
//  5. where a SKU has more newcomers than free seats, pool-granted holders
//     of lower priority give up their seats (see contest), and removals are
//     settled again;
//  6. tenant seats, pools by priority (higher first) then name: each add
//     takes a seat of every SKU the user does not hold yet, from the free
//     seats plus the seats freed by removals that need no approval;
//  7. updates of disabled plans, other holders, cost.
func (e *Engine) Plan() *Plan {
	s := e.snap
	live := make([]*cpool, 0, len(e.pools))
	for _, cp := range e.pools {
		if cp.err == nil {
			cp.cand = e.candidates(cp)
			live = append(live, cp)
		}
	}
	pps := make(map[*cpool]*PoolPlan, len(e.pools))
	for _, cp := range e.pools {
		pp := &PoolPlan{Pool: cp.p.Name, Target: cp.p.Target.String(), Priority: cp.p.Priority,
			RemovalApproval: cp.p.RemovalApproval, Warnings: cp.warnings,
			Adds: []Change{}, Removals: []Change{}, Updates: []Change{}, Blocked: []Change{}, Others: []Holder{}}
		if cp.err != nil {
			pp.Error = cp.err.Error()
		}
		pps[cp] = pp
	}
	for _, cp := range live {
		cp.candME = e.applyExclusion(cp)
		cp.evicted = roaring.New()
	}
	for _, cp := range live {
		e.screen(cp, pps[cp])
	}

	consumed := make([]int, len(s.skus))
	wantDirect := e.wantDirect(live)
	freed, freedNow := e.settle(live, pps, wantDirect)
	if e.contest(freedNow) {
		wantDirect = e.wantDirect(live)
		freed, freedNow = e.settle(live, pps, wantDirect)
	}

	e.seatsLeft = make([]int, len(s.skus))
	for k, info := range s.skus {
		e.seatsLeft[k] = info.available() + freedNow[k]
	}
	clear(e.reserved)
	adding := make([]*roaring.Bitmap, len(s.skus)) // SKUs being added in this plan
	for k := range adding {
		adding[k] = roaring.New()
	}
	for _, cp := range e.order {
		if cp.err == nil {
			e.allocate(cp, pps[cp], adding, consumed)
		}
	}
	for _, cp := range live {
		e.finish(cp, pps[cp], wantDirect)
	}
	e.hasPlan = true

	plan := &Plan{Currency: e.policy.Currency, planNames: e.cons.names}
	for _, cp := range e.pools {
		pp := pps[cp]
		plan.Pools = append(plan.Pools, *pp)
		t := &plan.Totals
		t.Adds += len(pp.Adds)
		t.Removals += len(pp.Removals)
		t.Updates += len(pp.Updates)
		t.Blocked += len(pp.Blocked)
		t.Unchanged += pp.Unchanged
		t.Transfers += len(pp.Transfers)
		t.Others += len(pp.Others)
	}
	for k, info := range s.skus {
		if consumed[k] == 0 && freed[k] == 0 && !e.granted(int32(k)) {
			continue
		}
		c := SkuCost{SkuID: info.sku.SkuID, PartNumber: info.sku.SkuPartNumber, Available: info.available(),
			Consumed: consumed[k], Freed: freed[k], UnitPrice: e.prices[k]}
		c.Delta = Price(int64(c.Consumed-c.Freed) * int64(c.UnitPrice))
		plan.MonthlyDelta += c.Delta
		plan.Skus = append(plan.Skus, c)
	}
	slices.SortFunc(plan.Skus, func(a, b SkuCost) int {
		return cmp.Or(strings.Compare(a.PartNumber, b.PartNumber), strings.Compare(a.SkuID, b.SkuID))
	})
	return plan
}

// granted reports whether some valid pool grants SKU k.
func (e *Engine) granted(k int32) bool {
	for _, cp := range e.pools {
		if cp.err == nil && cp.hasSku(k) {
			return true
		}
	}
	return false
}

// screen sorts the pool's candidates into holders that stay, users to add
// and users blocked for reasons other than tenant seats (step 3).
func (e *Engine) screen(cp *cpool, pp *PoolPlan) {
	s := e.snap
	cp.holders = e.holders(cp)
	stay := roaring.And(cp.candME, cp.holders)
	need := roaring.AndNot(cp.candME, cp.holders)
	blocked := map[uint32]*blockReason{}
	if cp.group < 0 {
		noLoc := roaring.And(need, s.noUsage)
		for it := noLoc.Iterator(); it.HasNext(); {
			blocked[it.Next()] = &blockReason{ReasonUsageLocation, "usage location is not set; Entra refuses direct assignment without one"}
		}
		need.AndNot(noLoc)
	}
	if sus := cp.check.suspects(s, need); !sus.IsEmpty() {
		for it := sus.Iterator(); it.HasNext(); {
			u := it.Next()
			if r := cp.check.check(e, u); r != nil {
				blocked[u] = r
				need.Remove(u)
			}
		}
	}
	if limit := cp.p.SeatCap; limit > 0 && int(stay.GetCardinality()+need.GetCardinality()) > limit {
		if int(stay.GetCardinality()) > limit {
			stay = e.longestHolders(cp, stay, limit)
		}
		room := limit - int(stay.GetCardinality())
		over := roaring.New()
		for it := need.Iterator(); it.HasNext(); {
			u := it.Next()
			if room > 0 {
				room--
				continue
			}
			over.Add(u)
		}
		for it := over.Iterator(); it.HasNext(); {
			blocked[it.Next()] = &blockReason{ReasonSeatCap, fmt.Sprintf("pool seat cap %d reached", limit)}
		}
		need.AndNot(over)
	}
	cp.kept = stay
	cp.want = roaring.Or(stay, need)
	for _, u := range sortedKeys(blocked) {
		r := blocked[u]
		pp.Blocked = append(pp.Blocked, e.change(cp, OpAdd, u, r))
	}
}

// longestHolders keeps the limit holders who have held longest, ties by
// user id.
func (e *Engine) longestHolders(cp *cpool, stay *roaring.Bitmap, limit int) *roaring.Bitmap {
	type holder struct {
		since int64
		u     uint32
	}
	hs := make([]holder, 0, stay.GetCardinality())
	for it := stay.Iterator(); it.HasNext(); {
		u := it.Next()
		hs = append(hs, holder{e.since(cp, u), u})
	}
	slices.SortFunc(hs, func(a, b holder) int { return cmp.Or(cmp.Compare(a.since, b.since), cmp.Compare(a.u, b.u)) })
	kept := roaring.New()
	for _, h := range hs[:limit] {
		kept.Add(h.u)
	}
	return kept
}

// wantDirect is, per SKU, every user some direct pool wants to hold it.
func (e *Engine) wantDirect(live []*cpool) []*roaring.Bitmap {
	out := make([]*roaring.Bitmap, len(e.snap.skus))
	for _, cp := range live {
		if cp.group >= 0 {
			continue
		}
		for _, it := range cp.items {
			if out[it.sku] == nil {
				out[it.sku] = roaring.New()
			}
			out[it.sku].Or(cp.want)
		}
	}
	return out
}

// settle computes every pool's removals and the seats they free: freed
// counts all of them, freedNow those that need no approval.
func (e *Engine) settle(live []*cpool, pps map[*cpool]*PoolPlan, wantDirect []*roaring.Bitmap) (freed, freedNow []int) {
	freed, freedNow = make([]int, len(e.snap.skus)), make([]int, len(e.snap.skus))
	gone := map[uint64]*goneRows{}
	for _, cp := range live {
		e.removals(cp, pps[cp], wantDirect, gone)
	}
	e.countFreed(gone, freed, freedNow)
	return freed, freedNow
}

// removals proposes removing what the pool granted, still held and no longer
// wanted (step 4), and records which license rows go away so the seats
// freed can be counted once every pool has spoken.
func (e *Engine) removals(cp *cpool, pp *PoolPlan, wantDirect []*roaring.Bitmap, gone map[uint64]*goneRows) {
	s := e.snap
	forget := func(u uint32, k int32, group int32) {
		key := uint64(u)<<32 | uint64(uint32(k))
		g := gone[key]
		if g == nil {
			g = &goneRows{}
			gone[key] = g
		}
		if group < 0 {
			g.direct = true
		} else {
			g.groups = append(g.groups, group)
		}
		g.approval = g.approval || cp.p.RemovalApproval
	}
	pp.Removals, pp.Transfers = pp.Removals[:0], nil
	removal := func(u uint32) Change {
		c := e.change(cp, OpRemove, u, nil)
		if cp.evicted.Contains(u) {
			c.Detail = evictionDetail
		}
		return c
	}
	if cp.group >= 0 {
		if cp.ownedGroup == nil {
			return
		}
		leaving := roaring.AndNot(roaring.And(cp.ownedGroup.users, cp.holders), cp.kept)
		for it := leaving.Iterator(); it.HasNext(); {
			u := it.Next()
			pp.Removals = append(pp.Removals, removal(u))
			for _, item := range cp.items {
				forget(u, item.sku, cp.group)
			}
		}
		return
	}
	type drop struct{ remove, keep []directory.AssignedLicense }
	drops := map[uint32]*drop{}
	for i, it := range cp.items {
		o := cp.ownedSku[i]
		if o == nil {
			continue
		}
		leaving := roaring.AndNot(roaring.And(o.users, s.holdDirect[it.sku]), cp.want)
		sku := s.skus[it.sku].sku.SkuID
		for bi := leaving.Iterator(); bi.HasNext(); {
			u := bi.Next()
			d := drops[u]
			if d == nil {
				d = &drop{}
				drops[u] = d
			}
			if wantDirect[it.sku] != nil && wantDirect[it.sku].Contains(u) {
				d.keep = append(d.keep, directory.AssignedLicense{SkuID: sku, DisabledPlans: []string{}})
				continue
			}
			d.remove = append(d.remove, directory.AssignedLicense{SkuID: sku, DisabledPlans: []string{}})
			forget(u, it.sku, -1)
		}
	}
	for _, u := range sortedKeys(drops) {
		d := drops[u]
		if len(d.remove) > 0 {
			c := removal(u)
			c.Licenses = d.remove
			pp.Removals = append(pp.Removals, c)
		}
		if len(d.keep) > 0 {
			c := e.change(cp, OpTransfer, u, nil)
			c.Licenses = d.keep
			c.Detail = transferDetail
			pp.Transfers = append(pp.Transfers, c)
		}
	}
}

// goneRows are the license rows of one (user, SKU) the plan removes.
type goneRows struct {
	direct   bool
	groups   []int32
	approval bool // some of the removals wait for approval
}

// countFreed counts a seat as freed when the plan removes every row through
// which the user holds the SKU; it is usable by this plan's adds only when
// none of those removals waits for approval.
func (e *Engine) countFreed(gone map[uint64]*goneRows, freed, freedNow []int) {
	for key, g := range gone {
		u, k := uint32(key>>32), int32(uint32(key))
		all := true
		for _, st := range e.snap.userStates(u) {
			if st.sku != k || st.failed() {
				continue
			}
			if (st.group < 0 && !g.direct) || (st.group >= 0 && !slices.Contains(g.groups, st.group)) {
				all = false
				break
			}
		}
		if all {
			freed[k]++
			if !g.approval {
				freedNow[k]++
			}
		}
	}
}

// allocate gives tenant seats to the pool's adds in user-id order (step 6).
func (e *Engine) allocate(cp *cpool, pp *PoolPlan, adding []*roaring.Bitmap, consumed []int) {
	s := e.snap
	need := roaring.AndNot(cp.want, cp.kept)
	cp.result = cp.kept.Clone()
	pp.Adds = slices.Grow(pp.Adds, int(need.GetCardinality()))
	var noSeat []Change
	missing := make([]int32, 0, len(cp.items))
	for it := need.Iterator(); it.HasNext(); {
		u := it.Next()
		missing = missing[:0]
		short := int32(-1)
		for _, item := range cp.items {
			if s.holdAny[item.sku].Contains(u) || adding[item.sku].Contains(u) {
				continue
			}
			missing = append(missing, item.sku)
			if e.seatsLeft[item.sku] <= 0 && short < 0 {
				short = item.sku
			}
		}
		if short >= 0 {
			noSeat = append(noSeat, e.change(cp, OpAdd, u, &blockReason{ReasonNoSeats,
				fmt.Sprintf("no seats left for %s", displaySku(s.skus[short]))}))
			continue
		}
		for _, k := range missing {
			e.seatsLeft[k]--
			consumed[k]++
			adding[k].Add(u)
		}
		cp.result.Add(u)
		switch {
		case cp.group >= 0:
			pp.Adds = append(pp.Adds, e.change(cp, OpAdd, u, nil))
		case len(missing) > 0:
			c := e.change(cp, OpAdd, u, nil)
			c.Licenses = c.Licenses[:0]
			for _, item := range cp.items {
				if slices.Contains(missing, item.sku) {
					c.Licenses = append(c.Licenses, directory.AssignedLicense{SkuID: s.skus[item.sku].sku.SkuID, DisabledPlans: item.disabled})
				}
			}
			pp.Adds = append(pp.Adds, c)
		}
	}
	if len(noSeat) > 0 {
		pp.Blocked = append(pp.Blocked, noSeat...)
		slices.SortStableFunc(pp.Blocked, func(a, b Change) int { return cmp.Compare(a.user, b.user) })
	}
}

// finish fills updates, other holders and counts (step 7).
func (e *Engine) finish(cp *cpool, pp *PoolPlan, wantDirect []*roaring.Bitmap) {
	s := e.snap
	pp.resultant = cp.result.Clone() // re-planning users later moves cp.result on
	pp.Resultant = int(cp.result.GetCardinality())
	pp.Unchanged = pp.Resultant - len(pp.Adds)
	if cp.group < 0 {
		upd := map[uint32][]directory.AssignedLicense{}
		for i, it := range cp.items {
			o := cp.ownedSku[i]
			if o == nil {
				continue
			}
			stale := roaring.And(roaring.And(cp.kept, o.users), s.holdDirect[it.sku])
			if it.dset >= 0 {
				if same := s.directSet[it.sku][it.dset]; same != nil {
					stale.AndNot(same)
				}
			}
			for bi := stale.Iterator(); bi.HasNext(); {
				u := bi.Next()
				upd[u] = append(upd[u], directory.AssignedLicense{SkuID: s.skus[it.sku].sku.SkuID, DisabledPlans: it.disabled})
			}
		}
		for _, u := range sortedKeys(upd) {
			c := e.change(cp, OpUpdate, u, nil)
			c.Licenses = upd[u]
			pp.Updates = append(pp.Updates, c)
		}
	}
	// Other holders: for a group target, members the pool neither wants nor
	// added; for a direct target, direct assignments of the bundle that no
	// direct pool wants (licenses that come through a group belong to that
	// group's pool, which reports them).
	others := roaring.AndNot(roaring.AndNot(cp.holders, cp.result), cp.ownedUsers())
	if cp.group < 0 {
		parts := make([]*roaring.Bitmap, len(cp.items))
		for k, it := range cp.items {
			parts[k] = s.holdDirect[it.sku]
		}
		others.And(roaring.FastOr(parts...))
		for _, it := range cp.items {
			if w := wantDirect[it.sku]; w != nil {
				others.AndNot(w)
			}
		}
	}
	pp.Others = slices.Grow(pp.Others, int(others.GetCardinality()))
	for it := others.Iterator(); it.HasNext(); {
		u := it.Next()
		pp.Others = append(pp.Others, Holder{UserID: s.UserID(u), UPN: s.upn(u)})
	}
}

// change builds a Change for user u in pool cp.
func (e *Engine) change(cp *cpool, op Op, u uint32, r *blockReason) Change {
	s := e.snap
	c := Change{Pool: cp.p.Name, Op: op, UserID: s.UserID(u), UPN: s.upn(u), user: u}
	if cp.group >= 0 {
		c.GroupID = s.groups[cp.group].g.ID
	} else if op == OpAdd {
		for _, it := range cp.items {
			c.Licenses = append(c.Licenses, directory.AssignedLicense{SkuID: s.skus[it.sku].sku.SkuID, DisabledPlans: it.disabled})
		}
	}
	if op == OpRemove {
		c.NeedsApproval = cp.p.RemovalApproval
	}
	if r != nil {
		c.Reason, c.Detail = r.reason, r.detail
	}
	return c
}
