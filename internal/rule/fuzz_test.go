package rule_test

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/rule"
)

// FuzzParse checks that no input panics, that every error is a typed
// *rule.Error with a position inside the input, and that the normalised form
// is a fixed point: parse → String → parse gives the same String. Rules that
// compile are also evaluated, with and without indexes, and must agree with
// Match. The seed corpus is every rule in testdata/examples.txt and
// testdata/invalid.txt.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"examples.txt", "invalid.txt"} {
		for _, c := range readCases(f, name).cases {
			f.Add(c.rule)
		}
	}
	users := people()
	scanIx, indexedIx := newIndex(users), newIndex(users, append(rule.IndexableProperties(), "manager")...)
	for _, ix := range []*memIndex{scanIx, indexedIx} {
		ix.now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		ix.groups["g1"] = roaring.BitmapOf(0, 2)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r, err := rule.Parse(src)
		if err != nil {
			var e *rule.Error
			require.ErrorAs(t, err, &e)
			require.True(t, errors.Is(err, rule.ErrSyntax) != errors.Is(err, rule.ErrInvalid), "exactly one sentinel: %v", err)
			require.GreaterOrEqual(t, e.Line, 1)
			require.GreaterOrEqual(t, e.Column, 1)
			require.NotEmpty(t, e.Message)
			return
		}
		norm := r.String()
		again, err := rule.Parse(norm)
		if err != nil && utf8.RuneCountInString(norm) > rule.MaxLength {
			return // normalising added hyphens or quotes past the limit
		}
		require.NoError(t, err, "normalised form %q of %q does not parse", norm, src)
		require.Equal(t, norm, again.String(), "normalising %q is not stable", src)
		require.Equal(t, r.Object, again.Object)

		p, err := rule.Compile(r)
		if r.Object != "user" {
			require.ErrorIs(t, err, rule.ErrInvalid)
			return
		}
		require.NoError(t, err, norm)
		want := p.Eval(scanIx)
		require.Equal(t, want.ToArray(), p.Eval(indexedIx).ToArray(), "index and scan disagree on %q", norm)
		for i := range users {
			require.Equal(t, want.Contains(uint32(i)), p.Match(indexedIx, uint32(i)), "Match disagrees with Eval for user %d on %q", i, norm)
		}
	})
}
