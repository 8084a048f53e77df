package engine

import (
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// updateUser replaces user i's attributes (and, when memberOf is non-nil,
// its direct group memberships) in place, keeping every index and cache in
// step. It is the snapshot half of single-user re-planning.
func (s *Snapshot) updateUser(i uint32, u *directory.User, memberOf []int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := make([]string, len(fields))
	for c := range fields {
		old[c] = s.users.cols[c].get(i)
	}
	oldUPN := old[colUPN]
	s.users.put(i, u)
	for c, idx := range s.values {
		nv := s.users.cols[c].get(i)
		if strings.EqualFold(old[c], nv) {
			continue
		}
		if bm, ok := idx[strings.ToLower(old[c])]; ok {
			bm.Remove(i)
		}
		key := strings.ToLower(nv)
		if bm, ok := idx[key]; ok {
			bm.Add(i)
		} else {
			idx[key] = roaring.BitmapOf(i)
		}
	}
	for key, bm := range s.scans {
		c := fieldIndex[strings.ToLower(key[0])]
		setBit(bm, i, strings.EqualFold(s.users.cols[c].get(i), key[1]))
	}
	if s.byUPN != nil && !strings.EqualFold(oldUPN, u.UserPrincipalName) {
		delete(s.byUPN, strings.ToLower(oldUPN))
		s.byUPN[strings.ToLower(u.UserPrincipalName)] = i
	}
	setBit(s.enabled, i, u.AccountEnabled)
	setBit(s.syncOn, i, u.OnPremisesSyncEnabled != nil && *u.OnPremisesSyncEnabled)
	setBit(s.noUsage, i, u.UsageLocation == "")
	setBit(s.noCats, i, u.Categories == 0)
	for p := range s.catUsers {
		setBit(s.catUsers[p], i, u.Categories.Has(p+1))
	}
	for mask, bm := range s.inherit {
		setBit(bm, i, directory.Inherits(u.Categories, mask))
	}
	if memberOf != nil {
		was := s.directGroups(i)
		for _, g := range was {
			if !slices.Contains(memberOf, g) {
				s.groups[g].members.Remove(i)
			}
		}
		for _, g := range memberOf {
			if !slices.Contains(was, g) {
				s.groups[g].members.Add(i)
			}
		}
		s.movedGroups[i] = slices.Clone(memberOf)
	}
}

func setBit(bm *roaring.Bitmap, i uint32, on bool) {
	if on {
		bm.Add(i)
	} else {
		bm.Remove(i)
	}
}
