package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// Engine evaluates one Policy over one Snapshot. New resolves every
// reference once; Plan computes the full plan; ReplanUser re-plans a single
// changed user against the last full plan in microseconds.
type Engine struct {
	snap   *Snapshot
	policy Policy
	pools  []*cpool // by name: the order of the plan
	order  []*cpool // seat order: priority desc, then name
	rules  *ruleCache

	excluders   map[int32][]int32 // group → groups that exclude it
	poolByGroup map[int32]*cpool
	eff         map[int32]*roaring.Bitmap // effective direct members (after mutual exclusion)
	trans       map[int32]*transEntry

	prices []Price
	cons   *conflicts
	dsetBy map[string]int32

	// Seat state after the last full plan, for single-user re-planning.
	seatsLeft []int
	reserved  map[uint32][]int32 // re-planned user → SKUs it reserved
	hasPlan   bool
}

// transEntry is a group's transitive members and the groups that feed it.
type transEntry struct {
	users *roaring.Bitmap
	from  []int32 // the group and all groups nested under it
}

// cpool is a pool compiled against the snapshot.
type cpool struct {
	p        *Pool
	err      error
	warnings []string
	group    int32 // target group; -1 for direct
	items    []citem
	itemCats []directory.Categories // pool, target group and SKU categories

	assign, exclude sources
	ownedGroup      *owned   // group target
	ownedSku        []*owned // direct target, per item

	check *poolCheck

	// Results of the last full plan.
	cand    *roaring.Bitmap // assignments − exclusions, categories applied
	candME  *roaring.Bitmap // … and mutual exclusion
	holders *roaring.Bitmap
	kept    *roaring.Bitmap // holders that stay (within the seat cap and seats)
	evicted *roaring.Bitmap // holders whose seat went to a higher-priority pool
	want    *roaring.Bitmap // kept + users to add (before tenant seats)
	result  *roaring.Bitmap // kept + users added
}

// citem is one SKU the pool grants, with disabled plans resolved to ids.
type citem struct {
	sku      int32
	disabled []string // lower-case plan ids, sorted
	dset     int32    // matching snapshot disabled-set id, -1 if none holds it
}

// sources are the selectors of one Selector, resolved.
type sources struct {
	groups, trans []int32
	rules         []*compiledRule
	users         []uint32
	cats          directory.Categories
	everyone      bool
}

func (s *sources) empty() bool {
	return len(s.groups) == 0 && len(s.trans) == 0 && len(s.rules) == 0 && len(s.users) == 0 && s.cats == 0 && !s.everyone
}

// New validates the policy and resolves it against the snapshot. A pool whose
// references do not resolve gets an Error in the plan and proposes nothing
// (a missing exclusion group must never turn into adds); a mutual-exclusion
// declaration that does not resolve fails New, since it affects every pool.
func New(snap *Snapshot, policy *Policy) (*Engine, error) {
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		snap:        snap,
		policy:      *policy,
		rules:       newRuleCache(),
		excluders:   map[int32][]int32{},
		poolByGroup: map[int32]*cpool{},
		eff:         map[int32]*roaring.Bitmap{},
		trans:       map[int32]*transEntry{},
		dsetBy:      map[string]int32{},
		reserved:    map[uint32][]int32{},
	}
	for i, d := range snap.dsets {
		e.dsetBy[strings.Join(d, ",")] = int32(i)
	}
	if err := e.compileExclusions(); err != nil {
		return nil, err
	}
	e.compilePrices()
	cons := policy.Constraints
	if cons == nil {
		cons = DefaultConstraints()
	}
	e.cons = compileConflicts(snap, cons)
	for i := range e.policy.Pools {
		cp := e.compilePool(&e.policy.Pools[i])
		e.pools = append(e.pools, cp)
		if cp.err == nil && cp.group >= 0 {
			// Validate compared targets as written; one group named by id
			// in one pool and by display name in another meets here.
			if other, dup := e.poolByGroup[cp.group]; dup {
				cp.err = fmt.Errorf("target: group %q is already managed by pool %q", cp.p.Target.Group, other.p.Name)
				continue
			}
			e.poolByGroup[cp.group] = cp
		}
	}
	slices.SortFunc(e.pools, func(a, b *cpool) int { return strings.Compare(a.p.Name, b.p.Name) })
	e.order = slices.Clone(e.pools)
	slices.SortStableFunc(e.order, func(a, b *cpool) int { return cmp.Compare(b.p.Priority, a.p.Priority) })
	return e, nil
}

