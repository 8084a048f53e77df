package inventory

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIDSet(t *testing.T) {
	t.Parallel()
	s := newIDSet()
	guid := "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	for _, id := range []string{guid, "not-a-guid", "0A1B2C3D-4E5F-6789-ABCD-EF0123456789", ""} {
		require.False(t, s.has(id), id)
		s.add(id)
		require.True(t, s.has(id), id)
	}
	require.False(t, s.has("0a1b2c3d-4e5f-6789-abcd-ef0123456788"), "a GUID one digit off")
	require.Len(t, s.guids, 1)
	require.Len(t, s.other, 3, "ids that are not lowercase GUIDs are kept as they are")
}
