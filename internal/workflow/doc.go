// Package workflow owns the request pipeline (DESIGN.md §4): every change
// allot makes — from a pool plan, the IT shop, SCIM joiners, the re-allocation
// wizard or the API — is a Request that passes the same phases:
//
//	access check → pre-run activities of every matched workflow (priority
//	ascending, ties by name) → pre-run policies → execution (the request's
//	changes wait in the change queue until applied) → post-run policies →
//	post-run activities
//
// Workflow definitions (start conditions, priority, ordered activities:
// approval, notification, if-else on an Entra rule, stop) are stored in the
// warehouse; built-in definitions apply until a stored one of the same name
// replaces them. Approvals come in two shapes: an approval activity stops one
// request until an approver (a principal with an approver delegation, or the
// target group's owner) decides, and the removal-approval job routes pending
// removals of a pool in batches of up to 100 to the pool's approvers, who pick
// which to approve and when they take effect (the EmpowerID model).
//
// Applying changes to Graph is internal/fulfillment's job; this package only
// enqueues them and runs the post-run phase once the warehouse has settled a
// request as applied. Who may do what is decided behind the Access interface,
// which internal/access implements.
package workflow
