package engine

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// Stats counts what a Builder received and what it had to ignore.
type Stats struct {
	Users, Groups, Memberships, Skus, LicenseStates, Grants int
	// Dangling counts references to users or groups the builder had not
	// seen (e.g. deleted users, devices); they are ignored.
	Dangling int
}

// Builder accumulates directory state streamed from the warehouse. Add users
// and groups first, then SKUs, memberships, license states and grants;
// references to ids not yet added are counted as dangling and ignored.
// Nothing is kept in directory.* form, so a million users fit in memory.
type Builder struct {
	users   *userStore
	sorted  bool
	idIndex map[string]uint32 // only when ids arrive unsorted
	groups  []*groupNode
	groupBy map[string]int32
	members [][]uint32 // per group, arrival user indexes not yet in its bitmap
	skus    []*skuInfo
	skuBy   map[string]int32
	pending chunks[pendingState]
	dsets   [][]string
	dsetBy  map[string]int32
	grants  chunks[pendingGrant]
	keys    []string // grant keys (pool + target), interned
	keyBy   map[string]int32
	stats   Stats

	lastID  string
	lastIdx uint32
	lastOK  bool
}

type pendingState struct {
	user uint32
	st   userState
}

type pendingGrant struct {
	key   int32
	user  uint32
	since int64
}

// memberFlush is how many pending members a group buffers before they go
// into its bitmap; it bounds the builder's extra memory per group.
const memberFlush = 1024

// NewBuilder starts an empty snapshot.
func NewBuilder() *Builder {
	return &Builder{
		users:   newUserStore(),
		sorted:  true,
		groupBy: map[string]int32{},
		skuBy:   map[string]int32{},
		dsetBy:  map[string]int32{"": 0},
		dsets:   [][]string{nil},
		keyBy:   map[string]int32{},
	}
}

// Stats reports the counts so far.
func (b *Builder) Stats() Stats { return b.stats }

// AddUser copies u into the snapshot. Deleted users are skipped: they hold
// no seat a pool could give or take. A repeated id overwrites the earlier one.
func (b *Builder) AddUser(u *directory.User) {
	if u.Deleted || u.ID == "" {
		return
	}
	if i, ok := b.userIndex(u.ID); ok {
		b.users.put(i, u)
		return
	}
	n := b.users.len()
	if b.sorted && n > 0 && b.users.id(uint32(n-1)) > u.ID {
		b.sorted = false
		b.idIndex = make(map[string]uint32, n)
		for i := range n {
			b.idIndex[b.users.id(uint32(i))] = uint32(i)
		}
	}
	b.users.put(uint32(n), u)
	if b.idIndex != nil {
		b.idIndex[b.users.id(uint32(n))] = uint32(n)
	}
	b.stats.Users++
}

func (b *Builder) userIndex(id string) (uint32, bool) {
	// Rows usually arrive grouped by user: remember the last answer.
	if b.lastOK && b.lastID == id {
		return b.lastIdx, true
	}
	i, ok := b.lookupUser(id)
	if ok {
		b.lastID, b.lastIdx, b.lastOK = id, i, true
	}
	return i, ok
}

func (b *Builder) lookupUser(id string) (uint32, bool) {
	if b.idIndex != nil {
		i, ok := b.idIndex[id]
		return i, ok
	}
	i, ok := b.users.ids.search(id)
	return uint32(i), ok
}

// AddGroup registers a group. Deleted groups are skipped.
func (b *Builder) AddGroup(g *directory.Group) {
	if g.Deleted || g.ID == "" {
		return
	}
	key := strings.ToLower(g.ID)
	if i, ok := b.groupBy[key]; ok {
		b.groups[i].g = *g
		return
	}
	b.groupBy[key] = int32(len(b.groups))
	b.groups = append(b.groups, &groupNode{g: *g, members: roaring.New()})
	b.members = append(b.members, nil)
	b.stats.Groups++
}

