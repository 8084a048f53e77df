package warehouse

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

type pair struct{ a, b, v string }

// sortedUnique orders by the key tuple (not by the joined string) and keeps
// the last of duplicates, whatever the input order.
func TestSortedUnique(t *testing.T) {
	t.Parallel()
	key := func(b []byte, p *pair) []byte { return appendSortKey(b, p.a, p.b) }
	items := []pair{
		{"group-b", "m1", "first"}, {"group", "zz", ""}, {"group-a", "m2", ""}, {"group-b", "m1", "last"},
		{"group-a", "m1", ""}, {"g", "", ""}, {"group-a", "m2", "later"},
	}
	var got []pair
	for _, i := range sortedUnique(items, key) {
		got = append(got, items[i])
	}
	require.Equal(t, []pair{{"g", "", ""}, {"group", "zz", ""}, {"group-a", "m1", ""}, {"group-a", "m2", "later"},
		{"group-b", "m1", "last"}}, got)

	// Random GUID-like keys with many shared prefixes: same as a plain sort.
	r := rand.New(rand.NewPCG(1, 2))
	many := make([]pair, 5000)
	for i := range many {
		many[i] = pair{a: string(rune('a' + r.IntN(3))), b: string([]byte{byte('0' + r.IntN(10)), byte('0' + r.IntN(10))}) + "-x"}
	}
	var keys []string
	for _, i := range sortedUnique(many, key) {
		keys = append(keys, many[i].a+"\x00"+many[i].b)
	}
	require.True(t, slices.IsSorted(keys))
	require.Len(t, keys, len(slices.Compact(slices.Sorted(slices.Values(keys)))))
	require.Len(t, keys, 3*100, "every distinct key once")
}
