package warehouse

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
)

// checkString asserts appendJSONString(s) is valid JSON that decodes to what
// encoding/json's own encoding of s decodes to.
func checkString(t *testing.T, s string) {
	var want, got string
	std, err := json.Marshal(s)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(std, &want))
	fast := appendJSONString(nil, s)
	require.NoError(t, json.Unmarshal(fast, &got), "not valid JSON: %q", fast)
	require.Equal(t, want, got)
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f",
		"<html>&amp;", "Zoë 日本 \u2028\u2029", "bad\xffutf8\xc3", "emoji 😀"} {
		checkString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff", "\u2028", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkString(t, s) })
}

// An empty user encodes to "{}" and decodes to zero attributes.
func TestAppendUserAttrsEmpty(t *testing.T) {
	t.Parallel()
	var a userAttrs
	require.Equal(t, "{}", string(appendUserAttrs(nil, &directory.User{})))
	require.NoError(t, json.Unmarshal(appendUserAttrs(nil, &directory.User{}), &a))
	require.Equal(t, userAttrs{}, a)
}
