// Package rule owns the Microsoft Entra dynamic membership rule language
// (reference/dynamic-rules.md): lexing, parsing into an AST with a normalised
// String form, semantic validation (every documented invalid combination),
// and compiling a rule into a Program that selects users from an engine
// snapshot.
//
// allot uses Entra's own syntax rather than a general expression language so
// that administrators can paste the rules they already have, and so a pool's
// rule means exactly what the same rule on a dynamic group would mean.
//
// The package is pure: it imports only internal/directory, does no I/O and
// never reads the clock (system.now comes from the Index).
package rule
