package graphsim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKeyIndexFoldsCaseAndSpillsCollisions(t *testing.T) {
	t.Parallel()
	keys := []string{"Adele.Vance@contoso.com", "b", "ÄNNE@x"}
	x := newKeyIndex(4, func(i int32) string { return keys[i] })
	x.set(keys[0], 0)
	i, ok := x.get("adele.vance@CONTOSO.com")
	require.True(t, ok)
	require.Equal(t, int32(0), i)
	x.set(keys[2], 2)
	i, ok = x.get("änne@X")
	require.True(t, ok)
	require.Equal(t, int32(2), i)

	// Force "b" to collide with key 0's slot: it must spill, not overwrite.
	x.m[foldHash("b")] = 0
	x.set("b", 1)
	i, ok = x.get("B")
	require.True(t, ok)
	require.Equal(t, int32(1), i)
	x.del("b", 1)
	_, ok = x.get("b")
	require.False(t, ok)
	_, ok = x.get("nobody")
	require.False(t, ok)
}
