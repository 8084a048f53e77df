package graph

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// JSONReader reads one JSON document in a single pass, checking it as it
// goes. encoding/json first validates a whole document and then decodes it,
// and a caller that also wants to know which properties each object carried
// (an incremental delta entry) decodes it a second time into a map; in a
// sync of 100,000 users that was a fifth of the CPU. JSONReader accepts
// exactly the documents json.Valid accepts, reads values where the caller
// asks for them and skips the rest without building anything. Page scanning
// here and the inventory's decoders are built on it.
//
// Errors are sticky: after the first one (malformed JSON, or a value of
// another kind than the caller asked for) every read returns a zero value,
// iteration stops, and Err and Finish report it. A caller can therefore
// read a whole document and check for an error once.
type JSONReader struct {
	data  []byte
	pos   int
	depth int
	// pending is set while a value is due (the document's, or the one after
	// a key or array element the caller was handed) and nothing has read it:
	// iteration then skips it, so callers ignore what they do not want by
	// not reading it.
	pending bool
	err     error
	key     []byte // holds a key that had escapes to decode
	// shared makes Text return strings that point into data (NewSharedJSONReader).
	shared bool
}

// maxJSONDepth is encoding/json's nesting limit; deeper documents are not
// valid to it, so not to us either.
const maxJSONDepth = 10000

// NewJSONReader returns a reader for one JSON document.
func NewJSONReader(data []byte) *JSONReader {
	return &JSONReader{data: data, pending: true}
}

// NewSharedJSONReader returns a reader whose Text returns strings that share
// data's memory wherever a string needs no unescaping, instead of copies.
// Decoding a page of a thousand users made some forty thousand small
// strings, most of the allocation (and so of the garbage collection) of a
// sync. data must not change while any such string is in use, and each one
// keeps all of data reachable: a caller that keeps one long clones it.
func NewSharedJSONReader(data []byte) *JSONReader {
	return &JSONReader{data: data, pending: true, shared: true}
}

// Err returns the first error the reader met, or nil.
func (r *JSONReader) Err() error { return r.err }

// Fail records err (for example, a time that does not parse) as the
// reader's error, at the current offset, unless an error came first.
func (r *JSONReader) Fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %d: %w", r.pos, err)
	}
}

// Finish skips the document's value if nothing has read it, checks that only
// white space follows, and returns the first error.
func (r *JSONReader) Finish() error {
	if r.pending {
		r.Skip()
	}
	if r.peek(); r.err == nil && r.pos < len(r.data) {
		r.syntax("after top-level value")
	}
	return r.err
}

func (r *JSONReader) failf(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %d: "+format, append([]any{r.pos}, args...)...)
	}
}

var errJSONEnd = errors.New("unexpected end of JSON input")

// syntax reports the byte at the current position as out of place.
func (r *JSONReader) syntax(context string) {
	if r.pos >= len(r.data) {
		r.Fail(errJSONEnd)
		return
	}
	r.failf("invalid character %s %s", quoteByte(r.data[r.pos]), context)
}

// quoteByte names a byte in an error the way encoding/json does.
func quoteByte(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// peek skips white space and returns the next byte, or 0 at the end of the
// input or after an error.
func (r *JSONReader) peek() byte {
	if r.err != nil {
		return 0
	}
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		if c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return c
		}
		r.pos++
	}
	return 0
}

// mismatch reports that the next value is not of the kind the caller
// wanted, or what is wrong with it if it is not a value at all.
func (r *JSONReader) mismatch(want string) {
	var found string
	switch c := r.peek(); {
	case c == '"':
		found = "string"
	case c == '{':
		found = "object"
	case c == '[':
		found = "array"
	case c == 't' || c == 'f':
		found = "boolean"
	case c == 'n':
		found = "null"
	case c == '-' || '0' <= c && c <= '9':
		found = "number"
	default:
		r.syntax("looking for beginning of value")
		return
	}
	start := r.pos
	if r.Skip(); r.err == nil {
		r.pos = start
		r.failf("expected %s, found %s", want, found)
	}
}

