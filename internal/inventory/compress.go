package inventory

import (
	"fmt"
	"sync"

	"github.com/golang/snappy"
)

// Inbox pages are stored compressed with Snappy on SQLite. Every byte of a
// page is otherwise written to the inbox file's WAL, copied into the file by
// a checkpoint, read back and freed: for 100,000 users a quarter of a
// gigabyte. Snappy shrinks Graph's JSON about fourfold, at a
// small fraction of gzip's CPU: gzip shrank it tenfold but its 2.75 s of CPU
// per 100k-user sync cost more than all JSON decoding. Compression runs on
// the fetchers' goroutines and decompression on the decoder's, beside the
// writer rather than in its way.

// snappyMark starts a Snappy-compressed page; JSON never starts with a NUL
// byte. (Pages an older allot stored with gzip cannot be left over: the
// SQLite inbox moved to a file of its own, which started empty.)
const snappyMark = 0x00

// compressPage compresses body into dst's memory when it is large enough.
func compressPage(dst, body []byte) []byte {
	n := 1 + snappy.MaxEncodedLen(len(body))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	out := dst[:n]
	out[0] = snappyMark
	return out[:1+len(snappy.Encode(out[1:], body))]
}

// compressBuffers recycles compressPage's output between pages: the inbox
// copies what it stores, and a fresh buffer per page was a tenth of a sync's
// allocations.
var compressBuffers = sync.Pool{New: func() any { return new([]byte) }}

// pageJSON returns a stored page's JSON, whether it was stored with Snappy
// (SQLite) or uncompressed (PostgreSQL). A Snappy page is decompressed into
// scratch when it is large enough: a sync decompresses a quarter of a
// gigabyte per 100,000 users, and a fresh buffer per page made that much
// garbage. Decoding copies every value it keeps out of the JSON, so the
// buffer can be reused for the next page.
func pageJSON(stored []byte, scratch *[]byte) ([]byte, error) {
	if len(stored) > 0 && stored[0] == snappyMark {
		body, err := snappy.Decode((*scratch)[:cap(*scratch)], stored[1:])
		if err != nil {
			return nil, fmt.Errorf("stored page: %w", err)
		}
		*scratch = body
		return body, nil
	}
	return stored, nil
}