// Snapshot returns the snapshot the engine evaluates.
func (e *Engine) Snapshot() *Snapshot { return e.snap }

func (e *Engine) compileExclusions() error {
	seen := map[[2]int32]int{}
	for i, me := range e.policy.MutuallyExclusive {
		g, err := e.snap.groupIndex(me.Group)
		if err != nil {
			return fmt.Errorf("mutuallyExclusive[%d].group: %w", i, err)
		}
		x, err := e.snap.groupIndex(me.Excludes)
		if err != nil {
			return fmt.Errorf("mutuallyExclusive[%d].excludes: %w", i, err)
		}
		// Validate compared the names as written; ids may still collide
		// when one side is named by id and the other by display name.
		if g == x {
			return fmt.Errorf("%w: mutuallyExclusive[%d]: a group cannot exclude itself", ErrInvalidPolicy, i)
		}
		if j, ok := seen[[2]int32{x, g}]; ok {
			return fmt.Errorf("%w: mutuallyExclusive[%d]: %q and %q would exclude each other (see mutuallyExclusive[%d])", ErrInvalidPolicy, i, me.Group, me.Excludes, j)
		}
		seen[[2]int32{g, x}] = i
		if !slices.Contains(e.excluders[x], g) {
			e.excluders[x] = append(e.excluders[x], g)
		}
	}
	return nil
}

func (e *Engine) compilePrices() {
	e.prices = make([]Price, len(e.snap.skus))
	for i, s := range e.snap.skus {
		e.prices[i] = Price(s.sku.MonthlyPriceCents)
		if e.policy.Currency == "" && s.sku.Currency != "" {
			e.policy.Currency = s.sku.Currency
		}
	}
	for _, k := range sortedKeys(e.policy.Prices) {
		if i, err := e.snap.skuIndex(k); err == nil {
			e.prices[i] = e.policy.Prices[k]
		}
	}
}

func (e *Engine) compilePool(p *Pool) *cpool {
	cp := &cpool{p: p, group: -1}
	fail := func(err error) *cpool { cp.err = err; return cp }
	s := e.snap
	var itemCats []directory.Categories
	if c := categoriesOf(p.Categories); c != 0 {
		itemCats = append(itemCats, c)
	}
	if p.Target.Direct {
		for j, b := range p.Bundle {
			it, err := e.resolveItem(b.Sku, b.DisabledPlans)
			if err != nil {
				return fail(fmt.Errorf("bundle[%d]: %w", j, err))
			}
			cp.items = append(cp.items, it)
			cp.ownedSku = append(cp.ownedSku, s.owned(p.Name, skuTarget(s.skus[it.sku].sku.SkuID)))
		}
	} else {
		g, err := s.groupIndex(p.Target.Group)
		if err != nil {
			return fail(fmt.Errorf("target: %w", err))
		}
		cp.group = g
		grp := &s.groups[g].g
		if grp.IsDynamic() {
			return fail(fmt.Errorf("target: group %q is dynamic; its rule decides its members, not allot", grp.DisplayName))
		}
		if grp.Categories != 0 {
			itemCats = append(itemCats, grp.Categories)
		}
		cp.ownedGroup = s.owned(p.Name, groupTarget(grp.ID))
		for _, al := range grp.AssignedLicenses {
			it, err := e.resolveItem(al.SkuID, al.DisabledPlans)
			if err != nil {
				cp.warnings = append(cp.warnings, fmt.Sprintf("target group license: %v", err))
				continue
			}
			cp.items = append(cp.items, it)
		}
		if len(grp.AssignedLicenses) == 0 {
			cp.warnings = append(cp.warnings, fmt.Sprintf("target group %q carries no licenses; the pool manages membership only", grp.DisplayName))
		}
		if len(p.Bundle) > 0 && !e.bundleMatches(p.Bundle, cp.items) {
			cp.warnings = append(cp.warnings, "bundle differs from the target group's assigned licenses; the group's licenses are what members receive")
		}
	}
	for _, it := range cp.items {
		if c := s.skus[it.sku].sku.Categories; c != 0 {
			itemCats = append(itemCats, c)
		}
	}
	cp.itemCats = itemCats
	var err error
	if cp.assign, err = e.resolveSources(&p.Assignments, &cp.warnings); err != nil {
		return fail(fmt.Errorf("assignments: %w", err))
	}
	if cp.exclude, err = e.resolveSources(&p.Exclusions, nil); err != nil {
		return fail(fmt.Errorf("exclusions: %w", err))
	}
	cp.check = e.cons.forPool(e, cp)
	return cp
}

