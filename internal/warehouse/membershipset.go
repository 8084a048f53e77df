package warehouse

import (
	"errors"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/directory"
)

// MembershipSet is a tenant's complete set of direct memberships as a full
// groups round reads them, for Store.ReplaceMemberships. A round's members
// arrive page by page in no useful order; the set holds them in memory,
// each distinct id once and each membership as one integer, so a million-user
// tenant's nine million memberships take a couple of hundred megabytes, and
// reach the warehouse sorted, in one write, when the round is complete.
//
// The latest entry for a membership decides: a removal after an addition
// removes it, an addition after a removal restores it. The zero value is an
// empty set ready to use; a set is not safe for concurrent use.
type MembershipSet struct {
	// guids and others index the ids: Entra ids (lowercase GUIDs) by their
	// 16 bytes, anything else by its text. Keyed by text, interning a
	// 100,000-user tenant's memberships spent 0.15 s of a sync comparing
	// strings, each a cache miss away from the map.
	guids  map[[16]byte]uint32
	others map[string]uint32
	ids    []string
	types  []directory.MemberType // per id: the type it was last added with
	// entries holds group<<32 | member, in arrival order, with removedBit
	// set on removals.
	entries  []uint64
	removals bool
	// resolved is the set as Resolve left it, for ReplaceMemberships.
	resolved *resolved
	// late records an Add or Remove after Resolve, which the resolved set
	// lacks: ReplaceMemberships refuses the set rather than lose it.
	late bool
}

// ErrSetResolved is returned by ReplaceMemberships for a set that was
// changed after Resolve.
var ErrSetResolved = errors.New("membership set changed after it was resolved")

const removedBit = 1 << 63

// Add records that memberID is a direct member of groupID.
func (s *MembershipSet) Add(groupID, memberID string, typ directory.MemberType) {
	if s.resolved != nil {
		s.late = true
		return
	}
	g, m := s.intern(groupID), s.intern(memberID)
	s.types[m] = typ
	s.entries = append(s.entries, uint64(g)<<32|uint64(m))
}

// Remove records that memberID is no longer a member of groupID.
func (s *MembershipSet) Remove(groupID, memberID string) {
	if s.resolved != nil {
		s.late = true
		return
	}
	g, m := s.intern(groupID), s.intern(memberID)
	s.entries = append(s.entries, removedBit|uint64(g)<<32|uint64(m))
	s.removals = true
}

func (s *MembershipSet) intern(id string) uint32 {
	g, isGUID := directory.PackGUID(id)
	if isGUID {
		if i, ok := s.guids[g]; ok {
			return i
		}
	} else if i, ok := s.others[id]; ok {
		return i
	}
	// Ids arrive inside a page's decoded JSON; a copy keeps the page from
	// staying reachable through them.
	id = strings.Clone(id)
	i := uint32(len(s.ids))
	if isGUID {
		if s.guids == nil {
			s.guids = map[[16]byte]uint32{}
		}
		s.guids[g] = i
	} else {
		if s.others == nil {
			s.others = map[string]uint32{}
		}
		s.others[id] = i
	}
	s.ids = append(s.ids, id)
	s.types = append(s.types, "")
	return i
}

// Resolve works out the set's final memberships, the part of
// ReplaceMemberships that needs no database: sorting and numbering every
// id and membership, a fifth of a second for a 100,000-user tenant. A
// caller that holds the complete set while the warehouse's writer is still
// busy with other work calls it first, on a goroutine of its own, so that
// ReplaceMemberships then only writes. Resolving empties the set: it takes
// no Add or Remove afterwards (ReplaceMemberships then fails with
// ErrSetResolved).
func (s *MembershipSet) Resolve() {
	if s.resolved == nil {
		r := s.resolve()
		s.resolved = &r
	}
}

// take returns the resolved set and empties it.
func (s *MembershipSet) take() (resolved, error) {
	s.Resolve()
	r, late := *s.resolved, s.late
	*s = MembershipSet{}
	if late {
		return resolved{}, ErrSetResolved
	}
	return r, nil
}

