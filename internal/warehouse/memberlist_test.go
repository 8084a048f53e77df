package warehouse

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
)

// encodeList encodes entries as a stored list, in the order given; the
// warehouse itself builds lists from sorted pairs or by editing them.
func encodeList(entries []listEntry) []byte {
	b := newList(len(entries))
	for _, e := range entries {
		b = appendListEntry(b, e.id, e.typ)
	}
	return b
}

func randomGUID(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func TestMemberListRoundTrip(t *testing.T) {
	t.Parallel()
	entries := []listEntry{
		{"0a1b2c3d-4e5f-6789-abcd-ef0123456789", directory.MemberUser},
		{"0A1B2C3D-4E5F-6789-ABCD-EF0123456789", directory.MemberGroup}, // upper case: stored as text
		{"g1", directory.MemberDevice},
		{"long-" + strings.Repeat("x", 300), directory.MemberServicePrincipal},
		{"oc", directory.MemberOrgContact},
		{"new", "#microsoft.graph.somethingNew"},
		{"untyped", ""},
		{"", directory.MemberUser},
	}
	got, err := decodeEntries(encodeList(entries))
	require.NoError(t, err)
	require.Equal(t, entries, got)

	packed := encodeList(entries[:1])
	require.Len(t, packed, 1+1+16, "a GUID takes 16 bytes and a tag")
}

// Packed GUIDs keep the order of their text, so a list sorted by id stays
// sorted however its ids are stored.
func TestPackedGUIDsSortAsText(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = randomGUID(r)
	}
	for i := 0; i+1 < len(ids); i++ {
		a, okA := directory.PackGUID(ids[i])
		b, okB := directory.PackGUID(ids[i+1])
		require.True(t, okA && okB)
		require.Equal(t, strings.Compare(ids[i], ids[i+1]), bytes.Compare(a[:], b[:]))
		require.Equal(t, ids[i], directory.UnpackGUID(a[:]))
	}
	for _, bad := range []string{"", "0a1b2c3d-4e5f-6789-abcd-ef012345678", "0a1b2c3d-4e5f-6789-abcd-ef012345678g",
		"0a1b2c3d4e5f-6789-abcd-ef0123456789-", "0a1b2c3d-4e5f-6789-abcd_ef0123456789", "0a1b2c3d-4e5f-6789--bcd-ef0123456789"} {
		_, ok := directory.PackGUID(bad)
		require.False(t, ok, bad)
	}
}

func TestDecodeListRejectsDamage(t *testing.T) {
	t.Parallel()
	good := encodeList([]listEntry{{"0a1b2c3d-4e5f-6789-abcd-ef0123456789", directory.MemberUser}, {"abc", "weird"}})
	for name, b := range map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{9}, good[1:]...),
		"truncated":     good[:len(good)-1],
		"short GUID":    good[:10],
		"unknown type":  {listVersion, 0x07, 1, 'x'},
		"long length":   {listVersion, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad varint":    {listVersion, 0x01, 0xff},
		"type too long": {listVersion, typeOther, 50, 'a'},
	} {
		err := decodeList(b, func(string, directory.MemberType) bool { return true })
		require.ErrorIs(t, err, errCorruptList, name)
	}
}

func FuzzDecodeList(f *testing.F) {
	f.Add(encodeList([]listEntry{{"0a1b2c3d-4e5f-6789-abcd-ef0123456789", directory.MemberUser}, {"x", "y"}}))
	f.Add([]byte{listVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		if b == nil {
			b = []byte{} // a stored list, empty; nil would mean none
		}
		entries, err := decodeEntries(b)
		// An edit that keeps everything copies the list as it is, and
		// refuses exactly what decoding refuses.
		kept, n, editErr := (&listEdit{}).apply(b)
		require.Equal(t, err == nil, editErr == nil, "decoding and editing agree on what is corrupt")
		if err != nil {
			return
		}
		require.Equal(t, b, kept)
		require.Len(t, entries, n)
		// Whatever decodes encodes to something that decodes the same.
		again, err := decodeEntries(encodeList(entries))
		require.NoError(t, err)
		require.Equal(t, entries, again)
	})
}

