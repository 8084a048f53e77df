package graphsim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFilterErrorsNamePosition(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		"displayName eq 'abc":          "unterminated string literal at position 15",
		"displayName zz 'a'":           "unknown operator 'zz' at position 12",
		"startswith(displayName 'a')":  "expected ','",
		"(accountEnabled eq true":      "expected ')'",
		"accountEnabled eq true extra": "syntax error at position 23",
	} {
		_, _, err := parseFilter(src)
		require.ErrorContains(t, err, want, src)
	}
	n, _, err := parseFilter("assignedLicenses/any(x:x/skuId eq 184efa21-98c3-4e5d-95ab-d07053a96e67) and not(userType eq 'Guest')")
	require.NoError(t, err)
	_, err = compileFilter(n, userEntity)
	require.NoError(t, err)
	n, _, _ = parseFilter("nope eq 1")
	_, err = compileFilter(n, userEntity)
	require.ErrorContains(t, err, "Could not find a property named 'nope'")
}

// The filter parser never panics and either fails with an error or yields
// an expression that compiles or is rejected cleanly.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"accountEnabled eq true", "startswith(displayName,'a')", "id in ('a','b')",
		"assignedLicenses/any(x:x/skuId eq 184efa21-98c3-4e5d-95ab-d07053a96e67)",
		"assignedLicenses/$count ne 0", "not(userType eq 'Guest') or department eq null",
		"signInActivity/lastSignInDateTime le 2025-01-01T00:00:00Z", "displayName eq 'O''Brien'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, _, err := parseFilter(src)
		if err != nil {
			return
		}
		if p, err := compileFilter(n, userEntity); err == nil {
			tn := &tenant{}
			u := &user{manager: -1}
			_ = p(tn, u)
		}
		_, _ = compileFilter(n, groupEntity)
	})
}
