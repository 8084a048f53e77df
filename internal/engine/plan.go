package engine

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// Op is the kind of change a plan proposes.
type Op string

// The operations a plan proposes. Update re-sends a direct SKU with a new
// disabled-plan list. Transfer changes nothing in Entra: the license stays
// and only the ownership record moves to the pool that now wants it.
const (
	OpAdd      Op = "add"
	OpRemove   Op = "remove"
	OpUpdate   Op = "update"
	OpTransfer Op = "transfer"
)

// transferDetail explains a transfer in plans.
const transferDetail = "another pool wants this SKU for the user; ownership passes to it"

// Reason says why a wanted add cannot happen now.
type Reason string

// Blocked reasons. Each corresponds to an error Entra would return, so the
// plan shows it before fulfilment hits it.
const (
	ReasonNoSeats       Reason = "no-seats"               // CountViolation
	ReasonSeatCap       Reason = "seat-cap"               // the pool's own cap
	ReasonUsageLocation Reason = "usage-location-missing" // direct assignment needs one
	ReasonConflict      Reason = "conflicting-plans"      // MutuallyExclusiveViolation
	ReasonDependency    Reason = "dependency"             // DependencyViolation
)

// Change is one proposed (or blocked) change for one user. For a license
// group target it names the group; for a direct target it lists the SKUs
// (with the disabled plans to send on add and update).
type Change struct {
	// Pool is the pool that proposes the change (the request's origin).
	Pool     string                      `json:"pool"`
	Op       Op                          `json:"op"`
	UserID   string                      `json:"userId"`
	UPN      string                      `json:"userPrincipalName,omitempty"`
	GroupID  string                      `json:"groupId,omitempty"`
	Licenses []directory.AssignedLicense `json:"licenses,omitempty"`
	// NeedsApproval marks removals of pools with removalApproval.
	NeedsApproval bool `json:"needsApproval,omitempty"`
	// Reason and Detail explain a blocked change.
	Reason Reason `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	user   uint32
}

// Holder is a user who holds what a pool grants without the pool having
// granted it and without the pool wanting them: reported, never removed.
type Holder struct {
	UserID string `json:"userId"`
	UPN    string `json:"userPrincipalName,omitempty"`
}

// PoolPlan is the plan of one pool.
type PoolPlan struct {
	Pool            string   `json:"pool"`
	Target          string   `json:"target"`
	Priority        int      `json:"priority"`
	RemovalApproval bool     `json:"removalApproval,omitempty"`
	Error           string   `json:"error,omitempty"`
	Warnings        []string `json:"warnings,omitempty"`
	// Resultant is how many users hold the pool once the plan is applied.
	Resultant int `json:"resultant"`
	// Unchanged is how many of them already hold it.
	Unchanged int      `json:"unchanged"`
	Adds      []Change `json:"adds"`
	Removals  []Change `json:"removals"`
	Updates   []Change `json:"updates"`
	Blocked   []Change `json:"blocked"`
	// Transfers are licenses this pool granted and no longer wants, kept
	// because another pool now wants the same SKU for the user.
	Transfers []Change `json:"transfers,omitempty"`
	Others    []Holder `json:"others"`

	resultant *roaring.Bitmap
}

// Users returns the resultant as dense snapshot indexes (a copy).
func (pp *PoolPlan) Users() *roaring.Bitmap {
	if pp.resultant == nil {
		return roaring.New()
	}
	return pp.resultant.Clone()
}

// ResultantUsers returns the ids of the users in the pool's resultant
// assignment, in user-id order.
func (pp *PoolPlan) ResultantUsers(s *Snapshot) []string {
	if pp.resultant == nil {
		return nil
	}
	out := make([]string, 0, pp.resultant.GetCardinality())
	for it := pp.resultant.Iterator(); it.HasNext(); {
		out = append(out, s.UserID(it.Next()))
	}
	return out
}

// SkuCost is seat accounting and the monthly cost delta for one SKU.
type SkuCost struct {
	SkuID      string `json:"skuId"`
	PartNumber string `json:"skuPartNumber,omitempty"`
	// Available seats before the plan (prepaid enabled − consumed).
	Available int `json:"available"`
	// Consumed and Freed count seats the plan takes and gives back.
	Consumed  int   `json:"consumed"`
	Freed     int   `json:"freed"`
	UnitPrice Price `json:"unitPrice"`
	// Delta is the monthly cost change: (consumed − freed) × unit price.
	Delta Price `json:"monthlyDelta"`
}

// Totals sums the plan over pools.
type Totals struct {
	Adds      int `json:"adds"`
	Removals  int `json:"removals"`
	Updates   int `json:"updates"`
	Blocked   int `json:"blocked"`
	Unchanged int `json:"unchanged"`
	Transfers int `json:"transfers"`
	Others    int `json:"others"`
}

// Plan is the whole proposal: one PoolPlan per pool (by name), seat and cost
// accounting per SKU (by part number), and totals.
type Plan struct {
	Pools        []PoolPlan `json:"pools"`
	Skus         []SkuCost  `json:"skus"`
	Currency     string     `json:"currency,omitempty"`
	MonthlyDelta Price      `json:"monthlyDelta"`
	Totals       Totals     `json:"totals"`

	planNames map[string]string // service plan id → name, for text rendering
}

// Pool returns the plan of the named pool, or nil.
func (p *Plan) Pool(name string) *PoolPlan {
	for i := range p.Pools {
		if p.Pools[i].Pool == name {
			return &p.Pools[i]
		}
	}
	return nil
}