// resolved is a set's final memberships, with ids renumbered in id order so
// that sorting the integers sorts the memberships as their ids would.
type resolved struct {
	ids   []string // by rank
	types []directory.MemberType
	pairs []uint64 // group rank<<32 | member rank, sorted, unique
}

func (s *MembershipSet) resolve() resolved {
	// The set is consumed: its entries are renumbered in place and its
	// index is dropped first, so that a million-user tenant's finish does
	// not hold two copies of nine million pairs, nor the index, at its
	// peak.
	entries, removals := s.entries, s.removals
	s.guids, s.others = nil, nil
	order := make([]uint32, len(s.ids))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(s.ids[a], s.ids[b]) })
	rank := make([]uint32, len(s.ids))
	r := resolved{ids: make([]string, len(s.ids)), types: make([]directory.MemberType, len(s.ids))}
	for k, i := range order {
		rank[i] = uint32(k)
		r.ids[k], r.types[k] = s.ids[i], s.types[i]
	}
	*s = MembershipSet{}
	pairs := entries
	for i, e := range entries {
		pairs[i] = e&removedBit | uint64(rank[e>>32&0x7fffffff])<<32 | uint64(rank[uint32(e)])
	}
	if !removals {
		slices.Sort(pairs)
		r.pairs = slices.Compact(pairs)
		return r
	}
	// A stable sort keeps each membership's entries in arrival order, so
	// the last of a run decides.
	slices.SortStableFunc(pairs, func(a, b uint64) int {
		a, b = a&^removedBit, b&^removedBit
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	out := pairs[:0]
	for i, p := range pairs {
		if i+1 < len(pairs) && pairs[i+1]&^removedBit == p&^removedBit {
			continue
		}
		if p&removedBit == 0 {
			out = append(out, p)
		}
	}
	r.pairs = out
	return r
}

// groupLists calls fn with each group's members, in group id order.
func (r resolved) groupLists(fn func(groupID string, members []byte, n int) error) error {
	enc := r.encoded(true)
	return lists(r.pairs, enc, fn)
}

// memberLists calls fn with each member's groups, in member id order. It
// sorts the pairs the other way round, in place, so call it after
// groupLists.
func (r resolved) memberLists(fn func(memberID string, groups []byte, n int) error) error {
	for i, p := range r.pairs {
		r.pairs[i] = p<<32 | p>>32
	}
	slices.Sort(r.pairs)
	return lists(r.pairs, r.encoded(false), fn)
}

// encodedIDs holds every id's list entry, encoded once: an id appears in
// many lists, and encoding it each time cost most of writing the lists.
type encodedIDs struct {
	ids   []string
	arena []byte
	ends  []uint32
}

func (e encodedIDs) entry(rank uint32) []byte {
	start := uint32(0)
	if rank > 0 {
		start = e.ends[rank-1]
	}
	return e.arena[start:e.ends[rank]]
}

// encoded encodes each id as a list entry, with its member type when typed.
func (r resolved) encoded(typed bool) encodedIDs {
	e := encodedIDs{ids: r.ids, arena: make([]byte, 0, 18*len(r.ids)), ends: make([]uint32, len(r.ids))}
	for i, id := range r.ids {
		typ := directory.MemberType("")
		if typed {
			typ = r.types[i]
		}
		e.arena = appendListEntry(e.arena, id, typ)
		e.ends[i] = uint32(len(e.arena))
	}
	return e
}

// lists splits sorted pairs into runs with the same owner and hands each
// run's list to fn.
func lists(pairs []uint64, enc encodedIDs, fn func(owner string, list []byte, n int) error) error {
	for i := 0; i < len(pairs); {
		owner := uint32(pairs[i] >> 32)
		list := newList(0)
		n := 0
		for ; i < len(pairs) && uint32(pairs[i]>>32) == owner; i++ {
			list = append(list, enc.entry(uint32(pairs[i]))...)
			n++
		}
		if err := fn(enc.ids[owner], list, n); err != nil {
			return err
		}
	}
	return nil
}
