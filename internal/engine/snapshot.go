package engine

import (
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// Snapshot is an immutable-by-default, in-memory picture of one tenant:
// users (dense uint32 indexes in user-id order), groups with roaring bitmaps
// of their direct user members, SKUs, license states and the ownership
// record. It implements rule.Index so rules evaluate as set operations.
//
// Build one with a Builder. A Snapshot is safe for concurrent readers; the
// single-user update used by re-planning (Engine.ReplanUser) must not run
// concurrently with anything else on the same snapshot.
type Snapshot struct {
	now      time.Time
	users    *userStore
	universe *roaring.Bitmap

	enabled  *roaring.Bitmap // accountEnabled
	syncOn   *roaring.Bitmap // onPremisesSyncEnabled == true
	catUsers [directory.MaxCategory]*roaring.Bitmap
	noCats   *roaring.Bitmap
	noUsage  *roaring.Bitmap // usageLocation == ""

	groups    []*groupNode
	groupByID map[string]int32
	// Direct groups per user (CSR: groupOff[i]..groupOff[i+1]) so a mover's
	// old memberships are found without probing every group; users changed
	// by re-planning are kept in movedGroups instead.
	groupOff    []uint32
	userGroups  []int32
	movedGroups map[uint32][]int32

	skus     []*skuInfo
	skuByKey map[string]int32 // lower(skuId) and lower(skuPartNumber)

	// License states: per SKU bitmaps for the bulk set operations and a
	// per-user list (CSR: stateOff[i]..stateOff[i+1]) for the few users whose
	// details matter (conflicts, seats freed by a removal).
	holdAny    []*roaring.Bitmap           // per SKU: any state other than Error
	holdDirect []*roaring.Bitmap           // per SKU: direct assignment
	directSet  []map[int32]*roaring.Bitmap // per SKU: direct holders by disabled-plan set
	stateOff   []uint32
	states     []userState
	dsets      [][]string // interned disabled-plan sets (sorted, lower-case ids)

	grants map[string]*owned // key: pool + "\x00" + target key
	stats  Stats

	mu      sync.Mutex
	values  map[int]map[string]*roaring.Bitmap // interned column → lower(value) → users
	scans   map[[2]string]*roaring.Bitmap      // raw column scans by (column, lower(value))
	byUPN   map[string]uint32
	byName  map[string][]int32 // lower(display name) → groups
	inherit map[directory.Categories]*roaring.Bitmap
}

// groupNode is one group and its direct members.
type groupNode struct {
	g        directory.Group
	members  *roaring.Bitmap // direct user members
	children []int32         // direct member groups
}

// skuInfo is one subscribed SKU with its service plans resolved.
type skuInfo struct {
	sku   directory.Sku
	plans map[string]string // lower(plan id) and lower(plan name) → lower(plan id)
}

// available is the number of seats that can be assigned: none while the
// subscription is suspended, deleted or locked out, whatever the counts say.
func (info *skuInfo) available() int {
	switch info.sku.CapabilityStatus {
	case "Suspended", "Deleted", "LockedOut":
		return 0
	}
	return info.sku.Available()
}

// userState is one license state row, compacted to 16 bytes: there are
// several per user.
type userState struct {
	sku     int32
	group   int32  // -1 for direct
	dset    int32  // disabled-plan set; -1 for state Error (not actually held)
	updated uint32 // LastUpdated as seconds since 2000-01-01; 0 when unknown
}

// epoch2000 is the base of userState.updated (fits uint32 until 2136).
const epoch2000 = 946684800

func (st userState) failed() bool { return st.dset < 0 }

// updatedUnix is LastUpdated in unix seconds, 0 when unknown.
func (st userState) updatedUnix() int64 {
	if st.updated == 0 {
		return 0
	}
	return int64(st.updated) + epoch2000
}

// Stats reports what the builder received.
func (s *Snapshot) Stats() Stats { return s.stats }

// Len is the number of (non-deleted) users.
func (s *Snapshot) Len() int { return s.users.len() }

// UserIndex returns the dense index of a user id.
func (s *Snapshot) UserIndex(id string) (uint32, bool) {
	i, ok := s.users.ids.search(id)
	return uint32(i), ok
}

// UserID returns the id of user i.
func (s *Snapshot) UserID(i uint32) string { return s.users.id(i) }

// userByRef resolves a user id or user principal name (case-insensitive).
func (s *Snapshot) userByRef(ref string) (uint32, bool) {
	if i, ok := s.UserIndex(ref); ok {
		return i, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byUPN == nil {
		col := &s.users.cols[colUPN]
		s.byUPN = make(map[string]uint32, s.Len())
		for i := range uint32(s.Len()) {
			if v := col.get(i); v != "" {
				s.byUPN[strings.ToLower(v)] = i
			}
		}
	}
	i, ok := s.byUPN[strings.ToLower(ref)]
	return i, ok
}

// upn is the user principal name of user i, shown beside ids in plans.
func (s *Snapshot) upn(i uint32) string {
	return s.users.cols[colUPN].get(i)
}

// groupIndex resolves a group by id, or by display name when unique.
func (s *Snapshot) groupIndex(ref string) (int32, error) {
	if i, ok := s.groupByID[strings.ToLower(ref)]; ok {
		return i, nil
	}
	s.mu.Lock()
	if s.byName == nil {
		s.byName = make(map[string][]int32, len(s.groups))
		for i, g := range s.groups {
			k := strings.ToLower(g.g.DisplayName)
			s.byName[k] = append(s.byName[k], int32(i))
		}
	}
	found := s.byName[strings.ToLower(ref)]
	s.mu.Unlock()
	switch len(found) {
	case 0:
		return -1, &refError{kind: "group", ref: ref, msg: "not found"}
	case 1:
		return found[0], nil
	}
	return -1, &refError{kind: "group", ref: ref, msg: "display name is ambiguous; use the group id"}
}

// skuIndex resolves a SKU by id or part number.
func (s *Snapshot) skuIndex(ref string) (int32, error) {
	if i, ok := s.skuByKey[strings.ToLower(ref)]; ok {
		return i, nil
	}
	return -1, &refError{kind: "SKU", ref: ref, msg: "not subscribed in this tenant"}
}

// refError is a policy reference that the snapshot cannot resolve.
type refError struct{ kind, ref, msg string }

func (e *refError) Error() string { return e.kind + " " + quote(e.ref) + ": " + e.msg }
func (e *refError) Unwrap() error { return ErrUnresolved }

func quote(s string) string { return "\"" + s + "\"" }

// userStates lists the license rows of user i.
func (s *Snapshot) userStates(i uint32) []userState {
	return s.states[s.stateOff[i]:s.stateOff[i+1]]
}

// owned returns the grants of a pool for one target (nil when none).
func (s *Snapshot) owned(pool, target string) *owned { return s.grants[grantKey(pool, target)] }

// inheritable is the set of users that inherit an item with categories c
// through an indirect assignment (directory.Inherits), cached per mask.
func (s *Snapshot) inheritable(c directory.Categories) *roaring.Bitmap {
	if c == 0 {
		return s.universe
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if bm, ok := s.inherit[c]; ok {
		return bm
	}
	parts := []*roaring.Bitmap{s.noCats}
	for _, p := range c.Positions() {
		parts = append(parts, s.catUsers[p-1])
	}
	bm := roaring.FastOr(parts...)
	s.inherit[c] = bm
	return bm
}

// withCategory is the set of users that carry any of the positions in c.
func (s *Snapshot) withCategory(c directory.Categories) *roaring.Bitmap {
	parts := []*roaring.Bitmap{}
	for _, p := range c.Positions() {
		parts = append(parts, s.catUsers[p-1])
	}
	return roaring.FastOr(parts...)
}
