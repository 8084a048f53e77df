package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/directory"
)

// UserPlan is the plan for one user across every pool, as produced by
// ReplanUser after a change to that user (a mover, an attribute edit).
type UserPlan struct {
	UserID    string   `json:"userId"`
	Adds      []Change `json:"adds"`
	Removals  []Change `json:"removals"`
	Updates   []Change `json:"updates"`
	Blocked   []Change `json:"blocked"`
	Transfers []Change `json:"transfers,omitempty"`
	// Unchanged and Others name the pools the user already holds: wanted
	// by the pool, or held without the pool having granted it.
	Unchanged []string `json:"unchanged"`
	Others    []string `json:"others"`
}

// ReplanUser applies a changed user (and, when memberOf is non-nil, its new
// direct group memberships, by group id) to the snapshot and re-plans that
// user alone against the last full plan. Tenant seats are those the last
// plan left free; a seat the user takes is reserved until the next Plan, so
// a burst of re-plans never over-commits. It never takes a seat from
// another pool's holder: contests between pools are settled by the next full
// Plan. Only users already in the snapshot can be re-planned; joiners arrive
// with the next snapshot. memberOf nil keeps the memberships as they are; an
// empty slice means the user is in no group.
//
// It must not run concurrently with Plan or another ReplanUser.
func (e *Engine) ReplanUser(u *directory.User, memberOf []string) (*UserPlan, error) {
	s := e.snap
	i, ok := s.UserIndex(u.ID)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownUser, u.ID)
	}
	if !e.hasPlan {
		e.Plan()
	}
	var groups []int32
	if memberOf != nil {
		groups = make([]int32, 0, len(memberOf))
		for _, id := range memberOf {
			if g, ok := s.groupByID[strings.ToLower(id)]; ok {
				groups = append(groups, g)
			}
		}
	}
	s.updateUser(i, u, groups)
	e.refreshUser(i)

	live := make([]*cpool, 0, len(e.pools))
	for _, cp := range e.pools {
		if cp.err == nil {
			setBit(cp.cand, i, e.isCandidate(cp, i))
			live = append(live, cp)
		}
	}
	for _, cp := range live {
		setBit(cp.candME, i, cp.cand.Contains(i) && !e.excludedFor(cp, i))
	}
	// Release what the user reserved in an earlier re-plan before deciding again.
	for _, k := range e.reserved[i] {
		e.seatsLeft[k]++
	}
	delete(e.reserved, i)

	up := &UserPlan{UserID: u.ID, Adds: []Change{}, Removals: []Change{}, Updates: []Change{}, Blocked: []Change{}, Unchanged: []string{}, Others: []string{}}
	// Decide wants first (cap and checks), then seats in priority order,
	// then removals, which depend on what other direct pools want.
	want := map[*cpool]bool{}
	for _, cp := range live {
		holder := cp.holders.Contains(i)
		wanted := cp.candME.Contains(i)
		if wanted && cp.p.SeatCap > 0 && !cp.result.Contains(i) && int(cp.result.GetCardinality()) >= cp.p.SeatCap {
			wanted = false
			if !holder {
				up.Blocked = append(up.Blocked, e.change(cp, OpAdd, i, &blockReason{ReasonSeatCap, fmt.Sprintf("pool seat cap %d reached", cp.p.SeatCap)}))
			}
		}
		if wanted && !holder {
			if cp.group < 0 && s.noUsage.Contains(i) {
				up.Blocked = append(up.Blocked, e.change(cp, OpAdd, i, &blockReason{ReasonUsageLocation, "usage location is not set; Entra refuses direct assignment without one"}))
				wanted = false
			} else if r := cp.check.check(e, i); r != nil {
				up.Blocked = append(up.Blocked, e.change(cp, OpAdd, i, r))
				wanted = false
			}
		}
		want[cp] = wanted
	}
	adding := map[int32]bool{}
	for _, cp := range e.order {
		if cp.err != nil || !want[cp] {
			continue
		}
		if cp.holders.Contains(i) {
			cp.result.Add(i)
			up.Unchanged = append(up.Unchanged, cp.p.Name)
			continue
		}
		var missing []int32
		short := int32(-1)
		for _, it := range cp.items {
			if s.holdAny[it.sku].Contains(i) || adding[it.sku] {
				continue
			}
			missing = append(missing, it.sku)
			if e.seatsLeft[it.sku] <= 0 && short < 0 {
				short = it.sku
			}
		}
		if short >= 0 {
			want[cp] = false
			cp.result.Remove(i)
			up.Blocked = append(up.Blocked, e.change(cp, OpAdd, i, &blockReason{ReasonNoSeats, fmt.Sprintf("no seats left for %s", displaySku(s.skus[short]))}))
			continue
		}
		for _, k := range missing {
			e.seatsLeft[k]--
			adding[k] = true
			e.reserved[i] = append(e.reserved[i], k)
		}
		cp.result.Add(i)
		c := e.change(cp, OpAdd, i, nil)
		if cp.group < 0 {
			c.Licenses = slices.DeleteFunc(c.Licenses, func(l directory.AssignedLicense) bool {
				k, _ := s.skuIndex(l.SkuID)
				return !slices.Contains(missing, k)
			})
			if len(c.Licenses) == 0 {
				up.Unchanged = append(up.Unchanged, cp.p.Name)
				continue
			}
		}
		up.Adds = append(up.Adds, c)
	}
	for _, cp := range live {
		if want[cp] {
			e.replanUpdate(cp, i, up)
			continue
		}
		cp.result.Remove(i)
		e.replanRemoval(cp, i, want, up)
	}
	sortChanges := func(cs []Change) {
		slices.SortStableFunc(cs, func(a, b Change) int { return strings.Compare(a.Pool, b.Pool) })
	}
	sortChanges(up.Adds)
	sortChanges(up.Blocked)
	slices.Sort(up.Unchanged)
	return up, nil
}

