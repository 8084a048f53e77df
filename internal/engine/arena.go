package engine

import "unsafe"

// arena stores many strings back to back in one byte slice, each found by an
// offset and a length. A million user ids or principal names kept as Go
// strings are a million pointers the garbage collector traces on every
// cycle; in an arena they are none, and they take 12 fewer bytes each.
// Strings handed out point into the arena; overwriting a value appends the
// new bytes, so strings handed out earlier never change.
type arena struct {
	data []byte
	ref  []uint64 // offset<<24 | length; 0 is ""
}

const arenaMaxLen = 1<<24 - 1

func packRef(off, n int) uint64 { return uint64(off)<<24 | uint64(n) }

// put stores v at index i, growing the arena to i+1 entries if needed.
// Values longer than 16 MiB are cut (no directory attribute comes close).
func (a *arena) put(i int, v string) {
	for len(a.ref) <= i {
		a.ref = append(a.ref, 0)
	}
	if v == "" {
		a.ref[i] = 0
		return
	}
	v = v[:min(len(v), arenaMaxLen)]
	off := len(a.data)
	a.data = append(a.data, v...)
	a.ref[i] = packRef(off, len(v))
}

func (a *arena) get(i int) string {
	r := a.ref[i]
	n := int(r & arenaMaxLen)
	if n == 0 {
		return ""
	}
	return unsafe.String(&a.data[r>>24], n)
}

func (a *arena) len() int { return len(a.ref) }

// grow pads the arena with empty values up to n entries.
func (a *arena) grow(n int) {
	for len(a.ref) < n {
		a.ref = append(a.ref, 0)
	}
}

// permute reorders entries so that new position j holds old position perm[j].
func (a *arena) permute(perm []uint32) {
	out := make([]uint64, len(perm))
	for j, old := range perm {
		out[j] = a.ref[old]
	}
	a.ref = out
}

// search finds v in an arena sorted ascending (sort.SearchStrings).
func (a *arena) search(v string) (int, bool) {
	lo, hi := 0, len(a.ref)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if a.get(mid) < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(a.ref) && a.get(lo) == v
}
