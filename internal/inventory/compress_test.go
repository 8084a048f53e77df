package inventory

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Pages are stored compressed and read back as the JSON Graph sent; pages
// stored uncompressed (PostgreSQL) read as they are.
func TestStoredPages(t *testing.T) {
	t.Parallel()
	page := []byte(`{"value":[{"id":"a","displayName":"Adele"},{"id":"b","displayName":"Adele"}],"@odata.nextLink":"https://graph/next"}`)
	stored := compressPage(nil, page)
	require.Less(t, len(stored), len(page))
	var scratch []byte
	got, err := pageJSON(stored, &scratch)
	require.NoError(t, err)
	require.Equal(t, page, got)

	// The next page is compressed into a buffer given for it, and
	// decompressed into the scratch buffer.
	buf := make([]byte, 0, 1024)
	other := []byte(`{"value":[{"id":"c","displayName":"Megan"}]}`)
	packed := compressPage(buf, other)
	require.Equal(t, &buf[:1][0], &packed[0], "compressed into the given buffer")
	got, err = pageJSON(packed, &scratch)
	require.NoError(t, err)
	require.Equal(t, other, got)
	require.Equal(t, &scratch[0], &got[0], "decompressed into the scratch buffer")

	got, err = pageJSON(page, &scratch)
	require.NoError(t, err)
	require.Equal(t, page, got)

	_, err = pageJSON(stored[:len(stored)/2], &scratch)
	require.ErrorContains(t, err, "stored page")
}
