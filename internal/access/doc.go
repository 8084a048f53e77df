// Package access decides who may do what, where.
//
// It owns principals (local accounts that sign in with an argon2id-hashed
// password, and service accounts that only use API tokens), roles
// (administrator, license manager, approver, helpdesk, requester, auditor)
// granted as delegations scoped to every tenant, one tenant, or one pool or
// group of a tenant, browser sessions, and API tokens (random, shown once,
// stored as SHA-256 hashes, limited by scopes, revocable at once).
//
// Every authorisation goes through one function, Service.Check, whether the
// caller is an API route, a console page or the workflow pipeline's access
// check. Principals and delegations are read from the warehouse on every
// check, so a disabled account, a revoked delegation or a revoked token stops
// working on the next request, not when a cache expires.
package access
