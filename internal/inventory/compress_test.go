package inventory

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/stretchr/testify/require"
)

// Pages are stored compressed and read back as the JSON Graph sent; pages
// an older allot stored uncompressed or with gzip still read.
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

	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, err = w.Write(page)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	got, err = pageJSON(gz.Bytes())
	require.NoError(t, err)
	require.Equal(t, page, got)

	_, err = pageJSON(stored[:len(stored)/2])
	require.ErrorContains(t, err, "stored page")
	_, err = pageJSON(gz.Bytes()[:gz.Len()/2])
	require.ErrorContains(t, err, "stored page")
}
