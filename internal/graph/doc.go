// Package graph is allot's Microsoft Graph client: client-credential auth
// (azidentity), paging, delta rounds, JSON batching, one retry policy for
// throttling and transient failures, a per-tenant concurrency and rate limit,
// typed calls for the licensing surface (users, groups, members,
// subscribedSkus, licenseDetails, assignLicense, membership writes) and the
// Exchange admin InvokeCommand calls that convert mailboxes.
//
// It speaks Graph's wire types (User, Group, SubscribedSku, …) and imports
// nothing of allot's own: mapping to internal/directory is the inventory's
// job, so this package can be held to Graph's documented behaviour alone
// (reference/graph.md) and tested against the simulator over real HTTPS.
//
// Paged calls stream: every listing hands each page to a callback with the
// page's raw JSON (which the inventory stores in its inbox unchanged) and its
// decoded items, so memory stays flat however large the tenant is.
//
// Microsoft's msgraph-sdk-go is deliberately not used: it costs minutes and
// gigabytes to build (DESIGN.md §10) and hides the raw pages we need.
package graph
