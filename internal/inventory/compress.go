package inventory

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sync"
)

// Inbox pages are stored gzip-compressed. Graph's JSON shrinks about tenfold,
// and every byte of a page is otherwise written to SQLite's WAL, copied into
// the database file by a checkpoint, read back and freed: for 100,000 users
// that was a quarter of a gigabyte through the single writer. Compression
// runs on the fetchers' goroutines and decompression on the decoder's, both
// beside the writer rather than in its way.

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

func compressPage(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body) / 8)
	w := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pageJSON returns a stored page's JSON. Pages written before compression
// (JSON never starts with gzip's magic bytes) pass through unchanged.
func pageJSON(stored []byte) ([]byte, error) {
	if len(stored) < 2 || stored[0] != 0x1f || stored[1] != 0x8b {
		return stored, nil
	}
	r, err := gzip.NewReader(bytes.NewReader(stored))
	if err != nil {
		return nil, fmt.Errorf("stored page: %w", err)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("stored page: %w", err)
	}
	return body, nil
}
