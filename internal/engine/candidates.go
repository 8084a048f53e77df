package engine

import (
	"github.com/RoaringBitmap/roaring/v2"
)

// effective returns the direct user members of group g that are in effect:
// members of g minus members of every group that excludes g. Per One
// Identity Manager semantics an excluding group counts whether or not it is
// itself in effect, and exclusions are not inherited: only direct
// memberships of the two declared groups take part.
func (e *Engine) effective(g int32) *roaring.Bitmap {
	if bm, ok := e.eff[g]; ok {
		return bm
	}
	bm := e.snap.groups[g].members
	if xs := e.excluders[g]; len(xs) > 0 {
		parts := make([]*roaring.Bitmap, len(xs))
		for i, x := range xs {
			parts[i] = e.snap.groups[x].members
		}
		bm = roaring.AndNot(bm, roaring.FastOr(parts...))
	}
	e.eff[g] = bm
	return bm
}

// transitive returns the users in effect in g or in any group nested under
// it, however deep. Cycles are tolerated: each group is visited once.
func (e *Engine) transitive(g int32) *transEntry {
	if t, ok := e.trans[g]; ok {
		return t
	}
	seen := map[int32]bool{g: true}
	queue := []int32{g}
	for i := 0; i < len(queue); i++ {
		for _, c := range e.snap.groups[queue[i]].children {
			if !seen[c] {
				seen[c] = true
				queue = append(queue, c)
			}
		}
	}
	parts := make([]*roaring.Bitmap, len(queue))
	for i, q := range queue {
		parts[i] = e.effective(q)
	}
	t := &transEntry{users: roaring.FastOr(parts...), from: queue}
	e.trans[g] = t
	return t
}

// selected is the union of a selector's sources. Direct user references are
// returned apart because they ignore categories.
func (e *Engine) selected(src *sources) (indirect, direct *roaring.Bitmap) {
	s := e.snap
	if src.everyone {
		indirect = s.universe
	} else {
		var parts []*roaring.Bitmap
		for _, g := range src.groups {
			parts = append(parts, e.effective(g))
		}
		for _, g := range src.trans {
			parts = append(parts, e.transitive(g).users)
		}
		for _, r := range src.rules {
			parts = append(parts, r.eval(s))
		}
		if src.cats != 0 {
			parts = append(parts, s.withCategory(src.cats))
		}
		indirect = roaring.FastOr(parts...)
	}
	return indirect, roaring.BitmapOf(src.users...)
}

// candidates is (union of assignments) − (union of exclusions), with item
// categories applied to indirect assignments only.
func (e *Engine) candidates(cp *cpool) *roaring.Bitmap {
	indirect, direct := e.selected(&cp.assign)
	if len(cp.itemCats) > 0 {
		parts := make([]*roaring.Bitmap, 0, len(cp.itemCats)+1)
		parts = append(parts, indirect)
		for _, c := range cp.itemCats {
			parts = append(parts, e.snap.inheritable(c))
		}
		indirect = roaring.FastAnd(parts...)
	}
	cand := roaring.Or(indirect, direct)
	if !cp.exclude.empty() {
		xi, xd := e.selected(&cp.exclude)
		cand.AndNot(xi)
		cand.AndNot(xd)
	}
	return cand
}

// planned is who will be assigned group g once the plan applies, before
// mutual exclusion: members the managing pool did not grant plus its
// candidates; for groups no pool manages, the current members.
func (e *Engine) planned(g int32) *roaring.Bitmap {
	members := e.snap.groups[g].members
	cp, ok := e.poolByGroup[g]
	if !ok || cp.cand == nil {
		return members
	}
	out := members
	if cp.ownedGroup != nil {
		out = roaring.AndNot(members, cp.ownedGroup.users)
	}
	return roaring.Or(out, cp.cand)
}

// applyExclusion removes from a group-target pool's candidates the users for
// whom some planned group excludes the target.
func (e *Engine) applyExclusion(cp *cpool) *roaring.Bitmap {
	xs := e.excluders[cp.group]
	if cp.group < 0 || len(xs) == 0 {
		return cp.cand
	}
	parts := make([]*roaring.Bitmap, len(xs))
	for i, x := range xs {
		parts[i] = e.planned(x)
	}
	return roaring.AndNot(cp.cand, roaring.FastOr(parts...))
}

// holders are the users that already hold what the pool grants: members of
// the target group, or holders (by any path) of every SKU of a direct bundle.
func (e *Engine) holders(cp *cpool) *roaring.Bitmap {
	if cp.group >= 0 {
		return e.snap.groups[cp.group].members
	}
	parts := make([]*roaring.Bitmap, len(cp.items))
	for i, it := range cp.items {
		parts[i] = e.snap.holdAny[it.sku]
	}
	return roaring.FastAnd(parts...)
}

// ownedUsers is every user the pool granted anything to.
func (cp *cpool) ownedUsers() *roaring.Bitmap {
	if cp.group >= 0 {
		if cp.ownedGroup == nil {
			return roaring.New()
		}
		return cp.ownedGroup.users
	}
	var parts []*roaring.Bitmap
	for _, o := range cp.ownedSku {
		if o != nil {
			parts = append(parts, o.users)
		}
	}
	return roaring.FastOr(parts...)
}

// since is when user u started holding what the pool grants: the grant time
// when the pool granted it, else the oldest license row for it, else 0
// (held from before allot knew: treated as longest).
func (e *Engine) since(cp *cpool, u uint32) int64 {
	var best int64
	take := func(t int64) {
		if t != 0 && (best == 0 || t < best) {
			best = t
		}
	}
	if cp.group >= 0 {
		take(cp.ownedGroup.sinceOf(u))
	} else {
		for _, o := range cp.ownedSku {
			take(o.sinceOf(u))
		}
	}
	if best != 0 {
		return best
	}
	for _, st := range e.snap.userStates(u) {
		if st.failed() {
			continue
		}
		if (cp.group >= 0 && st.group == cp.group) || (cp.group < 0 && st.group < 0 && cp.hasSku(st.sku)) {
			take(st.updatedUnix())
		}
	}
	return best
}

func (cp *cpool) hasSku(k int32) bool {
	for _, it := range cp.items {
		if it.sku == k {
			return true
		}
	}
	return false
}
