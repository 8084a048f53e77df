package rule

import (
	"sort"

	"github.com/allot-dev/allot/internal/directory"
	"strings"
	"unicode/utf8"
)

// The rule language compares strings case-insensitively. These helpers avoid
// allocating a lower-cased copy per user in the common ASCII case, which is
// what keeps scans over a million users in the tens of milliseconds.

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	if isASCII(s) && isASCII(prefix) {
		return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
	}
	return strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix))
}

func hasSuffixFold(s, suffix string) bool {
	if isASCII(s) && isASCII(suffix) {
		return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
	}
	return strings.HasSuffix(strings.ToLower(s), strings.ToLower(suffix))
}

func containsFold(s, sub string) bool {
	if isASCII(s) && isASCII(sub) {
		for i := 0; i+len(sub) <= len(s); i++ {
			if strings.EqualFold(s[i:i+len(sub)], sub) {
				return true
			}
		}
		return false
	}
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// FoldKey is the form under which an Index files and looks up values for
// Equal, so that index answers agree with the case-insensitive comparison
// Match performs.
func FoldKey(v string) string { return strings.ToLower(v) }

// IndexKey returns the folded value an Index should file user u under for
// property, and ok=false when property is not one Equal is asked about.
// Booleans file as "true"/"false" (unset counts as false); "manager" is the
// manager's object ID.
func IndexKey(u *directory.User, property string) (key string, ok bool) {
	if property == "manager" {
		return FoldKey(u.ManagerID), true
	}
	spec, found := lookupProperty("user", property)
	if !found {
		return "", false
	}
	switch spec.kind {
	case kindString:
		return FoldKey(spec.str(u)), true
	case kindBool:
		b, _ := spec.bool(u)
		return boolKey(b), true
	}
	return "", false
}

// IndexableProperties lists the properties Equal may be asked about, besides
// directory extensions (extension_<appId>_<name>) and "manager".
func IndexableProperties() []string {
	var out []string
	for _, p := range userProperties {
		if p.kind == kindString || p.kind == kindBool {
			out = append(out, p.name)
		}
	}
	sort.Strings(out)
	return out
}
