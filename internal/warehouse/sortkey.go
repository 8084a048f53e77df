package warehouse

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// appendSortKey appends the parts of a primary key separated by NUL bytes, so
// that byte order of the result is the order of the (part1, part2, …) tuple
// under SQL's binary collation. Key parts are ids and names that never hold NUL.
func appendSortKey(b []byte, parts ...string) []byte {
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// sortKey is one item's key in the arena, with its first eight bytes inline:
// for random GUIDs they settle almost every comparison without a pointer
// chase, which made sorting 200,000 users several times faster than
// comparing the items themselves.
type sortKey struct {
	prefix uint64
	off, n uint32
	i      int32
}

// sortedUnique returns the indexes of items in key order, keeping only the
// last of items with equal keys: "last one wins" is what a caller that sends
// the same object twice in one batch means, and PostgreSQL refuses to update
// one row twice in a statement.
func sortedUnique[T any](items []T, key func(b []byte, it *T) []byte) []int32 {
	arena := make([]byte, 0, 40*len(items))
	ks := make([]sortKey, len(items))
	for i := range items {
		off := len(arena)
		arena = key(arena, &items[i])
		var p [8]byte
		copy(p[:], arena[off:])
		ks[i] = sortKey{binary.BigEndian.Uint64(p[:]), uint32(off), uint32(len(arena) - off), int32(i)}
	}
	k := func(s sortKey) []byte { return arena[s.off : s.off+s.n] }
	// The position breaks ties, so the unstable sort keeps input order among
	// equal keys.
	slices.SortFunc(ks, func(a, b sortKey) int {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		if c := bytes.Compare(k(a), k(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	out := make([]int32, 0, len(ks))
	for j, s := range ks {
		if j+1 < len(ks) && ks[j+1].prefix == s.prefix && bytes.Equal(k(ks[j+1]), k(s)) {
			continue
		}
		out = append(out, s.i)
	}
	return out
}
