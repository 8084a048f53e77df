package engine

import (
	"cmp"
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// contest applies "limited by seats (higher priority first, then longest
// holders, then user id)" when a SKU has more newcomers than free seats:
// holders a pool granted compete with newcomers of other pools, and a holder
// of a lower-priority pool gives up its seat to a newcomer of a
// higher-priority one. Within one priority, holders come first (longest
// first), so equal pools never take seats from each other. Holders a pool
// did not grant never compete: they cannot be removed.
//
// It only evicts; allocate then hands the freed seats to newcomers in the
// same order. A seat held in a pool whose removals need approval is given up
// in the plan but only becomes usable once the removal is approved, so the
// newcomer waiting for it stays blocked until then.
//
// It reports whether anyone was evicted.
func (e *Engine) contest(freedNow []int) bool {
	s := e.snap
	ns := len(s.skus)
	free := make([]int, ns)
	demand := make([]int, ns)
	for k, info := range s.skus {
		free[k] = info.available() + freedNow[k]
	}
	for _, cp := range e.order {
		if cp.err != nil {
			continue
		}
		for _, it := range cp.items {
			demand[it.sku] += int(roaring.AndNot(roaring.AndNot(cp.want, cp.kept), s.holdAny[it.sku]).GetCardinality())
		}
	}
	short := make([]bool, ns)
	anyShort := false
	for k := range short {
		short[k] = demand[k] > free[k]
		anyShort = anyShort || short[k]
	}
	if !anyShort {
		return false
	}
	// A holder whose pool's priority is at least that of every pool with
	// newcomers for its SKUs ranks above all of them: it brings its seat and
	// takes it back, so it need not take part.
	top := make([]int, ns)
	for k := range top {
		top[k] = math.MinInt
	}
	for _, cp := range e.order {
		if cp.err != nil || cp.want.GetCardinality() == cp.kept.GetCardinality() {
			continue
		}
		for _, it := range cp.items {
			top[it.sku] = max(top[it.sku], cp.p.Priority)
		}
	}

	type want struct {
		cp     *cpool
		pos    int // in seat order (priority desc, then name)
		holder bool
		since  int64
		u      uint32
		skus   []int32
	}
	var wants []want
	for pos, cp := range e.order {
		if cp.err != nil {
			continue
		}
		atRisk := false
		for _, it := range cp.items {
			atRisk = atRisk || (short[it.sku] && cp.p.Priority < top[it.sku])
		}
		for it := cp.kept.Iterator(); atRisk && it.HasNext(); {
			u := it.Next()
			if ks := e.contestable(cp, u, short); len(ks) > 0 {
				wants = append(wants, want{cp, pos, true, e.since(cp, u), u, ks})
			}
		}
		for it := roaring.AndNot(cp.want, cp.kept).Iterator(); it.HasNext(); {
			u := it.Next()
			var ks []int32
			for _, item := range cp.items {
				if short[item.sku] && !s.holdAny[item.sku].Contains(u) {
					ks = append(ks, item.sku)
				}
			}
			if len(ks) > 0 {
				wants = append(wants, want{cp, pos, false, 0, u, ks})
			}
		}
	}
	slices.SortFunc(wants, func(a, b want) int {
		return cmp.Or(
			cmp.Compare(b.cp.p.Priority, a.cp.p.Priority),
			boolOrder(a.holder, b.holder),
			cmp.Compare(a.pos, b.pos),
			cmp.Compare(a.since, b.since),
			cmp.Compare(a.u, b.u))
	})
	capacity := slices.Clone(free)
	for _, w := range wants {
		if w.holder {
			for _, k := range w.skus {
				capacity[k]++
			}
		}
	}
	granted := map[uint64]bool{} // (user, SKU) already promised to a newcomer
	evicted := false
	for _, w := range wants {
		ks := w.skus
		if !w.holder {
			ks = slices.DeleteFunc(slices.Clone(ks), func(k int32) bool { return granted[uint64(w.u)<<32|uint64(uint32(k))] })
		}
		if !slices.ContainsFunc(ks, func(k int32) bool { return capacity[k] <= 0 }) {
			for _, k := range ks {
				capacity[k]--
				if !w.holder {
					granted[uint64(w.u)<<32|uint64(uint32(k))] = true
				}
			}
			continue
		}
		if w.holder {
			w.cp.kept.Remove(w.u)
			w.cp.want.Remove(w.u)
			w.cp.evicted.Add(w.u)
			evicted = true
		}
	}
	return evicted
}

// boolOrder sorts true before false.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// contestable lists the short SKUs whose seat user u holds only because pool
// cp granted it (so the pool could give it up).
func (e *Engine) contestable(cp *cpool, u uint32, short []bool) []int32 {
	s := e.snap
	var out []int32
	for i, it := range cp.items {
		if !short[it.sku] {
			continue
		}
		if cp.group >= 0 {
			if cp.ownedGroup == nil || !cp.ownedGroup.users.Contains(u) {
				return nil
			}
		} else if o := cp.ownedSku[i]; o == nil || !o.users.Contains(u) || !s.holdDirect[it.sku].Contains(u) {
			continue
		}
		only := true
		for _, st := range s.userStates(u) {
			if st.sku == it.sku && !st.failed() && st.group != cp.group {
				only = false
			}
		}
		if only {
			out = append(out, it.sku)
		}
	}
	return out
}

// evictionDetail explains a removal caused by contest.
const evictionDetail = "seat given to a pool of higher priority"
