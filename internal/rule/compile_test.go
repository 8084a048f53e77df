package rule

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The literal pre-check in front of -match must never change an answer.
func TestMatchPrefilter(t *testing.T) {
	t.Parallel()
	patterns := []string{"^Da.*", ".*vid", "ago", "^User 1.*7$", "(?i)ABC", "(?-i)Abc", "a|b", "^(ab)+", "x*", "^$", "(?m)^foo", `^\d+`, "^ſ", "K", "^s", "k"}
	values := []string{"", "Da", "David", "aDa", "dave", "User 17", "user 1x7", "Lagos", "LAGOS", "abc", "ABC", "Abc", "foo\nbar", "bar\nfoo", "123", "ſtraße", "Straße", "K", "k", "ab"}
	for _, p := range patterns {
		re, err := compileRegexp(p)
		require.NoError(t, err)
		pred := stringPred(OpMatch, Value{Kind: ValueString, Text: p})
		for _, v := range values {
			require.Equal(t, re.MatchString(v), pred(v), "%q -match %q", v, p)
		}
	}
	lit, anchored := literalHint("^Da.*")
	require.Equal(t, "Da", lit)
	require.True(t, anchored)
	lit, anchored = literalHint("ago.*")
	require.Equal(t, "ago", lit)
	require.False(t, anchored)
}