// refreshUser brings the engine's own caches (effective and transitive
// members, rule results) up to date for user i.
func (e *Engine) refreshUser(i uint32) {
	s := e.snap
	for g, bm := range e.eff {
		in := s.groups[g].members.Contains(i)
		for _, x := range e.excluders[g] {
			in = in && !s.groups[x].members.Contains(i)
		}
		setBit(bm, i, in)
	}
	for _, t := range e.trans {
		in := false
		for _, q := range t.from {
			in = in || e.effective(q).Contains(i)
		}
		setBit(t.users, i, in)
	}
	for _, r := range e.rules.byText { // order is irrelevant: each rule is updated on its own
		if r.users != nil {
			setBit(r.users, i, r.prog.Match(s, i))
		}
	}
}

// isCandidate is candidates() for one user.
func (e *Engine) isCandidate(cp *cpool, i uint32) bool {
	s := e.snap
	in := func(src *sources) (indirect, direct bool) {
		if _, ok := slices.BinarySearch(src.users, i); ok {
			direct = true
		}
		indirect = src.everyone || (src.cats != 0 && s.users.cats[i]&src.cats != 0)
		for _, g := range src.groups {
			indirect = indirect || e.effective(g).Contains(i)
		}
		for _, g := range src.trans {
			indirect = indirect || e.transitive(g).users.Contains(i)
		}
		for _, r := range src.rules {
			indirect = indirect || r.eval(s).Contains(i)
		}
		return indirect, direct
	}
	ind, dir := in(&cp.assign)
	for _, c := range cp.itemCats {
		ind = ind && directory.Inherits(s.users.cats[i], c)
	}
	if !ind && !dir {
		return false
	}
	xi, xd := in(&cp.exclude)
	return !xi && !xd
}

// excludedFor is applyExclusion for one user.
func (e *Engine) excludedFor(cp *cpool, i uint32) bool {
	if cp.group < 0 {
		return false
	}
	for _, x := range e.excluders[cp.group] {
		members := e.snap.groups[x].members
		if other, ok := e.poolByGroup[x]; ok && other.cand != nil {
			owned := other.ownedGroup != nil && other.ownedGroup.users.Contains(i)
			if other.cand.Contains(i) || (members.Contains(i) && !owned) {
				return true
			}
		} else if members.Contains(i) {
			return true
		}
	}
	return false
}

// replanUpdate proposes re-sending owned direct SKUs whose disabled plans
// differ from the bundle.
func (e *Engine) replanUpdate(cp *cpool, i uint32, up *UserPlan) {
	if cp.group >= 0 || !cp.holders.Contains(i) {
		return
	}
	s := e.snap
	var ls []directory.AssignedLicense
	for k, it := range cp.items {
		if cp.ownedSku[k] == nil || !cp.ownedSku[k].users.Contains(i) || !s.holdDirect[it.sku].Contains(i) {
			continue
		}
		if same := s.directSet[it.sku][it.dset]; it.dset >= 0 && same != nil && same.Contains(i) {
			continue
		}
		ls = append(ls, directory.AssignedLicense{SkuID: s.skus[it.sku].sku.SkuID, DisabledPlans: it.disabled})
	}
	if len(ls) > 0 {
		c := e.change(cp, OpUpdate, i, nil)
		c.Licenses = ls
		up.Updates = append(up.Updates, c)
	}
}

// replanRemoval is removals() and the other-holder report for one user.
func (e *Engine) replanRemoval(cp *cpool, i uint32, want map[*cpool]bool, up *UserPlan) {
	s := e.snap
	if !cp.holders.Contains(i) && cp.group >= 0 {
		return
	}
	if cp.group >= 0 {
		if cp.ownedGroup != nil && cp.ownedGroup.users.Contains(i) {
			up.Removals = append(up.Removals, e.change(cp, OpRemove, i, nil))
		} else {
			up.Others = append(up.Others, cp.p.Name)
		}
		return
	}
	var remove, keep []directory.AssignedLicense
	owns := false
	for k, it := range cp.items {
		o := cp.ownedSku[k]
		if o == nil || !o.users.Contains(i) {
			continue
		}
		owns = true
		if !s.holdDirect[it.sku].Contains(i) {
			continue
		}
		l := directory.AssignedLicense{SkuID: s.skus[it.sku].sku.SkuID, DisabledPlans: []string{}}
		if e.directWanted(cp, it.sku, want) {
			keep = append(keep, l)
		} else {
			remove = append(remove, l)
		}
	}
	if len(remove) > 0 {
		c := e.change(cp, OpRemove, i, nil)
		c.Licenses = remove
		up.Removals = append(up.Removals, c)
	}
	if len(keep) > 0 {
		c := e.change(cp, OpTransfer, i, nil)
		c.Licenses = keep
		c.Detail = transferDetail
		up.Transfers = append(up.Transfers, c)
	}
	if !owns && cp.holders.Contains(i) {
		others := false
		for _, it := range cp.items {
			others = others || s.holdDirect[it.sku].Contains(i)
		}
		for _, it := range cp.items {
			others = others && !e.directWanted(cp, it.sku, want)
		}
		if others {
			up.Others = append(up.Others, cp.p.Name)
		}
	}
}

// directWanted reports whether a direct pool other than cp wants SKU k for
// the user being re-planned.
func (e *Engine) directWanted(cp *cpool, k int32, want map[*cpool]bool) bool {
	for other, w := range want {
		if other != cp && w && other.group < 0 && other.hasSku(k) {
			return true
		}
	}
	return false
}
