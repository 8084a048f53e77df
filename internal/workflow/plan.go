package workflow

import (
	"github.com/allot-dev/allot/internal/engine"
)

// FromPlan turns a plan into requests, one per proposed change: adds and
// updates, and removals (marked when their pool requires approval).
// Blocked changes are left out (they cannot happen now) and so are
// transfers, which change ownership, not Graph.
func FromPlan(plan *engine.Plan, initiator Principal, reason string) []Request {
	var out []Request
	for i := range plan.Pools {
		pp := &plan.Pools[i]
		emit := func(c *engine.Change, remove bool) {
			r := Request{Initiator: initiator, Origin: FromPool, UserID: c.UserID, GroupID: c.GroupID,
				Licenses: c.Licenses, Pool: pp.Pool, RemovalApproval: remove && c.NeedsApproval, Reason: reason}
			switch {
			case c.GroupID != "" && remove:
				r.Operation = RemoveGroupMember
			case c.GroupID != "":
				r.Operation = AddGroupMember
			case remove:
				r.Operation = RemoveLicense
			default:
				r.Operation = AddLicense
			}
			out = append(out, r)
		}
		for j := range pp.Adds {
			emit(&pp.Adds[j], false)
		}
		for j := range pp.Updates {
			emit(&pp.Updates[j], false)
		}
		for j := range pp.Removals {
			emit(&pp.Removals[j], true)
		}
	}
	return out
}