// Null reads a null if one comes next, and reports whether it did.
func (r *JSONReader) Null() bool {
	if r.peek() == 'n' && bytes.HasPrefix(r.data[r.pos:], []byte("null")) {
		r.pos += 4
		r.pending = false
		return true
	}
	return false
}

// Skip reads the next value, whatever it is, and discards it.
func (r *JSONReader) Skip() {
	r.pending = false
	switch c := r.peek(); c {
	case '"':
		r.pos, _ = r.scanString(r.pos + 1)
	case '{':
		for range r.Object() {
		}
	case '[':
		for range r.Array() {
		}
	case 't':
		r.literal("true")
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			r.number()
			return
		}
		r.syntax("looking for beginning of value")
	}
}

// Raw reads the next value and returns its JSON text.
func (r *JSONReader) Raw() []byte {
	r.peek()
	start := r.pos
	r.Skip()
	if r.err != nil {
		return nil
	}
	return r.data[start:r.pos]
}

// literal reads true, false or null, pointing an error at the first byte
// that differs, as encoding/json does.
func (r *JSONReader) literal(lit string) {
	for i := 0; i < len(lit); i++ {
		if r.pos >= len(r.data) || r.data[r.pos] != lit[i] {
			r.syntax("in literal " + lit)
			return
		}
		r.pos++
	}
}

// number reads a number and returns its text.
func (r *JSONReader) number() []byte {
	d, start := r.data, r.pos
	i := start
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		i = digits(d, i+1)
	default:
		r.pos = i
		r.syntax("in numeric literal")
		return nil
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			r.pos = i
			r.syntax("after decimal point in numeric literal")
			return nil
		}
		i = digits(d, i)
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			r.pos = i
			r.syntax("in exponent of numeric literal")
			return nil
		}
		i = digits(d, i)
	}
	r.pos = i
	return d[start:i]
}

func digits(d []byte, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// Bool reads a boolean.
func (r *JSONReader) Bool() bool {
	r.pending = false
	switch r.peek() {
	case 't':
		r.literal("true")
		return r.err == nil
	case 'f':
		r.literal("false")
		return false
	}
	r.mismatch("boolean")
	return false
}

// Int64 reads a number that must be an integer within int64, as
// encoding/json requires of an int64 field.
func (r *JSONReader) Int64() int64 {
	r.pending = false
	if c := r.peek(); c != '-' && (c < '0' || c > '9') {
		r.mismatch("number")
		return 0
	}
	text := r.number()
	if r.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		r.failf("number %s is not an int64", text)
		return 0
	}
	return n
}

// Text reads a string. (Not String, which would make JSONReader a
// fmt.Stringer that consumes a value when printed.)
func (r *JSONReader) Text() string {
	r.pending = false
	if r.peek() != '"' {
		r.mismatch("string")
		return ""
	}
	start := r.pos + 1
	end, plain := r.scanString(start)
	if r.err != nil {
		return ""
	}
	r.pos = end
	s := r.data[start : end-1]
	switch {
	case plain && r.shared && len(s) > 0:
		return unsafe.String(&s[0], len(s))
	case plain:
		return string(s)
	}
	return string(appendUnquoted(make([]byte, 0, len(s)), s))
}

// Object iterates over the members of an object, yielding each key (valid
// until the next one). The loop body reads the member's value with any
// method of r, or leaves it to be skipped. A body must not break out of the
// loop unless it is abandoning the document.
func (r *JSONReader) Object() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if !r.open('{', "object") {
			return
		}
		c := r.peek()
		if c == '}' {
			r.close()
			return
		}
		for {
			if c != '"' {
				r.syntax("looking for beginning of object key string")
				return
			}
			key := r.readKey()
			if r.peek() != ':' {
				r.syntax("after object key")
				return
			}
			r.pos++
			r.pending = true
			if !yield(key) || !r.more('}', "after object key:value pair") {
				return
			}
			c = r.peek()
		}
	}
}

// Array iterates over the elements of an array, yielding each index. The
// loop body reads the element with any method of r, or leaves it to be
// skipped; the same rule about breaking out as for Object applies.
func (r *JSONReader) Array() iter.Seq[int] {
	return func(yield func(int) bool) {
		if !r.open('[', "array") {
			return
		}
		if r.peek() == ']' {
			r.close()
			return
		}
		for i := 0; ; i++ {
			r.pending = true
			if !yield(i) || !r.more(']', "after array element") {
				return
			}
		}
	}
}

