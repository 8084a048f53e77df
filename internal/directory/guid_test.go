package directory_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
)

var canonicalGUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestPackGUID(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff",
		"6fd2c87f-b296-42f0-b197-1e91e994b900",
		"0123abcd-4567-89ef-0a1b-2c3d4e5f6789",
	} {
		g, ok := directory.PackGUID(s)
		require.True(t, ok, s)
		require.Equal(t, s, directory.UnpackGUID(g[:]), "round trip")
	}
	g, _ := directory.PackGUID("0123abcd-4567-89ef-0a1b-2c3d4e5f6789")
	require.Equal(t, [16]byte{0x01, 0x23, 0xab, 0xcd, 0x45, 0x67, 0x89, 0xef, 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x67, 0x89}, g)

	for _, s := range []string{
		"",
		"u1",
		"6FD2C87F-B296-42F0-B197-1E91E994B900",  // upper case is another text: not packed
		"6fd2c87f-b296-42f0-b197-1e91e994b90",   // short
		"6fd2c87f-b296-42f0-b197-1e91e994b9000", // long
		"6fd2c87fb-296-42f0-b197-1e91e994b900",  // hyphen moved
		"6fd2c87f-b296-42f0-b197-1e91e994b90g",  // not hex, last digit
		"g fd2c87f-b296-42f0-b197-1e91e994b900", // not hex, first digit
		"6fd2c87f-b296-42f0-b1 7-1e91e994b900",
		"6fd2c87f-b296-42f0-b197-1e91e994b9\x00\x00",
		"{6fd2c87f-b296-42f0-b197-1e91e994b9}",
	} {
		_, ok := directory.PackGUID(s)
		require.False(t, ok, "%q", s)
	}
}

// Only the canonical text packs, and what packs unpacks to the same text.
func FuzzPackGUID(f *testing.F) {
	f.Add("6fd2c87f-b296-42f0-b197-1e91e994b900")
	f.Add("6fd2c87f-b296-42f0-b197-1e91e994b90G")
	f.Add(strings.Repeat("-", 36))
	f.Fuzz(func(t *testing.T, s string) {
		g, ok := directory.PackGUID(s)
		require.Equal(t, canonicalGUID.MatchString(s), ok, "%q", s)
		if ok {
			require.Equal(t, s, directory.UnpackGUID(g[:]))
		}
	})
}

func BenchmarkPackGUID(b *testing.B) {
	ids := []string{"6fd2c87f-b296-42f0-b197-1e91e994b900", "0123abcd-4567-89ef-0a1b-2c3d4e5f6789"}
	var sink byte
	for i := 0; b.Loop(); i++ {
		g, _ := directory.PackGUID(ids[i&1])
		sink ^= g[15]
	}
	_ = sink
}