// AddMembership records one direct membership. User and group members are
// kept; devices, contacts and service principals are never licensed.
func (b *Builder) AddMembership(m directory.Membership) {
	gi, ok := b.groupBy[strings.ToLower(m.GroupID)]
	if !ok {
		b.stats.Dangling++
		return
	}
	switch m.MemberType {
	case directory.MemberUser:
		ui, ok := b.userIndex(m.MemberID)
		if !ok {
			b.stats.Dangling++
			return
		}
		b.members[gi] = append(b.members[gi], ui)
		if len(b.members[gi]) >= memberFlush {
			b.groups[gi].members.AddMany(b.members[gi])
			b.members[gi] = b.members[gi][:0]
		}
	case directory.MemberGroup:
		ci, ok := b.groupBy[strings.ToLower(m.MemberID)]
		if !ok {
			b.stats.Dangling++
			return
		}
		b.groups[gi].children = append(b.groups[gi].children, ci)
	default:
		return
	}
	b.stats.Memberships++
}

// AddSku registers a subscribed SKU with its seats, plans and price.
func (b *Builder) AddSku(s *directory.Sku) {
	b.skuIndex(s.SkuID, s)
	b.stats.Skus++
}

func (b *Builder) skuIndex(id string, s *directory.Sku) int32 {
	key := strings.ToLower(id)
	i, ok := b.skuBy[key]
	if !ok {
		i = int32(len(b.skus))
		b.skus = append(b.skus, &skuInfo{sku: directory.Sku{SkuID: id}, plans: map[string]string{}})
		b.skuBy[key] = i
	}
	if s != nil {
		info := b.skus[i]
		info.sku = *s
		info.sku.ServicePlans = slices.Clone(s.ServicePlans)
		for _, p := range s.ServicePlans {
			pid := strings.ToLower(p.ServicePlanID)
			info.plans[pid] = pid
			if p.ServicePlanName != "" {
				info.plans[strings.ToLower(p.ServicePlanName)] = pid
			}
		}
		if s.SkuPartNumber != "" {
			b.skuBy[strings.ToLower(s.SkuPartNumber)] = i
		}
	}
	return i
}

func (b *Builder) dset(plans []string) int32 {
	if len(plans) == 0 {
		return 0
	}
	ps := make([]string, len(plans))
	for i, p := range plans {
		ps[i] = strings.ToLower(p)
	}
	slices.Sort(ps)
	ps = slices.Compact(ps)
	key := strings.Join(ps, ",")
	if i, ok := b.dsetBy[key]; ok {
		return i
	}
	i := int32(len(b.dsets))
	b.dsets = append(b.dsets, ps)
	b.dsetBy[key] = i
	return i
}

// AddLicenseState records one (user, SKU) license row. A SKU not added with
// AddSku is registered with no seats so the holding is still visible.
func (b *Builder) AddLicenseState(l *directory.LicenseState) {
	ui, ok := b.userIndex(l.UserID)
	if !ok {
		b.stats.Dangling++
		return
	}
	st := userState{sku: b.skuIndex(l.SkuID, nil), group: -1, dset: b.dset(l.DisabledPlans)}
	if l.State == directory.StateError {
		st.dset = -1
	}
	if l.AssignedByGroup != "" {
		gi, ok := b.groupBy[strings.ToLower(l.AssignedByGroup)]
		if !ok {
			b.stats.Dangling++
			return
		}
		st.group = gi
	}
	if l.LastUpdated != nil {
		if t := l.LastUpdated.Unix() - epoch2000; t > 0 && t < 1<<32 {
			st.updated = uint32(t)
		}
	}
	b.pending.add(pendingState{user: ui, st: st})
	b.stats.LicenseStates++
}

