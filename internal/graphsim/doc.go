// Package graphsim is a simulated Microsoft Entra tenant served over HTTPS: the
// Microsoft Graph v1.0 endpoints allot uses, the Entra token endpoint and
// OpenID discovery document, and the Exchange Online admin InvokeCommand
// endpoint, all on one loopback address with a self-signed CA.
//
// It owns the tenant generator (deterministic from a seed), the in-memory
// directory (users, groups, memberships, SKUs, license states, mailboxes),
// Graph's throttling model (identity budgets from reference/graph.md §6, with
// a time-scale factor) and fault injection. It exists so that every part of
// allot is exercised through the same HTTP, auth and paging paths it uses in
// production, and so admins can try policies on a realistic tenant (`allot
// sim`). Fidelity to Graph's documented behaviour is the point: a lenient
// simulator would hide client bugs.
//
// Tests in other packages read the tenant's state and play HR through the
// Server's state API (Users, Groups, AddMember, AssignLicense, …), and judge
// idempotency from the write log (WriteLog, WriteCounts), which records every
// applied write once per effect together with its client-request-id.
package graphsim
