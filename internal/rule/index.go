package rule

import (
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// Index is what an engine snapshot offers so a compiled rule can answer with
// set operations instead of visiting every user. Users are dense uint32
// indexes.
type Index interface {
	// Universe is every live user index. Programs never modify it.
	Universe() *roaring.Bitmap
	// User returns the user at index i (nil if none).
	User(i uint32) *directory.User
	// Equal returns the users whose property equals value, compared
	// case-insensitively, or ok=false when the snapshot has no index for
	// property (the program then scans). property is a canonical name as
	// listed by IndexableProperties, a directory extension
	// (extension_<appId>_<name>), or "manager" (the manager's object ID, for
	// direct-reports rules). Programs never ask for an empty value
	// (null checks scan) and never modify the bitmap. To agree with Match,
	// an index must file each user under IndexKey(u, property) and look
	// value up as FoldKey(value).
	Equal(property, value string) (users *roaring.Bitmap, ok bool)
	// Members returns the direct user members of a group (for memberOf).
	Members(groupID string) *roaring.Bitmap
	// Now is system.now: the engine is pure, so time is a parameter.
	Now() time.Time
}

// ValueLister is optionally implemented by an Index that can list the
// distinct keys (FoldKey form) it files a property's users under. Programs
// then answer -startsWith, -endsWith, -contains and -match on that property
// by testing each distinct value once and combining Equal sets, instead of
// visiting every user. Keys must be exactly those Equal answers for.
type ValueLister interface {
	Values(property string) (keys []string, ok bool)
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