// AddGrant records one entry of the ownership record.
func (b *Builder) AddGrant(g Grant) {
	ui, ok := b.userIndex(g.UserID)
	if !ok {
		b.stats.Dangling++
		return
	}
	var target string
	switch {
	case g.GroupID != "":
		target = groupTarget(g.GroupID)
	case g.SkuID != "":
		target = skuTarget(g.SkuID)
	default:
		b.stats.Dangling++
		return
	}
	key := grantKey(g.Pool, target)
	k, ok := b.keyBy[key]
	if !ok {
		k = int32(len(b.keys))
		b.keys = append(b.keys, key)
		b.keyBy[key] = k
	}
	b.grants.add(pendingGrant{key: k, user: ui, since: g.Since.Unix()})
	b.stats.Grants++
}

// Build freezes the snapshot as of now (the time rules see as system.now).
// The builder must not be used afterwards.
func (b *Builder) Build(now time.Time) *Snapshot {
	us := b.users
	us.finish()
	n := us.len()
	remap := func(i uint32) uint32 { return i }
	if !b.sorted {
		perm := make([]uint32, n)
		for i := range perm {
			perm[i] = uint32(i)
		}
		slices.SortFunc(perm, func(a, c uint32) int { return strings.Compare(us.id(a), us.id(c)) })
		inv := make([]uint32, n)
		for j, old := range perm {
			inv[old] = uint32(j)
		}
		us.permute(perm)
		remap = func(i uint32) uint32 { return inv[i] }
	}
	s := &Snapshot{
		now:       now,
		users:     us,
		universe:  roaring.New(),
		groups:    b.groups,
		groupByID: b.groupBy,
		skus:      b.skus,
		skuByKey:  b.skuBy,
		dsets:     b.dsets,
		grants:    map[string]*owned{},
		values:    map[int]map[string]*roaring.Bitmap{},
		scans:     map[[2]string]*roaring.Bitmap{},
		inherit:   map[directory.Categories]*roaring.Bitmap{},
		stats:     b.stats,
	}
	s.universe.AddRange(0, uint64(n))

	// Flag, category and usage-location bitmaps from one pass.
	var enabled, syncOn, noCats, noUsage []uint32
	var cats [directory.MaxCategory][]uint32
	usage := &us.cols[colUsage]
	for i := 0; i < n; i++ {
		u := uint32(i)
		if us.flags[i]&flagEnabled != 0 {
			enabled = append(enabled, u)
		}
		if us.flags[i]&flagSyncEnabled != 0 {
			syncOn = append(syncOn, u)
		}
		if c := us.cats[i]; c == 0 {
			noCats = append(noCats, u)
		} else {
			for _, p := range c.Positions() {
				cats[p-1] = append(cats[p-1], u)
			}
		}
		if usage.get(u) == "" {
			noUsage = append(noUsage, u)
		}
	}
	s.enabled, s.syncOn = roaring.BitmapOf(enabled...), roaring.BitmapOf(syncOn...)
	s.noCats, s.noUsage = roaring.BitmapOf(noCats...), roaring.BitmapOf(noUsage...)
	for p := range cats {
		s.catUsers[p] = roaring.BitmapOf(cats[p]...)
	}

	for gi, ms := range b.members {
		node := s.groups[gi]
		node.members.AddMany(ms)
		b.members[gi] = nil
		if !b.sorted {
			old := node.members.ToArray()
			for k := range old {
				old[k] = remap(old[k])
			}
			node.members = roaring.BitmapOf(old...)
		}
		node.members.RunOptimize()
		slices.Sort(node.children)
		node.children = slices.Compact(node.children)
	}

	s.buildUserGroups(n)
	s.buildStates(&b.pending, remap, n)
	b.pending = chunks[pendingState]{}
	s.buildGrants(&b.grants, b.keys, remap)
	b.grants = chunks[pendingGrant]{}
	return s
}

