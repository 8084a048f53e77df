// Package directory holds the domain types every other package shares: tenants,
// users, groups, memberships, SKUs, service plans, license states and mailboxes.
//
// It imports nothing of allot's own so that the pure packages (rule, engine)
// and the I/O packages (warehouse, inventory, fulfillment) can agree on one
// vocabulary without depending on each other. Field names follow Microsoft
// Graph v1.0 so that a reader can map a warehouse column back to the Graph
// property it came from.
package directory