func (e *Engine) resolveItem(skuRef string, disabled []string) (citem, error) {
	k, err := e.snap.skuIndex(skuRef)
	if err != nil {
		return citem{}, err
	}
	info := e.snap.skus[k]
	if strings.EqualFold(info.sku.AppliesTo, "Company") {
		return citem{}, &refError{kind: "SKU", ref: skuRef, msg: "applies to the company, not to users"}
	}
	ids := make([]string, 0, len(disabled))
	for _, d := range disabled {
		id, ok := info.plans[strings.ToLower(d)]
		if !ok {
			return citem{}, &refError{kind: "service plan", ref: d, msg: "is not part of SKU " + quote(displaySku(info))}
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	it := citem{sku: k, disabled: ids, dset: -1}
	if d, ok := e.dsetBy[strings.Join(ids, ",")]; ok {
		it.dset = d
	}
	return it, nil
}

func (e *Engine) bundleMatches(bundle []BundleItem, items []citem) bool {
	if len(bundle) != len(items) {
		return false
	}
	for _, b := range bundle {
		it, err := e.resolveItem(b.Sku, b.DisabledPlans)
		if err != nil || !slices.ContainsFunc(items, func(x citem) bool { return x.sku == it.sku && slices.Equal(x.disabled, it.disabled) }) {
			return false
		}
	}
	return true
}

// resolveSources resolves a selector. Unknown groups are errors (silently
// dropping one would shrink assignments or, worse, exclusions); unknown
// users are warnings when assigning and ignored when excluding.
func (e *Engine) resolveSources(sel *Selector, warnings *[]string) (sources, error) {
	var src sources
	for _, ref := range sel.Groups {
		g, err := e.snap.groupIndex(ref)
		if err != nil {
			return src, err
		}
		src.groups = append(src.groups, g)
	}
	for _, ref := range sel.TransitiveGroups {
		g, err := e.snap.groupIndex(ref)
		if err != nil {
			return src, err
		}
		src.trans = append(src.trans, g)
	}
	for i, text := range sel.Rules {
		r, err := e.rules.compile(text)
		if err != nil {
			return src, fmt.Errorf("rules[%d]: %w", i, err)
		}
		src.rules = append(src.rules, r)
	}
	for _, ref := range sel.Users {
		u, ok := e.snap.userByRef(ref)
		if !ok {
			if warnings != nil {
				*warnings = append(*warnings, fmt.Sprintf("user %q not found; skipped", ref))
			}
			continue
		}
		src.users = append(src.users, u)
	}
	slices.Sort(src.users)
	src.cats = categoriesOf(sel.Categories)
	src.everyone = sel.Everyone
	return src, nil
}

func displaySku(info *skuInfo) string {
	if info.sku.SkuPartNumber != "" {
		return info.sku.SkuPartNumber
	}
	return info.sku.SkuID
}
