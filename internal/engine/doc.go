// Package engine decides who should hold which license and what would change.
//
// It owns the in-memory snapshot of a tenant (dense user indexes, roaring
// bitmaps for group members, transitive membership, value indexes for rules),
// license pools and their policy file (YAML / JSON), the resultant assignment
// of every pool, seat accounting, the plan (adds, removals, unchanged,
// blocked) and its monthly cost.
//
// The engine is pure: it performs no I/O and never reads the clock. The
// caller streams directory state into a Builder, passes the evaluation time
// explicitly, and receives a Plan that is byte-identical for identical inputs.
// That keeps evaluation fast, fuzzable and testable without a warehouse.
//
// Semantics follow DESIGN.md §4: resultant = (union of assignments) − (union
// of exclusions), after categories and mutually exclusive groups are applied,
// limited by seats (higher priority first, then longest holders, then user id).
// A pool only removes what it granted (the ownership record); other holders
// are reported, never removed.
package engine
