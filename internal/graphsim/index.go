package graphsim

import (
	"strings"
	"unicode/utf8"
)

// keyIndex finds a user by a case-insensitive key (object id or UPN). It maps
// a 64-bit hash of the lower-cased key to the user's index instead of keying
// a map by string: for a million users that halves the index's memory and
// the time to build it at start. The stored key is always compared, and the
// rare keys whose hash collides with another key's live in spill.
type keyIndex struct {
	m     map[uint64]int32
	spill map[string]int32
	keyOf func(i int32) string
}

func newKeyIndex(n int, keyOf func(i int32) string) *keyIndex {
	return &keyIndex{m: make(map[uint64]int32, n), keyOf: keyOf}
}

// foldHash is FNV-1a over the key with ASCII letters lower-cased.
func foldHash(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func foldKey(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return strings.ToLower(key)
		}
	}
	return key
}

func (x *keyIndex) set(key string, i int32) {
	key = foldKey(key)
	h := foldHash(key)
	if j, taken := x.m[h]; taken && j != i && !strings.EqualFold(x.keyOf(j), key) {
		if x.spill == nil {
			x.spill = map[string]int32{}
		}
		x.spill[strings.ToLower(key)] = i
		return
	}
	x.m[h] = i
}

func (x *keyIndex) get(key string) (int32, bool) {
	key = foldKey(key)
	if j, ok := x.m[foldHash(key)]; ok && strings.EqualFold(x.keyOf(j), key) {
		return j, true
	}
	if x.spill != nil {
		j, ok := x.spill[strings.ToLower(key)]
		return j, ok
	}
	return 0, false
}

// del removes key if it still points at i.
func (x *keyIndex) del(key string, i int32) {
	key = foldKey(key)
	if h := foldHash(key); x.m[h] == i {
		delete(x.m, h)
	}
	if x.spill != nil && x.spill[strings.ToLower(key)] == i {
		delete(x.spill, strings.ToLower(key))
	}
}
