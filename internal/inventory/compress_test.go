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
	stored := compressPage(page)
	require.Less(t, len(stored), len(page))
	var scratch []byte
	got, err := pageJSON(stored, &scratch)
	require.NoError(t, err)
	require.Equal(t, page, got)

	// The next page reuses the buffer.
	other := []byte(`{"value":[{"id":"c","displayName":"Megan"}]}`)
	got, err = pageJSON(compressPage(other), &scratch)
	require.NoError(t, err)
	require.Equal(t, other, got)
	require.Equal(t, &scratch[0], &got[0], "decompressed into the scratch buffer")

	got, err = pageJSON(page, &scratch)
	require.NoError(t, err)
	require.Equal(t, page, got)

	_, err = pageJSON(stored[:len(stored)/2], &scratch)
	require.ErrorContains(t, err, "stored page")
}
