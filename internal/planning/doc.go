// Package planning connects the warehouse to the pure engine: it loads one
// tenant into an engine snapshot, assembles the tenant's policy from stored
// pools and settings, saves policies loaded from YAML, and computes plans.
//
// It exists so the CLI, the web console and the workflow package share one
// loader instead of three slightly different ones. The engine stays free of
// I/O; this package does the reading.
package planning
