package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// conflicts is Constraints resolved to service-plan ids and SKU indexes.
type conflicts struct {
	planConf map[string][]string // plan id → plan ids it conflicts with
	skuExcl  map[int32][]int32
	deps     map[string][]string // plan id → plan ids of which one must be enabled
	names    map[string]string   // plan id → plan name, for messages
}

func compileConflicts(s *Snapshot, c *Constraints) *conflicts {
	ids := map[string]string{} // lower(name or id) → id
	names := map[string]string{}
	for _, info := range s.skus {
		for _, p := range info.sku.ServicePlans {
			id := strings.ToLower(p.ServicePlanID)
			ids[id] = id
			if p.ServicePlanName != "" {
				ids[strings.ToLower(p.ServicePlanName)] = id
				names[id] = p.ServicePlanName
			}
		}
	}
	plan := func(ref string) string {
		if id, ok := ids[strings.ToLower(ref)]; ok {
			return id
		}
		return strings.ToLower(ref) // not in this tenant: can never match
	}
	cf := &conflicts{planConf: map[string][]string{}, skuExcl: map[int32][]int32{}, deps: map[string][]string{}, names: names}
	for _, pair := range c.ConflictingPlans {
		a, b := plan(pair[0]), plan(pair[1])
		cf.planConf[a] = append(cf.planConf[a], b)
		cf.planConf[b] = append(cf.planConf[b], a)
	}
	for _, pair := range c.ExclusiveSkus {
		a, errA := s.skuIndex(pair[0])
		b, errB := s.skuIndex(pair[1])
		if errA == nil && errB == nil {
			cf.skuExcl[a] = append(cf.skuExcl[a], b)
			cf.skuExcl[b] = append(cf.skuExcl[b], a)
		}
	}
	for _, k := range sortedKeys(c.Dependencies) {
		for _, alt := range c.Dependencies[k] {
			cf.deps[plan(k)] = append(cf.deps[plan(k)], plan(alt))
		}
	}
	return cf
}

func (cf *conflicts) name(id string) string {
	if n, ok := cf.names[id]; ok {
		return n
	}
	return id
}

// enabledPlans lists the plan ids of SKU k that off (disabled ids) leaves on.
func (s *Snapshot) enabledPlans(k int32, off []string) []string {
	out := make([]string, 0, len(s.skus[k].sku.ServicePlans))
	for _, p := range s.skus[k].sku.ServicePlans {
		id := strings.ToLower(p.ServicePlanID)
		if !slices.Contains(off, id) {
			out = append(out, id)
		}
	}
	return out
}

// poolCheck is what a pool must verify per user before proposing an add.
type poolCheck struct {
	bundle  map[string]int32 // enabled plan id → SKU index that brings it
	items   []int32
	always  *blockReason // the bundle cannot be assigned to anyone
	suspect []int32      // SKUs whose holders may conflict
	needs   []dependency // dependencies the bundle does not satisfy itself
}

type dependency struct {
	plan string
	alts []string
}

type blockReason struct {
	reason Reason
	detail string
}

func (cf *conflicts) forPool(e *Engine, cp *cpool) *poolCheck {
	s := e.snap
	pc := &poolCheck{bundle: map[string]int32{}}
	for _, it := range cp.items {
		pc.items = append(pc.items, it.sku)
		for _, p := range s.enabledPlans(it.sku, it.disabled) {
			if _, ok := pc.bundle[p]; !ok {
				pc.bundle[p] = it.sku
			}
		}
	}
	plans := sortedKeys(pc.bundle)
	for _, a := range plans {
		for _, b := range cf.planConf[a] {
			if _, ok := pc.bundle[b]; ok && a < b {
				pc.always = &blockReason{ReasonConflict, fmt.Sprintf("the bundle itself contains conflicting service plans %s and %s", cf.name(a), cf.name(b))}
			}
		}
	}
	for i, a := range pc.items {
		for _, b := range pc.items[i+1:] {
			if slices.Contains(cf.skuExcl[a], b) {
				pc.always = &blockReason{ReasonConflict, fmt.Sprintf("the bundle itself contains mutually exclusive SKUs %s and %s", displaySku(s.skus[a]), displaySku(s.skus[b]))}
			}
		}
	}
	for k, info := range s.skus {
		if slices.Contains(pc.items, int32(k)) {
			continue
		}
		hit := false
		for _, it := range pc.items {
			hit = hit || slices.Contains(cf.skuExcl[it], int32(k))
		}
		for _, p := range info.sku.ServicePlans {
			for _, q := range cf.planConf[strings.ToLower(p.ServicePlanID)] {
				_, in := pc.bundle[q]
				hit = hit || in
			}
		}
		if hit {
			pc.suspect = append(pc.suspect, int32(k))
		}
	}
	for _, a := range plans {
		alts := cf.deps[a]
		if len(alts) == 0 || slices.ContainsFunc(alts, func(x string) bool { _, ok := pc.bundle[x]; return ok }) {
			continue
		}
		pc.needs = append(pc.needs, dependency{plan: a, alts: alts})
	}
	return pc
}

// suspects narrows need to the users that must be checked one by one.
func (pc *poolCheck) suspects(s *Snapshot, need *roaring.Bitmap) *roaring.Bitmap {
	if pc.always != nil || len(pc.needs) > 0 {
		return need.Clone() // the caller removes blocked users from need while iterating
	}
	if len(pc.suspect) == 0 {
		return roaring.New()
	}
	parts := make([]*roaring.Bitmap, 0, len(pc.suspect))
	for _, k := range pc.suspect {
		parts = append(parts, s.holdAny[k])
	}
	return roaring.And(need, roaring.FastOr(parts...))
}

// check decides whether user u can receive the bundle given the licenses it
// holds; nil means it can.
func (pc *poolCheck) check(e *Engine, u uint32) *blockReason {
	if pc.always != nil {
		return pc.always
	}
	s, cf := e.snap, e.cons
	held := map[string]bool{}
	for _, st := range s.userStates(u) {
		if st.failed() || slices.Contains(pc.items, st.sku) {
			continue
		}
		for _, it := range pc.items {
			if slices.Contains(cf.skuExcl[it], st.sku) {
				return &blockReason{ReasonConflict, fmt.Sprintf("SKUs %s and %s are mutually exclusive", displaySku(s.skus[it]), displaySku(s.skus[st.sku]))}
			}
		}
		for _, p := range s.enabledPlans(st.sku, s.dsets[st.dset]) {
			held[p] = true
			for _, q := range cf.planConf[p] {
				if k, ok := pc.bundle[q]; ok {
					return &blockReason{ReasonConflict, fmt.Sprintf("service plan %s (%s) conflicts with %s (%s, already held)",
						cf.name(q), displaySku(s.skus[k]), cf.name(p), displaySku(s.skus[st.sku]))}
				}
			}
		}
	}
	for _, d := range pc.needs {
		if !slices.ContainsFunc(d.alts, func(x string) bool { return held[x] }) {
			names := make([]string, len(d.alts))
			for i, a := range d.alts {
				names[i] = cf.name(a)
			}
			return &blockReason{ReasonDependency, fmt.Sprintf("service plan %s depends on %s, which the user does not hold", cf.name(d.plan), strings.Join(names, " or "))}
		}
	}
	return nil
}
