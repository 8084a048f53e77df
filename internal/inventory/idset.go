package inventory

import (
	"strings"

	"github.com/allot-dev/allot/internal/directory"
)

// idSet is a set of directory object ids. A full round remembers every user,
// group and licensed user it saw, for the sweep at its end; for a
// million-user tenant, maps keyed by the id strings held about 90 MB each.
// Entra ids are GUIDs and are kept as their 16 bytes; anything else is kept
// as text.
type idSet struct {
	guids map[[16]byte]struct{}
	other map[string]struct{}
}

func newIDSet() idSet {
	return idSet{guids: map[[16]byte]struct{}{}, other: map[string]struct{}{}}
}

func (s idSet) add(id string) {
	if g, ok := directory.PackGUID(id); ok {
		s.guids[g] = struct{}{}
		return
	}
	s.other[strings.Clone(id)] = struct{}{} // id may point into a page (see decode)
}

func (s idSet) has(id string) bool {
	if g, ok := directory.PackGUID(id); ok {
		_, found := s.guids[g]
		return found
	}
	_, found := s.other[id]
	return found
}