// more ends the member or element the loop body was handed, skipping its
// value if the body did not read it, and reports whether a comma announces
// another; false at the closing bracket or an error.
func (r *JSONReader) more(closing byte, context string) bool {
	if r.pending {
		r.Skip()
	}
	switch r.peek() {
	case ',':
		r.pos++
		return true
	case closing:
		r.close()
		return false
	}
	r.syntax(context)
	return false
}

func (r *JSONReader) open(c byte, kind string) bool {
	r.pending = false
	if r.peek() != c {
		r.mismatch(kind)
		return false
	}
	r.pos++
	if r.depth++; r.depth > maxJSONDepth {
		r.failf("exceeded max depth")
		return false
	}
	return true
}

func (r *JSONReader) close() {
	r.pos++
	r.depth--
}

// readKey reads an object key, decoding escapes only when it has some.
func (r *JSONReader) readKey() []byte {
	start := r.pos + 1
	end, plain := r.scanString(start)
	if r.err != nil {
		return nil
	}
	r.pos = end
	k := r.data[start : end-1]
	if plain {
		return k
	}
	r.key = appendUnquoted(r.key[:0], k)
	return r.key
}

// strSafe marks the bytes a string may hold as they are: anything but a
// quote, a backslash or a control character.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101 // the low bit of each byte in a word
	msb = 0x8080808080808080 // the high bit of each byte in a word
)

// stops is non-zero when one of the eight bytes in x is a quote, a backslash
// or a control character: the bytes a string cannot simply pass over. (The
// classic "has zero byte" test, (v-lsb) &^ v & msb, is exact about whether
// there is one, which is all that is asked here.)
func stops(x uint64) uint64 {
	q, b := x^(lsb*'"'), x^(lsb*'\\')
	return ((q - lsb) &^ q & msb) | ((b - lsb) &^ b & msb) | ((x - lsb*0x20) &^ x & msb)
}

// scanString checks a string whose contents start at i and returns the
// offset just past its closing quote. plain reports that the contents are
// already the Go string: no escapes, and valid UTF-8 (encoding/json replaces
// invalid bytes with U+FFFD). Strings are most of a Graph page, so it passes
// over eight bytes at a time where none needs a closer look.
func (r *JSONReader) scanString(i int) (end int, plain bool) {
	d := r.data
	var high uint64 // OR of every byte, to see whether any is outside ASCII
	escaped := false
	start := i
	for {
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			if stops(x) != 0 {
				break
			}
			high |= x
			i += 8
		}
		for i < len(d) && strSafe[d[i]] {
			high |= uint64(d[i])
			i++
		}
		if i >= len(d) {
			r.pos = i
			r.Fail(errJSONEnd)
			return i, false
		}
		switch d[i] {
		case '"':
			plain = !escaped && (high&msb == 0 || utf8.Valid(d[start:i]))
			return i + 1, plain
		case '\\':
			escaped = true
			if i+1 >= len(d) {
				r.pos = len(d)
				r.Fail(errJSONEnd)
				return i, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				i += 2
				for range 4 {
					if i >= len(d) {
						r.pos = i
						r.Fail(errJSONEnd)
						return i, false
					}
					if !isHex(d[i]) {
						r.pos = i
						r.syntax("in \\u hexadecimal character escape")
						return i, false
					}
					i++
				}
			default:
				r.pos = i + 1
				r.syntax("in string escape code")
				return i, false
			}
		default:
			r.pos = i
			r.syntax("in string literal")
			return i, false
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// appendUnquoted appends the contents of a checked string the way
// encoding/json decodes them: escapes resolved, surrogate pairs combined, and
// a lone surrogate or an invalid byte replaced with U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(rr) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[i+2:])); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							i += 6
							continue
						}
					}
					rr = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, rr)
			i += size
		}
	}
	return dst
}

// hex4 decodes the four hex digits scanString checked.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
