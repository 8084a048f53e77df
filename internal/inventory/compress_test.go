package inventory

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Pages are stored compressed, read back as the JSON Graph sent, and pages
// stored uncompressed by an older allot still read.
func TestStoredPages(t *testing.T) {
	t.Parallel()
	page := []byte(`{"value":[{"id":"a","displayName":"Adele"}],"@odata.nextLink":"https://graph/next"}`)
	stored, err := compressPage(page)
	require.NoError(t, err)
	require.NotEqual(t, page, stored)
	got, err := pageJSON(stored)
	require.NoError(t, err)
	require.Equal(t, page, got)

	got, err = pageJSON(page)
	require.NoError(t, err)
	require.Equal(t, page, got)

	_, err = pageJSON(stored[:len(stored)/2])
	require.ErrorContains(t, err, "stored page")
}
