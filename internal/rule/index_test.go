package rule_test

import (
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/rule"
)

// memIndex is the simplest honest rule.Index: users in a slice, equality
// indexes built with rule.IndexKey for the properties named in indexed.
type memIndex struct {
	users    []*directory.User
	universe *roaring.Bitmap
	eq       map[string]map[string]*roaring.Bitmap
	groups   map[string]*roaring.Bitmap
	now      time.Time
}

func newIndex(users []*directory.User, indexed ...string) *memIndex {
	ix := &memIndex{users: users, universe: roaring.New(), eq: map[string]map[string]*roaring.Bitmap{}, groups: map[string]*roaring.Bitmap{},
		now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	ix.universe.AddRange(0, uint64(len(users)))
	for _, p := range indexed {
		m := map[string]*roaring.Bitmap{}
		for i, u := range users {
			k, ok := rule.IndexKey(u, p)
			if !ok {
				panic("not indexable: " + p)
			}
			if m[k] == nil {
				m[k] = roaring.New()
			}
			m[k].Add(uint32(i))
		}
		ix.eq[p] = m
	}
	return ix
}

func (ix *memIndex) Universe() *roaring.Bitmap { return ix.universe }

func (ix *memIndex) User(i uint32) *directory.User {
	if int(i) >= len(ix.users) {
		return nil
	}
	return ix.users[i]
}

func (ix *memIndex) Equal(property, value string) (*roaring.Bitmap, bool) {
	m, ok := ix.eq[property]
	if !ok {
		return nil, false
	}
	if b := m[rule.FoldKey(value)]; b != nil {
		return b, true
	}
	return roaring.New(), true
}

// Values makes memIndex a rule.ValueLister for the properties it indexes.
func (ix *memIndex) Values(property string) ([]string, bool) {
	m, ok := ix.eq[property]
	if !ok {
		return nil, false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys, true
}

func (ix *memIndex) Members(groupID string) *roaring.Bitmap { return ix.groups[groupID] }
func (ix *memIndex) Now() time.Time                         { return ix.now }