// The set agrees with a plain map of memberships where the latest entry
// wins, and hands out lists sorted by id on both sides.
func TestMembershipSetMatchesModel(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	groups, members := make([]string, 40), make([]string, 300)
	for i := range groups {
		groups[i] = randomGUID(r)
	}
	for i := range members {
		members[i] = fmt.Sprintf("m%03d", i) // not GUIDs: the text path
		if i%2 == 0 {
			members[i] = randomGUID(r)
		}
	}
	for _, withRemovals := range []bool{false, true} {
		var set MembershipSet
		model := map[[2]string]bool{}
		for range 5000 {
			g, m := groups[r.IntN(len(groups))], members[r.IntN(len(members))]
			if withRemovals && r.IntN(4) == 0 {
				set.Remove(g, m)
				delete(model, [2]string{g, m})
				continue
			}
			set.Add(g, m, directory.MemberUser)
			model[[2]string{g, m}] = true
		}
		var want []string
		for k := range model {
			want = append(want, k[0]+">"+k[1])
		}
		slices.Sort(want)
		res := set.resolve()
		require.Len(t, res.pairs, len(want))
		require.Equal(t, MembershipSet{}, set, "resolving consumes the set")

		var got []string
		require.NoError(t, res.groupLists(func(g string, list []byte, n int) error {
			entries, err := decodeEntries(list)
			require.NoError(t, err)
			require.Len(t, entries, n)
			for _, e := range entries {
				got = append(got, g+">"+e.id)
			}
			return nil
		}))
		require.Equal(t, want, got, "group lists, removals=%v", withRemovals)

		var reverse []string
		lastMember := ""
		require.NoError(t, res.memberLists(func(m string, list []byte, n int) error {
			require.Greater(t, m, lastMember, "members in id order")
			lastMember = m
			entries, err := decodeEntries(list)
			require.NoError(t, err)
			require.Len(t, entries, n)
			require.True(t, slices.IsSortedFunc(entries, func(a, b listEntry) int { return strings.Compare(a.id, b.id) }))
			for _, e := range entries {
				reverse = append(reverse, e.id+">"+m)
			}
			return nil
		}))
		slices.Sort(reverse)
		require.Equal(t, want, reverse, "member lists, removals=%v", withRemovals)
	}
}

// BenchmarkMembershipSetLists resolves and encodes a 100k-user tenant's
// memberships (10k groups, ~900k memberships), as a full sync's end does.
func BenchmarkMembershipSetLists(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	users, groups := make([]string, 100_000), make([]string, 10_000)
	for i := range users {
		users[i] = randomGUID(r)
	}
	for i := range groups {
		groups[i] = randomGUID(r)
	}
	for b.Loop() {
		b.StopTimer()
		var set MembershipSet // resolving consumes it
		for range 900_000 {
			set.Add(groups[r.IntN(len(groups))], users[r.IntN(len(users))], directory.MemberUser)
		}
		b.StartTimer()
		res := set.resolve()
		bytes := 0
		count := func(_ string, list []byte, _ int) error { bytes += len(list); return nil }
		if err := res.groupLists(count); err != nil {
			b.Fatal(err)
		}
		if err := res.memberLists(count); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(bytes)/1e6, "MB")
	}
}

// Editing a stored list (copying kept entries as they are) agrees with a
// model of it: the latest add of an id decides its type, removals win, the
// result is sorted by id, GUIDs and other ids alike.
func TestListEditMatchesModel(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(8, 9))
	ids := make([]string, 60)
	for i := range ids {
		ids[i] = randomGUID(r)
		if i%3 == 0 {
			ids[i] = fmt.Sprintf("id-%02d", i) // not GUIDs: the text path
		}
	}
	types := []directory.MemberType{directory.MemberUser, directory.MemberGroup, "weirdType", ""}
	for round := range 300 {
		model := map[string]directory.MemberType{}
		for _, id := range ids {
			if r.IntN(3) == 0 {
				model[id] = types[r.IntN(len(types))]
			}
		}
		var stored []listEntry
		for id, typ := range model {
			stored = append(stored, listEntry{id, typ})
		}
		slices.SortFunc(stored, func(a, b listEntry) int { return strings.Compare(a.id, b.id) })
		edit := listEdit{dels: map[string]struct{}{}}
		for range r.IntN(12) {
			e := listEntry{ids[r.IntN(len(ids))], types[r.IntN(len(types))]}
			edit.adds = append(edit.adds, e)
			model[e.id] = e.typ
		}
		for range r.IntN(8) {
			id := ids[r.IntN(len(ids))]
			edit.dels[id] = struct{}{}
		}
		for id := range edit.dels {
			delete(model, id)
		}
		var raw []byte
		if len(stored) > 0 || r.IntN(2) == 0 {
			raw = encodeList(stored)
		}
		list, n, err := edit.apply(raw)
		require.NoError(t, err)
		got, err := decodeEntries(list)
		require.NoError(t, err)
		var want []listEntry
		for id, typ := range model {
			want = append(want, listEntry{id, typ})
		}
		slices.SortFunc(want, func(a, b listEntry) int { return strings.Compare(a.id, b.id) })
		if len(want) == 0 {
			want = []listEntry{}
		}
		require.Equal(t, want, got, "round %d", round)
		require.Equal(t, len(want), n, "round %d", round)
	}
}
