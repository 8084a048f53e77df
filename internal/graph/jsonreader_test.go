package graph

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readAny reads any value into the types encoding/json gives an `any`, so
// that both can be compared on the same input.
func readAny(r *JSONReader) any {
	switch r.peek() {
	case '{':
		m := map[string]any{}
		for k := range r.Object() {
			key := string(k)
			m[key] = readAny(r)
		}
		return m
	case '[':
		a := []any{}
		for range r.Array() {
			a = append(a, readAny(r))
		}
		return a
	case '"':
		return r.Text()
	case 't', 'f':
		return r.Bool()
	case 'n':
		if r.Null() {
			return nil
		}
	}
	raw := r.Raw()
	if r.Err() != nil {
		return nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		r.Fail(err)
	}
	return f
}

var jsonSeeds = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `-1.5e+10`, `1E-2`, `"x"`, ` {"a" : [1, 2, {"b":null}] } `,
	`"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"`, `"\ud83d"`, `"\udc00\ud83d x"`, `"\ud83d\u0041"`, "\"\xff\xfe caf\xc3\xa9\"",
	`{"a":1,"a":2}`, `{"":""}`, `{"k\u00e9y":"v"}`,
	``, ` `, `{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`, `tru`, `nul`, `"abc`,
	`"\x"`, `"\u12G4"`, "\"a\tb\"", `[1] x`, `{"a":1}}`, `[1 2]`, "\x00", `1 2`, `"\`, `"\u`, `{"a"`, `{"a":`,
}

// deepSeeds are at encoding/json's nesting limit and just past it. They stay
// out of the fuzz corpus, where minimizing 20 kB inputs stalls the fuzzer.
var deepSeeds = []string{
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

func TestJSONReaderAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range append(jsonSeeds, deepSeeds...) {
		checkJSONReader(t, []byte(s))
	}
}

// checkJSONReader: the reader accepts exactly what json.Valid accepts, and
// reads values the way json.Unmarshal does.
func checkJSONReader(t *testing.T, b []byte) {
	r := NewJSONReader(b)
	require.Equal(t, json.Valid(b), r.Finish() == nil, "validity of %q: %v", b, r.Err())

	var want any
	wantErr := json.Unmarshal(b, &want)
	r = NewJSONReader(b)
	got := readAny(r)
	err := r.Finish()
	if wantErr != nil {
		require.Error(t, err, "%q: encoding/json says %v", b, wantErr)
		return
	}
	require.NoError(t, err, "%q", b)
	require.Equal(t, want, got, "%q", b)

	shared := NewSharedJSONReader(b)
	require.Equal(t, want, readAny(shared), "%q, sharing", b)
	require.NoError(t, shared.Finish())
}

// A sharing reader hands out the document's own bytes for strings that
// need no unescaping, and copies for those that do.
func TestSharedJSONReaderStrings(t *testing.T) {
	t.Parallel()
	doc := []byte(`["plain","esc\u0061ped","caf\u00e9",""]`)
	r := NewSharedJSONReader(doc)
	var got []string
	for range r.Array() {
		got = append(got, r.Text())
	}
	require.NoError(t, r.Finish())
	require.Equal(t, []string{"plain", "escaped", "café", ""}, got)
	copy(doc[2:], "PLAIN")
	copy(doc[10:], "ESC")
	require.Equal(t, []string{"PLAIN", "escaped", "café", ""}, got, "plain strings share the document; unescaped ones are copies")

	doc = []byte(`["plain"]`)
	r = NewJSONReader(doc)
	got = got[:0]
	for range r.Array() {
		got = append(got, r.Text())
	}
	copy(doc[2:], "PLAIN")
	require.Equal(t, []string{"plain"}, got, "a reader that does not share copies")
}

func FuzzJSONReader(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkJSONReader(t, b)
	})
}

func TestJSONReaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		read func(r *JSONReader)
		want string
	}{
		{`5`, func(r *JSONReader) { r.Text() }, "offset 0: expected string, found number"},
		{`{"a":[1,]}`, func(r *JSONReader) { r.Skip() }, "offset 8: invalid character ']' looking for beginning of value"},
		{`"ab`, func(r *JSONReader) { r.Text() }, "offset 3: unexpected end of JSON input"},
		{`"a\qb"`, func(r *JSONReader) { r.Text() }, `offset 3: invalid character 'q' in string escape code`},
		{`nul`, func(r *JSONReader) { r.Text() }, "offset 3: unexpected end of JSON input"},
		{`1.5`, func(r *JSONReader) { r.Int64() }, "offset 3: number 1.5 is not an int64"},
		{`{} x`, func(r *JSONReader) { r.Skip() }, "offset 3: invalid character 'x' after top-level value"},
	}
	for _, tt := range tests {
		r := NewJSONReader([]byte(tt.doc))
		tt.read(r)
		require.EqualError(t, r.Finish(), tt.want, tt.doc)
	}
}
