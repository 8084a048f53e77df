package engine

import (
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// The methods in this file make *Snapshot a rule.Index: the rule compiler
// turns `user.department -eq "Sales"` into a bitmap lookup instead of a scan.
// Returned bitmaps are shared; callers must not modify them.

// Universe is every (non-deleted) user.
func (s *Snapshot) Universe() *roaring.Bitmap { return s.universe }

// User rebuilds the full record of user i. It allocates; rules call it only
// for predicates no index answers.
func (s *Snapshot) User(i uint32) *directory.User { return s.users.user(i) }

// Now is the evaluation time given to Build (rules' system.now).
func (s *Snapshot) Now() time.Time { return s.now }

// Members is the set of direct user members of a group (empty when unknown).
func (s *Snapshot) Members(groupID string) *roaring.Bitmap {
	if i, ok := s.groupByID[strings.ToLower(groupID)]; ok {
		return s.groups[i].members
	}
	return roaring.New()
}

// Equal returns the users whose property equals value, ignoring case.
// Low-cardinality properties are indexed in one pass on first use; unique
// ones (mail, UPN) are scanned and the answer cached. ok is false for a
// property the snapshot does not index (multi-valued ones, dates).
func (s *Snapshot) Equal(property, value string) (*roaring.Bitmap, bool) {
	prop := strings.ToLower(property)
	switch prop {
	case "accountenabled", "dirsyncenabled":
		set := s.enabled
		if prop == "dirsyncenabled" {
			set = s.syncOn
		}
		switch strings.ToLower(value) {
		case "true":
			return set, true
		case "false":
			return roaring.AndNot(s.universe, set), true
		}
		return roaring.New(), true
	case "objectid", "id":
		// Ids are GUIDs, which Graph writes in lower case.
		if i, ok := s.UserIndex(strings.ToLower(value)); ok {
			return roaring.BitmapOf(i), true
		}
		if i, ok := s.UserIndex(value); ok {
			return roaring.BitmapOf(i), true
		}
		return roaring.New(), true
	}
	c, ok := fieldIndex[prop]
	if !ok {
		return nil, false
	}
	lv := strings.ToLower(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if fields[c].interned {
		if bm, ok := s.valueIndex(c)[lv]; ok {
			return bm, true
		}
		return roaring.New(), true
	}
	key := [2]string{fields[c].name, lv}
	if bm, ok := s.scans[key]; ok {
		return bm, true
	}
	bm := s.users.scanEqual(c, value)
	s.scans[key] = bm
	return bm, true
}

// valueIndex returns the value bitmaps of an interned column, building them
// on first use. The caller holds s.mu.
func (s *Snapshot) valueIndex(c int) map[string]*roaring.Bitmap {
	idx, ok := s.values[c]
	if !ok {
		idx = s.users.valueBitmaps(c)
		s.values[c] = idx
	}
	return idx
}

// Values lists the distinct (lower-cased) values of a low-cardinality
// property, so a rule answers -startsWith, -contains or -match on it by
// testing each value once instead of every user (rule.ValueLister).
// Near-unique properties (mail, UPN) report ok=false: listing them would
// cost as much as the scan it replaces.
func (s *Snapshot) Values(property string) ([]string, bool) {
	c, ok := fieldIndex[strings.ToLower(property)]
	if !ok || !fields[c].interned {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := sortedKeys(s.valueIndex(c))
	return keys, true
}