// buildUserGroups inverts group membership into per-user group lists.
func (s *Snapshot) buildUserGroups(n int) {
	s.groupOff = make([]uint32, n+1)
	for _, node := range s.groups {
		for it := node.members.Iterator(); it.HasNext(); {
			s.groupOff[it.Next()+1]++
		}
	}
	for i := 1; i <= n; i++ {
		s.groupOff[i] += s.groupOff[i-1]
	}
	s.userGroups = make([]int32, s.groupOff[n])
	next := slices.Clone(s.groupOff[:n])
	for g, node := range s.groups {
		for it := node.members.Iterator(); it.HasNext(); {
			u := it.Next()
			s.userGroups[next[u]] = int32(g)
			next[u]++
		}
	}
	s.movedGroups = map[uint32][]int32{}
}

// directGroups lists the groups user i is a direct member of.
func (s *Snapshot) directGroups(i uint32) []int32 {
	if gs, ok := s.movedGroups[i]; ok {
		return gs
	}
	return s.userGroups[s.groupOff[i]:s.groupOff[i+1]]
}

// buildStates lays the license rows out per user with a counting sort
// (stable, no extra copy of the rows) and derives the per-SKU bitmaps.
func (s *Snapshot) buildStates(pending *chunks[pendingState], remap func(uint32) uint32, n int) {
	s.stateOff = make([]uint32, n+1)
	for k := 0; k < pending.len(); k++ {
		p := pending.at(k)
		p.user = remap(p.user)
		s.stateOff[p.user+1]++
	}
	for i := 1; i <= n; i++ {
		s.stateOff[i] += s.stateOff[i-1]
	}
	s.states = make([]userState, pending.len())
	next := slices.Clone(s.stateOff[:n])
	for k := 0; k < pending.len(); k++ {
		p := pending.at(k)
		s.states[next[p.user]] = p.st
		next[p.user]++
	}
	ns := len(s.skus)
	s.holdAny = make([]*roaring.Bitmap, ns)
	s.holdDirect = make([]*roaring.Bitmap, ns)
	s.directSet = make([]map[int32]*roaring.Bitmap, ns)
	for k := 0; k < ns; k++ {
		s.holdAny[k], s.holdDirect[k], s.directSet[k] = roaring.New(), roaring.New(), map[int32]*roaring.Bitmap{}
	}
	// Users ascend, so every Add appends to the last container.
	for u := 0; u < n; u++ {
		for _, st := range s.states[s.stateOff[u]:s.stateOff[u+1]] {
			if st.failed() {
				continue
			}
			s.holdAny[st.sku].Add(uint32(u))
			if st.group < 0 {
				s.holdDirect[st.sku].Add(uint32(u))
				set := s.directSet[st.sku][st.dset]
				if set == nil {
					set = roaring.New()
					s.directSet[st.sku][st.dset] = set
				}
				set.Add(uint32(u))
			}
		}
	}
}

// buildGrants groups the ownership record by (pool, target) with a
// counting sort over positions (4 bytes a grant rather than a copy of it),
// then orders each group by user.
func (s *Snapshot) buildGrants(grants *chunks[pendingGrant], keys []string, remap func(uint32) uint32) {
	off := make([]int, len(keys)+1)
	for k := 0; k < grants.len(); k++ {
		g := grants.at(k)
		g.user = remap(g.user)
		off[g.key+1]++
	}
	for i := 1; i < len(off); i++ {
		off[i] += off[i-1]
	}
	pos := make([]int32, grants.len())
	next := slices.Clone(off[:len(keys)])
	for k := 0; k < grants.len(); k++ {
		key := grants.at(k).key
		pos[next[key]] = int32(k)
		next[key]++
	}
	for key := range keys {
		seg := pos[off[key]:off[key+1]]
		slices.SortStableFunc(seg, func(a, c int32) int { return cmp.Compare(grants.at(int(a)).user, grants.at(int(c)).user) })
		o := &owned{users: roaring.New(), since: make([]int64, 0, len(seg))}
		for _, k := range seg {
			g := grants.at(int(k))
			if n := len(o.since); n > 0 && o.users.Maximum() == g.user {
				o.since[n-1] = min(o.since[n-1], g.since)
				continue
			}
			o.users.Add(g.user)
			o.since = append(o.since, g.since)
		}
		s.grants[keys[key]] = o
	}
}
