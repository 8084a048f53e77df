package engine

import (
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// owned is what one pool granted for one target (a group or a SKU): the users
// and, in the same order, since when (unix seconds).
type owned struct {
	users *roaring.Bitmap
	since []int64
}

func (o *owned) sinceOf(u uint32) int64 {
	if o == nil || !o.users.Contains(u) {
		return 0
	}
	return o.since[o.users.Rank(u)-1]
}

// Grant records that a pool put a user into a group or assigned it a SKU
// directly. The ownership record is what lets a pool remove only what it
// granted; Since orders seat holders ("longest holders keep their seat").
type Grant struct {
	Pool    string    `json:"pool"`
	UserID  string    `json:"userId"`
	GroupID string    `json:"groupId,omitempty"` // license-group targets
	SkuID   string    `json:"skuId,omitempty"`   // direct targets
	Since   time.Time `json:"since"`
}

func grantKey(pool, target string) string { return pool + "\x00" + target }

func groupTarget(id string) string { return "group:" + strings.ToLower(id) }
func skuTarget(id string) string   { return "sku:" + strings.ToLower(id) }
