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
	got, err := pageJSON(stored)
	require.NoError(t, err)
	require.Equal(t, page, got)

	got, err = pageJSON(page)
	require.NoError(t, err)
	require.Equal(t, page, got)

	_, err = pageJSON(stored[:len(stored)/2])
	require.ErrorContains(t, err, "stored page")
}
