package directory

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Categories is a set of category positions 1–63 stored as a bitmask
// (position p is bit p-1), as in One Identity Manager. Users, groups, pools
// and SKUs carry categories; an indirect assignment applies only when the
// two sides intersect or either side is empty (see Inherits).
type Categories uint64

// MaxCategory is the highest usable position; 63 keeps the mask positive when
// stored as a signed 64-bit integer.
const MaxCategory = 63

// CategoriesOf builds a set from positions, rejecting out-of-range ones.
func CategoriesOf(positions ...int) (Categories, error) {
	var c Categories
	for _, p := range positions {
		if p < 1 || p > MaxCategory {
			return 0, fmt.Errorf("%w category position %d: must be 1–%d", ErrInvalid, p, MaxCategory)
		}
		c |= 1 << (p - 1)
	}
	return c, nil
}

// Has reports whether position p is set.
func (c Categories) Has(p int) bool { return p >= 1 && p <= MaxCategory && c&(1<<(p-1)) != 0 }

// Positions lists the set positions in ascending order.
func (c Categories) Positions() []int {
	out := make([]int, 0, bits.OnesCount64(uint64(c)))
	for v := uint64(c); v != 0; v &= v - 1 {
		out = append(out, bits.TrailingZeros64(v)+1)
	}
	return out
}

// Inherits reports whether an item with categories item reaches a user with
// categories user through an indirect assignment (group, rule, department):
// true when the masks intersect or when either side has no categories.
func Inherits(user, item Categories) bool { return user == 0 || item == 0 || user&item != 0 }

// String renders positions as "1,5,12" (empty for none).
func (c Categories) String() string {
	ps := c.Positions()
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = strconv.Itoa(p)
	}
	return strings.Join(parts, ",")
}
