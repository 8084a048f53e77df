package graphsim

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// enc appends JSON to a byte slice. Pages of a thousand users are encoded on
// every request, so the simulator writes JSON by hand instead of reflecting
// over structs: it is several times faster and allocates one buffer per page.
//
// first tracks whether the next member of the innermost object or array is
// its first; after any close the enclosing container is non-empty, so one
// flag suffices.
type enc struct {
	b     []byte
	first bool
}

func (e *enc) open()     { e.sep(); e.b = append(e.b, '{'); e.first = true }
func (e *enc) close()    { e.b = append(e.b, '}'); e.first = false }
func (e *enc) openArr()  { e.sep(); e.b = append(e.b, '['); e.first = true }
func (e *enc) closeArr() { e.b = append(e.b, ']'); e.first = false }

// sep writes the comma before a value or member unless it is the first.
func (e *enc) sep() {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
}

// newEnc starts a document in a buffer of the given capacity.
func newEnc(capacity int) *enc { return &enc{b: make([]byte, 0, capacity), first: true} }

// key starts an object member; the value must follow.
func (e *enc) key(k string) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
	e.first = true // the value that follows needs no comma
}

func (e *enc) str(s string) { e.sep(); e.b = appendJSONString(e.b, s) }

// strOrNull renders "" as null, as Graph does for unset string properties.
func (e *enc) strOrNull(s string) {
	if s == "" {
		e.null()
		return
	}
	e.str(s)
}

func (e *enc) null()        { e.sep(); e.b = append(e.b, "null"...) }
func (e *enc) int(n int64)  { e.sep(); e.b = strconv.AppendInt(e.b, n, 10) }
func (e *enc) bool(v bool)  { e.sep(); e.b = strconv.AppendBool(e.b, v) }
func (e *enc) raw(s string) { e.sep(); e.b = append(e.b, s...) }

// time renders unix seconds as Graph's UTC timestamp, 0 as null.
func (e *enc) time(unix int64) {
	if unix == 0 {
		e.null()
		return
	}
	e.sep()
	e.b = append(e.b, '"')
	e.b = time.Unix(unix, 0).UTC().AppendFormat(e.b, "2006-01-02T15:04:05Z")
	e.b = append(e.b, '"')
}

func (e *enc) strs(ss []string) {
	e.openArr()
	for _, s := range ss {
		e.str(s)
	}
	e.closeArr()
}

// kv is shorthand for a string member.
func (e *enc) kv(k, v string) { e.key(k); e.str(v) }

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s. Invalid UTF-8 is replaced, control characters
// escaped; everything else is copied in runs.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
